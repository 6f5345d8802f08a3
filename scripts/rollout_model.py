#!/usr/bin/env python3
"""A model of Argo Rollouts' canary step and analysis controllers, run over time
on synthetic metric series, for every generated Rollout with background analysis
(every golden, Kptfile.examples package and environment).

What is modelled, from argoproj/argo-rollouts (read at commit
9f8d111d8f8e3e88b6d7f8bbdf62fd3cd863ef9d; no code copied):
  rollout/canary.go rolloutCanary, completedCurrentCanaryStep, reconcileCanaryPause:
    steps run in order; a setWeight step completes when the canary's pods are
    available; a pause with a duration completes once now is after its start plus
    RolloutPause.DurationSeconds (pkg/apis/rollouts/v1alpha1/types.go: an integer,
    a string of digits or a Go duration); a pause without one waits for a person.
  rollout/analysis.go reconcileAnalysisRuns, reconcileBackgroundAnalysisRun:
    the background run starts once the step index reaches `startingStep`
    (utils/replicaset BeforeStartingStep); a Failed or Error run aborts the
    Rollout (AddAbort); an Inconclusive run pauses it (PauseReasonInconclusiveAnalysis)
    for a person; a fully promoted Rollout cancels its runs (shouldCancelCurrentAnalysis).
  analysis/analysis.go generateMetricTasks: the first measurement once
    startedAt + initialDelay is not after now, then one when now is after the last
    measurement's finishedAt + interval; assessMetricStatus and
    assessMetricFailureInconclusiveOrError: failed > failureLimit -> Failed, then
    inconclusive > inconclusiveLimit -> Inconclusive (it wins over Failed), a
    terminated run without either -> Successful.
  utils/evaluate/evaluate.go EvaluateResult: failureCondition first, then
    successCondition, neither -> Inconclusive (scripts/analysis_promtool.py
    argo_outcome, shared).
The Prometheus query is evaluated here as Prometheus 2.x does
(promql/functions.go extrapolatedRate over the samples in [t - range, t];
increase is that times the range; sum, `or vector(0)`, sqrt, clamp_max, a
filtering comparison, `and on()`): `query_value`. Argo Rollouts judges a
measurement by its value alone, so the generated query (lummo-workload render.rs
prometheus_query) carries the statistics: it fails only when the window's 5xx
exceed the errors the success rate allows by more than 2 standard deviations of
a Poisson count, and passes only when the window holds the requests in which the
rate allows one error; fewer is an empty vector, Inconclusive. The plain ratio it
replaced aborted healthy canaries on noisy minutes and promoted degraded ones with
a trickle of requests (REGRESSIONS, re-run as a control).
scripts/analysis_promtool.py evaluates the same queries on the same series with
the real promtool and must agree on every measurement (`--promtool` here does it
for a subset of seeds).

Time runs in 1-second ticks. Per seed: the app's request rate, the pods' start
times, scrape offsets, the query latency (0-2 s) and the controllers' reconcile
jitter (0-3 s). Scenarios and the outcome each must have (README: the timeline):
  healthy       errors at most a third of the error budget      -> Promoted, no person
  broken        100% 5xx from the canary's first request        -> Aborted before the last step ends
  degraded      5-10x the error budget                          -> Aborted before the last step ends
  slow-warm-up  pods ready after 1-4 min, metrics first scraped
                up to 45 s after ready, traffic ramping up over
                30-120 s, errors within half the budget         -> Promoted, no person
  no-traffic    the canary gets no requests (series or none)    -> Paused (InconclusiveAnalysisRun)
                                                                   before the last step ends
A canary whose windows hold too few requests for the generated query to judge
the rate (fewer than JUDGEABLE_ALLOWED_ERRORS / (1 - successRate) per window at
its first weight) may also end Paused (InconclusiveAnalysisRun) when healthy,
slow or degraded: never Aborted when healthy, never Promoted when failing.
With `--random N`, N random LummoDeployments (successRate, interval, failureLimit,
initialDelay, inconclusiveLimit, and half of them with canary steps of their own)
are rendered by the lummo-workload binary (--bin, default $BIN_DIR/lummo-workload):
the ones it refuses are counted, the accepted ones run the same scenarios
(--random-seeds each) and must give 0 wrong outcomes; specs with a limit of 0,
which the function warns of (one noisy or empty measurement decides), are run and
reported but not counted. With `--promtool K`, the measurements of the first K
seeds (2 for random specs) are evaluated again by the real promtool on the same
series and must agree.
A negative control runs the pre-#29 defaults (no initialDelay, inconclusiveLimit 0,
1m pauses, a 2m query window) and must give wrong outcomes.

Usage: rollout_model.py [--seeds N] [--promtool K] [--random N [--random-seeds S] [--bin PATH]]
Prints `rollout-model: S scenarios x N seeds x T templates = R runs, W wrong outcomes`.
"""
import argparse
import json
import math
import os
import random
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import analysis_promtool  # noqa: E402
import models  # noqa: E402

