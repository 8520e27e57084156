"""Benchmark: ``lamctl validate`` against ``cfn-lint`` on the same SAM templates (run on demand).

    python tests/benchmarks/bench_validate.py [--sizes 10,40] [--runs 3]

Generates templates of N functions (each with an Api GET event, a Schedule
event, AutoPublishAlias and a Canary10Percent5Minutes DeploymentPreference),
then, in one run, times whole processes:

* ``cfn-lint template.yaml`` (the peer: it runs the reference SAM transform,
  then its rules);
* ``lamctl validate --no-lint`` (schema, semantic and limit checks on the source);
* ``lamctl validate --lint`` (the same, then cfn-lint on lamctl's transform).

It prints the medians and the ratios peer / lamctl. Not a test; nothing asserts
on time. Sizes are kept under CloudFormation's 500 resources per stack (a
function with these events becomes about 8 resources).
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


def template(n: int) -> str:
    lines = ["AWSTemplateFormatVersion: '2010-09-09'", "Transform: AWS::Serverless-2016-10-31", "Globals:",
             "  Function:", "    Runtime: python3.12", "    MemorySize: 256", "Resources:"]
    for i in range(n):
        lines += [f"  Fn{i}:", "    Type: AWS::Serverless::Function", "    Properties:", "      Handler: app.handler",
                  f"      CodeUri: s3://my-artifacts/fn{i}.zip", "      AutoPublishAlias: live",
                  "      DeploymentPreference:", "        Type: Canary10Percent5Minutes", "      Events:",
                  "        Get:", "          Type: Api", "          Properties:", f"            Path: /fn{i}",
                  "            Method: get", "        Tick:", "          Type: Schedule", "          Properties:",
                  "            Schedule: rate(5 minutes)"]
    return "\n".join(lines) + "\n"


def timed(cmd: list[str], cwd: str) -> tuple[float, int]:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    return time.perf_counter() - start, proc.returncode


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10,40")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    bindir = os.path.dirname(sys.executable)
    lamctl = shutil.which("lamctl", path=bindir) or "lamctl"
    cfn_lint = shutil.which("cfn-lint", path=bindir) or shutil.which("cfn-lint")
    if not cfn_lint:
        print("cfn-lint is not installed (pip install 'lamctl[lint]')")
        return 1
    sides = {
        "cfn-lint (peer)": [cfn_lint, "template.yaml"],
        "lamctl validate --no-lint": [lamctl, "validate", "--no-lint"],
        "lamctl validate --lint": [lamctl, "validate", "--lint"],
    }
    with tempfile.TemporaryDirectory() as tmp:
        for n in (int(x) for x in args.sizes.split(",")):
            folder = os.path.join(tmp, f"n{n}")
            os.makedirs(folder)
            with open(os.path.join(folder, "template.yaml"), "w") as fh:
                fh.write(template(n))
            medians = {}
            for name, cmd in sides.items():
                runs = [timed(cmd, folder) for _ in range(args.runs)]
                medians[name] = statistics.median(t for t, _ in runs)
                codes = sorted({rc for _, rc in runs})
                print(f"{n:>4} functions  {name:<28} {medians[name]:7.2f} s  (exit {codes})")
            peer = medians["cfn-lint (peer)"]
            for name in list(sides)[1:]:
                print(f"{n:>4} functions  ratio peer / {name:<16} {peer / medians[name]:6.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
