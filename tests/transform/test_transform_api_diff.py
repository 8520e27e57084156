"""Differential tests of the API half of the SAM transform: each template goes through lamctl's transform and
through the reference ``aws-sam-translator`` (offline, us-east-1); the outputs are compared resource by
resource after sorting every list, as the reference's own suite does. The only masked difference is the
REST API Deployment's hashed logical ID (and the digest in its Description), which lamctl computes its own
documented way; that ID is checked separately for shape and stability.
"""

from __future__ import annotations

import copy
import json
import os

import pytest

from lamctl.transform import transform
from lamctl.schemas.template import parse_text, plain
from tests.helpers import mask_deployments, normalise, reference_transform

REGION = "us-east-1"
CORPUS = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "conformance",
                                       "sam-translator", "input"))
CORPUS_KNOWN_DIFFERENT: set[str] = set()  # none at present; a known difference goes here, with its reason


@pytest.fixture
def region_env(monkeypatch):
    from samtranslator.translator.arn_generator import ArnGenerator

    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)  # the reference reads its region from the environment
    monkeypatch.setattr(ArnGenerator, "BOTO_SESSION_REGION_NAME", REGION)  # ... and caches it: say it outright


def both(text: str, parameters: dict | None = None) -> tuple[dict, dict]:
    template = plain(parse_text(text))
    want = reference_transform(template, parameters)
    got = transform(copy.deepcopy(template), REGION, dict(parameters or {}))
    return normalise(mask_deployments(want)), normalise(mask_deployments(got))


def assert_same(text: str, parameters: dict | None = None) -> dict:
    want, got = both(text, parameters)
    wr, gr = want["Resources"], got["Resources"]
    assert sorted(gr) == sorted(wr), "logical IDs differ"
    for lid in wr:
        assert gr[lid] == wr[lid], f"resource {lid} differs"
    assert got.get("Conditions") == want.get("Conditions")
    assert got.get("Outputs") == want.get("Outputs")
    return got


FN = """
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: s3://bucket/code.zip
      Handler: index.handler
      Runtime: python3.12
"""


def fn(name: str, events: str, extra: str = "") -> str:
    return f"  {name}:{FN}{extra}      Events:\n{events}"


def test_implicit_rest_api_shared_by_functions_with_all_method_shapes(region_env):
    got = assert_same("Transform: AWS::Serverless-2016-10-31\nResources:\n" + fn("Items", """\
        List:
          Type: Api
          Properties: {Path: /items, Method: get}
        Create:
          Type: Api
          Properties: {Path: /items, Method: POST}
        One:
          Type: Api
          Properties: {Path: "/items/{id}/", Method: get}
""") + fn("Proxy", """\
        Any:
          Type: Api
          Properties: {Path: "/{proxy+}", Method: any}
"""))
    body = got["Resources"]["ServerlessRestApi"]["Properties"]["Body"]
    assert set(body["paths"]) == {"/items", "/items/{id}/", "/{proxy+}"}
    assert {"ItemsListPermissionProd", "ItemsCreatePermissionProd", "ProxyAnyPermissionProd",
            "ServerlessRestApiProdStage"} <= set(got["Resources"])


