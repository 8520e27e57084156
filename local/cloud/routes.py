"""Where the APIs of a deployed stack answer on the local cloud: each stage, and each route the template defines.

``lamctl deploy`` prints these after a stack is up, so that the address a reader
pastes is one that runs a function (``GET .../Prod/_user_request_/hello``), not
the stage root (which API Gateway answers with ``403 Missing Authentication
Token``). The routes are read from the CloudFormation template (after the SAM
transform), the way the local cloud creates them:

* a REST API's (``AWS::ApiGateway::RestApi``) or an HTTP API's
  (``AWS::ApiGatewayV2::Api``) OpenAPI ``Body``: its ``paths`` and their methods
  (API Gateway's ``x-amazon-apigateway-any-method`` as ``ANY``);
* ``AWS::ApiGateway::Method`` on ``AWS::ApiGateway::Resource`` chains
  (``ParentId``/``PathPart`` up to the API's ``RootResourceId``);
* ``AWS::ApiGatewayV2::Route`` (``RouteKey``: ``GET /path``, ``ANY /path`` or ``$default``).

The address is execute-api's stand-in, ``{endpoint}/restapis/{api id}/{stage}/_user_request_/{path}``
(:data:`lamctl.local.cloud.apis.USER_REQUEST`). An HTTP API's ``$default`` stage is written ``%24default``:
the local cloud reads it as ``$default``, and a shell pasted the URL expands nothing.

Standard library only: the deploy command imports it without loading the emulator.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from .urls import api_url

STAGE_TYPES = {"AWS::ApiGateway::Stage": "RestApiId", "AWS::ApiGatewayV2::Stage": "ApiId"}
URL_TYPE = "AWS::Lambda::Url"  # a function URL (SAM's FunctionUrlConfig)
_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY")
_ANY = "x-amazon-apigateway-any-method"


@dataclass(frozen=True)
class Route:
    method: str  # GET, POST, ... or ANY
    path: str  # the path template (/items/{id}); "$default" for an HTTP API's catch-all route


def _ref(value: Any) -> str | None:
    """The logical ID a ``Ref`` (or ``Fn::GetAtt``) names."""
    if isinstance(value, dict):
        if isinstance(value.get("Ref"), str):
            return value["Ref"]
        att = value.get("Fn::GetAtt")
        if isinstance(att, list) and att and isinstance(att[0], str):
            return att[0]
        if isinstance(att, str):
            return att.split(".", 1)[0]
    return None


def _verb(method: str) -> str | None:
    verb = "ANY" if method.lower() == _ANY else method.upper()
    return verb if verb in _METHODS else None


def _body_routes(body: Any) -> list[Route]:
    routes = []
    paths = body.get("paths") if isinstance(body, dict) else None
    for path, operations in (paths or {}).items() if isinstance(paths, dict) else ():
        if not isinstance(path, str) or not isinstance(operations, dict):
            continue
        for method in operations:
            verb = _verb(str(method))
            if verb is not None:
                routes.append(Route(verb, "$default" if path == "$default" else "/" + path.strip("/")))
    return routes


def _resource_path(resources: dict, logical: str | None, seen: frozenset = frozenset()) -> str | None:
    """The full path of an ``AWS::ApiGateway::Resource`` (``None`` when it cannot be worked out locally)."""
    if logical is None or logical in seen:
        return None
    res = resources.get(logical)
    if not isinstance(res, dict) or res.get("Type") != "AWS::ApiGateway::Resource":
        return None
    props = res.get("Properties") or {}
    part = props.get("PathPart")
    parent = props.get("ParentId")
    if not isinstance(part, str):
        return None
    parent_logical = _ref(parent)
    if isinstance(parent, dict) and "Fn::GetAtt" in parent:  # the API's RootResourceId
        return "/" + part.strip("/")
    above = _resource_path(resources, parent_logical, seen | {logical})
    return None if above is None else above.rstrip("/") + "/" + part.strip("/")


def api_routes(template: dict) -> dict[str, list[Route]]:
    """Each API of a CloudFormation template (its logical ID) with the routes the template defines for it,
    sorted by path then method; an API whose routes cannot be read (a ``BodyS3Location``) has none."""
    resources = template.get("Resources") or {}
    found: dict[str, set[Route]] = {}
    for logical, res in resources.items():
        if not isinstance(res, dict):
            continue
        kind = res.get("Type")
        props = res.get("Properties") or {}
        if not isinstance(props, dict):
            continue
        if kind in ("AWS::ApiGateway::RestApi", "AWS::ApiGatewayV2::Api"):
            found.setdefault(logical, set()).update(_body_routes(props.get("Body")))
        elif kind == "AWS::ApiGatewayV2::Route":
            api, key = _ref(props.get("ApiId")), props.get("RouteKey")
            if api is None or not isinstance(key, str):
                continue
            if key == "$default":
                found.setdefault(api, set()).add(Route("ANY", "$default"))
                continue
            method, _, path = key.partition(" ")
            verb = _verb(method)
            if verb is not None and path.startswith("/"):
                found.setdefault(api, set()).add(Route(verb, path))
        elif kind == "AWS::ApiGateway::Method":
            api, method = _ref(props.get("RestApiId")), props.get("HttpMethod")
            verb = _verb(method) if isinstance(method, str) else None
            if api is None or verb is None:
                continue
            target = props.get("ResourceId")
            path = "/" if isinstance(target, dict) and "Fn::GetAtt" in target else _resource_path(resources,
                                                                                                 _ref(target))
            if path is not None:
                found.setdefault(api, set()).add(Route(verb, path))
    return {api: sorted(routes, key=lambda r: (r.path == "$default", r.path, r.method != "ANY", r.method))
            for api, routes in found.items()}


def stack_api_urls(endpoint: str, template: dict, physical: dict[str, str]) -> list[dict]:
    """Each API stage of a deployed stack: ``{"api", "api_id", "stage", "url", "routes": [{"method", "path",
    "url"}]}``, ``url`` being the stage root and each route's ``url`` where that route answers (an HTTP API's
    ``$default`` route: the stage root, which takes any path). ``physical`` maps the stack's logical IDs to
    physical ones (an API's ID, a stage's name). A WebSocket API has none: the local cloud does not serve it."""
    routes = api_routes(template)
    urls = []
    for logical, res in (template.get("Resources") or {}).items():
        if not isinstance(res, dict) or res.get("Type") not in STAGE_TYPES:
            continue
        api_logical = _ref((res.get("Properties") or {}).get(STAGE_TYPES[res["Type"]]))
        api_res = (template.get("Resources") or {}).get(api_logical) if api_logical else None
        if isinstance(api_res, dict) and isinstance(api_res.get("Properties"), dict) and \
                api_res["Properties"].get("ProtocolType") == "WEBSOCKET":
            continue  # the local cloud serves no WebSocket endpoint: no URL to give
        api_id = physical.get(api_logical) if api_logical else None
        stage = physical.get(logical)
        if not (api_id and stage):
            continue
        urls.append({
            "api": api_logical, "api_id": api_id, "stage": stage, "url": api_url(endpoint, api_id, stage),
            "routes": [{"method": r.method, "path": r.path,
                        "url": api_url(endpoint, api_id, stage, "" if r.path == "$default" else r.path)}
                       for r in routes.get(api_logical, [])],
        })
    return urls


def stack_function_urls(template: dict, physical: dict[str, str], url_of: Any) -> list[dict]:
    """Each function URL of a deployed stack, in the shape of :func:`stack_api_urls` (``api``: the URL resource's
    logical ID, ``kind``: ``function-url``, one ``ANY`` route taking every path). ``url_of(function ARN)`` is
    the URL the local cloud gives that function (None when it has none)."""
    urls = []
    for logical, res in (template.get("Resources") or {}).items():
        if not isinstance(res, dict) or res.get("Type") != URL_TYPE or not physical.get(logical):
            continue
        url = url_of(":".join(str(physical[logical]).split(":")[:7]))
        if url:
            urls.append({"api": logical, "api_id": None, "stage": "", "kind": "function-url", "url": url,
                         "routes": [{"method": "ANY", "path": "/{proxy+}", "url": url}]})
    return urls
