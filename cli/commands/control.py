"""``lamctl promote`` and ``lamctl rollback``: act on the running (or the last) release of an alias.

When a live lamctl process runs the release, it is asked through the journal and
watched until it acts; otherwise this process acts itself.
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
) -> None:
    """Skip the remaining holds of the running release: straight to 100% (the after-traffic hook still runs)."""
    _control(ctx, function, alias, "promote", wait)


def rollback(
    ctx: typer.Context,
    function: Optional[str] = typer.Option(None, "--function", help="Function name or ARN."),
    alias: Optional[str] = typer.Option(None, "--alias", help="Alias to restore."),
    wait: int = typer.Option(120, "--wait", help="Seconds to wait for a running release to act."),
) -> None:
    """Restore the alias as it was before the running (or last) release."""
    _control(ctx, function, alias, "rollback", wait)


def _control(ctx: typer.Context, function: str | None, alias: str | None, action: str, wait: int) -> None:
    from lamctl.cli.application import get_app
    from lamctl.release.control import live_holder, wait_for_action
    from lamctl.schemas.errors import UsageError

    app = get_app(ctx)
    function = app.setting("function", function)
    alias = app.setting("alias", alias)
    if not function or not alias:
        raise UsageError(f"{action} needs --function and --alias", hint=f"e.g. lamctl {action} --function app "
                                                                          "--alias live")
    svc = Services(app)
    release, holder = live_holder(svc.journal, svc.lock, function, alias)
    if holder is not None:
        # A live process runs it: ask, then watch the journal until it acts.
        svc.engine(None).request(function, alias, action)
        app.out.info(f"asked {holder.owner} to {action} release {release.id}; waiting for it")
        now = wait_for_action(svc.journal, svc.clock, function, alias, action, release.id, wait)
        app.out.result(True, f"release {now.id} {now.state.replace('_', ' ')}"
                       + (f": {now.reason}" if now.reason else ""), release=now.id, state=now.state)
        return
    view = ReleaseView(app, svc, function, alias)
    eng = svc.engine(view)
    try:
        outcome = eng.resume(function, alias, promote=True) if action == "promote" else eng.rollback(function, alias)
    except Exception as exc:
        from lamctl.schemas.errors import RolledBack

        view.release_id = view.release_id or (release.id if release else None)
        view.finish(svc, exc)
        if action == "rollback" and isinstance(exc, RolledBack):
            # the operator asked for it: a completed rollback is a success here
            app.out.result(True, exc.message, release=release.id if release else None, state="rolled_back")
            return
        raise
    view.release_id = view.release_id or (release.id if release else None)
    view.finish(svc, None)
    rel = outcome.release
    app.out.result(True, outcome.message, release=rel.id if rel else None, state=rel.state if rel else None)
