"""The transform's intrinsic output on its own: parameter values inlined, Fn::FindInMap resolved, the logical ID
a reference points at, and references following renamed logical IDs (a layer's hashed ID, ``Fn.Alias``)."""

from __future__ import annotations

import pytest

from lamctl.schemas.errors import TemplateError
from lamctl.transform.intrinsics import (Rewriter, find_in_map, is_if, is_no_value, logical_id_of,
                                         resolve_parameter_refs)

PARAMS = {"Stage": "prod", "Size": 512, "Dynamic": "{{IntrinsicFunction:template.yaml/Fn::If}}"}


def test_known_parameters_are_inlined_everywhere_and_the_rest_left_alone():
    value = {"A": {"Ref": "Stage"}, "B": [{"Ref": "Size"}, {"Ref": "Unknown"}, {"Ref": ["not", "a", "name"]}],
             "C": {"Ref": "Dynamic"}, "D": {"Ref": "Stage", "Other": 1}, "E": {"Fn::GetAtt": ["Stage", "Arn"]}}
    assert resolve_parameter_refs(value, PARAMS) == {
        "A": "prod", "B": [512, {"Ref": "Unknown"}, {"Ref": ["not", "a", "name"]}],
        "C": {"Ref": "Dynamic"},  # a value only known at deploy time stays a reference
        "D": {"Ref": "Stage", "Other": 1}, "E": {"Fn::GetAtt": ["Stage", "Arn"]}}
    same = {"A": {"Ref": "Stage"}}
    assert resolve_parameter_refs(same, {}) is same and same == {"A": {"Ref": "Stage"}}


def test_fn_sub_substitutes_known_parameters_in_its_string_or_the_string_of_its_list_form():
    assert resolve_parameter_refs({"Fn::Sub": "app-${Stage}-${Unknown}-${AWS::Region}-${Stage}"}, PARAMS) == \
        {"Fn::Sub": "app-prod-${Unknown}-${AWS::Region}-prod"}
    assert resolve_parameter_refs({"Fn::Sub": ["${Stage}/${X}", {"X": {"Ref": "Stage"}}]}, PARAMS) == \
        {"Fn::Sub": ["prod/${X}", {"X": "prod"}]}
    assert resolve_parameter_refs({"Fn::Sub": "${Dynamic}"}, PARAMS) == {"Fn::Sub": "${Dynamic}"}
    # as the reference does: each ${X} found in the original text replaces the first ${X} left, one at a time
    # (a value that itself reads "${B}" is substituted in turn: the reference gives "b-${B}" here)
    assert resolve_parameter_refs({"Fn::Sub": "${A}-${B}"}, {"A": "${B}", "B": "b"}) == {"Fn::Sub": "b-${B}"}
    assert resolve_parameter_refs({"Fn::Sub": [], "x": 1}, PARAMS) == {"Fn::Sub": [], "x": 1}


def test_fn_sub_of_a_parameter_that_is_not_a_string_is_an_error_naming_the_variable():
    with pytest.raises(TemplateError) as err:
        resolve_parameter_refs({"Fn::Sub": "size-${Size}"}, PARAMS)
    assert err.value.message == "Fn::Sub variable ${Size} resolves to 512, not a string"
    assert "give the parameter a string value" in err.value.hint


MAPS = {"Regions": {"us-east-1": {"Ami": "ami-1", "Next": "eu-west-1"}, "eu-west-1": {"Ami": "ami-2"}},
        "Flat": {"key": "value"}}


def test_find_in_map_resolves_plain_keys_and_nested_lookups_and_leaves_the_unknown():
    assert find_in_map({"Fn::FindInMap": ["Regions", "us-east-1", "Ami"]}, MAPS) == "ami-1"
    nested = {"Fn::FindInMap": ["Regions", {"Fn::FindInMap": ["Regions", "us-east-1", "Next"]}, "Ami"]}
    assert find_in_map([nested], MAPS) == ["ami-2"]
    for unresolved in ({"Fn::FindInMap": ["Regions", {"Ref": "AWS::Region"}, "Ami"]},
                       {"Fn::FindInMap": ["Nope", "us-east-1", "Ami"]},
                       {"Fn::FindInMap": ["Regions", "ap-south-1", "Ami"]},
                       {"Fn::FindInMap": ["Regions", "eu-west-1", "Next"]}):
        assert find_in_map(unresolved, MAPS) == unresolved
    lookup = {"Fn::FindInMap": ["Regions", "us-east-1", "Ami"]}
    assert find_in_map(lookup, {}) is lookup


@pytest.mark.parametrize("args,needle", [
    (["Regions", "us-east-1"], "takes [MapName, TopLevelKey, SecondLevelKey]"),
    ("Regions.us-east-1.Ami", "takes [MapName, TopLevelKey, SecondLevelKey]"),
    (["Flat", "key", "x"], "mapping Flat is not a two-level map"),
])
def test_a_malformed_find_in_map_is_an_error(args, needle):
    with pytest.raises(TemplateError) as err:
        find_in_map({"Fn::FindInMap": args}, MAPS)
    assert needle in err.value.message


