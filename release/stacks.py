"""Stack deploys: a typed gateway over CloudFormation, and the deployer that drives change sets.

::

    StackGateway (the only code here that talks to CloudFormation)
        describe / template_body / resources / events
        create_change_set / describe_change_set / execute_change_set / delete_change_set / delete_stack

    StackDeployer(gateway, clock, listener)
        settle(stack)            read only: wait while another operation runs (never start a second one)
        plan(request, existing)  read only: CREATE or UPDATE, parameters, capabilities, template route
        deploy(plan)             the writer, in this order:
          create_change_set(plan)  (delete a ROLLBACK_COMPLETE stack,) upload a large template,
                                   create the change set and wait until it is ready
          listener.change_set/confirm   show it, ask
          execute(cs, plan)        execute it, stream events until a terminal state, report outputs
                                   (on the local cloud also skipped resources, and a failed creation
                                   is deleted as CloudFormation would roll it back)
          discard(cs, plan)        instead, when it holds no changes, is refused or is declined
        delete(stack)            delete and follow until DELETE_COMPLETE

All waiting goes through the injected :class:`~lamctl.release.clock.Clock`;
tests pass a ``FakeClock`` and :class:`~lamctl.release.fakes.FakeCloudFormation` (same protocol) for the
states the emulator cannot produce (rollbacks, operations in progress).
Parameters and capabilities are computed by :mod:`lamctl.release.stack_params`.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import re
import secrets
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Iterable, Protocol

from lamctl.schemas.errors import (CloudError, ConflictError, LamctlError, LimitError, UsageError, error_code,
                                   error_message)

# CloudFormation quotas (docs/architecture.md, facts of the platform).
TEMPLATE_BODY_LIMIT = 51_200
TEMPLATE_URL_LIMIT = 1_048_576

NO_CHANGES_MARKERS = (
    "didn't contain changes",
    "No updates are to be performed",
    "No updates to be performed",
)

SUCCESS_STATES = {"CREATE_COMPLETE", "UPDATE_COMPLETE", "IMPORT_COMPLETE"}
# States a stack can be updated from.
UPDATABLE_STATES = SUCCESS_STATES | {"UPDATE_ROLLBACK_COMPLETE", "IMPORT_ROLLBACK_COMPLETE"}

EXIT_INTERRUPTED = 130


def is_in_progress(status: str) -> bool:
    return status.endswith("_IN_PROGRESS") and status != "REVIEW_IN_PROGRESS"


def is_failed_status(status: str) -> bool:
    return status.endswith("_FAILED") or "ROLLBACK" in status


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class StackOutput:
    key: str
    value: str
    description: str | None = None
    export_name: str | None = None


@dataclass(frozen=True)
class StackInfo:
    name: str
    stack_id: str
    status: str
    status_reason: str | None = None
    parameters: dict[str, str] = field(default_factory=dict)
    outputs: tuple[StackOutput, ...] = ()
    capabilities: tuple[str, ...] = ()
    tags: dict[str, str] = field(default_factory=dict)
    created: str | None = None
    updated: str | None = None

    @property
    def in_progress(self) -> bool:
        return is_in_progress(self.status)


@dataclass(frozen=True)
class StackEvent:
    event_id: str
    timestamp: str  # ISO 8601, UTC
    logical_id: str
    resource_type: str
    status: str
    reason: str | None = None
    physical_id: str | None = None

    @property
    def is_stack(self) -> bool:
        return self.resource_type == "AWS::CloudFormation::Stack"


@dataclass(frozen=True)
class ResourceChange:
    action: str  # Add, Modify, Remove, Import, Dynamic
    logical_id: str
    resource_type: str
    replacement: str | None = None  # True, False, Conditional (Modify only)
    physical_id: str | None = None


@dataclass(frozen=True)
class ChangeSetInfo:
    name: str
    arn: str
    stack_id: str
    status: str
    execution_status: str | None = None
    status_reason: str | None = None
    changes: tuple[ResourceChange, ...] = ()

    @property
    def no_changes(self) -> bool:
        return self.status == "FAILED" and _is_no_changes(self.status_reason or "")


@dataclass(frozen=True)
class StackResource:
    logical_id: str
    resource_type: str
    status: str
    physical_id: str | None = None


def _is_no_changes(text: str) -> bool:
    return any(marker in text for marker in NO_CHANGES_MARKERS)


class NoChanges(LamctlError):
    """Raised by the gateway when CloudFormation refuses a change set because nothing changed."""


class OperationInterrupted(LamctlError):
    """Ctrl-C while lamctl was waiting: the stack operation itself goes on in CloudFormation."""

    exit_code = EXIT_INTERRUPTED


# --------------------------------------------------------------------------- gateway


class StackGatewayProtocol(Protocol):
    def describe(self, stack: str) -> StackInfo | None: ...
    def template_body(self, stack: str, change_set: str | None = None) -> str | None: ...
    def resources(self, stack: str) -> list[StackResource]: ...
    def events(self, stack: str, after: str | None = None, limit: int | None = None) -> list[StackEvent]: ...
    def create_change_set(self, **kwargs: Any) -> tuple[str, str]: ...
    def describe_change_set(self, arn: str, stack: str | None = None) -> ChangeSetInfo: ...
    def execute_change_set(self, arn: str, disable_rollback: bool = False) -> None: ...
    def delete_change_set(self, arn: str) -> None: ...
    def delete_stack(self, stack: str) -> None: ...


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, _dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(_dt.timezone.utc).replace(tzinfo=None)
        return value.isoformat(timespec="milliseconds") + "Z"
    return str(value)


def _cloud_error(exc: Exception, action: str, stack: str | None = None) -> LamctlError:
    """Translate a botocore failure into lamctl's error tree."""
    code = error_code(exc)
    if code or error_message(exc):  # the service answered (a botocore ClientError)
        message = error_message(exc) or str(exc)
        if _is_no_changes(message):
            return NoChanges(message)
        if code in ("ExpiredToken", "ExpiredTokenException", "InvalidClientTokenId", "UnrecognizedClientException"):
            from lamctl.schemas.errors import CredentialsError

            return CredentialsError(f"{action}: {message}", hint="refresh your AWS credentials (aws sso login?)")
        if code in ("AccessDenied", "AccessDeniedException"):
            return CloudError(f"{action}: access denied: {message}",
                              hint="the credentials in use need cloudformation:* on this stack (and s3 for artifacts)",
                              where=stack)
        if code == "InsufficientCapabilitiesException":
            return UsageError(f"{action}: {message}",
                              hint="pass --capabilities CAPABILITY_IAM (or CAPABILITY_NAMED_IAM, CAPABILITY_AUTO_EXPAND)",
                              where=stack)
        if code == "LimitExceededException":
            return CloudError(f"{action}: {message}", hint="a CloudFormation account quota was reached", where=stack)
        return CloudError(f"{action}: {message}" + (f" ({code})" if code else ""), where=stack)
    text = str(exc)
    # An emulator answering in the wrong wire format: dig its message out of the body.
    m = re.search(r"\"message\":\s*\"((?:[^\"\\]|\\.)*)\"", text)
    if m and "Unable to parse response" in text:
        return CloudError(f"{action}: {m.group(1)}", where=stack)
    if "Unable to parse response" in text and "Internal Server Error" in text:
        return CloudError(f"{action}: the service failed with an internal error (HTTP 500)", where=stack,
                          hint="on the local cloud this usually means a resource type or property it does not "
                               "emulate; its log is named by lamctl local status")
    if "Unable to parse response" in text:
        return CloudError(f"{action}: the answer could not be read (it is not in CloudFormation's format)",
                          where=stack, hint="check --endpoint-url (or AWS_ENDPOINT_URL): it must be CloudFormation's "
                                            "or the local cloud's; on the local cloud, its log (named by lamctl local "
                                            "status) says what failed")
    if "Could not connect" in text or "Connect timeout" in text:
        return CloudError(f"{action}: cannot reach CloudFormation: {text}",
                          hint="check the network, --endpoint-url, or that the local cloud is running", where=stack)
    return CloudError(f"{action}: {text}", where=stack)


