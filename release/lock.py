"""One release per alias: a lease lock in the object store.

The lock is ``lamctl/releases/<function>/<alias>/lock.json``, created with a
conditional put (S3 ``If-None-Match: *``, or ``O_EXCL`` on disk), holding the
owner (``host:pid``), the release id and an expiry. A second ``shift`` finds
it and fails at once, naming the running release.

Taking over is allowed in two cases only, and only for an explicit
``--resume`` / ``rollback`` / ``promote`` (``takeover=True``): the lease
expired, or the owner is a process on this machine that no longer runs
(killed, even with SIGKILL). A live owner elsewhere is never displaced.
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import dataclass
from typing import Any

from lamctl.release.journal import folder
from lamctl.schemas.errors import ConflictError


def this_owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def owner_alive(owner: str) -> bool | None:
    """True/False for a process on this machine; None when it runs elsewhere (cannot tell)."""
    host, _, pid = owner.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return None
    pid_ = int(pid)
    try:
        os.kill(pid_, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie (killed, not yet reaped) is not running
        with open(f"/proc/{pid_}/stat", encoding="ascii", errors="replace") as fh:
            if fh.read().rsplit(")", 1)[-1].split()[0] == "Z":
                return False
    except (OSError, IndexError):
        pass
    return True


@dataclass(frozen=True)
class LockInfo:
    owner: str
    release: str
    expires: float

    def to_json(self) -> bytes:
        return json.dumps({"owner": self.owner, "release": self.release, "expires": self.expires}).encode()


class AliasLock:
    def __init__(self, store: Any, clock: Any, owner: str | None = None):
        self.store = store
        self.clock = clock
        self.owner = owner or this_owner()

    def key(self, function: str, alias: str) -> str:
        return folder(function, alias) + "lock.json"

    def holder(self, function: str, alias: str) -> LockInfo | None:
        raw = self.store.get(self.key(function, alias))
        if raw is None:
            return None
        try:
            data = json.loads(raw)
            return LockInfo(str(data["owner"]), str(data["release"]), float(data["expires"]))
        except (ValueError, KeyError, TypeError):
            return LockInfo("unknown", "unknown", 0.0)  # damaged: treat as expired

    def stale(self, info: LockInfo) -> bool:
        return info.expires <= self.clock.now() or owner_alive(info.owner) is False

    def acquire(self, function: str, alias: str, release_id: str, ttl: float, takeover: bool = False) -> LockInfo:
        """Take the lock or raise :class:`ConflictError` naming the release that holds it."""
        mine = LockInfo(self.owner, release_id, self.clock.now() + ttl)
        key = self.key(function, alias)
        for _ in range(3):
            if self.store.put_if_absent(key, mine.to_json()):
                return mine
            held = self.holder(function, alias)
            if held is None:
                continue  # released meanwhile: try again
            if takeover and self.stale(held):
                self.store.delete(key)
                continue
            alive = owner_alive(held.owner)
            state = ("its process is gone" if alive is False else
                     "its lease expired" if held.expires <= self.clock.now() else f"held by {held.owner}")
            hint = (f"resume it with 'lamctl shift --resume --function {function} --alias {alias}' "
                    f"or undo it with 'lamctl rollback --function {function} --alias {alias}'"
                    if alive is False or held.expires <= self.clock.now() else
                    "wait for it to finish, or use 'lamctl promote' / 'lamctl rollback' on it")
            raise ConflictError(f"release {held.release} is running on {function}:{alias} ({state})",
                                where=f"{function}:{alias}", hint=hint)
        raise ConflictError(f"could not take the release lock of {function}:{alias}", where=f"{function}:{alias}",
                            hint="another release is starting at the same moment; run again")

    def release(self, function: str, alias: str, release_id: str) -> None:
        held = self.holder(function, alias)
        if held is not None and held.release == release_id and held.owner == self.owner:
            self.store.delete(self.key(function, alias))
