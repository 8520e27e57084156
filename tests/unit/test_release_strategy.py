"""Strategy shorthand and CodeDeploy names, parsed before any AWS call; the plan as data."""

from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from lamctl.release import strategy as S
from lamctl.release.plan import AFTER, BEFORE, Bake, CheckAlarms, CreateAlias, Finalize, Plan, PublishVersion, \
    RunHook, SetAliasWeights, build_plan, plan_lines
from lamctl.schemas.errors import UsageError


def test_canary_is_one_step_then_everything():
    s = S.canary("10%5m")
    assert s.kind == "canary" and s.steps == (S.Step(10.0, 300),)
    assert s.steps[0].weight == 0.1


def test_linear_goes_up_in_equal_steps_below_100():
    s = S.linear("10%1m")
    assert [st.percent for st in s.steps] == [10, 20, 30, 40, 50, 60, 70, 80, 90]
    assert all(st.seconds == 60 for st in s.steps)
    assert [st.percent for st in S.linear("30%2h").steps] == [30, 60, 90]
    assert S.linear("30%2h").steps[0].seconds == 7200


def test_steps_hold_each_weight_for_its_own_duration():
    s = S.stepped("5%1m,25%5m,50%30s")
    assert s.steps == (S.Step(5, 60), S.Step(25, 300), S.Step(50, 30))


@pytest.mark.parametrize("flag,value,needle", [
    ("canary", "10%", "no duration"),
    ("canary", "150%5m", "less than 100%"),
    ("canary", "0%5m", "more than 0%"),
    ("canary", "10%5d", "unknown duration unit 'd'"),
    ("canary", "100%5m", "less than 100%"),
    ("canary", "10%5", "no unit"),
    ("canary", "ten%5m", "is not a step"),
    ("canary", "10%0s", "at least 1s"),
    ("linear", "100%1m", "less than 100%"),
    ("steps", "25%1m,5%1m", "must go up"),
    ("steps", "5%1m,,25%1m", "empty step"),
])
def test_malformed_strategies_are_usage_errors(flag, value, needle):
    fn = {"canary": S.canary, "linear": S.linear, "steps": S.stepped}[flag]
    with pytest.raises(UsageError) as err:
        fn(value)
    assert needle in err.value.message
    assert err.value.exit_code == 2
    assert err.value.hint


@pytest.mark.parametrize("name", ["CodeDeployDefault.LambdaCanary10Percent5Minutes", "LambdaCanary10Percent5Minutes",
                                  "Canary10Percent5Minutes"])
def test_codedeploy_names_with_or_without_prefix(name):
    assert S.codedeploy_config(name) == S.canary("10%5m")


def test_codedeploy_linear_and_all_at_once():
    assert S.codedeploy_config("LambdaLinear10PercentEvery3Minutes").steps == S.linear("10%3m").steps
    assert S.codedeploy_config("CodeDeployDefault.LambdaAllAtOnce").kind == "all-at-once"


def test_unknown_codedeploy_name_suggests_the_closest():
    with pytest.raises(UsageError) as err:
        S.codedeploy_config("LambdaCanary10Percent6Minutes")
    assert "not a predefined" in err.value.message
    assert "LambdaCanary10Percent5Minutes" in err.value.hint


def test_choose_takes_one_flag_else_the_setting_else_all_at_once():
    assert S.choose(canary_="10%5m").kind == "canary"
    assert S.choose(default="linear 10%1m").kind == "linear"
    assert S.choose(default="CodeDeployDefault.LambdaCanary10Percent5Minutes") == S.canary("10%5m")
    assert S.choose().kind == "all-at-once"
    with pytest.raises(UsageError, match="choose one strategy"):
        S.choose(canary_="10%5m", linear_="10%1m")


def test_mapping_to_codedeploy_uses_predefined_names_then_custom_configs():
    assert S.to_codedeploy(S.canary("10%5m")) == S.CodeDeployConfig("CodeDeployDefault.LambdaCanary10Percent5Minutes", True)
    custom = S.to_codedeploy(S.linear("20%2m"))
    assert not custom.predefined
    assert custom.routing == {"type": "TimeBasedLinear", "timeBasedLinear": {"linearPercentage": 20, "linearInterval": 2}}
    with pytest.raises(UsageError, match="whole minutes"):
        S.to_codedeploy(S.canary("10%30s"))
    with pytest.raises(UsageError, match="--steps"):
        S.to_codedeploy(S.stepped("5%1m,50%1m"))