SCRAPE = 15  # seconds: the PodMonitor's interval
SCENARIOS = ("healthy", "broken", "degraded", "slow-warm-up", "no-traffic")
EXPECTED = {
    "healthy": "Promoted",
    "broken": "Aborted",
    "degraded": "Aborted",
    "slow-warm-up": "Promoted",
    "no-traffic": "Paused: InconclusiveAnalysisRun",
}
# A canary whose windows hold too few requests for the rate to be judged: the
# generated query keeps a measurement Inconclusive until the success rate's
# budget allows one error in its requests (render.rs prometheus_query), so a
# canary with a trickle of traffic pauses for a person (or fails on its errors)
# and is never promoted on minutes that happened to hold no error; a healthy one
# is promoted when enough of its windows reach the minimum. The model holds a
# run to the strict outcome once the canary's requests per window at its first
# weight give the budget at least JUDGEABLE_ALLOWED_ERRORS errors (1.5: a
# margin over the minimum of 1 for the count's own noise and a warm-up's ramp).
JUDGEABLE_ALLOWED_ERRORS = 1.5
TOO_FEW_REQUESTS = {
    "healthy": ("Promoted", "Paused: InconclusiveAnalysisRun"),
    "broken": ("Aborted",),
    "degraded": ("Aborted", "Paused: InconclusiveAnalysisRun"),
    "slow-warm-up": ("Promoted", "Paused: InconclusiveAnalysisRun"),
    "no-traffic": ("Paused: InconclusiveAnalysisRun",),
}
# Runs the generated canaries got wrong before a fix, each re-run as it was
# before (must be wrong) and as generated now (must be right):
# - the plain success ratio, before the query's noise tolerance (MODEL_SEEDS=1000):
#   a healthy canary aborted on two noisy minutes, a degraded one with a trickle of
#   requests promoted on minutes without an error;
# - pauses of initialDelay + (failureLimit + 1) × interval, before they counted
#   inconclusive measurements too (--random 100 --random-seeds 100, app21): a
#   degraded canary with 2 inconclusive then 3 failed measurements, promoted.
PLAIN_RATIO = {"prometheus": {"query": "plain ratio"}}
REGRESSIONS = {
    "functions/lummo-workload/testdata/canary-prometheus/expected.yaml checkout-success-rate": (
        {"provider": PLAIN_RATIO}, None,
        [("healthy", 200), ("healthy", 927), ("degraded", 343), ("degraded", 488), ("degraded", 943),
         ("slow-warm-up", 411), ("slow-warm-up", 809)]),
    "functions/lummo-workload/testdata/canary-limits-counted-apart/expected.yaml ledger-success-rate": (
        {}, [{"setWeight": 20}, {"pause": {"duration": "2m30s"}}, {"setWeight": 50}, {"pause": {"duration": "2m30s"}}],
        [("degraded", 21)]),
}
HORIZON = 3 * 3600  # a run that has not ended by then is "Stuck"


