"""Environments per function: reuse while warm, a new one only when all are busy, limits, no orphans."""

from __future__ import annotations

import json
import os
import textwrap
import threading

import pytest

from lamctl.local.runtime.environment import FunctionSpec
from lamctl.local.runtime.pool import Pool, TooManyRequests

APP = """
import os, time, uuid
CONTAINER = uuid.uuid4().hex
USES = 0

def handler(event, context):
    global USES
    USES += 1
    if event.get("mark"):  # tell the test the handler runs
        open(event["mark"], "w").close()
    if event.get("hold"):  # answer once the test creates this file (it never does: until killed)
        while not os.path.exists(event["hold"]):
            time.sleep(0.01)
    return {"container": CONTAINER, "uses": USES, "pid": os.getpid()}
"""


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.fixture
def spec(tmp_path):
    folder = tmp_path / "fn"
    folder.mkdir()
    (folder / "app.py").write_text(textwrap.dedent(APP))
    return FunctionSpec(name="Fn", runtime="python3.12", handler="app.handler", code_dir=str(folder), timeout=5)


@pytest.fixture
def pool():
    made = []

    def make(**kw) -> Pool:
        p = Pool(**kw)
        made.append(p)
        return p

    yield make
    for p in made:
        p.close()


def _wait_for(condition, what: str = "the condition") -> None:
    """Poll until ``condition()`` holds; the bound is generous (a loaded machine), never a product wait."""
    for _ in range(6000):
        if condition():
            return
        threading.Event().wait(0.01)
    raise AssertionError(f"{what} did not hold within 60 s")


class _Monotonic:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _call(p: Pool, payload: dict) -> dict:
    result = p.invoke("Fn", json.dumps(payload).encode())
    assert result.ok, result.log
    return json.loads(result.payload)


def test_sequential_callers_share_one_warm_environment(pool, spec):
    p = pool(idle_timeout=None)
    p.replace(spec)
    bodies = [_call(p, {}) for _ in range(5)]
    assert len({b["container"] for b in bodies}) == 1
    assert [b["uses"] for b in bodies] == [1, 2, 3, 4, 5]
    assert p.stats("Fn") == {"idle": 1, "busy": 0, "started": 1}


def test_concurrent_callers_with_a_busy_handler_get_one_environment_each(pool, spec, tmp_path):
    p = pool(idle_timeout=None)
    p.replace(spec)
    n = 4
    gate = tmp_path / "go"  # every handler holds until all n are busy at once, then the test lets them answer
    bodies = []
    lock = threading.Lock()

    def caller():
        body = _call(p, {"hold": str(gate)})
        with lock:
            bodies.append(body)

    threads = [threading.Thread(target=caller) for _ in range(n)]
    for t in threads:
        t.start()
    try:
        _wait_for(lambda: p.stats("Fn")["busy"] == n)
        assert p.stats("Fn") == {"idle": 0, "busy": n, "started": n}
    finally:
        gate.touch()
        for t in threads:
            t.join(60)
    assert len(bodies) == n
    assert len({b["container"] for b in bodies}) == n  # one invocation at a time per environment
    assert p.stats("Fn") == {"idle": n, "busy": 0, "started": n}
    # all warm now: the next calls reuse them, no new cold start
    again = [_call(p, {}) for _ in range(3)]
    assert {b["container"] for b in again} <= {b["container"] for b in bodies}
    assert p.stats("Fn")["started"] == n


def test_the_most_recently_freed_environment_is_reused_first(pool, spec):
    p = pool(idle_timeout=None)
    p.replace(spec)
    a = p.acquire("Fn")
    b = p.acquire("Fn")
    a_body = json.loads(a.invoke(b"{}").payload)
    b_body = json.loads(b.invoke(b"{}").payload)
    p.release(a)
    p.release(b)  # b is the most recently freed
    assert _call(p, {})["container"] == b_body["container"]
    assert a_body["container"] != b_body["container"]


def test_reserved_concurrency_and_max_concurrency_refuse_instead_of_queueing(pool, spec, tmp_path):
    import dataclasses

    p = pool(idle_timeout=None)
    p.replace(dataclasses.replace(spec, reserved_concurrency=1))
    held = p.acquire("Fn")
    with pytest.raises(TooManyRequests) as info:
        p.acquire("Fn")
    assert info.value.reason == "ReservedConcurrentExecutions" and info.value.limit == 1
    p.release(held)
    p.release(p.acquire("Fn"))  # free again once released

    q = pool(idle_timeout=None, max_concurrency=2)
    q.replace(spec)
    envs = [q.acquire("Fn"), q.acquire("Fn")]
    with pytest.raises(TooManyRequests) as info:
        q.acquire("Fn")
    assert info.value.reason == "--max-concurrency"
    for e in envs:
        q.release(e)


