"""``shift --engine codedeploy`` with no --to-version: $LATEST is published first, and an unchanged function
has nothing to shift (CodeDeploy shifts between published versions only)."""

from __future__ import annotations

from lamctl.release import strategy as S
from lamctl.release.clock import FakeClock
from lamctl.release.codedeploy import publish_target
from lamctl.release.engine import Engine
from lamctl.release.fakes import FakeAlarms, FakeLambda, MemoryStore


def _world():
    clock = FakeClock()
    lam = FakeLambda(clock)
    lam.add_function("app", versions=1)
    lam.set_alias("app", "live", "1")
    return lam, Engine(lam, FakeAlarms(clock), MemoryStore(), clock, owner="host-a:1")


def test_changed_code_is_published_and_becomes_the_target():
    lam, engine = _world()
    lam.change_code("app")
    plan, info = engine.plan("app", "live", None, S.all_at_once())
    assert plan.target == "$LATEST"
    published = publish_target(lam, plan, info)
    assert published.target == "2" and "2" in lam.functions["app"].versions


def test_unchanged_code_has_nothing_to_shift_and_a_given_version_is_kept():
    lam, engine = _world()
    plan, info = engine.plan("app", "live", None, S.all_at_once())
    assert publish_target(lam, plan, info) is None
    lam.add_function("other", versions=3)
    lam.set_alias("other", "live", "1")
    plan, info = engine.plan("other", "live", "3", S.all_at_once())
    before = lam.calls["PublishVersion"]
    assert publish_target(lam, plan, info) is plan and lam.calls["PublishVersion"] == before
