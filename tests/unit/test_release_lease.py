"""The release lock's lease: renewed on the injected clock while a release runs (holds, hook waits), a lost
lease stops the release without writing anything more, and a dead owner's lease is taken over once it ran out."""

from __future__ import annotations

import json
import threading
import time

import pytest

from lamctl.release import strategy as S
from lamctl.release.clock import FakeClock
from lamctl.release.engine import Engine
from lamctl.release.fakes import FakeAlarms, FakeLambda, MemoryStore
from lamctl.release.journal import Journal
from lamctl.release.lock import LEASE_SECONDS, LeaseLost, LockInfo
from lamctl.release.plan import BEFORE
from lamctl.schemas.errors import EXIT_FAILURE, ConflictError, RolledBack

T0 = 1_700_000_000.0
LOCK = "lamctl/releases/app/live/lock.json"
JOURNAL = "lamctl/releases/app/live/latest.json"


class Killed(BaseException):
    """Stands for SIGKILL: nothing of the engine runs after it, so the test puts back what the process left."""


class LockLog(MemoryStore):
    """A memory store that records every write of the lock: (clock time, owner, release, expires)."""

    def __init__(self, clock):
        super().__init__()
        self.clock = clock
        self.lock_writes: list[tuple[float, str, str, float]] = []

    def _log(self, key, body):
        if key == LOCK:
            data = json.loads(body)
            self.lock_writes.append((self.clock.now(), data["owner"], data["release"], data["expires"]))

    def put(self, key, body):
        super().put(key, body)
        self._log(key, body)

    def put_if_absent(self, key, body):
        won = super().put_if_absent(key, body)
        if won:
            self._log(key, body)
        return won

    def put_if_match(self, key, body, tag):
        won = super().put_if_match(key, body, tag)
        if won:
            self._log(key, body)
        return won

    def lock(self) -> dict | None:
        raw = self.objects.get(LOCK)
        return None if raw is None else json.loads(raw)


@pytest.fixture
def world():
    clock = FakeClock(T0)
    lam = FakeLambda(clock)
    lam.add_function("app", versions=2)
    lam.add_function("pre-hook")
    lam.set_alias("app", "live", "1")
    alarms = FakeAlarms(clock, errors="OK")
    store = LockLog(clock)
    engine = Engine(lam, alarms, store, clock, owner="ci-runner-1:100")  # "another machine": cannot be asked
    return clock, lam, alarms, store, engine


def start(engine, strategy, alarms=("errors",), hooks=None):
    plan, info = engine.plan("app", "live", "2", strategy, list(alarms), hooks)
    return engine.shift(plan, info)


def rel(t):
    return t - T0


def test_the_lease_is_short_and_renewed_through_a_30_minute_canary_hold(world):
    clock, lam, alarms, store, engine = world
    refused = []

    def during_hold(names):
        # 25 minutes in, another machine tries to take the release over: the owner is alive, so it must not
        if 1500 <= rel(clock.now()) < 1510 and not refused:
            other = Engine(lam, FakeAlarms(clock, errors="OK"), store, clock, owner="ci-runner-2:200")
            with pytest.raises(ConflictError, match="held by ci-runner-1:100"):
                other.resume("app", "live")
            refused.append(clock.now())
        if rel(clock.now()) > 0:  # not the pre-flight check, which comes before the lock
            assert store.lock()["expires"] - clock.now() >= 2 * LEASE_SECONDS / 3 - 1e-6
        return FakeAlarms.states(alarms, names)

    alarms.states = during_hold
    start(engine, S.canary("10%30m"))
    assert refused
    writes = store.lock_writes
    assert all(w[1:3] == writes[0][1:3] for w in writes)  # one owner, one release throughout
    assert writes[0][3] - writes[0][0] == LEASE_SECONDS == 60.0  # taken for a minute, not for the whole release
    times = [rel(w[0]) for w in writes]
    assert times[0] == 0.0 and times[-1] >= 1800 - 20
    assert max(b - a for a, b in zip(times, times[1:])) <= LEASE_SECONDS / 3 + 1e-6
    assert len(writes) >= 1800 / 20
    assert lam.aliases[("app", "live")].version == "2" and rel(clock.now()) == 1800.0
    assert store.lock() is None  # released at the end


