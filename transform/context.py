"""The state handed through the SAM transform pipeline, and the record of an API event.

The pipeline (``lamctl.transform.transform``) runs in this order:

1. parse: copy the input, resolve Globals (``globals.py``), fill parameter defaults
   and pseudo parameters into :attr:`Context.parameters`;
2. functions (``function.py``): every ``AWS::Serverless::Function`` becomes its
   Lambda function, role, version, alias, CodeDeploy resources and the resources of
   its non-API events (``events.py``). Each ``Api`` / ``HttpApi`` event is *not*
   translated there: it is recorded as an :class:`ApiEvent`, in template order
   (functions in template order, events sorted by name as the reference does);
3. APIs: when ``lamctl.transform.api`` exists and defines
   ``transform_apis``, the pipeline calls exactly::

       api.transform_apis(ctx, api_events)   # ctx: Context, api_events: list[ApiEvent]

   once, after all functions are done and before layers and tables. It owns
   ``AWS::Serverless::Api`` / ``AWS::Serverless::HttpApi`` resources of
   ``ctx.template`` (explicit ones, read them from ``ctx.sam_resources``), the
   implicit ``ServerlessRestApi`` / ``ServerlessHttpApi``, and the Lambda
   permissions of the API events; it adds its output with :meth:`Context.add`,
   and may register reference rewrites with :meth:`Context.rewrite_ref` /
   :meth:`Context.rewrite_getatt`. It returns nothing.
4. the rest: layers (with their hashed IDs), SimpleTables, capacity providers, WebSocket APIs
   (``websocket.py``), GraphQL APIs (``graphql.py``), then connectors (``connectors.py``: last,
   since a connector reads what its source and destination became; the ``Connectors`` attributes
   were turned into connectors before step 2), CodeDeploy application and service role;
5. finish: references to serverless resources are rewritten (``!Ref Layer`` ->
   hashed layer version, ``Fn.Alias``, ``Fn.Version``, ``Api.RootResourceId``...),
   ``Transform`` removed.

Errors: :meth:`Context.error` raises a located :class:`TemplateError` (exit 2).
"""

from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from lamctl.schemas.errors import TemplateError
from lamctl.schemas.sam import SERVERLESS_PREFIX
API_TYPES = ("AWS::Serverless::Api", "AWS::Serverless::HttpApi")


def partition_of(region: str) -> str:
    """The AWS partition of a region name (``aws``, ``aws-cn``, ``aws-us-gov``, ...)."""
    r = (region or "").lower()
    if r.startswith("cn-"):
        return "aws-cn"
    if r.startswith("us-gov"):
        return "aws-us-gov"
    if r.startswith("us-iso-"):
        return "aws-iso"
    if r.startswith("us-isob"):
        return "aws-iso-b"
    if r.startswith("eu-isoe"):
        return "aws-iso-e"
    if r.startswith("us-isof"):
        return "aws-iso-f"
    return "aws"


def logical_id_hash(data: Any, length: int = 10) -> str:
    """The reference's stable hash: sha1 of compact sorted JSON (a str is hashed as is), first 10 hex digits."""
    if not data:
        return ""
    text = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"), sort_keys=True)
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:length]


@dataclass
class ApiEvent:
    """One ``Api`` or ``HttpApi`` event of a function, handed to ``api.transform_apis``.

    ``function_arn`` is what the permission and the integration must point at:
    ``{"Ref": "<Fn>Alias<name>"}`` when the function has AutoPublishAlias, else
    ``{"Fn::GetAtt": ["<Fn>", "Arn"]}``. ``attributes`` are the resource attributes
    the reference passes from the function to the event's resources
    (``Condition``, ``DeletionPolicy``, ``UpdateReplacePolicy``, when set)."""

    function_id: str  # logical ID of the AWS::Serverless::Function (= of the generated AWS::Lambda::Function)
    name: str  # the event's key under Events
    type: str  # "Api" or "HttpApi"
    properties: dict  # the event's Properties (a copy; {} when absent)
    function_arn: Any  # intrinsic for the function's (alias-aware) ARN
    condition: str | None  # the function's Condition, or None
    attributes: dict = field(default_factory=dict)  # Condition / DeletionPolicy / UpdateReplacePolicy passthrough
    function_name: Any = None  # the function's FunctionName property (after Globals), None when unset
    keys: tuple = ()  # key path of the event in the template, for ctx.error(..., keys)
    # what a Lambda permission's FunctionName gets: {"Ref": "<Fn>Alias<name>"} with an alias, else {"Ref": "<Fn>"}
    function_ref: Any = None
    # an Api event of an AWS::Serverless::StateMachine: the integration starts an execution (function_id is
    # the state machine's logical ID, function_arn its Ref or its alias's) with this role's ARN as credentials,
    # and there is no Lambda permission
    state_machine_role: Any = None

    @property
    def logical_id(self) -> str:
        """``<Fn><EventName>``: the prefix the reference gives the event's resources."""
        return self.function_id + self.name


