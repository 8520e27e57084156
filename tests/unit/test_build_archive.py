"""Byte-reproducible zips: same files, any checkout path, any mtimes, any umask -> same sha256."""

from __future__ import annotations

import hashlib
import os
import shutil
import struct
import subprocess
import zipfile

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from lamctl.packager import archive
from lamctl.packager.build import build_template
from lamctl.schemas.template import load_template

TEMPLATE = """\
Transform: AWS::Serverless-2016-10-31
Resources:
  Api:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src
      Runtime: provided.al2023
      Handler: bootstrap
"""

FILES = {
    "bootstrap": (b"#!/bin/sh\nexec ./app\n", 0o755),
    "app.py": (b"def handler(event, context):\n    return {'ok': True}\n" * 20, 0o644),
    "lib/util.py": (b"X = 1\n", 0o664),
    "lib/z\u00e9ta.txt": (b"unicode name\n", 0o644),
    "lib/B.txt": (b"upper case sorts before lower\n", 0o600),
    "data/bytes.bin": (bytes(range(256)) * 8, 0o644),
    "empty.txt": (b"", 0o644),
    "tool": (b"#!/usr/bin/env python3\n", 0o744),
}


def _make_project(root, mtime: int, umask: int):
    old = os.umask(umask)
    try:
        src = root / "src"
        for name, (data, mode) in FILES.items():
            path = src / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            os.chmod(path, mode & ~umask)
            os.utime(path, (mtime, mtime))
        (root / "template.yaml").write_text(TEMPLATE)
    finally:
        os.umask(old)
    return root / "template.yaml"


def test_same_inputs_give_the_same_bytes_across_paths_mtimes_and_umask(tmp_path):
    a = _make_project(tmp_path / "checkout-one", mtime=1_600_000_000, umask=0o022)
    b = _make_project(tmp_path / "deeper" / "checkout-two", mtime=1_700_000_000, umask=0o077)
    ra = build_template(load_template(str(a))).artifact("Api")
    rb = build_template(load_template(str(b))).artifact("Api")
    assert ra.sha256 == rb.sha256
    assert open(ra.zip_path, "rb").read() == open(rb.zip_path, "rb").read()
    assert hashlib.sha256(open(ra.zip_path, "rb").read()).hexdigest() == ra.sha256
    assert ra.files == len(FILES)


def test_zip_layout_is_normalised(tmp_path):
    art = build_template(load_template(str(_make_project(tmp_path, 1_650_000_000, 0o022)))).artifact("Api")
    with zipfile.ZipFile(art.zip_path) as zf:
        infos = zf.infolist()
        names = [i.filename for i in infos]
        assert names == sorted(names, key=lambda n: n.encode("utf-8"))
        assert names[0] == "app.py" and "lib/B.txt" in names and names.index("lib/B.txt") < names.index("lib/util.py")
        assert not any(n.endswith("/") for n in names), "no folder entries"
        for info in infos:
            assert info.date_time == (1980, 1, 1, 0, 0, 0)
            assert info.extra == b""
            assert info.create_system == 3
            assert info.compress_type in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
        for name, (data, _mode) in FILES.items():
            assert zf.read(name) == data
        assert zf.getinfo("empty.txt").compress_type == zipfile.ZIP_STORED
        assert zf.getinfo("app.py").compress_type == zipfile.ZIP_DEFLATED
        assert zf.getinfo("lib/z\u00e9ta.txt").flag_bits & 0x800
        assert zf.testzip() is None


def test_any_execute_bit_gives_0755_and_the_rest_0644(tmp_path):
    art = build_template(load_template(str(_make_project(tmp_path, 1_650_000_000, 0o022)))).artifact("Api")
    with zipfile.ZipFile(art.zip_path) as zf:
        modes = {i.filename: i.external_attr >> 16 for i in zf.infolist()}
    assert modes["bootstrap"] == 0o100755
    assert modes["tool"] == 0o100755  # 0744: the owner may execute, so everyone may
    assert modes["app.py"] == 0o100644
    assert modes["lib/B.txt"] == 0o100644  # 0600 normalised
    assert modes["lib/util.py"] == 0o100644


