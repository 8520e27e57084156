"""The SAM rules every layer shares: one answer each, the reference transform's.

* :data:`TRANSFORM`: the name a template declares under ``Transform:`` to ask for SAM;
  :func:`is_serverless`: does a template need the SAM transform;
* :func:`is_intrinsic`: is a value an intrinsic function (``{"Ref": ...}``, ``{"Fn::...": ...}``,
  ``{"Condition": ...}``);
* ``Globals``: which properties each serverless type takes from ``Globals`` (:data:`GLOBALS_SUPPORTED`),
  and how they merge into a resource (:class:`Globals`, :func:`merge_globals`), as ``aws-sam-translator``
  merges them: maps merge key by key (the resource's value wins), lists concatenate (global first),
  scalars and intrinsic functions are replaced by the resource's value, ``Function.Architectures`` is
  replaced, never concatenated; ``IgnoreGlobals: "*"`` (or a list of property names) on a resource
  drops those globals for it;
* :func:`code_location`: where the code of a function or layer is (:data:`CODE_PROPERTIES`).

Build, the local runtime, validate and the transform all read a template through
these, so that what is built, run, checked and deployed is the same function.
Pure: standard library only.
"""

from __future__ import annotations

import copy
from typing import Any, Callable

from lamctl.schemas.errors import TemplateError

TRANSFORM = "AWS::Serverless-2016-10-31"
SERVERLESS_PREFIX = "AWS::Serverless::"

# resource type -> the property that says where its code is
CODE_PROPERTIES = {
    "AWS::Serverless::Function": "CodeUri",
    "AWS::Serverless::LayerVersion": "ContentUri",
    "AWS::Lambda::Function": "Code",
    "AWS::Lambda::LayerVersion": "Content",
}

# Globals section -> the properties it may set (the reference's list)
GLOBALS_SUPPORTED = {
    "Function": [
        "Handler", "Runtime", "CodeUri", "DeadLetterQueue", "Description", "MemorySize", "Timeout", "VpcConfig",
        "Environment", "Tags", "PropagateTags", "Tracing", "KmsKeyArn", "AutoPublishAlias",
        "AutoPublishAliasAllProperties", "Layers", "DeploymentPreference", "RolePath", "PermissionsBoundary",
        "ReservedConcurrentExecutions", "ProvisionedConcurrencyConfig", "AssumeRolePolicyDocument",
        "EventInvokeConfig", "FileSystemConfigs", "CodeSigningConfigArn", "Architectures", "SnapStart",
        "EphemeralStorage", "FunctionUrlConfig", "RuntimeManagementConfig", "LoggingConfig", "RecursiveLoop",
        "SourceKMSKeyArn", "TenancyConfig", "DurableConfig", "CapacityProviderConfig", "FunctionScalingConfig",
        "PublishToLatestPublished", "VersionDeletionPolicy",
    ],
    "Api": [
        "Auth", "Name", "DefinitionUri", "CacheClusterEnabled", "CacheClusterSize", "MergeDefinitions", "Variables",
        "EndpointConfiguration", "MethodSettings", "BinaryMediaTypes", "MinimumCompressionSize", "Cors",
        "GatewayResponses", "AccessLogSetting", "CanarySetting", "TracingEnabled", "OpenApiVersion", "Domain",
        "AlwaysDeploy", "PropagateTags", "SecurityPolicy", "EndpointAccessMode",
    ],
    "HttpApi": [
        "Auth", "AccessLogSettings", "StageVariables", "Tags", "CorsConfiguration", "DefaultRouteSettings", "Domain",
        "RouteSettings", "FailOnWarnings", "PropagateTags",
    ],
    "SimpleTable": ["SSESpecification"],
    "StateMachine": ["PropagateTags"],
    "LayerVersion": ["PublishLambdaVersion"],
    "CapacityProvider": ["VpcConfig", "OperatorRole", "Tags", "InstanceRequirements", "ScalingConfig", "KmsKeyArn",
                         "PropagateTags", "LoggingConfig", "ManagedResourceTags"],
    "WebSocketApi": ["AccessLogSettings", "ApiKeySelectionExpression", "DefaultRouteSettings",
                     "DisableExecuteApiEndpoint", "DisableSchemaValidation", "Domain", "FailOnWarnings",
                     "IpAddressType", "PropagateTags", "RouteSelectionExpression", "RouteSettings", "StageVariables",
                     "Tags"],
}
# (section, property path) whose resource value replaces the global one whatever its type
GLOBALS_REPLACE = {("Function", "Architectures")}


