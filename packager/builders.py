"""Artifacts a toolchain makes: ``Metadata.BuildMethod`` ``go1.x`` (:mod:`lamctl.packager.go`) and
``makefile`` (:mod:`lamctl.packager.makefile`).

``build_template`` asks :func:`builder_for` once per planned artifact, before any work (a missing
toolchain is a usage error then); the builder's ``key`` joins the fingerprint of the code folder's files,
so an unchanged folder reuses its zip without running the toolchain. When the zip must be made,
:func:`run` builds into ``<build dir>/artifacts/<LogicalId>/`` and returns that folder's files as the
zip's sources.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile

from lamctl.packager import files as files_mod
from lamctl.packager import go, makefile
from lamctl.packager.artifacts import FUNCTION
from lamctl.schemas.errors import BuildError, UsageError

ARTIFACTS = "artifacts"
METHODS = (go.BUILD_METHOD, makefile.BUILD_METHOD)


def build_method(metadata) -> str | None:
    method = metadata.get("BuildMethod") if isinstance(metadata, dict) else None
    return method if isinstance(method, str) else None


def builder_for(p, warnings: list[str]):
    """The builder of planned artifact ``p`` (``lamctl.packager.build._Plan``), or None for a plain zip."""
    method = build_method(p.metadata)
    if method not in METHODS or p.is_zip:
        return None
    if method == makefile.BUILD_METHOD:
        return makefile.MakeBuild(p.resource, p.source, p.where((p.prop,)))
    if p.kind != FUNCTION:
        raise UsageError(f"{p.resource}: BuildMethod go1.x builds functions, not layers",
                         where=p.where(("ContentUri",)), hint="build the layer with BuildMethod: makefile")
    return go.GoBuild(p.resource, p.source, p.runtime, p.architecture, p.props.get("Handler"), p.where, warnings)


def racy_digests(entries, names: set) -> dict:
    """arcname -> [path, sha256] of the code folder's files named, read before the toolchain runs."""
    out = {}
    for e in entries:
        if e.arcname in names:
            with open(e.path, "rb") as fh:
                out[e.arcname] = [e.path, hashlib.file_digest(fh, "sha256").hexdigest()]
    return out


def run(p, build_dir: str, notify=None) -> list:
    """Build ``p`` with its toolchain; the files it made, as ``lamctl.packager.files.Entry`` objects."""
    root = os.path.join(build_dir, ARTIFACTS)
    try:
        os.makedirs(root, exist_ok=True)
        work = tempfile.mkdtemp(dir=root, prefix=f".{p.resource}-")
    except OSError as exc:
        raise BuildError(f"cannot create a folder in {root}: {exc.strerror}", where=p.resource,
                         hint="check the free space and permissions of the build folder") from None
    out = os.path.join(work, "out")
    os.mkdir(out)
    final = os.path.join(root, p.resource)
    try:
        if isinstance(p.builder, makefile.MakeBuild):
            scratch = os.path.join(work, "src")
            os.mkdir(scratch)
            p.builder.build(out, p.entries, scratch, notify)
        else:
            p.builder.build(out, notify)
        shutil.rmtree(final, ignore_errors=True)
        try:
            os.rename(out, final)
        except OSError as exc:
            raise BuildError(f"cannot move the build of {p.resource} to {final}: {exc.strerror}",
                             where=p.resource, hint="is another build of it running? try again") from None
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    shutil.rmtree(work, ignore_errors=True)
    made = files_mod.walk(final, files_mod.Matcher([]), owner=f"{p.resource} (built)")
    return made.entries
