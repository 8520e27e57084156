"""``lamctl package`` uploads the local files of an ``AWS::Serverless::GraphQLApi``: its schema (``SchemaUri``) and
the code of its pipeline functions and resolvers (``Functions.<name>.CodeUri``, ``Resolvers.<type>.<field>.CodeUri``),
and points the template at them, as ``sam package`` does."""

from __future__ import annotations

import hashlib
import json

import pytest

from tests.helpers import write_files, write_template

TEMPLATE = """\
Transform: AWS::Serverless-2016-10-31
Resources:
  Graph:
    Type: AWS::Serverless::GraphQLApi
    Properties:
      SchemaUri: graphql/schema.graphql  # kept
      Auth: {Type: API_KEY}
"""


def test_a_local_graphql_schema_is_uploaded_and_named_by_uri(cli, aws, tmp_path):
    s3 = aws.client("s3")
    s3.create_bucket(Bucket="art-bucket")
    schema = "type Query { hello: String }\n"
    write_files(tmp_path, {"graphql/schema.graphql": schema})
    write_template(tmp_path, TEMPLATE)
    result = cli("--output", "json", "package", "--s3-bucket", "art-bucket", "--s3-prefix", "g", cwd=tmp_path)
    assert result.exit_code == 0, result
    text = result.json_lines()[-1]["template"]
    key = f"g/{hashlib.sha256(schema.encode()).hexdigest()}.graphql"
    assert f"SchemaUri: s3://art-bucket/{key}  # kept" in text
    assert s3.get_object(Bucket="art-bucket", Key=key)["Body"].read() == schema.encode()


def test_a_missing_schema_file_is_reported_at_its_line(cli, aws, tmp_path):
    aws.client("s3").create_bucket(Bucket="art-bucket")
    path = write_template(tmp_path, TEMPLATE)
    result = cli("package", "-t", path, "--s3-bucket", "art-bucket", cwd=tmp_path)
    assert result.exit_code == 2, result
    assert f"{path}:6:18: " in result.stderr and "SchemaUri" in result.stderr
    assert aws.client("s3").list_objects_v2(Bucket="art-bucket").get("KeyCount") == 0


CODE_TEMPLATE = """\
Transform: AWS::Serverless-2016-10-31
Resources:
  Graph:
    Type: AWS::Serverless::GraphQLApi
    Properties:
      SchemaInline: "type Query { post(id: ID!): String } type Mutation { add(id: ID!): String }"
      Auth: {Type: API_KEY}
      Functions:
        Fetch:
          DataSource: NONE
          Runtime: {Name: APPSYNC_JS, Version: 1.0.0}
          CodeUri: functions/fetch.js  # kept
        Shared:
          DataSource: NONE
          Runtime: {Name: APPSYNC_JS, Version: 1.0.0}
          CodeUri: s3://elsewhere/shared.js
        Inline:
          DataSource: NONE
          Runtime: {Name: APPSYNC_JS, Version: 1.0.0}
          InlineCode: "export function request(ctx) { return {}; }"
      Resolvers:
        Query:
          post: {Runtime: {Name: APPSYNC_JS, Version: 1.0.0}, Pipeline: [Fetch, Shared], CodeUri: resolvers/post.js}
        Mutation:
          add:
            Runtime: {Name: APPSYNC_JS, Version: 1.0.0}
            Pipeline: [Inline]
            CodeUri: resolvers/pipeline.js
"""
FETCH = "export function request(ctx) { return {}; }\nexport function response(ctx) { return ctx.result; }\n"
PIPELINE = "export function request(ctx) { return {}; }\nexport function response(ctx) { return ctx.prev.result; }\n"


def _key(text: str) -> str:
    return f"g/{hashlib.sha256(text.encode()).hexdigest()}.js"