def test_the_logical_id_a_reference_points_at():
    assert logical_id_of({"Ref": "Fn"}) == "Fn"
    assert logical_id_of({"Fn::GetAtt": ["Fn", "Arn"]}) == "Fn"
    assert logical_id_of({"Fn::GetAtt": "Fn.Alias.Name"}) == "Fn"
    for none in ({"Ref": {"Fn::Sub": "x"}}, {"Fn::GetAtt": []}, {"Fn::GetAtt": [{"Ref": "x"}, "Arn"]},
                 {"Fn::Sub": "${Fn}"}, "Fn", None):
        assert logical_id_of(none) is None


def test_if_and_no_value_are_told_apart():
    assert is_if({"Fn::If": ["C", 1, 2]}) and not is_if({"Ref": "C"}) and not is_if("Fn::If")
    assert is_no_value({"Ref": "AWS::NoValue"}) and not is_no_value({"Ref": "Fn"}) and not is_no_value(None)


def test_references_follow_a_renamed_logical_id_in_ref_getatt_sub_and_depends_on():
    template = {"Resources": {
        "Fn": {"Type": "AWS::Lambda::Function", "DependsOn": "Layer",
               "Properties": {"Layers": [{"Ref": "Layer"}], "Env": {"Fn::Sub": "${Layer}:${Layer.Arn}:${Other}"},
                              "A": {"Fn::GetAtt": ["Layer", "Arn"]}, "B": {"Fn::GetAtt": ["Other", "Arn"]},
                              "C": {"Ref": "Layer.Version"}, "D": {"Fn::GetAtt": ["Layer.Arn", "X"]},
                              "E": {"Fn::GetAtt": ["Layer", {"Ref": "AttrName"}]}}},
        "G": {"DependsOn": ["Layer", "Other", 3]}}}
    out = Rewriter({"Layer": "Layer1a2b3c"}, {}).template(template)
    fn = out["Resources"]["Fn"]
    assert fn["DependsOn"] == "Layer1a2b3c" and out["Resources"]["G"]["DependsOn"] == ["Layer1a2b3c", "Other", 3]
    assert fn["Properties"] == {
        "Layers": [{"Ref": "Layer1a2b3c"}], "Env": {"Fn::Sub": "${Layer1a2b3c}:${Layer1a2b3c.Arn}:${Other}"},
        "A": {"Fn::GetAtt": ["Layer1a2b3c", "Arn"]}, "B": {"Fn::GetAtt": ["Other", "Arn"]},
        "C": {"Ref": "Layer.Version"}, "D": {"Fn::GetAtt": ["Layer1a2b3c", "Arn", "X"]},
        "E": {"Fn::GetAtt": ["Layer", {"Ref": "AttrName"}]}}  # an attribute given by reference: left as it is


def test_references_to_a_function_s_alias_property_point_at_the_generated_alias():
    props = {("Fn", "Alias"): "FnAliaslive"}
    value = {"R": {"Ref": "Fn.Alias"}, "G": {"Fn::GetAtt": ["Fn", "Alias.Name"]}, "H": {"Fn::GetAtt": "x"},
             "S": {"Fn::Sub": "${Fn.Alias}/${Fn}/${Fn.Version}/${Fn.Alias.Name}"}, "K": {"Ref": "Fn.Version"},
             "L": {"Ref": ".Alias"}, "M": {"Ref": "Fn"}, "N": {"Fn::GetAtt": ["Fn", "Arn"]}}
    assert Rewriter({}, props).template(value) == {
        "R": {"Ref": "FnAliaslive"}, "G": {"Fn::GetAtt": ["FnAliaslive", "Name"]}, "H": {"Fn::GetAtt": "x"},
        "S": {"Fn::Sub": "${FnAliaslive}/${Fn}/${Fn.Version}/${FnAliaslive.Name}"}, "K": {"Ref": "Fn.Version"},
        "L": {"Ref": ".Alias"}, "M": {"Ref": "Fn"}, "N": {"Fn::GetAtt": ["Fn", "Arn"]}}


def test_explicit_replacements_apply_to_exactly_the_references_registered():
    rw = Rewriter({}, {}, refs={"Api": {"Ref": "ApiGateway"}}, getatts={("Api", "RootResourceId"): "root"})
    value = [{"Ref": "Api"}, {"Ref": "Other"}, {"Fn::GetAtt": ["Api", "RootResourceId"]},
             {"Fn::GetAtt": ["Api", "Arn"]}, {"Fn::GetAtt": ["Api", "RootResourceId", "x"]}, {"Ref": "Api", "x": 1}]
    assert rw.template(value) == [{"Ref": "ApiGateway"}, {"Ref": "Other"}, "root", {"Fn::GetAtt": ["Api", "Arn"]},
                                  {"Fn::GetAtt": ["Api", "RootResourceId", "x"]}, {"Ref": "Api", "x": 1}]
    assert Rewriter({}, {}, getatts={("Api", "Arn"): "arn"}).template([{"Fn::GetAtt": ["Api", "Arn"]}]) == ["arn"]
