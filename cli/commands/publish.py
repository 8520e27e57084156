"""``lamctl publish FUNCTION``: publish $LATEST as a version."""

from __future__ import annotations

from typing import Optional

import typer


def publish(
    ctx: typer.Context,
    function: str = typer.Argument(..., help="Function name or ARN."),
    description: Optional[str] = typer.Option(None, "--description", help="Description of the version."),
) -> None:
    """Publish $LATEST as a version (no new version when nothing changed since the last one)."""
    from lamctl.cli.application import get_app
    from lamctl.release.aws import LambdaGateway

    app = get_app(ctx)
    lam = LambdaGateway(app.aws().client("lambda"))
    previous = lam.latest_version(function)
    cfg = lam.publish_version(function, description or "")
    new = cfg.version != previous
    app.out.result(True, f"{function} version {cfg.version}" + ("" if new else " (unchanged: no new version)"),
                   function=function, version=cfg.version, code_sha256=cfg.code_sha256, new=new)