def long_form_get_att(value: Any) -> Any:
    """``value`` with every short-form ``{"Fn::GetAtt": "Resource.Attribute"}`` in the list form
    ``["Resource", "Attribute"]`` (split at the first dot: ``DB.Endpoint.Address`` is ``DB``'s ``Endpoint.Address``).
    CloudFormation accepts both; the local cloud reads only the list form, so a deploy sends that one."""
    if isinstance(value, list):
        return [long_form_get_att(v) for v in value]
    if not isinstance(value, dict):
        return value
    out = {k: long_form_get_att(v) for k, v in value.items()}
    target = out.get("Fn::GetAtt")
    if len(out) == 1 and isinstance(target, str) and "." in target.strip("."):
        resource, attribute = target.split(".", 1)
        out["Fn::GetAtt"] = [resource, attribute]
    return out


LAMBDA_FUNCTION = "AWS::Lambda::Function"
# In every value the local cloud gives a resource it does not create (its physical ID, its attributes), so that a
# deploy can say which resources and outputs are placeholders (lamctl.local.cloud.models.PlaceholderResource).
PLACEHOLDER_MARK = "lamctl-placeholder"


def function_name(gateway: StackGatewayProtocol, stack: str, logical_id: str) -> str:
    """The physical name of the function ``logical_id`` of ``stack`` (a template's logical ID, SAM's
    ``AWS::Serverless::Function`` included; ``App/Fn`` is ``Fn`` of the nested stack ``App``, at any depth),
    for commands taking ``--stack``. A missing stack, a missing
    resource (with the stack's functions and the closest one) or another type is a UsageError."""
    import difflib

    if gateway.describe(stack) is None:
        raise UsageError(f"stack {stack} does not exist", where=stack, hint="check --stack (and --region / --local)")
    resources = gateway.resources(stack)
    if "/" in logical_id:  # App/Fn: the function Fn of the nested stack App (an AWS::Serverless::Application)
        outer, inner = logical_id.split("/", 1)
        nested = next((r for r in resources if r.logical_id == outer), None)
        if nested is None or nested.resource_type != "AWS::CloudFormation::Stack" or not nested.physical_id:
            apps = [r.logical_id for r in resources if r.resource_type == "AWS::CloudFormation::Stack"]
            raise UsageError(f"stack {stack} has no nested stack {outer}" if nested is None or nested.resource_type
                             != "AWS::CloudFormation::Stack" else f"nested stack {outer} of {stack} has not been "
                             f"created ({nested.status})", where=stack,
                             hint="its nested stacks: " + (", ".join(apps) or "(none)"))
        return function_name(gateway, nested.physical_id, inner)
    found = next((r for r in resources if r.logical_id == logical_id), None)
    if found is None:
        functions = [r.logical_id for r in resources if r.resource_type == LAMBDA_FUNCTION]
        close = difflib.get_close_matches(logical_id, functions, n=1)
        apps = [r.logical_id for r in resources if r.resource_type == "AWS::CloudFormation::Stack"]
        raise UsageError(f"stack {stack} has no resource {logical_id}", where=stack,
                         hint=(f"did you mean {close[0]}? " if close else "")
                         + "its functions: " + (", ".join(functions) or "(none)")
                         + (f"; a function of a nested stack is NESTED/FUNCTION (nested: {', '.join(apps)})"
                            if apps else ""))
    if found.resource_type != LAMBDA_FUNCTION:
        raise UsageError(f"{logical_id} in stack {stack} is a {found.resource_type}, not a function", where=stack,
                         hint="name an AWS::Lambda::Function (or AWS::Serverless::Function) of the stack")
    if not found.physical_id:
        raise UsageError(f"function {logical_id} of stack {stack} has not been created ({found.status})",
                         where=stack, hint=f"see lamctl status --stack {stack}")
    return found.physical_id