def is_intrinsic(value: Any) -> bool:
    """A one-key mapping naming an intrinsic function: ``Ref``, ``Condition`` or ``Fn::*``."""
    if isinstance(value, dict) and len(value) == 1:
        key = next(iter(value))
        return isinstance(key, str) and (key in ("Ref", "Condition") or key.startswith("Fn::"))
    return False


def transforms_of(template: dict) -> list[str]:
    """The names under ``Transform:``: a name, a list of them, or ``{Name: ..., Parameters: ...}`` items."""
    t = template.get("Transform") if isinstance(template, dict) else None
    out = []
    for item in t if isinstance(t, list) else [t]:
        if isinstance(item, dict):
            item = item.get("Name")
        if isinstance(item, str):
            out.append(item)
    return out


def is_serverless(template: dict) -> bool:
    """Does the template ask for the SAM transform, or hold serverless resources or ``Connectors`` attributes
    (which need it)?"""
    if TRANSFORM in transforms_of(template):
        return True
    resources = template.get("Resources")
    return isinstance(resources, dict) and any(
        isinstance(r, dict) and (isinstance(r.get("Type"), str) and r["Type"].startswith(SERVERLESS_PREFIX)
                                 or "Connectors" in r)
        for r in resources.values())


def code_location(resource_type: Any, properties: Any) -> tuple[str, Any] | None:
    """Where the code of a function or layer is: (property, value), ``properties`` after Globals.

    None when the resource has no code to find: not a function or layer, a container image
    (``PackageType: Image`` or ``ImageUri``), ``InlineCode``, or a missing ``Code`` / ``Content``
    / ``ContentUri``. A serverless function with no ``CodeUri`` has its code in the template's
    folder, as SAM reads it: ``("CodeUri", ".")``. The value is as written: a path, an S3 URI,
    an S3 mapping (``Bucket``/``Key``, ``S3Bucket``/``S3Key``, ``ZipFile``) or an intrinsic."""
    prop = CODE_PROPERTIES.get(resource_type) if isinstance(resource_type, str) else None
    if prop is None:
        return None
    props = properties if isinstance(properties, dict) else {}
    if props.get("PackageType") == "Image" or "ImageUri" in props:
        return None
    value = props.get(prop)
    if value is None:
        if resource_type == "AWS::Serverless::Function" and "InlineCode" not in props:
            return prop, "."
        return None
    return prop, value


class GlobalsError(ValueError):
    """A ``Globals`` section (or an ``IgnoreGlobals``) that breaks the rules; ``keys`` locate it (its key
    rather than its value when ``key`` is set: a name that is not allowed)."""

    def __init__(self, message: str, keys: tuple = ("Globals",), hint: str | None = None, key: bool = False):
        super().__init__(message)
        self.message = message
        self.keys = keys
        self.hint = hint
        self.key = key

    def located(self, where: Callable[..., str | None]) -> TemplateError:
        """The error as users see it; ``where(keys, key=...)`` -> ``file:line:col`` (``Template.where``)."""
        return TemplateError(self.message, hint=self.hint, where=where(list(self.keys), key=self.key))


