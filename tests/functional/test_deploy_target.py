"""Which cloud deploy talks to decides its emulator workarounds: only the local cloud (``--local``,
``target = "local"``, or the endpoint the running local cloud recorded) gets them; any other endpoint
(a VPC endpoint, a proxy) is AWS, reached at another address."""

from __future__ import annotations

import socket
import textwrap

import pytest

TEMPLATE = """\
Conditions:
  Never: !Equals [a, b]
Resources:
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: orders
  Deployments:
    Type: AWS::CodeDeploy::Application
    Properties:
      ComputePlatform: Lambda
Outputs:
  QueueName:
    Value: !GetAtt Queue.QueueName
  DeploymentsApp:
    Value: !Ref Deployments
  Hidden:
    Condition: Never
    Value: !Ref Queue
"""

BROKEN = """\
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


def _endpoint_args(how: str, aws, monkeypatch) -> tuple[str, ...]:
    """The in-process server stands for a custom endpoint (not the local cloud), given three ways."""
    if how == "--endpoint-url":
        return ("--endpoint-url", aws.endpoint)
    if how == "AWS_ENDPOINT_URL_CLOUDFORMATION":
        monkeypatch.delenv("AWS_ENDPOINT_URL")
        monkeypatch.setenv("AWS_ENDPOINT_URL_CLOUDFORMATION", aws.endpoint)
    return ()  # AWS_ENDPOINT_URL: set by the aws fixture


@pytest.mark.parametrize("how", ["--endpoint-url", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_CLOUDFORMATION"])
def test_a_custom_endpoint_that_is_not_the_local_cloud_gets_no_emulator_workarounds(cli, aws, tmp_path, monkeypatch,
                                                                                    how):
    args = _endpoint_args(how, aws, monkeypatch)
    (tmp_path / "template.yaml").write_text(TEMPLATE)
    r = cli(*args, "--output", "json", "deploy", "--stack", "app", cwd=tmp_path)
    assert r.exit_code == 0, r
    lines = r.json_lines()
    result = lines[-1]
    assert result["status"] == "CREATE_COMPLETE"
    assert result["skipped"] == []  # no "skipped by the local cloud" list built from the emulator's gaps
    warnings = [x["message"] for x in lines if x["type"] == "warning"]
    assert not any("local cloud" in w for w in warnings), warnings
    assert any("unavailable: Hidden (not reported by CloudFormation" in w for w in warnings), warnings
    r = cli(*args, "outputs", "--stack", "app", cwd=tmp_path)
    assert r.exit_code == 0, r
    assert "Hidden (CloudFormation did not report them)" in r.stderr

    # a failed creation is left to CloudFormation (which rolls it back on AWS): lamctl deletes nothing itself
    (tmp_path / "template.yaml").write_text(BROKEN)
    r = cli(*args, "deploy", "--stack", "broken", cwd=tmp_path)
    assert r.exit_code == 1, r
    assert "deleted the half-created stack" not in r.stderr
    cf = aws.client("cloudformation")
    assert [s["StackName"] for s in cf.list_stacks()["StackSummaries"]
            if s["StackStatus"] != "DELETE_COMPLETE" and s["StackName"] == "broken"] == ["broken"]


def test_the_same_endpoint_with_local_gets_them(cli, aws, tmp_path):
    (tmp_path / "template.yaml").write_text(BROKEN)
    r = cli("--local", "--endpoint-url", aws.endpoint, "deploy", "--stack", "broken", cwd=tmp_path)
    assert r.exit_code == 1, r
    assert "the local cloud does not roll back; lamctl deleted the half-created stack" in r.stderr
    cf = aws.client("cloudformation")
    assert [s for s in cf.list_stacks()["StackSummaries"] if s["StackStatus"] != "DELETE_COMPLETE"] == []


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def running_local_cloud(aws):
    """A real local cloud process (``lamctl local start``), recorded in this test's private state folder."""
    from lamctl.local.cloud import lifecycle as cloud

    status = cloud.start(port=_free_port())
    try:
        yield status
    finally:
        cloud.stop()


def test_the_endpoint_the_local_cloud_recorded_gets_them_without_local(cli, running_local_cloud, tmp_path):
    import boto3

    port = running_local_cloud.port
    (tmp_path / "template.yaml").write_text(textwrap.dedent(TEMPLATE))
    # written differently from the recorded http://127.0.0.1:PORT, and target left at aws
    r = cli("--endpoint-url", f"http://localhost:{port}/", "--output", "json", "deploy", "--stack", "app",
            cwd=tmp_path)
    assert r.exit_code == 0, r
    result = r.json_lines()[-1]
    assert result["skipped"] == [{"logical_id": "Deployments", "resource_type": "AWS::CodeDeploy::Application"}]
    warnings = [x["message"] for x in r.json_lines() if x["type"] == "warning"]
    # the local cloud does not create it: a placeholder stands in, and the deploy says so
    assert any("placeholders on the local cloud" in w and "Deployments (AWS::CodeDeploy::Application)" in w
               for w in warnings), warnings
    cf = boto3.client("cloudformation", endpoint_url=running_local_cloud.endpoint, region_name="us-east-1")
    assert cf.describe_stacks(StackName="app")["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"