class StackGateway:
    """CloudFormation, typed: takes a boto3 client, returns dataclasses, raises lamctl errors."""

    def __init__(self, client: Any):
        self.client = client

    def _call(self, action: str, method: str, stack: str | None = None, **kwargs: Any) -> dict:
        try:
            return getattr(self.client, method)(**kwargs)
        except LamctlError:
            raise
        except Exception as exc:  # botocore's ClientError / BotoCoreError and friends
            raise _cloud_error(exc, action, stack) from None

    # -- reads
    def describe(self, stack: str) -> StackInfo | None:
        try:
            resp = self._call(f"describe stack {stack}", "describe_stacks", stack, StackName=stack)
        except CloudError as exc:
            if "does not exist" in exc.message:
                return None
            raise
        stacks = resp.get("Stacks") or []
        if not stacks:
            return None
        s = stacks[0]
        return StackInfo(
            name=s["StackName"],
            stack_id=s["StackId"],
            status=s["StackStatus"],
            status_reason=s.get("StackStatusReason"),
            parameters={p["ParameterKey"]: p.get("ParameterValue", "") for p in s.get("Parameters") or []},
            outputs=tuple(StackOutput(o["OutputKey"], o.get("OutputValue", ""), o.get("Description"),
                                      o.get("ExportName")) for o in s.get("Outputs") or []),
            capabilities=tuple(s.get("Capabilities") or ()),
            tags={t["Key"]: t["Value"] for t in s.get("Tags") or []},
            created=_iso(s.get("CreationTime")),
            updated=_iso(s.get("LastUpdatedTime")),
        )

    def template_body(self, stack: str, change_set: str | None = None) -> str | None:
        """The stack's template, or with ``change_set`` (an ARN) the template that change set deploys."""
        kwargs: dict[str, Any] = {"StackName": stack}
        if change_set:
            kwargs["ChangeSetName"] = change_set
        resp = self._call(f"get the template of {stack}", "get_template", stack, **kwargs)
        body = resp.get("TemplateBody")
        if body is None:
            return None
        return body if isinstance(body, str) else json.dumps(body)

    def resources(self, stack: str) -> list[StackResource]:
        out: list[StackResource] = []
        token = None
        while True:
            kwargs: dict[str, Any] = {"StackName": stack}
            if token:
                kwargs["NextToken"] = token
            resp = self._call(f"list the resources of {stack}", "list_stack_resources", stack, **kwargs)
            for r in resp.get("StackResourceSummaries") or []:
                if not r.get("LogicalResourceId"):
                    continue  # the emulator lists a blank entry for each resource type it skipped
                out.append(StackResource(r["LogicalResourceId"], r.get("ResourceType", ""),
                                         r.get("ResourceStatus", ""), r.get("PhysicalResourceId")))
            token = resp.get("NextToken")
            if not token:
                return out

    def events(self, stack: str, after: str | None = None, limit: int | None = None) -> list[StackEvent]:
        """Events newer than the event ``after`` (all when None), oldest first; at most ``limit``, the newest."""
        newest_first: list[StackEvent] = []
        token = None
        while True:
            kwargs: dict[str, Any] = {"StackName": stack}
            if token:
                kwargs["NextToken"] = token
            resp = self._call(f"read the events of {stack}", "describe_stack_events", stack, **kwargs)
            for e in resp.get("StackEvents") or []:
                if after is not None and e["EventId"] == after:
                    return list(reversed(newest_first))
                newest_first.append(StackEvent(
                    event_id=e["EventId"],
                    timestamp=_iso(e.get("Timestamp")) or "",
                    logical_id=e.get("LogicalResourceId", ""),
                    resource_type=e.get("ResourceType", ""),
                    status=e.get("ResourceStatus", ""),
                    reason=e.get("ResourceStatusReason"),
                    physical_id=e.get("PhysicalResourceId"),
                ))
                if limit is not None and after is None and len(newest_first) >= limit:
                    return list(reversed(newest_first))
            token = resp.get("NextToken")
            if not token:
                return list(reversed(newest_first))

    def describe_change_set(self, arn: str, stack: str | None = None) -> ChangeSetInfo:
        """The change set ``arn`` (or its name, with the ``stack`` it belongs to)."""
        changes: list[ResourceChange] = []
        token = None
        while True:
            kwargs: dict[str, Any] = {"ChangeSetName": arn}
            if stack:
                kwargs["StackName"] = stack
            if token:
                kwargs["NextToken"] = token
            resp = self._call("describe the change set", "describe_change_set", None, **kwargs)
            for c in resp.get("Changes") or []:
                rc = c.get("ResourceChange") or {}
                if not rc:
                    continue
                changes.append(ResourceChange(
                    action=rc.get("Action", ""),
                    logical_id=rc.get("LogicalResourceId", ""),
                    resource_type=rc.get("ResourceType", ""),
                    replacement=rc.get("Replacement"),
                    physical_id=rc.get("PhysicalResourceId"),
                ))
            token = resp.get("NextToken")
            if not token:
                break
        return ChangeSetInfo(
            name=resp.get("ChangeSetName", ""),
            arn=resp.get("ChangeSetId", arn),
            stack_id=resp.get("StackId", ""),
            status=resp.get("Status", ""),
            execution_status=resp.get("ExecutionStatus"),
            status_reason=resp.get("StatusReason"),
            changes=tuple(changes),
        )

    # -- writes
    def create_change_set(self, *, stack: str, name: str, change_set_type: str, template_body: str | None = None,
                          template_url: str | None = None, parameters: Iterable[dict] = (),
                          capabilities: Iterable[str] = (), tags: dict[str, str] | None = None,
                          description: str | None = None, on_stack_failure: str | None = None) -> tuple[str, str]:
        kwargs: dict[str, Any] = {"StackName": stack, "ChangeSetName": name, "ChangeSetType": change_set_type}
        # Empty lists are left out: an empty Tags value would strip the tags a stack already has.
        if parameters := list(parameters):
            kwargs["Parameters"] = parameters
        if capabilities := list(capabilities):
            kwargs["Capabilities"] = capabilities
        if tags:
            kwargs["Tags"] = [{"Key": k, "Value": v} for k, v in tags.items()]
        if template_url:
            kwargs["TemplateURL"] = template_url
        else:
            kwargs["TemplateBody"] = template_body
        if description:
            kwargs["Description"] = description
        if on_stack_failure and change_set_type == "CREATE":
            kwargs["OnStackFailure"] = on_stack_failure
        resp = self._call(f"create a change set for {stack}", "create_change_set", stack, **kwargs)
        return resp["Id"], resp.get("StackId", "")

    def execute_change_set(self, arn: str, disable_rollback: bool = False) -> None:
        kwargs: dict[str, Any] = {"ChangeSetName": arn}
        if disable_rollback:
            kwargs["DisableRollback"] = True
        self._call("execute the change set", "execute_change_set", None, **kwargs)

    def delete_change_set(self, arn: str) -> None:
        self._call("delete the change set", "delete_change_set", None, ChangeSetName=arn)

    def delete_stack(self, stack: str) -> None:
        self._call(f"delete stack {stack}", "delete_stack", stack, StackName=stack)


# --------------------------------------------------------------------------- plan


