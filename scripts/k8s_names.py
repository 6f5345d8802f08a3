#!/usr/bin/env python3
"""A model of the Kubernetes API server's name rules, run over every object of every
golden output, example package and environment that a cluster would get (Lummo
specs, Kptfiles and other local-config objects excepted): the schema check
(k8s_validate.py) does not see these, the API server refuses them at apply time.

Rules (Kubernetes v1.33 sources):
- every object name: a DNS-1123 subdomain (apimachinery validation
  NameIsDNSSubdomain; custom resources too), at most 253 characters;
- Service: a DNS-1035 label (pkg/apis/core/validation ValidateServiceName =
  NameIsDNS1035Label): starts with a letter, at most 63;
- Namespace: a DNS-1123 label (ValidateNamespaceName);
- CronJob: at most 52 characters (pkg/apis/batch/validation ValidateCronJob:
  DNS1035LabelMaxLength-11, the controller's `-<timestamp>` Job suffix);
- Job: at most 63 characters, its name becomes the pods' `job-name` and
  `batch.kubernetes.io/job-name` label values (label values are at most 63);
- label keys and values on objects, pod templates (incl. inside CronJobs and Argo
  Rollouts) and selectors: apimachinery IsQualifiedName / IsValidLabelValue.
The model checks itself first on names the API server refuses, so it can fail.
"""
import glob, re, sys
import yaml

LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS1035 = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
QUALIFIED_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")


def subdomain(name):
    return 0 < len(name) <= 253 and all(LABEL.match(part) for part in name.split("."))


def label_key(key):
    prefix, _, name = key.rpartition("/")
    return (not prefix or subdomain(prefix)) and 0 < len(name) <= 63 and bool(QUALIFIED_NAME.match(name))


def name_problems(kind, name):
    problems = []
    if not subdomain(name):
        problems.append("not a DNS-1123 subdomain")
    if kind == "Service" and not (len(name) <= 63 and DNS1035.match(name)):
        problems.append("a Service name must be a DNS-1035 label (start with a letter, at most 63)")
    if kind == "Namespace" and not (len(name) <= 63 and LABEL.match(name)):
        problems.append("a Namespace name must be a DNS-1123 label")
    if kind == "CronJob" and len(name) > 52:
        problems.append(f"a CronJob name must be at most 52 characters, has {len(name)}")
    if kind == "Job" and len(name) > 63:
        problems.append(f"a Job name must be at most 63 characters (it is the pods' job-name label), has {len(name)}")
    return problems


def label_problems(where, labels):
    problems = []
    for key, value in (labels or {}).items():
        if not label_key(str(key)):
            problems.append(f"{where}: label key `{key}` is not a qualified name")
        if not isinstance(value, str) or len(value) > 63 or not LABEL_VALUE.match(value):
            problems.append(f"{where}: label `{key}` value `{value}` is not a valid label value (at most 63 of [A-Za-z0-9_.-])")
    return problems


def object_problems(item):
    metadata = item.get("metadata") or {}
    kind = item.get("kind", "")
    problems = [f"metadata.name `{metadata.get('name')}`: {p}" for p in name_problems(kind, str(metadata.get("name", "")))]
    if "namespace" in metadata and not (len(metadata["namespace"]) <= 63 and LABEL.match(metadata["namespace"])):
        problems.append(f"metadata.namespace `{metadata['namespace']}` is not a DNS-1123 label")
    problems += label_problems("metadata.labels", metadata.get("labels"))
    spec = item.get("spec") or {}
    templates = [("spec.template", spec.get("template")),
                 ("spec.jobTemplate", spec.get("jobTemplate")),
                 ("spec.jobTemplate.spec.template", ((spec.get("jobTemplate") or {}).get("spec") or {}).get("template"))]
    for where, template in templates:
        if isinstance(template, dict):
            problems += label_problems(f"{where}.metadata.labels", (template.get("metadata") or {}).get("labels"))
    selector = spec.get("selector")
    if isinstance(selector, dict):
        labels = selector.get("matchLabels") if "matchLabels" in selector or "matchExpressions" in selector else selector
        if all(isinstance(v, str) for v in (labels or {}).values()):
            problems += label_problems("spec.selector", labels)
    return problems


def objects():
    for path in sorted(glob.glob("functions/*/testdata/*/expected.yaml")):
        document = yaml.safe_load(open(path)) or {}
        for item in document.get("items") or []:
            yield path, item
    for path in sorted(glob.glob("Kptfile.examples/**/*.yaml", recursive=True)) + sorted(glob.glob("environments/*/expected.yaml")):
        for item in yaml.safe_load_all(open(path)):
            if item:
                yield path, item


def applied(item):
    annotations = (item.get("metadata") or {}).get("annotations") or {}
    return (item.get("apiVersion") and item.get("kind")
            and annotations.get("config.kubernetes.io/local-config") != "true"
            and not str(item.get("apiVersion")).startswith("lummo.dev/")
            and item.get("kind") not in ("Kptfile", "ResourceList"))


def self_check():
    """Names the API server refuses must be refused here, and ordinary ones accepted."""
    refused = [("Service", "9lives"), ("CronJob", "a" * 53), ("Job", "a" * 64), ("ConfigMap", "Upper"),
               ("Namespace", "a.b"), ("ConfigMap", "a" * 254)]
    accepted = [("Service", "lives9"), ("CronJob", "a" * 52), ("ConfigMap", "a.b-c"), ("Namespace", "team-a")]
    failures = [f"model accepts {kind} `{name[:20]}`" for kind, name in refused if not name_problems(kind, name)]
    failures += [f"model refuses {kind} `{name}`" for kind, name in accepted if name_problems(kind, name)]
    if not label_problems("x", {"app.kubernetes.io/name": "a" * 64}) or label_problems("x", {"app.kubernetes.io/name": "a_b.C"}):
        failures.append("model's label value rule is wrong")
    return failures


def main():
    errors = self_check()
    checked = 0
    for path, item in objects():
        if not applied(item):
            continue
        problems = object_problems(item)
        checked += not problems
        for problem in problems:
            errors.append(f"{path}: {item['kind']} {(item.get('metadata') or {}).get('name')}: {problem}")
    for error in errors:
        print(error)
    print(f"k8s-names: {checked} passed, {len(errors)} failed")
    sys.exit(1 if errors or not checked else 0)  # no object checked is a failure too


main()
