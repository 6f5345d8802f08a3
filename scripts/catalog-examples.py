#!/usr/bin/env python3
"""Runs the kpt function catalog's own examples (../shared/catalog-examples) with
our kpt-catalog binary through the real kpt, and compares `git diff` with each
example's `.expected/diff.patch`, as the catalog's e2e runner does.

An example runs as its `.expected/config.yaml` says (kpt's e2e format:
`testType: eval` with `image` and `args`, else `kpt fn render`), or by its
`.expected/exec.sh`; catalog images become `exec:` steps of our binary
(`kpt-catalog <image>`), so kpt runs them with `--allow-exec`.

With LUMMO=<lummo binary> in the environment, every `kpt fn render` (the
example's own, or one its exec.sh runs) is `lummo render` with the catalog
functions in process instead, on the example as published (no step rewritten);
`kpt fn eval` stays kpt's. The expected diff is the same.

Usage: scripts/catalog-examples.py [BIN] [EXAMPLES_DIR] [NAME_FILTER]
Prints `catalog: N passed, M failed` (`catalog in lummo render: ...` with LUMMO);
exits 1 on any failure.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

from kpt_status import strip_root_status

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "target/debug/kpt-catalog"))
EXAMPLES = sys.argv[2] if len(sys.argv) > 2 else os.path.join(ROOT, "../shared/catalog-examples")
FILTER = sys.argv[3] if len(sys.argv) > 3 else ""
KPT = shutil.which("kpt")
LUMMO = os.path.abspath(os.environ["LUMMO"]) if os.environ.get("LUMMO") else None
GIT_ENV = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@t", GIT_COMMITTER_NAME="t",
               GIT_COMMITTER_EMAIL="t@t", GIT_CONFIG_NOSYSTEM="1", HOME=tempfile.gettempdir())

if not KPT:
    sys.exit("catalog: kpt is required (see .ci/run)")
if not os.access(BIN, os.X_OK):
    sys.exit(f"catalog: {BIN} is not built (cargo build -p kpt-catalog)")


def built_in(image):
    """Whether our binary knows the image (it answers --help for any known name)."""
    out = subprocess.run([BIN, image], input="apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\n",
                         capture_output=True, text=True)
    return "unknown function" not in out.stderr


def read_config(path):
    """The few keys of .expected/config.yaml the examples use (flat YAML)."""
    config, section = {"args": {}}, None
    if not os.path.exists(path):
        return None
    for line in open(path):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if line.startswith("  ") and section:
            key, _, value = line.strip().partition(":")
            config[section][key.strip()] = value.strip().strip('"')
            continue
        key, _, value = line.partition(":")
        value = value.strip()
        if value:
            config[key.strip()] = value.strip('"')
            section = None
        else:
            section = key.strip()
            config.setdefault(section, {})
    return config


def rewrite_kptfile(path):
    """`image: <catalog image>` → `exec: "<bin> <image>"`; the images found."""
    if not os.path.exists(path):
        return []
    text = open(path).read()
    images = re.findall(r"^([ \t]*-?[ \t]*)image:[ \t]*(\S+)[ \t]*$", text, re.M)
    for _, image in images:
        if not built_in(image):
            raise NotBuiltIn(image)
    text = re.sub(r"^([ \t]*-?[ \t]*)image:[ \t]*(\S+)[ \t]*$", lambda m: f'{m.group(1)}exec: "{BIN} {m.group(2)}"', text, flags=re.M)
    open(path, "w").write(text)
    return [i for _, i in images]


def kptfiles(pkg):
    for folder, _, files in os.walk(pkg):
        if "Kptfile" in files and ".git" not in folder:
            yield os.path.join(folder, "Kptfile")


def restore_kptfile(path):
    """Undoes rewrite_kptfile, so `git diff` shows only what the functions did."""
    text = open(path).read()
    # kpt may write the Kptfile back (a function changed it) without the quotes.
    text = re.sub(r'exec: "?' + re.escape(BIN) + r' ([^"\s]+)"?', r"image: \1", text)
    open(path, "w").write(text)


class NotBuiltIn(Exception):
    pass


KPT_WRAPPER = """#!{python}
import os, sys
args = sys.argv[1:]
if args[:2] == ["fn", "render"] and "{lummo}":
    os.execv("{lummo}", ["{lummo}", "render"] + args[2:])
if args[:2] == ["fn", "render"]:
    args.append("--allow-exec")
