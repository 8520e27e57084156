"""Go functions (``Metadata: {BuildMethod: go1.x}``): ``go build`` into an executable for Lambda.

As ``sam build`` does it (aws-lambda-builders' go_modules workflow): the code folder (``CodeUri``)
holds ``go.mod``; its root package is built (or, when the root holds no ``.go`` file, the package in
the folder the ``Handler`` names), for ``GOOS=linux`` and the ``GOARCH`` of ``Architectures``. The
executable is ``bootstrap`` for ``provided.al2023`` / ``provided.al2`` (named after the ``Handler``
for the retired ``go1.x`` runtime), mode 0755.

The build is reproducible: ``CGO_ENABLED=0`` (a static binary), ``-trimpath`` (no checkout path),
``-buildvcs=false`` (no VCS stamp) and ``-ldflags=-s -w -buildid=`` (no symbol table, no build ID):
the same sources and the same Go release give the same bytes on any machine. Modules are fetched
through the user's own Go settings (``GOPROXY``, ``GOFLAGS``, ``GONOSUMDB``, ... are passed on
untouched), and Go's own build cache makes a rebuild quick.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess

from lamctl.schemas.errors import BuildError, UsageError, location

BUILD_METHOD = "go1.x"
INSTALL_HINT = "install Go 1.18 or later (Debian/Ubuntu: apt-get install golang-go; elsewhere https://go.dev/dl/)"
GOARCH = {"x86_64": "amd64", "arm64": "arm64"}
FLAGS = ("-trimpath", "-buildvcs=false", "-ldflags=-s -w -buildid=")
# settings of the user's that change the bytes go build writes: part of the fingerprint
BYTE_SETTINGS = ("GOFLAGS", "GOAMD64", "GOARM64", "GOEXPERIMENT", "GOTOOLCHAIN", "GOWORK")
_LOCATED = re.compile(r"^(\S+?\.go):(\d+)(?::(\d+))?: (.+)$")


def find_go() -> str:
    """The ``go`` on the PATH, else a UsageError saying what to install."""
    found = shutil.which("go")
    if found is None:
        raise UsageError("Go functions (BuildMethod: go1.x) need the Go toolchain, and no 'go' is on the PATH",
                         hint=INSTALL_HINT)
    return found


class GoBuild:
    """How one function's Go code becomes its zip's contents."""

    def __init__(self, resource: str, source: str, runtime: str | None, architecture: str, handler,
                 where, warnings: list[str]):
        self.resource = resource
        self.source = source
        self.go = find_go()
        self.goarch = GOARCH[architecture]
        if not os.path.isfile(os.path.join(source, "go.mod")):
            raise UsageError(f"{resource}: BuildMethod go1.x builds a Go module, and its code folder {source} "
                             "has no go.mod", where=where(("CodeUri",)),
                             hint="point CodeUri at the folder holding go.mod (or run 'go mod init' there)")
        if runtime == "go1.x":
            if not isinstance(handler, str) or not handler or "/" in handler:
                raise UsageError(f"{resource}: the go1.x runtime runs the executable the Handler names, and "
                                 f"Handler is {handler!r}", where=where(("Handler",)),
                                 hint="set Handler to the executable's name, or better use Runtime: "
                                      "provided.al2023 with Handler: bootstrap")
            self.output = handler
            warnings.append(f"{resource}: AWS retired the go1.x runtime (no new functions); use Runtime: "
                            "provided.al2023 (the executable is then named bootstrap)")
        elif runtime is None or str(runtime).startswith("provided"):
            self.output = "bootstrap"
        else:
            raise UsageError(f"{resource}: BuildMethod go1.x builds a Go executable, which runs on the "
                             f"provided.al2023 or provided.al2 runtime, not on {runtime}",
                             where=where(("Runtime",)), hint="set Runtime: provided.al2023")
        self.package = self._package(handler, where)

    def _package(self, handler, where) -> str:
        """The package to build: the folder's root, else the one the Handler names (as sam does)."""
        try:
            if any(n.endswith(".go") and os.path.isfile(os.path.join(self.source, n))
                   for n in os.listdir(self.source)):
                return "."
        except OSError as exc:
            raise BuildError(f"cannot read {self.source}: {exc.strerror}", where=self.resource) from None
        rel = os.path.normpath(handler) if isinstance(handler, str) and handler else ""
        if rel and not os.path.isabs(rel) and not rel.startswith("..") and rel != "." \
                and os.path.isdir(os.path.join(self.source, rel)):
            return "./" + rel.replace(os.sep, "/")
        raise UsageError(f"{self.resource}: no .go file in {self.source}, and the Handler ({handler!r}) names no "
                         "package folder in it", where=where(("CodeUri",)),
                         hint="put package main at the root of CodeUri, or set Handler to its folder "
                              "(relative to CodeUri)")

    @property
    def key(self) -> str:
        """What besides the code folder's files decides the bytes: the toolchain, the target, the settings."""
        real = os.path.realpath(self.go)
        try:
            st = os.stat(real)
            tool = f"{real}\0{st.st_size}\0{st.st_mtime_ns}"
        except OSError:
            tool = real
        settings = "\0".join(f"{k}={os.environ.get(k, '')}" for k in BYTE_SETTINGS)
        return f"go\0{tool}\0{self.goarch}\0{self.package}\0{self.output}\0{' '.join(FLAGS)}\0{settings}"

    def build(self, out_dir: str, notify=None) -> None:
        """``go build`` the function into ``out_dir``."""
        env = dict(os.environ, GOOS="linux", GOARCH=self.goarch, CGO_ENABLED="0")
        cmd = [self.go, "build", *FLAGS, "-o", os.path.join(out_dir, self.output), self.package]
        if notify:
            notify(f"{self.resource}: go build for linux/{self.goarch}")
        try:
            proc = subprocess.run(cmd, cwd=self.source, env=env, capture_output=True, text=True)
        except OSError as exc:
            raise BuildError(f"cannot run {self.go} for {self.resource}: {exc.strerror}", where=self.resource,
                             hint=INSTALL_HINT) from None
        if proc.returncode != 0:
            raise self._error(proc.stderr or proc.stdout)
        os.chmod(os.path.join(out_dir, self.output), 0o755)

    def _error(self, output: str) -> Exception:
        lines = [ln.rstrip() for ln in output.splitlines() if ln.strip() and not ln.startswith("#")]
        for ln in lines:
            m = _LOCATED.match(ln)
            if m:  # the code does not compile: the first error, located in the user's file
                path = os.path.normpath(os.path.join(self.source, m.group(1)))
                more = f" (and {len(lines) - 1} more)" if len(lines) > 1 else ""
                return UsageError(f"{self.resource}: Go does not compile: {m.group(4)}{more}",
                                  where=location(path, int(m.group(2)), int(m.group(3)) if m.group(3) else None),
                                  hint="fix the code; 'go vet' in the code folder lists every error")
        reason = "; ".join(lines[-3:]) or "go build failed without a message"
        return BuildError(f"go build failed for {self.resource}: {reason}", where=self.source,
                          hint="check go.mod and go.sum, and that your Go settings (GOPROXY, GOFLAGS) "
                               "reach the modules it needs")
