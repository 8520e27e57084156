"""Step Functions: run an execution to its end, and the state machine side of the release engine.

* :class:`StatesGateway` wraps a ``stepfunctions`` client: it finds state machines by name, starts and follows
  executions (:func:`run_execution`), and speaks the release engine's gateway protocol
  (:class:`lamctl.release.aws.Lambda`) over a state machine's versions and aliases, so that
  ``lamctl shift --state-machine`` runs the same plans, holds, alarm checks, journal and rollback as a Lambda
  alias. A state machine alias routes to one or two versions with whole-percent weights (Step Functions'
  ``RoutingConfiguration``); the engine's ``(version, {target: weight})`` is the first and second route.
  Step Functions has no conditional alias write: the ``revision_id`` here is the alias's ``updateDate`` and its
  routes, checked just before each write (the release lock keeps other lamctl processes out; a manual change
  between the check and the write is not detected).
* :class:`StateMachineStore` files the journals and locks of state machine aliases apart from those of Lambda
  aliases (a state machine and a function may share a name).
* :func:`state_machine_arn` turns a logical ID of a stack into the state machine's ARN (``--stack``).
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from dataclasses import dataclass
from typing import Any

from lamctl.release.aws import AliasInfo, FunctionConfig, RevisionMismatch, _client_error, _cloud
from lamctl.schemas.errors import CloudError, UsageError, error_code, error_message

STATE_MACHINE = "AWS::StepFunctions::StateMachine"
RUNNING = "RUNNING"
_FAILED_EVENTS = ("TaskFailed", "LambdaFunctionFailed", "ExecutionFailed", "FailStateEntered", "TaskTimedOut",
                  "LambdaFunctionTimedOut", "ExecutionTimedOut", "ExecutionAborted")


@dataclass(frozen=True)
class ExecutionResult:
    arn: str
    status: str  # SUCCEEDED, FAILED, TIMED_OUT, ABORTED (RUNNING when the wait timed out)
    output: Any = None  # the parsed output of a succeeded execution
    error: str | None = None
    cause: str | None = None
    failed_state: str | None = None  # the state that failed the execution, from its history

    @property
    def ok(self) -> bool:
        return self.status == "SUCCEEDED"


def state_machine_arn(gateway: Any, stack: str, logical_id: str) -> str:
    """The ARN of the state machine ``logical_id`` of ``stack`` (a template's logical ID, SAM's
    ``AWS::Serverless::StateMachine`` included). A missing stack or resource, or another type, is a UsageError."""
    import difflib

    if gateway.describe(stack) is None:
        raise UsageError(f"stack {stack} does not exist", where=stack, hint="check --stack (and --region / --local)")
    resources = gateway.resources(stack)
    found = next((r for r in resources if r.logical_id == logical_id), None)
    machines = [r.logical_id for r in resources if r.resource_type == STATE_MACHINE]
    if found is None:
        close = difflib.get_close_matches(logical_id, machines, n=1)
        raise UsageError(f"stack {stack} has no resource {logical_id}", where=stack,
                         hint=(f"did you mean {close[0]}? " if close else "")
                         + "its state machines: " + (", ".join(machines) or "(none)"))
    if found.resource_type != STATE_MACHINE:
        raise UsageError(f"{logical_id} in stack {stack} is a {found.resource_type}, not a state machine",
                         where=stack, hint="name an AWS::StepFunctions::StateMachine (or AWS::Serverless::"
                                           "StateMachine) of the stack: " + (", ".join(machines) or "(none)"))
    if not found.physical_id:
        raise UsageError(f"state machine {logical_id} of stack {stack} has not been created ({found.status})",
                         where=stack, hint=f"see lamctl status --stack {stack}")
    return found.physical_id


def _weight(fraction: float) -> int:
    return int(round(float(fraction) * 100))


class StatesGateway:
    """Step Functions, typed. Names a state machine by its name (or ARN); versions are their numbers."""

    reads_hook_reports = False
    target_flag = "--state-machine"  # how the commands lamctl suggests name the target

    def __init__(self, client: Any, sync_client: Any = None):
        self.client = client
        # StartSyncExecution waits for the end (up to 5 minutes) and must not be sent twice: a client of its own
        self.sync_client = sync_client or client
        self.calls: Counter = Counter()
        self._arns: dict[str, str] = {}

    # ------------------------------------------------------------ state machines

    def arn_of(self, machine: str) -> str:
        """The ARN of a state machine named ``machine`` (an ARN is taken as it is)."""
        if machine.startswith("arn:"):
            return machine
        if machine in self._arns:
            return self._arns[machine]
        names = []
        token = None
        while True:
            self.calls["ListStateMachines"] += 1
            try:
                resp = self.client.list_state_machines(**({"nextToken": token} if token else {}))
            except _client_error() as exc:
                raise _cloud("ListStateMachines", exc, machine) from None
            for item in resp.get("stateMachines", []):
                names.append(item["name"])
                if item["name"] == machine:
                    self._arns[machine] = item["stateMachineArn"]
                    return item["stateMachineArn"]
            token = resp.get("nextToken")
            if not token:
                break
        import difflib

        close = difflib.get_close_matches(machine, names, n=1)
        raise UsageError(f"state machine {machine} does not exist", where=machine,
                         hint=(f"did you mean {close[0]}? " if close else "")
                         + "check the name and the region (--region / --local), or give a logical ID with --stack")

    def start(self, machine: str, input_text: str, name: str | None = None) -> str:
        """Start an execution of a state machine, version or alias ARN; the execution's ARN."""
        arn = self.arn_of(machine)
        self.calls["StartExecution"] += 1
        try:
            return self.client.start_execution(stateMachineArn=arn, input=input_text,
                                               name=name or str(uuid.uuid4()))["executionArn"]
        except _client_error() as exc:
            code = error_code(exc)
            if code in ("StateMachineDoesNotExist", "ResourceNotFound"):
                raise UsageError(f"state machine {machine} does not exist: {error_message(exc)}", where=machine,
                                 hint="check the name, version or alias") from None
            if code == "InvalidExecutionInput":
                raise UsageError(f"the execution input was refused: {error_message(exc)}", where=machine) from None
            raise _cloud("StartExecution", exc, machine) from None

    def machine_type(self, machine: str) -> str:
        """STANDARD or EXPRESS: the type of a state machine (of a version's or an alias's state machine)."""
        base = ":".join(self.arn_of(machine).split(":")[:7])
        self.calls["DescribeStateMachine"] += 1
        try:
            return str(self.client.describe_state_machine(stateMachineArn=base).get("type") or "STANDARD")
        except _client_error() as exc:
            if error_code(exc) in ("StateMachineDoesNotExist", "ResourceNotFound", "InvalidArn"):
                raise UsageError(f"state machine {machine} does not exist: {error_message(exc)}", where=machine,
                                 hint="check the name, version or alias") from None
            raise _cloud("DescribeStateMachine", exc, machine) from None

    def start_sync(self, machine: str, input_text: str, name: str | None = None) -> dict:
        """Run an EXPRESS execution with StartSyncExecution; the answer, once the execution ended."""
        arn = self.arn_of(machine)
        self.calls["StartSyncExecution"] += 1
        try:
            return self.sync_client.start_sync_execution(stateMachineArn=arn, input=input_text,
                                                         name=name or str(uuid.uuid4()))
        except _client_error() as exc:
            code = error_code(exc)
            if code in ("StateMachineDoesNotExist", "ResourceNotFound"):
                raise UsageError(f"state machine {machine} does not exist: {error_message(exc)}", where=machine,
                                 hint="check the name, version or alias") from None
            if code == "InvalidExecutionInput":
                raise UsageError(f"the execution input was refused: {error_message(exc)}", where=machine) from None
            raise _cloud("StartSyncExecution", exc, machine) from None

    def describe_execution(self, execution_arn: str) -> dict:
        self.calls["DescribeExecution"] += 1
        try:
            return self.client.describe_execution(executionArn=execution_arn)
        except _client_error() as exc:
            raise _cloud("DescribeExecution", exc, execution_arn) from None

    def failed_state(self, execution_arn: str) -> tuple[str | None, str | None, str | None]:
        """(the state that failed, its error, its cause), read back from the execution's history."""
        self.calls["GetExecutionHistory"] += 1
        try:
            events = self.client.get_execution_history(executionArn=execution_arn, reverseOrder=True,
                                                       maxResults=100).get("events", [])
        except _client_error():
            return None, None, None
        error = cause = None
        for event in sorted(events, key=lambda e: -int(e.get("id") or 0)):  # the last first, whatever the order
            details = next((v for k, v in event.items() if k.endswith("EventDetails") and isinstance(v, dict)), {})
            if error is None and event.get("type") in _FAILED_EVENTS and details.get("error"):
                error, cause = details.get("error"), details.get("cause")
            if event.get("type", "").endswith("StateEntered") and details.get("name"):
                return details["name"], error, cause
        return None, error, cause

    # ------------------------------------------------------------ the release engine's protocol

    def get_function_config(self, machine: str, qualifier: str = "$LATEST") -> FunctionConfig:
        arn = self.arn_of(machine)
        target = arn if qualifier in (None, "", "$LATEST") else f"{arn}:{qualifier}"
        self.calls["DescribeStateMachine"] += 1
        try:
            resp = self.client.describe_state_machine(stateMachineArn=target)
        except _client_error() as exc:
            if error_code(exc) in ("StateMachineDoesNotExist", "ResourceNotFound", "InvalidArn"):
                name = machine if qualifier in (None, "", "$LATEST") else f"{machine} version {qualifier}"
                raise UsageError(f"state machine {name} does not exist", where=machine,
                                 hint="check the name and the region, or publish a version first") from None
            raise _cloud("DescribeStateMachine", exc, machine) from None
        version = "$LATEST" if qualifier in (None, "", "$LATEST") else str(qualifier)
        # a state machine alias may route between versions with different roles: nothing to compare
        return FunctionConfig(name=resp.get("name", machine), version=version, role=None, dead_letter=None,
                              description=resp.get("description"))

    def publish_version(self, machine: str, description: str = "") -> FunctionConfig:
        arn = self.arn_of(machine)
        self.calls["PublishStateMachineVersion"] += 1
        kwargs: dict[str, Any] = {"stateMachineArn": arn}
        if description:
            kwargs["description"] = description
        try:
            resp = self.client.publish_state_machine_version(**kwargs)
        except _client_error() as exc:
            raise _cloud("PublishStateMachineVersion", exc, machine) from None
        version = resp["stateMachineVersionArn"].rsplit(":", 1)[1]
        return FunctionConfig(name=machine, version=version, role=None, dead_letter=None, description=description)

    def _describe_alias(self, machine: str, alias: str) -> dict | None:
        self.calls["DescribeStateMachineAlias"] += 1
        try:
            return self.client.describe_state_machine_alias(stateMachineAliasArn=f"{self.arn_of(machine)}:{alias}")
        except _client_error() as exc:
            if error_code(exc) in ("ResourceNotFound", "StateMachineDoesNotExist"):
                return None
            raise _cloud("DescribeStateMachineAlias", exc, f"{machine}:{alias}") from None

    @staticmethod
    def _info(alias: str, resp: dict) -> AliasInfo:
        routes = resp.get("routingConfiguration") or []
        version = str(routes[0]["stateMachineVersionArn"]).rsplit(":", 1)[1]
        weights = {str(r["stateMachineVersionArn"]).rsplit(":", 1)[1]: int(r["weight"]) / 100.0
                   for r in routes[1:]}
        revision = json.dumps([str(resp.get("updateDate") or resp.get("creationDate") or ""),
                               [[r["stateMachineVersionArn"], int(r["weight"])] for r in routes]])
        return AliasInfo(name=alias, version=version, weights=weights, revision_id=revision)

    def get_alias(self, machine: str, alias: str) -> AliasInfo | None:
        resp = self._describe_alias(machine, alias)
        return None if resp is None else self._info(alias, resp)

    def _routes(self, machine: str, version: str, weights: dict[str, float]) -> list[dict]:
        arn = self.arn_of(machine)
        extra = {v: _weight(w) for v, w in weights.items() if _weight(w) > 0}
        if not extra:
            return [{"stateMachineVersionArn": f"{arn}:{version}", "weight": 100}]
        (other, weight), = extra.items()
        return [{"stateMachineVersionArn": f"{arn}:{version}", "weight": 100 - weight},
                {"stateMachineVersionArn": f"{arn}:{other}", "weight": weight}]

    def create_alias(self, machine: str, alias: str, version: str) -> AliasInfo:
        self.calls["CreateStateMachineAlias"] += 1
        try:
            self.client.create_state_machine_alias(name=alias, routingConfiguration=self._routes(machine, version, {}))
        except _client_error() as exc:
            raise _cloud("CreateStateMachineAlias", exc, f"{machine}:{alias}") from None
        info = self.get_alias(machine, alias)
        if info is None:
            raise CloudError(f"alias {machine}:{alias} was not found after it was created", where=f"{machine}:{alias}")
        return info

    def update_alias(self, machine: str, alias: str, version: str, weights: dict[str, float],
                     revision_id: str | None) -> AliasInfo:
        if revision_id:
            now = self.get_alias(machine, alias)
            if now is None or now.revision_id != revision_id:
                raise RevisionMismatch(f"alias {machine}:{alias} was changed by someone else since lamctl read it",
                                       where=f"{machine}:{alias}",
                                       hint="lamctl did not overwrite it; look at the alias, then shift again")
        self.calls["UpdateStateMachineAlias"] += 1
        try:
            self.client.update_state_machine_alias(stateMachineAliasArn=f"{self.arn_of(machine)}:{alias}",
                                                   routingConfiguration=self._routes(machine, version, weights))
        except _client_error() as exc:
            raise _cloud("UpdateStateMachineAlias", exc, f"{machine}:{alias}") from None
        info = self.get_alias(machine, alias)
        if info is None:
            raise CloudError(f"alias {machine}:{alias} is gone", where=f"{machine}:{alias}")
        return info

    def delete_alias(self, machine: str, alias: str) -> None:
        self.calls["DeleteStateMachineAlias"] += 1
        try:
            self.client.delete_state_machine_alias(stateMachineAliasArn=f"{self.arn_of(machine)}:{alias}")
        except _client_error() as exc:
            if error_code(exc) not in ("ResourceNotFound", "StateMachineDoesNotExist"):
                raise _cloud("DeleteStateMachineAlias", exc, f"{machine}:{alias}") from None

    def invoke(self, function: str, payload: dict, timeout: float | None = None) -> Any:
        raise UsageError("a state machine release takes no traffic hooks", where=function,
                         hint="drop --before-hook / --after-hook; watch it with --alarm")


