"""On demand: what starting lamctl costs, whole process, against the 300 ms goal of a cold local invoke.

Run: ``python tests/benchmarks/bench_startup.py [--runs N]`` (default 15). It measures, each as
a new process, median / min / max wall time and the CPU time of the process and its children:

* ``python -c pass`` (the interpreter alone: the floor no command can go under);
* ``lamctl --version``, ``lamctl local invoke --help``, ``lamctl shift --help``;
* a cold ``lamctl local invoke`` of a Python hello function (build cache warm, a new function
  process each time): the figure the 300 ms goal is about (issue 6); and the same in a project
  with a ``lamctl.toml`` (settings read and checked against their schema).

It also lists which heavy modules (pydantic, jsonschema, boto3, rich, yaml, moto) each command
imports, since those, not lamctl's own code, decide its start-up. Bytecode is cached in a private
folder (an installed package has its ``.pyc`` files even when ``PYTHONDONTWRITEBYTECODE`` is set
here). The peer, ``sam --help``, is measured when ``sam`` is on PATH. Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bench_runtime import _lamctl, _project  # noqa: E402  (the same hello function as bench_runtime)

GOAL_MS = 300.0
HEAVY = ("pydantic", "jsonschema", "boto3", "botocore", "rich", "yaml", "moto")
PROBE = (
    "import sys, json\n"
    "from lamctl.cli.app import main\n"
    "try:\n"
    "    main(sys.argv[1:])\n"
    "except SystemExit:\n"
    "    pass\n"
    "sys.stderr.write('HEAVY=' + json.dumps(sorted({m.split('.')[0] for m in sys.modules} & set(%r))) + '\\n')\n"
) % (HEAVY,)


def _env(cache: str) -> dict:
    env = dict(os.environ, PYTHONPYCACHEPREFIX=cache)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def _timed(cmd: list[str], cwd: str, env: dict, runs: int, check=None) -> dict:
    subprocess.run(cmd, cwd=cwd, env=env, capture_output=True)  # bytecode and build caches warm
    walls, cpus = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = _now()
        out = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
        walls.append((_now() - t) * 1000)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)) * 1000)
        assert out.returncode == 0, (cmd, out.stderr[-2000:])
        if check:
            check(out)
    return {"median": statistics.median(walls), "min": min(walls), "max": max(walls), "cpu": statistics.median(cpus)}


def _now() -> float:
    import time

    return time.perf_counter()


def _heavy(args: list[str], cwd: str, env: dict) -> list[str]:
    out = subprocess.run([sys.executable, "-c", PROBE, *args], cwd=cwd, env=env, capture_output=True, text=True)
    line = [x for x in out.stderr.splitlines() if x.startswith("HEAVY=")]
    return json.loads(line[-1][6:]) if line else ["?"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=15)
    args = ap.parse_args()
    root = _project(tempfile.mkdtemp(prefix="lamctl-bench-startup-"))
    toml_project = _project(tempfile.mkdtemp(prefix="lamctl-bench-startup-toml-"))
    with open(os.path.join(toml_project, "lamctl.toml"), "w") as fh:
        fh.write('[default]\ntarget = "local"\nstack = "bench"\nregion = "eu-west-1"\n\n'
                 '[ci]\nno_color = true\nalarms = ["errors"]\nwait_timeout = 600\n')
    cache = tempfile.mkdtemp(prefix="lamctl-bench-pyc-")
    env = _env(cache)
    lamctl = _lamctl()

    def hello(out):
        assert json.loads(out.stdout) == {"hello": "world"}, out

    cases = [
        ("python -c pass (interpreter alone)", [sys.executable, "-c", "pass"], root, None, None),
        ("lamctl --version", lamctl + ["--version"], root, ["--version"], None),
        ("lamctl local invoke --help", lamctl + ["local", "invoke", "--help"], root, ["local", "invoke", "--help"], None),
        ("lamctl shift --help", lamctl + ["shift", "--help"], root, ["shift", "--help"], None),
        ("lamctl local invoke Hello (cold)", lamctl + ["local", "invoke", "Hello"], root, ["local", "invoke", "Hello"],
         hello),
        ("  the same, with a lamctl.toml", lamctl + ["--env", "ci", "local", "invoke", "Hello"], toml_project,
         ["--env", "ci", "local", "invoke", "Hello"], hello),
    ]
    try:
        print(f"whole process, {args.runs} runs each, load average at the start {os.getloadavg()[0]:.1f}, "
              f"{os.cpu_count()} CPUs")
        results = {}
        for label, cmd, cwd, probe, check in cases:
            r = _timed(cmd, cwd, env, args.runs, check)
            results[label] = r
            heavy = "" if probe is None else "  imports: " + (", ".join(_heavy(probe, cwd, env)) or "none of " +
                                                               "/".join(HEAVY))
            print(f"  {label:38s} median {r['median']:5.0f} ms  (min {r['min']:4.0f}, max {r['max']:4.0f}; "
                  f"CPU {r['cpu']:4.0f} ms){heavy}")
        invoke = results["lamctl local invoke Hello (cold)"]["median"]
        version = results["lamctl --version"]["median"]
        print(f"cold local invoke: {invoke:.0f} ms against the goal of {GOAL_MS:.0f} ms "
              f"({invoke / GOAL_MS:.2f} of it); starting the CLI alone (--version): {version:.0f} ms. "
              f"On a loaded machine compare CPU times: wall time then includes waiting for a CPU")
        sam = os.environ.get("LAMCTL_BENCH_SAM") or shutil.which("sam")
        if sam:
            peer = _timed([sam, "--help"], root, dict(os.environ), args.runs)
            ours = results["lamctl local invoke --help"]["median"]
            print(f"peer `sam --help`: median {peer['median']:.0f} ms; ratio lamctl (local invoke --help) / sam "
                  f"{ours / peer['median']:.2f}")
        else:
            print("peer `sam --help`: not measured (sam not on PATH)")
        print(f"load average at the end: {os.getloadavg()[0]:.1f}")
    finally:
        for folder in (root, toml_project, cache):
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
