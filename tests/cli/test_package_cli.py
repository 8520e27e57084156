"""``lamctl package`` end to end: a real build, real uploads to the emulator over HTTP, the template out."""

from __future__ import annotations

import hashlib
import os
import socket
import textwrap
import zipfile

import pytest
import yaml

from tests.helpers import write_files, write_template

TEMPLATE = textwrap.dedent("""\
    AWSTemplateFormatVersion: '2010-09-09'
    Transform: AWS::Serverless-2016-10-31
    # keep me
    Resources:
      HelloFunction:
        Type: AWS::Serverless::Function
        Properties:
          CodeUri: hello/
          Handler: app.handler
          Runtime: python3.12
          Environment:
            Variables:
              TABLE: !Ref Table
      PlainFunction:
        Type: AWS::Lambda::Function
        Properties:
          Code: plain
          Handler: index.handler
          Runtime: python3.12
          Role: !GetAtt Role.Arn
      Table:
        Type: AWS::DynamoDB::Table
        Properties:
          BillingMode: PAY_PER_REQUEST
    """)


@pytest.fixture
def project(tmp_path):
    write_files(tmp_path, {"hello/app.py": "def handler(event, context):\n    return 'Hello World'\n",
                           "plain/index.py": "def handler(event, context):\n    return 1\n"})
    write_template(tmp_path, TEMPLATE)
    return tmp_path


def all_versions(s3, bucket: str) -> list[tuple[str, str]]:
    listing = s3.list_object_versions(Bucket=bucket)
    return sorted((v["Key"], v["VersionId"]) for v in listing.get("Versions", []))


def test_package_prints_the_template_with_s3_locations_and_uploads_each_zip(project, cli, aws):
    s3 = aws.client("s3")
    s3.create_bucket(Bucket="art-bucket")
    result = cli("package", "--s3-bucket", "art-bucket", "--s3-prefix", "demo", cwd=project)
    assert result.exit_code == 0, result

    packaged = yaml.safe_load(result.stdout.replace("!Ref ", "").replace("!GetAtt ", ""))
    hello_uri = packaged["Resources"]["HelloFunction"]["Properties"]["CodeUri"]
    plain_code = packaged["Resources"]["PlainFunction"]["Properties"]["Code"]
    assert hello_uri.startswith("s3://art-bucket/demo/") and hello_uri.endswith(".zip")
    assert plain_code["S3Bucket"] == "art-bucket" and plain_code["S3Key"].startswith("demo/")

    # the objects are the built zips, named by their sha256, and they hold the code
    hello_key = hello_uri[len("s3://art-bucket/"):]
    body = s3.get_object(Bucket="art-bucket", Key=hello_key)["Body"].read()
    assert hello_key == f"demo/{hashlib.sha256(body).hexdigest()}.zip"
    import io

    with zipfile.ZipFile(io.BytesIO(body)) as zf:
        assert zf.read("app.py").startswith(b"def handler")

    # only the two code locations changed, comments and tags kept
    before, after = TEMPLATE.splitlines(), result.stdout.splitlines()
    assert len(before) == len(after)
    changed = [(b, a) for b, a in zip(before, after) if b != a]
    assert [b.strip() for b, _ in changed] == ["CodeUri: hello/", "Code: plain"]
    assert "# keep me" in result.stdout and "!Ref Table" in result.stdout
    assert "uploaded HelloFunction" in result.stderr and "uploaded PlainFunction" in result.stderr


