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
  400 ``InvalidParameterValueException`` (also for code the local runtime refuses:
  a zip whose entry escapes its folder, missing code or layer), 400
  ``InvalidRuntimeException`` (Lambda uses 502, which SDKs retry: a runtime
  that cannot run here never will).
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import socket
import threading
import time
import uuid
from urllib.parse import parse_qs, unquote, urlsplit

from lamctl.schemas.errors import LamctlError

from .pool import TooManyRequests
from .runtime_api import RequestReader, _write_response
from .service import FunctionNotFound, LocalLambda

SYNC_LIMIT = 6 * 1024 * 1024
ASYNC_LIMIT = 1024 * 1024
LOG_TAIL = 4096
# Lambda waits about one and then two minutes before its retries of a failed asynchronous
# invocation; locally the waits are short (the number of retries is the same).
DEFAULT_RETRY_DELAYS = (1.0, 2.0)


def split_function_name(name: str) -> tuple[str, str | None]:
    """(function, qualifier) from what Invoke accepts: ``name``, ``name:qualifier``, a full ARN or a partial
    one (``123456789012:function:name``), each with an optional qualifier. An ARN stays whole (less its
    qualifier); a plain name loses its qualifier."""
    parts = name.split(":")
    if name.startswith("arn:"):
        return ":".join(parts[:7]), (parts[7] or None) if len(parts) > 7 else None
    if len(parts) >= 3 and parts[1] == "function":
        return ":".join(parts[:3]), (parts[3] or None) if len(parts) > 3 else None
    if len(parts) == 2:
        return parts[0], parts[1] or None
    return name, None


class InvokeHandler:
    """The Invoke API's logic, apart from any server: :meth:`handle` answers one request.

    ``service`` resolves names (``service.target(name, qualifier, headers)``) and owns the pool
    of environments (``service.pool``): :class:`~lamctl.local.runtime.service.LocalLambda` serves a
    template's functions (``start-lambda``), :class:`~lamctl.local.cloud.lambdas.CloudLambda` the
    functions deployed to the local cloud."""

    def __init__(self, service, retry_delays: tuple[float, ...] = DEFAULT_RETRY_DELAYS, log=None):
        self.service = service
        self.retry_delays = tuple(retry_delays)
        self.log = log or (lambda text: None)
        self._background: set[threading.Thread] = set()
        self._bg_lock = threading.Condition()
        self._closed = threading.Event()

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
        """Stop every environment; background invocations end."""
        self._closed.set()
        self.service.close()
        with self._bg_lock:
            threads = list(self._background)
        for t in threads:
            t.join(timeout=5)

    # -- asynchronous invocations ---------------------------------------------------------

    def run_event(self, name: str, qualifier: str | None, headers: dict, payload: bytes, request_id: str) -> None:
        t = threading.Thread(target=self._event, args=(name, qualifier, headers, payload, request_id), daemon=True,
                             name=f"event-{request_id}")
        with self._bg_lock:
            self._background.add(t)
        t.start()

    def _event(self, name: str, qualifier: str | None, headers: dict, payload: bytes, request_id: str) -> None:
        try:
            attempts = 1 + len(self.retry_delays)
            for attempt in range(attempts):
                result = None
                throttled_until = time.monotonic() + 60
                while result is None:
                    try:
                        # resolved again for each attempt: an alias with weights picks a version each time
                        target = self.service.target(name, qualifier, headers)
                        result = self.service.pool.invoke(target.key, payload, request_id=request_id,
                                                          function_arn=target.arn)
                    except TooManyRequests:
                        if time.monotonic() > throttled_until or self._closed.is_set():
                            self.log(f"{name} {request_id}: throttled for a minute; the event is dropped\n")
                            return
                        time.sleep(0.05)  # Lambda keeps a throttled event queued and tries again
                self.log(result.log)
                if result.ok:
                    return
                if attempt < len(self.retry_delays):
                    if self._closed.wait(self.retry_delays[attempt]):
                        return
        except Exception as exc:  # noqa: BLE001 - a background failure must not kill the server
            if not self._closed.is_set():
                self.log(f"{name} {request_id}: asynchronous invocation failed: {exc}\n")
        finally:
            with self._bg_lock:
                self._background.discard(threading.current_thread())
                self._bg_lock.notify_all()

    # -- requests --------------------------------------------------------------------------

    def _refused(self, name: str, exc: LamctlError):
        """What the function's code or configuration makes impossible (a zip refused, a runtime that cannot run
        here, missing code or layer): trying again cannot fix it, so it is a 4xx, which SDKs do not retry (a 5xx
        they retry several times, backing off). Lambda answers InvalidRuntimeException with 502; here it is 400
        for that reason."""
        self.log(f"{name}: {exc}\n" + (f"  hint: {exc.hint}\n" if exc.hint else ""))
        etype = "InvalidRuntimeException" if "not supported locally" in exc.message \
            else "InvalidParameterValueException"
        return _error(400, etype, str(exc) + (f" ({exc.hint})" if exc.hint else ""))

    def handle(self, method: str, target: str, headers: dict, payload: bytes):
        """(status, headers, body) for one request; ``headers`` has lower-case names."""
        url = urlsplit(target)
        parts = url.path.split("/")
        if method != "POST" or len(parts) != 5 or parts[1] != "2015-03-31" or parts[2] != "functions" \
                or parts[4] != "invocations":
            return _error(404, "UnknownOperationException",
                          f"lamctl's local Lambda serves only Invoke, not {method} {url.path}")
        name = unquote(parts[3])
        given = (parse_qs(url.query).get("Qualifier") or [None])[0]
        name, derived = split_function_name(name)
        if given and derived and given != derived:
            return _error(400, "InvalidParameterValueException",
                          "The derived qualifier from the function name does not match the specified qualifier.")
        qualifier = derived or given
        kind = headers.get("x-amz-invocation-type") or "RequestResponse"
        if kind not in ("RequestResponse", "Event", "DryRun"):
            return _error(400, "InvalidParameterValueException",
                          f"X-Amz-Invocation-Type {kind!r} is not one of RequestResponse, Event, DryRun")
        limit = ASYNC_LIMIT if kind == "Event" else SYNC_LIMIT
        if len(payload) > limit:
            return _error(413, "RequestTooLargeException",
                          f"{len(payload)} byte payload is too large for the {kind} invocation type "
                          f"(limit {limit} bytes)")
        try:
            target = self.service.target(name, qualifier or None, headers)
        except FunctionNotFound as exc:
            return _error(404, "ResourceNotFoundException", f"Function not found: {exc.arn or name}"
                          + (f" ({exc.detail})" if exc.detail else ""))
        except LamctlError as exc:
            return self._refused(name, exc)
        if payload:
            try:
                json.loads(payload)
            except ValueError:
                return _error(400, "InvalidRequestContentException",
                              "Could not parse request body into json: the payload is not valid JSON")
        else:
            payload = b"{}"
        request_id = str(uuid.UUID(bytes=os.urandom(16), version=4))
        if kind == "DryRun":
            return 204, [("x-amzn-RequestId", request_id)], b""
        if kind == "Event":
            self.run_event(name, qualifier or None, headers, payload, request_id)
            return 202, [("x-amzn-RequestId", request_id)], b""
        client_context = None
        raw_cc = headers.get("x-amz-client-context")
        if raw_cc:
            try:
                client_context = base64.b64decode(raw_cc, validate=True).decode()
            except (binascii.Error, UnicodeDecodeError):
                return _error(400, "InvalidParameterValueException",
                              "X-Amz-Client-Context must be base64-encoded JSON")
        try:
            result = self.service.pool.invoke(target.key, payload, request_id=request_id,
                                              client_context=client_context, function_arn=target.arn)
        except LamctlError as exc:
            return self._refused(name, exc)
        except TooManyRequests as exc:
            reason = "ReservedFunctionConcurrentInvocationLimitExceeded" \
                if exc.reason == "ReservedConcurrentExecutions" else "ConcurrentInvocationLimitExceeded"
            return _error(429, "TooManyRequestsException", "Rate Exceeded.",
                          {"Reason": reason, "retryAfterSeconds": "1"})
        self.log(result.log)
        out = [("Content-Type", "application/json"), ("X-Amz-Executed-Version", result.version),
               ("x-amzn-RequestId", request_id)]
        if not result.ok:
            out.append(("X-Amz-Function-Error", result.function_error))
        if (headers.get("x-amz-log-type") or "None") == "Tail":
            tail = result.log.encode()[-LOG_TAIL:]
            out.append(("X-Amz-Log-Result", base64.b64encode(tail).decode()))
        return 200, out, result.payload



