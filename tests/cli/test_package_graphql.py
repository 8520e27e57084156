"""``lamctl package`` uploads the local schema file of an ``AWS::Serverless::GraphQLApi`` (``SchemaUri``) and points
the template at it, as it does for an API's definition."""

from __future__ import annotations

import hashlib

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