def go_seconds(text):
    """time.ParseDuration, whole seconds (units h, m, s, ms)."""
    if text in (None, ""):
        return 0
    total = 0.0
    for number, unit in re.findall(r"([0-9.]+)(h|ms|m|s)", str(text)):
        total += float(number) * {"h": 3600, "m": 60, "s": 1, "ms": 0.001}[unit]
    return int(total)


def pause_seconds(pause):
    """RolloutPause.DurationSeconds; None for a pause without a duration."""
    duration = (pause or {}).get("duration")
    if duration is None:
        return None
    if isinstance(duration, int):
        return duration
    if re.fullmatch(r"-?[0-9]+", duration):
        return int(duration)
    return go_seconds(duration)


# --- the app and its series ------------------------------------------------

class Pod:
    def __init__(self, created, ready_after, first_scrape_after, ramp, rps, error_ratio, warm_errors, preinit):
        self.ready = created + ready_after
        self.first_scrape = self.ready + first_scrape_after
        self.ramp = ramp
        self.rps = rps
        self.error_ratio = error_ratio
        self.warm_errors = warm_errors
        # A client library creates a labelled counter at its first use, so a
        # code's series exists from the first scrape after its first request;
        # some apps create theirs at start (`preinit`), at 0.
        self.counts = {"200": 0} if preinit else {}  # code -> cumulative
        self.samples = {}  # code -> [(t, value)] at scrape times

    def serve(self, now, rng):
        """One second of requests, once ready."""
        if now < self.ready:
            return
        age = now - self.ready
        share = min(1.0, (age + 1) / self.ramp) if self.ramp else 1.0
        expected = self.rps * share
        requests = int(expected) + (1 if rng.random() < expected - int(expected) else 0)
        errors_ratio = self.warm_errors if age < self.ramp else self.error_ratio
        expected_errors = requests * errors_ratio
        errors = int(expected_errors) + (1 if rng.random() < expected_errors - int(expected_errors) else 0)
        if requests - errors:
            self.counts["200"] = self.counts.get("200", 0) + requests - errors
        if errors:
            self.counts["500"] = self.counts.get("500", 0) + errors

    def scrape(self, now):
        if now >= self.first_scrape and now % SCRAPE == 0:
            for code, value in self.counts.items():
                self.samples.setdefault(code, []).append((now, value))


def extrapolated_rate(samples, t, window):
    """promql/functions.go extrapolatedRate (Prometheus 2.x, counter, rate)."""
    points = [(ts, v) for ts, v in samples if t - window <= ts <= t]
    if len(points) < 2:
        return None
    result = points[-1][1] - points[0][1]
    last = 0
    for _, v in points:
        if v < last:
            result += last
        last = v
    to_start = points[0][0] - (t - window)
    to_end = t - points[-1][0]
    sampled = points[-1][0] - points[0][0]
    average = sampled / (len(points) - 1)
    if result > 0 and points[0][1] >= 0:
        to_zero = sampled * (points[0][1] / result)
        if to_zero < to_start:
            to_start = to_zero
    threshold = average * 1.1
    interval = sampled
    interval += to_start if to_start < threshold else average / 2
    interval += to_end if to_end < threshold else average / 2
    return result * (interval / sampled) / window


def window_counts(pods, t, window):
    """(requests, 5xx) in the window, as `sum(increase(...[window]))` of every
    series and of the 5xx ones (increase is extrapolatedRate times the range);
    None without any series."""
    every, errors = [], []
    for pod in pods:
        for code, samples in pod.samples.items():
            rate = extrapolated_rate(samples, t, window)
            if rate is None:
                continue
            every.append(rate * window)
            if code.startswith("5"):
                errors.append(rate * window)
    if not every:
        return None
    return sum(every), (sum(errors) if errors else 0.0)


