"""APIs deployed to the local cloud, called over HTTP: a request runs the Lambda function behind it.

API Gateway's ``execute-api`` endpoint is not part of moto's server. The local
cloud answers it at
``{endpoint}/restapis/{api_id}/{stage}/_user_request_/{path}`` (the address
other AWS emulators use, so clients and docs carry over): the resource and
method are matched as API Gateway does (literal path parts before ``{param}``
before ``{proxy+}``, then the method or ``ANY``), and a Lambda proxy
integration (``AWS_PROXY``, what SAM's ``Api`` events make) gets the REST
proxy event (format 1.0) and its answer
(``statusCode``, ``headers``, ``multiValueHeaders``, ``body``,
``isBase64Encoded``) becomes the HTTP response, through the same runtime as
any invoke. API Gateway's answers are kept: ``403 Missing Authentication
Token`` for a path or method the API lacks, ``502 Internal server error`` for
a function error or a malformed answer. Other integration types are not
emulated and answer ``501`` saying so.

HTTP APIs (API Gateway v2, SAM's ``HttpApi``) answer at the same address (their
``$default`` stage too): the route is picked as API Gateway does (the most
specific path, the method before ``ANY``, ``$default`` last), and the function
gets payload format 2.0 (or 1.0 when the integration says so); an answer
without ``statusCode`` is the body of a ``200``. ``404 Not Found`` for a route
the API lacks, ``500 Internal Server Error`` for a function error.
"""

from __future__ import annotations

import base64
import json
import re
import time
import uuid
from typing import Any, Callable, Iterable
from urllib.parse import parse_qsl, unquote

from . import moto_ext
from .urls import USER_REQUEST
from ..runtime.apigateway import Reply, best_match, client_case, error_reply, http_event, http_response, rest_event, rest_response

# AWS's own address shape, on loopback: http://{api id}.execute-api.localhost:4566/{stage}/{path}
EXECUTE_API_HOST = re.compile(r"^(?P<api>[a-z0-9]+)\.execute-api\.localhost(?::\d+)?$", re.IGNORECASE)
_LAMBDA_URI = re.compile(r"^arn:[^:]+:apigateway:[^:]+:lambda:path/[^/]+/functions/(?P<arn>.+)/invocations$")

def find_api(api_id: str) -> tuple[str, Any, str, str] | None:
    """("rest" or "http", moto's API with that ID, its account, its region)."""
    for kind, account, region, backend in moto_ext.api_backends():
        api = backend.apis.get(api_id)
        if api is not None:
            return kind, api, account, region
    return None


def split_stage(api_id: str, path: str) -> tuple[str, str]:
    """(stage, path) of a request to ``{api id}.execute-api.localhost``: the first path segment names the stage,
    except for an HTTP API's ``$default`` stage, which AWS serves without a prefix."""
    first, _, rest = path.lstrip("/").partition("/")
    found = find_api(api_id)
    if found is not None and found[0] == "http" and first not in found[1].stages and "$default" in found[1].stages:
        return "$default", path or "/"
    return first, "/" + rest


def match_route(api: Any, method: str, path: str) -> tuple[Any, dict[str, str]] | None:
    """An HTTP API's route for ``method path`` (:func:`best_match`), ``$default`` when none matches."""
    routes, default = [], None
    for route in list(api.routes.values()):
        verb, _, template = str(route.route_key).partition(" ")
        if route.route_key == "$default" or template == "$default":
            default = route
        else:
            routes.append((template, verb.upper(), route))
    return best_match(routes, path, method) or ((default, {}) if default is not None else None)


def match_resource(api: Any, path: str) -> tuple[Any, dict[str, str]] | None:
    """The REST API resource whose path template matches ``path`` (:func:`best_match`), with its parameters."""
    return best_match(((r.get_path(), None, r) for r in list(api.resources.values())), path)


_HEADER_PARAMETER = "method.response.header."


def mock_reply(integration: Any) -> Reply:
    """A ``MOCK`` integration's answer (SAM's CORS preflight: ``OPTIONS`` answering the configured
    ``Access-Control-Allow-*`` headers): its default response (selection pattern empty), with the headers its
    response parameters map to static values (``'https://example.com'``) and, as body, a response template that
    is plain text. Mapping templates (VTL) and values taken from the request are not evaluated."""
    responses = moto_ext.rest_integration_responses(integration)
    chosen = next((r for r in responses if r[1] == ""), responses[0] if responses else None)
    if chosen is None:
        return 200, [("Content-Type", "application/json")], b""
    status, _pattern, parameters, templates = chosen
    headers = []
    for name, value in sorted(parameters.items()):
        text = str(value)
        if name.startswith(_HEADER_PARAMETER) and len(text) >= 2 and text[0] == text[-1] == "'":
            headers.append((name[len(_HEADER_PARAMETER):], text[1:-1]))
    template = templates.get("application/json")
    body = template.encode() if isinstance(template, str) and "$" not in template and "#" not in template else b""
    if not any(k.lower() == "content-type" for k, _v in headers):
        headers.append(("Content-Type", "application/json"))
    return (int(status) if status.isdigit() else 200), headers, body


