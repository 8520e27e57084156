"""The transform's logical IDs and their bookkeeping (``transform/context.py``): the reference's stable hash, a
generated resource that clashes with another, where an error points, the partition of a region."""

from __future__ import annotations

import pytest

from lamctl.schemas.errors import TemplateError
from lamctl.transform.context import ApiEvent, Context, logical_id_hash, partition_of


def test_the_logical_id_hash_is_the_first_ten_hex_digits_of_the_sha1_of_compact_sorted_json():
    # the reference transform's rule: sha1 of the text '{"a":1,"b":[1,2]}' (compact, keys sorted); a str as is
    assert logical_id_hash({"b": [1, 2], "a": 1}) == "bcf221bfad"
    assert logical_id_hash("abc") == "a9993e3647"
    assert logical_id_hash("abc", length=4) == "a999"
    assert logical_id_hash({}) == "" and logical_id_hash(None) == "" and logical_id_hash("") == ""


def test_an_api_event_s_resources_are_prefixed_with_function_and_event_names():
    ev = ApiEvent("GetFn", "Hello", "Api", {}, {"Fn::GetAtt": ["GetFn", "Arn"]}, None)
    assert ev.logical_id == "GetFnHello"


@pytest.mark.parametrize("region,partition", [
    ("us-east-1", "aws"), ("cn-north-1", "aws-cn"), ("CN-NORTHWEST-1", "aws-cn"), ("us-gov-west-1", "aws-us-gov"),
    ("us-iso-east-1", "aws-iso"), ("us-isob-east-1", "aws-iso-b"), ("eu-isoe-west-1", "aws-iso-e"),
    ("us-isof-south-1", "aws-iso-f"), ("", "aws"), (None, "aws"),
])
def test_the_partition_of_a_region(region, partition):
    assert partition_of(region) == partition
    if region:
        assert Context({}, region=region).partition == partition


def test_a_generated_resource_that_clashes_with_another_is_an_error_naming_both_and_the_fix():
    ctx = Context({"Resources": {"FnRole": {"Type": "AWS::IAM::Role"}}})
    ctx.resources["FnRole"] = {"Type": "AWS::IAM::Role"}
    with pytest.raises(TemplateError) as err:  # the template declares FnRole itself: never merged silently
        ctx.add("FnRole", {"Type": "AWS::IAM::Role"}, keys=("Resources", "Fn"))
    assert err.value.message == ("resource FnRole (AWS::IAM::Role) that lamctl generates clashes with another "
                                 "resource of the same logical ID (AWS::IAM::Role)")
    assert err.value.hint == "rename the resource called FnRole in the template"
    assert err.value.where == "Resources.Fn"
    ctx.add("FnAliaslive", {"Type": "AWS::Lambda::Alias", "Properties": {"Name": "live"}})
    ctx.add("FnAliaslive", {"Type": "AWS::Lambda::Alias", "Properties": {"Name": "live"}})  # the same twice: one
    with pytest.raises(TemplateError, match=r"FnAliaslive \(AWS::Lambda::Version\) .* \(AWS::Lambda::Alias\)"):
        ctx.add("FnAliaslive", {"Type": "AWS::Lambda::Version"})
    assert ctx.resources["FnAliaslive"] == {"Type": "AWS::Lambda::Alias", "Properties": {"Name": "live"}}


def test_an_error_points_at_the_file_position_when_known_else_at_the_resource_path():
    seen = []

    def where(keys, key=False):
        seen.append((tuple(keys), key))
        return f"template.yaml:{len(keys)}:{'1' if key else '5'}"

    ctx = Context({}, where=where)
    assert ctx.error("bad", ("Resources", "Fn", "Properties")).where == "template.yaml:3:5"
    assert ctx.error("bad", ("Resources", "Fn", "Oops"), key=True).where == "template.yaml:3:1"
    assert seen == [(("Resources", "Fn", "Properties"), False), (("Resources", "Fn", "Oops"), True)]

    values_only = Context({}, where=lambda keys: f"template.yaml:{len(keys)}:5")
    assert values_only.error("bad", ("Resources", "Fn"), key=True).where == "template.yaml:2:5"

    def broken(keys, key=False):
        raise KeyError(keys[-1])

    for ctx in (Context({}, where=broken), Context({})):
        assert ctx.error("bad", ("Resources", "Fn", "Properties", "Runtime")).where == \
            "Resources.Fn.Properties.Runtime"
        assert ctx.error("bad", ("Resources",)).where is None
        assert ctx.error("bad", ("Outputs", "X")).where is None
    err = Context({}).error("Runtime is missing", (), hint="add one")
    assert (err.message, err.hint, err.where) == ("Runtime is missing", "add one", None)


def test_parameters_resolve_on_a_copy_and_arns_name_region_and_account_when_asked():
    ctx = Context({}, parameters={"Stage": "prod"})
    value = {"Name": {"Ref": "Stage"}}
    assert ctx.resolve(value) == {"Name": "prod"} and value == {"Name": {"Ref": "Stage"}}
    assert ctx.arn("sqs", "q") == {"Fn::Sub": "arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:q"}
    assert ctx.arn("s3", "b", region=False, account=False) == {"Fn::Sub": "arn:${AWS::Partition}:s3:::b"}
    ctx.refer("Fn", "Alias", "FnAliaslive")
    assert ctx.property_refs == {("Fn", "Alias"): "FnAliaslive"}


def test_conditions_are_read_when_they_are_a_mapping_and_a_position_is_of_the_value_unless_asked():
    conditions = {"IsProd": {"Fn::Equals": [{"Ref": "Stage"}, "prod"]}}
    assert Context({"Conditions": conditions}).conditions == conditions
    assert Context({"Conditions": ["IsProd"]}).conditions == {} and Context({}).conditions == {}
    ctx = Context({}, where=lambda keys, key=False: f"template.yaml:{len(keys)}:{'1' if key else '5'}")
    assert ctx.where(("Resources", "Fn")) == "template.yaml:2:5"
    assert ctx.where(("Resources", "Fn"), key=True) == "template.yaml:2:1"
