"""Renderers that several commands share: a release's live view, stack events and prompts, upload progress.

Each takes ``app.out`` (:class:`lamctl.cli.render.Output`) and draws the same
data as a live panel or table (TTY), plain lines (CI, pipes) or NDJSON.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from lamctl.cli.application import App
    from lamctl.cli.wiring import Services


# ---------------------------------------------------------------- releases


def run_release(app: Any, svc: "Services", plan: Any, info: Any, description: str = "",
                label: str | None = None) -> Any:
    """Run a planned release with the live view / NDJSON events and the job summary; the engine's outcome.
    ``label`` (releases running side by side): plain lines that start with it, events that name the alias.

    Ctrl-C leaves the release as it stands and says how to resume or undo it."""
    view = ReleaseView(app, svc, plan.function, plan.alias, label=label)
    eng = svc.engine(view)
    try:
        outcome = eng.shift(plan, info, description)
    except KeyboardInterrupt:
        if view.release_id:
            from lamctl.release.lock import resume_commands, target_flag

            resume, undo = resume_commands(target_flag(svc.lam), plan.function, plan.alias)
            app.out.warn(f"release {view.release_id} was interrupted and left as it was; continue it with "
                         f"'{resume}' or undo it with '{undo}'")
        raise
    except Exception as exc:
        view.finish(svc, exc)
        raise
    view.finish(svc, None)
    return outcome


class ReleaseView:
    """Renders engine events: live panel (TTY), plain lines (CI/pipes), NDJSON (json)."""

    def __init__(self, app: Any, svc: Services, function: str, alias: str, label: str | None = None):
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

    def finish(self, svc: Services, exc: BaseException | None) -> None:
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



# ---------------------------------------------------------------- stacks


def can_prompt(app) -> bool:
    if not app.out.interactive:
        return False
    try:
        return sys.stdin.isatty()
    except (AttributeError, ValueError):
        return False


def stack_event_line(ev) -> str:
    when = ev.timestamp[11:19] if len(ev.timestamp) >= 19 else ev.timestamp
    reason = f"  {ev.reason}" if ev.reason else ""
    return f"{when}  {ev.status:<28} {ev.resource_type:<32} {ev.logical_id}{reason}"


class StackListener:
    """Renders the deployer's progress through app.out; asks on a terminal."""

    def __init__(self, app, yes: bool):
        self.app = app
        self.yes = yes
        self.header_shown = False

    def progress(self, message: str, **data: Any) -> None:
        self.app.out.event("progress", message, message=message, **data)

    def stack_event(self, ev) -> None:
        out = self.app.out
        if not self.header_shown and not out.json:
            out.info(f"{'time':<8}  {'status':<28} {'type':<32} logical ID")
            self.header_shown = True
        out.event("stack_event", stack_event_line(ev), timestamp=ev.timestamp, logical_id=ev.logical_id,
                  resource_type=ev.resource_type, status=ev.status, reason=ev.reason, physical_id=ev.physical_id)

    def change_set(self, cs, plan) -> None:
        out = self.app.out
        rows = [(c.action, c.logical_id, c.resource_type, c.replacement or "") for c in cs.changes]
        records = [{"action": c.action, "logical_id": c.logical_id, "resource_type": c.resource_type,
                    "replacement": c.replacement} for c in cs.changes]
        out.event("change_set", None, name=cs.name, arn=cs.arn, stack=plan.stack,
                  change_set_type=plan.change_set_type, changes=len(cs.changes),
                  capabilities=list(plan.capabilities),
                  parameters={p.key: p.shown for p in plan.parameters})
        if not out.json:
            params = ", ".join(f"{p.key}={p.shown}" for p in plan.parameters) or "none"
            caps = ", ".join(plan.capabilities) or "none"
            out.info(f"change set {cs.name} ({plan.change_set_type}): {len(cs.changes)} change(s); "
                     f"parameters: {params}; capabilities: {caps}"
                     + (" (inferred)" if plan.capabilities_inferred and plan.capabilities else ""))
        out.table(["Action", "Logical ID", "Type", "Replacement"], rows, title=f"Changes to stack {plan.stack}",
                  type_="change", records=records)

    def confirm(self, cs, plan) -> bool:
        if self.yes or not can_prompt(self.app):
            return True
        return ask(f"Deploy this change set to stack {plan.stack}?")


def ask(question: str) -> bool:
    """Yes or no on the terminal; Ctrl-C or end of input is a no (the caller then cleans up)."""
    import click

    try:
        return typer.confirm(question, default=False, err=True)
    except (click.exceptions.Abort, KeyboardInterrupt, EOFError):
        sys.stderr.write("\n")
        return False



# ---------------------------------------------------------------- uploads


class UploadProgress:
    """Upload progress: a rich bar on a terminal, one line per artifact otherwise (or NDJSON events)."""

    def __init__(self, app: App, bucket: str = ""):
        self.out = app.out
        self.bar = None
        self.task = None
        self.bucket = bucket

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.stop()
        return False

    def __call__(self, p) -> None:
        from lamctl.cli.upload_notes import render

        if p.event == "stopped" and self.bar is not None:
            self.bar.stop()
            self.bar = None
        if render(self.out, self.bucket, p):
            return
        if p.event == "plan":
            if self.out.interactive and p.size > 0:
                from rich.console import Console
                from rich.progress import (BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn,
                                           TransferSpeedColumn)

                console = Console(file=self.out.stderr, no_color=not self.out.color)
                self.bar = Progress(TextColumn("uploading"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                                    TimeRemainingColumn(), console=console, transient=True)
                self.task = self.bar.add_task("upload", total=p.size)
                self.bar.start()
            return
        if p.event == "bytes":
            if self.bar is not None:
                self.bar.update(self.task, advance=p.size)
            return


def upload_events(app: App, packaged, artifacts) -> None:
    from lamctl.cli.render import human_bytes

    kinds = {(a.resource, a.prop): a.kind for a in artifacts}
    for u in packaged.uploads:
        kind = kinds.get((u.resource, u.prop), "file")
        name = u.resource if kind != "file" else f"{u.resource} {u.prop}"
        state = "uploaded" if u.uploaded else "present"
        human = (f"uploaded {name} ({human_bytes(u.size)}) to {u.uri}" if u.uploaded
                 else f"{name}: {u.uri} is already there")
        app.out.event("upload", human, resource=u.resource, prop=u.prop, kind=kind, sha256=u.sha256, uri=u.uri,
                      bucket=u.location.bucket, key=u.location.key, size=u.size, state=state, parts=u.parts)
