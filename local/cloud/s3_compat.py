"""Where moto's S3 answers differently from S3 in a way a client acts on, the local cloud answers as S3 does.

moto answers an UploadPart or CompleteMultipartUpload for an upload that was
aborted (or never existed) with a 500 (a KeyError inside); S3 answers 404
``NoSuchUpload``, which a client may act on (lamctl starts again an upload that
another lamctl aborted as a leftover) and which SDKs never retry.
"""

from __future__ import annotations

from typing import Any, Callable

_patched = {"multipart": False}


def patch_multipart() -> None:
    """Install the NoSuchUpload answers (idempotent)."""
    if _patched["multipart"]:
        return
    from moto.s3.exceptions import NoSuchUpload
    from moto.s3.models import S3Backend

    def guarded(original: Callable[..., Any]) -> Callable[..., Any]:
        def method(self: Any, bucket_name: str, multipart_id: str, *args: Any, **kwargs: Any) -> Any:
            if multipart_id not in self.get_bucket(bucket_name).multiparts:
                raise NoSuchUpload(upload_id=multipart_id)
            return original(self, bucket_name, multipart_id, *args, **kwargs)
        return method

    S3Backend.upload_part = guarded(S3Backend.upload_part)  # type: ignore[method-assign]
    S3Backend.complete_multipart_upload = guarded(S3Backend.complete_multipart_upload)  # type: ignore[method-assign]
    _patched["multipart"] = True
