"""The local cloud's server: moto's AWS emulator, with Lambda invokes run by lamctl's local runtime.

``python -m lamctl.local.cloud.emulator -H 127.0.0.1 -p 4566`` is what ``lamctl local
start`` runs in the background. Every request goes to moto's backends as with
``python -m moto.server``, except the Lambda Invoke API
(``POST /2015-03-31/functions/{name}/invocations``): that one is answered by
:class:`~lamctl.local.runtime.invoke_api.InvokeHandler` over a
:class:`~lamctl.local.cloud.lambdas.CloudLambda`, so the deployed code of the
invoked version really runs (with alias weights), instead of moto's
Docker-free Lambda echoing the payload back. Invocations that moto makes
itself (an SNS subscription, an SQS event source mapping, ...) run the same
way, and its CloudFormation creates Lambda versions and aliases
(:mod:`lamctl.local.cloud.models`).

``GET /lamctl-api/status`` answers what the runtime is doing (environments,
their process IDs), which ``lamctl local status`` and ``stop`` use.

CodeDeploy's ``PutLifecycleEventHookExecutionStatus`` (which moto lacks) is
answered here: a traffic hook written for CodeDeploy reports its verdict that
way, and lamctl's release engine reads it back from
``GET /lamctl-api/hooks/{lifecycleEventHookExecutionId}``.

:class:`EmulatorServer` runs the same application in a thread of the calling
process (tests, and anything embedding the local cloud).
"""

from __future__ import annotations

import argparse
import http
import json
import os
import random
import re
import shutil
import signal
import sys
import tempfile
import threading
from typing import Any, Callable, Iterable
from urllib.parse import quote

from ..runtime.apigateway import client_case
from .apis import EXECUTE_API_HOST, RestApiProxy, split_stage
from .lambdas import CloudLambda
from .urls import HOOKS_PATH, STATUS_PATH, USER_REQUEST
from ..runtime.invoke_api import DEFAULT_RETRY_DELAYS, InvokeHandler
from ..runtime.pool import Pool

_INVOKE = re.compile(r"^/2015-03-31/functions/[^/]+/invocations/?$")
HOOK_STATUS_TARGET = "CodeDeploy_20141006.PutLifecycleEventHookExecutionStatus"
HOOK_STATUSES = ("Pending", "InProgress", "Succeeded", "Failed", "Skipped", "Unknown")
IDLE_TIMEOUT = 300.0  # an idle environment is stopped after five minutes, as Lambda reclaims idle ones


def _headers(environ: dict) -> dict[str, str]:
    out = {}
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            out[key[5:].replace("_", "-").lower()] = value
    if environ.get("CONTENT_TYPE"):
        out["content-type"] = environ["CONTENT_TYPE"]
    return out


def _client_headers(environ: dict) -> list[tuple[str, str]]:
    """The request's headers as a client sends them (WSGI keeps no case: ``User-Agent`` style)."""
    out = []
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            out.append((client_case(key[5:]), value))
    for key, name in (("CONTENT_TYPE", "Content-Type"), ("CONTENT_LENGTH", "Content-Length")):
        if environ.get(key):
            out.append((name, environ[key]))
    return out


def _body(environ: dict) -> bytes:
    stream = environ.get("wsgi.input")
    if stream is None:
        return b""
    length = environ.get("CONTENT_LENGTH")
    if length:
        try:
            return stream.read(int(length))
        except ValueError:
            return b""
    if environ.get("wsgi.input_terminated"):
        return stream.read()
    return b""


