"""The transform's output does not depend on Python's string hashing: the same template gives the same
bytes in every process (a set's iteration order changes with PYTHONHASHSEED)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

THREE_CONDITIONS = """\
Globals:
  Api:
    Auth:
      ApiKeyRequired: true
      UsagePlan:
        CreateUsagePlan: SHARED
Conditions:
  Alpha: {"Fn::Equals": [a, a]}
  Beta: {"Fn::Equals": [b, b]}
  Gamma: {"Fn::Equals": [c, c]}
  Delta: {"Fn::Equals": [d, d]}
Resources:
  ApiAlpha: {Type: AWS::Serverless::Api, Condition: Alpha, Properties: {StageName: Prod}}
  ApiBeta: {Type: AWS::Serverless::Api, Condition: Beta, Properties: {StageName: Prod}}
  ApiGamma: {Type: AWS::Serverless::Api, Condition: Gamma, Properties: {StageName: Prod}}
  ApiDelta: {Type: AWS::Serverless::Api, Condition: Delta, Properties: {StageName: Prod}}
"""


def test_shared_usage_plan_conditions_come_out_in_the_same_order_whatever_the_hash_seed(tmp_path):
    template = tmp_path / "template.yaml"
    template.write_text(THREE_CONDITIONS)
    outputs = set()
    for seed in ("1", "2", "3", "4", "5", "6"):
        out = tmp_path / f"{seed}.json"
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run([sys.executable, "-m", "lamctl.cli", "transform", "-t", str(template),
                               "-o", str(out), "--region", "us-east-1"], env=env, capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        outputs.add(out.read_bytes())
    assert len(outputs) == 1
    shared = json.loads(outputs.pop())["Conditions"]["SharedUsagePlanCondition"]
    assert sorted(c["Condition"] for c in shared["Fn::Or"]) == ["Alpha", "Beta", "Delta", "Gamma"]
