"""`lamctl deploy --stack` against the in-process emulator (real HTTP), with plain CloudFormation templates."""

from __future__ import annotations

import json
import textwrap

import pytest

QUEUE_TEMPLATE = """\
Parameters:
  Env:
    Type: String
    Default: dev
Resources:
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: !Sub "orders-${Env}"
@@EXTRA@@
Outputs:
  QueueName:
    Value: !GetAtt Queue.QueueName
"""


def local(aws) -> tuple[str, ...]:
    """The in-process emulator stands for the local cloud: deploy's emulator workarounds apply only there."""
    return ("--local", "--endpoint-url", aws.endpoint)


def write(path, text: str):
    path.write_text(textwrap.dedent(text))
    return path


def queue_template(tmp_path, extra: str = ""):
    return write(tmp_path / "template.yaml", QUEUE_TEMPLATE.replace("@@EXTRA@@", extra))


def stack(aws, name="app"):
    return aws.client("cloudformation").describe_stacks(StackName=name)["Stacks"][0]


def queues(aws) -> list[str]:
    return [u.rsplit("/", 1)[-1] for u in aws.client("sqs").list_queues().get("QueueUrls", [])]


def test_create_then_update_then_unchanged(cli, aws, tmp_path):
    queue_template(tmp_path)
    r = cli("deploy", "--stack", "app", cwd=tmp_path)
    assert r.exit_code == 0, r
    assert "CREATE_COMPLETE" in r.stdout
    assert "Add" in r.stdout and "Queue" in r.stdout  # the change set table
    assert stack(aws)["StackStatus"] == "CREATE_COMPLETE"
    assert queues(aws) == ["orders-dev"]

    queue_template(tmp_path, extra="  Dlq:\n    Type: AWS::SQS::Queue\n    Properties:\n      QueueName: orders-dlq\n")
    r = cli("--output", "json", "deploy", "--stack", "app", cwd=tmp_path)
    assert r.exit_code == 0, r
    lines = r.json_lines()
    changes = [x for x in lines if x["type"] == "change"]
    assert [(c["action"], c["logical_id"]) for c in changes] == [("Add", "Dlq")]
    assert lines[-1]["type"] == "result" and lines[-1]["status"] == "UPDATE_COMPLETE"
    assert sorted(queues(aws)) == ["orders-dev", "orders-dlq"]

    r = cli("deploy", "--stack", "app", cwd=tmp_path)
    assert r.exit_code == 0, r
    assert "No changes" in r.stdout
    # the refused change set is not left behind (the two executed ones are kept by the emulator)
    summaries = aws.client("cloudformation").list_change_sets(StackName="app")["Summaries"]
    assert [s["ExecutionStatus"] for s in summaries] == ["EXECUTE_COMPLETE", "EXECUTE_COMPLETE"]

    r = cli("deploy", "--stack", "app", "--fail-on-empty", cwd=tmp_path)
    assert r.exit_code == 1, r
    assert "No changes" in r.stderr


def test_ndjson_stream_is_one_object_per_line_ending_with_result(cli, aws, tmp_path):
    queue_template(tmp_path)
    r = cli("--output", "json", "deploy", "--stack", "app", cwd=tmp_path)
    assert r.exit_code == 0, r
    lines = r.json_lines()
    assert len(lines) == len(r.stdout.strip().splitlines())
    assert all(isinstance(x.get("type"), str) for x in lines)
    types = [x["type"] for x in lines]
    assert types[-1] == "result" and types.count("result") == 1
    assert "change_set" in types and "change" in types and "stack_event" in types
    result = lines[-1]
    assert result["ok"] is True and result["stack"] == "app" and result["status"] == "CREATE_COMPLETE"
    assert result["arn"].startswith("arn:aws:cloudformation:")
    events = [x for x in lines if x["type"] == "stack_event"]
    assert events[-1]["status"] == "CREATE_COMPLETE"
    assert r.stderr == ""  # nothing for humans in json mode


