"""``lamctl transform`` at the command line: JSON on stdout, JSON/YAML files, regions, parameters, errors."""

from __future__ import annotations

import json
import subprocess
import sys

import yaml

from tests.helpers import write_template

TEMPLATE = """\
Transform: AWS::Serverless-2016-10-31
Parameters:
  Stage: {Type: String, Default: dev}
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: s3://bucket/app.zip
      Handler: app.handler
      Runtime: python3.12
      AutoPublishAlias: !Ref Stage
      Events:
        Tick: {Type: Schedule, Properties: {Schedule: rate(5 minutes)}}
Outputs:
  Alias: {Value: !Ref Fn.Alias}
"""


def test_json_on_stdout_with_no_transform_left(cli, tmp_path):
    write_template(tmp_path, TEMPLATE)
    result = cli("transform", cwd=tmp_path)
    assert result.exit_code == 0, result
    out = json.loads(result.stdout)
    assert "Transform" not in out
    assert out["Resources"]["Fn"]["Type"] == "AWS::Lambda::Function"
    assert out["Resources"]["FnAliasdev"]["Properties"]["Name"] == "dev"
    assert out["Outputs"]["Alias"]["Value"] == {"Ref": "FnAliasdev"}
    assert out["Resources"]["FnTick"]["Type"] == "AWS::Events::Rule"


def test_parameter_overrides_and_region(cli, tmp_path):
    path = write_template(tmp_path, TEMPLATE)
    result = cli("transform", "-t", path, "--region", "cn-north-1", "--parameter-overrides", "Stage=prod")
    assert result.exit_code == 0, result
    out = json.loads(result.stdout)
    assert "FnAliasprod" in out["Resources"] and "FnAliasdev" not in out["Resources"]
    arns = out["Resources"]["FnRole"]["Properties"]["ManagedPolicyArns"]
    assert arns == ["arn:aws-cn:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"]


def test_yaml_file_when_the_name_says_so_and_json_otherwise(cli, tmp_path):
    path = write_template(tmp_path, TEMPLATE)
    result = cli("transform", "-t", path, "-o", tmp_path / "out" / "cfn.yaml")
    assert result.exit_code == 0, result
    assert result.stdout == ""
    assert "wrote" in result.stderr
    text = (tmp_path / "out" / "cfn.yaml").read_text()
    assert not text.lstrip().startswith("{")
    as_yaml = yaml.safe_load(text)
    result = cli("transform", "-t", path, "-o", tmp_path / "cfn.json")
    assert result.exit_code == 0, result
    assert json.loads((tmp_path / "cfn.json").read_text()) == as_yaml


def test_json_output_mode_reports_the_file_written(cli, tmp_path):
    path = write_template(tmp_path, TEMPLATE)
    result = cli("--output", "json", "transform", "-t", path, "-o", tmp_path / "cfn.json")
    assert result.exit_code == 0, result
    last = result.json_lines()[-1]
    assert last["type"] == "result" and last["ok"] is True and last["resources"] >= 4


def test_plain_cloudformation_passes_through_unchanged(cli, tmp_path):
    text = "Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n    Properties:\n      TopicName: !Sub '${AWS::StackName}-t'\n"
    path = write_template(tmp_path, text)
    result = cli("transform", "-t", path)
    assert result.exit_code == 0, result
    assert json.loads(result.stdout) == {"Resources": {"Topic": {"Type": "AWS::SNS::Topic", "Properties": {
        "TopicName": {"Fn::Sub": "${AWS::StackName}-t"}}}}}


def test_bad_property_is_reported_at_its_line_with_exit_2(cli, tmp_path):
    text = TEMPLATE.replace("      Runtime: python3.12\n", "      Runtime: python3.12\n      MemorySise: 128\n")
    path = write_template(tmp_path, text)
    result = cli("transform", "-t", path, "-o", tmp_path / "out.json")
    assert result.exit_code == 2, result
    assert f"{path}:11:7" in result.stderr
    assert "MemorySise" in result.stderr and "did you mean MemorySize?" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out.json").exists(), "nothing half-done"


def test_unknown_event_type_is_located(cli, tmp_path):
    path = write_template(tmp_path, TEMPLATE.replace("Type: Schedule", "Type: Shedule"))
    result = cli("transform", "-t", path)
    assert result.exit_code == 2, result
    assert f"{path}:13:" in result.stderr and "Shedule" in result.stderr
    assert "hint:" in result.stderr


def test_bad_yaml_and_undeclared_parameter(cli, tmp_path):
    path = write_template(tmp_path, TEMPLATE + "  Broken: [\n")
    result = cli("transform", "-t", path)
    assert result.exit_code == 2 and str(path) in result.stderr and "Traceback" not in result.stderr
    path = write_template(tmp_path, TEMPLATE, "ok.yaml")
    result = cli("transform", "-t", path, "--parameter-overrides", "Nope=1")
    assert result.exit_code == 2 and "Nope" in result.stderr


