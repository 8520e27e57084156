"""``promote`` / ``rollback`` of a release: ask the process that runs it, or act on it here, then say what is true.

::

    journal + lock --(a live process holds it)--> request -> wait for the release to end -> judge the alias
                   --(nobody runs it)-----------> act here (resume --promote / rollback)  -> judge the alias

The running release looks for a request every second in every phase (see
:mod:`lamctl.release.engine`); a request that comes while a hook runs is
acted on when the hook returns, and the release leaves a ``note`` saying so,
which is passed on to the operator while waiting.

What is reported is the final state read back, never the wish: ``rollback``
succeeds only when the alias serves the version it served before the release,
at 100 % with no routing; when the release finished first, that is said
(:class:`RequestMissed`, exit 1) with the commands that move the alias back.
``promote`` succeeds only when the alias serves the release's target at 100 %.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from lamctl.release import journal as J
from lamctl.release.lock import LockHeld
from lamctl.schemas.errors import CloudError, ConflictError, RolledBack

WAIT_STEP = 0.25  # how often the requester reads the journal while it waits (one small GET)
HOLDER_EVERY = 1.0  # how often it checks that the process it asked is still there


class RequestMissed(ConflictError):
    """The release ended before it acted on the request: the request did not happen."""


@dataclass
class Controlled:
    """What a promote / rollback achieved, as read back from the journal and the alias."""

    message: str
    release: str | None
    state: str | None
    data: dict = field(default_factory=dict)


def control(engine: Any, function: str, alias: str, action: str, wait: float, direct: Callable[[], Any],
            say: Callable[[str], None]) -> Controlled:
    """Promote or roll back the release of ``function:alias``.

    ``direct()`` acts here (the engine's ``resume(promote=True)`` / ``rollback``, with the caller's rendering);
    it is used when no live process runs the release. ``say`` reports progress while waiting."""
    journal, lock, clock = engine.journal, engine.lock, engine.clock
    for _ in range(3):
        release = journal.load(function, alias)
        holder = lock.holder(function, alias)
        if (release is not None and release.active and holder is not None and holder.release == release.id
                and not lock.stale(holder)):
            asked = _ask(engine, function, alias, action, wait, release, holder.owner, say)
            if asked is not None:
                return asked
            continue  # the process asked is gone: act here
        try:
            direct()
        except LockHeld:
            continue  # a process took the release meanwhile (a resume): ask it instead
        except RolledBack:
            if action != "rollback":
                raise
        return judge(engine, function, alias, action)
    raise ConflictError(f"the release on {function}:{alias} kept changing hands; nothing was asked of it",
                        where=f"{function}:{alias}", hint=f"see 'lamctl status --function {function} --alias "
                                                          f"{alias}' and run 'lamctl {action}' again")


def _ask(engine: Any, function: str, alias: str, action: str, wait: float, release: J.Release, owner: str,
         say: Callable[[str], None]) -> Controlled | None:
    """Request ``action`` of the process running ``release`` and wait for the release to end; None when that
    process went away before it acted (the caller then acts itself)."""
    journal, lock, clock = engine.journal, engine.lock, engine.clock
    where = f"{function}:{alias}"
    journal.request(function, alias, release.id, action, lock.owner)
    say(f"asked {owner} to {action} release {release.id}; waiting for it (it looks every second)")
    deadline = clock.now() + wait
    next_holder = clock.now() + HOLDER_EVERY
    noted = None
    while True:
        now = journal.load(function, alias)
        if now is None or now.id != release.id or not now.active:
            return _ended(engine, function, alias, action, release.id)
        request = journal.read_request(function, alias)
        note = (request or {}).get("note") if (request or {}).get("release") == release.id else None
        if note and note != noted:
            noted = note
            say(f"release {release.id} saw the request: {note}")
        if clock.now() >= next_holder:
            next_holder = clock.now() + HOLDER_EVERY
            holder = lock.holder(function, alias)
            if holder is None or holder.release != release.id or lock.stale(holder):
                again = journal.load(function, alias)  # it may have ended (and let the lock go) meanwhile
                if again is None or again.id != release.id or not again.active:
                    return _ended(engine, function, alias, action, release.id)
                say(f"the process running release {release.id} is gone; acting on it here")
                return None
        if clock.now() >= deadline:
            taken = request is None or request.get("release") != release.id
            doing = (note or "it took the request and is still acting on it") if taken or note else \
                "it has not taken the request yet"
            raise CloudError(f"release {release.id} did not finish the {action} within {wait:g}s: {doing}",
                             where=where, hint=f"see 'lamctl status --function {function} --alias {alias}'; "
                                               f"run 'lamctl {action}' again to keep waiting, or give --wait")
        clock.sleep(WAIT_STEP)


def _ended(engine: Any, function: str, alias: str, action: str, asked: str) -> Controlled:
    """The release ended: judge it, and drop a request it never took (it ended first)."""
    pending = engine.journal.read_request(function, alias)
    if pending is not None and pending.get("release") == asked:
        engine.journal.clear_request(function, alias)
    return judge(engine, function, alias, action, asked)


def judge(engine: Any, function: str, alias: str, action: str, asked: str | None = None) -> Controlled:
    """The outcome of ``action`` as the journal and the alias show it now."""
    where = f"{function}:{alias}"
    release = engine.journal.load(function, alias)
    info = engine.lam.get_alias(function, alias)
    serves = info.describe() if info else "no alias"
    if release is None:
        raise CloudError(f"the release record of {where} is gone", where=where,
                         hint=f"see 'lamctl status --function {function} --alias {alias}'")
    if asked is not None and release.id != asked:
        raise ConflictError(f"release {asked} ended and release {release.id} started on {where} before the "
                            f"{action} could be checked; {where} serves {serves}", where=where,
                            hint=f"see 'lamctl status --function {function} --alias {alias}'")
    snap = release.snapshot
    target = release.target
    on_snapshot = (info is None) if snap is None else (info is not None and info.version == snap["version"]
                                                       and not info.weights)
    on_target = info is not None and info.version == target and not info.weights
    data = {"release": release.id, "state": release.state, "function": function, "alias": alias,
            "version": info.version if info is not None and not info.weights else None,
            "weights": dict(info.weights) if info is not None else {}, "action": action}
    back = f"version {snap['version']}" if snap else "no alias"
    reason = f": {release.reason}" if release.reason else ""
    if release.state == J.CONFLICT:
        raise ConflictError(f"release {release.id} stopped because someone else moved the alias{reason}; "
                            f"{where} serves {serves}", where=where,
                            hint=f"lamctl changed nothing more; settle the alias with 'lamctl alias {function} "
                                 f"{alias} --version N'")
    if action == "rollback":
        if release.state == J.ROLLED_BACK and on_snapshot:
            return Controlled(f"release {release.id} rolled back{reason}; {where} serves "
                              f"{back + ' at 100%' if snap else 'no alias (it did not exist before)'}",
                              release.id, release.state, data)
        if release.state == J.SUCCEEDED:
            hint = (f"move it back with 'lamctl alias {function} {alias} --version {snap['version']}', or start a "
                    f"new release to it with 'lamctl shift --function {function} --alias {alias} --to-version "
                    f"{snap['version']}'" if snap else
                    "the alias did not exist before the release; delete it or move it with 'lamctl alias'")
            raise RequestMissed(f"release {release.id} finished before it acted on the rollback: {where} serves "
                                f"{serves}; nothing was rolled back", where=where, hint=hint)
        raise ConflictError(f"release {release.id} is {release.state.replace('_', ' ')}{reason}, but {where} "
                            f"serves {serves}, not {back} at 100%", where=where,
                            hint=f"see 'lamctl status --function {function} --alias {alias}'")
    # promote
    if release.state == J.SUCCEEDED and on_target:
        promoted = any(e.get("kind") == "promote" for e in release.events)
        how = "promoted and succeeded" if promoted else "succeeded before the promote was needed"
        return Controlled(f"release {release.id} {how}: {where} serves version {target} at 100%", release.id,
                          release.state, {**data, "promoted": promoted})
    if release.state == J.ROLLED_BACK:
        raise RolledBack(f"release {release.id} was rolled back{reason}; it was not promoted", where=where,
                         hint=f"{where} serves {serves}")
    raise ConflictError(f"release {release.id} is {release.state.replace('_', ' ')}, but {where} serves "
                        f"{serves}, not version {target} at 100%", where=where,
                        hint=f"see 'lamctl status --function {function} --alias {alias}'")
