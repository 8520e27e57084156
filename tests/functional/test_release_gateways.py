"""The release gateways against the in-process emulator over HTTP: aliases, alarms, S3 lock, journal, CodeDeploy."""

from __future__ import annotations

import json
import threading

import pytest

from lamctl.release import strategy as S
from lamctl.release.aws import AlarmGateway, CodeDeployGateway, LambdaGateway, LocalObjectStore, S3ObjectStore
from lamctl.release.clock import FakeClock
from lamctl.release.codedeploy import submit_and_follow
from lamctl.release.engine import Engine
from lamctl.release.fakes import FakeCodeDeploy
from lamctl.release.journal import Journal
from lamctl.release.lock import AliasLock
from lamctl.release.plan import build_plan
from lamctl.schemas.errors import CloudError, ConflictError, RolledBack, UsageError
from tests.helpers import returning_zip as _zip


def make_function(aws, name="app", versions=2):
    iam, lam = aws.client("iam"), aws.client("lambda")
    try:
        role = iam.get_role(RoleName="lambda-role")["Role"]["Arn"]
    except Exception:
        role = iam.create_role(RoleName="lambda-role", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    lam.create_function(FunctionName=name, Runtime="python3.12", Role=role, Handler="app.handler",
                        Code={"ZipFile": _zip("v1")}, Publish=True)
    for v in range(2, versions + 1):
        lam.update_function_code(FunctionName=name, ZipFile=_zip(f"v{v}"))
        lam.publish_version(FunctionName=name)
    return lam


def test_weighted_alias_round_trip(aws):
    make_function(aws)
    gw = LambdaGateway(aws.client("lambda"))
    assert gw.get_alias("app", "live") is None
    created = gw.create_alias("app", "live", "1")
    assert (created.version, created.weights) == ("1", {})
    split = gw.update_alias("app", "live", "1", {"2": 0.25}, created.revision_id)
    assert split.weights == {"2": 0.25}
    again = gw.get_alias("app", "live")
    assert again.version == "1" and again.weights == {"2": 0.25} and again.describe() == \
        "version 1 75%, version 2 25%"
    done = gw.update_alias("app", "live", "2", {}, again.revision_id)
    assert gw.get_alias("app", "live").weights == {} and done.version == "2"
    assert gw.calls["UpdateAlias"] == 2


def test_function_configs_publish_and_unknown_functions(aws):
    lam = make_function(aws)
    gw = LambdaGateway(lam)
    assert gw.get_function_config("app", "2").role.endswith("role/lambda-role")
    assert gw.latest_version("app") == "2"
    assert gw.publish_version("app").version == "2"  # nothing changed: no new version
    lam.update_function_code(FunctionName="app", ZipFile=_zip("v3"))
    assert gw.publish_version("app").version == "3"
    with pytest.raises(UsageError, match="function nope does not exist"):
        gw.get_function_config("nope")
    with pytest.raises(UsageError, match="app:9 does not exist"):
        gw.get_function_config("app", "9")


def test_invoke_reports_the_answer(aws):
    make_function(aws)
    gw = LambdaGateway(aws.client("lambda"))
    result = gw.invoke("app", {"DeploymentId": "r-1"}, timeout=30)
    assert result.function_error is None and b"r-1" in result.payload  # the emulator echoes the event


def test_alarm_states_follow_set_alarm_state(aws):
    cw = aws.client("cloudwatch")
    for name in ("errors", "latency"):
        cw.put_metric_alarm(AlarmName=name, MetricName="Errors", Namespace="AWS/Lambda", Statistic="Sum", Period=60,
                            EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanThreshold")
        cw.set_alarm_state(AlarmName=name, StateValue="OK", StateReason="fine")
    gw = AlarmGateway(cw)
    assert [(a.name, a.state) for a in gw.states(["errors", "latency"])] == [("errors", "OK"), ("latency", "OK")]
    cw.set_alarm_state(AlarmName="latency", StateValue="ALARM", StateReason="p99 too high")
    states = gw.states(["errors", "latency"])
    assert states[1].state == "ALARM" and states[1].reason == "p99 too high"
    with pytest.raises(UsageError, match="no such CloudWatch alarm: missing"):
        gw.states(["errors", "missing"])


def test_s3_lock_conflict_names_the_running_release(aws):
    s3 = aws.client("s3")
    s3.create_bucket(Bucket="artifacts")
    store = S3ObjectStore(s3, "artifacts")
    clock = FakeClock()
    first = AliasLock(store, clock, owner="ci-runner-1:100")
    second = AliasLock(store, clock, owner="ci-runner-2:200")
    first.acquire("app", "live", "r-first", ttl=600)
    with pytest.raises(ConflictError) as err:
        second.acquire("app", "live", "r-second", ttl=600)
    assert "release r-first is running on app:live" in err.value.message
    with pytest.raises(ConflictError):  # a live owner elsewhere is never displaced, even by --resume
        second.acquire("app", "live", "r-first", ttl=600, takeover=True)
    clock.advance(601)  # the lease expired: an explicit resume may take over
    assert second.acquire("app", "live", "r-first", ttl=600, takeover=True).owner == "ci-runner-2:200"
    second.release("app", "live", "r-first")
    assert store.get("lamctl/releases/app/live/lock.json") is None


def test_concurrent_lock_attempts_exactly_one_wins(aws):
    s3 = aws.client("s3")
    s3.create_bucket(Bucket="artifacts")
    results = []
    barrier = threading.Barrier(6)

    def attempt(i):
        lock = AliasLock(S3ObjectStore(aws.client("s3"), "artifacts"), FakeClock(), owner=f"host-{i}:1")
        barrier.wait()
        try:
            lock.acquire("app", "live", f"r-{i}", ttl=600)
            results.append(("won", i))
        except ConflictError:
            results.append(("lost", i))

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r[0] for r in results) == ["lost"] * 5 + ["won"]


@pytest.fixture(params=["s3", "folder"])
def lock_store(request, tmp_path):
    """Each store the release lock lives in: S3 over HTTP (conditional writes), or the local folder (flock)."""
    if request.param == "s3":
        aws = request.getfixturevalue("aws")
        aws.client("s3").create_bucket(Bucket="artifacts")
        return lambda: S3ObjectStore(aws.client("s3"), "artifacts")
    return lambda: LocalObjectStore(str(tmp_path / ".lamctl"), strip_prefix="lamctl/")


def test_racing_takeovers_of_a_stale_lock_exactly_one_wins(lock_store):
    # a release died on another machine; its lease ran out; several `shift --resume` start at the same moment
    for round_ in range(4):
        alias = f"live{round_}"
        AliasLock(lock_store(), FakeClock(0.0), owner="dead-host:1").acquire("app", alias, "r-dead", ttl=60)
        barrier = threading.Barrier(5)
        results = []

        def resume(i):
            lock = AliasLock(lock_store(), FakeClock(1000.0), owner=f"host-{i}:1")
            barrier.wait()
            try:
                lock.acquire("app", alias, "r-dead", ttl=60, takeover=True)
                results.append(i)
            except ConflictError:
                pass

        threads = [threading.Thread(target=resume, args=(i,)) for i in range(5)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(results) == 1, results
        assert AliasLock(lock_store(), FakeClock(1000.0)).holder("app", alias).owner == f"host-{results[0]}:1"


class _TakenOverAfterRead:
    """A store wrapper: right after the old owner reads the lock, another process takes it over."""

    def __init__(self, store, takeover):
        self.store, self.takeover, self.armed = store, takeover, True

    def get_tagged(self, key):
        found = self.store.get_tagged(key)
        if self.armed:
            self.armed = False
            self.takeover()
        return found

    def __getattr__(self, name):
        return getattr(self.store, name)


def test_a_late_renewal_or_release_never_touches_the_lock_of_the_process_that_took_over(lock_store):
    from lamctl.release.lock import LeaseLost

    clock = FakeClock(0.0)
    AliasLock(lock_store(), clock, owner="slow-host:1").acquire("app", "live", "r-1", ttl=60)
    clock.advance(61)  # the owner stalled (a frozen VM) past its lease; another machine resumes the release
    rescuer = AliasLock(lock_store(), clock, owner="rescuer:2")

    def take_over():
        rescuer.acquire("app", "live", "r-1", ttl=60, takeover=True)

    slow = AliasLock(_TakenOverAfterRead(lock_store(), take_over), clock, owner="slow-host:1")
    with pytest.raises(LeaseLost, match="rescuer:2 took it over"):
        slow.renew("app", "live", "r-1", ttl=60)  # it read its own lock, then lost it before writing
    assert rescuer.holder("app", "live").owner == "rescuer:2"

    rescuer.release("app", "live", "r-1")
    AliasLock(lock_store(), clock, owner="slow-host:1").acquire("app", "live", "r-2", ttl=60)
    second = AliasLock(lock_store(), clock, owner="rescuer:3")
    clock.advance(61)
    late = AliasLock(_TakenOverAfterRead(lock_store(), lambda: second.acquire("app", "live", "r-2", ttl=60,
                                                                               takeover=True)),
                     clock, owner="slow-host:1")
    late.release("app", "live", "r-2")  # finished late: its release must not delete the new owner's lock
    assert second.holder("app", "live").owner == "rescuer:3"


def test_a_create_retried_after_it_landed_is_still_ours(lock_store):
    class LandsThenFails:
        def __init__(self, store):
            self.store = store

        def put_if_absent(self, key, body):
            self.store.put_if_absent(key, body)  # the first attempt landed, its answer was lost...
            return self.store.put_if_absent(key, body)  # ...and the retry finds the key taken

        def __getattr__(self, name):
            return getattr(self.store, name)

    clock = FakeClock(0.0)
    mine = AliasLock(LandsThenFails(lock_store()), clock, owner="ci:1").acquire("app", "live", "r-1", ttl=60)
    assert mine.owner == "ci:1" and AliasLock(lock_store(), clock).holder("app", "live") == mine


def test_local_store_lock_and_journal_without_a_bucket(tmp_path):
    store = LocalObjectStore(str(tmp_path / ".lamctl"), strip_prefix="lamctl/")
    assert store.put_if_absent("lamctl/releases/app/live/lock.json", b"{}")
    assert not store.put_if_absent("lamctl/releases/app/live/lock.json", b"{}")
    assert (tmp_path / ".lamctl" / "releases" / "app" / "live" / "lock.json").exists()
    assert Journal(store).where("app", "live").endswith(".lamctl/releases/app/live/latest.json")


def test_local_store_lock_racers_one_wins_and_a_reader_never_sees_half_a_lock(tmp_path):
    import threading

    store = LocalObjectStore(str(tmp_path / ".lamctl"), strip_prefix="lamctl/")
    body = b'{"owner": "%d", "padding": "' + b"x" * 4096 + b'"}'
    for round_ in range(30):
        key = f"lamctl/releases/app/live{round_}/lock.json"
        start = threading.Barrier(9)
        wins, seen = [], []

        def racer(i: int) -> None:
            start.wait()
            if store.put_if_absent(key, body % i):
                wins.append(i)

        def reader() -> None:
            start.wait()
            for _ in range(200):
                seen.append(store.get(key))

        threads = [threading.Thread(target=racer, args=(i,)) for i in range(8)] + [threading.Thread(target=reader)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(wins) == 1
        assert all(v is None or v == body % wins[0] for v in seen)  # never empty, never another racer's
        assert store.get(key) == body % wins[0]
    assert not [p for p in (tmp_path / ".lamctl").rglob("*") if p.name.endswith((".new", ".tmp"))]


def test_a_release_through_the_real_gateways(aws):
    make_function(aws)
    cw = aws.client("cloudwatch")
    cw.put_metric_alarm(AlarmName="errors", MetricName="Errors", Namespace="AWS/Lambda", Statistic="Sum", Period=60,
                        EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanThreshold")
    cw.set_alarm_state(AlarmName="errors", StateValue="OK", StateReason="fine")
    s3 = aws.client("s3")
    s3.create_bucket(Bucket="artifacts")
    lam = LambdaGateway(aws.client("lambda"))
    lam.create_alias("app", "live", "1")
    clock = FakeClock()
    fired = []

    class AlarmAt(AlarmGateway):
        def states(self, names):
            if clock.now() - 1_700_000_000.0 >= 40 and not fired:
                cw.set_alarm_state(AlarmName="errors", StateValue="ALARM", StateReason="errors > 1")
                fired.append(clock.now())
            return super().states(names)

    engine = Engine(lam, AlarmAt(cw), S3ObjectStore(s3, "artifacts"), clock)
    plan, info = engine.plan("app", "live", "2", S.canary("10%5m"), ["errors"])
    with pytest.raises(RolledBack, match="errors"):
        engine.shift(plan, info)
    alias = lam.get_alias("app", "live")
    assert alias.version == "1" and alias.weights == {}
    body = s3.get_object(Bucket="artifacts", Key="lamctl/releases/app/live/latest.json")["Body"].read()
    assert b'"state": "rolled_back"' in body
    assert s3.list_objects_v2(Bucket="artifacts", Prefix="lamctl/releases/app/live/r-")["KeyCount"] == 1
    assert "lamctl/releases/app/live/lock.json" not in [o["Key"] for o in s3.list_objects_v2(
        Bucket="artifacts")["Contents"]]


def _release_world(aws):
    make_function(aws)
    cw = aws.client("cloudwatch")
    cw.put_metric_alarm(AlarmName="errors", MetricName="Errors", Namespace="AWS/Lambda", Statistic="Sum", Period=60,
                        EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanThreshold")
    cw.set_alarm_state(AlarmName="errors", StateValue="OK", StateReason="fine")
    s3 = aws.client("s3")
    s3.create_bucket(Bucket="artifacts")
    lam = LambdaGateway(aws.client("lambda"))
    lam.create_alias("app", "live", "1")
    return cw, s3, lam


def test_the_gateway_sends_the_revision_id_and_a_stale_one_changes_nothing(aws):
    cw, s3, lam = _release_world(aws)
    seen = lam.get_alias("app", "live")
    moved = lam.update_alias("app", "live", "1", {"2": 0.1}, seen.revision_id)  # the current one: accepted
    assert moved.weights == {"2": 0.1} and moved.revision_id != seen.revision_id
    with pytest.raises(ConflictError, match="changed by someone else") as err:
        lam.update_alias("app", "live", "2", {}, seen.revision_id)  # the one of before
    assert err.value.exit_code == 1
    now = lam.get_alias("app", "live")
    assert (now.version, now.weights) == ("1", {"2": 0.1})


def test_a_release_stops_on_a_stale_revision_without_overwriting_end_to_end(aws):
    """Someone else moves the alias mid-hold: the engine's next write carries the RevisionId it last saw, Lambda
    (the local cloud) refuses it with 412, and the alias stays as the other writer left it."""
    cw, s3, lam = _release_world(aws)
    other = aws.client("lambda")
    clock = FakeClock()

    class MovedMidHold(AlarmGateway):
        def states(self, names):
            if clock.now() - 1_700_000_000.0 >= 30 and lam.get_alias("app", "live").weights:
                other.update_alias(FunctionName="app", Name="live", FunctionVersion="2",
                                   RoutingConfig={"AdditionalVersionWeights": {}})
            return super().states(names)

    engine = Engine(lam, MovedMidHold(cw), S3ObjectStore(s3, "artifacts"), clock)
    plan, info = engine.plan("app", "live", "2", S.canary("10%1m"), ["errors"])
    with pytest.raises(ConflictError, match="changed by someone else"):
        engine.shift(plan, info)
    alias = lam.get_alias("app", "live")
    assert alias.version == "2" and alias.weights == {}  # the other writer's, not overwritten by a rollback
    body = s3.get_object(Bucket="artifacts", Key="lamctl/releases/app/live/latest.json")["Body"].read()
    assert b'"state": "conflict"' in body


def test_a_rollback_that_finds_the_alias_moved_stops_without_overwriting_end_to_end(aws):
    cw, s3, lam = _release_world(aws)
    other = aws.client("lambda")
    clock = FakeClock()

    class AlarmAndMove(AlarmGateway):
        def states(self, names):
            if clock.now() - 1_700_000_000.0 >= 30 and lam.get_alias("app", "live").weights:
                other.update_alias(FunctionName="app", Name="live", FunctionVersion="2",
                                   RoutingConfig={"AdditionalVersionWeights": {}})
                cw.set_alarm_state(AlarmName="errors", StateValue="ALARM", StateReason="errors > 1")
            return super().states(names)

    engine = Engine(lam, AlarmAndMove(cw), S3ObjectStore(s3, "artifacts"), clock)
    plan, info = engine.plan("app", "live", "2", S.canary("10%1m"), ["errors"])
    with pytest.raises(ConflictError):
        engine.shift(plan, info)
    alias = lam.get_alias("app", "live")
    assert alias.version == "2" and alias.weights == {}  # the rollback did not write over the other writer
    body = s3.get_object(Bucket="artifacts", Key="lamctl/releases/app/live/latest.json")["Body"].read()
    assert b'"state": "conflict"' in body


def test_codedeploy_submission_creates_what_is_missing(aws):
    make_function(aws)
    plan = build_plan("app", "live", "1", "2", S.canary("10%5m"), hooks={"AfterAllowTraffic": "app"})
    gw = CodeDeployGateway(aws.client("codedeploy"))
    events = []
    clock = FakeClock()
    with pytest.raises(CloudError, match="still Created after 60s"):
        # the emulator records deployments but never runs them: follow until the wait runs out
        submit_and_follow(gw, clock, plan, "lamctl-app", "app-live", "arn:aws:iam::123456789012:role/cd",
                          events.append, poll_seconds=10, wait_timeout=60)
    cd = aws.client("codedeploy")
    group = cd.get_deployment_group(applicationName="lamctl-app", deploymentGroupName="app-live")["deploymentGroupInfo"]
    assert group["deploymentConfigName"] == "CodeDeployDefault.LambdaCanary10Percent5Minutes"
    dep_id = [e for e in events if "deployment_id" in e.data][0].data["deployment_id"]
    dep = cd.get_deployment(deploymentId=dep_id)["deploymentInfo"]
    assert dep["applicationName"] == "lamctl-app"
    assert '"TargetVersion": "2"' in dep["revision"]["appSpecContent"]["content"]
    assert clock.sleeps == [10] * 6
    # again: nothing to create the second time
    events.clear()
    submit_and_follow(gw, clock, plan, "lamctl-app", "app-live", None, events.append, follow=False)
    assert not [e for e in events if "created" in e.data]


@pytest.mark.parametrize("statuses,outcome", [(["InProgress", "Succeeded"], "Succeeded"),
                                              (["InProgress", "Failed"], RolledBack)])
def test_codedeploy_follow_until_the_end(statuses, outcome):
    fake = FakeCodeDeploy(statuses)
    clock = FakeClock()
    plan = build_plan("app", "live", "1", "2", S.linear("20%2m"))
    if outcome is RolledBack:
        with pytest.raises(RolledBack, match="failed: alarm fired"):
            submit_and_follow(fake, clock, plan, "a", "g", "arn:role", lambda e: None, poll_seconds=5)
    else:
        assert submit_and_follow(fake, clock, plan, "a", "g", "arn:role", lambda e: None).status == "Succeeded"
    assert fake.configs == {"lamctl.Linear20PercentEvery2Minutes": {
        "type": "TimeBasedLinear", "timeBasedLinear": {"linearPercentage": 20, "linearInterval": 2}}}


def test_a_deployment_nothing_starts_is_an_error_naming_it_not_a_long_wait():
    fake = FakeCodeDeploy(["Created"])  # stays Created, as a plain moto server leaves every deployment
    clock = FakeClock()
    plan = build_plan("app", "live", "1", "2", S.all_at_once())
    with pytest.raises(CloudError) as err:
        submit_and_follow(fake, clock, plan, "a", "g", "arn:role", lambda e: None, poll_seconds=10)
    assert "d-000000001" in err.value.message and "nothing has started it" in err.value.message
    assert err.value.where == "d-000000001" and err.value.exit_code == 1
    assert sum(clock.sleeps) == 300  # the start bound (five minutes), not the six hours a release may take
    # a deployment that has started is followed past that bound
    fake = FakeCodeDeploy(["Created"] * 3 + ["InProgress"] * 100 + ["Succeeded"])
    assert submit_and_follow(fake, FakeClock(), plan, "a", "g", "arn:role", lambda e: None,
                             poll_seconds=10).status == "Succeeded"


def test_a_412_from_update_alias_is_a_revision_mismatch(aws):
    # the emulator accepts stale RevisionIds (docs/architecture.md: what the emulator does by itself): botocore's Stubber answers as Lambda does
    from botocore.stub import Stubber

    from lamctl.release.aws import RevisionMismatch

    client = aws.client("lambda")
    gw = LambdaGateway(client)
    with Stubber(client) as stub:
        stub.add_client_error("update_alias", service_error_code="PreconditionFailedException",
                              service_message="The Revision Id provided does not match the latest Revision Id.",
                              http_status_code=412,
                              expected_params={"FunctionName": "app", "Name": "live", "FunctionVersion": "1",
                                               "RoutingConfig": {"AdditionalVersionWeights": {"2": 0.1}},
                                               "RevisionId": "rev-seen"})
        with pytest.raises(RevisionMismatch) as err:
            gw.update_alias("app", "live", "1", {"2": 0.1}, "rev-seen")
    assert "changed by someone else (RevisionId rev-seen is stale)" in err.value.message
    assert "did not overwrite" in err.value.hint


def test_a_lease_taken_over_in_s3_stops_the_release_and_rollback_still_works(aws, cli, monkeypatch, tmp_path):
    from lamctl.release.lock import LEASE_SECONDS, LeaseLost, LockInfo

    make_function(aws)
    s3 = aws.client("s3")
    s3.create_bucket(Bucket="artifacts")
    lam = LambdaGateway(aws.client("lambda"))
    lam.create_alias("app", "live", "1")
    key = "lamctl/releases/app/live/lock.json"
    clock = FakeClock()
    seen = {"expires": []}

    def lock():
        return json.loads(s3.get_object(Bucket="artifacts", Key=key)["Body"].read())

    class Watch(AlarmGateway):
        def states(self, names):
            at = clock.now() - 1_700_000_000.0
            if at > 0:
                seen["expires"].append(lock()["expires"] - clock.now())
            if at >= 90 and "stolen" not in seen:  # a resume on another machine takes the lock over
                seen["stolen"] = clock.now()
                seen["journal"] = s3.get_object(Bucket="artifacts", Key="lamctl/releases/app/live/latest.json")[
                    "Body"].read()
                s3.put_object(Bucket="artifacts", Key=key,
                              Body=LockInfo("ci-runner-2:200", lock()["release"], clock.now() + 60).to_json())
            return super().states(names)

    cw = aws.client("cloudwatch")
    cw.put_metric_alarm(AlarmName="errors", MetricName="Errors", Namespace="AWS/Lambda", Statistic="Sum", Period=60,
                        EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanThreshold")
    cw.set_alarm_state(AlarmName="errors", StateValue="OK", StateReason="fine")
    engine = Engine(lam, Watch(cw), S3ObjectStore(s3, "artifacts"), clock, owner="ci-runner-1:100")
    plan, info = engine.plan("app", "live", "2", S.canary("10%10m"), ["errors"])
    with pytest.raises(LeaseLost, match="ci-runner-2:200 took it over"):
        engine.shift(plan, info)
    # renewed all along: never less than two thirds of the lease left at a poll
    assert min(seen["expires"]) >= 2 * LEASE_SECONDS / 3 - 1e-6
    assert clock.now() - seen["stolen"] <= LEASE_SECONDS / 3 + 1e-6
    alias = lam.get_alias("app", "live")
    assert alias.version == "1" and alias.weights == {"2": 0.1}  # no traffic moved after the takeover
    assert s3.get_object(Bucket="artifacts", Key="lamctl/releases/app/live/latest.json")["Body"].read() == \
        seen["journal"]
    assert lock()["owner"] == "ci-runner-2:200"
    # the thief's lease (on the fake clock's 2023 dates) has long run out: an operator rolls back for real
    monkeypatch.setenv("LAMCTL_S3_BUCKET", "artifacts")
    r = cli("rollback", "--function", "app", "--alias", "live", cwd=tmp_path)
    assert r.exit_code == 0, r
    alias = lam.get_alias("app", "live")
    assert alias.version == "1" and alias.weights == {}
    assert s3.list_objects_v2(Bucket="artifacts", Prefix=key)["KeyCount"] == 0
