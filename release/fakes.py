"""In-memory gateways with the protocols of :mod:`lamctl.release.aws` and :mod:`lamctl.release.stacks`,
for tests of the release engine and of the stack deployer.

They behave like the real services where the emulator does not: ``UpdateAlias``
enforces ``RevisionId`` (a stale one is a 412, :class:`RevisionMismatch`) and
every write gets a new RevisionId. Each records what happened, with the time
of the injected clock, so tests can assert every weight and when it was set.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable

from lamctl.release.aws import AlarmState, AliasInfo, FunctionConfig, HookTimeout, InvokeResult, RevisionMismatch
from lamctl.release.stacks import ChangeSetInfo, ResourceChange, StackEvent, StackInfo
from lamctl.release.tune import FunctionState, Invocation
from lamctl.schemas.errors import CloudError, ConflictError, UsageError


@dataclass
class _Fn:
    latest: FunctionConfig
    versions: dict[str, FunctionConfig] = field(default_factory=dict)
    changed: bool = True


class FakeLambda:
    def __init__(self, clock: Any):
        self.clock = clock
        self.calls: Counter = Counter()
        self.functions: dict[str, _Fn] = {}
        self.aliases: dict[tuple[str, str], AliasInfo] = {}
        self.writes: list[tuple[float, str, dict[str, float]]] = []  # (time, version, weights) of each alias write
        self.invocations: list[tuple[float, str, dict]] = []
        self.hooks: dict[str, Callable[[dict], Any]] = {}
        self.fail_update_at: int | None = None  # make the Nth UpdateAlias (1-based) fail with a CloudError
        self.hook_reports: dict[str, str] = {}  # what hooks reported through PutLifecycleEventHookExecutionStatus
        self.reads_hook_reports = True  # as the local cloud; False: as AWS, where lamctl's engine cannot read them

    def reported_hook_status(self, execution_id: str) -> str | None:
        return self.hook_reports.get(execution_id)

    # -- setup helpers
    def add_function(self, name: str, versions: int = 1, role: str = "arn:aws:iam::123456789012:role/app",
                     dead_letter: str | None = None) -> None:
        fn = _Fn(FunctionConfig(name, "$LATEST", role, dead_letter, code_sha256="sha-0"))
        for _ in range(versions):
            self._publish(fn)
        fn.changed = False
        self.functions[name] = fn

    def change_code(self, name: str, role: str | None = None, dead_letter: str | None = None) -> None:
        fn = self.functions[name]
        n = len(fn.versions)
        fn.latest = FunctionConfig(name, "$LATEST", role or fn.latest.role,
                                   dead_letter if dead_letter is not None else fn.latest.dead_letter,
                                   code_sha256=f"sha-{n + 1}")
        fn.changed = True

    def set_alias(self, function: str, alias: str, version: str, weights: dict[str, float] | None = None) -> None:
        self.aliases[(function, alias)] = AliasInfo(alias, version, dict(weights or {}), uuid.uuid4().hex)

    def move_alias_behind_our_back(self, function: str, alias: str, version: str) -> None:
        self.set_alias(function, alias, version)

    def _publish(self, fn: _Fn) -> FunctionConfig:
        v = str(len(fn.versions) + 1)
        cfg = FunctionConfig(fn.latest.name, v, fn.latest.role, fn.latest.dead_letter, fn.latest.code_sha256)
        fn.versions[v] = cfg
        return cfg

    def _fn(self, name: str) -> _Fn:
        if name not in self.functions:
            raise UsageError(f"function {name} does not exist", where=name)
        return self.functions[name]

    # -- the protocol
    def get_function_config(self, function: str, qualifier: str = "$LATEST") -> FunctionConfig:
        self.calls["GetFunctionConfiguration"] += 1
        fn = self._fn(function)
        if qualifier == "$LATEST":
            return fn.latest
        if qualifier not in fn.versions:
            raise UsageError(f"function {function}:{qualifier} does not exist", where=function)
        return fn.versions[qualifier]

    def publish_version(self, function: str, description: str = "") -> FunctionConfig:
        self.calls["PublishVersion"] += 1
        fn = self._fn(function)
        if not fn.changed and fn.versions:
            return fn.versions[str(len(fn.versions))]
        fn.changed = False
        return self._publish(fn)

    def latest_version(self, function: str) -> str | None:
        self.calls["ListVersionsByFunction"] += 1
        fn = self._fn(function)
        return str(len(fn.versions)) if fn.versions else None

    def get_alias(self, function: str, alias: str) -> AliasInfo | None:
        self.calls["GetAlias"] += 1
        self._fn(function)
        return self.aliases.get((function, alias))

    def create_alias(self, function: str, alias: str, version: str) -> AliasInfo:
        self.calls["CreateAlias"] += 1
        if (function, alias) in self.aliases:
            raise ConflictError(f"alias {function}:{alias} exists")
        self._check_version(function, version)
        self.set_alias(function, alias, version)
        self.writes.append((self.clock.now(), version, {}))
        return self.aliases[(function, alias)]

    def _check_version(self, function: str, version: str) -> None:
        if version not in self._fn(function).versions:
            raise CloudError(f"version {version} of {function} does not exist")

    def update_alias(self, function: str, alias: str, version: str, weights: dict[str, float],
                     revision_id: str | None) -> AliasInfo:
        self.calls["UpdateAlias"] += 1
        if self.fail_update_at is not None and self.calls["UpdateAlias"] == self.fail_update_at:
            raise CloudError("UpdateAlias failed: ServiceException: injected failure")
        current = self.aliases.get((function, alias))
        if current is None:
            raise CloudError(f"alias {function}:{alias} does not exist")
        if revision_id is not None and revision_id != current.revision_id:
            raise RevisionMismatch(f"alias {function}:{alias} was changed by someone else", where=f"{function}:{alias}")
        self._check_version(function, version)
        for v, w in weights.items():
            self._check_version(function, v)
            if not 0.0 <= w <= 1.0:
                raise CloudError(f"weight {w} out of range")
        if len(weights) > 1:
            raise CloudError("at most one additional version")
        self.set_alias(function, alias, version, weights)
        self.writes.append((self.clock.now(), version, dict(weights)))
        return self.aliases[(function, alias)]

    def delete_alias(self, function: str, alias: str) -> None:
        self.calls["DeleteAlias"] += 1
        self.aliases.pop((function, alias), None)
        self.writes.append((self.clock.now(), "", {}))

    def invoke(self, function: str, payload: dict, timeout: float | None = None) -> InvokeResult:
        """Hooks: ``hooks[name](payload)`` returns a dict (JSON answer), ``("error", text)`` for a
        FunctionError, or ``("slow", seconds, answer)`` to take that long on the clock."""
        self.calls["Invoke"] += 1
        self._fn(function)
        self.invocations.append((self.clock.now(), function, dict(payload)))
        behaviour = self.hooks.get(function, lambda p: {"status": "Succeeded"})
        answer = behaviour(payload)
        if isinstance(answer, tuple) and answer[0] == "slow":
            self.clock.advance(answer[1])
            if timeout is not None and answer[1] > timeout:
                raise HookTimeout(f"{function} did not answer within {timeout:g}s", where=function)
            answer = answer[2]
        if isinstance(answer, tuple) and answer[0] == "error":
            return InvokeResult(200, "Unhandled", json.dumps({"errorMessage": answer[1]}).encode(), "1")
        return InvokeResult(200, None, json.dumps(answer).encode(), "1")


class FakeAlarms:
    """Alarm states; ``schedule(name, at, state)`` changes one when the clock reaches ``at``."""

    def __init__(self, clock: Any, **states: str):
        self.clock = clock
        self.calls: Counter = Counter()
        self._states: dict[str, str] = dict(states)
        self._schedule: list[tuple[float, str, str]] = []
        self.polls: list[float] = []

    def set(self, name: str, state: str) -> None:
        self._states[name] = state

    def schedule(self, name: str, at: float, state: str) -> None:
        self._schedule.append((at, name, state))

    def states(self, names) -> list[AlarmState]:
        self.calls["DescribeAlarms"] += 1
        now = self.clock.now()
        self.polls.append(now)
        for at, name, state in sorted(self._schedule):
            if at <= now:
                self._states[name] = state
        missing = [n for n in names if n not in self._states]
        if missing:
            raise UsageError("no such CloudWatch alarm: " + ", ".join(missing), where="--alarm")
        return [AlarmState(n, self._states[n], "Threshold Crossed" if self._states[n] == "ALARM" else "")
                for n in names]


class MemoryStore:
    """An object store in a dict (the protocol of S3ObjectStore / LocalObjectStore)."""

    def __init__(self):
        self.objects: dict[str, bytes] = {}
        self.calls: Counter = Counter()
        self.where = "memory://"
        self.puts: list[str] = []
        self.gets: list[str] = []

    def get(self, key: str) -> bytes | None:
        self.calls["GetObject"] += 1
        self.gets.append(key)
        return self.objects.get(key)

    def put(self, key: str, body: bytes) -> None:
        self.calls["PutObject"] += 1
        self.puts.append(key)
        self.objects[key] = bytes(body)

    def put_if_absent(self, key: str, body: bytes) -> bool:
        self.calls["PutObject"] += 1
        if key in self.objects:
            return False
        self.objects[key] = bytes(body)
        return True

    def delete(self, key: str) -> None:
        self.calls["DeleteObject"] += 1
        self.objects.pop(key, None)

    def get_tagged(self, key: str) -> tuple[bytes, str] | None:
        body = self.get(key)
        return None if body is None else (body, hashlib.sha256(body).hexdigest())

    def put_if_match(self, key: str, body: bytes, tag: str) -> bool:
        self.calls["PutObject"] += 1
        current = self.objects.get(key)
        if current is None or hashlib.sha256(current).hexdigest() != tag:
            return False
        self.puts.append(key)
        self.objects[key] = bytes(body)
        return True

    def delete_if_match(self, key: str, tag: str) -> bool:
        self.calls["DeleteObject"] += 1
        current = self.objects.get(key)
        if current is None or hashlib.sha256(current).hexdigest() != tag:
            return False
        del self.objects[key]
        return True


class FakeCodeDeploy:
    """CodeDeploy as far as lamctl uses it; ``statuses`` is the sequence get_deployment walks through."""

    def __init__(self, statuses: list[str] | None = None):
        self.calls: Counter = Counter()
        self.applications: set[str] = set()
        self.groups: dict[tuple[str, str], dict] = {}
        self.configs: dict[str, dict] = {}
        self.deployments: dict[str, dict] = {}
        self.statuses = list(statuses or ["InProgress", "Succeeded"])
        self.stopped: list[str] = []

    def ensure_application(self, name: str) -> bool:
        self.calls["GetApplication"] += 1
        if name in self.applications:
            return False
        self.calls["CreateApplication"] += 1
        self.applications.add(name)
        return True

    def ensure_deployment_group(self, application, group, role_arn, config, alarms=()) -> bool:
        self.calls["GetDeploymentGroup"] += 1
        if (application, group) in self.groups:
            return False
        if not role_arn:
            raise UsageError(f"CodeDeploy deployment group {application}/{group} does not exist and no service role "
                             "was given to create it")
        self.calls["CreateDeploymentGroup"] += 1
        self.groups[(application, group)] = {"role": role_arn, "config": config, "alarms": list(alarms)}
        return True

    def ensure_config(self, name: str, routing: dict) -> bool:
        self.calls["GetDeploymentConfig"] += 1
        if name in self.configs:
            return False
        self.calls["CreateDeploymentConfig"] += 1
        self.configs[name] = routing
        return True

    def create_deployment(self, application, group, appspec, config, description="") -> str:
        self.calls["CreateDeployment"] += 1
        dep_id = f"d-{len(self.deployments) + 1:09d}"
        self.deployments[dep_id] = {"application": application, "group": group, "appspec": appspec,
                                    "config": config, "polls": 0}
        return dep_id

    def get_deployment(self, deployment_id: str):
        from lamctl.release.aws import DeploymentStatus

        self.calls["GetDeployment"] += 1
        dep = self.deployments[deployment_id]
        i = min(dep["polls"], len(self.statuses) - 1)
        dep["polls"] += 1
        status = self.statuses[i]
        return DeploymentStatus(deployment_id, status, "alarm fired" if status in ("Failed", "Stopped") else "")

    def stop_deployment(self, deployment_id: str) -> None:
        self.calls["StopDeployment"] += 1
        self.stopped.append(deployment_id)


# ---------------------------------------------------------------- CloudFormation

_event_ids = itertools.count(1)


def resource_event(logical_id: str, status: str, reason: str | None = None,
                   rtype: str = "AWS::SQS::Queue") -> StackEvent:
    """A stack event of one resource, with a new ID and a later timestamp than the one before."""
    n = next(_event_ids)
    return StackEvent(event_id=f"e{n}", timestamp=f"2026-01-01T00:00:{n % 60:02d}.000Z", logical_id=logical_id,
                      resource_type=rtype, status=status, reason=reason)


def stack_status_event(name: str, status: str, reason: str | None = None) -> StackEvent:
    """A stack event of the stack itself."""
    return resource_event(name, status, reason, "AWS::CloudFormation::Stack")


class FakeCloudFormation:
    """The :class:`~lamctl.release.stacks.StackGateway` protocol in memory, for the states the emulator cannot
    produce (rollbacks, operations in progress, interrupted waits).

    ``add_stack(name, status, script=[(status, events), ...])`` sets a stack up; each ``describe()`` advances
    a scripted operation by one step, the way polling sees CloudFormation make progress. ``on_execute`` is
    the script an executed change set runs, ``on_delete`` the one a deletion runs. ``calls`` records every
    call with its arguments, ``writes()`` the writing ones."""

    WRITES = {"create_change_set", "execute_change_set", "delete_change_set", "delete_stack"}

    def __init__(self):
        self.stacks: dict[str, dict] = {}
        self.calls: list[tuple[str, dict]] = []
        self.change_sets: dict[str, dict] = {}
        self.on_execute: list[tuple[str, list[StackEvent]]] = []
        self.on_delete: list[tuple[str, list[StackEvent]]] | None = None

    def add_stack(self, name, status, params=None, events=(), script=()):
        self.stacks[name] = {"name": name, "id": f"arn:aws:cloudformation:us-east-1:1:stack/{name}/1",
                             "status": status, "params": dict(params or {}), "events": list(events),
                             "script": list(script), "deleted": False}
        return self.stacks[name]

    def _find(self, ref):
        for s in self.stacks.values():
            if s["id"] == ref or (s["name"] == ref and not s["deleted"]):
                return s
        return None

    def writes(self):
        return [name for name, _ in self.calls if name in self.WRITES]

    # -- protocol
    def describe(self, stack):
        self.calls.append(("describe", {"stack": stack}))
        s = self._find(stack)
        if s is None:
            return None
        if s["script"]:
            status, events = s["script"].pop(0)
            s["status"] = status
            s["events"].extend(events)
            if status == "DELETE_COMPLETE":
                s["deleted"] = True
        if s["deleted"] and stack == s["name"]:
            return None
        return StackInfo(name=s["name"], stack_id=s["id"], status=s["status"], parameters=dict(s["params"]))

    def template_body(self, stack, change_set=None):
        return None

    def resources(self, stack):
        return []

    def events(self, stack, after=None, limit=None):
        s = self._find(stack)
        if s is None:
            return []
        evs = s["events"]
        if after is not None:
            ids = [e.event_id for e in evs]
            evs = evs[ids.index(after) + 1:] if after in ids else evs
        if limit is not None and after is None:
            evs = evs[-limit:]
        return list(evs)

    def create_change_set(self, **kwargs):
        self.calls.append(("create_change_set", kwargs))
        name = kwargs["stack"]
        s = self._find(name)
        if s is None or kwargs["change_set_type"] == "CREATE" and s["status"] != "REVIEW_IN_PROGRESS":
            s = self.add_stack(name, "REVIEW_IN_PROGRESS", events=[stack_status_event(name, "REVIEW_IN_PROGRESS")])
        arn = f"arn:aws:cloudformation:us-east-1:1:changeSet/{kwargs['name']}/1"
        self.change_sets[arn] = {"stack": s, "type": kwargs["change_set_type"]}
        return arn, s["id"]

    def describe_change_set(self, arn, stack=None):
        cs = self.change_sets[arn]
        return ChangeSetInfo(name=arn.split("/")[1], arn=arn, stack_id=cs["stack"]["id"], status="CREATE_COMPLETE",
                             execution_status="AVAILABLE",
                             changes=(ResourceChange("Add", "Queue", "AWS::SQS::Queue"),))

    def execute_change_set(self, arn, disable_rollback=False):
        self.calls.append(("execute_change_set", {"arn": arn, "disable_rollback": disable_rollback}))
        self.change_sets[arn]["stack"]["script"] = list(self.on_execute)

    def delete_change_set(self, arn):
        self.calls.append(("delete_change_set", {"arn": arn}))

    def delete_stack(self, stack):
        self.calls.append(("delete_stack", {"stack": stack}))
        s = self._find(stack)
        name = s["name"]
        s["script"] = list(self.on_delete or [
            ("DELETE_IN_PROGRESS", [stack_status_event(name, "DELETE_IN_PROGRESS", "User Initiated")]),
            ("DELETE_COMPLETE", [stack_status_event(name, "DELETE_COMPLETE")]),
        ])


class FakeUpdatingLambdaClient:
    """A Lambda client (boto3's method names) whose function updates take time, as on AWS: after
    ``UpdateFunctionCode`` / ``UpdateFunctionConfiguration``, ``GetFunctionConfiguration`` reports
    ``LastUpdateStatus`` from ``statuses`` in turn (``"InProgress"``, then ``"Successful"`` or ``"Failed"``; the
    last one stays); for tests of :class:`lamctl.release.sync.SyncGateway`."""

    def __init__(self, statuses: list[str], reason: str = ""):
        self.statuses = list(statuses)
        self.reason = reason
        self.calls: list[str] = []

    def update_function_code(self, **kwargs: Any) -> dict:
        self.calls.append("UpdateFunctionCode")
        return {}

    def get_function_configuration(self, **kwargs: Any) -> dict:
        self.calls.append("GetFunctionConfiguration")
        status = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
        cfg = {"FunctionName": kwargs.get("FunctionName"), "CodeSha256": "x", "LastUpdateStatus": status}
        if status == "Failed":
            cfg.update(LastUpdateStatusReason=self.reason, LastUpdateStatusReasonCode="InvalidZipFileException")
        return cfg


class FakeLiveTailLogsClient:
    """A CloudWatch Logs client (boto3's method names) with the Live Tail API, as on AWS: log groups by name
    (``describe_log_groups``), FilterLogEvents over ``events`` (``{group: [event, ...]}``), and
    ``start_live_tail`` whose response stream yields ``sessionStart`` then one ``sessionUpdate`` per batch of
    ``session`` (each a list of ``sessionResults``); for tests of :mod:`lamctl.release.logs`."""

    def __init__(self, events: dict[str, list[dict]], session: list[list[dict]], region: str = "us-east-1",
                 account: str = "123456789012"):
        self.events = events
        self.session = session
        self.arn = {g: f"arn:aws:logs:{region}:{account}:log-group:{g}" for g in events}
        self.live_tail_requests: list[dict] = []

    def describe_log_groups(self, logGroupNamePrefix: str = "", **kwargs: Any) -> dict:
        return {"logGroups": [{"logGroupName": g, "arn": arn + ":*", "logGroupArn": arn}
                              for g, arn in self.arn.items() if g.startswith(logGroupNamePrefix)]}

    def filter_log_events(self, logGroupName: str, startTime: int = 0, filterPattern: str = "",
                          **kwargs: Any) -> dict:
        phrase = filterPattern.strip('"')
        return {"events": [e for e in self.events.get(logGroupName, [])
                           if e["timestamp"] >= startTime and (not phrase or phrase in e["message"])]}

    def start_live_tail(self, logGroupIdentifiers: list[str], **kwargs: Any) -> dict:
        self.live_tail_requests.append({"logGroupIdentifiers": list(logGroupIdentifiers), **kwargs})
        stream = [{"sessionStart": {"logGroupIdentifiers": list(logGroupIdentifiers)}}]
        stream += [{"sessionUpdate": {"sessionMetadata": {"sampled": False}, "sessionResults": batch}}
                   for batch in self.session]
        return {"responseStream": iter(stream)}


class FakeTuneLambda:
    """A Lambda for :mod:`lamctl.release.tune`: ``$LATEST``'s memory, published versions (each with the memory
    it was published with) and invocations whose REPORT line says how long they took at that memory.

    ``work_ms``: the duration at one full vCPU; below 1,769 MB it grows in proportion, as CPU-bound code does
    on Lambda (``flat_ms`` is added at every size, for the part that does not use the CPU). ``needs_mb``: an
    invocation at less memory fails with ``Runtime.OutOfMemory``. ``interrupt_at``: the Nth invocation
    (1-based) raises KeyboardInterrupt, as Ctrl-C would; ``fail_at``: it raises a CloudError."""

    def __init__(self, clock: Any, name: str = "fn", memory: int = 128, architecture: str = "x86_64",
                 work_ms: float = 1000.0, flat_ms: float = 0.0, needs_mb: int = 0, max_used_mb: int = 60,
                 versions: int = 0, update_polls: int = 1):
        self.clock = clock
        self.name = name
        self.memory = memory
        self.architecture = architecture
        self.work_ms = work_ms
        self.flat_ms = flat_ms
        self.needs_mb = needs_mb
        self.max_used_mb = max_used_mb
        self.version_memory: dict[str, int] = {str(i + 1): memory for i in range(versions)}
        self.next_version = versions + 1
        self.unpublished = True  # $LATEST differs from the last published version
        self.update_polls = update_polls  # GetFunctionConfiguration answers InProgress this many times first
        self._pending = 0
        self.calls: Counter = Counter()
        self.invocations: list[tuple[str, int]] = []  # (version, memory) of each invoke
        self.memory_history: list[int] = []  # $LATEST's memory after each UpdateFunctionConfiguration
        self.interrupt_at: int | None = None
        self.fail_at: int | None = None

    def _check(self, function: str) -> None:
        if function != self.name:
            raise UsageError(f"function {function} does not exist", where=function)

    def state(self, function: str):
        self.calls["GetFunctionConfiguration"] += 1
        self._check(function)
        status = "Successful"
        if self._pending:
            self._pending -= 1
            status = "InProgress"
        return FunctionState(self.name, self.memory, self.architecture, status)

    def versions(self, function: str) -> set[str]:
        self.calls["ListVersionsByFunction"] += 1
        self._check(function)
        return set(self.version_memory) | {"$LATEST"}

    def set_memory(self, function: str, memory: int) -> None:
        self.calls["UpdateFunctionConfiguration"] += 1
        self._check(function)
        if memory != self.memory:
            self.unpublished = True
        self.memory = memory
        self.memory_history.append(memory)
        for _ in range(self.update_polls):  # as TuneGateway: poll on the clock until the update is done
            self.clock.sleep(1.0)

    def publish(self, function: str, description: str) -> str:
        self.calls["PublishVersion"] += 1
        self._check(function)
        if not self.unpublished and self.version_memory:
            return str(self.next_version - 1)
        version = str(self.next_version)
        self.next_version += 1
        self.version_memory[version] = self.memory
        self.unpublished = False
        return version

    def invoke(self, function: str, qualifier: str, payload: bytes):
        self.calls["Invoke"] += 1
        self._check(function)
        if self.interrupt_at is not None and self.calls["Invoke"] == self.interrupt_at:
            raise KeyboardInterrupt()
        if self.fail_at is not None and self.calls["Invoke"] == self.fail_at:
            raise CloudError("Invoke failed: ServiceException: injected failure", where=function)
        memory = self.memory if qualifier == "$LATEST" else self.version_memory[qualifier]
        self.invocations.append((qualifier, memory))
        rid = uuid.uuid4().hex
        if memory < self.needs_mb:
            log = (f"START RequestId: {rid} Version: {qualifier}\nRequestId: {rid} Error: Runtime exited with error: "
                   f"signal: killed\nRuntime.OutOfMemory\nEND RequestId: {rid}\nREPORT RequestId: {rid}\t"
                   f"Duration: 50.00 ms\tBilled Duration: 50 ms\tMemory Size: {memory} MB\t"
                   f"Max Memory Used: {memory} MB\t\n")
            return Invocation("Runtime.OutOfMemory", log)
        duration = self.work_ms * max(1.0, 1769 / memory) + self.flat_ms
        self.clock.advance(duration / 1000)
        log = (f"START RequestId: {rid} Version: {qualifier}\nEND RequestId: {rid}\nREPORT RequestId: {rid}\t"
               f"Duration: {duration:.2f} ms\tBilled Duration: {math.ceil(duration)} ms\tMemory Size: {memory} MB\t"
               f"Max Memory Used: {min(memory, self.max_used_mb)} MB\t\n")
        return Invocation(None, log)

    def delete_version(self, function: str, version: str) -> None:
        self.calls["DeleteFunction"] += 1
        self._check(function)
        self.version_memory.pop(version, None)
