"""In-place editors for the API definitions the SAM transform builds: swagger 2.0 / OpenAPI 3 for REST APIs,
OpenAPI 3 for HTTP APIs.

They follow the reference transform's editors rule for rule (same paths, methods, integrations, security
blocks, CORS preflight methods, resource policies), with one deliberate difference: the reference copies the
whole document every time an editor is created and every time it hands the document back, which makes a
template with N API events cost O(N^2). These editors work on the document they are given, so each API
definition is built once, in place, in O(N). Callers copy a user-written ``DefinitionBody`` once before
editing it.

Errors are raised as :class:`DefinitionError` (a message only); the API transform turns them into located
template errors naming the API resource.
"""

from __future__ import annotations

import json
import re
from typing import Any, Iterator

from lamctl.schemas.sam import is_intrinsic

X_INTEGRATION = "x-amazon-apigateway-integration"
X_ANY_METHOD = "x-amazon-apigateway-any-method"
X_BINARY_MEDIA_TYPES = "x-amazon-apigateway-binary-media-types"
X_GATEWAY_RESPONSES = "x-amazon-apigateway-gateway-responses"
X_POLICY = "x-amazon-apigateway-policy"
X_REQUEST_VALIDATORS = "x-amazon-apigateway-request-validators"
X_REQUEST_VALIDATOR = "x-amazon-apigateway-request-validator"
X_ENDPOINT_CONFIG = "x-amazon-apigateway-endpoint-configuration"
X_TAG_VALUE = "x-amazon-apigateway-tag-value"
X_CORS = "x-amazon-apigateway-cors"
ALL_HTTP_METHODS = ["OPTIONS", "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH"]
OPENAPI3_RE = re.compile(r"\A3(\.\d)(\.\d)?$")
OPENAPI_ANY_RE = re.compile(r"\A[2-3](\.\d)(\.\d)?$")
DEFAULT_PATH = "$default"
NO_VALUE = {"Ref": "AWS::NoValue"}
STACK_NAME = {"Ref": "AWS::StackName"}


class DefinitionError(Exception):
    """The API definition (or a property that edits it) is not what the transform can work with."""

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else "invalid API definition"


# -- intrinsic helpers -------------------------------------------------------------------------------

def is_no_value(value: Any) -> bool:
    return isinstance(value, dict) and len(value) == 1 and value.get("Ref") == "AWS::NoValue"


def make_conditional(condition: str, true_data: Any, false_data: Any = None) -> dict:
    return {"Fn::If": [condition, true_data, dict(NO_VALUE) if false_data is None else false_data]}


def fn_sub(text: str, variables: dict | None = None) -> dict:
    return {"Fn::Sub": [text, variables]} if variables else {"Fn::Sub": text}


def shorthand(intrinsic: dict) -> str:
    """``{"Ref": "a"}`` -> ``${a}``, ``{"Fn::GetAtt": ["b", "Arn"]}`` -> ``${b.Arn}`` (for Fn::Sub)."""
    if "Ref" in intrinsic:
        return "${%s}" % intrinsic["Ref"]
    if "Fn::GetAtt" in intrinsic:
        att = intrinsic["Fn::GetAtt"]
        return "${%s}" % (".".join(att) if isinstance(att, list) else att)
    raise DefinitionError("only Ref and Fn::GetAtt can be written as ${} in Fn::Sub")


def matches(regex: re.Pattern, value: Any) -> bool:
    return regex.match(str(value)) is not None


def deep_get(data: Any, dotted: str) -> Any:
    """``data["a"]["b"]`` for ``"a.b"``; None when a key is missing; an error when a step is not a map."""
    cur = data
    for part in dotted.split("."):
        if cur is None:
            return None
        if not isinstance(cur, dict):
            raise DefinitionError(f"'{dotted}' expects a map at '{part}', found {type(cur).__name__}")
        cur = cur.get(part)
    return cur


def conditional_contents(item: Any) -> list:
    """The branches of an ``Fn::If`` (without AWS::NoValue), or ``[item]``."""
    if isinstance(item, dict) and "Fn::If" in item:
        params = item["Fn::If"]
        if not isinstance(params, list):
            raise DefinitionError("the value of Fn::If must be a list")
        return [c for c in params[1:] if not is_no_value(c)]
    return [item]


def normalize_method(method: Any) -> Any:
    if not method or not isinstance(method, str):
        return method
    method = method.lower()
    return X_ANY_METHOD if method == "any" else method


def _expect_dict(obj: Any, message: str) -> None:
    if not isinstance(obj, dict):
        raise DefinitionError(message)


def _expect_path_item(item: Any, path: str) -> None:
    _expect_dict(item, f"the value of path '{path}' must be a map (swagger / OpenAPI path item)")


def _expect_method(definition: Any, path: str, method: str) -> None:
    _expect_dict(definition, f"the definition of method '{method}' for path '{path}' must be a map")