def test_emulator_gaps_are_reported_not_hidden(cli, aws, tmp_path):
    template = queue_template(tmp_path, extra="  Deployments:\n    Type: AWS::CodeDeploy::Application\n"
                                              "    Properties:\n      ComputePlatform: Lambda\n")
    template.write_text(template.read_text() + "  DeploymentsApp:\n    Value: !Ref Deployments\n")
    r = cli(*local(aws), "--output", "json", "deploy", "--stack", "app", cwd=tmp_path)
    assert r.exit_code == 0, r
    result = r.json_lines()[-1]
    assert result["skipped"] == [{"logical_id": "Deployments", "resource_type": "AWS::CodeDeploy::Application"}]
    # reported after a change set, as on AWS; the one naming the resource the local cloud does not create holds
    # its placeholder, and is named as one
    assert result["outputs"]["QueueName"] == "orders-dev"
    assert result["outputs"]["DeploymentsApp"].startswith("lamctl-placeholder-app-Deployments-")
    assert result["outputs_unavailable"] == [] and result["placeholder_outputs"] == ["DeploymentsApp"]
    assert result["placeholders"] == ["Deployments"]
    warnings = [x["message"] for x in r.json_lines() if x["type"] == "warning"]
    assert any("Deployments (AWS::CodeDeploy::Application)" in w and "placeholder" in w
               and "outputs with placeholder values: DeploymentsApp" in w for w in warnings), warnings

    r = cli(*local(aws), "outputs", "--stack", "app", cwd=tmp_path)
    assert r.exit_code == 0, r
    assert "orders-dev" in r.stdout
    assert "placeholder values: DeploymentsApp (they name a resource the local cloud does not create)" in r.stderr


def test_outputs_where_the_emulator_provides_them(cli, aws, tmp_path):
    # a stack made with CreateStack (not a change set) has its outputs in the emulator
    body = QUEUE_TEMPLATE.replace("@@EXTRA@@", "").replace("!Sub \"orders-${Env}\"", "orders-direct").replace(
        "!GetAtt Queue.QueueName", "{'Fn::GetAtt': [Queue, QueueName]}")
    aws.client("cloudformation").create_stack(StackName="direct", TemplateBody=body)
    r = cli("outputs", "--stack", "direct")
    assert r.exit_code == 0, r
    assert "QueueName" in r.stdout and "orders-direct" in r.stdout
    r = cli("--output", "json", "outputs", "--stack", "direct")
    assert r.exit_code == 0, r
    lines = r.json_lines()
    assert len(lines) == 1  # one JSON object
    assert lines[0]["outputs"] == {"QueueName": "orders-direct"} and lines[0]["unavailable"] == []

    r = cli("outputs", "--stack", "nope")
    assert r.exit_code == 1 and "does not exist" in r.stderr


def test_failed_create_is_reported_then_a_fixed_template_creates(cli, aws, tmp_path):
    bad = """\
    Resources:
      Fn:
        Type: AWS::Lambda::Function
        Properties:
          Runtime: python3.12
          Handler: app.handler
          Role: arn:aws:iam::123456789012:role/lambda
          Code:
            S3Bucket: missing-bucket
            S3Key: code.zip
    """
    write(tmp_path / "template.yaml", bad)
    r = cli(*local(aws), "deploy", "--stack", "app", cwd=tmp_path)
    assert r.exit_code == 1, r
    assert "Fn" in r.stderr and "NoSuchBucket" in r.stderr, r  # the failing resource and the reason
    cf = aws.client("cloudformation")
    live = [s for s in cf.list_stacks()["StackSummaries"] if s["StackName"] == "app"
            and s["StackStatus"] != "DELETE_COMPLETE"]
    assert live == []  # nothing half-done is left behind

    queue_template(tmp_path)
    r = cli(*local(aws), "deploy", "--stack", "app", cwd=tmp_path)
    assert r.exit_code == 0, r
    assert stack(aws)["StackStatus"] == "CREATE_COMPLETE"


