"""The release engine with a fake clock and in-memory gateways: every weight, every time, every failure path."""

from __future__ import annotations

import json

import pytest

from lamctl.release import strategy as S
from lamctl.release.clock import FakeClock
from lamctl.release.engine import Engine, PreflightError
from lamctl.release.fakes import FakeAlarms, FakeLambda, MemoryStore
from lamctl.release.journal import Journal
from lamctl.release.plan import AFTER, BEFORE
from lamctl.schemas.errors import ConflictError, RolledBack, UsageError

T0 = 1_700_000_000.0


@pytest.fixture
def world():
    clock = FakeClock(T0)
    lam = FakeLambda(clock)
    lam.add_function("app", versions=2)
    lam.add_function("pre-hook")
    lam.add_function("post-hook")
    lam.set_alias("app", "live", "1")
    alarms = FakeAlarms(clock, errors="OK", latency="OK")
    store = MemoryStore()
    events = []
    engine = Engine(lam, alarms, store, clock, on_event=events.append, owner="host-a:1")
    return clock, lam, alarms, store, engine, events


def shift(engine, target="2", strategy=None, alarms=(), hooks=None):
    plan, info = engine.plan("app", "live", target, strategy or S.all_at_once(), alarms, hooks)
    return engine.shift(plan, info)


def rel(t):
    return t - T0


def test_a_30_minute_linear_release_sets_every_weight_at_its_time(world):
    clock, lam, alarms, store, engine, events = world
    out = shift(engine, strategy=S.linear("10%200s"), alarms=["errors"])  # 9 holds of 200 s: 30 minutes
    assert out.changed
    assert [(rel(t), v, w) for t, v, w in lam.writes] == (
        [(200.0 * k, "1", {"2": round(0.1 * (k + 1), 6)}) for k in range(9)] + [(1800.0, "2", {})])
    # alarms polled at least every 10 s during every hold
    polls = [rel(p) for p in alarms.polls]
    gaps = [b - a for a, b in zip([0.0] + polls, polls)]
    assert max(gaps) <= 10.0 + 1e-9
    assert rel(clock.now()) == 1800.0
    journal = Journal(store).load("app", "live")
    assert journal.state == "succeeded"
    assert journal.completed == list(range(len(journal.plan["steps"])))
    assert journal.snapshot["version"] == "1" and journal.snapshot["weights"] == {}
    assert lam.aliases[("app", "live")].version == "2" and not lam.aliases[("app", "live")].weights


def test_the_journal_is_saved_before_every_alias_write(world):
    clock, lam, alarms, store, engine, events = world
    seen = []
    original = lam.update_alias

    def spy(function, alias, version, weights, revision_id):
        saved = Journal(store).load("app", "live")
        seen.append((saved.pending, saved.state, version, dict(weights)))
        return original(function, alias, version, weights, revision_id)

    lam.update_alias = spy
    shift(engine, strategy=S.stepped("5%1m,50%1m"))
    # steps: 0 w5, 1 bake, 2 w50, 3 bake, 4 finalize
    assert seen == [(0, "running", "1", {"2": 0.05}), (2, "running", "1", {"2": 0.5}), (4, "running", "2", {})]


def test_hooks_run_before_and_after_traffic_with_codedeploy_ids(world):
    clock, lam, alarms, store, engine, events = world
    shift(engine, strategy=S.canary("10%5m"), hooks={BEFORE: "pre-hook", AFTER: "post-hook"})
    (t1, f1, p1), (t2, f2, p2) = lam.invocations
    assert (rel(t1), f1) == (0.0, "pre-hook") and (rel(t2), f2) == (300.0, "post-hook")
    release_id = Journal(store).load("app", "live").id
    assert p1["DeploymentId"] == release_id and p1["LifecycleEventHookExecutionId"] == f"{release_id}-{BEFORE}"
    assert (p1["Function"], p1["Alias"], p1["CurrentVersion"], p1["TargetVersion"], p1["Weight"]) == \
        ("app", "live", "1", "2", 0.0)
    assert p2["Weight"] == 1.0
    # the before hook ran before the first weight, the after hook after 100 %
    assert rel(lam.writes[0][0]) == 0.0 and lam.writes[-1][1:] == ("2", {})


@pytest.mark.parametrize("answer,needle", [
    ({"status": "Failed"}, "reported status Failed"),
    (("error", "boom"), "failed (Unhandled)"),
    (("slow", 120, {"status": "Succeeded"}), "timed out"),
])
def test_a_failing_hook_rolls_back_with_the_reason(world, answer, needle):
    clock, lam, alarms, store, engine, events = world
    engine.hook_timeout = 60
    lam.hooks["post-hook"] = lambda p: answer
    with pytest.raises(RolledBack) as err:
        shift(engine, strategy=S.canary("10%1m"), hooks={AFTER: "post-hook"})
    assert needle in err.value.message and err.value.exit_code == 3
    assert lam.aliases[("app", "live")].version == "1" and not lam.aliases[("app", "live")].weights
    journal = Journal(store).load("app", "live")
    assert journal.state == "rolled_back" and needle in journal.reason


