"""Lambda function URLs on the local cloud: an HTTP request to the URL runs the function, as Lambda does.

A function URL (``CreateFunctionUrlConfig``, SAM's ``FunctionUrlConfig``, ``AWS::Lambda::Url``) answers at
``{endpoint}/lambda-url/{url id}/{path}`` (:func:`lamctl.local.cloud.urls.function_url`, which is also the
``FunctionUrl`` the API and ``!GetAtt X.FunctionUrl`` report on the local cloud), or with the
``Host: {url id}.lambda-url.{region}.on.aws`` header of its AWS address. Like Lambda:

* the function gets the payload format 2.0 event (``routeKey`` and ``stage`` ``$default``, ``requestContext``
  with the URL's ID, domain, HTTP method and path, source IP, ``authorizer.iam`` for ``AWS_IAM``), and its answer
  becomes the response as for an HTTP API (an object with ``statusCode``, else the JSON body of a 200);
* ``AuthType: AWS_IAM`` refuses (403) a request that is not signed with Signature Version 4; any credentials sign
  it on the local cloud (no IAM policy is evaluated), which the 403 says;
* ``Cors`` answers a preflight (``OPTIONS`` with ``Origin`` and ``Access-Control-Request-Method``) without running
  the function, and adds ``Access-Control-Allow-Origin`` (and ``-Expose-Headers``, ``-Allow-Credentials``) to the
  answers for an allowed origin;
* a function error is ``502 Internal Server Error``; a throttled one ``429``.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any, Callable

from . import moto_ext
from ..runtime.apigateway import Reply, error_reply, http_event, http_response
from ..runtime.pool import TooManyRequests

_SIGNED = re.compile(r"^AWS4-HMAC-SHA256\s+Credential=(?P<key>[^/,\s]+)/")


def _header(headers: list[tuple[str, str]], name: str) -> str | None:
    for key, value in headers:
        if key.lower() == name:
            return value
    return None


def _allowed(values: Any, value: str) -> bool:
    items = [str(v) for v in values or []]
    return "*" in items or any(v.lower() == value.lower() for v in items)


def _cors_headers(cors: dict, origin: str | None) -> list[tuple[str, str]]:
    if not cors or not origin or not _allowed(cors.get("AllowOrigins"), origin):
        return []
    star = "*" in [str(v) for v in cors.get("AllowOrigins") or []]
    out = [("Access-Control-Allow-Origin", "*" if star and not cors.get("AllowCredentials") else origin)]
    if cors.get("ExposeHeaders"):
        out.append(("Access-Control-Expose-Headers", ",".join(str(h) for h in cors["ExposeHeaders"])))
    if cors.get("AllowCredentials"):
        out.append(("Access-Control-Allow-Credentials", "true"))
    return out


class FunctionUrlProxy:
    """Answers requests to function URLs; ``invoke(arn, payload, headers=...)`` runs a function."""

    def __init__(self, invoke: Callable[..., Any], log: Callable[[str], Any] | None = None,
                 clock: Callable[[], float] = time.time):
        self.invoke = invoke
        self.log = log
        self.clock = clock

    def handle(self, method: str, url_id: str, path: str, query: str, headers: list[tuple[str, str]], body: bytes,
               source_ip: str = "127.0.0.1") -> Reply:
        found = moto_ext.lambda_find_function_url(url_id)
        if found is None:
            return error_reply(404, f"no function URL {url_id} on the local cloud", "ResourceNotFoundException")
        record, account, region = found
        config = dict(record.config or {})
        cors = config.get("Cors") or {}
        origin = _header(headers, "origin")
        if method.upper() == "OPTIONS" and cors and origin and _header(headers, "access-control-request-method"):
            return self._preflight(cors, origin, _header(headers, "access-control-request-method") or "")
        identity = None
        if config.get("AuthType") == "AWS_IAM":
            signed = _SIGNED.match(_header(headers, "authorization") or "")
            if signed is None:
                return 403, [("Content-Type", "application/json"), ("x-amzn-ErrorType", "AccessDeniedException")], \
                    json.dumps({"Message": "Forbidden: this function URL has AuthType AWS_IAM and the request is "
                                           "not signed; sign it with AWS Signature Version 4 (service 'lambda'); "
                                           "on the local cloud any credentials will do"}).encode()
            key = signed.group("key")
            identity = {"accessKey": key, "accountId": moto_ext.account_of(key), "callerId": key,
                        "cognitoIdentity": None, "principalOrgId": None,
                        "userArn": f"arn:aws:iam::{moto_ext.account_of(key)}:user/local",
                        "userId": key}
        fn = record.function
        domain = f"{url_id}.lambda-url.{region}.on.aws"
        event = http_event(method.upper(), url_id, account, "$default", "$default", path or "/", {}, query,
                           headers, body, source_ip, None, self.clock())
        context = event["requestContext"]
        context["domainName"], context["domainPrefix"] = domain, url_id
        context["authentication"] = None
        if identity is not None:
            context["authorizer"] = {"iam": identity}
        qualifier = config.get("Qualifier")
        arn = f"arn:aws:lambda:{region}:{account}:function:{fn.function_name}" + (f":{qualifier}" if qualifier else "")
        auth = f"Credential=lambda-url/00000000/{region}/lambda/aws4_request"
        try:
            result = self.invoke(arn, json.dumps(event).encode(),
                                 headers={"x-moto-account-id": account, "authorization": auth})
        except Exception as exc:  # noqa: BLE001 - a throttle, a function that is gone, a runtime that cannot start
            if self.log is not None:
                self.log(f"{method.upper()} {domain}{path}: the function could not be invoked: {exc}\n")
            if isinstance(exc, TooManyRequests):
                return error_reply(429, "Rate Exceeded.", "TooManyRequestsException")
            return error_reply(502, "Internal Server Error")
        if self.log is not None and getattr(result, "log", None):
            self.log(result.log)
        if not result.ok:
            status, out, data = error_reply(502, "Internal Server Error")
        else:
            status, out, data = http_response(result.payload)
        return status, out + _cors_headers(cors, origin), data

    @staticmethod
    def _preflight(cors: dict, origin: str, method: str) -> Reply:
        allowed = _allowed(cors.get("AllowOrigins"), origin) and _allowed(cors.get("AllowMethods"), method)
        out = _cors_headers(cors, origin) if allowed else []
        if allowed:
            out.append(("Access-Control-Allow-Methods", ",".join(str(m) for m in cors.get("AllowMethods") or [])))
            if cors.get("AllowHeaders"):
                out.append(("Access-Control-Allow-Headers", ",".join(str(h) for h in cors["AllowHeaders"])))
            if cors.get("MaxAge") is not None:
                out.append(("Access-Control-Max-Age", str(cors["MaxAge"])))
        return 200, out, b""
