"""The SAM transform: a template with ``Transform: AWS::Serverless-2016-10-31`` -> plain CloudFormation.

A pure function (no AWS calls, standard library only) that gives the same
logical IDs, types and properties as the reference ``aws-sam-translator``; the
only intended difference is the REST API deployment ID, which lamctl hashes over
its own canonical JSON of the API definition (see ``api.py``).

The pipeline and the contract with the API step are described in
:mod:`lamctl.transform.context`.

Deliberate differences from the reference (``tests/conformance/run.py`` shows them):

* the REST API deployment ID (see above);
* a resource whose ``Type`` is not a string is an error (the reference passes it through
  for CloudFormation to reject);
* the ``Fn::And`` made for a conditional invoke destination of a conditional function lists
  ``{"Condition": name}`` items; the reference nests ``{"Condition": {"Condition": name}}``,
  which CloudFormation rejects;
* WebSocket APIs whose domains are in one hosted zone share one record set group holding every
  domain's records (the reference keeps only the last API's, see ``websocket.py``).

Public entry points: :func:`transform` (template dict -> CloudFormation dict), :func:`is_serverless`
(from :mod:`lamctl.schemas.sam`, where the rules it shares with build, validate and the local
runtime live), :class:`ApiEvent` and :class:`Context` (the pipeline's state, for the API step).

May import: the standard library and :mod:`lamctl.schemas`; nothing of packager, release, local or cli.
"""

from __future__ import annotations

import copy
from typing import Any, Callable, Iterable

from lamctl.schemas.errors import TemplateError
from lamctl.schemas.sam import SERVERLESS_PREFIX, Globals, GlobalsError, is_serverless

from .context import ApiEvent, Context, partition_of

__all__ = ["transform", "is_serverless", "ApiEvent", "Context"]

