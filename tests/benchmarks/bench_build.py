"""Benchmark: ``lamctl build`` against ``zip -r -X`` on a real dependency tree (run on demand).

    python tests/benchmarks/bench_build.py [--tree DIR] [--runs 3]

Installs pandas and requests with pip into a folder (once; reused when it is
there: about 160 MB and 5,000+ files), then, in one run, times:

* ``zip -r -X`` of the whole folder (the peer), and of the same file set lamctl
  archives (``__pycache__``/``*.pyc`` left out, as lamctl's default excludes do),
  which is the fair size comparison;
* a cold ``lamctl build`` (whole process: a fresh cache and build dir) of a
  function whose CodeUri is that folder;
* a second ``lamctl build`` with nothing changed;
* a third after every file was touched (new mtimes, same bytes: compared with the zip, not re-zipped).

It prints the medians, peak memory (max RSS of each process) and zip sizes, and
the ratios against the goals: cold >= 5x faster than ``zip -r``, zip <= 15 %
larger than zip's, unchanged rebuild >= 15x faster, memory bounded.
This needs the network for the first pip install only; it is not a test.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time


CPU: dict[str, list[float]] = {}


def run(cmd: list[str], cwd: str | None = None, env: dict | None = None, label: str = "") -> tuple[float, int]:
    """Wall time (s) and peak RSS (KB) of one process; its CPU time (user + sys) goes to CPU[label]."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    err = proc.stderr.read().decode(errors="replace")
    proc.stderr.close()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{err}")
    CPU.setdefault(label, []).append(usage.ru_utime + usage.ru_stime)
    return elapsed, usage.ru_maxrss


def tree_stats(folder: str) -> tuple[int, int]:
    n = size = 0
    for root, _dirs, files in os.walk(folder):
        for f in files:
            n += 1
            size += os.lstat(os.path.join(root, f)).st_size
    return n, size


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tree", default=os.path.join(tempfile.gettempdir(), "lamctl-bench-tree"))
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    if shutil.which("zip") is None:
        raise SystemExit("needs Info-ZIP zip on PATH")
    tree = os.path.abspath(args.tree)
    if not os.path.isdir(tree) or not os.listdir(tree):
        print(f"installing pandas and requests into {tree} ...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check",
                        "--target", tree, "pandas", "requests"], check=True)
    files, size = tree_stats(tree)
    print(f"tree: {tree}: {files:,} files, {size / 1e6:.1f} MB")

    work = tempfile.mkdtemp(prefix="lamctl-bench-")
    lamctl = [sys.executable, "-m", "lamctl.cli"]
    project = os.path.join(work, "project")
    os.makedirs(project)
    with open(os.path.join(project, "template.yaml"), "w") as fh:
        fh.write("Transform: AWS::Serverless-2016-10-31\nResources:\n  Big:\n"
                 "    Type: AWS::Serverless::Function\n    Properties:\n"
                 f"      CodeUri: {tree}\n      Runtime: python3.12\n      Handler: app.handler\n")
    env = dict(os.environ)
    env["CI"] = "1"
    zip_all, zip_same, cold, warm, touched = [], [], [], [], []
    zip_all_size = zip_same_size = ours_size = 0
    mem_zip = mem_cold = mem_warm = 0
    try:
        for i in range(args.runs):
            out = os.path.join(work, f"all-{i}.zip")
            t, m = run(["zip", "-q", "-r", "-X", out, "."], cwd=tree, label="zip")
            zip_all.append(t)
            mem_zip = max(mem_zip, m)
            zip_all_size = os.path.getsize(out)
            os.unlink(out)
            out = os.path.join(work, f"same-{i}.zip")
            t, _ = run(["zip", "-q", "-r", "-X", out, ".", "-x", "*__pycache__*", "*.pyc"], cwd=tree)
            zip_same.append(t)
            zip_same_size = os.path.getsize(out)
            os.unlink(out)
            cache = os.path.join(work, f"cache-{i}")
            build_dir = os.path.join(work, f"build-{i}")
            env["XDG_CACHE_HOME"] = cache
            t, m = run(lamctl + ["build", "--build-dir", build_dir], cwd=project, env=env, label="cold")
            cold.append(t)
            mem_cold = max(mem_cold, m)
            ours_size = os.path.getsize(os.path.join(build_dir, "Big.zip"))
            t, m = run(lamctl + ["build", "--build-dir", build_dir], cwd=project, env=env, label="warm")
            warm.append(t)
            mem_warm = max(mem_warm, m)
            stamp = time.time() - 600 - i  # in the past: not "racily clean"
            for root, _dirs, names in os.walk(tree):
                for n in names:
                    os.utime(os.path.join(root, n), (stamp, stamp))
            t, _ = run(lamctl + ["build", "--build-dir", build_dir], cwd=project, env=env, label="touched")
            touched.append(t)
            shutil.rmtree(build_dir)
            shutil.rmtree(cache)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    za, zs, c, w, tt = (statistics.median(x) for x in (zip_all, zip_same, cold, warm, touched))
    print(f"runs: {args.runs} (medians)")
    print(f"zip -r -X (whole folder)          {za:7.3f} s   {zip_all_size / 1e6:7.1f} MB   peak {mem_zip / 1024:6.1f} MB")
    print(f"zip -r -X (same files as lamctl)  {zs:7.3f} s   {zip_same_size / 1e6:7.1f} MB")
    print(f"lamctl build, cold                {c:7.3f} s   {ours_size / 1e6:7.1f} MB   peak {mem_cold / 1024:6.1f} MB")
    print(f"lamctl build, unchanged           {w:7.3f} s                peak {mem_warm / 1024:6.1f} MB")
    print(f"lamctl build, all touched        {tt:7.3f} s")
    print(f"cold vs zip -r:            {za / c:5.1f}x faster   (goal >= 5x)   [vs same-file zip: {zs / c:.1f}x]")
    print(f"unchanged vs zip -r:       {za / w:5.1f}x faster   (goal >= 15x)  [vs same-file zip: {zs / w:.1f}x]")
    print(f"zip size vs zip's:         {100 * (ours_size / zip_same_size - 1):+5.1f} %        (goal <= +15 %, same files)")
    cz, cc, cw, ct = (statistics.median(CPU[k]) for k in ("zip", "cold", "warm", "touched"))
    print(f"CPU time (user+sys):       zip -r {cz:.2f} s, cold {cc:.2f} s ({cz / cc:.1f}x less), "
          f"unchanged {cw:.2f} s ({cz / cw:.1f}x less), all touched {ct:.2f} s")
    print(f"load average at the end:   {open('/proc/loadavg').read().split()[0]} on {os.cpu_count()} CPUs")
    print(f"peak memory / tree size:   {mem_cold * 1024 / size:5.2f}           (bounded: the tree is never held whole)")


if __name__ == "__main__":
    main()
