"""Files lamctl keeps on a shared machine are its user's only: the local cloud's state folder and cloud.log
(every function's output), and the .lamctl/ folder holding release journals and locks."""

from __future__ import annotations

import os
import socket
import stat
from pathlib import Path

import pytest

from lamctl.local.cloud import lifecycle
from tests.helpers import returning_zip as _zip


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_release_journal_and_lock_folder_is_private(aws, cli, tmp_path, umask_022):
    iam, lam = aws.client("iam"), aws.client("lambda")
    role = iam.create_role(RoleName="lambda-role", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    lam.create_function(FunctionName="app", Runtime="python3.12", Role=role, Handler="app.handler",
                        Code={"ZipFile": _zip("v1")}, Publish=True)
    lam.update_function_code(FunctionName="app", ZipFile=_zip("v2"))
    lam.publish_version(FunctionName="app")
    lam.create_alias(FunctionName="app", Name="live", FunctionVersion="1")
    (tmp_path / ".lamctl" / "build").mkdir(parents=True)  # as a build leaves it: 0755
    os.chmod(tmp_path / ".lamctl", 0o755)

    r = cli("shift", "--function", "app", "--alias", "live", "--to-version", "2", "--all-at-once", cwd=tmp_path)
    assert r.exit_code == 0, r

    root = tmp_path / ".lamctl"
    assert mode(root) == 0o700
    files = [p for p in (root / "releases").rglob("*") if p.is_file()]
    folders = [p for p in (root / "releases").rglob("*") if p.is_dir()] + [root / "releases"]
    assert any(p.name == "latest.json" for p in files)
    assert {mode(p) for p in files} == {0o600}, {str(p): oct(mode(p)) for p in files}
    assert {mode(p) for p in folders} == {0o700}


def test_local_cloud_log_and_state_are_private(umask_022):
    folder = lifecycle.state_dir()
    folder.mkdir(parents=True)
    os.chmod(folder, 0o755)
    (folder / "cloud.log").write_text("an old log\n")
    os.chmod(folder / "cloud.log", 0o644)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    try:
        status = lifecycle.start(port)
        assert status.running
        assert Path(status.log_file) == folder / "cloud.log"
        assert mode(folder) == 0o700
        assert mode(folder / "cloud.log") == 0o600
        assert mode(folder / "cloud.json") == 0o600
        assert mode(folder / "cloud.lock") == 0o600
        assert "an old log" not in (folder / "cloud.log").read_text()
    finally:
        lifecycle.stop()