class EmulatorApp:
    """WSGI: the Invoke API to ``handler``, the status to lamctl, everything else to moto."""

    def __init__(self, moto_app: Callable, handler: InvokeHandler):
        self.moto_app = moto_app
        self.handler = handler
        self.hook_reports: dict[str, str] = {}  # lifecycleEventHookExecutionId -> status
        self.apis = RestApiProxy(handler.service.invoke, log=handler.log)

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        if not _patched["outputs"]:
            _patch_change_set_outputs()
        path = environ.get("PATH_INFO") or "/"
        method = environ.get("REQUEST_METHOD", "GET")
        if method == "POST" and _INVOKE.match(path):
            target = quote(path, safe="/:$") + (f"?{environ['QUERY_STRING']}" if environ.get("QUERY_STRING") else "")
            status, headers, body = self.handler.handle(method, target, _headers(environ), _body(environ))
            return self._reply(start_response, status, list(headers), body)
        api_call = USER_REQUEST.match(path)
        by_host = EXECUTE_API_HOST.match(environ.get("HTTP_HOST") or "") if api_call is None else None
        if api_call is not None or by_host is not None:
            if api_call is not None:
                api_id, stage, api_path = api_call.group("api"), api_call.group("stage"), api_call.group("path")
            else:
                api_id = by_host.group("api")
                stage, api_path = split_stage(api_id, path)
            status, headers, body = self.apis.handle(
                method, api_id, stage, api_path or "/", environ.get("QUERY_STRING") or "",
                _client_headers(environ), _body(environ), environ.get("REMOTE_ADDR") or "127.0.0.1")
            return self._reply(start_response, status, headers, body)
        if method == "POST" and environ.get("HTTP_X_AMZ_TARGET") == HOOK_STATUS_TARGET:
            status, body = self._hook_status(_body(environ))
            return self._reply(start_response, status, [("Content-Type", "application/x-amz-json-1.1")], body)
        if path == "/moto-api/reset" and method == "POST":
            self.handler.service.pool.clear()  # a reset emulator has no functions, so no warm environments
            self.hook_reports.clear()
        if path == STATUS_PATH and method == "GET":
            body = json.dumps(self.status()).encode()
            return self._reply(start_response, 200, [("Content-Type", "application/json")], body)
        if path.startswith(HOOKS_PATH) and method == "GET":
            reported = self.hook_reports.get(path[len(HOOKS_PATH):])
            body = json.dumps({"status": reported}).encode()
            return self._reply(start_response, 200 if reported else 404, [("Content-Type", "application/json")], body)
        return self.moto_app(environ, start_response)

    def _hook_status(self, raw: bytes) -> tuple[int, bytes]:
        """CodeDeploy's PutLifecycleEventHookExecutionStatus: record the hook's verdict."""
        try:
            req = json.loads(raw or b"{}")
        except ValueError:
            req = None
        execution_id = req.get("lifecycleEventHookExecutionId") if isinstance(req, dict) else None
        status = req.get("status") if isinstance(req, dict) else None
        if not isinstance(execution_id, str) or not execution_id:
            return 400, json.dumps({"__type": "LifecycleEventHookExecutionIdRequiredException",
                                    "message": "lifecycleEventHookExecutionId is required"}).encode()
        if status not in HOOK_STATUSES:
            return 400, json.dumps({"__type": "InvalidLifecycleEventHookExecutionStatusException",
                                    "message": f"status must be one of {', '.join(HOOK_STATUSES)}"}).encode()
        self.hook_reports[execution_id] = status
        return 200, json.dumps({"lifecycleEventHookExecutionId": execution_id}).encode()

    @staticmethod
    def _reply(start_response: Callable, status: int, headers: list, body: bytes) -> list[bytes]:
        try:
            reason = http.HTTPStatus(status).phrase
        except ValueError:
            reason = "Unknown"
        headers = headers + [("Content-Length", str(len(body)))]
        start_response(f"{status} {reason}", headers)
        return [body]

    def status(self) -> dict[str, Any]:
        pool = self.handler.service.pool
        return {"lambda_runtime": "lamctl", "pid": os.getpid(), "environments": pool.pids()}


_patched = {"outputs": False}


def _patch_change_set_outputs(load: bool = False) -> None:
    """moto's ExecuteChangeSet keeps the stack's outputs of before (none for a stack it creates): rebuild them
    from the template just applied, as CloudFormation reports them. Done once moto's CloudFormation is loaded
    (by the first request that uses it), so the emulator starts without importing it; ``load`` imports it now."""
    if _patched["outputs"]:
        return
    if load:
        import moto.cloudformation.models  # noqa: F401
    models = sys.modules.get("moto.cloudformation.models")
    if models is None:
        return
    backend_class = models.CloudFormationBackend
    original = backend_class.execute_change_set

    def execute_change_set(self: Any, change_set_name: str, stack_name: str | None = None) -> None:
        original(self, change_set_name, stack_name)
        change_set = self.change_sets.get(change_set_name) or next(
            (cs for cs in self.change_sets.values() if cs.change_set_name == change_set_name), None)
        stack = self.stacks.get(change_set.stack_id) if change_set is not None else None
        if stack is not None:
            stack._parse_template()
            stack.output_map = stack._create_output_map()

    backend_class.execute_change_set = execute_change_set
    _patched["outputs"] = True


def prepare_moto() -> None:
    """Give moto in this process the local cloud's CloudFormation behaviour now (its resource models, outputs
    after change sets): for a process that also serves moto another way (tests), so that it behaves alike
    whichever server started first."""
    from .models import register

    register()
    _patch_change_set_outputs(load=True)


