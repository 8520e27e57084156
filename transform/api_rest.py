"""``AWS::Serverless::Api`` -> ``AWS::ApiGateway::RestApi``, Deployment, Stage, authorizer permissions, usage
plans, custom domains (the reference's ApiGenerator, rule for rule).

The Deployment's logical ID is the one place where lamctl does not match the reference (which hashes a
Python-2 ``str()`` of its swagger): ``<Api>Deployment`` + the first 10 hex digits of the sha1 of the canonical
JSON (``separators=(",", ":")``, ``sort_keys=True``) of ``{"definition": <Body or BodyS3Location>,
"stage": <StageName>}``, plus ``"openapi"``, ``"domain"`` and ``"functions"`` (the FunctionName values of the
functions behind the API) when those are set. The Deployment's Description carries the full 40-digit sha1,
as the reference's does. Any change to the definition or the stage name gives a new Deployment, so API
Gateway redeploys; the same input always gives the same ID, except with ``AlwaysDeploy: true``, where a
random nonce joins the hash so that every transform gives a new Deployment (the reference uses the clock).
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from typing import Any, Callable

from .api_common import (ApiError, ApiGeneratorBase, authorizer_configs, authorizer_permissions, authorizer_role,
                         body_s3_location, check_authorizer_flag, check_authorizer_scopes, check_cors_keys,
                         lambda_authorizer_uri, make_resource)
from .api_py27 import py27_order
from .api_editor import OPENAPI3_RE, OPENAPI_ANY_RE, DefinitionError, SwaggerEditor, deep_get, is_intrinsic, matches

CORS_FIELDS = ("AllowMethods", "AllowHeaders", "AllowOrigin", "MaxAge", "AllowCredentials")
AUTH_FIELDS = ("Authorizers", "DefaultAuthorizer", "InvokeRole", "AddDefaultAuthorizerToCorsPreflight",
               "AddApiKeyRequiredToCorsPreflight", "ApiKeyRequired", "ResourcePolicy", "UsagePlan")
USAGE_PLAN_FIELDS = ("CreateUsagePlan", "Description", "Quota", "Tags", "Throttle", "UsagePlanName")
GATEWAY_RESPONSE_FIELDS = ("ResponseParameters", "ResponseTemplates", "StatusCode")
NO_EDGE_PARTITIONS = ("aws-us-gov", "aws-cn", "aws-eusc")


def tag_list(tags: dict | None) -> list:
    if tags is None:
        return []
    return [{"Key": k, "Value": v if v is not None else ""} for k, v in tags.items()]


class RestAuthorizer:
    """One entry of Auth.Authorizers (or the implicit AWS_IAM one) and its swagger securityDefinition."""

    def __init__(self, api_id: str, name: str, partition: str, user_pool_arn: Any = None, function_arn: Any = None,
                 identity: Any = None, payload_type: Any = None, invoke_role: Any = None, is_iam: bool = False,
                 scopes: Any = None, disable_permissions: Any = False):
        self.api_id, self.name, self.partition = api_id, name, partition
        self.user_pool_arn, self.function_arn, self.identity = user_pool_arn, function_arn, identity
        self.payload_type, self.invoke_role, self.is_iam = payload_type, invoke_role, is_iam
        self.authorization_scopes = [] if scopes is None else scopes
        self.disable_permissions = disable_permissions
        where = ("Auth", "Authorizers", name)
        if payload_type not in (None, "TOKEN", "REQUEST"):
            raise ApiError(f"authorizer {name} has an invalid FunctionPayloadType {payload_type!r} (TOKEN or REQUEST)",
                           where + ("FunctionPayloadType",))
        if payload_type == "REQUEST" and self._missing_identity_source():
            raise ApiError(f"authorizer {name} must give Identity with at least one of Headers, QueryStrings, "
                           "StageVariables or Context", where + ("Identity",))
        check_authorizer_scopes(name, scopes)
        check_authorizer_flag(name, "DisableFunctionDefaultPermissions", disable_permissions)

    def _missing_identity_source(self) -> bool:
        identity = self.identity
        if not identity:
            return True
        if not isinstance(identity, dict):
            raise ApiError(f"Authorizer.{self.name}.Identity must be a map", ("Auth", "Authorizers", self.name))
        missing = not (identity.get("Headers") or identity.get("QueryStrings") or identity.get("StageVariables")
                       or identity.get("Context"))
        ttl = identity.get("ReauthorizeEvery")
        if ttl is None:
            return missing
        try:
            ttl_int = int(ttl)
        except (TypeError, ValueError):
            return missing
        return ttl_int > 0 and missing

    def wants_permission(self) -> bool:
        return bool(self.function_arn) and not self.disable_permissions

    def kind(self) -> str:
        if self.is_iam:
            return "AWS_IAM"
        if self.user_pool_arn:
            return "COGNITO_USER_POOLS"
        return "LAMBDA"

    def payload(self) -> str:
        return self.payload_type or "TOKEN"

    def header_name(self) -> Any:
        if self.kind() == "LAMBDA" and self.payload() == "REQUEST":
            return "Unused"
        if self.identity and not isinstance(self.identity, dict):
            raise ApiError("Auth.Authorizers.<Authorizer>.Identity must be a map", ("Auth", "Authorizers", self.name))
        if not self.identity or not self.identity.get("Header"):
            return "Authorization"
        return self.identity.get("Header")

    def identity_source(self) -> str:
        parts: list = []
        for key, prefix in (("Headers", "method.request.header."), ("QueryStrings", "method.request.querystring."),
                            ("StageVariables", "stageVariables."), ("Context", "context.")):
            values = self.identity.get(key)
            if values:
                if not isinstance(values, list):
                    raise ApiError(f"Auth.Authorizers.{self.name}.Identity.{key} must be a list",
                                   ("Auth", "Authorizers", self.name, "Identity", key))
                for i, value in enumerate(values):
                    if not isinstance(value, str):
                        raise ApiError(f"Auth.Authorizers.{self.name}.Identity.{key}[{i}] must be a string",
                                       ("Auth", "Authorizers", self.name, "Identity", key))
                    parts.append(prefix + value)
        return ", ".join(parts)

    def generate_swagger(self) -> dict:
        kind = self.kind()
        out: dict = {"type": "apiKey", "name": self.header_name(), "in": "header",
                     "x-amazon-apigateway-authtype": {"AWS_IAM": "awsSigv4", "COGNITO_USER_POOLS":
                                                      "cognito_user_pools"}.get(kind, "custom")}
        key = "x-amazon-apigateway-authorizer"
        if kind == "COGNITO_USER_POOLS":
            arns = self.user_pool_arn if isinstance(self.user_pool_arn, list) else [self.user_pool_arn]
            out[key] = {"type": "cognito_user_pools", "providerARNs": arns}
        elif kind == "LAMBDA":
            out[key] = {"type": "request" if self.payload() == "REQUEST" else "token"}
            out[key]["authorizerUri"] = lambda_authorizer_uri(self.partition, self.function_arn)
            ttl = self.identity.get("ReauthorizeEvery") if self.identity else None
            if ttl is not None:
                out[key]["authorizerResultTtlInSeconds"] = ttl
            role = authorizer_role(self.invoke_role)
            if role:
                out[key]["authorizerCredentials"] = role
            if self.payload() == "REQUEST":
                source = self.identity_source()
                if source:
                    out[key]["identitySource"] = source
        if kind == "COGNITO_USER_POOLS" or (kind == "LAMBDA" and self.payload() == "TOKEN"):
            expression = self.identity and self.identity.get("ValidationExpression")
            if expression:
                out[key]["identityValidationExpression"] = expression
        return out


class SharedUsagePlan:
    """The usage plan, API key and key mapping that all APIs with ``CreateUsagePlan: SHARED`` share."""

    CONDITION = "SharedUsagePlanCondition"

    def __init__(self) -> None:
        self.stage_keys: list = []
        self.api_stages: list = []
        self.depends_on: list = []
        self.conditions: list = []  # in the order the APIs are transformed: never in a set's hash order
        self.any_without_condition = False
        self.deletion_policy: Any = None
        self.update_replace_policy: Any = None

    def combined_attributes(self, attributes: dict, conditions: dict | None) -> dict:
        dp = attributes.get("DeletionPolicy")
        if dp and (not self.deletion_policy or dp == "Retain"):
            self.deletion_policy = dp
        urp = attributes.get("UpdateReplacePolicy")
        if urp:
            if not self.update_replace_policy or urp == "Retain" or (
                    urp == "Snapshot" and self.update_replace_policy == "Delete"):
                self.update_replace_policy = urp
        self._condition(attributes.get("Condition"), conditions)
        out = {}
        if self.deletion_policy:
            out["DeletionPolicy"] = self.deletion_policy
        if self.update_replace_policy:
            out["UpdateReplacePolicy"] = self.update_replace_policy
        if self.conditions and not self.any_without_condition:
            out["Condition"] = self.CONDITION
        return out

    def _condition(self, condition: Any, conditions: dict | None) -> None:
        if self.any_without_condition:
            return
        if condition and condition not in self.conditions:
            if conditions is None:
                raise ApiError("a Condition needs a 'Conditions' section in the template")
            self.conditions.append(condition)
            if len(self.conditions) > 1:
                conditions[self.CONDITION] = {"Fn::Or": [{"Condition": c} for c in self.conditions]}
            else:
                conditions[self.CONDITION] = condition
        elif condition is None:
            self.any_without_condition = True
            if conditions and self.CONDITION in conditions:
                del conditions[self.CONDITION]


class RestApiGenerator(ApiGeneratorBase):
    """Builds the CloudFormation of one AWS::Serverless::Api from its (Globals-merged) properties."""

    EDITOR = SwaggerEditor
    DOCUMENT = "swagger"

    def __init__(self, logical_id: str, props: dict, attributes: dict, depends_on: Any, partition: str,
                 resolve: Callable[[Any], Any], conditions: dict | None, shared: SharedUsagePlan,
                 record_set_groups: dict, function_names: str | None = None):
        super().__init__(logical_id, props, attributes, depends_on, partition, record_set_groups)
        self.conditions = conditions
        self.shared = shared
        self.function_names = function_names
        p = props
        self.merge_definitions = p.get("MergeDefinitions")
        self.stage_name = p.get("StageName")
        self.endpoint_configuration = p.get("EndpointConfiguration")
        self.binary_media = resolve(p.get("BinaryMediaTypes"))
        self.domain = resolve(p.get("Domain"))
        self.auth = resolve(p.get("Auth"))
        self.cors = p.get("Cors")
        self.gateway_responses = p.get("GatewayResponses")
        self.models = p.get("Models")
        self.open_api_version = p.get("OpenApiVersion")

    # -- entry point ---------------------------------------------------------------------------------
    def generate(self) -> list[tuple[str, dict]]:
        rest_api = self._rest_api()
        out: list[tuple[str, dict]] = [(self.logical_id, rest_api)]
        domain_resources = self._domain()
        stage_id, stage = self.stage_id(), None
        deployment_id, deployment = self._deployment(rest_api)
        stage = self._stage(deployment_id)
        out.append((deployment_id, deployment))
        out.append((stage_id, stage))
        out.extend(self._authorizer_permissions())
        out.extend(domain_resources)
        out.extend(self._usage_plan(stage_id))
        if self.props.get("PropagateTags") and self.tags:
            for _, resource in out:
                if resource["Type"] in TAGGABLE:
                    resource["Properties"]["Tags"] = tag_list(self.tags)
        return out

    # -- RestApi -------------------------------------------------------------------------------------
    def _rest_api(self) -> dict:
        p = self.props
        self._check_definition_source()
        if self.definition_uri and self.merge_definitions:
            raise ApiError("'MergeDefinitions' cannot be true with 'DefinitionUri'", ("MergeDefinitions",))
        if self.open_api_version and not matches(OPENAPI_ANY_RE, self.open_api_version):
            raise ApiError("OpenApiVersion must look like '3.0.0'", ("OpenApiVersion",))
        props: dict = {"BinaryMediaTypes": self.binary_media, "MinimumCompressionSize": p.get("MinimumCompressionSize")}
        if self.endpoint_configuration:
            self._endpoint_configuration(props, self.endpoint_configuration)
        elif self.partition.startswith("aws-iso") or self.partition in NO_EDGE_PARTITIONS:
            self._endpoint_configuration(props, "REGIONAL")
        self._add_cors()
        self._add_auth()
        self._add_gateway_responses()
        self._add_binary_media_types()
        self._add_models()
        if p.get("FailOnWarnings"):
            props["FailOnWarnings"] = p["FailOnWarnings"]
        if self.disable_execute_api_endpoint is not None:
            if not self.definition_body:
                raise ApiError("DisableExecuteApiEndpoint works only with 'DefinitionBody'",
                               ("DisableExecuteApiEndpoint",))
            editor = self._editor()
            editor.add_disable_execute_api_endpoint(self.disable_execute_api_endpoint)
            self.definition_body = editor.finish()
        if self.definition_uri:
            props["BodyS3Location"] = body_s3_location(
                self.definition_uri, "'DefinitionUri' needs both Bucket and Key")
        elif self.definition_body:
            self.definition_body = self._openapi_postprocess(self.definition_body)
            props["Body"] = self.definition_body
        for key in ("Name", "Description", "Mode", "ApiKeySourceType", "Policy", "SecurityPolicy",
                    "EndpointAccessMode"):
            if p.get(key):
                props[key] = p[key]
        return make_resource("AWS::ApiGateway::RestApi", props, self.resource_attributes, self.depends_on)

    def _endpoint_configuration(self, props: dict, value: Any) -> None:
        if isinstance(value, dict) and value.get("Type"):
            props["Parameters"] = {"endpointConfigurationTypes": value.get("Type")}
            props["EndpointConfiguration"] = {"Types": [value.get("Type")]}
            if "VPCEndpointIds" in value and "VpcEndpointIds" in value:
                raise ApiError("'VPCEndpointIds' and 'VpcEndpointIds' cannot be used together in "
                               "EndpointConfiguration", ("EndpointConfiguration",))
            if "VPCEndpointIds" in value or "VpcEndpointIds" in value:
                props["EndpointConfiguration"]["VpcEndpointIds"] = (value.get("VPCEndpointIds")
                                                                    or value.get("VpcEndpointIds"))
            if "IpAddressType" in value:
                props["EndpointConfiguration"]["IpAddressType"] = value.get("IpAddressType")
        else:
            props["EndpointConfiguration"] = {"Types": [value]}
            props["Parameters"] = {"endpointConfigurationTypes": value}

    def _add_cors(self) -> None:
        cors = self.cors
        if not cors:
            return
        self._needs_body("Cors")
        if isinstance(cors, str) or is_intrinsic(cors):
            fields = {"AllowOrigin": cors}
        elif isinstance(cors, dict):
            fields = check_cors_keys(cors, CORS_FIELDS, "Cors")
        else:
            raise ApiError("invalid value for 'Cors': give a string of origins or a map", ("Cors",))
        origin = fields.get("AllowOrigin", "'*'")
        self._needs_valid_body("Cors")
        if fields.get("AllowCredentials") is True and origin == "'*'":
            raise ApiError("cannot add Cors: 'AllowCredentials' cannot be true when 'AllowOrigin' is \"'*'\" or "
                           "not set", ("Cors",))
        editor = self._editor()
        done: set = set()
        for path in py27_order(editor.iter_paths()):  # of "/a" and "/a/", the first in the reference's order
            normalized = path.rstrip("/") if path != "/" else path
            if normalized in done:
                continue
            done.add(normalized)
            try:
                editor.add_cors(path, origin, fields.get("AllowHeaders"), fields.get("AllowMethods"),
                                max_age=fields.get("MaxAge"), allow_credentials=fields.get("AllowCredentials", False))
            except DefinitionError as exc:
                raise ApiError(exc.message, ("Cors",)) from None
        self.definition_body = editor.finish()

    def _add_binary_media_types(self) -> None:
        if not self.binary_media or not self.definition_body:
            return
        editor = self._editor()
        editor.add_binary_media_types(self.binary_media)
        self.definition_body = editor.finish()

    def _authorizers(self, config: Any, default: Any = None) -> dict | None:
        authorizers: dict = {}
        if default == "AWS_IAM":
            authorizers["AWS_IAM"] = RestAuthorizer(self.logical_id, "AWS_IAM", self.partition, is_iam=True)
        if not config:
            return authorizers if "AWS_IAM" in authorizers else None
        for name, a in authorizer_configs(config):
            authorizers[name] = RestAuthorizer(
                self.logical_id, name, self.partition, user_pool_arn=a.get("UserPoolArn"),
                function_arn=a.get("FunctionArn"), identity=a.get("Identity"),
                payload_type=a.get("FunctionPayloadType"), invoke_role=a.get("FunctionInvokeRole"),
                scopes=a.get("AuthorizationScopes"),
                disable_permissions=a.get("DisableFunctionDefaultPermissions"))
        return authorizers

    def _auth_fields(self) -> dict:
        fields = {"AddDefaultAuthorizerToCorsPreflight": True, "AddApiKeyRequiredToCorsPreflight": True}
        fields.update(self.auth)
        return fields

    def _add_auth(self) -> None:
        if not self.auth:
            return
        self._needs_body("Auth")
        if not isinstance(self.auth, dict) or not all(k in AUTH_FIELDS for k in self.auth):
            bad = [k for k in self.auth if k not in AUTH_FIELDS] if isinstance(self.auth, dict) else []
            raise ApiError(f"invalid value for 'Auth'{': unknown key ' + repr(bad[0]) if bad else ''} "
                           f"(expected keys: {', '.join(AUTH_FIELDS)})", ("Auth",))
        self._needs_valid_body("Auth")
        editor = self._editor()
        auth = self._auth_fields()
        authorizers = self._authorizers(auth.get("Authorizers"), auth.get("DefaultAuthorizer"))
        try:
            if authorizers:
                editor.add_authorizers(authorizers)
                default = auth.get("DefaultAuthorizer")
                if default:
                    if not isinstance(default, str):
                        raise ApiError("DefaultAuthorizer must be a string", ("Auth", "DefaultAuthorizer"))
                    if not authorizers.get(default) and default != "AWS_IAM":
                        raise ApiError(f"cannot set DefaultAuthorizer: '{default}' is not defined in 'Authorizers'",
                                       ("Auth", "DefaultAuthorizer"))
                    for path in editor.iter_paths():
                        editor.set_path_default_authorizer(path, default, authorizers,
                                                           auth["AddDefaultAuthorizerToCorsPreflight"])
            if auth.get("ApiKeyRequired"):
                editor.add_apikey_security_definition()
                for path in editor.iter_paths():
                    editor.set_path_default_apikey_required(path, auth["AddApiKeyRequiredToCorsPreflight"])
            policy = auth.get("ResourcePolicy")
            if policy:
                if not isinstance(policy, dict):
                    raise ApiError("ResourcePolicy must be a map", ("Auth", "ResourcePolicy"))
                for path in editor.iter_paths():
                    editor.add_resource_policy(policy, path, self.stage_name)
                if policy.get("CustomStatements"):
                    editor.add_custom_statements(policy.get("CustomStatements"))
        except DefinitionError as exc:
            raise ApiError(exc.message, ("Auth",)) from None
        self.definition_body = self._openapi_postprocess(editor.finish())

    def _add_gateway_responses(self) -> None:
        responses = self.gateway_responses
        if not responses:
            return
        self._needs_body("GatewayResponses")
        for key, value in responses.items():
            if is_intrinsic(value):
                raise ApiError("GatewayResponses entries cannot be intrinsic functions", ("GatewayResponses", key))
            if not isinstance(value, dict):
                raise ApiError(f"GatewayResponses.{key} must be a map (GatewayResponse), not "
                               f"{type(value).__name__}", ("GatewayResponses", key))
            for sub in value:
                if sub not in GATEWAY_RESPONSE_FIELDS:
                    raise ApiError(f"invalid property '{sub}' in GatewayResponses.{key} (expected "
                                   f"{', '.join(GATEWAY_RESPONSE_FIELDS)})", ("GatewayResponses", key, sub))
        self._needs_valid_body("GatewayResponses")
        editor = self._editor()
        generated = {}
        for kind, response in responses.items():
            params = response.get("ResponseParameters", {})
            templates = response.get("ResponseTemplates", {})
            if params and not isinstance(params, dict):
                raise ApiError(f"GatewayResponses.{kind}.ResponseParameters must be a map",
                               ("GatewayResponses", kind, "ResponseParameters"))
            for p_key in params or {}:
                if p_key not in ("Headers", "Paths", "QueryStrings"):
                    raise ApiError(f"invalid gateway response parameter '{p_key}' (Headers, Paths or QueryStrings)",
                                   ("GatewayResponses", kind, "ResponseParameters", p_key))
            status = response.get("StatusCode")
            status_str = None if status is None else str(status)
            if status and not re.match(r"^[0-9]{1,3}$", status_str):
                raise ApiError("GatewayResponses StatusCode must be numeric", ("GatewayResponses", kind, "StatusCode"))
            prefixed: dict = {}
            for name, prefix in (("Headers", "header."), ("Paths", "path."), ("QueryStrings", "querystring.")):
                values = (params or {}).get(name, {})
                if not isinstance(values, dict):
                    raise ApiError(f"ResponseParameters.{name} must be a map",
                                   ("GatewayResponses", kind, "ResponseParameters", name))
                for k, v in values.items():
                    prefixed["gatewayresponse." + prefix + k] = v
            entry = {"responseParameters": prefixed, "responseTemplates": templates or {}}
            if status_str:
                entry["statusCode"] = status_str
            generated[kind] = entry
        if generated:
            editor.add_gateway_responses(generated)
        self.definition_body = editor.finish()

    def _add_models(self) -> None:
        if not self.models:
            return
        self._needs_body("Models")
        self._needs_valid_body("Models")
        if not isinstance(self.models, dict) or not all(isinstance(m, dict) for m in self.models.values()):
            raise ApiError("invalid value for 'Models': a map of model name to JSON schema", ("Models",))
        editor = self._editor()
        try:
            editor.add_models(self.models)
        except DefinitionError as exc:
            raise ApiError(exc.message, ("Models",)) from None
        self.definition_body = self._openapi_postprocess(editor.finish())

    def _openapi_postprocess(self, body: dict) -> dict:
        if body.get("swagger") is not None:
            return body
        if body.get("openapi") is not None and self.open_api_version is None:
            version = body.get("openapi")
        else:
            version = self.open_api_version
        if not (version and matches(OPENAPI3_RE, version)):
            return body
        if body.get("components") and not isinstance(body.get("components"), dict):
            raise ApiError("components in the definition must be a map", ("DefinitionBody",))
        if body.get("securityDefinitions"):
            components = body.get("components", {}) or {}
            components["securitySchemes"] = body["securityDefinitions"]
            body["components"] = components
            del body["securityDefinitions"]
        if body.get("definitions"):
            components = body.get("components", {}) or {}
            components["schemas"] = body["definitions"]
            body["components"] = components
            del body["definitions"]
        paths = body.get("paths")
        if paths:
            if not isinstance(paths, dict):
                raise ApiError("'paths' of the definition must be a map", ("DefinitionBody",))
            for path, item in paths.items():
                if not isinstance(item, dict):
                    raise ApiError(f"the value of path '{path}' must be a map", ("DefinitionBody",))
                options = item.get("options")
                if not options:
                    continue
                if not isinstance(options, dict):
                    raise ApiError(f"the options method of path {path} must be a map", ("DefinitionBody",))
                for field, value in list(options.items()):
                    if field in ("produces", "consumes"):
                        del options[field]
                    if field == "responses":
                        try:
                            headers = deep_get(value, "200.headers")
                        except DefinitionError as exc:
                            raise ApiError(f"invalid responses in the options method of path {path}: "
                                           f"{exc.message}", ("DefinitionBody",)) from None
                        if not headers:
                            continue
                        if not isinstance(headers, dict):
                            raise ApiError(f"response headers of the options method of path {path} must be a map",
                                           ("DefinitionBody",))
                        for header, header_value in list(headers.items()):
                            headers[header] = {"schema": header_value}
        return body

    # -- Deployment and Stage ------------------------------------------------------------------------
    def _deployment(self, rest_api: dict) -> tuple[str, dict]:
        props: dict = {"RestApiId": {"Ref": self.logical_id}}
        if not self.open_api_version:
            props["StageName"] = "Stage"
        swagger = rest_api["Properties"].get("Body")
        if swagger is None:
            swagger = rest_api["Properties"].get("BodyS3Location")
        logical_id = self.logical_id + "Deployment"
        if swagger:
            data: dict = {"definition": swagger, "stage": self.stage_name}
            if self.open_api_version:
                data["openapi"] = self.open_api_version
            if self.domain:
                data["domain"] = self.domain
            if self.function_names:
                data["functions"] = self.function_names
            if self.props.get("AlwaysDeploy") is True:
                data["always"] = uuid.uuid4().hex  # a new deployment on every transform, as asked
            text = json.dumps(data, separators=(",", ":"), sort_keys=True)
            digest = hashlib.sha1(text.encode("utf-8")).hexdigest()
            logical_id += digest[:10]
            props["Description"] = f"RestApi deployment id: {digest}"
        return logical_id, make_resource("AWS::ApiGateway::Deployment", props, self.passthrough)

    def _stage(self, deployment_id: str) -> dict:
        p = self.props
        props = {
            "RestApiId": {"Ref": self.logical_id},
            "DeploymentId": {"Ref": deployment_id},
            "StageName": self.stage_name,
            "CacheClusterEnabled": p.get("CacheClusterEnabled"),
            "CacheClusterSize": p.get("CacheClusterSize"),
            "Variables": p.get("Variables"),
            "MethodSettings": p.get("MethodSettings"),
            "AccessLogSetting": p.get("AccessLogSetting"),
            "CanarySetting": p.get("CanarySetting"),
            "TracingEnabled": p.get("TracingEnabled"),
        }
        if self.tags is not None:
            props["Tags"] = tag_list(self.tags)
        return make_resource("AWS::ApiGateway::Stage", props, self.passthrough)

    # -- authorizer permissions ------------------------------------------------------------------------
    def _authorizer_permissions(self) -> list[tuple[str, dict]]:
        if not self.auth:
            return []
        authorizers = self._authorizers(self.auth.get("Authorizers"))
        return authorizer_permissions(self.logical_id, authorizers or {}, self.partition, self.passthrough)

    # -- usage plans ---------------------------------------------------------------------------------
    def _usage_plan(self, stage_id: str) -> list[tuple[str, dict]]:
        if not self.auth or self.auth.get("UsagePlan") is None:
            return []
        plan = self.auth["UsagePlan"]
        where = ("Auth", "UsagePlan")
        if not isinstance(plan, dict):
            raise ApiError("'UsagePlan' must be a map", where)
        if not all(k in USAGE_PLAN_FIELDS for k in plan):
            raise ApiError(f"invalid property in 'UsagePlan' (expected {', '.join(USAGE_PLAN_FIELDS)})", where)
        create = plan.get("CreateUsagePlan")
        if create is None:
            raise ApiError("'CreateUsagePlan' is required in UsagePlan", where)
        if create not in ("SHARED", "PER_API", "NONE"):
            raise ApiError("'CreateUsagePlan' accepts one of SHARED, PER_API, NONE", where + ("CreateUsagePlan",))
        if create == "NONE":
            return []
        api_stage = {"ApiId": {"Ref": self.logical_id}, "Stage": {"Ref": stage_id}}
        stage_key = {"RestApiId": {"Ref": self.logical_id}, "StageName": {"Ref": stage_id}}
        if create == "PER_API":
            plan_id = self.logical_id + "UsagePlan"
            plan_props: dict = {"ApiStages": [api_stage]}
            plan_attrs = self.passthrough
            plan_depends = [self.logical_id]
            key_id = self.logical_id + "ApiKey"
            key_attrs = self.passthrough
            key_props = {"Enabled": True, "StageKeys": [stage_key]}
            upk_id = self.logical_id + "UsagePlanKey"
            upk_attrs = self.passthrough
        else:
            shared = self.shared
            plan_id = "ServerlessUsagePlan"
            if self.logical_id not in shared.depends_on:
                shared.depends_on.append(self.logical_id)
            plan_attrs = shared.combined_attributes(self.passthrough, self.conditions)
            if api_stage not in shared.api_stages:
                shared.api_stages.append(api_stage)
            plan_props = {"ApiStages": shared.api_stages}
            plan_depends = shared.depends_on
            key_id = "ServerlessApiKey"
            key_attrs = shared.combined_attributes(self.passthrough, self.conditions)
            if stage_key not in shared.stage_keys:
                shared.stage_keys.append(stage_key)
            key_props = {"Enabled": True, "StageKeys": shared.stage_keys}
            upk_id = "ServerlessUsagePlanKey"
            upk_attrs = shared.combined_attributes(self.passthrough, self.conditions)
        for name in ("UsagePlanName", "Description", "Quota", "Tags", "Throttle"):
            if plan.get(name):
                plan_props[name] = plan.get(name)
        return [
            (plan_id, make_resource("AWS::ApiGateway::UsagePlan", plan_props, plan_attrs, plan_depends)),
            (key_id, make_resource("AWS::ApiGateway::ApiKey", key_props, key_attrs, [plan_id])),
            (upk_id, make_resource("AWS::ApiGateway::UsagePlanKey", {
                "KeyId": {"Ref": key_id}, "KeyType": "API_KEY", "UsagePlanId": {"Ref": plan_id}}, upk_attrs,
                [key_id])),
        ]

    # -- custom domains --------------------------------------------------------------------------------
    def _domain(self) -> list[tuple[str, dict]]:
        from .api_domain import rest_domain
        return rest_domain(self)


TAGGABLE = {"AWS::ApiGateway::RestApi", "AWS::ApiGateway::Stage", "AWS::ApiGateway::DomainName",
            "AWS::ApiGateway::DomainNameV2", "AWS::ApiGateway::UsagePlan", "AWS::ApiGateway::ApiKey",
            "AWS::ApiGateway::DomainNameAccessAssociation"}
