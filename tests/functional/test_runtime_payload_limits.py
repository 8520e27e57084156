"""Lambda's payload limits in the local runtime: a response over 6 MB ends the invocation cleanly with
Function.ResponseSizeTooLarge (no runtime traceback, the environment stays warm); ``local invoke`` refuses an
event over 6 MB, or one that is not text, with exit 2 naming the file."""

from __future__ import annotations

import json
import textwrap

import pytest

from lamctl.local.runtime.environment import FunctionSpec
from lamctl.local.runtime.pool import Pool

APP = """
import os
def handler(event, context):
    if event.get("big"):
        return "x" * (7 * 1024 * 1024)
    if event.get("size"):  # a response whose JSON is exactly this many bytes
        return "x" * (event["size"] - 2)
    return {"pid": os.getpid()}
"""


@pytest.fixture
def pool(tmp_path):
    folder = tmp_path / "fn"
    folder.mkdir()
    (folder / "app.py").write_text(textwrap.dedent(APP))
    p = Pool(idle_timeout=None)
    p.replace(FunctionSpec(name="Fn", runtime="python3.12", handler="app.handler", code_dir=str(folder), timeout=10))
    yield p
    p.close()


def test_a_response_over_6_mb_ends_the_invocation_cleanly_and_the_environment_stays_warm(pool):
    first = json.loads(pool.invoke("Fn", b"{}").payload)
    for _ in range(3):
        big = pool.invoke("Fn", b'{"big": true}')
        assert not big.ok and big.error_type == "Function.ResponseSizeTooLarge"
        error = json.loads(big.payload)
        assert error["errorType"] == "Function.ResponseSizeTooLarge"
        assert "exceeded maximum allowed payload size" in error["errorMessage"]
        after = pool.invoke("Fn", b"{}")
        assert after.ok, after.log
        assert json.loads(after.payload)["pid"] == first["pid"]  # the same environment: the runtime did not die
        for log in (big.log, after.log):
            assert "Traceback" not in log and "RuntimeError" not in log, log
    assert pool.stats("Fn")["started"] == 1


def test_a_response_of_exactly_6_mb_passes_and_one_byte_more_is_refused(pool):
    edge = pool.invoke("Fn", b'{"size": 6291456}')
    assert edge.ok, edge.log
    assert len(edge.payload) == 6_291_456
    over = pool.invoke("Fn", b'{"size": 6291457}')
    assert not over.ok and over.error_type == "Function.ResponseSizeTooLarge"


TEMPLATE = """\
Resources:
  Hello:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: hello
      Runtime: python3.12
      Handler: app.handler
"""


@pytest.fixture
def project(tmp_path):
    (tmp_path / "hello").mkdir()
    (tmp_path / "hello" / "app.py").write_text("def handler(event, context):\n    return len(str(event))\n")
    (tmp_path / "template.yaml").write_text(TEMPLATE)
    return tmp_path


def test_a_binary_event_file_is_exit_2_naming_the_file(cli, project):
    (project / "ev.json").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe")
    r = cli("local", "invoke", "Hello", "-e", "ev.json", cwd=project)
    assert r.exit_code == 2, r
    assert "ev.json" in r.stderr and "UTF-8" in r.stderr
    assert "unexpected" not in r.stderr and "UnicodeDecodeError" not in r.stderr


def test_an_event_over_6_mb_is_exit_2_with_the_figure(cli, project):
    (project / "ev.json").write_text(json.dumps({"blob": "x" * (7 * 1024 * 1024)}))
    r = cli("local", "invoke", "Hello", "-e", "ev.json", cwd=project)
    assert r.exit_code == 2, r
    size = (project / "ev.json").stat().st_size
    assert "ev.json" in r.stderr and f"{size:,} bytes" in r.stderr and "6,291,456" in r.stderr
    assert "START RequestId" not in r.stderr  # refused before any function process ran


def test_an_event_of_6_mb_exactly_is_accepted(cli, project):
    body = json.dumps({"blob": ""})
    pad = 6 * 1024 * 1024 - len(body)
    (project / "ev.json").write_text(json.dumps({"blob": "x" * pad}))
    assert (project / "ev.json").stat().st_size == 6 * 1024 * 1024
    r = cli("local", "invoke", "Hello", "-e", "ev.json", cwd=project)
    assert r.exit_code == 0, r.stderr[-2000:]
