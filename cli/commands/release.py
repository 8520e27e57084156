"""Versions, aliases and traffic shifting: ``publish``, ``alias``, ``shift``, ``promote``, ``rollback``, ``status``.

The work is in :mod:`lamctl.release.engine`; this module parses flags, wires
the gateways (one client factory), and renders the engine's events: a live
view on a terminal, plain lines in CI, NDJSON with ``--output json``, and a
Markdown summary appended to ``$GITHUB_STEP_SUMMARY``.
"""

from __future__ import annotations

import os
from typing import Any, List, Optional

import typer

# Test seams for crash-safety and race tests: LAMCTL_FAULT_KILL=after:N (or before-write:N) makes the process
# SIGKILL itself at that point of a release, exactly as an outside kill would. LAMCTL_FAULT_PAUSE=POINT:N:FIFO
# stops it at that point until the named pipe FIFO, opened for reading there, is closed by its writer (the
# test opening it learns that the process got there): two processes interleave exactly as a test needs.
FAULT_ENV = "LAMCTL_FAULT_KILL"
PAUSE_ENV = "LAMCTL_FAULT_PAUSE"


def register(app: typer.Typer) -> None:
    @app.command("publish")
    def publish(
        ctx: typer.Context,
        function: str = typer.Argument(..., help="Function name or ARN."),
        description: Optional[str] = typer.Option(None, "--description", help="Description of the version."),
    ) -> None:
        """Publish $LATEST as a version (no new version when nothing changed since the last one)."""
        from lamctl.cli.app import get_app
        from lamctl.release.aws import LambdaGateway

        app = get_app(ctx)
        lam = LambdaGateway(app.aws().client("lambda"))
        previous = lam.latest_version(function)
        cfg = lam.publish_version(function, description or "")
        new = cfg.version != previous
        app.out.result(True, f"{function} version {cfg.version}" + ("" if new else " (unchanged: no new version)"),
                       function=function, version=cfg.version, code_sha256=cfg.code_sha256, new=new)

    @app.command("alias")
    def alias_cmd(
        ctx: typer.Context,
        function: str = typer.Argument(..., help="Function name or ARN."),
        alias: str = typer.Argument(..., help="Alias name."),
        version: str = typer.Option(..., "--version", help="The version the alias serves at 100%."),
    ) -> None:
        """Create an alias, or move it to one version at 100% (refused while a release runs on it)."""
        from lamctl.cli.app import get_app
        from lamctl.schemas.errors import ConflictError, UsageError

        app = get_app(ctx)
        if version.upper() == "$LATEST":
            raise UsageError("an alias for releases must point at a published version, not $LATEST",
                             where="--version", hint="publish one with 'lamctl publish FUNCTION'")
        svc = _Services(app)
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

    @app.command("shift")
    def shift(
        ctx: typer.Context,
        appspec: Optional[str] = typer.Option(None, "--appspec", help="AppSpec file (CodeDeploy format, YAML/JSON)."),
        function: Optional[str] = typer.Option(None, "--function", help="Function name or ARN."),
        alias: Optional[str] = typer.Option(None, "--alias", help="Alias to shift."),
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
        engine: Optional[str] = typer.Option(None, "--engine", help="lamctl (default) or codedeploy."),
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
        from lamctl.cli.app import get_app
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

        svc = _Services(app, hook_timeout=float(timeout), poll=poll_interval)
        if resume:
            view = _View(app, svc, function, alias)
            try:
                outcome = svc.engine(view).resume(function, alias)
            except Exception as exc:
                view.finish(svc, exc)
                raise
            view.finish(svc, None)
            app.out.result(True, outcome.message, release=outcome.release.id if outcome.release else None,
                           state=outcome.release.state if outcome.release else None, function=function, alias=alias)
            return

        eng = svc.engine(None)
        plan, info = eng.plan(function, alias, to_version, strat, alarms, hooks)
        if expected_current is not None and (info is None or info.version != expected_current):
            now = info.describe() if info else "no alias"
            raise UsageError(f"the AppSpec says CurrentVersion {expected_current} but {function}:{alias} serves {now}",
                             where=where_current, hint="update CurrentVersion, or settle the alias first")
        if dry_run:
            eng.preflight(plan, info)
            _render_plan(app, plan, info)
            return
        if engine_name == "codedeploy":
            _codedeploy(app, svc, eng, plan, info, codedeploy_app, codedeploy_group, codedeploy_role, wait_timeout)
            return
        outcome = run_release(app, svc, plan, info, description or "")
        rel = outcome.release
        app.out.result(True, outcome.message, changed=outcome.changed, release=rel.id if rel else None,
                       state=rel.state if rel else "unchanged", function=function, alias=alias,
                       version=rel.target if rel else (info.version if info else None), aws_calls=svc.calls())

    @app.command("promote")
    def promote(
        ctx: typer.Context,
        function: Optional[str] = typer.Option(None, "--function", help="Function name or ARN."),
        alias: Optional[str] = typer.Option(None, "--alias", help="Alias with a running release."),
        wait: int = typer.Option(120, "--wait", help="Seconds to wait for a running release to act."),
    ) -> None:
        """Skip the remaining holds of the running release: straight to 100% (the after-traffic hook still runs)."""
        _control(ctx, function, alias, "promote", wait)

    @app.command("rollback")
    def rollback(
        ctx: typer.Context,
        function: Optional[str] = typer.Option(None, "--function", help="Function name or ARN."),
        alias: Optional[str] = typer.Option(None, "--alias", help="Alias to restore."),
        wait: int = typer.Option(120, "--wait", help="Seconds to wait for a running release to act."),
    ) -> None:
        """Restore the alias as it was before the running (or last) release."""
        _control(ctx, function, alias, "rollback", wait)

    @app.command("status")
    def status(
        ctx: typer.Context,
        function: Optional[str] = typer.Option(None, "--function", help="Function name or ARN."),
        alias: Optional[str] = typer.Option(None, "--alias", help="Alias."),
        stack: Optional[str] = typer.Option(None, "--stack", help="A stack's status instead (see deploy)."),
    ) -> None:
        """Versions and weights of an alias, and its running or last release with its steps."""
        from lamctl.cli.app import get_app
        from lamctl.schemas.errors import UsageError

        app = get_app(ctx)
        if stack:
            try:
                from lamctl.cli.commands.deploy import stack_status
            except ImportError:
                raise UsageError("'status --stack' is not available in this build of lamctl",
                                 hint="use 'lamctl outputs --stack NAME', or status --function F --alias A") from None
            stack_status(app, stack)
            return
        function = app.setting("function", function)
        alias = app.setting("alias", alias)
        if not function or not alias:
            raise UsageError("status needs --function and --alias (or --stack NAME)",
                             hint="e.g. lamctl status --function app --alias live")
        svc = _Services(app)
        eng = svc.engine(None)
        info, release = eng.status(function, alias)
        _render_status(app, function, alias, info, release, svc, eng.driver(release) if release else None)


def run_release(app: Any, svc: "_Services", plan: Any, info: Any, description: str = "",
                label: str | None = None) -> Any:
    """Run a planned release with the live view / NDJSON events and the job summary; the engine's outcome.
    ``label`` (releases running side by side): plain lines that start with it, events that name the alias.

    Ctrl-C leaves the release as it stands and says how to resume or undo it."""
    view = _View(app, svc, plan.function, plan.alias, label=label)
    eng = svc.engine(view)
    try:
        outcome = eng.shift(plan, info, description)
    except KeyboardInterrupt:
        if view.release_id:
            app.out.warn(f"release {view.release_id} was interrupted and left as it was; continue it with "
                         f"'lamctl shift --resume --function {plan.function} --alias {plan.alias}' or undo it "
                         f"with 'lamctl rollback --function {plan.function} --alias {plan.alias}'")
        raise
    except Exception as exc:
        view.finish(svc, exc)
        raise
    view.finish(svc, None)
    return outcome


# ---------------------------------------------------------------- wiring


class _Services:
    def __init__(self, app: Any, hook_timeout: float = 3600.0, poll: float = 10.0):
        from lamctl.cli.aws import is_loopback
        from lamctl.release.aws import LambdaGateway, LocalObjectStore, S3ObjectStore
        from lamctl.release.clock import SystemClock
        from lamctl.release.journal import Journal
        from lamctl.release.lock import AliasLock

        self.app = app
        factory = app.aws()
        self.clock = SystemClock()
        self.lam = LambdaGateway(factory.client("lambda"), _LazyClient(
            lambda: factory.client("lambda", read_timeout=hook_timeout + 30, max_attempts=1)))
        endpoint = self.lam.client.meta.endpoint_url
        if is_loopback(endpoint):  # the local cloud, which records what CodeDeploy-style hooks report
            self.lam.hook_reports_url = endpoint.rstrip("/") + "/lamctl-api/hooks/"
        self._factory = factory
        self._alarms = None
        bucket = app.setting("s3_bucket")
        self.store = (S3ObjectStore(factory.client("s3"), bucket) if bucket
                      else LocalObjectStore(os.path.join(os.getcwd(), ".lamctl"), strip_prefix="lamctl/"))
        self.journal = Journal(self.store)
        self.lock = AliasLock(self.store, self.clock)
        self.hook_timeout = hook_timeout
        self.poll = poll

    @property
    def alarms(self):
        if self._alarms is None:
            from lamctl.release.aws import AlarmGateway

            self._alarms = AlarmGateway(self._factory.client("cloudwatch"))
        return self._alarms

    def engine(self, view: Any):
        from lamctl.release.engine import Engine

        return Engine(self.lam, _LazyAlarms(self), self.store, self.clock,
                      on_event=view.on_event if view is not None else None, poll_seconds=self.poll,
                      tick_seconds=1.0 if (view is not None and view.live) else None,
                      hook_timeout=self.hook_timeout, fault=_fault_from_env(), owner=self.lock.owner)

    def calls(self) -> dict:
        from lamctl.release.aws import total_calls

        return dict(sorted(total_calls(self.lam, self.store, *([self._alarms] if self._alarms else [])).items()))


class _LazyClient:
    """A client made on first use (hooks are rare; most releases never invoke one)."""

    def __init__(self, make):
        self._make = make
        self._client = None

    def __getattr__(self, name):
        if self._client is None:
            self._client = self._make()
        return getattr(self._client, name)


class _LazyAlarms:
    """The CloudWatch client is made only when an alarm is actually watched."""

    def __init__(self, svc: _Services):
        self.svc = svc

    @property
    def calls(self):
        return self.svc.alarms.calls

    def states(self, names):
        return self.svc.alarms.states(names)


def _fault_from_env():
    kill, pause = os.environ.get(FAULT_ENV), os.environ.get(PAUSE_ENV)
    if not kill and not pause:
        return None
    kill_at = tuple(kill.split(":", 1)) if kill else None
    pause_at, fifo = (tuple(pause.split(":", 2)[:2]), pause.split(":", 2)[2]) if pause else (None, "")

    def fault(at: str, i: int) -> None:
        if (at, str(i)) == kill_at:
            import signal

            os.kill(os.getpid(), signal.SIGKILL)
        if (at, str(i)) == pause_at:
            with open(fifo, encoding="utf-8") as gate:  # blocks until the test opens it, then until it closes it
                gate.read()

    return fault


# ---------------------------------------------------------------- rendering


class _View:
    """Renders engine events: live panel (TTY), plain lines (CI/pipes), NDJSON (json)."""

    def __init__(self, app: Any, svc: _Services, function: str, alias: str, label: str | None = None):
        self.out = app.out
        self.app = app
        self.svc = svc
        self.function, self.alias = function, alias
        self.label = label
        self.live = bool(self.out.interactive) and label is None  # one live panel at a time
        self._live = None
        self._state: dict[str, Any] = {"weights": "", "next": "", "remaining": None, "alarms": {}}
        self._t0 = None
        self.started = svc.clock.now()
        self.release_id = None
        self.current = None
        self.target = None

    def on_event(self, ev) -> None:
        if self._t0 is None:
            self._t0 = self.svc.clock.now()
        if ev.type == "start":
            self.release_id = ev.data.get("release")
            self.current, self.target = ev.data.get("current"), ev.data.get("target")
        if ev.type == "alarm-states":
            self._state["alarms"] = ev.data.get("states", {})
            self._refresh()
            return
        if ev.type == "tick":
            self._state["remaining"] = ev.data.get("remaining")
            self._state["next"] = ev.data.get("next")
            self._state["weight"] = ev.data.get("weight")
            self._refresh()
            return
        if ev.type == "step" and "weight" in ev.data:
            self._state["weight"] = ev.data["weight"]
            self._state["remaining"] = None
            self._refresh()
        offset = self.svc.clock.now() - self._t0
        if self.out.json:
            data = {**ev.data, "function": self.function, "alias": self.alias} if self.label else ev.data
            self.out.emit(ev.type, message=ev.message, t=round(offset, 3), **data)
            return
        if not ev.message:
            return
        line = f"[{int(offset) // 60:02d}:{int(offset) % 60:02d}] " + (f"{self.label}: " if self.label else "") \
            + ev.message
        if self._live is not None:
            self._live.console.print(line, markup=False, highlight=False)
        else:
            self.out.info(line)

    def _refresh(self) -> None:
        if not self.live:
            return
        from rich.live import Live
        from rich.text import Text

        from lamctl.release.strategy import format_duration

        w = float(self._state.get("weight") or 0.0)
        bar_len = 30
        filled = int(round(w * bar_len))
        text = Text()
        text.append(f"{self.function}:{self.alias}  ")
        text.append(f"v{self.current} {100 - w * 100:g}% ", style="bold")
        text.append("#" * filled, style="green")
        text.append("-" * (bar_len - filled), style="dim")
        text.append(f" v{self.target} {w * 100:g}%\n", style="bold")
        rem = self._state.get("remaining")
        if rem is not None:
            import math

            text.append(f"next: {self._state.get('next')} in {format_duration(math.ceil(rem))}\n")
        alarms = self._state.get("alarms") or {}
        if alarms:
            text.append("alarms: " + "  ".join(f"{k} {v}" for k, v in alarms.items()))
        if self._live is None:
            self._live = Live(text, console=self.out._console(True), refresh_per_second=4, transient=True)
            self._live.start()
        else:
            self._live.update(text)

    def finish(self, svc: _Services, exc: BaseException | None) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None
        release = None
        try:
            release = svc.journal.load(self.function, self.alias)
        except Exception:  # the summary must never hide the real outcome
            release = None
        if release is not None and self.release_id is not None and release.id == self.release_id:
            self.out.summary(_markdown(release, exc))


def _markdown(release, exc: BaseException | None) -> str:
    from lamctl.cli.render import markdown_table
    from lamctl.release.plan import Plan, plan_lines

    plan = Plan.from_dict(release.plan)
    icon = {"succeeded": "✅", "rolled_back": "↩️", "conflict": "⚠️"}.get(release.state, "⏳")
    lines = [f"### {icon} lamctl release `{release.id}`: {release.state.replace('_', ' ')}", "",
             f"`{release.function}:{release.alias}`: version {plan.current or '-'} → {plan.target}, "
             f"{plan.strategy.describe()}"]
    if release.reason:
        lines += ["", f"**Reason:** {release.reason}"]
    rows = []
    for i, (offset, what, weights, checks) in enumerate(plan_lines(plan)):
        done = "done" if i in release.completed else ("skipped" if release.state != "running" else "")
        rows.append([offset, what, weights, checks, done])
    lines += ["", markdown_table(["at", "step", "weights", "checks", "state"], rows)]
    return "\n".join(lines)


def _render_plan(app: Any, plan, info) -> None:
    from lamctl.release.plan import plan_lines
    from lamctl.release.strategy import format_duration

    out = app.out
    rows = plan_lines(plan)
    out.table(["at", "step", "weights", "checks"], rows, title=None, type_="plan-step",
              records=[{"index": i, "at": plan.steps[i].at, "kind": plan.steps[i].kind, "step": r[1],
                        "weights": r[2], "checks": r[3]} for i, r in enumerate(rows)])
    target = "a new version published from $LATEST" if plan.target == "$LATEST" else f"version {plan.target}"
    current = f"version {plan.current}" if plan.current else "no alias yet"
    human = (f"dry run: {plan.function}:{plan.alias} from {current} to {target}, {plan.strategy.describe()}, "
             f"{format_duration(plan.total_seconds)} of holds; nothing was written")
    out.result(True, human, dry_run=True, function=plan.function, alias=plan.alias, current=plan.current,
               target=plan.target, strategy=plan.strategy.describe(), total_seconds=plan.total_seconds,
               steps=len(plan.steps))


def _landed(step: Any, plan: Any, info: Any) -> bool:
    """Whether the alias already shows what ``step`` writes."""
    from lamctl.release.plan import ALIAS_WRITES, SetAliasWeights

    if info is None or not isinstance(step, ALIAS_WRITES):
        return False
    if isinstance(step, SetAliasWeights):
        got = info.weights.get(step.version)
        return info.version == plan.current and got is not None and abs(got - step.weight) < 1e-6
    return info.version == step.version and not info.weights


def _render_status(app: Any, function: str, alias: str, info, release, svc: _Services, driver=None) -> None:
    from lamctl.release.plan import Plan, plan_lines

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
        done = set(release.completed)
        if release.pending is not None and _landed(plan.steps[release.pending], plan, info):
            done.add(release.pending)  # the journal is saved before a write, the next save comes later
        current = next((i for i in range(len(plan.steps)) if i not in done), None) \
            if release.state == "running" else None
        for i, (offset, what, w, checks) in enumerate(plan_lines(plan)):
            state = ("done" if i in done else "in flight" if release.pending == i else
                     ("interrupted" if stopped else "in progress") if i == current else "")
            rows.append([i, offset, what, w, state])
        out.table(["#", "at", "step", "weights", "state"], rows,
                  title=f"release {release.id}: {'unfinished' if stopped else release.state} ({release.strategy}, "
                        f"{plan.current or '-'} -> "
                        f"{plan.target})", type_="release-step",
                  records=[{"index": r[0], "at": r[1], "step": r[2], "weights": r[3], "state": r[4]} for r in rows])
        data["release"] = {"id": release.id, "state": release.state, "reason": release.reason,
                           "current": plan.current, "target": plan.target, "strategy": release.strategy,
                           "completed": release.completed, "steps": len(plan.steps), "owner": release.owner,
                           "driver": driver.to_dict() if driver else None}
        if release.reason:
            out.info(f"reason: {release.reason}")
        if driver is not None and not driver.running:
            out.info(f"release {release.id} is unfinished and nothing drives it: {driver.message}")
            out.info(f"continue it with '{driver.commands[0]}' or undo it with '{driver.commands[1]}'")
    human = f"{function}:{alias}: " + (info.describe() if info else "no alias")
    if release is not None:
        human += f"; release {release.id} " + (f"unfinished: {driver.message}" if stopped else release.state)
    out.result(True, human, **data)


# ---------------------------------------------------------------- promote / rollback


def _control(ctx: typer.Context, function: str | None, alias: str | None, action: str, wait: int) -> None:
    from lamctl.cli.app import get_app
    from lamctl.release.control import control
    from lamctl.schemas.errors import UsageError

    app = get_app(ctx)
    function = app.setting("function", function)
    alias = app.setting("alias", alias)
    if not function or not alias:
        raise UsageError(f"{action} needs --function and --alias", hint=f"e.g. lamctl {action} --function app "
                                                                          "--alias live")
    svc = _Services(app)

    def here():  # no live process runs the release: act on it in this one, rendered as a release
        from lamctl.release.lock import LockHeld

        view = _View(app, svc, function, alias)
        eng = svc.engine(view)
        before = svc.journal.load(function, alias)
        try:
            outcome = eng.resume(function, alias, promote=True) if action == "promote" else eng.rollback(function,
                                                                                                        alias)
        except LockHeld:
            raise  # a live process took it meanwhile: it is asked instead
        except Exception as exc:
            view.release_id = view.release_id or (before.id if before else None)
            view.finish(svc, exc)
            raise
        view.release_id = view.release_id or (before.id if before else None)
        view.finish(svc, None)
        return outcome

    done = control(svc.engine(None), function, alias, action, float(wait), here, app.out.info)
    app.out.result(True, done.message, **done.data)


def _codedeploy(app, svc, eng, plan, info, application, group, role, wait_timeout) -> None:
    from lamctl.release.aws import CodeDeployGateway
    from lamctl.release.codedeploy import submit_and_follow

    eng.preflight(plan, info)
    if plan.target == "$LATEST":
        published = svc.lam.publish_version(plan.function)
        plan = plan.with_target(published.version)
        if info is not None and info.version == plan.target:
            app.out.result(True, f"{plan.function} has not changed since version {plan.target}: nothing to shift",
                           changed=False)
            return
    role = app.setting("codedeploy_role", role)
    application = app.setting("codedeploy_app", application) or f"lamctl-{plan.function}"
    group = app.setting("codedeploy_group", group) or f"{plan.function}-{plan.alias}"
    gw = CodeDeployGateway(app.aws().client("codedeploy"))
    view = _View(app, svc, plan.function, plan.alias)
    wait = 6 * 3600 if wait_timeout is None else int(wait_timeout)
    submitted = submit_and_follow(gw, svc.clock, plan, application, group, role, view.on_event,
                                  wait_timeout=float(wait), follow=wait > 0)
    app.out.result(True, f"CodeDeploy deployment {submitted.deployment_id} {submitted.status.lower()}",
                   deployment_id=submitted.deployment_id, status=submitted.status, config=submitted.config,
                   application=application, group=group)
