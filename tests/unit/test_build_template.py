"""Which resources get an artifact, from which location; malformed templates are exit 2 with file:line:col."""

from __future__ import annotations

import os

import pytest

from lamctl.packager.build import build_template
from lamctl.schemas.errors import TemplateError, UsageError
from tests.helpers import load_written, write_files, write_zip, zip_entries, zip_names

ALL_KINDS = """\
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    CodeUri: shared
    Runtime: python3.12
    Handler: app.handler
Resources:
  FromGlobals:
    Type: AWS::Serverless::Function
  Own:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: ./own/
      Layers: [!Ref SamLayer, !Ref PlainLayer]
  SamLayer:
    Type: AWS::Serverless::LayerVersion
    Properties:
      ContentUri: layers/sam
  Plain:
    Type: AWS::Lambda::Function
    Properties:
      Code: plain
      Runtime: python3.12
      Handler: app.handler
      Role: arn:aws:iam::123456789012:role/r
  PlainLayer:
    Type: AWS::Lambda::LayerVersion
    Properties:
      Content: prebuilt.zip
  InS3:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: s3://bucket/key.zip
  InS3Map:
    Type: AWS::Lambda::Function
    Properties:
      Code: {S3Bucket: b, S3Key: k}
  Inline:
    Type: AWS::Lambda::Function
    Properties:
      Code: {ZipFile: "def handler(e, c): pass"}
  Image:
    Type: AWS::Serverless::Function
    Properties:
      PackageType: Image
      ImageUri: 123456789012.dkr.ecr.us-east-1.amazonaws.com/x:1
  Queue:
    Type: AWS::SQS::Queue
"""


def _all_kinds(tmp_path):
    for folder in ("shared", "own", "layers/sam", "plain"):
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / "app.py").write_text(f"# {folder}\n")
    write_zip(tmp_path / "prebuilt.zip", {"python/lib.py": "L = 1\n", "python/other.py": "O = 2\n"})
    return load_written(tmp_path, ALL_KINDS)


def test_every_kind_of_local_code_location_is_built(tmp_path):
    result = build_template(_all_kinds(tmp_path))
    by = {a.resource: a for a in result.artifacts}
    assert list(by) == ["FromGlobals", "Own", "SamLayer", "Plain", "PlainLayer"]  # template order
    assert by["FromGlobals"].source == str(tmp_path / "shared") and by["FromGlobals"].prop == "CodeUri"
    assert by["Own"].source == str(tmp_path / "own")
    assert (by["SamLayer"].kind, by["SamLayer"].prop) == ("layer", "ContentUri")
    assert (by["Plain"].kind, by["Plain"].prop) == ("function", "Code")
    assert (by["PlainLayer"].kind, by["PlainLayer"].prop) == ("layer", "Content")
    assert by["Own"].layers == ("SamLayer", "PlainLayer")
    assert by["PlainLayer"].files == 2 and by["PlainLayer"].unzipped_bytes == 12
    assert open(by["PlainLayer"].zip_path, "rb").read() == (tmp_path / "prebuilt.zip").read_bytes()
    for a in result.artifacts:
        assert a.zip_path == str(tmp_path / ".lamctl" / "build" / f"{a.resource}.zip")
        assert os.path.isfile(a.zip_path)
    assert zip_entries(by["FromGlobals"].zip_path)["app.py"] == b"# shared\n"


def test_only_builds_the_named_function_and_the_layers_it_uses(tmp_path):
    tpl = _all_kinds(tmp_path)
    result = build_template(tpl, str(tmp_path / "out"), only={"Own"})
    assert [a.resource for a in result.artifacts] == ["Own", "SamLayer", "PlainLayer"]
    assert sorted(os.listdir(tmp_path / "out")) == ["Own.zip", "PlainLayer.zip", "SamLayer.zip"]
    with pytest.raises(UsageError) as err:
        build_template(tpl, only={"InS3", "Nope"})
    assert "InS3, Nope" in err.value.message and "FromGlobals" in err.value.hint


def test_a_function_without_codeuri_uses_the_template_folder_as_sam_does(tmp_path):
    template = load_written(tmp_path, "Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n"
                                      "    Properties:\n      Runtime: python3.12\n")
    (tmp_path / "app.py").write_text("")
    art = build_template(template).artifact("Fn")
    assert zip_names(art.zip_path) == ["app.py", "template.yaml"]  # .lamctl (the build dir) stays out