@pytest.mark.parametrize("reported, rolled_back", [("Failed", True), ("Succeeded", False)])
def test_a_hook_written_for_codedeploy_is_judged_by_the_status_it_reported(world, reported, rolled_back):
    """A SAM-style hook returns nothing and reports through PutLifecycleEventHookExecutionStatus (the local
    cloud records it); its report decides."""
    clock, lam, alarms, store, engine, events = world

    def hook(payload):
        lam.hook_reports[payload["LifecycleEventHookExecutionId"]] = reported
        return None

    lam.hooks["pre-hook"] = hook
    if rolled_back:
        with pytest.raises(RolledBack, match="BeforeAllowTraffic hook pre-hook reported status Failed "
                                             r"\(PutLifecycleEventHookExecutionStatus\)"):
            shift(engine, strategy=S.canary("10%1m"), hooks={BEFORE: "pre-hook"})
        assert all(version == "1" and not weights for _, version, weights in lam.writes)  # no traffic to 2
    else:
        shift(engine, strategy=S.canary("10%1m"), hooks={BEFORE: "pre-hook"})
        assert lam.aliases[("app", "live")].version == "2"


@pytest.mark.parametrize("answer", [None, {"statusCode": 200}, "ok"])
def test_a_hook_that_gives_no_verdict_fails_the_release_when_the_hook_timeout_runs_out(world, answer):
    """CodeDeploy fails a hook that never reports once its time runs out: so does lamctl."""
    clock, lam, alarms, store, engine, events = world
    engine.hook_timeout = 300
    lam.hooks["pre-hook"] = lambda p: answer
    with pytest.raises(RolledBack) as err:
        shift(engine, strategy=S.canary("10%1m"), hooks={BEFORE: "pre-hook"})
    assert err.value.exit_code == 3
    msg = err.value.message
    assert "BeforeAllowTraffic hook pre-hook gave no verdict" in msg
    assert '{"status": "Succeeded"}' in msg and "PutLifecycleEventHookExecutionStatus" in msg and "5m" in msg
    assert rel(clock.now()) == pytest.approx(300.0)  # waited for a report until the hook timeout, no longer
    assert all(version == "1" and not weights for _, version, weights in lam.writes)  # no traffic to 2
    saved = Journal(store).load("app", "live")
    assert saved.state == "rolled_back" and "gave no verdict" in saved.reason
    waiting = [e for e in events if e.data.get("kind") == "hook-wait"]
    assert waiting and "waiting up to 5m" in waiting[0].message
    assert waiting[0].data["seconds"] == pytest.approx(300.0)


def test_a_verdict_reported_after_the_hook_returned_is_waited_for(world):
    clock, lam, alarms, store, engine, events = world
    engine.hook_timeout = 300
    lam.hooks["post-hook"] = lambda p: None
    returned = []

    def later(execution_id):
        if not returned:
            returned.append(clock.now())
        return "Succeeded" if clock.now() >= returned[0] + 42 else None

    lam.reported_hook_status = later
    out = shift(engine, strategy=S.all_at_once(), hooks={AFTER: "post-hook"})
    assert out.changed and lam.aliases[("app", "live")].version == "2"
    assert clock.now() - returned[0] == pytest.approx(42, abs=1.0)


def test_where_reports_cannot_be_read_a_hook_without_status_fails_at_once(world):
    """On AWS, lamctl's engine has no CodeDeploy deployment to read a report from: only the answer counts."""
    clock, lam, alarms, store, engine, events = world
    lam.reads_hook_reports = False
    lam.hooks["pre-hook"] = lambda p: None
    with pytest.raises(RolledBack) as err:
        shift(engine, strategy=S.canary("10%1m"), hooks={BEFORE: "pre-hook"})
    assert "gave no verdict" in err.value.message and '{"status": "Succeeded"}' in err.value.message
    assert rel(clock.now()) < 1  # nothing to wait for


@pytest.mark.parametrize("fired", ["errors", "latency"])  # each watched alarm, not only the first
def test_an_alarm_mid_hold_rolls_back_within_ten_seconds(world, fired):
    clock, lam, alarms, store, engine, events = world
    alarms.schedule(fired, T0 + 95, "ALARM")
    with pytest.raises(RolledBack) as err:
        shift(engine, strategy=S.canary("10%5m"), alarms=["errors", "latency"])
    assert fired in err.value.message
    last_t, version, weights = lam.writes[-1]
    assert version == "1" and weights == {}
    assert 95 <= rel(last_t) <= 105
    assert not [w for w in lam.writes if w[1] == "2"]  # never reached 100 %


def test_a_failed_call_mid_release_rolls_back(world):
    clock, lam, alarms, store, engine, events = world
    lam.fail_update_at = 2  # the 50 % step fails
    with pytest.raises(RolledBack, match="injected failure"):
        shift(engine, strategy=S.stepped("10%1m,50%1m"))
    assert lam.aliases[("app", "live")].version == "1" and not lam.aliases[("app", "live")].weights


