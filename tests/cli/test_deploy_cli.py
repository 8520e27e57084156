"""The deploy family's command line: usage errors (exit 2, nothing done), status --stack, CI behaviour."""

from __future__ import annotations

import textwrap

import pytest

QUEUE = """\
Resources:
  Queue:
    Type: AWS::SQS::Queue
"""

SAM = """\
Transform: AWS::Serverless-2016-10-31
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/
      Handler: app.handler
      Runtime: python3.12
      MemorySize: {memory}
"""


def no_stacks(aws) -> bool:
    return aws.client("cloudformation").list_stacks()["StackSummaries"] == []


@pytest.mark.parametrize("args, needle", [
    (["deploy"], "no stack name given"),
    (["deploy", "--stack", "9lives"], "is not valid"),
    (["deploy", "--stack", "app", "--on-failure", "EXPLODE"], "--on-failure"),
    (["deploy", "--stack", "app", "--wait-timeout", "0"], "--wait-timeout"),
    (["deploy", "--stack", "app", "--parameter-overrides", "justaword"], "not in a known form"),
    (["deploy", "--stack", "app", "--parameter-overrides", "ParameterKey=A"], "ParameterKey=K,ParameterValue=V"),
    (["deploy", "--stack", "app", "--parameter-overrides", "file://nope.json"], "does not exist"),
    (["deploy", "--stack", "app", "--capabilities", "CAPABILITY_ROOT"], "unknown capability"),
    (["deploy", "--stack", "app", "--tags", "novalue"], "is not KEY=VALUE"),
])
def test_usage_errors_exit_2_and_change_nothing(cli, aws, tmp_path, args, needle):
    (tmp_path / "template.yaml").write_text(QUEUE)
    r = cli(*args, cwd=tmp_path)
    assert r.exit_code == 2, r
    assert needle in r.stderr
    assert "hint:" in r.stderr or "error:" in r.stderr
    assert no_stacks(aws)


def test_bad_parameter_file_points_at_the_line(cli, aws, tmp_path):
    (tmp_path / "template.yaml").write_text(QUEUE)
    (tmp_path / "params.yaml").write_text("Env: prod\nSize: [1, {a: b}]\n")
    r = cli("deploy", "--stack", "app", "--parameter-overrides", "file://params.yaml", cwd=tmp_path)
    assert r.exit_code == 2, r
    assert "params.yaml:2:7" in r.stderr
    assert no_stacks(aws)


def test_config_keys_are_checked_with_their_line(cli, aws, tmp_path):
    (tmp_path / "template.yaml").write_text(QUEUE)
    (tmp_path / "lamctl.toml").write_text('[default]\nstack = "app"\non_failure = "sometimes"\n')
    r = cli("deploy", cwd=tmp_path)
    assert r.exit_code == 2, r
    assert "lamctl.toml:3" in r.stderr and "on_failure" in r.stderr
    assert no_stacks(aws)