@dataclass(frozen=True)
class ParameterChoice:
    """One template parameter as the change set will receive it."""

    key: str
    value: str | None  # None when the previous value or the default is used
    source: str  # "override", "previous", "default"
    no_echo: bool = False

    def to_api(self) -> dict | None:
        if self.source == "override":
            return {"ParameterKey": self.key, "ParameterValue": self.value}
        if self.source == "previous":
            return {"ParameterKey": self.key, "UsePreviousValue": True}
        return None

    @property
    def shown(self) -> str:
        if self.source == "previous":
            return "(previous value)"
        if self.source == "default":
            return "(default)"
        return "****" if self.no_echo else str(self.value)


@dataclass(frozen=True)
class TemplateUpload:
    bucket: str
    key: str
    url: str


@dataclass(frozen=True)
class DeployRequest:
    stack: str
    template: dict  # plain CloudFormation, after the transform
    template_body: str
    parameters: tuple[Any, ...] = ()  # ParameterOverride from stack_params, in order of precedence (last wins)
    tags: dict[str, str] = field(default_factory=dict)
    capabilities: tuple[str, ...] | None = None  # None: infer
    on_failure: str = "ROLLBACK"
    s3_bucket: str | None = None
    s3_prefix: str | None = None
    region: str = "us-east-1"
    recreate: bool = False  # delete a ROLLBACK_COMPLETE stack and create it again
    description: str | None = None


@dataclass(frozen=True)
class StackPlan:
    stack: str
    change_set_type: str  # CREATE or UPDATE
    stack_id: str | None
    status: str | None  # the stack's status when planned (None: does not exist)
    recreate: bool
    parameters: tuple[ParameterChoice, ...]
    capabilities: tuple[str, ...]
    capabilities_inferred: bool
    tags: dict[str, str]
    template_bytes: int
    template_body: str = field(repr=False)
    upload: TemplateUpload | None
    on_failure: str
    declared_outputs: tuple[str, ...] = ()
    declared_resources: tuple[tuple[str, str, bool], ...] = ()  # (logical id, type, has a Condition)
    description: str | None = None


@dataclass(frozen=True)
class DeployResult:
    stack: str
    status: str  # final stack status, or "NO_CHANGES", "CHANGE_SET_CREATED", "CANCELLED"
    ok: bool
    change_set: ChangeSetInfo | None = None
    outputs: tuple[StackOutput, ...] = ()
    outputs_unavailable: tuple[str, ...] = ()
    skipped: tuple[tuple[str, str], ...] = ()  # (logical id, type) the cloud did not create
    placeholders: tuple[str, ...] = ()  # of those, the ones standing in with placeholder values (local cloud)
    failure: StackEvent | None = None
    stack_id: str | None = None
    events: tuple[StackEvent, ...] = ()
    notes: tuple[str, ...] = ()


class Listener:
    """What the deployer tells its caller while it works. The CLI renders; tests record."""

    def progress(self, message: str, **data: Any) -> None:
        pass

    def stack_event(self, event: StackEvent) -> None:
        pass

    def change_set(self, change_set: ChangeSetInfo, plan: StackPlan) -> None:
        pass

    def confirm(self, change_set: ChangeSetInfo, plan: StackPlan) -> bool:
        """Execute this change set? The CLI asks on a TTY and answers yes otherwise."""
        return True


class TemplateStore(Protocol):
    def put_template(self, bucket: str, key: str, body: bytes) -> None: ...


def template_url(bucket: str, key: str, region: str) -> str:
    suffix = ".amazonaws.com.cn" if region.startswith("cn-") else ".amazonaws.com"
    return f"https://s3.{region}{suffix}/{bucket}/{key}"


def terminal_explanation(stack: str, status: str, reason: str | None = None) -> tuple[str, str]:
    """(message, hint) for a stack that cannot be updated as it stands."""
    if status == "ROLLBACK_COMPLETE":
        return (f"stack {stack} is in ROLLBACK_COMPLETE: its first creation failed and was rolled back, "
                "so it cannot be updated",
                f"run again with --yes to delete it and create it again, or delete it: lamctl delete --stack {stack}")
    if status == "UPDATE_ROLLBACK_FAILED":
        return (f"stack {stack} is in UPDATE_ROLLBACK_FAILED: an update failed and so did its rollback"
                + (f" ({reason})" if reason else ""),
                "fix the resource named in `lamctl status --stack " + stack + "` (often changed outside "
                "CloudFormation), then continue the rollback: aws cloudformation continue-update-rollback "
                f"--stack-name {stack} (add --resources-to-skip LOGICAL_ID for a resource that cannot be restored); "
                "deploy again once it reaches UPDATE_ROLLBACK_COMPLETE")
    if status == "ROLLBACK_FAILED":
        return (f"stack {stack} is in ROLLBACK_FAILED: its creation failed and the rollback could not delete "
                "every resource", f"delete it (lamctl delete --stack {stack}), fixing or retaining the resources "
                "that block the deletion")
    if status == "DELETE_FAILED":
        return (f"stack {stack} is in DELETE_FAILED: a deletion did not finish",
                f"delete it again (lamctl delete --stack {stack}); resources that cannot be deleted can be retained "
                "with aws cloudformation delete-stack --retain-resources")
    if status in ("CREATE_FAILED", "UPDATE_FAILED", "IMPORT_ROLLBACK_FAILED"):
        return (f"stack {stack} is in {status}, with rollback disabled",
                f"fix the failing resource and deploy again, or roll back: aws cloudformation rollback-stack "
                f"--stack-name {stack}")
    return (f"stack {stack} is in {status} and cannot be updated", f"see lamctl status --stack {stack}")


def first_failure(events: Iterable[StackEvent], stack: str | None = None) -> StackEvent | None:
    """The event that explains a failed operation: the earliest resource *_FAILED with a reason that is
    not a knock-on cancellation; else the stack's own failure."""
    events = list(events)
    fallback = None
    for ev in events:
        if not ev.status.endswith("_FAILED"):
            continue
        reason = ev.reason or ""
        if ev.is_stack or (stack and ev.logical_id == stack):
            fallback = fallback or ev
            continue
        if "cancelled" in reason.lower() and "Resource" in reason:
            fallback = fallback or ev
            continue
        return ev
    if fallback is not None:
        return fallback
    for ev in events:  # a rollback with no *_FAILED resource event: the reason on ROLLBACK_IN_PROGRESS
        if ev.status in ("ROLLBACK_IN_PROGRESS", "UPDATE_ROLLBACK_IN_PROGRESS") and ev.reason:
            return ev
    return None


