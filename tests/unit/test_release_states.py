"""The journals and locks of state machine aliases are filed apart from Lambda's, and said where they are."""

from __future__ import annotations

import os

from lamctl.release.aws import LocalObjectStore
from lamctl.release.journal import Journal
from lamctl.release.states import StateMachineStore


def test_state_machine_releases_live_under_their_own_folder(tmp_path):
    plain = LocalObjectStore(str(tmp_path / ".lamctl"), strip_prefix="lamctl/")
    machines = StateMachineStore(plain)
    journal, lambdas = Journal(machines), Journal(plain)
    machines.put(journal.key("orders", "live"), b'{"of": "state machine"}')
    plain.put(lambdas.key("orders", "live"), b'{"of": "function"}')
    where = journal.where("orders", "live")
    assert where == str(tmp_path / ".lamctl" / "releases" / "@states" / "orders" / "live" / "latest.json")
    assert open(where, "rb").read() == b'{"of": "state machine"}'
    assert machines.get(journal.key("orders", "live")) == b'{"of": "state machine"}'
    assert plain.get(lambdas.key("orders", "live")) == b'{"of": "function"}'  # a function of the same name
    assert os.path.exists(lambdas.where("orders", "live"))
    assert machines.put_if_absent(journal.key("orders", "live"), b"x") is False


def test_a_state_machine_lock_names_its_target_with_state_machine_in_its_hints(tmp_path):
    """A lock left by a release whose lease ran out: the hint says how to resume or undo it, with
    --state-machine for a state machine alias (what shift and rollback take for it) and --function otherwise."""
    import pytest

    from lamctl.release.clock import FakeClock
    from lamctl.release.lock import AliasLock, LockHeld

    plain = LocalObjectStore(str(tmp_path / ".lamctl"), strip_prefix="lamctl/")
    for store, flag, other in ((StateMachineStore(plain), "--state-machine", "--function"),
                               (plain, "--function", "--state-machine")):
        clock = FakeClock()
        AliasLock(store, clock, owner="host-a:1").acquire("orders", "live", "r-1", ttl=30)
        clock.sleep(60)  # its lease ran out
        with pytest.raises(LockHeld) as err:
            AliasLock(store, clock, owner="host-b:2").acquire("orders", "live", "r-2", ttl=30)
        assert f"'lamctl shift --resume {flag} orders --alias live'" in err.value.hint, err.value.hint
        assert f"'lamctl rollback {flag} orders --alias live'" in err.value.hint, err.value.hint
        assert other not in err.value.hint