@pytest.mark.skipif(shutil.which("unzip") is None, reason="needs Info-ZIP unzip")
def test_info_zip_accepts_the_archive_and_restores_exec_bits(tmp_path):
    art = build_template(load_template(str(_make_project(tmp_path / "p", 1_650_000_000, 0o022)))).artifact("Api")
    out = subprocess.run(["unzip", "-t", art.zip_path], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    dest = tmp_path / "x"
    subprocess.run(["unzip", "-q", art.zip_path, "-d", str(dest)], check=True)
    assert os.stat(dest / "bootstrap").st_mode & 0o111
    assert not os.stat(dest / "app.py").st_mode & 0o111


def test_large_file_is_streamed_and_round_trips(tmp_path):
    big = tmp_path / "big.bin"
    block = hashlib.sha256(b"seed").digest() * 4096  # 128 KB, compressible pattern
    with open(big, "wb") as fh:
        for i in range(80):  # 10 MB, above the in-memory threshold
            fh.write(block[i % 7:] + block[: i % 7])
    noise = tmp_path / "noise.bin"
    noise.write_bytes(os.urandom(50_000))  # deflate cannot shrink it: stored
    sources = [archive.Source("big.bin", str(big), False, big.stat().st_size),
               archive.Source("noise.bin", str(noise), False, noise.stat().st_size)]
    r = archive.write_zip(str(tmp_path / "out.zip"), sources, digests_for={"big.bin"})
    assert big.stat().st_size > archive.BIG_FILE
    assert r.digests["big.bin"] == hashlib.sha256(big.read_bytes()).hexdigest()
    with zipfile.ZipFile(tmp_path / "out.zip") as zf:
        assert zf.read("big.bin") == big.read_bytes()
        assert zf.getinfo("big.bin").compress_type == zipfile.ZIP_DEFLATED
        assert zf.getinfo("noise.bin").compress_type == zipfile.ZIP_STORED
        assert zf.read("noise.bin") == noise.read_bytes()
    # and again, with one thread: identical bytes
    r1 = archive.write_zip(str(tmp_path / "again.zip"), sources, threads=1)
    assert r1.sha256 == r.sha256


def test_a_failed_write_leaves_no_zip_behind(tmp_path):
    good = tmp_path / "a.txt"
    good.write_text("a")
    dest = tmp_path / "out" / "x.zip"
    sources = [archive.Source("a.txt", str(good), False, 1),
               archive.Source("b.txt", str(tmp_path / "vanished.txt"), False, 1)]
    from lamctl.schemas.errors import BuildError

    with pytest.raises(BuildError) as err:
        archive.write_zip(str(dest), sources)
    assert "vanished.txt" in err.value.message
    assert not dest.exists()
    assert os.listdir(dest.parent) == []


def test_more_than_65535_entries_use_zip64(tmp_path):
    one = tmp_path / "one.txt"
    one.write_bytes(b"x")
    n = 65_600  # above the 65,535 entries a classic end record can count
    sources = [archive.Source(f"f{i:05d}", str(one), False, 1) for i in range(n)]
    r = archive.write_zip(str(tmp_path / "many.zip"), sources)
    raw = (tmp_path / "many.zip").read_bytes()
    assert b"PK\x06\x06" in raw[-200:] and b"PK\x06\x07" in raw[-200:]  # zip64 end record and locator
    with zipfile.ZipFile(tmp_path / "many.zip") as zf:
        infos = zf.infolist()
        assert len(infos) == n
        assert zf.read("f65599") == b"x"
    assert r.files == n and r.unzipped_bytes == n


def test_the_cache_fingerprint_knows_the_compression_level():
    from lamctl.packager import build

    assert build.ZIP_LEVEL == archive.LEVEL

_NAME = st.text(st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="/\\\x00"),
                min_size=1, max_size=12).filter(lambda n: n not in (".", ".."))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(files=st.dictionaries(st.lists(_NAME, min_size=1, max_size=3).map("/".join),
                             st.tuples(st.binary(max_size=3000), st.booleans()), min_size=1, max_size=12))