def test_explicit_rest_api_stage_cors_auth_usage_plan_and_method_overrides(region_env):
    got = assert_same("""
Transform: AWS::Serverless-2016-10-31
Parameters:
  UserPoolArn: {Type: String, Default: arn:aws:cognito-idp:us-east-1:123456789012:userpool/p}
Resources:
  MyApi:
    Type: AWS::Serverless::Api
    Properties:
      StageName: v1
      Tags: {team: web}
      PropagateTags: true
      EndpointConfiguration: REGIONAL
      MethodSettings: [{HttpMethod: '*', ResourcePath: '/*', ThrottlingRateLimit: 10}]
      TracingEnabled: true
      Cors:
        AllowOrigin: "'https://example.com'"
        AllowHeaders: "'Content-Type,Authorization'"
        MaxAge: "'600'"
        AllowCredentials: true
      GatewayResponses:
        DEFAULT_4XX:
          ResponseParameters:
            Headers: {Access-Control-Allow-Origin: "'*'"}
      Models:
        Item:
          type: object
          properties: {name: {type: string}}
      Auth:
        DefaultAuthorizer: Token
        AddDefaultAuthorizerToCorsPreflight: false
        ApiKeyRequired: true
        UsagePlan:
          CreateUsagePlan: PER_API
          Quota: {Limit: 1000, Period: DAY}
        Authorizers:
          Token:
            FunctionArn: !GetAtt AuthFn.Arn
            Identity: {Header: X-Token, ReauthorizeEvery: 60}
          Request:
            FunctionArn: !GetAtt AuthFn.Arn
            FunctionPayloadType: REQUEST
            Identity: {Headers: [Authorization], QueryStrings: [q]}
          Cognito:
            UserPoolArn: !Ref UserPoolArn
            AuthorizationScopes: [read]
""" + fn("AuthFn", "        {}\n".replace("        {}\n", "")).replace("      Events:\n", "") + fn("Items", """\
        Public:
          Type: Api
          Properties:
            RestApiId: !Ref MyApi
            Path: /public
            Method: get
            Auth: {Authorizer: NONE, ApiKeyRequired: false}
        Create:
          Type: Api
          Properties:
            RestApiId: !Ref MyApi
            Path: /items
            Method: post
            Auth: {Authorizer: Cognito, AuthorizationScopes: [write]}
            RequestModel: {Model: Item, Required: true, ValidateBody: true}
            RequestParameters:
              - method.request.header.X-Trace
              - method.request.querystring.page: {Required: true, Caching: true}
            TimeoutInMillis: 5000
        Search:
          Type: Api
          Properties:
            RestApiId: !Ref MyApi
            Path: /search
            Method: get
            Auth: {Authorizer: Request}
"""))
    resources = got["Resources"]
    assert {"MyApiUsagePlan", "MyApiApiKey", "MyApiUsagePlanKey", "MyApiTokenAuthorizerPermission",
            "MyApiRequestAuthorizerPermission", "MyApiv1Stage", "ItemsCreatePermissionv1"} <= set(resources)
    body = resources["MyApi"]["Properties"]["Body"]
    assert "options" in body["paths"]["/items"]  # CORS preflight
    assert body["paths"]["/public"]["get"]["security"] == []  # NONE and ApiKeyRequired: false lift both defaults


def test_http_apis_implicit_and_explicit_with_jwt_lambda_auth_cors_and_route_settings(region_env):
    assert_same("""
Transform: AWS::Serverless-2016-10-31
Resources:
  Http:
    Type: AWS::Serverless::HttpApi
    Properties:
      StageName: live
      StageVariables: {mode: prod}
      Tags: {team: web}
      CorsConfiguration:
        AllowOrigins: [https://example.com]
        AllowMethods: [GET, POST]
        MaxAge: 600
      DefaultRouteSettings: {ThrottlingBurstLimit: 50}
      Auth:
        DefaultAuthorizer: Jwt
        EnableIamAuthorizer: true
        Authorizers:
          Jwt:
            IdentitySource: $request.header.Authorization
            AuthorizationScopes: [read]
            JwtConfiguration:
              Issuer: https://issuer.example.com
              Audience: [app]
          Lam:
            FunctionArn: !GetAtt AuthFn.Arn
            AuthorizerPayloadFormatVersion: '2.0'
            EnableSimpleResponses: true
            EnableFunctionDefaultPermissions: true
            Identity: {Headers: [Authorization], ReauthorizeEvery: 0}
""" + fn("AuthFn", "").replace("      Events:\n", "") + fn("Orders", """\
        Get:
          Type: HttpApi
          Properties:
            ApiId: !Ref Http
            Path: /orders/{orderId}
            Method: GET
            TimeoutInMillis: 3000
            PayloadFormatVersion: '1.0'
            RouteSettings: {ThrottlingRateLimit: 5}
        Post:
          Type: HttpApi
          Properties:
            ApiId: !Ref Http
            Path: /orders
            Method: post
            Auth: {Authorizer: Lam}
        Iam:
          Type: HttpApi
          Properties:
            ApiId: !Ref Http
            Path: /admin
            Method: delete
            Auth: {Authorizer: AWS_IAM}
        Open:
          Type: HttpApi
          Properties:
            ApiId: !Ref Http
            Path: /health
            Method: get
            Auth: {Authorizer: NONE}
""") + fn("Catch", """\
        Default:
          Type: HttpApi
        Root:
          Type: HttpApi
          Properties: {Path: /, Method: get}
"""))