def run_execution(gateway: StatesGateway, clock: Any, machine: str, input_text: str, name: str | None = None,
                  timeout: float | None = None, poll_seconds: float = 0.2) -> ExecutionResult:
    """Start an execution and wait for its end on ``clock`` (``timeout`` seconds at most: then the result is
    RUNNING); a failed one carries the error, the cause and the state that failed.

    An EXPRESS state machine's execution runs with StartSyncExecution, which answers when it ends (Step
    Functions answers no DescribeExecution nor GetExecutionHistory for EXPRESS executions): ``timeout`` does not
    apply (Express stops an execution after 5 minutes) and the state that failed is not known."""
    if gateway.machine_type(machine) == "EXPRESS":
        return _sync_result(gateway.start_sync(machine, input_text, name))
    arn = gateway.start(machine, input_text, name)
    started = clock.now()
    while True:
        resp = gateway.describe_execution(arn)
        status = str(resp.get("status") or RUNNING)
        if status != RUNNING:
            break
        if timeout is not None and clock.now() - started >= timeout:
            return ExecutionResult(arn, RUNNING)
        clock.sleep(poll_seconds)
    if status == "SUCCEEDED":
        text = resp.get("output")
        try:
            output = json.loads(text) if text is not None else None
        except ValueError:
            output = text
        return ExecutionResult(arn, status, output=output)
    state, error, cause = gateway.failed_state(arn)
    return ExecutionResult(arn, status, error=resp.get("error") or error, cause=resp.get("cause") or cause,
                           failed_state=state)


