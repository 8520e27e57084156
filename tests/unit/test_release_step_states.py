"""``lamctl status`` shows each step of a release as done, in flight, in progress (interrupted when nothing drives
the release any more) or not reached, from the journal and what the alias shows (the journal is saved before an
alias write, and again only after it)."""

from __future__ import annotations

from lamctl.release import strategy as S
from lamctl.release.aws import AliasInfo
from lamctl.release.journal import Release
from lamctl.release.plan import build_plan, landed, step_states

PLAN = build_plan("app", "live", "1", "2", S.canary("10%5m"))  # weights 10%, bake 5m, finalize


def release(state="running", completed=(), pending=None) -> Release:
    return Release("r-1", "app", "live", plan=PLAN.to_dict(), snapshot=None, state=state,
                   completed=list(completed), pending=pending)


def test_a_write_saved_but_not_on_the_alias_is_in_flight():
    info = AliasInfo("live", "1", {}, "rev")
    assert step_states(release(pending=0), PLAN, info) == ["in flight", "", ""]


def test_a_write_the_alias_already_shows_is_done_and_the_next_step_in_progress():
    info = AliasInfo("live", "1", {"2": 0.1}, "rev")
    assert step_states(release(pending=0), PLAN, info) == ["done", "in progress", ""]


def test_an_ended_release_has_no_step_in_progress():
    info = AliasInfo("live", "1", {}, "rev")
    assert step_states(release(state="rolled_back", completed=[0, 1]), PLAN, info) == ["done", "done", ""]
    assert step_states(release(state="succeeded", completed=[0, 1, 2]), PLAN, info) == ["done", "done", "done"]


def test_the_next_step_of_a_release_nothing_drives_is_interrupted_not_in_progress():
    info = AliasInfo("live", "1", {"2": 0.1}, "rev")
    assert step_states(release(pending=0), PLAN, info, driven=False) == ["done", "interrupted", ""]


def test_weights_count_as_landed_only_on_the_alias_of_the_plan_s_current_version():
    weights = PLAN.steps[0]  # route 10% to version 2, the rest on version 1
    assert landed(weights, PLAN, AliasInfo("live", "1", {"2": 0.1}, "rev"))
    assert not landed(weights, PLAN, AliasInfo("live", "1", {"2": 0.2}, "rev"))
    assert not landed(weights, PLAN, AliasInfo("live", "1", {}, "rev"))
    for other in ("0", "3"):  # the alias was moved by someone else meanwhile
        assert not landed(weights, PLAN, AliasInfo("live", other, {"2": 0.1}, "rev"))
    assert not landed(weights, PLAN, None)  # no alias at all


def test_the_final_switch_counts_as_landed_only_at_the_target_with_empty_routing():
    final = PLAN.steps[2]
    assert landed(final, PLAN, AliasInfo("live", "2", {}, "rev"))
    assert not landed(final, PLAN, AliasInfo("live", "2", {"1": 0.5}, "rev"))
    assert not landed(final, PLAN, AliasInfo("live", "1", {}, "rev"))
    bake = PLAN.steps[1]  # not an alias write: never "landed"
    assert not landed(bake, PLAN, AliasInfo("live", "2", {}, "rev"))


def test_a_finished_final_switch_shows_done_and_the_release_is_not_shown_in_progress_when_it_failed():
    info = AliasInfo("live", "2", {}, "rev")
    assert step_states(release(completed=[0, 1], pending=2), PLAN, info) == ["done", "done", "done"]
    assert step_states(release(state="failed", completed=[0]), PLAN, AliasInfo("live", "1", {}, "rev")) == \
        ["done", "", ""]
