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

USER_REQUEST = re.compile(r"^/restapis/(?P<api>[^/]+)/(?P<stage>[^/]+)/_user_request_(?P<path>/.*)?$")
# AWS's own address shape, on loopback: http://{api id}.execute-api.localhost:4566/{stage}/{path}
EXECUTE_API_HOST = re.compile(r"^(?P<api>[a-z0-9]+)\.execute-api\.localhost(?::\d+)?$", re.IGNORECASE)
_LAMBDA_URI = re.compile(r"^arn:[^:]+:apigateway:[^:]+:lambda:path/[^/]+/functions/(?P<arn>.+)/invocations$")

Reply = tuple[int, list[tuple[str, str]], bytes]


def client_case(name: str) -> str:
    """A header name as clients write it (``user-agent``, ``USER_AGENT`` -> ``User-Agent``): servers that lost
    the case (WSGI, lower-cased parsers) hand the function headers spelled as sent."""
    return "-".join(w.capitalize() for w in name.replace("_", "-").split("-"))


def error_reply(status: int, text: str, error_type: str | None = None) -> Reply:
    headers = [("Content-Type", "application/json")]
    if error_type:
        headers.append(("x-amzn-ErrorType", error_type))
    return status, headers, json.dumps({"message": text}).encode()


def find_api(api_id: str) -> tuple[str, Any, str, str] | None:
    """("rest" or "http", moto's API with that ID, its account, its region)."""
    from moto.apigateway.models import apigateway_backends
    from moto.apigatewayv2.models import apigatewayv2_backends

    for kind, backends in (("rest", apigateway_backends), ("http", apigatewayv2_backends)):
        for account, regions in list(backends.items()):
            for region, backend in list(regions.items()):
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


def best_match(candidates: Iterable[tuple[str, str | None, Any]], path: str,
               method: str | None = None) -> tuple[Any, dict[str, str]] | None:
    """API Gateway's choice among ``(path template, method, item)``: a template that matches ``path``, the one
    with the most literal parts, then the fewest greedy ``{proxy+}`` ones, then a method's own before ``ANY``.
    ``method`` None: the candidates are resources (their methods are looked at afterwards)."""
    parts = [unquote(p) for p in path.strip("/").split("/")] if path.strip("/") else []
    best: tuple[tuple[int, int, int], Any, dict[str, str]] | None = None
    for template, verb, item in candidates:
        if method is not None and verb not in (method.upper(), "ANY"):
            continue
        tparts = template.strip("/").split("/") if template.strip("/") else []
        params = _match(tparts, parts)
        if params is None:
            continue
        rank = (sum(1 for t in tparts if not t.startswith("{")), -sum(1 for t in tparts if t.endswith("+}")),
                int(verb != "ANY"))
        if best is None or rank > best[0]:
            best = (rank, item, params)
    return None if best is None else (best[1], best[2])


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


def _match(template: list[str], parts: list[str]) -> dict[str, str] | None:
    params: dict[str, str] = {}
    for i, t in enumerate(template):
        if t.startswith("{") and t.endswith("+}"):
            rest = parts[i:]
            if not rest:
                return None
            params[t[1:-2]] = "/".join(rest)
            return params
        if i >= len(parts):
            return None
        if t.startswith("{") and t.endswith("}"):
            params[t[1:-1]] = parts[i]
        elif t != parts[i]:
            return None
    return params if len(template) == len(parts) else None


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



def rest_event(method: str, api_id: str, account: str, stage: str, resource_path: str, resource_id: str, path: str,
               path_params: dict[str, str], query: str, headers: list[tuple[str, str]], body: bytes, source_ip: str,
               variables: dict | None, now: float) -> dict:
    """API Gateway's REST proxy event (payload format 1.0)."""
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for name, value in headers:
        single[name] = value
        multi.setdefault(name, []).append(value)
    qs_single: dict[str, str] = {}
    qs_multi: dict[str, list[str]] = {}
    for name, value in parse_qsl(query, keep_blank_values=True):
        qs_single[name] = value
        qs_multi.setdefault(name, []).append(value)
    text, encoded = _body_text(body)
    host = next((v for k, v in headers if k.lower() == "host"), "127.0.0.1")
    agent = next((v for k, v in headers if k.lower() == "user-agent"), None)
    return {
        "resource": resource_path,
        "path": path,
        "httpMethod": method,
        "headers": single or None,
        "multiValueHeaders": multi or None,
        "queryStringParameters": qs_single or None,
        "multiValueQueryStringParameters": qs_multi or None,
        "pathParameters": path_params or None,
        "stageVariables": dict(variables or {}) or None,
        "requestContext": {
            "resourceId": resource_id,
            "resourcePath": resource_path,
            "httpMethod": method,
            "path": f"/{stage}{path}",
            "stage": stage,
            "accountId": account,
            "apiId": api_id,
            "requestId": str(uuid.uuid4()),
            "extendedRequestId": str(uuid.uuid4()),
            "protocol": "HTTP/1.1",
            "domainName": host,
            "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "requestTimeEpoch": int(now * 1000),
            "identity": {"sourceIp": source_ip, "userAgent": agent},
        },
        "body": text,
        "isBase64Encoded": encoded,
    }

