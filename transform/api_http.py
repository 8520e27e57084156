"""``AWS::Serverless::HttpApi`` -> ``AWS::ApiGatewayV2::Api`` (OpenAPI body), Stage, authorizer permissions and
custom domains (the reference's HttpApiGenerator, rule for rule)."""

from __future__ import annotations

from typing import Any, Callable

from .api_common import (ApiError, ApiGeneratorBase, authorizer_configs, authorizer_permissions, authorizer_role,
                         body_s3_location, check_authorizer_flag, check_authorizer_scopes, check_cors_keys,
                         lambda_authorizer_uri, make_resource)
from .api_editor import DefinitionError, OpenApiEditor, STACK_NAME, deep_get, is_intrinsic, is_no_value

CORS_FIELDS = ("AllowMethods", "AllowHeaders", "AllowOrigins", "MaxAge", "ExposeHeaders", "AllowCredentials")
AUTH_FIELDS = ("Authorizers", "DefaultAuthorizer", "EnableIamAuthorizer")
DEFAULT_STAGE = "$default"
TAG_NAME = "httpapi:createdBy"


class HttpAuthorizer:
    """One entry of an HTTP API's Auth.Authorizers (JWT, Lambda REQUEST, or the built-in AWS_IAM)."""

    ALLOWED = {
        "JWT": {"AuthorizationScopes", "JwtConfiguration", "IdentitySource"},
        "REQUEST": {"FunctionArn", "FunctionInvokeRole", "Identity", "AuthorizerPayloadFormatVersion",
                    "EnableSimpleResponses", "EnableFunctionDefaultPermissions"},
        "AWS_IAM": set(),
    }
    DISPLAY = {
        "AuthorizationScopes": "OAuth2 Authorizer", "JwtConfiguration": "OAuth2 Authorizer",
        "IdentitySource": "OAuth2 Authorizer. For Lambda Authorizer, use the 'Identity' property instead",
        "FunctionArn": "Lambda Authorizer", "FunctionInvokeRole": "Lambda Authorizer", "Identity": "Lambda Authorizer",
        "AuthorizerPayloadFormatVersion": "Lambda Authorizer", "EnableSimpleResponses": "Lambda Authorizer",
        "EnableFunctionDefaultPermissions": "Lambda Authorizer",
    }

    def __init__(self, api_id: str, name: str, partition: str, config: dict | None = None, is_iam: bool = False):
        config = config or {}
        self.name, self.partition, self.is_iam = name, partition, is_iam
        where = ("Auth", "Authorizers", name)
        jwt = config.get("JwtConfiguration")
        if jwt:
            if not isinstance(jwt, dict):
                raise ApiError(f"Authorizers.{name}.JwtConfiguration must be a map", where + ("JwtConfiguration",))
            jwt = {k.lower(): v for k, v in jwt.items()}
        self.jwt = jwt or None
        self.authorization_scopes = config.get("AuthorizationScopes")
        self.id_source = config.get("IdentitySource")
        self.function_arn = config.get("FunctionArn")
        self.invoke_role = config.get("FunctionInvokeRole")
        self.identity = config.get("Identity")
        self.payload_version = config.get("AuthorizerPayloadFormatVersion")
        self.simple_responses = config.get("EnableSimpleResponses")
        self.default_permissions = config.get("EnableFunctionDefaultPermissions")
        kind = self.kind()
        check_authorizer_scopes(name, self.authorization_scopes)
        for key, allowed_for in self.DISPLAY.items():
            value = self.jwt if key == "JwtConfiguration" else config.get(key)
            if value is not None and key not in self.ALLOWED[kind]:
                raise ApiError(f"authorizer {name}: {key} is only supported for {allowed_for}", where + (key,))
        if kind == "JWT" and not self.id_source:
            raise ApiError(f"{name} OAuth2 Authorizer must define 'IdentitySource'", where)
        if kind == "REQUEST":
            if not self.function_arn:
                raise ApiError(f"{name} Lambda Authorizer must define 'FunctionArn'", where)
            if not self.payload_version:
                raise ApiError(f"{name} Lambda Authorizer must define 'AuthorizerPayloadFormatVersion'", where)
        check_authorizer_flag(name, "EnableFunctionDefaultPermissions", self.default_permissions)

    def wants_permission(self) -> bool:
        return bool(self.function_arn and self.default_permissions)

    def kind(self) -> str:
        if self.is_iam:
            return "AWS_IAM"
        if self.jwt:
            return "JWT"
        return "REQUEST"

    def generate_openapi(self) -> dict:
        kind = self.kind()
        key = "x-amazon-apigateway-authorizer"
        if kind == "AWS_IAM":
            return {"type": "apiKey", "name": "Authorization", "in": "header",
                    "x-amazon-apigateway-authtype": "awsSigv4"}
        if kind == "JWT":
            return {"type": "oauth2", key: {"jwtConfiguration": self.jwt, "identitySource": self.id_source,
                                            "type": "jwt"}}
        out: dict = {"type": "apiKey", "name": "Unused", "in": "header", key: {"type": "request"}}
        out[key]["authorizerUri"] = lambda_authorizer_uri(self.partition, self.function_arn)
        role = authorizer_role(self.invoke_role)
        if role:
            out[key]["authorizerCredentials"] = role
        if self.identity:
            if not isinstance(self.identity, dict):
                raise ApiError(f"Auth.Authorizers.{self.name}.Identity must be a map",
                               ("Auth", "Authorizers", self.name, "Identity"))
            ttl = self.identity.get("ReauthorizeEvery")
            if ttl is not None:
                out[key]["authorizerResultTtlInSeconds"] = ttl
            sources: list = []
            for prefix, prop in (("$request.header.", "Headers"), ("$request.querystring.", "QueryStrings"),
                                 ("$stageVariables.", "StageVariables"), ("$context.", "Context")):
                values = self.identity.get(prop)
                if values:
                    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
                        raise ApiError(f"Authorizers.{self.name}.Identity.{prop} must be a list of strings",
                                       ("Auth", "Authorizers", self.name, "Identity", prop))
                    sources += [prefix + v for v in values]
            out[key]["identitySource"] = sources
        out[key]["authorizerPayloadFormatVersion"] = self.payload_version
        if self.simple_responses:
            out[key]["enableSimpleResponses"] = self.simple_responses
        return out


