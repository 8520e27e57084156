"""The release engine: executes a :class:`~lamctl.release.plan.Plan` against an alias, safely.

::

    plan (reads only) -> pre-flight (reads only) -> lock -> publish -> journal -> steps -> unlock

* Every alias write is preceded by a journal save (``pending`` = the step),
  and passes the RevisionId last seen; a 412 stops the release without
  overwriting anything (state ``conflict``).
* Holds poll the alarms at least every ``poll_seconds`` (<= 10 s). A promote /
  rollback request from another process is looked for every ``request_seconds``
  (1 s) in every phase: during a hold of any length, between steps, and while a
  hook runs (seen at once, acted on when the hook returns; the requester is
  told so through the request's ``note``).
* A hook must give a verdict: ``{"status": "Succeeded"|"Failed"}`` as its
  answer, or a PutLifecycleEventHookExecutionStatus report (read back from the
  local cloud), waited for until the hook timeout. No verdict fails the release.
* An alarm in ALARM, a failed or timed-out hook, or a failed call rolls the
  alias back to the snapshot and raises :class:`RolledBack` (exit 3).
* ``resume`` re-reads the journal and the alias, decides whether the
  in-flight write happened, checks the alarms, and continues; ``rollback``
  restores the snapshot; ``promote`` skips the remaining holds.
* The lock is a short lease (:data:`~lamctl.release.lock.LEASE_SECONDS`)
  renewed at least every third of it: before each step, at every wake-up of a
  hold, and every ``heartbeat_seconds`` while a hook runs. A renewal that
  finds the lock taken over or gone raises :class:`LeaseLost` (exit 1) at
  once: no further alias write, no rollback, no journal save (the journal as
  last saved is what resume / rollback, or the new owner, works from).

Time comes from an injected :class:`~lamctl.release.clock.Clock`; AWS from
gateways (:mod:`lamctl.release.aws`). Progress goes to ``on_event``.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass, field
from typing import Any, Callable

from lamctl.release import journal as J
from lamctl.release.aws import AliasInfo, FunctionConfig, HookTimeout
from lamctl.release.journal import Journal, Release
from lamctl.release.lock import (LEASE_SECONDS, AliasLock, Lease, LeaseLost, owner_alive, move_command, resume_commands,
                                 target_args, target_flag)
from lamctl.release.plan import (AFTER, ALIAS_WRITES, LATEST, Bake, CheckAlarms, CreateAlias, Plan,
                                 PublishVersion, RunHook, SetAliasWeights, build_plan)
from lamctl.release.strategy import Strategy, format_duration
from lamctl.schemas.errors import CloudError, ConflictError, LamctlError, RolledBack, UsageError

MAX_POLL_SECONDS = 10.0
REQUEST_SECONDS = 1.0  # a promote / rollback from another process is seen within this (one S3 GET each time)
DEFAULT_HOOK_TIMEOUT = 3600.0  # CodeDeploy gives a hook one hour


class PreflightError(UsageError):
    """A release that must not start; nothing was written."""


@dataclass(frozen=True)
class Event:
    type: str  # start, step, hook, alarms, tick, rollback, request, done
    message: str
    data: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Driver:
    """Whether a process still drives an unfinished release, as ``status`` reports it."""

    running: bool
    state: str  # running | process-gone | lease-expired | no-lock
    owner: str | None
    message: str
    commands: tuple[str, ...] = ()  # what continues or undoes it, when nobody drives it

    def to_dict(self) -> dict:
        return {"running": self.running, "state": self.state, "owner": self.owner, "message": self.message,
                "commands": list(self.commands)}


@dataclass
class Outcome:
    release: Release | None
    changed: bool
    message: str


Fault = Callable[[str, int], None]  # (point, step index): a test seam to stop the process mid-release


def _weights_equal(a: dict[str, float], b: dict[str, float]) -> bool:
    if set(a) != set(b):
        return False
    return all(abs(float(a[k]) - float(b[k])) < 1e-6 for k in a)


def _new_id(clock: Any) -> str:
    import time as _t  # formatting only; the time itself comes from the clock

    stamp = _t.strftime("%Y%m%d-%H%M%S", _t.gmtime(clock.now()))
    return f"r-{stamp}-{os.urandom(3).hex()}"


class Engine:
    def __init__(self, lam: Any, alarms: Any, store: Any, clock: Any, on_event: Callable[[Event], None] | None = None,
                 poll_seconds: float = MAX_POLL_SECONDS, tick_seconds: float | None = None,
                 hook_timeout: float = DEFAULT_HOOK_TIMEOUT, fault: Fault | None = None, owner: str | None = None,
                 lease_seconds: float = LEASE_SECONDS, heartbeat_seconds: float = 1.0,
                 request_seconds: float = REQUEST_SECONDS):
        """``lease_seconds``: the lock's lease, renewed every third of it on ``clock``. ``heartbeat_seconds``:
        how often (real time) the lease, and the request store, are looked at while a hook invocation blocks.
        ``request_seconds``: how often (on ``clock``) a promote / rollback request is looked for otherwise."""
        self.lam = lam
        self.alarms = alarms
        self.store = store
        self.clock = clock
        self.journal = Journal(store)
        self.lock = AliasLock(store, clock, owner)
        # how the suggested commands name the target: --function, or --state-machine over Step Functions
        self.flag = target_flag(lam)
        self.on_event = on_event or (lambda e: None)
        self.poll_seconds = min(max(float(poll_seconds), 0.05), MAX_POLL_SECONDS)
        self.tick_seconds = tick_seconds
        self.hook_timeout = float(hook_timeout)
        self.fault = fault or (lambda point, index: None)
        self._revision: str | None = None
        self.lease_seconds = float(lease_seconds)
        self.heartbeat_seconds = float(heartbeat_seconds)
        self._lease: Lease | None = None
        self.request_seconds = max(float(request_seconds), 0.01)
        self._next_request_at = float("-inf")
        self._saved: str | None = None  # the release whose journal this engine saved last

    # ------------------------------------------------------------ events

    def _emit(self, type_: str, message: str, **data: Any) -> None:
        self.on_event(Event(type_, message, data))

    def _record(self, release: Release, kind: str, message: str, **data: Any) -> None:
        release.events.append({"at": self.clock.now(), "kind": kind, "message": message, **data})

    # ------------------------------------------------------------ planning (reads only)

    def plan(self, function: str, alias: str, target: str | None, strategy: Strategy, alarms=(),
             hooks: dict[str, str] | None = None) -> tuple[Plan, AliasInfo | None]:
        if target is not None and target.upper() == LATEST.upper():
            raise PreflightError(f"cannot shift {function}:{alias} to $LATEST: aliases with weights take "
                                 "published versions only", where=function,
                                 hint="omit --to-version to publish $LATEST first, or name a version number")
        info = self.lam.get_alias(function, alias)
        if info is None:
            self.lam.get_function_config(function)  # an unknown function is a clear error, not a missing alias
        current = info.version if info else None
        return build_plan(function, alias, current, target, strategy, alarms, hooks), info

    def preflight(self, plan: Plan, info: AliasInfo | None) -> FunctionConfig | None:
        """Everything that can be refused before the first write (alias routing rules: docs/architecture.md,
        facts of the platform). Returns the target's config (or $LATEST's when it is still to be published)."""
        where = f"{plan.function}:{plan.alias}"
        self._refuse_live_holder(plan)
        self.fault("checked-lock", 0)
        active = self.journal.load(plan.function, plan.alias)
        if active is not None and active.active:
            # A release that started after the lock was read holds it now: it is running, not unfinished.
            self._refuse_live_holder(plan)
            raise self._unfinished(plan, active)
        if info is not None:
            if info.version == LATEST:
                raise PreflightError(f"alias {where} points at $LATEST; traffic can only be shifted between "
                                     "published versions", where=where,
                                     hint=f"point it at a version first: lamctl alias {plan.function} "
                                          f"{plan.alias} --version N")
            if info.weights:
                raise PreflightError(
                    f"alias {where} already splits traffic ({info.describe()}): it drifted from one version "
                    "at 100%, perhaps an unfinished release or a manual change", where=where,
                    hint=f"settle it first: {move_command(self.flag, plan.function, plan.alias)}")
        target_cfg = self.lam.get_function_config(plan.function, plan.target)
        if info is not None:
            current_cfg = self.lam.get_function_config(plan.function, info.version)
            self._same_runtime_config(plan, current_cfg, target_cfg)
        for event, hook in plan.hooks:
            try:
                self.lam.get_function_config(hook)
            except UsageError as exc:
                raise PreflightError(f"the {event} hook {hook} does not exist", where=hook,
                                     hint=exc.hint) from None
        if plan.alarms:
            firing = [a for a in self.alarms.states(plan.alarms) if a.state == "ALARM"]
            if firing:
                raise PreflightError("alarm already in ALARM before the release: " +
                                     ", ".join(f"{a.name} ({a.reason})" if a.reason else a.name for a in firing),
                                     where="--alarm", hint="fix what it reports first, or wait for it to return to OK")
        return target_cfg

    def _refuse_live_holder(self, plan: Plan) -> None:
        where = f"{plan.function}:{plan.alias}"
        held = self.lock.holder(plan.function, plan.alias)
        if held is not None and not self.lock.stale(held):
            raise ConflictError(f"release {held.release} is running on {where} (held by {held.owner})", where=where,
                                hint="wait for it to finish, or use 'lamctl promote' / 'lamctl rollback' on it")

    def _unfinished(self, plan: Plan, active: Release) -> PreflightError:
        return PreflightError(
            f"release {active.id} on {plan.function}:{plan.alias} is unfinished (state {active.state})",
            where=f"{plan.function}:{plan.alias}",
            hint="resume it with '{}' or undo it with '{}'".format(*resume_commands(self.flag, plan.function,
                                                                                      plan.alias)))

    def _recheck_under_lock(self, plan: Plan, info: AliasInfo | None) -> str | None:
        """What pre-flight read, read again now that the lock is ours: another release may have started and
        finished (or died) between the two. An active journal now belongs to an owner that lost the lock (it
        died): unfinished. An alias that moved since the plan was made is not written over; when it moved to
        the target already, there is nothing to do (the message is returned)."""
        active = self.journal.load(plan.function, plan.alias)
        if active is not None and active.active:
            raise self._unfinished(plan, active)
        now = self.lam.get_alias(plan.function, plan.alias)
        before = None if info is None else (info.version, info.weights, info.revision_id)
        after = None if now is None else (now.version, now.weights, now.revision_id)
        if before == after:
            return None
        where = f"{plan.function}:{plan.alias}"
        if now is not None and not now.weights and now.version == plan.target:
            return f"{where} moved to version {plan.target} while this release was starting: nothing to shift"
        raise ConflictError(f"{where} changed while this release was starting: it was "
                            f"{info.describe() if info else 'absent'}, it is {now.describe() if now else 'absent'}",
                            where=where, hint="another release or a manual change moved it; look at 'lamctl status' "
                                              "and run the shift again")

    def _same_runtime_config(self, plan: Plan, current: FunctionConfig, target: FunctionConfig) -> None:
        v = "$LATEST (to be published)" if plan.target == LATEST else f"version {plan.target}"
        if (current.role or "") != (target.role or ""):
            raise PreflightError(f"{v} of {plan.function} runs as role {target.role} but version {current.version} "
                                 f"as {current.role}; a weighted alias needs the same execution role",
                                 where=plan.function, hint="deploy with the same role, or move the alias at once "
                                                           "with 'lamctl alias'")
        if (current.dead_letter or "") != (target.dead_letter or ""):
            raise PreflightError(f"{v} of {plan.function} has dead-letter target {target.dead_letter or 'none'} "
                                 f"but version {current.version} has {current.dead_letter or 'none'}; a weighted "
                                 "alias needs the same dead-letter config", where=plan.function,
                                 hint="deploy with the same DeadLetterConfig, or move the alias at once")

    # ------------------------------------------------------------ shift

    def shift(self, plan: Plan, info: AliasInfo | None, description: str = "") -> Outcome:
        self.preflight(plan, info)
        if plan.target != LATEST and info is not None and info.version == plan.target:
            return Outcome(None, False, f"{plan.function}:{plan.alias} is already at version {plan.target}: "
                                        "nothing to shift")
        release_id = _new_id(self.clock)
        self.fault("before-lock", 0)
        # pre-flight found no live holder and no unfinished release: a stale lock (a process that died
        # before its first journal save) may be taken over
        with self._leased(plan.function, plan.alias, release_id):
            moved = self._recheck_under_lock(plan, info)
            if moved:
                return Outcome(None, False, moved)
            return self._start(release_id, plan, info, description)

    def _leased(self, function: str, alias: str, release_id: str) -> "_Held":
        return _Held(self, Lease.take(self.lock, function, alias, release_id, self.lease_seconds, takeover=True))

    def _keep(self) -> None:
        """Renew the lease when due; :class:`LeaseLost` when another process holds it now."""
        if self._lease is not None:
            self._lease.keep()

    def _start(self, release_id: str, plan: Plan, info: AliasInfo | None, description: str) -> Outcome:
        now = self.clock.now()
        completed: list[int] = []
        if plan.steps and isinstance(plan.steps[0], PublishVersion):
            published = self.lam.publish_version(plan.function, description)
            self._emit("publish", f"published {plan.function} version {published.version}", index=0, kind="publish",
                       version=published.version)
            if info is not None and published.version == info.version:
                return Outcome(None, False, f"{plan.function} has not changed since version {published.version}, "
                                            f"which {plan.alias} already serves: nothing to shift")
            plan = plan.with_target(published.version)
            completed.append(0)
        snapshot = None if info is None else {"version": info.version, "weights": dict(info.weights),
                                              "revision_id": info.revision_id}
        release = Release(id=release_id, function=plan.function, alias=plan.alias, plan=plan.to_dict(),
                          snapshot=snapshot, owner=self.lock.owner, started=now, updated=now, completed=completed,
                          times={"0": now} if completed else {}, revision_id=info.revision_id if info else None)
        self._revision = release.revision_id
        self._record(release, "start", f"{plan.strategy.describe()} from version {plan.current or '-'} "
                                       f"to {plan.target}")
        self._emit("start", f"release {release.id}: {plan.function}:{plan.alias} version {plan.current or '-'} -> "
                            f"{plan.target}, {plan.strategy.describe()}", release=release.id,
                   function=plan.function, alias=plan.alias, current=plan.current, target=plan.target,
                   strategy=plan.strategy.describe(), total_seconds=plan.total_seconds)
        if completed:
            self.fault("after", 0)
        return self._run(release, plan)

    # ------------------------------------------------------------ the loop

    def _run(self, release: Release, plan: Plan, promote: bool = False) -> Outcome:
        try:
            for index, step in enumerate(plan.steps):
                if index in release.completed:
                    continue
                self._keep()
                promote = self._act(release, self._requested(release), promote)
                if promote and isinstance(step, (SetAliasWeights, Bake, CheckAlarms)):
                    self._complete(release, index, skipped=True)
                    continue
                action = self._step(release, plan, index, step)
                promote = self._act(release, action, promote)
        except LeaseLost:
            raise  # another process drives the release now: write nothing, not even the journal
        except ConflictError as exc:  # someone else wrote the alias: stop, never overwrite it
            release.state = J.CONFLICT
            release.reason = exc.message
            self._finish(release)
            raise
        except _Abort as abort:
            return self._rollback(release, abort.reason)
        except RolledBack:
            raise
        except LamctlError as exc:
            return self._rollback(release, f"{exc.where + ': ' if exc.where else ''}{exc.message}")
        release.state = J.SUCCEEDED
        release.pending = None
        self._record(release, "done", f"version {plan.target} serves 100%")
        self._finish(release)
        self._emit("done", f"release {release.id} succeeded: {plan.function}:{plan.alias} serves version "
                           f"{plan.target} at 100%", release=release.id, state=release.state, version=plan.target)
        return Outcome(release, True, f"{plan.function}:{plan.alias} now serves version {plan.target} at 100%")

    # ------------------------------------------------------------ requests from other processes

    def _requested(self, release: Release, force: bool = False) -> str | None:
        """A promote / rollback asked for this release, looked up at most every ``request_seconds``."""
        now = self.clock.now()
        if not force and now < self._next_request_at:
            return None
        self._next_request_at = now + self.request_seconds
        action = self.journal.pending_request(release)
        return action if action in ("promote", "rollback") else None

    def _act(self, release: Release, action: str | None, promote: bool) -> bool:
        """Carry out a request: a rollback now (raises :class:`RolledBack`); a promote skips the remaining holds.
        Returns whether the release is promoted."""
        if action is None:
            return promote
        self.journal.clear_request(release.function, release.alias)
        if action == "rollback":
            self._rollback(release, "rollback requested by an operator")
        if not promote:
            self._emit("request", "promote requested: skipping the remaining holds", release=release.id)
            self._record(release, "promote", "the remaining holds were skipped")
        return True

    def _complete(self, release: Release, index: int, skipped: bool = False) -> None:
        if index not in release.completed:
            release.completed.append(index)
        release.times.setdefault(str(index), self.clock.now())
        if release.pending == index:
            release.pending = None
        if skipped:
            release.times[str(index)] = self.clock.now()

    def _save(self, release: Release) -> None:
        release.updated = self.clock.now()
        self.journal.save(release)
        self._saved = release.id

    def _finish(self, release: Release) -> None:
        release.finished = self.clock.now()
        self._save(release)
        self.journal.archive(release)

    def _step(self, release: Release, plan: Plan, index: int, step: Any) -> str | None:
        start = self.clock.now()
        release.times[str(index)] = start
        action = None
        if isinstance(step, ALIAS_WRITES):
            self._write(release, plan, index, step)
            if isinstance(step, SetAliasWeights):
                msg = f"version {plan.current} {100 - step.weight * 100:g}%, version {step.version} {step.weight * 100:g}%"
            else:
                msg = f"version {step.version} 100%"
            self._emit("step", msg, index=index, kind=step.kind, version=step.version,
                       weight=getattr(step, "weight", 1.0), at=start - release.started)
        elif isinstance(step, RunHook):
            action = self._hook(release, plan, index, step)
            self._complete(release, index)
            self._save(release)
        elif isinstance(step, Bake):
            action = self._bake(release, plan, index, step)
        elif isinstance(step, CheckAlarms):
            self._check_alarms(plan.alarms)
            self._emit("alarms", "alarms OK: " + ", ".join(plan.alarms), index=index, kind=step.kind)
        elif isinstance(step, PublishVersion):
            pass  # done before the journal existed (see _start)
        self._complete(release, index)
        self.fault("after", index)
        return action

    def _expected(self, plan: Plan, step: Any) -> tuple[str, dict[str, float]]:
        if isinstance(step, SetAliasWeights):
            return plan.current or "", {step.version: step.weight}
        return step.version, {}

    def _write(self, release: Release, plan: Plan, index: int, step: Any) -> None:
        release.pending = index
        self._save(release)  # the record first: never a split alias without a journal
        self.fault("before-write", index)
        if isinstance(step, CreateAlias):
            info = self.lam.create_alias(plan.function, plan.alias, step.version)
        else:
            version, weights = self._expected(plan, step)
            info = self.lam.update_alias(plan.function, plan.alias, version, weights, self._revision)
        self._revision = info.revision_id
        release.revision_id = info.revision_id
        self.fault("written", index)
        self._complete(release, index)
        self._save(release)  # the write and the alias's new revision on record: a hold that follows is on record
        # as holding, and a resume can tell the alias still stands as lamctl left it from the same routing
        # written again by someone else since

    def _hook(self, release: Release, plan: Plan, index: int, step: RunHook) -> str | None:
        """Run a hook and judge its verdict; a failure raises :class:`_Abort`. Returns a promote / rollback
        request that came while it ran (acted on now that it returned)."""
        weight = 1.0 if step.event == AFTER else 0.0
        execution_id = f"{release.id}-{step.event}"
        payload = {
            "DeploymentId": release.id,
            "LifecycleEventHookExecutionId": execution_id,
            "LifecycleEvent": step.event,
            "Function": plan.function,
            "Alias": plan.alias,
            "CurrentVersion": plan.current,
            "TargetVersion": plan.target,
            "Weight": weight,
        }
        if self._saved != release.id:  # a BeforeAllowTraffic hook comes first: the release is on record while it
            self._save(release)        # runs, so that status, promote and rollback find it
        self._emit("hook", f"{step.event}: invoking {step.function}", index=index, kind="hook", event=step.event,
                   hook=step.function)
        started = self.clock.now()
        try:
            result = self._invoke_keeping_lease(step.function, payload, release, step)
        except LeaseLost:
            raise
        except HookTimeout as exc:
            raise _Abort(f"{step.event} hook {step.function} timed out: {exc.message}") from None
        except LamctlError as exc:
            raise _Abort(f"{step.event} hook {step.function} could not be invoked: {exc.message}") from None
        if self.clock.now() - started > self.hook_timeout:
            raise _Abort(f"{step.event} hook {step.function} took {format_duration(self.clock.now() - started)}, "
                         f"more than the hook timeout of {format_duration(self.hook_timeout)}")
        if result.function_error:
            detail = result.payload.decode("utf-8", "replace")[:300]
            raise _Abort(f"{step.event} hook {step.function} failed ({result.function_error}): {detail}")
        status = None
        try:
            body = json.loads(result.payload or b"null")
            if isinstance(body, dict) and "status" in body:
                status = str(body["status"])
        except ValueError:
            pass
        if status is not None and status != "Succeeded":
            raise _Abort(f"{step.event} hook {step.function} reported status {status}")
        if status is None:  # a hook written for CodeDeploy reports through PutLifecycleEventHookExecutionStatus
            reported = self._reported_verdict(release, step, execution_id, started)
            if reported == "rollback":
                return reported
            if reported != "Succeeded":
                raise _Abort(f"{step.event} hook {step.function} reported status {reported} "
                             "(PutLifecycleEventHookExecutionStatus)")
        self._record(release, "hook", f"{step.event} hook {step.function} succeeded", index=index)
        return self._requested(release, force=True)

    def _reported_verdict(self, release: Release, step: RunHook, execution_id: str, started: float) -> str:
        """The status a hook that answered without one reported through PutLifecycleEventHookExecutionStatus,
        waited for until the hook timeout (CodeDeploy fails a hook whose time runs out). ``"rollback"`` when an
        operator asks for one meanwhile. No verdict: :class:`_Abort`."""
        deadline = started + self.hook_timeout
        said = False
        while True:
            if not getattr(self.lam, "reads_hook_reports", True):
                raise _Abort(self._no_verdict(step, readable=False))
            reported = self.lam.reported_hook_status(execution_id)
            if reported is not None and reported not in ("Pending", "InProgress"):
                return reported
            now = self.clock.now()
            if now >= deadline - 1e-9:
                raise _Abort(self._no_verdict(step, readable=True))
            if not said and getattr(self.lam, "reads_hook_reports", True):
                said = True
                self._emit("hook", f"{step.event}: {step.function} returned without a status; waiting up to "
                                   f"{format_duration(deadline - now)} for the verdict it reports with "
                                   "PutLifecycleEventHookExecutionStatus", kind="hook-wait", event=step.event,
                           hook=step.function, seconds=deadline - now)
            self.clock.sleep(min(self.request_seconds, deadline - now))
            self._keep()
            if self._requested(release) == "rollback":
                return "rollback"

    def _no_verdict(self, step: RunHook, readable: bool) -> str:
        expected = ('lamctl expects the hook to return {"status": "Succeeded"} (or {"status": "Failed"})')
        if readable:
            return (f"{step.event} hook {step.function} gave no verdict: it returned without a \"status\" and "
                    "reported none with PutLifecycleEventHookExecutionStatus within the hook timeout of "
                    f"{format_duration(self.hook_timeout)}; {expected}, or to call "
                    "PutLifecycleEventHookExecutionStatus with the LifecycleEventHookExecutionId it was given")
        return (f"{step.event} hook {step.function} gave no verdict: it returned without a \"status\"; {expected} "
                "(a PutLifecycleEventHookExecutionStatus report can only be read on the local cloud or with "
                "--engine codedeploy)")

    def _invoke_keeping_lease(self, function: str, payload: dict, release: Release | None = None,
                              step: RunHook | None = None) -> Any:
        """Invoke a hook (which may take up to the hook timeout) while this thread keeps renewing the lease and
        looks for a promote / rollback request (acted on once the hook returns; said at once)."""
        lease = self._lease
        if lease is None:
            return self.lam.invoke(function, payload, timeout=self.hook_timeout)
        box: dict[str, Any] = {}
        done = threading.Event()

        def call() -> None:
            try:
                box["result"] = self.lam.invoke(function, payload, timeout=self.hook_timeout)
            except BaseException as exc:  # handed to the engine's thread below
                box["error"] = exc
            finally:
                done.set()

        threading.Thread(target=call, daemon=True, name=f"hook-{function}").start()
        heartbeat = max(min(self.heartbeat_seconds, lease.every, self.request_seconds), 0.001)
        seen = None
        while not done.wait(heartbeat):
            lease.keep()  # LeaseLost: stop waiting; the hook runs on but no traffic moves after it
            if seen is None and release is not None:
                seen = self.journal.pending_request(release)
                if seen in ("promote", "rollback"):
                    what = f"the {step.event} hook {function}" if step is not None else f"the hook {function}"
                    note = f"the {seen} takes effect when {what} returns"
                    self._emit("request", f"{seen} requested: {note}", release=release.id, action=seen,
                               waiting_for=function)
                    self.journal.acknowledge(release, seen, note)
                else:
                    seen = None
        if "error" in box:
            raise box["error"]
        return box["result"]

    def _check_alarms(self, names: tuple[str, ...] | list[str]) -> None:
        if not names:
            return
        states = self.alarms.states(list(names))
        firing = [a for a in states if a.state == "ALARM"]
        self._emit("alarm-states", "", states={a.name: a.state for a in states})
        if firing:
            raise _Abort("alarm in ALARM: " + ", ".join(f"{a.name} ({a.reason})" if a.reason else a.name
                                                          for a in firing))

    def _bake(self, release: Release, plan: Plan, index: int, step: Bake) -> str | None:
        """Hold the weight; poll alarms at least every poll_seconds, and look for a promote / rollback request
        from another process every request_seconds (whatever the length of the hold)."""
        begun = self._bake_start(release, plan, index)
        end = begun + step.seconds
        next_poll = self.clock.now() + self.poll_seconds
        remaining = end - self.clock.now()
        self._emit("bake", f"holding {step.weight * 100:g}% for {format_duration(max(remaining, 0))}",
                   index=index, kind="bake", seconds=step.seconds, remaining=max(remaining, 0.0), weight=step.weight)
        while True:
            now = self.clock.now()
            if now >= end - 1e-9:
                return None
            wake = min(end, next_poll, max(self._next_request_at, now))
            if self._lease is not None:
                wake = min(wake, max(self._lease.next_due, now))
            if self.tick_seconds:
                wake = min(wake, now + self.tick_seconds)
            self.clock.sleep(wake - now)
            self._keep()
            now = self.clock.now()
            if now >= next_poll - 1e-9 and now < end - 1e-9:
                next_poll = now + self.poll_seconds
                self._check_alarms(plan.alarms)
            action = self._requested(release)
            if action is not None:
                return action
            if self.tick_seconds:
                self._emit("tick", "", index=index, weight=step.weight, remaining=max(end - now, 0.0),
                           next=self._next_write(plan, index))

    def _bake_start(self, release: Release, plan: Plan, index: int) -> float:
        """When the hold began: when its weight was set, so a resumed hold keeps the time already held."""
        prev = index - 1
        if prev >= 0 and prev in release.completed and isinstance(plan.steps[prev], SetAliasWeights):
            began = release.times.get(str(prev))
            if began is not None and began <= self.clock.now():
                return began
        return self.clock.now()

    @staticmethod
    def _next_write(plan: Plan, index: int) -> str:
        for s in plan.steps[index + 1:]:
            if isinstance(s, ALIAS_WRITES + (RunHook,)):
                return s.describe()
        return "done"

    # ------------------------------------------------------------ rollback

    def _rollback(self, release: Release, reason: str) -> Outcome:
        release.state = J.ROLLING_BACK
        release.reason = reason
        self._emit("rollback", f"rolling back {release.function}:{release.alias}: {reason}", release=release.id,
                   reason=reason)
        self._keep()  # the lock must still be ours before the journal and the alias are written
        self._save(release)
        self._restore(release)
        release.state = J.ROLLED_BACK
        release.pending = None
        self._record(release, "rollback", f"rolled back: {reason}")
        self._finish(release)
        snap = release.snapshot
        back = f"version {snap['version']} at 100%" if snap else "no alias (it did not exist before)"
        self._emit("done", f"release {release.id} rolled back; {release.alias} serves {back}", release=release.id,
                   state=release.state, reason=reason)
        raise RolledBack(f"release {release.id} was rolled back: {reason}", where=f"{release.function}:{release.alias}",
                         hint=f"{release.alias} serves {back} again")

    def _restore(self, release: Release) -> None:
        snap = release.snapshot
        try:
            if snap is None:
                self.lam.delete_alias(release.function, release.alias)
                return
            info = self.lam.update_alias(release.function, release.alias, snap["version"], {}, self._revision)
            self._revision = info.revision_id
            release.revision_id = info.revision_id
        except ConflictError as exc:  # someone else wrote the alias: stop, never overwrite it
            release.state = J.CONFLICT
            release.reason = f"{release.reason}; the rollback found the alias moved by someone else: {exc.message}"
            self._finish(release)
            raise
        except LamctlError as exc:
            raise CloudError(f"the rollback of release {release.id} failed: {exc.message}",
                             where=f"{release.function}:{release.alias}",
                             hint=f"the journal says rolling_back; run 'lamctl rollback "
                                  f"{target_args(self.flag, release.function, release.alias)}' again") from None

    # ------------------------------------------------------------ resume / rollback / promote of an existing release

    def _load_active(self, function: str, alias: str, verb: str) -> Release:
        release = self.journal.load(function, alias)
        if release is None or not release.active:
            last = f" (the last one, {release.id}, {release.state})" if release else ""
            raise UsageError(f"no release is running on {function}:{alias}{last}: nothing to {verb}",
                             where=f"{function}:{alias}",
                             hint=f"see 'lamctl status {target_args(self.flag, function, alias)}'")
        return release

    def _reconcile(self, release: Release, plan: Plan) -> AliasInfo | None:
        """Read the alias and match it to the journal: decide whether the in-flight write happened;
        anything else is drift (someone moved the alias) and stops here without writing."""
        info = self.lam.get_alias(release.function, release.alias)
        expected_before = self._state_after_completed(release, plan)
        candidates = [expected_before]
        pending_step = plan.steps[release.pending] if release.pending is not None else None
        if pending_step is not None:
            candidates.append(self._expected(plan, pending_step))
        actual = None if info is None else (info.version, info.weights)
        for n, cand in enumerate(candidates):
            if cand is None and actual is None:
                break
            if cand is not None and actual is not None and cand[0] == actual[0] and _weights_equal(cand[1], actual[1]):
                if n == 0 and release.revision_id and info.revision_id != release.revision_id:
                    continue  # the same routing, but written by someone else since our last save
                if n == 1:
                    self._complete(release, release.pending)
                break
        else:
            where = f"{release.function}:{release.alias}"
            now = info.describe() if info else "no alias"
            raise ConflictError(f"alias {where} does not match release {release.id}: it serves {now}; someone else "
                                "moved it", where=where,
                                hint=f"lamctl changed nothing; settle the alias with "
                                     f"'{move_command(self.flag, release.function, release.alias)}', then delete or "
                                     "roll back the release")
        self._revision = info.revision_id if info else None
        return info

    def _state_after_completed(self, release: Release, plan: Plan) -> tuple[str, dict[str, float]] | None:
        state = None if release.snapshot is None else (release.snapshot["version"], {})
        for index, step in enumerate(plan.steps):
            if index in release.completed and isinstance(step, ALIAS_WRITES) and index != release.pending:
                state = self._expected(plan, step)
        return state

    def resume(self, function: str, alias: str, promote: bool = False) -> Outcome:
        release = self._load_active(function, alias, "promote" if promote else "resume")
        plan = Plan.from_dict(release.plan)
        with self._leased(function, alias, release.id):
            if release.state == J.ROLLING_BACK:
                self._reconcile_for_rollback(release)
                return self._rollback(release, release.reason or "an interrupted rollback")
            self._reconcile(release, plan)
            self.fault("resumed", 0)  # the lock is this process's now (a test seam: races with rollback)
            release.owner = self.lock.owner
            self._emit("start", f"resuming release {release.id} ({len(release.completed)}/{len(plan.steps)} steps "
                                "done)", release=release.id, function=function, alias=alias,
                       current=plan.current, target=plan.target, strategy=plan.strategy.describe(), resumed=True)
            self._record(release, "resume", "resumed" + (" and promoted" if promote else ""))
            try:
                self._check_alarms(plan.alarms)
            except _Abort as abort:
                return self._rollback(release, abort.reason)
            if promote:
                self._emit("request", "promoting: skipping the remaining holds", release=release.id)
            return self._run(release, plan, promote=promote)

    def _reconcile_for_rollback(self, release: Release) -> None:
        info = self.lam.get_alias(release.function, release.alias)
        self._revision = info.revision_id if info else None

    def rollback(self, function: str, alias: str) -> Outcome:
        """Restore the snapshot of the running release (or undo the last one that succeeded)."""
        release = self.journal.load(function, alias)
        where = f"{function}:{alias}"
        if release is None:
            raise UsageError(f"no release is recorded for {where}: nothing to roll back", where=where,
                             hint="lamctl rolls back releases made with 'lamctl shift'")
        if release.state == J.ROLLED_BACK:
            return Outcome(release, False, f"release {release.id} is already rolled back")
        if release.state == J.CONFLICT:
            raise ConflictError(f"release {release.id} stopped because someone else moved the alias; lamctl will "
                                "not overwrite it", where=where,
                                hint=f"settle the alias with '{move_command(self.flag, function, alias)}'")
        with self._leased(function, alias, release.id):
            plan = Plan.from_dict(release.plan)
            if release.state == J.SUCCEEDED:
                info = self.lam.get_alias(function, alias)
                if info is None or info.version != plan.target or info.weights:
                    now = info.describe() if info else "no alias"
                    raise ConflictError(f"{where} serves {now}, not version {plan.target} of release {release.id}; "
                                        "it moved since", where=where,
                                        hint=f"move it explicitly with '{move_command(self.flag, function, alias)}'")
                self._revision = info.revision_id
            elif release.state == J.ROLLING_BACK:
                self._reconcile_for_rollback(release)
            else:
                self._reconcile(release, plan)
            return self._rollback(release, "rollback requested by an operator")

    def request(self, function: str, alias: str, action: str) -> Release:
        """Ask the process running the release to promote / roll back (it acts at its next poll)."""
        release = self._load_active(function, alias, action)
        self.journal.request(function, alias, release.id, action, self.lock.owner)
        return release

    def driver(self, release: Release) -> Driver | None:
        """Who drives an unfinished release: its process (alive, same machine; or a lease still renewed), or
        nobody (the process is gone, its lease ran out, or no lock is held for it). None when it has ended."""
        if not release.active:
            return None
        function, alias = release.function, release.alias
        commands = resume_commands(self.flag, function, alias)
        held = self.lock.holder(function, alias)
        if held is None or held.release != release.id:
            other = f" (release {held.release} holds it)" if held is not None else ""
            return Driver(False, "no-lock", release.owner or None,
                          f"no process holds its lock{other}: its process ({release.owner or 'unknown'}) stopped",
                          commands)
        alive = owner_alive(held.owner)
        if alive is False:
            return Driver(False, "process-gone", held.owner,
                          f"its process {held.owner} is gone (killed or crashed)", commands)
        now = self.clock.now()
        if held.expires <= now:
            where = "on another machine" if alive is None else "still there, but stalled"
            return Driver(False, "lease-expired", held.owner,
                          f"its lease ran out {format_duration(now - held.expires)} ago: its process {held.owner} "
                          f"({where}) stopped renewing it", commands)
        return Driver(True, "running", held.owner, f"running in {held.owner}")

    def status(self, function: str, alias: str) -> tuple[AliasInfo | None, Release | None]:
        info = self.lam.get_alias(function, alias)
        if info is None:
            self.lam.get_function_config(function)
        return info, self.journal.load(function, alias)


class _Abort(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class _Held:
    """The engine's lease for the duration of a ``with`` block; released at its end, whatever happens."""

    def __init__(self, engine: Engine, lease: Lease):
        self.engine = engine
        self.lease = lease

    def __enter__(self) -> Lease:
        self.engine._lease = self.lease
        return self.lease

    def __exit__(self, *exc: Any) -> None:
        self.engine._lease = None
        self.lease.release()
