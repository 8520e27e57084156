"""``lamctl shift``: an alias to a new version step by step, watched by alarms and hooks.

The work is in :mod:`lamctl.release.engine`; this module parses flags, wires
the gateways (:class:`lamctl.cli.wiring.Services`), and renders the engine's
events through :class:`lamctl.cli.views.ReleaseView`: a live view on a
terminal, plain lines in CI, NDJSON with ``--output json``, and a Markdown
summary appended to ``$GITHUB_STEP_SUMMARY``.
"""

from __future__ import annotations

from typing import Any, List, Optional

import typer

from lamctl.cli.views import ReleaseView, run_release
from lamctl.cli.wiring import Services


def shift(
    ctx: typer.Context,
    appspec: Optional[str] = typer.Option(None, "--appspec", help="AppSpec file (CodeDeploy format, YAML/JSON)."),
    function: Optional[str] = typer.Option(None, "--function", help="Function name or ARN (a logical ID with --stack)."),
    state_machine: Optional[str] = typer.Option(None, "--state-machine",
                                                help="Shift a Step Functions state machine alias instead: its name "
                                                     "or ARN (a logical ID with --stack)."),
    alias: Optional[str] = typer.Option(None, "--alias", help="Alias to shift."),
    stack: Optional[str] = typer.Option(None, "--stack", help="Resolve --function as a logical ID of this stack."),
    to_version: Optional[str] = typer.Option(None, "--to-version",
                                             help="Target version (default: publish $LATEST first)."),
    canary: Optional[str] = typer.Option(None, "--canary", metavar="P%D", help="e.g. 10%5m: P% for D, then 100%."),
    linear: Optional[str] = typer.Option(None, "--linear", metavar="P%D", help="e.g. 10%1m: +P% every D."),
    steps: Optional[str] = typer.Option(None, "--steps", metavar="P%D,...", help="e.g. 5%1m,25%5m,50%5m."),
    all_at_once: bool = typer.Option(False, "--all-at-once", help="Straight to 100%."),
    config: Optional[str] = typer.Option(None, "--config",
                                         help="A predefined CodeDeploy config, e.g. LambdaCanary10Percent5Minutes."),
    alarm: List[str] = typer.Option([], "--alarm", help="CloudWatch alarm to watch (repeatable)."),
    before_hook: Optional[str] = typer.Option(None, "--before-hook", help="BeforeAllowTraffic hook function."),
    after_hook: Optional[str] = typer.Option(None, "--after-hook", help="AfterAllowTraffic hook function."),
    hook_timeout: Optional[int] = typer.Option(None, "--hook-timeout", help="Seconds a hook may take (max 3600)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the plan and stop; nothing is written."),
    resume: bool = typer.Option(False, "--resume", help="Continue the interrupted release on --function/--alias."),
    engine: Optional[str] = typer.Option(None, "--engine", metavar="[lamctl|codedeploy]",
                                         help="lamctl (default) or codedeploy."),
    codedeploy_app: Optional[str] = typer.Option(None, "--codedeploy-app", help="CodeDeploy application name."),
    codedeploy_group: Optional[str] = typer.Option(None, "--codedeploy-group", help="Deployment group name."),
    codedeploy_role: Optional[str] = typer.Option(None, "--codedeploy-role",
                                                  help="Service role ARN, to create a missing deployment group."),
    description: Optional[str] = typer.Option(None, "--description", help="Description of a published version."),
    poll_interval: float = typer.Option(10.0, "--poll-interval", hidden=True,
                                        help="Seconds between alarm polls during holds (at most 10)."),
    wait_timeout: Optional[int] = typer.Option(None, "--wait-timeout", help="codedeploy: seconds to follow the deployment (0: submit only)."),
) -> None:
    """Shift an alias to a new version step by step, watched by alarms and hooks; roll back on failure."""
    from lamctl.cli.application import get_app
    from lamctl.release import strategy as S
    from lamctl.schemas.errors import UsageError

    app = get_app(ctx)
    # Everything that can be refused without AWS is refused first.
    strat = S.choose(canary, linear, steps, all_at_once, config, app.setting("strategy"),
                     default_where=app.settings.source("strategy"))
    timeout = app.setting("hook_timeout", hook_timeout, 3600, int)
    if not 1 <= int(timeout) <= 3600:
        raise UsageError(f"--hook-timeout {timeout} is out of range", hint="a hook may take 1 to 3600 seconds")
    if not 0 < poll_interval <= 10:
        raise UsageError(f"--poll-interval {poll_interval:g} is out of range", hint="poll at most every 10 s")
    engine_name = app.setting("engine", engine, "lamctl")
    if engine_name not in ("lamctl", "codedeploy"):
        raise UsageError(f"--engine {engine_name!r} is not known", hint="use --engine lamctl or --engine codedeploy")
    hooks: dict[str, str] = {}
    if state_machine:
        bad = [flag for flag, value in (("--function", function), ("--appspec", appspec),
                                        ("--before-hook", before_hook), ("--after-hook", after_hook))
               if value]
        if engine_name != "lamctl":
            bad.append("--engine codedeploy")
        if bad:
            raise UsageError(f"--state-machine does not go with {', '.join(bad)}", where="--state-machine",
                             hint="a state machine alias is shifted by lamctl's engine, watched by --alarm; "
                                  "traffic hooks are Lambda's")
        _shift_state_machine(app, strat, state_machine, alias, stack, to_version, alarm, dry_run, resume,
                             description, poll_interval)
        return
    if appspec:
        from lamctl.schemas.appspec import load_appspec

        if function or alias or to_version:
            raise UsageError("--appspec names the function, alias and versions; do not also pass --function, "
                             "--alias or --to-version", hint="use one or the other")
        spec = load_appspec(appspec)
        function, alias, to_version, hooks = spec.function, spec.alias, spec.target, dict(spec.hooks)
        expected_current, where_current = spec.current, spec.where_current
    else:
        function = app.setting("function", function)
        alias = app.setting("alias", alias)
        expected_current, where_current = None, None
        if not function or not alias:
            raise UsageError("shift needs --function and --alias (or --appspec FILE)",
                             hint="e.g. lamctl shift --function app --alias live --canary 10%5m")
    if before_hook:
        hooks["BeforeAllowTraffic"] = before_hook
    if after_hook:
        hooks["AfterAllowTraffic"] = after_hook
    alarms = list(alarm) or list(app.setting("alarms", None, []) or [])
    if to_version is not None and not (to_version.isdigit() or to_version.upper() == "$LATEST"):
        raise UsageError(f"--to-version {to_version!r} is not a version number", where="--to-version",
                         hint="give a published version, e.g. --to-version 7")

    if stack:  # a logical ID of the stack's template, as lamctl invoke --stack takes it
        from lamctl.cli.wiring import resolve_stack
        from lamctl.release.stacks import StackGateway, function_name

        function = function_name(StackGateway(app.aws().client("cloudformation")), resolve_stack(app, stack),
                                 function)

    svc = Services(app, hook_timeout=float(timeout), poll=poll_interval)
    if resume:
        _resume(app, svc, function, alias, function=function)
        return

    eng = svc.engine(None)
    plan, info = eng.plan(function, alias, to_version, strat, alarms, hooks)
    if expected_current is not None and (info is None or info.version != expected_current):
        now = info.describe() if info else "no alias"
        raise UsageError(f"the AppSpec says CurrentVersion {expected_current} but {function}:{alias} serves {now}",
                         where=where_current, hint="update CurrentVersion, or settle the alias first")
    if dry_run:
        target_config = eng.preflight(plan, info)
        _render_plan(app, plan, info, target_config)
        return
    if engine_name == "codedeploy":
        _codedeploy(app, svc, eng, plan, info, codedeploy_app, codedeploy_group, codedeploy_role, wait_timeout)
        return
    outcome = run_release(app, svc, plan, info, description or "")
    rel = outcome.release
    app.out.result(True, outcome.message, changed=outcome.changed, release=rel.id if rel else None,
                   state=rel.state if rel else "unchanged", function=function, alias=alias,
                   version=rel.target if rel else (info.version if info else None), aws_calls=svc.calls())


