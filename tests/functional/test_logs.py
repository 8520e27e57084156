"""``lamctl logs`` and the local cloud's CloudWatch Logs, over real HTTP.

The local cloud writes each invocation's log (START, the function's output,
END, REPORT) into its CloudWatch Logs, one stream per execution environment,
named as Lambda names them; ``lamctl logs`` reads any endpoint's CloudWatch
Logs (FilterLogEvents), and ``--tail`` polls where there is no Live Tail API.
"""

from __future__ import annotations

import re

import pytest

from lamctl.release.clock import FakeClock
from lamctl.release.logs import LogsGateway, follow, parse_since, read
from lamctl.schemas.errors import UsageError
from tests.helpers import code_zip as _zip

HANDLER = """\
def handler(event, context):
    print("hello from", event.get("who", "nobody"))
    return {"ok": True}
"""
STREAM = re.compile(r"^\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32}$")


def _function(cloud, name: str = "talker") -> None:
    role = cloud.client("iam").create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    cloud.client("lambda").create_function(FunctionName=name, Runtime="python3.12", Role=role,
                                           Handler="app.handler", Code={"ZipFile": _zip(HANDLER)})


def test_the_local_cloud_writes_each_invocation_log_into_cloudwatch_logs(local_cloud):
    _function(local_cloud)
    lam = local_cloud.client("lambda")
    rids = [lam.invoke(FunctionName="talker", Payload=f'{{"who": "{who}"}}')["ResponseMetadata"]["RequestId"]
            for who in ("ann", "bob")]
    logs = local_cloud.client("logs")
    streams = logs.describe_log_streams(logGroupName="/aws/lambda/talker")["logStreams"]
    assert len(streams) == 1, streams  # one warm environment served both
    assert STREAM.match(streams[0]["logStreamName"]), streams[0]["logStreamName"]
    events = logs.filter_log_events(logGroupName="/aws/lambda/talker", interleaved=True)["events"]
    messages = [e["message"] for e in events]
    starts = [m for m in messages if m.startswith("START RequestId: ")]
    assert len(starts) == 2 and all("Version: $LATEST" in m for m in starts)
    assert "hello from ann" in messages and "hello from bob" in messages
    assert messages.index("hello from ann") < messages.index("hello from bob")
    reports = [m for m in messages if m.startswith("REPORT RequestId: ")]
    assert len(reports) == 2 and all("Billed Duration:" in m for m in reports)
    assert all(e["logStreamName"] == streams[0]["logStreamName"] for e in events)
    assert rids  # the invokes answered


def test_lamctl_logs_prints_the_lines_with_time_and_request_id(local_cloud, cli):
    _function(local_cloud)
    lam = local_cloud.client("lambda")
    lam.invoke(FunctionName="talker", Payload=b'{"who": "ann"}')
    result = cli("logs", "talker")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    start = next(line for line in lines if "START RequestId: " in line)
    rid = re.search(r"START RequestId: (\S+)", start).group(1)
    hello = next(line for line in lines if line.endswith("hello from ann"))
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z  ", hello), hello
    assert rid in hello  # the function's own line carries its invocation's request id
    assert lines.index(start) < lines.index(hello) < next(i for i, x in enumerate(lines) if "REPORT" in x)

    as_json = cli("--output", "json", "logs", "talker", "--filter", "hello")
    assert as_json.exit_code == 0, as_json.stderr
    events = [e for e in as_json.json_lines() if e["type"] == "log_event"]
    assert [e["message"] for e in events] == ["hello from ann"]
    assert events[0]["function"] == "talker" and events[0]["request_id"] == rid


def _put(logs, group: str, stream: str, events: list[tuple[int, str]]) -> None:
    try:
        logs.create_log_group(logGroupName=group)
    except logs.exceptions.ResourceAlreadyExistsException:
        pass
    try:
        logs.create_log_stream(logGroupName=group, logStreamName=stream)
    except logs.exceptions.ResourceAlreadyExistsException:
        pass
    logs.put_log_events(logGroupName=group, logStreamName=stream,
                        logEvents=[{"timestamp": t, "message": m} for t, m in events])


def test_several_functions_interleave_by_time_with_their_names(aws):
    import time

    logs = aws.client("logs")
    now = int(time.time() * 1000)
    _put(logs, "/aws/lambda/a", "s1", [(now - 3000, "START RequestId: 11111111-aaaa Version: 1"),
                                        (now - 1000, "a says hi")])
    _put(logs, "/aws/lambda/b", "s2", [(now - 2000, "START RequestId: 22222222-bbbb Version: 1"),
                                        (now - 500, "b says hi")])
    lines = read(LogsGateway(logs), ["a", "b"], now - 60_000)
    assert [(x.function, x.message, x.request_id) for x in lines] == [
        ("a", "START RequestId: 11111111-aaaa Version: 1", "11111111-aaaa"),
        ("b", "START RequestId: 22222222-bbbb Version: 1", "22222222-bbbb"),
        ("a", "a says hi", "11111111-aaaa"),
        ("b", "b says hi", "22222222-bbbb"),
    ]
    assert read(LogsGateway(logs), ["a"], now - 1500) == [lines[2]]  # --since cuts


