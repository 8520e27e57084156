"""Intrinsic functions as the transform sees them: parameter resolution and reference rewriting.

Resolution follows the reference transform exactly, including its habit of
rewriting nested values in place (callers copy first when they must not):
``{"Ref": P}`` becomes the value of parameter ``P`` when known, ``${P}`` inside
``Fn::Sub`` strings is substituted, everything else is left alone.
"""

from __future__ import annotations

import re
from typing import Any, Callable

from lamctl.schemas.errors import TemplateError
from lamctl.schemas.sam import is_intrinsic

_SUB_REF = re.compile(r"\$\{([A-Za-z0-9\.]+|AWS::[A-Z][A-Za-z]*)\}")
_HANDLED = ("Ref", "Fn::Sub", "Fn::GetAtt")


def is_if(value: Any) -> bool:
    return is_intrinsic(value) and "Fn::If" in value


def is_no_value(value: Any) -> bool:
    return is_intrinsic(value) and value.get("Ref") == "AWS::NoValue"


def _param(parameters: dict, name: str, default: Any) -> Any:
    value = parameters.get(name, default)
    if isinstance(value, str) and value.startswith("{{IntrinsicFunction:"):
        return default
    return value


def _sub_string(text: str, handler: Callable[[str, str], Any]) -> str:
    out = text
    for match in _SUB_REF.finditer(text):
        value = handler(match.group(0), match.group(1))
        if not isinstance(value, str):
            raise TemplateError(f"Fn::Sub variable {match.group(0)} resolves to {value!r}, not a string",
                                hint="Fn::Sub substitutes strings only; give the parameter a string value")
        out = out.replace(match.group(0), value, 1)
    return out


def _sub(node: dict, handler: Callable[[str, str], Any]) -> dict:
    value = node["Fn::Sub"]
    if isinstance(value, str):
        node["Fn::Sub"] = _sub_string(value, handler)
    elif isinstance(value, list) and value and isinstance(value[0], str):
        value[0] = _sub_string(value[0], handler)
    return node


def resolve_parameter_refs(value: Any, parameters: dict) -> Any:
    """Inline known parameter values into ``value`` (in place where nested; returns the result)."""
    if not parameters:
        return value
    return _walk(value, lambda node: _resolve_one(node, parameters))


def _resolve_one(node: Any, parameters: dict) -> Any:
    if not (isinstance(node, dict) and len(node) == 1):
        return node
    key = next(iter(node))
    if key == "Ref":
        name = node["Ref"]
        if not isinstance(name, str):
            return node
        return _param(parameters, name, node)
    if key == "Fn::Sub":
        return _sub(node, lambda full, name: _param(parameters, name, full))
    return node


def _walk(value: Any, fn: Callable[[Any], Any]) -> Any:
    value = fn(value)
    if isinstance(value, dict):
        for k, v in value.items():
            value[k] = _walk(v, fn)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            value[i] = _walk(v, fn)
    return value


def find_in_map(value: Any, mappings: dict) -> Any:
    """Resolve ``Fn::FindInMap`` over ``mappings`` where all three keys are plain strings (recursively)."""
    if not mappings:
        return value

    def one(node):
        if not (isinstance(node, dict) and len(node) == 1 and "Fn::FindInMap" in node):
            return node
        args = node["Fn::FindInMap"]
        if not isinstance(args, list) or len(args) != 3:
            raise TemplateError(f"Fn::FindInMap takes [MapName, TopLevelKey, SecondLevelKey], got {args!r}")
        keys = [one(a) for a in args]
        if not all(isinstance(k, str) for k in keys):
            return node
        m = mappings.get(keys[0])
        if m is None:
            return node
        if not isinstance(m, dict) or (keys[1] in m and not isinstance(m[keys[1]], dict)):
            raise TemplateError(f"Fn::FindInMap: mapping {keys[0]} is not a two-level map")
        if keys[1] not in m or keys[2] not in m[keys[1]]:
            return node
        return m[keys[1]][keys[2]]

    return _walk(value, one)


