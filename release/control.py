"""Acting on an alias outside a shift: a plain move (``lamctl alias``), and ``promote`` / ``rollback`` of a
release: ask the process that runs it, or act on it here, then say what is true.

::

    move_alias: refused while a release runs on the alias (journal or lock), else create / move at 100 %

    journal + lock --(live_holder: a live process holds it)--> request -> wait_for_action -> judge the alias
                   --(nobody runs it)-----------------------> act here (resume --promote / rollback) -> judge

Both read the alias's journal and lock (:mod:`lamctl.release.journal`, :mod:`lamctl.release.lock`): an alias
is never moved under a running release, and a release a live process holds is asked, never taken over.

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
from lamctl.release.aws import AliasInfo
from lamctl.release.journal import Release
from lamctl.release.lock import LockHeld, LockInfo, move_command, target_args
from lamctl.schemas.errors import CloudError, ConflictError, RolledBack

WAIT_STEP = 0.25  # how often the requester reads the journal while it waits (one small GET)
HOLDER_EVERY = 1.0  # how often it checks that the process it asked is still there


class RequestMissed(ConflictError):
    """The release ended before it acted on the request: the request did not happen."""


@dataclass(frozen=True)
class AliasMove:
    """What :func:`move_alias` did: ``created``, ``unchanged`` or ``moved`` (from ``previous``)."""

    action: str
    previous: AliasInfo | None = None


@dataclass
class Controlled:
    """What a promote / rollback achieved, as read back from the journal and the alias."""

    message: str
    release: str | None
    state: str | None
    data: dict = field(default_factory=dict)


def move_alias(lam: Any, journal: Any, lock: Any, function: str, alias: str, version: str) -> AliasMove:
    """Create ``function:alias`` at ``version``, or move it there at 100%; refused while a release runs on it."""
    running = journal.load(function, alias)
    holder = lock.holder(function, alias)
    if (running is not None and running.active) or holder is not None:
        rid = running.id if running is not None and running.active else holder.release
        raise ConflictError(f"release {rid} is running on {function}:{alias}; lamctl will not move the alias "
                            "under it", where=f"{function}:{alias}",
                            hint="promote it, roll it back, or wait for it to finish")
    lam.get_function_config(function, version)
    info = lam.get_alias(function, alias)
    if info is None:
        lam.create_alias(function, alias, version)
        return AliasMove("created")
    if info.version == version and not info.weights:
        return AliasMove("unchanged", info)
    lam.update_alias(function, alias, version, {}, info.revision_id)
    return AliasMove("moved", info)


def live_holder(journal: Any, lock: Any, function: str, alias: str) -> tuple[Release | None, LockInfo | None]:
    """The alias's last release, and the lock's holder when a live process runs that release (else None)."""
    release = journal.load(function, alias)
    holder = lock.holder(function, alias)
    if (release is not None and release.active and holder is not None and holder.release == release.id
            and not lock.stale(holder)):
        return release, holder
    return release, None


def control(engine: Any, function: str, alias: str, action: str, wait: float, direct: Callable[[], Any],
            say: Callable[[str], None]) -> Controlled:
    """Promote or roll back the release of ``function:alias``.

    ``direct()`` acts here (the engine's ``resume(promote=True)`` / ``rollback``, with the caller's rendering);
    it is used when no live process runs the release. ``say`` reports progress while waiting."""
    journal, lock, clock = engine.journal, engine.lock, engine.clock
    for _ in range(3):
        release, holder = live_holder(journal, lock, function, alias)
        if holder is not None:
            journal.request(function, alias, release.id, action, lock.owner)
            say(f"asked {holder.owner} to {action} release {release.id}; waiting for it (it looks every second)")
            if wait_for_action(journal, lock, clock, function, alias, action, release.id, wait, say):
                return _ended(engine, function, alias, action, release.id)
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
                        where=f"{function}:{alias}",
                        hint=f"see 'lamctl status {target_args(lock.flag, function, alias)}' and run 'lamctl {action}' "
                             "again")


def wait_for_action(journal: Any, lock: Any, clock: Any, function: str, alias: str, action: str, release_id: str,
                    wait: float, say: Callable[[str], None] = lambda _: None) -> bool:
    """Watch the journal until the release asked to ``action`` has ended (True), reading it every
    ``WAIT_STEP`` seconds and passing on the ``note`` the release leaves when it saw the request. False when
    the process running it went away before it ended (the caller then acts itself); CloudError, saying whether
    the request was taken, after ``wait`` seconds."""
    where = f"{function}:{alias}"
    deadline = clock.now() + wait
    next_holder = clock.now() + HOLDER_EVERY
    noted = None
    while True:
        now = journal.load(function, alias)
        if now is None or now.id != release_id or not now.active:
            return True
        request = journal.read_request(function, alias)
        note = (request or {}).get("note") if (request or {}).get("release") == release_id else None
        if note and note != noted:
            noted = note
            say(f"release {release_id} saw the request: {note}")
        if clock.now() >= next_holder:
            next_holder = clock.now() + HOLDER_EVERY
            holder = lock.holder(function, alias)
            if holder is None or holder.release != release_id or lock.stale(holder):
                again = journal.load(function, alias)  # it may have ended (and let the lock go) meanwhile
                if again is None or again.id != release_id or not again.active:
                    return True
                say(f"the process running release {release_id} is gone; acting on it here")
                return False
        if clock.now() >= deadline:
            taken = request is None or request.get("release") != release_id
            doing = (note or "it took the request and is still acting on it") if taken or note else \
                "it has not taken the request yet"
            raise CloudError(f"release {release_id} did not finish the {action} within {wait:g}s: {doing}",
                             where=where, hint=f"see 'lamctl status {target_args(lock.flag, function, alias)}'; "
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
    status = target_args(engine.lock.flag, function, alias)  # the target as the user names it
    release = engine.journal.load(function, alias)
    info = engine.lam.get_alias(function, alias)
    serves = info.describe() if info else "no alias"
    if release is None:
        raise CloudError(f"the release record of {where} is gone", where=where,
                         hint=f"see 'lamctl status {status}'")
    if asked is not None and release.id != asked:
        raise ConflictError(f"release {asked} ended and release {release.id} started on {where} before the "
                            f"{action} could be checked; {where} serves {serves}", where=where,
                            hint=f"see 'lamctl status {status}'")
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
                            hint=f"lamctl changed nothing more; settle the alias with "
                                 f"'{move_command(engine.lock.flag, function, alias)}'")
    if action == "rollback":
        if release.state == J.ROLLED_BACK and on_snapshot:
            return Controlled(f"release {release.id} rolled back{reason}; {where} serves "
                              f"{back + ' at 100%' if snap else 'no alias (it did not exist before)'}",
                              release.id, release.state, data)
        if release.state == J.SUCCEEDED:
            back_to = move_command(engine.lock.flag, function, alias, snap["version"]) if snap else ""
            hint = (f"move it back with '{back_to}', or start a "
                    f"new release to it with 'lamctl shift {status} --to-version "
                    f"{snap['version']}'" if snap else
                    "the alias did not exist before the release; delete it or move it with "
                    f"'{move_command(engine.lock.flag, function, alias)}'")
            raise RequestMissed(f"release {release.id} finished before it acted on the rollback: {where} serves "
                                f"{serves}; nothing was rolled back", where=where, hint=hint)
        raise ConflictError(f"release {release.id} is {release.state.replace('_', ' ')}{reason}, but {where} "
                            f"serves {serves}, not {back} at 100%", where=where,
                            hint=f"see 'lamctl status {status}'")
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
                        hint=f"see 'lamctl status {status}'")
