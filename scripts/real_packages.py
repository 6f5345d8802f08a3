#!/usr/bin/env python3
"""Real published kpt packages (../shared/real-packages) rendered by `lummo render` and
by the real kpt, byte for byte.

For each package folder (read from there, never copied into the repository) two
temporary copies are made. Copy A is rendered by `lummo render A` (steps as images,
run in process). In copy B every `image: X` step of every Kptfile becomes
`exec: "<kpt-catalog binary> X"` (the rest of the Kptfile byte for byte; the v0.1
releases of set-namespace, set-labels and set-annotations inside
scripts/json-roundtrip-fn.py, the JSON round trip those releases make) and
`kpt fn render B --allow-exec` renders it. Compared: the exit status and the final
trees (every file's bytes, modes, symlinks, folders), B's exec lines mapped back to
their `image:` lines first (the Kptfile as written is part of what is compared).
kpt's side runs our kpt-catalog binary, not the catalog's images (no registry here):
where that binary's own output strays from the real function's, both sides stray
alike and this runner cannot see it.

lummo runs with a `docker` on PATH that always fails, so that a step whose function
does not run in process is refused with lummo's own words instead of being run in a
container.

Each package is one of:
  identical     both render, same exit status, same tree
  differ        both render, the trees differ (a failure)
  lummo fails   kpt renders, lummo fails, and every function runs in process (a failure)
  not runnable  lummo says a step's function does not run in process (which is listed);
                not a failure yet
  kpt fails     the real kpt does not render the package, and lummo fails too and
                leaves the same tree (else `differ`: what kpt refuses, lummo refuses)
Prints a table, the differences (a diff excerpt per file), the totals, the wall time
and `real-packages: N passed, M failed` (passed = identical; failed = differ or lummo
fails). Runs on 2 worker processes (REAL_PACKAGES_JOBS=N changes that).

Usage: real_packages.py [--keep DIR] [--full] [--drop-unsupported] [BIN_DIR [PACKAGES_DIR [ID...]]]
  --keep DIR          keep each package's two rendered trees in DIR/<id>/{lummo,kpt}
  --full              print every diff whole (default: an excerpt per file)
  --drop-unsupported  a preview, not the check: remove the steps whose function does
                      not run in process from both copies, so that what the other
                      steps do is compared in those packages too
"""
import difflib
import multiprocessing
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import time

from kpt_status import strip_root_status

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The catalog's releases that round-trip every object through JSON
# (go-yaml's default styles); our kpt-catalog binary keeps the text, so under kpt it
# runs inside scripts/json-roundtrip-fn.py, as kpt-output-parity.py runs it
# (kpt_catalog::restyles).
from catalog_restyles import RESTYLING  # noqa: E402  (kpt_catalog::restyles)
ROUNDTRIP = os.path.join(ROOT, "scripts", "json-roundtrip-fn.py")
# set-project-id reads the pipeline (the step whose image contains `apply-setters`),
# generate-folders prints the Kptfile afresh (js-yaml quotes an image with a `:`):
# under kpt they run inside scripts/image-steps-fn.py, which shows them the Kptfile's
# steps as the image steps they were before this runner made them exec steps.
READS_PIPELINE = re.compile(r"^(?:gcr\.io/kpt-fn/|ghcr\.io/kptdev/krm-functions-catalog/)?(?:set-project-id|generate-folders)(?::\S*)?$")
IMAGE_STEPS = os.path.join(ROOT, "scripts", "image-steps-fn.py")
IMAGE = re.compile(r"^(\s*-?\s*)image: (\S+)(\s*)$")
# lummo's words when a step's function does not run in process (kpt_catalog::unsupported,
# pipeline::not_in_process, runtime::docker_command).
NOT_IN_PROCESS = re.compile(
    r"catalog function `([^`]+)` is not built in"
    r"|step `([^`]+)` needs a container runtime"
    r"|image `([^`]+)` cannot run: lummo has no in-process version"
)
TIMEOUT = 600
EXCERPT_LINES = 24

DOCKER_SHIM = "#!/bin/sh\n# No container runtime for lummo here: out-of-process steps are reported.\nexit 1\n"


def kptfiles(tree):
    for folder, dirs, names in os.walk(tree):
        dirs.sort()
        if "Kptfile" in names:
            yield os.path.join(folder, "Kptfile")


