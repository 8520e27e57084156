"""``lamctl local start-api``: a template's API events served on 127.0.0.1, nothing deployed.

Every ``Api`` (REST) and ``HttpApi`` (HTTP API) event of the template's
functions becomes a route; a request is matched as API Gateway matches it
(:mod:`lamctl.local.cloud.apis`: literal path parts before ``{param}`` before
``{proxy+}``, the method before ``ANY``, an HTTP API's ``$default`` last), the
function runs in the local runtime with the proxy event (1.0 for ``Api``, 2.0
for ``HttpApi`` unless its ``PayloadFormatVersion`` says 1.0), and its answer is
the response. Paths are served without a stage prefix. The code is rebuilt
when it changes, as with ``start-lambda``; the routes are read at start.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any, Callable

from .apigateway import best_match, error_reply, client_case, http_event, http_response, rest_event, rest_response
from .functions import ACCOUNT_ID
from .invoke_api import InvokeServer
from .pool import TooManyRequests
from .service import LocalLambda

REST, HTTP = "rest", "http"


@dataclass(frozen=True)
class Route:
    kind: str  # REST (an Api event) or HTTP (an HttpApi event)
    method: str  # GET, POST, ... or ANY
    path: str  # the path template, or "$default" (an HTTP API's catch-all)
    function: str  # the function's logical ID
    payload: str = "1.0"  # the proxy payload format
    event: str = ""  # the event's name in the template

    @property
    def key(self) -> str:
        return self.path if self.path == "$default" else f"{self.method} {self.path}"


def routes_of(resources: dict, names: list[str],
              where: Callable[[list[str]], str] | None = None) -> tuple[list[Route], list[str]]:
    """The routes of the functions ``names`` (their ``Api`` / ``HttpApi`` events), and what was left out
    (each said with ``where(keys)``, the template's file:line, when given)."""
    routes: list[Route] = []
    skipped: list[str] = []
    for logical in names:
        events = ((resources.get(logical) or {}).get("Properties") or {}).get("Events") or {}
        if not isinstance(events, dict):
            continue
        for name, ev in events.items():
            if not isinstance(ev, dict) or ev.get("Type") not in ("Api", "HttpApi"):
                continue
            props = ev.get("Properties") or {}
            kind = REST if ev["Type"] == "Api" else HTTP
            path, method = props.get("Path"), props.get("Method")
            if kind == HTTP and path is None and method is None:
                routes.append(Route(HTTP, "ANY", "$default", logical, "2.0", name))
                continue
            if not isinstance(path, str) or not isinstance(method, str):
                at = where(["Resources", logical, "Properties", "Events", name]) + ": " if where else ""
                skipped.append(f"{at}{logical}.Events.{name}: Path and Method must be plain strings to be served "
                               "locally (this route is left out)")
                continue
            verb = "ANY" if method.lower() in ("any", "x-amazon-apigateway-any-method") else method.upper()
            payload = "1.0" if kind == REST else str(props.get("PayloadFormatVersion") or "2.0")
            routes.append(Route(kind, verb, "/" + path.strip("/") if path.strip("/") else "/", logical, payload, name))
    return routes, skipped


def match(routes: list[Route], method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    """The route for ``method path`` as API Gateway picks it (:func:`best_match`); an HTTP API's
    ``$default`` when nothing else matches."""
    default = next((r for r in routes if r.path == "$default"), None)
    found = best_match(((r.path, r.method, r) for r in routes if r.path != "$default"), path, method)
    return found or ((default, {}) if default is not None else None)


class ApiServer(InvokeServer):
    """HTTP on 127.0.0.1: each request to a route runs its function (the same sockets as ``start-lambda``)."""

    def __init__(self, service: LocalLambda, routes: list[Route], host: str = "127.0.0.1", port: int = 3000,
                 log: Any = None):
        super().__init__(service, host, port, log=log)
        self.routes = routes
        self.rest_only = all(r.kind == REST for r in routes)

    def handle(self, method: str, target: str, headers: dict, payload: bytes):
        path, _, query = target.partition("?")
        found = match(self.routes, method, path or "/")
        if found is None:
            if self.rest_only:
                return error_reply(403, "Missing Authentication Token", "MissingAuthenticationTokenException")
            return error_reply(404, "Not Found", "NotFoundException")
        route, params = found
        header_list = [(client_case(k), v) for k, v in headers.items()]
        now = time.time()
        if route.payload == "1.0":
            event = rest_event(method.upper(), "local", ACCOUNT_ID, "Prod" if route.kind == REST else "$default",
                               route.path, route.event, path or "/", params, query, header_list, payload,
                               "127.0.0.1", None, now)
        else:
            event = http_event(method.upper(), "local", ACCOUNT_ID, "$default", route.key, path or "/", params,
                               query, header_list, payload, "127.0.0.1", None, now)
        failed = (502, "Internal server error") if route.kind == REST else (500, "Internal Server Error")
        try:
            result = self.service.invoke(route.function, json.dumps(event).encode())
        except TooManyRequests:
            return error_reply(429, "Too Many Requests", "TooManyRequestsException")
        except Exception as exc:  # noqa: BLE001 - a build that fails, a runtime that cannot start: say so
            self.log(f"{method.upper()} {path}: {route.function} could not run: {exc}\n")
            return error_reply(*failed)
        self.log(result.log)
        if not result.ok:
            return error_reply(*failed)
        if route.payload == "1.0":
            return rest_response(result.payload, error=failed)
        return http_response(result.payload)
