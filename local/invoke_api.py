"""The Lambda Invoke API on 127.0.0.1, for ``lamctl local start-lambda``.

boto3 and the AWS CLI work against it with ``--endpoint-url``::

    POST /2015-03-31/functions/{FunctionName}/invocations[?Qualifier=Q]

* ``X-Amz-Invocation-Type``: ``RequestResponse`` (default) answers 200 with the
  payload; ``Event`` answers 202 at once and runs the invocation in the
  background, retried twice on error as Lambda does; ``DryRun`` answers 204.
* ``X-Amz-Log-Type: Tail`` adds ``X-Amz-Log-Result``: base64 of the last 4 KB of the log.
* A failed function answers 200 with Lambda's error object and
  ``X-Amz-Function-Error: Unhandled``; ``X-Amz-Executed-Version`` is always set.
* Errors carry ``X-Amzn-ErrorType`` so that botocore raises the named
  exception: 404 ``ResourceNotFoundException``, 413 ``RequestTooLargeException``
  (6 MB synchronous, 1 MB asynchronous), 429 ``TooManyRequestsException``,
  400 ``InvalidParameterValueException``, 502 ``InvalidRuntimeException``.
"""

from __future__ import annotations

import base64
import binascii
import json
import socket
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

from lamctl.schemas.errors import LamctlError

from .pool import TooManyRequests
from .service import FunctionNotFound, LocalLambda

SYNC_LIMIT = 6 * 1024 * 1024
ASYNC_LIMIT = 1024 * 1024
LOG_TAIL = 4096
ACCOUNT_ID = "123456789012"
# Lambda waits about one and then two minutes before its retries of a failed asynchronous
# invocation; locally the waits are short (the number of retries is the same).
DEFAULT_RETRY_DELAYS = (1.0, 2.0)


