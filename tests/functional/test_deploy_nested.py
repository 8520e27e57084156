"""Nested applications on the local cloud: ``lamctl deploy`` of a parent whose AWS::Serverless::Application
``Location`` is a local template packages that template (its function zipped and uploaded, the template
transformed and uploaded under its SHA-256), creates it as a nested stack, shows its events, passes its
outputs to the parent (``!GetAtt App.Outputs.X``), and ``lamctl invoke App/Fn --stack S`` runs its function."""

from __future__ import annotations

import json
import textwrap

PARENT = """\
Transform: AWS::Serverless-2016-10-31
Resources:
  Greeter:
    Type: AWS::Serverless::Application
    Properties:
      Location: nested/app.yaml
      Parameters:
        Greeting: hello from the nested stack
Outputs:
  NestedFunction:
    Value: !GetAtt Greeter.Outputs.FunctionName
"""

NESTED = """\
Transform: AWS::Serverless-2016-10-31
Parameters:
  Greeting:
    Type: String
    Default: nobody set me
Resources:
  Hello:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src
      Runtime: python3.12
      Handler: app.handler
      Environment:
        Variables:
          GREETING: !Ref Greeting
Outputs:
  FunctionName:
    Value: !Ref Hello
"""

CODE = """\
import os


def handler(event, context):
    return {"greeting": os.environ["GREETING"]}
"""


def project(tmp_path):
    (tmp_path / "nested" / "src").mkdir(parents=True)
    (tmp_path / "template.yaml").write_text(PARENT)
    (tmp_path / "nested" / "app.yaml").write_text(NESTED)
    (tmp_path / "nested" / "src" / "app.py").write_text(CODE)
    return tmp_path


def local(cloud) -> tuple[str, ...]:
    return ("--local", "--endpoint-url", cloud.endpoint)


def test_a_nested_application_deploys_as_a_nested_stack_and_its_function_runs(local_cloud, cli, tmp_path):
    root = project(tmp_path)
    r = cli(*local(local_cloud), "--output", "json", "deploy", "--stack", "parent", cwd=root)
    assert r.exit_code == 0, r
    lines = r.json_lines()
    result = lines[-1]
    assert result["status"] == "CREATE_COMPLETE"

    # the nested stack exists, named as CloudFormation names it, and its output reached the parent's
    cfn = local_cloud.client("cloudformation")
    greeter = next(x for x in cfn.list_stack_resources(StackName="parent")["StackResourceSummaries"]
                   if x["LogicalResourceId"] == "Greeter")
    assert greeter["ResourceType"] == "AWS::CloudFormation::Stack"
    nested = cfn.describe_stacks(StackName=greeter["PhysicalResourceId"])["Stacks"][0]  # Ref: the stack ID
    assert nested["StackName"].startswith("parent-Greeter-") and nested["StackStatus"] == "CREATE_COMPLETE"
    fn_name = nested["Outputs"][0]["OutputValue"]
    assert result["outputs"] == {"NestedFunction": fn_name}

    # deploy showed the nested stack's events too, under the application's logical ID
    events = [(e["logical_id"], e["status"]) for e in lines if e["type"] == "stack_event"]
    assert ("parent", "CREATE_COMPLETE") in events and ("Greeter", "CREATE_COMPLETE") in events

    # what went up: the function's zip and the nested template, transformed, under its SHA-256
    uploads = {(e["resource"], e["kind"], e["state"]) for e in lines if e["type"] == "upload"}
    assert uploads == {("Hello", "function", "uploaded"), ("Greeter", "file", "uploaded")}, uploads
    s3 = local_cloud.client("s3")
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket="lamctl-local-artifacts")["Contents"])
    assert [k.rsplit(".", 1)[1] for k in keys] == ["json", "zip"] or [k.rsplit(".", 1)[1] for k in keys] == [
        "zip", "json"]
    body = s3.get_object(Bucket="lamctl-local-artifacts", Key=next(k for k in keys if k.endswith(".json")))[
        "Body"].read()
    template = json.loads(body)
    assert "Transform" not in template and template["Resources"]["Hello"]["Type"] == "AWS::Lambda::Function"

    # the nested function runs its deployed code, with the parameter the parent gave it
    r = cli(*local(local_cloud), "invoke", "Greeter/Hello", "--stack", "parent", cwd=root)
    assert r.exit_code == 0, r
    assert json.loads(r.stdout) == {"greeting": "hello from the nested stack"}

    # deploying again with nothing changed: the same keys, no change
    r = cli(*local(local_cloud), "--output", "json", "deploy", "--stack", "parent", cwd=root)
    assert r.exit_code == 0, r
    assert r.json_lines()[-1]["status"] == "NO_CHANGES"
    assert sorted(o["Key"] for o in s3.list_objects_v2(Bucket="lamctl-local-artifacts")["Contents"]) == keys

    # a code change in the nested application updates the nested stack in place
    (root / "nested" / "src" / "app.py").write_text(CODE.replace("os.environ[\"GREETING\"]", "'changed'"))
    r = cli(*local(local_cloud), "--output", "json", "deploy", "--stack", "parent", cwd=root)
    assert r.exit_code == 0, r
    assert r.json_lines()[-1]["status"] == "UPDATE_COMPLETE"
    again = cfn.describe_stacks(StackName=greeter["PhysicalResourceId"])["Stacks"][0]
    assert again["StackId"] == nested["StackId"] and again["StackStatus"] == "UPDATE_COMPLETE"
    r = cli(*local(local_cloud), "invoke", "Greeter/Hello", "--stack", "parent", cwd=root)
    assert r.exit_code == 0, r
    assert json.loads(r.stdout) == {"greeting": "changed"}


def test_invoke_names_a_nested_function_as_application_slash_function(local_cloud, cli, tmp_path):
    root = project(tmp_path)
    assert cli(*local(local_cloud), "deploy", "--stack", "parent", cwd=root).exit_code == 0
    r = cli(*local(local_cloud), "invoke", "Hello", "--stack", "parent", cwd=root)
    assert r.exit_code == 2, r
    assert "NESTED/FUNCTION" in r.stderr and "Greeter" in r.stderr
    r = cli(*local(local_cloud), "invoke", "Nope/Hello", "--stack", "parent", cwd=root)
    assert r.exit_code == 2, r
    assert "no nested stack Nope" in r.stderr and "Greeter" in r.stderr


def test_a_serverless_application_repository_location_is_refused_on_the_local_cloud(local_cloud, cli, tmp_path):
    (tmp_path / "template.yaml").write_text(textwrap.dedent("""\
        Transform: AWS::Serverless-2016-10-31
        Resources:
          Sar:
            Type: AWS::Serverless::Application
            Properties:
              Location:
                ApplicationId: arn:aws:serverlessrepo:us-east-1:123456789012:applications/hello-world
                SemanticVersion: 1.0.0
        """))
    r = cli(*local(local_cloud), "deploy", "--stack", "sar", cwd=tmp_path)
    assert r.exit_code == 2, r
    assert "template.yaml:7:" in r.stderr and "local cloud has no Serverless Application Repository" in r.stderr
    assert local_cloud.client("cloudformation").describe_stacks()["Stacks"] == []