def test_tail_polls_and_prints_each_new_line_once_even_one_written_late(aws):
    import time

    logs = aws.client("logs")
    now = int(time.time() * 1000)
    _put(logs, "/aws/lambda/f", "env1", [(now - 5000, "old line")])
    clock = FakeClock(now / 1000)
    seen: list[str] = []
    polls = {"n": 0}

    def until() -> bool:
        polls["n"] += 1
        if polls["n"] == 2:  # an invocation that ran for 40 s: its START is written when it ends, back-dated
            _put(logs, "/aws/lambda/f", "env1", [(now - 40_000, "START RequestId: 33333333-cccc Version: $LATEST"),
                                                  (now + 100, "END RequestId: 33333333-cccc")])
        if polls["n"] == 3:
            _put(logs, "/aws/lambda/f", "env1", [(now + 200, "after")])
        return polls["n"] > 4

    follow(LogsGateway(logs), ["f"], now - 60_000, lambda line: seen.append(line.message), clock,
           poll_seconds=2.0, live_tail=True, until=until)
    assert seen == ["old line", "START RequestId: 33333333-cccc Version: $LATEST", "END RequestId: 33333333-cccc",
                    "after"]
    assert clock.sleeps and all(s == 2.0 for s in clock.sleeps)  # polled on the injected clock


def test_since_durations():
    assert parse_since("10m") == 600 and parse_since("2h") == 7200 and parse_since("45") == 45
    for bad in ("", "ten minutes", "0m", "-5m", "3y"):
        with pytest.raises(UsageError):
            parse_since(bad)


@pytest.mark.parametrize("args, where", [
    ((), "name a function"),
    (("--function", "Fn"), "--function"),
    (("f", "--since", "soon"), "--since"),
])
def test_bad_invocations_exit_2_naming_what_is_wrong(aws, cli, args, where):
    result = cli("logs", *args)
    assert result.exit_code == 2
    assert where in result.stderr


def test_a_function_without_logs_says_so(aws, cli):
    result = cli("logs", "never-invoked")
    assert result.exit_code == 0
    assert "no logs yet for never-invoked" in result.stderr and result.stdout == ""


def test_a_stack_logs_every_function(aws, cli):
    import json
    import time

    role = aws.client("iam").create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    body = {"Resources": {name: {"Type": "AWS::Lambda::Function", "Properties": {
        "FunctionName": f"stk-{name.lower()}", "Runtime": "python3.12", "Handler": "app.handler", "Role": role,
        "Code": {"ZipFile": "def handler(e, c): return 1"}}} for name in ("One", "Two")}}
    aws.client("cloudformation").create_stack(StackName="stk", TemplateBody=json.dumps(body))
    logs = aws.client("logs")
    now = int(time.time() * 1000)
    _put(logs, "/aws/lambda/stk-one", "s", [(now - 2000, "one")])
    _put(logs, "/aws/lambda/stk-two", "s", [(now - 1000, "two")])
    both = cli("logs", "--stack", "stk")
    assert both.exit_code == 0, both.stderr
    assert [line.split()[0] for line in both.stdout.splitlines()] == ["stk-one", "stk-two"]
    assert [line.split()[-1] for line in both.stdout.splitlines()] == ["one", "two"]
    only = cli("logs", "--stack", "stk", "--function", "Two")
    assert only.exit_code == 0 and only.stdout.rstrip().endswith("two") and "one" not in only.stdout
    missing = cli("logs", "--stack", "stk", "--function", "Three")
    assert missing.exit_code == 2 and "Three" in missing.stderr


def test_logs_tail_on_the_local_cloud_follows_new_invocations_until_ctrl_c(local_cloud, cli, instant_clock):
    _function(local_cloud)
    lam = local_cloud.client("lambda")
    lam.invoke(FunctionName="talker", Payload=b'{"who": "before"}')

    def on_sleep(clock):
        if clock.slept == 0:
            lam.invoke(FunctionName="talker", Payload=b'{"who": "during"}')
        elif clock.slept >= 6:
            raise KeyboardInterrupt()

    instant_clock.on_sleep.append(on_sleep)
    result = cli("logs", "talker", "--tail")
    assert result.exit_code == 130
    said = [line.rsplit("  ", 1)[-1] for line in result.stdout.splitlines() if "hello from" in line]
    assert said == ["hello from before", "hello from during"]  # each once, in order
    assert "polling" in result.stderr


def test_tail_uses_a_live_tail_session_where_the_endpoint_has_one():
    from lamctl.release.fakes import FakeLiveTailLogsClient

    group_arn = "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/f"
    client = FakeLiveTailLogsClient(
        {"/aws/lambda/f": [{"timestamp": 1000, "message": "START RequestId: 44444444-dddd Version: 3",
                            "logStreamName": "s", "eventId": "1"}]},
        session=[[{"logGroupIdentifier": group_arn, "logStreamName": "s", "timestamp": 2000,
                   "ingestionTime": 2001, "message": "live line"}],
                 [{"logGroupIdentifier": group_arn, "logStreamName": "s", "timestamp": 3000,
                   "ingestionTime": 3001, "message": "END RequestId: 44444444-dddd"}]])
    clock = FakeClock()
    seen, modes = [], []
    follow(LogsGateway(client), ["f"], 0, seen.append, clock, live_tail=True, on_mode=modes.append)
    assert [(x.message, x.request_id, x.function) for x in seen] == [
        ("START RequestId: 44444444-dddd Version: 3", "44444444-dddd", "f"),
        ("live line", "44444444-dddd", "f"),
        ("END RequestId: 44444444-dddd", "44444444-dddd", "f")]
    assert modes == ["live tail"] and clock.sleeps == []  # no polling
    assert client.live_tail_requests == [{"logGroupIdentifiers": [group_arn]}]


def test_with_no_function_the_stack_of_lamctl_toml_is_read(aws, cli, tmp_path):
    (tmp_path / "lamctl.toml").write_text('[default]\nstack = "nostack"\n')
    result = cli("logs", cwd=tmp_path)
    assert result.exit_code == 2 and "stack nostack does not exist" in result.stderr