class NestedEvents:
    """The events of a stack's nested stacks (``AWS::CloudFormation::Stack`` resources, SAM's
    ``AWS::Serverless::Application``), reported with the parent's: each under ``<Nested>/<LogicalId>``
    (``<Nested>`` for the nested stack itself), deeper levels likewise, and only those of this operation
    (from the parent's first event on). Nested stacks are found from the parent's events as they come; at
    the end also from its resources (the local cloud reports no resource events)."""

    def __init__(self, gateway: StackGatewayProtocol, listener: Any):
        self.gw = gateway
        self.listener = listener
        self.labels: dict[str, str] = {}  # nested stack ID -> its label (logical IDs joined with /)
        self.seen: dict[str, str | None] = {}  # nested stack ID -> its last event reported
        self.since = ""  # the timestamp of the operation's first event

    def saw(self, ev: StackEvent, stack_ref: str, label: str = "") -> None:
        if not label and not self.since and ev.timestamp:
            self.since = ev.timestamp
        if ev.resource_type != "AWS::CloudFormation::Stack" or not (ev.physical_id or "").startswith("arn:"):
            return
        if ev.physical_id == stack_ref or ev.logical_id == _stack_name(stack_ref):
            return  # the stack itself
        self.labels.setdefault(ev.physical_id, f"{label}/{ev.logical_id}" if label else ev.logical_id)

    def follow(self) -> None:
        for stack_id in list(self.labels):
            label = self.labels[stack_id]
            try:
                events = self.gw.events(stack_id, after=self.seen.get(stack_id))
            except CloudError:
                continue  # not visible yet (or gone): the next poll tries again
            for ev in events:
                self.seen[stack_id] = ev.event_id
                if self.since and ev.timestamp and ev.timestamp < self.since:
                    continue  # from an earlier operation
                own = ev.physical_id == stack_id or ev.logical_id == _stack_name(stack_id)
                self.listener.stack_event(replace(ev, logical_id=label if own else f"{label}/{ev.logical_id}"))
                if not own:
                    self.saw(ev, stack_id, label)

    def finish(self, stack_ref: str) -> None:
        """Find the nested stacks among the resources (recursively), then report what is left."""
        todo = [(stack_ref, "")]
        while todo:
            ref, label = todo.pop()
            try:
                resources = self.gw.resources(ref)
            except CloudError:
                continue
            for r in resources:
                if r.resource_type == "AWS::CloudFormation::Stack" and (r.physical_id or "").startswith("arn:"):
                    child = f"{label}/{r.logical_id}" if label else r.logical_id
                    self.labels.setdefault(r.physical_id, child)
                    todo.append((r.physical_id, self.labels[r.physical_id]))
        self.follow()


def _stack_name(stack_ref: str) -> str:
    return stack_ref.split("/")[1] if stack_ref.startswith("arn:") and "/" in stack_ref else stack_ref


