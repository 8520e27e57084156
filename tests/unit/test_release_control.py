"""lamctl.release.control on the in-memory fakes and a fake clock: plain alias moves refused under a running
release; a release held by a live process asked and watched until it ends; and what promote / rollback report is
the state read back at the end, never the request."""

from __future__ import annotations

import dataclasses

import pytest

from lamctl.release import strategy as S
from lamctl.release.clock import FakeClock
from lamctl.release.control import RequestMissed, control, live_holder, move_alias, wait_for_action
from lamctl.release.engine import Engine
from lamctl.release.fakes import FakeAlarms, FakeLambda, MemoryStore
from lamctl.release.journal import Journal, Release
from lamctl.release.lock import AliasLock, LockHeld, LockInfo
from lamctl.schemas.errors import CloudError, ConflictError, RolledBack

LOCK = "lamctl/releases/app/live/lock.json"
CONTROL = "lamctl/releases/app/live/control.json"


class Killed(BaseException):
    pass


@pytest.fixture
def world():
    clock = FakeClock()
    lam = FakeLambda(clock)
    lam.add_function("app", versions=2)
    lam.set_alias("app", "live", "1")
    alarms = FakeAlarms(clock)
    store = MemoryStore()
    # a release that holds 10 % (its process is elsewhere, simulated below by editing the world)
    runner = Engine(lam, alarms, store, clock, owner="ci-runner-7:4242")
    runner.fault = lambda point, index: (_ for _ in ()).throw(Killed()) if (point, index) == ("after", 0) else None
    plan, info = runner.plan("app", "live", "2", S.canary("10%1h"))
    with pytest.raises(Killed):
        runner.shift(plan, info)
    release = Journal(store).load("app", "live")
    store.objects[LOCK] = LockInfo("ci-runner-7:4242", release.id, clock.now() + 60).to_json()  # it lives on
    me = Engine(lam, alarms, store, clock, owner="laptop:1")
    return clock, lam, store, release, me


def on_wait(clock, then):
    """Run ``then`` once, at the requester's first wait: what the running release does meanwhile."""
    real_sleep = clock.sleep
    done = []

    def sleep(seconds):
        if not done:
            done.append(True)
            then()
        real_sleep(seconds)

    clock.sleep = sleep


def finished(lam, store, release, state, version):
    """The release ended (its journal, its alias, its lock let go) without touching the request."""
    release.state = state
    Journal(store).save(release)
    lam.set_alias("app", "live", version)
    store.objects.pop(LOCK, None)


def never(*_):
    raise AssertionError("a live process runs the release: it must be asked, not acted on here")


def test_a_release_that_ends_before_acting_on_the_rollback_is_reported_as_such_exit_1(world):
    clock, lam, store, release, me = world
    said = []
    on_wait(clock, lambda: finished(lam, store, release, "succeeded", "2"))
    with pytest.raises(RequestMissed) as err:
        control(me, "app", "live", "rollback", 60, never, said.append)
    assert err.value.exit_code == 1
    assert f"release {release.id} finished before it acted on the rollback" in err.value.message
    assert "nothing was rolled back" in err.value.message
    assert "lamctl alias app live --version 1" in err.value.hint
    assert "lamctl shift --function app --alias live --to-version 1" in err.value.hint
    assert said and said[0].startswith("asked ci-runner-7:4242 to rollback")
    assert CONTROL not in store.objects  # the request it never took is not left behind


def test_a_rollback_is_a_success_only_when_the_alias_is_back_where_it_was(world):
    clock, lam, store, release, me = world
    on_wait(clock, lambda: finished(lam, store, release, "rolled_back", "1"))
    done = control(me, "app", "live", "rollback", 60, never, lambda _: None)
    assert done.state == "rolled_back" and done.data["version"] == "1" and not done.data["weights"]
    assert "app:live serves version 1 at 100%" in done.message


def test_a_rolled_back_release_whose_alias_moved_since_is_not_reported_as_rolled_back(world):
    clock, lam, store, release, me = world

    def rolled_back_then_moved():
        finished(lam, store, release, "rolled_back", "1")
        lam.set_alias("app", "live", "1", {"2": 0.5})  # someone else split it again

    on_wait(clock, rolled_back_then_moved)
    with pytest.raises(ConflictError) as err:
        control(me, "app", "live", "rollback", 60, never, lambda _: None)
    assert "serves version 1 50%, version 2 50%, not version 1 at 100%" in err.value.message


def test_promote_reports_a_rollback_that_happened_instead_as_exit_3(world):
    clock, lam, store, release, me = world

    def rolled_back():
        release.reason = "alarm in ALARM: errors"
        finished(lam, store, release, "rolled_back", "1")

    on_wait(clock, rolled_back)
    with pytest.raises(RolledBack) as err:
        control(me, "app", "live", "promote", 60, never, lambda _: None)
    assert "alarm in ALARM: errors; it was not promoted" in err.value.message and err.value.exit_code == 3


