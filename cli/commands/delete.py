"""``lamctl delete --stack NAME``: delete a stack and wait until it is gone."""

from __future__ import annotations

from typing import Optional

import typer

from lamctl.cli.application import get_app
from lamctl.cli.views import StackListener, ask, can_prompt
from lamctl.cli.wiring import is_emulator, resolve_stack, system_clock
from lamctl.schemas.errors import CloudError, UsageError


def delete_command(
    ctx: typer.Context,
    stack: Optional[str] = typer.Option(None, "--stack", help="Stack name (else stack in lamctl.toml)."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask."),
    wait_timeout: Optional[int] = typer.Option(None, "--wait-timeout", help="Minutes to wait (default 60)."),
) -> None:
    """Delete a stack and wait until it is gone."""
    from lamctl.release.stacks import StackDeployer, StackGateway

    app = get_app(ctx)
    name = resolve_stack(app, stack)
    out = app.out
    timeout_minutes = app.setting("wait_timeout", wait_timeout, 60, int)
    aws = app.aws()
    gateway = StackGateway(aws.client("cloudformation"))
    info = gateway.describe(name)
    if info is None:
        out.result(True, f"stack {name} does not exist in {aws.region}; nothing to delete", stack=name,
                   status="DOES_NOT_EXIST")
        return
    if not yes:
        if not can_prompt(app):
            raise UsageError(f"deleting stack {name} needs --yes when lamctl cannot ask (not a terminal, CI, "
                             "or --output json)", hint=f"lamctl delete --stack {name} --yes")
        if not ask(f"Delete stack {name} ({info.status}) and every resource it holds?"):
            out.result(True, "Not deleted", stack=name, status=info.status)
            return
    deployer = StackDeployer(gateway, system_clock(), StackListener(app, True), emulator=is_emulator(app),
                             wait_timeout=timeout_minutes * 60.0)
    out.event("progress", f"deleting stack {name}", message="delete", phase="delete", stack=name)
    result = deployer.delete(name)
    if not result.ok:
        f = result.failure
        detail = f": {f.logical_id} {f.status}: {f.reason}" if f is not None else ""
        raise CloudError(f"deleting stack {name} failed ({result.status}){detail}", where=name,
                         hint="fix or retain the resource that blocks it, then run lamctl delete again "
                              "(aws cloudformation delete-stack --retain-resources LOGICAL_ID)")
    out.result(True, f"Stack {name}: DELETE_COMPLETE", stack=name, status=result.status,
               stack_id=result.stack_id)
