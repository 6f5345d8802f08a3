#!/usr/bin/env python3
"""deploy/monitoring/argo-rollouts-alerts.yaml through the real promtool: its
PrometheusRule's spec.groups written as a Prometheus rule file, `promtool check
rules` on it, then `promtool test rules tests/alerts/*.test.yaml` (each test file
names the rule file it tests). A missing promtool fails the run.
Prints `alerts-promtool: N passed, M failed`."""
import glob
import os
import shutil
import subprocess
import sys
import tempfile

import yaml

RULES = "deploy/monitoring/argo-rollouts-alerts.yaml"


def main():
    os.chdir(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    if shutil.which("promtool") is None:
        print("alerts-promtool: promtool is required (apt-get install -y prometheus)", file=sys.stderr)
        print("alerts-promtool: 0 passed, 1 failed")
        return 1
    rule = yaml.safe_load(open(RULES))
    problems = []
    if rule.get("apiVersion") != "monitoring.coreos.com/v1" or rule.get("kind") != "PrometheusRule":
        problems.append(f"{RULES} is not a monitoring.coreos.com/v1 PrometheusRule")
    passed = 0
    with tempfile.TemporaryDirectory() as tmp:
        rules_file = os.path.join(tmp, "argo-rollouts-alerts.rules.yaml")
        with open(rules_file, "w") as out:
            yaml.safe_dump({"groups": rule["spec"]["groups"]}, out)
        check = subprocess.run(["promtool", "check", "rules", rules_file], capture_output=True, text=True)
        if check.returncode:
            problems.append(f"promtool check rules:\n{check.stdout}{check.stderr}")
        else:
            passed += 1
        tests = sorted(glob.glob("tests/alerts/*.test.yaml"))
        if not tests:
            problems.append("no tests/alerts/*.test.yaml")
        for test in tests:
            shutil.copy(test, tmp)
            run = subprocess.run(["promtool", "test", "rules", os.path.basename(test)], cwd=tmp,
                                 capture_output=True, text=True)
            if run.returncode:
                problems.append(f"promtool test rules {test}:\n{run.stdout}{run.stderr}")
            else:
                passed += 1
    for problem in problems:
        print(f"FAIL {problem}")
    print(f"alerts-promtool: {passed} passed, {len(problems)} failed")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