def _shift_state_machine(app, strat, machine, alias, stack, to_version, alarm, dry_run, resume, description,
                         poll_interval) -> None:
    """``--state-machine``: the same engine over a Step Functions alias (versions are published state machine
    versions; weights are whole percents)."""
    from lamctl.schemas.errors import UsageError

    alias = app.setting("alias", alias)
    if not alias:
        raise UsageError("shift --state-machine needs --alias", where="--alias",
                         hint="e.g. lamctl shift --state-machine orders --alias live --canary 10%5m")
    if to_version is not None and not to_version.isdigit():
        raise UsageError(f"--to-version {to_version!r} is not a state machine version number", where="--to-version",
                         hint="give a published version, e.g. --to-version 3, or omit it to publish one")
    for step in strat.steps:
        if abs(step.percent - round(step.percent)) > 1e-9:
            raise UsageError(f"a state machine alias takes whole-percent weights, not {step.percent:g}%",
                             where="--state-machine", hint="use whole percents, e.g. --canary 10%5m")
    if stack:
        from lamctl.cli.wiring import resolve_stack
        from lamctl.release.stacks import StackGateway
        from lamctl.release.states import state_machine_arn

        machine = state_machine_arn(StackGateway(app.aws().client("cloudformation")), resolve_stack(app, stack),
                                    machine)
    if machine.startswith("arn:"):
        machine = machine.split(":")[6]  # arn:aws:states:region:account:stateMachine:NAME
    alarms = list(alarm) or list(app.setting("alarms", None, []) or [])
    svc = Services(app, poll=poll_interval, state_machines=True)
    if resume:
        _resume(app, svc, machine, alias, state_machine=machine)
        return
    eng = svc.engine(None)
    plan, info = eng.plan(machine, alias, to_version, strat, alarms, {})
    if dry_run:
        eng.preflight(plan, info)
        _render_plan(app, plan, info, None)
        return
    outcome = run_release(app, svc, plan, info, description or "")
    rel = outcome.release
    app.out.result(True, outcome.message, changed=outcome.changed, release=rel.id if rel else None,
                   state=rel.state if rel else "unchanged", state_machine=machine, alias=alias,
                   version=rel.target if rel else (info.version if info else None), aws_calls=svc.calls())


