"""On a terminal ``lamctl package`` draws a progress bar; in a pipe or CI it never does."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys

import pytest

TEMPLATE = """\
Resources:
  BigFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: big/
      Handler: app.handler
      Runtime: python3.12
"""


@pytest.fixture
def project(tmp_path):
    (tmp_path / "big").mkdir()
    (tmp_path / "big" / "app.py").write_text("def handler(event, context):\n    return 1\n")
    (tmp_path / "big" / "blob.bin").write_bytes(os.urandom(3 * 1024 * 1024))
    (tmp_path / "template.yaml").write_text(TEMPLATE)
    return tmp_path


def run_on_a_terminal(args: list[str], cwd) -> tuple[int, str]:
    """Run lamctl with stdout and stderr on a pseudo-terminal; return (exit code, everything it drew)."""
    master, slave = pty.openpty()
    env = dict(os.environ, TERM="xterm-256color", COLUMNS="120", LINES="40")
    env.pop("CI", None)
    proc = subprocess.Popen([sys.executable, "-m", "lamctl.cli", *args], cwd=cwd, stdin=subprocess.DEVNULL,
                            stdout=slave, stderr=slave, env=env, close_fds=True)
    os.close(slave)
    chunks = []
    while True:
        ready, _, _ = select.select([master], [], [], 60)
        if not ready:
            proc.kill()
            break
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    return proc.wait(timeout=60), b"".join(chunks).decode(errors="replace")


def test_progress_bar_on_a_terminal_only(project, aws, cli):
    aws.client("s3").create_bucket(Bucket="art-bucket")
    code, drawn = run_on_a_terminal(["package", "--s3-bucket", "art-bucket", "--s3-prefix", "tty"], project)
    assert code == 0, drawn
    assert "uploading" in drawn  # the bar's label
    assert "\x1b[" in drawn  # drawn with terminal control sequences
    assert "CodeUri: s3://art-bucket/tty/" in drawn

    # the same command in a pipe: no bar, no control sequences, the template alone on stdout
    aws.client("s3").create_bucket(Bucket="art-bucket-2")
    piped = cli("package", "--s3-bucket", "art-bucket-2", cwd=project)
    assert piped.exit_code == 0, piped
    assert "uploading" not in piped.stderr and "\x1b[" not in piped.stderr + piped.stdout
    assert piped.stdout.startswith("Resources:\n")
