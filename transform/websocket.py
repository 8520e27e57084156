"""``AWS::Serverless::WebSocketApi`` -> an API Gateway v2 API of protocol ``WEBSOCKET``, its stage (``AutoDeploy``),
one route, Lambda proxy integration and permission per entry of ``Routes``, the ``$connect`` authorizer of
``Auth`` (``AWS_IAM``, ``CUSTOM`` with a Lambda ``AuthArn``, or ``NONE``) and a custom ``Domain`` (domain name, API
mappings, Route 53 records), as the reference transform does.

Logical IDs: ``<Api><Route>Route`` / ``Integration`` / ``Permission`` where ``$connect`` -> ``Connect`` and a plain
route key is capitalised; the stage is ``<Api><StageName>Stage`` (``<Api>DefaultStage`` for the default stage name
``default``); ``<Api>ConnectAuthorizer`` and ``<Api>AuthorizerPermission``. ``!Ref Api.Stage`` and
``!Ref Api.DomainName`` name the generated stage and domain. As the reference: resource attributes
(``Condition``...) are not passed to what the API generates, and ``FailOnWarnings`` is accepted and not passed on.
One deliberate difference: APIs whose domains are in the same hosted zone share one Route 53 record set group
holding every domain's records (the reference keeps only the last API's records)."""

from __future__ import annotations

import copy
import re
from typing import Any

from .api_common import hash_id
from .api_domain import _basepaths, _http_alias_target, _record_sets
from .context import Context
from .function import _suggest
from .intrinsics import is_intrinsic

TYPE = "AWS::Serverless::WebSocketApi"
TAG = "websocketapi:createdBy"
DEFAULT_STAGE = "default"
AUTH_TYPES = ("NONE", "AWS_IAM", "CUSTOM")
# property -> accepted Python types (an intrinsic function is accepted everywhere, as the reference)
PROPERTIES: dict[str, tuple] = {
    "ApiKeySelectionExpression": (str,), "AccessLogSettings": (dict,), "Auth": (dict,),
    "DefaultRouteSettings": (dict,), "Description": (str,), "DisableExecuteApiEndpoint": (bool,),
    "Domain": (dict,), "DisableSchemaValidation": (bool,), "FailOnWarnings": (bool,), "IpAddressType": (str,),
    "Name": (str,), "PropagateTags": (bool,), "Routes": (dict,), "RouteSettings": (dict,),
    "RouteSelectionExpression": (str,), "StageName": (str, dict), "StageVariables": (dict,), "Tags": (dict,),
}
REQUIRED = ("Routes", "RouteSelectionExpression")
_NAMES = {str: "a string", dict: "a mapping", list: "a list", bool: "true or false"}
_SPECIAL = ("$connect", "$disconnect", "$default")


def _res(rtype: str, props: dict, depends_on: Any = None) -> dict:
    out: dict = {"Type": rtype}
    if depends_on:
        out["DependsOn"] = depends_on
    out["Properties"] = {k: v for k, v in props.items() if v is not None}
    return out


def _sub(text: str, variables: dict | None = None) -> dict:
    return {"Fn::Sub": [text, variables] if variables is not None else text}


