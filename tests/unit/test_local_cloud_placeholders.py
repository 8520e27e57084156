"""The local cloud's placeholders and template fixes, as data: the resource attributes it bundles agree with
CloudFormation's resource schemas (cfn-lint's copy), placeholder values have the shapes the type documents, the
short form of Fn::GetAtt becomes the list form, and the mappings of sources it does not poll are recognised."""

from __future__ import annotations

import pytest

from lamctl.local.cloud.models import PLACEHOLDER, idle_mappings, idle_source, placeholder_class, resource_attributes
from lamctl.release.stacks import long_form_get_att


def test_the_bundled_attributes_agree_with_cloudformations_resource_schemas():
    pytest.importorskip("cfnlint.schema")  # in the test extras
    import importlib.util
    import pathlib

    path = pathlib.Path(__file__).resolve().parents[1] / "conformance" / "refresh_resource_attributes.py"
    spec = importlib.util.spec_from_file_location("refresh_resource_attributes", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    fresh = module.build()
    bundled = resource_attributes()
    shared = set(fresh) & set(bundled)
    assert len(shared) > 1000  # a newer cfn-lint may add types (refresh to pick them up); none may disagree
    assert {t: bundled[t] for t in shared if bundled[t] != fresh[t]} == {}


def test_a_placeholder_has_the_attributes_its_type_documents_in_their_shapes():
    broker = placeholder_class("AWS::AmazonMQ::Broker").create_from_cloudformation_json(
        "app-Broker-ABC", {"Properties": {}}, "123456789012", "eu-west-1", LogicalId="Broker")
    assert broker.physical_resource_id == f"{PLACEHOLDER}-app-Broker-ABC"
    assert broker.get_cfn_attribute("Arn") == f"arn:aws:mq:eu-west-1:123456789012:broker/{PLACEHOLDER}-app-Broker-ABC-Arn"
    assert broker.get_cfn_attribute("IpAddresses") == [f"{PLACEHOLDER}-app-Broker-ABC-IpAddresses"]
    assert broker.get_cfn_attribute("Id") == f"{PLACEHOLDER}-app-Broker-ABC-Id"
    cls = placeholder_class("AWS::AmazonMQ::Broker")
    assert cls.has_cfn_attr("Arn") and not cls.has_cfn_attr("NoSuchThing")
    with pytest.raises(Exception) as refused:
        broker.get_cfn_attribute("NoSuchThing")
    assert "Broker (AWS::AmazonMQ::Broker" in str(refused.value) and "NoSuchThing" in str(refused.value)
    # a type whose Ref is an ARN gets an ARN-shaped physical ID
    cluster = placeholder_class("AWS::MSK::Cluster").create_from_cloudformation_json(
        "app-C-1", {}, "123456789012", "us-east-1", LogicalId="C")
    assert cluster.physical_resource_id.startswith("arn:aws:kafka:us-east-1:123456789012:cluster/")
    # a type the schemas do not list: any attribute, named after it
    unknown = placeholder_class("AWS::Future::Thing").create_from_cloudformation_json("t", {}, "1", "r")
    assert unknown.get_cfn_attribute("ThingArn").startswith("arn:aws:future:r:1:thing/")


def test_the_short_form_of_getatt_becomes_the_list_form_everywhere():
    data = {"Resources": {"P": {"Properties": {"A": {"Fn::GetAtt": "DB.Endpoint.Address"},
                                               "B": [{"Fn::Sub": "x"}, {"Fn::GetAtt": "Q.Arn"}],
                                               "C": {"Fn::GetAtt": ["Q", "Arn"]}, "D": "Q.Arn"}}},
            "Outputs": {"O": {"Value": {"Fn::GetAtt": "Q.QueueName"}}}}
    out = long_form_get_att(data)
    props = out["Resources"]["P"]["Properties"]
    assert props["A"] == {"Fn::GetAtt": ["DB", "Endpoint.Address"]}  # split at the first dot only
    assert props["B"] == [{"Fn::Sub": "x"}, {"Fn::GetAtt": ["Q", "Arn"]}]
    assert props["C"] == {"Fn::GetAtt": ["Q", "Arn"]} and props["D"] == "Q.Arn"
    assert out["Outputs"]["O"]["Value"] == {"Fn::GetAtt": ["Q", "QueueName"]}


def test_the_mappings_of_sources_the_local_cloud_does_not_poll():
    assert idle_source({"EventSourceArn": "arn:aws:mq:us-east-1:1:broker:b:b-1"}) == "Amazon MQ"
    assert idle_source({"EventSourceArn": "arn:aws:kafka:us-east-1:1:cluster/c/1"}) == "Amazon MSK"
    assert idle_source({"SelfManagedEventSource": {"Endpoints": {}}}) == "self-managed Kafka"
    assert idle_source({"EventSourceArn": "arn:aws:sqs:us-east-1:1:q"}) is None
    template = {"Resources": {
        "B": {"Type": "AWS::AmazonMQ::Broker"},
        "M1": {"Type": "AWS::Lambda::EventSourceMapping", "Properties": {"EventSourceArn": {"Fn::GetAtt": ["B", "Arn"]}}},
        "M2": {"Type": "AWS::Lambda::EventSourceMapping", "Properties": {"EventSourceArn": {"Fn::GetAtt": ["Q", "Arn"]}}},
        "M3": {"Type": "AWS::Lambda::EventSourceMapping", "Properties": {"SelfManagedEventSource": {}}}}}
    assert idle_mappings(template) == [("M1", "Amazon MQ"), ("M3", "self-managed Kafka")]
