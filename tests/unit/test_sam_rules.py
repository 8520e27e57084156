"""One answer for each SAM rule: build, the local runtime, validate and the transform read ``Globals`` as the
reference ``aws-sam-translator`` does (its Globals merge and its transform are the oracle).

The template below mixes every kind of global: scalars (``Timeout``), intrinsics replaced by scalars
(``MemorySize: !Ref``), lists (``Layers``, concatenated), ``Architectures`` (a list the resource replaces), maps
(``Environment``, merged) and lists nested in maps (``VpcConfig.SecurityGroupIds``, concatenated), and a
resource that ignores some globals (``IgnoreGlobals``).
"""

from __future__ import annotations

import copy
import os

import pytest

from lamctl.local.runtime.functions import TemplateFunctions
from lamctl.packager.build import build_template, plan_template
from lamctl.packager.validate import _Checker, validate_template, with_placeholder_code
from lamctl.schemas import sam
from lamctl.schemas.template import load_template, plain
from lamctl.transform import transform
from tests.helpers import reference_transform, write_files

import samtranslator  # noqa: E402,F401 - the reference transform is a test dependency: missing, the run fails

TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Parameters:
  Mem:
    Type: Number
    Default: 512
  Wait:
    Type: Number
    Default: 20
Globals:
  Function:
    Runtime: python3.12
    Handler: app.handler
    CodeUri: src
    Timeout: 10
    MemorySize: !Ref Mem
    Architectures: [arm64]
    Layers: [!Ref SharedLayer, arn:aws:lambda:us-east-1:123456789012:layer:remote:1]
    Environment:
      Variables:
        STAGE: prod
        LEVEL: info
    VpcConfig:
      SecurityGroupIds: [sg-0global]
      SubnetIds: [subnet-0a]
    Tags:
      team: core
Resources:
  SharedLayer:
    Type: AWS::Serverless::LayerVersion
    Properties:
      ContentUri: layers/shared
  OwnLayer:
    Type: AWS::Serverless::LayerVersion
    Properties:
      ContentUri: layers/own
  Overrides:
    Type: AWS::Serverless::Function
    Properties:
      Architectures: [x86_64]
      MemorySize: 1024
      Timeout: !Ref Wait
      Layers: [!Ref OwnLayer]
      Environment:
        Variables:
          LEVEL: debug
          EXTRA: "1"
      VpcConfig:
        SecurityGroupIds: [sg-0local]
      Tags:
        owner: me
  Inherits:
    Type: AWS::Serverless::Function
  Ignores:
    Type: AWS::Serverless::Function
    IgnoreGlobals: [Architectures, Layers, VpcConfig]
    Properties:
      Environment:
        Variables:
          STAGE: dev
"""
FUNCTIONS = ("Overrides", "Inherits", "Ignores")
LAYERS = {"SharedLayer": "layers/shared", "OwnLayer": "layers/own"}


@pytest.fixture
def template(tmp_path):
    write_files(tmp_path, {"src/app.py": "def handler(e, c):\n    return e\n", "layers/shared/python/s.py": "",
                           "layers/own/python/o.py": "", "template.yaml": TEMPLATE})
    return load_template(str(tmp_path / "template.yaml"))


def reference_merged(data: dict) -> dict:
    """Each function's properties after Globals, as the reference merges them."""
    from samtranslator.plugins.globals.globals import Globals as ReferenceGlobals

    ref = ReferenceGlobals(copy.deepcopy(data))
    out = {}
    for lid in FUNCTIONS:
        res = copy.deepcopy(data["Resources"][lid])
        out[lid] = ref.merge(res["Type"], res.get("Properties") or {}, lid, res.get("IgnoreGlobals"))
    return out


def reference_functions(data: dict, monkeypatch) -> dict:
    """The AWS::Lambda::Function the reference transform makes of each function."""
    from samtranslator.translator.arn_generator import ArnGenerator

    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setattr(ArnGenerator, "BOTO_SESSION_REGION_NAME", "us-east-1")
    out = reference_transform(with_placeholder_code(data))
    return {lid: out["Resources"][lid]["Properties"] for lid in FUNCTIONS}