def test_a_stale_revision_stops_without_overwriting(world):
    clock, lam, alarms, store, engine, events = world
    alarms.schedule("errors", T0, "OK")
    real_states = alarms.states

    def someone_moves_it(names):
        if rel(clock.now()) >= 30 and lam.aliases[("app", "live")].weights:
            lam.move_alias_behind_our_back("app", "live", "2")
        return real_states(names)

    alarms.states = someone_moves_it
    with pytest.raises(ConflictError) as err:
        shift(engine, strategy=S.canary("10%1m"), alarms=["errors"])
    assert "changed by someone else" in err.value.message and err.value.exit_code == 1
    # the alias stays as the other writer left it: no rollback write over it
    assert lam.aliases[("app", "live")].version == "2" and not lam.aliases[("app", "live")].weights
    assert [w[1:] for w in lam.writes] == [("1", {"2": 0.1})]  # our only write; the 412 wrote nothing
    assert Journal(store).load("app", "live").state == "conflict"


@pytest.mark.parametrize("setup,needle", [
    (lambda lam, al: lam.set_alias("app", "live", "1", {"2": 0.2}), "already splits traffic"),
    (lambda lam, al: lam.change_code("app", role="arn:aws:iam::123456789012:role/other") or
     lam.publish_version("app"), "same execution role"),
    (lambda lam, al: lam.change_code("app", dead_letter="arn:aws:sqs:us-east-1:1:dlq") or
     lam.publish_version("app"), "same dead-letter"),
    (lambda lam, al: al.set("errors", "ALARM"), "already in ALARM"),
    (lambda lam, al: al.set("latency", "ALARM"), "before the release: latency"),  # the second watched alarm
])
def test_preflight_refuses_before_any_write(world, setup, needle):
    clock, lam, alarms, store, engine, events = world
    setup(lam, alarms)
    target = "3" if "dead" in needle or "role" in needle else "2"
    before = len(lam.writes)
    with pytest.raises(PreflightError) as err:
        shift(engine, target=target, alarms=["errors", "latency"])
    assert needle in err.value.message and err.value.exit_code == 2
    assert len(lam.writes) == before and store.objects == {}


def test_latest_is_never_a_target_and_unknown_functions_are_named(world):
    clock, lam, alarms, store, engine, events = world
    with pytest.raises(PreflightError, match=r"\$LATEST"):
        shift(engine, target="$LATEST")
    with pytest.raises(UsageError, match="function nope does not exist"):
        engine.plan("nope", "live", "2", S.all_at_once())


def test_without_a_target_latest_is_published_and_unchanged_code_is_a_no_op(world):
    clock, lam, alarms, store, engine, events = world
    lam.change_code("app")
    out = shift(engine, target=None, strategy=S.canary("10%1m"))
    assert out.changed and lam.aliases[("app", "live")].version == "3"
    out = shift(engine, target=None)
    assert not out.changed and "nothing to shift" in out.message


def test_an_absent_alias_is_created_at_the_target(world):
    clock, lam, alarms, store, engine, events = world
    plan, info = engine.plan("app", "beta", "2", S.canary("10%5m"))
    engine.shift(plan, info)
    assert lam.aliases[("app", "beta")].version == "2" and rel(clock.now()) == 0.0


def test_a_second_shift_fails_at_once_naming_the_running_release(world):
    clock, lam, alarms, store, engine, events = world
    other = Engine(lam, alarms, store, clock, owner="host-b:2")
    names = []

    def during_bake(names_):
        if not names and "lamctl/releases/app/live/lock.json" in store.objects:
            with pytest.raises(ConflictError) as err:
                plan, info = other.plan("app", "live", "2", S.all_at_once())
                other.lock.acquire("app", "live", "r-other", 60)
            names.append(err.value.message)
        return []

    alarms.states = during_bake
    shift(engine, strategy=S.canary("10%1m"), alarms=["errors"])
    running = Journal(store).load("app", "live").id
    assert names and f"release {running} is running on app:live" in names[0]


def test_resume_continues_from_the_last_completed_step(world):
    clock, lam, alarms, store, engine, events = world
    stop_at = {"index": 2}

    class Killed(BaseException):
        pass

    def fault(point, index):
        if point == "after" and index == stop_at["index"]:
            raise Killed()

    engine.fault = fault
    with pytest.raises(Killed):
        shift(engine, strategy=S.stepped("10%1m,50%1m"))  # 0 w10, 1 bake, 2 w50 (killed), 3 bake, 4 finalize
    assert lam.aliases[("app", "live")].weights == {"2": 0.5}
    clock.advance(20)  # the process is gone for 20 s; 40 s of the 60 s hold remain
    engine2 = Engine(lam, alarms, store, clock, owner="host-a:99999999")
    engine2.lock.owner = "host-a:2"
    store.delete("lamctl/releases/app/live/lock.json")  # the dead owner's lease (takeover is tested elsewhere)
    out = engine2.resume("app", "live")
    assert out.changed
    assert [(rel(t), v, w) for t, v, w in lam.writes[-1:]] == [(120.0, "2", {})]
    journal = Journal(store).load("app", "live")
    assert journal.state == "succeeded" and journal.completed == [0, 1, 2, 3, 4]