def test_function_conditions_and_policies_reach_paths_and_the_implicit_api(region_env):
    got = assert_same("""
Transform: AWS::Serverless-2016-10-31
Parameters:
  Env: {Type: String, Default: prod}
Conditions:
  IsProd: !Equals [!Ref Env, prod]
  IsDev: !Equals [!Ref Env, dev]
Resources:
""" + fn("A", """\
        Get:
          Type: Api
          Properties: {Path: /shared, Method: get}
        Own:
          Type: Api
          Properties: {Path: /a, Method: get}
        H:
          Type: HttpApi
          Properties: {Path: /ha, Method: get}
""").replace("    Type: AWS::Serverless::Function\n", "    Type: AWS::Serverless::Function\n    Condition: IsProd\n"
             "    DeletionPolicy: Retain\n", 1) + fn("B", """\
        Post:
          Type: Api
          Properties: {Path: /shared, Method: post}
        H:
          Type: HttpApi
          Properties: {Path: /hb, Method: get}
""").replace("    Type: AWS::Serverless::Function\n", "    Type: AWS::Serverless::Function\n    Condition: IsDev\n", 1))
    assert got["Resources"]["ServerlessRestApi"]["Condition"] == "ServerlessRestApiCondition"
    assert "ServerlessRestApiSLASHsharedPathCondition" in got["Conditions"]


def test_globals_api_and_http_api_apply_to_implicit_and_explicit_apis(region_env):
    assert_same("""
Transform: AWS::Serverless-2016-10-31
Globals:
  Api:
    Cors: "'*'"
    EndpointConfiguration: {Type: PRIVATE, VpcEndpointIds: [vpce-1]}
    OpenApiVersion: 3.0.1
    BinaryMediaTypes: [image~1png]
    Auth:
      ResourcePolicy:
        IpRangeWhitelist: [10.0.0.0/8]
  HttpApi:
    CorsConfiguration: true
    Tags: {from: globals}
    RouteSettings:
      "GET /x": {ThrottlingRateLimit: 1}
Resources:
  Explicit:
    Type: AWS::Serverless::Api
    Properties:
      StageName: prod
      Variables: {a: b}
""" + fn("F", """\
        Implicit:
          Type: Api
          Properties: {Path: /x, Method: get}
        ViaExplicit:
          Type: Api
          Properties: {Path: /y, Method: put, RestApiId: !Ref Explicit}
        Http:
          Type: HttpApi
          Properties: {Path: /x, Method: get, RouteSettings: {ThrottlingBurstLimit: 2}}
"""))


def test_alias_target_user_swagger_definition_uri_and_intrinsic_stage_names(region_env):
    assert_same("""
Transform: AWS::Serverless-2016-10-31
Parameters:
  Stage: {Type: String, Default: beta}
Resources:
  Written:
    Type: AWS::Serverless::Api
    Properties:
      StageName: !Ref Stage
      DefinitionBody:
        swagger: '2.0'
        info: {title: written}
        paths:
          /own:
            get:
              x-amazon-apigateway-integration: {type: mock}
  Stored:
    Type: AWS::Serverless::Api
    Properties:
      StageName: dev-1
      DefinitionUri: s3://bucket/api.yaml?versionId=7
  StoredHttp:
    Type: AWS::Serverless::HttpApi
    Properties:
      DefinitionUri: {Bucket: b, Key: k}
""" + fn("F", """\
        W:
          Type: Api
          Properties: {Path: /own, Method: get, RestApiId: !Ref Written}
        S:
          Type: Api
          Properties: {Path: /s, Method: get, RestApiId: !Ref Stored}
        Imp:
          Type: Api
          Properties: {Path: /imp, Method: get}
""", extra="      AutoPublishAlias: live\n"))


