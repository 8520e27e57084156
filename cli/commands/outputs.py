"""``lamctl outputs --stack NAME``: a stack's outputs, and those it declares but CloudFormation did not report."""

from __future__ import annotations

from typing import Optional

import typer

from lamctl.cli.application import get_app
from lamctl.cli.wiring import is_emulator, resolve_stack
from lamctl.schemas.errors import CloudError, LamctlError


def _declared_outputs(gateway, stack: str) -> list[str]:
    try:
        body = gateway.template_body(stack)
    except LamctlError:
        return []
    if not body:
        return []
    from lamctl.schemas.template import parse_text

    try:
        data = parse_text(body, f"template of {stack}")
    except LamctlError:
        return []
    outputs = data.get("Outputs") or {}
    return list(outputs) if isinstance(outputs, dict) else []


def outputs_command(
    ctx: typer.Context,
    stack: Optional[str] = typer.Option(None, "--stack", help="Stack name (else stack in lamctl.toml)."),
) -> None:
    """Print a stack's outputs."""
    from lamctl.release.stacks import StackGateway

    app = get_app(ctx)
    name = resolve_stack(app, stack)
    gateway = StackGateway(app.aws().client("cloudformation"))
    info = gateway.describe(name)
    if info is None:
        raise CloudError(f"stack {name} does not exist in {app.aws().region}", where=name,
                         hint="check --stack and --region, or deploy it first")
    have = {o.key for o in info.outputs}
    unavailable = [k for k in _declared_outputs(gateway, name) if k not in have]
    out = app.out
    if info.outputs and not out.json:
        out.table(["Key", "Value", "Description"], [(o.key, o.value, o.description or "") for o in info.outputs],
                  title=f"Outputs of {name}")
    emulator = is_emulator(app)
    if unavailable and not out.json:  # in json mode the one result object lists them
        why = ("the local cloud could not work them out: they name a resource it does not create, or an attribute "
               "it does not know" if emulator else "CloudFormation did not report them")
        out.warn(f"outputs unavailable: {', '.join(unavailable)} ({why})")
    from lamctl.release.stacks import PLACEHOLDER_MARK

    placeholders = [o.key for o in info.outputs if emulator and PLACEHOLDER_MARK in str(o.value)]
    if placeholders and not out.json:
        out.warn(f"placeholder values: {', '.join(placeholders)} (they name a resource the local cloud does not "
                 "create)")
    human = None if info.outputs else (f"stack {name} has no outputs" if not unavailable else None)
    out.result(True, human, stack=name, status=info.status, outputs={o.key: o.value for o in info.outputs},
               unavailable=unavailable, placeholders=placeholders)
