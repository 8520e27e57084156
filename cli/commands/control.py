"""``lamctl promote`` and ``lamctl rollback``: act on the running (or the last) release of an alias.

When a live lamctl process runs the release, it is asked through the journal and
watched until the release ends; otherwise this process acts itself. Either way what is
reported is the final state read back (lamctl.release.control), never the request.
"""

from __future__ import annotations

from typing import Optional

import typer

from lamctl.cli.views import ReleaseView
from lamctl.cli.wiring import Services


def promote(
    ctx: typer.Context,
    function: Optional[str] = typer.Option(None, "--function", help="Function name or ARN."),
    alias: Optional[str] = typer.Option(None, "--alias", help="Alias with a running release."),
    wait: int = typer.Option(120, "--wait", help="Seconds to wait for a running release to act."),
    state_machine: Optional[str] = typer.Option(None, "--state-machine",
                                                help="A state machine alias's release (lamctl shift --state-machine)."),
) -> None:
    """Skip the remaining holds of the running release: straight to 100% (the after-traffic hook still runs)."""
    _control(ctx, function, alias, "promote", wait, state_machine)


def rollback(
    ctx: typer.Context,
    function: Optional[str] = typer.Option(None, "--function", help="Function name or ARN."),
    alias: Optional[str] = typer.Option(None, "--alias", help="Alias to restore."),
    wait: int = typer.Option(120, "--wait", help="Seconds to wait for a running release to act."),
    state_machine: Optional[str] = typer.Option(None, "--state-machine",
                                                help="A state machine alias's release (lamctl shift --state-machine)."),
) -> None:
    """Restore the alias as it was before the running (or last) release."""
    _control(ctx, function, alias, "rollback", wait, state_machine)


def _control(ctx: typer.Context, function: str | None, alias: str | None, action: str, wait: int,
             state_machine: str | None = None) -> None:
    from lamctl.cli.application import get_app
    from lamctl.release.control import control
    from lamctl.schemas.errors import UsageError

    app = get_app(ctx)
    if state_machine:
        if function:
            raise UsageError("give --function or --state-machine, not both", where="--state-machine")
        function = state_machine.split(":")[6] if state_machine.startswith("arn:") else state_machine
    function = app.setting("function", function)
    alias = app.setting("alias", alias)
    if not function or not alias:
        raise UsageError(f"{action} needs --function and --alias", hint=f"e.g. lamctl {action} --function app "
                                                                          "--alias live")
    svc = Services(app, state_machines=bool(state_machine))

    def here():  # no live process runs the release: act on it in this one, rendered as a release
        from lamctl.release.lock import LockHeld

        view = ReleaseView(app, svc, function, alias)
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