KNOWN = {"AWS::Serverless::Function", "AWS::Serverless::Api", "AWS::Serverless::HttpApi",
         "AWS::Serverless::LayerVersion", "AWS::Serverless::SimpleTable", "AWS::Serverless::StateMachine",
         "AWS::Serverless::CapacityProvider", "AWS::Serverless::Application", "AWS::Serverless::Connector",
         "AWS::Serverless::WebSocketApi", "AWS::Serverless::GraphQLApi"}


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def transform(template: dict, region: str = "us-east-1", parameters: dict | None = None,
              where: Callable[[Iterable[Any]], str] | None = None,
              applications: Callable[[str, str, str], str] | None = None) -> dict:
    """Translate ``template`` (not modified) into CloudFormation.

    ``parameters``: values for template parameters (defaults of the template fill the rest);
    ``where(keys) -> "file:line:col"`` locates errors (``Template.where``);
    ``applications(logical_id, application_id, semantic_version) -> template URL`` looks up the
    Serverless Application Repository applications an ``AWS::Serverless::Application`` names
    (see :mod:`lamctl.transform.application`)."""
    if not isinstance(template, dict):
        raise TemplateError("a template must be a mapping at the top")
    if "Resources" not in template:  # CloudFormation needs one, whatever the transform
        import difflib

        close = difflib.get_close_matches("Resources", [k for k in template if isinstance(k, str)], n=1)
        raise TemplateError("the template has no Resources section",
                            where=_where(where, (close[0],), key=True) if close else _where(where, ()),
                            hint=f"did you mean Resources (the template says {close[0]})?" if close
                            else "a template declares its resources under Resources:")
    if not is_serverless(template):
        return _plain(template)
    src = _plain(template)
    resources = src.get("Resources")
    if not isinstance(resources, dict) or not resources:
        raise TemplateError("the template has no Resources", where=_where(where, ("Resources",)),
                            hint="a SAM template needs a Resources mapping")

    if any(isinstance(r, dict) and isinstance(r.get("Type"), str) and r["Type"].startswith(SERVERLESS_PREFIX)
           for r in resources.values()):
        for section in ("Mappings", "Parameters"):  # as the reference, which reads both before transforming
            if section in src and not isinstance(src[section], dict):
                raise TemplateError(f"the {section} section must be a mapping (it is {type(src[section]).__name__})",
                                    where=_where(where, (section,)) or section,
                                    hint=f"fill {section} in or remove the empty {section}: line")
    params = dict(parameters or {})
    declared = src.get("Parameters")
    if isinstance(declared, dict):
        for name, spec in declared.items():
            if name not in params and isinstance(spec, dict) and "Default" in spec:
                params[name] = spec["Default"]
    params.setdefault("AWS::Region", region)
    params.setdefault("AWS::Partition", partition_of(region))

    out = {k: v for k, v in src.items() if k not in ("Transform", "Globals")}
    ctx = Context(src, region, params, where)
    if isinstance(out.get("Conditions"), dict):
        ctx.conditions = out["Conditions"] = copy.deepcopy(out["Conditions"])
    else:
        ctx.conditions = {}

    try:
        ctx.globals = Globals(src.get("Globals"))
    except GlobalsError as exc:
        raise ctx.error(exc.message, exc.keys, exc.hint, key=exc.key) from None

    from .connectors import embedded_connectors

    resources, connector_origins = embedded_connectors(ctx, resources)  # Connectors: attributes -> connectors
    src["Resources"] = resources
    functions, apis, layers, tables, state_machines, providers, applications_ = [], [], [], [], [], [], []
    connectors: list = []
    websockets: list = []
    graphqls: list = []
    implicit = _implicit_api_ids(resources)
    for lid, res in resources.items():
        if lid in implicit:
            continue  # the implicit API takes this logical ID, whatever was there (as the reference does)
        keys = ("Resources", lid)
        if not isinstance(res, dict):
            raise ctx.error(f"resource {lid} must be a mapping with a Type", keys)
        rtype = res.get("Type")
        if not isinstance(rtype, str):
            raise ctx.error(f"resource {lid} has no Type", keys)
        if not rtype.startswith(SERVERLESS_PREFIX):
            ctx.resources[lid] = copy.deepcopy(res)
            continue
        if rtype not in KNOWN:
            raise ctx.error(f"resource {lid}: lamctl does not transform {rtype}", keys + ("Type",),
                            hint="supported: " + ", ".join(sorted(KNOWN)))
        if not lid.isalnum() or not lid.isascii():
            raise ctx.error(f"logical ID {lid!r} must be alphanumeric (A-Z, a-z, 0-9)", keys)
        _check_attributes(ctx, lid, res)
        res = dict(res)
        props = res.get("Properties")
        if props is None:
            props = {}
        if not isinstance(props, dict):
            raise ctx.error(f"resource {lid}: Properties must be a mapping", keys + ("Properties",))
        try:
            res["Properties"] = ctx.globals.merge(rtype, props, lid, res.get("IgnoreGlobals"))
        except GlobalsError as exc:
            raise ctx.error(exc.message, exc.keys, exc.hint, key=exc.key) from None
        ctx.sam_resources[lid] = res
        {"AWS::Serverless::Function": functions, "AWS::Serverless::LayerVersion": layers,
         "AWS::Serverless::SimpleTable": tables,
         "AWS::Serverless::StateMachine": state_machines,
         "AWS::Serverless::CapacityProvider": providers,
         "AWS::Serverless::Application": applications_,
         "AWS::Serverless::Connector": connectors,
         "AWS::Serverless::WebSocketApi": websockets,
         "AWS::Serverless::GraphQLApi": graphqls}.get(rtype, apis).append((lid, res))

    from .function import transform_function

    api_events: list[ApiEvent] = []
    for lid, res in functions:
        _guard(ctx, lid, transform_function, ctx, lid, res, api_events)

    from .state_machine import transform_state_machine

    for lid, res in state_machines:
        _guard(ctx, lid, transform_state_machine, ctx, lid, res, api_events)

    from .api import transform_apis

    transform_apis(ctx, api_events)

    from .layers import transform_layer, transform_table

    for lid, res in layers:
        _guard(ctx, lid, transform_layer, ctx, lid, res)
    for lid, res in tables:
        _guard(ctx, lid, transform_table, ctx, lid, res)

    from .capacity_provider import transform_capacity_provider

    for lid, res in providers:
        _guard(ctx, lid, transform_capacity_provider, ctx, lid, res)

    from .application import transform_application

    looked_up: dict = {}  # one lookup per (application, version), as the reference
    for lid, res in applications_:
        _guard(ctx, lid, transform_application, ctx, lid, res, applications, looked_up)

    from .websocket import transform_websocket_api

    for lid, res in websockets:
        _guard(ctx, lid, transform_websocket_api, ctx, lid, res)

    from .graphql import transform_graphql_api

    for lid, res in graphqls:
        _guard(ctx, lid, transform_graphql_api, ctx, lid, res)

    from .connectors import transform_connectors  # last: connectors read what the other resources became

    for lid, res in connectors:
        _guard(ctx, lid, transform_connectors, ctx, lid, res, connector_origins)

    from .deployment import finish

    finish(ctx)

    out["Resources"] = ctx.resources
    if ctx.conditions:
        out["Conditions"] = ctx.conditions
    from .intrinsics import Rewriter

    return Rewriter(ctx.changed_ids, ctx.property_refs, ctx._ref_rewrites, ctx._getatt_rewrites).template(out)


