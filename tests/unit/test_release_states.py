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