if args[:2] == ["fn", "eval"]:
    out, i = [], 0
    while i < len(args):
        a = args[i]
        if a == "--" or a.startswith("-- "):
            out += args[i:]
            break
        if a == "--image":
            out += ["--exec", "{bin} " + args[i + 1]]; i += 2; continue
        if a.startswith("--image="):
            out += ["--exec", "{bin} " + a.split("=", 1)[1]]; i += 1; continue
        if a == "--image-pull-policy":
            i += 2; continue
        out.append(a); i += 1
    args = out
os.execv("{kpt}", ["{kpt}"] + args)
"""


def git(pkg, *args):
    return subprocess.run(["git", *args], cwd=pkg, env=GIT_ENV, capture_output=True, text=True, check=True).stdout


def run_example(src):
    tmp = tempfile.mkdtemp(prefix="catalog-")
    try:
        pkg = os.path.join(tmp, os.path.basename(src))
        shutil.copytree(src, pkg, symlinks=True)
        expected_dir = os.path.join(pkg, ".expected")
        config = read_config(os.path.join(expected_dir, "config.yaml"))
        exec_sh = os.path.join(expected_dir, "exec.sh")
        eval_mode = config is not None and config.get("testType") == "eval"
        git(pkg, "init", "-q")
        git(pkg, "add", "-A")
        git(pkg, "commit", "-qm", "example")
        if not eval_mode and not LUMMO:
            for kptfile in kptfiles(pkg):
                rewrite_kptfile(kptfile)
        if os.path.exists(exec_sh):
            cmd = ["bash", exec_sh]
            # exec.sh calls kpt: `fn render` needs --allow-exec for our steps, and
            # `fn eval --image <catalog image>` becomes `--exec "<bin> <image>"`.
            wrapper = os.path.join(tmp, "bin")
            os.makedirs(wrapper)
            with open(os.path.join(wrapper, "kpt"), "w") as f:
                f.write(KPT_WRAPPER.format(python=sys.executable, kpt=KPT, bin=BIN, lummo=LUMMO or ""))
            os.chmod(os.path.join(wrapper, "kpt"), 0o755)
            env = dict(os.environ, PATH=wrapper + os.pathsep + os.environ["PATH"])
        elif eval_mode:
            image = config["image"]
            if not built_in(image):
                raise NotBuiltIn(image)
            args = [f"{k}={v}" for k, v in config.get("args", {}).items()]
            cmd = [KPT, "fn", "eval", ".", "--exec", f"{BIN} {image}"]
            if config.get("fnConfig"):
                # Relative to .expected/, as kpt's e2e runner reads it.
                cmd += ["--fn-config", os.path.normpath(os.path.join(expected_dir, config["fnConfig"]))]
            cmd += ["--", *args] if args else []
            env = os.environ
        elif LUMMO:
            cmd = [LUMMO, "render", "."]
            env = os.environ
        else:
            cmd = [KPT, "fn", "render", ".", "--allow-exec"]
            env = os.environ
        out = subprocess.run(cmd, cwd=pkg, env=env, capture_output=True, text=True, timeout=60)
        want_exit = int((config or {}).get("exitCode", 0))
        if out.returncode != want_exit:
            return f"exit code {out.returncode}, expected {want_exit}:\n{out.stderr[-2000:]}"
        for kptfile in kptfiles(pkg):
            restore_kptfile(kptfile)
        # The examples' expected diffs predate the newest kpt's render status,
        # which lummo writes: the one thing not compared (scripts/kpt_status.py).
        strip_root_status(pkg)
        git(pkg, "add", "-A")
        actual = git(pkg, "diff", "--cached")
        expected_path = os.path.join(src, ".expected", "diff.patch")
        expected = open(expected_path).read() if os.path.exists(expected_path) else ""
        if actual.strip() != expected.strip():
            diff = subprocess.run(["diff", "-u", expected_path if os.path.exists(expected_path) else "/dev/null", "-"],
                                  input=actual, capture_output=True, text=True).stdout
            return "git diff differs from .expected/diff.patch:\n" + diff[:4000]
        return None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    passed, failed, skipped = [], [], []
    for name in sorted(os.listdir(EXAMPLES)):
        src = os.path.join(EXAMPLES, name)
        if not os.path.isdir(src) or FILTER not in name:
            continue
        try:
            problem = run_example(src)
        except NotBuiltIn as e:
            problem = f"catalog function {e} is not built in"
        except subprocess.TimeoutExpired:
            problem = "timed out after 60 s"
        if problem:
            failed.append((name, problem))
        else:
            passed.append(name)
    for name, reason in skipped:
        print(f"skip {name}: {reason}")
    for name in passed:
        print(f"ok   {name}")
    for name, problem in failed:
        print(f"FAIL {name}: {problem}")
    label = "catalog in lummo render" if LUMMO else "catalog"
    print(f"{label}: {len(passed)} passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