@given(pct=st.integers(1, 99), num=st.integers(1, 24), unit=st.sampled_from("smh"))
def test_every_well_formed_canary_parses_and_holds_its_duration(pct, num, unit):
    s = S.canary(f"{pct}%{num}{unit}")
    assert s.steps[0].percent == pct
    assert s.steps[0].seconds == num * {"s": 1, "m": 60, "h": 3600}[unit]


# ---------------------------------------------------------------- plans


def test_canary_plan_orders_hooks_weights_bake_alarms_and_offsets():
    plan = build_plan("fn", "live", "3", "4", S.canary("10%5m"), alarms=["errors"],
                      hooks={BEFORE: "pre", AFTER: "post"})
    assert plan.steps == (
        RunHook(BEFORE, "pre", at=0.0),
        SetAliasWeights("4", 0.1, at=0.0),
        Bake(300, 0.1, at=0.0),
        CheckAlarms(("errors",), at=300.0),
        Finalize("4", at=300.0),
        RunHook(AFTER, "post", at=300.0),
    )
    assert plan.total_seconds == 300


def test_plan_without_target_publishes_first_and_is_resolved_later():
    plan = build_plan("fn", "live", "3", None, S.all_at_once())
    assert isinstance(plan.steps[0], PublishVersion) and plan.target == "$LATEST"
    resolved = plan.with_target("5")
    assert resolved.steps[-1] == Finalize("5", at=0.0) and resolved.target == "5"


def test_a_missing_alias_is_created_at_the_target_directly():
    plan = build_plan("fn", "live", None, "1", S.canary("10%5m"))
    assert plan.steps == (CreateAlias("1", at=0.0),)


def test_plan_round_trips_through_the_journal_format():
    plan = build_plan("fn", "live", "3", "4", S.stepped("5%1m,50%2m"), alarms=["a", "b"], hooks={AFTER: "post"})
    assert Plan.from_dict(plan.to_dict()) == plan


def test_plan_lines_show_offsets_weights_and_checks():
    plan = build_plan("fn", "live", "3", "4", S.linear("50%1m"), alarms=["errors"])
    rows = plan_lines(plan)
    assert rows[0] == ("+0s", "route 50% to version 4", "v3 50% / v4 50%", "")
    assert rows[1][0] == "+0s" and "errors" in rows[1][3]
    assert rows[-1] == ("+1m", "route 100% to version 4, empty routing", "v4 100%", "")


def test_plan_lines_name_the_share_each_hold_keeps_and_what_each_check_expects():
    plan = build_plan("fn", "live", "3", "4", S.canary("10%5m"), alarms=["errors", "latency"],
                      hooks={BEFORE: "pre"})
    rows = plan_lines(plan)
    assert rows[0] == ("+0s", f"{BEFORE} hook: invoke pre", "", "Succeeded expected")
    assert rows[1] == ("+0s", "route 10% to version 4", "v3 90% / v4 10%", "")
    assert rows[2] == ("+0s", "hold 10% for 5m", "", "alarms every <=10s: errors, latency")
    assert rows[3] == ("+5m", "check alarms errors, latency", "", "errors, latency")


def test_plan_lines_of_a_release_that_publishes_first_or_creates_the_alias():
    publish = plan_lines(build_plan("fn", "live", "3", None, S.all_at_once()))
    assert publish[0][1] == "publish $LATEST of fn as a new version"
    assert publish[-1][1:3] == ("route 100% to the version published from $LATEST, empty routing", "new 100%")
    create = plan_lines(build_plan("fn", "live", None, "1", S.canary("10%5m")))
    assert create == [("+0s", "create the alias at version 1 (100%)", "v1 100%", "")]


@pytest.mark.parametrize("flag", ["canary_", "linear_", "steps", "config"])
@pytest.mark.parametrize("value", ["", "  ", "\t"])
def test_a_strategy_flag_given_empty_is_an_error_naming_it_not_all_at_once(flag, value):
    with pytest.raises(UsageError) as err:
        S.choose(**{flag: value}, default="canary 10%5m")
    name = "--" + flag.rstrip("_")
    assert err.value.where == name and "empty" in err.value.message and err.value.exit_code == 2


@pytest.mark.parametrize("value", ["", "   "])
def test_an_empty_strategy_setting_is_an_error_at_its_line(value):
    with pytest.raises(UsageError) as err:
        S.choose(default=value, default_where="lamctl.toml:2")
    assert err.value.where == "lamctl.toml:2" and "strategy setting is empty" in err.value.message
