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
    from lamctl.schemas.errors import CloudError, UsageError

    app = get_app(ctx)
    function = app.setting("function", function)
    alias = app.setting("alias", alias)
    if not function or not alias:
        raise UsageError(f"{action} needs --function and --alias", hint=f"e.g. lamctl {action} --function app "
                                                                          "--alias live")
    svc = Services(app)
    release = svc.journal.load(function, alias)
    holder = svc.lock.holder(function, alias)
    if (release is not None and release.active and holder is not None and holder.release == release.id
            and not svc.lock.stale(holder)):
        # A live process runs it: ask, then watch the journal until it acts.
        eng = svc.engine(None)
        eng.request(function, alias, action)
        app.out.info(f"asked {holder.owner} to {action} release {release.id}; waiting for it")
        deadline = svc.clock.now() + wait
        while svc.clock.now() < deadline:
            svc.clock.sleep(1.0)
            now = svc.journal.load(function, alias)
            if now is not None and (not now.active or (action == "rollback" and now.state == "rolling_back")):
                if now.active:
                    continue
                app.out.result(True, f"release {now.id} {now.state.replace('_', ' ')}"
                               + (f": {now.reason}" if now.reason else ""), release=now.id, state=now.state)
                return
        raise CloudError(f"release {release.id} did not act on the {action} request within {wait}s",
                         where=f"{function}:{alias}", hint="it acts at its next alarm poll (<= 10 s) or after its "
                                                           "current hook; check 'lamctl status'")
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