class RestApiProxy:
    """Answers ``_user_request_`` calls; ``invoke(arn, payload, headers)`` runs a function (the local runtime)."""

    def __init__(self, invoke: Callable[..., Any], log: Callable[[str], Any] | None = None,
                 clock: Callable[[], float] = time.time):
        self.invoke = invoke
        self.log = log
        self.clock = clock

    def handle(self, method: str, api_id: str, stage: str, path: str, query: str, headers: list[tuple[str, str]],
               body: bytes, source_ip: str = "127.0.0.1") -> Reply:
        found = find_api(api_id)
        if found is None:
            return error_reply(404, f"no API {api_id} on the local cloud", "NotFoundException")
        kind, api, account, region = found
        if kind == "http":
            return self._http_api(method, api, account, region, stage, path or "/", query, headers, body, source_ip)
        stage_obj = api.stages.get(stage)
        if stage_obj is None:
            return error_reply(403, "Forbidden", "ForbiddenException")
        matched = match_resource(api, path or "/")
        if matched is None:
            return error_reply(403, "Missing Authentication Token", "MissingAuthenticationTokenException")
        resource, path_params = matched
        api_method = resource.resource_methods.get(method.upper()) or resource.resource_methods.get("ANY")
        if api_method is None:
            return error_reply(403, "Missing Authentication Token", "MissingAuthenticationTokenException")
        integration = api_method.method_integration
        kind = str(getattr(integration, "integration_type", "") or "").upper()
        if kind == "MOCK":
            return mock_reply(integration)
        uri = str(getattr(integration, "uri", "") or "")
        target = _LAMBDA_URI.match(uri)
        if kind != "AWS_PROXY" or target is None:
            return error_reply(501, f"the local cloud runs Lambda proxy integrations (AWS_PROXY) only; "
                                 f"{method.upper()} {resource.get_path()} is {kind or 'not integrated'}")
        event = rest_event(method.upper(), api_id, account, stage, resource.get_path(), resource.id, path or "/",
                           path_params, query, headers, body, source_ip, getattr(stage_obj, "variables", None),
                           self.clock())
        result = self._run(target.group("arn"), event, account, region, f"{method.upper()} {path}")
        if result is None or not result.ok:
            return error_reply(502, "Internal server error")
        return rest_response(result.payload)

    def _run(self, arn: str, event: dict, account: str, region: str, what: str) -> Any:
        auth = f"Credential=apigateway/00000000/{region}/lambda/aws4_request"
        try:
            result = self.invoke(arn, json.dumps(event).encode(),
                                 headers={"x-moto-account-id": account, "authorization": auth})
        except Exception as exc:  # noqa: BLE001 - a function that is gone, a runtime that cannot start
            if self.log is not None:
                self.log(f"{what}: the function could not be invoked: {exc}\n")
            return None
        if self.log is not None and getattr(result, "log", None):
            self.log(result.log)
        return result

    def _http_api(self, method: str, api: Any, account: str, region: str, stage: str, path: str, query: str,
                  headers: list[tuple[str, str]], body: bytes, source_ip: str) -> Reply:
        """An HTTP API (API Gateway v2): its route, then the Lambda proxy with payload format 2.0 (or 1.0)."""
        stage_obj = api.stages.get(stage)
        if stage_obj is None:
            return error_reply(404, "Not Found", "NotFoundException")
        matched = match_route(api, method, path)
        if matched is None:
            return error_reply(404, "Not Found", "NotFoundException")
        route, path_params = matched
        target = str(getattr(route, "target", "") or "")
        integration = api.integrations.get(target.split("/", 1)[1]) if target.startswith("integrations/") else None
        uri = str(getattr(integration, "integration_uri", "") or "")
        found = _LAMBDA_URI.match(uri)
        arn = found.group("arn") if found else (uri if ":function:" in uri else None)
        kind = str(getattr(integration, "integration_type", "") or "").upper()
        if integration is None or kind != "AWS_PROXY" or arn is None:
            return error_reply(501, f"the local cloud runs Lambda proxy integrations (AWS_PROXY) only; route "
                                 f"{route.route_key} is {kind or 'not integrated'}")
        version = str(getattr(integration, "payload_format_version", None) or "2.0")
        if version == "1.0":
            resource = route.route_key.partition(" ")[2] or route.route_key
            event = rest_event(method.upper(), api.api_id, account, stage, resource, route.route_id, path,
                               path_params, query, headers, body, source_ip,
                               getattr(stage_obj, "stage_variables", None), self.clock())
        else:
            event = http_event(method.upper(), api.api_id, account, stage, route.route_key, path, path_params,
                               query, headers, body, source_ip, getattr(stage_obj, "stage_variables", None),
                               self.clock())
        result = self._run(arn, event, account, region, f"{method.upper()} {path}")
        if result is None or not result.ok:
            return error_reply(500, "Internal Server Error")
        if version == "1.0":
            return rest_response(result.payload)
        return http_response(result.payload)
