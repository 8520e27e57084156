"""Schema validation of a loaded template against ``sam.schema.json``, one finding per problem.

``schema_findings(template)`` returns :class:`Finding` objects, each pointing at
``file:line:col`` through :meth:`Template.where` and saying what is wrong in
the template's own words (``Fn.MemorySize must be an integer, not 'big'``),
with a hint when there is an obvious fix (a misspelt property name).

The schema is compiled once per process and jsonschema is imported on first
use only, so importing this module costs nothing (``lamctl --help`` stays fast).
"""

from __future__ import annotations

import difflib
import json
import os
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Iterable

from .errors import location
from .template import Template

SCHEMA_FILE = os.path.join(os.path.dirname(__file__), "sam.schema.json")

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True)
class Finding:
    """One problem in a template: where, what, how to fix it."""

    message: str
    path: tuple = ()
    file: str | None = None
    line: int | None = None
    col: int | None = None
    severity: str = ERROR
    code: str = "schema"
    hint: str | None = None
    extra: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def where(self) -> str | None:
        return location(self.file, self.line, self.col)

    def __str__(self) -> str:
        head = f"{self.where}: " if self.where else ""
        sev = "" if self.severity == ERROR else f"{self.severity}: "
        return f"{head}{sev}{self.message}"

    def to_dict(self) -> dict:
        out = {"severity": self.severity, "code": self.code, "file": self.file, "line": self.line,
               "col": self.col, "path": ".".join(str(p) for p in self.path), "message": self.message}
        if self.hint:
            out["hint"] = self.hint
        return out


def finding_at(template: Template, path: Iterable[Any], message: str, *, key: bool = False, hint: str | None = None,
               severity: str = ERROR, code: str = "schema") -> Finding:
    """A finding located at ``path`` in ``template`` (at its key with ``key=True``)."""
    path = tuple(path)
    line, col = template.position(path, key=key)
    return Finding(message=message, path=path, file=template.path, line=line, col=col, severity=severity,
                   code=code, hint=hint)


@lru_cache(maxsize=1)
def sam_schema() -> dict:
    with open(SCHEMA_FILE, encoding="utf-8") as fh:
        return json.load(fh)


@lru_cache(maxsize=1)
def _validator():
    import jsonschema

    return jsonschema.Draft202012Validator(sam_schema())


def intrinsic_names() -> list[str]:
    return sam_schema()["$defs"]["intrinsic"]["propertyNames"]["enum"]


def _resolve(schema: Any) -> Any:
    """Follow local ``$ref`` pointers (only ``#/$defs/...`` occurs in our schema)."""
    seen = 0
    while isinstance(schema, dict) and "$ref" in schema and seen < 16:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = sam_schema()["$defs"][name]
        seen += 1
    return schema


def label(path: tuple) -> str:
    """How a finding names the thing at ``path``: ``Fn.MemorySize``, ``Globals.Function.Timeout``."""
    parts = [str(p) if not isinstance(p, int) else f"[{p}]" for p in path]
    if len(path) >= 2 and path[0] == "Resources":
        rest = list(path[2:])
        if rest[:1] == ["Properties"]:
            rest = rest[1:]
        parts = [str(path[1])] + [str(p) if not isinstance(p, int) else f"[{p}]" for p in rest]
    out = ""
    for p in parts:
        out += p if (not out or p.startswith("[")) else "." + p
    return out or "the template"


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if value is None:
        return "empty"
    return type(value).__name__


def _show(value: Any) -> str:
    if isinstance(value, (dict, list)):
        return _kind(value)
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _expected(schema: Any) -> str:
    schema = _resolve(schema)
    if not isinstance(schema, dict):
        return "something else"
    if "x-expected" in schema:
        return schema["x-expected"]
    if "enum" in schema:
        return "one of " + ", ".join(str(v) for v in schema["enum"] if v is not None)
    if "const" in schema:
        return repr(schema["const"])
    if "anyOf" in schema:
        branches = [_resolve(b) for b in schema["anyOf"]]
        enums = [b for b in branches if isinstance(b, dict) and "enum" in b]
        if enums:
            return "one of " + ", ".join(str(v) for b in enums for v in b["enum"] if v is not None)
        return " or ".join(_expected(b) for b in branches if b is not _resolve({"$ref": "#/$defs/intrinsic"}))
    t = schema.get("type")
    names = {"string": "a string", "integer": "an integer", "number": "a number", "boolean": "true or false",
             "object": "a mapping", "array": "a list", "null": "empty"}
    if isinstance(t, list):
        return " or ".join(names.get(x, x) for x in t)
    if t:
        return names.get(t, t)
    return "something else"


