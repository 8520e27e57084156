"""README.md's quick start, as written, on a fresh virtual environment: the install line alone (no test extras)
installs what the local cloud needs to run the workshop's Python function, `lamctl deploy` prints the route's URL,
and that URL answers 200 with the greeting.

The command is read from README.md (the sh block after the ``<!-- quick-start`` marker), so the two cannot drift
apart. It runs in a copy of this checkout (so that neither the install nor the deploy writes into the tree). The
local cloud the deploy starts is stopped at the end.

Tests reach no network beyond loopback, so pip installs from a wheelhouse instead of its index: the README command
runs verbatim, with ``PIP_NO_INDEX=1`` and ``PIP_FIND_LINKS`` pointing at the folder named by
``LAMCTL_TEST_WHEELHOUSE`` (default ``.wheelhouse`` in the checkout). ``.ci/run`` builds it before the tests with
``pip wheel --wheel-dir .wheelhouse . 'setuptools>=77' wheel``: lamctl's dependencies as the newest releases its
bounds admit, exactly what a user's ``pip install`` would get that day. Without a wheelhouse the test is skipped,
and under CI that skip fails the run (tests/skips.py)."""

from __future__ import annotations

import json
import os
import pathlib
import re
import shutil
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
MARKER = "<!-- quick-start"
WHEELHOUSE = pathlib.Path(os.environ.get("LAMCTL_TEST_WHEELHOUSE") or ROOT / ".wheelhouse")
NOT_COPIED = shutil.ignore_patterns(".git", ".venv", ".wheelhouse", "venv", "build", "dist", "*.egg-info", ".lamctl", "__pycache__",
                                    ".pytest_cache", ".hypothesis")

pytestmark = pytest.mark.slow


def readme_quick_start(readme: pathlib.Path = ROOT / "README.md") -> str:
    """The command of the sh block that follows the quick-start marker in README.md (one line)."""
    text = readme.read_text(encoding="utf-8")
    at = text.find(MARKER)
    assert at >= 0, f"README.md has no {MARKER} marker before its quick-start command"
    block = re.search(r"```sh\n(.*?)```", text[at:], re.DOTALL)
    assert block is not None, "no ```sh block after the quick-start marker in README.md"
    lines = [line for line in block.group(1).splitlines() if line.strip() and not line.lstrip().startswith("#")]
    assert len(lines) == 1, f"the quick-start block should hold one command line, not {lines}"
    return lines[0]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def _wheelhouse() -> pathlib.Path:
    if WHEELHOUSE.is_dir() and any(WHEELHOUSE.glob("*.whl")):
        return WHEELHOUSE
    how = (f"no wheelhouse at {WHEELHOUSE}: build one with "
           f"`python -m pip wheel --wheel-dir {WHEELHOUSE} . 'setuptools>=77' wheel` (as .ci/run does)")
    pytest.skip(how)  # under CI an unlisted skip fails the run (tests/skips.py)


def test_readme_quick_start_as_written_in_a_fresh_venv(tmp_path):
    command = readme_quick_start()
    wheels = _wheelhouse()
    checkout = tmp_path / "lamctl"
    shutil.copytree(ROOT, checkout, ignore=NOT_COPIED, symlinks=True)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True, timeout=300)

    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AWS_", "LAMCTL_")) and k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")}
    env.update(VIRTUAL_ENV=str(venv), PATH=f"{venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
               LAMCTL_LOCAL_PORT=str(_free_port()), PIP_DISABLE_PIP_VERSION_CHECK="1",
               PIP_NO_INDEX="1", PIP_FIND_LINKS=str(wheels))
    state = pathlib.Path(env["XDG_STATE_HOME"]) / "lamctl" / "cloud.json"  # where lamctl records its local cloud
    workshop = checkout / "samples" / "workshop"
    lamctl = str(venv / "bin" / "lamctl")
    run = None
    try:
        run = subprocess.run(["sh", "-c", command], cwd=checkout, env=env, capture_output=True, text=True,
                             timeout=1200)
        said = f"README quick start: {command}\nexit {run.returncode}\n--- stdout\n{run.stdout}\n--- stderr\n{run.stderr}"
        assert run.returncode == 0, said
        assert "CREATE_COMPLETE" in run.stdout, said
        routes = re.findall(r"^\S+ +Prod +GET +(http://\S+/_user_request_/hello)$", run.stdout, re.MULTILINE)
        assert len(routes) == 1, "deploy printed no URL for GET /hello\n" + said
        try:
            with urllib.request.urlopen(routes[0], timeout=120) as resp:
                status, body = resp.status, resp.read()
        except urllib.error.HTTPError as err:
            status, body = err.code, err.read()
        assert status == 200, f"GET {routes[0]} answered {status}: {body[:500]!r}\n" + said
        assert json.loads(body) == {"message": "Hello World"}, f"GET {routes[0]} answered {body[:500]!r}\n" + said

        invoked = subprocess.run([lamctl, "invoke", "HelloWorldFunction", "--stack", "workshop"], cwd=workshop,
                                 env=env, capture_output=True, text=True, timeout=300)
        assert invoked.returncode == 0, f"lamctl invoke HelloWorldFunction --stack workshop: exit " \
                                        f"{invoked.returncode}\n{invoked.stdout}\n{invoked.stderr}\n" + said
        assert json.loads(json.loads(invoked.stdout)["body"]) == {"message": "Hello World"}
    finally:
        pid = json.loads(state.read_text()).get("pid") if state.exists() else None
        if os.path.exists(lamctl):
            subprocess.run([lamctl, "local", "stop"], cwd=workshop if workshop.exists() else checkout, env=env,
                           capture_output=True, text=True, timeout=120)
        if isinstance(pid, int) and _alive(pid):  # never leave the local cloud running
            os.kill(pid, signal.SIGTERM)
