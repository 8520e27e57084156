"""One release per alias: a lease lock in the object store.

The lock is ``lamctl/releases/<function>/<alias>/lock.json``, created with a
conditional put (S3 ``If-None-Match: *``, or ``O_EXCL`` on disk), holding the
owner (``host:pid``), the release id and an expiry. A second ``shift`` finds
it and fails at once, naming the running release.

Taking over is allowed in two cases only, and only for an explicit
``--resume`` / ``rollback`` / ``promote`` (``takeover=True``): the lease
expired, or the owner is a process on this machine that no longer runs
(killed, even with SIGKILL). A live owner elsewhere is never displaced.

The lease is short (:data:`LEASE_SECONDS`) and the running release renews it
(:class:`Lease`) at least every third of it, during holds and hook waits too.
So a live owner's lease never runs out, and a crashed owner on another machine
is detected one lease after its last renewal, not after the whole release. A
renewal that finds the lock gone or held by someone else raises
:class:`LeaseLost`: the release must stop writing at once (the journal as last
saved stays as it was, for whoever took over, or for ``--resume`` /
``rollback``).

Every change of an existing lock is a compare-and-swap on the version that was
read (S3 conditional writes: ``If-Match: <ETag>`` on PutObject and DeleteObject;
on disk, a compare and replace under ``flock``): a renewal, a takeover and a
release each apply only to the lock they looked at. So two ``--resume`` racing
for a stale lock cannot both win, and an owner that wakes up after its lease ran
out and was taken over cannot write its renewal over the new owner's lock, nor
delete it. (An S3-compatible store that ignores ``If-Match`` loses this; the
alias writes themselves stay guarded by RevisionId.)
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import dataclass
from typing import Any, Callable

from lamctl.release.journal import folder
from lamctl.schemas.errors import ConflictError, LamctlError

# 60 s: renewed every 20 s, a lease survives two missed renewals (a slow S3 call, a retried request)
# and tolerates clock skew between machines far above what NTP leaves; a crashed owner elsewhere blocks
# resume / rollback for at most a minute. Renewing costs one GET and one PUT every 20 s.
LEASE_SECONDS = 60.0
RENEW_FRACTION = 1 / 3


class LeaseLost(ConflictError):
    """The release lock was taken over by another process, or removed: stop writing at once."""


class LockHeld(ConflictError):
    """Another process holds the release lock (and may be alive): it was not taken."""


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


def target_flag(gateway_or_store: Any) -> str:
    """The flag lamctl's commands name a release's target with: ``--function``, or ``--state-machine`` for the
    Step Functions gateway and store (their ``target_flag``)."""
    return getattr(gateway_or_store, "target_flag", None) or "--function"


def target_args(flag: str, name: str, alias: str) -> str:
    """``--function NAME --alias A`` (or ``--state-machine NAME --alias A``): the target in a suggested command."""
    return f"{flag} {name} --alias {alias}"


def resume_commands(flag: str, name: str, alias: str) -> tuple[str, str]:
    """The commands that continue or undo an unfinished release of ``name``'s ``alias``."""
    target = target_args(flag, name, alias)
    return f"lamctl shift --resume {target}", f"lamctl rollback {target}"


def move_command(flag: str, name: str, alias: str, version: str = "N") -> str:
    """The command that points ``name``'s ``alias`` at one version at 100%: ``lamctl alias`` for a function;
    the AWS CLI for a state machine (``lamctl alias`` moves Lambda aliases only)."""
    if flag == "--function":
        return f"lamctl alias {name} {alias} --version {version}"
    arn = f"arn:aws:states:REGION:ACCOUNT:stateMachine:{name}"
    return (f"aws stepfunctions update-state-machine-alias --state-machine-alias-arn {arn}:{alias} "
            f"--routing-configuration stateMachineVersionArn={arn}:{version},weight=100")