def test_the_local_code_of_graphql_functions_and_resolvers_is_uploaded_and_named_by_uri(cli, aws, tmp_path):
    s3 = aws.client("s3")
    s3.create_bucket(Bucket="art-bucket")
    # the resolver of Query.post uses the same file as the Mutation.add pipeline: one object, two URIs
    write_files(tmp_path, {"functions/fetch.js": FETCH, "resolvers/post.js": PIPELINE,
                           "resolvers/pipeline.js": PIPELINE})
    write_template(tmp_path, CODE_TEMPLATE)
    out = tmp_path / "packaged.yaml"
    result = cli("--output", "json", "package", "--s3-bucket", "art-bucket", "--s3-prefix", "g",
                 "--output-template-file", out, cwd=tmp_path)
    assert result.exit_code == 0, result
    text = out.read_text()
    assert f"CodeUri: s3://art-bucket/{_key(FETCH)}  # kept" in text
    assert "CodeUri: s3://elsewhere/shared.js" in text  # already in S3: left as it is
    # in a flow mapping, the URI is quoted (a plain scalar there could not hold "s3://...")
    assert f'Pipeline: [Fetch, Shared], CodeUri: "s3://art-bucket/{_key(PIPELINE)}"}}' in text
    assert f"            CodeUri: s3://art-bucket/{_key(PIPELINE)}\n" in text
    assert text.replace(f"s3://art-bucket/{_key(FETCH)}", "functions/fetch.js").replace(
        f'"s3://art-bucket/{_key(PIPELINE)}"}}', "resolvers/post.js}").replace(
        f"s3://art-bucket/{_key(PIPELINE)}\n", "resolvers/pipeline.js\n") == CODE_TEMPLATE
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket="art-bucket")["Contents"])
    assert keys == sorted([_key(FETCH), _key(PIPELINE)])
    for body in (FETCH, PIPELINE):
        assert s3.get_object(Bucket="art-bucket", Key=_key(body))["Body"].read() == body.encode()

    # the packaged template transforms into AppSync resources whose code is in the bucket
    transformed = tmp_path / "out.json"
    assert cli("transform", "-t", out, "-o", transformed).exit_code == 0
    resources = json.loads(transformed.read_text())["Resources"]
    code = sorted(str(r["Properties"].get("CodeS3Location")) for r in resources.values()
                  if r["Type"] in ("AWS::AppSync::FunctionConfiguration", "AWS::AppSync::Resolver"))
    assert code == sorted(["None", "s3://elsewhere/shared.js", f"s3://art-bucket/{_key(FETCH)}",
                           f"s3://art-bucket/{_key(PIPELINE)}", f"s3://art-bucket/{_key(PIPELINE)}"])


@pytest.mark.parametrize("missing, prop", [
    ("functions/fetch.js", "Functions.Fetch.CodeUri"),
    ("resolvers/post.js", "Resolvers.Query.post.CodeUri"),
])
def test_a_missing_graphql_code_file_is_reported_at_its_line_and_nothing_is_uploaded(cli, aws, tmp_path, missing,
                                                                                      prop):
    lines = CODE_TEMPLATE.splitlines()
    line = next(i for i, text in enumerate(lines, 1) if missing in text)
    col = lines[line - 1].index(missing) + 1
    aws.client("s3").create_bucket(Bucket="art-bucket")
    files = {"functions/fetch.js": FETCH, "resolvers/post.js": PIPELINE, "resolvers/pipeline.js": PIPELINE}
    del files[missing]
    write_files(tmp_path, files)
    path = write_template(tmp_path, CODE_TEMPLATE)
    result = cli("package", "-t", path, "--s3-bucket", "art-bucket", cwd=tmp_path)
    assert result.exit_code == 2, result
    assert f"{path}:{line}:{col}: " in result.stderr and f"Graph: {prop}" in result.stderr, result.stderr
    assert aws.client("s3").list_objects_v2(Bucket="art-bucket").get("KeyCount") == 0


def test_a_folder_as_a_graphql_code_uri_is_refused(cli, aws, tmp_path):
    aws.client("s3").create_bucket(Bucket="art-bucket")
    write_files(tmp_path, {"functions/fetch.js/index.js": FETCH, "resolvers/post.js": PIPELINE,
                           "resolvers/pipeline.js": PIPELINE})
    path = write_template(tmp_path, CODE_TEMPLATE)
    result = cli("package", "-t", path, "--s3-bucket", "art-bucket", cwd=tmp_path)
    assert result.exit_code == 2, result
    assert f"{path}:12:" in result.stderr and "a folder" in result.stderr
    assert aws.client("s3").list_objects_v2(Bucket="art-bucket").get("KeyCount") == 0
