"""Acting on an alias outside a shift: a plain move (``lamctl alias``), and asking the live process that runs
a release to promote or roll it back (``lamctl promote`` / ``lamctl rollback``), then watching it act.

Both read the alias's journal and lock (:mod:`lamctl.release.journal`, :mod:`lamctl.release.lock`): an alias
is never moved under a running release, and a release a live process holds is asked, never taken over.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lamctl.release.aws import AliasInfo
from lamctl.release.journal import Release
from lamctl.release.lock import LockInfo
from lamctl.schemas.errors import CloudError, ConflictError


@dataclass(frozen=True)
class AliasMove:
    """What :func:`move_alias` did: ``created``, ``unchanged`` or ``moved`` (from ``previous``)."""

    action: str
    previous: AliasInfo | None = None


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


def wait_for_action(journal: Any, clock: Any, function: str, alias: str, action: str, release_id: str,
                    wait: float) -> Release:
    """Watch the journal until the release asked to ``action`` has ended; CloudError after ``wait`` seconds."""
    deadline = clock.now() + wait
    while clock.now() < deadline:
        clock.sleep(1.0)
        now = journal.load(function, alias)
        if now is not None and (not now.active or (action == "rollback" and now.state == "rolling_back")):
            if now.active:
                continue
            return now
    raise CloudError(f"release {release_id} did not act on the {action} request within {wait}s",
                     where=f"{function}:{alias}", hint="it acts at its next alarm poll (<= 10 s) or after its "
                                                       "current hook; check 'lamctl status'")
