"""Conformance with the reference SAM transform over the shared corpus, held at the recorded floor."""

from __future__ import annotations

import importlib.util
import json
import os
import pathlib
import sys

import pytest

HERE = pathlib.Path(__file__).resolve().parent
SHARED = HERE.parents[1] / ".." / "shared" / "conformance" / "sam-translator"
# the success cases: $LAMCTL_CONFORMANCE_CORPUS (folders joined with os.pathsep), else input/ and pending/
CORPUS_FOLDERS = [pathlib.Path(f) for f in os.environ["LAMCTL_CONFORMANCE_CORPUS"].split(os.pathsep) if f] \
    if os.environ.get("LAMCTL_CONFORMANCE_CORPUS") else [SHARED / "input", SHARED / "pending"]
CORPUS = CORPUS_FOLDERS[0]

import samtranslator  # noqa: E402,F401 - the reference transform is a test dependency: missing, the run fails


def _runner():
    spec = importlib.util.spec_from_file_location("conformance_run", HERE / "run.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(not CORPUS.is_dir(), reason=f"no conformance corpus at {CORPUS}")
def test_corpus_stays_at_or_above_the_floor(capsys, monkeypatch):
    run = _runner()
    for var in ("AWS_DEFAULT_REGION", "AWS_REGION"):  # the runner sets them for the reference; undone after
        monkeypatch.setenv(var, "us-east-1")
    errors = SHARED / "errors"  # the reference's error cases: lamctl refuses them (exit 2, located)
    code = run.main([str(f) for f in CORPUS_FOLDERS if f.is_dir()] + ["--floor", str(HERE / "floor.json"), "--quiet"]
                    + (["--errors", str(errors)] if errors.is_dir() else []))
    out = capsys.readouterr()
    assert code == 0, out.out + out.err
    assert "resources identical" in out.out
    if errors.is_dir():
        assert "lamctl refuses (exit 2, located)" in out.out


@pytest.mark.slow
@pytest.mark.skipif(not CORPUS.is_dir(), reason=f"no conformance corpus at {CORPUS}")
@pytest.mark.parametrize("region", ["cn-north-1", "us-gov-west-1"])
def test_other_partitions_stay_at_or_above_the_floor(region, capsys, monkeypatch):
    run = _runner()
    monkeypatch.setattr(run, "REGION", run.REGION)  # main() sets the module's region; restore it afterwards
    from samtranslator.translator.arn_generator import ArnGenerator

    monkeypatch.setattr(ArnGenerator, "BOTO_SESSION_REGION_NAME", ArnGenerator.BOTO_SESSION_REGION_NAME)
    for var in ("AWS_DEFAULT_REGION", "AWS_REGION"):
        monkeypatch.setenv(var, "us-east-1")
    code = run.main([str(f) for f in CORPUS_FOLDERS if f.is_dir()]
                    + ["--floor", str(HERE / "floor.json"), "--quiet", "--region", region])
    out = capsys.readouterr()
    assert code == 0, out.out + out.err


def test_a_difference_is_reported_by_resource_and_property(tmp_path, capsys):
    """The comparison itself: a lamctl output that differs in one property is named, resource and property."""
    run = _runner()
    want = {"Resources": {"Fn": {"Type": "AWS::Lambda::Function", "Properties": {"MemorySize": 128,
                                                                                "Layers": ["b", "a"]}},
                          "Role": {"Type": "AWS::IAM::Role", "Properties": {"ManagedPolicyArns": ["y", "x"]}}}}
    got = json.loads(json.dumps(want))
    got["Resources"]["Role"]["Properties"]["ManagedPolicyArns"] = ["x", "y"]  # a set: its order does not count
    assert run.compare("t", want, got).same
    got["Resources"]["Fn"]["Properties"]["Layers"] = ["a", "b"]  # a later layer overrides: order counts
    result = run.compare("t", want, got)
    assert not result.same and any(line.startswith("Fn.Properties.Layers") for line in result.diffs)
    got["Resources"]["Fn"]["Properties"]["Layers"] = ["b", "a"]
    got["Resources"]["Fn"]["Properties"]["MemorySize"] = 256
    result = run.compare("t", want, got)
    assert not result.same and result.identical == 1 and result.total == 2
    assert any(line.startswith("Fn.Properties.MemorySize") for line in result.diffs), result.diffs


def test_rest_api_deployment_hash_is_the_one_tolerated_difference():
    run = _runner()

    def template(digest):
        return {"Resources": {
            f"ApiDeployment{digest[:10]}": {"Type": "AWS::ApiGateway::Deployment",
                                            "Properties": {"Description": f"RestApi deployment id: {digest}"}},
            "ApiStage": {"Type": "AWS::ApiGateway::Stage",
                         "Properties": {"DeploymentId": {"Ref": f"ApiDeployment{digest[:10]}"}}}}}

    assert run.compare("t", template("0123456789abcdef"), template("fedcba9876543210")).same
    other = template("0123456789abcdef")
    other["Resources"]["ApiStage"]["Properties"]["StageName"] = "Prod"
    assert not run.compare("t", template("0123456789abcdef"), other).same


def test_floor_file_is_sane():
    floor = json.loads((HERE / "floor.json").read_text())
    assert 0 < floor["resource_share"] <= 1 and floor["identical_templates"] > 0


def test_bundled_data_matches_the_installed_reference(capsys):
    """managed policy names and policy templates agree with the installed reference's: every entry lamctl bundles
    has the reference's value (names a newer reference added are listed for a refresh, not failed)."""
    spec = importlib.util.spec_from_file_location("refresh_data", HERE / "refresh_data.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main(["--agree"]) == 0, capsys.readouterr().err


def test_a_missing_corpus_says_where_it_comes_from_and_how_to_point_at_it(tmp_path, capsys, monkeypatch):
    run = _runner()
    monkeypatch.setenv(run.CORPUS_ENV, str(tmp_path / "nowhere"))
    assert run.main(["--quiet"]) == 2
    err = capsys.readouterr().err
    assert f"no conformance corpus at {tmp_path / 'nowhere'}" in err
    assert "aws-sam-translator" in err and "--corpus" in err and run.CORPUS_ENV in err


def test_the_corpus_can_be_named_by_flag_or_environment(tmp_path, capsys, monkeypatch):
    run = _runner()
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "one.yaml").write_text("Transform: AWS::Serverless-2016-10-31\nResources:\n  Q:\n    Type: AWS::SQS::Queue\n")
    floor = tmp_path / "floor.json"
    floor.write_text(json.dumps({"resource_share": 1.0, "identical_templates": 1}))
    for var in ("AWS_DEFAULT_REGION", "AWS_REGION"):
        monkeypatch.setenv(var, "us-east-1")
    assert run.main(["--corpus", str(folder), "--floor", str(floor), "--quiet"]) == 0
    assert "1/1" in capsys.readouterr().out
    monkeypatch.setenv(run.CORPUS_ENV, str(folder))
    assert run.main(["--floor", str(floor), "--quiet"]) == 0


def test_an_error_case_lamctl_accepts_is_reported_and_held_by_the_floor(tmp_path, capsys, monkeypatch):
    """The errors check: a template the reference refuses and lamctl transforms is named, and counts against
    the floor's errors_refused; one lamctl refuses with a location counts as refused."""
    run = _runner()
    for var in ("AWS_DEFAULT_REGION", "AWS_REGION"):
        monkeypatch.setenv(var, "us-east-1")
    corpus, errors = tmp_path / "corpus", tmp_path / "errors"
    corpus.mkdir()
    errors.mkdir()
    (corpus / "one.yaml").write_text("Transform: AWS::Serverless-2016-10-31\nResources:\n  Q:\n    Type: AWS::SQS::Queue\n")
    head = "Transform: AWS::Serverless-2016-10-31\nResources:\n  Sm:\n    Type: AWS::Serverless::StateMachine\n"
    # both refuse: Definition and DefinitionUri together
    (errors / "error_both.yaml").write_text(head + "    Properties:\n      Definition: {StartAt: A}\n"
                                            "      DefinitionUri: s3://b/k\n")
    floor = tmp_path / "floor.json"
    floor.write_text(json.dumps({"resource_share": 1.0, "identical_templates": 1, "errors_refused": 1}))
    assert run.main([str(corpus), "--errors", str(errors), "--floor", str(floor)]) == 0
    assert "lamctl refuses (exit 2, located): 1/1" in capsys.readouterr().out
    assert run.check_error(str(errors / "error_both.yaml")) == ("refused", None)
    # the reference accepts this one: it is not an error case
    (errors / "error_fine.yaml").write_text(head + "    Properties:\n      DefinitionUri: s3://b/k\n")
    assert run.check_error(str(errors / "error_fine.yaml"))[0] == "skipped"
