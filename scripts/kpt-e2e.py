#!/usr/bin/env python3
"""kpt's own e2e cases (../shared/kpt-e2e/fn-render) run against `lummo render`.

Each case runs the way kpt's e2e runner (kpt v1.0.0-beta.56, pkg/test/runner)
runs it: a case is a folder with `.expected/`; the package is copied to a
temporary folder, `git init`ed and committed; `.expected/exec.sh` (or
`kpt fn render <pkg>`) runs `runCount` times (default 2: the second run must
change nothing), with `kpt` on PATH being a shim that runs `lummo render`; then
the exit code, stdout (where given, contained as kpt's runner checks it), stderr (every line kpt's expected stderr
has, minus kpt's progress lines) and `git diff` against the first commit
(trimmed) are compared with `.expected/`.

A case runs when every step of every Kptfile in it is a function `lummo render`
runs in-process; a case that expects an error also runs when kpt fails before
any step (an invalid Kptfile, say), and counts as "cannot run" when the only
failure is a step we cannot run. Cases that need Docker, wasm or `kpt fn eval`
are listed with the reason. Prints `kpt-e2e: N passed, M failed`.

The root Kptfile's `status:` block (the newest kpt's render status, which
`lummo render` writes) is what the two kpt versions' data disagree on:
- the data of kpt v1.0.0-beta.56 (the default) has none: the block is taken
  out of the rendered Kptfile before the comparison, and nothing else is;
- with `--newest`, the data of kpt v1.0.0-beta.67 (`../shared/kpt-e2e-beta67`)
  expects it: the block must be byte for byte kpt's. As the newest kpt's runner
  does, each of the `runCount` renders starts from a fresh copy. kpt writes it by
  marshalling its whole Kptfile type again (comments dropped, fields in the
  type's order, scalars restyled); lummo leaves the rest of the Kptfile as it
  was (ARCHITECTURE.md, deliberate differences), so the rest of the root
  Kptfile is compared as YAML data, and every other file byte for byte.
The two kpt versions also print a step's output differently, and lummo
prints it as the newest does (`[Results]:` and the function's whole stderr,
unquoted, under the step; ARCHITECTURE.md, deliberate differences): against
beta.56's data, its `Results:` title is read as `[Results]:`, the lines of a
`Stderr:` block are compared unquoted and its "...(N line(s) truncated" line
is left out (`expected_stderr_lines`).
Cases may sit one folder deeper (`save-on-render-failure/<case>`), as kpt's
runner finds them.

Usage: kpt-e2e.py LUMMO_BINARY [CASES_DIR] [--newest] [--open FILE] [CASE...]
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import yaml

from kpt_status import status_block, without_status

PROGRESS = re.compile(r"^\s*(\[RUNNING\]|\[PASS\]|\[FAIL\]|Package \"[^\"]*\":\s*$|Successfully executed|For complete results|Stderr:|Exit code:|\"?$)")
# Cases where lummo render fails as kpt does but words it differently, each with
# the reason; they are listed, and counted neither as passed nor as failed.
KNOWN = {
    "invalid-kptfile": "same exit code and \"can't be read\", but the YAML syntax error is saphyr's "
    "(\"line 4: simple key expect ':'\"), not go-yaml's (\"line 3: could not find expected ':'\")",
}
CANNOT_RUN = (
    "is not a Lummo function", "which lummo render does not support", "shim: unsupported",
    # a container step whose catalog image cannot be pulled here
    "Unable to find image", "No such image", "pull access denied", "needs a container runtime",
    "failed to resolve reference",
    # lummo's sentence for such a step (pipeline::not_in_process)
    "lummo has no in-process version",
    # the newest kpt's breadth-first order (`kpt.dev/bfs-rendering`)
    "which lummo render does not follow yet",
)

SHIM = """#!/bin/sh
# kpt, as far as these cases use it, played by lummo render.
if [ "$1" = fn ] && [ "$2" = render ]; then
  shift 2
  pkg=.
  case "$1" in ""|-*) ;; *) pkg=$1; shift ;; esac
  # Never pull: the tests reach no registry.
  exec "{lummo}" render "$pkg" --image-pull-policy Never "$@"
