"""The packaged template: exactly the code locations change, everything else stays byte for byte."""

from __future__ import annotations

import difflib
import json
import textwrap

import pytest

from lamctl.packager.artifacts import CODE_PROPERTIES, Artifact
from lamctl.packager.package import package, package_template
from lamctl.packager.upload import S3Location, Upload
from lamctl.packager.validate import with_placeholder_code
from lamctl.schemas.errors import TemplateError
from lamctl.schemas.template import plain
from lamctl.transform import transform
from tests.helpers import load_written, write_zip

SHA = {name: (f"{i:x}" * 64)[:64] for i, name in enumerate(
    ["HelloFunction", "ByeFunction", "DepsLayer", "PlainFunction", "PlainLayer", "A", "B"], start=1)}


def artifact(resource: str, resource_type: str, sha: str | None = None) -> Artifact:
    kind, prop = CODE_PROPERTIES[resource_type]
    return Artifact(resource=resource, resource_type=resource_type, kind=kind, prop=prop, source="/src",
                    zip_path="/nowhere.zip", sha256=sha or SHA[resource], files=1, unzipped_bytes=1,
                    zipped_bytes=1)


def uploads_for(artifacts, bucket="bkt", prefix="p") -> list[Upload]:
    return [Upload(a.resource, a.sha256, S3Location(bucket, f"{prefix}/{a.sha256}.zip"), 1, True)
            for a in artifacts]


def changed_lines(before: str, after: str) -> list[tuple[str, str]]:
    """(removed, added) pairs of lines; the diff must be line-for-line replacements."""
    out = []
    sm = difflib.SequenceMatcher(a=before.splitlines(), b=after.splitlines(), autojunk=False)
    for op, i1, i2, j1, j2 in sm.get_opcodes():
        if op == "equal":
            continue
        assert op == "replace" and i2 - i1 == j2 - j1, (op, before.splitlines()[i1:i2], after.splitlines()[j1:j2])
        out += list(zip(before.splitlines()[i1:i2], after.splitlines()[j1:j2]))
    return out


YAML_TEMPLATE = textwrap.dedent("""\
    AWSTemplateFormatVersion: '2010-09-09'
    Transform: AWS::Serverless-2016-10-31
    # a comment that must survive
    Parameters:
      Stage: {Type: String, Default: dev}
    Resources:
      HelloFunction:
        Type: AWS::Serverless::Function
        Properties:
          CodeUri: src/hello/   # trailing comment
          Handler: app.handler
          Runtime: python3.12
          Layers: [!Ref DepsLayer]
          Environment:
            Variables:
              STAGE: !Sub "${Stage}-x"
      DepsLayer:
        Type: AWS::Serverless::LayerVersion
        Properties:
          ContentUri: "layers/deps"
          CompatibleRuntimes: [python3.12]
      PlainFunction:
        Type: AWS::Lambda::Function
        Properties:
          Code: ./plain
          Handler: index.handler
          Runtime: python3.12
          Role: !GetAtt Role.Arn
      PlainLayer:
        Type: AWS::Lambda::LayerVersion
        Properties: {Content: 'layer.zip', LayerName: plain}
      Remote:
        Type: AWS::Serverless::Function
        Properties:
          CodeUri: s3://elsewhere/code.zip
          Handler: a.b
          Runtime: python3.12
      Role:
        Type: AWS::IAM::Role
        Properties:
          AssumeRolePolicyDocument: {}
    Outputs:
      Fn:
        Value: !GetAtt HelloFunction.Arn
    """)