def test_a_second_package_uploads_nothing(project, cli, aws):
    s3 = aws.client("s3")
    s3.create_bucket(Bucket="art-bucket")
    # with versioning on, every PUT of a key adds a version: a count of versions is a count of writes
    s3.put_bucket_versioning(Bucket="art-bucket", VersioningConfiguration={"Status": "Enabled"})

    first = cli("--output", "json", "package", "--s3-bucket", "art-bucket", cwd=project)
    assert first.exit_code == 0, first
    events = [e for e in first.json_lines() if e["type"] == "upload"]
    assert sorted(e["state"] for e in events) == ["uploaded", "uploaded"]
    versions = all_versions(s3, "art-bucket")
    assert len(versions) == 2

    second = cli("--output", "json", "package", "--s3-bucket", "art-bucket", cwd=project)
    assert second.exit_code == 0, second
    events2 = [e for e in second.json_lines() if e["type"] == "upload"]
    assert sorted(e["state"] for e in events2) == ["present", "present"]
    assert all_versions(s3, "art-bucket") == versions
    result = second.json_lines()[-1]
    assert result["type"] == "result" and result["uploaded"] == 0 and result["present"] == 2
    assert result["template"] == first.json_lines()[-1]["template"]

    # a code change uploads exactly the one zip that changed
    (project / "hello" / "app.py").write_text("def handler(event, context):\n    return 'Hello again'\n")
    third = cli("--output", "json", "package", "--s3-bucket", "art-bucket", cwd=project)
    states = {e["resource"]: e["state"] for e in third.json_lines() if e["type"] == "upload"}
    assert states == {"HelloFunction": "uploaded", "PlainFunction": "present"}
    assert len(all_versions(s3, "art-bucket")) == 3


def test_output_template_file(project, cli, aws):
    aws.client("s3").create_bucket(Bucket="art-bucket")
    result = cli("package", "--s3-bucket", "art-bucket", "--output-template-file", "out/packaged.yaml",
                 cwd=project)
    assert result.exit_code == 2  # the folder out/ does not exist: refused before anything is built
    assert "out/packaged.yaml" in result.stderr and "does not exist" in result.stderr
    assert not (project / ".lamctl").exists()

    (project / "out").mkdir()
    result = cli("package", "--s3-bucket", "art-bucket", "--output-template-file", "out/packaged.yaml",
                 cwd=project)
    assert result.exit_code == 0, result
    assert result.stdout.strip() == "wrote the packaged template to out/packaged.yaml"
    text = (project / "out" / "packaged.yaml").read_text()
    assert "s3://art-bucket/" in text and "CodeUri: hello/" not in text


def test_refuses_to_overwrite_the_template_itself(project, cli, aws):
    result = cli("package", "--s3-bucket", "art-bucket", "--output-template-file", "template.yaml", cwd=project)
    assert result.exit_code == 2
    assert "would be overwritten" in result.stderr
    assert (project / "template.yaml").read_text() == TEMPLATE


def test_no_bucket_is_a_usage_error_saying_how_to_give_one(project, cli, aws):
    result = cli("package", cwd=project)
    assert result.exit_code == 2, result
    assert "no S3 bucket" in result.stderr
    assert "--s3-bucket" in result.stderr and "lamctl.toml" in result.stderr
    assert result.stdout == ""
    assert not (project / ".lamctl").exists()  # nothing half-done: not even a build

    as_json = cli("--output", "json", "package", cwd=project)
    assert as_json.exit_code == 2
    last = as_json.json_lines()[-1]
    assert last["type"] == "result" and last["ok"] is False and last["exit_code"] == 2


def test_bucket_and_prefix_from_lamctl_toml(project, cli, aws):
    s3 = aws.client("s3")
    s3.create_bucket(Bucket="toml-bucket")
    (project / "lamctl.toml").write_text('[default]\ns3_bucket = "toml-bucket"\ns3_prefix = "from/toml"\n')
    result = cli("package", cwd=project)
    assert result.exit_code == 0, result
    assert "s3://toml-bucket/from/toml/" in result.stdout
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="toml-bucket")["Contents"]]
    assert len(keys) == 2 and all(k.startswith("from/toml/") for k in keys)


def test_a_missing_bucket_on_aws_is_a_clear_failure(project, cli, aws):
    result = cli("package", "--s3-bucket", "no-such-bucket", cwd=project)
    assert result.exit_code == 1, result
    assert "no-such-bucket" in result.stderr and "does not exist" in result.stderr
    assert result.stdout == ""


