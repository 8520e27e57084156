"""Uploads leave nothing behind, whatever stops them: real ``lamctl package`` processes stopped by SIGTERM or
SIGINT mid-upload (held at a part by a gate, not by luck) or killed outright, against the emulator's S3 over
HTTP; a rerun aborts what a killed one left open; the lifecycle-rule hint."""

from __future__ import annotations

import hashlib
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time

import pytest

from tests.helpers import Gate, wait_for

from lamctl.packager.upload import MB, upload_artifacts
from tests.functional.test_package_upload import big_artifact

BUCKET = "artifacts"
TEMPLATE = """\
Resources:
  Big:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src
      Runtime: python3.12
      Handler: app.handler
"""


@pytest.fixture
def project(local_cloud, tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "app.py").write_text("def handler(event, context):\n    return 1\n")
    (src / "blob.bin").write_bytes(random.Random(7).randbytes(17 * MB))  # incompressible: a 3-part upload
    (tmp_path / "template.yaml").write_text(TEMPLATE)
    local_cloud.s3 = local_cloud.client("s3")
    local_cloud.s3.create_bucket(Bucket=BUCKET)
    local_cloud.cwd = tmp_path
    return local_cloud


def env(**extra: str) -> dict:
    out = dict(os.environ)
    out.update({"CI": "1", "LAMCTL_S3_BUCKET": BUCKET})
    out.pop("GITHUB_STEP_SUMMARY", None)
    out.update(extra)
    return out


def run(project, *args: str, **extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lamctl.cli", *args], capture_output=True, text=True,
                          env=env(**extra), cwd=project.cwd, timeout=180)


class Lines:
    """stderr of a running process, read as it comes."""

    def __init__(self, stream):
        self.lines: list[str] = []
        self.thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self.thread.start()

    def _read(self, stream) -> None:
        for line in stream:
            self.lines.append(line)

    def seen(self, text: str) -> bool:
        return any(text in line for line in self.lines)

    @property
    def text(self) -> str:
        self.thread.join(timeout=30)
        return "".join(self.lines)


def open_uploads(project) -> list[dict]:
    return project.s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", [])


def objects(project) -> list[str]:
    return [o["Key"] for o in project.s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]


@pytest.mark.parametrize("sig, code, last, command", [
    (signal.SIGTERM, 143, "stopped by SIGTERM", ["package"]),
    (signal.SIGINT, 130, "interrupted (Ctrl-C)", ["package"]),
    (signal.SIGTERM, 143, "stopped by SIGTERM", ["deploy", "--stack", "big-app"]),
])
def test_a_signal_mid_upload_aborts_the_multipart_upload_says_so_and_exits(project, tmp_path, sig, code, last,
                                                                           command):
    gate = Gate(tmp_path)
    proc = subprocess.Popen([sys.executable, "-m", "lamctl.cli", *command], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env(**gate.env("part:1")), cwd=project.cwd)
    try:
        err = Lines(proc.stderr)
        gate.reached(proc)  # part 1 is in S3, the upload is open
        [upload] = open_uploads(project)
        proc.send_signal(sig)
        wait_for(lambda: err.seen("stopped the upload"), "the line saying what was stopped")
        gate.open_()
        assert proc.wait(timeout=60) == code
    finally:
        gate.open_()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    text = err.text
    assert f"stopped the upload to s3://{BUCKET}/{upload['Key']}" in text and "multipart upload was aborted" in text
    assert "aborted" in text and text.rstrip().endswith(last)
    assert "Traceback" not in text
    assert open_uploads(project) == []
    assert objects(project) == []
    if command[0] == "deploy":  # stopped before any stack was asked for
        assert project.client("cloudformation").list_stacks()["StackSummaries"] == []


def test_a_second_sigterm_during_the_cleanup_is_ignored_and_a_second_ctrl_c_ends_at_once(project, tmp_path):
    for sig, code in ((signal.SIGTERM, 143), (signal.SIGINT, 130)):
        gate = Gate(tmp_path, f"gate-{int(sig)}")
        proc = subprocess.Popen([sys.executable, "-m", "lamctl.cli", "package"], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=env(**gate.env("part:1")), cwd=project.cwd)
        try:
            err = Lines(proc.stderr)
            gate.reached(proc)
            proc.send_signal(sig)
            wait_for(lambda: err.seen("stopped the upload"), "the line saying what was stopped")
            proc.send_signal(sig)  # the cleanup waits for the part held at the gate
            if sig == signal.SIGTERM:
                time.sleep(0.5)  # (a test-side pause: give a wrongly handled signal the time to kill it)
                assert proc.poll() is None, err.text
                gate.open_()
            assert proc.wait(timeout=60) == code
        finally:
            gate.open_()
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        if sig == signal.SIGINT:
            assert "stopped at once (second Ctrl-C)" in err.text
        assert open_uploads(project) == [] and objects(project) == []


