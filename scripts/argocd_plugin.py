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
in a fresh copy of the repository, ROUNDS rounds (default 3) of random changes
seeded by SEED (default 1) and the app's path -- a document or a line appended,
content replaced by invalid YAML, files deleted, new files named as kpt, kustomize
or lummo read them (Kptfile, kustomization.yaml, .krmignore, *.yaml ...) -- to
files and folders the list does not cover, and the plugin's output must stay the
same after each round, while changing one listed file must change it (the check
can fail). Then the plugin runs on what the repo-server sends with
--plugin-use-manifest-generate-paths (cmd-params-patch.yaml must turn it on): a
tarball rooted at the common folder of the app's manifest-generate-paths, the
working directory the app's path below it, once with every file below that root
and once with only the listed paths; the output must be the same. Each
Application of deploy/argocd/application.yaml must carry the
manifest-generate-paths built from --inputs of its path.
"""
import os
import random
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


CHANGES = ("append a document", "append a line", "replace with invalid YAML", "delete")
# Names a new file gets: what kpt, kustomize or lummo could pick up if they read
# a folder the list does not name (a package marker, a kustomization, resources).
NEW_NAMES = ("Kptfile", "kustomization.yaml", "kustomization.yml", "Kustomization",
             "intruder.yaml", "intruder.yml", "intruder.json", ".krmignore", "notes.txt")


def mutate_outside(rng, repo, folders, files):
    """One round: every file --inputs does not cover changed by a random one of
    CHANGES, and a new file of a random name of NEW_NAMES in about half the
    folders it does not cover (any folder may be read by mistake; a random subset
    of files would seldom hit the few that matter). A log of what was done."""
    log = []
    for directory, subdirs, names in os.walk(repo):
        subdirs.sort()
        rel_dir = os.path.relpath(directory, repo)
        rel_dir = "" if rel_dir == "." else rel_dir
        if rel_dir and covered(rel_dir, folders, files):
            subdirs[:] = []  # every file below is listed
            continue
        for name in sorted(names):
            rel = os.path.join(rel_dir, name)
            if covered(rel, folders, files):
                continue
            what = rng.choice(CHANGES)
            target = os.path.join(directory, name)
            if what == "delete":
                os.remove(target)
            elif what == "replace with invalid YAML":
                with open(target, "w") as f:
                    f.write("apiVersion: [unclosed\n\tkind: {\n")
            else:
                with open(target, "a") as f:
                    f.write("\n---\n" + INTRUDER if what == "append a document" else "\nchanged\n")
            log.append(f"{what} {rel}")
        if rng.random() < 0.5:
            rel = os.path.join(rel_dir, rng.choice(NEW_NAMES))
            if not covered(rel, folders, files) and not os.path.exists(os.path.join(repo, rel)):
                with open(os.path.join(repo, rel), "w") as f:
                    f.write("*\n" if rel.endswith(".krmignore") else INTRUDER)
                log.append(f"new {rel}")
    return log


def mutation_check(lummo, command, path, expected_text, seed, rounds):
    """Random changes outside --inputs leave the output; changing a listed file does not.

    Seeded (SEED, ROUNDS): each round changes every file --inputs does not cover
    at random (a document or a line appended, invalid YAML, deleted) and adds new
    files named as kpt, kustomize or lummo would read them in folders it does not
    cover, in one copy of the repository, and runs the plugin again."""
    rng = random.Random(f"{seed}:{path}")
    with tempfile.TemporaryDirectory() as repo:
        repository_copy(repo)
        folders, files = listed_inputs(lummo, repo, path)
        log = []
        for round_ in range(rounds):
            log += mutate_outside(rng, repo, folders, files)
            run = generate(command, repo, path)
            if run.returncode != 0 or run.stdout.rstrip("\n") != expected_text.rstrip("\n"):
                return (f"seed {seed} round {round_}: changing files outside --inputs changed the output "
                        f"({run.stderr.strip()[:300]}); {len(log)} changes, e.g. " + "; ".join(log[:20]))
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


def application_root(path, generate_paths_value):
    """Argo CD's GetApplicationRootPath (reposerver/repository/utils.go): the common
    folder of the annotation's entries, each joined to the app path (or to the
    repository root when absolute); the repository root without entries."""
    paths = []
    for entry in generate_paths_value.split(";"):
        if not entry:
            continue
        paths.append(os.path.normpath(entry.lstrip("/") if entry.startswith("/") else os.path.join(path, entry)))
    if not paths:
        return "", []
    common = paths[0].split("/")
    for other in paths[1:]:
        parts = other.split("/")
        n = 0
        while n < min(len(common), len(parts)) and common[n] == parts[n]:
            n += 1
        common = common[:n]
    root = "/".join(common)
    return ("" if root == "." else root), paths


def narrowed_tarball_check(command, path, annotation, expected_text):
    """The plugin on what the repo-server sends with
    ARGOCD_REPO_SERVER_PLUGIN_USE_MANIFEST_GENERATE_PATHS (cmd-params-patch.yaml):
    the tarball rooted at the annotation's common folder, the working directory the
    app path relative to it (ARGOCD_APP_SOURCE_PATH still repository-relative;
    util/cmp/stream.go). Twice: with every file below that root (Argo CD up to
    v3.1), and with only the annotation's paths (WithIncludePaths, argo-cd#29362)."""
    root, paths = application_root(path, annotation)
    include = [os.path.relpath(p, root or ".") for p in paths]
    problems = []
    for only_listed in (False, True):
        with tempfile.TemporaryDirectory() as tarball:
            sent = repository_copy(tarball, under=root,
                                   keep=(lambda rel: any(i == "." or covered(rel, {i}, set()) for i in include))
                                   if only_listed else None)
            if not sent:
                problems.append(f"the annotation {annotation!r} selects no file")
                continue
            run = generate(command, tarball, path, cwd=os.path.relpath(path, root or "."))
            if run.returncode != 0 or run.stdout.rstrip("\n") != expected_text.rstrip("\n"):
                what = "only the annotation's paths" if only_listed else f"the files below {root or '.'}"
                problems.append(f"with {what} sent ({sent} files), the output differs "
                                f"(exit {run.returncode}: {run.stderr.strip()[:300]})")
    return "; ".join(problems) or None


