"""The upload adapter: artifact zips into S3, content-addressed, each at most once.

``upload_artifacts(s3, artifacts, bucket, prefix)`` puts every artifact at
``s3://bucket/prefix/<sha256>.zip``:

* a key that already exists is left alone (one ``HeadObject`` first; the key
  names the content, so an object there *is* this zip);
* artifacts go up in parallel; a zip over ``multipart_threshold`` goes up in
  parts, themselves in parallel;
* S3 verifies every byte: each request carries the SHA-256 we computed
  (``ChecksumAlgorithm=SHA256`` with ``ChecksumSHA256``), and S3 refuses the
  request when the bytes it received differ;
* an interrupted or failed upload leaves nothing under the final key: a plain
  ``PutObject`` is atomic, and a failed multipart upload is aborted (its parts
  deleted) before the error is raised; on Ctrl-C or SIGTERM (a KeyboardInterrupt
  in the calling thread) every open multipart upload is aborted at once, each
  stopped upload is reported (``stopped``), then the interrupt goes on;
* what a process killed outright (SIGKILL) left open is cleaned up by the next
  upload of the same artifact: before a big zip goes up, the multipart uploads
  open for its key are listed and aborted (``leftover``). The key names the
  content (``<sha256>.zip``, lamctl's naming) and lamctl's uploads carry a
  SHA-256 checksum, which ``ListMultipartUploads`` reports: only such uploads
  are touched. (S3 reports no metadata of an upload in progress, so no other
  mark can be read back.) A live lamctl whose upload is aborted that way
  starts it again, or finds the object there;
* ``lifecycle_hint``: report once (``lifecycle``) when the bucket has no rule
  aborting incomplete multipart uploads, the only bound on what a SIGKILL
  leaves behind; never an error;
* two writers racing for the same key are harmless: the put is conditional
  (``If-None-Match: *``) and a 412 means the same bytes are already there.

The client is received, never created here (only ``lamctl.cli.aws`` creates
clients). Progress is reported through a callback taking
:class:`UploadProgress`; the CLI draws it, tests count it.
"""

from __future__ import annotations

import base64
import hashlib
import os
import threading
from concurrent.futures import FIRST_COMPLETED, FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Sequence

from lamctl.packager.artifacts import Artifact
from lamctl.schemas.errors import CloudError, UsageError, error_code, error_message, http_status

MB = 1024 * 1024
MULTIPART_THRESHOLD = 16 * MB
PART_SIZE = 8 * MB
MIN_PART_SIZE = 5 * MB  # S3's floor for every part but the last
MAX_PARTS = 10_000
MAX_WORKERS = 4


@dataclass(frozen=True)
class S3Location:
    bucket: str
    key: str

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


@dataclass(frozen=True)
class Upload:
    """What happened to one artifact."""

    resource: str  # logical ID of the artifact's resource
    sha256: str
    location: S3Location
    size: int
    uploaded: bool  # False: the key already held these bytes
    parts: int = 0  # 0 for a single PutObject, else the number of multipart parts
    prop: str = ""  # the template property the artifact belongs to (CodeUri, DefinitionUri, ...)

    @property
    def uri(self) -> str:
        return self.location.uri


@dataclass(frozen=True)
class UploadProgress:
    """One progress report. ``event`` is one of:

    ``plan`` (``size`` = total bytes that will be sent, ``key`` = ""), ``skip``
    (the key already exists), ``start``, ``bytes`` (``size`` bytes more were sent
    for ``key``), ``done``, ``failed``; ``leftover`` (``count`` multipart uploads
    left open for ``key`` by an earlier run were aborted, holding ``size`` bytes
    of parts), ``stopped`` (an interrupt stopped the upload of ``key`` after
    ``size`` bytes; nothing is left of it; ``count`` 1: its multipart upload was
    aborted, 0: a single put, which S3 applies whole or not at all), ``lifecycle`` (``key`` = the bucket:
    it has no rule that aborts incomplete multipart uploads)."""

    event: str
    key: str
    size: int = 0
    count: int = 0


