"""Python dependencies: ``requirements.txt`` installed with pip for Lambda's platform, cached.

pip runs as a subprocess of the interpreter running lamctl (``sys.executable -m pip``)::

    pip install --target DIR --platform manylinux2014_x86_64 (or _aarch64)
        --python-version 3.X --implementation cp --only-binary=:all: -r requirements.txt

so a build on any host gives wheels that Lambda can load. pip honours its own
``PIP_*`` environment variables (an index, ``PIP_FIND_LINKS``, ``PIP_NO_INDEX``).

An install is cached under ``$XDG_CACHE_HOME/lamctl/deps/<key>``, the key being a
digest of the requirement lines (comments and blank lines dropped), the Python
version, the architecture and the pip settings that choose where packages come
from; functions with the same requirements share it. An install is written to a
temporary folder and renamed into place only when pip succeeded.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass

from lamctl.schemas.errors import BuildError, UsageError, location

REQUIREMENTS = "requirements.txt"
PLATFORMS = {"x86_64": "manylinux2014_x86_64", "arm64": "manylinux2014_aarch64"}
_PIP_SOURCE_VARS = ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_FIND_LINKS", "PIP_NO_INDEX", "PIP_PRE")
_RUNTIME_RX = re.compile(r"^python(3)\.(\d+)$")


def python_version(runtime: str | None) -> str | None:
    """``python3.12`` -> ``3.12``; None for other runtimes."""
    if not isinstance(runtime, str):
        return None
    m = _RUNTIME_RX.match(runtime)
    return f"{m.group(1)}.{m.group(2)}" if m else None


@dataclass(frozen=True)
class DepsSpec:
    requirements: str  # path of requirements.txt
    lines: tuple[str, ...]
    python: str  # "3.12"
    architecture: str  # x86_64 | arm64
    key: str

    @property
    def platform(self) -> str:
        return PLATFORMS[self.architecture]


def read_spec(requirements: str, runtime: str | None, architecture: str) -> DepsSpec | None:
    """The dependency set of a code folder's requirements.txt (None when it lists nothing)."""
    try:
        with open(requirements, "rb") as fh:
            raw = fh.read()
    except OSError as exc:
        raise UsageError(f"cannot read {requirements}: {exc.strerror}", where=requirements) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UsageError("requirements.txt is not UTF-8", where=location(requirements, raw[: exc.start].count(b"\n") + 1),
                         hint="save it as UTF-8") from None
    lines = []
    for line in text.splitlines():
        line = re.sub(r"(^|\s)#.*$", "", line).strip()
        if line:
            lines.append(line)
    if not lines:
        return None
    py = python_version(runtime)
    if py is None:
        raise UsageError(f"{requirements} needs a Python runtime, and the runtime is {runtime!r}",
                         where=requirements, hint="set Runtime: python3.X, or remove requirements.txt")
    if architecture not in PLATFORMS:
        raise UsageError(f"unknown architecture {architecture!r}", where=requirements,
                         hint="Architectures is x86_64 or arm64")
    h = hashlib.sha256()
    h.update(f"deps-1\0{py}\0{architecture}\0".encode())
    h.update("\n".join(lines).encode())
    _hash_included(h, requirements, lines, set())
    for var in _PIP_SOURCE_VARS:
        h.update(f"\0{var}={os.environ.get(var, '')}".encode())
    return DepsSpec(os.path.abspath(requirements), tuple(lines), py, architecture, h.hexdigest()[:32])


_INCLUDE_RX = re.compile(r"^(?:-r|--requirement|-c|--constraint)(?:\s*=?\s*)(\S+)")


def _hash_included(h, requirements: str, lines, seen: set) -> None:
    """Files pulled in with -r/-c count as part of the requirement set (their changes rebuild too)."""
    for line in lines:
        m = _INCLUDE_RX.match(line)
        if not m or "://" in m.group(1):
            continue
        path = os.path.normpath(os.path.join(os.path.dirname(requirements), m.group(1)))
        if path in seen:
            continue
        seen.add(path)
        try:
            with open(path, "rb") as fh:
                data = fh.read()
        except OSError:
            continue  # pip will say what is wrong with it
        h.update(b"\0" + path.encode() + b"\0" + data)
        _hash_included(h, path, data.decode("utf-8", "replace").splitlines(), seen)


def deps_root(cache_root: str) -> str:
    return os.path.join(cache_root, "deps")


def installed_dir(spec: DepsSpec, cache_root: str) -> str:
    return os.path.join(deps_root(cache_root), spec.key)


def install(spec: DepsSpec, cache_root: str, *, owner: str, notify=None) -> str:
    """The folder holding ``spec`` installed (pip runs only when the cache lacks it)."""
    final = installed_dir(spec, cache_root)
    if os.path.isdir(final):
        return final
    os.makedirs(deps_root(cache_root), exist_ok=True)
    tmp = tempfile.mkdtemp(dir=deps_root(cache_root), prefix=".tmp-")
    cmd = [sys.executable, "-m", "pip", "install", "--target", tmp,
           "--platform", spec.platform, "--python-version", spec.python, "--implementation", "cp",
           "--only-binary=:all:", "--no-compile", "--disable-pip-version-check", "--no-input",
           "--progress-bar", "off", "-r", spec.requirements]
    if notify:
        notify(f"{owner}: installing {len(spec.lines)} requirement(s) for Python {spec.python} "
               f"on {spec.architecture}")
    try:
        proc = subprocess.run(cmd, cwd=os.path.dirname(spec.requirements), capture_output=True, text=True)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise BuildError(f"cannot run pip for {owner}: {exc.strerror}", where=owner) from None
    if proc.returncode != 0:
        shutil.rmtree(tmp, ignore_errors=True)
        raise _pip_error(proc.stderr or proc.stdout, spec, owner)
    try:
        os.rename(tmp, final)
    except OSError:  # another build put it there first
        shutil.rmtree(tmp, ignore_errors=True)
        if not os.path.isdir(final):
            raise
    return final


def _pip_error(output: str, spec: DepsSpec, owner: str) -> Exception:
    errors = [ln[len("ERROR:"):].strip() for ln in output.splitlines() if ln.startswith("ERROR:")]
    if not errors:
        errors = [ln.strip() for ln in output.splitlines() if ln.strip()][-3:]
    reason = "; ".join(errors) or "pip failed without a message"
    m = re.search(r"from line (\d+) of (.+?)\)", output)
    if m and ("Invalid requirement" in output or "Invalid" in reason):
        return UsageError(f"invalid requirement for {owner}: {reason}",
                          where=location(m.group(2), int(m.group(1))),
                          hint="fix the line (PEP 508: name[extras] (specifier); markers)")
    return BuildError(f"pip could not install the requirements of {owner}: {reason}", where=spec.requirements,
                      hint="check the names and versions in requirements.txt; wheels must exist for "
                           f"{spec.platform}, Python {spec.python} (source distributions are not built)")
