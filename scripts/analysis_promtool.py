#!/usr/bin/env python3
"""Every generated Prometheus AnalysisTemplate query (every golden, example and
environment), evaluated by the real Prometheus query engine (`promtool test rules`)
over series labelled exactly as the app's PodMonitor scrape labels them, then judged
the way Argo Rollouts judges a measurement.

Series labels (prometheus-operator pkg/prometheus/promcfg.go, PodMonitor): the
metric's own labels, namespace, container, pod, `job: <namespace>/<PodMonitor>`,
`endpoint: <port name>`, and each podTargetLabels entry with `-`/`.`/`/` made `_`.

Argo Rollouts (v1.x): the Prometheus provider turns a vector into []float64
(metricproviders/prometheus/prometheus.go processResponse) and EvaluateResult
(utils/evaluate/evaluate.go) applies successCondition/failureCondition with
expr-lang: failure if the failure condition holds (or, without one, if the success
condition does not), success if the success condition holds, else Inconclusive.

Scenarios, each checked for its vector (by promtool) and its outcome (by the model):
  healthy         canary answers without errors, stable pods fail  -> Successful
  errors          20% of the canary's requests are 5xx             -> Failed
  only-errors     the canary has only 5xx series                   -> Failed
  no-series       nothing scraped from the canary                  -> Inconclusive
  no-traffic      canary series exist, no requests                 -> Inconclusive
  noise           5xx one standard deviation over the rate's budget -> Successful
  too-few-requests  fewer requests than the rate allows one error in -> Inconclusive
The vector each must give follows from the query's window, rate and noise
tolerance (`expected_vector`, lummo-workload render.rs prometheus_query).
A missing promtool fails the run.
Prints `analysis-promtool: N passed, M failed`.
"""
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import models  # noqa: E402

NAMESPACE = "shop"
CANARY = "6c9f7b5d4"
STABLE = "58d4c7f9b"
STEPS = 40  # 15s apart: 10 minutes of samples

SCENARIOS = {
    # name: (canary series {code: increment per 15s}, outcome); the vector each
    # must give is `expected_vector` of the query's window and rate.
    "healthy": ({"200": 100, "500": 0}, "Successful"),
    "errors": ({"200": 80, "500": 20}, "Failed"),
    "only-errors": ({"500": 30}, "Failed"),
    "no-series": ({}, "Inconclusive"),
    "no-traffic": ({"200": 0, "500": 0}, "Inconclusive"),
    # 5xx one standard deviation over what the rate allows: chance, not a failure.
    "noise": ("noise", "Successful"),
    # 4 requests a minute: fewer than the rate allows one error in.
    "too-few-requests": ({"200": 1, "500": 0}, "Inconclusive"),
}


def scenario_series(scenario, window, rate):
    """A scenario's canary series {code: increment per 15s}."""
    canary = SCENARIOS[scenario][0]
    if canary != "noise":
        return canary
    scrapes = window / 15
    allowed = 100 * scrapes * (1 - rate)
    errors = (allowed + math.sqrt(allowed)) / scrapes
    return {"200": 100 - errors, "500": errors}


def expected_vector(canary, window, rate, sigmas):
    """What the generated query (lummo-workload render.rs prometheus_query) must
    return for a canary whose counters grow steadily: with N requests and E 5xx
    in the window and allowed = N × (1 − rate), the score
    min(1, 1 − (E − sigmas·√allowed) / N) when below the rate or when allowed ≥ 1,
    else nothing; nothing without series, and 0/0 keeps nothing either."""
    if not canary:
        return []
    scrapes = window / 15
    requests = sum(canary.values()) * scrapes
    errors = sum(v for code, v in canary.items() if code.startswith("5")) * scrapes
    if requests == 0:
        return []
    allowed = requests * (1 - rate)
    score = min(1.0, 1 - (errors - sigmas * math.sqrt(allowed)) / requests)
    return [score] if score < rate or allowed >= 1 else []


def go_seconds(text):
    """A Go duration of whole units (h, m, s) in seconds."""
    return sum(int(n) * {"h": 3600, "m": 60, "s": 1}[u] for n, u in re.findall(r"([0-9]+)([hms])", text))


def sanitize(label):
    return re.sub(r"[^a-zA-Z0-9_]", "_", label)


def series(pod_monitor, container, code_increments, hash_value, pod):
    endpoint = pod_monitor["spec"]["podMetricsEndpoints"][0].get("port", "metrics")
    labels = {
        "namespace": NAMESPACE,
        "container": container,
        "pod": pod,
        "job": f"{NAMESPACE}/{pod_monitor['metadata']['name']}",
        "endpoint": endpoint,
    }
    for label in pod_monitor["spec"].get("podTargetLabels") or []:
        if label == "rollouts-pod-template-hash":
            labels[sanitize(label)] = hash_value
    out = []
    for code, increment in code_increments.items():
        text = ",".join(f'{k}="{v}"' for k, v in sorted({**labels, "code": code}.items()))
        out.append({"series": f"http_requests_total{{{text}}}", "values": f"0+{increment}x{STEPS}"})
    return out


