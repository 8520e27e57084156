"""The Lambda Invoke API on 127.0.0.1, for ``lamctl local start-lambda``.

boto3 and the AWS CLI work against it with ``--endpoint-url``::

    POST /2015-03-31/functions/{FunctionName}/invocations[?Qualifier=Q]

* ``X-Amz-Invocation-Type``: ``RequestResponse`` (default) answers 200 with the
  payload; ``Event`` answers 202 at once and runs the invocation in the
  background: retried on error after a short delay as the function's asynchronous configuration says
  (``MaximumRetryAttempts``, 2 by default; ``MaximumEventAgeInSeconds``), a throttled attempt kept
  queued, then the invocation record sent to the ``OnSuccess`` / ``OnFailure`` destination and a
  failed event to the dead-letter queue (when the service delivers them: the local cloud's does);
  ``DryRun`` answers 204.
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
import datetime
import json
import os
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit

from lamctl.schemas.errors import LamctlError

from .pool import TooManyRequests
from .runtime_api import RequestReader, _write_response
from .service import FunctionNotFound, LocalLambda

SYNC_LIMIT = 6 * 1024 * 1024
ASYNC_LIMIT = 1024 * 1024
LOG_TAIL = 4096
# Lambda waits about one and then two minutes before its retries of a failed asynchronous
# invocation; locally the waits are short (the number of retries is the function's
# MaximumRetryAttempts, 2 by default). LAMCTL_RETRY_DELAYS="1,2" sets them for the local cloud.
DEFAULT_RETRY_DELAYS = (1.0, 2.0)
MAX_EVENT_AGE = 21600.0  # six hours: Lambda's default MaximumEventAgeInSeconds


@dataclass(frozen=True)
class AsyncConfig:
    """What a function's asynchronous invocation configuration asks for (PutFunctionEventInvokeConfig,
    DeadLetterConfig): retries (0-2), the maximum age of an event (seconds), destinations and dead-letter
    target (ARNs)."""

    max_retries: int = 2
    max_age: float = MAX_EVENT_AGE
    on_success: str | None = None
    on_failure: str | None = None
    dead_letter: str | None = None


def _json_or_text(data: bytes | None):
    if data is None:
        return None
    try:
        return json.loads(data)
    except ValueError:
        return data.decode(errors="replace")


def _error_message(result) -> str:
    """The error a failed invocation reported (its errorMessage), for a dead-letter message's ErrorMessage."""
    if result is None:
        return "Event age exceeded"
    answer = _json_or_text(result.payload)
    if isinstance(answer, dict) and answer.get("errorMessage"):
        return str(answer["errorMessage"])[:1024]
    return str(result.function_error or "Unhandled")