def test_execute_runs_a_change_set_made_with_no_execute(cli, aws, tmp_path):
    import shlex

    queue_template(tmp_path)
    r = cli(*local(aws), "deploy", "--stack", "app", "--no-execute", cwd=tmp_path)
    assert r.exit_code == 0, r
    hint = next(line for line in r.stdout.splitlines() if line.startswith("execute it: "))
    command = shlex.split(hint[len("execute it: "):])
    assert command[0] == "lamctl" and command[-2] == "--execute" and command[-1].startswith("arn:")
    assert "aws cloudformation" not in r.stdout
    assert queues(aws) == []

    r = cli(*command[1:], cwd=tmp_path)  # the command it printed, as printed
    assert r.exit_code == 0, r
    assert "Stack app: CREATE_COMPLETE" in r.stdout and "orders-dev" in r.stdout  # the outputs
    assert "CREATE_COMPLETE" in r.stderr  # the stack's events, followed
    assert queues(aws) == ["orders-dev"]

    r = cli(*command[1:], cwd=tmp_path)  # executed already
    assert r.exit_code == 2, r
    assert "cannot be executed" in r.stderr or "does not exist" in r.stderr

    # by name, with --stack, and in JSON
    queue_template(tmp_path, extra="  Dlq:\n    Type: AWS::SQS::Queue\n    Properties:\n      QueueName: orders-dlq\n")
    r = cli(*local(aws), "--output", "json", "deploy", "--stack", "app", "--no-execute", cwd=tmp_path)
    name = r.json_lines()[-1]["change_set"]
    assert queues(aws) == ["orders-dev"]
    r = cli(*local(aws), "--output", "json", "deploy", "--execute", name, "--stack", "app", cwd=tmp_path)
    assert r.exit_code == 0, r
    result = r.json_lines()[-1]
    assert result["type"] == "result" and result["status"] == "UPDATE_COMPLETE"
    assert result["outputs"] == {"QueueName": "orders-dev"}
    assert [c["logical_id"] for c in r.json_lines() if c["type"] == "change"] == ["Dlq"]
    assert "stack_event" in [line["type"] for line in r.json_lines()]
    assert sorted(queues(aws)) == ["orders-dev", "orders-dlq"]

    r = cli(*local(aws), "deploy", "--execute", "no-such-change-set", "--stack", "app", cwd=tmp_path)
    assert r.exit_code == 2 and "change set no-such-change-set does not exist" in r.stderr, r
    r = cli(*local(aws), "deploy", "--execute", "a-name", cwd=tmp_path)
    assert r.exit_code == 2 and "--stack" in r.stderr, r
    r = cli(*local(aws), "deploy", "--execute", "a-name", "--stack", "app", "--no-execute", cwd=tmp_path)
    assert r.exit_code == 2 and "contradict" in r.stderr, r


def test_execute_on_aws_prints_the_same_command_with_the_endpoint(cli, aws, tmp_path):
    queue_template(tmp_path)
    r = cli("--endpoint-url", aws.endpoint, "deploy", "--stack", "app", "--no-execute", cwd=tmp_path)
    assert r.exit_code == 0, r
    arn = aws.client("cloudformation").list_change_sets(StackName="app")["Summaries"][0]["ChangeSetId"]
    assert f"execute it: lamctl --endpoint-url {aws.endpoint} deploy --execute {arn}" in r.stdout
    r = cli("--endpoint-url", aws.endpoint, "deploy", "--execute", arn, cwd=tmp_path)
    assert r.exit_code == 0, r
    assert stack(aws)["StackStatus"] == "CREATE_COMPLETE" and queues(aws) == ["orders-dev"]


def test_no_execute_leaves_a_change_set_for_review(cli, aws, tmp_path):
    queue_template(tmp_path)
    r = cli(*local(aws), "--output", "json", "deploy", "--stack", "app", "--no-execute", cwd=tmp_path)
    assert r.exit_code == 0, r
    result = r.json_lines()[-1]
    assert result["status"] == "CHANGE_SET_CREATED" and result["change_set"].startswith("lamctl-")
    cf = aws.client("cloudformation")
    cs = cf.describe_change_set(ChangeSetName=result["arn"])
    assert cs["ExecutionStatus"] == "AVAILABLE"
    assert queues(aws) == []  # nothing deployed

    r = cli(*local(aws), "deploy", "--stack", "app", "--no-execute", cwd=tmp_path)
    assert r.exit_code == 0, r
    assert "arn:aws:cloudformation:" in r.stdout and "not executed" in r.stdout

    # then deploy for real: the emulator would make a second stack beside the empty one, so on the local
    # cloud lamctl deletes the empty one first
    r = cli(*local(aws), "deploy", "--stack", "app", cwd=tmp_path)
    assert r.exit_code == 0, r
    assert stack(aws)["StackStatus"] == "CREATE_COMPLETE"
    assert queues(aws) == ["orders-dev"]


