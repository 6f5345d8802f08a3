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

Also, per app: the plugin's `discover.find.command` claims it (exit 0, output)
or, for bad input, does not; and the exact inputs (`lummo render --inputs`):
in a fresh copy of the repository, every file the list does not cover is changed
(a document appended, a line for other files) and a new `intruder.yaml` put in
every folder it does not cover, and the plugin's output must stay the same, while
changing one listed file must change it (the check can fail). Each Application of
deploy/argocd/application.yaml must carry the manifest-generate-paths built from
--inputs of its path.
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


def plugin_command(lummo, which):
    """`generate` or the discover `find` command of plugin.yaml, with the image's binary."""
    with open(os.path.join(ROOT, "deploy/argocd/plugin.yaml")) as f:
        plugin = yaml.safe_load(f)
    spec = plugin["spec"]["generate"] if which == "generate" else plugin["spec"]["discover"]["find"]
    command = list(spec["command"]) + list(spec.get("args") or [])
    if command[0] != IMAGE_BINARY:
        sys.exit(f"argocd-plugin: plugin.yaml's {which} command starts with {command[0]}, not {IMAGE_BINARY}")
    return [lummo] + command[1:]


INTRUDER = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: intruder\ndata:\n  changed: \"yes\"\n"


def covered(relpath, folders, files):
    return relpath in files or any(relpath == f or relpath.startswith(f + "/") for f in folders)


def listed_inputs(lummo, repo, path):
    """--inputs of the app, as repository-relative folders and files."""
    out = subprocess.run([lummo, "render", ".", "--inputs"], cwd=os.path.join(repo, path),
                         capture_output=True, text=True, check=True).stdout.splitlines()
    folders, files = set(), set()
    for line in out:
        target = os.path.normpath(os.path.join(path, line))
        (folders if line.endswith("/") else files).add(target)
    return folders, files


def generate_paths(lummo, path):
    """manifest-generate-paths built from --inputs: folders, then files no folder covers."""
    out = subprocess.run([lummo, "render", ".", "--inputs"], cwd=os.path.join(ROOT, path),
                         capture_output=True, text=True, check=True).stdout.splitlines()
    folders = [line.rstrip("/") or "." for line in out if line.endswith("/")]
    folders = sorted((os.path.normpath(f) for f in folders), key=lambda f: (f != ".", f))
    files = [line for line in out if not line.endswith("/")
             and not any(os.path.normpath(line).startswith(f + "/") or f == "." for f in folders)]
    return ";".join(folders + files)


def mutation_check(lummo, command, path, expected_text):
    """Changing everything --inputs does not cover leaves the output; changing a listed file does not."""
    with tempfile.TemporaryDirectory() as repo:
        repository_copy(repo)
        folders, files = listed_inputs(lummo, repo, path)
        changed = 0
        for directory, subdirs, names in os.walk(repo):
            rel_dir = os.path.relpath(directory, repo)
            rel_dir = "" if rel_dir == "." else rel_dir
            for name in names:
                rel = os.path.join(rel_dir, name)
                if covered(rel, folders, files):
                    continue
                with open(os.path.join(directory, name), "a") as f:
                    f.write("\n---\n" + INTRUDER if name.endswith((".yaml", ".yml")) else "\nchanged\n")
                changed += 1
            if not covered(os.path.join(rel_dir, "intruder.yaml"), folders, files):
                with open(os.path.join(directory, "intruder.yaml"), "w") as f:
                    f.write(INTRUDER)
        run = generate(command, repo, path)
        if run.returncode != 0 or run.stdout.rstrip("\n") != expected_text.rstrip("\n"):
            return f"changing {changed} files outside --inputs changed the output ({run.stderr.strip()[:300]})"
        # The check can fail: a listed resource file with one more object changes it.
        for rel in sorted(files):
            if not rel.endswith((".yaml", ".yml")) or os.path.basename(rel).startswith("kustomization"):
                continue
            with open(os.path.join(repo, rel), "a") as f:
                f.write("\n---\n" + INTRUDER)
            run = generate(command, repo, path)
            if run.returncode != 0 or run.stdout.rstrip("\n") != expected_text.rstrip("\n"):
                return None
        return "no listed file changes the output: the mutation check proves nothing"


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
    command = plugin_command(lummo, "generate")
    discover = plugin_command(lummo, "discover")
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
            found = subprocess.run(discover, cwd=os.path.join(repo, path), capture_output=True, text=True)
            claimed = found.returncode == 0 and found.stdout.strip() != ""
            # Only a folder with neither a Kptfile nor a kustomization.yaml is not the plugin's.
            want_claimed = not path.startswith("tests/argocd-plugin/no-package/")
            if problem is None and claimed != want_claimed:
                problem = f"discover {'claims' if claimed else 'does not claim'} it"
            if problem is None and expected:
                with open(os.path.join(ROOT, expected)) as f:
                    problem = mutation_check(lummo, command, path, f.read())
            if problem:
                failed += 1
                print(f"FAIL {path}: {problem}")
                if run.stderr:
                    print("  stderr: " + run.stderr.strip().replace("\n", "\n          "))
            else:
                passed += 1
                print(f"ok   {path}")
    with open(os.path.join(ROOT, "deploy/argocd/application.yaml")) as f:
        for app in yaml.safe_load_all(f):
            path = app["spec"]["source"]["path"]
            have = (app["metadata"].get("annotations") or {}).get("argocd.argoproj.io/manifest-generate-paths")
            want = generate_paths(lummo, path)
            if have == want:
                passed += 1
                print(f"ok   application {app['metadata']['name']}: manifest-generate-paths {want}")
            else:
                failed += 1
                print(f"FAIL application {app['metadata']['name']}: manifest-generate-paths is {have!r}, --inputs gives {want!r}")
    print(f"argocd-plugin: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
