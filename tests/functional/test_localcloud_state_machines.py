"""Step Functions on the local cloud: samples/state-machine deploys (two functions and a state machine with a
Choice, a Wait, a Retry and a Catch), and ``lamctl execute`` runs its executions, whose Lambda tasks run the
deployed code on the local runtime. Wait states run at once here (``LAMCTL_STATES_WAIT_SCALE=0``)."""

from __future__ import annotations

import json
import pathlib
import shutil

import pytest

SAMPLE = pathlib.Path(__file__).resolve().parents[2] / "samples" / "state-machine"


@pytest.fixture
def sample(tmp_path, monkeypatch):
    monkeypatch.setenv("LAMCTL_STATES_WAIT_SCALE", "0")
    dest = tmp_path / "state-machine"
    shutil.copytree(SAMPLE, dest, ignore=shutil.ignore_patterns(".lamctl"))
    return dest


@pytest.fixture
def deployed(cli, local_cloud, sample, instant_clock):
    r = cli("--endpoint-url", local_cloud.endpoint, "deploy", cwd=sample)
    assert r.exit_code == 0, r
    return sample


def test_an_execution_runs_both_functions_deployed_code(cli, local_cloud, deployed):
    r = cli("--endpoint-url", local_cloud.endpoint, "execute", "OrderFlow", "--stack", "orders",
            "-e", "events/order.json", cwd=deployed)
    assert r.exit_code == 0, r
    assert json.loads(r.stdout) == {"order": "A-1001", "status": "charged", "total": 20}


def test_a_caught_error_takes_the_catch_path(cli, local_cloud, deployed):
    r = cli("--endpoint-url", local_cloud.endpoint, "--output", "json", "execute", "OrderFlow", "--stack", "orders",
            "-e", "events/large-order.json", cwd=deployed)
    assert r.exit_code == 0, r
    result = r.json_lines()[-1]
    assert result["status"] == "SUCCEEDED"
    assert result["output"] == {"order": "A-1002", "status": "declined", "reason": "PaymentDeclined"}


def test_a_failed_execution_names_the_state_error_and_cause_and_exits_1(cli, local_cloud, deployed):
    r = cli("--endpoint-url", local_cloud.endpoint, "execute", "OrderFlow", "--stack", "orders",
            "-e", "events/empty-order.json", cwd=deployed)
    assert r.exit_code == 1, r
    assert "in state Rejected" in r.stderr
    assert "InvalidOrder" in r.stderr and "the order has no items" in r.stderr
    assert r.stdout == ""


def _alias_routes(local_cloud) -> list[tuple[str, int]]:
    sfn = local_cloud.client("stepfunctions")
    (machine,) = [m["stateMachineArn"] for m in sfn.list_state_machines()["stateMachines"]]
    routes = sfn.describe_state_machine_alias(stateMachineAliasArn=f"{machine}:live")["routingConfiguration"]
    return [(r["stateMachineVersionArn"].rsplit(":", 1)[1], r["weight"]) for r in routes]


def _new_definition(local_cloud, status: str) -> str:
    """A change of the state machine outside the stack (its Declined state answers ``status``); its ARN."""
    sfn = local_cloud.client("stepfunctions")
    (machine,) = [m["stateMachineArn"] for m in sfn.list_state_machines()["stateMachines"]]
    definition = json.loads(sfn.describe_state_machine(stateMachineArn=machine)["definition"])
    definition["States"]["Declined"]["Parameters"]["status"] = status
    sfn.update_state_machine(stateMachineArn=machine, definition=json.dumps(definition))
    return machine


def test_shift_state_machine_runs_a_canary_on_its_alias(cli, local_cloud, deployed, instant_clock):
    assert _alias_routes(local_cloud) == [("1", 100)]  # AutoPublishAlias: live, created by the stack
    _new_definition(local_cloud, "declined-v2")
    during = []
    instant_clock.on_sleep.append(lambda clock: during.append(_alias_routes(local_cloud)))
    r = cli("--endpoint-url", local_cloud.endpoint, "--output", "json", "shift", "--state-machine", "OrderFlow",
            "--stack", "orders", "--alias", "live", "--canary", "10%5m", cwd=deployed)
    assert r.exit_code == 0, r
    result = r.json_lines()[-1]
    assert result["state"] == "succeeded" and result["version"] == "2", result
    assert [("1", 90), ("2", 10)] in during  # held at 10 % on the new version during the canary
    assert instant_clock.slept >= 300
    assert _alias_routes(local_cloud) == [("2", 100)]
    # executions of the alias now run version 2
    r = cli("--endpoint-url", local_cloud.endpoint, "--output", "json", "execute", "OrderFlow:live", "--stack",
            "orders", "-e", "events/large-order.json", cwd=deployed)
    assert r.exit_code == 0, r
    assert r.json_lines()[-1]["output"]["status"] == "declined-v2"


