"""The Lambda Runtime API (version 2018-06-01), served on loopback to one function process.

Each execution environment gets its own :class:`RuntimeAPI` (its own port: the
API's paths carry no function or environment name, so the address is what
tells environments apart). The function process finds it through
``AWS_LAMBDA_RUNTIME_API`` and speaks the protocol any Lambda runtime speaks:

* ``GET  /2018-06-01/runtime/invocation/next`` blocks until an invocation is
  handed over; 200 with the event as body and the ``Lambda-Runtime-*`` headers.
* ``POST /2018-06-01/runtime/invocation/{id}/response`` -> 202 ``{"status":"OK"}``;
  400 for a request ID that is not the current one, 403 when no invocation is
  in flight or it already has its result. A response over 6 MB fails the
  invocation with ``Function.ResponseSizeTooLarge`` (what the caller sees on
  Lambda) and is answered 202 all the same: Lambda answers 413 there, on which
  AWS's Python runtime client raises and dies with a traceback in the log; here
  the invocation ends cleanly and the environment stays warm.
* ``POST /2018-06-01/runtime/invocation/{id}/error`` -> 202; same 400/403.
* ``POST /2018-06-01/runtime/init/error`` -> 202; 403 once init is over.

Error bodies are Lambda's ``{"errorMessage": ..., "errorType": ...}``. Success
and failure are told apart by the endpoint the runtime called, never by the
body. Sockets set ``TCP_NODELAY``: a runtime keeps one connection open for all
its calls, and Nagle's algorithm would otherwise hold each small reply back.

The server is deliberately small and event driven (non-blocking accept, one
parser per connection, a ``GET /next`` parked until there is something to
hand over). An environment registers the API's sockets on its own selector,
so the thread that waits for an invocation also serves the runtime: no
hand-off between threads, which keeps a warm round trip well under a
millisecond. Standing alone (no selector given), the API runs its own thread.
"""

from __future__ import annotations

