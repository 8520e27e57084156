"""The API half of the SAM transform: ``AWS::Serverless::Api`` / ``AWS::Serverless::HttpApi`` (explicit, and the
implicit ``ServerlessRestApi`` / ``ServerlessHttpApi``), the ``Api`` / ``HttpApi`` function events and their
``AWS::Lambda::Permission`` resources, and the swagger 2.0 / OpenAPI 3 documents built from those events.

The pipeline calls :func:`transform_apis` once, after every function, with the events it recorded. The steps
follow the reference transform's order, because later steps see what earlier ones wrote:

1. APIs without ``DefinitionBody`` / ``DefinitionUri`` get a skeleton document that lamctl manages;
2. every event adds its path and method to the managed document of its API (REST events first, then HTTP),
   the implicit APIs are created when an event names no API, and take the functions' Condition,
   DeletionPolicy and UpdateReplacePolicy; paths whose every method is conditional become conditional;
3. per function (events ordered by path), each event gets its permission, and its Lambda integration, auth,
   timeout, request model and parameters are written into the document;
4. each API becomes its RestApi / Deployment / Stage (``api_rest``) or Api / Stage (``api_http``), with CORS,
   auth, gateway responses, models, usage plans and custom domains.

Every logical ID, type and property matches the reference, with one documented exception: the REST API
Deployment ID, ``<Api>Deployment<hash>``, where ``hash`` is the first 10 hex digits of the sha1 of the
canonical JSON of the API definition plus the stage name (details in :mod:`lamctl.transform.api_rest`).
The reference hashes a Python-2 rendering of its swagger, which cannot be reproduced portably.

Cost: each document is edited in place, once per event, so N events cost O(N) (the reference copies the
whole document for every event, O(N^2)).
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from typing import Any

from lamctl.schemas.errors import TemplateError
from lamctl.schemas.sam import is_intrinsic

from .api_common import ApiError, hash_id, lambda_permission
from .api_editor import (DEFAULT_PATH, OPENAPI3_RE, X_ANY_METHOD, DefinitionError, OpenApiEditor, SwaggerEditor,
                         fn_sub, make_conditional, matches, normalize_method, path_without_trailing_slash,
                         shorthand)
from .api_http import HttpApiGenerator
from .api_py27 import Py27Keys, py27_order
from .api_rest import RestApiGenerator, SharedUsagePlan

REST_TYPE = "AWS::Serverless::Api"
HTTP_TYPE = "AWS::Serverless::HttpApi"
IMPLICIT_REST = "ServerlessRestApi"
IMPLICIT_HTTP = "ServerlessHttpApi"
REQUEST_PARAMETER_PROPERTIES = ("Required", "Caching")
_STR, _DICT, _LIST, _BOOL, _INT = (str,), (dict,), (list,), (bool,), (int,)
# The property types the reference checks (an intrinsic function is accepted for any of them).
PROPERTY_TYPES = {
    REST_TYPE: {
        "Name": _STR + _DICT, "StageName": _STR + _DICT, "Tags": _DICT, "PropagateTags": _BOOL,
        "DefinitionBody": _DICT, "DefinitionUri": _STR + _DICT, "MergeDefinitions": _BOOL,
        "CacheClusterEnabled": _BOOL, "CacheClusterSize": _STR, "Variables": _DICT,
        "EndpointConfiguration": _STR + _DICT, "MethodSettings": _LIST, "BinaryMediaTypes": _LIST,
        "MinimumCompressionSize": _INT, "Cors": _STR + _DICT, "Auth": _DICT, "GatewayResponses": _DICT,
        "AccessLogSetting": _DICT, "CanarySetting": _DICT, "TracingEnabled": _BOOL, "OpenApiVersion": _STR + (float, int),
        "Models": _DICT, "Domain": _DICT, "FailOnWarnings": _BOOL, "Description": _STR, "Mode": _STR,
        "DisableExecuteApiEndpoint": _BOOL, "ApiKeySourceType": _STR, "AlwaysDeploy": _BOOL,
        "Policy": _STR + _DICT, "SecurityPolicy": _STR, "EndpointAccessMode": _STR,
    },
    HTTP_TYPE: {
        "Name": None, "StageName": _STR + _DICT, "Tags": _DICT, "PropagateTags": _BOOL, "DefinitionBody": _DICT,
        "DefinitionUri": _STR + _DICT, "StageVariables": _DICT, "CorsConfiguration": _BOOL + _DICT,
        "AccessLogSettings": _DICT, "DefaultRouteSettings": _DICT, "Auth": _DICT, "RouteSettings": _DICT,
        "Domain": _DICT, "FailOnWarnings": _BOOL, "Description": _STR, "DisableExecuteApiEndpoint": _BOOL,
    },
    "Api": {"Path": _STR, "Method": _STR, "RestApiId": _STR + _DICT, "Stage": _STR, "Auth": _DICT,
            "RequestModel": _DICT, "RequestParameters": _LIST, "TimeoutInMillis": _INT,
            "ResponseTransferMode": _STR},
    # the Api event of a state machine
    "StateMachineApi": {"Path": _STR, "Method": _STR, "RestApiId": _STR + _DICT, "Stage": _STR, "Auth": _DICT,
                        "UnescapeMappingTemplate": _BOOL},
    "HttpApi": {"Path": _STR, "Method": _STR, "ApiId": _STR + _DICT, "Stage": _STR, "Auth": _DICT,
                "TimeoutInMillis": _INT, "RouteSettings": _DICT, "PayloadFormatVersion": _STR},
}
TYPE_NAMES = {str: "a string", dict: "a map", list: "a list", bool: "true or false", int: "an integer",
              float: "a number"}


def type_problem(kind: str, props: dict) -> tuple[str, str] | None:
    """(property, message) for the first property of the wrong type or not known at all, else None."""
    table = PROPERTY_TYPES[kind]
    for key, value in props.items():
        if key not in table:
            return key, f"unknown property {key!r} (known: {', '.join(sorted(table))})"
        expected = table[key]
        if expected is None or value is None or is_intrinsic(value):
            continue
        if not isinstance(value, expected) or (isinstance(value, bool) and bool not in expected):
            return key, f"{key} must be {' or '.join(TYPE_NAMES[t] for t in expected)}"
    return None


ATTRIBUTE_KEYS = ("DeletionPolicy", "UpdatePolicy", "Condition", "UpdateReplacePolicy", "Metadata")


@dataclass
class _Api:
    """One API being built: its working properties (a private copy) and whether lamctl manages its document."""

    logical_id: str
    type: str  # REST_TYPE / HTTP_TYPE
    props: dict
    attributes: dict
    depends_on: Any = None
    managed: bool = False
    implicit: bool = False
    keys: tuple = ()
    editor: Any = None  # the editor of the managed document, created once
    conditions: dict = field(default_factory=dict)  # path -> {method: condition or None}
    deletion_policies: list = field(default_factory=list)
    update_replace_policies: list = field(default_factory=list)

    def document_editor(self) -> Any:
        if self.editor is None or self.editor.doc is not self.props.get("DefinitionBody"):
            cls = SwaggerEditor if self.type == REST_TYPE else OpenApiEditor
            self.editor = cls(self.props.get("DefinitionBody"))
        return self.editor


def _fresh(value: Any) -> Any:
    """A copy in which no dict or list appears twice: the documents are built in place and share values
    (CORS origins, resource lists), and a YAML writer would turn shared nodes into aliases, which
    CloudFormation refuses."""
    if isinstance(value, dict):
        return {k: _fresh(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_fresh(v) for v in value]
    return value


def _event_order(ev: Any) -> str:
    """The reference orders a function's events by Path (so ``$default`` comes before ``/...``), else by name."""
    key = ev.properties.get("Path", ev.name) if isinstance(ev.properties, dict) else ev.name
    return key if isinstance(key, str) else ev.name