def test_resume_finds_a_write_that_happened_after_the_journal_save(world):
    clock, lam, alarms, store, engine, events = world

    class Killed(BaseException):
        pass

    def fault(point, index):
        if point == "written" and index == 0:  # the weight was written, the next save never happened
            raise Killed()

    engine.fault = fault
    with pytest.raises(Killed):
        shift(engine, strategy=S.canary("10%1m"))
    saved = Journal(store).load("app", "live")
    assert saved.pending == 0 and 0 not in saved.completed
    store.delete("lamctl/releases/app/live/lock.json")
    Engine(lam, alarms, store, clock, owner="host-a:3").resume("app", "live")
    assert [w[1:] for w in lam.writes] == [("1", {"2": 0.1}), ("2", {})]


def test_during_a_hold_the_journal_has_the_write_done_with_the_alias_revision_it_left(world):
    clock, lam, alarms, store, engine, events = world

    class Killed(BaseException):
        pass

    engine.fault = lambda point, index: (_ for _ in ()).throw(Killed()) if (point, index) == ("after", 1) else None
    with pytest.raises(Killed):
        shift(engine, strategy=S.canary("10%1m"))  # 0 w10, 1 bake (killed at its end), 2 finalize
    saved = Journal(store).load("app", "live")
    assert saved.pending is None and 0 in saved.completed
    assert saved.revision_id == lam.aliases[("app", "live")].revision_id


def test_resume_refuses_when_someone_wrote_the_same_routing_during_the_hold(world):
    """Someone else moved the alias and put the same weights back: it is not the alias lamctl left (its revision
    changed), so a resume must not write over it."""
    clock, lam, alarms, store, engine, events = world

    class Killed(BaseException):
        pass

    engine.fault = lambda point, index: (_ for _ in ()).throw(Killed()) if (point, index) == ("after", 1) else None
    with pytest.raises(Killed):
        shift(engine, strategy=S.canary("10%1m"))
    lam.set_alias("app", "live", "1", {"2": 0.1})  # a new revision
    store.delete("lamctl/releases/app/live/lock.json")
    writes = len(lam.writes)
    with pytest.raises(ConflictError, match="someone else moved it"):
        Engine(lam, alarms, store, clock, owner="host-a:4").resume("app", "live")
    assert len(lam.writes) == writes


def test_resume_refuses_when_someone_moved_the_alias(world):
    clock, lam, alarms, store, engine, events = world

    class Killed(BaseException):
        pass

    engine.fault = lambda point, index: (_ for _ in ()).throw(Killed()) if (point, index) == ("after", 0) else None
    with pytest.raises(Killed):
        shift(engine, strategy=S.canary("10%1m"))
    lam.move_alias_behind_our_back("app", "live", "1")
    store.delete("lamctl/releases/app/live/lock.json")
    writes = len(lam.writes)
    with pytest.raises(ConflictError, match="someone else moved it"):
        Engine(lam, alarms, store, clock, owner="host-a:4").resume("app", "live")
    assert len(lam.writes) == writes


def test_rollback_restores_the_snapshot_and_promote_skips_the_holds(world):
    clock, lam, alarms, store, engine, events = world

    class Killed(BaseException):
        pass

    engine.fault = lambda point, index: (_ for _ in ()).throw(Killed()) if (point, index) == ("after", 0) else None
    with pytest.raises(Killed):
        shift(engine, strategy=S.linear("10%10m"))
    store.delete("lamctl/releases/app/live/lock.json")
    other = Engine(lam, alarms, store, clock, owner="host-a:5")
    t = clock.now()
    out = other.resume("app", "live", promote=True)
    assert out.changed and clock.now() == t  # no hold waited
    assert lam.writes[-1][1:] == ("2", {})
    with pytest.raises(RolledBack, match="rollback requested"):
        other.rollback("app", "live")  # undoes the last (succeeded) release
    assert lam.aliases[("app", "live")].version == "1"
    out = other.rollback("app", "live")
    assert not out.changed and "already rolled back" in out.message


def test_promote_and_rollback_requests_reach_a_running_release(world):
    clock, lam, alarms, store, engine, events = world
    sent = []

    def ask(names):
        if not sent and rel(clock.now()) >= 20:
            Engine(lam, alarms, store, clock, owner="host-b:9").request("app", "live", "promote")
            sent.append(clock.now())
        return []

    alarms.states = ask
    shift(engine, strategy=S.linear("10%10m"), alarms=["errors"])
    assert rel(clock.now()) <= 30  # acted at the next poll, not after 90 minutes
    assert lam.writes[-1][1:] == ("2", {})
    with pytest.raises(UsageError, match="no release is running"):
        engine.request("app", "live", "promote")


def test_events_describe_each_step_for_rendering(world):
    clock, lam, alarms, store, engine, events = world
    engine.tick_seconds = 1.0
    shift(engine, strategy=S.canary("10%5s"))
    kinds = [e.type for e in events]
    assert kinds[0] == "start" and kinds[-1] == "done"
    ticks = [e for e in events if e.type == "tick"]
    assert [round(e.data["remaining"]) for e in ticks] == [4, 3, 2, 1, 0]
    assert ticks[0].data["next"] == "route 100% to version 2, empty routing"
    steps = [e for e in events if e.type == "step"]
    assert [(e.data["version"], e.data["weight"]) for e in steps] == [("2", 0.1), ("2", 1.0)]
    assert json.loads(store.objects["lamctl/releases/app/live/latest.json"])["state"] == "succeeded"


