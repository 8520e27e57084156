"""``lamctl package [-t T] --s3-bucket B [--s3-prefix P] [--output-template-file F] [--build-dir D]``.

Builds, uploads each zip S3 lacks to ``s3://B/P/<sha256>.zip``, and writes the
template with S3 code locations (to F, or to stdout). ``run_package`` is the
same job for other commands (``deploy``): it draws the progress bar and, on
the local cloud, creates the bucket when missing.
"""

from __future__ import annotations

import os
from typing import Any, Optional

import typer

from lamctl.cli.app import App, get_app


class _Progress:
    """Upload progress: a rich bar on a terminal, one line per artifact otherwise (or NDJSON events)."""

    def __init__(self, app: App, bucket: str = ""):
        self.out = app.out
        self.bar = None
        self.task = None
        self.bucket = bucket

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.stop()
        return False

    def __call__(self, p) -> None:
        from lamctl.cli.upload_notes import render

        if p.event == "stopped" and self.bar is not None:
            self.bar.stop()
            self.bar = None
        if render(self.out, self.bucket, p):
            return
        if p.event == "plan":
            if self.out.interactive and p.size > 0:
                from rich.console import Console
                from rich.progress import (BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn,
                                           TransferSpeedColumn)

                console = Console(file=self.out.stderr, no_color=not self.out.color)
                self.bar = Progress(TextColumn("uploading"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                                    TimeRemainingColumn(), console=console, transient=True)
                self.task = self.bar.add_task("upload", total=p.size)
                self.bar.start()
            return
        if p.event == "bytes":
            if self.bar is not None:
                self.bar.update(self.task, advance=p.size)
            return


def _upload_events(app: App, packaged, artifacts) -> None:
    from lamctl.cli.render import human_bytes

    kinds = {(a.resource, a.prop): a.kind for a in artifacts}
    for u in packaged.uploads:
        kind = kinds.get((u.resource, u.prop), "file")
        name = u.resource if kind != "file" else f"{u.resource} {u.prop}"
        state = "uploaded" if u.uploaded else "present"
        human = (f"uploaded {name} ({human_bytes(u.size)}) to {u.uri}" if u.uploaded
                 else f"{name}: {u.uri} is already there")
        app.out.event("upload", human, resource=u.resource, prop=u.prop, kind=kind, sha256=u.sha256, uri=u.uri,
                      bucket=u.location.bucket, key=u.location.key, size=u.size, state=state, parts=u.parts)


def resolve_bucket(app: App, s3_bucket: Optional[str], s3_prefix: Optional[str]) -> tuple[str, str | None]:
    """The bucket and prefix from flag > LAMCTL_S3_BUCKET > lamctl.toml; a clear error when there is none."""
    from lamctl.packager.upload import check_bucket_name

    bucket = app.setting("s3_bucket", s3_bucket)
    bucket = check_bucket_name(bucket)
    prefix = app.setting("s3_prefix", s3_prefix)
    return bucket, (prefix or None)


def run_package(app: App, template: Any, bucket: str, prefix: str | None = None, build_dir: str | None = None,
                build_result: Any = None):
    """Build (unless ``build_result`` is given), upload, rewrite: a :class:`PackagedTemplate`.

    Progress and per-artifact events go to ``app.out``; on the local cloud the bucket is created when missing."""
    from lamctl.packager.package import local_files, package

    files = local_files(template)  # a bad file path is reported before anything is built
    if build_result is None:
        from lamctl.packager.build import build_template

        build_result = build_template(template, build_dir, notify=app.out.info)
        for warning in build_result.warnings:
            app.out.warn(warning)
    artifacts = list(build_result.artifacts) + files
    clients = app.aws()
    s3 = clients.client("s3")
    if app.target_local:
        from lamctl.local.cloud.lifecycle import ensure_bucket

        if ensure_bucket(s3, bucket, clients.region):
            app.out.info(f"created the bucket {bucket} on the local cloud")
    from lamctl.cli.upload_notes import upload_options

    with _Progress(app, bucket) as progress:
        packaged = package(s3, template, artifacts, bucket, prefix, progress=progress, files=[],
                           **upload_options(app, s3))
    _upload_events(app, packaged, artifacts)
    return packaged


def _check_output_path(path: str, template_path: str) -> str:
    from lamctl.schemas.errors import UsageError

    target = os.path.abspath(path)
    if os.path.isdir(target):
        raise UsageError(f"--output-template-file {path} is a folder", hint="give a file name, e.g. packaged.yaml")
    if os.path.exists(target) and os.path.samefile(target, template_path):
        raise UsageError(f"--output-template-file {path} is the template itself; it would be overwritten",
                         hint="write the packaged template elsewhere, e.g. --output-template-file packaged.yaml")
    folder = os.path.dirname(target)
    if not os.path.isdir(folder):
        raise UsageError(f"the folder of --output-template-file {path} does not exist",
                         hint=f"create {folder} first, or choose another path")
    if not os.access(folder, os.W_OK):
        raise UsageError(f"cannot write to {folder} (for --output-template-file {path})",
                         hint="choose a writable location")
    return target


def _write_atomic(path: str, text: str) -> None:
    import tempfile

    folder = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(prefix=".lamctl-", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def register(app: typer.Typer) -> None:
    @app.command("package")
    def package_cmd(
        ctx: typer.Context,
        template: Optional[str] = typer.Option(None, "-t", "--template",
                                               help="Template file (default: template.yaml, .yml, .json here)."),
        s3_bucket: Optional[str] = typer.Option(None, "--s3-bucket", help="Bucket for the zips (or s3_bucket in "
                                                                          "lamctl.toml, or LAMCTL_S3_BUCKET)."),
        s3_prefix: Optional[str] = typer.Option(None, "--s3-prefix", help="Key prefix inside the bucket."),
        output_template_file: Optional[str] = typer.Option(None, "--output-template-file",
                                                           help="Write the packaged template here "
                                                                "(default: stdout)."),
        build_dir: Optional[str] = typer.Option(None, "--build-dir",
                                                help="Where the zips go (default: .lamctl/build beside the template)."),
    ) -> None:
        """Build, upload the zips S3 lacks, and write the template with S3 code locations."""
        from lamctl.schemas.template import find_template, load_template

        a = get_app(ctx)
        out = a.out
        tpl = load_template(find_template(a.setting("template", template)))
        bucket, prefix = resolve_bucket(a, s3_bucket, s3_prefix)
        target = _check_output_path(output_template_file, tpl.path) if output_template_file else None
        packaged = run_package(a, tpl, bucket, prefix, a.setting("build_dir", build_dir))

        from lamctl.cli.render import human_bytes, markdown_table

        out.summary("### lamctl package\n\n" + markdown_table(
            ["artifact", "size", "state", "location"],
            [[u.resource, human_bytes(u.size), "uploaded" if u.uploaded else "already there", f"`{u.uri}`"]
             for u in packaged.uploads]))
        uploaded = sum(1 for u in packaged.uploads if u.uploaded)
        present = len(packaged.uploads) - uploaded
        summary = (f"{len(packaged.uploads)} artifact(s): {uploaded} uploaded, {present} already in "
                   f"s3://{bucket}/{prefix.strip('/') + '/' if prefix else ''}")
        if target:
            _write_atomic(target, packaged.text)
            out.info(summary)
            out.result(True, f"wrote the packaged template to {output_template_file}", bucket=bucket,
                       prefix=prefix, uploaded=uploaded, present=present, output_template_file=target)
        elif out.json:
            out.result(True, None, bucket=bucket, prefix=prefix, uploaded=uploaded, present=present,
                       template=packaged.text)
        else:
            out.info(summary)
            out.stdout.write(packaged.text if packaged.text.endswith("\n") else packaged.text + "\n")
            out.stdout.flush()