def test_an_invalid_template_stops_before_anything_is_built_or_deployed(cli, aws, tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text("def handler(e, c):\n    return 1\n")
    (tmp_path / "template.yaml").write_text(SAM.format(memory=99999))
    aws.client("s3").create_bucket(Bucket="artifacts")
    r = cli("deploy", "--stack", "app", "--s3-bucket", "artifacts", cwd=tmp_path)
    assert r.exit_code == 2, r
    assert "template.yaml:9:" in r.stderr and "MemorySize" in r.stderr
    assert not (tmp_path / ".lamctl" / "build").exists()
    assert "Contents" not in aws.client("s3").list_objects_v2(Bucket="artifacts")
    assert no_stacks(aws)


def test_code_to_upload_needs_a_bucket_on_aws(cli, aws, tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text("def handler(e, c):\n    return 1\n")
    (tmp_path / "template.yaml").write_text(SAM.format(memory=128))
    r = cli("deploy", "--stack", "app", cwd=tmp_path)
    assert r.exit_code == 2, r
    assert "no bucket" in r.stderr and "--s3-bucket" in r.stderr
    assert no_stacks(aws)


def test_sam_template_deploys_through_the_bucket(cli, aws, tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text("def handler(e, c):\n    return 1\n")
    (tmp_path / "template.yaml").write_text(SAM.format(memory=256))
    aws.client("s3").create_bucket(Bucket="artifacts")
    r = cli("--output", "json", "deploy", "--stack", "app", "--s3-bucket", "artifacts", "--s3-prefix", "app",
            cwd=tmp_path)
    assert r.exit_code == 0, r
    result = r.json_lines()[-1]
    assert result["status"] == "CREATE_COMPLETE"
    changes = {(x["logical_id"], x["resource_type"]) for x in r.json_lines() if x["type"] == "change"}
    assert ("Fn", "AWS::Lambda::Function") in changes and ("FnRole", "AWS::IAM::Role") in changes
    cs = next(x for x in r.json_lines() if x["type"] == "change_set")
    assert cs["capabilities"] == ["CAPABILITY_IAM"]
    keys = [o["Key"] for o in aws.client("s3").list_objects_v2(Bucket="artifacts")["Contents"]]
    assert len(keys) == 1 and keys[0].startswith("app/")
    fn = [r_ for r_ in aws.client("cloudformation").list_stack_resources(StackName="app")["StackResourceSummaries"]
          if r_["LogicalResourceId"] == "Fn"][0]
    conf = aws.client("lambda").get_function_configuration(FunctionName=fn["PhysicalResourceId"])
    assert conf["MemorySize"] == 256


def test_status_shows_state_and_recent_events(cli, aws, tmp_path):
    (tmp_path / "template.yaml").write_text(QUEUE)
    assert cli("deploy", "--stack", "app", cwd=tmp_path).exit_code == 0
    r = cli("status", "--stack", "app")
    assert r.exit_code == 0, r
    assert "Stack app: CREATE_COMPLETE" in r.stdout
    assert "CREATE_IN_PROGRESS" in r.stderr  # the events, for humans
    r = cli("--output", "json", "status", "--stack", "app")
    assert r.exit_code == 0, r
    lines = r.json_lines()
    assert [x["status"] for x in lines if x["type"] == "stack_event"][-1] == "CREATE_COMPLETE"
    assert lines[-1]["type"] == "result" and lines[-1]["status"] == "CREATE_COMPLETE"

    r = cli("status", "--stack", "ghost")
    assert r.exit_code == 1 and "does not exist" in r.stderr


def test_status_reads_the_stack_from_lamctl_toml_as_outputs_and_deploy_do(cli, aws, tmp_path):
    (tmp_path / "template.yaml").write_text(QUEUE)
    (tmp_path / "lamctl.toml").write_text('[default]\nstack = "from-config"\n')
    assert cli("deploy", cwd=tmp_path).exit_code == 0
    r = cli("status", cwd=tmp_path)
    assert r.exit_code == 0, r
    assert "Stack from-config: CREATE_COMPLETE" in r.stdout
    elsewhere = tmp_path / "elsewhere"  # no lamctl.toml: nothing says what to show
    elsewhere.mkdir()
    r = cli("status", cwd=elsewhere)
    assert r.exit_code == 2 and "--stack NAME" in r.stderr


def test_ci_never_prompts_and_writes_a_job_summary(cli, aws, tmp_path, monkeypatch):
    monkeypatch.setenv("CI", "true")
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    (tmp_path / "template.yaml").write_text(
        "Conditions:\n  Never: !Equals [a, b]\n" + QUEUE
        + "Outputs:\n  QueueUrl:\n    Value: !Ref Queue\n  Hidden:\n    Condition: Never\n    Value: !Ref Queue\n")
    r = cli("deploy", "--stack", "app", cwd=tmp_path, stdin="n\n")
    assert r.exit_code == 0, r
    assert "CREATE_COMPLETE" in r.stdout
    text = summary.read_text()
    assert "lamctl deploy: app" in text and "| Add | Queue | AWS::SQS::Queue |" in text
    assert "| QueueUrl | https://sqs.us-east-1.amazonaws.com/123456789012/app-Queue-" in text
    assert "| Hidden | (unavailable) |" in text  # its Condition is false: CloudFormation does not report it


def test_tags_from_flags_reach_the_stack(cli, aws, tmp_path):
    (tmp_path / "template.yaml").write_text(QUEUE)
    r = cli("deploy", "--stack", "app", "--tags", "team=payments", "--tags", "env=dev", cwd=tmp_path)
    assert r.exit_code == 0, r
    st = aws.client("cloudformation").describe_stacks(StackName="app")["Stacks"][0]
    assert {t["Key"]: t["Value"] for t in st["Tags"]} == {"team": "payments", "env": "dev"}


def test_tags_and_stack_from_lamctl_toml(cli, aws, tmp_path):
    (tmp_path / "template.yaml").write_text(QUEUE)
    (tmp_path / "lamctl.toml").write_text(textwrap.dedent("""\
        [default]
        stack = "from-config"
        tags = { team = "core" }
    """))
    r = cli("deploy", cwd=tmp_path)
    assert r.exit_code == 0, r
    st = aws.client("cloudformation").describe_stacks(StackName="from-config")["Stacks"][0]
    assert {t["Key"]: t["Value"] for t in st["Tags"]} == {"team": "core"}


def test_an_unknown_parameter_is_refused_before_building(cli, aws, tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text("def handler(e, c):\n    return 1\n")
    (tmp_path / "template.yaml").write_text(SAM.format(memory=128))
    aws.client("s3").create_bucket(Bucket="artifacts")
    r = cli("deploy", "--stack", "app", "--s3-bucket", "artifacts", "--parameter-overrides", "Stage=prod",
            cwd=tmp_path)
    assert r.exit_code == 2, r
    assert "unknown parameter 'Stage'" in r.stderr
    assert "template.yaml:1:1: " in r.stderr and "has no Parameters section" in r.stderr
    assert not (tmp_path / ".lamctl" / "build").exists()
    assert "Contents" not in aws.client("s3").list_objects_v2(Bucket="artifacts")
    (tmp_path / "template.yaml").write_text("Parameters:\n  Stages: {Type: String}\n" + SAM.format(memory=128))
    r = cli("deploy", "--stack", "app", "--s3-bucket", "artifacts", "--parameter-overrides", "Stage=prod",
            cwd=tmp_path)
    assert r.exit_code == 2, r
    assert "template.yaml:1:1: unknown parameter 'Stage' (from --parameter-overrides)" in r.stderr
    assert "did you mean Stages?" in r.stderr


def test_environment_and_config_feed_parameters_and_capabilities(cli, aws, tmp_path, monkeypatch):
    (tmp_path / "template.yaml").write_text(textwrap.dedent("""\
        Parameters:
          Env:
            Type: String
        Resources:
          Queue:
            Type: AWS::SQS::Queue
            Properties:
              QueueName: !Sub "q-${Env}"
    """))
    (tmp_path / "lamctl.toml").write_text('[default]\ncapabilities = ["CAPABILITY_AUTO_EXPAND"]\n')
    monkeypatch.setenv("LAMCTL_PARAMETER_OVERRIDES", "Env=from-env")
    r = cli("--output", "json", "deploy", "--stack", "app", cwd=tmp_path)
    assert r.exit_code == 0, r
    cs = next(x for x in r.json_lines() if x["type"] == "change_set")
    assert cs["capabilities"] == ["CAPABILITY_AUTO_EXPAND"] and cs["parameters"] == {"Env": "from-env"}
    r = cli("--output", "json", "deploy", "--stack", "app", "--parameter-overrides", "Env=from-flag",
            cwd=tmp_path)
    assert r.exit_code == 0, r
    st = aws.client("cloudformation").describe_stacks(StackName="app")["Stacks"][0]
    assert st["Parameters"] == [{"ParameterKey": "Env", "ParameterValue": "from-flag"}]


def test_outputs_fit_the_terminal_and_never_cut_a_value(cli, aws, tmp_path, monkeypatch):
    (tmp_path / "template.yaml").write_text(QUEUE + textwrap.dedent("""\
        Outputs:
          QueueArn:
            Description: the ARN of the queue that takes the orders of every shop, for the IAM policies of readers
            Value: !GetAtt Queue.Arn
        """))
    assert cli("deploy", "--stack", "app", cwd=tmp_path).exit_code == 0
    arn = aws.client("cloudformation").describe_stacks(StackName="app")["Stacks"][0]["Outputs"][0]["OutputValue"]
    monkeypatch.setenv("COLUMNS", "80")
    r = cli("outputs", "--stack", "app")
    assert r.exit_code == 0, r
    lines = r.stdout.splitlines()
    assert any(arn in line for line in lines)  # whole, on one line
    assert max(len(line) for line in lines) <= 80, r.stdout
    at = lines[1].index("Description")
    assert " ".join(line[at:].strip() for line in lines[2:]) == \
        "the ARN of the queue that takes the orders of every shop, for the IAM policies of readers"