def test_idle_environments_are_stopped_after_the_idle_timeout(pool, spec):
    clock = _Monotonic()
    p = pool(idle_timeout=30, clock=clock)
    p.replace(spec)
    pid = _call(p, {})["pid"]
    assert p.reap() == 0 and _alive(pid)  # freshly freed: kept warm
    clock.now += 29.9
    assert p.reap() == 0 and _alive(pid)  # not yet idle for 30 s
    clock.now += 0.1
    assert p.reap() == 1
    assert not _alive(pid)
    assert p.stats("Fn")["idle"] == 0
    body = _call(p, {})  # a new cold start
    assert body["pid"] != pid and body["uses"] == 1


def test_the_reaper_thread_stops_idle_environments_by_itself(pool, spec):
    clock = _Monotonic()
    p = pool(idle_timeout=1, clock=clock)  # the reaper looks every 0.25 s of real time, against the test's clock
    p.replace(spec)
    pid = _call(p, {})["pid"]
    threading.Event().wait(0.6)  # the reaper has looked at least twice: not idle for 1 s on the test's clock
    assert _alive(pid) and p.stats("Fn")["idle"] == 1
    clock.now += 1
    _wait_for(lambda: not _alive(pid), "the reaper stopping the idle environment")
    assert p.stats("Fn")["idle"] == 0


def test_a_dead_environment_is_replaced_by_a_fresh_one(pool, spec, tmp_path):
    (tmp_path / "fn" / "app.py").write_text(textwrap.dedent(APP) + textwrap.dedent("""
        _orig = handler
        def handler(event, context):
            if event.get("die"):
                os._exit(1)
            return _orig(event, context)
    """))
    p = pool(idle_timeout=None)
    p.replace(spec)
    first = _call(p, {})
    crashed = p.invoke("Fn", b'{"die": 1}')
    assert crashed.error_type == "Runtime.ExitError"
    after = _call(p, {})
    assert after["container"] != first["container"] and after["uses"] == 1


def test_an_environment_that_exited_while_idle_is_not_handed_out(pool, spec):
    p = pool(idle_timeout=None)
    p.replace(spec)
    pid = _call(p, {})["pid"]
    os.kill(pid, 9)
    # until the exit can be collected (every thread of it gone), without collecting it
    _wait_for(lambda: os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None, "the exit")
    body = _call(p, {})
    assert body["pid"] != pid and body["uses"] == 1


def test_replacing_the_code_retires_old_environments(pool, spec, tmp_path):
    import dataclasses

    p = pool(idle_timeout=None)
    p.replace(spec)
    old_pid = _call(p, {})["pid"]
    p.replace(dataclasses.replace(spec, code_sha256="new"))
    assert not _alive(old_pid)
    assert _call(p, {})["pid"] != old_pid


def test_close_stops_every_process(pool, spec):
    p = pool(idle_timeout=None)
    p.replace(spec)
    envs = [p.acquire("Fn") for _ in range(3)]
    for e in envs:
        e.invoke(b"{}")
    p.release(envs[0])
    pids = p.pids()
    assert len(pids) == 3 and all(_alive(pid) for pid in pids)
    p.close()
    assert not any(_alive(pid) for pid in pids)


def test_idle_timeout_zero_means_no_warm_reuse(pool, spec):
    p = pool(idle_timeout=0)
    p.replace(spec)
    first, second = _call(p, {}), _call(p, {})
    assert first["container"] != second["container"] and second["uses"] == 1
    assert not _alive(first["pid"])
    assert p.stats("Fn") == {"idle": 0, "busy": 0, "started": 2}


def test_close_during_an_invocation_fails_it_and_leaves_no_process(pool, spec, tmp_path):
    p = pool(idle_timeout=None)
    p.replace(spec)
    warm = _call(p, {})  # a warm environment, so that the next call starts its handler at once
    results = []
    started = tmp_path / "started"
    t = threading.Thread(target=lambda: results.append(
        p.invoke("Fn", json.dumps({"hold": str(tmp_path / "never"), "mark": str(started)}).encode())))
    t.start()
    _wait_for(started.exists, "the handler running")
    p.close()
    t.join(30)
    assert not t.is_alive()
    assert results and results[0].error_type == "Runtime.ExitError"
    assert "signal: killed" in json.loads(results[0].payload)["errorMessage"]
    assert not _alive(warm["pid"])


def test_retired_functions_stop_their_idle_environments_now_and_busy_ones_when_released(pool, spec):
    import dataclasses

    p = pool(idle_timeout=None)
    other = dataclasses.replace(spec, name="Other")
    p.replace(spec)
    p.replace(other)
    busy, idle = p.acquire("Fn"), p.acquire("Fn")
    for env in (busy, idle):
        env.invoke(b"{}")
    p.release(idle)
    kept = json.loads(p.invoke("Other", b"{}").payload)["pid"]
    assert p.retire(lambda name: name == "Fn") == 1  # the idle one, now
    assert not _alive(idle.pid) and _alive(busy.pid) and _alive(kept)
    p.release(busy)  # its invocation over: not kept warm for a function that is gone
    assert not _alive(busy.pid)
    assert p.pids() == [kept] and p.spec("Fn") is None
    with pytest.raises(KeyError):
        p.acquire("Fn")
