"""The release lock on its own (a memory store, a fake clock): what a second process is told when it finds the
lock, a damaged lock file, and the instant a lease runs out."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import pytest

from lamctl.release.clock import FakeClock
from lamctl.release.fakes import MemoryStore
from lamctl.release.lock import AliasLock, Lease, LeaseLost, LockHeld, owner_alive
from lamctl.schemas.errors import CloudError, ConflictError
from tests.helpers import wait_for

LOCK = "lamctl/releases/app/live/lock.json"
ELSEWHERE = "build-host-2:4242"  # a process on another machine: whether it runs cannot be told from here


def held_by_another_machine(clock: FakeClock, store: MemoryStore, ttl: float = 60.0) -> None:
    AliasLock(store, clock, owner=ELSEWHERE).acquire("app", "live", "r-other", ttl)


def test_a_live_lock_elsewhere_is_refused_with_the_seconds_its_lease_still_runs():
    clock, store = FakeClock(), MemoryStore()
    held_by_another_machine(clock, store)
    clock.advance(20)
    with pytest.raises(LockHeld) as err:
        AliasLock(store, clock, owner="here:1").acquire("app", "live", "r-mine", 60.0, takeover=True)
    assert err.value.message == f"release r-other is running on app:live (held by {ELSEWHERE})"
    assert "(40s from now unless that process renews it)" in err.value.hint
    assert json.loads(store.objects[LOCK])["release"] == "r-other"  # not displaced


def test_an_expired_lease_elsewhere_is_not_taken_without_resume_and_the_hint_says_how():
    clock, store = FakeClock(), MemoryStore()
    held_by_another_machine(clock, store)
    clock.advance(61)
    with pytest.raises(LockHeld) as err:
        AliasLock(store, clock, owner="here:1").acquire("app", "live", "r-mine", 60.0)
    assert err.value.message == "release r-other is running on app:live (its lease expired)"
    assert err.value.hint.startswith("resume it with 'lamctl shift --resume --function app --alias live'")
    taken = AliasLock(store, clock, owner="here:1").acquire("app", "live", "r-mine", 60.0, takeover=True)
    assert json.loads(store.objects[LOCK]) == {"owner": "here:1", "release": "r-mine", "expires": taken.expires}


@pytest.mark.parametrize("body", [b"{not json", b'{"owner": "x"}', b"[]"])
def test_a_damaged_lock_file_counts_as_expired_and_its_owner_is_told_so(body):
    clock, store = FakeClock(), MemoryStore()
    lock = AliasLock(store, clock, owner="here:1")
    lock.acquire("app", "live", "r-1", 60.0)
    store.objects[LOCK] = body
    with pytest.raises(LeaseLost, match="release r-1 lost its lock on app:live: the lock file is damaged"):
        lock.renew("app", "live", "r-1", 60.0)
    taken = AliasLock(store, clock, owner="here:2").acquire("app", "live", "r-2", 60.0, takeover=True)
    assert taken.release == "r-2" and json.loads(store.objects[LOCK])["owner"] == "here:2"


def test_a_renewal_that_keeps_failing_stops_the_release_the_moment_its_lease_runs_out():
    clock, store = FakeClock(), MemoryStore()
    lease = Lease.take(AliasLock(store, clock, owner="here:1"), "app", "live", "r-1", ttl=60.0)
    expires = lease.info.expires

    def outage(key, body, tag):
        raise CloudError(f"PutObject {key}: connection reset")

    store.put_if_match = outage
    while clock.now() < expires:
        lease.keep()  # fails, retried every 5 s while the lease still holds
        clock.advance(5)
    assert clock.now() == expires
    # from this instant another process may take the lock over: this one must stop writing now
    assert AliasLock(store, clock, owner="here:2").stale(lease.info)
    with pytest.raises(LeaseLost, match="could not renew its lock on app:live before the lease ran out"):
        lease.keep()


def test_a_lock_whose_process_on_this_machine_is_gone_is_taken_over_before_its_lease_runs_out():
    clock, store = FakeClock(), MemoryStore()
    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    gone = f"{socket.gethostname()}:{child.stdout.strip()}"  # exited and reaped
    AliasLock(store, clock, owner=gone).acquire("app", "live", "r-dead", 60.0)
    with pytest.raises(LockHeld) as err:
        AliasLock(store, clock, owner="here:1").acquire("app", "live", "r-mine", 60.0)
    assert err.value.message == "release r-dead is running on app:live (its process is gone)"
    assert err.value.hint.startswith("resume it with 'lamctl shift --resume --function app --alias live'")
    taken = AliasLock(store, clock, owner="here:1").acquire("app", "live", "r-mine", 60.0, takeover=True)
    assert taken.release == "r-mine"  # at once, the lease had 60 s to go


def test_a_killed_process_not_yet_reaped_counts_as_gone_and_a_running_one_as_alive():
    here = socket.gethostname()
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    try:
        wait_for(lambda: open(f"/proc/{child.pid}/stat").read().rsplit(")", 1)[-1].split()[0] == "Z",
                 "the child to exit (a zombie until reaped)", limit=30)
        assert owner_alive(f"{here}:{child.pid}") is False
    finally:
        child.wait()
    assert owner_alive(f"{here}:{child.pid}") is False  # reaped
    assert owner_alive(f"{here}:{os.getpid()}") is True
    assert owner_alive(f"{here}:not-a-pid") is None and owner_alive(f"other-host:{child.pid}") is None


def test_a_lock_that_keeps_vanishing_under_a_start_gives_up_after_three_tries():
    clock, store = FakeClock(), MemoryStore()
    store.put_if_absent = lambda key, body: False  # created by someone else each time...
    store.get_tagged = lambda key: None  # ...and released again before it could be read
    tries = []
    put_if_absent = store.put_if_absent
    store.put_if_absent = lambda key, body: tries.append(key) or put_if_absent(key, body)
    with pytest.raises(ConflictError, match="could not take the release lock of app:live") as err:
        AliasLock(store, clock, owner="here:1").acquire("app", "live", "r-1", 60.0)
    assert err.value.hint == "another release is starting at the same moment; run again"
    assert len(tries) == 3


def test_a_lost_lock_names_who_holds_it_now():
    clock, store = FakeClock(), MemoryStore()
    mine = AliasLock(store, clock, owner="here:1")
    mine.acquire("app", "live", "r-1", 60.0)
    clock.advance(61)  # ran out: a resume elsewhere took it over for this same release
    AliasLock(store, clock, owner=ELSEWHERE).acquire("app", "live", "r-1", 60.0, takeover=True)
    with pytest.raises(LeaseLost, match=f"lost its lock on app:live: {ELSEWHERE} took it over"):
        mine.renew("app", "live", "r-1", 60.0)
    clock.advance(61)  # and then a new release started there
    store.objects.pop(LOCK)
    AliasLock(store, clock, owner=ELSEWHERE).acquire("app", "live", "r-2", 60.0)
    with pytest.raises(LeaseLost, match=f"lost its lock on app:live: release r-2 holds it now \\(owner {ELSEWHERE}\\)"):
        mine.renew("app", "live", "r-1", 60.0)
    store.objects.pop(LOCK)
    with pytest.raises(LeaseLost, match="lost its lock on app:live: the lock was removed"):
        mine.renew("app", "live", "r-1", 60.0)
