"""The release journal on its own (a memory store): where a release is kept and shown, what ``status`` reads
back from it, a damaged journal, and the promote / rollback requests another process leaves for a release."""

from __future__ import annotations

import json

import pytest

from lamctl.release import strategy as S
from lamctl.release.fakes import MemoryStore
from lamctl.release.journal import Journal, Release, folder
from lamctl.release.plan import build_plan
from lamctl.schemas.errors import CloudError

ARN = "arn:aws:lambda:us-east-1:123456789012:function:my-app.v2"


def a_release(strategy=None, state="running", rid="r-1") -> Release:
    plan = build_plan("app", "live", "1", "2", strategy or S.canary("10%5m"))
    return Release(rid, "app", "live", plan=plan.to_dict(), snapshot=None, state=state)


def test_a_function_given_by_arn_is_one_folder_with_only_safe_characters_kept():
    assert folder(ARN, "live") == "lamctl/releases/arn_aws_lambda_us-east-1_123456789012_function_my-app.v2/live/"
    assert folder("app", "blue/green") == "lamctl/releases/app/blue_green/"


def test_the_journal_is_shown_at_the_store_s_own_address():
    store = MemoryStore()
    store.where = "/project/.lamctl/"
    store.strip_prefix = "lamctl/"  # the folder store keeps lamctl/releases/x at <root>/releases/x
    assert Journal(store).where("app", "live") == "/project/.lamctl/releases/app/live/latest.json"
    plain = MemoryStore()
    plain.where = "s3://artifacts/"
    assert Journal(plain).where("app", "live") == "s3://artifacts/lamctl/releases/app/live/latest.json"


def test_a_saved_release_reads_back_whole_and_an_archived_one_is_kept_under_its_id():
    store, release = MemoryStore(), a_release()
    release.completed, release.pending, release.events = [0], 1, [{"kind": "weights"}]
    journal = Journal(store)
    journal.save(release)
    assert journal.load("app", "live") == release
    assert journal.load("app", "other") is None
    journal.archive(release)
    assert Release.from_json(store.objects["lamctl/releases/app/live/r-1.json"], "x") == release


def test_status_names_the_strategy_and_whether_the_release_is_still_active():
    assert a_release(S.canary("10%5m")).strategy == "canary 10%5m"
    assert a_release(S.linear("50%1m")).strategy == "linear 50%1m"
    assert a_release(S.all_at_once()).strategy == "all-at-once"
    assert [a_release(state=s).active for s in ("running", "rolling_back", "succeeded", "rolled_back",
                                                "conflict", "failed")] == [True, True, False, False, False, False]


def test_a_journal_written_by_a_newer_lamctl_reads_with_its_unknown_fields_left_out():
    data = json.loads(a_release().to_json())
    data["written_by"] = "lamctl 9"
    assert Release.from_json(json.dumps(data).encode(), "x") == a_release()


@pytest.mark.parametrize("raw", [b"{half", b'{"id": "r-1"}', b"[1]"])
def test_a_damaged_journal_is_a_cloud_error_at_its_address_with_what_to_do(raw):
    store = MemoryStore()
    store.where = "s3://artifacts/"
    store.objects["lamctl/releases/app/live/latest.json"] = raw
    with pytest.raises(CloudError) as err:
        Journal(store).load("app", "live")
    assert err.value.message.startswith("the release journal is damaged: ")
    assert err.value.where == "s3://artifacts/lamctl/releases/app/live/latest.json"
    assert err.value.hint == "inspect it; delete it only once the alias is on one version at 100%"


def test_a_request_counts_only_for_the_release_it_names_and_is_acknowledged_only_as_asked():
    store = MemoryStore()
    journal, release = Journal(store), a_release()
    assert journal.pending_request(release) is None
    journal.request("app", "live", "r-1", "promote", by="host:7")
    assert journal.pending_request(release) == "promote"
    assert journal.pending_request(a_release(rid="r-2")) is None
    journal.acknowledge(release, "rollback", "not asked")  # another action: left alone
    journal.acknowledge(a_release(rid="r-2"), "promote", "another release")
    assert journal.read_request("app", "live") == {"release": "r-1", "action": "promote", "by": "host:7"}
    journal.acknowledge(release, "promote", "after the hook")
    assert journal.read_request("app", "live") == {"release": "r-1", "action": "promote", "by": "host:7",
                                                   "note": "after the hook"}
    journal.clear_request("app", "live")
    assert journal.read_request("app", "live") is None and journal.pending_request(release) is None


@pytest.mark.parametrize("raw", [b"not json", b'["promote"]'])
def test_an_unreadable_request_is_no_request(raw):
    store = MemoryStore()
    store.objects["lamctl/releases/app/live/control.json"] = raw
    journal = Journal(store)
    assert journal.read_request("app", "live") is None
    assert journal.pending_request(a_release()) is None
    journal.acknowledge(a_release(), "promote", "seen")
    assert store.objects["lamctl/releases/app/live/control.json"] == raw
