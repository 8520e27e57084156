"""``lamctl validate [-t template.yaml] [--lint/--no-lint]``: schema, semantic and limit checks.

Every finding is one line, ``file:LINE:COL: message`` (``warning:`` before the
message for warnings), followed by an indented ``hint:`` line when there is a
fix to suggest; with ``--output json`` each finding is an NDJSON object of type
``finding``, then a ``result``. Exit 2 when there is any error, else 0 and one
``OK`` line. When cfn-lint is installed (``pip install 'lamctl[lint]'``), it
runs on lamctl's transform of the template and its findings are located in the
source template the same way. In GitHub Actions each finding also becomes an
annotation.
"""

from __future__ import annotations

import os
from typing import Optional

import typer

from lamctl.cli.application import get_app
from lamctl.schemas.errors import EXIT_USAGE, UsageError


def validate(
    ctx: typer.Context,
    template: Optional[str] = typer.Option(None, "-t", "--template", help="Template (default: ./template.yaml)."),
    lint: Optional[bool] = typer.Option(None, "--lint/--no-lint",
                                        help="Run cfn-lint on the transformed template "
                                             "(default: when cfn-lint is installed)."),
) -> None:
    """Check a template: schema, semantics (references, aliases, Globals) and Lambda limits."""
    from lamctl.packager import validate as checks
    from lamctl.schemas.errors import TemplateError
    from lamctl.schemas.template import find_template
    from lamctl.schemas.validate import Finding

    app = get_app(ctx)
    out = app.out
    path = os.path.normpath(find_template(app.setting("template", template)))  # ./template.yaml -> template.yaml
    findings: list[Finding] = []
    lint_note = None
    try:
        tpl = _load(path)
    except TemplateError as exc:  # bad YAML, alias bomb, ...: one finding where the parser stopped
        findings.append(_from_error(exc, path, "syntax"))
        tpl = None
    if tpl is not None:
        findings = checks.validate_template(tpl)
        want_lint = lint
        if want_lint is None:
            want_lint = checks.lint_available()
        elif want_lint and not checks.lint_available():
            raise UsageError("--lint needs cfn-lint, which is not installed",
                             hint="pip install 'lamctl[lint]', or run without --lint")
        transformed = None
        if any(f.severity == "error" for f in findings):
            lint_note = "transform and cfn-lint skipped: fix the errors above first" if want_lint else None
        else:
            # The transform itself is a check (duplicate routes, bad policy templates, ...), and its
            # output has CloudFormation's stack quotas to respect; both run with or without cfn-lint.
            region = app.opts.region or os.environ.get("AWS_REGION") or \
                os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
            try:
                transformed = checks.transform_for_lint(tpl, region)
            except TemplateError as exc:
                findings.append(_from_error(exc, path, "transform"))
                lint_note = "cfn-lint skipped: the transform failed" if want_lint else None
            quota = checks.transformed_findings(tpl, transformed) if transformed is not None else []
            findings.extend(quota)
            if want_lint and transformed is not None:
                if quota:
                    lint_note = "cfn-lint skipped: the transformed template exceeds CloudFormation's quotas"
                else:
                    count = len(transformed.get("Resources") or {})
                    if count > 100 and not out.json:
                        out.info(f"running cfn-lint on {count} resources (--no-lint skips it) ...")
                    findings.extend(checks.lint_findings(tpl, transformed, region))
                    lint_note = "cfn-lint ran on the transformed template"
    findings.sort(key=lambda f: (f.file != path, f.line or 0, f.col or 0))
    _report(out, findings)
    errors = sum(1 for f in findings if f.severity == "error")
    warnings = len(findings) - errors
    if lint_note and not out.json:
        out.info(lint_note)
    _summary(out, path, findings, errors, warnings)
    if errors:
        human = f"{path}: {errors} error(s)" + (f", {warnings} warning(s)" if warnings else "")
        if not out.json:
            out.info(human)
        out.result(False, None, template=path, errors=errors, warnings=warnings, lint=lint_note,
                   exit_code=EXIT_USAGE)
        raise typer.Exit(EXIT_USAGE)
    count = len(tpl.data.get("Resources") or {}) if tpl is not None and isinstance(tpl.data, dict) else 0
    human = f"{path}: OK ({count} resource(s)" + (f", {warnings} warning(s)" if warnings else "") + ")"
    out.result(True, human, template=path, errors=0, warnings=warnings, lint=lint_note)


def _from_error(exc, path: str, code: str):
    """A located TemplateError as a Finding (``where`` is ``file:line:col`` or just the file)."""
    from lamctl.schemas.validate import Finding

    file, line, col = path, None, None
    where = exc.where or ""
    parts = where.rsplit(":", 2)
    if len(parts) == 3 and parts[1].isdigit() and parts[2].isdigit():
        file, line, col = parts[0], int(parts[1]), int(parts[2])
    elif len(parts) >= 2 and parts[-1].isdigit():
        file, line = ":".join(parts[:-1]), int(parts[-1])
    message = exc.message
    if where and not (where == file or where.startswith(file + ":")):
        message = f"{where}: {message}"  # located by name (Resources.Fn...), not by line
    return Finding(message=message, file=file, line=line, col=col, code=code, hint=exc.hint)


def _report(out, findings) -> None:
    annotate = os.environ.get("GITHUB_ACTIONS") == "true"
    for f in findings:
        if out.json:
            out.emit("finding", **f.to_dict())
            continue
        lines = [str(f)]
        if f.hint:
            lines.append(f"  hint: {f.hint}")
        if annotate:
            level = "error" if f.severity == "error" else "warning"
            props = ",".join(p for p in (f"file={f.file}" if f.file else "",
                                         f"line={f.line}" if f.line else "",
                                         f"col={f.col}" if f.col else "") if p)
            text = f.message.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
            lines.append(f"::{level} {props}::{text}")
        out.stdout.write("\n".join(lines) + "\n")
    out.stdout.flush()


def _summary(out, path: str, findings, errors: int, warnings: int, limit: int = 50) -> None:
    """The GitHub Actions job summary (written only when GITHUB_STEP_SUMMARY is set)."""
    if not os.environ.get("GITHUB_STEP_SUMMARY"):
        return
    if not findings:
        out.summary(f"### lamctl validate `{path}`\n\nOK")
        return
    head = f"### lamctl validate `{path}`: {errors} error(s), {warnings} warning(s)\n\n| where | severity | message |\n|---|---|---|"
    rows = [f"| `{f.where}` | {f.severity} | {f.message.replace('|', chr(92) + '|')} |" for f in findings[:limit]]
    more = [f"\n... and {len(findings) - limit} more"] if len(findings) > limit else []
    out.summary("\n".join([head] + rows + more))


def _load(path: str):
    """The template, or a located TemplateError: the loader refuses absurd nesting and bad tags itself."""
    from lamctl.schemas.template import load_template

    return load_template(path)
