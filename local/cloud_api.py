"""REST APIs deployed to the local cloud, called over HTTP: a request runs the Lambda function behind it.

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
"""

from __future__ import annotations

import base64
import json
import re
import time
import uuid
from typing import Any, Callable
from urllib.parse import parse_qsl, unquote

USER_REQUEST = re.compile(r"^/restapis/(?P<api>[^/]+)/(?P<stage>[^/]+)/_user_request_(?P<path>/.*)?$")
_LAMBDA_URI = re.compile(r"^arn:[^:]+:apigateway:[^:]+:lambda:path/[^/]+/functions/(?P<arn>.+)/invocations$")

Reply = tuple[int, list[tuple[str, str]], bytes]


def _message(status: int, text: str, error_type: str | None = None) -> Reply:
    headers = [("Content-Type", "application/json")]
    if error_type:
        headers.append(("x-amzn-ErrorType", error_type))
    return status, headers, json.dumps({"message": text}).encode()


def find_api(api_id: str) -> tuple[Any, str, str] | None:
    """moto's RestAPI with that ID, and its account and region."""
    from moto.apigateway.models import apigateway_backends

    for account, regions in list(apigateway_backends.items()):
        for region, backend in list(regions.items()):
            api = backend.apis.get(api_id)
            if api is not None:
                return api, account, region
    return None


def match_resource(api: Any, path: str) -> tuple[Any, dict[str, str]] | None:
    """The resource whose path template matches ``path``, and the path parameters; API Gateway's
    precedence: the template with the most literal parts, then the fewest greedy ones."""
    parts = [unquote(p) for p in path.strip("/").split("/")] if path.strip("/") else []
    best: tuple[tuple[int, int], Any, dict[str, str]] | None = None
    for resource in list(api.resources.values()):
        template = resource.get_path()
        tparts = template.strip("/").split("/") if template.strip("/") else []
        params = _match(tparts, parts)
        if params is None:
            continue
        literal = sum(1 for t in tparts if not t.startswith("{"))
        greedy = sum(1 for t in tparts if t.endswith("+}"))
        rank = (literal, -greedy)
        if best is None or rank > best[0]:
            best = (rank, resource, params)
    return None if best is None else (best[1], best[2])


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
            return _message(404, f"no REST API {api_id} on the local cloud", "NotFoundException")
        api, account, region = found
        stage_obj = api.stages.get(stage)
        if stage_obj is None:
            return _message(403, "Forbidden", "ForbiddenException")
        matched = match_resource(api, path or "/")
        if matched is None:
            return _message(403, "Missing Authentication Token", "MissingAuthenticationTokenException")
        resource, path_params = matched
        api_method = resource.resource_methods.get(method.upper()) or resource.resource_methods.get("ANY")
        if api_method is None:
            return _message(403, "Missing Authentication Token", "MissingAuthenticationTokenException")
        integration = api_method.method_integration
        kind = str(getattr(integration, "integration_type", "") or "").upper()
        uri = str(getattr(integration, "uri", "") or "")
        target = _LAMBDA_URI.match(uri)
        if kind != "AWS_PROXY" or target is None:
            return _message(501, f"the local cloud runs Lambda proxy integrations (AWS_PROXY) only; "
                                 f"{method.upper()} {resource.get_path()} is {kind or 'not integrated'}")
        event = self._event(method.upper(), api_id, account, stage, stage_obj, resource, path or "/", path_params,
                            query, headers, body, source_ip)
        auth = f"Credential=apigateway/00000000/{region}/lambda/aws4_request"
        try:
            result = self.invoke(target.group("arn"), json.dumps(event).encode(),
                                 headers={"x-moto-account-id": account, "authorization": auth})
        except Exception as exc:  # noqa: BLE001 - a function that is gone, a runtime that cannot start
            if self.log is not None:
                self.log(f"{method.upper()} {path}: the function could not be invoked: {exc}")
            return _message(502, "Internal server error")
        if self.log is not None and getattr(result, "log", None):
            self.log(result.log)
        if not result.ok:
            return _message(502, "Internal server error")
        return self._response(result.payload)

    def _event(self, method: str, api_id: str, account: str, stage: str, stage_obj: Any, resource: Any, path: str,
               path_params: dict[str, str], query: str, headers: list[tuple[str, str]], body: bytes,
               source_ip: str) -> dict:
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
        text: str | None = None
        encoded = False
        if body:
            try:
                text = body.decode("utf-8")
            except UnicodeDecodeError:
                text, encoded = base64.b64encode(body).decode(), True
        now = self.clock()
        host = next((v for k, v in headers if k.lower() == "host"), "127.0.0.1")
        agent = next((v for k, v in headers if k.lower() == "user-agent"), None)
        return {
            "resource": resource.get_path(),
            "path": path,
            "httpMethod": method,
            "headers": single or None,
            "multiValueHeaders": multi or None,
            "queryStringParameters": qs_single or None,
            "multiValueQueryStringParameters": qs_multi or None,
            "pathParameters": path_params or None,
            "stageVariables": dict(getattr(stage_obj, "variables", None) or {}) or None,
            "requestContext": {
                "resourceId": resource.id,
                "resourcePath": resource.get_path(),
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

    @staticmethod
    def _response(payload: bytes) -> Reply:
        try:
            answer = json.loads(payload or b"null")
        except ValueError:
            return _message(502, "Internal server error")
        if not isinstance(answer, dict):
            return _message(502, "Internal server error")
        try:
            status = int(answer.get("statusCode", 200))
        except (TypeError, ValueError):
            return _message(502, "Internal server error")
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
                return _message(502, "Internal server error")
        elif isinstance(body, str):
            data = body.encode()
        else:  # API Gateway: "Malformed Lambda proxy response"
            return _message(502, "Internal server error")
        if not any(k.lower() == "content-type" for k, _ in out):
            out.append(("Content-Type", "application/json"))
        return status, out, data