def test_the_shared_merge_is_the_references(template):
    data = plain(template.data)
    want = reference_merged(data)
    globs = sam.Globals.of(data)
    for lid in FUNCTIONS:
        res = data["Resources"][lid]
        assert globs.merge(res["Type"], res.get("Properties") or {}, lid, res.get("IgnoreGlobals")) == want[lid], lid
    # the rules the template exercises, spelled out
    assert want["Overrides"]["Architectures"] == ["x86_64"]  # replaced, not concatenated
    assert want["Overrides"]["VpcConfig"]["SecurityGroupIds"] == ["sg-0global", "sg-0local"]  # nested list
    assert want["Overrides"]["Environment"]["Variables"] == {"STAGE": "prod", "LEVEL": "debug", "EXTRA": "1"}
    assert want["Overrides"]["Timeout"] == {"Ref": "Wait"} and want["Overrides"]["MemorySize"] == 1024
    assert "Architectures" not in want["Ignores"] and "Layers" not in want["Ignores"]


def test_the_transform_deploys_what_the_reference_deploys(template, monkeypatch):
    data = plain(template.data)
    want = reference_functions(data, monkeypatch)
    got = transform(with_placeholder_code(data))
    for lid in FUNCTIONS:
        props = got["Resources"][lid]["Properties"]
        for key in ("Architectures", "Layers", "Environment", "VpcConfig", "MemorySize", "Timeout", "Runtime",
                    "Handler", "Tags"):
            assert props.get(key) == want[lid].get(key), (lid, key)
    assert want["Overrides"]["Architectures"] == ["x86_64"]


def test_build_builds_for_what_is_deployed(template, tmp_path):
    want = reference_merged(plain(template.data))
    plans = {p.resource: p for p in plan_template(template, str(tmp_path / "out"))}
    for lid in FUNCTIONS:
        assert plain(plans[lid].props) == want[lid], lid
    result = build_template(template, str(tmp_path / "out"))
    arch = {a.resource: a.architecture for a in result.artifacts}
    # Globals say arm64, Overrides says x86_64: its dependencies must be x86_64 ones, as Lambda runs it
    assert arch == {"Overrides": "x86_64", "Inherits": "arm64", "Ignores": "x86_64",
                    "SharedLayer": "x86_64", "OwnLayer": "x86_64"}
    assert [a.layers for a in result.artifacts if a.resource == "Overrides"] == [("SharedLayer", "OwnLayer")]


def test_the_local_runtime_runs_what_is_deployed(template, tmp_path):
    want = reference_merged(plain(template.data))
    functions = TemplateFunctions(template.path, build=False)
    for lid in FUNCTIONS:
        spec = functions.spec(lid)
        ref = want[lid]
        assert spec.architecture == (ref.get("Architectures") or ["x86_64"])[0], lid
        assert dict(spec.environment) == ref["Environment"]["Variables"], lid
        assert spec.memory_size == (1024 if lid == "Overrides" else 512), lid
        assert spec.timeout == (20 if lid == "Overrides" else 10), lid
        local_layers = [LAYERS[x["Ref"]] for x in ref.get("Layers") or [] if isinstance(x, dict)]
        assert [os.path.relpath(d, tmp_path) for d in spec.layer_dirs] == local_layers, lid


def test_validate_checks_what_is_deployed(template):
    data = template.data
    want = reference_merged(plain(data))
    checker = _Checker(template)
    for lid in FUNCTIONS:
        effective = checker.effective(lid, data["Resources"][lid])
        assert plain({k: v for k, (v, _) in effective.items()}) == want[lid], lid
    assert checker.effective("Overrides", data["Resources"]["Overrides"])["Architectures"][1] == \
        ("Resources", "Overrides", "Properties", "Architectures")
    assert checker.effective("Inherits", data["Resources"]["Inherits"])["Layers"][1] == \
        ("Globals", "Function", "Layers")
    assert not [f for f in validate_template(template) if f.severity == "error"]