class Globals:
    """A template's ``Globals``, ready to merge into its resources.

    ``check=True`` (the transform, build, the local runtime) refuses what the reference refuses: a
    section that is not a mapping, a kind or property Globals cannot set, a wrong ``IgnoreGlobals``
    (:class:`GlobalsError`). ``check=False`` (validate, which reports those problems itself) merges
    whatever mappings it finds and passes over a wrong ``IgnoreGlobals``."""

    def __init__(self, section: Any, check: bool = True):
        self.sections: dict[str, dict] = {}
        self.check = check
        if section is None:
            return
        if not isinstance(section, dict):
            if check:
                raise GlobalsError("Globals must be a mapping of resource kinds (Function:, Api:, ...)")
            return
        for name, props in section.items():
            if name not in GLOBALS_SUPPORTED:
                if check:
                    raise GlobalsError(
                        f"Globals: '{name}' is not supported; use one of {', '.join(sorted(GLOBALS_SUPPORTED))}",
                        ("Globals", name), key=True)
                if not isinstance(name, str) or not isinstance(props, dict):
                    continue
            if not isinstance(props, dict):
                if check:
                    raise GlobalsError(f"Globals.{name} must be a mapping of properties", ("Globals", name))
                continue
            if check:
                for key in props:
                    if key not in GLOBALS_SUPPORTED[name]:
                        raise GlobalsError(
                            f"Globals.{name}: '{key}' is not a property Globals can set for {name}",
                            ("Globals", name, key), hint="allowed: " + ", ".join(GLOBALS_SUPPORTED[name]),
                            key=True)
            self.sections[name] = props

    @classmethod
    def of(cls, template: dict, check: bool = True) -> "Globals":
        """The ``Globals`` of a template (a mapping with ``Globals:`` at the top, or not)."""
        return cls(template.get("Globals") if isinstance(template, dict) else None, check)

    def section_for(self, resource_type: str, logical_id: str = "", ignore: Any = None) -> dict:
        """The globals that apply to one resource: its kind's section less what ``IgnoreGlobals`` drops."""
        kind = _kind(resource_type)
        section = self.sections.get(kind) if kind else None
        if not section or not ignore:
            return section or {}
        if ignore == "*":
            return {}
        if isinstance(ignore, list):
            section = dict(section)
            for key in ignore:
                if not isinstance(key, str) or key not in section:
                    if self.check:
                        raise GlobalsError(
                            f"resource {logical_id}: IgnoreGlobals names '{key}', which Globals.{kind} does not set",
                            ("Resources", logical_id, "IgnoreGlobals"))
                    continue
                del section[key]
            return section
        if self.check:
            raise GlobalsError(f"resource {logical_id}: IgnoreGlobals must be \"*\" or a list of property names",
                               ("Resources", logical_id, "IgnoreGlobals"))
        return section

    def merge(self, resource_type: str, properties: Any, logical_id: str = "", ignore: Any = None) -> Any:
        """The resource's properties with the globals of its type merged in (a new object; ``properties``
        itself when no globals apply)."""
        kind = _kind(resource_type)
        if kind not in self.sections:
            return properties
        return merge_globals(self.section_for(resource_type, logical_id, ignore), properties, kind)

    def resource(self, logical_id: str, resource: Any) -> dict:
        """The properties of ``resource`` (a template entry) after Globals; ``{}`` when it has none."""
        if not isinstance(resource, dict):
            return {}
        props = resource.get("Properties")
        props = props if isinstance(props, dict) else {}
        rtype = resource.get("Type")
        if not isinstance(rtype, str):
            return props
        return self.merge(rtype, props, logical_id, resource.get("IgnoreGlobals"))


def _kind(resource_type: Any) -> str | None:
    if isinstance(resource_type, str) and resource_type.startswith(SERVERLESS_PREFIX):
        return resource_type[len(SERVERLESS_PREFIX):]
    return None


def merge_globals(global_props: Any, local: Any, kind: str = "Function") -> Any:
    """``local`` (a resource's properties) with ``global_props`` (its Globals section) merged in.

    A new object; neither argument is changed."""
    return _merge(kind, copy.deepcopy(global_props), local, "")


def _token(value: Any) -> str:
    if isinstance(value, dict):
        return "p" if is_intrinsic(value) else "d"
    if isinstance(value, list):
        return "l"
    return "p"


def _merge(kind: str, g: Any, l: Any, path: str) -> Any:
    tg, tl = _token(g), _token(l)
    if tg != tl or tg == "p":
        return l
    if (kind, path) in GLOBALS_REPLACE:
        return l
    if tg == "d":
        out = dict(g)
        for key, value in l.items():
            child = f"{path}.{key}".lstrip(".")
            out[key] = _merge(kind, out[key], value, child) if key in out else value
        return out
    return g + l