def test_calls_per_step_stay_within_two_besides_alarm_and_request_polling(world):
    clock, lam, alarms, store, engine, events = world
    plan, info = engine.plan("app", "live", "2", S.canary("10%5s"))
    before = sum(lam.calls.values()) + sum(store.calls.values())
    engine.shift(plan, info)
    during = sum(lam.calls.values()) + sum(store.calls.values()) - before
    # a promote / rollback request is looked for once a second (one cheap GET), never more often
    requests = store.gets.count("lamctl/releases/app/live/control.json")
    assert 5 <= requests <= 5 + len(plan.steps)
    # pre-flight reads (2) + lock (put, get, delete = 3) + the journal and alias read again under the lock (2)
    # + per write (save, update, save again with the alias's new revision) x2 + final save + archive
    assert lam.calls["UpdateAlias"] == 2 and store.calls["PutObject"] == 1 + 2 * 2 + 2
    assert during - requests - 2 - 3 - 2 <= 2 * len(plan.steps) + 2 + 2


def test_a_missing_hook_function_is_refused_before_any_write(world):
    clock, lam, alarms, store, engine, events = world
    with pytest.raises(PreflightError) as err:
        shift(engine, strategy=S.canary("10%1m"), hooks={AFTER: "no-such-hook"})
    assert "the AfterAllowTraffic hook no-such-hook does not exist" in err.value.message
    assert lam.writes == [] and store.objects == {}


def test_a_lock_left_by_a_process_that_died_before_its_first_save_does_not_block(world):
    clock, lam, alarms, store, engine, events = world
    dead = Engine(lam, alarms, store, clock, owner="host-a:1")
    dead.lock.acquire("app", "live", "r-died-early", ttl=3600)
    clock.advance(3601)  # its lease ran out (a process elsewhere cannot be asked whether it lives)
    out = shift(engine, strategy=S.all_at_once())
    assert out.changed and lam.aliases[("app", "live")].version == "2"


def test_an_alias_created_by_someone_else_meanwhile_is_left_alone(world):
    clock, lam, alarms, store, engine, events = world
    plan, info = engine.plan("app", "beta", "2", S.all_at_once())
    assert info is None
    engine.fault = lambda point, index: lam.set_alias("app", "beta", "1") if point == "before-write" else None
    with pytest.raises(ConflictError):
        engine.shift(plan, info)
    assert lam.aliases[("app", "beta")].version == "1"  # not deleted by a rollback
    assert Journal(store).load("app", "beta").state == "conflict"


def test_rolling_back_a_release_that_created_the_alias_removes_it(world):
    clock, lam, alarms, store, engine, events = world
    lam.hooks["post-hook"] = lambda p: {"status": "Failed"}
    plan, info = engine.plan("app", "beta", "2", S.all_at_once(), hooks={AFTER: "post-hook"})
    with pytest.raises(RolledBack) as err:
        engine.shift(plan, info)
    assert "reported status Failed" in err.value.message and "it did not exist before" in err.value.hint
    assert ("app", "beta") not in lam.aliases
    assert [w[1] for w in lam.writes] == ["2", ""]  # created, then deleted


def test_a_rollback_that_finds_the_alias_moved_stops_without_overwriting(world):
    clock, lam, alarms, store, engine, events = world
    real_states = alarms.states

    def alarm_and_move(names):
        states = real_states(names)
        if "lamctl/releases/app/live/lock.json" in store.objects:  # during the release, not at pre-flight
            lam.move_alias_behind_our_back("app", "live", "2")
            alarms.set("errors", "ALARM")
            states = real_states(names)
        return states

    alarms.states = alarm_and_move
    with pytest.raises(ConflictError):
        shift(engine, strategy=S.canary("10%1m"), alarms=["errors"])
    assert lam.aliases[("app", "live")].version == "2"  # as the other writer left it
    saved = Journal(store).load("app", "live")
    assert saved.state == "conflict" and "alarm in ALARM" in saved.reason and "moved by someone else" in saved.reason


def _ask_at(clock, lam, alarms, store, at: float, action: str) -> list:
    """Another process asks for ``action`` at T0 + ``at``, in the middle of whatever sleep the engine is in."""
    sent: list = []
    real_sleep = clock.sleep

    def sleep(seconds):
        if not sent and rel(clock.now()) <= at < rel(clock.now()) + seconds:
            before = at - rel(clock.now())
            real_sleep(before)
            Engine(lam, alarms, store, clock, owner="host-b:9").request("app", "live", action)
            sent.append(clock.now())
            seconds -= before
        real_sleep(seconds)

    clock.sleep = sleep
    return sent


@pytest.mark.parametrize("strategy", ["canary 10%5s", "linear 10%3s", "canary 10%1h"])
def test_a_rollback_request_reaches_a_hold_of_any_length_within_a_second(world, strategy):
    """Holds shorter than the 10 s alarm poll used never to look for requests: the release then finished."""
    clock, lam, alarms, store, engine, events = world
    sent = _ask_at(clock, lam, alarms, store, 2.5, "rollback")
    with pytest.raises(RolledBack, match="rollback requested by an operator"):
        shift(engine, strategy=S.parse_setting(strategy), alarms=["errors"])
    restored_at, version, weights = lam.writes[-1]
    assert (version, weights) == ("1", {})
    assert restored_at - sent[0] <= 1.0 + 1e-9
    assert not [w for w in lam.writes if w[1] == "2"]  # never 100 % on the new version
    assert "lamctl/releases/app/live/control.json" not in store.objects  # the request was consumed
    # the alarms kept their own interval: not polled every second
    assert len(alarms.polls) <= 2 + rel(clock.now()) / 10


