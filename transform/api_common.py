"""What ``AWS::Serverless::Api`` (:mod:`.api_rest`) and ``AWS::Serverless::HttpApi`` (:mod:`.api_http`) build
alike: the located error, resource and permission shapes, the generator's common state and its guards on
``DefinitionBody``, the checks of a CORS map, and the parts of an authorizer that both kinds of API share (the
Lambda authorizer URI and role, the map of authorizers, and their invoke permissions).

What differs between the two (CORS shorthands and defaults, authorizer kinds, their OpenAPI/swagger entries and
the wording of their errors) stays in each module.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Iterator
from urllib.parse import parse_qs, urlparse

from .api_editor import DefinitionError, fn_sub

RESOURCE_ATTRIBUTES = ("DeletionPolicy", "UpdatePolicy", "Condition", "UpdateReplacePolicy", "Metadata")
PASSTHROUGH_ATTRIBUTES = ("Condition", "DeletionPolicy", "UpdateReplacePolicy")


class ApiError(Exception):
    """A located problem of one API resource: ``prop`` is the property path under Properties, or None."""

    def __init__(self, message: str, prop: tuple = ()):
        super().__init__(message)
        self.message = message
        self.prop = prop


def hash_id(data: Any, length: int = 10) -> str:
    if not data:
        return ""
    text = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"), sort_keys=True)
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:length]


def parse_s3_uri(uri: Any) -> dict | None:
    if not isinstance(uri, str):
        return None
    try:
        url = urlparse(uri)
    except ValueError:
        return None
    query = parse_qs(url.query)
    if url.scheme == "s3" and url.netloc and url.path:
        out = {"Bucket": url.netloc, "Key": url.path.lstrip("/")}
        if "versionId" in query and len(query["versionId"]) == 1:
            out["Version"] = query["versionId"][0]
        return out
    return None


def body_s3_location(uri: Any, bucket_key_message: str) -> dict:
    if isinstance(uri, dict):
        if not uri.get("Bucket") or not uri.get("Key"):
            raise ApiError(bucket_key_message, ("DefinitionUri",))
        pointer = uri
    else:
        pointer = parse_s3_uri(uri)
        if pointer is None:
            raise ApiError("'DefinitionUri' is not a valid S3 URI of the form 's3://bucket/key' (with an optional "
                           "versionId query parameter)", ("DefinitionUri",))
    out = {"Bucket": pointer["Bucket"], "Key": pointer["Key"]}
    if "Version" in pointer:
        out["Version"] = pointer["Version"]
    return out


def make_resource(rtype: str, props: dict, attributes: dict | None = None, depends_on: Any = None) -> dict:
    out: dict = {"Type": rtype}
    if depends_on:
        out["DependsOn"] = depends_on
    if attributes:
        out.update(attributes)
    out["Properties"] = {k: v for k, v in props.items() if v is not None}
    return out


def lambda_permission(function_name: Any, source_arn: Any, attributes: dict) -> dict:
    return make_resource("AWS::Lambda::Permission", {
        "Action": "lambda:InvokeFunction", "FunctionName": function_name,
        "Principal": "apigateway.amazonaws.com", "SourceArn": source_arn}, attributes)


def stage_logical_id(api_id: str, stage_name: Any, default_stage: str | None = None) -> str:
    """``<Api><Stage>Stage`` for an alphanumeric stage name, ``<Api>ApiGatewayDefaultStage`` for
    ``default_stage`` (HTTP APIs' ``$default``), else ``<Api>Stage`` + a hash of the name."""
    prefix = stage_name if isinstance(stage_name, str) else ""
    if prefix.isalnum():
        return api_id + prefix + "Stage"
    if default_stage is not None and prefix == default_stage:
        return api_id + "ApiGatewayDefaultStage"
    return api_id + "Stage" + hash_id(prefix)


def check_cors_keys(cors: dict, allowed: tuple, prop: str) -> dict:
    """A copy of the CORS map ``cors`` (property ``prop``), refused when it has a key outside ``allowed``."""
    for key in cors:
        if key not in allowed:
            raise ApiError(f"invalid key '{key}' in '{prop}' (expected one of {', '.join(allowed)})", (prop, key))
    return dict(cors)


# -- authorizers -------------------------------------------------------------------------------------------
def authorizer_configs(config: Any) -> Iterator[tuple[str, dict]]:
    """The (name, map) entries of ``Auth.Authorizers``, each refused where it is not a map."""
    if not isinstance(config, dict):
        raise ApiError("Auth.Authorizers must be a map", ("Auth", "Authorizers"))
    for name, entry in config.items():
        if not isinstance(entry, dict):
            raise ApiError(f"Auth.Authorizers.{name} must be a map", ("Auth", "Authorizers", name))
        yield name, entry


def check_authorizer_scopes(name: str, scopes: Any) -> None:
    if scopes is not None and not isinstance(scopes, list):
        raise ApiError(f"Authorizers.{name}.AuthorizationScopes must be a list",
                       ("Auth", "Authorizers", name, "AuthorizationScopes"))


def check_authorizer_flag(name: str, key: str, value: Any) -> None:
    if value is not None and not isinstance(value, bool):
        raise ApiError(f"Authorizers.{name}.{key} must be true or false", ("Auth", "Authorizers", name, key))


def lambda_authorizer_uri(partition: str, function_arn: Any) -> dict:
    """The ``authorizerUri`` that has API Gateway call the Lambda function ``function_arn``."""
    return fn_sub(f"arn:{partition}:apigateway:${{AWS::Region}}:lambda:path/2015-03-31/functions/"
                  "${__FunctionArn__}/invocations", {"__FunctionArn__": function_arn})


def authorizer_role(invoke_role: Any) -> Any:
    """The ``authorizerCredentials`` for ``FunctionInvokeRole``, or None (unset, or ``NONE``)."""
    return invoke_role if invoke_role and invoke_role != "NONE" else None


def authorizer_permissions(api_id: str, authorizers: dict, partition: str, attributes: dict) -> list[tuple[str, dict]]:
    """The permissions that let API Gateway call each Lambda authorizer that wants one (``wants_permission``);
    ``partition`` is how the execute-api ARN names it (a value, or ``${AWS::Partition}``)."""
    out = []
    for name, authorizer in authorizers.items():
        if not authorizer.wants_permission():
            continue
        source = fn_sub(f"arn:{partition}:execute-api:${{AWS::Region}}:${{AWS::AccountId}}:"
                        "${__ApiId__}/authorizers/*", {"__ApiId__": {"Ref": api_id}})
        out.append((api_id + name + "AuthorizerPermission",
                    lambda_permission(authorizer.function_arn, source, attributes)))
    return out


# -- the generators ----------------------------------------------------------------------------------------
class ApiGeneratorBase:
    """The state and the ``DefinitionBody`` guards that the REST and the HTTP API generators share.

    Subclasses name their document editor (``EDITOR``), what their errors call the document (``DOCUMENT``) and
    the stage name that has a fixed stage ID (``DEFAULT_STAGE``), and set ``stage_name``."""

    EDITOR: Any
    DOCUMENT: str
    DEFAULT_STAGE: str | None = None
    stage_name: Any

    def __init__(self, logical_id: str, props: dict, attributes: dict, depends_on: Any, partition: str,
                 record_set_groups: dict):
        self.logical_id = logical_id
        self.props = props
        self.partition = partition
        self.resource_attributes = {k: attributes[k] for k in RESOURCE_ATTRIBUTES if k in attributes}
        self.passthrough = {k: attributes[k] for k in PASSTHROUGH_ATTRIBUTES if k in attributes}
        self.depends_on = depends_on
        self.record_set_groups = record_set_groups
        self.definition_body = props.get("DefinitionBody")
        self.definition_uri = props.get("DefinitionUri")
        self.tags = props.get("Tags")
        self.disable_execute_api_endpoint = props.get("DisableExecuteApiEndpoint")

    def _editor(self) -> Any:
        try:
            return self.EDITOR(self.definition_body)
        except DefinitionError as exc:
            raise ApiError(exc.message, ("DefinitionBody",)) from None

    def _needs_body(self, prop: str) -> None:
        """``prop`` edits the inline definition: refused without a ``DefinitionBody``."""
        if not self.definition_body:
            raise ApiError(f"{prop} works only with an inline {self.DOCUMENT} in 'DefinitionBody'", (prop,))

    def _needs_valid_body(self, prop: str) -> None:
        if not self.EDITOR.is_valid(self.definition_body):
            raise ApiError(f"cannot add {prop}: 'DefinitionBody' is not a valid {self.DOCUMENT} definition", (prop,))

    def _check_definition_source(self) -> None:
        if self.definition_uri and self.definition_body:
            raise ApiError("give either 'DefinitionUri' or 'DefinitionBody', not both")

    def stage_id(self) -> str:
        return stage_logical_id(self.logical_id, self.stage_name, self.DEFAULT_STAGE)
