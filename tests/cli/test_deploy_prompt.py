"""On a terminal, deploy and delete ask first. A real `lamctl` process on a pseudo-terminal, talking to the
in-process emulator over HTTP; the test answers the prompt."""

from __future__ import annotations

import os
import select
import subprocess
import sys

import pytest

QUEUE = "Resources:\n  Queue:\n    Type: AWS::SQS::Queue\n"


def run_on_tty(args, cwd, answer: str, prompt: str, timeout: float = 60.0) -> tuple[int, str]:
    """Run lamctl with stdin/stdout/stderr on a pty; type ``answer`` once ``prompt`` shows up."""
    master, slave = os.openpty()
    env = dict(os.environ, TERM="dumb", COLUMNS="120", NO_COLOR="1")
    proc = subprocess.Popen([sys.executable, "-m", "lamctl.cli", *args], cwd=cwd, stdin=slave, stdout=slave,
                            stderr=slave, env=env, close_fds=True, start_new_session=True)
    os.close(slave)
    seen = b""
    answered = False
    try:
        while True:
            ready, _, _ = select.select([master], [], [], timeout)
            if not ready:
                raise AssertionError(f"lamctl said nothing for {timeout}s; so far:\n{seen.decode(errors='replace')}")
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO: the process closed the terminal
                break
            if not chunk:
                break
            seen += chunk
            if not answered and prompt.encode() in seen:
                os.write(master, answer.encode() + b"\n")
                answered = True
        code = proc.wait(timeout=timeout)
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert answered, f"no prompt {prompt!r} in:\n{seen.decode(errors='replace')}"
    return code, seen.decode(errors="replace")


@pytest.fixture
def project(tmp_path):
    (tmp_path / "template.yaml").write_text(QUEUE)
    return tmp_path


def live_stacks(aws):
    return [s["StackName"] for s in aws.client("cloudformation").list_stacks()["StackSummaries"]
            if s["StackStatus"] != "DELETE_COMPLETE"]


def test_answering_no_deploys_nothing_and_leaves_nothing(aws, project):
    code, text = run_on_tty(["deploy", "--stack", "app"], project, "n", "Deploy this change set")
    assert code == 0, text
    assert "Not deployed" in text
    assert "Queue" in text  # the change set was shown before the question
    assert live_stacks(aws) == []  # the change set and its empty stack are gone
    assert aws.client("sqs").list_queues().get("QueueUrls", []) == []


def test_answering_yes_deploys_then_delete_asks_too(aws, project):
    code, text = run_on_tty(["deploy", "--stack", "app"], project, "y", "Deploy this change set")
    assert code == 0, text
    assert "CREATE_COMPLETE" in text
    assert live_stacks(aws) == ["app"]

    code, text = run_on_tty(["delete", "--stack", "app"], project, "n", "Delete stack app")
    assert code == 0, text
    assert live_stacks(aws) == ["app"]
    code, text = run_on_tty(["delete", "--stack", "app"], project, "y", "Delete stack app")
    assert code == 0, text
    assert "DELETE_COMPLETE" in text
    assert live_stacks(aws) == []