def plain_ratio(pods, t, window):
    """`1 - (sum(rate(5xx)) or vector(0)) / sum(rate(all))` (the query before the
    noise tolerance, and the success ratio a Datadog query returns): None for an
    empty vector, NaN for 0/0."""
    counts = window_counts(pods, t, window)
    if counts is None:
        return None
    requests, errors = counts
    if requests == 0:
        return math.nan
    return 1 - errors / requests


def query_value(pods, t, window, query):
    """The generated query at time t (render.rs prometheus_query): with N the
    window's requests, E its 5xx, R the success rate and allowed = N × (1 − R),
    score = min(1, 1 − (E − k·√allowed) / N); the vector holds the score when it
    is below R, or when allowed ≥ 1, and is empty otherwise (and without series;
    0/0 is NaN, which neither comparison keeps). k and R are read from the query.
    A query without the tolerance (the pre-#29 control) is the plain ratio."""
    tolerance = re.search(r" - ([0-9.]+) \* sqrt\(.*\* \(1 - ([0-9.]+)\)\)\)", query or "")
    if tolerance is None:
        return plain_ratio(pods, t, window)
    sigmas, rate = float(tolerance.group(1)), float(tolerance.group(2))
    counts = window_counts(pods, t, window)
    if counts is None:
        return None
    requests, errors = counts
    allowed = requests * (1 - rate)
    score = min(1.0, 1 - (errors - sigmas * math.sqrt(allowed)) / requests) if requests else math.nan
    if score < rate or (allowed >= 1 and not math.isnan(score)):
        return score
    return None


# --- the controllers ---------------------------------------------------------

def scenario_app(scenario, rng, budget):
    """(rps of the whole app, error ratio, warm-up errors, ramp, ready delay,
    first-scrape delay) of a scenario."""
    rps = rng.uniform(2, 200)
    ready = rng.randint(5, 60)
    first_scrape = rng.randint(0, SCRAPE)
    if scenario == "healthy":
        return rps, rng.uniform(0, budget / 3), 0.0, 0, ready, first_scrape
    if scenario == "broken":
        return rps, 1.0, 1.0, 0, ready, first_scrape
    if scenario == "degraded":
        ratio = min(1.0, rng.uniform(5, 10) * budget)
        return rps, ratio, ratio, 0, ready, first_scrape
    if scenario == "slow-warm-up":
        return (rps, rng.uniform(0, budget / 3), rng.uniform(0, budget / 2), rng.randint(30, 120),
                rng.randint(60, 240), rng.randint(0, 45))
    if scenario == "no-traffic":
        return 0.0, 0.0, 0.0, 0, ready, first_scrape
    raise ValueError(scenario)


