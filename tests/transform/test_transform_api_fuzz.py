"""Fuzzing the API half of the transform: whatever shapes the API properties and events take, lamctl either
returns a template or raises its own located TemplateError (exit 2), never another exception."""

from __future__ import annotations

import copy

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lamctl.packager.transform import transform
from lamctl.schemas.errors import TemplateError

scalars = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.sampled_from(
    ["", "/", "/a", "/a/{id}", "$default", "get", "ANY", "x-amazon-apigateway-any-method", "Prod", "NONE",
     "AWS_IAM", "Auth1", "'*'", "s3://b/k", "3.0.1", "2.0", "REGIONAL", "PRIVATE", "SHARED", "PER_API",
     "REQUEST", "TOKEN", "Api", "Http"]))
intrinsics = st.sampled_from([{"Ref": "Api"}, {"Ref": "Http"}, {"Ref": "Missing"}, {"Fn::GetAtt": ["Fn", "Arn"]},
                              {"Fn::If": ["C", "a", {"Ref": "AWS::NoValue"}]}])
values = st.recursive(st.one_of(scalars, intrinsics), lambda inner: st.one_of(
    st.lists(inner, max_size=3),
    st.dictionaries(st.sampled_from(["Authorizers", "DefaultAuthorizer", "FunctionArn", "Identity", "Headers",
                                     "AllowOrigin", "AllowOrigins", "UserPoolArn", "JwtConfiguration",
                                     "IdentitySource", "CreateUsagePlan", "UsagePlan", "ApiKeyRequired",
                                     "ResourcePolicy", "Auth1", "swagger", "openapi", "paths", "info", "/a",
                                     "get", "Type", "Authorizer", "AuthorizerPayloadFormatVersion"]),
                    inner, max_size=4)), max_leaves=12)

maps = st.dictionaries(st.sampled_from(["Authorizers", "DefaultAuthorizer", "FunctionArn", "Identity", "Headers",
                                        "AllowOrigin", "AllowOrigins", "AllowCredentials", "UserPoolArn",
                                        "JwtConfiguration", "IdentitySource", "AuthorizerPayloadFormatVersion",
                                        "CreateUsagePlan", "UsagePlan", "ApiKeyRequired", "ResourcePolicy", "Auth1",
                                        "DomainName", "CertificateArn", "BasePath", "Route53", "HostedZoneId",
                                        "EndpointConfiguration", "Type", "VpcEndpointIds", "swagger", "openapi",
                                        "paths", "info", "/a", "get", "Authorizer", "Model", "ValidateBody",
                                        "StatusCode", "ResponseParameters", "type"]),
                       values, max_size=5)
strings = st.sampled_from(["", "/", "/a", "/a/{id}", "$default", "Prod", "v-1", "'*'", "s3://b/k", "3.0.1",
                           "2.0", "REGIONAL", "PRIVATE", "EDGE", "Auth1", "NONE", "AWS_IAM"])
typed = {"str": st.one_of(strings, intrinsics), "dict": maps, "list": st.lists(values, max_size=3),
         "bool": st.booleans(), "int": st.integers(0, 100), "str|dict": st.one_of(strings, maps),
         "bool|dict": st.one_of(st.booleans(), maps)}
REST_KEYS = {"StageName": "str|dict", "DefinitionBody": "dict", "DefinitionUri": "str|dict", "Cors": "str|dict",
             "Auth": "dict", "EndpointConfiguration": "str|dict", "Tags": "dict", "PropagateTags": "bool",
             "Domain": "dict", "OpenApiVersion": "str", "GatewayResponses": "dict", "Models": "dict",
             "BinaryMediaTypes": "list", "MergeDefinitions": "bool", "Name": "str",
             "DisableExecuteApiEndpoint": "bool", "MethodSettings": "list"}
HTTP_KEYS = {"StageName": "str", "DefinitionBody": "dict", "DefinitionUri": "str|dict", "Auth": "dict",
             "CorsConfiguration": "bool|dict", "Tags": "dict", "Domain": "dict", "RouteSettings": "dict",
             "Name": "str", "Description": "str", "FailOnWarnings": "bool", "DisableExecuteApiEndpoint": "bool"}