class Context:
    """Everything the pipeline steps share: input, settings, output being built, and error helpers."""

    def __init__(self, template: dict, region: str = "us-east-1", parameters: dict | None = None,
                 where: Callable[[Iterable[Any]], str] | None = None):
        self.template: dict = template  # the input (a deep copy owned by the pipeline; Globals already merged)
        self.region: str = region
        self.partition: str = partition_of(region)
        # parameter values: overrides, then template Default values, then pseudo parameters (AWS::Region, ...)
        self.parameters: dict = dict(parameters or {})
        self.globals: Any = None  # the resolved Globals (globals.Globals), set by the pipeline
        self.sam_resources: dict = {}  # logical ID -> the serverless resource (after Globals), input order
        self.resources: dict = {}  # the output Resources being built (non-serverless ones copied first)
        self.conditions: dict = template.get("Conditions") if isinstance(template.get("Conditions"), dict) else {}
        self._where = where
        self._ref_rewrites: dict[str, Any] = {}  # logical ID -> replacement for {"Ref": id}
        self._getatt_rewrites: dict[tuple[str, str], Any] = {}  # (id, attribute) -> replacement for GetAtt
        self.changed_ids: dict[str, str] = {}  # old logical ID -> new (DependsOn, Ref, GetAtt follow)
        # (logical ID, property) -> generated logical ID: !Ref Fn.Alias, !GetAtt Api.Stage..., ${Fn.Version}
        self.property_refs: dict[tuple[str, str], str] = {}
        self.deployment_preferences: dict[str, Any] = {}  # function ID -> resolved DeploymentPreference
        # plain resources that several events modify in turn (an S3 bucket's notifications, a user pool's
        # triggers): logical ID -> the resource being built up; its output replaces the pass-through copy
        self.modified_resources: dict[str, dict] = {}

    # -- errors -------------------------------------------------------------------------------
    def where(self, keys: Iterable[Any] = (), key: bool = False) -> str | None:
        """``file:line:col`` of the value at ``keys`` (of its key with ``key=True``), when known."""
        if self._where is None:
            return None
        try:
            if key:
                try:
                    return self._where(list(keys), key=True)
                except TypeError:  # a where() that knows values only
                    pass
            return self._where(list(keys))
        except Exception:  # a position is a courtesy; never let it hide the real error
            return None

    def error(self, message: str, keys: Iterable[Any] = (), hint: str | None = None,
              key: bool = False) -> TemplateError:
        """A TemplateError located at ``keys`` (e.g. ``("Resources", "Fn", "Properties", "Runtime")``),
        at the key itself with ``key=True`` (an unknown property).

        The message should name the resource and property; use ``raise ctx.error(...)``."""
        keys = tuple(keys)
        where = self.where(keys, key)
        if where is None and len(keys) >= 2 and keys[0] == "Resources":
            where = "Resources." + ".".join(str(k) for k in keys[1:])
        return TemplateError(message, hint=hint, where=where)

    # -- output -------------------------------------------------------------------------------
    def add(self, logical_id: str, resource: dict, keys: Iterable[Any] = ()) -> None:
        """Add a generated resource; a clash with another resource is a located error."""
        if logical_id in self.resources:
            existing = self.resources[logical_id]
            declared = self.template.get("Resources") if isinstance(self.template.get("Resources"), dict) else {}
            if existing == resource and logical_id not in declared:
                return
            raise self.error(
                f"resource {logical_id} ({resource.get('Type')}) that lamctl generates clashes with "
                f"another resource of the same logical ID ({existing.get('Type')})",
                keys, hint=f"rename the resource called {logical_id} in the template")
        self.resources[logical_id] = resource

    def refer(self, logical_id: str, prop: str, generated_id: str) -> None:
        """Let the template say ``!Ref <logical_id>.<prop>`` (or GetAtt / ${...}) for ``generated_id``,
        e.g. ``refer("MyFn", "Alias", "MyFnAliaslive")``, ``refer("MyApi", "Stage", "MyApiProdStage")``."""
        self.property_refs[(logical_id, prop)] = generated_id

    def rewrite_ref(self, logical_id: str, value: Any) -> None:
        """After the transform, ``{"Ref": logical_id}`` anywhere becomes ``value``."""
        self._ref_rewrites[logical_id] = value

    def rewrite_getatt(self, logical_id: str, attribute: str, value: Any) -> None:
        """After the transform, ``{"Fn::GetAtt": [logical_id, attribute]}`` (and ``${id.attr}`` in Fn::Sub)
        becomes ``value``."""
        self._getatt_rewrites[(logical_id, attribute)] = value

    # -- helpers ------------------------------------------------------------------------------
    def resolve(self, value: Any) -> Any:
        """``value`` with ``{"Ref": <parameter>}`` replaced by known parameter values (a copy)."""
        from .intrinsics import resolve_parameter_refs

        return resolve_parameter_refs(copy.deepcopy(value), self.parameters)

    def arn(self, service: str, resource: str, region: bool = True, account: bool = True) -> dict:
        """``{"Fn::Sub": "arn:${AWS::Partition}:<service>:${AWS::Region}:${AWS::AccountId}:<resource>"}``."""
        return {"Fn::Sub": "arn:${AWS::Partition}:%s:%s:%s:%s" % (
            service, "${AWS::Region}" if region else "", "${AWS::AccountId}" if account else "", resource)}
