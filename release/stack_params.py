"""Stack inputs as data: parameter overrides (three forms and lamctl.toml), tags, capabilities.

Parameter overrides come as ``K=V``, ``ParameterKey=K,ParameterValue=V`` or
``file://params.json|yaml`` (a mapping ``{K: V}``, CodePipeline's
``{"Parameters": {K: V}}``, CloudFormation's list of ``{ParameterKey,
ParameterValue}``, or a list of ``K=V`` strings). Each keeps where it came from
so that an unknown name or a bad value is reported at its ``file:line:col``.

:func:`resolve_parameters` turns overrides into what the change set gets:
the value given; else the stack's previous value (``UsePreviousValue``); else
the template's default; a parameter with none of these, and a name the
template does not declare, are errors before any AWS call.
"""

from __future__ import annotations

import difflib
import os
import shlex
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from lamctl.schemas.errors import UsageError, location

CAPABILITIES = ("CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND")

IAM_TYPES = {
    "AWS::IAM::AccessKey", "AWS::IAM::Group", "AWS::IAM::InstanceProfile", "AWS::IAM::Policy",
    "AWS::IAM::ManagedPolicy", "AWS::IAM::Role", "AWS::IAM::User", "AWS::IAM::UserToGroupAddition",
}
# IAM resources with a physical name of the user's choosing need CAPABILITY_NAMED_IAM.
IAM_NAME_PROPERTIES = {
    "AWS::IAM::Role": "RoleName",
    "AWS::IAM::ManagedPolicy": "ManagedPolicyName",
    "AWS::IAM::User": "UserName",
    "AWS::IAM::Group": "GroupName",
    "AWS::IAM::InstanceProfile": "InstanceProfileName",
}

FORMS_HINT = "use K=V, ParameterKey=K,ParameterValue=V, or file://params.json (or .yaml)"


@dataclass(frozen=True)
class ParameterOverride:
    key: str
    value: str
    where: str  # "--parameter-overrides", "params.json:3:5", "lamctl.toml:7"


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ",".join(_scalar(v) for v in value)
    return str(value)


def parse_token(token: str, where: str, base_dir: str = ".") -> list[ParameterOverride]:
    """One override token in any of the three forms."""
    token = token.strip()
    if not token:
        return []
    if token.startswith("file://"):
        return load_parameter_file(os.path.join(base_dir, token[len("file://"):]))
    if token.startswith("ParameterKey="):
        head, sep, value = token.partition(",ParameterValue=")
        key = head[len("ParameterKey="):]
        if not sep or not key:
            raise UsageError(f"parameter override {token!r} is not ParameterKey=K,ParameterValue=V", where=where,
                             hint=FORMS_HINT)
        return [ParameterOverride(key, value, where)]
    key, sep, value = token.partition("=")
    if not sep or not key.strip():
        raise UsageError(f"parameter override {token!r} is not in a known form", where=where, hint=FORMS_HINT)
    return [ParameterOverride(key.strip(), value, where)]


def parse_overrides(items: Iterable[str], where: str = "--parameter-overrides", base_dir: str = ".",
                    ) -> list[ParameterOverride]:
    """Flag values: each may hold several space-separated tokens (shell quoting respected)."""
    out: list[ParameterOverride] = []
    for item in items:
        try:
            tokens = shlex.split(item)
        except ValueError as exc:
            raise UsageError(f"parameter overrides {item!r}: {exc}", where=where, hint=FORMS_HINT) from None
        for token in tokens:
            out.extend(parse_token(token, where, base_dir))
    return out


def overrides_from_config(value: Any, where: str, base_dir: str = ".") -> list[ParameterOverride]:
    """``parameter_overrides`` from lamctl.toml: a table ``{K = "V"}``, a list of tokens, or one string."""
    if value is None:
        return []
    if isinstance(value, dict):
        return [ParameterOverride(str(k), _scalar(v), where) for k, v in value.items()]
    if isinstance(value, str):
        return parse_overrides([value], where, base_dir)
    if isinstance(value, (list, tuple)):
        return parse_overrides([str(v) for v in value], where, base_dir)
    raise UsageError(f"parameter_overrides must be a table, a list or a string, not {type(value).__name__}",
                     where=where)