def http_event(method: str, api_id: str, account: str, stage: str, route_key: str, path: str,
               path_params: dict[str, str], query: str, headers: list[tuple[str, str]], body: bytes, source_ip: str,
               variables: dict | None, now: float) -> dict:
    """API Gateway's payload format 2.0: lower-case headers joined with commas, cookies apart."""
    joined: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in headers:
        if name.lower() == "cookie":
            cookies += [c.strip() for c in value.split(";") if c.strip()]
            continue
        key = name.lower()
        joined[key] = f"{joined[key]},{value}" if key in joined else value
    params: dict[str, str] = {}
    for name, value in parse_qsl(query, keep_blank_values=True):
        params[name] = f"{params[name]},{value}" if name in params else value
    text, encoded = _body_text(body)
    host = joined.get("host", "127.0.0.1")
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": path,
        "rawQueryString": query,
        "headers": joined,
        "requestContext": {
            "accountId": account,
            "apiId": api_id,
            "domainName": host,
            "domainPrefix": host.split(".")[0],
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": source_ip,
                     "userAgent": joined.get("user-agent", "")},
            "requestId": str(uuid.uuid4()),
            "routeKey": route_key,
            "stage": stage,
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": encoded,
    }
    if cookies:
        event["cookies"] = cookies
    if params:
        event["queryStringParameters"] = params
    if path_params:
        event["pathParameters"] = path_params
    if variables:
        event["stageVariables"] = dict(variables)
    if text is not None:
        event["body"] = text
    return event

def http_response(payload: bytes) -> Reply:
    """Format 2.0: an object with ``statusCode`` is a response as in 1.0 (plus ``cookies``); anything else
    valid JSON is the body of a 200 ``application/json`` response, as API Gateway infers it."""
    try:
        answer = json.loads(payload or b"null")
    except ValueError:
        return error_reply(500, "Internal Server Error")
    if isinstance(answer, dict) and "statusCode" in answer:
        status, headers, body = rest_response(payload, error=(500, "Internal Server Error"))
        for cookie in answer.get("cookies") or []:
            headers.append(("Set-Cookie", str(cookie)))
        return status, headers, body
    text = answer if isinstance(answer, str) else json.dumps(answer)
    return 200, [("Content-Type", "application/json")], text.encode()

def rest_response(payload: bytes, error: tuple[int, str] = (502, "Internal server error")) -> Reply:
    """A proxy integration's answer as the HTTP response (``error`` when it is not a valid one)."""
    try:
        answer = json.loads(payload or b"null")
    except ValueError:
        return error_reply(*error)
    if not isinstance(answer, dict):
        return error_reply(*error)
    try:
        status = int(answer.get("statusCode", 200))
    except (TypeError, ValueError):
        return error_reply(*error)
    out: list[tuple[str, str]] = []
    for name, value in (answer.get("headers") or {}).items():
        out.append((str(name), str(value)))
    for name, values in (answer.get("multiValueHeaders") or {}).items():
        for value in values if isinstance(values, list) else [values]:
            out.append((str(name), str(value)))
    body = answer.get("body")
    if body is None:
        data = b""
    elif answer.get("isBase64Encoded"):
        try:
            data = base64.b64decode(str(body))
        except ValueError:
            return error_reply(*error)
    elif isinstance(body, str):
        data = body.encode()
    else:  # API Gateway: "Malformed Lambda proxy response"
        return error_reply(*error)
    if not any(k.lower() == "content-type" for k, _ in out):
        out.append(("Content-Type", "application/json"))
    return status, out, data


def _body_text(body: bytes) -> tuple[str | None, bool]:
    """A request body as the event carries it: text, or base64 when it is not UTF-8."""
    if not body:
        return None, False
    try:
        return body.decode("utf-8"), False
    except UnicodeDecodeError:
        return base64.b64encode(body).decode(), True