# The release that added --plugin-use-manifest-generate-paths
# (argoproj/argo-cd#19209, commit b8249567ae; not in any v2.13.x tag).
FIRST_ARGOCD_WITH_GENERATE_PATHS = (2, 14, 0)
GENERATE_PATHS_VARIABLE = "ARGOCD_REPO_SERVER_PLUGIN_USE_MANIFEST_GENERATE_PATHS"
GENERATE_PATHS_KEY = "reposerver.plugin.use.manifest.generate.paths"
# What every install.yaml from v2.14.0 on holds of what deploy/argocd patches
# (manifests/base/repo-server/argocd-repo-server-deployment.yaml): the variable
# declared from argocd-cmd-params-cm, and that ConfigMap, empty.
INSTALL_STAND_IN = f"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: argocd-repo-server
spec:
  template:
    spec:
      containers:
      - name: argocd-repo-server
        image: quay.io/argoproj/argocd:PINNED
        env:
        - name: {GENERATE_PATHS_VARIABLE}
          valueFrom:
            configMapKeyRef:
              name: argocd-cmd-params-cm
              key: {GENERATE_PATHS_KEY}
              optional: true
      volumes:
      - name: var-files
        emptyDir: {{}}
      - name: plugins
        emptyDir: {{}}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: argocd-cmd-params-cm
