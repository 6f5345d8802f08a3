#!/usr/bin/env python3
"""Models of two controllers that cannot run here, checked over every rendered
package (every golden, every Kptfile.examples package, every environment).

selectors: no label selector may pick the pods of two workloads. The selectors are
  the ones a controller acts on: a Service's spec.selector (the EndpointSlice
  controller sends traffic to every matching pod), a PodDisruptionBudget's
  spec.selector (the disruption controller counts every matching pod, completed Job
  pods included, and allows 0 disruptions when they are not ready), a PodMonitor's
  spec.selector (Prometheus Operator scrapes every matching pod), a workload's own
  spec.selector, and a KEDA ScaledObject's target (the HPA averages the metrics of
  the pods the target's selector matches). Label-selector semantics are
  Kubernetes' (k8s.io/apimachinery/pkg/labels): matchLabels AND matchExpressions
  (In, NotIn, Exists, DoesNotExist); a Service without a selector selects nothing.

sync-order: every object a hook's pod needs exists before the hook runs. Argo CD
  (gitops-engine pkg/sync/sync_tasks.go) orders a sync by phase (PreSync < Sync <
  PostSync < SyncFail), then `argocd.argoproj.io/sync-wave` (default 0), then kind,
  then name, and starts the next wave only when every resource of the earlier
  ones is synced and healthy (docs/user-guide/sync-waves.md). Non-hook resources
  are in the Sync phase. A hook's pod needs its ConfigMaps and Secrets (envFrom,
  env valueFrom, volumes), its ServiceAccount and the in-cluster Services it
  connects to (host names in its ConfigMaps, e.g. `<app>-db`'s DB_HOST); each must
  be in a strictly earlier (phase, wave), since only a wave boundary waits for
  health. A Secret made by the Vault Secrets Operator counts as provided by its
  VaultStaticSecret/VaultDynamicSecret (spec.destination.name). Objects the package
  does not hold are outside the Application and not checked.

deadlines: nothing a sync or a schedule waits for can hang forever. Argo CD's sync
  operation stays Running until every hook of the current phase and wave has
  completed (gitops-engine pkg/sync/sync_context.go: a running hook keeps the
  operation in progress, with no timeout of its own), so a hook Job (or a hook
  Pod) needs `activeDeadlineSeconds`. The CronJob controller
  (kubernetes pkg/controller/cronjob/cronjob_controllerv2.go, syncCronJob) skips a
  run while an earlier one is active under `concurrencyPolicy: Forbid`, so each
  run's Job needs `activeDeadlineSeconds`; and without `startingDeadlineSeconds` a
  CronJob whose controller missed more than 100 schedules never starts again
  (utils.go mostRecentScheduleTime, "too many missed start times"), so every
  CronJob needs one.

Usage: models.py            check every package, then the models' own cases
       models.py FILE...    check these packages (one YAML stream each)
Prints `<model>-model: N passed, M failed` for selectors, sync-order and deadlines.
"""
import glob
import os
import re
import sys

import yaml

