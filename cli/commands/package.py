"""``lamctl package [-t T] --s3-bucket B [--s3-prefix P] [--output-template-file F] [--build-dir D]``.

Builds, uploads each zip S3 lacks to ``s3://B/P/<sha256>.zip``, and writes the
template with S3 code locations (to F, or to stdout). The packaging itself,
with its progress bar, is :func:`lamctl.cli.wiring.run_package` (``deploy``
packages the same way).
"""

from __future__ import annotations

import os
from typing import Optional

import typer

from lamctl.cli.application import get_app
from lamctl.cli.wiring import resolve_bucket, run_package


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