import json
import re
import selectors
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

    Event driven: :meth:`on_readable` handles whatever a socket of the API has
    to say (a new connection, a request) and answers at once, except a
    ``GET /next`` with nothing to hand over, which is parked until
    :meth:`submit`. Given a ``selector``, the API registers its sockets there
    (``data`` is :data:`SOCKET_TAG`) and the owner calls :meth:`on_readable`
    from its own loop: an environment then serves its runtime from the very
    thread that waits for the invocation, with no hand-off between threads.
    Without one, a thread of its own runs the loop.

    ``notify`` is called whenever something the environment waits for
    happens: the runtime asked for its first invocation (init is over), an
    invocation got its result, or init failed. ``on_ready`` runs at the first
    ``/next``, before anything is handed over.
    """

    SOCKET_TAG = "runtime-api"

    def __init__(self, notify=None, host: str = "127.0.0.1", on_ready=None, selector=None):
        self._notify = notify or (lambda: None)
        self._on_ready = on_ready
        self._lock = threading.RLock()
        self._pending: Invocation | None = None  # handed over by the environment, not yet taken
        self._current: Invocation | None = None  # taken by the runtime, no result yet
        self._parked: socket.socket | None = None  # a connection whose GET /next waits for an invocation
        self._closed = False
        self.ready_at: float | None = None  # time.monotonic() of the first /next
        self.init_error: dict | None = None
        self.init_error_type: str | None = None
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((host, 0))
        self._sock.listen(16)
        self._sock.setblocking(False)
        self.address = "%s:%d" % self._sock.getsockname()[:2]
        self._readers: dict[socket.socket, RequestReader] = {}
        self._thread: threading.Thread | None = None
        if selector is None:
            self._sel = selectors.DefaultSelector()
            self._wake_r, self._wake_w = socket.socketpair()
            self._sel.register(self._wake_r, selectors.EVENT_READ, "wake")
            self._thread = threading.Thread(target=self._loop, name=f"runtime-api-{self.address}", daemon=True)
        else:
            self._sel = selector
        self._sel.register(self._sock, selectors.EVENT_READ, self.SOCKET_TAG)
        if self._thread is not None:
            self._thread.start()

    @property
    def _conns(self) -> set[socket.socket]:
        return set(self._readers)

    # -- the environment's side -------------------------------------------------

    def submit(self, invocation: Invocation) -> None:
        """Hand an invocation over: to the parked GET /next at once, or to the next one."""
        with self._lock:
            if self._pending is not None or self._current is not None:
                raise RuntimeError("an execution environment runs one invocation at a time")
            parked, self._parked = self._parked, None
            if parked is None:
                self._pending = invocation
                return
            self._hand_over(parked, invocation)

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
            if self._closed:
                return
            self._closed = True
            socks = [self._sock] + list(self._readers)
            self._readers.clear()
            self._parked = None
        for sock in socks:
            try:
                self._sel.unregister(sock)
            except (KeyError, ValueError, OSError):
                pass
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()
        if self._thread is not None:
            try:
                self._wake_w.send(b"x")
            except OSError:
                pass
            if self._thread is not threading.current_thread():
                self._thread.join(timeout=2)
            self._sel.close()
            self._wake_r.close()
            self._wake_w.close()

    # -- the server ---------------------------------------------------------------

    def _loop(self) -> None:
        while not self._closed:
            try:
                events = self._sel.select()
            except (OSError, ValueError):
                return
            for key, _ in events:
                if key.data == "wake":
                    return
                self.on_readable(key.fileobj)

    def on_readable(self, sock) -> None:
        """Serve what ``sock`` (one of this API's sockets, as registered) has to say, without blocking."""
        if self._closed:
            return
        if sock is self._sock:
            while True:
                try:
                    conn, _ = self._sock.accept()
                except (BlockingIOError, InterruptedError):
                    return
                except OSError:
                    return
                conn.setblocking(True)
                conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                with self._lock:
                    self._readers[conn] = RequestReader(conn)
                self._sel.register(conn, selectors.EVENT_READ, self.SOCKET_TAG)
            return
        reader = self._readers.get(sock)
        if reader is None:
            return
        try:
            data = sock.recv(262144)
        except OSError:
            data = b""
        if not data:
            self._drop(sock)
            return
        reader.buf += data
        try:
            while True:
                request = reader.parse()
                if request is None:
                    return
                method, path, headers, body = request
                reply = self._route(sock, method, path, headers, body)
                if reply is not None:
                    _write_response(sock, *reply)
                if headers.get("connection", "").lower() == "close":
                    self._drop(sock)
                    return
        except (OSError, ValueError):
            self._drop(sock)

    def _drop(self, sock) -> None:
        with self._lock:
            self._readers.pop(sock, None)
            if self._parked is sock:
                self._parked = None
        try:
            self._sel.unregister(sock)
        except (KeyError, ValueError, OSError):
            pass
        sock.close()

    def _hand_over(self, sock, inv: Invocation) -> None:
        """Answer a GET /next with ``inv`` (the lock is held)."""
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
        try:
            _write_response(sock, 200, headers, inv.payload)
        except OSError:
            pass  # the runtime went away; the environment sees the process end

    def _route(self, sock, method: str, path: str, headers: dict, body: bytes):
        path = path.split("?", 1)[0]
        if not path.startswith(PREFIX + "/"):
            return _error(404, "NotFound", f"no such Runtime API path {path} (the API version is {API_VERSION})")
        rest = path[len(PREFIX) + 1:]
        if rest == "invocation/next":
            if method != "GET":
                return _error(405, "MethodNotAllowed", "invocation/next takes GET")
            return self._next(sock)
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

    def _next(self, sock):
        first = False
        with self._lock:
            if self.ready_at is None:
                self.ready_at = time.monotonic()
                first = True
        if first:
            if self._on_ready is not None:
                self._on_ready()
            self._notify()
        with self._lock:
            if self._pending is not None:
                inv, self._pending = self._pending, None
                self._hand_over(sock, inv)
            else:
                self._parked = sock
        return None

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
                reply = 202, [("Content-Type", "application/json")], b'{"status":"OK"}'  # see the docstring
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


def _reason(status: int) -> str:
    import http

    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def _write_response(conn: socket.socket, status: int, headers, body: bytes) -> None:
    head = [f"HTTP/1.1 {status} {_REASONS.get(status) or _reason(status)}"]
    head.extend(f"{k}: {v}" for k, v in headers)
    head.append(f"Content-Length: {len(body)}")
    data = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body
    conn.sendall(data)


MAX_HEAD = 65536
_HEADER = re.compile(r"^([^:\r\n]+?)[ \t]*:[ \t]*(.*?)[ \t]*\r?$", re.M)
MAX_BODY = 64 * 1024 * 1024


class RequestReader:
    """HTTP/1.1 requests off one connection: the header block parsed in one piece, then the body.

    :meth:`parse` works on what was received so far and never blocks (``None``: incomplete);
    :meth:`read` receives until a whole request is there."""

    __slots__ = ("sock", "buf", "_continued")

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.buf = bytearray()
        self._continued = False

    def read(self):
        """The next request (blocking), or None at the end of the connection."""
        while True:
            request = self.parse()
            if request is not None:
                return request
            chunk = self.sock.recv(262144)
            if not chunk:
                return None
            self.buf += chunk

    def parse(self):
        """(method, path, headers with lower-case names, body), or None while incomplete."""
        buf = self.buf
        while buf.startswith(b"\r\n"):  # tolerate stray blank lines between requests
            del buf[:2]
        end = buf.find(b"\r\n\r\n")
        if end < 0:
            if len(buf) > MAX_HEAD:
                raise ValueError("header block too large")
            return None
        head = buf[:end].decode("latin-1")
        request_line, _, rest = head.partition("\r\n")
        parts = request_line.split()
        if len(parts) != 3:
            raise ValueError("bad request line")
        method, path, _version = parts
        headers = {name.lower(): value for name, value in _HEADER.findall(rest)} if rest else {}
        pos = end + 4
        if headers.get("transfer-encoding", "").lower() == "chunked":
            chunks = []
            total = 0
            while True:
                nl = buf.find(b"\r\n", pos)
                if nl < 0:
                    return self._incomplete(headers)
                size = int(bytes(buf[pos:nl]).split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    q = nl + 2
                    while True:  # trailers, up to the empty line
                        nl2 = buf.find(b"\r\n", q)
                        if nl2 < 0:
                            return self._incomplete(headers)
                        if nl2 == q:
                            q = nl2 + 2
                            break
                        q = nl2 + 2
                    body = b"".join(chunks)
                    del buf[:q]
                    break
                total += size
                if total > MAX_BODY:
                    raise ValueError("body too large")
                if len(buf) < nl + 2 + size + 2:
                    return self._incomplete(headers)
                chunks.append(bytes(buf[nl + 2:nl + 2 + size]))
                pos = nl + 2 + size + 2
        else:
            length = int(headers.get("content-length") or 0)
            if length > MAX_BODY:
                raise ValueError("body too large")
            if len(buf) - pos < length:
                return self._incomplete(headers)
            body = bytes(buf[pos:pos + length])
            del buf[:pos + length]
        self._continued = False
        return method, path, headers, body

    def _incomplete(self, headers: dict):
        if not self._continued and headers.get("expect", "").lower() == "100-continue":
            self._continued = True
            self.sock.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")  # curl waits for it before a large body
        return None
