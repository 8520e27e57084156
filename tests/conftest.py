"""Shared fixtures: an isolated environment, the CLI runner, and an in-process AWS emulator.

The emulator is moto's server on 127.0.0.1 (a random port), reached over real
HTTP through ``AWS_ENDPOINT_URL``; each test that asks for ``aws`` starts from
a reset emulator, with Lambda invokes configured to run without Docker.
"""

from __future__ import annotations

import io
import json
import os
import sys
import urllib.request
from dataclasses import dataclass

import pytest


def pytest_configure(config):
    """Under CI a skip not listed in tests/skips.py fails the run (see that module)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("lamctl_test_skips", os.path.join(os.path.dirname(__file__),
                                                                                     "skips.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    config.pluginmanager.register(module, "lamctl-skips")


DUMMY_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
}


@pytest.fixture(autouse=True)
def isolated_env(tmp_path_factory, monkeypatch):
    """No real AWS profile, config, cache or CI setting leaks into a test."""
    home = tmp_path_factory.mktemp("home")
    for key in list(os.environ):
        if key.startswith(("AWS_", "LAMCTL_", "GITHUB_")) or key in ("CI", "NO_COLOR", "COLUMNS"):
            monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(home / "aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(home / "aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "cache"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / "state"))
    monkeypatch.setenv("PIP_NO_INPUT", "1")
    # functions run at full speed whatever their MemorySize; tests of the limits turn them on
    monkeypatch.setenv("LAMCTL_LOCAL_LIMITS", "off")
    yield home


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str

    def json_lines(self) -> list[dict]:
        return [json.loads(line) for line in self.stdout.splitlines() if line.strip()]

    def __str__(self) -> str:  # shown by pytest when an assertion fails
        return f"exit {self.exit_code}\n--- stdout\n{self.stdout}\n--- stderr\n{self.stderr}"


@pytest.fixture
def cli(monkeypatch):
    """Run lamctl in-process: ``cli("build", "-t", path)`` -> CliResult (stdout is not a TTY)."""

    def run(*args: str, cwd: str | os.PathLike | None = None, stdin: str = "") -> CliResult:
        from lamctl.cli.app import main

        out, err = io.StringIO(), io.StringIO()
        old_cwd = os.getcwd()
        monkeypatch.setattr(sys, "stdout", out)
        monkeypatch.setattr(sys, "stderr", err)
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        try:
            if cwd is not None:
                os.chdir(cwd)
            code = main([str(a) for a in args])
        finally:
            os.chdir(old_cwd)
            monkeypatch.setattr(sys, "stdout", sys.__stdout__)
            monkeypatch.setattr(sys, "stderr", sys.__stderr__)
        return CliResult(code, out.getvalue(), err.getvalue())

    return run


class Emulator:
    def __init__(self, endpoint: str):
        self.endpoint = endpoint

    def post(self, path: str, body: dict | None = None) -> None:
        data = json.dumps(body or {}).encode()
        req = urllib.request.Request(self.endpoint + path, data=data, method="POST",
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as resp:
            resp.read()

    def reset(self) -> None:
        self.post("/moto-api/reset")
        self.post("/moto-api/config", {"lambda": {"use_docker": False}})

    def client(self, service: str, region: str = "us-east-1"):
        import boto3

        return boto3.client(service, region_name=region, endpoint_url=self.endpoint,
                            aws_access_key_id="testing", aws_secret_access_key="testing")


@pytest.fixture(scope="session")
def moto_server():
    from moto.server import ThreadedMotoServer

    from lamctl.local.cloud.emulator import prepare_moto

    # moto's models are shared by every server of this process: give them the local cloud's CloudFormation
    # behaviour from the start, so no test depends on whether the local cloud's server was started before it
    prepare_moto()

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    emulator = Emulator(f"http://{host}:{port}")
    emulator.reset()
    yield emulator
    server.stop()


@pytest.fixture(scope="session")
def cloud_server():
    """The local cloud's own server (moto with lamctl's Lambda runtime) in this process: invokes run code."""
    from lamctl.local.cloud.emulator import EmulatorServer

    server = EmulatorServer(idle_timeout=60.0, retry_delays=(0.0, 0.0)).start()
    emulator = Emulator(server.endpoint)
    emulator.server = server
    yield emulator
    server.stop()


def _reset_and_point_at(emulator: Emulator, monkeypatch) -> Emulator:
    emulator.reset()
    for key, value in DUMMY_ENV.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("AWS_ENDPOINT_URL", emulator.endpoint)
    return emulator


@pytest.fixture
def local_cloud(cloud_server, monkeypatch):
    """Like ``aws``, on the local cloud's server: Lambda invokes run the deployed code."""
    return _reset_and_point_at(cloud_server, monkeypatch)


@pytest.fixture
def aws(moto_server, monkeypatch):
    """A reset emulator, and an environment whose every AWS call goes to it over HTTP."""
    return _reset_and_point_at(moto_server, monkeypatch)


class InstantClock:
    """Stands for the system clock in an in-process command: ``sleep`` returns at once and moves time on,
    so a release's five-minute hold (or stack polling) takes no real time. ``on_sleep`` callbacks run at each
    sleep, while the command waits: the moment to look at the world in the middle of a hold."""

    def __init__(self):
        import time

        self._now = time.time()
        self.slept = 0.0
        self.on_sleep: list = []

    def now(self) -> float:
        return self._now

    def monotonic(self) -> float:
        return self._now

    def sleep(self, seconds: float) -> None:
        for callback in list(self.on_sleep):
            callback(self)
        if seconds > 0:
            self._now += seconds
            self.slept += seconds


@pytest.fixture
def instant_clock(monkeypatch):
    """The clock every in-process lamctl command gets (release holds, hook waits, stack polling)."""
    clock = InstantClock()
    monkeypatch.setattr("lamctl.release.clock.SystemClock", lambda: clock)
    return clock
