"""On demand: what starting lamctl costs, whole process, side by side with `sam --help` and the interpreter.

Run: ``python tests/benchmarks/bench_startup.py [--runs N]`` (default 15, at least 7). Every case runs
as a new process, the cases taking turns (run 1 of each, then run 2 of each, ...), so that a load
that comes and goes on a shared machine falls on all of them alike. For each case: median / min /
max wall time and the median CPU time of the process and its children, and the ratio of its
median to the peer's, ``sam --help``, measured in the same run:

* ``python -c pass`` (the interpreter alone: the floor no command can go under);
* the peer ``sam --help`` (AWS SAM CLI: ``sam`` on PATH, or the path in ``LAMCTL_BENCH_SAM``;
  install it into a throwaway venv, e.g. ``python -m venv /tmp/sam && /tmp/sam/bin/pip install
  aws-sam-cli``); when it is missing the benchmark says so and prints no ratios;
* ``lamctl --help``, ``lamctl --version``, ``lamctl shift --help``, ``lamctl local invoke --help``;
* the start of a command: ``lamctl <command> --help`` runs everything a command runs before its own
  body (global options, settings, building the command, parsing its options); and two commands with
  their (small) work: ``lamctl local status`` (no local cloud running) and ``lamctl validate
  --no-lint`` of a one-function template;
* a cold ``lamctl local invoke`` of a Python hello function (build cache warm, a new function
  process each time): the figure the 300 ms goal is about (issue 6); and the same in a project
  with a ``lamctl.toml`` (settings read and checked against their schema).

The goal (issue "First contact", start-up): ``lamctl --help``, ``--version`` and the start of a
command no slower than ``sam --help``, i.e. a ratio of at most 1.00 (the ``goal:`` line). It also lists which heavy
modules (pydantic, jsonschema, boto3, rich, yaml, moto) each command imports, since those, not
lamctl's own code, decide its start-up. Bytecode is cached in a private folder for both sides (an
installed package has its ``.pyc`` files even when ``PYTHONDONTWRITEBYTECODE`` is set here).
Nothing here asserts a time.
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


def _run_once(cmd: list[str], cwd: str, env: dict, check=None) -> tuple[float, float]:
    """(wall ms, CPU ms of the process and its children) of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = _now()
    out = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    wall = (_now() - t) * 1000
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    assert out.returncode == 0, (cmd, out.stderr[-2000:])
    if check:
        check(out)
    return wall, ((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)) * 1000


def _alternating(cases: list[tuple], env: dict, runs: int) -> dict:
    """Every case ``runs`` times, taking turns; per label: median / min / max wall, median CPU."""
    for _, cmd, cwd, _, check in cases:
        subprocess.run(cmd, cwd=cwd, env=env, capture_output=True)  # bytecode and build caches warm
    walls = {label: [] for label, *_ in cases}
    cpus = {label: [] for label, *_ in cases}
    for _ in range(runs):
        for label, cmd, cwd, _, check in cases:
            wall, cpu = _run_once(cmd, cwd, env, check)
            walls[label].append(wall)
            cpus[label].append(cpu)
    return {label: {"median": statistics.median(walls[label]), "min": min(walls[label]),
                    "max": max(walls[label]), "cpu": statistics.median(cpus[label])} for label in walls}


def _now() -> float:
    import time

    return time.perf_counter()


def _heavy(args: list[str], cwd: str, env: dict) -> list[str]:
    out = subprocess.run([sys.executable, "-c", PROBE, *args], cwd=cwd, env=env, capture_output=True, text=True)
    line = [x for x in out.stderr.splitlines() if x.startswith("HEAVY=")]
    return json.loads(line[-1][6:]) if line else ["?"]