def images(tree):
    """Every `image:` step of every Kptfile under tree."""
    found = []
    for path in kptfiles(tree):
        with open(path, encoding="utf-8", errors="surrogateescape") as f:
            for line in f.read().split("\n"):
                m = IMAGE.match(line)
                if m:
                    found.append(m.group(2))
    return found


def to_exec(tree, catalog):
    """Every `image: X` step under tree made `exec: "<catalog> X"`; {command: image}."""
    mapping = {}
    for path in kptfiles(tree):
        with open(path, "rb") as f:
            text = f.read().decode("utf-8", "surrogateescape")
        lines = []
        for line in text.split("\n"):
            m = IMAGE.match(line)
            if m:
                command = f"{catalog} {m.group(2)}"
                if RESTYLING.match(m.group(2)):
                    command = f"{ROUNDTRIP} {command}"
                elif READS_PIPELINE.match(m.group(2)):
                    command = f"{IMAGE_STEPS} {command}"
                mapping[command] = m.group(2)
                line = f'{m.group(1)}exec: "{command}"{m.group(3)}'
            lines.append(line)
        with open(path, "wb") as f:
            f.write("\n".join(lines).encode("utf-8", "surrogateescape"))
    return mapping


def drop_steps(tree, unsupported):
    """Removes from every Kptfile under tree each pipeline step whose image is in
    `unsupported` (the whole list entry); the images dropped."""
    dropped = []
    for path in kptfiles(tree):
        with open(path, "rb") as f:
            lines = f.read().decode("utf-8", "surrogateescape").split("\n")
        i = 0
        while i < len(lines):
            m = IMAGE.match(lines[i])
            if not m or m.group(2) not in unsupported:
                i += 1
                continue
            start = i
            while start >= 0 and not lines[start].lstrip().startswith("- "):
                start -= 1
            if start < 0:
                i += 1
                continue
            dash = len(lines[start]) - len(lines[start].lstrip())
            end = start + 1
            while end < len(lines) and (
                not lines[end].strip() or len(lines[end]) - len(lines[end].lstrip()) > dash
            ):
                end += 1
            dropped.append(m.group(2))
            del lines[start:end]
            i = start
        with open(path, "wb") as f:
            f.write("\n".join(lines).encode("utf-8", "surrogateescape"))
    return dropped


def unmapped(text, mapping):
    """A Kptfile kpt wrote with each exec step written back as its image step (kpt
    keeps the double quotes; a step that restyles the Kptfile leaves it plain; one
    that prints it with js-yaml single-quotes what has a `:`, the image as well)."""
    for command, image in mapping.items():
        for form, written in ((f'"{command}"', image), (command, image), (f"'{command}'", f"'{image}'")):
            text = re.sub(r"exec: " + re.escape(form) + r"(?=[ \t]*(?:\n|$))", lambda _: f"image: {written}", text)
    return text


def snapshot(tree, mapping=None):
    """{relative path: (kind, mode, bytes or link target)} of everything under tree."""
    out = {}
    for folder, dirs, names in os.walk(tree):
        for name in dirs + names:
            path = os.path.join(folder, name)
            rel = os.path.relpath(path, tree)
            st = os.lstat(path)
            mode = stat.S_IMODE(st.st_mode)
            if stat.S_ISLNK(st.st_mode):
                out[rel] = ("symlink", None, os.readlink(path).encode())
            elif stat.S_ISDIR(st.st_mode):
                out[rel] = ("dir", mode, b"")
            else:
                with open(path, "rb") as f:
                    data = f.read()
                if mapping and name == "Kptfile":
                    text = data.decode("utf-8", "surrogateescape")
                    text = unmapped(text, mapping)
                    data = text.encode("utf-8", "surrogateescape")
                out[rel] = ("file", mode, data)
    return out


def tree_diff(kpt, lummo, full):
    """The differences of two snapshots: [(path, text)], kpt's side first."""
    diffs = []
    for rel in sorted(set(kpt) | set(lummo)):
        k, l = kpt.get(rel), lummo.get(rel)
        if k == l:
            continue
        if k is None:
            diffs.append((rel, f"only lummo writes it ({l[0]})"))
            continue
        if l is None:
            diffs.append((rel, f"only kpt writes it ({k[0]})"))
            continue
        notes = []
        if k[0] != l[0]:
            diffs.append((rel, f"kpt: {k[0]}, lummo: {l[0]}"))
            continue
        if k[1] != l[1]:
            notes.append(f"mode kpt {oct(k[1])}, lummo {oct(l[1])}")
        if k[2] != l[2]:
            a = k[2].decode("utf-8", "replace").splitlines(True)
            b = l[2].decode("utf-8", "replace").splitlines(True)
            lines = list(difflib.unified_diff(a, b, f"kpt/{rel}", f"lummo/{rel}", n=1))
            if not lines:  # only the final newline differs in a way splitlines hides
                lines = [f"final bytes: kpt {k[2][-20:]!r}, lummo {l[2][-20:]!r}\n"]
            lines = [x if x.endswith("\n") else x + "\n\\ No newline at end of file\n" for x in lines]
            if not full and len(lines) > EXCERPT_LINES:
                lines = lines[:EXCERPT_LINES] + [f"... ({len(lines) - EXCERPT_LINES} more diff lines)\n"]
            notes.append("".join(lines).rstrip("\n"))
        diffs.append((rel, "\n".join(notes)))
    return diffs


