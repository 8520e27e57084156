"""The incremental build cache: an unchanged artifact is reused without reading file contents.

One record per built zip (keyed by the zip's absolute path) in
``$XDG_CACHE_HOME/lamctl/build/`` (``~/.cache/lamctl`` without it). A record holds
the *fingerprint* of the inputs, a digest over every archived file's name, size,
``mtime_ns``, inode and execute bit (stat data only) plus whatever else decides
the bytes (dependency set, layout, compression level), and the stat of the zip
it produced. The next build walks the folder (stat only), recomputes the
fingerprint, and reuses the zip when both agree.

"When in doubt" (git's racily-clean problem): a file whose mtime falls within
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


def _stat_of(path: str) -> list | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [st.st_size, st.st_mtime_ns, st.st_ino]


class BuildCache:
    def __init__(self, root: str | None = None):
        self.root = os.path.join(root or cache_root(), "build")

    def _file(self, zip_path: str) -> str:
        key = hashlib.sha256(os.path.abspath(zip_path).encode("utf-8", "surrogateescape")).hexdigest()[:32]
        return os.path.join(self.root, key + ".json")

    def lookup(self, zip_path: str, fp: str) -> Record | None:
        """The record when ``zip_path`` is still what an identical input produced; else None."""
        try:
            with open(self._file(zip_path), "rb") as fh:
                data = json.loads(fh.read())
            rec = Record(**data)
        except (OSError, ValueError, TypeError):
            return None
        if rec.fingerprint != fp or rec.zip_path != os.path.abspath(zip_path):
            return None
        if _stat_of(zip_path) != rec.zip_stat:
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