@pytest.mark.parametrize("theft", ["taken over", "removed"])
def test_a_lease_lost_mid_hold_stops_the_release_and_writes_nothing_more(world, theft):
    clock, lam, alarms, store, engine = world
    seen = {}

    def during_hold(names):
        if rel(clock.now()) >= 300 and not seen:
            seen["at"] = clock.now()
            seen["writes"] = len(lam.writes)
            seen["journal"] = store.objects[JOURNAL]
            if theft == "taken over":  # a resume on another machine after this owner had stalled
                mine = store.lock()
                store.put(LOCK, LockInfo("ci-runner-2:200", mine["release"], clock.now() + 60).to_json())
            else:
                store.delete(LOCK)
        return FakeAlarms.states(alarms, names)

    alarms.states = during_hold
    with pytest.raises(LeaseLost) as err:
        start(engine, S.canary("10%30m"))
    e = err.value
    assert e.exit_code == EXIT_FAILURE and e.where == "app:live"
    rid = json.loads(seen["journal"])["id"]
    assert f"release {rid} lost its lock on app:live" in e.message
    assert ("ci-runner-2:200 took it over" in e.message) if theft == "taken over" else ("removed" in e.message)
    assert "--resume" in e.hint and "lamctl rollback" in e.hint
    assert clock.now() - seen["at"] <= LEASE_SECONDS / 3 + 1e-6  # noticed at the next renewal
    # no traffic moved, no rollback, the journal untouched: as the new owner (or resume / rollback) expects it
    assert len(lam.writes) == seen["writes"]
    assert lam.aliases[("app", "live")].weights == {"2": 0.1}
    assert store.objects[JOURNAL] == seen["journal"]
    assert Journal(store).load("app", "live").state == "running"
    if theft == "taken over":
        assert store.lock()["owner"] == "ci-runner-2:200"  # the thief's lock is left alone


@pytest.mark.parametrize("then", ["resume", "rollback"])
def test_after_a_lost_lease_resume_and_rollback_still_work(world, then):
    clock, lam, alarms, store, engine = world

    def during_hold(names):
        if rel(clock.now()) >= 120 and store.lock() and store.lock()["owner"] == "ci-runner-1:100":
            mine = store.lock()
            store.put(LOCK, LockInfo("ci-runner-2:200", mine["release"], clock.now() + 60).to_json())
        return FakeAlarms.states(alarms, names)

    alarms.states = during_hold
    with pytest.raises(LeaseLost):
        start(engine, S.canary("10%5m"))
    clock.advance(61)  # the thief dies as well; its lease runs out
    third = Engine(lam, FakeAlarms(clock, errors="OK"), store, clock, owner="ci-runner-3:300")
    if then == "resume":
        out = third.resume("app", "live")
        assert out.changed and lam.aliases[("app", "live")].version == "2"
        assert Journal(store).load("app", "live").state == "succeeded"
    else:
        with pytest.raises(RolledBack):
            third.rollback("app", "live")
        assert lam.aliases[("app", "live")].version == "1" and not lam.aliases[("app", "live")].weights
        assert Journal(store).load("app", "live").state == "rolled_back"
    assert store.lock() is None


def test_an_expired_lease_of_a_dead_owner_is_taken_over(world):
    clock, lam, alarms, store, engine = world
    left = {}

    def dies(names):
        if rel(clock.now()) >= 1000:  # SIGKILL mid-hold: the lock stays as the process last renewed it
            left["lock"] = store.objects[LOCK]
            left["at"] = clock.now()
            raise Killed()
        return FakeAlarms.states(alarms, names)

    alarms.states = dies
    with pytest.raises(Killed):
        start(engine, S.canary("10%30m"))
    store.objects[LOCK] = left["lock"]
    expires = json.loads(left["lock"])["expires"]
    assert 0 < expires - left["at"] <= LEASE_SECONDS  # a minute at most, not the 20 minutes the release had left

    other = Engine(lam, FakeAlarms(clock, errors="OK"), store, clock, owner="ci-runner-2:200")
    clock.advance(expires - clock.now() - 1)  # one second before the lease runs out: still the dead owner's
    with pytest.raises(ConflictError, match="held by ci-runner-1:100") as err:
        other.resume("app", "live")
    assert "once its lease runs out (1s from now" in err.value.hint
    clock.advance(1)
    out = other.resume("app", "live")
    assert out.changed and lam.aliases[("app", "live")].version == "2" and not lam.aliases[("app", "live")].weights
    assert rel(clock.now()) == 1800.0  # the time held before the crash counts: the hold still ends at 30 minutes
    assert store.lock() is None
    assert [w[1] for w in store.lock_writes].count("ci-runner-2:200") >= 2  # taken over, then renewed


