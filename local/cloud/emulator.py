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

SQS event source mappings are polled as Lambda polls them (batches, batching windows, partial batch
failures, redrive): :mod:`lamctl.local.cloud.event_sources`; Kinesis and DynamoDB stream mappings likewise
(retries, bisection, OnFailure destinations): :mod:`lamctl.local.cloud.streams`. Function URLs answer at
``/lambda-url/{id}/``: :mod:`lamctl.local.cloud.function_urls`.

``GET /lamctl-api/status`` answers what the runtime is doing (environments,
their process IDs), which ``lamctl local status`` and ``stop`` use.

CodeDeploy's ``PutLifecycleEventHookExecutionStatus`` (which moto lacks) is
answered here: a traffic hook written for CodeDeploy reports its verdict that
way, and lamctl's release engine reads it back from
``GET /lamctl-api/hooks/{lifecycleEventHookExecutionId}``. The CodeDeploy
deployments moto records are carried out here too (alias shifted by the
deployment config, hooks run, rollbacks), with the deployment configs and
``StopDeployment`` moto lacks: :mod:`lamctl.local.cloud.codedeploy`.

State machines run their executions with moto's interpreter, their Lambda tasks reaching this server's
Invoke API: :mod:`lamctl.local.cloud.states`.

:class:`EmulatorServer` runs the same application in a thread of the calling
process (tests, and anything embedding the local cloud).
"""

from __future__ import annotations

import argparse
import http
import io
import json
import os
import random
import re
import shutil
import signal
import sys
import tempfile
import threading
import time
from typing import Any, Callable, Iterable
from urllib.parse import quote

from ..runtime.apigateway import client_case
from . import moto_ext
from .models import register_nested_stacks
from .apis import EXECUTE_API_HOST, RestApiProxy, split_stage
from .codedeploy import OPERATIONS, TARGET_PREFIX as CODEDEPLOY_TARGET, LocalCodeDeploy
from .event_sources import SqsPoller
from .filters import mapping_problem
from .streams import StreamPoller
from .function_urls import FunctionUrlProxy
from .schedules import Scheduler, trigger_reply
from .lambdas import CloudLambda
from . import states
from .urls import FUNCTION_URL, FUNCTION_URL_HOST, HOOKS_PATH, RULES_PATH, STATUS_PATH, USER_REQUEST, function_url
from ..runtime.invoke_api import DEFAULT_RETRY_DELAYS, InvokeHandler
from ..runtime.pool import Pool

_INVOKE = re.compile(r"^/2015-03-31/functions/[^/]+/invocations/?$")
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

    def __init__(self, moto_app: Callable, handler: InvokeHandler, codedeploy: LocalCodeDeploy | None = None):
        self.moto_app = moto_app
        self.handler = handler
        self.apis = RestApiProxy(handler.service.invoke, log=handler.log)
        self.urls = FunctionUrlProxy(handler.service.invoke, log=handler.log)
        self.sqs = SqsPoller(handler.service.invoke, log=handler.log)  # started with the server
        clock = getattr(handler, "clock", None)  # an injected clock (tests) times the schedules too
        self.streams = StreamPoller(handler.service.invoke, log=handler.log,
                                    clock=clock.now if clock is not None else time.time)
        self.scheduler = Scheduler(log=handler.log, clock=clock.now if clock is not None else time.time,
                                   invoke_async=lambda arn, payload, account, region: _run_event(
                                       handler, arn, payload, account, region))
        self.codedeploy = codedeploy or LocalCodeDeploy(handler.service.invoke, CloudLambda._account, log=handler.log)
        self._nested_stacks = False  # nested stacks are lamctl's once moto's CloudFormation is loaded
        self.undo_deletes: Callable[[], None] = lambda: None  # removes the T49 listener (make_app sets it)

    @property
    def hook_reports(self) -> dict[str, str]:
        """lifecycleEventHookExecutionId -> the status a hook reported through CodeDeploy's API."""
        return self.codedeploy.reports

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        if not moto_ext.change_set_outputs_patched():
            moto_ext.patch_change_set_outputs()
        if not self._nested_stacks:
            self._nested_stacks = register_nested_stacks()
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
        url_call = FUNCTION_URL.match(path)
        url_host = FUNCTION_URL_HOST.match(environ.get("HTTP_HOST") or "") if url_call is None else None
        if url_call is not None or url_host is not None:
            url_id = (url_call or url_host).group("id")
            url_path = (url_call.group("path") if url_call is not None else path) or "/"
            status, headers, body = self.urls.handle(
                method, url_id, url_path, environ.get("QUERY_STRING") or "", _client_headers(environ),
                _body(environ), environ.get("REMOTE_ADDR") or "127.0.0.1")
            return self._reply(start_response, status, headers, body)
        target = environ.get("HTTP_X_AMZ_TARGET") or ""
        if method == "POST" and target.startswith(CODEDEPLOY_TARGET) and target[len(CODEDEPLOY_TARGET):] in OPERATIONS:
            raw = _body(environ)
            status, body = self.codedeploy.handle(target[len(CODEDEPLOY_TARGET):], raw, _headers(environ),
                                                  lambda data: self._forward(environ, data))
            return self._reply(start_response, status, [("Content-Type", "application/x-amz-json-1.1")], body)
        if path == moto_ext.RESET_PATH and method == "POST":
            self.handler.service.pool.clear()  # a reset emulator has no functions, so no warm environments
            self.codedeploy.reset()  # nor deployments under way
        if path == STATUS_PATH and method == "GET":
            body = json.dumps(self.status()).encode()
            return self._reply(start_response, 200, [("Content-Type", "application/json")], body)
        if path.startswith(RULES_PATH) and path.endswith("/trigger") and method == "POST":
            from urllib.parse import unquote

            status, body = trigger_reply(self.scheduler, unquote(path[len(RULES_PATH):-len("/trigger")]))
            return self._reply(start_response, status, [("Content-Type", "application/json")], body)
        if path.startswith(HOOKS_PATH) and method == "GET":
            reported = self.hook_reports.get(path[len(HOOKS_PATH):])
            body = json.dumps({"status": reported}).encode()
            return self._reply(start_response, 200 if reported else 404, [("Content-Type", "application/json")], body)
        return self.moto_app(environ, start_response)

    def _forward(self, environ: dict, body: bytes) -> tuple[int, bytes]:
        """Hand a request whose body was read already to moto; its status and body."""
        env = dict(environ)
        env["wsgi.input"] = io.BytesIO(body)
        env["CONTENT_LENGTH"] = str(len(body))
        seen: dict[str, Any] = {}

        def start_response(status: str, headers: list, exc_info: Any = None) -> Callable:
            seen["status"] = status
            return lambda data: None

        chunks = self.moto_app(env, start_response)
        try:
            data = b"".join(chunks)
        finally:
            if hasattr(chunks, "close"):
                chunks.close()
        return int(str(seen.get("status", "500")).split()[0]), data

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
        return {"lambda_runtime": "lamctl", "pid": os.getpid(), "environments": pool.pids(),
                "pending_events": self.handler.pending()}


