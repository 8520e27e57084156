"""The lifecycle-rule hint is asked for on AWS only, and says how to add the rule."""

from __future__ import annotations

import io
import json
from types import SimpleNamespace

import boto3
import pytest

from lamctl.cli.render import Output
from lamctl.cli.upload_notes import LIFECYCLE_RULE, render, upload_options
from lamctl.packager.upload import UploadProgress


def s3_at(endpoint: str | None):
    return boto3.client("s3", region_name="us-east-1", endpoint_url=endpoint, aws_access_key_id="testing",
                        aws_secret_access_key="testing")


@pytest.mark.parametrize("endpoint, local, asked", [
    (None, False, True),  # AWS
    ("https://s3.eu-west-1.amazonaws.com", False, True),
    ("http://127.0.0.1:4566", False, False),  # the local cloud, or start-lambda's neighbours
    ("http://localhost:9000", False, False),
    (None, True, False),  # --local
])
def test_the_hint_is_asked_for_on_aws_only(endpoint, local, asked):
    options = upload_options(SimpleNamespace(target_local=local), s3_at(endpoint))
    assert options["lifecycle_hint"] is asked
    assert options["fault"] is None  # no test seam unless its variable is set


def test_the_hint_says_how_to_add_the_rule():
    err = io.StringIO()
    out = Output("text", color=False, stdout=io.StringIO(), stderr=err)
    assert render(out, "my-artifacts", UploadProgress("lifecycle", "my-artifacts"))
    text = err.getvalue()
    assert "my-artifacts has no lifecycle rule" in text
    assert "put-bucket-lifecycle-configuration --bucket my-artifacts" in text
    rule = json.loads(LIFECYCLE_RULE)["Rules"][0]
    assert rule["Status"] == "Enabled" and rule["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 1}
    assert not render(out, "my-artifacts", UploadProgress("bytes", "k", 3))


def test_a_stopped_upload_says_whether_a_multipart_upload_was_aborted():
    err = io.StringIO()
    out = Output("text", color=False, stdout=io.StringIO(), stderr=err)
    render(out, "b", UploadProgress("stopped", "k.zip", 8_000_000, 1))
    render(out, "b", UploadProgress("stopped", "s.zip", 0, 0))
    first, second = err.getvalue().splitlines()
    assert "s3://b/k.zip after 8.0 MB" in first and "multipart upload was aborted" in first
    assert "s3://b/s.zip" in second and "whole or not at all" in second
