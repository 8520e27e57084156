"""The Lambda Runtime API (version 2018-06-01), served on loopback to one function process.

Each execution environment gets its own :class:`RuntimeAPI` (its own port: the
API's paths carry no function or environment name, so the address is what
tells environments apart). The function process finds it through
``AWS_LAMBDA_RUNTIME_API`` and speaks the protocol any Lambda runtime speaks:

* ``GET  /2018-06-01/runtime/invocation/next`` blocks until an invocation is
  handed over; 200 with the event as body and the ``Lambda-Runtime-*`` headers.
* ``POST /2018-06-01/runtime/invocation/{id}/response`` -> 202 ``{"status":"OK"}``;
  400 for a request ID that is not the current one, 403 when no invocation is
  in flight or it already has its result, 413 over 6 MB.
* ``POST /2018-06-01/runtime/invocation/{id}/error`` -> 202; same 400/403.
* ``POST /2018-06-01/runtime/init/error`` -> 202; 403 once init is over.

Error bodies are Lambda's ``{"errorMessage": ..., "errorType": ...}``. Success
and failure are told apart by the endpoint the runtime called, never by the
body. Sockets set ``TCP_NODELAY``: a runtime keeps one connection open for all
its calls, and Nagle's algorithm would otherwise hold each small reply back.

The server is deliberately small (a blocking accept loop, a thread per
connection, a minimal HTTP/1.1 parser): one connection per environment is the
normal case, and the round trip has to cost well under a millisecond.
"""

from __future__ import annotations

import json
import os
import re
import socket
import threading
import time
from dataclasses import dataclass, field

API_VERSION = "2018-06-01"
PREFIX = f"/{API_VERSION}/runtime"
MAX_RESPONSE_BYTES = 6 * 1024 * 1024
ERROR_TYPE_HEADER = "lambda-runtime-function-error-type"


@dataclass
class Invocation:
    """One request handed to a runtime, and what the runtime answered."""

    request_id: str
    payload: bytes
    function_arn: str
    timeout_s: float
    trace_id: str = ""
    client_context: str | None = None
    cognito_identity: str | None = None
    # filled in as the invocation goes
    deadline_ms: int = 0
    started: float | None = None  # time.monotonic() when the runtime took it
    finished: float | None = None
    status: str | None = None  # "response" or "error"
    body: bytes = b""
    error_type: str | None = None
    done: threading.Event = field(default_factory=threading.Event, repr=False)