def _padded_template(size: int) -> str:
    pad = "x" * 1000
    lines = ["Resources:", "  Queue:", "    Type: AWS::SQS::Queue", "    Metadata:"]
    i = 0
    text = "\n".join(lines)
    while len(text) < size:
        lines.append(f"      Note{i}: {pad}")
        i += 1
        text = "\n".join(lines)
    return text + "\n"


def test_template_over_51200_bytes_goes_through_s3(cli, aws, tmp_path):
    (tmp_path / "template.yaml").write_text(_padded_template(60_000))
    r = cli("deploy", "--stack", "big", cwd=tmp_path)
    assert r.exit_code == 2, r
    assert "51,200" in r.stderr and "--s3-bucket" in r.stderr
    assert aws.client("cloudformation").list_stacks()["StackSummaries"] == []

    aws.client("s3").create_bucket(Bucket="artifacts")
    r = cli("--output", "json", "deploy", "--stack", "big", "--s3-bucket", "artifacts", "--s3-prefix", "app",
            cwd=tmp_path)
    assert r.exit_code == 0, r
    keys = [o["Key"] for o in aws.client("s3").list_objects_v2(Bucket="artifacts")["Contents"]]
    assert len(keys) == 1 and keys[0].startswith("app/") and keys[0].endswith(".template")
    assert any(x["type"] == "progress" and x.get("phase") == "upload-template" for x in r.json_lines())
    assert stack(aws, "big")["StackStatus"] == "CREATE_COMPLETE"


def test_template_over_1_mb_is_refused_with_the_figure(cli, aws, tmp_path):
    (tmp_path / "template.yaml").write_text(_padded_template(1_100_000))
    aws.client("s3").create_bucket(Bucket="artifacts")
    r = cli("deploy", "--stack", "huge", "--s3-bucket", "artifacts", cwd=tmp_path)
    assert r.exit_code == 2, r
    assert "1,048,576" in r.stderr
    assert aws.client("cloudformation").list_stacks()["StackSummaries"] == []
    assert "Contents" not in aws.client("s3").list_objects_v2(Bucket="artifacts")


PARAM_TEMPLATE = """\
Parameters:
  Env:
    Type: String
  Size:
    Type: Number
    Default: 1
Resources:
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: !Sub "q-${Env}-${Size}"
"""


def params_of(aws, name="p"):
    return {p["ParameterKey"]: p["ParameterValue"] for p in stack(aws, name)["Parameters"]}


@pytest.mark.parametrize("form", ["kv", "long", "json-file", "yaml-file", "json-list-file", "toml"])
def test_each_parameter_form(cli, aws, tmp_path, form):
    write(tmp_path / "template.yaml", PARAM_TEMPLATE)
    args = []
    if form == "kv":
        args = ["--parameter-overrides", "Env=prod Size=3"]
    elif form == "long":
        args = ["--parameter-overrides", "ParameterKey=Env,ParameterValue=prod",
                "--parameter-overrides", "ParameterKey=Size,ParameterValue=3"]
    elif form == "json-file":
        (tmp_path / "params.json").write_text(json.dumps({"Env": "prod", "Size": 3}))
        args = ["--parameter-overrides", "file://params.json"]
    elif form == "yaml-file":
        (tmp_path / "params.yaml").write_text("Parameters:\n  Env: prod\n  Size: 3\n")
        args = ["--parameter-overrides", "file://params.yaml"]
    elif form == "json-list-file":
        (tmp_path / "params.json").write_text(json.dumps([
            {"ParameterKey": "Env", "ParameterValue": "prod"}, {"ParameterKey": "Size", "ParameterValue": "3"}]))
        args = ["--parameter-overrides", "file://params.json"]
    elif form == "toml":
        (tmp_path / "lamctl.toml").write_text('[default]\nstack = "p"\nparameter_overrides = { Env = "prod", Size = 3 }\n')
    r = cli("deploy", "--stack", "p", *args, cwd=tmp_path)
    assert r.exit_code == 0, r
    assert params_of(aws) == {"Env": "prod", "Size": "3"}
    assert queues(aws) == ["q-prod-3"]


