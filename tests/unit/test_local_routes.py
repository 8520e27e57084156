"""The routes `lamctl deploy` prints for a stack's APIs on the local cloud: read from the CloudFormation template
(after the SAM transform) as the local cloud creates them, each with the full URL it answers at."""

from __future__ import annotations

import pathlib

import yaml

from lamctl.local.cloud.routes import Route, api_routes, stack_api_urls
from lamctl.local.cloud.urls import api_url
from lamctl.schemas.template import load_template, plain
from lamctl.transform import transform

ENDPOINT = "http://127.0.0.1:4566"
WORKSHOP = pathlib.Path(__file__).resolve().parents[2] / "samples" / "workshop" / "template.yaml"


def _sam(text: str) -> dict:
    return transform(yaml.safe_load(text))


def _physical(template: dict, ids: dict[str, str]) -> dict[str, str]:
    """Logical -> physical IDs as the cloud reports them: the given API IDs, each stage by its StageName."""
    physical = dict(ids)
    for logical, res in template["Resources"].items():
        if res["Type"] in ("AWS::ApiGateway::Stage", "AWS::ApiGatewayV2::Stage"):
            physical[logical] = res["Properties"]["StageName"]
    return physical


def test_the_workshops_hello_route_is_printed_with_its_full_url():
    data = plain(load_template(str(WORKSHOP)).data)
    for res in data["Resources"].values():  # as lamctl package leaves it
        res["Properties"]["CodeUri"] = "s3://artifacts/code.zip"
    cfn = transform(data)
    assert api_routes(cfn) == {"ServerlessRestApi": [Route("GET", "/hello")]}
    (stage,) = stack_api_urls(ENDPOINT + "/", cfn, _physical(cfn, {"ServerlessRestApi": "abc123"}))
    assert stage["api"] == "ServerlessRestApi" and stage["stage"] == "Prod"
    assert stage["url"] == "http://127.0.0.1:4566/restapis/abc123/Prod/_user_request_/"
    assert stage["routes"] == [{"method": "GET", "path": "/hello",
                                "url": "http://127.0.0.1:4566/restapis/abc123/Prod/_user_request_/hello"}]


def test_every_rest_route_with_any_as_any_sorted_by_path():
    cfn = _sam("""
Transform: AWS::Serverless-2016-10-31
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: app.handler
      CodeUri: s3://artifacts/fn.zip
      Events:
        Get: {Type: Api, Properties: {Path: "/items/{id}", Method: get}}
        Post: {Type: Api, Properties: {Path: /items, Method: post}}
        Files: {Type: Api, Properties: {Path: "/files/{proxy+}", Method: any}}
""")
    assert api_routes(cfn)["ServerlessRestApi"] == [
        Route("ANY", "/files/{proxy+}"), Route("POST", "/items"), Route("GET", "/items/{id}")]


def test_an_http_apis_default_stage_is_written_so_a_shell_expands_nothing():
    cfn = _sam("""
Transform: AWS::Serverless-2016-10-31
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: app.handler
      CodeUri: s3://artifacts/fn.zip
      Events:
        One: {Type: HttpApi, Properties: {Path: /hello, Method: GET}}
        All: {Type: HttpApi}
""")
    (stage,) = stack_api_urls(ENDPOINT, cfn, _physical(cfn, {"ServerlessHttpApi": "h77"}))
    assert stage["stage"] == "$default"
    base = "http://127.0.0.1:4566/restapis/h77/%24default/_user_request_/"
    assert stage["url"] == base
    assert stage["routes"] == [{"method": "GET", "path": "/hello", "url": base + "hello"},
                               {"method": "ANY", "path": "$default", "url": base}]
    assert not any("$" in r["url"] for r in stage["routes"])


def test_routes_of_plain_cloudformation_resources():
    cfn = {"Resources": {
        "Api": {"Type": "AWS::ApiGateway::RestApi", "Properties": {"Name": "plain"}},
        "Users": {"Type": "AWS::ApiGateway::Resource",
                  "Properties": {"RestApiId": {"Ref": "Api"}, "PathPart": "users",
                                 "ParentId": {"Fn::GetAtt": ["Api", "RootResourceId"]}}},
        "User": {"Type": "AWS::ApiGateway::Resource",
                 "Properties": {"RestApiId": {"Ref": "Api"}, "PathPart": "{id}", "ParentId": {"Ref": "Users"}}},
        "GetUser": {"Type": "AWS::ApiGateway::Method",
                    "Properties": {"RestApiId": {"Ref": "Api"}, "ResourceId": {"Ref": "User"}, "HttpMethod": "GET"}},
        "Root": {"Type": "AWS::ApiGateway::Method",
                 "Properties": {"RestApiId": {"Ref": "Api"}, "HttpMethod": "ANY",
                                "ResourceId": {"Fn::GetAtt": "Api.RootResourceId"}}},
        "Stage": {"Type": "AWS::ApiGateway::Stage", "Properties": {"RestApiId": {"Ref": "Api"}, "StageName": "v1"}},
        "Http": {"Type": "AWS::ApiGatewayV2::Api", "Properties": {"Name": "h", "ProtocolType": "HTTP"}},
        "R1": {"Type": "AWS::ApiGatewayV2::Route", "Properties": {"ApiId": {"Ref": "Http"}, "RouteKey": "POST /orders"}},
        "R2": {"Type": "AWS::ApiGatewayV2::Route", "Properties": {"ApiId": {"Ref": "Http"}, "RouteKey": "$default"}},
        "HttpStage": {"Type": "AWS::ApiGatewayV2::Stage", "Properties": {"ApiId": {"Ref": "Http"}, "StageName": "live"}},
    }}
    assert api_routes(cfn) == {"Api": [Route("ANY", "/"), Route("GET", "/users/{id}")],
                               "Http": [Route("POST", "/orders"), Route("ANY", "$default")]}
    urls = stack_api_urls(ENDPOINT, cfn, {"Api": "r1", "Stage": "v1", "Http": "h1", "HttpStage": "live"})
    assert [(s["api"], [r["url"] for r in s["routes"]]) for s in urls] == [
        ("Api", [f"{ENDPOINT}/restapis/r1/v1/_user_request_/", f"{ENDPOINT}/restapis/r1/v1/_user_request_/users/{{id}}"]),
        ("Http", [f"{ENDPOINT}/restapis/h1/live/_user_request_/orders", f"{ENDPOINT}/restapis/h1/live/_user_request_/"]),
    ]


def test_a_stage_whose_api_the_stack_did_not_report_is_left_out_and_one_without_routes_has_its_root():
    cfn = {"Resources": {
        "Api": {"Type": "AWS::ApiGateway::RestApi", "Properties": {"BodyS3Location": {"Bucket": "b", "Key": "k"}}},
        "Stage": {"Type": "AWS::ApiGateway::Stage", "Properties": {"RestApiId": {"Ref": "Api"}, "StageName": "v1"}},
        "Other": {"Type": "AWS::ApiGateway::Stage", "Properties": {"RestApiId": {"Ref": "Gone"}, "StageName": "x"}},
    }}
    assert stack_api_urls(ENDPOINT, cfn, {"Api": "r1", "Stage": "v1", "Other": "x"}) == [
        {"api": "Api", "api_id": "r1", "stage": "v1", "url": api_url(ENDPOINT, "r1", "v1"), "routes": []}]
