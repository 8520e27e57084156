"""The upload adapter against the emulator over real HTTP: content-addressed keys, skip what exists,
multipart for big zips, checksums sent for S3 to verify, and nothing left behind by a failed upload."""

from __future__ import annotations

import base64
import hashlib
import os
import random

import pytest

from lamctl.packager.artifacts import Artifact
from lamctl.packager.upload import MB, UploadProgress, s3_key, upload_artifacts
from lamctl.schemas.errors import CloudError, UsageError
from tests.helpers import write_zip

BUCKET = "artifacts-bucket"


def make_artifact(tmp_path, name: str, files: dict[str, bytes]) -> Artifact:
    """A real zip holding ``files``, described as the build would describe it."""
    path = write_zip(tmp_path / f"{name}.zip", dict(sorted(files.items())))
    data = path.read_bytes()
    return Artifact(resource=name, resource_type="AWS::Serverless::Function", kind="function", prop="CodeUri",
                    source=str(tmp_path / name), zip_path=str(path), sha256=hashlib.sha256(data).hexdigest(),
                    files=len(files), unzipped_bytes=sum(len(v) for v in files.values()), zipped_bytes=len(data),
                    runtime="python3.12")


def big_artifact(tmp_path, name: str, size: int) -> Artifact:
    rnd = random.Random(name)  # incompressible, reproducible content
    return make_artifact(tmp_path, name, {"blob.bin": rnd.randbytes(size)})


class Calls:
    """Counts S3 operations by name, via botocore's event hooks on the client (no patching)."""

    def __init__(self, client):
        self.names: list[str] = []
        self.requests: list = []
        client.meta.events.register("before-call.s3.*", self._call)
        client.meta.events.register("before-send.s3.*", self._send)

    def _call(self, model, **_):
        self.names.append(model.name)

    def _send(self, request, **_):
        self.requests.append(request)

    def count(self, name: str) -> int:
        return self.names.count(name)

    @property
    def writes(self) -> int:
        return sum(self.count(n) for n in ("PutObject", "CreateMultipartUpload", "UploadPart",
                                           "CompleteMultipartUpload"))


@pytest.fixture
def s3(aws):
    client = aws.client("s3")
    client.create_bucket(Bucket=BUCKET)
    return client