def http_authorizers(api_id: str, partition: str, config: Any, enable_iam: Any = False) -> dict:
    out: dict = {}
    if enable_iam is True:
        out["AWS_IAM"] = HttpAuthorizer(api_id, "AWS_IAM", partition, is_iam=True)
    if not config:
        return out
    for name, a in authorizer_configs(config):
        if "OpenIdConnectUrl" in a:
            raise ApiError(f"'OpenIdConnectUrl' is no longer supported for authorizer '{name}'; use "
                           "JwtConfiguration.issuer", ("Auth", "Authorizers", name, "OpenIdConnectUrl"))
        out[name] = HttpAuthorizer(api_id, name, partition, a)
    return out


class HttpApiGenerator(ApiGeneratorBase):
    """Builds the CloudFormation of one AWS::Serverless::HttpApi from its (Globals-merged) properties."""

    EDITOR = OpenApiEditor
    DOCUMENT = "OpenAPI"
    DEFAULT_STAGE = DEFAULT_STAGE

    def __init__(self, logical_id: str, props: dict, attributes: dict, depends_on: Any, partition: str,
                 resolve: Callable[[Any], Any], record_set_groups: dict):
        super().__init__(logical_id, props, attributes, depends_on, partition, record_set_groups)
        p = props
        self.stage_name = p.get("StageName") or DEFAULT_STAGE
        self.auth = p.get("Auth")
        self.cors = resolve(p.get("CorsConfiguration"))
        self.domain = resolve(p.get("Domain"))
        self.name = p.get("Name")
        self.description = p.get("Description")
        self.fail_on_warnings = p.get("FailOnWarnings")

    def generate(self) -> list[tuple[str, dict]]:
        api = self._http_api()
        out: list[tuple[str, dict]] = [(self.logical_id, api)]
        out.extend(self._authorizer_permissions())
        from .api_domain import http_domain
        out.extend(http_domain(self))
        stage = self._stage()
        if stage:
            out.append(stage)
        if self.props.get("Tags") and self.props.get("DefinitionBody") is not None:
            for _, resource in out:
                if resource["Type"] in ("AWS::ApiGatewayV2::Stage", "AWS::ApiGatewayV2::DomainName"):
                    resource["Properties"]["Tags"] = self.props["Tags"]
        return out

    def _http_api(self) -> dict:
        self._check_definition_source()
        if self.cors:
            self._add_cors()
        self._add_auth()
        self._add_tags()
        props: dict = {}
        if self.fail_on_warnings:
            props["FailOnWarnings"] = self.fail_on_warnings
        if self.disable_execute_api_endpoint is not None:
            if not self.definition_body:
                raise ApiError("DisableExecuteApiEndpoint works only with 'DefinitionBody'",
                               ("DisableExecuteApiEndpoint",))
            editor = self._editor()
            try:
                editor.add_endpoint_config(self.disable_execute_api_endpoint)
            except DefinitionError as exc:
                raise ApiError(exc.message, ("DefinitionBody",)) from None
            self.definition_body = editor.finish()
        self._add_title()
        self._add_description()
        if self.fail_on_warnings and self.definition_body:
            paths = self.definition_body.get("paths", {})
            if isinstance(paths, dict) and DEFAULT_STAGE in paths:
                paths[f"/{DEFAULT_STAGE}"] = paths.pop(DEFAULT_STAGE)
        if self.definition_uri:
            props["BodyS3Location"] = body_s3_location(self.definition_uri,
                                                       "'DefinitionUri' needs both Bucket and Key")
        elif self.definition_body:
            props["Body"] = self.definition_body
        else:
            raise ApiError("'DefinitionUri' or 'DefinitionBody' is required for an AWS::Serverless::HttpApi: add one, "
                           "or add an HttpApi event to a function")
        return make_resource("AWS::ApiGatewayV2::Api", props, self.resource_attributes, self.depends_on)

    def _add_cors(self) -> None:
        cors = self.cors
        where = ("CorsConfiguration",)
        self._needs_body("CorsConfiguration")
        if isinstance(cors, bool):
            fields: dict = {"AllowOrigins": ["*"]}
        elif is_intrinsic(cors):
            fields = {"AllowOrigins": cors}
        elif isinstance(cors, dict):
            fields = check_cors_keys(cors, CORS_FIELDS, "CorsConfiguration")
        else:
            raise ApiError("invalid value for 'CorsConfiguration': true or a map", where)
        self._needs_valid_body("CorsConfiguration")
        if fields.get("AllowCredentials", False) is True and fields.get("AllowOrigins") == ["*"]:
            raise ApiError("cannot add CorsConfiguration: 'AllowCredentials' cannot be true when 'AllowOrigins' is "
                           "'*' or not set", where)
        editor = self._editor()
        try:
            editor.add_cors(fields.get("AllowOrigins"), fields.get("AllowHeaders"), fields.get("AllowMethods"),
                            fields.get("ExposeHeaders"), fields.get("MaxAge"), fields.get("AllowCredentials", False))
        except DefinitionError as exc:
            raise ApiError(exc.message, where) from None
        self.definition_body = editor.finish()

    def _add_auth(self) -> None:
        auth = self.auth
        if not auth:
            return
        self._needs_body("Auth")
        if not isinstance(auth, dict) or not all(k in AUTH_FIELDS for k in auth):
            raise ApiError(f"invalid value for 'Auth' (expected keys: {', '.join(AUTH_FIELDS)})", ("Auth",))
        self._needs_valid_body("Auth")
        editor = self._editor()
        authorizers = http_authorizers(self.logical_id, self.partition, auth.get("Authorizers"),
                                       auth.get("EnableIamAuthorizer", False))
        try:
            editor.add_authorizers(authorizers)
            default = auth.get("DefaultAuthorizer")
            if default and not is_no_value(default):
                if not isinstance(default, str):
                    raise ApiError("Auth.DefaultAuthorizer must be a string", ("Auth", "DefaultAuthorizer"))
                if not authorizers.get(default):
                    raise ApiError(f"cannot set DefaultAuthorizer: '{default}' is not defined in 'Authorizers'",
                                   ("Auth", "DefaultAuthorizer"))
                for path in editor.iter_paths():
                    editor.set_path_default_authorizer(path, default, authorizers)
        except DefinitionError as exc:
            raise ApiError(exc.message, ("Auth",)) from None
        self.definition_body = editor.finish()

    def _add_tags(self) -> None:
        if self.tags:
            self._needs_body("Tags")
        if not self.definition_body:
            return
        if self.tags:
            self._needs_valid_body("Tags")
        if not OpenApiEditor.is_valid(self.definition_body):
            return
        if not self.tags:
            self.tags = {}
        self.tags[TAG_NAME] = "SAM"
        editor = self._editor()
        try:
            editor.add_tags(self.tags)
        except DefinitionError as exc:
            raise ApiError(exc.message, ("DefinitionBody",)) from None
        self.definition_body = editor.finish()

    def _add_title(self) -> None:
        if not self.name:
            return
        self._needs_body("Name")
        try:
            title = deep_get(self.definition_body, "info.title")
        except DefinitionError as exc:
            raise ApiError(f"invalid 'DefinitionBody': {exc.message}", ("DefinitionBody",)) from None
        if title != STACK_NAME:
            raise ApiError("cannot set Name: the inline OpenAPI in 'DefinitionBody' already has info.title",
                           ("Name",))
        editor = self._editor()
        editor.add_title(self.name)
        self.definition_body = editor.finish()

    def _add_description(self) -> None:
        if not self.description:
            return
        self._needs_body("Description")
        try:
            existing = deep_get(self.definition_body, "info.description")
        except DefinitionError as exc:
            raise ApiError(f"invalid 'DefinitionBody': {exc.message}", ("DefinitionBody",)) from None
        if existing:
            raise ApiError("cannot set Description: the inline OpenAPI in 'DefinitionBody' already has "
                           "info.description", ("Description",))
        editor = self._editor()
        editor.add_description(self.description)
        self.definition_body = editor.finish()

    def _authorizer_permissions(self) -> list[tuple[str, dict]]:
        if not self.auth:
            return []
        authorizers = http_authorizers(self.logical_id, self.partition, self.auth.get("Authorizers"),
                                       self.auth.get("EnableIamAuthorizer", False))
        return authorizer_permissions(self.logical_id, authorizers, "${AWS::Partition}", self.passthrough)

    def _stage(self) -> tuple[str, dict] | None:
        p = self.props
        if not (self.stage_name or p.get("StageVariables") or p.get("AccessLogSettings")
                or p.get("DefaultRouteSettings") or p.get("RouteSettings")):
            return None
        props = {
            "ApiId": {"Ref": self.logical_id},
            "StageName": self.stage_name,
            "StageVariables": p.get("StageVariables"),
            "AccessLogSettings": p.get("AccessLogSettings"),
            "DefaultRouteSettings": p.get("DefaultRouteSettings"),
            "Tags": self.tags,
            "AutoDeploy": True,
            "RouteSettings": p.get("RouteSettings"),
        }
        return self.stage_id(), make_resource("AWS::ApiGatewayV2::Stage", props, self.passthrough)