def patch_internal_invokes(service: CloudLambda, log: Callable[[str], Any] | None = None) -> Callable[[], None]:
    """Route the invocations moto makes itself (SNS, SQS event sources, ...) through ``service``.
    Returns the function that undoes it."""
    from moto.awslambda.models import LambdaFunction

    original = LambdaFunction.invoke

    def invoke(fn: Any, body: Any, request_headers: Any, response_headers: Any) -> bytes:
        if isinstance(body, (bytes, str)):
            payload = body.encode() if isinstance(body, str) else body
        else:
            payload = json.dumps(body if body is not None else {}).encode()
        version = str(fn.version)
        arn = f"arn:aws:lambda:{fn.region}:{fn.account_id}:function:{fn.function_name}"
        headers = {"x-moto-account-id": fn.account_id,
                   "authorization": f"Credential=internal/00000000/{fn.region}/lambda/aws4_request"}
        result = service.invoke(arn, payload or b"{}", qualifier=None if version == "$LATEST" else version,
                                headers=headers)
        if not result.ok and response_headers is not None:
            response_headers["x-amz-function-error"] = result.function_error
        if log is not None:
            log(result.log)
        return result.payload

    LambdaFunction.invoke = invoke  # type: ignore[method-assign]

    def undo() -> None:
        LambdaFunction.invoke = original  # type: ignore[method-assign]

    return undo


def make_app(work_dir: str, endpoint: str | None, *, rng: random.Random | None = None,
             idle_timeout: float | None = IDLE_TIMEOUT, retry_delays: tuple[float, ...] = DEFAULT_RETRY_DELAYS,
             log: Callable[[str], Any] | None = None) -> EmulatorApp:
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    from .models import register

    register()  # CloudFormation creates Lambda versions and aliases (SAM's AutoPublishAlias)
    service = CloudLambda(work_dir, endpoint=endpoint, pool=Pool(idle_timeout=idle_timeout), rng=rng)
    handler = InvokeHandler(service, retry_delays=retry_delays, log=log)
    return EmulatorApp(DomainDispatcherApplication(create_backend_app), handler)


class EmulatorServer:
    """The local cloud's application served from a thread of this process, on 127.0.0.1."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, work_dir: str | None = None,
                 rng: random.Random | None = None, idle_timeout: float | None = IDLE_TIMEOUT,
                 retry_delays: tuple[float, ...] = DEFAULT_RETRY_DELAYS, log: Callable[[str], Any] | None = None,
                 internal_invokes: bool = False):
        from moto.moto_server.werkzeug_app import MotoRequestHandler
        from werkzeug.serving import make_server

        class _Quiet(MotoRequestHandler):
            def log_request(self, *args: Any, **kwargs: Any) -> None:  # no access log from a server in a thread
                pass

        self._own_dir = work_dir is None
        self.work_dir = work_dir or tempfile.mkdtemp(prefix="lamctl-cloud-")
        self.app = make_app(self.work_dir, None, rng=rng, idle_timeout=idle_timeout, retry_delays=retry_delays,
                            log=log)
        self._server = make_server(host, port, self.app, threaded=True, request_handler=_Quiet)
        self.host, self.port = self._server.server_address[:2]
        self.app.handler.service.endpoint = self.endpoint
        self._undo = patch_internal_invokes(self.app.handler.service, log) if internal_invokes else None
        self._thread: threading.Thread | None = None

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def handler(self) -> InvokeHandler:
        return self.app.handler

    def start(self) -> "EmulatorServer":
        self._thread = threading.Thread(target=self._server.serve_forever, name="lamctl-emulator", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.app.handler.close()
        if self._undo is not None:
            self._undo()
        if self._own_dir:
            shutil.rmtree(self.work_dir, ignore_errors=True)


def _exit(signum: int, frame: Any) -> None:
    raise SystemExit(0)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m lamctl.local.cloud.emulator",
                                     description="lamctl's local cloud: moto's AWS emulator with a real Lambda runtime")
    parser.add_argument("-H", "--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("-p", "--port", type=int, default=int(os.environ.get("MOTO_PORT", 4566)))
    parser.add_argument("--work-dir", default=None, help="where function code is unpacked (removed at exit)")
    args = parser.parse_args(argv)
    os.environ.setdefault("MOTO_PORT", str(args.port))

    from moto.moto_server.werkzeug_app import MotoRequestHandler
    from werkzeug.serving import make_server

    work_dir = args.work_dir or tempfile.mkdtemp(prefix="lamctl-cloud-")

    def log(text: str) -> None:
        sys.stderr.write(text)
        sys.stderr.flush()

    app = make_app(work_dir, f"http://{args.host}:{args.port}", log=log)
    undo = patch_internal_invokes(app.handler.service, log)
    server = make_server(args.host, args.port, app, threaded=True, request_handler=MotoRequestHandler)
    signal.signal(signal.SIGTERM, _exit)
    signal.signal(signal.SIGINT, _exit)
    sys.stderr.write(f"lamctl local cloud on http://{args.host}:{args.port} (pid {os.getpid()})\n")
    sys.stderr.flush()
    try:
        server.serve_forever()
    finally:
        server.server_close()
        app.handler.close()  # every execution environment stops with the emulator
        undo()
        shutil.rmtree(work_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