def _looks_intrinsic(value: Any) -> bool:
    return isinstance(value, dict) and len(value) == 1 and (
        next(iter(value)) == "Ref" or str(next(iter(value))).startswith("Fn::"))


def _owner(path: tuple, data: dict) -> str:
    """What an object at ``path`` is, for messages: ``AWS::Serverless::Function Fn``, ``Api event Get``."""
    if len(path) >= 2 and path[0] == "Resources":
        res = data.get("Resources", {}).get(path[1]) if isinstance(data.get("Resources"), dict) else None
        rtype = res.get("Type") if isinstance(res, dict) else None
        if len(path) >= 6 and path[2:4] == ("Properties", "Events") and path[5:6] == ("Properties",):
            ev = res.get("Properties", {}).get("Events", {}).get(path[4]) if isinstance(res, dict) else None
            etype = ev.get("Type") if isinstance(ev, dict) else None
            return f"{etype} event {path[4]}" if etype else f"event {path[4]}"
        if len(path) >= 5 and path[2:4] == ("Properties", "Events"):
            return f"event {path[4]} of {path[1]}"
        if len(path) == 3 and path[2] == "Properties" and rtype:
            return f"{rtype} {path[1]}"
        if len(path) == 2:
            return f"resource {path[1]}"
    if len(path) == 2 and path[0] == "Globals":
        return f"Globals.{path[1]}"
    return label(path)