"""


def repo_server_sends_only_generate_paths():
    """deploy/argocd turns on the repo-server's --plugin-use-manifest-generate-paths
    in a way the pinned Argo CD honours, or what is wrong: the pinned install is at
    least the release that has it, the argocd image copied from is the same
    version, and `kubectl kustomize` of deploy/argocd over a stand-in of that
    install gives the repo-server the variable as "true" with no env entry holding
    both `value` and `valueFrom` (the API server refuses that)."""
    folder = os.path.join(ROOT, "deploy/argocd")
    with open(os.path.join(folder, "kustomization.yaml")) as f:
        kustomization = yaml.safe_load(f)
    installs = [r for r in kustomization["resources"] if r.endswith("/manifests/install.yaml")]
    if len(installs) != 1:
        return f"kustomization.yaml names {len(installs)} Argo CD install.yaml, expected 1"
    pinned = installs[0].split("/argo-cd/")[1].split("/")[0]
    try:
        version = tuple(int(n) for n in pinned.lstrip("v").split("."))
    except ValueError:
        return f"the Argo CD install is pinned to {pinned!r}, not a release vX.Y.Z"
    if version < FIRST_ARGOCD_WITH_GENERATE_PATHS:
        return (f"Argo CD {pinned} has no {GENERATE_PATHS_VARIABLE} (added in v2.14.0, "
                "argo-cd#19209): pin v2.14.0 or later")
    problems = []
    with tempfile.TemporaryDirectory() as build:
        for name in os.listdir(folder):
            if name != "kustomization.yaml":
                shutil.copy2(os.path.join(folder, name), build)
        with open(os.path.join(build, "install.yaml"), "w") as f:
            f.write(INSTALL_STAND_IN.replace("PINNED", pinned))
        kustomization["resources"] = [("install.yaml" if r == installs[0] else r)
                                      for r in kustomization["resources"]]
        with open(os.path.join(build, "kustomization.yaml"), "w") as f:
            yaml.safe_dump(kustomization, f)
        run = subprocess.run(["/usr/bin/kubectl", "kustomize", build], capture_output=True, text=True)
        if run.returncode != 0:
            return f"kubectl kustomize deploy/argocd (over a stand-in install) failed: {run.stderr.strip()}"
    built = {(d["kind"], d["metadata"]["name"]): d for d in yaml.safe_load_all(run.stdout) if d}
    params = (built.get(("ConfigMap", "argocd-cmd-params-cm")) or {}).get("data") or {}
    spec = built[("Deployment", "argocd-repo-server")]["spec"]["template"]["spec"]
    for container in spec.get("initContainers", []) + spec["containers"]:
        image = container.get("image", "")
        if image.startswith("quay.io/argoproj/argocd:") and image.split(":")[1] != pinned:
            problems.append(f"container {container['name']} copies from {image}, not the pinned {pinned}")
        for variable in container.get("env") or []:
            if "value" in variable and "valueFrom" in variable:
                problems.append(f"container {container['name']}: env {variable['name']} has both "
                                "`value` and `valueFrom` (the API server refuses it)")
    if params.get(GENERATE_PATHS_KEY) != "true":
        problems.append(f"argocd-cmd-params-cm's {GENERATE_PATHS_KEY} is {params.get(GENERATE_PATHS_KEY)!r}, "
                        "not \"true\": Argo CD sends the whole repository to the plugin")
    return "; ".join(problems) or None


def repository_copy(dest, under="", keep=None):
    """The files Argo CD's tarball holds: the repository's tracked and new files (those
    below `under`, relative to it, and for which `keep` of that relative path holds).
    Returns how many."""
    files = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, check=True, capture_output=True).stdout.decode().split("\0")
    copied = 0
    for name in filter(None, files):
        source = os.path.join(ROOT, name)
        if not os.path.isfile(source):
            continue  # deleted in the work tree
        if under:
            if not name.startswith(under + "/"):
                continue
            name = name[len(under) + 1:]
        if keep is not None and not keep(name):
            continue
        target = os.path.join(dest, name)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copy2(source, target)
        copied += 1
    return copied


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


def generate(command, repo, path, cwd=None):
    """The generate command in `repo` (the extracted tarball), in `cwd` below it (the
    app path relative to the tarball's root; `path` when the tarball is the repository)."""
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
    return subprocess.run(command, cwd=os.path.join(repo, path if cwd is None else cwd), env=env,
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
    seed = int(os.environ.get("SEED", "1"))
    rounds = int(os.environ.get("ROUNDS", "3"))
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
                    want = f.read()
                problem = mutation_check(lummo, command, path, want, seed, rounds) \
                    or narrowed_tarball_check(command, path, generate_paths(lummo, path), want)
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
    problem = repo_server_sends_only_generate_paths()
    if problem:
        failed += 1
        print(f"FAIL deploy/argocd: {problem}")
    else:
        passed += 1
        print("ok   deploy/argocd: the pinned Argo CD sends the plugin only the manifest-generate-paths")
    print(f"argocd-plugin: {passed} passed, {failed} failed (mutations: SEED={seed} ROUNDS={rounds})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