def prepare_moto() -> None:
    """Give moto in this process the local cloud's CloudFormation behaviour now (its resource models, outputs
    after change sets): for a process that also serves moto another way (tests), so that it behaves alike
    whichever server started first."""
    from .models import register

    moto_ext.patch_multipart_no_such_upload()
    moto_ext.patch_cfn_lambda_layers()
    moto_ext.patch_cfn_event_buses()
    moto_ext.patch_dead_letter_config()
    moto_ext.patch_function_urls(function_url)
    moto_ext.patch_bucket_notifications()
    moto_ext.patch_alias_revisions()
    moto_ext.patch_mapping_checks(mapping_problem)
    moto_ext.patch_stream_mappings_polled()
    register()
    moto_ext.patch_change_set_outputs(load=True)
    register_nested_stacks(load=True)


def patch_internal_invokes(service: CloudLambda, log: Callable[[str], Any] | None = None) -> Callable[[], None]:
    """Route the invocations moto makes itself (SNS, SQS event sources, ...) through ``service``.
    Returns the function that undoes it."""

    def invoke(fn: Any, payload: bytes) -> tuple[bytes, str | None]:
        version = str(fn.version)
        arn = f"arn:aws:lambda:{fn.region}:{fn.account_id}:function:{fn.function_name}"
        headers = {"x-moto-account-id": fn.account_id,
                   "authorization": f"Credential=internal/00000000/{fn.region}/lambda/aws4_request"}
        result = service.invoke(arn, payload, qualifier=None if version == "$LATEST" else version,
                                headers=headers)
        if log is not None:
            log(result.log)
        return result.payload, (None if result.ok else result.function_error)

    return moto_ext.patch_internal_invokes(invoke)