TINY = """\
Transform: AWS::Serverless-2016-10-31
Resources:
  Hello:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: hello/
      Handler: app.handler
      Runtime: python3.12
"""
PEER = "sam --help (peer)"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=15)
    args = ap.parse_args()
    runs = max(args.runs, 7)
    root = _project(tempfile.mkdtemp(prefix="lamctl-bench-startup-"))
    toml_project = _project(tempfile.mkdtemp(prefix="lamctl-bench-startup-toml-"))
    with open(os.path.join(toml_project, "lamctl.toml"), "w") as fh:
        fh.write('[default]\ntarget = "local"\nstack = "bench"\nregion = "eu-west-1"\n\n'
                 '[ci]\nno_color = true\nalarms = ["errors"]\nwait_timeout = 600\n')
    tiny = _project(tempfile.mkdtemp(prefix="lamctl-bench-startup-tiny-"))
    with open(os.path.join(tiny, "template.yaml"), "w") as fh:
        fh.write(TINY)
    cache = tempfile.mkdtemp(prefix="lamctl-bench-pyc-")
    state = tempfile.mkdtemp(prefix="lamctl-bench-state-")
    env = _env(cache)
    env.update(XDG_STATE_HOME=state, XDG_CACHE_HOME=os.path.join(state, "cache"))  # no local cloud recorded
    lamctl = _lamctl()
    sam = os.environ.get("LAMCTL_BENCH_SAM") or shutil.which("sam")

    def hello(out):
        assert json.loads(out.stdout) == {"hello": "world"}, out

    def lamctl_case(label, argv, cwd=root, check=None):
        return (label, lamctl + argv, cwd, argv, check)

    cases = [("python -c pass (interpreter alone)", [sys.executable, "-c", "pass"], root, None, None)]
    if sam:
        cases.append((PEER, [sam, "--help"], root, None, None))
    cases += [
        lamctl_case("lamctl --help", ["--help"]),
        lamctl_case("lamctl --version", ["--version"]),
        lamctl_case("lamctl shift --help", ["shift", "--help"]),
        lamctl_case("lamctl local invoke --help", ["local", "invoke", "--help"]),
        lamctl_case("lamctl local status", ["local", "status"]),
        lamctl_case("lamctl validate --no-lint (tiny)", ["validate", "--no-lint"], tiny),
        lamctl_case("lamctl local invoke Hello (cold)", ["local", "invoke", "Hello"], root, hello),
        lamctl_case("  the same, with a lamctl.toml", ["--env", "ci", "local", "invoke", "Hello"], toml_project,
                    hello),
    ]
    try:
        print(f"whole process, {runs} runs each, taking turns; load average at the start "
              f"{os.getloadavg()[0]:.1f}, {os.cpu_count()} CPUs")
        results = _alternating(cases, env, runs)
        peer = results.get(PEER)
        for label, _, cwd, probe, _ in cases:
            r = results[label]
            ratio = ""
            if peer and label.startswith("lamctl"):
                ratio = f"  {r['median'] / peer['median']:.2f}x sam (CPU {r['cpu'] / peer['cpu']:.2f}x)"
            heavy = "" if probe is None else "  imports: " + (", ".join(_heavy(probe, cwd, env)) or "none of " +
                                                               "/".join(HEAVY))
            print(f"  {label:36s} median {r['median']:5.0f} ms  (min {r['min']:4.0f}, max {r['max']:4.0f}; "
                  f"CPU {r['cpu']:4.0f} ms){ratio}{heavy}")
        if peer:
            # a command's --help runs everything a command does before its own body (global options, settings,
            # building the command, parsing its options); local status and validate add their own work
            starts = ["lamctl --help", "lamctl --version", "lamctl shift --help", "lamctl local invoke --help"]
            print("goal: no slower than `sam --help` (ratio <= 1.00): " + ", ".join(
                f"{k.removeprefix('lamctl ')} {results[k]['median'] / peer['median']:.2f}x" for k in starts)
                + "; with their work: " + ", ".join(
                f"{k.removeprefix('lamctl ')} {results[k]['median'] / peer['median']:.2f}x"
                for k in ("lamctl local status", "lamctl validate --no-lint (tiny)")))
        else:
            print("peer `sam --help`: not measured (sam not on PATH; set LAMCTL_BENCH_SAM to its path)")
        invoke = results["lamctl local invoke Hello (cold)"]["median"]
        version = results["lamctl --version"]["median"]
        print(f"cold local invoke: {invoke:.0f} ms against the goal of {GOAL_MS:.0f} ms "
              f"({invoke / GOAL_MS:.2f} of it); starting the CLI alone (--version): {version:.0f} ms. "
              f"On a loaded machine compare CPU times: wall time then includes waiting for a CPU")
        print(f"load average at the end: {os.getloadavg()[0]:.1f}")
    finally:
        for folder in (root, toml_project, tiny, cache, state):
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