def test_an_alarm_rolls_a_state_machine_canary_back(cli, local_cloud, deployed, instant_clock):
    cloudwatch = local_cloud.client("cloudwatch")
    cloudwatch.put_metric_alarm(AlarmName="orders-errors", MetricName="ExecutionsFailed", Namespace="AWS/States",
                                Statistic="Sum", Period=60, EvaluationPeriods=1, Threshold=1,
                                ComparisonOperator="GreaterThanOrEqualToThreshold")
    cloudwatch.set_alarm_state(AlarmName="orders-errors", StateValue="OK", StateReason="quiet")
    _new_definition(local_cloud, "declined-v2")

    def fire(clock):
        if _alias_routes(local_cloud) == [("1", 90), ("2", 10)]:
            cloudwatch.set_alarm_state(AlarmName="orders-errors", StateValue="ALARM", StateReason="v2 fails")
    instant_clock.on_sleep.append(fire)
    r = cli("--endpoint-url", local_cloud.endpoint, "shift", "--state-machine", "OrderFlow", "--stack", "orders",
            "--alias", "live", "--linear", "10%1m", "--alarm", "orders-errors", cwd=deployed)
    assert r.exit_code == 3, r
    assert "orders-errors" in r.stderr
    assert _alias_routes(local_cloud) == [("1", 100)]  # back on version 1


def test_shift_state_machine_refuses_lambda_only_flags_and_unknown_names(cli, local_cloud, deployed):
    r = cli("--endpoint-url", local_cloud.endpoint, "shift", "--state-machine", "OrderFlow", "--stack", "orders",
            "--alias", "live", "--all-at-once", "--before-hook", "CheckOrder", cwd=deployed)
    assert r.exit_code == 2, r
    assert "--before-hook" in r.stderr
    r = cli("--endpoint-url", local_cloud.endpoint, "shift", "--state-machine", "CheckOrder", "--stack", "orders",
            "--alias", "live", "--all-at-once", cwd=deployed)
    assert r.exit_code == 2, r
    assert "CheckOrder" in r.stderr and "not a state machine" in r.stderr and "OrderFlow" in r.stderr
    r = cli("--endpoint-url", local_cloud.endpoint, "shift", "--state-machine", "OrderFlow", "--stack", "orders",
            "--alias", "live", "--canary", "2.5%1m", cwd=deployed)
    assert r.exit_code == 2, r
    assert "whole-percent" in r.stderr
    assert _alias_routes(local_cloud) == [("1", 100)]  # nothing written


def test_status_and_rollback_of_a_state_machine_release(cli, local_cloud, deployed, instant_clock):
    _new_definition(local_cloud, "declined-v2")
    base = ("--endpoint-url", local_cloud.endpoint)
    assert cli(*base, "shift", "--state-machine", "OrderFlow", "--stack", "orders", "--alias", "live",
               "--all-at-once", cwd=deployed).exit_code == 0
    r = cli(*base, "--output", "json", "status", "--state-machine", "OrderFlow", "--stack", "orders", "--alias",
            "live", cwd=deployed)
    assert r.exit_code == 0, r
    lines = r.json_lines()
    assert [l for l in lines if l["type"] == "weight"] == [{"type": "weight", "version": "2", "weight": 1.0}]
    assert lines[-1]["release"]["state"] == "succeeded"
    machine = _new_definition(local_cloud, "declined-v2")  # no change: the same revision
    name = machine.rsplit(":", 1)[1]
    again = cli(*base, "shift", "--state-machine", name, "--alias", "live", "--all-at-once", cwd=deployed)
    assert again.exit_code == 0 and "nothing to shift" in again.stdout + again.stderr, again
    # the release is filed apart from a Lambda alias's: a function of the same name has no release
    r = cli(*base, "rollback", "--function", name, "--alias", "live", cwd=deployed)
    assert r.exit_code == 2 and "nothing to roll back" in r.stderr, r
    r = cli(*base, "rollback", "--state-machine", name, "--alias", "live", cwd=deployed)
    assert r.exit_code == 0, r
    assert _alias_routes(local_cloud) == [("1", 100)]