def argo_outcome(result, success, failure):
    """utils/evaluate/evaluate.go EvaluateResult over a vector result."""
    def evaluate(condition):
        python = condition.replace("&&", " and ").replace("||", " or ").replace("nil", "None")
        return bool(eval(python, {"__builtins__": {}}, {"result": result, "len": len}))  # noqa: S307
    succeeded = evaluate(success) if success else False
    failed = evaluate(failure) if failure else False
    if not success and not failure:
        return "Successful"
    if success and not failure:
        failed = not succeeded
    if failure and not success:
        succeeded = not failed
    if failed:
        return "Failed"
    if not succeeded:
        return "Inconclusive"
    return "Successful"


def spec_analysis(objects, template):
    """The `strategy.analysis.prometheus` of the LummoDeployment behind a template."""
    source = models.annotations(template)["lummo.dev/generated-by"].split(":", 1)[1]
    name = source.rsplit("/", 1)[-1]
    for spec in objects:
        if spec.get("kind") == "LummoDeployment" and models.name(spec) == name:
            return ((spec.get("spec") or {}).get("strategy") or {}).get("analysis", {}).get("prometheus")
    return None


def cases():
    for path, everything in models.packages():
        if path.startswith("functions/lummo-validate/"):
            continue  # frozen snapshots that lummo-validate reads, not this build's output
        objects = models.rendered(everything)
        # Generated ones only: a spec's own `query` reads whatever metric it names.
        templates = [o for o in objects if o.get("kind") == "AnalysisTemplate"
                     and models.annotations(o).get("lummo.dev/generated-by", "").startswith("lummo-workload:")
                     and "query" not in (spec_analysis(everything, o) or {})]
        for template in templates:
            metric = template["spec"]["metrics"][0]
            prometheus = metric["provider"].get("prometheus")
            if not prometheus:
                continue
            rollout = next(o for o in objects if o.get("kind") == "Rollout" and any(
                t.get("templateName") == template["metadata"]["name"]
                for t in o["spec"]["strategy"]["canary"]["analysis"]["templates"]))
            args = {a["name"]: a.get("value") for a in rollout["spec"]["strategy"]["canary"]["analysis"]["args"]}
            app = args["service-name"]
            pod_monitor = next((o for o in objects if o.get("kind") == "PodMonitor" and o["metadata"]["name"] == app), None)
            yield path, template, metric, prometheus["query"], pod_monitor, rollout


def check_measurements(checked):
    """The measurements of scripts/rollout_model.py, evaluated again by the real
    promtool on the same series: for each one, `Q >= bool r` and `Q < bool r` at
    its time must be what the model's evaluation says (1/0 for a pass, 0/1 for a
    failure, 0/0 for NaN, nothing for an empty vector). (agreed, disagreed)."""
    if shutil.which("promtool") is None:
        print("analysis-promtool: promtool is required (apt-get install -y prometheus)", file=sys.stderr)
        return 0, 1
    by_template = {}
    for where, metric, window, scenario, seed, measurements, pods in checked:
        by_template.setdefault(where, []).append((metric, scenario, seed, measurements, pods))
    agreed = disagreed = 0
    for where, runs in by_template.items():
        tests, expected_count = [], 0
        for metric, scenario, seed, measurements, pods in runs:
            query = metric["provider"]["prometheus"]["query"]
            app = re.search(r'job="\{\{args\.namespace\}\}/([^"]+)"', query).group(1)
            resolved = query.replace("{{args.namespace}}", NAMESPACE).replace("{{args.canary-hash}}", CANARY)
            threshold = float(re.search(r">=\s*([0-9.]+)", metric["successCondition"]).group(1))
            end = max([t for t, _, _ in measurements] + [0])
            steps = end // 15 + 1
            input_series = []
            labels = {"namespace": NAMESPACE, "job": f"{NAMESPACE}/{app}", "container": app, "endpoint": "metrics"}
            for i, pod in enumerate(pods):
                for code, samples in pod.samples.items():
                    values = dict(samples)
                    text = " ".join(str(values[k * 15]) if k * 15 in values else "_" for k in range(steps))
                    names = {**labels, "pod": f"{app}-{CANARY}-{i}", "rollouts_pod_template_hash": CANARY, "code": code}
                    series_labels = ",".join(f'{k}="{v}"' for k, v in sorted(names.items()))
                    input_series.append({"series": f"http_requests_total{{{series_labels}}}", "values": text})
            # The stable pods, failing: the canary's query must not see them.
            for code, step in (("200", 1), ("500", 19)):
                names = {**labels, "pod": f"{app}-{STABLE}-0", "rollouts_pod_template_hash": STABLE, "code": code}
                series_labels = ",".join(f'{k}="{v}"' for k, v in sorted(names.items()))
                input_series.append({"series": f"http_requests_total{{{series_labels}}}", "values": f"0+{step}x{steps}"})
            checks = []
            for t, value, _ in measurements:
                if value is None:
                    passes, fails = [], []
                elif math.isnan(value):
                    passes, fails = [0], [0]
                else:
                    passes, fails = ([1], [0]) if value >= threshold else ([0], [1])
                for op, expected in ((">=", passes), ("<", fails)):
                    checks.append({"expr": f"({resolved}) {op} bool {threshold}", "eval_time": f"{t}s",
                                   "exp_samples": [{"labels": "{}", "value": v} for v in expected]})
                expected_count += 1
            if checks:
                tests.append({"interval": "15s", "input_series": input_series, "promql_expr_test": checks})
        if not tests:
            continue
        with tempfile.TemporaryDirectory() as tmp:
            test_file = os.path.join(tmp, "model.test.yaml")
            with open(test_file, "w") as out:
                # promtool loads the input samples up to each evaluation_interval step
                # (cmd/promtool/unittest.go: WithSamplesTill), so a query between two
                # steps would not see the samples since the last one: 1s steps.
                yaml.safe_dump({"evaluation_interval": "1s", "tests": tests}, out)
            run = subprocess.run(["promtool", "test", "rules", test_file], capture_output=True, text=True, timeout=600)
        if run.returncode == 0:
            agreed += expected_count
        else:
            wrong = run.stdout.count("expr:") // 1 or 1
            disagreed += wrong
            agreed += max(0, expected_count - wrong)
            print(f"FAIL {where}: promtool disagrees with the model's evaluation:\n{run.stdout[-3000:]}{run.stderr[-2000:]}")
    return agreed, disagreed