class RuntimeAPI:
    """The Runtime API of one execution environment.

    ``notify`` is called (from a server thread) whenever something the
    environment waits for happens: the runtime asked for its first invocation
    (init is over), an invocation got its result, or init failed.
    """

    def __init__(self, notify=None, host: str = "127.0.0.1", on_ready=None):
        self._notify = notify or (lambda: None)
        self._on_ready = on_ready  # called in the server thread at the first /next, before any handoff
        self._lock = threading.Condition()
        self._pending: Invocation | None = None  # handed over by the environment, not yet taken
        self._current: Invocation | None = None  # taken by the runtime, no result yet
        self._closed = False
        self.ready_at: float | None = None  # time.monotonic() of the first /next
        self.init_error: dict | None = None
        self.init_error_type: str | None = None
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((host, 0))
        self._sock.listen(16)
        self.address = "%s:%d" % self._sock.getsockname()[:2]
        self._conns: set[socket.socket] = set()
        self._thread = threading.Thread(target=self._accept_loop, name=f"runtime-api-{self.address}", daemon=True)
        self._thread.start()

    # -- the environment's side -------------------------------------------------

    def submit(self, invocation: Invocation) -> None:
        """Hand an invocation over; the runtime's (pending or next) GET /next takes it."""
        with self._lock:
            if self._pending is not None or self._current is not None:
                raise RuntimeError("an execution environment runs one invocation at a time")
            self._pending = invocation
            self._lock.notify_all()

    def abandon(self) -> None:
        """Forget the invocation in flight (it timed out or the process died)."""
        with self._lock:
            self._pending = None
            self._current = None

    @property
    def ready(self) -> bool:
        return self.ready_at is not None

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._lock.notify_all()
            conns = list(self._conns)
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._sock.close()
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._thread.join(timeout=2)

    # -- the server ---------------------------------------------------------------

    def _accept_loop(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                if self._closed:
                    conn.close()
                    return
                self._conns.add(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        reader = RequestReader(conn)
        try:
            while True:
                request = reader.read()
                if request is None:
                    return
                method, path, headers, body = request
                status, reply_headers, reply = self._route(method, path, headers, body)
                if status is None:  # closed while waiting
                    return
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

    def _route(self, method: str, path: str, headers: dict, body: bytes):
        path = path.split("?", 1)[0]
        if not path.startswith(PREFIX + "/"):
            return _error(404, "NotFound", f"no such Runtime API path {path} (the API version is {API_VERSION})")
        rest = path[len(PREFIX) + 1:]
        if rest == "invocation/next":
            if method != "GET":
                return _error(405, "MethodNotAllowed", "invocation/next takes GET")
            return self._next()
        if rest == "init/error":
            if method != "POST":
                return _error(405, "MethodNotAllowed", "init/error takes POST")
            return self._init_error(headers, body)
        parts = rest.split("/")
        if len(parts) == 3 and parts[0] == "invocation" and parts[2] in ("response", "error"):
            if method != "POST":
                return _error(405, "MethodNotAllowed", f"invocation/{{id}}/{parts[2]} takes POST")
            return self._result(parts[1], parts[2], headers, body)
        return _error(404, "NotFound", f"no such Runtime API path {path}")

    def _next(self):
        with self._lock:
            if self.ready_at is None:
                self.ready_at = time.monotonic()
                first = True
            else:
                first = False
        if first:
            if self._on_ready is not None:
                self._on_ready()
            self._notify()
        with self._lock:
            while self._pending is None and not self._closed:
                self._lock.wait()
            if self._closed:
                return None, None, None
            inv = self._pending
            self._pending = None
            self._current = inv
            inv.started = time.monotonic()
            inv.deadline_ms = int(time.time() * 1000 + inv.timeout_s * 1000)
        headers = [
            ("Content-Type", "application/json"),
            ("Lambda-Runtime-Aws-Request-Id", inv.request_id),
            ("Lambda-Runtime-Deadline-Ms", str(inv.deadline_ms)),
            ("Lambda-Runtime-Invoked-Function-Arn", inv.function_arn),
            ("Lambda-Runtime-Trace-Id", inv.trace_id),
        ]
        if inv.client_context:
            headers.append(("Lambda-Runtime-Client-Context", inv.client_context))
        if inv.cognito_identity:
            headers.append(("Lambda-Runtime-Cognito-Identity", inv.cognito_identity))
        return 200, headers, inv.payload

    def _result(self, request_id: str, kind: str, headers: dict, body: bytes):
        with self._lock:
            inv = self._current
            if inv is None:
                if self._pending is not None and self._pending.request_id == request_id:
                    return _error(403, "InvalidStateTransition",
                                  f"invocation {request_id} has not been handed to the runtime yet")
                return _error(400, "InvalidRequestID", f"no invocation with request ID {request_id!r} is in flight")
            if inv.request_id != request_id:
                return _error(400, "InvalidRequestID",
                              f"request ID {request_id!r} is not the invocation in flight")
            if kind == "response" and len(body) > MAX_RESPONSE_BYTES:
                self._current = None
                inv.status = "error"
                inv.error_type = "Function.ResponseSizeTooLarge"
                inv.body = json.dumps({
                    "errorMessage": f"Response payload size ({len(body)} bytes) exceeded maximum allowed payload "
                                    f"size ({MAX_RESPONSE_BYTES} bytes).",
                    "errorType": "Function.ResponseSizeTooLarge",
                }).encode()
                inv.finished = time.monotonic()
                reply = _error(413, "RequestEntityTooLarge",
                               f"Exceeded maximum allowed payload size ({MAX_RESPONSE_BYTES} bytes).")
            else:
                self._current = None
                inv.status = kind
                inv.body = body
                if kind == "error":
                    inv.error_type = headers.get(ERROR_TYPE_HEADER) or _error_type_of(body) or "Unhandled"
                inv.finished = time.monotonic()
                reply = 202, [("Content-Type", "application/json")], b'{"status":"OK"}'
        inv.done.set()
        self._notify()
        return reply

    def _init_error(self, headers: dict, body: bytes):
        with self._lock:
            if self.ready_at is not None:
                return _error(403, "InvalidStateTransition",
                              "init/error after the runtime asked for an invocation: init is over")
            try:
                data = json.loads(body or b"{}")
                if not isinstance(data, dict):
                    raise ValueError
            except ValueError:
                data = {"errorMessage": body.decode("utf-8", "replace"), "errorType": "Runtime.Unknown"}
            self.init_error_type = headers.get(ERROR_TYPE_HEADER) or data.get("errorType") or "Runtime.Unknown"
            self.init_error = data
        self._notify()
        return 202, [("Content-Type", "application/json")], b'{"status":"OK"}'


def _error_type_of(body: bytes) -> str | None:
    try:
        data = json.loads(body)
    except ValueError:
        return None
    return data.get("errorType") if isinstance(data, dict) else None


def _error(status: int, error_type: str, message: str):
    body = json.dumps({"errorMessage": message, "errorType": error_type}).encode()
    return status, [("Content-Type", "application/json")], body


_REASONS = {200: "OK", 202: "Accepted", 204: "No Content", 400: "Bad Request", 403: "Forbidden",
            404: "Not Found", 405: "Method Not Allowed", 413: "Payload Too Large", 429: "Too Many Requests",
            500: "Internal Server Error", 502: "Bad Gateway"}


def _write_response(conn: socket.socket, status: int, headers, body: bytes) -> None:
    head = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Unknown')}"]
    head.extend(f"{k}: {v}" for k, v in headers)
    head.append(f"Content-Length: {len(body)}")
    data = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body
    conn.sendall(data)


MAX_HEAD = 65536
_HEADER = re.compile(r"^([^:\r\n]+?)[ \t]*:[ \t]*(.*?)[ \t]*\r?$", re.M)
MAX_BODY = 64 * 1024 * 1024


class RequestReader:
    """Reads HTTP/1.1 requests off one connection: the header block in one piece, then the body.

    Fewer calls than a line-by-line file reader, which matters at a millisecond per invocation."""

    __slots__ = ("sock", "buf")

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.buf = bytearray()

    def _fill(self) -> bool:
        chunk = self.sock.recv(262144)
        if not chunk:
            return False
        self.buf += chunk
        return True

    def _line(self) -> bytes | None:
        while True:
            i = self.buf.find(b"\r\n")
            if i >= 0:
                line = bytes(self.buf[:i])
                del self.buf[:i + 2]
                return line
            if len(self.buf) > MAX_HEAD or not self._fill():
                return None

    def _exactly(self, n: int) -> bytes | None:
        while len(self.buf) < n:
            if not self._fill():
                return None
        data = bytes(self.buf[:n])
        del self.buf[:n]
        return data

    def read(self):
        """(method, path, headers with lower-case names, body), or None at the end of the connection."""
        buf = self.buf
        while buf.startswith(b"\r\n"):  # tolerate stray blank lines between requests
            del buf[:2]
        while True:
            end = buf.find(b"\r\n\r\n")
            if end >= 0:
                break
            if len(buf) > MAX_HEAD:
                raise ValueError("header block too large")
            if not self._fill():
                return None
            while buf.startswith(b"\r\n"):
                del buf[:2]
        head = buf[:end].decode("latin-1")
        del buf[:end + 4]
        request_line, _, rest = head.partition("\r\n")
        parts = request_line.split()
        if len(parts) != 3:
            raise ValueError("bad request line")
        method, path, _version = parts
        headers = {name.lower(): value for name, value in _HEADER.findall(rest)} if rest else {}
        if headers.get("transfer-encoding", "").lower() == "chunked":
            self._continue(headers)
            chunks = []
            total = 0
            while True:
                size_line = self._line()
                if size_line is None:
                    return None
                size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while True:  # trailers, up to the empty line
                        trailer = self._line()
                        if not trailer:
                            break
                    break
                total += size
                if total > MAX_BODY:
                    raise ValueError("body too large")
                data = self._exactly(size + 2)
                if data is None:
                    return None
                chunks.append(data[:-2])
            body = b"".join(chunks)
        else:
            length = int(headers.get("content-length") or 0)
            if length > MAX_BODY:
                raise ValueError("body too large")
            if length and len(buf) < length:
                self._continue(headers)
            body = self._exactly(length) if length else b""
            if body is None:
                return None
        return method, path, headers, body

    def _continue(self, headers: dict) -> None:
        if headers.get("expect", "").lower() == "100-continue" and not self.buf:
            self.sock.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")  # curl waits for it before a large body