class StackDeployer:
    """Plan, then execute, a stack deploy through change sets. Every wait goes through ``clock``."""

    def __init__(self, gateway: StackGatewayProtocol, clock: Any, listener: Listener | None = None, *,
                 store: TemplateStore | None = None, emulator: bool = False, wait_timeout: float = 3600.0,
                 poll: float = 5.0, change_set_poll: float = 2.0):
        self.gw = gateway
        self.clock = clock
        self.listener = listener or Listener()
        self.store = store
        self.emulator = emulator
        self.wait_timeout = wait_timeout
        self.poll = poll
        self.change_set_poll = change_set_poll

    # ----------------------------------------------------------------- settle
    def settle(self, stack: str) -> StackInfo | None:
        """The stack as it stands, after waiting out an operation already in progress (never start a second)."""
        info = self.gw.describe(stack)
        if info is None or not info.in_progress:
            return info
        started = self.clock.now()
        self.listener.progress(f"stack {stack} is busy ({info.status}); waiting for that operation to finish "
                               "before starting another", stack=stack, status=info.status, phase="wait-busy")
        marker = self._newest_event_id(info.stack_id)
        info = self._wait_terminal(info.stack_id, marker, started, what=f"the running {info.status}",
                                   operation=info.status)
        # describe by name again: a finished delete means the stack is gone
        return self.gw.describe(stack)

    # ----------------------------------------------------------------- plan
    def plan(self, request: DeployRequest, existing: StackInfo | None) -> StackPlan:
        from lamctl.release.stack_params import infer_capabilities, resolve_parameters

        stack = request.stack
        recreate = False
        change_set_type = "UPDATE"
        if existing is None:
            change_set_type = "CREATE"
        elif existing.status == "REVIEW_IN_PROGRESS":
            # A stack made by a change set never executed: CloudFormation takes another CREATE change set.
            # The emulator would make a second stack of the same name, so there the empty one goes first.
            change_set_type = "CREATE"
            recreate = self.emulator
        elif existing.status == "ROLLBACK_COMPLETE":
            if not request.recreate:
                message, hint = terminal_explanation(stack, existing.status)
                raise CloudError(message, hint=hint, where=stack)
            recreate = True
            change_set_type = "CREATE"
        elif existing.in_progress:
            raise ConflictError(f"stack {stack} is busy ({existing.status}); lamctl does not start a second "
                                "operation", hint=f"follow it with lamctl status --stack {stack}", where=stack)
        elif existing.status not in UPDATABLE_STATES:
            message, hint = terminal_explanation(stack, existing.status, existing.status_reason)
            raise CloudError(message, hint=hint, where=stack)

        previous = existing.parameters if (existing is not None and change_set_type == "UPDATE") else {}
        params = resolve_parameters(request.template, request.parameters, previous, stack=stack)
        if request.capabilities is not None:
            capabilities, inferred = tuple(request.capabilities), False
        else:
            capabilities, inferred = infer_capabilities(request.template), True

        body = request.template_body
        size = len(body.encode("utf-8"))
        upload = None
        if size > TEMPLATE_URL_LIMIT:
            raise LimitError(
                f"the deployed template is {size:,} bytes; CloudFormation accepts at most {TEMPLATE_URL_LIMIT:,} "
                "bytes even from S3", where=stack,
                hint="split the application into nested stacks, or move large inline code and policies out")
        if size > TEMPLATE_BODY_LIMIT:
            if not request.s3_bucket:
                raise UsageError(
                    f"the deployed template is {size:,} bytes, over the {TEMPLATE_BODY_LIMIT:,} bytes CloudFormation "
                    "takes inline; it must be uploaded to S3 first", where=stack,
                    hint="pass --s3-bucket (or set s3_bucket in lamctl.toml)")
            digest = hashlib.sha256(body.encode("utf-8")).hexdigest()
            prefix = (request.s3_prefix or "").strip("/")
            key = f"{prefix}/{digest}.template" if prefix else f"{digest}.template"
            upload = TemplateUpload(request.s3_bucket, key, template_url(request.s3_bucket, key, request.region))

        if change_set_type == "UPDATE" and request.on_failure == "DELETE":
            on_failure = "ROLLBACK"  # DELETE applies to creation only
        else:
            on_failure = request.on_failure

        resources = request.template.get("Resources") or {}
        declared = tuple((lid, str((r or {}).get("Type", "")), bool((r or {}).get("Condition")))
                         for lid, r in resources.items() if isinstance(r, dict))
        return StackPlan(
            stack=stack,
            change_set_type=change_set_type,
            stack_id=existing.stack_id if existing is not None else None,
            status=existing.status if existing is not None else None,
            recreate=recreate,
            parameters=params,
            capabilities=capabilities,
            capabilities_inferred=inferred,
            tags=dict(request.tags),
            template_bytes=size,
            template_body=body,
            upload=upload,
            on_failure=on_failure,
            declared_outputs=tuple((request.template.get("Outputs") or {}).keys()),
            declared_resources=declared,
            description=request.description,
        )

    def plan_execute(self, change_set: str, stack: str | None = None) -> tuple[ChangeSetInfo, StackPlan, dict]:
        """For ``deploy --execute``: the change set made earlier (``--no-execute``), checked to be executable,
        the plan to execute it with, and the template it deploys (a dict; empty when it cannot be read).
        ``change_set`` is an ARN, or a name with ``stack``. Reads only."""
        from lamctl.schemas.template import parse_text

        if not change_set.startswith("arn:") and not stack:
            raise UsageError(f"change set {change_set} is a name: say whose it is",
                             hint="add --stack NAME (or set stack in lamctl.toml), or give the change set's ARN")
        try:
            cs = self.gw.describe_change_set(change_set, None if change_set.startswith("arn:") else stack)
        except CloudError as exc:
            if "does not exist" in exc.message or "ChangeSetNotFound" in exc.message:
                raise UsageError(f"change set {change_set} does not exist" + (f" for stack {stack}" if stack else ""),
                                 where=stack or change_set,
                                 hint="check the name or ARN that deploy --no-execute printed; an executed or "
                                      "deleted change set is gone") from None
            raise
        where = stack or cs.stack_id or change_set
        if cs.no_changes or cs.status != "CREATE_COMPLETE" or (cs.execution_status or "AVAILABLE") != "AVAILABLE":
            state = cs.status + (f", execution {cs.execution_status}" if cs.execution_status else "")
            raise UsageError(f"change set {cs.name} cannot be executed ({state})"
                             + (f": {cs.status_reason}" if cs.status_reason else ""), where=where,
                             hint="run lamctl deploy again (without --execute) to make a new one")
        info = self.gw.describe(cs.stack_id or str(stack))
        if info is None:
            raise UsageError(f"the stack of change set {cs.name} does not exist", where=where,
                             hint="run lamctl deploy again to make a new change set")
        if info.in_progress and info.status != "REVIEW_IN_PROGRESS":
            raise ConflictError(f"stack {info.name} is busy ({info.status}); lamctl does not start a second "
                                "operation", hint=f"follow it with lamctl status --stack {info.name}", where=info.name)
        try:
            body = self.gw.template_body(info.stack_id, change_set=cs.arn) or ""
            data = parse_text(body, f"template of change set {cs.name}") if body else {}
        except LamctlError:
            body, data = "", {}
        data = data if isinstance(data, dict) else {}
        resources = data.get("Resources") if isinstance(data.get("Resources"), dict) else {}
        outputs = data.get("Outputs") if isinstance(data.get("Outputs"), dict) else {}
        plan = StackPlan(
            stack=info.name, change_set_type="CREATE" if info.status == "REVIEW_IN_PROGRESS" else "UPDATE",
            stack_id=info.stack_id, status=info.status, recreate=False, parameters=(), capabilities=(),
            capabilities_inferred=False, tags=dict(info.tags), template_bytes=len(body.encode("utf-8")),
            template_body=body, upload=None, on_failure="ROLLBACK", declared_outputs=tuple(outputs),
            declared_resources=tuple((lid, str(r.get("Type", "")), bool(r.get("Condition")))
                                     for lid, r in resources.items() if isinstance(r, dict)))
        return cs, plan, data

    # ----------------------------------------------------------------- execute
    def create_change_set(self, plan: StackPlan) -> ChangeSetInfo:
        """Steps up to a reviewed change set: recreate, upload, create, wait. No stack change yet."""
        if plan.recreate:
            assert plan.stack_id is not None
            self.listener.progress(f"deleting stack {plan.stack} ({plan.status}) before creating it again",
                                   stack=plan.stack, phase="recreate")
            self._delete_and_wait(plan.stack, plan.stack_id)
        if plan.upload is not None:
            if self.store is None:
                raise UsageError("the template must go through S3 but no S3 client was given", where=plan.stack)
            self.listener.progress(f"uploading the template ({plan.template_bytes:,} bytes) to s3://"
                                   f"{plan.upload.bucket}/{plan.upload.key}", phase="upload-template",
                                   bucket=plan.upload.bucket, key=plan.upload.key, bytes=plan.template_bytes)
            self.store.put_template(plan.upload.bucket, plan.upload.key, plan.template_body.encode("utf-8"))
        stamp = _dt.datetime.fromtimestamp(self.clock.now(), _dt.timezone.utc).strftime("%Y%m%d%H%M%S")
        name = f"lamctl-{stamp}-{secrets.token_hex(3)}"  # unique among the stack's change sets
        api_params = [p for p in (c.to_api() for c in plan.parameters) if p is not None]
        self.listener.progress(f"creating change set {name} ({plan.change_set_type}) for stack {plan.stack}",
                               phase="change-set", change_set=name, change_set_type=plan.change_set_type)
        try:
            arn, _stack_id = self.gw.create_change_set(
                stack=plan.stack, name=name, change_set_type=plan.change_set_type,
                template_body=None if plan.upload else plan.template_body,
                template_url=plan.upload.url if plan.upload else None,
                parameters=api_params, capabilities=plan.capabilities, tags=plan.tags,
                description=plan.description or "created by lamctl deploy",
                on_stack_failure=plan.on_failure if plan.change_set_type == "CREATE" else None)
        except NoChanges as exc:
            return ChangeSetInfo(name=name, arn="", stack_id=plan.stack_id or "", status="FAILED",
                                 execution_status="UNAVAILABLE", status_reason=exc.message)
        return self._wait_change_set(arn, plan)

    def _wait_change_set(self, arn: str, plan: StackPlan) -> ChangeSetInfo:
        started = self.clock.now()
        delay = self.change_set_poll
        try:
            while True:
                cs = self.gw.describe_change_set(arn)
                if cs.status in ("CREATE_COMPLETE", "FAILED", "DELETE_COMPLETE", "DELETE_FAILED"):
                    return cs
                if self.clock.now() - started > self.wait_timeout:
                    raise CloudError(f"change set {cs.name} is still {cs.status} after "
                                     f"{self._minutes(self.wait_timeout)}", where=plan.stack,
                                     hint=f"look at it: aws cloudformation describe-change-set --change-set-name {arn}")
                self.clock.sleep(delay)
                delay = min(delay * 1.5, 10.0)
        except KeyboardInterrupt:
            raise OperationInterrupted(
                f"interrupted while CloudFormation prepared change set {arn}; nothing was executed",
                hint=f"delete it with: aws cloudformation delete-change-set --change-set-name {arn}",
                where=plan.stack) from None

    def discard(self, cs: ChangeSetInfo, plan: StackPlan) -> None:
        """Remove a change set we will not execute; for a stack that exists only to hold it, the stack too."""
        if cs.arn:
            try:
                self.gw.delete_change_set(cs.arn)
            except CloudError:
                pass  # best effort: a FAILED change set is harmless
        if plan.change_set_type == "CREATE":
            info = self.gw.describe(cs.stack_id or plan.stack)
            if info is not None and info.status == "REVIEW_IN_PROGRESS":
                try:
                    self.gw.delete_stack(info.stack_id)
                except CloudError:
                    pass

    def deploy(self, plan: StackPlan, *, execute: bool = True, fail_on_empty: bool = False) -> DeployResult:
        cs = self.create_change_set(plan)
        if cs.no_changes:
            self.discard(cs, plan)
            return DeployResult(plan.stack, "NO_CHANGES", ok=not fail_on_empty, change_set=cs,
                                stack_id=plan.stack_id)
        if cs.status != "CREATE_COMPLETE":
            self.discard(cs, plan)
            raise CloudError(f"CloudFormation refused change set {cs.name}: {cs.status_reason or cs.status}",
                             where=plan.stack, hint="fix the template or the parameters and deploy again")
        self.listener.change_set(cs, plan)
        if not execute:
            return DeployResult(plan.stack, "CHANGE_SET_CREATED", ok=True, change_set=cs,
                                stack_id=cs.stack_id or plan.stack_id)
        if not self.listener.confirm(cs, plan):
            self.discard(cs, plan)
            return DeployResult(plan.stack, "CANCELLED", ok=True, change_set=cs, stack_id=plan.stack_id,
                                notes=("the change set was deleted; nothing was deployed",))
        return self.execute(cs, plan)

    def execute(self, cs: ChangeSetInfo, plan: StackPlan) -> DeployResult:
        stack_ref = cs.stack_id or plan.stack
        marker = self._newest_event_id(stack_ref)
        started = self.clock.now()
        self.listener.progress(f"executing change set {cs.name}", phase="execute", change_set=cs.name,
                               arn=cs.arn)
        try:
            self.gw.execute_change_set(cs.arn, disable_rollback=plan.on_failure == "DO_NOTHING")
        except CloudError as exc:
            return self._execute_refused(exc, cs, plan, stack_ref, marker)
        except KeyboardInterrupt:
            raise OperationInterrupted(
                f"interrupted while asking CloudFormation to execute change set {cs.name}; it may be running",
                hint=f"follow it with: lamctl status --stack {plan.stack}", where=plan.stack) from None
        final = self._wait_terminal(stack_ref, marker, started, what=f"the {plan.change_set_type.lower()} of "
                                    f"{plan.stack}", operation=plan.change_set_type,
                                    stale_status=plan.status if plan.change_set_type == "UPDATE" else None)
        events = tuple(self.gw.events(stack_ref, after=marker))
        return self._result(plan, cs, final, events)

    def _execute_refused(self, exc: CloudError, cs: ChangeSetInfo, plan: StackPlan, stack_ref: str,
                         marker: str | None) -> DeployResult:
        info = self.gw.describe(stack_ref)
        if not self.emulator or info is None or info.in_progress is False and info.status in SUCCESS_STATES:
            raise exc
        # The local cloud runs the change set inside ExecuteChangeSet and has no rollback: a failure
        # leaves a half-made stack behind. Do what CloudFormation does on a failed creation.
        events = tuple(self.gw.events(stack_ref, after=marker))
        try:
            created: set[str] | None = {r.logical_id for r in self.gw.resources(stack_ref)}
        except CloudError:
            created = None  # the emulator may fail to list a half-made stack: which resource failed is unknown
        types = dict((lid, typ) for lid, typ, _c in plan.declared_resources)
        unconditional = [lid for lid, _t, cond in plan.declared_resources if not cond]
        if created is None:
            missing = unconditional if len(unconditional) == 1 else []
        else:
            missing = [lid for lid in unconditional if lid not in created]
        failure = StackEvent(event_id="", timestamp="", logical_id=", ".join(missing) or plan.stack,
                             resource_type=types[missing[0]] if len(missing) == 1 else
                             ("" if missing else "AWS::CloudFormation::Stack"),
                             status="CREATE_FAILED" if plan.change_set_type == "CREATE" else "UPDATE_FAILED",
                             reason=exc.message.split(": ", 1)[-1])
        notes = []
        if exc.hint:
            notes.append(exc.hint)
        if plan.change_set_type == "CREATE":
            try:
                self.gw.delete_stack(stack_ref)
                notes.append("the local cloud does not roll back; lamctl deleted the half-created stack")
            except CloudError as delete_error:
                notes.append(f"the local cloud does not roll back, and deleting the half-created stack failed "
                             f"({delete_error.message}); delete it with lamctl delete --stack {plan.stack} --yes")
            status = "CREATE_FAILED"
        else:
            notes.append("the local cloud does not roll back: the stack may be partly updated; deploy a fixed "
                         "template to bring it in line")
            status = "UPDATE_FAILED"
        return DeployResult(plan.stack, status, ok=False, change_set=cs, failure=failure, stack_id=stack_ref,
                            events=events, notes=tuple(notes))

    def _result(self, plan: StackPlan, cs: ChangeSetInfo, final: StackInfo, events: tuple[StackEvent, ...]
                ) -> DeployResult:
        ok = final.status in SUCCESS_STATES
        if not ok:
            return DeployResult(plan.stack, final.status, ok=False, change_set=cs, stack_id=final.stack_id,
                                failure=first_failure(events, plan.stack), events=events)
        have = {o.key for o in final.outputs}
        unavailable = tuple(k for k in plan.declared_outputs if k not in have)
        notes: list[str] = []
        skipped: list[tuple[str, str]] = []
        placeholders: list[str] = []
        if self.emulator:
            resources = self.gw.resources(final.stack_id)
            present = {r.logical_id for r in resources}
            placeholders = [r.logical_id for r in resources if PLACEHOLDER_MARK in (r.physical_id or "")]
            skipped = [(lid, typ) for lid, typ, cond in plan.declared_resources
                       if (lid not in present and not cond) or lid in placeholders]
        return DeployResult(plan.stack, final.status, ok=True, change_set=cs, stack_id=final.stack_id,
                            outputs=final.outputs, outputs_unavailable=unavailable, skipped=tuple(skipped),
                            placeholders=tuple(placeholders), events=events, notes=tuple(notes))

    # ----------------------------------------------------------------- delete
    def delete(self, stack: str) -> DeployResult:
        info = self.settle(stack)
        if info is None:
            return DeployResult(stack, "DOES_NOT_EXIST", ok=True)
        marker = self._newest_event_id(info.stack_id)
        final, events = self._delete_and_wait(stack, info.stack_id, marker)
        if final.status != "DELETE_COMPLETE":
            return DeployResult(stack, final.status, ok=False, stack_id=info.stack_id, events=events,
                                failure=first_failure(events, stack))
        return DeployResult(stack, "DELETE_COMPLETE", ok=True, stack_id=info.stack_id, events=events)

    def _delete_and_wait(self, stack: str, stack_id: str, marker: str | None = None
                         ) -> tuple[StackInfo, tuple[StackEvent, ...]]:
        if marker is None:
            marker = self._newest_event_id(stack_id)
        started = self.clock.now()
        self.gw.delete_stack(stack_id)
        final = self._wait_terminal(stack_id, marker, started, what=f"the deletion of {stack}", operation="DELETE")
        events = tuple(self.gw.events(stack_id, after=marker))
        return final, events

    # ----------------------------------------------------------------- waiting
    def _newest_event_id(self, stack: str) -> str | None:
        try:
            events = self.gw.events(stack, limit=1)
        except CloudError:
            return None
        return events[-1].event_id if events else None

    def _wait_terminal(self, stack_ref: str, marker: str | None, started: float, *, what: str,
                       operation: str, stale_status: str | None = None) -> StackInfo:
        """Stream new events until the stack leaves every *_IN_PROGRESS state (and REVIEW_IN_PROGRESS).

        ``stale_status``: the status from before the operation was started; seen again with no new stack
        event, it may predate the operation, so it is accepted only after a few more polls."""
        seen = marker
        delay = 1.0
        stale_polls = 0
        nested = NestedEvents(self.gw, self.listener)
        try:
            while True:
                for ev in self.gw.events(stack_ref, after=seen):
                    self.listener.stack_event(ev)
                    nested.saw(ev, stack_ref)
                    if ev.is_stack:
                        stale_status = None  # the operation has shown itself
                    seen = ev.event_id
                nested.follow()
                info = self.gw.describe(stack_ref)
                if info is None:  # deleted and no longer visible by this reference
                    return StackInfo(name=stack_ref, stack_id=stack_ref, status="DELETE_COMPLETE")
                if info.status == stale_status and stale_polls < 3:
                    stale_polls += 1
                elif not info.status.endswith("_IN_PROGRESS"):
                    for ev in self.gw.events(stack_ref, after=seen):
                        self.listener.stack_event(ev)
                        nested.saw(ev, stack_ref)
                        seen = ev.event_id
                    if operation != "DELETE":
                        nested.finish(stack_ref)
                    return info
                if self.clock.now() - started > self.wait_timeout:
                    raise CloudError(
                        f"{what} is still {info.status} after {self._minutes(self.wait_timeout)}; "
                        "lamctl stopped waiting, the operation goes on in CloudFormation", where=info.name,
                        hint=f"follow it with lamctl status --stack {info.name}, or wait longer with --wait-timeout")
                self.clock.sleep(delay)
                delay = min(delay * 1.5, self.poll)
        except KeyboardInterrupt:
            name = stack_ref.split("/")[1] if stack_ref.startswith("arn:") and "/" in stack_ref else stack_ref
            cancel = (f"; to stop an update: aws cloudformation cancel-update-stack --stack-name {name}"
                      if operation in ("UPDATE", "UPDATE_IN_PROGRESS") else "")
            raise OperationInterrupted(
                f"interrupted: lamctl stopped waiting, but {what} goes on in CloudFormation",
                hint=f"follow it with: lamctl status --stack {name}{cancel}", where=name) from None

    @staticmethod
    def _minutes(seconds: float) -> str:
        minutes = seconds / 60
        return f"{minutes:g} minute" + ("" if minutes == 1 else "s")


__all__ = [
    "ChangeSetInfo", "DeployRequest", "DeployResult", "Listener", "NoChanges", "OperationInterrupted",
    "ParameterChoice", "ResourceChange", "StackDeployer", "StackEvent", "StackGateway", "StackInfo",
    "StackOutput", "StackPlan", "StackResource", "TemplateUpload", "TEMPLATE_BODY_LIMIT", "TEMPLATE_URL_LIMIT",
    "first_failure", "terminal_explanation", "template_url",
]
