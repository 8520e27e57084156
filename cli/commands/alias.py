"""``lamctl alias FUNCTION ALIAS --version N``: create an alias or move it to one version at 100%."""

from __future__ import annotations

import typer

from lamctl.cli.wiring import Services


def alias_cmd(
    ctx: typer.Context,
    function: str = typer.Argument(..., help="Function name or ARN."),
    alias: str = typer.Argument(..., help="Alias name."),
    version: str = typer.Option(..., "--version", help="The version the alias serves at 100%."),
) -> None:
    """Create an alias, or move it to one version at 100% (refused while a release runs on it)."""
    from lamctl.cli.application import get_app
    from lamctl.release.control import move_alias
    from lamctl.schemas.errors import UsageError

    app = get_app(ctx)
    if version.upper() == "$LATEST":
        raise UsageError("an alias for releases must point at a published version, not $LATEST",
                         where="--version", hint="publish one with 'lamctl publish FUNCTION'")
    svc = Services(app)
    moved = move_alias(svc.lam, svc.journal, svc.lock, function, alias, version)
    if moved.action == "created":
        human = f"created {function}:{alias} at version {version}"
    elif moved.action == "unchanged":
        human = f"{function}:{alias} already serves version {version} at 100%"
    else:
        human = f"moved {function}:{alias} from {moved.previous.describe()} to version {version} at 100%"
    app.out.result(True, human, function=function, alias=alias, version=version)