def simulate(rollout_spec, metric, provider, scenario, seed, window):
    """Outcome of one canary: Promoted, Aborted, Paused: <reason>, Stuck; with the
    measurements [(t, value, phase)] and the pods (for promtool)."""
    rng = random.Random(f"{seed}:{scenario}")
    canary = rollout_spec["strategy"]["canary"]
    steps = canary.get("steps") or []
    analysis = canary.get("analysis")
    starting_step = (analysis or {}).get("startingStep", 0)
    success = metric.get("successCondition", "")
    failure = metric.get("failureCondition", "")
    threshold = float(re.search(r">=\s*([0-9.]+)", success).group(1))
    budget = 1 - threshold
    rps, error_ratio, warm_errors, ramp, ready, first_scrape = scenario_app(scenario, rng, budget)
    preinit = rng.random() < 0.5
    interval = go_seconds(metric.get("interval")) or 60
    initial_delay = go_seconds(metric.get("initialDelay"))
    failure_limit = int(metric.get("failureLimit", 0))
    inconclusive_limit = int(metric.get("inconclusiveLimit", 0))
    query = metric["provider"].get("prometheus", {}).get("query") if provider == "prometheus" else None
    # Whether the canary's measurements hold enough requests for the query to
    # judge the rate (see judge): its requests per window at the first weight.
    first_weight = next((s["setWeight"] for s in steps if "setWeight" in s), 100)
    judgeable = (" * sqrt(" not in (query or "")
                 or rps * first_weight / 100 * window * budget >= JUDGEABLE_ALLOWED_ERRORS)
    pods = []
    step = 0
    step_started = 0
    run = None  # {started, last_finished, measurements, failed, inconclusive, phase}
    measurements = []
    weight = 0
    now = 0
    while now < HORIZON:
        # The app: pods serve their share of the traffic, Prometheus scrapes them.
        ready_pods = [p for p in pods if now >= p.ready]
        for pod in pods:
            pod.rps = rps * weight / 100 / max(1, len(ready_pods)) if now >= pod.ready else 0
            pod.serve(now, rng)
            pod.scrape(now)
        # The analysis controller: a measurement when one is due.
        if run and run["phase"] == "Running":
            due = (run["started"] + initial_delay if run["last_finished"] is None
                   else run["last_finished"] + interval + 1)
            if now >= due + run["jitter"]:
                value = (query_value(pods, now, window, query) if provider == "prometheus"
                         else plain_ratio(pods, now, window))
                vector = [] if value is None else [value]
                if provider == "prometheus":
                    phase = analysis_promtool.argo_outcome(vector, success, failure)
                else:
                    phase = analysis_promtool.argo_outcome(value, success, failure)
                measurements.append((now, value, phase))
                run["last_finished"] = now + rng.randint(0, 2)
                run["jitter"] = rng.randint(0, 3)
                if phase == "Failed":
                    run["failed"] += 1
                elif phase == "Inconclusive":
                    run["inconclusive"] += 1
                if failure_limit >= 0 and run["failed"] > failure_limit:
                    run["phase"] = "Failed"
                if run["inconclusive"] > inconclusive_limit:
                    run["phase"] = "Inconclusive"
        # The rollout controller.
        if run and run["phase"] in ("Failed", "Error"):
            return "Aborted", measurements, pods, now, step, judgeable
        if run and run["phase"] == "Inconclusive":
            return "Paused: InconclusiveAnalysisRun", measurements, pods, now, step, judgeable
        if step >= len(steps):
            return "Promoted", measurements, pods, now, step, judgeable
        current = steps[step]
        done = False
        if "setWeight" in current:
            if weight != current["setWeight"]:
                weight = current["setWeight"]
                wanted = max(1, math.ceil(weight / 100 * 4))  # 4 replicas
                while len(pods) < wanted:
                    pods.append(Pod(now, ready + rng.randint(0, 10), first_scrape, ramp, 0.0, error_ratio,
                                    warm_errors, preinit))
            done = all(now >= p.ready for p in pods)
        elif "pause" in current:
            seconds = pause_seconds(current["pause"])
            if seconds is None:
                return "Paused: CanaryPauseStep", measurements, pods, now, step, judgeable
            done = now > step_started + seconds
        else:
            done = True  # analysis, experiment, ... steps: not generated
        if done:
            step += 1
            step_started = now + rng.randint(0, 3)
        if analysis and run is None and step >= starting_step and step < len(steps):
            run = {"started": now, "last_finished": None, "failed": 0, "inconclusive": 0,
                   "phase": "Running", "jitter": rng.randint(0, 3)}
        now += 1
    return "Stuck", measurements, pods, now, step, judgeable


def window_of(query):
    match = re.search(r"\[([0-9a-z]+)\]\)\)", query or "")
    return go_seconds(match.group(1)) if match else 60