class AliasLock:
    def __init__(self, store: Any, clock: Any, owner: str | None = None):
        self.store = store
        self.clock = clock
        self.owner = owner or this_owner()
        self.flag = target_flag(store)  # how the hints name the target

    def key(self, function: str, alias: str) -> str:
        return folder(function, alias) + "lock.json"

    def holder(self, function: str, alias: str) -> LockInfo | None:
        found = self._read(function, alias)
        return None if found is None else found[0]

    def _read(self, function: str, alias: str) -> tuple[LockInfo, str] | None:
        """The lock and the tag of the version read (for a compare-and-swap on it)."""
        found = self.store.get_tagged(self.key(function, alias))
        if found is None:
            return None
        raw, tag = found
        try:
            data = json.loads(raw)
            return LockInfo(str(data["owner"]), str(data["release"]), float(data["expires"])), tag
        except (ValueError, KeyError, TypeError):
            return LockInfo("unknown", "unknown", 0.0), tag  # damaged: treat as expired

    def stale(self, info: LockInfo) -> bool:
        return info.expires <= self.clock.now() or owner_alive(info.owner) is False

    def acquire(self, function: str, alias: str, release_id: str, ttl: float, takeover: bool = False) -> LockInfo:
        """Take the lock or raise :class:`ConflictError` naming the release that holds it."""
        mine = LockInfo(self.owner, release_id, self.clock.now() + ttl)
        key = self.key(function, alias)
        for _ in range(3):
            if self.store.put_if_absent(key, mine.to_json()):
                return mine
            found = self._read(function, alias)
            if found is None:
                continue  # released meanwhile: try again
            held, tag = found
            if held == mine:
                return mine  # our own create, retried after it had landed
            if takeover and self.stale(held):
                if self.store.put_if_match(key, mine.to_json(), tag):  # replaces exactly the stale lock read
                    return mine
                continue  # somebody else changed it first (another takeover, a late renewal): look again
            alive = owner_alive(held.owner)
            state = ("its process is gone" if alive is False else
                     "its lease expired" if held.expires <= self.clock.now() else f"held by {held.owner}")
            resume, undo = resume_commands(self.flag, function, alias)
            hint = (f"resume it with '{resume}' or undo it with '{undo}'"
                    if alive is False or held.expires <= self.clock.now() else
                    "wait for it to finish, or use 'lamctl promote' / 'lamctl rollback' on it; if its process "
                    f"died on another machine, the lock can be taken over with 'lamctl shift --resume' or "
                    f"'lamctl rollback' once its lease runs out ({max(held.expires - self.clock.now(), 0):.0f}s from now "
                    "unless that process renews it)")
            raise LockHeld(f"release {held.release} is running on {function}:{alias} ({state})",
                                where=f"{function}:{alias}", hint=hint)
        raise ConflictError(f"could not take the release lock of {function}:{alias}", where=f"{function}:{alias}",
                            hint="another release is starting at the same moment; run again")

    def renew(self, function: str, alias: str, release_id: str, ttl: float) -> LockInfo:
        """Push the expiry of a lock this owner holds to now + ``ttl``; :class:`LeaseLost` when it is not ours."""
        for _ in range(2):
            found = self._read(function, alias)
            if found is None or not self._mine(found[0], release_id):
                raise self._lost(function, alias, release_id, found)
            mine = LockInfo(self.owner, release_id, self.clock.now() + ttl)
            if self.store.put_if_match(self.key(function, alias), mine.to_json(), found[1]):
                return mine
            # changed between the read and the write: taken over (reported by the next read), or our own
            # previous write when a retried request landed twice (ours still: renew on that version)
        raise self._lost(function, alias, release_id, self._read(function, alias))

    def _mine(self, held: LockInfo, release_id: str) -> bool:
        return held.owner == self.owner and held.release == release_id

    def _lost(self, function: str, alias: str, release_id: str, found: tuple[LockInfo, str] | None) -> LeaseLost:
        where = f"{function}:{alias}"
        if found is None:
            now = "the lock was removed"
        else:
            held = found[0]
            now = ("the lock file is damaged" if held.release == "unknown" and held.owner == "unknown" else
                   f"release {held.release} holds it now (owner {held.owner})" if held.release != release_id else
                   f"{held.owner} took it over (a resume, promote or rollback of this release)"
                   if held.owner != self.owner else "it kept changing under this process")
        return LeaseLost(f"release {release_id} lost its lock on {where}: {now}", where=where,
                         hint=_lost_hint(self.flag, function, alias))

    def release(self, function: str, alias: str, release_id: str) -> None:
        """Remove the lock if it is still this owner's (a conditional delete of the version read)."""
        found = self._read(function, alias)
        if found is not None and self._mine(found[0], release_id):
            self.store.delete_if_match(self.key(function, alias), found[1])


def _lost_hint(flag: str, function: str, alias: str) -> str:
    resume, undo = resume_commands(flag, function, alias)
    return (f"lamctl stopped and wrote nothing more; the process that took the lock now drives the release. "
            f"If none does, see 'lamctl status {target_args(flag, function, alias)}', then continue with "
            f"'{resume}' or undo with '{undo}'")


class Lease:
    """A lock held by a running release, renewed at least every ``ttl / 3`` seconds of the clock.

    :meth:`keep` renews when due (cheap to call often: it only reads the clock until then) and raises
    :class:`LeaseLost` once the lock is someone else's. A failed renewal (the store did not answer) is
    retried soon, and raises :class:`LeaseLost` only when the lease ran out before any retry worked.
    """

    def __init__(self, lock: AliasLock, function: str, alias: str, info: LockInfo, ttl: float = LEASE_SECONDS,
                 on_renew: Callable[[LockInfo], None] | None = None):
        self.lock = lock
        self.function = function
        self.alias = alias
        self.info = info
        self.ttl = float(ttl)
        self.every = self.ttl * RENEW_FRACTION
        self.next_due = lock.clock.now() + self.every
        self.renewals = 0
        self.on_renew = on_renew or (lambda info: None)

    @classmethod
    def take(cls, lock: AliasLock, function: str, alias: str, release_id: str, ttl: float = LEASE_SECONDS,
             takeover: bool = False, on_renew: Callable[[LockInfo], None] | None = None) -> "Lease":
        return cls(lock, function, alias, lock.acquire(function, alias, release_id, ttl, takeover=takeover), ttl,
                   on_renew)

    @property
    def release_id(self) -> str:
        return self.info.release

    def keep(self) -> None:
        now = self.lock.clock.now()
        if now < self.next_due:
            return
        try:
            self.info = self.lock.renew(self.function, self.alias, self.info.release, self.ttl)
        except LeaseLost:
            raise
        except LamctlError as exc:
            if now >= self.info.expires:
                raise LeaseLost(f"release {self.info.release} could not renew its lock on {self.function}:"
                                f"{self.alias} before the lease ran out: {exc.message}",
                                where=f"{self.function}:{self.alias}", hint=_lost_hint(self.lock.flag, self.function,
                                                                           self.alias)) \
                    from None
            self.next_due = now + min(5.0, self.every)  # retry soon, while the lease still holds
            return
        self.renewals += 1
        self.next_due = now + self.every
        self.on_renew(self.info)

    def release(self) -> None:
        self.lock.release(self.function, self.alias, self.info.release)