def _shape(err, template: Template) -> list[Finding]:
    """Turn one jsonschema error into findings a person can act on."""
    path = tuple(err.absolute_path)
    schema = err.schema if isinstance(err.schema, dict) else {}
    instance = err.instance
    data = template.data
    v = err.validator

    if v == "additionalProperties":
        allowed = set(schema.get("properties", {}))
        unsupported = set(schema.get("x-unsupported", ()))
        out = []
        for key in instance:
            if key in allowed:
                continue
            owner = _owner(path, data)
            if key in unsupported:
                msg = f"{key} is not supported by lamctl in {owner}"
                hint = "remove it; lamctl supports: " + ", ".join(sorted(allowed))
                if path[:1] == ("Globals",) and len(path) == 2:
                    msg = f"{key} cannot be set in Globals.{path[1]}"
                    hint = "set it on each resource instead"
                elif path == ("Globals",):
                    msg = f"Globals.{key} is not supported by lamctl"
                    hint = "Globals sections: " + ", ".join(sorted(allowed))
                out.append(finding_at(template, path + (key,), msg, key=True, hint=hint))
                continue
            close = difflib.get_close_matches(str(key), sorted(allowed), n=1, cutoff=0.6)
            rtype = instance.get("Type") if isinstance(instance, dict) else None
            if len(path) == 2 and path[0] == "Resources" and isinstance(rtype, str) \
                    and rtype.startswith("AWS::Serverless::"):
                # the SAM transform reads the resource attributes it knows and drops the others, as the reference
                # (aws-sam-translator) does: accepted, with a warning (a typo of a known one loses its effect)
                out.append(finding_at(
                    template, path + (key,), f"resource attribute {key!r} of {path[1]} ({rtype}) is ignored: the "
                    "SAM transform drops the attributes it does not know", key=True, severity=WARNING,
                    hint=f"did you mean {close[0]}?" if close else "remove it, or move it under Properties if it "
                    "is a property"))
                continue
            if path == ():
                msg = f"unknown top-level section {key!r}"
            elif path == ("Globals",):
                msg = f"unknown Globals section {key!r}"
            elif path[:1] == ("Globals",) and len(path) == 2:
                msg = f"unknown Globals key {key!r} in Globals.{path[1]}"
            elif len(path) == 2 and path[0] == "Resources":
                msg = f"unknown resource attribute {key!r} in resource {path[1]}"
            else:
                msg = f"unknown property {key!r} in {owner}"
            if close:
                hint = f"did you mean {close[0]}?"
            elif allowed and len(allowed) <= 40:
                hint = "known: " + ", ".join(sorted(allowed))
            else:
                hint = None
            out.append(finding_at(template, path + (key,), msg, key=True, hint=hint))
        return out

    if v == "required":
        missing = [name for name in err.validator_value if not (isinstance(instance, dict) and name in instance)]
        owner = _owner(path, data)
        return [finding_at(template, path, f"{owner} is missing the required property {name!r}",
                           key=bool(path), hint=f"add {name}:") for name in missing]

    if v in ("enum", "const"):
        if path and path[-1] == "Type" and "x-unsupported" in schema:
            known = schema.get("enum", [])
            is_event = len(path) >= 5 and path[2:4] == ("Properties", "Events")
            if instance in schema["x-unsupported"]:
                what = "event type" if is_event else "resource type"
                return [finding_at(template, path, f"{what} {instance} is not supported by lamctl",
                                   hint="supported: " + ", ".join(known))]
            close = difflib.get_close_matches(str(instance), known, n=1, cutoff=0.6)
            hint = (f"did you mean {close[0]}? " if close else "") + "known event types: " + ", ".join(known)
            return [finding_at(template, path, f"unknown event type {instance!r} in event {path[4]} of {path[1]}",
                               hint=hint)]
        return [finding_at(template, path, f"{label(path)} must be {_expected(schema)}, not {_show(instance)}")]

    if v in ("anyOf", "oneOf"):
        if _looks_intrinsic(instance):
            name = next(iter(instance))
            if name not in intrinsic_names():
                close = difflib.get_close_matches(name, intrinsic_names(), n=1)
                return [finding_at(template, path, f"unknown intrinsic function {name!r} in {label(path)}",
                                   hint=f"did you mean {close[0]}?" if close else None)]
        # Descend into the branch meant for this kind of value (a mapping into the mapping schema, ...).
        branches = schema.get(v, [])
        matching = [i for i, b in enumerate(branches) if _type_matches(_resolve(b), instance)]
        if len(matching) == 1 and isinstance(instance, (dict, list)):
            inner = [e for e in (err.context or ()) if e.relative_schema_path and e.relative_schema_path[0] == matching[0]]
            if inner:
                out = []
                for e in inner:
                    out.extend(_shape(e, template))
                return out
        return [finding_at(template, path, f"{label(path)} must be {_expected(schema)}, not {_show(instance)}")]

    if v == "type":
        return [finding_at(template, path, f"{label(path)} must be {_expected(schema)}, not {_show(instance)}")]

    if v == "pattern" and path and path[-1] == "Type":
        return [finding_at(template, path, f"{instance!r} is not a resource type",
                           hint="resource types look like AWS::Service::Resource")]

    if v == "pattern":
        return [finding_at(template, path, f"{label(path)} must be {_expected(schema)}, not {_show(instance)}")]

    if v == "minProperties" and path == ("Resources",):
        return [finding_at(template, path, "Resources declares no resource", key=True,
                           hint="a template needs at least one resource")]

    if v == "maxItems":
        return [finding_at(template, path,
                           f"{label(path)} takes at most {err.validator_value} item(s), not {len(instance)}")]

    if v in ("minProperties", "maxProperties") and _looks_intrinsic(instance) is False and isinstance(instance, dict):
        return [finding_at(template, path, f"{label(path)} must be {_expected(schema)}, not {_show(instance)}")]

    if v == "not" and isinstance(instance, dict) and "IgnoreGlobals" in instance:
        return [finding_at(template, path + ("IgnoreGlobals",), "IgnoreGlobals applies only to AWS::Serverless:: "
                           "resources", key=True, hint="remove it from this resource")]
    return [finding_at(template, path, f"{label(path)}: {err.message}")]


def _type_matches(schema: Any, value: Any) -> bool:
    if not isinstance(schema, dict):
        return False
    if "anyOf" in schema:
        return any(_type_matches(_resolve(b), value) for b in schema["anyOf"])
    if schema.get("propertyNames"):  # the intrinsic branch: chosen only for intrinsic-shaped values
        return False
    t = schema.get("type")
    if t is None:
        return False
    kinds = t if isinstance(t, list) else [t]
    for k in kinds:
        if k == "object" and isinstance(value, dict):
            return True
        if k == "array" and isinstance(value, list):
            return True
        if k == "string" and isinstance(value, str):
            return True
        if k == "boolean" and isinstance(value, bool):
            return True
        if k in ("integer", "number") and isinstance(value, (int, float)) and not isinstance(value, bool):
            return True
    return False


def schema_findings(template: Template) -> list[Finding]:
    """Every schema violation in ``template``, in document order, duplicates removed."""
    out: list[Finding] = []
    seen = set()
    for err in _validator().iter_errors(template.data):
        for f in _shape(err, template):
            key = (f.path, f.message)
            if key not in seen:
                seen.add(key)
                out.append(f)
    out.sort(key=lambda f: (f.line or 0, f.col or 0, f.message))
    return out