def test_iam_default_authorizer_invoke_role_and_resource_policies(region_env):
    assert_same("""
Transform: AWS::Serverless-2016-10-31
Resources:
  Api:
    Type: AWS::Serverless::Api
    Properties:
      StageName: Prod
      Auth:
        DefaultAuthorizer: AWS_IAM
        InvokeRole: CALLER_CREDENTIALS
        ResourcePolicy:
          AwsAccountWhitelist: ['123456789012']
          SourceVpcBlacklist: [vpc-1, vpce-2]
          CustomStatements:
            - {Effect: Allow, Principal: '*', Action: execute-api:Invoke, Resource: execute-api:/*}
""" + fn("F", """\
        A:
          Type: Api
          Properties: {Path: /a, Method: get, RestApiId: !Ref Api}
        B:
          Type: Api
          Properties:
            Path: /b
            Method: get
            RestApiId: !Ref Api
            Auth: {Authorizer: AWS_IAM, InvokeRole: arn:aws:iam::123456789012:role/r}
        C:
          Type: Api
          Properties:
            Path: /c
            Method: get
            RestApiId: !Ref Api
            Auth: {ResourcePolicy: {IpRangeBlacklist: [1.2.3.4/32]}}
"""))


def test_custom_domains_with_route53_for_rest_and_http(region_env):
    assert_same("""
Transform: AWS::Serverless-2016-10-31
Resources:
  Rest:
    Type: AWS::Serverless::Api
    Properties:
      StageName: Prod
      Domain:
        DomainName: api.example.com
        CertificateArn: arn:aws:acm:us-east-1:123456789012:certificate/c
        BasePath: [/v1, /v2]
        Route53: {HostedZoneId: Z1, IpV6: true}
  Http:
    Type: AWS::Serverless::HttpApi
    Properties:
      Domain:
        DomainName: http.example.com
        CertificateArn: arn:aws:acm:us-east-1:123456789012:certificate/c
        Route53: {HostedZoneId: Z1}
""" + fn("F", """\
        R:
          Type: Api
          Properties: {Path: /r, Method: get, RestApiId: !Ref Rest}
        H:
          Type: HttpApi
          Properties: {Path: /h, Method: get, ApiId: !Ref Http}
"""))


def test_references_to_api_stage_and_deployment_are_rewritten(region_env):
    got = assert_same("""
Transform: AWS::Serverless-2016-10-31
Resources:
  Api:
    Type: AWS::Serverless::Api
    Properties: {StageName: Prod}
  Http:
    Type: AWS::Serverless::HttpApi
""" + fn("F", """\
        R:
          Type: Api
          Properties: {Path: /r, Method: get, RestApiId: !Ref Api}
        H:
          Type: HttpApi
          Properties: {Path: /h, Method: get, ApiId: !Ref Http}
""") + """
Outputs:
  StageName: {Value: !Ref Api.Stage}
  HttpStage: {Value: !Ref Http.Stage}
  Url: {Value: !Sub "https://${Api}.execute-api.${AWS::Region}.amazonaws.com/${Api.Stage}"}
""")
    assert got["Outputs"]["StageName"]["Value"] == {"Ref": "ApiProdStage"}
    assert got["Outputs"]["HttpStage"]["Value"] == {"Ref": "HttpApiGatewayDefaultStage"}


def _deployment_id(template: dict) -> str:
    [lid] = [k for k, v in transform(copy.deepcopy(template), REGION, {})["Resources"].items()
             if v["Type"] == "AWS::ApiGateway::Deployment"]
    return lid


