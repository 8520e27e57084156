"""The memory experiment (lamctl tune) on a fake Lambda: sizes, REPORT lines, figures, picks, and the restore."""

from __future__ import annotations

import pytest

from lamctl.release import tune as T
from lamctl.release.clock import FakeClock
from lamctl.release.fakes import FakeTuneLambda
from lamctl.schemas.errors import CloudError, UsageError


def experiment(lam, sizes=(128, 512, 1769, 3008), n=5, **kw):
    events = []
    exp = T.Experiment(lam, "fn", list(sizes), n=n, on_event=lambda kind, data: events.append((kind, data)), **kw)
    return exp, events


def test_sizes_are_parsed_and_bad_ones_named():
    assert T.parse_sizes("128, 256,1769MB,256") == [128, 256, 1769]
    for bad, what in (("128,abc", "'abc'"), ("64", "64 MB"), ("20000", "20000 MB"), (" , ", "no memory size")):
        with pytest.raises(UsageError) as err:
            T.parse_sizes(bad)
        assert what in str(err.value) and err.value.where == "--memory"


def test_report_line_is_read():
    tail = ("START RequestId: a Version: 3\nhello\nEND RequestId: a\nREPORT RequestId: a\tDuration: 12.34 ms\t"
            "Billed Duration: 13 ms\tMemory Size: 256 MB\tMax Memory Used: 71 MB\tInit Duration: 99.00 ms\t\n")
    assert T.parse_report(tail) == T.Report(12.34, 13, 256, 71)
    assert T.parse_report("no report here") is None


def test_percentiles_and_cost():
    assert T.percentile([5, 1, 3], 50) == 3
    assert T.percentile([4, 1, 3, 2], 50) == 2.5
    assert T.percentile(list(range(1, 11)), 90) == 9
    assert T.percentile(list(range(1, 12)), 90) == 10
    # 1,000 ms at 1,024 MB on x86_64: 1 GB-s each, so a million cost 16.6667 USD plus 0.20 for the requests
    assert T.cost_per_million(1024, 1000, "x86_64") == pytest.approx(16.8667, abs=1e-4)
    assert T.cost_per_million(1024, 1000, "arm64") == pytest.approx(13.5334, abs=1e-4)


def test_cpu_bound_function_is_faster_up_to_one_vcpu_then_flat_and_picks_follow():
    clock = FakeClock()
    lam = FakeTuneLambda(clock, memory=256, work_ms=100.0, flat_ms=0.0)
    exp, events = experiment(lam, sizes=(128, 512, 1769, 3008))
    result = exp.run()
    by_size = {s.memory: s for s in result.sizes}
    assert by_size[128].median_ms == pytest.approx(100 * 1769 / 128, abs=0.01)
    assert by_size[1769].median_ms == pytest.approx(100.0) == by_size[3008].median_ms
    # CPU-bound: the GB-seconds are the same below one vCPU, so cost is flat there and grows above it
    assert by_size[128].cost_per_million == pytest.approx(by_size[512].cost_per_million, rel=0.01)
    assert by_size[3008].cost_per_million > by_size[1769].cost_per_million * 1.6
    assert result.picks.fastest == 1769  # as fast as 3008 and cheaper
    assert result.picks.cheapest in (128, 512, 1769)
    assert result.picks.balance == 1769  # cheapest within 1 % and fastest
    assert result.original_memory == 256
    # each size measured on its own version: one warm-up and n invokes each, never $LATEST
    assert [m for _, m in lam.invocations] == [128] * 6 + [512] * 6 + [1769] * 6 + [3008] * 6
    assert all(v != "$LATEST" for v, _ in lam.invocations)
    # restored: $LATEST has its memory back, the versions tune published are gone
    assert lam.memory == 256 and lam.version_memory == {}
    assert lam.memory_history[-1] == 256
    assert ("restored", {"memory": 256, "deleted": ["1", "2", "3", "4"], "left": []}) in events