def test_local_creates_the_bucket_when_missing(project, cli, aws):
    s3 = aws.client("s3")
    assert "missing-bucket" not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    result = cli("--local", "--endpoint-url", aws.endpoint, "package", "--s3-bucket", "missing-bucket", cwd=project)
    assert result.exit_code == 0, result
    assert "created the bucket missing-bucket on the local cloud" in result.stderr
    assert len(s3.list_objects_v2(Bucket="missing-bucket")["Contents"]) == 2
    again = cli("--local", "--endpoint-url", aws.endpoint, "package", "--s3-bucket", "missing-bucket", cwd=project)
    assert again.exit_code == 0 and "created the bucket" not in again.stderr


def test_local_target_without_a_bucket_uses_the_local_artifact_bucket_as_deploy_does(project, cli, aws):
    (project / "lamctl.toml").write_text('[default]\ntarget = "local"\n')
    result = cli("--endpoint-url", aws.endpoint, "package", cwd=project)
    assert result.exit_code == 0, result
    assert "created the bucket lamctl-local-artifacts on the local cloud" in result.stderr
    assert "s3://lamctl-local-artifacts/" in result.stdout
    assert len(aws.client("s3").list_objects_v2(Bucket="lamctl-local-artifacts")["Contents"]) == 2


def test_without_a_bucket_on_aws_package_says_how_to_name_one(project, cli, aws):
    result = cli("package", cwd=project)
    assert result.exit_code == 2, result
    assert "no S3 bucket" in result.stderr and "--s3-bucket" in result.stderr


def test_local_target_starts_the_local_cloud_when_none_runs(project, cli, monkeypatch):
    import boto3

    from lamctl.local.cloud import lifecycle as cloud

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("LAMCTL_LOCAL_PORT", str(port))
    (project / "lamctl.toml").write_text('[default]\ntarget = "local"\ns3_bucket = "local-art"\n')
    try:
        result = cli("package", cwd=project)
        assert result.exit_code == 0, result
        assert f"started the local cloud at http://127.0.0.1:{port}" in result.stderr
        assert "lamctl local stop" in result.stderr
        s3 = boto3.client("s3", region_name="us-east-1", endpoint_url=f"http://127.0.0.1:{port}",
                          aws_access_key_id="testing", aws_secret_access_key="testing")
        assert len(s3.list_objects_v2(Bucket="local-art")["Contents"]) == 2
        again = cli("package", cwd=project)
        assert again.exit_code == 0 and "started the local cloud" not in again.stderr
    finally:
        stopped = cloud.stop()
    assert stopped.pid is not None


def test_a_bucket_given_as_a_uri_is_refused_with_the_fix(project, cli, aws):
    result = cli("package", "--s3-bucket", "s3://art-bucket/some/prefix", cwd=project)
    assert result.exit_code == 2
    assert "--s3-bucket art-bucket" in result.stderr and "--s3-prefix" in result.stderr


def test_a_template_with_no_local_code_comes_out_unchanged(tmp_path, cli, aws):
    aws.client("s3").create_bucket(Bucket="art-bucket")
    text = ("Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n"
            "      CodeUri: s3://elsewhere/code.zip\n      Handler: a.b\n      Runtime: python3.12\n")
    write_template(tmp_path, text)
    result = cli("package", "--s3-bucket", "art-bucket", cwd=tmp_path)
    assert result.exit_code == 0, result
    assert result.stdout == text
    assert "0 uploaded" in result.stderr
    assert aws.client("s3").list_objects_v2(Bucket="art-bucket").get("KeyCount") == 0


