"""Benchmark: ``lamctl transform`` against the reference SAM transform, whole process each.

    python tests/benchmarks/bench_transform.py [--sizes 10,100,400] [--state-machines 100] [--repeat 3]

Templates of N functions, each with an Api GET event (implicit REST API), a
Schedule event, AutoPublishAlias and DeploymentPreference Canary10Percent5Minutes.
Each side runs as its own process (interpreter start, imports, YAML parse,
transform, JSON out); the best of ``--repeat`` runs is kept. Prints both
times, the ratio reference/lamctl, and how 400 scales against 100 for each.
Goals: lamctl >= 20x faster at 400 functions; lamctl(400) <= 5x lamctl(100).
``--state-machines N`` (default 100; 0 to skip) also times a template of N state machines, each with an
inline definition calling a function (intrinsics lifted into substitutions), policy templates,
AutoPublishAlias, a Schedule and an Api event (implicit REST API).
Also runnable through pytest by path (``pytest tests/benchmarks/bench_transform.py``).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

REFERENCE = r"""
import json, sys, logging
logging.disable(logging.CRITICAL)
from samtranslator.yaml_helper import yaml_parse
from samtranslator.translator.transform import transform
class NoIam:
    def load(self):
        return {}
with open(sys.argv[1]) as fh:
    template = yaml_parse(fh.read())
out = transform(template, {}, NoIam())
sys.stdout.write(json.dumps(out))
"""


def template(n: int) -> str:
    lines = ["Transform: AWS::Serverless-2016-10-31", "Globals:", "  Function:", "    Runtime: python3.12",
             "    Handler: app.handler", "    CodeUri: s3://bench-bucket/code.zip", "Resources:"]
    for i in range(n):
        lines += [
            f"  Fn{i}:",
            "    Type: AWS::Serverless::Function",
            "    Properties:",
            "      AutoPublishAlias: live",
            "      DeploymentPreference:",
            "        Type: Canary10Percent5Minutes",
            "      Events:",
            "        Get:",
            "          Type: Api",
            "          Properties:",
            f"            Path: /items{i}",
            "            Method: get",
            "        Tick:",
            "          Type: Schedule",
            "          Properties:",
            "            Schedule: rate(5 minutes)",
        ]
    return "\n".join(lines) + "\n"


def state_machine_template(n: int) -> str:
    lines = ["Transform: AWS::Serverless-2016-10-31", "Resources:",
             "  Fn:", "    Type: AWS::Serverless::Function",
             "    Properties: {Runtime: python3.12, Handler: app.handler, CodeUri: s3://bench-bucket/code.zip}"]
    for i in range(n):
        lines += [
            f"  Sm{i}:",
            "    Type: AWS::Serverless::StateMachine",
            "    Properties:",
            "      AutoPublishAlias: live",
            "      Policies: [{LambdaInvokePolicy: {FunctionName: !Ref Fn}}]",
            "      Definition:",
            "        StartAt: Call",
            "        States:",
            "          Call: {Type: Task, Resource: !GetAtt Fn.Arn, Next: Wait}",
            "          Wait: {Type: Wait, Seconds: 1, Next: Done}",
            "          Done: {Type: Succeed}",
            "      Events:",
            "        Tick: {Type: Schedule, Properties: {Schedule: rate(5 minutes)}}",
            f"        Post: {{Type: Api, Properties: {{Path: /run{i}, Method: post}}}}",
        ]
    return "\n".join(lines) + "\n"


def _time(cmd: list[str], env: dict, repeat: int) -> float:
    best = None
    for _ in range(repeat):
        start = time.perf_counter()
        proc = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        elapsed = time.perf_counter() - start
        if proc.returncode != 0:
            raise RuntimeError(f"{cmd[:3]} failed ({proc.returncode}): {proc.stderr[-2000:]}")
        best = elapsed if best is None else min(best, elapsed)
    return best


def run(sizes: list[int], repeat: int, state_machines: int = 100) -> dict[int, tuple[float, float]]:
    """Times per size (functions); the state machine case is under the key ``-state_machines``."""
    env = dict(os.environ, AWS_DEFAULT_REGION="us-east-1", AWS_REGION="us-east-1")
    lamctl = os.path.join(os.path.dirname(sys.executable), "lamctl")
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            path = os.path.join(tmp, f"template-{n}.yaml")
            with open(path, "w") as fh:
                fh.write(template(n))
            ours = _time([lamctl, "transform", "-t", path, "-o", os.path.join(tmp, f"out-{n}.json")], env, repeat)
            ref = _time([sys.executable, "-c", REFERENCE, path], env, repeat)
            results[n] = (ours, ref)
            print(f"{n:5d} functions: lamctl {ours:7.3f} s   reference {ref:7.3f} s   ratio {ref / ours:6.1f}x",
                  flush=True)
    if state_machines:
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "state-machines.yaml")
            with open(path, "w") as fh:
                fh.write(state_machine_template(state_machines))
            ours = _time([lamctl, "transform", "-t", path, "-o", os.path.join(tmp, "out.json")], env, repeat)
            ref = _time([sys.executable, "-c", REFERENCE, path], env, repeat)
            print(f"{state_machines:5d} state machines: lamctl {ours:7.3f} s   reference {ref:7.3f} s   "
                  f"ratio {ref / ours:6.1f}x", flush=True)
            results[-state_machines] = (ours, ref)
    if 100 in results and 400 in results:
        print(f"400 vs 100: lamctl {results[400][0] / results[100][0]:.2f}x   "
              f"reference {results[400][1] / results[100][1]:.2f}x")
    return results


def test_benchmark_transform():  # pragma: no cover - on demand only
    run([10, 100, 400], 1)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="10,100,400")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--state-machines", type=int, default=100)
    a = ap.parse_args()
    run([int(s) for s in a.sizes.split(",") if s], a.repeat, a.state_machines)