class InvokeServer:
    def __init__(self, service: LocalLambda, host: str = "127.0.0.1", port: int = 3001,
                 retry_delays: tuple[float, ...] = DEFAULT_RETRY_DELAYS, region: str = "us-east-1",
                 log=None):
        self.service = service
        self.retry_delays = tuple(retry_delays)
        self.region = region
        self.log = log or (lambda text: None)
        self._background: set[threading.Thread] = set()
        self._bg_lock = threading.Condition()
        handler = type("Handler", (_Handler,), {"server_ref": self})
        self.httpd = _Server((host, port), handler)
        self.host, self.port = self.httpd.server_address[:2]
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> "InvokeServer":
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.2},
                                        name="lamctl-invoke-api", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self.httpd.serve_forever(poll_interval=0.2)

    def wait_background(self, timeout: float = 30.0) -> bool:
        """Wait for the asynchronous (Event) invocations in flight, retries included."""
        deadline = time.monotonic() + timeout
        with self._bg_lock:
            while self._background:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._bg_lock.wait(left)
        return True

    def close(self) -> None:
        if self._thread is not None:
            self.httpd.shutdown()
            self._thread.join(timeout=5)
        self.httpd.server_close()
        self.service.close()
        with self._bg_lock:
            threads = list(self._background)
        for t in threads:
            t.join(timeout=5)

    # -- asynchronous invocations ---------------------------------------------------------

    def run_event(self, name: str, payload: bytes, request_id: str) -> None:
        t = threading.Thread(target=self._event, args=(name, payload, request_id), daemon=True,
                             name=f"event-{request_id}")
        with self._bg_lock:
            self._background.add(t)
        t.start()

    def _event(self, name: str, payload: bytes, request_id: str) -> None:
        try:
            attempts = 1 + len(self.retry_delays)
            for attempt in range(attempts):
                result = None
                throttled_until = time.monotonic() + 60
                while result is None:
                    try:
                        result = self.service.invoke(name, payload, request_id=request_id)
                    except TooManyRequests:
                        if time.monotonic() > throttled_until or self.service.pool._closed:
                            self.log(f"{name} {request_id}: throttled for a minute; the event is dropped\n")
                            return
                        time.sleep(0.05)  # Lambda keeps a throttled event queued and tries again
                self.log(result.log)
                if result.ok:
                    return
                if attempt < len(self.retry_delays):
                    time.sleep(self.retry_delays[attempt])
        except Exception as exc:  # noqa: BLE001 - a background failure must not kill the server
            self.log(f"{name} {request_id}: asynchronous invocation failed: {exc}\n")
        finally:
            with self._bg_lock:
                self._background.discard(threading.current_thread())
                self._bg_lock.notify_all()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_ref: InvokeServer
    server_version = "lamctl"
    sys_version = ""

    def setup(self):
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format, *args):  # noqa: A002 - the signature is http.server's
        pass

    def _send(self, status: int, body: bytes = b"", headers: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if body:
            self.wfile.write(body)

    def _error(self, status: int, error_type: str, message: str, extra: dict | None = None) -> None:
        data = {"Type": "User", "message": message}
        data.update(extra or {})
        self._send(status, json.dumps(data).encode(),
                   {"X-Amzn-ErrorType": error_type, "x-amzn-RequestId": str(uuid.uuid4())})

    def do_GET(self):  # noqa: N802
        self._read_body()
        self._error(404, "UnknownOperationException", f"lamctl's local Lambda serves only Invoke, not GET {self.path}")

    do_PUT = do_DELETE = do_GET

    def _read_body(self) -> bytes | None:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def do_POST(self):  # noqa: N802
        srv = self.server_ref
        url = urlsplit(self.path)
        parts = url.path.split("/")
        length = int(self.headers.get("Content-Length") or 0)
        if len(parts) != 5 or parts[1] != "2015-03-31" or parts[2] != "functions" or parts[4] != "invocations":
            self._read_body()
            return self._error(404, "UnknownOperationException", f"unknown operation POST {url.path}")
        name = unquote(parts[3])
        qualifier = (parse_qs(url.query).get("Qualifier") or [None])[0]
        if ":" in name and not name.startswith("arn:"):
            name, _, qualifier = name.partition(":")
        elif name.startswith("arn:") and len(name.split(":")) > 7:
            qualifier = name.split(":")[7]
        kind = self.headers.get("X-Amz-Invocation-Type") or "RequestResponse"
        if kind not in ("RequestResponse", "Event", "DryRun"):
            self._read_body()
            return self._error(400, "InvalidParameterValueException",
                               f"X-Amz-Invocation-Type {kind!r} is not one of RequestResponse, Event, DryRun")
        limit = ASYNC_LIMIT if kind == "Event" else SYNC_LIMIT
        if length > limit:
            self._discard(length)
            return self._error(413, "RequestTooLargeException",
                               f"{length} byte payload is too large for the {kind} invocation type "
                               f"(limit {limit} bytes)")
        payload = self.rfile.read(length) if length else b""
        arn = f"arn:aws:lambda:{srv.region}:{ACCOUNT_ID}:function:{name}"
        try:
            logical = srv.service.resolve(name)
        except FunctionNotFound:
            return self._error(404, "ResourceNotFoundException",
                               f"Function not found: {arn}" + (f":{qualifier}" if qualifier else ""))
        except LamctlError as exc:
            srv.log(f"{name}: {exc}\n" + (f"  hint: {exc.hint}\n" if exc.hint else ""))
            status, etype = (502, "InvalidRuntimeException") if "not supported locally" in exc.message \
                else (500, "ServiceException")
            return self._error(status, etype, str(exc))
        if qualifier not in (None, "", "$LATEST"):
            return self._error(404, "ResourceNotFoundException",
                               f"Function not found: {arn}:{qualifier} (the local runtime serves $LATEST only)")
        if payload:
            try:
                json.loads(payload)
            except ValueError:
                return self._error(400, "InvalidRequestContentException",
                                   "Could not parse request body into json: the payload is not valid JSON")
        else:
            payload = b"{}"
        request_id = str(uuid.uuid4())
        if kind == "DryRun":
            return self._send(204, b"", {"x-amzn-RequestId": request_id})
        if kind == "Event":
            srv.run_event(logical, payload, request_id)
            return self._send(202, b"", {"x-amzn-RequestId": request_id})
        client_context = None
        raw_cc = self.headers.get("X-Amz-Client-Context")
        if raw_cc:
            try:
                client_context = base64.b64decode(raw_cc, validate=True).decode()
            except (binascii.Error, UnicodeDecodeError):
                return self._error(400, "InvalidParameterValueException",
                                   "X-Amz-Client-Context must be base64-encoded JSON")
        try:
            result = srv.service.pool.invoke(logical, payload, request_id=request_id, client_context=client_context,
                                             function_arn=arn + (f":{qualifier}" if qualifier else ""))
        except TooManyRequests as exc:
            reason = "ReservedFunctionConcurrentInvocationLimitExceeded" \
                if exc.reason == "ReservedConcurrentExecutions" else "ConcurrentInvocationLimitExceeded"
            return self._error(429, "TooManyRequestsException", "Rate Exceeded.",
                               {"Reason": reason, "retryAfterSeconds": "1"})
        srv.log(result.log)
        headers = {"X-Amz-Executed-Version": result.version, "x-amzn-RequestId": request_id}
        if not result.ok:
            headers["X-Amz-Function-Error"] = result.function_error
        if (self.headers.get("X-Amz-Log-Type") or "None") == "Tail":
            tail = result.log.encode()[-LOG_TAIL:]
            headers["X-Amz-Log-Result"] = base64.b64encode(tail).decode()
        self._send(200, result.payload, headers)

    def _discard(self, length: int) -> None:
        left = length
        while left > 0:
            chunk = self.rfile.read(min(left, 1 << 20))
            if not chunk:
                break
            left -= len(chunk)

