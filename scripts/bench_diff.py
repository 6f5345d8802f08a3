#!/usr/bin/env python3
"""`lummo diff` benchmark: a git repository holding the monorepo of bench_monorepo.py
(N copies of Kptfile.examples/tokko-api under one package without pipeline, their
generated/ folders rendered and committed), then one commit per case changing
`minreplica` in 1, 3 and all apps. Each case times `lummo diff HEAD~1 HEAD` (only the
changed packages render, on both sides) against rendering both trees from scratch
(`lummo render --manifests` of each side, the two extracted with `git archive`
beforehand, extraction not counted). Prints a Markdown table; not a test.
BENCH_QUICK=1 uses 5 copies; BENCH_RUNS=N runs each case N times (default 5)."""
import os, shutil, statistics, subprocess, sys, tempfile, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_monorepo import BIN, COPIES, QUICK, make_monorepo  # noqa: E402

RUNS = int(os.environ.get("BENCH_RUNS", 3 if QUICK else 5))


def run(args, cwd=None, ok=(0,)):
    result = subprocess.run(args, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if result.returncode not in ok:
        sys.exit(f"bench: {' '.join(args)} exited {result.returncode}:\n{result.stderr.decode()[-2000:]}")
    return result


def wall(args, cwd=None, ok=(0,)):
    """Median and minimum wall seconds of RUNS runs."""
    walls = []
    for _ in range(RUNS):
        start = time.perf_counter()
        run(args, cwd, ok)
        walls.append(time.perf_counter() - start)
    return statistics.median(walls), min(walls)


def git(repo, *args):
    run(["git", "-c", "user.name=bench", "-c", "user.email=bench@example.com",
         "-c", "commit.gpgsign=false", *args], cwd=repo)


def main():
    lummo = os.path.join(BIN, "lummo")
    work = tempfile.mkdtemp()
    repo = os.path.join(work, "repo")
    make_monorepo(repo, COPIES, "lummo")
    run([lummo, "render", repo])
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "base")
    rows = []
    for changed in sorted({1, 3, COPIES}):
        for i in range(changed):
            path = os.path.join(repo, f"app-{i:03d}", "deployment.yaml")
            text = open(path).read()
            before = text
            text = text.replace("minreplica: 2", "minreplica: 3") if "minreplica: 2" in text \
                else text.replace("minreplica: 3", "minreplica: 2")
            assert text != before, path
            open(path, "w").write(text)
        git(repo, "add", "-A")
        git(repo, "commit", "-qm", f"{changed} apps")
        out = run([lummo, "diff", "HEAD~1", "HEAD"], cwd=repo, ok=(1,))
        summary = out.stderr.decode().strip().splitlines()[-1]
        diff_median, diff_min = wall([lummo, "diff", "HEAD~1", "HEAD"], cwd=repo, ok=(1,))
        trees = []
        for side in ("HEAD~1", "HEAD"):
            tree = os.path.join(work, f"{changed}-{side.replace('~', '-')}")
            os.makedirs(tree)
            archive = subprocess.run(["git", "archive", side], cwd=repo, stdout=subprocess.PIPE, check=True)
            subprocess.run(["tar", "-x", "-C", tree], input=archive.stdout, check=True)
            trees.append(tree)
        os.sync()
        both = []
        for _ in range(RUNS):
            start = time.perf_counter()
            for tree in trees:
                run([lummo, "render", tree, "--manifests"])
            both.append(time.perf_counter() - start)
        rows.append((changed, diff_median, diff_min, statistics.median(both), min(both), summary))
    print(f"\n`lummo diff HEAD~1 HEAD` on a {COPIES}-app monorepo (git, {RUNS} runs, median (min)):\n")
    print("| apps changed | lummo diff | render both trees from scratch | diff ÷ both |")
    print("|---:|---:|---:|---:|")
    for changed, dm, dn, bm, bn, _ in rows:
        print(f"| {changed} | {dm * 1000:.0f} ms ({dn * 1000:.0f}) | {bm * 1000:.0f} ms ({bn * 1000:.0f}) | {dm / bm:.2f} |")
    print()
    for changed, *_, summary in rows:
        print(f"- {changed}: {summary}")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
