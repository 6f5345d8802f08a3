#!/usr/bin/env python3
"""A model of Reloader, the Vault Secrets Operator, Argo Rollouts and Argo CD's
self-heal, run for every ConfigMap and Secret a generated Rollout reads (every
golden, Kptfile.examples package and environment): a change must reach new pods,
survive Argo CD's next self-heal sync, and restart the Rollout exactly once.

Modelled (no code copied):
  Reloader (stakater/Reloader at 655a2b3814baadb69d3d1e105242d6cc8875d7cb):
    internal/pkg/handler/upgrade.go: a change of a ConfigMap or Secret named in a
    workload's `configmap.reloader.stakater.com/reload` /
    `secret.reloader.stakater.com/reload` triggers the reload strategy; the default
    (`env-vars`, updateContainerEnvVars) sets `STAKATER_<NAME>_<TYPE>` = the data's
    SHA on the container of the pod template; internal/pkg/callbacks/rolling_upgrade.go
    UpdateRollout: with `reloader.stakater.com/rollout-strategy: restart` a merge
    patch of the Rollout's `spec.restartAt` instead, the pod template untouched;
    otherwise an Update of the Rollout with the changed template.
  Vault Secrets Operator: a VaultStaticSecret/VaultDynamicSecret restarts each of
    its `rolloutRestartTargets` when it writes a new Secret (`argo.Rollout`: a
    `spec.restartAt` patch, as `kubectl argo rollouts restart`).
  Argo Rollouts (argo-rollouts 9f8d111d): a changed pod template is a new
    ReplicaSet whose pods go through the canary steps; the template going back to
    the stable one mid-canary is a rollback to the stable pods (rollout/canary.go,
    replicasetutil); rollout/restart.go RolloutPodRestarter.Reconcile: pods created
    before `spec.restartAt` are deleted and recreated from the same template.
  Argo CD self-heal (deploy/argocd/application.yaml: automated, selfHeal): the
    live Rollout is compared with Git's through a three-way diff
    (gitops-engine 5baed560 pkg/diff/diff.go ThreeWayDiff/threeWayMergePatch:
    last-applied, Git, live; a custom resource has no strategic-merge schema, so a
    JSON merge patch: a list that differs from Git's is replaced whole, a map key
    neither Git nor last-applied holds is left alone); a difference is synced back.
  Pods read `envFrom` ConfigMaps and Secrets when they start.

Per source: Git's Rollout applied, pods running with version 1; the source changes
to version 2; Reloader and VSO act; Argo Rollouts reacts; self-heal syncs; Argo
Rollouts reacts again. Must hold: every pod runs version 2, and the source caused
exactly one restart. A negative control runs the pre-#29 annotations (no
rollout-strategy; Reloader on a Vault-restarted Secret) and must fail.
Prints `reload-model: N passed, M failed`.
"""
import copy
import hashlib
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import models  # noqa: E402

STRATEGY = "reloader.stakater.com/rollout-strategy"
RELOAD = {"ConfigMap": "configmap.reloader.stakater.com/reload", "Secret": "secret.reloader.stakater.com/reload"}


def template_hash(rollout):
    text = json.dumps(rollout["spec"]["template"], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:10]


def json_merge_three_way(last_applied, desired, live):
    """The object a self-heal sync leaves: Git's fields win (lists whole), keys
    only live holds stay, keys that last-applied held and Git dropped go."""
    if not isinstance(desired, dict) or not isinstance(live, dict):
        return copy.deepcopy(desired)
    result = {}
    for key, value in live.items():
        if key in desired:
            result[key] = json_merge_three_way((last_applied or {}).get(key) if isinstance(last_applied, dict) else None,
                                               desired[key], value)
        elif not (isinstance(last_applied, dict) and key in last_applied):
            result[key] = copy.deepcopy(value)
    for key, value in desired.items():
        if key not in result:
            result[key] = copy.deepcopy(value)
    return result