def test_only_the_code_locations_change_in_a_yaml_template(tmp_path):
    template = load_written(tmp_path, YAML_TEMPLATE)
    arts = [artifact("HelloFunction", "AWS::Serverless::Function"),
            artifact("DepsLayer", "AWS::Serverless::LayerVersion"),
            artifact("PlainFunction", "AWS::Lambda::Function"),
            artifact("PlainLayer", "AWS::Lambda::LayerVersion")]
    packaged = package_template(template, uploads_for(arts), arts)

    h, d, pf, pl = (SHA[n] for n in ("HelloFunction", "DepsLayer", "PlainFunction", "PlainLayer"))
    assert changed_lines(YAML_TEMPLATE, packaged.text) == [
        ("      CodeUri: src/hello/   # trailing comment", f"      CodeUri: s3://bkt/p/{h}.zip   # trailing comment"),
        ('      ContentUri: "layers/deps"', f"      ContentUri: s3://bkt/p/{d}.zip"),
        ("      Code: ./plain", f"      Code: {{S3Bucket: bkt, S3Key: p/{pf}.zip}}"),
        ("    Properties: {Content: 'layer.zip', LayerName: plain}",
         f'    Properties: {{Content: {{S3Bucket: bkt, S3Key: p/{pl}.zip}}, LayerName: plain}}'),
    ]
    res = packaged.data["Resources"]
    assert res["HelloFunction"]["Properties"]["CodeUri"] == f"s3://bkt/p/{h}.zip"
    assert res["DepsLayer"]["Properties"]["ContentUri"] == f"s3://bkt/p/{d}.zip"
    assert res["PlainFunction"]["Properties"]["Code"] == {"S3Bucket": "bkt", "S3Key": f"p/{pf}.zip"}
    assert res["PlainLayer"]["Properties"]["Content"] == {"S3Bucket": "bkt", "S3Key": f"p/{pl}.zip"}
    # the rest of the document is the same data, tags included
    original = template.data
    for name in ("Remote", "Role"):
        assert res[name] == original["Resources"][name]
    assert res["HelloFunction"]["Properties"]["Environment"] == {"Variables": {"STAGE": {"Fn::Sub": "${Stage}-x"}}}
    assert packaged.data["Outputs"] == original["Outputs"]


def test_json_template_stays_json(tmp_path):
    doc = {
        "Transform": "AWS::Serverless-2016-10-31",
        "Resources": {
            "HelloFunction": {"Type": "AWS::Serverless::Function",
                              "Properties": {"CodeUri": "src", "Handler": "a.b", "Runtime": "python3.12"}},
            "PlainFunction": {"Type": "AWS::Lambda::Function",
                              "Properties": {"Code": "plain", "Handler": "a.b", "Runtime": "python3.12",
                                             "Role": {"Fn::GetAtt": ["R", "Arn"]}}},
        },
    }
    text = json.dumps(doc, indent=2)
    template = load_written(tmp_path, text, "template.json")
    arts = [artifact("HelloFunction", "AWS::Serverless::Function"),
            artifact("PlainFunction", "AWS::Lambda::Function")]
    packaged = package_template(template, uploads_for(arts, prefix="x/y"), arts)
    out = json.loads(packaged.text)  # still valid JSON
    expected = json.loads(text)
    expected["Resources"]["HelloFunction"]["Properties"]["CodeUri"] = f"s3://bkt/x/y/{SHA['HelloFunction']}.zip"
    expected["Resources"]["PlainFunction"]["Properties"]["Code"] = {"S3Bucket": "bkt",
                                                                    "S3Key": f"x/y/{SHA['PlainFunction']}.zip"}
    assert out == expected
    assert len(changed_lines(text, packaged.text)) == 2


GLOBALS_TEMPLATE = textwrap.dedent("""\
    Transform: AWS::Serverless-2016-10-31
    Globals:
      Function:
        CodeUri: src
        Runtime: python3.12
    Resources:
      A:
        Type: AWS::Serverless::Function
        Properties:
          Handler: a.handler
      B:
        Type: AWS::Serverless::Function
        Properties:
          Handler: b.handler
    """)


def test_globals_codeuri_is_rewritten_when_the_functions_share_one_zip(tmp_path):
    template = load_written(tmp_path, GLOBALS_TEMPLATE)
    arts = [artifact("A", "AWS::Serverless::Function", SHA["A"]),
            artifact("B", "AWS::Serverless::Function", SHA["A"])]
    packaged = package_template(template, uploads_for(arts), arts)
    assert changed_lines(GLOBALS_TEMPLATE, packaged.text) == [("    CodeUri: src", f"    CodeUri: s3://bkt/p/{SHA['A']}.zip")]


