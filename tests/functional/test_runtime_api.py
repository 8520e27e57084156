"""The Runtime API server spoken to over real HTTP, as a runtime would: status codes and error bodies."""

from __future__ import annotations

import http.client
import json
import socket
import threading

import pytest

from lamctl.local.runtime.runtime_api import MAX_RESPONSE_BYTES, Invocation, RuntimeAPI


@pytest.fixture
def api():
    events = []
    server = RuntimeAPI(notify=lambda: events.append(1))
    server.events = events
    yield server
    server.close()


def _conn(api: RuntimeAPI) -> http.client.HTTPConnection:
    host, port = api.address.split(":")
    return http.client.HTTPConnection(host, int(port), timeout=10)


def _call(conn, method, path, body=None, headers=None):
    conn.request(method, path, body=body, headers=headers or {})
    resp = conn.getresponse()
    return resp.status, dict(resp.getheaders()), resp.read()


def _inv(rid="req-1", **kw):
    base = dict(request_id=rid, payload=b'{"k": "v"}', function_arn="arn:aws:lambda:us-east-1:123456789012:function:F",
                timeout_s=3.0, trace_id="Root=1-abc;Parent=def;Sampled=0")
    base.update(kw)
    return Invocation(**base)


NEXT = "/2018-06-01/runtime/invocation/next"


def test_next_hands_over_the_event_with_every_header(api):
    inv = _inv(client_context='{"custom": {"a": 1}}', cognito_identity='{"cognitoIdentityId": "x"}')
    api.submit(inv)
    conn = _conn(api)
    status, headers, body = _call(conn, "GET", NEXT)
    assert status == 200 and body == b'{"k": "v"}'
    assert headers["Lambda-Runtime-Aws-Request-Id"] == "req-1"
    assert headers["Lambda-Runtime-Invoked-Function-Arn"] == inv.function_arn
    assert headers["Lambda-Runtime-Trace-Id"] == "Root=1-abc;Parent=def;Sampled=0"
    assert headers["Lambda-Runtime-Client-Context"] == '{"custom": {"a": 1}}'
    assert headers["Lambda-Runtime-Cognito-Identity"] == '{"cognitoIdentityId": "x"}'
    assert int(headers["Lambda-Runtime-Deadline-Ms"]) == inv.deadline_ms > 1_600_000_000_000
    assert api.ready and api.events  # the first /next ends init and wakes the environment
    # the same kept-alive connection answers the result
    status, _, body = _call(conn, "POST", "/2018-06-01/runtime/invocation/req-1/response", b'{"ok": 1}')
    assert status == 202 and json.loads(body) == {"status": "OK"}
    assert inv.done.is_set() and inv.status == "response" and inv.body == b'{"ok": 1}'


def test_next_blocks_until_an_invocation_is_submitted(api):
    got = {}

    def runtime():
        got["reply"] = _call(_conn(api), "GET", NEXT)

    t = threading.Thread(target=runtime)
    t.start()
    t.join(0.2)
    assert t.is_alive()  # no invocation yet: the runtime waits
    api.submit(_inv("late-1"))
    t.join(5)
    assert got["reply"][0] == 200 and got["reply"][1]["Lambda-Runtime-Aws-Request-Id"] == "late-1"


def test_error_endpoint_records_the_error_type_header(api):
    inv = _inv()
    api.submit(inv)
    conn = _conn(api)
    _call(conn, "GET", NEXT)
    status, _, body = _call(conn, "POST", "/2018-06-01/runtime/invocation/req-1/error",
                            b'{"errorMessage": "bad", "errorType": "MyError"}',
                            {"Lambda-Runtime-Function-Error-Type": "Custom.Header"})
    assert status == 202 and json.loads(body) == {"status": "OK"}
    assert inv.status == "error" and inv.error_type == "Custom.Header"


def test_wrong_request_id_is_400_and_a_repeated_result_is_refused(api):
    inv = _inv()
    api.submit(inv)
    conn = _conn(api)
    _call(conn, "GET", NEXT)
    status, _, body = _call(conn, "POST", "/2018-06-01/runtime/invocation/other/response", b"{}")
    assert status == 400 and json.loads(body)["errorType"] == "InvalidRequestID"
    assert not inv.done.is_set()
    assert _call(conn, "POST", "/2018-06-01/runtime/invocation/req-1/response", b"1")[0] == 202
    status, _, body = _call(conn, "POST", "/2018-06-01/runtime/invocation/req-1/response", b"2")
    assert status == 400 and json.loads(body)["errorType"] == "InvalidRequestID"
    assert inv.body == b"1"  # the first answer stands


