"""The incremental build cache: an unchanged artifact is reused without reading file contents.

One record per built zip (keyed by the zip's absolute path) in
``$XDG_CACHE_HOME/lamctl/build/`` (``~/.cache/lamctl`` without it). A record holds
the *fingerprint* of the inputs, a digest over every archived file's name, size,
``mtime_ns``, inode and execute bit (stat data only) plus whatever else decides
the bytes (dependency set, layout, compression level), and the stat of the zip
it produced. The next build walks the folder (stat only), recomputes the
fingerprint, and reuses the zip when both agree.

When the stat data changed (a checkout, a ``touch``), the zip itself is the
second opinion: if every file still holds the bytes of its entry, the zip is
reused after reading and comparing, without compressing, and the new stat data
is recorded.

"When in doubt" also covers git's racily-clean problem: a file whose mtime falls within
:data:`RACY_NS` of the moment its build started may have changed again within
the same timestamp tick; its content sha256 (computed from the very bytes that
were archived) is kept in the record and checked on reuse.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field

FORMAT = 1
RACY_NS = 2_000_000_000  # coarse file systems tick in 1-2 s


def cache_root() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "lamctl")


def fingerprint(entries, extra: str = "") -> str:
    """Stat-only digest of a file list (``lamctl.packager.files.Entry`` objects) plus ``extra``."""
    h = hashlib.sha256()
    h.update(f"lamctl-build-{FORMAT}\0{extra}\0".encode())
    h.update("\n".join(f"{e.arcname}\0{e.size}\0{e.mtime_ns}\0{e.ino}\0{int(e.executable)}"
                       for e in entries).encode("utf-8", "surrogateescape"))
    return h.hexdigest()


def fs_now_ns(folder: str) -> int:
    """The file system's idea of now (the clock that stamps mtimes), read by touching a file.

    0 when the cache folder cannot be written (then nothing is recorded anyway)."""
    stamp = os.path.join(folder, ".stamp")
    try:
        os.makedirs(folder, exist_ok=True)
        with open(stamp, "ab"):
            pass
        os.utime(stamp, None)
        return os.stat(stamp).st_mtime_ns
    except OSError:
        return 0


def racy_names(entries, start_ns: int) -> set[str]:
    """Files whose mtime is too close to ``start_ns`` for their stat data to be trusted later."""
    if not start_ns:  # no cache to record into
        return set()
    return {e.arcname for e in entries if e.mtime_ns >= start_ns - RACY_NS}


@dataclass
class Record:
    fingerprint: str
    zip_path: str
    zip_stat: list  # [size, mtime_ns, ino]
    sha256: str
    zipped_bytes: int
    unzipped_bytes: int
    files: int
    racy: dict = field(default_factory=dict)  # arcname -> [path, sha256 of the archived bytes]
    parts: list = field(default_factory=list)  # largest folders inside: [[name, bytes], ...] (for limit errors)
    extra: str = ""  # what besides the files decided the bytes (kind, compression, dependency set)
    code_files: int = 0  # how many of the entries came from the code folder


def _stat_of(path: str) -> list | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [st.st_size, st.st_mtime_ns, st.st_ino]


_CHUNK = 1024 * 1024


def _same_bytes(raw, info, path: str, isal_zlib, h=None) -> bool:
    """Does the file at ``path`` hold exactly the bytes of zip entry ``info`` (read from ``raw``)?"""
    raw.seek(info.header_offset)
    header = raw.read(30)
    if header[:4] != b"PK\x03\x04":
        return False
    name_len, extra_len = int.from_bytes(header[26:28], "little"), int.from_bytes(header[28:30], "little")
    raw.seek(info.header_offset + 30 + name_len + extra_len)
    left = info.compress_size
    inflate = isal_zlib.decompressobj(-15) if info.compress_type == 8 else None
    crc = 0
    with open(path, "rb") as fh:
        pending = b""
        while left > 0 or pending:
            if not pending:
                block = raw.read(min(_CHUNK, left))
                if not block:
                    return False
                left -= len(block)
                pending = inflate.decompress(block) if inflate else block
                if left == 0 and inflate:
                    pending += inflate.flush()
                if not pending:
                    continue
            mine = fh.read(len(pending))
            if mine != pending:
                return False
            crc = isal_zlib.crc32(mine, crc)
            if h is not None:
                h.update(mine)
            pending = b""
        if fh.read(1):
            return False
    return crc == info.CRC


class BuildCache:
    def __init__(self, root: str | None = None):
        self.root = os.path.join(root or cache_root(), "build")

    def _file(self, zip_path: str) -> str:
        key = hashlib.sha256(os.path.abspath(zip_path).encode("utf-8", "surrogateescape")).hexdigest()[:32]
        return os.path.join(self.root, key + ".json")

    def lookup(self, zip_path: str, fp: str) -> Record | None:
        """The record when ``zip_path`` is still what an identical input produced; else None."""
        rec = self.intact(zip_path)
        if rec is None or rec.fingerprint != fp:
            return None
        for arcname, (path, digest) in rec.racy.items():
            try:
                with open(path, "rb") as fh:
                    h = hashlib.file_digest(fh, "sha256")
            except OSError:
                return None
            if h.hexdigest() != digest:
                return None
        return rec

    def intact(self, zip_path: str) -> Record | None:
        """The record of ``zip_path`` when the zip is still the one it describes (whatever its inputs)."""
        try:
            with open(self._file(zip_path), "rb") as fh:
                data = json.loads(fh.read())
            rec = Record(**data)
        except (OSError, ValueError, TypeError):
            return None
        if rec.zip_path != os.path.abspath(zip_path) or _stat_of(zip_path) != rec.zip_stat:
            return None
        return rec

    # -- the second opinion when the stat data changed but the bytes may not have

    def same_contents(self, rec: Record, extra: str, entries, want: set | frozenset = frozenset()) -> dict | None:
        """When ``entries`` (whose stat data changed) hold exactly the bytes archived in ``rec``'s zip: the
        sha256 of the compared bytes of the entries named in ``want``; else None.

        The zip itself is the record of content: each file is compared with its entry (size, mode,
        byte for byte after inflating, CRC-32), so the first build pays nothing for this check."""
        if rec.extra != extra or rec.code_files != len(entries):
            return None
        import zipfile

        from isal import isal_zlib

        try:
            with zipfile.ZipFile(rec.zip_path) as zf:
                infos = {i.filename: i for i in zf.infolist()}
        except (OSError, ValueError, zipfile.BadZipFile):
            return None
        for e in entries:
            info = infos.get(e.arcname)
            if info is None or info.file_size != e.size or bool((info.external_attr >> 16) & 0o111) != e.executable:
                return None

        def compare(part) -> dict | None:
            digests: dict[str, str] = {}
            try:
                with open(rec.zip_path, "rb") as raw:
                    for e in part:
                        h = hashlib.sha256() if e.arcname in want else None
                        if not _same_bytes(raw, infos[e.arcname], e.path, isal_zlib, h):
                            return None
                        if h is not None:
                            digests[e.arcname] = h.hexdigest()
            except (OSError, ValueError, isal_zlib.error):
                return None
            return digests

        from concurrent.futures import ThreadPoolExecutor

        n = max(1, min(4, os.cpu_count() or 1))  # reads, inflation and CRC release the GIL
        parts = [entries[i::n] for i in range(n)]
        with ThreadPoolExecutor(max_workers=n) as pool:
            results = list(pool.map(compare, parts))
        if any(r is None for r in results):
            return None
        return {k: v for r in results for k, v in r.items()}

    def store(self, rec: Record) -> bool:
        """Record ``rec``; False when the cache cannot be written (the build itself still stands)."""
        rec.zip_stat = _stat_of(rec.zip_path) or []
        try:
            os.makedirs(self.root, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".tmp-")
        except OSError:
            return False
        try:
            with os.fdopen(fd, "w") as fh:
                json.dump(rec.__dict__, fh)
            os.replace(tmp, self._file(rec.zip_path))
            return True
        except OSError:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            return False