def logical_id_of(value: Any) -> str | None:
    """The logical ID in ``{"Ref": id}`` or ``{"Fn::GetAtt": [id, attr]}`` / ``"id.attr"``, else None."""
    if not is_intrinsic(value):
        return None
    if "Ref" in value:
        return value["Ref"] if isinstance(value["Ref"], str) else None
    if "Fn::GetAtt" in value:
        v = value["Fn::GetAtt"]
        if isinstance(v, list) and v and isinstance(v[0], str):
            return v[0]
        if isinstance(v, str):
            return v.split(".", 1)[0]
    return None


class Rewriter:
    """Rewrite references after the transform, as the reference does in its final passes.

    * ``changed``: old logical ID -> new (a layer's hashed ID): ``Ref``, ``GetAtt``, ``${id}`` and
      ``DependsOn`` follow;
    * ``props``: ``(logical ID, property)`` -> generated logical ID, for ``!Ref Fn.Alias``,
      ``!GetAtt Fn.Alias.X``, ``${Fn.Alias}``;
    * ``refs`` / ``getatts``: explicit replacements registered by pipeline steps.
    """

    def __init__(self, changed: dict, props: dict, refs: dict | None = None, getatts: dict | None = None):
        self.changed = changed
        self.props = props
        self.refs = refs or {}
        self.getatts = getatts or {}

    def template(self, template: dict) -> dict:
        if self.changed:
            for resource in (template.get("Resources") or {}).values():
                if isinstance(resource, dict) and "DependsOn" in resource:
                    resource["DependsOn"] = self._depends_on(resource["DependsOn"])
            template = _walk(template, self._id_refs)
        if self.props:
            template = _walk(template, self._prop_refs)
        if self.refs or self.getatts:
            template = _walk(template, self._explicit)
        return template

    def _depends_on(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.changed.get(value, value)
        if isinstance(value, list):
            return [self.changed.get(v, v) if isinstance(v, str) else v for v in value]
        return value

    def _id_refs(self, node: Any) -> Any:
        if not (isinstance(node, dict) and len(node) == 1):
            return node
        key = next(iter(node))
        if key == "Ref":
            v = node["Ref"]
            if isinstance(v, str) and "." not in v and v in self.changed:
                return {"Ref": self.changed[v]}
        elif key == "Fn::GetAtt":
            v = node["Fn::GetAtt"]
            if isinstance(v, list) and len(v) >= 2 and all(isinstance(x, str) for x in v):
                parts = ".".join(v).split(".")
                new = self.changed.get(parts[0])
                if new:
                    node["Fn::GetAtt"] = [new, *parts[1:]]
        elif key == "Fn::Sub":
            def handler(full, ref):
                lid = ref.split(".")[0]
                new = self.changed.get(lid)
                return full.replace(lid, new) if new else full
            return _sub(node, handler)
        return node

    def _prop_refs(self, node: Any) -> Any:
        if not (isinstance(node, dict) and len(node) == 1):
            return node
        key = next(iter(node))
        if key == "Ref":
            v = node["Ref"]
            if isinstance(v, str) and "." in v:
                lid, prop = v.split(".", 1)
                new = self.props.get((lid, prop)) if lid and prop else None
                if new:
                    return {"Ref": new}
        elif key == "Fn::GetAtt":
            v = node["Fn::GetAtt"]
            if isinstance(v, list) and len(v) >= 2 and all(isinstance(x, str) for x in v):
                parts = ".".join(v).split(".")
                new = self.props.get((parts[0], parts[1]))
                if new:
                    node["Fn::GetAtt"] = [new, *parts[2:]]
        elif key == "Fn::Sub":
            def handler(full, ref):
                parts = ref.split(".")
                if len(parts) < 2:
                    return full
                new = self.props.get((parts[0], parts[1]))
                if not new:
                    return full
                return full.replace(parts[0] + "." + parts[1], new)
            return _sub(node, handler)
        return node

    def _explicit(self, node: Any) -> Any:
        if not (isinstance(node, dict) and len(node) == 1):
            return node
        if "Ref" in node and isinstance(node["Ref"], str) and node["Ref"] in self.refs:
            return self.refs[node["Ref"]]
        if "Fn::GetAtt" in node:
            v = node["Fn::GetAtt"]
            if isinstance(v, list) and len(v) == 2 and (v[0], v[1]) in self.getatts:
                return self.getatts[(v[0], v[1])]
        return node
