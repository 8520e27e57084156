"""Fuzzing the API half of the transform: whatever shapes the API properties and events take, lamctl either
returns a template or raises its own located TemplateError (exit 2), never another exception."""

from __future__ import annotations

import copy

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from lamctl.transform import transform
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


# -- user-written definitions of odd shapes, edited by CORS, auth, models and events -------------------------
junk = st.one_of(st.none(), st.booleans(), st.integers(0, 3), st.sampled_from(["x", "get", ""]), st.just([]),
                 st.just({}), st.just({"Fn::If": ["C", {"get": {}}, {"Ref": "AWS::NoValue"}]}),
                 st.just({"Fn::If": "bad"}), st.just([{"a": []}]),
                 st.just({"x-amazon-apigateway-integration": {"type": "mock"}}))
security = st.one_of(junk, st.lists(st.one_of(junk, st.dictionaries(
    st.sampled_from(["Tok", "AWS_IAM", "api_key", "NONE"]), st.just([]))), max_size=2))
method_def = st.one_of(junk, st.fixed_dictionaries({}, optional={
    "x-amazon-apigateway-integration": st.one_of(junk, st.just({"uri": "u"})), "security": security,
    "parameters": junk, "responses": junk}))
path_item = st.one_of(junk, st.dictionaries(st.sampled_from(
    ["get", "post", "any", "x-amazon-apigateway-any-method", "options", "parameters", "summary"]), method_def,
    max_size=3))
documents = st.fixed_dictionaries({"paths": st.one_of(st.dictionaries(
    st.sampled_from(["/a", "/b", "/a/", "/{proxy+}", "$default"]), path_item, max_size=3), junk)}, optional={
    "swagger": st.sampled_from(["2.0", "", 2]), "openapi": st.sampled_from(["3.0.1", "3.0", "2.0", 3.0]),
    "securityDefinitions": junk, "components": st.one_of(junk, st.fixed_dictionaries({}, optional={
        "securitySchemes": junk})), "info": st.one_of(junk, st.just({"title": {"Ref": "AWS::StackName"}})),
    "tags": junk, "servers": junk, "x-amazon-apigateway-policy": junk, "x-amazon-apigateway-cors": junk,
    "definitions": junk, "x-amazon-apigateway-request-validators": junk})
rest_settings = st.fixed_dictionaries({}, optional={
    "Cors": st.sampled_from(["'*'", {"AllowOrigin": "'x'", "AllowCredentials": True}]),
    "Auth": st.sampled_from([{"DefaultAuthorizer": "Tok", "Authorizers": {"Tok": {"FunctionArn": "a"}}},
                             {"ApiKeyRequired": True, "AddApiKeyRequiredToCorsPreflight": False},
                             {"ResourcePolicy": {"IpRangeWhitelist": ["1.1.1.1"], "SourceVpcWhitelist": ["vpc-1"]}},
                             {"DefaultAuthorizer": "AWS_IAM", "InvokeRole": None}]),
    "GatewayResponses": st.just({"DEFAULT_4XX": {"StatusCode": 400}}),
    "Models": st.sampled_from([{"M": {"type": "object"}}, {"M": {}}]),
    "OpenApiVersion": st.sampled_from(["3.0.1", "2.0"]), "MergeDefinitions": st.booleans(),
    "BinaryMediaTypes": st.just(["a~1b"]), "DisableExecuteApiEndpoint": st.booleans()})
http_settings = st.fixed_dictionaries({}, optional={
    "CorsConfiguration": st.sampled_from([True, {"AllowOrigins": ["x"]}]),
    "Auth": st.sampled_from([{"DefaultAuthorizer": "J", "Authorizers": {"J": {
        "IdentitySource": "$request.header.A", "JwtConfiguration": {"Issuer": "i"}}}},
        {"EnableIamAuthorizer": True, "DefaultAuthorizer": "AWS_IAM"}]),
    "Name": st.just("n"), "Description": st.just("d"), "FailOnWarnings": st.booleans(),
    "DisableExecuteApiEndpoint": st.booleans(), "Tags": st.just({"t": "v"})})
routes = st.lists(st.tuples(
    st.sampled_from(["Api", "HttpApi"]), st.sampled_from(["/a", "/b", "/a/", "$default", "/{proxy+}"]),
    st.sampled_from(["get", "post", "any"]),
    st.sampled_from([None, {"Authorizer": "Tok"}, {"Authorizer": "NONE"}, {"ApiKeyRequired": False},
                     {"Authorizer": "AWS_IAM"}, {"Authorizer": "J", "AuthorizationScopes": ["s"]}]),
    st.sampled_from([None, {"Model": "M", "ValidateBody": True}])), min_size=1, max_size=4)


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(rest_doc=documents, http_doc=documents, rest=rest_settings, http=http_settings, events=routes,
       conditional=st.booleans())
# found by this test: a null path item in a body that MergeDefinitions merges into (crashed the transform)
@example(rest_doc={"paths": {"/a": None}}, http_doc={"paths": None}, rest={"MergeDefinitions": True}, http={},
         events=[("Api", "/a", "get", None, None)], conditional=False)
def test_odd_user_definitions_give_a_template_or_a_located_error(rest_doc, http_doc, rest, http, events,
                                                                  conditional):
    evs = {}
    for i, (kind, path, method, auth, model) in enumerate(events):
        props = {"Path": path, "Method": method,
                 ("RestApiId" if kind == "Api" else "ApiId"): {"Ref": "R" if kind == "Api" else "H"}}
        if auth:
            props["Auth"] = dict(auth)
        if model and kind == "Api":
            props["RequestModel"] = model
        evs[f"E{i}"] = {"Type": kind, "Properties": props}
    fn = {"Type": "AWS::Serverless::Function", "Properties": {
        "CodeUri": "s3://b/k.zip", "Handler": "i.h", "Runtime": "python3.12", "Events": evs}}
    if conditional:
        fn["Condition"] = "C"
    template = {"Transform": "AWS::Serverless-2016-10-31", "Conditions": {"C": {"Fn::Equals": ["a", "a"]}},
                "Resources": {
                    "R": {"Type": "AWS::Serverless::Api",
                          "Properties": {"StageName": "Prod", "DefinitionBody": rest_doc, **rest}},
                    "H": {"Type": "AWS::Serverless::HttpApi", "Properties": {"DefinitionBody": http_doc, **http}},
                    "Fn": fn}}
    before = copy.deepcopy(template)
    try:
        out = transform(template, "us-east-1", {})
    except TemplateError as exc:
        assert exc.message and exc.where
    else:
        assert {"R", "H", "Fn"} <= set(out["Resources"])
    assert template == before


def test_fail_on_warnings_with_paths_that_are_not_a_map_passes_the_definition_through():
    """FailOnWarnings moves a ``$default`` path aside; a ``paths`` that is no map has none to move (it used to
    crash with a TypeError)."""
    for paths in (None, 5, ["$default"]):
        template = {"Transform": "AWS::Serverless-2016-10-31", "Resources": {"H": {
            "Type": "AWS::Serverless::HttpApi",
            "Properties": {"FailOnWarnings": True, "DefinitionBody": {"openapi": "3.0.1", "paths": paths}}}}}
        api = transform(template, "us-east-1", {})["Resources"]["H"]
        assert api["Properties"]["FailOnWarnings"] is True
        assert api["Properties"]["Body"]["paths"] == paths