def test_latest_gets_its_memory_back_before_the_first_invoke():
    clock = FakeClock()
    lam = FakeTuneLambda(clock, memory=512)
    seen = []
    original_invoke = lam.invoke

    def invoke(function, qualifier, payload):
        seen.append(lam.memory)
        return original_invoke(function, qualifier, payload)

    lam.invoke = invoke
    experiment(lam, sizes=(128, 1024), n=2)[0].run()
    assert set(seen) == {512}


def test_an_existing_version_is_used_but_never_deleted():
    clock = FakeClock()
    lam = FakeTuneLambda(clock, memory=128, versions=1)
    lam.unpublished = False  # $LATEST is version 1 as it was published
    result = experiment(lam, sizes=(128, 256), n=2)[0].run()
    assert [s.memory for s in result.sizes] == [128, 256]
    assert lam.version_memory == {"1": 128}  # the user's version stays; tune's version 2 is gone
    assert lam.calls["DeleteFunction"] == 1


def test_a_size_that_runs_out_of_memory_is_reported_and_never_picked():
    clock = FakeClock()
    lam = FakeTuneLambda(clock, memory=1024, needs_mb=256)
    result = experiment(lam, sizes=(128, 256, 512), n=3)[0].run()
    small = result.sizes[0]
    assert not small.ok and small.errors == {"Runtime.OutOfMemory": 1} and small.median_ms is None
    assert small.max_memory_mb == 128
    assert lam.invocations.count(("1", 128)) == 1  # after a failed warm-up the size is not insisted on
    assert 128 not in result.picks.as_dict().values()
    assert result.as_dict()["sizes"][0]["errors"] == {"Runtime.OutOfMemory": 1}


def test_ctrl_c_in_the_middle_restores_everything():
    clock = FakeClock()
    lam = FakeTuneLambda(clock, memory=640)
    lam.interrupt_at = 5
    exp, events = experiment(lam, sizes=(128, 1024), n=3)
    with pytest.raises(KeyboardInterrupt):
        exp.run()
    assert lam.memory == 640 and lam.version_memory == {}
    assert events[-1][0] == "restored"


def test_a_failed_invoke_restores_everything_and_raises_the_cloud_error():
    clock = FakeClock()
    lam = FakeTuneLambda(clock, memory=640)
    lam.fail_at = 2
    with pytest.raises(CloudError, match="injected"):
        experiment(lam, sizes=(128, 1024), n=3)[0].run()
    assert lam.memory == 640 and lam.version_memory == {}


def test_parallel_runs_n_at_a_time_after_n_warm_ups():
    clock = FakeClock()
    lam = FakeTuneLambda(clock, memory=128, work_ms=10)
    result = experiment(lam, sizes=(256,), n=4, parallel=True)[0].run()
    assert len(result.sizes[0].reports) == 4 and lam.calls["Invoke"] == 8


def test_function_being_updated_is_refused_before_anything_changes():
    clock = FakeClock()
    lam = FakeTuneLambda(clock, memory=128)
    lam._pending = 1
    with pytest.raises(UsageError, match="being updated"):
        experiment(lam)[0].run()
    assert lam.calls["UpdateFunctionConfiguration"] == 0 and lam.calls["PublishVersion"] == 0


def test_zero_invocations_refused():
    with pytest.raises(UsageError) as err:
        T.Experiment(FakeTuneLambda(FakeClock()), "fn", [128], n=0)
    assert err.value.where == "-n"


def test_balance_is_the_lowest_sum_of_ratios_to_the_best():
    a = T.SizeResult(128, [T.Report(1000, 1000, 128, 1)], median_ms=1000, cost_per_million=2.0)
    b = T.SizeResult(512, [T.Report(300, 300, 512, 1)], median_ms=300, cost_per_million=2.6)
    c = T.SizeResult(2048, [T.Report(200, 200, 2048, 1)], median_ms=200, cost_per_million=6.0)
    picks = T.pick([a, b, c])
    assert (picks.fastest, picks.cheapest, picks.balance) == (2048, 128, 512)
    assert T.balance_score(b, [a, b, c]) == pytest.approx(2.6 / 2.0 + 300 / 200)