def test_a_rerun_aborts_the_uploads_a_killed_package_left_open_and_only_those(project, cli):
    killed = run(project, "package", LAMCTL_FAULT_KILL="part:1")
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    [left] = open_uploads(project)
    key = left["Key"]
    assert key.endswith(".zip") and left.get("ChecksumAlgorithm") == "SHA256"
    # not lamctl's: another key, and the same key without lamctl's checksum
    foreign = project.s3.create_multipart_upload(Bucket=BUCKET, Key="other/video.mp4")["UploadId"]
    same_key_other_tool = project.s3.create_multipart_upload(Bucket=BUCKET, Key=key)["UploadId"]

    again = cli("package", "--s3-bucket", BUCKET, cwd=project.cwd)
    assert again.exit_code == 0, again
    assert re.search(rf"aborted 1 multipart upload\(s\) of s3://{BUCKET}/{key} left open by an earlier lamctl "
                     r"\(\d+\.\d MB of parts\)", again.stderr), again.stderr
    assert "lifecycle" not in again.stderr  # the emulator is no AWS bucket: no hint
    assert sorted(u["UploadId"] for u in open_uploads(project)) == sorted([foreign, same_key_other_tool])
    body = project.s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    assert hashlib.sha256(body).hexdigest() == key.rsplit("/", 1)[-1][:-len(".zip")]

    # leftovers for a key that is already complete are cleaned up too; a clean bucket says nothing
    project.s3.abort_multipart_upload(Bucket=BUCKET, Key=key, UploadId=same_key_other_tool)
    project.s3.create_multipart_upload(Bucket=BUCKET, Key=key, ChecksumAlgorithm="SHA256")
    third = cli("package", "--s3-bucket", BUCKET, cwd=project.cwd)
    assert third.exit_code == 0 and "aborted 1 multipart upload(s)" in third.stderr
    fourth = cli("package", "--s3-bucket", BUCKET, cwd=project.cwd)
    assert fourth.exit_code == 0 and "aborted" not in fourth.stderr
    assert [u["UploadId"] for u in open_uploads(project)] == [foreign]


def test_an_upload_aborted_under_it_by_another_lamctl_starts_again(tmp_path, aws):
    s3 = aws.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    big = big_artifact(tmp_path, "Big", 12 * MB)
    done = []

    def another_lamctl_sweeps(params, **_):
        if params["PartNumber"] == 2 and not done:
            done.append(params["UploadId"])
            s3.abort_multipart_upload(Bucket=BUCKET, Key=params["Key"], UploadId=params["UploadId"])

    s3.meta.events.register("before-parameter-build.s3.UploadPart", another_lamctl_sweeps)
    [result] = upload_artifacts(s3, [big], BUCKET, multipart_threshold=5 * MB, part_size=5 * MB, max_workers=1)
    assert done and result.uploaded
    body = s3.get_object(Bucket=BUCKET, Key=f"{big.sha256}.zip")["Body"].read()
    assert hashlib.sha256(body).hexdigest() == big.sha256
    assert s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == []


RULE = {"ID": "abort", "Status": "Enabled", "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}}


@pytest.mark.parametrize("rules, hinted", [
    (None, True),
    ([{**RULE, "Filter": {"Prefix": ""}}], False),
    ([{**RULE, "Filter": {"Prefix": "apps/"}}], False),
    ([{**RULE, "Filter": {"Prefix": "other/"}}], True),
    ([{**RULE, "Status": "Disabled", "Filter": {"Prefix": ""}}], True),
    ([{"ID": "expire", "Status": "Enabled", "Filter": {"Prefix": ""}, "Expiration": {"Days": 30}}], True),
])
def test_the_lifecycle_hint_is_given_once_for_a_bucket_without_an_abort_rule(tmp_path, aws, rules, hinted):
    s3 = aws.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    if rules:
        s3.put_bucket_lifecycle_configuration(Bucket=BUCKET, LifecycleConfiguration={"Rules": rules})
    one, two = big_artifact(tmp_path, "One", 6 * MB), big_artifact(tmp_path, "Two", 6 * MB)
    events = []
    upload_artifacts(s3, [one, two], BUCKET, "apps/demo", progress=events.append, multipart_threshold=5 * MB,
                     part_size=5 * MB, lifecycle_hint=True)
    hints = [e for e in events if e.event == "lifecycle"]
    assert len(hints) == (1 if hinted else 0)
    # nothing big to send: no question asked
    events.clear()
    upload_artifacts(s3, [one, two], BUCKET, "apps/demo", progress=events.append, multipart_threshold=5 * MB,
                     part_size=5 * MB, lifecycle_hint=True)
    assert [e for e in events if e.event == "lifecycle"] == []