def test_previous_values_are_kept_and_flags_win_over_toml(cli, aws, tmp_path):
    write(tmp_path / "template.yaml", PARAM_TEMPLATE)
    (tmp_path / "lamctl.toml").write_text('[default]\nparameter_overrides = ["Env=staging"]\n')
    r = cli("deploy", "--stack", "p", "--parameter-overrides", "Env=prod", "--parameter-overrides", "Size=2",
            cwd=tmp_path)
    assert r.exit_code == 0, r
    assert params_of(aws) == {"Env": "prod", "Size": "2"}
    (tmp_path / "lamctl.toml").unlink()
    # Env is not given this time: the stack keeps prod, not an error for a parameter without default
    write(tmp_path / "template.yaml", PARAM_TEMPLATE + "  Other:\n    Type: AWS::SQS::Queue\n")
    r = cli("--output", "json", "deploy", "--stack", "p", cwd=tmp_path)
    assert r.exit_code == 0, r
    cs = next(x for x in r.json_lines() if x["type"] == "change_set")
    assert cs["parameters"] == {"Env": "(previous value)", "Size": "(previous value)"}
    assert params_of(aws) == {"Env": "prod", "Size": "2"}


def test_unknown_and_missing_parameters_are_refused_before_any_change(cli, aws, tmp_path):
    write(tmp_path / "template.yaml", PARAM_TEMPLATE)
    (tmp_path / "params.json").write_text('{\n  "Env": "prod",\n  "Sise": 3\n}\n')
    r = cli("deploy", "--stack", "p", "--parameter-overrides", "file://params.json", cwd=tmp_path)
    assert r.exit_code == 2, r
    assert "params.json:3:3" in r.stderr and "'Sise'" in r.stderr and "did you mean Size" in r.stderr

    r = cli("deploy", "--stack", "p", cwd=tmp_path)
    assert r.exit_code == 2, r
    assert "Env" in r.stderr and "no value" in r.stderr and "--parameter-overrides Env=VALUE" in r.stderr

    (tmp_path / "lamctl.toml").write_text('[default]\n\nparameter_overrides = { Nope = "x" }\n')
    r = cli("deploy", "--stack", "p", "--parameter-overrides", "Env=a", cwd=tmp_path)
    assert r.exit_code == 2, r
    assert "lamctl.toml:3" in r.stderr and "'Nope'" in r.stderr
    assert aws.client("cloudformation").list_stacks()["StackSummaries"] == []


def test_delete(cli, aws, tmp_path):
    queue_template(tmp_path)
    assert cli("deploy", "--stack", "app", cwd=tmp_path).exit_code == 0
    r = cli("delete", "--stack", "app")  # not a terminal: must not ask, must not delete
    assert r.exit_code == 2 and "--yes" in r.stderr
    assert stack(aws)["StackStatus"] == "CREATE_COMPLETE"

    r = cli("--output", "json", "delete", "--stack", "app", "--yes")
    assert r.exit_code == 0, r
    lines = r.json_lines()
    assert lines[-1]["status"] == "DELETE_COMPLETE"
    assert [x["status"] for x in lines if x["type"] == "stack_event"][-1] == "DELETE_COMPLETE"
    assert queues(aws) == []
    with pytest.raises(Exception, match="does not exist"):
        stack(aws)

    r = cli("delete", "--stack", "app", "--yes")
    assert r.exit_code == 0 and "nothing to delete" in r.stdout


def test_capabilities_are_inferred_and_sent(cli, aws, tmp_path):
    write(tmp_path / "template.yaml", """\
    Resources:
      Role:
        Type: AWS::IAM::Role
        Properties:
          RoleName: app-role
          AssumeRolePolicyDocument:
            Version: "2012-10-17"
            Statement:
              - Effect: Allow
                Principal: {Service: lambda.amazonaws.com}
                Action: sts:AssumeRole
    """)
    r = cli("--output", "json", "deploy", "--stack", "iam", "--no-execute", cwd=tmp_path)
    assert r.exit_code == 0, r
    cs = next(x for x in r.json_lines() if x["type"] == "change_set")
    assert cs["capabilities"] == ["CAPABILITY_NAMED_IAM"]
    r = cli("--output", "json", "deploy", "--stack", "iam2", "--no-execute", "--capabilities", "CAPABILITY_IAM",
            cwd=tmp_path)
    cs = next(x for x in r.json_lines() if x["type"] == "change_set")
    assert cs["capabilities"] == ["CAPABILITY_IAM"]