WORKLOAD_KINDS = ("Deployment", "Rollout", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob", "Pod")
PHASES = {"PreSync": -1, "Sync": 0, "PostSync": 1, "SyncFail": 2}
HOOK = "argocd.argoproj.io/hook"
WAVE = "argocd.argoproj.io/sync-wave"


def annotations(obj):
    return (obj.get("metadata") or {}).get("annotations") or {}


def name(obj):
    return (obj.get("metadata") or {}).get("name", "")


def namespace(obj):
    return (obj.get("metadata") or {}).get("namespace") or ""


def pod_template(obj):
    kind, spec = obj.get("kind"), obj.get("spec") or {}
    if kind == "Pod":
        return obj.get("metadata") or {}, spec
    if kind == "CronJob":
        spec = ((spec.get("jobTemplate") or {}).get("spec")) or {}
    template = spec.get("template")
    if template is None:
        return None
    return template.get("metadata") or {}, template.get("spec") or {}


def matches(selector, labels, equality_map=False):
    """Kubernetes label-selector semantics. `equality_map`: a Service's selector."""
    if selector is None:
        return False
    if equality_map:
        return bool(selector) and all(labels.get(k) == v for k, v in selector.items())
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions") or []:
        key, operator, values = expression["key"], expression["operator"], expression.get("values") or []
        present = key in labels
        if operator == "In" and not (present and labels[key] in values):
            return False
        if operator == "NotIn" and present and labels[key] in values:
            return False
        if operator == "Exists" and not present:
            return False
        if operator == "DoesNotExist" and present:
            return False
    return True


def check_selectors(objects):
    pods = []  # (namespace, "Kind/name", labels)
    for obj in objects:
        if obj.get("kind") in WORKLOAD_KINDS:
            template = pod_template(obj)
            if template:
                pods.append((namespace(obj), f"{obj['kind']}/{name(obj)}", template[0].get("labels") or {}))
    by_name = {(namespace(o), o.get("kind"), name(o)): o for o in objects}
    selectors = []  # (namespace, "Kind/name", selector, equality_map)
    for obj in objects:
        kind, spec = obj.get("kind"), obj.get("spec") or {}
        where = f"{kind}/{name(obj)}"
        if kind == "Service" and (spec.get("type") != "ExternalName"):
            selectors.append((namespace(obj), where, spec.get("selector"), True))
        elif kind in ("PodDisruptionBudget", "PodMonitor"):
            selectors.append((namespace(obj), where, spec.get("selector") or {}, False))
        elif kind in WORKLOAD_KINDS and kind not in ("Pod", "CronJob", "Job") and "selector" in spec:
            selectors.append((namespace(obj), where, spec["selector"], False))
        elif kind == "ScaledObject":
            ref = spec.get("scaleTargetRef") or {}
            target = by_name.get((namespace(obj), ref.get("kind", "Deployment"), ref.get("name")))
            if target is not None:
                selectors.append((namespace(obj), f"{where} (via {target['kind']}/{name(target)})",
                                  (target.get("spec") or {}).get("selector"), False))
    problems = []
    for ns, where, selector, equality in selectors:
        owners = sorted({owner for pod_ns, owner, labels in pods if pod_ns == ns and matches(selector, labels, equality)})
        if len(owners) > 1:
            problems.append(f"{where} selects the pods of {len(owners)} workloads: {', '.join(owners)}")
    return problems


def phase_wave(obj):
    """(phase, wave) of each phase the object is synced in."""
    wave = int(annotations(obj).get(WAVE, "0"))
    hook = annotations(obj).get(HOOK)
    phases = [p.strip() for p in hook.split(",")] if hook else ["Sync"]
    return [(PHASES.get(p, 99), wave) for p in phases if p != "Skip"]


def needs(obj, objects):
    """(kind, name) of what a workload's pod needs at start."""
    template = pod_template(obj)
    if not template:
        return []
    spec = template[1]
    wanted = []
    if spec.get("serviceAccountName"):
        wanted.append(("ServiceAccount", spec["serviceAccountName"]))
    for container in (spec.get("initContainers") or []) + (spec.get("containers") or []):
        for source in container.get("envFrom") or []:
            if "configMapRef" in source and not source["configMapRef"].get("optional"):
                wanted.append(("ConfigMap", source["configMapRef"]["name"]))
            if "secretRef" in source and not source["secretRef"].get("optional"):
                wanted.append(("Secret", source["secretRef"]["name"]))
        for env in container.get("env") or []:
            source = env.get("valueFrom") or {}
            for key, kind in (("configMapKeyRef", "ConfigMap"), ("secretKeyRef", "Secret")):
                if key in source and not source[key].get("optional"):
                    wanted.append((kind, source[key]["name"]))
            if "value" in env:
                wanted.extend(service_hosts(env.get("value"), objects))
    for volume in spec.get("volumes") or []:
        if "configMap" in volume and not volume["configMap"].get("optional"):
            wanted.append(("ConfigMap", volume["configMap"]["name"]))
        if "secret" in volume and not volume["secret"].get("optional"):
            wanted.append(("Secret", volume["secret"]["secretName"]))
    # The Services the pod connects to: host names in the ConfigMaps it reads.
    by_name = {(o.get("kind"), name(o)): o for o in objects}
    for kind, wanted_name in list(wanted):
        if kind == "ConfigMap" and ("ConfigMap", wanted_name) in by_name:
            for value in (by_name[("ConfigMap", wanted_name)].get("data") or {}).values():
                wanted.extend(service_hosts(value, objects))
    return sorted(set(wanted))


def service_hosts(value, objects):
    if not isinstance(value, str):
        return []
    host = value.split(".")[0]
    return [("Service", host) for o in objects
            if o.get("kind") == "Service" and name(o) == host and re.fullmatch(r"[a-z0-9-]+(\.[a-z0-9-]+)*", value)]


def providers(objects):
    """(kind, name) → the objects that make it exist in the cluster."""
    made = {}
    for obj in objects:
        made.setdefault((obj.get("kind"), name(obj)), []).append(obj)
        if obj.get("kind") in ("VaultStaticSecret", "VaultDynamicSecret", "VaultPKISecret"):
            destination = ((obj.get("spec") or {}).get("destination") or {}).get("name")
            if destination:
                made.setdefault(("Secret", destination), []).append(obj)
    return made


def check_sync_order(objects):
    problems = []
    made = providers(objects)
    for obj in objects:
        if HOOK not in annotations(obj) or obj.get("kind") not in WORKLOAD_KINDS:
            continue
        for hook_phase in phase_wave(obj):
            for kind, wanted in needs(obj, objects):
                sources = made.get((kind, wanted))
                if not sources:
                    continue  # outside the Application
                for source in sources:
                    earliest = min(phase_wave(source) or [(99, 0)])
                    if earliest >= hook_phase:
                        problems.append(
                            f"{obj['kind']}/{name(obj)} (hook {annotations(obj)[HOOK]}, wave {hook_phase[1]}) needs "
                            f"{kind}/{wanted}, which {source['kind']}/{name(source)} makes only in "
                            f"{describe(earliest)}")
    return problems


def check_deadlines(objects):
    problems = []
    for obj in objects:
        kind = obj.get("kind")
        spec = obj.get("spec") or {}
        if HOOK in annotations(obj) and kind == "Job":
            if not spec.get("activeDeadlineSeconds"):
                problems.append(f"Job/{name(obj)} is a hook without activeDeadlineSeconds: a hung run holds the sync forever")
        if HOOK in annotations(obj) and kind == "Pod":
            if not spec.get("activeDeadlineSeconds"):
                problems.append(f"Pod/{name(obj)} is a hook without activeDeadlineSeconds: a hung run holds the sync forever")
        if kind == "CronJob":
            job = (spec.get("jobTemplate") or {}).get("spec") or {}
            if not spec.get("startingDeadlineSeconds"):
                problems.append(f"CronJob/{name(obj)} has no startingDeadlineSeconds: after 100 missed schedules it never runs again")
            if spec.get("concurrencyPolicy", "Allow") == "Forbid" and not job.get("activeDeadlineSeconds"):
                problems.append(f"CronJob/{name(obj)} forbids overlapping runs and its runs have no activeDeadlineSeconds: one hung run blocks every later one")
    return problems


def describe(phase_wave_pair):
    phase = {v: k for k, v in PHASES.items()}.get(phase_wave_pair[0], "?")
    return f"phase {phase}, wave {phase_wave_pair[1]}"


def rendered(objects):
    """What Argo CD applies: no local-config specs, no ResourceList wrappers."""
    return [o for o in objects if isinstance(o, dict) and o.get("kind") and o.get("kind") != "Kptfile"
            and annotations(o).get("config.kubernetes.io/local-config") != "true"
            and not o.get("apiVersion", "").startswith("lummo.dev/")]


def packages():
    """(path, every object) of each rendered package, specs included."""
    for path in sorted(glob.glob("functions/*/testdata/*/expected.yaml")):
        document = yaml.safe_load(open(path)) or {}
        yield path, document.get("items") or []
    for package in sorted(glob.glob("Kptfile.examples/*/")):
        objects = []
        for path in sorted(glob.glob(os.path.join(package, "**", "*.yaml"), recursive=True)):
            objects.extend(yaml.safe_load_all(open(path)))
        yield package.rstrip("/"), [o for o in objects if o]
    for path in sorted(glob.glob("environments/*/expected.yaml")):
        yield path, [o for o in yaml.safe_load_all(open(path)) if o]


def self_cases():
    """tests/models/*.yaml: packages with the problems each model must report,
    listed in `# expect <model>: <text>` lines (none: the package must pass)."""
    for path in sorted(glob.glob("tests/models/*.yaml")):
        text = open(path).read()
        expected = re.findall(r"^# expect (selectors|sync-order|deadlines): (.*)$", text, re.M)
        yield path, rendered(list(yaml.safe_load_all(text))), expected


def main(argv):
    models = {"selectors": check_selectors, "sync-order": check_sync_order, "deadlines": check_deadlines}
    counts = {model: [0, 0] for model in models}
    given = [(path, rendered(list(yaml.safe_load_all(open(path))))) for path in argv]
    for path, objects in given or packages():
        objects = rendered(objects)
        for model, check in models.items():
            problems = check(objects)
            counts[model][bool(problems)] += 1
            for problem in problems:
                print(f"FAIL {model} {path}: {problem}")
    if not given:
        for path, objects, expected in self_cases():
            for model, check in models.items():
                want = sorted(text for m, text in expected if m == model)
                got = sorted(check(objects))
                ok = got == want
                counts[model][0 if ok else 1] += 1
                if not ok:
                    print(f"FAIL {model} {path}: expected {want}, got {got}")
    for model, (passed, failed) in counts.items():
        print(f"{model}-model: {passed} passed, {failed} failed")
    return 1 if any(failed for _, failed in counts.values()) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