def _run_event(handler: InvokeHandler, arn: str, payload: bytes, account: str, region: str) -> None:
    """Queue an asynchronous invocation that a service of the local cloud makes (retries, destinations)."""
    import uuid

    headers = {"x-moto-account-id": account,
               "authorization": f"Credential=internal/00000000/{region}/lambda/aws4_request"}
    handler.run_event(arn, None, headers, payload, str(uuid.uuid4()))


def patch_async_sources(handler: InvokeHandler) -> Callable[[], None]:
    """Route the asynchronous invocations of S3 notifications and EventBridge rules (schedules included) through
    ``handler``'s asynchronous queue (retries, destinations, dead-letter queue). Returns the undo."""
    def run(arn: str, payload: bytes, account: str, region: str) -> None:
        _run_event(handler, arn, payload, account, region)

    return moto_ext.patch_async_sources(run)


def make_app(work_dir: str, endpoint: str | None, *, rng: random.Random | None = None,
             idle_timeout: float | None = IDLE_TIMEOUT, retry_delays: tuple[float, ...] = DEFAULT_RETRY_DELAYS,
             log: Callable[[str], Any] | None = None, clock: Any = None) -> EmulatorApp:
    from .models import register

    register()  # CloudFormation creates Lambda versions and aliases (SAM's AutoPublishAlias)
    moto_ext.patch_multipart_no_such_upload()
    moto_ext.patch_cfn_lambda_layers()
    moto_ext.patch_cfn_event_buses()
    moto_ext.patch_dead_letter_config()
    moto_ext.patch_function_urls(function_url)
    moto_ext.patch_bucket_notifications()
    if endpoint:
        moto_ext.set_function_url_endpoint(endpoint)
    moto_ext.patch_alias_revisions()  # UpdateAlias honours RevisionId (412 on a stale one), as Lambda does
    states.install(endpoint)  # state machine executions run, their Lambda tasks on this cloud's runtime
    moto_ext.patch_mapping_checks(mapping_problem)  # mappings refuse what Lambda refuses (FilterCriteria, ...)
    service = CloudLambda(work_dir, endpoint=endpoint, pool=Pool(idle_timeout=idle_timeout), rng=rng)
    handler = InvokeHandler(service, retry_delays=retry_delays, log=log, clock=clock)
    app = EmulatorApp(moto_ext.wsgi_app(), handler)
    # a deleted function or version leaves no warm environment behind
    app.undo_deletes = moto_ext.patch_function_deletes(service.forget)
    return app