def test_deployment_id_is_the_documented_stable_hash_and_follows_the_definition():
    text = "Transform: AWS::Serverless-2016-10-31\nResources:\n" + fn("F", """\
        G:
          Type: Api
          Properties: {Path: /a, Method: get}
""")
    template = plain(parse_text(text))
    out = transform(copy.deepcopy(template), REGION, {})
    lid = _deployment_id(template)
    body = out["Resources"]["ServerlessRestApi"]["Properties"]["Body"]
    import hashlib

    digest = hashlib.sha1(json.dumps({"definition": body, "stage": "Prod"}, separators=(",", ":"),
                                     sort_keys=True).encode()).hexdigest()
    assert lid == "ServerlessRestApiDeployment" + digest[:10]
    assert out["Resources"][lid]["Properties"]["Description"] == f"RestApi deployment id: {digest}"
    assert out["Resources"]["ServerlessRestApiProdStage"]["Properties"]["DeploymentId"] == {"Ref": lid}
    assert _deployment_id(template) == lid  # same input, same ID
    changed = plain(parse_text(text.replace("Path: /a", "Path: /b")))
    assert _deployment_id(changed) != lid  # a new route means a new deployment


def _corpus_templates() -> list[str]:
    if not os.path.isdir(CORPUS):
        return []
    return sorted(f for f in os.listdir(CORPUS) if f.startswith(("api_", "http_api_", "implicit_")))


@pytest.mark.slow
@pytest.mark.parametrize("name", _corpus_templates() or ["(corpus not present)"])
def test_conformance_corpus_api_templates_match_the_reference(name, region_env):
    if not os.path.isdir(CORPUS):
        pytest.skip(f"conformance corpus not present at {CORPUS}")
    with open(os.path.join(CORPUS, name), encoding="utf-8") as fh:
        text = fh.read()
    if name in CORPUS_KNOWN_DIFFERENT:
        pytest.skip("known difference, listed in CORPUS_KNOWN_DIFFERENT")
    template = plain(parse_text(text))
    try:
        want = reference_transform(template, {"param1": "value1", "param2": "value2"})
    except Exception as exc:  # noqa: BLE001 - the reference's own refusals are not lamctl's business
        pytest.skip(f"the reference rejects it offline: {str(exc)[:100]}")
    got = transform(copy.deepcopy(template), REGION, {"param1": "value1", "param2": "value2"})
    want, got = normalise(mask_deployments(want)), normalise(mask_deployments(got))
    assert sorted(got["Resources"]) == sorted(want["Resources"])
    for lid in want["Resources"]:
        assert got["Resources"][lid] == want["Resources"][lid], lid
    assert got.get("Conditions") == want.get("Conditions")


def test_function_propagate_tags_reach_implicit_apis_and_local_tags_win_over_globals(region_env):
    got = assert_same("""
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Tags: {a: '1'}
    PropagateTags: true
Resources:
""" + fn("Fn", """\
        A: {Type: Api, Properties: {Path: /a, Method: get}}
        H: {Type: HttpApi, Properties: {Path: /a, Method: get}}
""", extra="      Tags: {b: '2'}\n") + fn("Other", """\
        A: {Type: Api, Properties: {Path: /b, Method: get}}
"""))
    assert got["Resources"]["ServerlessHttpApiApiGatewayDefaultStage"]["Properties"]["Tags"] == {
        "b": "2", "httpapi:createdBy": "SAM"}


def test_always_deploy_gives_a_new_deployment_every_time_and_matches_otherwise(region_env):
    text = """
Transform: AWS::Serverless-2016-10-31
Resources:
  Api:
    Type: AWS::Serverless::Api
    Properties: {StageName: Prod, AlwaysDeploy: true}
""" + fn("F", """\
        G: {Type: Api, Properties: {Path: /a, Method: get, RestApiId: !Ref Api}}
""")
    assert_same(text)
    template = plain(parse_text(text))
    assert _deployment_id(template) != _deployment_id(template)
    steady = plain(parse_text(text.replace("AlwaysDeploy: true", "AlwaysDeploy: false")))
    assert _deployment_id(steady) == _deployment_id(steady)


