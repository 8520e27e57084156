"""lamctl sync's decisions without a cloud: the template's shape, and waiting for a function update."""

from __future__ import annotations

import pytest

from lamctl.release.clock import FakeClock
from lamctl.release.fakes import FakeUpdatingLambdaClient
from lamctl.release.sync import SyncGateway, template_shape
from lamctl.schemas.errors import CloudError

SAM = {"Transform": "AWS::Serverless-2016-10-31",
       "Globals": {"Function": {"CodeUri": "src/", "Timeout": 3}},
       "Resources": {"Fn": {"Type": "AWS::Serverless::Function",
                            "Properties": {"Handler": "app.handler", "Runtime": "python3.12"}},
                     "Lib": {"Type": "AWS::Serverless::LayerVersion", "Properties": {"ContentUri": "lib/"}}}}


def _with(path: tuple, value):
    import copy

    data = copy.deepcopy(SAM)
    node = data
    for key in path[:-1]:
        node = node.setdefault(key, {})
    node[path[-1]] = value
    return data


def test_the_shape_ignores_local_code_locations_and_sees_everything_else():
    base = template_shape(SAM)
    assert template_shape(_with(("Globals", "Function", "CodeUri"), "other/")) == base
    assert template_shape(_with(("Resources", "Lib", "Properties", "ContentUri"), "lib2/")) == base
    assert template_shape(_with(("Resources", "Fn", "Properties", "CodeUri"), "fn/")) != base  # a new property
    assert template_shape(_with(("Globals", "Function", "Timeout"), 4)) != base
    assert template_shape(_with(("Resources", "Fn", "Properties", "Handler"), "app.other")) != base
    assert template_shape(_with(("Globals", "Function", "CodeUri"), "s3://bucket/key.zip")) != base
    assert template_shape(SAM, {"Stage": "dev"}) != base  # the parameter values are part of it


def test_an_update_is_waited_for_on_the_clock():
    clock = FakeClock()
    client = FakeUpdatingLambdaClient(["InProgress", "InProgress", "Successful"])
    SyncGateway(client, clock).wait_updated("fn", poll=1.0)
    assert clock.sleeps == [1.0, 1.0]
    assert client.calls.count("GetFunctionConfiguration") == 3


def test_a_failed_update_is_a_cloud_error_with_lambdas_reason():
    client = FakeUpdatingLambdaClient(["InProgress", "Failed"], reason="bad zip")
    with pytest.raises(CloudError) as err:
        SyncGateway(client, FakeClock()).wait_updated("fn")
    assert "bad zip" in err.value.message and err.value.where == "fn"


def test_an_update_that_never_ends_times_out():
    clock = FakeClock()
    with pytest.raises(CloudError) as err:
        SyncGateway(FakeUpdatingLambdaClient(["InProgress"]), clock).wait_updated("fn", timeout=30, poll=1.0)
    assert "did not finish within 30 s" in err.value.message
    assert sum(clock.sleeps) == 30