def test_github_job_summary_lists_each_artifact(project, cli, aws, monkeypatch, tmp_path):
    aws.client("s3").create_bucket(Bucket="art-bucket")
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    monkeypatch.setenv("CI", "true")
    assert cli("package", "--s3-bucket", "art-bucket", cwd=project).exit_code == 0
    assert cli("package", "--s3-bucket", "art-bucket", cwd=project).exit_code == 0
    text = summary.read_text()
    assert text.count("### lamctl package") == 2
    first, second = text.split("### lamctl package")[1:]
    assert "| HelloFunction |" in first and "| uploaded |" in first and "`s3://art-bucket/" in first
    assert "| uploaded |" not in second and second.count("| already there |") == 2


FILES_TEMPLATE = textwrap.dedent("""\
    Transform: AWS::Serverless-2016-10-31
    Resources:
      HelloFunction:
        Type: AWS::Serverless::Function
        Properties:
          CodeUri: hello/
          Handler: app.handler
          Runtime: python3.12
      Api:
        Type: AWS::Serverless::Api
        Properties:
          StageName: prod
          DefinitionUri: api/openapi.yaml
      Machine:
        Type: AWS::StepFunctions::StateMachine
        Properties:
          RoleArn: arn:aws:iam::123456789012:role/x
          DefinitionS3Location: machine.json
      Resolver:
        Type: AWS::AppSync::Resolver
        Properties:
          ApiId: abc
          TypeName: Query
          FieldName: hello
          RequestMappingTemplateS3Location: vtl/request.vtl
          ResponseMappingTemplateS3Location: s3://already/there.vtl
    """)


def test_other_local_files_are_uploaded_as_they_are(project, cli, aws):
    s3 = aws.client("s3")
    s3.create_bucket(Bucket="art-bucket")
    write_files(project, {"api/openapi.yaml": "openapi: 3.0.1\npaths: {}\n",
                          "machine.json": '{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}}',
                          "vtl/request.vtl": '{"version": "2018-05-29"}'})
    write_template(project, FILES_TEMPLATE)

    result = cli("--output", "json", "package", "--s3-bucket", "art-bucket", "--s3-prefix", "f", cwd=project)
    assert result.exit_code == 0, result
    text = result.json_lines()[-1]["template"]
    sha = {name: hashlib.sha256((project / name).read_bytes()).hexdigest()
           for name in ("api/openapi.yaml", "machine.json", "vtl/request.vtl")}
    assert f"DefinitionUri: s3://art-bucket/f/{sha['api/openapi.yaml']}.yaml" in text
    assert f"DefinitionS3Location: {{Bucket: art-bucket, Key: f/{sha['machine.json']}.json}}" in text
    assert f"RequestMappingTemplateS3Location: s3://art-bucket/f/{sha['vtl/request.vtl']}.vtl" in text
    assert "ResponseMappingTemplateS3Location: s3://already/there.vtl" in text
    for name, digest in sha.items():
        key = f"f/{digest}{os.path.splitext(name)[1]}"
        assert s3.get_object(Bucket="art-bucket", Key=key)["Body"].read() == (project / name).read_bytes()
    events = {(e["resource"], e["prop"]): e for e in result.json_lines() if e["type"] == "upload"}
    assert events[("Api", "DefinitionUri")]["kind"] == "file" and events[("Api", "DefinitionUri")]["state"] == "uploaded"

    again = cli("--output", "json", "package", "--s3-bucket", "art-bucket", "--s3-prefix", "f", cwd=project)
    assert {e["state"] for e in again.json_lines() if e["type"] == "upload"} == {"present"}


def test_a_local_file_that_is_missing_is_reported_at_its_line_before_building(project, cli, aws):
    aws.client("s3").create_bucket(Bucket="art-bucket")
    write_template(project, FILES_TEMPLATE)
    result = cli("package", "--s3-bucket", "art-bucket", cwd=project)
    assert result.exit_code == 2, result
    assert "error: ./template.yaml:13:22: " in result.stderr, result.stderr  # the template as given, at its line
    assert "Api: DefinitionUri 'api/openapi.yaml' is not a file" in result.stderr
    assert not (project / ".lamctl").exists()
    assert aws.client("s3").list_objects_v2(Bucket="art-bucket").get("KeyCount") == 0