EVENT_KEYS = {"Path": st.sampled_from(["/", "/a", "/a/", "/a/{id}", "/{proxy+}", "$default"]),
              "Method": st.sampled_from(["get", "GET", "post", "any", "ANY", "options"]),
              "RestApiId": st.sampled_from([{"Ref": "Api"}, {"Ref": "Http"}, {"Ref": "Missing"}, "Api"]),
              "ApiId": st.sampled_from([{"Ref": "Api"}, {"Ref": "Http"}, {"Ref": "Missing"}, "Http"]),
              "Auth": maps, "RequestModel": maps, "RequestParameters": st.lists(st.one_of(strings, maps), max_size=2),
              "TimeoutInMillis": st.integers(50, 100), "RouteSettings": maps,
              "PayloadFormatVersion": st.sampled_from(["1.0", "2.0"])}


def typed_dict(table: dict, strategies: dict | None = None):
    return st.lists(st.sampled_from(sorted(table)), max_size=5, unique=True).flatmap(
        lambda keys: st.fixed_dictionaries({k: (strategies or typed)[table[k]] if strategies is None
                                            else table[k] for k in keys}))


api_props = typed_dict(REST_KEYS)
http_props = typed_dict(HTTP_KEYS)
REST_EXTRAS = ("RestApiId", "Auth", "RequestModel", "RequestParameters", "TimeoutInMillis")
HTTP_EXTRAS = ("ApiId", "Auth", "TimeoutInMillis", "RouteSettings", "PayloadFormatVersion")


def event(kind: str):
    extras = REST_EXTRAS if kind == "Api" else HTTP_EXTRAS
    required = st.fixed_dictionaries({"Path": EVENT_KEYS["Path"], "Method": EVENT_KEYS["Method"]})
    optional = st.lists(st.sampled_from(extras), max_size=3, unique=True).flatmap(
        lambda keys: st.fixed_dictionaries({k: EVENT_KEYS[k] for k in keys}))
    body = st.tuples(required, optional).map(lambda pair: {**pair[0], **pair[1]})
    # now and then an empty, partial or foreign-shaped event, to reach the validation paths
    odd = st.one_of(st.none(), st.lists(st.sampled_from(sorted(EVENT_KEYS)), max_size=4, unique=True).flatmap(
        lambda keys: st.fixed_dictionaries({k: EVENT_KEYS[k] for k in keys})))
    return st.tuples(st.just(kind), st.one_of(body, body, body, odd))


events_strategy = st.lists(st.one_of(event("Api"), event("HttpApi")), min_size=1, max_size=4)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rest=api_props, http=http_props, events=events_strategy)
def test_any_api_shape_gives_a_template_or_a_located_template_error(rest, http, events):
    rest.setdefault("StageName", "Prod")
    evs = {}
    for i, (kind, props) in enumerate(events):
        evs[f"E{i}"] = {"Type": kind} if props is None else {"Type": kind, "Properties": props}
    template = {
        "Transform": "AWS::Serverless-2016-10-31",
        "Conditions": {"C": {"Fn::Equals": ["a", "a"]}},
        "Resources": {
            "Api": {"Type": "AWS::Serverless::Api", "Properties": rest},
            "Http": {"Type": "AWS::Serverless::HttpApi", "Properties": http},
            "Fn": {"Type": "AWS::Serverless::Function", "Properties": {
                "CodeUri": "s3://b/k.zip", "Handler": "i.h", "Runtime": "python3.12", "Events": evs}},
        },
    }
    before = copy.deepcopy(template)
    try:
        out = transform(template, "us-east-1", {})
    except TemplateError as exc:
        assert exc.message  # says what is wrong
        assert exc.where  # and where
    else:
        assert "Transform" not in out
        assert not any(r.get("Type", "").startswith("AWS::Serverless::") for r in out["Resources"].values())
    assert template == before  # the input is never modified