def failure_line(stderr):
    """The line of a failed render's stderr that says why."""
    lines = [x.strip() for x in (stderr or "").splitlines() if x.strip()]
    for line in lines:
        if line.startswith(("[error]", "error", "Error:")):
            return line[:200]
    lines = [x for x in lines if not re.match(r'^(Exit code:|Stderr:|Results:|"")', x)]
    return (lines[-1] if lines else "(no stderr)")[:200]


_in_process = {}


def runs_in_process(image, catalog):
    """Whether our kpt-catalog (what lummo runs in process) knows the function."""
    if image not in _in_process:
        if re.match(r"^ghcr\.io/lummo/krm-functions/lummo-[a-z]+:", image):
            _in_process[image] = True
        else:
            r = subprocess.run([catalog, image], input="", capture_output=True, text=True)
            _in_process[image] = "unknown function" not in r.stderr
    return _in_process[image]


def render(job):
    """One package, rendered both ways: (id, category, detail, diffs, seconds)."""
    pid, src, bin_dir, keep, full, drop = job
    lummo = os.path.join(bin_dir, "lummo")
    catalog = os.path.join(bin_dir, "kpt-catalog")
    start = time.monotonic()
    work = tempfile.mkdtemp(prefix=f"real-{pid}-")
    try:
        shim = os.path.join(work, "no-docker")
        os.makedirs(shim)
        with open(os.path.join(shim, "docker"), "w") as f:
            f.write(DOCKER_SHIM)
        os.chmod(os.path.join(shim, "docker"), 0o755)
        a = os.path.join(work, "lummo", pid)
        b = os.path.join(work, "kpt", pid)
        shutil.copytree(src, a, symlinks=True)
        outside = sorted({i for i in images(src) if not runs_in_process(i, catalog)})
        if drop and outside:
            drop_steps(a, set(outside))
            outside = []
        shutil.copytree(a, b, symlinks=True)
        mapping = to_exec(b, catalog)
        env = dict(os.environ, PATH=shim + os.pathsep + os.environ.get("PATH", ""))
        try:
            ours = subprocess.run([lummo, "render", a], capture_output=True, text=True, env=env, timeout=TIMEOUT)
            l_rc, l_err = ours.returncode, ours.stderr
        except subprocess.TimeoutExpired:
            l_rc, l_err = "timeout", ""
        try:
            theirs = subprocess.run(["kpt", "fn", "render", b, "--allow-exec"], capture_output=True, text=True, timeout=TIMEOUT)
            k_rc, k_err = theirs.returncode, theirs.stderr
        except subprocess.TimeoutExpired:
            k_rc, k_err = "timeout", ""
        # The newest kpt's render status (lummo writes it, kpt v1.0.0-beta.56
        # does not) is the one thing not compared: scripts/kpt_status.py.
        strip_root_status(a)
        strip_root_status(b)
        theirs_tree, ours_tree = snapshot(b, mapping), snapshot(a)
        diffs = tree_diff(theirs_tree, ours_tree, full)
        if keep:
            dest = os.path.join(keep, pid)
            shutil.rmtree(dest, ignore_errors=True)
            os.makedirs(dest)
            shutil.move(a, os.path.join(dest, "lummo"))
            shutil.move(b, os.path.join(dest, "kpt"))
            for name, text in (("lummo.stderr", l_err), ("kpt.stderr", k_err)):
                with open(os.path.join(dest, name), "w") as f:
                    f.write(text)
        said = NOT_IN_PROCESS.search(l_err or "")
        if l_rc != 0 and said:
            named = next(g for g in said.groups() if g)
            detail = "not in process: " + ", ".join(outside or [named]) + f" (lummo: `{named}`)"
            return pid, "not runnable", detail, [], time.monotonic() - start
        if k_rc != 0:
            why = f"kpt exit {k_rc}: {failure_line(k_err)}"
            if l_rc != 0 and not diffs:
                return pid, "kpt fails", f"{why}; lummo fails too (exit {l_rc}), trees equal", [], time.monotonic() - start
            # What kpt refuses, lummo must refuse, writing nothing.
            return pid, "differ", f"{why}; but lummo exit {l_rc}, {len(diffs)} path(s) differ", diffs, time.monotonic() - start
        if l_rc != 0:
            return pid, "lummo fails", f"lummo exit {l_rc}: {failure_line(l_err)}", diffs, time.monotonic() - start
        if diffs:
            return pid, "differ", f"{len(diffs)} path(s) differ", diffs, time.monotonic() - start
        return pid, "identical", f"{len(ours_tree)} paths", [], time.monotonic() - start
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main():
    args = sys.argv[1:]
    keep = None
    full = False
    drop = False
    while args and args[0].startswith("--"):
        flag = args.pop(0)
        if flag == "--keep":
            keep = os.path.abspath(args.pop(0))
            os.makedirs(keep, exist_ok=True)
        elif flag == "--full":
            full = True
        elif flag == "--drop-unsupported":
            drop = True
        else:
            sys.exit(f"real-packages: unknown option {flag}\n{__doc__}")
    bin_dir = os.path.abspath(args[0] if args else os.path.join(ROOT, "target/x86_64-unknown-linux-gnu/release"))
    packages = os.path.abspath(args[1] if len(args) > 1 else os.path.join(ROOT, "..", "shared", "real-packages"))
    only = set(args[2:])
    if shutil.which("kpt") is None:
        sys.exit("real-packages: kpt is not installed (needed, not optional)")
    for name in ("lummo", "kpt-catalog"):
        if not os.access(os.path.join(bin_dir, name), os.X_OK):
            sys.exit(f"real-packages: {bin_dir}/{name} missing (make build)")
    if not os.path.isdir(packages):
        print(f"real-packages: {packages} absent, nothing to run")
        return
    index = {}
    tsv = os.path.join(packages, "INDEX.tsv")
    if os.path.exists(tsv):
        for line in open(tsv).read().splitlines()[1:]:
            cols = line.split("\t")
            if len(cols) >= 3:
                index[cols[0]] = f"{cols[1].split('+')[-1]}:{cols[2]}"
    ids = sorted(
        d for d in os.listdir(packages)
        if os.path.isfile(os.path.join(packages, d, "Kptfile")) and (not only or d in only)
    )
    jobs = [(d, os.path.join(packages, d), bin_dir, keep, full, drop) for d in ids]
    workers = int(os.environ.get("REAL_PACKAGES_JOBS", "2"))
    start = time.monotonic()
    with multiprocessing.Pool(workers) as pool:
        results = pool.map(render, jobs, chunksize=1)
    wall = time.monotonic() - start

    idw = max([len(r[0]) for r in results] + [2])
    width = max([len(index.get(r[0], "")) for r in results] + [7])
    print(f"{'id':<{idw}} {'package':<{width}} {'result':<12} {'secs':>5}  detail")
    for pid, category, detail, _, secs in results:
        print(f"{pid:<{idw}} {index.get(pid, ''):<{width}} {category:<12} {secs:5.1f}  {detail}")
    for pid, category, detail, diffs, _ in results:
        if category not in ("differ", "lummo fails"):
            continue
        print(f"\n=== {pid} {index.get(pid, '')}: {category}: {detail}")
        for rel, text in diffs:
            print(f"--- {rel}: {text}" if "\n" not in text else f"--- {rel}\n{text}")
    counts = {}
    for _, category, *_ in results:
        counts[category] = counts.get(category, 0) + 1
    order = ("identical", "differ", "lummo fails", "not runnable", "kpt fails")
    print("\n" + ", ".join(f"{counts.get(c, 0)} {c}" for c in order) + f" ({len(results)} packages)")
    print(f"wall time: {wall:.1f} s on {workers} workers")
    passed = counts.get("identical", 0)
    failed = counts.get("differ", 0) + counts.get("lummo fails", 0)
    print(f"not runnable in process yet (not failures): {counts.get('not runnable', 0)}; kpt fails: {counts.get('kpt fails', 0)}")
    if drop:
        print("(--drop-unsupported: a preview with the steps not run in process removed, not the check)")
    print(f"real-packages: {passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