def _wait_until(predicate, limit=5.0):
    """A test-side bound on another thread reaching a state (the engine's heartbeat), not a product wait."""
    deadline = time.monotonic() + limit
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("the engine did not renew the lease while the hook ran")
        time.sleep(0.001)


def test_the_lease_is_renewed_while_a_long_hook_runs(world):
    clock, lam, alarms, store, engine = world
    engine.heartbeat_seconds = 0.001

    def slow_hook(payload):  # runs in the engine's hook thread; three minutes on the fake clock
        for _ in range(18):
            clock.advance(10)
            _wait_until(lambda: store.lock()["expires"] - clock.now() > 2 * LEASE_SECONDS / 3)
        return {"status": "Succeeded"}

    lam.hooks["pre-hook"] = slow_hook
    start(engine, S.canary("10%1m"), alarms=(), hooks={BEFORE: "pre-hook"})
    during = [rel(w[0]) for w in store.lock_writes if 0 < rel(w[0]) <= 180]
    assert during == [20.0 * k for k in range(1, 10)]
    assert lam.aliases[("app", "live")].version == "2"


def test_a_lease_lost_while_a_hook_runs_stops_before_any_traffic_moves(world):
    clock, lam, alarms, store, engine = world
    engine.heartbeat_seconds = 0.001
    stopped = threading.Event()

    def hook(payload):
        clock.advance(10)
        store.put(LOCK, LockInfo("ci-runner-2:200", payload["DeploymentId"], clock.now() + 60).to_json())
        clock.advance(15)  # the next renewal is due: the engine stops waiting for this hook
        stopped.wait(5)
        return {"status": "Succeeded"}

    lam.hooks["pre-hook"] = hook
    try:
        with pytest.raises(LeaseLost, match="ci-runner-2:200 took it over"):
            start(engine, S.canary("10%1m"), alarms=(), hooks={BEFORE: "pre-hook"})
        assert not stopped.is_set()  # it stopped while the hook was still running
    finally:
        stopped.set()
    assert lam.writes == [] and lam.aliases[("app", "live")].version == "1"
    # the release went on record before its first hook (so status / promote / rollback find it), and nothing
    # was written after the lease was lost: running, no step completed, for whoever took over
    saved = Journal(store).load("app", "live")
    assert saved.state == "running" and saved.completed == [] and saved.pending is None


@pytest.mark.parametrize("outage", [30.0, 120.0])
def test_a_store_outage_is_retried_while_the_lease_holds_and_stops_the_release_once_it_ran_out(world, outage):
    from lamctl.schemas.errors import CloudError

    clock, lam, alarms, store, engine = world
    put = store.put_if_match  # a renewal is a conditional put on the version it read

    def flaky_put(key, body, tag):
        if key == LOCK and 0 < rel(clock.now()) <= outage:
            raise CloudError(f"PutObject s3://artifacts/{key}: connection reset")
        return put(key, body, tag)

    store.put_if_match = flaky_put
    if outage < LEASE_SECONDS:  # renewals fail for 30 s, then work again before the lease ran out
        start(engine, S.canary("10%5m"))
        assert lam.aliases[("app", "live")].version == "2"
        assert [rel(w[0]) for w in store.lock_writes][1] == pytest.approx(35.0)  # retried 5 s after each failure
        return
    with pytest.raises(LeaseLost, match="could not renew its lock on app:live before the lease ran out: "
                                        "PutObject s3://artifacts/lamctl/releases/app/live/lock.json"):
        start(engine, S.canary("10%5m"))
    assert LEASE_SECONDS <= rel(clock.now()) <= LEASE_SECONDS + 5
    assert lam.aliases[("app", "live")].weights == {"2": 0.1}  # stopped as it was, not rolled back
    assert Journal(store).load("app", "live").state == "running"