def path_without_trailing_slash(path: str, rest: bool = True) -> str:
    """Path parameters become ``*`` in execute-api ARNs (the reference's name for it, kept)."""
    if rest:
        return re.sub(r"{([a-zA-Z0-9._-]+|[a-zA-Z0-9._-]+\+|proxy\+)}", "*", path)
    return re.sub(r"{([a-zA-Z0-9._-]+|proxy\+)}", "*", path)


class _Editor:
    def __init__(self, doc: dict):
        self.doc = doc
        self.paths = doc["paths"]

    # -- reading ---------------------------------------------------------------------------------
    def iter_paths(self) -> list:
        return list(self.paths.keys())

    @staticmethod
    def has_integration_def(definition: Any) -> bool:
        return bool(isinstance(definition, dict) and definition.get(X_INTEGRATION))

    def method_has_integration(self, raw: Any, path: str, method: str) -> bool:
        for definition in conditional_contents(raw):
            _expect_method(definition, path, method)
            if self.has_integration_def(definition):
                return True
        return False

    def has_path(self, path: str, method: Any = None) -> bool:
        if path not in self.paths:
            return False
        method = normalize_method(method)
        if method:
            for item in conditional_contents(self.paths.get(path)):
                if not isinstance(item, dict) or method not in item:
                    return False
        return True

    def has_integration(self, path: str, method: str) -> bool:
        method = normalize_method(method)
        if not self.has_path(path, method):
            return False
        for item in conditional_contents(self.paths.get(path)):
            _expect_path_item(item, path)
            definition = item.get(method)
            if not (isinstance(definition, dict) and self.method_has_integration(definition, path, method)):
                return False
        return True

    def method_definitions(self, path: str, method: str, only_integrated: bool = True) -> Iterator[dict]:
        normalized = normalize_method(method)
        for item in conditional_contents(self.paths.get(path)):
            _expect_path_item(item, path)
            for definition in conditional_contents(item.get(normalized)):
                _expect_method(definition, path, method)
                if only_integrated and not self.has_integration_def(definition):
                    continue
                yield definition

    # -- writing ---------------------------------------------------------------------------------
    def add_path(self, path: str, method: Any = None) -> None:
        method = normalize_method(method)
        item = self.paths.setdefault(path, {})
        if not isinstance(item, dict):
            raise DefinitionError(f"the value of path '{path}' must be a map (swagger / OpenAPI path item)")
        for branch in conditional_contents(item):
            branch.setdefault(method, {})

    def make_path_conditional(self, path: str, condition: str) -> None:
        self.paths[path] = make_conditional(condition, self.paths[path])

    def add_timeout(self, path: str, method: str, timeout: Any) -> None:
        for definition in self.method_definitions(path, method):
            definition[X_INTEGRATION]["timeoutInMillis"] = timeout

    @staticmethod
    def authorization_scopes(authorizers: dict, name: str) -> Any:
        authorizer = authorizers.get(name)
        if authorizer is not None and authorizer.authorization_scopes is not None:
            return authorizer.authorization_scopes
        return []