def _codedeploy(app, svc, eng, plan, info, application, group, role, wait_timeout) -> None:
    from lamctl.release.aws import CodeDeployGateway
    from lamctl.release.codedeploy import publish_target, submit_and_follow

    eng.preflight(plan, info)
    published = publish_target(svc.lam, plan, info)
    if published is None:
        app.out.result(True, f"{plan.function} has not changed since version {info.version}: nothing to shift",
                       changed=False)
        return
    plan = published
    role = app.setting("codedeploy_role", role)
    application = app.setting("codedeploy_app", application) or f"lamctl-{plan.function}"
    group = app.setting("codedeploy_group", group) or f"{plan.function}-{plan.alias}"
    gw = CodeDeployGateway(app.aws().client("codedeploy"))
    view = ReleaseView(app, svc, plan.function, plan.alias)
    wait = 6 * 3600 if wait_timeout is None else int(wait_timeout)
    submitted = submit_and_follow(gw, svc.clock, plan, application, group, role, view.on_event,
                                  poll_seconds=svc.poll, wait_timeout=float(wait), follow=wait > 0)
    app.out.result(True, f"CodeDeploy deployment {submitted.deployment_id} {submitted.status.lower()}",
                   deployment_id=submitted.deployment_id, status=submitted.status, config=submitted.config,
                   application=application, group=group)


def _render_plan(app: Any, plan, info, target_config=None) -> None:
    import base64

    from lamctl.release.plan import LATEST, plan_lines
    from lamctl.release.strategy import format_duration

    out = app.out
    rows = plan_lines(plan)
    out.table(["at", "step", "weights", "checks"], rows, title=None, type_="plan_step",
              records=[{"index": i, "at": plan.steps[i].at, "kind": plan.steps[i].kind, "step": r[1],
                        "weights": r[2], "checks": r[3]} for i, r in enumerate(rows)])
    code_sha256 = getattr(target_config, "code_sha256", None)  # Lambda's CodeSha256: base64 of the SHA-256
    sha_hex = None
    if code_sha256:
        try:
            sha_hex = base64.b64decode(code_sha256, validate=True).hex()
        except ValueError:
            sha_hex = None
    if plan.target == LATEST:
        target = "the version that will be published from $LATEST"
        if code_sha256:
            target += f" (its code: SHA-256 {sha_hex or code_sha256}, CodeSha256 {code_sha256})"
    else:
        target = f"version {plan.target}"
    current = f"version {plan.current}" if plan.current else "no alias yet"
    human = (f"dry run: {plan.function}:{plan.alias} from {current} to {target}, {plan.strategy.describe()}, "
             f"{format_duration(plan.total_seconds)} of holds; nothing was written")
    out.result(True, human, dry_run=True, function=plan.function, alias=plan.alias, current=plan.current,
               target=plan.target, publish_from_latest=plan.target == LATEST, code_sha256=code_sha256,
               sha256=sha_hex, strategy=plan.strategy.describe(), total_seconds=plan.total_seconds,
               steps=len(plan.steps))


def _resume(app, svc, name: str, alias: str, **target: str) -> None:
    """``shift --resume``: carry the release on ``name:alias`` to its end, with the live view; ``target`` names
    what was shifted in the result (``function=`` or ``state_machine=``)."""
    view = ReleaseView(app, svc, name, alias)
    try:
        outcome = svc.engine(view).resume(name, alias)
    except Exception as exc:
        view.finish(svc, exc)
        raise
    view.finish(svc, None)
    app.out.result(True, outcome.message, release=outcome.release.id if outcome.release else None,
                   state=outcome.release.state if outcome.release else None, alias=alias, **target)