def test_the_hints_of_an_interrupted_state_machine_release_name_it_with_state_machine(cli, local_cloud, deployed,
                                                                                     instant_clock):
    """Resume, rollback and status are suggested with --state-machine NAME (what those commands take for a state
    machine), never --function; and the resume suggested works as written."""
    name = _new_definition(local_cloud, "declined-v2").rsplit(":", 1)[1]
    base = ("--endpoint-url", local_cloud.endpoint)
    resume = f"lamctl shift --resume --state-machine {name} --alias live"
    undo = f"lamctl rollback --state-machine {name} --alias live"

    def interrupt(clock):  # Ctrl-C during the canary's hold
        if _alias_routes(local_cloud) == [("1", 90), ("2", 10)]:
            raise KeyboardInterrupt
    instant_clock.on_sleep.append(interrupt)
    r = cli(*base, "shift", "--state-machine", "OrderFlow", "--stack", "orders", "--alias", "live", "--canary",
            "10%5m", cwd=deployed)
    instant_clock.on_sleep.remove(interrupt)
    assert r.exit_code == 130, r
    assert resume in r.stderr and undo in r.stderr, r.stderr
    assert "--function" not in r.stderr and "CodeDeploy" not in r.stderr, r.stderr
    assert _alias_routes(local_cloud) == [("1", 90), ("2", 10)]  # left as it was

    # a new release is refused while this one is unfinished, with the same two commands
    r = cli(*base, "shift", "--state-machine", name, "--alias", "live", "--all-at-once", cwd=deployed)
    assert r.exit_code == 2, r
    assert resume in r.stderr and undo in r.stderr and "--function" not in r.stderr, r.stderr

    r = cli(*base, *resume.split()[1:], cwd=deployed)
    assert r.exit_code == 0, r
    assert _alias_routes(local_cloud) == [("2", 100)]


def test_a_drifted_state_machine_alias_is_refused_with_a_command_that_settles_it(cli, local_cloud, deployed):
    """An alias split by hand is refused before any write; the hint's command is Step Functions' own (lamctl alias
    moves Lambda aliases only)."""
    machine = _new_definition(local_cloud, "declined-v2")
    sfn = local_cloud.client("stepfunctions")
    v2 = sfn.publish_state_machine_version(stateMachineArn=machine)["stateMachineVersionArn"]
    sfn.update_state_machine_alias(stateMachineAliasArn=f"{machine}:live", routingConfiguration=[
        {"stateMachineVersionArn": f"{machine}:1", "weight": 80}, {"stateMachineVersionArn": v2, "weight": 20}])
    name = machine.rsplit(":", 1)[1]
    r = cli("--endpoint-url", local_cloud.endpoint, "shift", "--state-machine", name, "--alias", "live",
            "--all-at-once", cwd=deployed)
    assert r.exit_code == 2, r
    assert "already splits traffic" in r.stderr, r.stderr
    assert "aws stepfunctions update-state-machine-alias --state-machine-alias-arn " in r.stderr, r.stderr
    assert f"stateMachine:{name}:live" in r.stderr and "lamctl alias" not in r.stderr, r.stderr
    assert _alias_routes(local_cloud) == [("1", 80), ("2", 20)]  # nothing written


def test_deploy_runs_a_state_machine_deployment_preference(cli, local_cloud, deployed, instant_clock):
    template = deployed / "template.yaml"
    text = template.read_text()
    text = text.replace("      AutoPublishAlias: live\n", "      AutoPublishAlias: live\n      DeploymentPreference:\n"
                        "        Type: CANARY\n        Percentage: 10\n        Interval: 5\n")
    assert "status: declined\n" in text
    template.write_text(text.replace("status: declined\n", "status: declined-v2\n"))
    during = []
    instant_clock.on_sleep.append(lambda clock: during.append(_alias_routes(local_cloud)))
    r = cli("--endpoint-url", local_cloud.endpoint, "deploy", cwd=deployed)
    assert r.exit_code == 0, r
    assert [("1", 90), ("2", 10)] in during  # the canary's hold, on the local cloud as on AWS
    # the traffic line names who shifts a state machine alias on AWS (CloudFormation, not CodeDeploy), and the
    # promote it suggests takes --state-machine
    (line,) = [ln for ln in r.stderr.splitlines() if ln.startswith("shifting ")]
    assert "as CloudFormation would on AWS" in line and "CodeDeploy" not in line, line
    assert "'lamctl promote --state-machine " in line and "--function" not in line, line
    assert _alias_routes(local_cloud) == [("2", 100)]
    r = cli("--endpoint-url", local_cloud.endpoint, "--output", "json", "execute", "OrderFlow:live", "--stack",
            "orders", "-e", "events/large-order.json", cwd=deployed)
    assert r.json_lines()[-1]["output"]["status"] == "declined-v2"