ProgressCallback = Callable[[UploadProgress], None]


FILE = "file"  # Artifact.kind of a local file uploaded as it is (an OpenAPI document, a state machine definition)


def s3_key(sha256: str, prefix: str | None = None, suffix: str = ".zip") -> str:
    """``<prefix>/<sha256><suffix>`` (no leading or doubled slashes)."""
    prefix = (prefix or "").strip("/")
    return f"{prefix}/{sha256}{suffix}" if prefix else f"{sha256}{suffix}"


def artifact_key(artifact: Artifact, prefix: str | None = None) -> str:
    """The key of an artifact: its sha256, then ``.zip`` (or a plain file's own extension)."""
    if artifact.kind == FILE:
        return s3_key(artifact.sha256, prefix, os.path.splitext(artifact.zip_path)[1].lower())
    return s3_key(artifact.sha256, prefix)


def _content_type(artifact: Artifact) -> str:
    if artifact.kind != FILE:
        return "application/zip"
    ext = os.path.splitext(artifact.zip_path)[1].lower()
    return {".json": "application/json", ".yaml": "application/yaml", ".yml": "application/yaml",
            ".graphql": "application/graphql", ".js": "text/javascript", ".vtl": "text/plain",
            ".txt": "text/plain"}.get(ext, "application/octet-stream")


