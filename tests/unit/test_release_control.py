"""Acting on an alias outside a shift, with in-memory gateways and a fake clock: plain alias moves refused under
a running release, and a release held by a live process asked and watched until it acts."""

from __future__ import annotations

import dataclasses

import pytest

from lamctl.release.clock import FakeClock
from lamctl.release.control import live_holder, move_alias, wait_for_action
from lamctl.release.fakes import FakeLambda, MemoryStore
from lamctl.release.journal import Journal, Release
from lamctl.release.lock import AliasLock
from lamctl.schemas.errors import CloudError, ConflictError


@pytest.fixture
def world():
    clock = FakeClock()
    lam = FakeLambda(clock)
    lam.add_function("app", versions=3)
    store = MemoryStore()
    return clock, lam, Journal(store), AliasLock(store, clock)


def running(journal: Journal, release_id: str = "r-1") -> Release:
    release = Release(release_id, "app", "live", plan={}, snapshot=None)
    journal.save(release)
    return release


def test_an_alias_is_created_moved_or_left_as_it_is(world):
    clock, lam, journal, lock = world
    assert move_alias(lam, journal, lock, "app", "live", "1").action == "created"
    assert move_alias(lam, journal, lock, "app", "live", "1").action == "unchanged"
    moved = move_alias(lam, journal, lock, "app", "live", "3")
    assert (moved.action, moved.previous.version) == ("moved", "1")
    assert lam.aliases[("app", "live")].version == "3" and not lam.aliases[("app", "live")].weights


@pytest.mark.parametrize("how", ["journal", "lock"])
def test_an_alias_is_not_moved_under_a_running_release(world, how):
    clock, lam, journal, lock = world
    lam.set_alias("app", "live", "1")
    if how == "journal":
        running(journal)
    else:
        lock.acquire("app", "live", "r-1", ttl=60)
    with pytest.raises(ConflictError, match="release r-1 is running on app:live"):
        move_alias(lam, journal, lock, "app", "live", "2")
    assert lam.aliases[("app", "live")].version == "1" and lam.writes == []


def test_the_holder_is_named_only_while_its_lease_is_live(world):
    clock, lam, journal, lock = world
    assert live_holder(journal, lock, "app", "live") == (None, None)
    release = running(journal)
    lock.acquire("app", "live", release.id, ttl=60)
    found, holder = live_holder(journal, lock, "app", "live")
    assert found.id == "r-1" and holder.owner == lock.owner
    clock.advance(61)  # the lease ran out: nobody to ask, this process acts itself
    assert live_holder(journal, lock, "app", "live")[1] is None


class _OtherProcess(FakeClock):
    """A clock whose sleeps let the release's own process finish it after ``after`` seconds."""

    def __init__(self, journal: Journal, release: Release, after: float, state: str):
        super().__init__()
        self.journal, self.release, self.at, self.state = journal, release, self.now() + after, state

    def sleep(self, seconds: float) -> None:
        super().sleep(seconds)
        if self.now() >= self.at and self.release.active:
            self.release = dataclasses.replace(self.release, state=self.state)
            self.journal.save(self.release)


def test_waiting_returns_the_release_once_it_has_acted(world):
    _, _, journal, _ = world
    clock = _OtherProcess(journal, running(journal), after=5, state="rolled_back")
    ended = wait_for_action(journal, clock, "app", "live", "rollback", "r-1", wait=120)
    assert ended.state == "rolled_back"
    assert clock.sleeps == [1.0] * 5  # polled every second, no longer than needed


def test_a_release_that_does_not_act_in_time_is_an_error_naming_it(world):
    _, _, journal, _ = world
    clock = _OtherProcess(journal, running(journal), after=500, state="succeeded")
    with pytest.raises(CloudError, match="release r-1 did not act on the promote request within 30s"):
        wait_for_action(journal, clock, "app", "live", "promote", "r-1", wait=30)
    assert sum(clock.sleeps) == 30