def test_a_redeploy_moves_the_alias_to_the_new_revision_at_once(cli, local_cloud, deployed, instant_clock):
    template = deployed / "template.yaml"
    template.write_text(template.read_text().replace("status: declined\n", "status: declined-v2\n"))
    r = cli("--endpoint-url", local_cloud.endpoint, "deploy", cwd=deployed)
    assert r.exit_code == 0, r
    assert _alias_routes(local_cloud) == [("2", 100)]  # AutoPublishAlias alone: ALL_AT_ONCE
    assert instant_clock.slept < 60
    r = cli("--endpoint-url", local_cloud.endpoint, "deploy", cwd=deployed)  # nothing changed: no new version
    assert r.exit_code == 0, r
    assert _alias_routes(local_cloud) == [("2", 100)]


WAITING = {"StartAt": "Hour", "States": {"Hour": {"Type": "Wait", "Seconds": 3600, "End": True}}}


def test_execute_refuses_bad_input_and_unknown_state_machines(cli, local_cloud, tmp_path):
    base = ("--endpoint-url", local_cloud.endpoint)
    sfn = local_cloud.client("stepfunctions")
    sfn.create_state_machine(name="waiter", definition=json.dumps(WAITING),
                             roleArn="arn:aws:iam::123456789012:role/r")
    r = cli(*base, "execute", "waitr", cwd=tmp_path)
    assert r.exit_code == 2 and "state machine waitr does not exist" in r.stderr and "waiter" in r.stderr, r
    big = tmp_path / "big.json"
    big.write_text(json.dumps({"data": "x" * 300_000}))
    r = cli(*base, "execute", "waiter", "-e", str(big), cwd=tmp_path)
    assert r.exit_code == 2 and "256 KB" in r.stderr and "big.json" in r.stderr, r
    bad = tmp_path / "bad.json"
    bad.write_text('{"a": ')
    r = cli(*base, "execute", "waiter", "-e", str(bad), cwd=tmp_path)
    assert r.exit_code == 2 and "bad.json" in r.stderr, r
    r = cli(*base, "execute", "waiter", "--stack", "nope", cwd=tmp_path)
    assert r.exit_code == 2 and "stack nope does not exist" in r.stderr, r
    (machine,) = sfn.list_state_machines()["stateMachines"]
    assert sfn.list_executions(stateMachineArn=machine["stateMachineArn"])["executions"] == []  # none started


def test_execute_gives_up_waiting_after_its_timeout(cli, local_cloud, tmp_path, instant_clock, monkeypatch):
    monkeypatch.setenv("LAMCTL_STATES_WAIT_SCALE", "1")  # the Wait state takes its hour
    sfn = local_cloud.client("stepfunctions")
    arn = sfn.create_state_machine(name="waiter", definition=json.dumps(WAITING),
                                   roleArn="arn:aws:iam::123456789012:role/r")["stateMachineArn"]
    r = cli("--endpoint-url", local_cloud.endpoint, "--output", "json", "execute", "waiter", "--timeout", "30",
            cwd=tmp_path)
    assert r.exit_code == 1, r
    result = r.json_lines()[-1]
    assert result["status"] == "RUNNING" and result["ok"] is False, result
    assert 29.9 <= instant_clock.slept <= 30.5  # on the injected clock
    sfn.stop_execution(executionArn=result["execution_arn"])  # ends the hour's wait
    stopped = sfn.describe_execution(executionArn=result["execution_arn"])["status"]
    assert stopped == "ABORTED" and sfn.list_executions(stateMachineArn=arn)["executions"][0]["status"] == "ABORTED"


def test_deleting_the_stack_deletes_its_state_machine(cli, local_cloud, deployed):
    sfn = local_cloud.client("stepfunctions")
    assert len(sfn.list_state_machines()["stateMachines"]) == 1
    r = cli("--endpoint-url", local_cloud.endpoint, "delete", "--stack", "orders", "--yes", cwd=deployed)
    assert r.exit_code == 0, r
    assert sfn.list_state_machines()["stateMachines"] == []


