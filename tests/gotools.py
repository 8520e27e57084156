"""Go for the tests: the offline module proxy beside the repository and the settings that use it.

The test machine does not reach Go's module proxy: ``../shared/goproxy`` (beside the repository, as
``../shared/conformance`` is) is a file-based proxy holding ``github.com/aws/aws-lambda-go``, reached with
``GOPROXY=file://...`` and ``GOSUMDB=off``. Go's build cache is the user's own (``GOCACHE``, else Go's
default under the real ``XDG_CACHE_HOME`` or ``~/.cache``, read before a test isolates its environment):
it is content-addressed and safe to share, and a cold one costs a minute or two of compiling.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
GOPROXY_DIR = REPO.parent / "shared" / "goproxy"
HELLO_GO = REPO / "samples" / "hello-go"
GOCACHE = os.environ.get("GOCACHE") or os.path.join(
    os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "go-build")


def require_go() -> None:
    """Skip when Go or the offline proxy is missing (under CI=true such a skip fails the run)."""
    if shutil.which("go") is None:
        pytest.skip("go is not installed (Debian: apt-get install golang-go; .ci/run installs it)")
    if not GOPROXY_DIR.is_dir():
        pytest.skip(f"the offline Go module proxy {GOPROXY_DIR} is not there")


def go_settings(modcache: str | os.PathLike) -> dict[str, str]:
    """The environment a test's go build reads: the offline proxy, a private module cache."""
    return {"GOPROXY": f"file://{GOPROXY_DIR}", "GOSUMDB": "off", "GOFLAGS": "-modcacherw",
            "GOMODCACHE": str(modcache), "GOCACHE": GOCACHE, "GOTOOLCHAIN": "local"}


def copy_sample(dest: Path) -> Path:
    shutil.copytree(HELLO_GO, dest, ignore=shutil.ignore_patterns(".lamctl"))
    return dest


def elf_machine(data: bytes) -> str:
    """x86_64 or arm64: the processor an ELF executable is built for."""
    assert data[:4] == b"\x7fELF", "not an ELF executable"
    return {0x3E: "x86_64", 0xB7: "arm64"}.get(int.from_bytes(data[18:20], "little"), f"machine {data[18:20]!r}")
