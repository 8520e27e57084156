"""A built zip is what Lambda takes: the emulator accepts it and reports our sha256 as CodeSha256, so a
deploy can compare locally and skip unchanged code. (Running the code is the local runtime's business:
the emulator without Docker does not execute handlers.)"""

from __future__ import annotations

import json

from lamctl.packager.build import build_template
from tests.helpers import load_written, write_files


def test_lambda_reports_the_artifacts_code_sha256(tmp_path, aws):
    write_files(tmp_path, {
        "src/app.py": "def handler(event, context):\n    return {'echo': event.get('x'), 'from': 'lamctl build'}\n"})
    template = load_written(tmp_path, "Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n"
                                      "      CodeUri: src\n      Runtime: python3.12\n      Handler: app.handler\n")
    art = build_template(template).artifact("Fn")
    iam = aws.client("iam")
    role = iam.create_role(RoleName="fn-role", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                       "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]
    lam = aws.client("lambda")
    with open(art.zip_path, "rb") as fh:
        created = lam.create_function(FunctionName="fn", Runtime="python3.12", Handler="app.handler", Role=role,
                                      Code={"ZipFile": fh.read()})
    assert created["CodeSha256"] == art.code_sha256
    assert created["CodeSize"] == art.zipped_bytes
    got = lam.get_function(FunctionName="fn")["Configuration"]
    assert got["CodeSha256"] == art.code_sha256