def _sync_result(resp: dict) -> ExecutionResult:
    status = str(resp.get("status") or "FAILED")
    arn = str(resp.get("executionArn") or "")
    if status == "SUCCEEDED":
        text = resp.get("output")
        try:
            output = json.loads(text) if text is not None else None
        except ValueError:
            output = text
        return ExecutionResult(arn, status, output=output)
    return ExecutionResult(arn, status, error=resp.get("error"), cause=resp.get("cause"))


class StateMachineStore:
    """An object store whose release keys (``lamctl/releases/...``) live under ``lamctl/releases/@states/``:
    the journals and locks of state machine aliases, apart from those of Lambda aliases (``@`` is in no
    Lambda function name)."""

    PREFIX = "lamctl/releases/"
    INNER = "lamctl/releases/@states/"
    target_flag = "--state-machine"  # how the lock's hints name the target

    def __init__(self, store: Any):
        self.store = store
        # what a journal's location is shown as (Journal.where: ``where`` + the key less ``strip_prefix``)
        inner = self.INNER
        outer_strip = getattr(store, "strip_prefix", "") or ""
        self.strip_prefix = self.PREFIX
        self.where = store.where + (inner[len(outer_strip):] if inner.startswith(outer_strip) else inner)

    def _key(self, key: str) -> str:
        return self.INNER + key[len(self.PREFIX):] if key.startswith(self.PREFIX) else key

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.store, name)
        if not callable(attr):
            return attr

        def keyed(key: str, *args: Any, **kwargs: Any) -> Any:
            return attr(self._key(key), *args, **kwargs)
        return keyed