def main():
    if shutil.which("promtool") is None:
        print("analysis-promtool: promtool is required (apt-get install -y prometheus)", file=sys.stderr)
        print("analysis-promtool: 0 passed, 1 failed")
        return 1
    passed = failed = 0
    for path, template, metric, query, pod_monitor, rollout in cases():
        where = f"{path} {template['metadata']['name']}"
        if pod_monitor is None:
            failed += 1
            print(f"FAIL {where}: the query reads the PodMonitor's series, but the package has no PodMonitor `{rollout['metadata']['name']}`")
            continue
        container = rollout["spec"]["template"]["spec"]["containers"][0]["name"]
        app = rollout["metadata"]["name"]
        resolved = (query.replace("{{args.namespace}}", NAMESPACE)
                    .replace("{{args.canary-hash}}", CANARY)
                    .replace("{{args.service-name}}", app))
        tolerance = re.search(r" - ([0-9.]+) \* sqrt\(.*\* \(1 - ([0-9.]+)\)\)\)", query)
        window_text = re.search(r"\[([0-9a-z]+)\]\)\)", query)
        if tolerance is None or window_text is None:
            failed += len(SCENARIOS)
            print(f"FAIL {where}: the query has no noise tolerance or window this check knows: {query}")
            continue
        sigmas, rate = float(tolerance.group(1)), float(tolerance.group(2))
        window = go_seconds(window_text.group(1))
        vectors = {}
        tests = []
        for name in SCENARIOS:
            canary = scenario_series(name, window, rate)
            vector = vectors[name] = expected_vector(canary, window, rate, sigmas)
            input_series = series(pod_monitor, container, canary, CANARY, f"{app}-{CANARY}-x7k2p")
            # Stable pods failing every request, and the same app in another
            # namespace: the canary's query must see neither.
            input_series += series(pod_monitor, container, {"200": 5, "500": 95}, STABLE, f"{app}-{STABLE}-q4m8z")
            other = series(pod_monitor, container, {"500": 50}, CANARY, f"{app}-{CANARY}-other")
            for s in other:
                s["series"] = s["series"].replace(f'namespace="{NAMESPACE}"', 'namespace="elsewhere"').replace(
                    f'job="{NAMESPACE}/', 'job="elsewhere/')
            input_series += other
            if vector:
                # Within 1e-9: the engine sums the series in its own order.
                check = {"expr": f"abs(({resolved}) - {vector[0]!r}) < bool 1e-9",
                         "exp_samples": [{"labels": "{}", "value": 1}]}
            else:
                check = {"expr": resolved, "exp_samples": []}
            tests.append({
                "interval": "15s",
                "input_series": input_series,
                "promql_expr_test": [{**check, "eval_time": "10m"}],
            })
        with tempfile.TemporaryDirectory() as tmp:
            test_file = os.path.join(tmp, "analysis.test.yaml")
            with open(test_file, "w") as out:
                yaml.safe_dump({"tests": tests}, out)
            run = subprocess.run(["promtool", "test", "rules", test_file], capture_output=True, text=True, timeout=60)
        if run.returncode != 0:
            failed += len(SCENARIOS)
            print(f"FAIL {where}: promtool disagrees with the expected vectors:\n{run.stdout}{run.stderr}")
            continue
        for name, (_, outcome) in SCENARIOS.items():
            vector = vectors[name]
            got = argo_outcome(vector, metric.get("successCondition", ""), metric.get("failureCondition", ""))
            if got == outcome:
                passed += 1
            else:
                failed += 1
                print(f"FAIL {where} {name}: Argo Rollouts would judge {vector} {got}, expected {outcome}")
    if passed + failed == 0:
        failed += 1
        print("FAIL: no generated Prometheus AnalysisTemplate found")
    print(f"analysis-promtool: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
