#!/usr/bin/env python3
"""The Argo CD plugin (deploy/argocd/plugin.yaml) run as Argo CD's cmp-server runs it.

Argo CD's cmp-server (cmpserver/plugin/plugin.go, `runCommand`) receives the
repository as a tarball, extracts it in a fresh folder and runs the plugin's
`generate.command` + `generate.args` with:
  - the working directory = <extracted repository>/<ARGOCD_APP_SOURCE_PATH>;
  - the environment = the sidecar's own plus the build environment
    (reposerver/repository `newEnv`: ARGOCD_APP_NAME, ARGOCD_APP_NAMESPACE,
    ARGOCD_APP_REVISION, ARGOCD_APP_SOURCE_REPO_URL, ARGOCD_APP_SOURCE_PATH,
    ARGOCD_APP_SOURCE_TARGET_REVISION, KUBE_VERSION, KUBE_API_VERSIONS) and the
    Application's `plugin.env`, each prefixed ARGOCD_ENV_;
  - stdout = the manifests (parsed as a YAML stream), stderr = the error shown
    when the exit status is not 0.
This script does the same with the binary the image puts at /usr/local/bin/function
(BIN_DIR/lummo), on a copy of the repository's files (as the tarball holds them),
for environments/dev, environments/prod, every Kptfile.examples package and the
cases of tests/argocd-plugin/ (a `lummo init` base with local-config specs, bad
input). kustomize is the real `kubectl kustomize` (/usr/bin). Success means: exit
0, non-empty stdout of Kubernetes objects, equal to the committed expected
manifests. A bad-input case (expected-error.txt) means: exit 1, nothing on stdout,
stderr holding each line of expected-error.txt. UPDATE_GOLDEN=1 rewrites
expectations of successful cases.
"""
import os
import shutil
import subprocess
import sys
import tempfile

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
IMAGE_BINARY = "/usr/local/bin/function"
EXPECTED_DIR = "tests/argocd-plugin/expected"


def plugin_command(lummo):
    with open(os.path.join(ROOT, "deploy/argocd/plugin.yaml")) as f:
        plugin = yaml.safe_load(f)
    generate = plugin["spec"]["generate"]
    command = list(generate["command"]) + list(generate.get("args") or [])
    if command[0] != IMAGE_BINARY:
        sys.exit(f"argocd-plugin: plugin.yaml's generate command starts with {command[0]}, not {IMAGE_BINARY}")
    return [lummo] + command[1:]


def repository_copy(dest):
    """The files Argo CD's tarball holds: the repository's tracked and new files."""
    files = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, check=True, capture_output=True).stdout.decode().split("\0")
    for name in filter(None, files):
        source = os.path.join(ROOT, name)
        if not os.path.isfile(source):
            continue  # deleted in the work tree
        target = os.path.join(dest, name)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copy2(source, target)


def cases():
    """(app path, expected manifests file or None, expected error file or None)."""
    found = [(f"environments/{env}", f"environments/{env}/expected.yaml", None)
             for env in ("dev", "prod")]
    for name in sorted(os.listdir(os.path.join(ROOT, "Kptfile.examples"))):
        if os.path.isfile(os.path.join(ROOT, "Kptfile.examples", name, "Kptfile")):
            found.append((f"Kptfile.examples/{name}", f"{EXPECTED_DIR}/{name}.yaml", None))
    for name in sorted(os.listdir(os.path.join(ROOT, "tests/argocd-plugin"))):
        case = f"tests/argocd-plugin/{name}"
        if name == "expected":
            continue
        if os.path.isfile(os.path.join(ROOT, case, "expected-error.txt")):
            found.append((f"{case}/app", None, f"{case}/expected-error.txt"))
        else:
            found.append((f"{case}/app", f"{case}/expected.yaml", None))
    return found