class Cluster:
    def __init__(self, rollout, version):
        self.git = rollout
        self.live = copy.deepcopy(rollout)
        self.last_applied = copy.deepcopy(rollout)
        self.stable = template_hash(rollout)
        self.pods = [{"hash": self.stable, "version": version, "created": 0} for _ in range(2)]
        self.restarts = 0
        self.now = 0

    def rollouts_react(self, version):
        """Argo Rollouts: a new template starts pods with the current data (the
        canary takes minutes, so the old stable pods still run); the stable
        template again is a rollback to the stable pods; restartAt recreates older
        pods."""
        current = template_hash(self.live)
        hashes = {p["hash"] for p in self.pods}
        if current not in hashes:
            self.restarts += 1
            self.pods.append({"hash": current, "version": version, "created": self.now})
        elif current == self.stable and len(hashes) > 1:
            self.pods = [p for p in self.pods if p["hash"] == self.stable]
        restart_at = self.live["spec"].get("restartAt")
        if restart_at is not None and any(p["created"] < restart_at for p in self.pods):
            self.pods = [{**p, "version": version, "created": self.now} for p in self.pods]

    def self_heal(self):
        merged = json_merge_three_way(self.last_applied, self.git, self.live)
        if merged != self.live:
            self.live = merged
            self.last_applied = copy.deepcopy(self.git)


def run_case(rollout, kind, source, vso_targets):
    """Problems of one source's change, [] when it sticks."""
    cluster = Cluster(rollout, 1)
    cluster.now = 10
    annotations = rollout["metadata"].get("annotations") or {}
    watched = [n.strip() for n in annotations.get(RELOAD[kind], "").split(",") if n.strip()]
    # Reloader.
    if source in watched:
        if annotations.get(STRATEGY) == "restart":
            cluster.live["spec"]["restartAt"] = cluster.now
            cluster.restarts += 1
        else:
            container = cluster.live["spec"]["template"]["spec"]["containers"][0]
            env = container.setdefault("env", [])
            env.append({"name": f"STAKATER_{source.upper().replace('-', '_')}_{kind.upper()}",
                        "value": hashlib.sha1(b"version 2").hexdigest()})
    cluster.rollouts_react(2)
    # VSO.
    cluster.now = 20
    if source in vso_targets:
        cluster.live["spec"]["restartAt"] = cluster.now
        cluster.restarts += 1
        cluster.rollouts_react(2)
    # Argo CD self-heal, then Argo Rollouts.
    cluster.now = 30
    cluster.self_heal()
    cluster.rollouts_react(2)
    problems = []
    stale = [p for p in cluster.pods if p["version"] != 2]
    if stale:
        problems.append(f"{len(stale)} pod(s) still run {kind}/{source} version 1 after self-heal")
    if cluster.restarts != 1:
        problems.append(f"{kind}/{source} restarted the Rollout {cluster.restarts} times")
    return problems


def sources(rollout):
    spec = rollout["spec"]["template"]["spec"]
    for container in spec.get("containers") or []:
        for source in container.get("envFrom") or []:
            if "configMapRef" in source:
                yield "ConfigMap", source["configMapRef"]["name"]
            if "secretRef" in source:
                yield "Secret", source["secretRef"]["name"]


def vso_restarted(objects, app):
    names = set()
    for obj in objects:
        if obj.get("kind") in ("VaultStaticSecret", "VaultDynamicSecret"):
            spec = obj.get("spec") or {}
            if any(t.get("kind") == "argo.Rollout" and t.get("name") == app for t in spec.get("rolloutRestartTargets") or []):
                names.add((spec.get("destination") or {}).get("name"))
    return names


def main():
    passed = failed = 0
    for path, everything in models.packages():
        if path.startswith("functions/lummo-validate/"):
            continue
        objects = models.rendered(everything)
        for rollout in [o for o in objects if o.get("kind") == "Rollout"]:
            vso = vso_restarted(objects, rollout["metadata"]["name"])
            for kind, source in sorted(set(sources(rollout))):
                problems = run_case(rollout, kind, source, vso)
                if problems:
                    failed += 1
                    for problem in problems:
                        print(f"FAIL {path} Rollout/{rollout['metadata']['name']}: {problem}")
                else:
                    passed += 1
    # Negative control: the annotations before #29.
    old = {"metadata": {"name": "api", "annotations": {RELOAD["ConfigMap"]: "api-db", RELOAD["Secret"]: "api-postgres"}},
           "spec": {"template": {"spec": {"containers": [{"name": "api", "envFrom": [
               {"configMapRef": {"name": "api-db"}}, {"secretRef": {"name": "api-postgres"}}]}]}}}}
    control = run_case(old, "ConfigMap", "api-db", set()) + run_case(old, "Secret", "api-postgres", {"api-postgres"})
    if len(control) < 2:
        failed += 1
        print(f"FAIL negative control: the pre-#29 annotations must fail twice, got {control}")
    else:
        print(f"reload-model negative control (pre-#29 annotations): {'; '.join(control)}")
    if passed + failed == 0:
        failed += 1
        print("FAIL: no Rollout reading a ConfigMap or Secret found")
    print(f"reload-model: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
