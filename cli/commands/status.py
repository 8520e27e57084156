"""``lamctl status``: an alias's versions and weights with its running or last release, or a stack's state."""

from __future__ import annotations

from typing import Any, Optional

import typer

from lamctl.cli.views import stack_event_line
from lamctl.cli.wiring import Services, resolve_stack
from lamctl.schemas.errors import CloudError


def status(
    ctx: typer.Context,
    function: Optional[str] = typer.Option(None, "--function", help="Function name or ARN."),
    alias: Optional[str] = typer.Option(None, "--alias", help="Alias."),
    stack: Optional[str] = typer.Option(None, "--stack", help="A stack's status instead (see deploy)."),
    state_machine: Optional[str] = typer.Option(None, "--state-machine",
                                                help="A state machine alias instead of a function's."),
) -> None:
    """Versions and weights of an alias, and its running or last release with its steps."""
    from lamctl.cli.application import get_app
    from lamctl.schemas.errors import UsageError

    app = get_app(ctx)
    if stack and not state_machine:
        stack_status(app, stack)
        return
    if state_machine:
        if function:
            raise UsageError("give --function or --state-machine, not both", where="--state-machine")
        if stack:
            from lamctl.release.stacks import StackGateway
            from lamctl.release.states import state_machine_arn

            state_machine = state_machine_arn(StackGateway(app.aws().client("cloudformation")),
                                              resolve_stack(app, stack), state_machine)
        function = state_machine.split(":")[6] if state_machine.startswith("arn:") else state_machine
    function = app.setting("function", function)
    alias = app.setting("alias", alias)
    if not function or not alias:
        if app.setting("stack"):  # stack in lamctl.toml (or LAMCTL_STACK), as outputs and deploy read it
            stack_status(app, None)
            return
        raise UsageError("status needs --function and --alias, or --stack NAME",
                         hint="e.g. lamctl status --function app --alias live, or lamctl status --stack orders "
                              "(or set function and alias, or stack, in lamctl.toml)")
    svc = Services(app, state_machines=bool(state_machine))
    eng = svc.engine(None)
    info, release = eng.status(function, alias)
    _render_status(app, function, alias, info, release, svc, eng.driver(release) if release else None)


def _render_status(app: Any, function: str, alias: str, info, release, svc: Services, driver=None) -> None:
    from lamctl.release.plan import Plan, plan_lines, step_states

    out = app.out
    weights = []
    if info is not None:
        extra = sum(info.weights.values())
        weights.append([info.version, f"{(1 - extra) * 100:g}%"])
        weights += [[v, f"{w * 100:g}%"] for v, w in sorted(info.weights.items())]
    out.table(["version", "weight"], weights, title=f"{function}:{alias}" if info else f"{function}:{alias} (no alias)",
              type_="weight", records=[{"version": v, "weight": float(w.rstrip('%')) / 100} for v, w in weights])
    stopped = driver is not None and not driver.running  # its process died: nothing is in progress
    data: dict = {"function": function, "alias": alias, "exists": info is not None,
                  "version": info.version if info else None, "weights": dict(info.weights) if info else {},
                  "release": None}
    if release is not None:
        plan = Plan.from_dict(release.plan)
        rows = []
        states = step_states(release, plan, info, driven=not stopped)
        for i, (offset, what, w, checks) in enumerate(plan_lines(plan)):
            rows.append([i, offset, what, w, states[i]])
        out.table(["#", "at", "step", "weights", "state"], rows,
                  title=f"release {release.id}: {'unfinished' if stopped else release.state} ({release.strategy}, "
                        f"{plan.current or '-'} -> {plan.target})", type_="release_step",
                  records=[{"index": r[0], "at": r[1], "step": r[2], "weights": r[3], "state": r[4]} for r in rows])
        data["release"] = {"id": release.id, "state": release.state, "reason": release.reason,
                           "current": plan.current, "target": plan.target, "strategy": release.strategy,
                           "completed": release.completed, "steps": len(plan.steps), "owner": release.owner,
                           "driver": driver.to_dict() if driver else None}
        if release.reason:
            out.info(f"reason: {release.reason}")
        if stopped:
            out.info(f"release {release.id} is unfinished and nothing drives it: {driver.message}")
            out.info(f"continue it with '{driver.commands[0]}' or undo it with '{driver.commands[1]}'")
    human = f"{function}:{alias}: " + (info.describe() if info else "no alias")
    if release is not None:
        human += f"; release {release.id} " + (f"unfinished: {driver.message}" if stopped else release.state)
    out.result(True, human, **data)


def stack_status(app, stack: str, limit: int = 15) -> None:
    """``lamctl status --stack NAME``: the stack's state, what it means, and its recent events."""
    from lamctl.release.stacks import StackGateway, is_in_progress, terminal_explanation, UPDATABLE_STATES

    name = resolve_stack(app, stack)
    out = app.out
    gateway = StackGateway(app.aws().client("cloudformation"))
    info = gateway.describe(name)
    if info is None:
        raise CloudError(f"stack {name} does not exist in {app.aws().region}", where=name,
                         hint="check --stack and --region")
    events = gateway.events(info.stack_id, limit=limit)
    if events and not out.json:
        out.info(f"{'time':<8}  {'status':<28} {'type':<32} logical ID   (last {len(events)} events, UTC)")
    for ev in events:
        out.event("stack_event", stack_event_line(ev), timestamp=ev.timestamp, logical_id=ev.logical_id,
                  resource_type=ev.resource_type, status=ev.status, reason=ev.reason)
    meaning = None
    hint = None
    if is_in_progress(info.status):
        meaning = "an operation is running"
        hint = f"lamctl status --stack {name} again to follow it"
    elif info.status == "REVIEW_IN_PROGRESS":
        meaning = "created by a change set that was never executed"
    elif info.status not in UPDATABLE_STATES:
        meaning, hint = terminal_explanation(name, info.status, info.status_reason)
    if hint and not out.json:
        out.info(f"  hint: {hint}")
    human = f"Stack {name}: {info.status}" + (f" ({info.status_reason})" if info.status_reason else "")
    if meaning:
        human += f"\n  {meaning}"
    out.result(True, human, stack=name, status=info.status, reason=info.status_reason, stack_id=info.stack_id,
               updated=info.updated or info.created, meaning=meaning, hint=hint,
               outputs={o.key: o.value for o in info.outputs})