def generate(command, repo, path):
    env = {
        # The sidecar's own environment: kubectl (the real kustomize) is at /usr/bin.
        "PATH": "/usr/bin:/bin",
        "HOME": os.environ.get("HOME", "/tmp"),
        "ARGOCD_APP_NAME": path.replace("/", "-").lower(),
        "ARGOCD_APP_NAMESPACE": "argocd",
        "ARGOCD_APP_REVISION": "0123456789abcdef0123456789abcdef01234567",
        "ARGOCD_APP_SOURCE_REPO_URL": "https://github.com/lummo/krm-functions",
        "ARGOCD_APP_SOURCE_PATH": path,
        "ARGOCD_APP_SOURCE_TARGET_REVISION": "main",
        "KUBE_VERSION": "1.33.0",
        "KUBE_API_VERSIONS": "v1,apps/v1,batch/v1,networking.k8s.io/v1,policy/v1",
        "ARGOCD_ENV_ENVIRONMENT": os.path.basename(path),
    }
    return subprocess.run(command, cwd=os.path.join(repo, path), env=env,
                          capture_output=True, text=True, timeout=120)


def objects(text):
    """The stream's documents; each must be a Kubernetes object."""
    documents = [d for d in yaml.safe_load_all(text) if d is not None]
    for d in documents:
        if not isinstance(d, dict) or not d.get("apiVersion") or not d.get("kind") \
                or not (d.get("metadata") or {}).get("name"):
            raise ValueError(f"not a Kubernetes object: {str(d)[:200]}")
    return documents


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: argocd_plugin.py BIN_DIR")
    lummo = os.path.abspath(os.path.join(ROOT, sys.argv[1], "lummo"))
    if not os.path.isfile("/usr/bin/kubectl"):
        sys.exit("argocd-plugin: /usr/bin/kubectl is required (the real kustomize), not optional")
    command = plugin_command(lummo)
    update = os.environ.get("UPDATE_GOLDEN") == "1"
    passed = failed = 0
    with tempfile.TemporaryDirectory() as repo:
        repository_copy(repo)
        for path, expected, expected_error in cases():
            run = generate(command, repo, path)
            problem = None
            if expected_error:
                with open(os.path.join(ROOT, expected_error)) as f:
                    wanted = [line.strip() for line in f if line.strip()]
                missing = [w for w in wanted if w not in run.stderr]
                if run.returncode != 1:
                    problem = f"exit status {run.returncode}, expected 1"
                elif run.stdout:
                    problem = f"printed {len(run.stdout)} bytes on stdout"
                elif missing:
                    problem = f"stderr lacks {missing}"
                elif "panicked" in run.stderr:
                    problem = "panicked"
            elif run.returncode != 0:
                problem = f"exit status {run.returncode}"
            elif not run.stdout.strip():
                problem = "empty output (Argo CD would prune every object of the app)"
            else:
                try:
                    objects(run.stdout)
                except (yaml.YAMLError, ValueError) as error:
                    problem = f"stdout is not a stream of objects: {error}"
                target = os.path.join(ROOT, expected)
                if problem is None and update:
                    os.makedirs(os.path.dirname(target), exist_ok=True)
                    with open(target, "w") as f:
                        f.write(run.stdout)
                if problem is None:
                    if not os.path.isfile(target):
                        problem = f"{expected} is missing (UPDATE_GOLDEN=1 writes it)"
                    else:
                        with open(target) as f:
                            want = f.read()
                        # environments' expected.yaml are written with a final newline by
                        # scripts/environments.sh; the comparison is of the documents' text.
                        if want.rstrip("\n") != run.stdout.rstrip("\n"):
                            problem = f"output differs from {expected}"
            if problem:
                failed += 1
                print(f"FAIL {path}: {problem}")
                if run.stderr:
                    print("  stderr: " + run.stderr.strip().replace("\n", "\n          "))
            else:
                passed += 1
                print(f"ok   {path}")
    print(f"argocd-plugin: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
