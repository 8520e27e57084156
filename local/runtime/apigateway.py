"""API Gateway's side of a Lambda proxy integration, without any server: which route or resource a request
matches (literal path parts before ``{param}`` before ``{proxy+}``, then the method or ``ANY``), the proxy event
a function gets (REST, payload format 1.0; HTTP APIs, 2.0), and how its answer becomes the HTTP response (with
API Gateway's own error answers).

Used by ``lamctl local start-api`` (:mod:`lamctl.local.runtime.start_api`, the template's events served from
the source folder) and by the local cloud's API stand-in (:mod:`lamctl.local.cloud.apis`, APIs deployed to it).
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from typing import Any, Iterable
from urllib.parse import parse_qsl, unquote


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
