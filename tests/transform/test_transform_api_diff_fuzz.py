"""Differential fuzz of the API half: random valid templates (explicit and implicit REST / HTTP APIs, CORS,
authorizers, usage plans, resource policies, conditions, aliases, stage names) through lamctl and the
reference; whenever the reference accepts one, the outputs must match resource by resource (routes that
differ by a trailing slash included: which one gets the CORS preflight follows Python 2.7 dict order there).
"""

from __future__ import annotations

import copy

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lamctl.transform import transform
from lamctl.schemas.errors import TemplateError
from tests.helpers import mask_deployments, normalise, reference_transform


def mask(template: dict) -> dict:
    return normalise(mask_deployments(template))


paths = st.sampled_from(["/", "/a", "/a/", "/a/{id}", "/{proxy+}", "/b/c"])
methods = st.sampled_from(["get", "GET", "post", "any", "ANY", "put", "delete"])
rest_auth = st.sampled_from([None,
    {"DefaultAuthorizer": "Tok", "Authorizers": {"Tok": {"FunctionArn": {"Fn::GetAtt": ["Auth", "Arn"]}}}},
    {"Authorizers": {"Tok": {"FunctionArn": {"Fn::GetAtt": ["Auth", "Arn"]}, "FunctionPayloadType": "REQUEST", "Identity": {"Headers": ["H"]}},
                     "Cog": {"UserPoolArn": "arn:pool", "AuthorizationScopes": ["s1"]}}, "DefaultAuthorizer": "Cog", "AddDefaultAuthorizerToCorsPreflight": False},
    {"ApiKeyRequired": True, "UsagePlan": {"CreateUsagePlan": "PER_API"}},
    {"DefaultAuthorizer": "AWS_IAM"},
    {"ResourcePolicy": {"AwsAccountWhitelist": ["111"], "IpRangeBlacklist": ["1.2.3.4"]}}])
cors = st.sampled_from([None, "'*'", {"AllowOrigin": "'https://x'", "AllowHeaders": "'H'", "MaxAge": 5}, {"AllowMethods": "'GET'"}])
ev_auth = st.sampled_from([None, {"Authorizer": "Tok"}, {"Authorizer": "NONE"}, {"Authorizer": "AWS_IAM"}, {"ApiKeyRequired": True}, {"Authorizer": "Cog", "AuthorizationScopes": ["x"]}])
http_auth = st.sampled_from([None,
    {"DefaultAuthorizer": "J", "Authorizers": {"J": {"IdentitySource": "$request.header.A", "JwtConfiguration": {"issuer": "i", "audience": ["a"]}}}},
    {"EnableIamAuthorizer": True, "Authorizers": {"L": {"FunctionArn": {"Fn::GetAtt": ["Auth", "Arn"]}, "AuthorizerPayloadFormatVersion": "2.0", "EnableFunctionDefaultPermissions": True}}}])
http_ev_auth = st.sampled_from([None, {"Authorizer": "J"}, {"Authorizer": "L"}, {"Authorizer": "AWS_IAM"}, {"Authorizer": "NONE"}])

@st.composite
def templates(draw):
    res = {"Auth": {"Type": "AWS::Serverless::Function", "Properties": {"CodeUri": "s3://b/a.zip", "Handler": "a.h", "Runtime": "python3.12"}}}
    explicit_rest = draw(st.booleans())
    explicit_http = draw(st.booleans())
    if explicit_rest:
        p = {"StageName": draw(st.sampled_from(["Prod", "v-1", {"Ref": "Stage"}]))}
        a = draw(rest_auth); c = draw(cors)
        if a: p["Auth"] = a
        if c: p["Cors"] = c
        if draw(st.booleans()): p["OpenApiVersion"] = "3.0.1"
        if draw(st.booleans()): p["EndpointConfiguration"] = draw(st.sampled_from(["REGIONAL", {"Type": "PRIVATE", "VpcEndpointIds": ["v"]}]))
        if draw(st.booleans()): p["Tags"] = {"k": "v"}; p["PropagateTags"] = draw(st.booleans())
        res["R"] = {"Type": "AWS::Serverless::Api", "Properties": p}
    if explicit_http:
        p = {}
        a = draw(http_auth)
        if a: p["Auth"] = a
        if draw(st.booleans()): p["CorsConfiguration"] = draw(st.sampled_from([True, {"AllowOrigins": ["x"], "AllowCredentials": True}]))
        if draw(st.booleans()): p["StageName"] = draw(st.sampled_from(["live", "$default", "a-b"]))
        if draw(st.booleans()): p["Tags"] = {"k": "v"}
        res["H"] = {"Type": "AWS::Serverless::HttpApi", "Properties": p}
    seen = set()
    for f in range(draw(st.integers(1, 3))):
        evs = {}
        for i in range(draw(st.integers(1, 3))):
            kind = draw(st.sampled_from(["Api", "HttpApi"]))
            path, method = draw(paths), draw(methods)
            target = None
            if kind == "Api" and explicit_rest and draw(st.booleans()): target = "R"
            if kind == "HttpApi" and explicit_http and draw(st.booleans()): target = "H"
            key = (kind, target, path, method.lower())
            if key in seen: continue
            seen.add(key)
            props = {"Path": path, "Method": method}
            if target: props["RestApiId" if kind == "Api" else "ApiId"] = {"Ref": target}
            au = draw(ev_auth if kind == "Api" else http_ev_auth)
            if au and target: props["Auth"] = au
            if kind == "HttpApi" and draw(st.booleans()): props["TimeoutInMillis"] = 100
            if kind == "HttpApi" and path == "/" and draw(st.booleans()): props = {k: v for k, v in props.items() if k not in ("Path", "Method")}
            evs[f"E{i}"] = {"Type": kind, "Properties": props}
        fn = {"Type": "AWS::Serverless::Function", "Properties": {"CodeUri": "s3://b/k.zip", "Handler": "i.h", "Runtime": "python3.12", "Events": evs}}
        if draw(st.booleans()): fn["Condition"] = draw(st.sampled_from(["C1", "C2"]))
        if draw(st.booleans()): fn["Properties"]["AutoPublishAlias"] = "live"
        res[f"F{f}"] = fn
    return {"Transform": "AWS::Serverless-2016-10-31", "Parameters": {"Stage": {"Type": "String", "Default": "s"}},
            "Conditions": {"C1": {"Fn::Equals": ["a", "a"]}, "C2": {"Fn::Equals": ["a", "b"]}}, "Resources": res}


@pytest.mark.slow
@settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(template=templates())
def test_random_api_templates_match_the_reference(template, monkeypatch):
    from samtranslator.translator.arn_generator import ArnGenerator

    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")  # the reference reads its region from the environment
    monkeypatch.setattr(ArnGenerator, "BOTO_SESSION_REGION_NAME", "us-east-1")  # ... and caches it
    try:
        want = reference_transform(template)
    except Exception:  # noqa: BLE001 - the reference refuses it: lamctl must refuse it too
        with pytest.raises(TemplateError):
            transform(copy.deepcopy(template), "us-east-1", {})
        return
    got = transform(copy.deepcopy(template), "us-east-1", {})
    want, got = mask(want), mask(got)
    assert sorted(got["Resources"]) == sorted(want["Resources"])
    for lid in want["Resources"]:
        assert got["Resources"][lid] == want["Resources"][lid], lid
    assert got.get("Conditions") == want.get("Conditions")