def test_a_promote_request_reaches_a_short_hold_within_a_second(world):
    clock, lam, alarms, store, engine, events = world
    sent = _ask_at(clock, lam, alarms, store, 2.5, "promote")
    out = shift(engine, strategy=S.linear("10%5s"))  # nine holds of 5 s: 45 s without the request
    assert out.changed and lam.writes[-1][1:] == ("2", {})
    assert lam.writes[-1][0] - sent[0] <= 1.0 + 1e-9
    saved = Journal(store).load("app", "live")
    assert saved.state == "succeeded" and any(e["kind"] == "promote" for e in saved.events)


def test_a_request_that_comes_while_a_hook_runs_is_said_at_once_and_acted_on_when_it_returns(world):
    import threading
    import time

    clock, lam, alarms, store, engine, events = world
    engine.heartbeat_seconds = 0.01
    control = "lamctl/releases/app/live/control.json"
    noted = threading.Event()

    def hook(payload):
        Engine(lam, alarms, store, clock, owner="host-b:9").request("app", "live", "rollback")
        for _ in range(1000):  # the test's own bounded wait for the engine's watcher, in real time
            if control in store.objects and "note" in json.loads(store.objects[control]):
                noted.set()
                break
            time.sleep(0.005)
        return {"status": "Succeeded"}

    lam.hooks["pre-hook"] = hook
    with pytest.raises(RolledBack, match="rollback requested by an operator"):
        shift(engine, strategy=S.canary("10%1m"), hooks={BEFORE: "pre-hook"})
    assert noted.is_set()
    said = [e.message for e in events if e.type == "request"]
    assert said == ["rollback requested: the rollback takes effect when the BeforeAllowTraffic hook pre-hook "
                    "returns"]
    assert all(version == "1" and not weights for _, version, weights in lam.writes)  # no traffic moved
    assert control not in store.objects


def test_status_tells_whether_a_process_still_drives_an_unfinished_release(world):
    import socket
    import subprocess
    import sys

    from lamctl.release.lock import LockInfo

    clock, lam, alarms, store, engine, events = world

    class Killed(BaseException):
        pass

    engine.fault = lambda point, index: (_ for _ in ()).throw(Killed()) if (point, index) == ("after", 0) else None
    with pytest.raises(Killed):
        shift(engine, strategy=S.canary("10%1h"))
    release = Journal(store).load("app", "live")
    lock_key = "lamctl/releases/app/live/lock.json"
    looker = Engine(lam, alarms, store, clock, owner="host-z:3")

    def held_by(owner, expires):
        store.objects[lock_key] = LockInfo(owner, release.id, expires).to_json()
        return looker.driver(release)

    # a process elsewhere that renews its lease: running
    d = held_by("ci-runner-7:4242", clock.now() + 40)
    assert d.running and d.state == "running" and not d.commands
    # the same process, its lease run out 30 s ago: nobody drives it
    d = held_by("ci-runner-7:4242", clock.now() - 30)
    assert not d.running and d.state == "lease-expired" and "ran out 30s ago" in d.message
    assert d.commands == ("lamctl shift --resume --function app --alias live",
                          "lamctl rollback --function app --alias live")
    # a process on this machine that is gone (a real one, ended), even with a lease still valid
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    owner = f"{socket.gethostname()}:{gone.stdout.strip()}"
    d = held_by(owner, clock.now() + 40)
    assert not d.running and d.state == "process-gone" and owner in d.message
    # no lock at all
    del store.objects[lock_key]
    d = looker.driver(release)
    assert not d.running and d.state == "no-lock"
    # a release that ended has no driver to speak of
    with pytest.raises(RolledBack):
        looker.rollback("app", "live")
    assert looker.driver(Journal(store).load("app", "live")) is None


def test_a_request_that_comes_during_a_step_is_acted_on_before_the_next_one(world):
    """Between steps too: a rollback asked while a (slow) alias write is in flight stops the release before its
    next step, here the AfterAllowTraffic hook."""
    clock, lam, alarms, store, engine, events = world
    original = lam.update_alias

    def slow_write(function, alias, version, weights, revision_id):
        if version == "2":
            clock.advance(0.7)
            Engine(lam, alarms, store, clock, owner="host-b:9").request("app", "live", "rollback")
            clock.advance(0.8)
        return original(function, alias, version, weights, revision_id)

    lam.update_alias = slow_write
    with pytest.raises(RolledBack, match="rollback requested by an operator"):
        shift(engine, strategy=S.all_at_once(), hooks={AFTER: "post-hook"})
    assert lam.invocations == []  # the next step never ran
    assert lam.aliases[("app", "live")].version == "1" and not lam.aliases[("app", "live")].weights