def invocation_record(request_id: str, function_arn: str, condition: str, attempts: int, payload: bytes, result,
                      received: float) -> bytes:
    """The invocation record Lambda sends to an asynchronous invocation's destination."""
    stamp = datetime.datetime.fromtimestamp(received, datetime.timezone.utc)
    record: dict = {
        "version": "1.0",
        "timestamp": stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z",
        "requestContext": {"requestId": request_id, "functionArn": function_arn, "condition": condition,
                           "approximateInvokeCount": attempts},
        "requestPayload": _json_or_text(payload),
    }
    if result is not None:
        response = {"statusCode": 200, "executedVersion": result.version}
        if not result.ok:
            response["functionError"] = result.function_error or "Unhandled"
        record["responseContext"] = response
        record["responsePayload"] = _json_or_text(result.payload)
    return json.dumps(record).encode()


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

    def __init__(self, service, retry_delays: tuple[float, ...] = DEFAULT_RETRY_DELAYS, log=None, clock=None):
        self.service = service
        # the retry waits and an event's age: the machine's time, or an injected clock (``monotonic``, ``sleep``)
        self.clock = clock
        self.retry_delays = tuple(retry_delays)
        self.log = log or (lambda text: None)
        self._background: set[threading.Thread] = set()
        self._pending: dict[str, dict] = {}
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

    def pending(self) -> list[dict]:
        """The asynchronous events not finished yet: request ID, function, attempts so far, state."""
        with self._bg_lock:
            return [dict(v) for v in self._pending.values()]

    def run_event(self, name: str, qualifier: str | None, headers: dict, payload: bytes, request_id: str) -> None:
        t = threading.Thread(target=self._event, args=(name, qualifier, headers, payload, request_id), daemon=True,
                             name=f"event-{request_id}")
        with self._bg_lock:
            self._background.add(t)
            self._pending[request_id] = {"request_id": request_id, "function": name, "qualifier": qualifier,
                                         "attempts": 0, "state": "queued"}
        t.start()

    def _config(self, name: str, qualifier: str | None, headers: dict) -> AsyncConfig:
        reader = getattr(self.service, "async_config", None)
        return reader(name, qualifier, headers) if reader is not None else AsyncConfig()

    def _monotonic(self) -> float:
        return self.clock.monotonic() if self.clock is not None else time.monotonic()

    def _wait(self, seconds: float) -> bool:
        """Wait ``seconds``; True when the handler closed meanwhile."""
        if self.clock is not None:
            self.clock.sleep(seconds)
            return self._closed.is_set()
        return self._closed.wait(seconds)

    def _delay(self, retry: int) -> float:
        if not self.retry_delays:
            return 0.0
        return self.retry_delays[min(retry, len(self.retry_delays) - 1)]

    def _mark(self, request_id: str, **changes) -> None:
        with self._bg_lock:
            if request_id in self._pending:
                self._pending[request_id].update(changes)

    def _attempt(self, name: str, qualifier: str | None, headers: dict, payload: bytes, request_id: str,
                 deadline: float):
        """One attempt, a throttled one tried again (as Lambda keeps a throttled event queued) until the event's
        maximum age; None when the event grew too old (or the server stopped) first."""
        while True:
            try:
                # resolved again for each attempt: an alias with weights picks a version each time
                target = self.service.target(name, qualifier, headers)
                return self.service.pool.invoke(target.key, payload, request_id=request_id, function_arn=target.arn)
            except TooManyRequests:
                self._mark(request_id, state="throttled")
                if self._monotonic() > deadline or self._wait(0.05):
                    return None

    def _event(self, name: str, qualifier: str | None, headers: dict, payload: bytes, request_id: str) -> None:
        try:
            config = self._config(name, qualifier, headers)
            received = time.time()
            deadline = self._monotonic() + config.max_age
            attempts, result, condition = 0, None, "RetriesExhausted"
            while True:
                self._mark(request_id, state="running")
                outcome = self._attempt(name, qualifier, headers, payload, request_id, deadline)
                if self._closed.is_set():
                    return
                if outcome is None:
                    condition = "EventAgeExceeded"
                    break
                result = outcome
                attempts += 1
                self._mark(request_id, attempts=attempts)
                self.log(result.log)
                if result.ok:
                    condition = "Success"
                    break
                if attempts > config.max_retries:
                    break
                self._mark(request_id, state="waiting to retry")
                if self._wait(self._delay(attempts - 1)):
                    return
                if self._monotonic() > deadline:
                    condition = "EventAgeExceeded"
                    break
            self._settle(name, qualifier, headers, payload, request_id, config, condition, attempts, result,
                         received)
        except Exception as exc:  # noqa: BLE001 - a background failure must not kill the server
            if not self._closed.is_set():
                self.log(f"{name} {request_id}: asynchronous invocation failed: {exc}\n")
        finally:
            with self._bg_lock:
                self._pending.pop(request_id, None)
                self._background.discard(threading.current_thread())
                self._bg_lock.notify_all()

    def _settle(self, name: str, qualifier: str | None, headers: dict, payload: bytes, request_id: str,
                config: AsyncConfig, condition: str, attempts: int, result, received: float) -> None:
        """Where an event goes once Lambda is done with it: the OnSuccess or OnFailure destination (the invocation
        record), and after a failure the dead-letter queue (the event itself)."""
        success = condition == "Success"
        if not success:
            why = "failed on every attempt" if condition == "RetriesExhausted" else "was older than its maximum age"
            self.log(f"{name} {request_id}: the event {why} ({attempts} attempt(s)); it is discarded\n")
        destination = config.on_success if success else config.on_failure
        deliver = getattr(self.service, "deliver", None)
        if destination:
            record = invocation_record(request_id, self._function_arn(name, result, headers), condition, attempts,
                                       payload, result, received)
            self._send(deliver, destination, record, headers, request_id, kind="destination", success=success)
        if not success and config.dead_letter:
            error = _error_message(result)
            self._send(deliver, config.dead_letter, payload, headers, request_id, kind="dead-letter",
                       success=False, error=error)

    def _function_arn(self, name: str, result, headers: dict) -> str:
        try:
            target = self.service.target(name, None, headers)
            unqualified = ":".join(target.arn.split(":")[:7])
        except Exception:  # noqa: BLE001 - the function went away meanwhile
            unqualified = name
        return f"{unqualified}:{result.version}" if result is not None else unqualified

    def _send(self, deliver, arn: str, body: bytes, headers: dict, request_id: str, **kwargs) -> None:
        try:
            if ":lambda:" in arn:  # a function as destination: invoked asynchronously with the record
                self.run_event(arn, None, headers, body, str(uuid.uuid4()))
            elif deliver is not None:
                deliver(arn, body, request_id, headers=headers, **kwargs)
            else:
                raise LamctlError(f"no service here delivers to {arn}")
        except Exception as exc:  # noqa: BLE001 - Lambda counts a DestinationDeliveryFailure and goes on
            self.log(f"{request_id}: could not deliver to {arn}: {exc}\n")

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