def _check_attributes(ctx: Context, lid: str, res: dict) -> None:
    keys = ("Resources", lid)
    for attr in ("Condition", "DeletionPolicy", "UpdateReplacePolicy"):
        value = res.get(attr)
        if attr != "Condition" and isinstance(value, dict) and len(value) == 1:
            continue  # an intrinsic function (AWS::LanguageExtensions resolves it)
        if attr in res and not isinstance(value, str):
            raise ctx.error(f"resource {lid}: {attr} must be a string", keys + (attr,),
                            hint="Condition names a condition of the Conditions section" if attr == "Condition"
                            else "Delete, Retain or Snapshot")
    deps = res.get("DependsOn")
    if deps is not None and not isinstance(deps, str) and not (
            isinstance(deps, list) and all(isinstance(d, str) for d in deps)):
        raise ctx.error(f"resource {lid}: DependsOn must be a logical ID or a list of them", keys + ("DependsOn",))
    if "Metadata" in res and not isinstance(res["Metadata"], dict):
        raise ctx.error(f"resource {lid}: Metadata must be a mapping", keys + ("Metadata",))


def _guard(ctx: Context, lid: str, step: Callable, *args) -> None:
    """Run one resource's step; whatever goes wrong is reported at that resource, never as a traceback."""
    try:
        step(*args)
    except TemplateError as exc:
        if not exc.where:
            exc.where = ctx.where(("Resources", lid)) or f"Resources.{lid}"
            exc.message = f"resource {lid}: {exc.message}" if lid not in exc.message else exc.message
        raise
    except (AttributeError, TypeError, KeyError, ValueError, IndexError) as exc:
        raise ctx.error(f"resource {lid}: a property value has the wrong shape ({type(exc).__name__}: {exc})",
                        ("Resources", lid),
                        hint="compare its properties with the AWS::Serverless reference; "
                             "lamctl validate reports the offending property") from None


def _implicit_api_ids(resources: dict) -> set:
    """ServerlessRestApi / ServerlessHttpApi when some Api / HttpApi event names no API of its own."""
    out = set()
    for res in resources.values():
        if not (isinstance(res, dict) and res.get("Type") in ("AWS::Serverless::Function",
                                                               "AWS::Serverless::StateMachine")):
            continue
        props = res.get("Properties")
        events = props.get("Events") if isinstance(props, dict) else None
        if not isinstance(events, dict):
            continue
        for event in events.values():
            if not isinstance(event, dict):
                continue
            eprops = event.get("Properties")
            eprops = eprops if isinstance(eprops, dict) else {}
            if event.get("Type") == "Api" and "RestApiId" not in eprops:
                out.add("ServerlessRestApi")
            elif event.get("Type") == "HttpApi" and "ApiId" not in eprops:
                out.add("ServerlessHttpApi")
    return out & {k for k, r in resources.items()
                  if not (isinstance(r, dict) and r.get("Type") in ("AWS::Serverless::Api", "AWS::Serverless::HttpApi"))}


def _where(where, keys, key: bool = False):
    if where is None:
        return None
    try:
        if key:
            try:
                return where(list(keys), key=True)
            except TypeError:  # a where() that knows values only
                pass
        return where(list(keys))
    except Exception:
        return None