@pytest.mark.parametrize("what, text, where", [
    ("a kind Globals cannot set", "Globals:\n  Functions:\n    Timeout: 3\n", "template.yaml:2:3"),
    ("a property Globals cannot set", "Globals:\n  Function:\n    FunctionName: x\n", "template.yaml:3:5"),
])
def test_build_and_local_refuse_the_globals_the_transform_refuses(tmp_path, what, text, where):
    from lamctl.schemas.errors import TemplateError

    write_files(tmp_path, {"src/app.py": "", "template.yaml": text + "Resources:\n  Fn:\n"
                           "    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: src\n"
                           "      Runtime: python3.12\n      Handler: app.handler\n"})
    template = load_template(str(tmp_path / "template.yaml"))
    with pytest.raises(TemplateError) as transform_error:
        transform(with_placeholder_code(plain(template.data)), where=template.where)
    with pytest.raises(TemplateError) as build_error:
        build_template(template, str(tmp_path / "out"))
    with pytest.raises(TemplateError) as local_error:
        TemplateFunctions(template.path, build=False)
    assert build_error.value.where.endswith(where) and local_error.value.where.endswith(where)
    assert transform_error.value.where.endswith(where)
    assert build_error.value.message == local_error.value.message == transform_error.value.message
    assert not (tmp_path / "out").exists()  # nothing half-done


def test_is_intrinsic_and_is_serverless():
    assert sam.is_intrinsic({"Ref": "X"}) and sam.is_intrinsic({"Fn::If": []}) and sam.is_intrinsic({"Condition": "C"})
    assert not sam.is_intrinsic({"Ref": "X", "Other": 1}) and not sam.is_intrinsic({1: "x"})
    assert not sam.is_intrinsic({"Variables": {}}) and not sam.is_intrinsic(["Ref"])
    assert sam.is_serverless({"Transform": sam.TRANSFORM})
    assert sam.is_serverless({"Transform": ["AWS::LanguageExtensions", {"Name": sam.TRANSFORM}]})
    assert sam.is_serverless({"Resources": {"F": {"Type": "AWS::Serverless::Function"}}})
    assert not sam.is_serverless({"Resources": {"Q": {"Type": "AWS::SQS::Queue"}}})


@pytest.mark.parametrize("rtype, props, want", [
    ("AWS::Serverless::Function", {}, ("CodeUri", ".")),
    ("AWS::Serverless::Function", {"CodeUri": "src"}, ("CodeUri", "src")),
    ("AWS::Serverless::Function", {"InlineCode": "x"}, None),
    ("AWS::Serverless::Function", {"PackageType": "Image", "ImageUri": "repo:tag"}, None),
    ("AWS::Serverless::LayerVersion", {}, None),
    ("AWS::Serverless::LayerVersion", {"ContentUri": "layer"}, ("ContentUri", "layer")),
    ("AWS::Lambda::Function", {"Code": {"ZipFile": "x"}}, ("Code", {"ZipFile": "x"})),
    ("AWS::Lambda::LayerVersion", {"Content": "dir"}, ("Content", "dir")),
    ("AWS::SQS::Queue", {}, None),
])
def test_code_location(rtype, props, want):
    assert sam.code_location(rtype, props) == want


@pytest.mark.parametrize("resources, want", [
    ("  Fn:\n    Type: AWS::Serverless::Function\n", False),  # Globals' CodeUri is in S3 already
    ("  Fn:\n    Type: AWS::Serverless::Function\n    IgnoreGlobals: [CodeUri]\n", True),  # the template's folder
    ("  Fn:\n    Type: AWS::Serverless::Function\n    IgnoreGlobals: \"*\"\n    Properties:\n"
     "      InlineCode: x\n", False),
    ("  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: src\n", True),
    ("  L:\n    Type: AWS::Lambda::LayerVersion\n    Properties:\n      Content: {S3Bucket: b, S3Key: k}\n", False),
])
def test_deploy_packages_when_build_would_find_local_code(tmp_path, resources, want):
    from lamctl.packager.artifacts import needs_build

    write_files(tmp_path, {"src/app.py": "", "template.yaml": "Transform: AWS::Serverless-2016-10-31\nGlobals:\n"
                           "  Function:\n    CodeUri: s3://bucket/code.zip\nResources:\n" + resources})
    template = load_template(str(tmp_path / "template.yaml"))
    assert needs_build(template) is want
    assert bool(plan_template(template, str(tmp_path / "out"))) is want  # what build finds to build
