"""The ``Globals`` section: which keys each serverless type accepts, and the reference's merge rules.

Maps merge key by key (the resource's value wins), lists concatenate (global
first), scalars and intrinsic functions are replaced by the resource's value;
``Function.Architectures`` is replaced, never concatenated. ``IgnoreGlobals: "*"``
or a list of keys on a resource drops those globals for it.
"""

from __future__ import annotations

import copy
from typing import Any

from .intrinsics import is_intrinsic

SUPPORTED = {
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
}
REPLACE = {("Function", "Architectures")}


class GlobalsError(ValueError):
    def __init__(self, message: str, keys: tuple = ("Globals",), hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.keys = keys
        self.hint = hint


class Globals:
    def __init__(self, section: Any):
        self.sections: dict[str, dict] = {}
        if section is None:
            return
        if not isinstance(section, dict):
            raise GlobalsError("Globals must be a mapping of resource kinds (Function:, Api:, ...)")
        for name, props in section.items():
            if name not in SUPPORTED:
                raise GlobalsError(
                    f"Globals: '{name}' is not supported; use one of {', '.join(sorted(SUPPORTED))}",
                    ("Globals", name))
            if not isinstance(props, dict):
                raise GlobalsError(f"Globals.{name} must be a mapping of properties", ("Globals", name))
            for key in props:
                if key not in SUPPORTED[name]:
                    raise GlobalsError(
                        f"Globals.{name}: '{key}' is not a property Globals can set for {name}",
                        ("Globals", name, key), hint="allowed: " + ", ".join(SUPPORTED[name]))
            self.sections[name] = props

    def merge(self, resource_type: str, properties: Any, logical_id: str = "", ignore: Any = None) -> Any:
        """The resource's properties with the globals of its type merged in (a new object)."""
        kind = resource_type.replace("AWS::Serverless::", "")
        section = self.sections.get(kind)
        if section is None:
            return properties
        if ignore:
            if ignore == "*":
                return properties
            if isinstance(ignore, list):
                section = dict(section)
                for key in ignore:
                    if not isinstance(key, str) or key not in section:
                        raise GlobalsError(
                            f"resource {logical_id}: IgnoreGlobals names '{key}', which Globals.{kind} does not set",
                            ("Resources", logical_id, "IgnoreGlobals"))
                    del section[key]
            else:
                raise GlobalsError(f"resource {logical_id}: IgnoreGlobals must be \"*\" or a list of property names",
                                   ("Resources", logical_id, "IgnoreGlobals"))
        return _merge(kind, copy.deepcopy(section), properties, "")


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
    if (kind, path) in REPLACE:
        return l
    if tg == "d":
        out = dict(g)
        for key, value in l.items():
            child = f"{path}.{key}".lstrip(".")
            out[key] = _merge(kind, out[key], value, child) if key in out else value
        return out
    return g + l