def test_json_output_mode_is_ndjson_ending_in_a_result_holding_the_template(cli, tmp_path):
    path = write_template(tmp_path, TEMPLATE)
    result = cli("--output", "json", "transform", "-t", path)
    assert result.exit_code == 0, result
    lines = result.json_lines()  # every line is one JSON object
    assert len(result.stdout.splitlines()) == len(lines) == 1
    last = lines[-1]
    assert last["type"] == "result" and last["ok"] is True
    assert last["template"]["Resources"]["Fn"]["Type"] == "AWS::Lambda::Function"
    assert "Transform" not in last["template"]


def test_an_unknown_parameter_names_the_templates_parameters_line_and_the_closest_name(cli, tmp_path):
    path = write_template(tmp_path, TEMPLATE)
    result = cli("transform", "-t", path, "--parameter-overrides", "Stagee=prod")
    assert result.exit_code == 2, result
    assert f"{path}:2:" in result.stderr  # the line of Parameters:
    assert "unknown parameter 'Stagee'" in result.stderr and "--parameter-overrides" in result.stderr
    assert "did you mean Stage?" in result.stderr
    assert result.stdout == ""


SOURCE = """\
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Runtime: python3.12
Resources:
  Hello:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: hello/
      Handler: app.handler
  Bye:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: bye
      Handler: app.handler
"""


def test_a_source_template_is_transformed_with_placeholder_code_locations_said_once(cli, tmp_path):
    path = write_template(tmp_path, SOURCE)
    result = cli("transform", "-t", path)
    assert result.exit_code == 0, result
    out = json.loads(result.stdout)
    assert out["Resources"]["Hello"]["Properties"]["Code"] == {"S3Bucket": "lamctl-placeholder", "S3Key": "hello"}
    assert out["Resources"]["Bye"]["Properties"]["Code"] == {"S3Bucket": "lamctl-placeholder", "S3Key": "bye"}
    assert len(result.stderr.splitlines()) == 1 and "placeholder location" in result.stderr
    assert "Hello.CodeUri, Bye.CodeUri" in result.stderr and "lamctl package" in result.stderr
    result = cli("--output", "json", "transform", "-t", path)
    assert result.exit_code == 0, result
    types = [line["type"] for line in result.json_lines()]
    assert types == ["warning", "result"]
    assert result.json_lines()[-1]["placeholders"] == ["Hello.CodeUri", "Bye.CodeUri"]


def test_runs_as_a_process(tmp_path):
    path = write_template(tmp_path, TEMPLATE)
    proc = subprocess.run([sys.executable, "-m", "lamctl.cli", "transform", "-t", str(path)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["Resources"]["FnRole"]["Type"] == "AWS::IAM::Role"


STATE_MACHINE = """\
Transform: AWS::Serverless-2016-10-31
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties: {CodeUri: s3://bucket/app.zip, Handler: app.handler, Runtime: python3.12}
  Orders:
    Type: AWS::Serverless::StateMachine
    Properties:
      Definition:
        StartAt: Call
        States:
          Call: {Type: Task, Resource: !GetAtt Fn.Arn, End: true}
      Policies: [{LambdaInvokePolicy: {FunctionName: !Ref Fn}}]
      Events:
        Tick: {Type: Schedule, Properties: {Schedule: rate(5 minutes)}}
"""


def test_a_state_machine_validates_and_transforms(cli, tmp_path):
    write_template(tmp_path, STATE_MACHINE)
    assert cli("validate", cwd=tmp_path).exit_code == 0
    result = cli("transform", cwd=tmp_path)
    assert result.exit_code == 0, result
    res = json.loads(result.stdout)["Resources"]
    assert res["Orders"]["Type"] == "AWS::StepFunctions::StateMachine"
    assert res["Orders"]["Properties"]["DefinitionSubstitutions"] == {
        "definition_substitution_1": {"Fn::GetAtt": ["Fn", "Arn"]}}
    assert res["OrdersRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"][0]["Action"] == [
        "lambda:InvokeFunction"]
    assert res["OrdersTick"]["Properties"]["Targets"][0]["RoleArn"] == {"Fn::GetAtt": ["OrdersTickRole", "Arn"]}


def test_a_bad_state_machine_is_refused_where_it_is(cli, tmp_path):
    write_template(tmp_path, STATE_MACHINE.replace("      Policies:", "      Role: arn:aws:iam::1:role/r\n      Policies:"))
    result = cli("transform", cwd=tmp_path)
    assert result.exit_code == 2
    assert "template.yaml:" in result.stderr and "Orders" in result.stderr and "not both" in result.stderr
    assert result.stdout == ""
