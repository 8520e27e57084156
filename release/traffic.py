"""A stack's DeploymentPreference traffic shifting, run by lamctl where CodeDeploy is not there (the local cloud).

After a deploy, every alias whose ``UpdatePolicy`` names a CodeDeploy deployment
group (:func:`lamctl.release.preferences.alias_shifts`) is shifted to the version
the stack published, with the release engine (same strategy, hooks and alarms)::

    shifts --resolve (stack's physical IDs)--> skipped | unchanged | pending
    pending --one: run it | several: run side by side--> succeeded | rolled_back | not_started

Several aliases shift at the same time, as CloudFormation updates them; when one
shift fails, the others are asked to roll back, and those that already finished
are rolled back after, as a failed stack update reverts every alias it moved.

What it needs comes in: the Lambda gateway, an engine factory (the engine holds
the clock, the journal and the alarms), a ``run`` function for one release (the
command line wraps it in its live view; by default the engine's own
``shift``), and an ``on_event`` callback for what the operator should see
(:class:`~lamctl.release.engine.Event` ``warning`` and ``traffic``).
"""

from __future__ import annotations

import threading
from typing import Any, Callable, Mapping

from lamctl.release.engine import Event, Outcome
from lamctl.release.preferences import AliasShift, resolve
from lamctl.schemas.errors import LamctlError, RolledBack

Run = Callable[[Any, Any, "str | None"], Outcome]  # (plan, alias info, label) -> the engine's outcome


class StackTraffic:
    """Shift the aliases of one stack's DeploymentPreferences; :meth:`shift` returns one record per alias."""

    def __init__(self, lam: Any, engine: Callable[[], Any], on_event: Callable[[Event], None] | None = None,
                 run: Run | None = None, resolver: Callable[..., Any] = resolve, flag: str = "--function"):
        """``resolver``: :func:`~lamctl.release.preferences.resolve` (Lambda aliases) or ``resolve_state_machine``
        (with a Step Functions gateway as ``lam``); ``flag`` names the target in the commands suggested."""
        self.resolver = resolver
        self.flag = flag
        # who shifts the traffic on AWS: CodeDeploy for a function's alias, CloudFormation itself for a state
        # machine alias's DeploymentPreference
        self._shifter = "CodeDeploy" if flag == "--function" else "CloudFormation"
        self.lam = lam
        self.engine = engine
        self.on_event = on_event or (lambda ev: None)
        self.run = run or (lambda plan, info, label: self.engine().shift(plan, info))

    def _warn(self, message: str, **data: Any) -> None:
        self.on_event(Event("warning", message, data))

    def shift(self, stack: str, template: Mapping[str, Any], physical: Mapping[str, str | None],
              shifts: list[AliasShift], params: Mapping[str, str]) -> list[dict]:
        """Shift each alias of ``shifts`` to the version the stack published (``physical``: logical ID ->
        physical ID). An alias left behind by a rolled-back shift is shifted again by the next deploy, even
        with no stack change. Raises what the first failed shift raised (:class:`RolledBack` for a rollback)."""
        records: list[dict] = []
        pending = []
        for shift in shifts:
            r = self.resolver(shift, template, physical, params)
            record = {"alias_id": r.alias_id, "function": r.function, "alias": r.alias, "target": r.target,
                      "config": r.config, "strategy": r.strategy.describe()}
            records.append(record)
            if r.missing or r.target is None:
                self._warn(f"{r.alias_id}: traffic shifting skipped on the local cloud: " + "; ".join(r.missing))
                record.update(state="skipped", reason="; ".join(r.missing))
                continue
            if r.unwatched:
                self._warn(f"{r.function}:{r.alias}: alarm(s) {', '.join(r.unwatched)} not watched: the stack has "
                           "no such alarm")
            info = self.lam.get_alias(r.function, r.alias)
            if info is not None and info.version == r.target and not info.weights:
                record.update(state="unchanged", current=info.version)
                continue
            record["current"] = info.version if info is not None else None
            release_plan, info = self.engine().plan(r.function, r.alias, r.target, r.strategy, list(r.alarms),
                                                    dict(r.hooks))
            pending.append((r, record, release_plan, info))
        for r, record, _, _ in pending:
            self.on_event(Event(
                "traffic", f"shifting {r.function}:{r.alias} from version {record['current'] or '-'} to "
                f"{r.target}: {r.config} ({r.strategy.describe()}), as {self._shifter} would on AWS; 'lamctl promote "
                f"{self.flag} {r.function} --alias {r.alias}' skips the holds",
                {"function": r.function, "alias": r.alias, "current": record["current"], "target": r.target,
                 "config": r.config}))
        if len(pending) == 1:
            self._shift_one(stack, *pending[0], label=None)
        elif pending:
            self._shift_together(stack, pending)
        return records

    def _shift_one(self, stack: str, r, record: dict, release_plan, info, label: str | None) -> None:
        try:
            outcome = self.run(release_plan, info, label)
        except RolledBack:
            record["state"] = "rolled_back"
            self._warn(f"stack {stack} is deployed, but {r.function}:{r.alias} stays on version {record['current']}: "
                       "its traffic shift was rolled back (on AWS, CloudFormation would roll the stack back too). "
                       "Fix the cause and deploy again: the next deploy shifts it again")
            raise
        rel = outcome.release
        record.update(state=rel.state if rel else "unchanged", release=rel.id if rel else None)

    def _shift_together(self, stack: str, pending: list) -> None:
        """The shifts in threads, each reported with its alias's name; the first failure asks the others to
        roll back, and those already done are rolled back after, so that no alias is left on the new version
        alone."""
        failed = threading.Event()
        errors: list[BaseException] = []

        def run(item) -> None:
            r, record = item[0], item[1]
            if failed.is_set():
                record["state"] = "not_started"
                return
            try:
                self._shift_one(stack, *item, label=f"{r.function}:{r.alias}")
            except BaseException as exc:  # noqa: BLE001 - reported by the caller, once all threads are done
                errors.append(exc)
                if not failed.is_set():
                    failed.set()
                    for other in pending:
                        if other is not item:
                            try:
                                self.engine().request(other[0].function, other[0].alias, "rollback")
                            except Exception:  # noqa: BLE001 - not started yet, or already finished: handled below
                                pass

        threads = [threading.Thread(target=run, args=(item,), daemon=True) for item in pending]
        for t in threads:
            t.start()
        for t in threads:
            while t.is_alive():
                t.join(0.2)  # a short join keeps Ctrl-C deliverable to this thread
        if not errors:
            return
        for r, record, _, _ in pending:
            if record.get("state") == "succeeded":  # finished before the failure: put it back as well
                self._warn(f"{r.function}:{r.alias}: rolling back its finished shift too, as a failed stack update "
                           "reverts every alias it moved")
                try:
                    self.engine().rollback(r.function, r.alias)
                except RolledBack:  # what a completed rollback raises
                    record["state"] = "rolled_back"
                except LamctlError as exc:
                    self._warn(f"{r.function}:{r.alias} could not be rolled back: {exc.message}; undo it with "
                               f"'lamctl rollback {self.flag} {r.function} --alias {r.alias}'")
        raise errors[0]