fi
echo "shim: unsupported: kpt $*" >&2
exit 3
"""


def steps(case_dir):
    """Every step reference (image or exec) of every Kptfile of the case."""
    found = []
    for dirpath, dirnames, filenames in os.walk(case_dir):
        dirnames[:] = [d for d in dirnames if d != ".expected"]
        if "Kptfile" not in filenames:
            continue
        try:
            with open(os.path.join(dirpath, "Kptfile")) as f:
                doc = yaml.safe_load(f) or {}
        except yaml.YAMLError:
            continue
        pipeline = doc.get("pipeline") or {} if isinstance(doc, dict) else {}
        for stage in ("mutators", "validators"):
            for step in pipeline.get(stage) or []:
                if isinstance(step, dict):
                    if step.get("exec"):
                        found.append(("exec", str(step["exec"])))
                    else:
                        found.append(("image", str(step.get("image") or "")))
    return found


def expected_kptfile(case_dir, expected_dir, work):
    """The root Kptfile as kpt's diff.patch leaves it (None: the patch does not
    change it)."""
    patch = os.path.join(expected_dir, "diff.patch")
    if not os.path.exists(patch):
        return None
    with open(patch) as f:
        if "diff --git a/Kptfile b/Kptfile" not in f.read():
            return None
    scratch = tempfile.mkdtemp(dir=work)
    shutil.copy(os.path.join(case_dir, "Kptfile"), os.path.join(scratch, "Kptfile"))
    os.chmod(os.path.join(scratch, "Kptfile"), 0o644)
    subprocess.run(["git", "apply", "--include=Kptfile", os.path.abspath(patch)],
                   cwd=scratch, check=True, capture_output=True)
    with open(os.path.join(scratch, "Kptfile")) as f:
        return f.read()


def compare_root_kptfile(pkg, case_dir, expected_dir, work, newest):
    """Prepares the rendered root Kptfile for the `git diff` comparison (see the
    module doc); returns a failure detail, or None."""
    path = os.path.join(pkg, "Kptfile")
    if not os.path.exists(path):
        return None
    with open(path) as f:
        actual = f.read()
    if not newest:
        with open(path, "w") as f:
            f.write(without_status(actual))
        return None
    expected = expected_kptfile(case_dir, expected_dir, work)
    if expected is None:
        return None
    if without_status(actual) == without_status(expected):
        return None
    try:
        same = yaml.safe_load(without_status(actual)) == yaml.safe_load(without_status(expected))
    except yaml.YAMLError:
        same = False
    if not same:
        return f"root Kptfile (its status aside) differs as data\n--- expected\n{expected}\n--- actual\n{actual}"
    # Same data, kpt's styles: take kpt's text with our status block, which the
    # diff then compares byte for byte.
    a_start, a_end = status_block(actual)
    e_start, e_end = status_block(expected)
    with open(path, "w") as f:
        f.write(expected[:e_start] + actual[a_start:a_end] + expected[e_end:])
    return None


def expected_stderr_lines(text, newest):
    """The lines of kpt's expected stderr a run must show (progress lines
    aside). kpt v1.0.0-beta.56 titled a step's results `Results:` where the
    newest kpt writes `[Results]:`, quoted each line of a function's stderr
    (Go's %q) and cut the block to four lines: its lines are compared with the
    newest kpt's title, unquoted, the truncation note left out."""
    lines, block_indent = [], None
    for line in str(text).splitlines():
        indent = len(line) - len(line.lstrip())
        if block_indent is not None and line.strip() and indent <= block_indent:
            block_indent = None
        if block_indent is not None and not newest:
            stripped = line.strip()
            if re.match(r"^\.\.\.\(\d+ line\(s\) truncated", stripped):
                continue
            if len(stripped) >= 2 and stripped[0] == stripped[-1] == '"':
                try:
                    line = json.loads(stripped)
                except ValueError:
                    pass
        if line.strip() == "Stderr:":
            block_indent = indent
        if line.strip() == "Results:" and not newest:
            line = line.replace("Results:", "[Results]:")
        if line.strip() and not PROGRESS.match(line):
            lines.append(line)
    return lines


def git(cwd, *args):
    return subprocess.run(
        ["git", "-c", "user.name=e2e", "-c", "user.email=e2e@example.com", *args],
        cwd=cwd, check=True, capture_output=True, text=True,
    ).stdout


def run_case(lummo, case_dir, work, newest, name):
    """Returns ("pass"|"fail"|"cannot", detail); `name` is the case's path
    below the cases folder (its folder name is the package's)."""
    expected_dir = os.path.join(case_dir, ".expected")
    config = {}
    if os.path.exists(os.path.join(expected_dir, "config.yaml")):
        with open(os.path.join(expected_dir, "config.yaml")) as f:
            config = yaml.safe_load(f) or {}
    if config.get("skip"):
        return "cannot", "kpt skips it"
    for needs in ("allowWasm", "imagePullPolicy"):
        if config.get(needs):
            return "cannot", f"needs {needs} (container or wasm runtimes)"
    if os.path.exists(os.path.join(expected_dir, "setup.sh")):
        return "cannot", "its setup.sh needs Docker images or wasm"
    exec_sh = os.path.join(expected_dir, "exec.sh")
    if os.path.exists(exec_sh):
        with open(exec_sh) as f:
            script = f.read()
        if "kpt fn eval" in script:
            return "cannot", "its exec.sh pipes into `kpt fn eval` with catalog images"
        if "ln -s" in script:
            return "cannot", "renders through a symlink (kpt's symlink warning)"
    allow_exec = bool(config.get("allowExec"))
    exit_code = int(config.get("exitCode", 0))

    pkg = os.path.join(work, name)
    shutil.copytree(case_dir, pkg, symlinks=True)
    # The data is read-only: the copy is the package to render.
    subprocess.run(["chmod", "-R", "u+w", pkg], check=True)
    git(pkg, "init", "-q")
    git(pkg, "add", "-A")
    git(pkg, "commit", "-q", "-m", "first")
    initial = git(pkg, "rev-parse", "HEAD").strip()
    bindir = os.path.join(work, "bin")
    env = dict(os.environ, PATH=bindir + os.pathsep + os.environ["PATH"])

    for run in range(int(config.get("runCount", 2))):
        if newest and run > 0:
            # The newest kpt's runner renders a fresh copy each time (its render
            # status records one render's results, which a render of rendered
            # output words differently); beta.56's data is rendered twice in a
            # row here, the second render changing nothing.
            git(pkg, "reset", "-q", "--hard", initial)
            git(pkg, "clean", "-q", "-fdx")
        if os.path.exists(exec_sh):
            proc = subprocess.run(["bash", os.path.abspath(exec_sh)], cwd=pkg, env=env, capture_output=True, text=True, timeout=120)
        else:
            args = [lummo, "render", pkg, "--image-pull-policy", "Never"] + (["--allow-exec"] if allow_exec else [])
            proc = subprocess.run(args, cwd=work, env=env, capture_output=True, text=True, timeout=120)
        if proc.returncode != 0 and any(m in proc.stderr for m in CANNOT_RUN):
            return "cannot", "fails on a step lummo render does not run: " + proc.stderr.strip().splitlines()[-1][:160]
        if proc.returncode != exit_code:
            return "fail", f"run {run + 1}: exit code {proc.returncode}, expected {exit_code}\n{proc.stderr[-2000:]}"
        # kpt's runner (pkg/test/runner/runner.go, compareOutput) checks that stdout
        # contains the expected text, which is why out-of-place-unwrap expects no
        # Kptfile: kpt prints it, first. `make kpt-output` compares -o stdout and
        # -o unwrap byte for byte with the real kpt.
        if "stdOut" in config and str(config["stdOut"]) not in proc.stdout:
            return "fail", f"run {run + 1}: stdout differs\n--- expected\n{config['stdOut']}\n--- actual\n{proc.stdout}"
        if "stdErr" in config:
            # kpt's runner takes its temporary folder out of paths first
            # (pkg/test/runner/runner.go, removeTmpDirPrefix).
            stderr = proc.stderr.replace(os.path.realpath(work) + os.sep, "").replace(work + os.sep, "")
            missing = [
                line for line in expected_stderr_lines(config["stdErr"], newest)
                if line.strip() not in stderr
            ]
            if missing:
                return "fail", f"run {run + 1}: stderr lacks kpt's lines {missing!r}\n--- actual\n{proc.stderr}"
        if proc.returncode != 0:
            break

    detail = compare_root_kptfile(pkg, case_dir, expected_dir, work, newest)
    if detail:
        return "fail", detail
    git(pkg, "add", "-A")
    git(pkg, "commit", "-q", "--allow-empty", "-m", "second")
    actual = git(pkg, "diff", initial, "HEAD").strip()
    expected = ""
    if os.path.exists(os.path.join(expected_dir, "diff.patch")):
        with open(os.path.join(expected_dir, "diff.patch")) as f:
            expected = f.read().strip()
    if actual != expected:
        return "fail", f"git diff differs\n--- expected\n{expected}\n--- actual\n{actual}"
    return "pass", ""


def case_names(cases_dir, not_cases, prefix=""):
    """Every case (a folder with `.expected/`), a folder without one searched
    one level deeper, as kpt's runner does; the rest go to `not_cases`."""
    names = []
    for name in sorted(os.listdir(os.path.join(cases_dir, prefix))):
        path = os.path.join(cases_dir, prefix, name)
        if not os.path.isdir(path):
            continue
        if os.path.isdir(os.path.join(path, ".expected")):
            names.append(prefix + name)
        elif not prefix and any(
            os.path.isdir(os.path.join(path, sub, ".expected")) for sub in os.listdir(path)
        ):
            names.extend(case_names(cases_dir, not_cases, name + "/"))
        else:
            not_cases.append(prefix + name)
    return names


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    args = sys.argv[1:]
    newest = "--newest" in args
    args = [a for a in args if a != "--newest"]
    # --open FILE: cases that fail for a reason not fixed yet ("case: reason" a
    # line), a ratchet as tests/render-fuzz/open.txt: listed, not failures; a
    # listed case that passes fails the run until it is taken off the list.
    open_cases = {}
    if "--open" in args:
        at = args.index("--open")
        with open(args[at + 1]) as f:
            for line in f:
                if line.strip() and not line.startswith("#"):
                    case, _, why = line.partition(":")
                    open_cases[case.strip()] = why.strip()
        del args[at:at + 2]
    lummo = os.path.abspath(args[0])
    cases_dir = args[1] if len(args) > 1 else os.path.join(os.path.dirname(__file__), "../../shared/kpt-e2e/fn-render")
    only = set(args[2:])
    if not os.path.isdir(cases_dir):
        sys.exit(f"kpt-e2e: {cases_dir} not found")
    passed, failed, cannot, not_cases, known, opened = [], [], [], [], [], []
    with tempfile.TemporaryDirectory() as work:
        os.makedirs(os.path.join(work, "bin"))
        # Exec paths in the cases are relative to kpt's e2e folder.
        os.makedirs(os.path.join(work, "testdata"))
        os.symlink(os.path.abspath(cases_dir), os.path.join(work, "testdata", "fn-render"))
        shim = os.path.join(work, "bin", "kpt")
        with open(shim, "w") as f:
            f.write(SHIM.replace("{lummo}", lummo))
        os.chmod(shim, 0o755)
        for name in case_names(cases_dir, not_cases):
            case_dir = os.path.join(cases_dir, name)
            if only and name not in only and name.split("/")[0] not in only:
                continue
            outcome, detail = run_case(lummo, case_dir, work, newest, name)
            if outcome == "fail" and name in KNOWN:
                outcome, detail = "known", KNOWN[name]
            if outcome == "fail" and name in open_cases:
                opened.append((name, open_cases[name]))
                print(f"open   {name}: {open_cases[name]}")
                continue
            if outcome == "pass" and name in open_cases:
                print(f"FIXED  {name}: passes; take it off the open list")
                failed.append(name)
                continue
            if outcome == "known":
                known.append((name, detail))
            elif outcome == "pass":
                passed.append(name)
                print(f"ok     {name}")
            elif outcome == "fail":
                failed.append(name)
                print(f"FAIL   {name}: {detail}")
            else:
                cannot.append((name, detail))
    for name, why in known:
        print(f"known difference: {name}: {why}")
    print(f"\n{len(cannot)} cases lummo render cannot run yet:")
    for name, why in cannot:
        print(f"  {name}: {why}")
    print(f"not cases (no .expected, as kpt's runner decides): {', '.join(not_cases)}")
    label = "kpt-e2e-beta67" if newest else "kpt-e2e"
    runnable = len(passed) + len(failed) + len(opened)
    print(f"{label}: {runnable} runnable, {len(passed)} passed, {len(opened)} open (listed, not fixed yet), "
          f"{len(failed)} failed, {len(cannot)} cannot run")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