def load_parameter_file(path: str) -> list[ParameterOverride]:
    import yaml

    try:
        with open(path, "rb") as fh:
            text = fh.read().decode("utf-8-sig")
    except FileNotFoundError:
        raise UsageError(f"parameter file {path} does not exist", where="--parameter-overrides",
                         hint="file:// paths are relative to the current folder") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read parameter file {path}: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = location(path, mark.line + 1, mark.column + 1) if mark else path
        raise UsageError(f"invalid JSON/YAML: {exc.problem or exc}", where=where) from None
    except yaml.YAMLError as exc:
        raise UsageError(f"invalid JSON/YAML: {exc}", where=path) from None

    def at(node) -> str:
        return location(path, node.start_mark.line + 1, node.start_mark.column + 1) or path

    def value_of(node) -> str:
        if isinstance(node, yaml.ScalarNode):
            return node.value
        if isinstance(node, yaml.SequenceNode) and all(isinstance(n, yaml.ScalarNode) for n in node.value):
            return ",".join(n.value for n in node.value)
        raise UsageError("a parameter value must be a string, a number, a boolean or a list of them", where=at(node))

    shape_hint = ('use {"Key": "value"}, {"Parameters": {"Key": "value"}}, '
                  '[{"ParameterKey": "Key", "ParameterValue": "value"}] or ["Key=value"]')
    if root is None:
        return []
    if isinstance(root, yaml.MappingNode):
        pairs = root.value
        if len(pairs) == 1 and isinstance(pairs[0][0], yaml.ScalarNode) and pairs[0][0].value == "Parameters" \
                and isinstance(pairs[0][1], yaml.MappingNode):
            pairs = pairs[0][1].value
        out = []
        for k, v in pairs:
            if not isinstance(k, yaml.ScalarNode):
                raise UsageError("a parameter name must be a string", where=at(k), hint=shape_hint)
            out.append(ParameterOverride(k.value, value_of(v), at(k)))
        return out
    if isinstance(root, yaml.SequenceNode):
        out = []
        for item in root.value:
            if isinstance(item, yaml.ScalarNode):
                out.extend(parse_token(item.value, at(item), os.path.dirname(path) or "."))
                continue
            if not isinstance(item, yaml.MappingNode):
                raise UsageError("each entry must be an object or a K=V string", where=at(item), hint=shape_hint)
            fields = {k.value: v for k, v in item.value if isinstance(k, yaml.ScalarNode)}
            if "ParameterKey" not in fields:
                raise UsageError("an entry has no ParameterKey", where=at(item), hint=shape_hint)
            if "UsePreviousValue" in fields:
                continue  # the previous value is what lamctl passes anyway
            if "ParameterValue" not in fields:
                raise UsageError(f"parameter {fields['ParameterKey'].value!r} has no ParameterValue", where=at(item),
                                 hint=shape_hint)
            out.append(ParameterOverride(value_of(fields["ParameterKey"]), value_of(fields["ParameterValue"]),
                                         at(fields["ParameterKey"])))
        return out
    raise UsageError("a parameter file holds an object or a list", where=at(root), hint=shape_hint)


def check_parameter_names(template: dict, overrides: Iterable[ParameterOverride],
                          where: Callable[..., str | None] | None = None) -> None:
    """Refuse a name the template does not declare, with the closest declared name.

    With ``where`` (a :meth:`lamctl.schemas.template.Template.where`), the error is located at the
    template's ``Parameters`` (``file:line:col``; the template itself when it has none) and names where the
    override came from; without it, at the override (its flag, or its ``file:line:col``)."""
    declared = template.get("Parameters") or {}
    if not isinstance(declared, dict):
        declared = {}
    for o in overrides:
        if o.key in declared:
            continue
        close = difflib.get_close_matches(o.key, list(declared), n=1)
        if close:
            hint = f"did you mean {close[0]}?"
        elif declared:
            hint = "the template declares: " + ", ".join(declared)
        else:
            hint = "the template declares no parameters"
        if where is None:
            raise UsageError(f"unknown parameter {o.key!r}: the template does not declare it", where=o.where,
                             hint=hint)
        if "Parameters" in template:
            at, what = where(["Parameters"], key=True), "the template's Parameters do not declare it"
        else:
            at, what = where([]), "the template has no Parameters section"
        raise UsageError(f"unknown parameter {o.key!r} (from {o.where}): {what}", where=at, hint=hint)


