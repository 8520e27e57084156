"""A state machine alias's DeploymentPreference, read from the transformed template for lamctl deploy on the
local cloud: the strategy (CANARY, LINEAR, ALL_AT_ONCE), the alarms, and the target version of the stack."""

from __future__ import annotations

import pytest

from lamctl.release.preferences import resolve_state_machine, state_machine_shifts
from lamctl.release.strategy import ALL_AT_ONCE, CANARY, LINEAR
from lamctl.schemas.errors import UsageError
from lamctl.transform import transform

ARN = "arn:aws:states:us-east-1:123456789012:stateMachine:orders-Flow-X"


def sam(preference: dict | None) -> dict:
    props = {"AutoPublishAlias": "live", "Role": "arn:aws:iam::123456789012:role/r",
             "Definition": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}}
    if preference is not None:
        props["DeploymentPreference"] = preference
    return transform({"Transform": "AWS::Serverless-2016-10-31", "Resources": {
        "Flow": {"Type": "AWS::Serverless::StateMachine", "Properties": props}}})


def test_canary_linear_and_all_at_once():
    (canary,) = state_machine_shifts(sam({"Type": "CANARY", "Percentage": 10, "Interval": 5, "Alarms": ["errs"]}))
    assert canary.alias_id == "FlowAliaslive" and canary.strategy.kind == CANARY
    assert [(s.percent, s.seconds) for s in canary.strategy.steps] == [(10, 300)] and canary.alarms == ("errs",)
    (linear,) = state_machine_shifts(sam({"Type": "LINEAR", "Percentage": 25, "Interval": 1}))
    assert linear.strategy.kind == LINEAR
    assert [(s.percent, s.seconds) for s in linear.strategy.steps] == [(25, 60), (50, 60), (75, 60)]
    (plain,) = state_machine_shifts(sam(None))  # AutoPublishAlias alone: SAM's ALL_AT_ONCE
    assert plain.strategy.kind == ALL_AT_ONCE


@pytest.mark.parametrize("preference, key", [
    ({"Type": "CANARY", "Interval": 5}, "Percentage"),
    ({"Type": "LINEAR", "Percentage": 100, "Interval": 5}, "Percentage"),
    ({"Type": "CANARY", "Percentage": 10, "Interval": 0}, "Interval"),
])
def test_a_preference_lamctl_cannot_follow_is_exit_2_naming_the_alias(preference, key):
    with pytest.raises(UsageError) as err:
        state_machine_shifts(sam(preference), where="template.yaml")
    assert err.value.exit_code == 2
    assert "FlowAliaslive" in str(err.value.where) and key in err.value.message


def test_resolved_onto_the_stack():
    template = sam({"Type": "CANARY", "Percentage": 10, "Interval": 5})
    (shift,) = state_machine_shifts(template)
    r = resolve_state_machine(shift, template, {"FlowAliaslive": f"{ARN}:live", "FlowVersion": f"{ARN}:3",
                                                "Flow": ARN})
    assert (r.function, r.alias, r.target, r.missing) == ("orders-Flow-X", "live", "3", ())
    missing = resolve_state_machine(shift, template, {"FlowAliaslive": f"{ARN}:live"})
    assert missing.target is None and missing.missing