ADDER = {"StartAt": "Add", "States": {
    "Add": {"Type": "Pass", "Parameters": {"total.$": "States.MathAdd($.a, $.b)"}, "Next": "Big?"},
    "Big?": {"Type": "Choice", "Choices": [{"Variable": "$.total", "NumericGreaterThan": 10, "Next": "Done"}],
             "Default": "Small"},
    "Small": {"Type": "Fail", "Error": "TooSmall", "Cause": "the total is 10 or less"},
    "Done": {"Type": "Succeed"}}}


def _express(local_cloud) -> str:
    return local_cloud.client("stepfunctions").create_state_machine(
        name="adder", definition=json.dumps(ADDER), roleArn="arn:aws:iam::123456789012:role/r",
        type="EXPRESS")["stateMachineArn"]


def test_execute_runs_an_express_state_machine_with_start_sync_execution(cli, local_cloud, tmp_path):
    _express(local_cloud)
    event = tmp_path / "in.json"
    event.write_text('{"a": 7, "b": 8}')
    r = cli("--endpoint-url", local_cloud.endpoint, "execute", "adder", "-e", str(event), cwd=tmp_path)
    assert r.exit_code == 0, r
    assert json.loads(r.stdout) == {"total": 15}
    event.write_text('{"a": 1, "b": 2}')
    r = cli("--endpoint-url", local_cloud.endpoint, "--output", "json", "execute", "adder", "-e", str(event),
            cwd=tmp_path)
    assert r.exit_code == 1, r
    result = r.json_lines()[-1]
    assert (result["status"], result["error"], result["cause"]) == ("FAILED", "TooSmall", "the total is 10 or less")
    assert result["ok"] is False and result["execution_arn"]


def test_an_express_execution_is_one_start_sync_execution_never_described(local_cloud):
    """What Step Functions answers for EXPRESS: StartSyncExecution, and no DescribeExecution or history."""
    import boto3
    from botocore.config import Config

    from lamctl.release.clock import FakeClock
    from lamctl.release.states import StatesGateway, run_execution

    _express(local_cloud)
    sfn = boto3.client("stepfunctions", region_name="us-east-1", endpoint_url=local_cloud.endpoint,
                       aws_access_key_id="testing", aws_secret_access_key="testing",
                       config=Config(inject_host_prefix=False))
    gateway = StatesGateway(sfn)
    clock = FakeClock()
    done = run_execution(gateway, clock, "adder", '{"a": 20, "b": 1}', timeout=30)
    assert (done.status, done.output) == ("SUCCEEDED", {"total": 21})
    failed = run_execution(gateway, clock, "adder", '{"a": 0, "b": 0}')
    assert (failed.status, failed.error, failed.failed_state) == ("FAILED", "TooSmall", None)
    assert gateway.calls["StartSyncExecution"] == 2 and gateway.calls["StartExecution"] == 0
    assert gateway.calls["DescribeExecution"] == 0 and gateway.calls["GetExecutionHistory"] == 0
    # a STANDARD state machine still starts and is followed as before
    sfn.create_state_machine(name="plain", definition=json.dumps(ADDER), roleArn="arn:aws:iam::123456789012:role/r")
    standard = run_execution(gateway, clock, "plain", '{"a": 20, "b": 1}')
    assert (standard.status, standard.output) == ("SUCCEEDED", {"total": 21})
    assert gateway.calls["StartExecution"] == 1 and gateway.calls["StartSyncExecution"] == 2


def test_lambda_tasks_still_reach_the_local_cloud_after_another_emulator_in_the_process_stopped(cli, local_cloud,
                                                                                                 tmp_path):
    from lamctl.local.cloud.emulator import EmulatorServer
    from tests.helpers import code_zip

    role = local_cloud.client("iam").create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    local_cloud.client("lambda").create_function(
        FunctionName="double", Runtime="python3.12", Role=role, Handler="app.handler", Timeout=30,
        Code={"ZipFile": code_zip("def handler(event, context):\n    return {'n': event['n'] * 2}\n")})
    task = {"StartAt": "D", "States": {"D": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                                             "Parameters": {"FunctionName": "double", "Payload.$": "$"},
                                             "OutputPath": "$.Payload", "End": True}}}
    local_cloud.client("stepfunctions").create_state_machine(name="doubling", definition=json.dumps(task),
                                                             roleArn=role)
    EmulatorServer(idle_timeout=None).start().stop()  # another local cloud of this process, come and gone
    event = tmp_path / "in.json"
    event.write_text('{"n": 21}')
    r = cli("--endpoint-url", local_cloud.endpoint, "execute", "doubling", "-e", str(event), cwd=tmp_path)
    assert r.exit_code == 0, r
    assert json.loads(r.stdout) == {"n": 42}
