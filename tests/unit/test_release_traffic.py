"""A stack's DeploymentPreference traffic shifting (what lamctl deploy runs on the local cloud), with the release
engine on a fake clock and in-memory gateways: which aliases shift, which are skipped, and how a failure of one
puts every alias of the deploy back."""

from __future__ import annotations

import threading

import pytest

from lamctl.release.clock import FakeClock
from lamctl.release.engine import Engine
from lamctl.release.fakes import FakeAlarms, FakeLambda, MemoryStore
from lamctl.release.preferences import alias_shifts
from lamctl.release.traffic import StackTraffic
from lamctl.schemas.errors import RolledBack
from lamctl.transform import transform

ARN = "arn:aws:lambda:us-east-1:123456789012:function:"


def stack(*functions: str, preference: dict | None = None) -> dict:
    resources = {fn: {"Type": "AWS::Serverless::Function", "Properties": {
        "CodeUri": f"s3://bucket/{fn}.zip", "Handler": "app.handler", "Runtime": "python3.12",
        "FunctionName": fn.lower(), "AutoPublishAlias": "live",
        "DeploymentPreference": preference or {"Type": "AllAtOnce"}}} for fn in functions}
    return transform({"Transform": "AWS::Serverless-2016-10-31", "Resources": resources})


def physical(cfn: dict, versions: dict[str, str]) -> dict:
    """The stack's logical -> physical IDs: each function at the version given."""
    out = {}
    for logical, res in cfn["Resources"].items():
        name = (res.get("Properties") or {}).get("FunctionName")
        if res["Type"] == "AWS::Lambda::Function":
            out[logical] = name
    for logical, res in cfn["Resources"].items():
        if res["Type"] == "AWS::Lambda::Version":
            fn = out[res["Properties"]["FunctionName"]["Ref"]]
            if fn in versions:
                out[logical] = f"{ARN}{fn}:{versions[fn]}"
        elif res["Type"] == "AWS::Lambda::Alias":
            out[logical] = f"{ARN}{out[res['Properties']['FunctionName']['Ref']]}:live"
    return out


@pytest.fixture
def world():
    clock = FakeClock()
    lam = FakeLambda(clock)
    for fn in ("app1", "app2", "post-hook"):
        lam.add_function(fn, versions=2)
    lam.set_alias("app1", "live", "1")
    lam.set_alias("app2", "live", "1")
    store = MemoryStore()
    alarms = FakeAlarms(clock)
    events = []

    def engine():
        return Engine(lam, alarms, store, clock, owner="host-a:1")

    return lam, engine, events


def live(lam, fn: str) -> tuple[str, dict]:
    info = lam.aliases[(fn, "live")]
    return info.version, dict(info.weights)


def test_an_alias_shifts_to_the_version_the_stack_published(world):
    lam, engine, events = world
    cfn = stack("App1")
    records = StackTraffic(lam, engine, events.append).shift("stack", cfn, physical(cfn, {"app1": "2"}),
                                                             alias_shifts(cfn), {})
    assert live(lam, "app1") == ("2", {})
    assert [(r["function"], r["alias"], r["current"], r["target"], r["state"]) for r in records] == [
        ("app1", "live", "1", "2", "succeeded")]
    (event,) = events
    assert event.type == "traffic" and "shifting app1:live from version 1 to 2" in event.message
    assert event.data["config"] == "CodeDeployDefault.LambdaAllAtOnce"


def test_an_alias_already_on_the_version_is_left_alone_and_one_without_a_version_is_skipped(world):
    lam, engine, events = world
    lam.set_alias("app1", "live", "2")
    cfn = stack("App1", "App2")
    records = StackTraffic(lam, engine, events.append).shift("stack", cfn, physical(cfn, {"app1": "2"}),
                                                             alias_shifts(cfn), {})
    assert [(r["function"], r["state"]) for r in records] == [("app1", "unchanged"), ("app2", "skipped")]
    assert "has no published version" in records[1]["reason"]
    assert [e.type for e in events] == ["warning"] and "traffic shifting skipped" in events[0].message
    assert live(lam, "app1") == ("2", {}) and live(lam, "app2") == ("1", {})
    assert lam.writes == []


def test_a_rolled_back_shift_is_recorded_and_raised(world):
    lam, engine, events = world
    lam.hooks["post-hook"] = lambda payload: {"status": "Failed"}
    cfn = stack("App1", preference={"Type": "AllAtOnce", "Hooks": {"PostTraffic": "post-hook"}})
    traffic = StackTraffic(lam, engine, events.append)
    records = []
    with pytest.raises(RolledBack):
        records = traffic.shift("stack", cfn, physical(cfn, {"app1": "2"}), alias_shifts(cfn), {})
    assert live(lam, "app1") == ("1", {})
    assert any(e.type == "warning" and "stays on version 1" in e.message for e in events)
    assert records == []  # raised: the caller reports the deploy as rolled back


def test_when_one_of_several_shifts_fails_the_one_that_finished_is_rolled_back_too(world):
    lam, engine, events = world
    app1_done = threading.Event()

    def failing_hook(payload):
        app1_done.wait(10)  # app2's hook fails once app1 has finished its shift
        return {"status": "Failed"}

    lam.hooks["post-hook"] = failing_hook
    cfn = stack("App1", "App2")
    cfn2 = stack("App2", preference={"Type": "AllAtOnce", "Hooks": {"PostTraffic": "post-hook"}})
    cfn["Resources"].update(cfn2["Resources"])
    ran = []

    def run(plan, info, label):
        ran.append(label)
        try:
            return engine().shift(plan, info)
        finally:
            if plan.function == "app1":
                app1_done.set()

    traffic = StackTraffic(lam, engine, events.append, run=run)
    with pytest.raises(RolledBack):
        traffic.shift("stack", cfn, physical(cfn, {"app1": "2", "app2": "2"}), alias_shifts(cfn), {})
    assert sorted(ran) == ["app1:live", "app2:live"]  # side by side, each labelled with its alias
    assert live(lam, "app1") == ("1", {}) and live(lam, "app2") == ("1", {})
    assert any("rolling back its finished shift too" in e.message for e in events if e.type == "warning")