def test_functions_inheriting_globals_but_built_differently_each_name_their_zip(tmp_path):
    template = load_written(tmp_path, GLOBALS_TEMPLATE)
    arts = [artifact("A", "AWS::Serverless::Function"), artifact("B", "AWS::Serverless::Function")]
    packaged = package_template(template, uploads_for(arts), arts)
    res = packaged.data["Resources"]
    assert res["A"]["Properties"] == {"CodeUri": f"s3://bkt/p/{SHA['A']}.zip", "Handler": "a.handler"}
    assert res["B"]["Properties"] == {"CodeUri": f"s3://bkt/p/{SHA['B']}.zip", "Handler": "b.handler"}
    assert packaged.data["Globals"]["Function"]["CodeUri"].startswith("s3://bkt/p/")
    assert "src" not in packaged.text.split()  # no local path left anywhere


def test_a_function_with_no_codeuri_anywhere_gets_the_template_folders_zip_as_sam_packages_it(tmp_path):
    # build zips the template's folder for it (lamctl.schemas.sam.code_location); the function names that zip
    text = GLOBALS_TEMPLATE.replace("    CodeUri: src\n", "    Handler: c.handler\n") + \
        "  C:\n    Type: AWS::Serverless::Function\n"
    template = load_written(tmp_path, text)
    arts = [artifact("A", "AWS::Serverless::Function"), artifact("B", "AWS::Serverless::Function", SHA["A"]),
            artifact("C", "AWS::Serverless::Function", SHA["A"])]
    packaged = package_template(template, uploads_for(arts), arts)
    uri = f"s3://bkt/p/{SHA['A']}.zip"
    res = packaged.data["Resources"]
    assert res["A"]["Properties"] == {"CodeUri": uri, "Handler": "a.handler"}
    assert res["B"]["Properties"] == {"CodeUri": uri, "Handler": "b.handler"}
    assert res["C"]["Properties"] == {"CodeUri": uri}  # a function with no Properties gets them
    assert "CodeUri" not in packaged.data["Globals"]["Function"]
    out = transform(plain(packaged.data))
    for name in "ABC":
        assert out["Resources"][name]["Properties"]["Code"] == {"S3Bucket": "bkt", "S3Key": f"p/{SHA['A']}.zip"}


def test_a_function_ignoring_the_global_codeuri_gets_its_own(tmp_path):
    text = GLOBALS_TEMPLATE.replace("  B:\n    Type: AWS::Serverless::Function\n",
                                    "  B:\n    Type: AWS::Serverless::Function\n    IgnoreGlobals: [CodeUri]\n")
    assert "IgnoreGlobals" in text
    template = load_written(tmp_path, text)
    arts = [artifact("B", "AWS::Serverless::Function")]
    packaged = package_template(template, uploads_for(arts), arts)
    assert packaged.data["Globals"]["Function"]["CodeUri"] == "src"  # A was not built here: untouched
    assert packaged.data["Resources"]["B"]["Properties"]["CodeUri"] == f"s3://bkt/p/{SHA['B']}.zip"
    out = transform(plain(with_placeholder_code(packaged.data)))
    assert out["Resources"]["B"]["Properties"]["Code"] == {"S3Bucket": "bkt", "S3Key": f"p/{SHA['B']}.zip"}


def test_package_uploads_then_rewrites(tmp_path, aws):
    import hashlib

    s3 = aws.client("s3")
    s3.create_bucket(Bucket="bkt")
    zpath = write_zip(tmp_path / "hello.zip", {"app.py": "def handler(e, c): return 1\n"})
    sha = hashlib.sha256(zpath.read_bytes()).hexdigest()
    art = Artifact("HelloFunction", "AWS::Serverless::Function", "function", "CodeUri", str(tmp_path / "src"),
                   str(zpath), sha, 1, 10, zpath.stat().st_size)
    template = load_written(tmp_path, YAML_TEMPLATE)
    packaged = package(s3, template, [art], "bkt", "apps")
    assert packaged.uploads[0].uploaded
    assert packaged.data["Resources"]["HelloFunction"]["Properties"]["CodeUri"] == f"s3://bkt/apps/{sha}.zip"
    assert s3.get_object(Bucket="bkt", Key=f"apps/{sha}.zip")["Body"].read() == zpath.read_bytes()