def cases():
    """(where, rollout spec, metric, provider, window) of every generated Rollout
    with background analysis, deduplicated by what the model reads."""
    seen = set()
    for path, everything in models.packages():
        if path.startswith("functions/lummo-validate/"):
            continue
        objects = models.rendered(everything)
        for rollout in objects:
            if rollout.get("kind") != "Rollout":
                continue
            canary = (rollout.get("spec", {}).get("strategy") or {}).get("canary") or {}
            refs = (canary.get("analysis") or {}).get("templates") or []
            for ref in refs:
                template = next((o for o in objects if o.get("kind") == "AnalysisTemplate"
                                 and o["metadata"]["name"] == ref.get("templateName")), None)
                if template is None:
                    continue
                metric = template["spec"]["metrics"][0]
                provider = "prometheus" if "prometheus" in metric["provider"] else "datadog"
                if provider == "prometheus" and "rollouts_pod_template_hash" not in metric["provider"]["prometheus"]["query"]:
                    continue  # a spec's own query reads metrics the model does not know
                window = window_of(metric["provider"].get("prometheus", {}).get("query")) if provider == "prometheus" \
                    else go_seconds(metric.get("interval"))
                key = repr((canary.get("steps"), canary["analysis"].get("startingStep"), metric, provider))
                if key in seen:
                    continue
                seen.add(key)
                yield f"{path} {template['metadata']['name']}", rollout["spec"], metric, provider, window