def test_a_failed_call_that_names_its_resource_rolls_back_with_that_name_in_the_reason(world):
    from lamctl.schemas.errors import CloudError

    clock, lam, alarms, store, engine, events = world
    original = lam.update_alias

    def throttled(function, alias, version, weights, revision_id):
        if weights.get("2") == 0.5:
            raise CloudError("Rate exceeded", where="app:live")
        return original(function, alias, version, weights, revision_id)

    lam.update_alias = throttled
    with pytest.raises(RolledBack, match="app:live: Rate exceeded"):
        shift(engine, strategy=S.stepped("10%1m,50%1m"))
    assert Journal(store).load("app", "live").reason == "app:live: Rate exceeded"


def test_each_hold_is_announced_with_its_share_and_length(world):
    clock, lam, alarms, store, engine, events = world
    shift(engine, strategy=S.stepped("5%1m,50%90s"))
    assert [e.message for e in events if e.type == "bake"] == ["holding 5% for 1m", "holding 50% for 1m30s"]


@pytest.mark.parametrize("role", ["arn:aws:iam::123456789012:role/aaa", "arn:aws:iam::123456789012:role/zzz"])
def test_preflight_names_both_roles_of_a_version_that_runs_as_another_role(world, role):
    clock, lam, alarms, store, engine, events = world
    lam.change_code("app", role=role)
    with pytest.raises(PreflightError) as err:  # $LATEST, to be published: already refused before publishing
        shift(engine, target=None, strategy=S.canary("10%1m"))
    assert err.value.message == (f"$LATEST (to be published) of app runs as role {role} but version 1 as "
                                 "arn:aws:iam::123456789012:role/app; a weighted alias needs the same execution role")
    lam.publish_version("app")
    with pytest.raises(PreflightError, match=f"^app: version 3 of app runs as role {role} but version 1"):
        shift(engine, target="3", strategy=S.canary("10%1m"))
    assert store.objects == {} and lam.aliases[("app", "live")].version == "1"



class LateClock(FakeClock):
    """Wakes up a little late from every sleep, as a real one does."""

    def sleep(self, seconds: float) -> None:
        super().sleep(seconds + 0.05 if seconds > 0 else seconds)


def test_a_wait_for_a_hook_s_verdict_ends_at_the_hook_timeout_even_when_sleeps_overshoot():
    clock = LateClock(T0)
    lam = FakeLambda(clock)
    lam.add_function("app", versions=2)
    lam.add_function("pre-hook")
    lam.set_alias("app", "live", "1")
    engine = Engine(lam, FakeAlarms(clock), MemoryStore(), clock, owner="host-a:1")
    engine.hook_timeout = 300
    lam.hooks["pre-hook"] = lambda p: None
    with pytest.raises(RolledBack, match="BeforeAllowTraffic hook pre-hook gave no verdict"):
        shift(engine, strategy=S.canary("10%1m"), hooks={BEFORE: "pre-hook"})
    assert 300.0 <= rel(clock.now()) < 301.0
    assert lam.aliases[("app", "live")].version == "1" and not lam.aliases[("app", "live")].weights


def _killed_after(engine, index):
    class Killed(BaseException):
        pass

    engine.fault = lambda point, i: (_ for _ in ()).throw(Killed()) if (point, i) == ("after", index) else None
    return Killed


def test_an_alarm_found_firing_when_a_release_resumes_rolls_it_back(world):
    clock, lam, alarms, store, engine, events = world
    killed = _killed_after(engine, 1)
    with pytest.raises(killed):
        shift(engine, strategy=S.canary("10%1m"), alarms=["errors"])
    alarms.set("errors", "ALARM")
    store.delete("lamctl/releases/app/live/lock.json")
    with pytest.raises(RolledBack, match="errors"):
        Engine(lam, alarms, store, clock, owner="host-a:6").resume("app", "live")
    assert lam.aliases[("app", "live")].version == "1" and not lam.aliases[("app", "live")].weights
    assert Journal(store).load("app", "live").state == "rolled_back"


def test_an_alias_moved_elsewhere_while_a_release_starts_is_a_conflict_and_moved_to_the_target_a_no_op(world):
    clock, lam, alarms, store, engine, events = world
    lam.change_code("app")
    lam.publish_version("app")  # version 3
    plan, info = engine.plan("app", "live", "2", S.canary("10%1m"))
    lam.move_alias_behind_our_back("app", "live", "3")
    with pytest.raises(ConflictError, match="app:live changed while this release was starting"):
        engine.shift(plan, info)
    assert lam.writes == []
    plan, info = engine.plan("app", "live", "2", S.canary("10%1m"))
    lam.move_alias_behind_our_back("app", "live", "2")
    out = engine.shift(plan, info)
    assert not out.changed and "moved to version 2 while this release was starting: nothing to shift" in out.message
    assert lam.writes == []


def test_a_publish_is_reported_as_the_first_step(world):
    clock, lam, alarms, store, engine, events = world
    lam.change_code("app")
    shift(engine, target=None)
    published = [e for e in events if e.type == "publish"]
    assert [(e.message, e.data["index"]) for e in published] == [("published app version 3", 0)]


