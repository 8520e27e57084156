"""What the uploader reports about safety, rendered: multipart uploads left open by an earlier run and aborted,
uploads stopped by Ctrl-C / SIGTERM, and the lifecycle rule a bucket lacks (see
:mod:`lamctl.packager.upload`). Also the uploader's options that depend on where it uploads."""

from __future__ import annotations

from typing import Any

LIFECYCLE_RULE = ('{"Rules":[{"ID":"abort-incomplete-uploads","Status":"Enabled","Filter":{},'
                  '"AbortIncompleteMultipartUpload":{"DaysAfterInitiation":1}}]}')


def upload_options(app: Any, s3: Any) -> dict:
    """The lifecycle hint on AWS only (the local cloud, or any endpoint on this machine, forgets its parts
    anyway), and the test seam (:mod:`lamctl.cli.faults`)."""
    from lamctl.cli.aws import is_loopback
    from lamctl.cli.faults import fault_from_env

    on_aws = not app.target_local and not is_loopback(getattr(s3.meta, "endpoint_url", None))
    return {"lifecycle_hint": on_aws, "fault": fault_from_env()}


def render(out: Any, bucket: str, p: Any) -> bool:
    """Render one :class:`~lamctl.packager.upload.UploadProgress` of the kinds above; False for the others."""
    from lamctl.cli.render import human_bytes

    if p.event == "leftover":
        out.event("leftover", f"aborted {p.count} multipart upload(s) of s3://{bucket}/{p.key} left open by an "
                              f"earlier lamctl ({human_bytes(p.size)} of parts)",
                  bucket=bucket, key=p.key, uploads=p.count, bytes=p.size)
    elif p.event == "stopped":
        how = ("its multipart upload was aborted, nothing of it is left in S3" if p.count
               else "a single upload, which S3 stores whole or not at all")
        out.event("stopped", f"stopped the upload to s3://{bucket}/{p.key} after {human_bytes(p.size)}: {how}",
                  bucket=bucket, key=p.key, sent=p.size, multipart=bool(p.count))
    elif p.event == "lifecycle":
        out.info(f"note: the bucket {bucket} has no lifecycle rule that aborts incomplete multipart uploads; an "
                 "upload killed outright (SIGKILL) leaves parts that are billed until one does. Add one (README, "
                 f"'Package'): aws s3api put-bucket-lifecycle-configuration --bucket {bucket} "
                 f"--lifecycle-configuration '{LIFECYCLE_RULE}'", type_="lifecycle", bucket=bucket)
    else:
        return False
    return True