def test_a_json_template_works_too(tmp_path):
    write_files(tmp_path, {"src/app.py": ""})
    template = load_written(
        tmp_path, '{"Resources": {"Fn": {"Type": "AWS::Lambda::Function", "Properties": {"Code": "src"}}}}',
        "template.json")
    assert build_template(template).artifact("Fn").files == 1


MALFORMED = [
    ("no resources", "AWSTemplateFormatVersion: '2010-09-09'\n", "no Resources section", "1:1"),
    ("resources is a list", "Resources:\n  - a\n", "Resources must be a mapping", "2:3"),
    ("a resource is a string", "Resources:\n  Fn: hello\n", "resource Fn must be a mapping", "2:7"),
    ("no type", "Resources:\n  Fn:\n    Properties: {}\n", "resource Fn has no Type", "2:3"),
    ("properties is a list", "Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties: [1]\n",
     "Fn.Properties must be a mapping", "4:17"),
    ("codeuri is a number",
     "Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: 42\n",
     "CodeUri must be a path", "5:16"),
    ("codeuri does not exist",
     "Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: nowhere\n",
     "CodeUri nowhere does not exist", "5:16"),
    ("codeuri is a plain file",
     "Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: notes.txt\n",
     "is a file but not a zip", "5:16"),
    ("globals codeuri does not exist",
     "Globals:\n  Function:\n    CodeUri: gone\nResources:\n  Fn:\n    Type: AWS::Serverless::Function\n",
     "CodeUri gone does not exist", "3:14"),
    ("globals is a list", "Globals: []\nResources:\n  Fn:\n    Type: AWS::SQS::Queue\n",
     "Globals must be a mapping", "1:10"),
    ("unknown architecture",
     "Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: .\n"
     "      Architectures: [sparc]\n", "unknown architecture 'sparc'", "6:23"),
    ("layers is not a list",
     "Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: .\n"
     "      Layers: arn:aws:lambda:us-east-1:1:layer:x:1\n", "Layers must be a list", "6:15"),
    ("yaml syntax", "Resources:\n  Fn: [unclosed\n", "invalid YAML", "3:1"),
]


@pytest.mark.parametrize("case,text,message,position", MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_templates_are_exit_2_with_file_line_and_column(tmp_path, case, text, message, position):
    (tmp_path / "notes.txt").write_text("not a zip")
    with pytest.raises(TemplateError) as err:
        build_template(load_written(tmp_path, text))
    assert err.value.exit_code == 2
    assert message in err.value.message
    assert err.value.where == f"{tmp_path / 'template.yaml'}:{position}"
    assert not (tmp_path / ".lamctl" / "build").exists() or not os.listdir(tmp_path / ".lamctl" / "build")


def test_a_damaged_zip_as_code_location_is_exit_2_at_its_line(tmp_path):
    good = tmp_path / "good.zip"
    write_zip(good, {"app.py": "x" * 1000})
    raw = bytearray(good.read_bytes())
    cd = raw.rfind(b"PK\x01\x02")
    raw[cd:cd + 4] = b"XXXX"  # the central directory no longer parses
    (tmp_path / "bad.zip").write_bytes(bytes(raw))
    with pytest.raises(TemplateError) as err:
        build_template(load_written(
            tmp_path, "Resources:\n  Fn:\n    Type: AWS::Lambda::Function\n    Properties:\n      Code: bad.zip\n"))
    assert err.value.where == f"{tmp_path / 'template.yaml'}:5:13" and "damaged zip" in err.value.message


def test_functions_sharing_a_folder_get_identical_zips_built_once(tmp_path):
    write_files(tmp_path, {"src/app.py": "def a(e, c): pass\ndef b(e, c): pass\n"})
    fns = "".join(f"  Fn{i}:\n    Type: AWS::Serverless::Function\n    Properties:\n      Handler: app.{h}\n"
                  for i, h in enumerate("abab"))
    template = load_written(tmp_path, "Globals:\n  Function:\n    CodeUri: src\n    Runtime: python3.12\n"
                                      "Resources:\n" + fns)
    messages: list[str] = []
    result = build_template(template, notify=messages.append)
    shas = {a.sha256 for a in result.artifacts}
    assert len(result.artifacts) == 4 and len(shas) == 1
    for a in result.artifacts:
        assert open(a.zip_path, "rb").read() == open(result.artifacts[0].zip_path, "rb").read()
    assert len([m for m in messages if "zipping" in m]) == 1