class InvokeServer(InvokeHandler):
    """The Invoke API over a small HTTP/1.1 server: a thread per kept-alive connection, TCP_NODELAY."""

    def __init__(self, service: LocalLambda, host: str = "127.0.0.1", port: int = 3001,
                 retry_delays: tuple[float, ...] = DEFAULT_RETRY_DELAYS, log=None):
        super().__init__(service, retry_delays=retry_delays, log=log)
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self._sock.bind((host, port))
            self._sock.listen(128)
        except OSError:
            self._sock.close()
            raise
        self.host, self.port = self._sock.getsockname()[:2]
        self._conns: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> "InvokeServer":
        self._thread = threading.Thread(target=self.serve_forever, name="lamctl-invoke-api", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Accept connections until :meth:`close` (or a KeyboardInterrupt in the calling thread)."""
        while not self._closed.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                self._conns.add(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        reader = RequestReader(conn)
        try:
            while True:
                request = reader.read()
                if request is None:
                    return
                method, target, headers, body = request
                status, reply_headers, reply = self.handle(method, target, headers, body)
                _write_response(conn, status, reply_headers, reply)
                if headers.get("connection", "").lower() == "close":
                    return
        except (OSError, ValueError):
            return
        finally:
            with self._lock:
                self._conns.discard(conn)
            try:
                conn.close()
            except OSError:
                pass

    def close(self) -> None:
        """Stop accepting, close every connection, stop every environment."""
        self._closed.set()
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._sock.close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        with self._lock:
            conns = list(self._conns)
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        super().close()


def _error(status: int, error_type: str, message: str, extra: dict | None = None):
    data = {"Type": "User", "message": message}
    data.update(extra or {})
    return status, [("Content-Type", "application/json"), ("X-Amzn-ErrorType", error_type),
                    ("x-amzn-RequestId", str(uuid.uuid4()))], json.dumps(data).encode()
