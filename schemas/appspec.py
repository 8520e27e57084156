"""The AppSpec of a Lambda deployment (CodeDeploy's format; docs/architecture.md, facts of the platform), YAML or JSON.

``load_appspec(path)`` validates against ``appspec.schema.json`` and returns an
:class:`AppSpec`; every problem is a :class:`TemplateError` (exit 2) with
``file:line:col``, found through :mod:`lamctl.schemas.template`'s positions.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from functools import lru_cache

from .errors import TemplateError, location
from .template import Template, parse_text

SCHEMA_FILE = os.path.join(os.path.dirname(__file__), "appspec.schema.json")


@dataclass(frozen=True)
class AppSpec:
    path: str
    resource: str  # the logical name of the one resource
    function: str
    alias: str
    current: str | None
    target: str
    hooks: dict[str, str] = field(default_factory=dict)  # BeforeAllowTraffic / AfterAllowTraffic -> function
    data: dict = field(default_factory=dict, repr=False, compare=False)
    where_current: str | None = None

    def to_codedeploy(self, current: str) -> dict:
        """The AppSpec as CodeDeploy's ``AppSpecContent`` wants it (list form, versions as strings)."""
        return appspec_document(self.function, self.alias, current, self.target, self.hooks, self.resource)


def appspec_document(function: str, alias: str, current: str, target: str, hooks: dict[str, str],
                     resource: str = "Function") -> dict:
    doc: dict = {"version": 0.0, "Resources": [{resource: {"Type": "AWS::Lambda::Function", "Properties": {
        "Name": function, "Alias": alias, "CurrentVersion": str(current), "TargetVersion": str(target)}}}]}
    if hooks:
        doc["Hooks"] = [{event: fn} for event, fn in hooks.items()]
    return doc


@lru_cache(maxsize=1)
def appspec_schema() -> dict:
    with open(SCHEMA_FILE, encoding="utf-8") as fh:
        return json.load(fh)


def _explain(err) -> str:
    schema = err.schema
    if err.validator == "required":
        return err.message.replace("is a required property", "is missing")
    if err.validator == "additionalProperties":
        return err.message.replace("Additional properties are not allowed", "unknown key")
    if err.validator == "const":
        return f"{err.instance!r} is not supported; expected {schema['const']}"
    if err.validator in ("maxItems", "maxProperties") and isinstance(err.instance, (list, dict)):
        return "an AppSpec for Lambda names exactly one function (one entry) here"
    if "description" in schema:
        return f"{err.instance!r} is not valid: {schema['description']}"
    return err.message


def _located(doc: Template, err) -> tuple[int, int, int, str, str]:
    path_ = list(err.absolute_path)
    key = False
    message = _explain(err)
    if err.validator == "additionalProperties" and isinstance(err.instance, dict):
        allowed = list(err.schema.get("properties", {}))
        extra = [k for k in err.instance if k not in allowed]
        if extra:
            import difflib

            path_, key = path_ + [extra[0]], True
            close = difflib.get_close_matches(str(extra[0]), allowed, n=1)
            message = f"unknown key {extra[0]!r}" + (f" (did you mean {close[0]}?)" if close else
                                                    f" (expected one of {', '.join(allowed)})")
    line, col = doc.position(path_, key=key)
    return (0 if key else 1, line or 0, col or 0, doc.where(path_, key=key), message)


def load_appspec(path: str) -> AppSpec:
    try:
        with open(path, "rb") as fh:
            text = fh.read().decode("utf-8-sig")
    except FileNotFoundError:
        raise TemplateError(f"AppSpec {path} does not exist", hint="check the path given to --appspec") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise TemplateError(f"cannot read the AppSpec: {exc}", where=path) from None
    try:
        data = parse_text(text, path)
    except TemplateError as exc:
        raise TemplateError(exc.message.replace("a template", "an AppSpec").replace("the template", "the AppSpec"),
                            where=exc.where, hint=exc.hint) from None
    doc = Template(path=path, data=data, text=text)

    import jsonschema

    validator = jsonschema.Draft202012Validator(appspec_schema())
    problems = []
    for err in validator.iter_errors(data):
        if err.validator == "oneOf" and err.context:
            # the list form is the standard one: report what is wrong in it
            branch = [e for e in err.context if e.relative_schema_path and e.relative_schema_path[0] == 0]
            problems.extend(_located(doc, e) for e in (branch or err.context))
            continue
        problems.append(_located(doc, err))
    if problems:
        problems.sort()  # unknown keys first (a typo explains a missing key), then by position
        *_, where, message = problems[0]
        raise TemplateError(message, where=where,
                            hint="see the AppSpec format: version: 0.0, Resources: [{Name: {Type: "
                                 "AWS::Lambda::Function, Properties: {Name, Alias, CurrentVersion, TargetVersion}}}], "
                                 "Hooks: [{BeforeAllowTraffic: fn}, {AfterAllowTraffic: fn}]")

    resources = data["Resources"]
    entry = resources[0] if isinstance(resources, list) else resources
    base = ["Resources", 0] if isinstance(resources, list) else ["Resources"]
    name = next(iter(entry))
    props = entry[name]["Properties"]
    hooks: dict[str, str] = {}
    for i, hook in enumerate(data.get("Hooks") or []):
        event, fn = next(iter(hook.items()))
        if event in hooks:
            raise TemplateError(f"{event} is given twice", where=doc.where(["Hooks", i], key=False),
                                hint="name one hook function per lifecycle event")
        hooks[event] = fn
    current = str(props["CurrentVersion"]) if "CurrentVersion" in props else None
    target = str(props["TargetVersion"])
    if current is not None and current == target:
        raise TemplateError(f"CurrentVersion and TargetVersion are both {target}: nothing to shift",
                            where=doc.where(base + [name, "Properties", "TargetVersion"]),
                            hint="set TargetVersion to the version to release")
    return AppSpec(path=path, resource=name, function=str(props["Name"]), alias=str(props["Alias"]), current=current,
                   target=target, hooks=hooks, data=data,
                   where_current=doc.where(base + [name, "Properties", "CurrentVersion"]) if current else None)


__all__ = ["AppSpec", "appspec_document", "load_appspec", "location"]