def test_alarms_are_polled_every_ten_seconds_of_a_hold_and_checked_once_at_its_end(world):
    clock, lam, alarms, store, engine, events = world
    shift(engine, strategy=S.canary("10%1m"), alarms=["errors"])
    assert [rel(p) for p in alarms.polls] == [0.0, 10.0, 20.0, 30.0, 40.0, 50.0, 60.0]


def test_a_hook_that_cannot_be_invoked_rolls_back_saying_so(world):
    from lamctl.schemas.errors import CloudError

    clock, lam, alarms, store, engine, events = world

    def gone(function, payload, timeout=None):
        raise CloudError(f"Function not found: {function}")

    lam.invoke = gone
    with pytest.raises(RolledBack, match="BeforeAllowTraffic hook pre-hook could not be invoked: Function not found"):
        shift(engine, strategy=S.canary("10%1m"), hooks={BEFORE: "pre-hook"})
    assert all(version == "1" and not weights for _, version, weights in lam.writes)


def test_a_hook_without_a_verdict_is_waited_for_an_hour_by_default_as_codedeploy_does(world):
    clock, lam, alarms, store, engine, events = world
    lam.hooks["pre-hook"] = lambda p: None
    with pytest.raises(RolledBack, match="gave no verdict"):
        shift(engine, strategy=S.canary("10%1m"), hooks={BEFORE: "pre-hook"})
    assert rel(clock.now()) == pytest.approx(3600.0)


def test_a_release_stopped_by_a_conflict_is_not_rolled_back_over_the_other_writer(world):
    clock, lam, alarms, store, engine, events = world
    killed = _killed_after(engine, 1)
    with pytest.raises(killed):
        shift(engine, strategy=S.canary("10%1m"))
    saved = Journal(store).load("app", "live")
    saved.state = "conflict"
    Journal(store).save(saved)
    lam.move_alias_behind_our_back("app", "live", "2")
    writes = len(lam.writes)
    with pytest.raises(ConflictError, match="stopped because someone else moved the alias; lamctl will not "):
        Engine(lam, alarms, store, clock, owner="host-a:7").rollback("app", "live")
    assert len(lam.writes) == writes and lam.aliases[("app", "live")].version == "2"


@pytest.mark.parametrize("moved_to", ["1", "3"])
def test_undoing_a_finished_release_refuses_when_the_alias_moved_since(world, moved_to):
    clock, lam, alarms, store, engine, events = world
    lam.change_code("app")
    lam.publish_version("app")  # version 3
    shift(engine, strategy=S.all_at_once())
    lam.move_alias_behind_our_back("app", "live", moved_to)
    writes = len(lam.writes)
    with pytest.raises(ConflictError, match=f"app:live serves version {moved_to}.*, not version 2 of release"):
        engine.rollback("app", "live")
    assert len(lam.writes) == writes and lam.aliases[("app", "live")].version == moved_to


def test_a_poll_interval_of_zero_is_raised_to_a_twentieth_of_a_second(world):
    clock, lam, alarms, store, engine, events = world
    fast = Engine(lam, alarms, store, clock, owner="host-a:8", poll_seconds=0)
    fast.shift(*fast.plan("app", "live", "2", S.canary("10%1s"), ["errors"]))
    polls = [rel(p) for p in alarms.polls]
    assert polls[-1] == pytest.approx(1.0) and 19 <= len(polls) <= 23


def test_a_hold_that_ran_out_while_nothing_drove_the_release_is_announced_as_over(world):
    clock, lam, alarms, store, engine, events = world
    killed = _killed_after(engine, 0)
    with pytest.raises(killed):
        shift(engine, strategy=S.canary("10%1m"))
    clock.advance(90)  # the process is gone longer than the hold
    store.delete("lamctl/releases/app/live/lock.json")
    seen = []
    Engine(lam, alarms, store, clock, owner="host-a:9", on_event=seen.append).resume("app", "live")
    assert [e.message for e in seen if e.type == "bake"] == ["holding 10% for 0s"]
    assert lam.aliases[("app", "live")].version == "2"


def test_a_resume_reaches_the_resumed_seam_once_the_lock_is_its_own(world):
    """``LAMCTL_FAULT_PAUSE=resumed:0:FIFO`` (cli/faults.py) stops a resume there, for the crash tests."""
    clock, lam, alarms, store, engine, events = world
    killed = _killed_after(engine, 0)
    with pytest.raises(killed):
        shift(engine, strategy=S.canary("10%1m"))
    store.delete("lamctl/releases/app/live/lock.json")
    points = []
    resumer = Engine(lam, alarms, store, clock, owner="host-a:10",
                     fault=lambda point, i: points.append((point, i, "lock.json" in str(store.objects))))
    resumer.resume("app", "live")
    assert points[0] == ("resumed", 0, True)


def test_promote_and_rollback_requests_are_looked_up_at_most_once_a_second(world):
    clock, lam, alarms, store, engine, events = world
    shift(engine, strategy=S.stepped("10%1m,20%1m"), alarms=["errors"])  # 2 minutes of holds, 6 steps
    reads = [key for key in store.gets if key.endswith("/control.json")]
    assert 100 <= len(reads) <= 121  # one a second of the release, plus the first
