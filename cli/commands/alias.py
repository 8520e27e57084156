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
    from lamctl.schemas.errors import ConflictError, UsageError

    app = get_app(ctx)
    if version.upper() == "$LATEST":
        raise UsageError("an alias for releases must point at a published version, not $LATEST",
                         where="--version", hint="publish one with 'lamctl publish FUNCTION'")
    svc = Services(app)
    running = svc.journal.load(function, alias)
    holder = svc.lock.holder(function, alias)
    if (running is not None and running.active) or holder is not None:
        rid = running.id if running is not None and running.active else holder.release
        raise ConflictError(f"release {rid} is running on {function}:{alias}; lamctl will not move the alias "
                            "under it", where=f"{function}:{alias}",
                            hint="promote it, roll it back, or wait for it to finish")
    svc.lam.get_function_config(function, version)
    info = svc.lam.get_alias(function, alias)
    if info is None:
        svc.lam.create_alias(function, alias, version)
        human = f"created {function}:{alias} at version {version}"
    elif info.version == version and not info.weights:
        human = f"{function}:{alias} already serves version {version} at 100%"
    else:
        svc.lam.update_alias(function, alias, version, {}, info.revision_id)
        human = f"moved {function}:{alias} from {info.describe()} to version {version} at 100%"
    app.out.result(True, human, function=function, alias=alias, version=version)
