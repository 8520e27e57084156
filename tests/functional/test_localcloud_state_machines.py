"""Step Functions on the local cloud: samples/state-machine deploys (two functions and a state machine with a
Choice, a Wait, a Retry and a Catch), and ``lamctl execute`` runs its executions, whose Lambda tasks run the
deployed code on the local runtime. Wait states run at once here (``LAMCTL_STATES_WAIT_SCALE=0``)."""

from __future__ import annotations

import json
import pathlib
import shutil

import pytest

SAMPLE = pathlib.Path(__file__).resolve().parents[2] / "samples" / "state-machine"


@pytest.fixture
def sample(tmp_path, monkeypatch):
    monkeypatch.setenv("LAMCTL_STATES_WAIT_SCALE", "0")
    dest = tmp_path / "state-machine"
    shutil.copytree(SAMPLE, dest, ignore=shutil.ignore_patterns(".lamctl"))
    return dest


@pytest.fixture
def deployed(cli, local_cloud, sample, instant_clock):
    r = cli("--endpoint-url", local_cloud.endpoint, "deploy", cwd=sample)
    assert r.exit_code == 0, r
    return sample


def test_an_execution_runs_both_functions_deployed_code(cli, local_cloud, deployed):
    r = cli("--endpoint-url", local_cloud.endpoint, "execute", "OrderFlow", "--stack", "orders",
            "-e", "events/order.json", cwd=deployed)
    assert r.exit_code == 0, r
    assert json.loads(r.stdout) == {"order": "A-1001", "status": "charged", "total": 20}


def test_a_caught_error_takes_the_catch_path(cli, local_cloud, deployed):
    r = cli("--endpoint-url", local_cloud.endpoint, "--output", "json", "execute", "OrderFlow", "--stack", "orders",
            "-e", "events/large-order.json", cwd=deployed)
    assert r.exit_code == 0, r
    result = r.json_lines()[-1]
    assert result["status"] == "SUCCEEDED"
    assert result["output"] == {"order": "A-1002", "status": "declined", "reason": "PaymentDeclined"}


def test_a_failed_execution_names_the_state_error_and_cause_and_exits_1(cli, local_cloud, deployed):
    r = cli("--endpoint-url", local_cloud.endpoint, "execute", "OrderFlow", "--stack", "orders",
            "-e", "events/empty-order.json", cwd=deployed)
    assert r.exit_code == 1, r
    assert "in state Rejected" in r.stderr
    assert "InvalidOrder" in r.stderr and "the order has no items" in r.stderr
    assert r.stdout == ""