class _Transform:
    def __init__(self, ctx: Any, events: list):
        self.ctx = ctx
        self.events = events
        self.apis: dict[str, _Api] = {}
        self.template_resources: dict = ctx.template.get("Resources") or {}
        self.shared_usage_plan = SharedUsagePlan()
        self.record_set_groups: dict = {}
        self.function_names: dict[str, list] = {}
        self.replaced: dict[str, _Api] = {}  # explicit APIs named like an implicit one, set aside

    # -- errors --------------------------------------------------------------------------------------
    def api_error(self, api: _Api, message: str, prop: tuple = ()) -> Exception:
        """A located error about an API: at the property in the resource, or in Globals when it came from
        there, or (implicit APIs, made from events) at the first event that made the API."""
        section = "Api" if api.type == REST_TYPE else "HttpApi"
        raw = self.template_resources.get(api.logical_id)
        raw_props = raw.get("Properties") if isinstance(raw, dict) and not api.implicit else None
        globals_section = getattr(getattr(self.ctx, "globals", None), "sections", {}) or {}
        from_globals = bool(prop) and prop[0] in (globals_section.get(section) or {}) and not (
            isinstance(raw_props, dict) and prop[0] in raw_props)
        if api.implicit:
            name = (f"{api.logical_id} (the API lamctl creates for {'Api' if api.type == REST_TYPE else 'HttpApi'} "
                    f"events without {'RestApiId' if api.type == REST_TYPE else 'ApiId'})")
        else:
            name = api.logical_id
        if from_globals:
            return self.ctx.error(f"{name}: {message} (set in Globals.{section})", ("Globals", section) + tuple(prop))
        if api.implicit:
            return self.ctx.error(f"{name}: {message}", api.keys)
        keys = ("Resources", api.logical_id, "Properties") + tuple(prop) if prop else ("Resources", api.logical_id)
        return self.ctx.error(f"{name}: {message}", keys)

    def event_error(self, ev: Any, message: str, prop: tuple = ()) -> Exception:
        keys = tuple(ev.keys) + (("Properties",) + tuple(prop) if prop else ())
        return self.ctx.error(f"{ev.function_id}, event {ev.name} ({ev.type}): {message}", keys)

    # -- setup ---------------------------------------------------------------------------------------
    def collect_explicit(self) -> None:
        for logical_id, resource in self.ctx.sam_resources.items():
            rtype = resource.get("Type") if isinstance(resource, dict) else None
            if rtype not in (REST_TYPE, HTTP_TYPE):
                continue
            props = resource.get("Properties")
            keys = ("Resources", logical_id)
            if props is None:
                props = {}
            if not isinstance(props, dict):
                raise self.ctx.error(f"{logical_id}: Properties must be a map", keys + ("Properties",))
            problem = type_problem(rtype, props)
            if problem:
                raise self.ctx.error(f"{logical_id}: {problem[1]}", keys + ("Properties", problem[0]))
            props = dict(props)
            if isinstance(props.get("DefinitionBody"), dict):
                props["DefinitionBody"] = copy.deepcopy(props["DefinitionBody"])
            elif "DefinitionBody" in props and props["DefinitionBody"] is not None:
                raise self.ctx.error(f"{logical_id}: DefinitionBody must be a map (an inline swagger / OpenAPI "
                                     "document)", keys + ("Properties", "DefinitionBody"))
            for key in ("Tags", "RouteSettings"):
                if isinstance(props.get(key), dict):
                    props[key] = dict(props[key])
            attributes = {k: resource[k] for k in ATTRIBUTE_KEYS if k in resource}
            api = _Api(logical_id, rtype, props, attributes, resource.get("DependsOn"), keys=keys)
            if rtype == REST_TYPE:
                stage = props.get("StageName")
                if stage is None:
                    raise self.ctx.error(f"{logical_id}: StageName is required for an AWS::Serverless::Api",
                                         keys + ("Properties",), hint="add StageName: Prod (or any stage name)")
                if not isinstance(stage, (str, dict)):
                    raise self.ctx.error(f"{logical_id}: StageName must be a string",
                                         keys + ("Properties", "StageName"))
            if not props.get("DefinitionBody") and not props.get("DefinitionUri"):
                props["DefinitionBody"] = (SwaggerEditor.skeleton() if rtype == REST_TYPE
                                           else OpenApiEditor.skeleton())
                api.managed = True
            self.apis[logical_id] = api

    def implicit_api(self, rtype: str, ev: Any) -> _Api:
        logical_id = IMPLICIT_REST if rtype == REST_TYPE else IMPLICIT_HTTP
        api = self.apis.get(logical_id)
        if api is not None and api.implicit:
            return api
        props: dict = {"StageName": "Prod", "DefinitionBody": SwaggerEditor.skeleton()} if rtype == REST_TYPE \
            else {"DefinitionBody": OpenApiEditor.skeleton()}
        api = _Api(logical_id, rtype, props, {}, managed=True, implicit=True, keys=tuple(ev.keys))
        if logical_id in self.apis:  # as in the reference, the implicit API takes the place of a resource of its name
            self.replaced[logical_id] = self.apis[logical_id]
        self.apis[logical_id] = api
        return api

    def finish_implicit(self, api: _Api) -> None:
        """Globals.Api / Globals.HttpApi apply to the implicit APIs too (after their paths are known)."""
        glb = getattr(self.ctx, "globals", None)
        try:
            merged = glb.merge(api.type, api.props, api.logical_id) if glb is not None else api.props
        except ValueError as exc:  # the pipeline's GlobalsError
            raise self.ctx.error(getattr(exc, "message", str(exc)), getattr(exc, "keys", ("Globals",))) from None
        if merged is not api.props:
            api.props.clear()
            api.props.update(merged)
        api.editor = None
        problem = type_problem(api.type, api.props)
        if problem:
            section = "Api" if api.type == REST_TYPE else "HttpApi"
            raise self.ctx.error(f"Globals.{section}: {problem[1]}", ("Globals", section, problem[0]))

    # -- step 2: paths from events -------------------------------------------------------------------
    def add_paths(self, rtype: str) -> None:
        event_type = "Api" if rtype == REST_TYPE else "HttpApi"
        id_prop = "RestApiId" if rtype == REST_TYPE else "ApiId"
        implicit_id = IMPLICIT_REST if rtype == REST_TYPE else IMPLICIT_HTTP
        for ev in self.reference_event_order(event_type):
            props = ev.properties
            if rtype == REST_TYPE and not props:
                raise self.event_error(ev, "Properties with Path and Method are required")
            if not isinstance(props, dict):
                raise self.event_error(ev, "Properties must be a map")
            problem = type_problem("StateMachineApi" if getattr(ev, "state_machine_role", None) is not None
                                   else event_type, props)
            if problem:
                raise self.event_error(ev, problem[1], (problem[0],))
            if id_prop not in props:
                self.propagate_function_tags(ev, rtype)
                props[id_prop] = {"Ref": implicit_id}
            if rtype == HTTP_TYPE and not props.get("Path") and not props.get("Method"):
                props["Path"] = DEFAULT_PATH
                props["Method"] = X_ANY_METHOD
            api_ref = props[id_prop]
            api_id = api_ref["Ref"] if isinstance(api_ref, dict) and "Ref" in api_ref else api_ref
            for name in ("Path", "Method"):
                if props.get(name) is None:
                    raise self.event_error(ev, f"{name} is required", (name,))
                if not isinstance(props[name], str):
                    raise self.event_error(ev, f"{name} must be a string", (name,))
            if not isinstance(api_id, str):
                raise self.event_error(ev, f"{id_prop} must be a Ref to an {rtype} resource in this template",
                                       (id_prop,))
            if api_id == implicit_id:
                api = self.implicit_api(rtype, ev)
            else:
                api = self.apis.get(api_id)
            target = self.template_resources.get(api_id)
            target_type = api.type if api is not None else (target.get("Type") if isinstance(target, dict)
                                                            else None)
            if (api is None and not isinstance(target, dict)) or (target_type == HTTP_TYPE and rtype == REST_TYPE):
                raise self.event_error(ev, f"{id_prop} must be a valid reference to an '{rtype}' resource in this "
                                           "template", (id_prop,))
            path, method = props["Path"], props["Method"]
            if api is not None and api.type != rtype:
                api = None  # an HttpApi event on a REST API: the reference edits that API's OpenAPI 3 body later
            if api is not None:
                api.conditions.setdefault(path, {})[method] = ev.condition
                api.deletion_policies.append(ev.attributes.get("DeletionPolicy"))
                api.update_replace_policies.append(ev.attributes.get("UpdateReplacePolicy"))
            if api is not None and api.managed:
                try:
                    api.document_editor().add_path(path, method)
                except DefinitionError as exc:
                    raise self.api_error(api, exc.message, ("DefinitionBody",)) from None
            if rtype == HTTP_TYPE and "RouteSettings" in props and api is not None:
                self.add_route_settings(api, ev, props)

    def propagate_function_tags(self, ev: Any, rtype: str) -> None:
        """PropagateTags on a function copies its Tags onto the implicit API. As in the reference, the
        function's own Tags win whole over Globals.Function.Tags (no merge): the implicit API is made before
        Globals apply."""
        raw = self.template_resources.get(ev.function_id)
        local = raw.get("Properties") if isinstance(raw, dict) else None
        local = local if isinstance(local, dict) else {}
        sections = getattr(getattr(self.ctx, "globals", None), "sections", None)
        section = "StateMachine" if ev.state_machine_role is not None else "Function"
        glb = sections.get(section) if isinstance(sections, dict) else None
        if not isinstance(glb, dict):
            g = self.ctx.template.get("Globals")
            glb = g.get(section) if isinstance(g, dict) else None
        glb = glb if isinstance(glb, dict) else {}
        tags = local.get("Tags") or glb.get("Tags")
        propagate = local.get("PropagateTags") or glb.get("PropagateTags")
        if tags and propagate and isinstance(tags, dict):
            api = self.implicit_api(rtype, ev)
            api.props.setdefault("Tags", {}).update(tags)
            api.props["PropagateTags"] = True

    def add_route_settings(self, api: _Api, ev: Any, props: dict) -> None:
        path, method = props["Path"], props["Method"]
        route = path if method == X_ANY_METHOD else f"{method.upper()} {path}"
        settings = api.props.get("RouteSettings", {})
        if not isinstance(settings, dict):
            raise self.api_error(api, "RouteSettings must be a map", ("RouteSettings",))
        event_settings = props.get("RouteSettings", {})
        if ev.condition:
            event_settings = make_conditional(ev.condition, props.get("RouteSettings", {}))
        if not isinstance(event_settings, dict):
            raise self.event_error(ev, "RouteSettings must be a map", ("RouteSettings",))
        settings.setdefault(route, {})
        settings[route].update(event_settings)
        api.props["RouteSettings"] = settings

    def implicit_attributes(self, api: _Api) -> None:
        conditions = {c for methods in api.conditions.values() for c in methods.values()}
        if conditions and None not in conditions:
            if len(conditions) == 1:
                api.attributes["Condition"] = next(iter(conditions))
            else:
                name = api.logical_id + "Condition"
                self.add_combined_condition(name, conditions)
                api.attributes["Condition"] = name
        policies = [p for p in api.deletion_policies if p]
        value = "Retain" if "Retain" in policies else "Delete" if "Delete" in policies else None
        if value:
            api.attributes["DeletionPolicy"] = value
        policies = [p for p in api.update_replace_policies if p]
        if policies:
            value = ("Retain" if "Retain" in policies else "Snapshot" if "Snapshot" in policies
                     else "Delete" if "Delete" in policies else None)
            if value:
                api.attributes["UpdateReplacePolicy"] = value

    def add_combined_condition(self, name: str, conditions: set) -> None:
        items = sorted(conditions)
        total = len(items)
        extra = (1 + (total - 2) // 9) - 1
        while len(items) > 1:
            new_name = name
            if extra > 0:
                new_name = f"{name}{extra}"
                extra -= 1
            self.ctx.conditions[new_name] = {"Fn::Or": [{"Condition": c} for c in items[:10]]}
            items = items[10:]
            items.append(new_name)

    def path_conditions(self, rtype: str) -> None:
        for api in self.apis.values():
            if api.type != rtype or not api.managed:
                continue
            try:
                self.path_conditions_of(api)
            except DefinitionError as exc:
                raise self.api_error(api, exc.message, ("DefinitionBody",)) from None

    def path_conditions_of(self, api: _Api) -> None:
        editor = api.document_editor()
        for path in editor.iter_paths():
            methods = {c for c in api.conditions.get(path, {}).values()}
            if methods and None not in methods:
                if len(methods) == 1:
                    editor.make_path_conditional(path, next(iter(methods)))
                else:
                    name = api.logical_id + path.replace("/", "SLASH").replace("{", "OB").replace(
                        "}", "CB") + "PathCondition"
                    self.add_combined_condition(name, methods)
                    editor.make_path_conditional(path, name)

    def drop_empty_implicit(self) -> None:
        for logical_id in (IMPLICIT_REST, IMPLICIT_HTTP):
            api = self.apis.get(logical_id)
            if api is not None and api.implicit and not api.props["DefinitionBody"]["paths"]:
                del self.apis[logical_id]
                if logical_id in self.replaced:  # no route after all: the template's own resource stays
                    self.apis[logical_id] = self.replaced.pop(logical_id)

    # -- step 3: integrations and permissions --------------------------------------------------------------
    def api_props_for(self, api_id: str) -> tuple[_Api | None, dict]:
        api = self.apis.get(api_id)
        if api is not None:
            return api, api.props
        resource = self.template_resources.get(api_id)
        if not isinstance(resource, dict):
            return None, {}
        props = resource.get("Properties", {})
        return None, props if isinstance(props, dict) else {}

    def integrate(self) -> None:
        by_function: dict[str, list] = {}
        for ev in self.events:
            if ev.type in ("Api", "HttpApi"):
                by_function.setdefault(ev.function_id, []).append(ev)
        for function_id, events in by_function.items():
            events = sorted(events, key=_event_order)
            for ev in events:
                try:
                    if ev.type == "Api":
                        self.rest_event(ev)
                    else:
                        self.http_event(ev)
                except DefinitionError as exc:
                    raise self.event_error(ev, f"the definition of the API it names cannot take this route: "
                                               f"{exc.message}") from None

    def permission_function_name(self, ev: Any) -> Any:
        if ev.function_ref is not None:
            return ev.function_ref
        arn = ev.function_arn
        if isinstance(arn, dict) and "Fn::GetAtt" in arn:
            return {"Ref": ev.function_id}
        return arn

    def rest_event(self, ev: Any) -> None:
        ctx = self.ctx
        props = ev.properties
        raw_id = props["RestApiId"]
        api_id = raw_id["Ref"] if isinstance(raw_id, dict) and "Ref" in raw_id else raw_id
        method = props["Method"].lower()
        path = props["Path"]
        api, api_props = self.api_props_for(api_id)
        if api is None and not isinstance(self.template_resources.get(api_id), dict):
            raise self.event_error(ev, "RestApiId must reference a valid resource in this template", ("RestApiId",))
        stage = api_props.get("StageName")
        if isinstance(stage, str):
            if not stage:
                raise self.ctx.error(f"{api_id}: StageName cannot be empty",
                                     ("Resources", api_id, "Properties", "StageName"))
            suffix = stage
        else:
            suffix = "Stage"
        if ev.state_machine_role is not None:
            self.state_machine_event(ev, api, api_props, method, path, suffix)
            return
        if ev.function_name is not None:
            self.function_names.setdefault(api_id, []).append(str(ctx.resolve(ev.function_name)))
        # the permission
        clean = path_without_trailing_slash(re.sub(r"^(.+)/$", r"\1", path))
        verb = "*" if method == "any" else method.upper()
        source = fn_sub(f"arn:{ctx.partition}:execute-api:${{AWS::Region}}:${{AWS::AccountId}}:"
                        f"${{__ApiId__}}/${{__Stage__}}/{verb}{clean}", {"__ApiId__": raw_id, "__Stage__": "*"})
        prefix = ev.logical_id + "Permission"
        permission_id = prefix + suffix if suffix.isalnum() else prefix + hash_id(suffix)
        ctx.add(permission_id, _fresh(lambda_permission(self.permission_function_name(ev), source,
                                                        dict(ev.attributes))), ev.keys)
        auth = props.get("Auth")
        if api is not None and (api.managed or api_props.get("MergeDefinitions")):
            self.rest_integration(ev, api, method, path, suffix)
        body = api_props.get("DefinitionBody")
        if body and auth and isinstance(auth, dict) and auth.get("OverrideApiAuth"):
            if not (auth.get("Authorizer") or auth.get("ApiKeyRequired") or auth.get("ResourcePolicy")):
                raise self.event_error(ev, "OverrideApiAuth needs one of Authorizer, ApiKeyRequired or "
                                           "ResourcePolicy", ("Auth",))
            if api is None:
                return
            try:
                editor = api.document_editor()
                self.rest_auth(ev, auth, api, method, path, suffix, editor)
                editor.finish()
            except DefinitionError as exc:
                raise self.api_error(api, exc.message, ("DefinitionBody",)) from None

    def state_machine_event(self, ev: Any, api: Any, api_props: dict, method: str, path: str, stage: str) -> None:
        """A state machine's Api event: an ``aws`` integration that starts an execution, with the event's
        role as credentials (no Lambda permission), on an API whose definition lamctl manages."""
        if api is None or not api.managed or api.props.get("DefinitionBody") is None:
            return
        try:
            editor = api.document_editor()
        except DefinitionError as exc:
            raise self.api_error(api, exc.message, ("DefinitionBody",)) from None
        if editor.has_integration(path, method):
            raise self.event_error(ev, f'API method "{method}" is defined more than once for path "{path}"',
                                   ("Path",))
        props = ev.properties
        sm = ev.function_arn["Ref"]  # the state machine, or its alias with UseAliasAsEventTarget
        if props.get("UnescapeMappingTemplate"):
            template = (r'''{"input": "$util.escapeJavaScript($input.json('$')).replaceAll("\\'","'")", '''
                        '"stateMachineArn": "${' + sm + '}"}')
        else:
            template = json.dumps({"input": "$util.escapeJavaScript($input.json('$'))",
                                   "stateMachineArn": "${" + sm + "}"})
        uri = {"Fn::Sub": "arn:${AWS::Partition}:apigateway:${AWS::Region}:states:action/StartExecution"}
        try:
            editor.add_state_machine_integration(path, method, uri, ev.state_machine_role,
                                                 {"application/json": {"Fn::Sub": template}}, condition=ev.condition)
            if props.get("Auth"):  # as in the reference, a resource policy names the event's own Stage (or none)
                self.rest_auth(ev, props["Auth"], api, method, path, props.get("Stage"), editor)
        except DefinitionError as exc:
            raise self.event_error(ev, exc.message) from None
        editor.finish()

    def integration_uri(self, ev: Any, partition: str, mode: Any = None) -> dict:
        if mode == "RESPONSE_STREAM":
            version, suffix = "2021-11-15", "/response-streaming-invocations"
        else:
            version, suffix = "2015-03-31", "/invocations"
        return fn_sub(f"arn:{partition}:apigateway:${{AWS::Region}}:lambda:path/{version}/functions/"
                      + shorthand(ev.function_arn) + suffix)

    def rest_integration(self, ev: Any, api: _Api, method: str, path: str, stage: str) -> None:
        props = ev.properties
        merge = api.props.get("MergeDefinitions")
        if api.props.get("DefinitionBody") is None:
            return
        try:
            editor = SwaggerEditor(SwaggerEditor.skeleton()) if merge else api.document_editor()
        except DefinitionError as exc:
            raise self.api_error(api, exc.message, ("DefinitionBody",)) from None
        if editor.has_integration(path, method):
            raise self.event_error(ev, f'API method "{method}" is defined more than once for path "{path}"',
                                   ("Path",))
        method_auth = props.get("Auth") or {}
        if not isinstance(method_auth, dict):
            raise self.event_error(ev, "Auth must be a map", ("Auth",))
        api_auth = api.props.get("Auth") or {}
        if not isinstance(api_auth, dict):
            raise self.api_error(api, "Auth must be a map", ("Auth",))
        mode = props.get("ResponseTransferMode")
        try:
            editor.add_lambda_integration(path, method, self.integration_uri(ev, self.ctx.partition, mode),
                                          method_auth, api_auth, condition=ev.condition, invoke_mode=mode,
                                          partition=self.ctx.partition)
            if props.get("Auth"):
                self.rest_auth(ev, props["Auth"], api, method, path, stage, editor)
            if props.get("TimeoutInMillis"):
                editor.add_timeout(path, method, props["TimeoutInMillis"])
            model = props.get("RequestModel")
            if model:
                self.request_model(ev, api, editor, method, path, model)
            if props.get("RequestParameters"):
                self.request_parameters(ev, editor, method, path, props["RequestParameters"])
        except DefinitionError as exc:
            raise self.event_error(ev, exc.message) from None
        if merge:
            self.merge_definitions(ev, api, editor, method, path)
        else:
            editor.finish()

    def merge_definitions(self, ev: Any, api: _Api, editor: SwaggerEditor, method: str, path: str) -> None:
        """MergeDefinitions: the route built for this event (on a fresh skeleton) is merged into the user's
        DefinitionBody, the generated keys winning over the user's for that path and method. As in the
        reference, the result sits under the method name as written (``any`` stays ``any``)."""
        source = api.props["DefinitionBody"]
        merged = dict(source)
        paths = merged.get("paths") or {}
        if not isinstance(paths, dict):
            raise self.api_error(api, "DefinitionBody.paths must be a map", ("DefinitionBody",))
        item = paths.get(path)
        if item is not None and not isinstance(item, dict):
            raise self.api_error(api, f"DefinitionBody.paths.{path} must be a map", ("DefinitionBody",))
        existing = (item or {}).get(method) or {}
        if not isinstance(existing, dict):
            raise self.api_error(api, f"DefinitionBody.paths.{path}.{method} must be a map", ("DefinitionBody",))
        generated = editor.finish()["paths"][path][normalize_method(method)]
        if paths.get(path) is None:  # absent, or an empty (null) path item
            paths[path] = {}
        paths[path][method] = {**existing, **generated}
        api.props["DefinitionBody"] = merged

    def request_model(self, ev: Any, api: _Api, editor: SwaggerEditor, method: str, path: str, model: Any) -> None:
        if not isinstance(model, dict):
            raise self.event_error(ev, "RequestModel must be a map", ("RequestModel",))
        name = model.get("Model")
        if not name:
            return
        what = f"cannot set RequestModel [{name}] on method [{method}] of path [{path}]"
        models = api.props.get("Models")
        if not models:
            raise self.event_error(ev, f"{what}: the API defines no Models", ("RequestModel", "Model"))
        if not isinstance(models, dict):
            raise self.event_error(ev, f"{what}: the API's Models has an invalid type", ("RequestModel", "Model"))
        if not isinstance(name, str):
            raise self.event_error(ev, f"{what}: Model must be the name of one of the API's Models",
                                   ("RequestModel", "Model"))
        if not models.get(name):
            raise self.event_error(ev, f"{what}: it is not defined in the API's Models", ("RequestModel", "Model"))
        editor.add_request_model(path, method, model)
        body, params = model.get("ValidateBody"), model.get("ValidateParameters")
        if body is not None or params is not None:
            body = False if body is None else body
            params = False if params is None else params
            if not isinstance(body, bool) or not isinstance(params, bool):
                raise self.event_error(ev, f"{what}: ValidateBody and ValidateParameters must be true or false",
                                       ("RequestModel",))
            editor.add_request_validator(path, method, body, params)

    def request_parameters(self, ev: Any, editor: SwaggerEditor, method: str, path: str, values: Any) -> None:
        if not isinstance(values, list):
            raise self.event_error(ev, "RequestParameters must be a list", ("RequestParameters",))
        bad_key = ("invalid RequestParameters: keys look like 'method.request.[querystring|path|header].{value}', "
                   "e.g. 'method.request.header.Authorization'")
        out = []
        for parameter in values:
            if isinstance(parameter, dict):
                if len(parameter) != 1:
                    raise self.event_error(ev, "invalid RequestParameters: each map names one parameter, e.g. "
                                               "{method.request.header.X: {Required: true}}", ("RequestParameters",))
                name, value = next(iter(parameter.items()))
                if not re.match(r"method\.request\.(querystring|path|header)\.", name):
                    raise self.event_error(ev, bad_key, ("RequestParameters",))
                if not isinstance(value, dict) or not all(k in REQUEST_PARAMETER_PROPERTIES for k in value):
                    raise self.event_error(ev, "invalid RequestParameters: values must be maps like "
                                               "{Required: true, Caching: false}", ("RequestParameters",))
                settings = {"Required": False, "Caching": False, **value, "Name": name}
            elif isinstance(parameter, str):
                if not re.match(r"method\.request\.(querystring|path|header)\.", parameter):
                    raise self.event_error(ev, bad_key, ("RequestParameters",))
                settings = {"Required": False, "Caching": False, "Name": parameter}
            else:
                raise self.event_error(ev, "invalid RequestParameters: each item is a string or a map",
                                       ("RequestParameters",))
            out.append(settings)
        editor.add_request_parameters(path, method, out)

    def rest_auth(self, ev: Any, event_auth: dict, api: _Api, method: str, path: str, stage: Any,
                  editor: SwaggerEditor) -> None:
        authorizer = event_auth.get("Authorizer")
        api_auth = self.ctx.resolve(api.props.get("Auth"))
        where = f"cannot set Authorizer [{authorizer}] on method [{method}] of path [{path}]"
        if authorizer:
            api_authorizers = api_auth and api_auth.get("Authorizers")
            if api_authorizers and not isinstance(api_authorizers, dict):
                raise self.api_error(api, "Auth.Authorizers must be a map", ("Auth", "Authorizers"))
            if authorizer != "AWS_IAM":
                if authorizer != "NONE":
                    if not api_authorizers:
                        raise self.event_error(ev, f"{where}: the API defines no Authorizers",
                                               ("Auth", "Authorizer"))
                    if not isinstance(authorizer, str) or not isinstance(api_authorizers, dict):
                        raise self.event_error(ev, f"{where}: the authorizer must be the name of one of the API's "
                                                   "Authorizers", ("Auth", "Authorizer"))
                    if not api_authorizers.get(authorizer):
                        raise self.event_error(ev, f"{where}: it is not defined in the API's Authorizers",
                                               ("Auth", "Authorizer"))
                elif not api_auth or not api_auth.get("DefaultAuthorizer"):
                    raise self.event_error(ev, f"cannot set Authorizer NONE on method [{method}] of path [{path}]: "
                                               "'NONE' is only valid when the API has a DefaultAuthorizer",
                                           ("Auth", "Authorizer"))
        scopes = event_auth.get("AuthorizationScopes")
        if scopes:
            if not isinstance(scopes, list):
                raise self.event_error(ev, "Auth.AuthorizationScopes must be a list", ("Auth", "AuthorizationScopes"))
            if not authorizer:
                raise self.event_error(ev, "AuthorizationScopes works only when Authorizer is set",
                                       ("Auth", "AuthorizationScopes"))
        apikey = event_auth.get("ApiKeyRequired")
        if apikey is not None and not apikey and (not api_auth or not api_auth.get("ApiKeyRequired")):
            raise self.event_error(ev, f"cannot set ApiKeyRequired [False] on method [{method}] of path [{path}]: "
                                       "the API does not set ApiKeyRequired", ("Auth", "ApiKeyRequired"))
        if authorizer or apikey is not None:
            editor.add_auth_to_method(path, method, event_auth, api.props)
        policy = event_auth.get("ResourcePolicy")
        if policy:
            if not isinstance(policy, dict):
                raise self.event_error(ev, "Auth.ResourcePolicy must be a map", ("Auth", "ResourcePolicy"))
            editor.add_resource_policy(policy, path, stage)
            if policy.get("CustomStatements"):
                editor.add_custom_statements(policy.get("CustomStatements"))

    def http_event(self, ev: Any) -> None:
        ctx = self.ctx
        props = ev.properties
        raw_id = props["ApiId"]
        api_id = raw_id["Ref"] if isinstance(raw_id, dict) and "Ref" in raw_id else raw_id
        method = props["Method"].lower()
        path = props["Path"]
        api, api_props = self.api_props_for(api_id)
        # the permission (none for a route of a function that already owns the $default route)
        clean = re.sub(r"^(.+)/$", r"\1", path)
        editor = None
        if api_props.get("DefinitionBody"):
            editor = self.http_editor(api, api_id, api_props)
        skip = False
        if clean == DEFAULT_PATH:
            clean = ""
        elif editor is not None and editor.integration_function_matches(DEFAULT_PATH, X_ANY_METHOD,
                                                                       self.function_logical_id(ev)):
            skip = True
        if not skip:
            clean = path_without_trailing_slash(clean, rest=False)
            verb = "*" if method in ("any", X_ANY_METHOD) else method.upper()
            resource = "${__ApiId__}/${__Stage__}"
            if method == "any" and clean == f"/{DEFAULT_PATH}":
                resource += clean
            else:
                resource += f"/{verb}{clean}"
            source = fn_sub("arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:" + resource,
                            {"__ApiId__": raw_id, "__Stage__": "*"})
            ctx.add(ev.logical_id + "Permission", _fresh(lambda_permission(self.permission_function_name(ev), source,
                                                                           dict(ev.attributes))), ev.keys)
        if api is None or api.props.get("DefinitionBody") is None:
            return
        editor = self.http_editor(api, api_id, api.props)
        try:
            if api.managed and editor.has_integration(path, method):
                raise self.event_error(ev, f"API method '{method}' is defined more than once for path '{path}'",
                                       ("Path",))
            editor.add_lambda_integration(path, method, self.integration_uri(ev, "${AWS::Partition}"),
                                          condition=ev.condition)
            auth = props.get("Auth")
            if auth:
                self.http_auth(ev, api, editor, method, path, auth)
            if props.get("TimeoutInMillis"):
                editor.add_timeout(path, method, props["TimeoutInMillis"])
            names = re.findall("{(.*?)}", path)
            if names:
                editor.add_path_parameters(path, method, names)
            if props.get("PayloadFormatVersion"):
                editor.add_payload_format_version(path, method, props["PayloadFormatVersion"])
        except DefinitionError as exc:
            raise self.api_error(api, exc.message, ("DefinitionBody",)) from None
        editor.finish()

    def http_editor(self, api: _Api | None, api_id: str, api_props: dict) -> OpenApiEditor:
        """The OpenAPI editor of the API an HttpApi event names (a REST API with an OpenAPI 3 body works too)."""
        try:
            if api is not None and api.type == HTTP_TYPE:
                return api.document_editor()
            return OpenApiEditor(api_props["DefinitionBody"])
        except DefinitionError as exc:
            raise self.ctx.error(f"{api_id}: {exc.message}", ("Resources", api_id, "Properties", "DefinitionBody"),
                                 hint="an HttpApi event needs an AWS::Serverless::HttpApi (or an API whose "
                                      "DefinitionBody is OpenAPI 3)") from None

    def function_logical_id(self, ev: Any) -> str:
        arn = ev.function_arn
        if isinstance(arn, dict) and "Ref" in arn:
            return arn["Ref"]
        return ev.function_id

    def http_auth(self, ev: Any, api: _Api, editor: OpenApiEditor, method: str, path: str, auth: Any) -> None:
        if not isinstance(auth, dict):
            raise self.event_error(ev, "Auth must be a map", ("Auth",))
        authorizer = auth.get("Authorizer")
        api_auth = api.props.get("Auth", {})
        if not isinstance(api_auth, dict):
            raise self.api_error(api, "Auth must be a map", ("Auth",))
        if not authorizer:
            if api_auth.get("DefaultAuthorizer"):
                auth["Authorizer"] = authorizer = api_auth.get("DefaultAuthorizer")
            else:
                raise self.event_error(ev, "'Auth' needs an explicit 'Authorizer' or a 'DefaultAuthorizer' on the "
                                           "HttpApi", ("Auth",))
        authorizers = api_auth and api_auth.get("Authorizers")
        iam_enabled = bool(api_auth) and api_auth.get("EnableIamAuthorizer", False) is True
        where = f"cannot set Authorizer [{authorizer}] on method [{method}] of path [{path}]"
        if authorizer != "NONE" and not (authorizer == "AWS_IAM" and iam_enabled):
            if not isinstance(authorizer, str) or not isinstance(authorizers, dict):
                raise self.event_error(ev, f"{where}: the authorizer must be the name of one of the API's "
                                           "Authorizers", ("Auth", "Authorizer"))
        if authorizer == "NONE":
            if not api_auth.get("DefaultAuthorizer"):
                raise self.event_error(ev, f"cannot set Authorizer NONE on method [{method}] of path [{path}]: "
                                           "'NONE' is only valid when the API has a DefaultAuthorizer",
                                       ("Auth", "Authorizer"))
        elif (authorizer == "AWS_IAM" and not iam_enabled) or authorizer != "AWS_IAM":
            if not authorizers:
                raise self.event_error(ev, f"{where}: the API defines no Authorizers", ("Auth", "Authorizer"))
            if not authorizers.get(authorizer):
                raise self.event_error(ev, f"{where}: it is not defined in the API's Authorizers",
                                       ("Auth", "Authorizer"))
        if auth.get("AuthorizationScopes") and not isinstance(auth.get("AuthorizationScopes"), list):
            raise self.event_error(ev, f"cannot set Authorizer on method [{method}] of path [{path}]: "
                                       "'AuthorizationScopes' must be a list of strings",
                                   ("Auth", "AuthorizationScopes"))
        editor.add_auth_to_method(path, method, auth, api.props)

    def fix_openapi_versions(self) -> None:
        """A managed REST document follows the API's OpenApiVersion (3.x replaces 'swagger: 2.0')."""
        for api in self.apis.values():
            if api.type == REST_TYPE and api.managed:
                version = api.props.get("OpenApiVersion")
                if version is not None and matches(OPENAPI3_RE, version):
                    if not isinstance(version, str):
                        api.props["OpenApiVersion"] = version = str(version)
                    body = api.props.get("DefinitionBody")
                    if body is not None:
                        body["openapi"] = version
                        body.pop("swagger", None)
                        api.editor = None

    # -- step 4: the API resources --------------------------------------------------------------------
    def generate(self) -> None:
        ctx = self.ctx
        conditions = ctx.conditions if ("Conditions" in ctx.template or ctx.conditions) else None
        for api in self.reference_api_order():
            try:
                if api.type == REST_TYPE:
                    names = self.function_names.get(api.logical_id)
                    generator = RestApiGenerator(api.logical_id, api.props, api.attributes, api.depends_on,
                                                 ctx.partition, ctx.resolve, conditions, self.shared_usage_plan,
                                                 self.record_set_groups, "".join(names) if names else None)
                else:
                    generator = HttpApiGenerator(api.logical_id, api.props, api.attributes, api.depends_on,
                                                 ctx.partition, ctx.resolve, self.record_set_groups)
                resources = generator.generate()
            except ApiError as exc:
                raise self.api_error(api, exc.message, exc.prop) from None
            except DefinitionError as exc:
                raise self.api_error(api, exc.message, ("DefinitionBody",)) from None
            except TemplateError as exc:  # e.g. a parameter value of the wrong kind, met while resolving
                if exc.where:
                    raise
                raise self.api_error(api, exc.message) from None
            self.emit(api, resources)
        for logical_id, group in self.record_set_groups.items():
            ctx.resources[logical_id] = _fresh(group)

    def emit(self, api: _Api, resources: list) -> None:
        ctx = self.ctx
        shared_ids = {"ServerlessUsagePlan", "ServerlessApiKey", "ServerlessUsagePlanKey"}
        keys = api.keys
        if api.logical_id in ctx.resources and api.implicit:
            del ctx.resources[api.logical_id]
        for logical_id, resource in resources:
            if logical_id in shared_ids:
                ctx.resources[logical_id] = _fresh(resource)
            else:
                ctx.add(logical_id, _fresh(resource), keys)
        refs = {
            "AWS::ApiGateway::Stage": "Stage", "AWS::ApiGateway::Deployment": "Deployment",
            "AWS::ApiGateway::DomainName": "DomainName", "AWS::ApiGateway::DomainNameV2": "DomainNameV2",
            "AWS::ApiGateway::UsagePlan": "UsagePlan", "AWS::ApiGateway::UsagePlanKey": "UsagePlanKey",
            "AWS::ApiGateway::ApiKey": "ApiKey", "AWS::ApiGatewayV2::Stage": "Stage",
            "AWS::ApiGatewayV2::DomainName": "DomainName",
        }
        for logical_id, resource in resources:
            name = refs.get(resource["Type"])
            if name:
                if hasattr(ctx, "refer"):
                    ctx.refer(api.logical_id, name, logical_id)
                else:
                    ctx.rewrite_ref(f"{api.logical_id}.{name}", {"Ref": logical_id})

    # -- the reference's iteration order -------------------------------------------------------------------
    def py27_active(self) -> bool:
        """Does the reference emulate Python 2.7 dicts for this template? (When it has a REST API or an Api
        event, or an HttpApi with a DefaultAuthorizer.)"""
        resources = self.template_resources
        for res in resources.values():
            if not isinstance(res, dict):
                continue
            if res.get("Type") == REST_TYPE:
                return True
            events = (res.get("Properties") or {}).get("Events") if isinstance(res.get("Properties"), dict) else None
            if res.get("Type") == "AWS::Serverless::Function" and isinstance(events, dict):
                if any(isinstance(e, dict) and e.get("Type") == "Api" for e in events.values()):
                    return True
        g = self.ctx.template.get("Globals")
        gh = g.get("HttpApi") if isinstance(g, dict) else None
        gauth = gh.get("Auth") if isinstance(gh, dict) else None
        global_default = isinstance(gauth, dict) and bool(gauth.get("DefaultAuthorizer"))
        for res in resources.values():
            if isinstance(res, dict) and res.get("Type") == HTTP_TYPE:
                props = res.get("Properties") if isinstance(res.get("Properties"), dict) else {}
                auth = props.get("Auth")
                if (isinstance(auth, dict) and auth.get("DefaultAuthorizer")) or global_default:
                    return True
        if global_default:
            return any(ev.type == "HttpApi" for ev in self.events)
        return False

    def reference_event_order(self, event_type: str) -> list:
        """The events of one type in the order the reference's implicit-API step meets them: functions in
        resource order, then events in their (Python 2.7 when emulated) order."""
        events = [ev for ev in self.events if ev.type == event_type]
        if not events or not self.py27_active():
            return events
        implicit_id = IMPLICIT_REST if event_type == "Api" else IMPLICIT_HTTP
        keys = Py27Keys(k for k in self.template_resources if isinstance(k, str))
        if event_type == "HttpApi":
            keys.add(IMPLICIT_REST)
            if IMPLICIT_REST not in self.template_resources and not (
                    IMPLICIT_REST in self.apis and self.apis[IMPLICIT_REST].implicit):
                keys.remove(IMPLICIT_REST)
        keys.add(implicit_id)
        fn_rank = {k: i for i, k in enumerate(keys.keys())}
        event_rank: dict[tuple, int] = {}
        for fn in {ev.function_id for ev in events}:
            raw = self.template_resources.get(fn)
            props = raw.get("Properties") if isinstance(raw, dict) else None
            raw_events = props.get("Events") if isinstance(props, dict) else None
            if not isinstance(raw_events, dict):
                continue
            typed = [k for k in py27_order(raw_events)
                     if isinstance(raw_events[k], dict) and raw_events[k].get("Type") == event_type]
            for i, name in enumerate(py27_order(typed)):
                event_rank[(fn, name)] = i
        return sorted(events, key=lambda ev: (fn_rank.get(ev.function_id, len(fn_rank)),
                                              event_rank.get((ev.function_id, ev.name), 0)))

    def reference_api_order(self) -> list:
        """The APIs in the order the reference translates them (it matters for what APIs share: the
        SHARED usage plan and Route 53 record set groups)."""
        original = [k for k in self.template_resources if isinstance(k, str)]
        if self.py27_active():
            keys = Py27Keys(original)
            for implicit_id in (IMPLICIT_REST, IMPLICIT_HTTP):
                keys.add(implicit_id)
                used = implicit_id in self.apis and self.apis[implicit_id].implicit
                if not used and implicit_id not in self.template_resources:
                    keys.remove(implicit_id)
            order = keys.keys()
        else:
            order = original + [k for k in (IMPLICIT_REST, IMPLICIT_HTTP) if k not in self.template_resources]
        ranked = [self.apis[k] for k in order if k in self.apis]
        return ranked + [api for api in self.apis.values() if api not in ranked]

    # -- the whole thing --------------------------------------------------------------------------------
    def run(self) -> None:
        self.collect_explicit()
        for rtype in (REST_TYPE, HTTP_TYPE):
            self.add_paths(rtype)
            implicit = self.apis.get(IMPLICIT_REST if rtype == REST_TYPE else IMPLICIT_HTTP)
            if implicit is not None and implicit.implicit:
                self.implicit_attributes(implicit)
            self.path_conditions(rtype)
        self.drop_empty_implicit()
        for api in self.apis.values():
            if api.implicit:
                self.finish_implicit(api)
        self.fix_openapi_versions()
        self.integrate()
        self.generate()


def transform_apis(ctx: Any, api_events: list) -> None:
    """Translate every API of the template and every Api / HttpApi event (see the module docstring)."""
    _Transform(ctx, api_events).run()