def resolve_parameters(template: dict, overrides: Iterable[ParameterOverride], previous: dict[str, str],
                       stack: str | None = None) -> tuple:
    """What each declared parameter gets: override, previous value, or default. Refuses unknown names and
    parameters left without a value."""
    from lamctl.release.stacks import ParameterChoice

    declared = template.get("Parameters") or {}
    if not isinstance(declared, dict):
        declared = {}
    given: dict[str, ParameterOverride] = {}
    for o in overrides:
        given[o.key] = o  # last wins: lamctl.toml first, then flags in order
    check_parameter_names(template, given.values())
    choices = []
    missing = []
    for key, spec in declared.items():
        spec = spec if isinstance(spec, dict) else {}
        no_echo = str(spec.get("NoEcho", "false")).lower() == "true"
        if key in given:
            o = given[key]
            allowed = spec.get("AllowedValues")
            ptype = str(spec.get("Type", "String"))
            if isinstance(allowed, list) and allowed and not ptype.startswith("List") and "CommaDelimited" not in ptype:
                if o.value not in [_scalar(a) for a in allowed]:
                    raise UsageError(f"parameter {key}: {o.value!r} is not one of the allowed values "
                                     + ", ".join(_scalar(a) for a in allowed), where=o.where)
            choices.append(ParameterChoice(key, o.value, "override", no_echo))
        elif key in previous:
            choices.append(ParameterChoice(key, None, "previous", no_echo))
        elif "Default" in spec:
            choices.append(ParameterChoice(key, None, "default", no_echo))
        else:
            missing.append(key)
    if missing:
        names = ", ".join(missing)
        raise UsageError(f"parameter{'s' if len(missing) > 1 else ''} {names} ha{'ve' if len(missing) > 1 else 's'} "
                         "no value: the template gives no Default and the stack has no previous value",
                         where=stack, hint="pass --parameter-overrides " + " ".join(f"{k}=VALUE" for k in missing))
    return tuple(choices)


def _walk_has_key(value: Any, key: str) -> bool:
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, dict):
            if key in v:
                return True
            stack.extend(v.values())
        elif isinstance(v, list):
            stack.extend(v)
    return False


def infer_capabilities(template: dict) -> tuple[str, ...]:
    """IAM when the template holds IAM resources, NAMED_IAM when one has a name of its own,
    AUTO_EXPAND when a macro (a Transform) is left for CloudFormation to run. A nested stack
    (``AWS::CloudFormation::Stack``, SAM's ``AWS::Serverless::Application``) may hold any of them, and
    CloudFormation asks the parent to acknowledge what its nested stacks need: all three."""
    resources = template.get("Resources") or {}
    iam = named = nested = False
    for res in resources.values() if isinstance(resources, dict) else ():
        if not isinstance(res, dict):
            continue
        rtype = res.get("Type")
        if rtype == "AWS::CloudFormation::Stack":
            iam = named = nested = True
        if rtype in IAM_TYPES:
            iam = True
            prop = IAM_NAME_PROPERTIES.get(rtype)
            props = res.get("Properties") or {}
            if prop and isinstance(props, dict) and props.get(prop) not in (None, ""):
                named = True
    out = []
    if named:
        out.append("CAPABILITY_NAMED_IAM")
    elif iam:
        out.append("CAPABILITY_IAM")
    transform = template.get("Transform")
    if transform or nested or _walk_has_key(resources, "Fn::Transform"):
        out.append("CAPABILITY_AUTO_EXPAND")
    return tuple(out)


def parse_capabilities(items: Iterable[str], where: str = "--capabilities") -> tuple[str, ...]:
    out: list[str] = []
    for item in items:
        for token in str(item).replace(",", " ").split():
            name = token.upper()
            if not name.startswith("CAPABILITY_"):
                name = "CAPABILITY_" + name
            if name not in CAPABILITIES:
                raise UsageError(f"unknown capability {token!r}", where=where, hint="use " + ", ".join(CAPABILITIES))
            if name not in out:
                out.append(name)
    return tuple(out)


def parse_tags(items: Iterable[str] | dict | None, where: str = "--tags") -> dict[str, str]:
    if not items:
        return {}
    if isinstance(items, dict):
        return {str(k): _scalar(v) for k, v in items.items()}
    out: dict[str, str] = {}
    for item in items:
        try:
            tokens = shlex.split(str(item))
        except ValueError as exc:
            raise UsageError(f"tags {item!r}: {exc}", where=where) from None
        for token in tokens:
            key, sep, value = token.partition("=")
            if not sep or not key:
                raise UsageError(f"tag {token!r} is not KEY=VALUE", where=where, hint="e.g. --tags team=payments")
            if len(key) > 128 or len(value) > 256:
                raise UsageError(f"tag {key!r}: keys hold at most 128 characters and values 256", where=where)
            out[key] = value
    if len(out) > 50:
        raise UsageError(f"{len(out)} tags given; a stack takes at most 50", where=where)
    return out