def test_an_api_named_like_the_implicit_one_is_replaced_only_when_events_use_it(region_env):
    got = assert_same("""
Transform: AWS::Serverless-2016-10-31
Resources:
  ServerlessRestApi:
    Type: AWS::Serverless::Api
    Properties: {StageName: mine, Variables: {a: b}}
  ServerlessHttpApi:
    Type: AWS::Serverless::HttpApi
    Properties: {StageName: kept}
""" + fn("F", """\
        A: {Type: Api, Properties: {Path: /a, Method: get}}
        B: {Type: Api, Properties: {Path: /b, Method: get, RestApiId: !Ref ServerlessRestApi}}
"""))
    assert "ServerlessRestApiProdStage" in got["Resources"]  # the implicit API won, as in the reference
    assert "ServerlessHttpApikeptStage" in got["Resources"]  # no HttpApi event: the template's own API stays


def test_shared_usage_plan_merge_definitions_and_trailing_slash_cors_follow_the_reference_order(region_env):
    got = assert_same("""
Transform: AWS::Serverless-2016-10-31
Conditions:
  C1: !Equals [a, a]
  C2: !Equals [a, b]
Resources:
  Merged:
    Type: AWS::Serverless::Api
    Properties:
      StageName: dev-1
      MergeDefinitions: true
      DefinitionBody:
        swagger: '2.0'
        info: {title: t}
        paths:
          /m:
            get: {summary: mine}
  Shared1:
    Type: AWS::Serverless::Api
    Condition: C1
    Properties:
      StageName: s1
      Auth:
        ApiKeyRequired: true
        UsagePlan: {CreateUsagePlan: SHARED, UsagePlanName: shared}
  Shared2:
    Type: AWS::Serverless::Api
    Condition: C2
    DeletionPolicy: Retain
    Properties:
      StageName: s2
      Cors: "'*'"
      Auth:
        ApiKeyRequired: true
        UsagePlan: {CreateUsagePlan: SHARED}
""" + fn("Fn", """\
        M: {Type: Api, Properties: {Path: /m, Method: get, RestApiId: !Ref Merged}}
        N: {Type: Api, Properties: {Path: /n, Method: any, RestApiId: !Ref Merged}}
        S1: {Type: Api, Properties: {Path: /s, Method: get, RestApiId: !Ref Shared1}}
        S2: {Type: Api, Properties: {Path: /s, Method: get, RestApiId: !Ref Shared2, Auth: {ApiKeyRequired: false}}}
        S3: {Type: Api, Properties: {Path: /s/, Method: post, RestApiId: !Ref Shared2}}
"""))
    assert {"ServerlessUsagePlan", "ServerlessApiKey", "ServerlessUsagePlanKey"} <= set(got["Resources"])


@pytest.mark.parametrize("region", ["cn-north-1", "us-gov-west-1", "eu-west-1"])
def test_partitions_and_the_regional_default_outside_the_aws_partition(region, monkeypatch):
    from samtranslator.translator.arn_generator import ArnGenerator

    monkeypatch.setenv("AWS_DEFAULT_REGION", region)
    monkeypatch.setattr(ArnGenerator, "BOTO_SESSION_REGION_NAME", region)  # the reference's own region setting
    text = """
Transform: AWS::Serverless-2016-10-31
Resources:
  Api:
    Type: AWS::Serverless::Api
    Properties:
      StageName: Prod
      Auth:
        DefaultAuthorizer: Tok
        Authorizers:
          Tok: {FunctionArn: !GetAtt F.Arn}
""" + fn("F", """\
        A: {Type: Api, Properties: {Path: /a, Method: get, RestApiId: !Ref Api}}
        I: {Type: Api, Properties: {Path: /i, Method: get, Auth: {Authorizer: AWS_IAM}}}
        H: {Type: HttpApi, Properties: {Path: /h, Method: get}}
""")
    template = plain(parse_text(text))
    want = normalise(mask_deployments(reference_transform(template)))
    got = normalise(mask_deployments(transform(copy.deepcopy(template), region, {})))
    assert sorted(got["Resources"]) == sorted(want["Resources"])
    for lid in want["Resources"]:
        assert got["Resources"][lid] == want["Resources"][lid], lid
    api = got["Resources"]["Api"]["Properties"]
    if region.startswith(("cn-", "us-gov-")):
        assert api["EndpointConfiguration"] == {"Types": ["REGIONAL"]}
    else:
        assert "EndpointConfiguration" not in api