def keys(s3) -> list[str]:
    return sorted(o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", []))


def test_uploads_each_zip_under_its_sha256_and_a_second_run_uploads_nothing(tmp_path, s3):
    a = make_artifact(tmp_path, "HelloFunction", {"app.py": b"def handler(e, c):\n    return 'hi'\n"})
    b = make_artifact(tmp_path, "ByeFunction", {"app.py": b"def handler(e, c):\n    return 'bye'\n"})
    calls = Calls(s3)

    first = upload_artifacts(s3, [a, b], BUCKET, "apps/demo/")

    assert [u.uploaded for u in first] == [True, True]
    assert [u.location.key for u in first] == [f"apps/demo/{a.sha256}.zip", f"apps/demo/{b.sha256}.zip"]
    assert keys(s3) == sorted([f"apps/demo/{a.sha256}.zip", f"apps/demo/{b.sha256}.zip"])
    body = s3.get_object(Bucket=BUCKET, Key=f"apps/demo/{a.sha256}.zip")["Body"].read()
    assert body == open(a.zip_path, "rb").read()
    assert calls.count("PutObject") == 2

    calls.names.clear()
    second = upload_artifacts(s3, [a, b], BUCKET, "apps/demo")
    assert [u.uploaded for u in second] == [False, False]
    assert calls.writes == 0
    assert calls.count("HeadObject") == 2
    assert [u.uri for u in second] == [u.uri for u in first]


def test_identical_zips_go_up_once(tmp_path, s3):
    files = {"app.py": b"print('same')\n"}
    (tmp_path / "x").mkdir()
    one = make_artifact(tmp_path / "x", "One", files)
    two = make_artifact(tmp_path, "Two", files)
    assert one.sha256 == two.sha256
    calls = Calls(s3)
    result = upload_artifacts(s3, [one, two], BUCKET)
    assert calls.count("PutObject") == 1
    assert [u.uploaded for u in result] == [True, False]
    assert result[0].uri == result[1].uri == f"s3://{BUCKET}/{one.sha256}.zip"


def test_every_upload_carries_the_sha256_for_s3_to_verify(tmp_path, s3):
    small = make_artifact(tmp_path, "Small", {"a.py": b"x = 1\n"})
    big = big_artifact(tmp_path, "Big", 11 * MB)
    calls = Calls(s3)
    upload_artifacts(s3, [small, big], BUCKET, multipart_threshold=5 * MB, part_size=5 * MB)

    put = [r for r in calls.requests if r.method == "PUT" and "uploadId" not in r.url and r.url.endswith(".zip")]
    assert len(put) == 1
    expected = base64.b64encode(bytes.fromhex(small.sha256)).decode()
    assert put[0].headers["x-amz-checksum-sha256"] == (expected.encode() if isinstance(
        put[0].headers["x-amz-checksum-sha256"], bytes) else expected)

    parts = [r for r in calls.requests if r.method == "PUT" and "partNumber=" in r.url]
    assert len(parts) == 3  # 5 + 5 + 1 MB (plus zip overhead)
    data = open(big.zip_path, "rb").read()
    for request in parts:
        number = int(request.url.split("partNumber=")[1].split("&")[0])
        chunk = data[(number - 1) * 5 * MB: number * 5 * MB]
        header = request.headers["x-amz-checksum-sha256"]
        header = header.decode() if isinstance(header, bytes) else header
        assert header == base64.b64encode(hashlib.sha256(chunk).digest()).decode()
    # the object S3 assembled is exactly the zip
    assert s3.get_object(Bucket=BUCKET, Key=f"{big.sha256}.zip")["Body"].read() == data


def test_big_zip_goes_up_in_parts_and_progress_adds_up(tmp_path, s3):
    big = big_artifact(tmp_path, "Big", 12 * MB)
    events: list[UploadProgress] = []
    calls = Calls(s3)
    [result] = upload_artifacts(s3, [big], BUCKET, "p", progress=events.append,
                                multipart_threshold=5 * MB, part_size=5 * MB)
    assert result.uploaded and result.parts == 3
    [again] = upload_artifacts(s3, [big], BUCKET, "p", multipart_threshold=5 * MB, part_size=5 * MB)
    assert again.uploaded is False  # a multipart object's checksum (of its parts) is not taken for damage
    assert calls.count("UploadPart") == 3 and calls.count("PutObject") == 0
    plan = [e for e in events if e.event == "plan"]
    assert plan == [UploadProgress("plan", "", os.path.getsize(big.zip_path))]
    assert sum(e.size for e in events if e.event == "bytes") == os.path.getsize(big.zip_path)
    assert events[-1] == UploadProgress("done", f"p/{big.sha256}.zip", 0)
    head = s3.head_object(Bucket=BUCKET, Key=f"p/{big.sha256}.zip")
    assert head["ContentLength"] == os.path.getsize(big.zip_path)


def test_a_multipart_upload_failing_half_way_leaves_no_object_and_no_open_upload(tmp_path, s3):
    big = big_artifact(tmp_path, "Big", 16 * MB)
    sent = []

    def fail_third_part(params, **_):
        sent.append(params["PartNumber"])
        if params["PartNumber"] == 3:
            raise ConnectionResetError("connection reset by peer")

    s3.meta.events.register("before-parameter-build.s3.UploadPart", fail_third_part)
    with pytest.raises(ConnectionResetError):
        upload_artifacts(s3, [big], BUCKET, multipart_threshold=5 * MB, part_size=5 * MB, max_workers=1)
    assert 3 in sent
    assert keys(s3) == []
    assert s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == []

    # and a later run, the network back, uploads it whole
    s3.meta.events.unregister("before-parameter-build.s3.UploadPart", fail_third_part)
    [result] = upload_artifacts(s3, [big], BUCKET, multipart_threshold=5 * MB, part_size=5 * MB)
    assert result.uploaded
    assert s3.get_object(Bucket=BUCKET, Key=f"{big.sha256}.zip")["Body"].read() == open(big.zip_path, "rb").read()


def test_s3_refusing_a_part_is_a_cloud_error_naming_the_function_and_nothing_is_left(tmp_path, s3):
    big = big_artifact(tmp_path, "BigFunction", 11 * MB)

    def corrupt_second_part(params, **_):
        if params["PartNumber"] == 2:
            params["UploadId"] = "no-such-upload"  # NoSuchUpload each time: started again, then given up

    s3.meta.events.register("before-parameter-build.s3.UploadPart", corrupt_second_part)
    with pytest.raises(CloudError) as err:
        upload_artifacts(s3, [big], BUCKET, multipart_threshold=5 * MB, part_size=5 * MB, max_workers=1)
    assert err.value.where == "BigFunction"
    assert f"cannot upload to s3://{BUCKET}/{big.sha256}.zip" in err.value.message
    assert keys(s3) == []
    assert s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == []


def test_a_zip_changed_since_the_build_is_refused_before_it_reaches_s3(tmp_path, s3):
    art = make_artifact(tmp_path, "Fn", {"a.py": b"x = 1\n"})
    with open(art.zip_path, "ab") as fh:
        fh.write(b"tampered")
    with pytest.raises(UsageError) as err:
        upload_artifacts(s3, [art], BUCKET)
    assert err.value.where == "Fn" and "changed since it was built" in err.value.message
    assert keys(s3) == []


def test_missing_bucket_is_a_clear_error(tmp_path, aws):
    s3 = aws.client("s3")
    art = make_artifact(tmp_path, "Fn", {"a.py": b"x = 1\n"})
    with pytest.raises(CloudError) as err:
        upload_artifacts(s3, [art], "no-such-bucket-here")
    assert "no-such-bucket-here" in err.value.message and "does not exist" in err.value.message
    assert "--s3-bucket" in err.value.hint


def test_a_key_written_by_someone_else_meanwhile_counts_as_present(tmp_path, s3):
    art = make_artifact(tmp_path, "Fn", {"a.py": b"x = 2\n"})
    key = s3_key(art.sha256)

    other = []

    def someone_else_writes_first(params, **_):
        # another packager finishes the same content between our HEAD and our PUT
        if not other:
            other.append(1)
            s3.put_object(Bucket=BUCKET, Key=key, Body=open(art.zip_path, "rb").read())

    s3.meta.events.register("before-call.s3.PutObject", someone_else_writes_first)
    [result] = upload_artifacts(s3, [art], BUCKET)
    assert result.uploaded is False  # the conditional put got 412: the bytes were already there
    assert keys(s3) == [key]


def test_s3_key_shapes():
    assert s3_key("ab", None) == "ab.zip"
    assert s3_key("ab", "") == "ab.zip"
    assert s3_key("ab", "/a/b/") == "a/b/ab.zip"


def test_ctrl_c_during_parallel_uploads_aborts_every_open_upload(tmp_path, s3):
    one = big_artifact(tmp_path, "One", 11 * MB)
    two = big_artifact(tmp_path, "Two", 11 * MB)
    small = make_artifact(tmp_path, "Small", {"a.py": b"x = 3\n"})
    started: list[str] = []

    def interrupt_on_second_part_of_one(params, **_):
        started.append(params["Key"])
        if params["Key"] == f"{one.sha256}.zip" and params["PartNumber"] == 2:
            raise KeyboardInterrupt

    s3.meta.events.register("before-parameter-build.s3.UploadPart", interrupt_on_second_part_of_one)
    with pytest.raises(KeyboardInterrupt):
        upload_artifacts(s3, [one, two, small], BUCKET, multipart_threshold=5 * MB, part_size=5 * MB,
                         max_workers=3)
    assert f"{one.sha256}.zip" in started
    # no multipart upload left open, no big object under its final key
    assert s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == []
    assert f"{one.sha256}.zip" not in keys(s3)
    # what did land is whole (a single PUT is atomic, a completed multipart is the full zip)
    for key in keys(s3):
        sha = key[:-len(".zip")]
        assert hashlib.sha256(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()).hexdigest() == sha


def test_a_damaged_object_under_the_key_is_replaced(tmp_path, s3):
    art = make_artifact(tmp_path, "Fn", {"a.py": b"x = 4\n"})
    key = s3_key(art.sha256)
    s3.put_object(Bucket=BUCKET, Key=key, Body=b"truncated")  # e.g. written by a broken tool
    [result] = upload_artifacts(s3, [art], BUCKET)
    assert result.uploaded
    assert s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() == open(art.zip_path, "rb").read()


def test_without_list_permission_head_403_still_uploads_only_what_is_missing(tmp_path, s3):
    """S3 answers 403 (not 404) to HEAD of a missing key when the caller lacks s3:ListBucket."""
    import botocore.awsrequest

    present = make_artifact(tmp_path, "Present", {"a.py": b"x = 5\n"})
    missing = make_artifact(tmp_path, "Missing", {"a.py": b"x = 6\n"})
    upload_artifacts(s3, [present], BUCKET)

    def forbidden(model, params, **_):
        if model.name in ("HeadObject", "HeadBucket"):
            http = botocore.awsrequest.AWSResponse(params["url"], 403, {}, None)
            return http, {"Error": {"Code": "403", "Message": "Forbidden"},
                          "ResponseMetadata": {"HTTPStatusCode": 403}}
        return None

    s3.meta.events.register("before-call.s3.*", forbidden)
    calls = Calls(s3)
    result = upload_artifacts(s3, [present, missing], BUCKET)
    assert {u.resource: u.uploaded for u in result} == {"Present": False, "Missing": True}
    assert calls.count("PutObject") == 2  # both tried; the existing one answered 412 and was left alone
    assert keys(s3) == sorted([s3_key(present.sha256), s3_key(missing.sha256)])


def test_an_object_of_the_same_size_but_other_bytes_is_replaced(tmp_path, s3):
    art = make_artifact(tmp_path, "Fn", {"a.py": b"x = 7\n"})
    key = s3_key(art.sha256)
    good = open(art.zip_path, "rb").read()
    bad = bytes(b ^ 0xFF for b in good)
    s3.put_object(Bucket=BUCKET, Key=key, Body=bad, ChecksumAlgorithm="SHA256")
    [result] = upload_artifacts(s3, [art], BUCKET)
    assert result.uploaded
    assert s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() == good
    # and once right, it is left alone
    [again] = upload_artifacts(s3, [art], BUCKET)
    assert again.uploaded is False


@pytest.mark.parametrize("name, says", [
    (None, "no S3 bucket"),
    ("", "no S3 bucket"),
    ("ab", "not a valid S3 bucket name"),
    ("My_Bucket", "not a valid S3 bucket name"),
    ("bucket-", "not a valid S3 bucket name"),
    ("a..b", "not a valid S3 bucket name"),
    ("s3://bucket/path", "not a URI"),
])
def test_bad_bucket_names_are_usage_errors(name, says):
    from lamctl.packager.upload import check_bucket_name

    with pytest.raises(UsageError) as err:
        check_bucket_name(name)
    assert says in err.value.message and err.value.hint
    assert err.value.exit_code == 2


def test_good_bucket_names_pass():
    from lamctl.packager.upload import check_bucket_name

    for name in ("abc", "my.artifacts-bucket", "a" * 63, "123bucket"):
        assert check_bucket_name(name) == name