def test_any_files_round_trip_in_sorted_order(tmp_path_factory, files):
    arcnames = list(files)
    if any(a != b and b.startswith(a + "/") for a in arcnames for b in arcnames):
        return  # a name cannot be both a file and a folder
    folder = tmp_path_factory.mktemp("src")
    sources = []
    for i, (name, (data, exe)) in enumerate(files.items()):
        path = folder / f"f{i}"
        path.write_bytes(data)
        sources.append(archive.Source(name, str(path), exe, len(data)))
    r = archive.write_zip(str(folder / "out.zip"), list(reversed(sources)))
    with zipfile.ZipFile(folder / "out.zip") as zf:
        infos = zf.infolist()
        assert [i.filename for i in infos] == sorted(files, key=lambda n: n.encode("utf-8"))
        for info in infos:
            data, exe = files[info.filename]
            assert zf.read(info) == data
            assert info.external_attr >> 16 == (0o100755 if exe else 0o100644)
    assert r.unzipped_bytes == sum(len(d) for d, _ in files.values())
    again = archive.write_zip(str(folder / "again.zip"), sources, threads=1)
    assert again.sha256 == r.sha256


def test_a_file_that_grew_after_the_walk_is_archived_whole(tmp_path):
    grown = tmp_path / "grown.bin"
    grown.write_bytes(b"0123456789abcdef" * (archive.BIG_FILE // 16 + 4096))
    r = archive.write_zip(str(tmp_path / "g.zip"), [archive.Source("grown.bin", str(grown), False, 10)])
    with zipfile.ZipFile(tmp_path / "g.zip") as zf:
        assert zf.read("grown.bin") == grown.read_bytes()
    assert r.unzipped_bytes == grown.stat().st_size


# ---------------------------------------------------------------- zip64 at its exact edges (APPNOTE 4.4.8)
# 0xFFFFFFFF in a 32-bit size or offset field means "look in the zip64 extra field": a size or offset of
# exactly 0xFFFFFFFF must already go there. Headers are checked on their own: a 4 GiB entry is too slow to zip.
MARK = 0xFFFFFFFF

def _central(usize: int, csize: int, offset: int) -> tuple[tuple, bytes]:
    d = archive._Done(crc=0, usize=usize, csize=csize, method=archive.DEFLATED)
    raw = archive._central_header(b"f", 0, d, offset, False)
    fields = struct.unpack("<IHHHHHHIIIHHHHHII", raw[:46])
    return fields, raw[46 + 1:]


@pytest.mark.parametrize("usize,csize,offset,expect", [
    (MARK - 1, 10, 0, ()),
    (MARK, 10, 0, ("usize",)),
    (10, MARK, 0, ("csize",)),
    (10, 10, MARK, ("offset",)),
    (MARK, MARK + 5, MARK + 9, ("usize", "csize", "offset")),
])
def test_a_central_header_moves_to_zip64_exactly_when_a_field_reaches_0xffffffff(usize, csize, offset, expect):
    fields, extra = _central(usize, csize, offset)
    values = {"usize": usize, "csize": csize, "offset": offset}
    assert fields[8] == (MARK if "csize" in expect else csize)
    assert fields[9] == (MARK if "usize" in expect else usize)
    assert fields[16] == (MARK if "offset" in expect else offset)
    assert fields[2] == (45 if expect else 20)  # version needed: 4.5 for zip64
    if expect:  # the zip64 extra field: id 1, then the 64-bit values in the order usize, csize, offset
        assert struct.unpack("<HH", extra[:4]) == (1, 8 * len(expect))
        assert struct.unpack(f"<{len(expect)}Q", extra[4:]) == tuple(values[k] for k in expect)
    else:
        assert extra == b"" and fields[11] == 0


@pytest.mark.parametrize("usize,csize,zip64", [(MARK - 1, MARK - 1, False),
                                               (MARK, 10, True), (10, MARK, True)])
def test_a_local_header_moves_to_zip64_exactly_when_a_size_reaches_0xffffffff(usize, csize, zip64):
    d = archive._Done(crc=7, usize=usize, csize=csize, method=archive.STORED)
    raw = archive._local_header(b"f", 0, d)
    fields = struct.unpack("<IHHHHHIIIHH", raw[:30])
    assert fields[1] == (45 if zip64 else 10)
    assert fields[7:9] == ((MARK, MARK) if zip64 else (csize, usize))
    assert raw[31:] == (struct.pack("<HHQQ", 1, 16, usize, csize) if zip64 else b"")


def test_a_file_deflate_cannot_shrink_is_stored_and_the_rest_deflated(tmp_path):
    noise = b"".join(hashlib.sha256(bytes([i])).digest() for i in range(64))  # 2 KiB that do not compress
    files = {"noise.bin": noise, "text.txt": b"the same line again\n" * 100, "empty": b""}
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    r = archive.write_zip(str(tmp_path / "o.zip"), [archive.Source(n, str(tmp_path / n), False, len(d))
                                                   for n, d in files.items()])
    with zipfile.ZipFile(tmp_path / "o.zip") as zf:
        kinds = {i.filename: (i.compress_type, i.compress_size, i.file_size) for i in zf.infolist()}
        assert all(zf.read(n) == d for n, d in files.items())
    assert kinds["noise.bin"] == (zipfile.ZIP_STORED, len(noise), len(noise))
    assert kinds["empty"] == (zipfile.ZIP_STORED, 0, 0)
    method, packed, size = kinds["text.txt"]
    assert method == zipfile.ZIP_DEFLATED and packed < size // 10
    assert r.files == 3 and r.unzipped_bytes == len(noise) + 2000
    # "version needed to extract": 2.0 for deflate, 1.0 for stored, in the local and the central header
    raw = (tmp_path / "o.zip").read_bytes()
    assert raw[-22:-18] == b"PK\x05\x06" and b"PK\x06\x06" not in raw  # a small zip has no zip64 end record
    with zipfile.ZipFile(tmp_path / "o.zip") as zf:
        for info in zf.infolist():
            local = struct.unpack("<H", raw[info.header_offset + 4:info.header_offset + 6])[0]
            want = 20 if info.compress_type == zipfile.ZIP_DEFLATED else 10
            assert (local, info.extract_version) == (want, want), info.filename


@pytest.mark.parametrize("name", ["/etc/passwd", "C:\\Windows\\x.dll", "c:x", "..", "../x", "a/../../x",
                                  "a\\..\\..\\x"])
def test_an_entry_that_would_land_outside_the_unpack_folder_is_found(name):
    assert archive.escaping_entry(["ok.py", name, "/later"]) == name


def test_entries_that_stay_inside_the_unpack_folder_are_fine():
    assert archive.escaping_entry(["a/../b", "./x", "a..b", "..hidden", "d/c:"]) is None
    assert archive.escaping_entry([]) is None


def test_a_ready_made_zip_and_a_copied_artifact_arrive_byte_for_byte(tmp_path):
    big = tmp_path / "big.bin"
    big.write_bytes(b"".join(hashlib.sha256(i.to_bytes(4, "little")).digest() for i in range(80_000)))  # 2.5 MiB
    src = tmp_path / "given.zip"
    with zipfile.ZipFile(src, "w") as zf:
        zf.write(big, "big.bin")
        zf.writestr("dir/", b"")
        zf.writestr("dir/a.txt", b"abc")
    r = archive.copy_zip(str(src), str(tmp_path / "out" / "code.zip"))
    assert (tmp_path / "out" / "code.zip").read_bytes() == src.read_bytes()
    assert r.sha256 == hashlib.sha256(src.read_bytes()).hexdigest() == archive.sha256_file(str(src))
    assert (r.zipped_bytes, r.files, r.unzipped_bytes) == (src.stat().st_size, 2, big.stat().st_size + 3)
    archive.copy_file(str(big), str(tmp_path / "copy.bin"))
    assert (tmp_path / "copy.bin").read_bytes() == big.read_bytes()
    assert (tmp_path / "copy.bin").stat().st_mode & 0o777 == 0o644
    assert archive.sha256_file(str(big)) == hashlib.sha256(big.read_bytes()).hexdigest()


def test_a_code_location_that_is_not_a_zip_is_a_build_error_and_nothing_is_written(tmp_path):
    from lamctl.schemas.errors import BuildError

    bad = tmp_path / "code.zip"
    bad.write_bytes(b"not a zip at all")
    with pytest.raises(BuildError) as err:
        archive.copy_zip(str(bad), str(tmp_path / "out" / "code.zip"))
    assert err.value.message.startswith(f"{bad} is not a readable zip file")
    assert err.value.hint == "point the code location at a folder or a valid .zip"
    assert not (tmp_path / "out").exists()