def test_a_deploy_without_tags_sends_no_tags_so_the_stack_keeps_its_own():
    """CloudFormation reads an empty Tags value as "remove every tag": the gateway must leave it out."""
    import boto3
    from botocore.stub import Stubber

    from lamctl.release.stacks import StackGateway

    client = boto3.client("cloudformation", region_name="us-east-1", aws_access_key_id="testing",
                          aws_secret_access_key="testing")
    with Stubber(client) as stub:
        stub.add_response("create_change_set", {"Id": "arn:cs", "StackId": "arn:stack"},
                          {"StackName": "app", "ChangeSetName": "c1", "ChangeSetType": "UPDATE",
                           "TemplateBody": "{}"})
        stub.add_response("create_change_set", {"Id": "arn:cs2", "StackId": "arn:stack"},
                          {"StackName": "app", "ChangeSetName": "c2", "ChangeSetType": "UPDATE",
                           "TemplateBody": "{}", "Tags": [{"Key": "team", "Value": "core"}],
                           "Capabilities": ["CAPABILITY_IAM"],
                           "Parameters": [{"ParameterKey": "Env", "UsePreviousValue": True}]})
        gw = StackGateway(client)
        assert gw.create_change_set(stack="app", name="c1", change_set_type="UPDATE", template_body="{}",
                                    tags={}, parameters=[], capabilities=()) == ("arn:cs", "arn:stack")
        gw.create_change_set(stack="app", name="c2", change_set_type="UPDATE", template_body="{}",
                             tags={"team": "core"}, capabilities=("CAPABILITY_IAM",),
                             parameters=[{"ParameterKey": "Env", "UsePreviousValue": True}])
        stub.assert_no_pending_responses()


def test_outputs_json_is_one_object_even_when_some_are_unavailable(cli, aws, tmp_path):
    template = queue_template(tmp_path)
    template.write_text("Conditions:\n  Never: !Equals [a, b]\n" + template.read_text()
                        + "  Hidden:\n    Condition: Never\n    Value: !Ref Queue\n")
    assert cli("deploy", "--stack", "app", cwd=tmp_path).exit_code == 0
    r = cli("--output", "json", "outputs", "--stack", "app")
    assert r.exit_code == 0, r
    lines = r.json_lines()
    assert len(lines) == 1 and lines[0]["type"] == "result"
    assert lines[0]["outputs"] == {"QueueName": "orders-dev"} and lines[0]["unavailable"] == ["Hidden"]


def test_an_emulator_crash_is_reported_plainly_and_cleaned_up(cli, aws, tmp_path):
    """The emulator answers HTTP 500 for an API deployment without RestApiId (its model indexes the property):
    the user gets a plain message, not an HTML page, and no half-made stack."""
    write(tmp_path / "template.yaml", """\
    Resources:
      Queue:
        Type: AWS::SQS::Queue
      Deployment:
        Type: AWS::ApiGateway::Deployment
        Properties:
          Description: no API named
    """)
    r = cli(*local(aws), "deploy", "--stack", "app", cwd=tmp_path)
    assert r.exit_code == 1, r
    assert "internal error (HTTP 500)" in r.stderr and "<html" not in r.stderr
    assert "does not roll back; lamctl deleted the half-created stack" in r.stderr
    live = [s for s in aws.client("cloudformation").list_stacks()["StackSummaries"]
            if s["StackStatus"] != "DELETE_COMPLETE"]
    assert live == []


def test_on_the_local_cloud_a_large_template_needs_no_bucket_flag(cli, aws, tmp_path):
    (tmp_path / "template.yaml").write_text(_padded_template(60_000))
    r = cli(*local(aws), "deploy", "--stack", "big", cwd=tmp_path)
    assert r.exit_code == 0, r
    keys = [o["Key"] for o in aws.client("s3").list_objects_v2(Bucket="lamctl-local-artifacts")["Contents"]]
    assert len(keys) == 1 and keys[0].endswith(".template")