class WebSocketApi:
    def __init__(self, ctx: Context, lid: str, res: dict):
        self.ctx, self.lid, self.res = ctx, lid, res
        self.keys = ("Resources", lid, "Properties")
        p = res.get("Properties") or {}
        for name, value in p.items():
            if name not in PROPERTIES:
                raise self.error(f"unknown property {name}", name, key=True, hint=_suggest(name, PROPERTIES))
            want = PROPERTIES[name]
            if value is not None and not isinstance(value, want) and not is_intrinsic(value):
                raise self.error(f"{name} must be " + " or ".join(_NAMES[w] for w in want), name)
        for name in REQUIRED:
            if p.get(name) is None:
                raise self.error(f"needs {name}", hint="e.g. RouteSelectionExpression: $request.body.action, "
                                                       "Routes: {$connect: {FunctionArn: !GetAtt Fn.Arn}}")
        self.p = p
        self.auth = ctx.resolve(p.get("Auth"))
        self.domain = ctx.resolve(p.get("Domain"))
        self.routes = ctx.resolve(p.get("Routes"))
        self.stage_name = p.get("StageName") if p.get("StageName") is not None else DEFAULT_STAGE

    def error(self, message: str, *more, hint: str | None = None, key: bool = False):
        return self.ctx.error(f"WebSocket API {self.lid}: {message}", self.keys + more, hint, key=key)

    def translate(self) -> None:
        p = self.p
        if not self.routes:
            raise self.error("needs at least one route in Routes", "Routes",
                             hint="e.g. $connect: {FunctionArn: !GetAtt ConnectFunction.Arn}")
        ip = p.get("IpAddressType")
        if ip is not None and not is_intrinsic(ip) and ip not in ("ipv4", "dualstack"):
            raise self.error(f"IpAddressType {ip!r} must be ipv4 or dualstack", "IpAddressType")
        if isinstance(self.domain, dict) and self.domain.get("MutualTlsAuthentication"):
            raise self.error("mutual TLS is not available for the custom domain of a WebSocket API",
                             "Domain", "MutualTlsAuthentication")
        out: list[tuple[str, dict]] = []
        if self.auth and "$connect" not in self.routes:
            raise self.error("Auth applies to the $connect route, and Routes has none", "Auth",
                             hint="add a $connect route, or remove Auth")
        tags = dict(p.get("Tags") or {}) if not is_intrinsic(p.get("Tags")) else {}
        tags[TAG] = "SAM"
        out.append((self.lid, _res("AWS::ApiGatewayV2::Api", {
            "ApiKeySelectionExpression": p.get("ApiKeySelectionExpression"), "Description": p.get("Description"),
            "DisableExecuteApiEndpoint": p.get("DisableExecuteApiEndpoint"),
            "DisableSchemaValidation": p.get("DisableSchemaValidation"), "IpAddressType": ip,
            "Name": p.get("Name") if p.get("Name") is not None else self.lid,
            "RouteSelectionExpression": p.get("RouteSelectionExpression"), "Tags": tags,
            "ProtocolType": "WEBSOCKET"}, self.res.get("DependsOn"))))
        if self.stage_name == "$default":
            raise self.error("a WebSocket API's stage cannot be named $default", "StageName",
                             hint=f"leave StageName out (the stage is then named {DEFAULT_STAGE})")
        prefix = self.stage_name if isinstance(self.stage_name, str) else ""
        stage_id = self.lid + ("DefaultStage" if prefix == DEFAULT_STAGE else prefix + "Stage")
        if not stage_id.isalnum():
            raise self.error(f"StageName {self.stage_name!r} makes the logical ID {stage_id}, which is not "
                             "alphanumeric", "StageName")
        domain = self._domain(stage_id)

        authorizer = None
        route_ids: list[str] = []
        for key, spec in self.routes.items():
            if not isinstance(spec, dict):
                raise self.error(f"route {key} must be a mapping with FunctionArn", "Routes", key)
            route_id, integration_id, permission_id = (self.lid + self._clean(key) + s
                                                       for s in ("Route", "Integration", "Permission"))
            route = {"RouteKey": key, "ApiId": {"Ref": self.lid}, "ApiKeyRequired": spec.get("ApiKeyRequired"),
                     "ModelSelectionExpression": spec.get("ModelSelectionExpression"),
                     "OperationName": spec.get("OperationName"), "RequestModels": spec.get("RequestModels")}
            if spec.get("RequestParameters"):
                if key != "$connect":
                    raise self.error(f"route {key}: RequestParameters are only taken by the $connect route",
                                     "Routes", key, "RequestParameters")
                route["RequestParameters"] = spec["RequestParameters"]
            route["RouteResponseSelectionExpression"] = spec.get("RouteResponseSelectionExpression")
            route["Target"] = {"Fn::Join": ["/", ["integrations", {"Ref": integration_id}]]}
            made = self._auth(key, route)
            if made:
                authorizer = made
            if "FunctionArn" not in spec:
                raise self.error(f"route {key} needs FunctionArn (the Lambda function it invokes)", "Routes", key)
            integration = {"ApiId": {"Ref": self.lid}, "IntegrationType": "AWS_PROXY",
                           "IntegrationUri": _sub("arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/"
                                                  "2015-03-31/functions/${FunctionArn}/invocations",
                                                  {"FunctionArn": spec["FunctionArn"]}),
                           "TimeoutInMillis": spec.get("IntegrationTimeout")}
            base = "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${" + self.lid + ".ApiId}/"
            if isinstance(self.stage_name, str):
                source_arn = _sub(base + self.stage_name + "/" + key)
            else:
                source_arn = _sub(base + "${__StageName__}/" + key, {"__StageName__": self.stage_name})
            permission = {"Action": "lambda:InvokeFunction", "FunctionName": spec["FunctionArn"],
                          "Principal": "apigateway.amazonaws.com", "SourceArn": source_arn}
            out += [(route_id, _res("AWS::ApiGatewayV2::Route", route)),
                    (integration_id, _res("AWS::ApiGatewayV2::Integration", integration)),
                    (permission_id, _res("AWS::Lambda::Permission", permission))]
            route_ids.append(route_id)
        out += domain
        stage = _res("AWS::ApiGatewayV2::Stage", {
            "ApiId": {"Ref": self.lid}, "StageName": self.stage_name, "StageVariables": p.get("StageVariables"),
            "AccessLogSettings": p.get("AccessLogSettings"), "DefaultRouteSettings": p.get("DefaultRouteSettings"),
            "Tags": {TAG: "SAM"}, "AutoDeploy": True, "RouteSettings": p.get("RouteSettings")},
            route_ids if p.get("RouteSettings") and route_ids else None)
        out.append((stage_id, stage))
        if authorizer:
            out.append(authorizer)
            if self.auth.get("AuthType") == "CUSTOM" and not self.auth.get("InvokeRole") and self.auth.get("AuthArn"):
                out.append((self.lid + "AuthorizerPermission", _res("AWS::Lambda::Permission", {
                    "Action": "lambda:InvokeFunction", "FunctionName": self.auth["AuthArn"],
                    "Principal": "apigateway.amazonaws.com",
                    "SourceArn": _sub("arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:"
                                      "${__ApiId__}/authorizers/*", {"__ApiId__": {"Ref": self.lid}})})))
        if p.get("PropagateTags") and p.get("Tags"):
            for _, r in out:
                if r["Type"] in ("AWS::ApiGatewayV2::Api", "AWS::ApiGatewayV2::Stage",
                                 "AWS::ApiGatewayV2::DomainName"):
                    r["Properties"]["Tags"] = copy.deepcopy(tags)
        self.ctx.refer(self.lid, "Stage", stage_id)
        declared = self.ctx.template.get("Resources") or {}
        for rid, r in out:
            if r["Type"] == "AWS::ApiGatewayV2::DomainName":
                self.ctx.refer(self.lid, "DomainName", rid)
            shared = self.ctx.resources.get(rid)
            if (r["Type"] == "AWS::Route53::RecordSetGroup" and rid not in declared and isinstance(shared, dict)
                    and shared.get("Type") == r["Type"]):
                # another API's domain in the same hosted zone: one group holds both records (the reference
                # keeps only the last API's records, leaving the other domain without DNS)
                shared["Properties"]["RecordSets"] = shared["Properties"]["RecordSets"] + r["Properties"]["RecordSets"]
                continue
            self.ctx.add(rid, r, ("Resources", self.lid))

    def _clean(self, key: Any) -> str:
        if key in _SPECIAL:
            return key.replace("$", "").capitalize()
        if isinstance(key, str) and key.isalnum():
            return key.capitalize()
        raise self.error(f"route key {key!r} must be alphanumeric, or $connect, $disconnect or $default",
                         "Routes", key, key=True)

    def _auth(self, key: str, route: dict) -> tuple[str, dict] | None:
        auth = self.auth
        if not auth:
            return None
        if not isinstance(auth, dict):
            raise self.error("Auth must be a mapping (AuthType, AuthArn, IdentitySource, ...)", "Auth")
        kind = auth.get("AuthType")
        if not kind:
            raise self.error("Auth needs AuthType (AWS_IAM, CUSTOM or NONE)", "Auth")
        if kind not in AUTH_TYPES:
            raise self.error(f"Auth.AuthType {kind!r} is not one of AWS_IAM, CUSTOM or NONE", "Auth", "AuthType")
        if kind == "CUSTOM" and not auth.get("AuthArn"):
            raise self.error("Auth.AuthType CUSTOM needs AuthArn (the authorizer function's ARN)", "Auth")
        if kind in ("AWS_IAM", "NONE") and len(auth) > 1:
            raise self.error(f"Auth.AuthType {kind} takes no other setting", "Auth",
                             hint="remove the other keys of Auth, or use AuthType: CUSTOM")
        if key != "$connect":
            return None
        route["AuthorizationType"] = kind
        if kind != "CUSTOM":
            return None
        auth_id = self.lid + "ConnectAuthorizer"
        props: dict = {"ApiId": {"Ref": self.lid}}
        if "InvokeRole" in auth:
            props["AuthorizerCredentialsArn"] = auth["InvokeRole"]
        props["AuthorizerType"] = "REQUEST"
        props["AuthorizerUri"] = _sub("arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/"
                                      "functions/${AuthArn}/invocations", {"AuthArn": auth["AuthArn"]})
        props["IdentitySource"] = auth.get("IdentitySource")
        props["Name"] = auth.get("Name") or auth_id
        route["AuthorizerId"] = {"Ref": auth_id}
        return auth_id, _res("AWS::ApiGatewayV2::Authorizer", props)

    def _domain(self, stage_id: str) -> list[tuple[str, dict]]:
        domain = self.domain
        if domain is None:
            return []
        if not isinstance(domain, dict):
            raise self.error("Domain must be a mapping (DomainName, CertificateArn, ...)", "Domain")
        name, cert = domain.get("DomainName"), domain.get("CertificateArn")
        if name is None or cert is None:
            raise self.error("a custom Domain needs both DomainName and CertificateArn", "Domain")
        domain_id = "ApiGatewayDomainNameV2" + hash_id(name)
        config: dict = {"CertificateArn": cert}
        endpoint = domain.get("EndpointConfiguration")
        if endpoint is None:
            endpoint = domain["EndpointConfiguration"] = "REGIONAL"
        elif endpoint != "REGIONAL":
            raise self.error("Domain.EndpointConfiguration of a WebSocket API must be REGIONAL",
                             "Domain", "EndpointConfiguration")
        config["EndpointType"] = endpoint
        for key in ("OwnershipVerificationCertificateArn", "SecurityPolicy"):
            if domain.get(key):
                config[key] = domain[key]
        out = [(domain_id, _res("AWS::ApiGatewayV2::DomainName", {
            "DomainName": name, "DomainNameConfigurations": [config], "Tags": {TAG: "SAM"}}))]
        basepaths = _basepaths(domain)
        mapping = {"DomainName": {"Ref": domain_id}, "ApiId": {"Ref": self.lid}, "Stage": {"Ref": stage_id}}
        if basepaths is None:
            out.append((self.lid + "ApiMapping", _res("AWS::ApiGatewayV2::ApiMapping", mapping)))
        else:
            for path in basepaths:
                if not isinstance(path, str):
                    raise self.error("Domain.BasePath must be a string or a list of strings", "Domain", "BasePath")
                if re.search(r"[^0-9a-zA-Z\/\-\_]+", path) is not None:
                    raise self.error(f"Domain.BasePath {path!r} may hold letters, digits, '/', '-' and '_' only",
                                     "Domain", "BasePath")
                out.append((self.lid + re.sub(r"[\-_/]+", "", path) + "ApiMapping",
                            _res("AWS::ApiGatewayV2::ApiMapping", {**mapping, "ApiMappingKey": path.strip("/")})))
        route53 = domain.get("Route53")
        if route53 is not None:
            if not isinstance(route53, dict):
                raise self.error("Domain.Route53 must be a mapping", "Domain", "Route53")
            zone = route53.get("HostedZoneId") or route53.get("HostedZoneName")
            if route53.get("HostedZoneId") is None and route53.get("HostedZoneName") is None:
                raise self.error("Domain.Route53 needs HostedZoneId or HostedZoneName", "Domain", "Route53")
            props: dict = {}
            if "HostedZoneId" in route53:
                props["HostedZoneId"] = route53.get("HostedZoneId")
            elif "HostedZoneName" in route53:
                props["HostedZoneName"] = route53.get("HostedZoneName")
            props["RecordSets"] = _record_sets(domain, route53, _http_alias_target(domain, domain_id, route53))
            out.append(("RecordSetGroup" + hash_id(zone), _res("AWS::Route53::RecordSetGroup", props)))
        return out


def transform_websocket_api(ctx: Context, lid: str, res: dict) -> None:
    WebSocketApi(ctx, lid, res).translate()