def test_result_before_the_runtime_took_the_invocation_is_403(api):
    api.submit(_inv("queued-1"))
    status, _, body = _call(_conn(api), "POST", "/2018-06-01/runtime/invocation/queued-1/response", b"{}")
    assert status == 403 and json.loads(body)["errorType"] == "InvalidStateTransition"


def test_response_over_6_mb_fails_the_invocation_and_the_runtime_goes_on(api):
    inv = _inv()
    api.submit(inv)
    conn = _conn(api)
    _call(conn, "GET", NEXT)
    status, _, body = _call(conn, "POST", "/2018-06-01/runtime/invocation/req-1/response",
                            b"x" * (MAX_RESPONSE_BYTES + 1))
    # accepted, so that the runtime client does not die on it; the invocation fails all the same
    assert status == 202
    assert inv.status == "error" and inv.error_type == "Function.ResponseSizeTooLarge"
    assert json.loads(inv.body)["errorType"] == "Function.ResponseSizeTooLarge"


def test_init_error_is_accepted_once_and_refused_after_init(api):
    status, _, body = _call(_conn(api), "POST", "/2018-06-01/runtime/init/error",
                            b'{"errorMessage": "no config", "errorType": "Init.Bad"}',
                            {"Lambda-Runtime-Function-Error-Type": "Init.Bad"})
    assert status == 202 and json.loads(body) == {"status": "OK"}
    assert api.init_error == {"errorMessage": "no config", "errorType": "Init.Bad"}
    assert api.init_error_type == "Init.Bad"

    other = RuntimeAPI()
    try:
        other.submit(_inv())
        conn = _conn(other)
        _call(conn, "GET", NEXT)
        status, _, body = _call(conn, "POST", "/2018-06-01/runtime/init/error", b"{}")
        assert status == 403 and json.loads(body)["errorType"] == "InvalidStateTransition"
    finally:
        other.close()


def test_unknown_paths_and_methods(api):
    conn = _conn(api)
    status, _, body = _call(conn, "GET", "/2018-06-01/runtime/nothing")
    assert status == 404 and json.loads(body)["errorType"] == "NotFound"
    status, _, _ = _call(conn, "POST", NEXT, b"{}")
    assert status == 405
    status, _, _ = _call(conn, "GET", "/2020-01-01/runtime/invocation/next")
    assert status == 404


def test_chunked_bodies_and_expect_continue_are_understood(api):
    inv = _inv()
    api.submit(inv)
    host, port = api.address.split(":")
    sock = socket.create_connection((host, int(port)))
    f = sock.makefile("rb")
    sock.sendall(b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: x\r\n\r\n")
    line = f.readline()
    assert line.startswith(b"HTTP/1.1 200")
    length = 0
    while (h := f.readline()) not in (b"\r\n", b""):
        if h.lower().startswith(b"content-length:"):
            length = int(h.split(b":")[1])
    f.read(length)
    sock.sendall(b"POST /2018-06-01/runtime/invocation/req-1/response HTTP/1.1\r\nHost: x\r\n"
                 b"Transfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n")
    assert f.readline().startswith(b"HTTP/1.1 100")
    f.readline()
    sock.sendall(b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")
    assert f.readline().startswith(b"HTTP/1.1 202")
    sock.close()
    assert inv.body == b"hello world"


def test_sockets_set_tcp_nodelay(api):
    api.submit(_inv())
    conn = _conn(api)
    _call(conn, "GET", NEXT)
    # the server side of the connection: find it through the server's own bookkeeping
    server_socks = list(api._conns)
    assert server_socks
    assert all(s.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) for s in server_socks)


def test_one_invocation_at_a_time(api):
    api.submit(_inv("a"))
    with pytest.raises(RuntimeError):
        api.submit(_inv("b"))


def test_close_releases_a_waiting_runtime(api):
    got = {}

    def runtime():
        try:
            got["reply"] = _call(_conn(api), "GET", NEXT)
        except (http.client.HTTPException, OSError) as exc:
            got["error"] = exc

    t = threading.Thread(target=runtime)
    t.start()
    t.join(0.1)
    api.close()
    t.join(5)
    assert not t.is_alive() and "error" in got