def test_a_process_that_takes_the_release_meanwhile_is_asked_instead(world):
    clock, lam, store, release, me = world
    store.objects.pop(LOCK)  # nobody holds it: this process acts itself ...
    tried = []

    def here():  # ... but a `shift --resume` took the lock first
        tried.append(True)
        store.objects[LOCK] = LockInfo("ci-runner-8:99", release.id, clock.now() + 60).to_json()
        raise LockHeld(f"release {release.id} is running on app:live (held by ci-runner-8:99)")

    said = []
    on_wait(clock, lambda: finished(lam, store, release, "rolled_back", "1"))
    done = control(me, "app", "live", "rollback", 60, here, said.append)
    assert tried == [True] and said[0].startswith("asked ci-runner-8:99 to rollback")
    assert done.state == "rolled_back"


def test_a_release_that_does_not_end_within_the_wait_is_exit_1_saying_where_it_is(world):
    clock, lam, store, release, me = world
    with pytest.raises(CloudError) as err:
        control(me, "app", "live", "rollback", 5, never, lambda _: None)
    assert err.value.exit_code == 1 and "did not finish the rollback within 5s" in err.value.message
    assert "it has not taken the request yet" in err.value.message


# ------------------------------------------------------------ plain moves, the live holder, waiting


@pytest.fixture
def bare():
    clock = FakeClock()
    lam = FakeLambda(clock)
    lam.add_function("app", versions=3)
    store = MemoryStore()
    return clock, lam, Journal(store), AliasLock(store, clock)


def running(journal: Journal, release_id: str = "r-1") -> Release:
    release = Release(release_id, "app", "live", plan={}, snapshot=None)
    journal.save(release)
    return release


def test_an_alias_is_created_moved_or_left_as_it_is(bare):
    clock, lam, journal, lock = bare
    assert move_alias(lam, journal, lock, "app", "live", "1").action == "created"
    assert move_alias(lam, journal, lock, "app", "live", "1").action == "unchanged"
    moved = move_alias(lam, journal, lock, "app", "live", "3")
    assert (moved.action, moved.previous.version) == ("moved", "1")
    assert lam.aliases[("app", "live")].version == "3" and not lam.aliases[("app", "live")].weights


@pytest.mark.parametrize("how", ["journal", "lock"])
def test_an_alias_is_not_moved_under_a_running_release(bare, how):
    clock, lam, journal, lock = bare
    lam.set_alias("app", "live", "1")
    if how == "journal":
        running(journal)
    else:
        lock.acquire("app", "live", "r-1", ttl=60)
    with pytest.raises(ConflictError, match="release r-1 is running on app:live"):
        move_alias(lam, journal, lock, "app", "live", "2")
    assert lam.aliases[("app", "live")].version == "1" and lam.writes == []


def test_the_holder_is_named_only_while_its_lease_is_live(bare):
    clock, lam, journal, lock = bare
    assert live_holder(journal, lock, "app", "live") == (None, None)
    release = running(journal)
    lock.acquire("app", "live", release.id, ttl=60)
    found, holder = live_holder(journal, lock, "app", "live")
    assert found.id == "r-1" and holder.owner == lock.owner
    clock.advance(61)  # the lease ran out: nobody to ask, this process acts itself
    assert live_holder(journal, lock, "app", "live")[1] is None


class _OtherProcess(FakeClock):
    """The requester's clock: its sleeps let the release's own process end it after ``after`` seconds."""

    def __init__(self, journal: Journal, release: Release, after: float, state: str):
        super().__init__()
        self.journal, self.release, self.at, self.state = journal, release, self.now() + after, state

    def sleep(self, seconds: float) -> None:
        super().sleep(seconds)
        if self.now() >= self.at and self.release.active:
            self.release = dataclasses.replace(self.release, state=self.state)
            self.journal.save(self.release)


def test_waiting_returns_once_the_release_has_ended(bare):
    _, _, journal, lock = bare
    release = running(journal)
    lock.acquire("app", "live", release.id, ttl=600)  # its process lives on (the lock's clock stands still)
    clock = _OtherProcess(journal, release, after=5, state="rolled_back")
    assert wait_for_action(journal, lock, clock, "app", "live", "rollback", "r-1", wait=120) is True
    assert journal.load("app", "live").state == "rolled_back"
    assert clock.sleeps == [0.25] * 20  # read every quarter second, no longer than needed


def test_waiting_stops_when_the_process_asked_is_gone_so_that_the_caller_acts(bare):
    _, _, journal, lock = bare
    release = running(journal)  # no lock held for it: its process is gone
    clock = _OtherProcess(journal, release, after=500, state="succeeded")
    said = []
    assert wait_for_action(journal, lock, clock, "app", "live", "rollback", "r-1", wait=120, say=said.append) \
        is False
    assert said == ["the process running release r-1 is gone; acting on it here"]
    assert sum(clock.sleeps) == 1.0 and journal.load("app", "live").active


def test_a_release_that_does_not_end_in_time_is_an_error_naming_it(bare):
    _, _, journal, lock = bare
    release = running(journal)
    lock.acquire("app", "live", release.id, ttl=600)
    clock = _OtherProcess(journal, release, after=500, state="succeeded")
    with pytest.raises(CloudError, match="release r-1 did not finish the promote within 30s"):
        wait_for_action(journal, lock, clock, "app", "live", "promote", "r-1", wait=30)
    assert sum(clock.sleeps) == 30