class SwaggerEditor(_Editor):
    """Swagger 2.0 (or OpenAPI 3 for REST APIs with OpenApiVersion) document of an AWS::ApiGateway::RestApi."""

    def __init__(self, doc: Any):
        if not doc or not SwaggerEditor.is_valid(doc):
            raise DefinitionError("the swagger document is not valid, or it is not given inline in 'DefinitionBody' "
                                  "(it needs 'swagger: \"2.0\"' or 'openapi: 3.x' and a 'paths' map)")
        super().__init__(doc)
        self.security_definitions = doc.get("securityDefinitions") or {}
        self.gateway_responses = doc.get(X_GATEWAY_RESPONSES) or {}
        self.resource_policy = doc.get(X_POLICY) or {}
        self.definitions = doc.get("definitions", {})
        for path in self.paths:
            for item in conditional_contents(self.paths.get(path)):
                _expect_path_item(item, path)

    @staticmethod
    def is_valid(data: Any) -> bool:
        if data and isinstance(data, dict) and isinstance(data.get("paths"), dict):
            if data.get("swagger"):
                return True
            if data.get("openapi"):
                return matches(OPENAPI3_RE, data["openapi"])
        return False

    @staticmethod
    def skeleton() -> dict:
        return {"swagger": "2.0", "info": {"version": "1.0", "title": dict(STACK_NAME)}, "paths": {}}

    def finish(self) -> dict:
        """Write the side tables back (as the reference does when it hands out its document)."""
        doc = self.doc
        if self.security_definitions:
            doc["securityDefinitions"] = self.security_definitions
        if self.gateway_responses:
            doc[X_GATEWAY_RESPONSES] = self.gateway_responses
        if self.definitions:
            doc["definitions"] = self.definitions
        return doc

    # -- integrations --------------------------------------------------------------------------------
    def add_lambda_integration(self, path: str, method: str, uri: Any, method_auth: dict, api_auth: dict,
                               condition: str | None = None, invoke_mode: Any = None, partition: str = "aws") -> None:
        method = normalize_method(method)
        if self.has_integration(path, method):
            raise DefinitionError(f"a Lambda integration already exists on path {path}, method {method}")
        self.add_path(path, method)
        uri_value = make_conditional(condition, uri) if condition else uri
        for item in conditional_contents(self.paths.get(path)):
            _expect_path_item(item, path)
            integration = {"type": "aws_proxy", "httpMethod": "POST", "uri": uri_value}
            item[method][X_INTEGRATION] = integration
            if invoke_mode == "RESPONSE_STREAM":
                integration["responseTransferMode"] = "STREAM"
            if method_auth.get("Authorizer") == "AWS_IAM" or (
                    api_auth.get("DefaultAuthorizer") == "AWS_IAM" and not method_auth):
                method_role = method_auth.get("InvokeRole")
                if not method_role and "InvokeRole" in method_auth:
                    method_role = "NONE"
                api_role = api_auth.get("InvokeRole")
                if not api_role and "InvokeRole" in api_auth:
                    api_role = "NONE"
                role = method_role or api_role
                credentials = role if role and role != "CALLER_CREDENTIALS" else f"arn:{partition}:iam::*:user/*"
                if credentials and credentials != "NONE":
                    integration["credentials"] = credentials
            item[method].setdefault("responses", {})
            if condition:
                item[method] = make_conditional(condition, item[method])

    def add_state_machine_integration(self, path: str, method: str, uri: Any, credentials: Any,
                                      request_templates: dict | None = None, condition: str | None = None) -> None:
        """An ``aws`` integration that starts an execution of a state machine (``states:action/StartExecution``)."""
        method = normalize_method(method)
        if self.has_integration(path, method):
            raise DefinitionError(f"an integration already exists on path {path}, method {method}")
        self.add_path(path, method)
        uri_value = make_conditional(condition, uri) if condition else uri
        for item in conditional_contents(self.paths.get(path)):
            _expect_path_item(item, path)
            integration = {"type": "aws", "httpMethod": "POST", "uri": uri_value,
                           "responses": {"200": {"statusCode": "200"}, "400": {"statusCode": "400"}},
                           "credentials": credentials}
            item[method][X_INTEGRATION] = integration
            item[method].setdefault("responses", {"200": {"description": "OK"}, "400": {"description": "Bad Request"}})
            if request_templates:
                integration["requestTemplates"] = request_templates
            if condition:
                item[method] = make_conditional(condition, item[method])

    def all_methods(self, path: str, only_integrated: bool = True) -> Iterator[tuple[str, dict]]:
        for item in conditional_contents(self.paths.get(path)):
            _expect_path_item(item, path)
            for name, method in list(item.items()):
                if name in ("summary", "description", "parameters"):
                    continue
                for definition in conditional_contents(method):
                    _expect_method(definition, path, name)
                    if only_integrated and not self.has_integration_def(definition):
                        continue
                    yield normalize_method(name), definition

    # -- CORS ----------------------------------------------------------------------------------------
    def add_cors(self, path: str, allowed_origins: Any, allowed_headers: Any = None, allowed_methods: Any = None,
                 max_age: Any = None, allow_credentials: Any = None) -> None:
        for item in conditional_contents(self.paths.get(path)):
            _expect_path_item(item, path)
            if "options" in item:
                continue
            if not allowed_origins:
                raise DefinitionError("invalid Cors: a value for AllowOrigin is required")
            methods = allowed_methods
            if not methods:
                methods = "'%s'" % self._cors_methods_for(item)
            credentials = allow_credentials is True
            item["options"] = self._options_for_cors(allowed_origins, allowed_headers, methods, max_age, credentials)

    @staticmethod
    def _cors_methods_for(item: dict) -> str:
        names = list(item.keys())
        if X_ANY_METHOD in names:
            chosen = ALL_HTTP_METHODS
        else:
            chosen = names + ["options"]
        return ",".join(sorted({m.upper() for m in chosen}))

    @staticmethod
    def _options_for_cors(origins: Any, headers: Any, methods: Any, max_age: Any, credentials: bool) -> dict:
        params = {"method.response.header.Access-Control-Allow-Origin": origins}
        resp_headers: dict = {"Access-Control-Allow-Origin": {"type": "string"}}
        if headers:
            params["method.response.header.Access-Control-Allow-Headers"] = headers
            resp_headers["Access-Control-Allow-Headers"] = {"type": "string"}
        if methods:
            params["method.response.header.Access-Control-Allow-Methods"] = methods
            resp_headers["Access-Control-Allow-Methods"] = {"type": "string"}
        if max_age is not None:
            params["method.response.header.Access-Control-Max-Age"] = max_age
            resp_headers["Access-Control-Max-Age"] = {"type": "integer"}
        if credentials is True:
            params["method.response.header.Access-Control-Allow-Credentials"] = "'true'"
            resp_headers["Access-Control-Allow-Credentials"] = {"type": "string"}
        return {
            "summary": "CORS support",
            "consumes": ["application/json"],
            "produces": ["application/json"],
            X_INTEGRATION: {
                "type": "mock",
                "requestTemplates": {"application/json": '{\n  "statusCode" : 200\n}\n'},
                "responses": {"default": {
                    "statusCode": "200",
                    "responseParameters": params,
                    "responseTemplates": {"application/json": "{}\n"},
                }},
            },
            "responses": {"200": {"description": "Default response for CORS method", "headers": resp_headers}},
        }

    # -- misc document-level settings ------------------------------------------------------------------
    def add_binary_media_types(self, types: Any) -> None:
        def tilde(value: Any) -> Any:
            if isinstance(value, dict):
                return {k.replace("~1", "/"): tilde(v) for k, v in value.items()}
            if isinstance(value, list):
                return [tilde(v) for v in value]
            if isinstance(value, str):
                return value.replace("~1", "/")
            return value
        self.doc[X_BINARY_MEDIA_TYPES] = tilde(types)

    def add_disable_execute_api_endpoint(self, value: Any) -> None:
        doc = self.doc
        if doc.get("openapi") and matches(OPENAPI3_RE, doc["openapi"]):
            servers = doc.get("servers", [{}])
            if not isinstance(servers, list):
                raise DefinitionError("'servers' in the definition must be a list")
            for index, config in enumerate(servers):
                _expect_dict(config, f"servers[{index}] in the definition must be a map")
                _deep_set(config, [X_ENDPOINT_CONFIG, "disableExecuteApiEndpoint"], value,
                          f"servers[{index}]")
            doc["servers"] = servers
        else:
            _deep_set(doc, [X_ENDPOINT_CONFIG, "disableExecuteApiEndpoint"], value, "the definition")

    # -- auth ----------------------------------------------------------------------------------------
    def add_authorizers(self, authorizers: dict) -> None:
        self.security_definitions = self.security_definitions or {}
        _expect_dict(self.security_definitions, "securityDefinitions in the definition must be a map")
        for name, authorizer in authorizers.items():
            self.security_definitions[name] = authorizer.generate_swagger()

    def add_awsiam_security_definition(self) -> None:
        self.security_definitions = self.security_definitions or {}
        _expect_dict(self.security_definitions, "securityDefinitions in the definition must be a map")
        if "AWS_IAM" not in self.security_definitions:
            self.security_definitions["AWS_IAM"] = {
                "x-amazon-apigateway-authtype": "awsSigv4", "type": "apiKey", "name": "Authorization", "in": "header"}

    def add_apikey_security_definition(self) -> None:
        self.security_definitions = self.security_definitions or {}
        if not isinstance(self.security_definitions, dict):
            raise DefinitionError("securityDefinitions must be a map")
        if "api_key" not in self.security_definitions:
            self.security_definitions["api_key"] = {"type": "apiKey", "name": "x-api-key", "in": "header"}

    @staticmethod
    def _security_of(definition: dict, path: str, method: str) -> list:
        existing = definition.get("security", [])
        if not isinstance(existing, list):
            raise DefinitionError(f"the security of path {path} method {method} must be a list")
        for entry in existing:
            _expect_dict(entry, f"{entry} in the security of path {path} method {method} is not a map")
        return existing

    def set_path_default_authorizer(self, path: str, default: str, authorizers: dict,
                                    add_to_preflight: bool = True) -> None:
        for method_name, definition in self.all_methods(path):
            if not (add_to_preflight or method_name != "options"):
                continue
            names = {"AWS_IAM", *(authorizers.keys() if authorizers else ())}
            existing = self._security_of(definition, path, method_name)
            non_auth = [s for s in existing if names.isdisjoint(s.keys())]
            auth = [s for s in existing if not names.isdisjoint(s.keys())]
            none_idx = next((i for i, s in enumerate(non_auth) if any(k == "NONE" for k in s)), -1)
            chosen: list = []
            if none_idx > -1:
                del non_auth[none_idx]
            elif auth:
                chosen = auth
            else:
                chosen = [{default: self.authorization_scopes(authorizers, default)}]
            security = non_auth + chosen
            if security:
                definition["security"] = security
                if "AWS_IAM" in security[0]:
                    self.add_awsiam_security_definition()

    def set_path_default_apikey_required(self, path: str, on_preflight: bool = True) -> None:
        for method_name, definition in self.all_methods(path):
            names = {"api_key", "api_key_false"}
            existing = self._security_of(definition, path, method_name)
            non_key = [s for s in existing if names.isdisjoint(s.keys())]
            key = [s for s in existing if not names.isdisjoint(s.keys())]
            false_idx = next((i for i, s in enumerate(key) if any(k == "api_key_false" for k in s)), -1)
            chosen: list = []
            if false_idx > -1:
                del key[false_idx]
            else:
                chosen = [{"api_key": []}]
            security = non_key + chosen
            if method_name == "options" and not on_preflight:
                security = non_key
            if security != existing:
                definition["security"] = security

    def add_auth_to_method(self, path: str, method: str, auth: dict, api: dict) -> None:
        authorizer = auth and auth.get("Authorizer")
        scopes = auth and auth.get("AuthorizationScopes")
        api_auth = api and api.get("Auth")
        authorizers = api_auth and api_auth.get("Authorizers")
        if authorizer:
            self._set_method_authorizer(path, method, authorizer, authorizers, scopes)
        apikey = auth and auth.get("ApiKeyRequired")
        if apikey is not None:
            self._set_method_apikey(path, method, apikey)

    def _set_method_authorizer(self, path: str, method: str, name: str, authorizers: Any, scopes: Any) -> None:
        authorizers = authorizers or {}
        for definition in self.method_definitions(path, method):
            entry: dict = {name: []}
            existing = definition.get("security", [])
            if not isinstance(existing, list):
                raise DefinitionError(f"the security of path {path} method {method} must be a list")
            security = existing + [entry]
            if name != "NONE" and authorizers:
                authorizer = authorizers.get(name, {})
                if not isinstance(authorizer, dict):
                    raise DefinitionError(f"authorizer '{name}' must be a map")
                method_scopes = authorizer.get("AuthorizationScopes")
                if scopes is not None:
                    method_scopes = scopes
                if authorizers.get(name) is not None and method_scopes is not None:
                    entry[name] = method_scopes
            if security:
                definition["security"] = security
                if "AWS_IAM" in security[0]:
                    self.add_awsiam_security_definition()

    def _set_method_apikey(self, path: str, method: str, required: Any) -> None:
        for definition in self.method_definitions(path, method):
            if required:
                entry = {"api_key": []}
                self.add_apikey_security_definition()
            else:
                entry = {"api_key_false": []}
            existing = definition.get("security", [])
            if not isinstance(existing, list):
                raise DefinitionError(f"the security of path {path} method {method} must be a list")
            security = existing + [entry]
            if security != existing:
                definition["security"] = security

    # -- request models / validators / parameters ----------------------------------------------------------
    def add_request_validator(self, path: str, method: str, body: bool, params: bool) -> None:
        name = ("body-and-params" if body and params else "body-only" if body else
                "params-only" if params else "no-validation")
        if not self.doc.get(X_REQUEST_VALIDATORS):
            self.doc[X_REQUEST_VALIDATORS] = {}
        _expect_dict(self.doc[X_REQUEST_VALIDATORS], f"{X_REQUEST_VALIDATORS} in the definition must be a map")
        if not self.doc[X_REQUEST_VALIDATORS].get(name):
            self.doc[X_REQUEST_VALIDATORS][name] = {"validateRequestBody": body, "validateRequestParameters": params}
        for definition in self.method_definitions(path, method):
            definition[X_REQUEST_VALIDATOR] = name

    def add_request_model(self, path: str, method: str, model: dict) -> None:
        name = model and model.get("Model").lower()
        required = model and model.get("Required")
        for definition in self.method_definitions(path, method):
            if self.doc.get("swagger") is not None:
                params = definition.get("parameters", [])
                parameter = {"in": "body", "name": name, "schema": {"$ref": f"#/definitions/{name}"}}
                if required is not None:
                    parameter["required"] = required
                params.append(parameter)
                definition["parameters"] = params
            elif self.doc.get("openapi") and matches(OPENAPI3_RE, self.doc["openapi"]):
                definition["requestBody"] = {
                    "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}}}
                if required is not None:
                    definition["requestBody"]["required"] = required

    def add_request_parameters(self, path: str, method: str, parameters: list) -> None:
        for definition in self.method_definitions(path, method):
            existing = definition.get("parameters", [])
            for parameter in parameters:
                name = parameter["Name"]
                location, short = name.replace("method.request.", "").split(".", 1)
                if location == "querystring":
                    location = "query"
                existing.append({"in": location, "name": short, "required": parameter["Required"],
                                 "type": "string"})
                if parameter["Caching"]:
                    integration = definition[X_INTEGRATION]
                    cache = integration.get("cacheKeyParameters", [])
                    cache.append(name)
                    integration["cacheKeyParameters"] = cache
            definition["parameters"] = existing

    def add_gateway_responses(self, responses: dict) -> None:
        self.gateway_responses = self.gateway_responses or {}
        _expect_dict(self.gateway_responses, f"{X_GATEWAY_RESPONSES} in the definition must be a map")
        for kind, response in responses.items():
            self.gateway_responses[kind] = response

    def add_models(self, models: dict) -> None:
        self.definitions = self.definitions or {}
        _expect_dict(self.definitions, "definitions in the definition must be a map")
        for name, schema in models.items():
            if not schema.get("type"):
                raise DefinitionError("a schema in 'Models' is missing 'type'")
            self.definitions[name.lower()] = schema

    # -- resource policies ---------------------------------------------------------------------------
    def add_resource_policy(self, policy: Any, path: str, stage: Any) -> None:
        if policy is None:
            return
        _expect_dict(self.resource_policy, f"{X_POLICY} in the definition must be a map")
        _expect_dict(policy, "ResourcePolicy must be a map")
        account_allow = policy.get("AwsAccountWhitelist")
        account_deny = policy.get("AwsAccountBlacklist")
        ip_allow = policy.get("IpRangeWhitelist")
        ip_deny = policy.get("IpRangeBlacklist")
        vpc_allow = policy.get("SourceVpcWhitelist")
        vpc_deny = policy.get("SourceVpcBlacklist")
        if account_allow is not None:
            self._iam_statement(account_allow, "Allow", self._uri_list(path, stage))
        if account_deny is not None:
            self._iam_statement(account_deny, "Deny", self._uri_list(path, stage))
        if ip_allow is not None:
            self._ip_statements(ip_allow, "NotIpAddress", self._uri_list(path, stage))
        if ip_deny is not None:
            self._ip_statements(ip_deny, "IpAddress", self._uri_list(path, stage))
        if vpc_deny is not None and not all(isinstance(x, str) for x in vpc_deny):
            raise DefinitionError("SourceVpcBlacklist must be a list of strings; use IntrinsicVpcBlacklist for "
                                  "values that use intrinsic functions")
        resources = self._uri_list(path, stage)
        self._vpc_statements({"StringEndpointList": vpc_deny,
                              "IntrinsicVpcList": policy.get("IntrinsicVpcBlacklist"),
                              "IntrinsicVpceList": policy.get("IntrinsicVpceBlacklist")}, "StringEquals", resources)
        if vpc_allow is not None and not all(isinstance(x, str) for x in vpc_allow):
            raise DefinitionError("SourceVpcWhitelist must be a list of strings; use IntrinsicVpcWhitelist for "
                                  "values that use intrinsic functions")
        self._vpc_statements({"StringEndpointList": vpc_allow,
                              "IntrinsicVpcList": policy.get("IntrinsicVpcWhitelist"),
                              "IntrinsicVpceList": policy.get("IntrinsicVpceWhitelist")}, "StringNotEquals",
                             resources)
        self.doc[X_POLICY] = self.resource_policy

    def add_custom_statements(self, statements: Any) -> None:
        _expect_dict(self.resource_policy, f"{X_POLICY} in the definition must be a map")
        if statements is not None:
            self.resource_policy["Version"] = "2012-10-17"
            if self.resource_policy.get("Statement") is None:
                self.resource_policy["Statement"] = statements
            else:
                if not isinstance(statements, list):
                    statements = [statements]
                current = self.resource_policy["Statement"]
                if not isinstance(current, list):
                    current = [current]
                for s in statements:
                    if s not in current:
                        current.append(s)
                self.resource_policy["Statement"] = current
        self.doc[X_POLICY] = self.resource_policy

    def _uri_list(self, path: str, stage: Any) -> list:
        methods: list = []
        for item in conditional_contents(self.paths.get(path)):
            _expect_path_item(item, path)
            methods += list(item.keys())
        clean = path_without_trailing_slash(path)
        out = []
        for m in methods:
            method = "*" if m.lower() in (X_ANY_METHOD, "any") else m.upper()
            out.append(fn_sub("execute-api:/${__Stage__}/" + method + clean, {"__Stage__": stage}))
        return out

    def _append_statement(self, statements: list) -> None:
        if self.resource_policy.get("Statement") is None:
            self.resource_policy["Statement"] = statements
        else:
            current = self.resource_policy["Statement"]
            if not isinstance(current, list):
                current = [current]
            for s in statements:
                if s not in current:
                    current.append(s)
            self.resource_policy["Statement"] = current

    def _iam_statement(self, principals: Any, effect: str, resources: list) -> None:
        if not principals:
            return
        if not isinstance(principals, (dict, list)):
            raise DefinitionError(f"'{principals}' must be a list or a map")
        if not isinstance(principals, list):
            principals = [principals]
        self.resource_policy["Version"] = "2012-10-17"
        statement = {"Effect": effect, "Action": "execute-api:Invoke", "Resource": resources,
                     "Principal": {"AWS": principals}}
        if self.resource_policy.get("Statement") is None:
            self.resource_policy["Statement"] = statement
        else:
            current = self.resource_policy["Statement"]
            if not isinstance(current, list):
                current = [current]
            current.append(statement)
            self.resource_policy["Statement"] = current

    def _ip_statements(self, ips: Any, conditional: str, resources: list) -> None:
        if not ips:
            return
        if not isinstance(ips, list):
            ips = [ips]
        self.resource_policy["Version"] = "2012-10-17"
        allow = {"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": resources, "Principal": "*"}
        deny = {"Effect": "Deny", "Action": "execute-api:Invoke", "Resource": resources, "Principal": "*",
                "Condition": {conditional: {"aws:SourceIp": ips}}}
        self._append_statement([allow, deny])

    def _vpc_statements(self, endpoints: dict, conditional: str, resources: list) -> None:
        condition: dict = {}
        strings = endpoints.get("StringEndpointList")
        if strings is not None:
            vpc = [e for e in strings if re.match(r"^vpc-", e)]
            vpce = [e for e in strings if re.match(r"^vpce-", e)]
            if vpc:
                condition.setdefault("aws:SourceVpc", []).extend(vpc)
            if vpce:
                condition.setdefault("aws:SourceVpce", []).extend(vpce)
        if endpoints.get("IntrinsicVpcList") is not None:
            condition.setdefault("aws:SourceVpc", []).extend(endpoints["IntrinsicVpcList"])
        if endpoints.get("IntrinsicVpceList") is not None:
            condition.setdefault("aws:SourceVpce", []).extend(endpoints["IntrinsicVpceList"])
        if not condition.get("aws:SourceVpc") and not condition.get("aws:SourceVpce"):
            return
        self.resource_policy["Version"] = "2012-10-17"
        allow = {"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": resources, "Principal": "*"}
        deny = {"Effect": "Deny", "Action": "execute-api:Invoke", "Resource": resources, "Principal": "*",
                "Condition": {conditional: condition}}
        self._append_statement([allow, deny])


def _deep_set(data: dict, keys: list, value: Any, what: str) -> None:
    cur = data
    for key in keys[:-1]:
        nxt = cur.get(key)
        if nxt is None:
            nxt = cur[key] = {}
        if not isinstance(nxt, dict):
            raise DefinitionError(f"invalid OpenAPI definition of {what}: '{key}' must be a map")
        cur = nxt
    cur[keys[-1]] = value


class OpenApiEditor(_Editor):
    """OpenAPI 3 document of an AWS::ApiGatewayV2::Api (HTTP API)."""

    def __init__(self, doc: Any):
        if not doc or not OpenApiEditor.is_valid(doc):
            raise DefinitionError("the OpenAPI document is not valid: 'DefinitionBody' needs 'openapi: 3.x' and a "
                                  "'paths' map")
        super().__init__(doc)
        self.security_schemes = deep_get(doc, "components.securitySchemes") or {}
        self.tags = deep_get(doc, "tags") or []
        self.info = deep_get(doc, "info") or {}

    @staticmethod
    def is_valid(data: Any) -> bool:
        return bool(data and isinstance(data, dict) and isinstance(data.get("paths"), dict) and data.get("openapi")
                    and matches(OPENAPI3_RE, data["openapi"]))

    @staticmethod
    def skeleton() -> dict:
        return {"openapi": "3.0.1", "info": {"version": "1.0", "title": dict(STACK_NAME)}, "paths": {}}

    def finish(self) -> dict:
        doc = self.doc
        if self.tags:
            doc["tags"] = self.tags
        if self.security_schemes:
            doc.setdefault("components", {})
            if not doc["components"]:
                doc["components"] = {}
            _expect_dict(doc["components"], "components in the definition must be a map")
            doc["components"]["securitySchemes"] = self.security_schemes
        if self.info:
            doc["info"] = self.info
        return doc

    def integration_function_matches(self, path: str, method: str, logical_id: str) -> bool:
        if not self.has_integration(path, method):
            return False
        method = normalize_method(method)
        for definition in self.method_definitions(path, method, only_integrated=False):
            integration = definition.get(X_INTEGRATION, {})
            if not isinstance(integration, dict):
                raise DefinitionError(f"the value of '{X_INTEGRATION}' must be a map")
            uri = integration.get("uri")
            if not isinstance(uri, dict):
                return False
            for content in conditional_contents(uri):
                arn = content.get("Fn::Sub", "")
                found = re.findall(r"([A-Za-z0-9]+\.Arn)", arn) if isinstance(arn, str) else []
                if not found or found[0].split(".Arn")[0] != logical_id:
                    return False
        return True

    def add_lambda_integration(self, path: str, method: str, uri: Any, condition: str | None = None) -> None:
        method = normalize_method(method)
        if self.has_integration(path, method):
            return
        self.add_path(path, method)
        uri_value = make_conditional(condition, uri) if condition else uri
        for item in conditional_contents(self.paths.get(path)):
            _expect_path_item(item, path)
            if item[method] is None:
                item[method] = {}
            item[method][X_INTEGRATION] = {"type": "aws_proxy", "httpMethod": "POST", "payloadFormatVersion": "2.0",
                                           "uri": uri_value}
            if path == DEFAULT_PATH and method == X_ANY_METHOD:
                item[method]["isDefaultRoute"] = True
            item[method].setdefault("responses", {})
            if condition:
                item[method] = make_conditional(condition, item[method])

    def add_path_parameters(self, path: str, method: str, names: list) -> None:
        for definition in self.method_definitions(path, method):
            params = definition.setdefault("parameters", [])
            for name in names:
                found = next((p for p in params if p.get("name") == name), None)
                if found:
                    found["in"] = "path"
                    found["required"] = True
                else:
                    params.append({"name": name, "in": "path", "required": True})

    def add_payload_format_version(self, path: str, method: str, version: Any) -> None:
        for definition in self.method_definitions(path, method):
            definition[X_INTEGRATION]["payloadFormatVersion"] = version

    def add_authorizers(self, authorizers: dict) -> None:
        self.security_schemes = self.security_schemes or {}
        _expect_dict(self.security_schemes, "components.securitySchemes in the definition must be a map")
        for name, authorizer in authorizers.items():
            self.security_schemes[name] = authorizer.generate_openapi()

    def set_path_default_authorizer(self, path: str, default: str, authorizers: dict) -> None:
        for item in conditional_contents(self.paths.get(path)):
            _expect_path_item(item, path)
            for method_name, method in item.items():
                normalized = normalize_method(method_name)
                if normalized == "parameters" or normalized == "options":
                    continue
                if normalized not in item:  # "any": the default authorizer cannot find the method (as the reference)
                    raise DefinitionError(f"path {path}: method {method_name!r} must be written {normalized} in "
                                          "DefinitionBody for the DefaultAuthorizer to apply to it")
                for definition in conditional_contents(method):
                    _expect_method(definition, path, method_name)
                    if not self.has_integration_def(definition):
                        continue
                    if definition.get("security"):
                        continue
                    definition["security"] = [{default: self.authorization_scopes(authorizers, default)}]

    def add_auth_to_method(self, path: str, method: str, auth: dict, api: dict) -> None:
        authorizer = auth and auth.get("Authorizer")
        scopes = auth.get("AuthorizationScopes", [])
        api_auth = api and api.get("Auth")
        authorizers = api_auth and api_auth.get("Authorizers")
        if not authorizer:
            return
        for definition in self.method_definitions(path, method):
            entry: dict = {authorizer: []}
            if authorizer not in ("NONE", "AWS_IAM"):
                config = authorizers.get(authorizer, {})
                if not isinstance(config, dict):
                    raise DefinitionError(f"authorizer '{authorizer}' must be a map")
                method_scopes = config.get("AuthorizationScopes")
                if scopes:
                    method_scopes = scopes
                if authorizers[authorizer] and method_scopes:
                    entry[authorizer] = method_scopes
            existing = definition.get("security", [])
            if not isinstance(existing, list):
                raise DefinitionError(f"the security of path {path} method {method} must be a list")
            definition["security"] = existing + [entry]

    def add_tags(self, tags: dict) -> None:
        for name, value in tags.items():
            if not isinstance(self.tags, list):
                raise DefinitionError(f"'tags' in the OpenAPI DefinitionBody must be a list, not "
                                      f"{type(self.tags).__name__}")
            found = next((t for t in self.tags if t.get("name") == name), None)
            if found:
                found[X_TAG_VALUE] = value
            else:
                self.tags.append({"name": name, X_TAG_VALUE: value})

    def add_endpoint_config(self, disable: Any) -> None:
        servers = self.doc.get("servers", [{}])
        if not isinstance(servers, list):
            raise DefinitionError("'servers' in the definition must be a list")
        for config in servers:
            if not isinstance(config, dict):
                raise DefinitionError("each item of 'servers' must be a map")
            endpoint = config.get(X_ENDPOINT_CONFIG, {})
            _expect_dict(endpoint, f"{X_ENDPOINT_CONFIG} in the definition must be a map")
            endpoint["disableExecuteApiEndpoint"] = disable
            config[X_ENDPOINT_CONFIG] = endpoint
        self.doc["servers"] = servers

    def add_cors(self, origins: Any, headers: Any = None, methods: Any = None, expose: Any = None,
                 max_age: Any = None, credentials: Any = None) -> None:
        names = ["allowOrigins", "allowHeaders", "allowMethods", "exposeHeaders", "maxAge", "allowCredentials"]
        cors = self.doc.get(X_CORS, {})
        if not isinstance(cors, dict):
            raise DefinitionError(f"the value of '{X_CORS}' must be a map")
        if origins and is_intrinsic(origins):
            text = json.dumps(origins)
            for name in names:
                text = text.replace(name[0].upper() + name[1:], name)
            cors.update(json.loads(text))
        else:
            if origins:
                cors["allowOrigins"] = origins
            if headers:
                cors["allowHeaders"] = headers
            if methods:
                cors["allowMethods"] = methods
            if expose:
                cors["exposeHeaders"] = expose
            if max_age is not None:
                cors["maxAge"] = max_age
            if credentials is True:
                cors["allowCredentials"] = credentials
        self.doc[X_CORS] = cors

    def add_description(self, description: Any) -> None:
        _expect_dict(self.info, "info in the definition must be a map")
        if not self.info.get("description"):
            self.info["description"] = description

    def add_title(self, title: Any) -> None:
        _expect_dict(self.info, "info in the definition must be a map")
        if self.info.get("title") == STACK_NAME:
            self.info["title"] = title