def check_bucket_name(bucket: str | None) -> str:
    """A bucket name S3 accepts, or a UsageError saying what is wrong."""
    import re

    if not bucket:
        raise UsageError("no S3 bucket to upload to",
                         hint="pass --s3-bucket NAME, set LAMCTL_S3_BUCKET, or add s3_bucket = \"NAME\" to lamctl.toml")
    if bucket.startswith("s3://"):
        raise UsageError(f"--s3-bucket takes a bucket name, not a URI ({bucket!r})",
                         hint=f"use --s3-bucket {bucket[5:].split('/')[0]} and put any path in --s3-prefix")
    if not re.fullmatch(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", bucket) or ".." in bucket:
        raise UsageError(f"{bucket!r} is not a valid S3 bucket name",
                         hint="3-63 characters: lower-case letters, digits, dots and hyphens, "
                              "starting and ending with a letter or digit")
    return bucket


def _b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode()


class _Cancelled(Exception):
    pass


MAX_RESTARTS = 2  # a multipart upload aborted under us (another lamctl cleaning up) is started again this often
Fault = Callable[[str, int], None]  # (point, number): a test seam to stop the process mid-upload


class Uploader:
    """Uploads artifacts with one S3 client (boto3 clients are thread-safe)."""

    def __init__(self, s3: Any, bucket: str, prefix: str | None = None, *,
                 progress: ProgressCallback | None = None, max_workers: int = MAX_WORKERS,
                 multipart_threshold: int = MULTIPART_THRESHOLD, part_size: int = PART_SIZE,
                 lifecycle_hint: bool = False, fault: Fault | None = None):
        if part_size < MIN_PART_SIZE:
            raise ValueError(f"part_size must be at least {MIN_PART_SIZE} bytes")
        self.s3 = s3
        self.bucket = bucket
        self.prefix = prefix
        self.progress = progress or (lambda _p: None)
        self.max_workers = max(1, max_workers)
        self.multipart_threshold = max(multipart_threshold, part_size)
        self.part_size = part_size
        self._cancel = threading.Event()
        self._progress_lock = threading.Lock()
        self._damaged: set[str] = set()  # keys holding other bytes than their name says: overwritten
        self.lifecycle_hint = lifecycle_hint
        self.fault = fault or (lambda point, number: None)
        self._open: dict[str, str] = {}  # upload id -> key of this run's open multipart uploads
        self._sent: dict[str, int] = {}  # key -> bytes sent, for uploads in flight
        self._open_lock = threading.Lock()

    def _report(self, event: str, key: str, size: int = 0, count: int = 0) -> None:
        with self._progress_lock:
            if event == "start":
                self._sent[key] = 0
            elif event == "bytes" and key in self._sent:
                self._sent[key] += size
            elif event in ("done", "failed"):
                self._sent.pop(key, None)
            self.progress(UploadProgress(event, key, size, count))

    # -- the whole job
    def upload(self, artifacts: Iterable[Artifact]) -> list[Upload]:
        """Upload what S3 lacks; one :class:`Upload` per artifact, in the order given."""
        artifacts = list(artifacts)
        by_sha: dict[str, Artifact] = {}  # by key, in fact: the sha256 and the suffix
        for artifact in artifacts:  # identical zips (same code for two functions) go up once
            by_sha.setdefault(self._key(artifact), artifact)
        for artifact in by_sha.values():
            if not os.path.isfile(artifact.zip_path):
                if artifact.kind == FILE:
                    raise UsageError(f"{artifact.prop} names {artifact.zip_path}, which is not a file",
                                     where=artifact.resource, hint="check the path (relative to the template)")
                raise UsageError(f"the built zip {artifact.zip_path} is missing", where=artifact.resource,
                                 hint="run lamctl build again")

        # Phase 1: which keys exist (HEAD, in parallel; read only).
        exists = self._map(lambda a: self._exists(self._key(a), a), list(by_sha.values()))
        todo = [a for a, present in zip(by_sha.values(), exists) if not present]
        self._report("plan", "", sum(os.path.getsize(a.zip_path) for a in todo))
        for artifact, present in zip(by_sha.values(), exists):
            if present:
                self._report("skip", self._key(artifact), 0)

        # Phase 1b: multipart uploads that an earlier run, killed outright, left open for a big zip's key.
        big = [a for a in by_sha.values() if os.path.getsize(a.zip_path) > self.multipart_threshold]
        swept = self._map(self._sweep, big)
        if self.lifecycle_hint and (any(a in todo for a in big) or any(swept)) and self._lacks_abort_rule():
            self._report("lifecycle", self.bucket)

        # Phase 2: upload the missing ones (parts of big ones in their own pool, so nothing waits on itself).
        with ThreadPoolExecutor(max_workers=self.max_workers, thread_name_prefix="lamctl-part") as parts_pool:
            self._parts_pool = parts_pool
            results = self._map(self._upload_one, todo)
        done = {self._key(a): r for a, r in zip(todo, results)}
        out = []
        for artifact in artifacts:
            key = self._key(artifact)
            if key in done:
                first = done[key]
                uploaded = first.uploaded and by_sha[key] is artifact
                out.append(Upload(artifact.resource, artifact.sha256, first.location, first.size, uploaded,
                                  first.parts if uploaded else 0, artifact.prop))
            else:
                out.append(Upload(artifact.resource, artifact.sha256, S3Location(self.bucket, key),
                                  os.path.getsize(artifact.zip_path), False, 0, artifact.prop))
        return out

    def _key(self, artifact: Artifact) -> str:
        return artifact_key(artifact, self.prefix)

    def _map(self, fn: Callable[[Artifact], Any], items: Sequence[Artifact]) -> list[Any]:
        """``fn`` over ``items`` in a pool; the first failure cancels the rest, and is raised
        once everything in flight has cleaned up (so no multipart upload is left open)."""
        if not items:
            return []
        pool = ThreadPoolExecutor(max_workers=min(self.max_workers, len(items)), thread_name_prefix="lamctl-upload")
        futures: list[Future] = []
        try:
            futures = [pool.submit(fn, item) for item in items]
            finished, _ = wait(futures, return_when=FIRST_EXCEPTION)
            if any(f.exception() is not None for f in finished):
                self._cancel.set()
            wait(futures)
        except BaseException:  # Ctrl-C / SIGTERM in the main thread: stop the workers, let them abort, re-raise
            self._cancel.set()
            for f in futures:
                f.cancel()
            with self._open_lock:
                multipart = set(self._open.values())
            self._abort_open()  # at once: a worker may be in the middle of a part that takes a while
            with self._progress_lock:
                stopped = dict(self._sent)
            for key, sent in sorted(stopped.items()):
                self._report("stopped", key, sent, 1 if key in multipart else 0)
            wait(futures)
            raise
        finally:
            pool.shutdown(wait=True)
        errors = [f.exception() for f in futures if f.exception() is not None]
        real = [e for e in errors if not isinstance(e, _Cancelled)]
        if real or errors:
            raise (real or errors)[0]
        return [f.result() for f in futures]

    def _exists(self, key: str, artifact: Artifact) -> bool:
        import botocore.exceptions

        try:
            head = self.s3.head_object(Bucket=self.bucket, Key=key, ChecksumMode="ENABLED")
        except botocore.exceptions.ClientError as exc:
            code, status = error_code(exc), http_status(exc)
            if status == 404 or code in ("404", "NoSuchKey", "NotFound"):
                if self._bucket_missing():
                    raise CloudError(f"the S3 bucket {self.bucket!r} does not exist",
                                     hint="create it (aws s3 mb s3://" + self.bucket + "), or pass another --s3-bucket"
                                     ) from None
                return False
            if status == 403 or code in ("403", "Forbidden", "AccessDenied"):
                # Without s3:ListBucket, S3 answers 403 for a key that does not exist. Upload it: the put is
                # conditional, so a key that does exist answers 412 and counts as present.
                return False
            raise self._cloud_error(exc, "check", key, artifact) from None
        except botocore.exceptions.BotoCoreError as exc:
            raise CloudError(f"cannot reach S3 to check s3://{self.bucket}/{key}: {exc}",
                             where=artifact.resource) from None
        size = os.path.getsize(artifact.zip_path)
        # The key names the content; another length or SHA-256 can only be a damaged object: replace it.
        stored = head.get("ChecksumSHA256") or ""
        # A multipart object's checksum is of its parts (S3: "...-N", ChecksumType COMPOSITE; its ETag ends
        # "-N" too): comparable with the zip's SHA-256 only for an object sent whole.
        whole_object = (stored and "-" not in stored and "-" not in str(head.get("ETag", ""))
                        and head.get("ChecksumType", "FULL_OBJECT") == "FULL_OBJECT")
        if int(head.get("ContentLength", -1)) != size or (whole_object and stored != _b64(bytes.fromhex(
                artifact.sha256))):
            self._damaged.add(key)
            return False
        return True

    def _bucket_missing(self) -> bool:
        import botocore.exceptions

        if getattr(self, "_bucket_checked", False):
            return False
        try:
            self.s3.head_bucket(Bucket=self.bucket)
        except botocore.exceptions.ClientError as exc:
            if http_status(exc) == 404 or error_code(exc) in ("404", "NoSuchBucket", "NotFound"):
                return True
            return False
        self._bucket_checked = True
        return False

    def _cloud_error(self, exc: Exception, action: str, key: str, artifact: Artifact) -> CloudError:
        code = error_code(exc) or type(exc).__name__
        message = error_message(exc) or str(exc)
        hint = None
        if code in ("AccessDenied", "403", "Forbidden"):
            hint = f"the credentials in use need s3:GetObject and s3:PutObject on arn:aws:s3:::{self.bucket}/*"
        elif code == "NoSuchBucket":
            hint = f"create the bucket (aws s3 mb s3://{self.bucket}), or pass another --s3-bucket"
        elif code in ("BadDigest", "InvalidRequest") and "checksum" in message.lower():
            hint = "the zip changed while it was being uploaded; run lamctl package again"
        return CloudError(f"cannot {action} s3://{self.bucket}/{key}: {code}: {message}",
                          where=artifact.resource, hint=hint)

    # -- what earlier runs left behind
    def _sweep(self, artifact: Artifact) -> int:
        """Abort the multipart uploads left open for ``artifact``'s key (lamctl's own: the exact
        content-addressed key, a SHA-256 checksum); the number aborted. Never an error: without the
        permission to list or abort, the bucket's lifecycle rule is what cleans up."""
        key = self._key(artifact)
        try:
            listed = self.s3.list_multipart_uploads(Bucket=self.bucket, Prefix=key)
        except Exception:
            return 0
        leftovers = [u for u in listed.get("Uploads") or []
                     if u.get("Key") == key and str(u.get("ChecksumAlgorithm") or "").upper() == "SHA256"]
        held, aborted = 0, 0
        for upload in leftovers:
            try:
                parts = self.s3.list_parts(Bucket=self.bucket, Key=key, UploadId=upload["UploadId"])
                held += sum(int(p.get("Size") or 0) for p in parts.get("Parts") or [])
            except Exception:
                pass
            try:
                self.s3.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload["UploadId"])
                aborted += 1
            except Exception:
                continue
        if aborted:
            self._report("leftover", key, held, aborted)
        return aborted

    def _lacks_abort_rule(self) -> bool:
        """True when no enabled lifecycle rule of the bucket aborts incomplete multipart uploads under the
        prefix; False when one does, or when the configuration cannot be read (never an error)."""
        import botocore.exceptions

        try:
            config = self.s3.get_bucket_lifecycle_configuration(Bucket=self.bucket)
        except botocore.exceptions.ClientError as exc:
            return error_code(exc) == "NoSuchLifecycleConfiguration"
        except Exception:
            return False
        ours = s3_key("x", self.prefix)[:-len("x.zip")]
        for rule in config.get("Rules") or []:
            if str(rule.get("Status", "")).lower() != "enabled" or not rule.get("AbortIncompleteMultipartUpload"):
                continue
            flt = rule.get("Filter") or {}
            if "Tag" in flt or (flt.get("And") or {}).get("Tags"):
                continue  # uploads carry no tags
            prefix = rule.get("Prefix", flt.get("Prefix", (flt.get("And") or {}).get("Prefix", ""))) or ""
            if ours.startswith(prefix):
                return False
        return True

    def _abort_open(self) -> None:
        with self._open_lock:
            open_now = list(self._open.items())
        for upload_id, key in open_now:
            self._abort(key, upload_id)

    # -- one key
    def _upload_one(self, artifact: Artifact) -> Upload:
        import botocore.exceptions

        if self._cancel.is_set():
            raise _Cancelled()
        key = self._key(artifact)
        size = os.path.getsize(artifact.zip_path)
        self._report("start", key, size)
        try:
            if size > self.multipart_threshold:
                for attempt in range(MAX_RESTARTS + 1):
                    try:
                        parts = self._multipart(artifact, key, size)
                        break
                    except botocore.exceptions.ClientError as exc:
                        # Aborted under us: another lamctl took it for a leftover. Its upload may be done.
                        if error_code(exc) != "NoSuchUpload" or attempt == MAX_RESTARTS or self._cancel.is_set():
                            raise
                        if self._exists(key, artifact):
                            self._report("done", key, 0)
                            return Upload(artifact.resource, artifact.sha256, S3Location(self.bucket, key), size,
                                          False)
            else:
                self._put(artifact, key)
                parts = 0
        except _Cancelled:
            self._report("failed", key, 0)
            raise
        except botocore.exceptions.ClientError as exc:
            if http_status(exc) == 412 or error_code(exc) == "PreconditionFailed":
                # Someone else wrote this key meanwhile; the key names the content, so it is ours too.
                self._report("done", key, 0)
                return Upload(artifact.resource, artifact.sha256, S3Location(self.bucket, key), size, False)
            self._report("failed", key, 0)
            raise self._cloud_error(exc, "upload to", key, artifact) from None
        except botocore.exceptions.BotoCoreError as exc:
            self._report("failed", key, 0)
            raise CloudError(f"cannot upload to s3://{self.bucket}/{key}: {exc}", where=artifact.resource) from None
        self._report("done", key, 0)
        return Upload(artifact.resource, artifact.sha256, S3Location(self.bucket, key), size, True, parts)

    def _put(self, artifact: Artifact, key: str) -> None:
        with open(artifact.zip_path, "rb") as fh:
            body = fh.read()
        digest = hashlib.sha256(body).digest()
        if digest.hex() != artifact.sha256:
            raise UsageError(f"{artifact.zip_path} changed since it was built (its sha256 differs)",
                             where=artifact.resource, hint="run lamctl build again")
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType=_content_type(artifact),
                           ChecksumAlgorithm="SHA256", ChecksumSHA256=_b64(digest), **self._only_if_new(key))
        self._report("bytes", key, len(body))

    def _multipart(self, artifact: Artifact, key: str, size: int) -> int:
        part_size = max(self.part_size, -(-size // MAX_PARTS))
        count = -(-size // part_size)
        created = self.s3.create_multipart_upload(Bucket=self.bucket, Key=key,
                                                  ContentType=_content_type(artifact), ChecksumAlgorithm="SHA256")
        upload_id = created["UploadId"]
        with self._open_lock:
            self._open[upload_id] = key
        whole = hashlib.sha256()
        try:
            futures = []
            with open(artifact.zip_path, "rb") as fh:
                for number in range(1, count + 1):
                    if self._cancel.is_set():
                        raise _Cancelled()
                    data = fh.read(part_size)
                    whole.update(data)
                    futures.append(self._parts_pool.submit(self._part, key, upload_id, number, data))
                    # Keep at most a few parts in memory at once.
                    while sum(1 for f in futures if not f.done()) >= self.max_workers:
                        wait([f for f in futures if not f.done()], return_when=FIRST_COMPLETED)
                        if any(f.done() and f.exception() for f in futures):
                            break
                    if any(f.done() and f.exception() for f in futures):
                        break
            wait(futures)
            for f in futures:
                if f.exception() is not None:
                    raise f.exception()
            if whole.hexdigest() != artifact.sha256:
                raise UsageError(f"{artifact.zip_path} changed since it was built (its sha256 differs)",
                                 where=artifact.resource, hint="run lamctl build again")
            parts = [f.result() for f in futures]
            if self._cancel.is_set():
                raise _Cancelled()
            self.s3.complete_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id,
                                              MultipartUpload={"Parts": parts}, **self._only_if_new(key))
        except BaseException:
            self._abort(key, upload_id)
            raise
        finally:
            with self._open_lock:
                self._open.pop(upload_id, None)
        return count

    def _only_if_new(self, key: str) -> dict:
        """``If-None-Match: *`` unless the key is known to hold damaged bytes that must be replaced."""
        return {} if key in self._damaged else {"IfNoneMatch": "*"}

    def _part(self, key: str, upload_id: str, number: int, data: bytes) -> dict:
        if self._cancel.is_set():
            raise _Cancelled()
        checksum = _b64(hashlib.sha256(data).digest())
        response = self.s3.upload_part(Bucket=self.bucket, Key=key, UploadId=upload_id, PartNumber=number,
                                       Body=data, ChecksumAlgorithm="SHA256", ChecksumSHA256=checksum)
        self._report("bytes", key, len(data))
        self.fault("part", number)
        return {"PartNumber": number, "ETag": response["ETag"],
                "ChecksumSHA256": response.get("ChecksumSHA256") or checksum}

    def _abort(self, key: str, upload_id: str) -> None:
        try:
            self.s3.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
        except Exception:  # the original error matters more; a lifecycle rule cleans up what is left
            pass


def upload_artifacts(s3: Any, artifacts: Iterable[Artifact], bucket: str, prefix: str | None = None, *,
                     progress: ProgressCallback | None = None, max_workers: int = MAX_WORKERS,
                     multipart_threshold: int = MULTIPART_THRESHOLD, part_size: int = PART_SIZE,
                     lifecycle_hint: bool = False, fault: Fault | None = None) -> list[Upload]:
    """Upload each artifact's zip to ``s3://bucket/prefix/<sha256>.zip`` unless it is there already.

    Returns one :class:`Upload` per artifact, in order (``uploaded`` False when
    the key existed). Raises :class:`CloudError` naming the artifact's resource
    when S3 refuses; nothing is left under the key of an upload that failed."""
    return Uploader(s3, bucket, prefix, progress=progress, max_workers=max_workers,
                    multipart_threshold=multipart_threshold, part_size=part_size, lifecycle_hint=lifecycle_hint,
                    fault=fault).upload(artifacts)