def random_cases(count, seed, binary):
    """(where, rollout spec, metric, provider, window) of `count` random
    LummoDeployments (analysis parameters, and half of them with their own canary
    steps) rendered by the lummo-workload binary; and how many it refused."""
    import subprocess
    import yaml
    rng = random.Random(f"specs:{seed}")
    items = []
    for i in range(count):
        analysis = {"prometheus": {"address": "http://prometheus.monitoring:9090"},
                    "successRate": rng.choice([0.9, 0.95, 0.99]),
                    "interval": rng.choice(["30s", "1m", "90s", "2m"]),
                    "failureLimit": rng.randint(0, 3),
                    "initialDelay": rng.choice(["30s", "1m", "2m"])}
        if rng.random() < 0.3:
            analysis["inconclusiveLimit"] = rng.randint(0, 4)
        strategy = {"analysis": analysis}
        if rng.random() < 0.5:
            steps = [{"setWeight": rng.choice([5, 10, 20, 25])}]
            for _ in range(rng.randint(1, 3)):
                steps.append({"pause": {"duration": rng.choice([f"{rng.randint(1, 10)}m", rng.randint(30, 600)])}})
                steps.append({"setWeight": rng.choice([40, 50, 60, 80])})
            strategy["canary"] = {"steps": steps}
        items.append({"apiVersion": "lummo.dev/v1alpha1", "kind": "LummoDeployment",
                      "metadata": {"name": f"app{i}", "annotations": {"config.kubernetes.io/path": f"app{i}.yaml"}},
                      "spec": {"app": f"app{i}", "containers": {"image": "app:1.0.0", "ports": [{"name": "http", "port": 8080}],
                                                                 "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}},
                               "monitoring": {"prometheus": {}}, "strategy": strategy}})
    refused = 0
    rendered = []
    for item in items:
        # One spec per run: an error anywhere keeps the whole list unchanged.
        run = subprocess.run([binary], input=yaml.safe_dump({"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList",
                                                              "items": [item]}),
                             capture_output=True, text=True)
        output = yaml.safe_load(run.stdout) or {}
        errors = [r for r in output.get("results") or [] if r.get("severity") == "error"]
        warned = any(r.get("severity") == "warning" and "Limit" in r.get("field", {}).get("path", "")
                     for r in output.get("results") or [])
        if run.returncode or errors:
            if not errors or not all("the analysis needs" in r["message"] or "too short for the default query" in r["message"]
                                     for r in errors):
                raise SystemExit(f"lummo-workload failed on {item['spec']['strategy']}: {run.stderr}{errors}")
            refused += 1
            continue
        rendered.append((item, output.get("items") or [], warned))
    cases = []
    for item, objects, warned in rendered:
        rollout = next(o for o in objects if o.get("kind") == "Rollout")
        template = next(o for o in objects if o.get("kind") == "AnalysisTemplate")
        metric = template["spec"]["metrics"][0]
        cases.append((f"random {item['metadata']['name']} {json.dumps(item['spec']['strategy'])}", rollout["spec"], metric,
                      "prometheus", window_of(metric["provider"]["prometheus"]["query"]), warned))
    return cases, refused


def old_defaults():
    """The Rollout and AnalysisTemplate as generated before #29."""
    rollout = {"strategy": {"canary": {"steps": [{"setWeight": 20}, {"pause": {"duration": "1m"}},
                                                 {"setWeight": 50}, {"pause": {"duration": "1m"}}],
                                       "analysis": {"startingStep": 1}}}}
    metric = {"interval": "1m", "failureLimit": 2,
              "successCondition": "len(result) == 1 && result[0] >= 0.95",
              "failureCondition": "len(result) == 1 && result[0] < 0.95",
              "provider": {"prometheus": {"query": "rollouts_pod_template_hash"}}}
    return rollout, metric


def judge(outcome, scenario, measurements, steps_total, step, judgeable=True):
    expected = (EXPECTED[scenario],) if judgeable else TOO_FEW_REQUESTS[scenario]
    if outcome not in expected:
        return f"{outcome}, expected {' or '.join(expected)}"
    if outcome != "Promoted" and step >= steps_total:
        return f"{outcome} only after the last step"
    return None


def regressions(templates):
    """REGRESSIONS, each run before its fix (must be wrong) and as generated
    (must be right). (checked, problems)."""
    problems = []
    checked = 0
    found = set()
    for where, spec, metric, provider, window in templates:
        if where not in REGRESSIONS:
            continue
        found.add(where)
        metric_before, steps_before, cases = REGRESSIONS[where]
        canary = spec["strategy"]["canary"]
        before = {**spec, "strategy": {**spec["strategy"], "canary": {**canary, "steps": steps_before or canary["steps"]}}}
        for scenario, seed in cases:
            checked += 1
            for variant_spec, variant_metric, expect_wrong in ((before, {**metric, **metric_before}, True),
                                                              (spec, metric, False)):
                steps_total = len(variant_spec["strategy"]["canary"]["steps"])
                outcome, measurements, _, _, step, judgeable = simulate(variant_spec, variant_metric, provider,
                                                                        scenario, seed, window)
                problem = judge(outcome, scenario, measurements, steps_total, step, judgeable)
                if bool(problem) != expect_wrong:
                    what = "before its fix" if expect_wrong else "as generated"
                    problems.append(f"{where} {scenario} seed {seed} {what}: {problem or outcome}")
    problems.extend(f"{where}: no such generated canary" for where in REGRESSIONS if where not in found)
    return checked, problems


def main(argv):
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=200)
    parser.add_argument("--promtool", type=int, default=0,
                        help="also check the first K seeds' measurements with the real promtool")
    parser.add_argument("--random", type=int, default=0,
                        help="also N random LummoDeployments rendered by --bin (lummo-workload)")
    parser.add_argument("--random-seeds", type=int, default=20)
    parser.add_argument("--bin", default=os.path.join(os.environ.get("BIN_DIR", "target/x86_64-unknown-linux-gnu/release"),
                                                      "lummo-workload"))
    args = parser.parse_args(argv)
    runs = wrong = 0
    quiet = [0, 0]  # runs too quiet to judge, and how many of them paused
    templates = list(cases())
    if not templates:
        print("FAIL: no generated Rollout with background analysis found")
        return 1
    if args.random:
        if not os.access(args.bin, os.X_OK):
            print(f"FAIL: {args.bin} is required for --random (make build, or BIN_DIR=...)")
            return 1
        random_templates, refused = random_cases(args.random, 1, args.bin)
        print(f"rollout-model: {args.random} random specs, {refused} refused by lummo-workload (pauses shorter than the analysis, or initialDelay under 1m)")
    else:
        random_templates = []
    checked = []  # (where, metric, window, scenario, seed, measurements, pods) for promtool
    for where, spec, metric, provider, window in templates:
        steps_total = len(spec["strategy"]["canary"].get("steps") or [])
        for scenario in SCENARIOS:
            for seed in range(args.seeds):
                outcome, measurements, pods, at, step, judgeable = simulate(spec, metric, provider, scenario, seed, window)
                runs += 1
                if not judgeable and scenario != "no-traffic":
                    quiet[0] += 1
                    quiet[1] += outcome.startswith("Paused")
                problem = judge(outcome, scenario, measurements, steps_total, step, judgeable)
                if problem:
                    wrong += 1
                    if wrong <= 20:
                        trace = ", ".join(f"{t}s:{'none' if v is None else round(v, 4)}:{p}" for t, v, p in measurements)
                        print(f"WRONG {where} {scenario} seed {seed}: {problem} at {at}s, step {step}; measurements {trace}")
                if provider == "prometheus" and seed < args.promtool:
                    checked.append((where, metric, window, scenario, seed, measurements, pods))
    print(f"rollout-model: {len(SCENARIOS)} scenarios x {args.seeds} seeds x {len(templates)} templates = "
          f"{runs} runs, {wrong} wrong outcomes")
    print(f"rollout-model: {quiet[0]} of those runs (no-traffic aside) had too few requests per window to judge "
          f"the rate at the first weight (paused or right accepted); {quiet[1]} of them ended paused")
    random_runs = random_wrong = warned_runs = warned_wrong = 0
    for where, spec, metric, provider, window, warned in random_templates:
        steps_total = len(spec["strategy"]["canary"].get("steps") or [])
        for scenario in SCENARIOS:
            for seed in range(args.random_seeds):
                outcome, measurements, pods, at, step, judgeable = simulate(spec, metric, provider, scenario, seed, window)
                problem = judge(outcome, scenario, measurements, steps_total, step, judgeable)
                if warned:
                    # failureLimit or inconclusiveLimit 0, which the function warns
                    # of: one noisy or empty measurement decides, as the warning says.
                    warned_runs += 1
                    warned_wrong += bool(problem)
                    continue
                random_runs += 1
                if seed < min(args.promtool, 2):
                    checked.append((where, metric, window, scenario, seed, measurements, pods))
                if problem:
                    random_wrong += 1
                    if random_wrong <= 10:
                        print(f"WRONG {where} {scenario} seed {seed}: {problem} at {at}s, step {step}")
    if random_templates:
        clean = sum(1 for t in random_templates if not t[-1])
        print(f"rollout-model random specs: {len(SCENARIOS)} scenarios x {args.random_seeds} seeds x {clean} "
              f"accepted specs without a warning = {random_runs} runs, {random_wrong} wrong outcomes")
        print(f"rollout-model random specs with a limit of 0 (warned of): {len(random_templates) - clean} specs, "
              f"{warned_wrong} of {warned_runs} runs decided by one measurement (not counted)")
    wrong += random_wrong
    # Negative control: the old defaults must be caught.
    spec, metric = old_defaults()
    control = 0
    for scenario in SCENARIOS:
        for seed in range(min(args.seeds, 20)):
            outcome, measurements, _, _, step, judgeable = simulate(spec, metric, "prometheus", scenario, seed, 120)
            control += bool(judge(outcome, scenario, measurements, 4, step, judgeable))
    print(f"rollout-model negative control (pre-#29 defaults): {control} wrong outcomes of {len(SCENARIOS) * min(args.seeds, 20)}"
          f" (must be more than 0)")
    failed = wrong > 0 or control == 0
    checked_regressions, regressed = regressions(templates)
    for problem in regressed:
        print(f"WRONG regression {problem}")
    print(f"rollout-model regressions: {checked_regressions} runs wrong before a fix, "
          f"{len(regressed)} not as expected (wrong before, right now)")
    failed = failed or bool(regressed) or checked_regressions == 0
    if checked:
        agreed, disagreed = analysis_promtool.check_measurements(checked)
        print(f"rollout-model promtool: {agreed} measurements agree, {disagreed} disagree")
        failed = failed or disagreed > 0 or agreed == 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