class EmulatorServer:
    """The local cloud's application served from a thread of this process, on 127.0.0.1."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, work_dir: str | None = None,
                 rng: random.Random | None = None, idle_timeout: float | None = IDLE_TIMEOUT,
                 retry_delays: tuple[float, ...] = DEFAULT_RETRY_DELAYS, log: Callable[[str], Any] | None = None,
                 internal_invokes: bool = False, clock: Any = None):
        from werkzeug.serving import make_server

        class _Quiet(moto_ext.request_handler()):  # type: ignore[misc]
            def log_request(self, *args: Any, **kwargs: Any) -> None:  # no access log from a server in a thread
                pass

        self._own_dir = work_dir is None
        self.work_dir = work_dir or tempfile.mkdtemp(prefix="lamctl-cloud-")
        # make_app points state machine tasks at no endpoint: keep the one in force, for stop() to put back
        states_before = moto_ext.set_states_endpoint(None)
        self.app = make_app(self.work_dir, None, rng=rng, idle_timeout=idle_timeout, retry_delays=retry_delays,
                            log=log, clock=clock)
        self._server = make_server(host, port, self.app, threaded=True, request_handler=_Quiet)
        self.host, self.port = self._server.server_address[:2]
        self.app.handler.service.endpoint = self.endpoint
        self._url_endpoint = moto_ext.set_function_url_endpoint(self.endpoint)
        moto_ext.set_states_endpoint(self.endpoint)
        self._states_endpoint = states_before
        self._undo = None
        if internal_invokes:
            undo_sync = patch_internal_invokes(self.app.handler.service, log)
            undo_async = patch_async_sources(self.app.handler)

            def undo() -> None:
                undo_async()
                undo_sync()
            self._undo = undo
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
        self.app.sqs.start()
        self.app.streams.start()
        self.app.scheduler.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.app.sqs.close()
        self.app.streams.close()
        self.app.scheduler.close()
        self.app.codedeploy.close()
        self.app.handler.close()
        self.app.undo_deletes()
        if self._undo is not None:
            self._undo()
        moto_ext.set_function_url_endpoint(self._url_endpoint)
        moto_ext.set_states_endpoint(self._states_endpoint)
        if self._own_dir:
            shutil.rmtree(self.work_dir, ignore_errors=True)


def retry_delays(text: str | None) -> tuple[float, ...] | None:
    """``"1,2"`` -> (1.0, 2.0): the waits before the retries of a failed asynchronous invocation."""
    if text is None or not str(text).strip():
        return None
    try:
        delays = tuple(float(part) for part in str(text).split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"retry delays {text!r} are not comma-separated seconds (e.g. 1,2)")
    if any(d < 0 for d in delays):
        raise argparse.ArgumentTypeError(f"retry delays {text!r} must not be negative")
    return delays


def _exit(signum: int, frame: Any) -> None:
    raise SystemExit(0)


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def plain_log_handler() -> type:
    """moto's request handler whose access log is plain text: werkzeug colours a request line by its status
    (``ESC[35mESC[1mPOST ...``) even when the log goes to a file; cloud.log must read as text."""

    class PlainLog(moto_ext.request_handler()):  # type: ignore[misc]
        def log(self, type: str, message: str, *args: Any) -> None:
            line = message % args if args else message
            super().log(type, "%s", _ANSI.sub("", line))

    return PlainLog


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m lamctl.local.cloud.emulator",
                                     description="lamctl's local cloud: moto's AWS emulator with a real Lambda runtime")
    parser.add_argument("-H", "--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("-p", "--port", type=int, default=int(os.environ.get("MOTO_PORT", 4566)))
    parser.add_argument("--work-dir", default=None, help="where function code is unpacked (removed at exit)")
    parser.add_argument("--retry-delays", default=os.environ.get("LAMCTL_RETRY_DELAYS"), type=retry_delays,
                        help="seconds before the retries of a failed asynchronous invocation, comma-separated "
                             "(default 1,2; Lambda waits about 60,120; also LAMCTL_RETRY_DELAYS)")
    args = parser.parse_args(argv)
    os.environ.setdefault("MOTO_PORT", str(args.port))

    from werkzeug.serving import make_server

    work_dir = args.work_dir or tempfile.mkdtemp(prefix="lamctl-cloud-")

    def log(text: str) -> None:
        sys.stderr.write(text)
        sys.stderr.flush()

    app = make_app(work_dir, f"http://{args.host}:{args.port}", log=log,
                   retry_delays=args.retry_delays if args.retry_delays is not None else DEFAULT_RETRY_DELAYS)
    undo_sync = patch_internal_invokes(app.handler.service, log)
    undo_async = patch_async_sources(app.handler)

    def undo() -> None:
        undo_async()
        undo_sync()
    server = make_server(args.host, args.port, app, threaded=True, request_handler=plain_log_handler())
    signal.signal(signal.SIGTERM, _exit)
    signal.signal(signal.SIGINT, _exit)
    app.sqs.start()
    app.streams.start()
    app.scheduler.start()
    sys.stderr.write(f"lamctl local cloud on http://{args.host}:{args.port} (pid {os.getpid()})\n")
    sys.stderr.flush()
    try:
        server.serve_forever()
    finally:
        server.server_close()
        app.sqs.close()
        app.streams.close()
        app.scheduler.close()
        app.codedeploy.close()  # deployments under way end with the emulator
        app.handler.close()  # every execution environment stops with the emulator
        undo()
        shutil.rmtree(work_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
