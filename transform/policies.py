"""The execution role's policies: managed policy names to ARNs, inline statements, SAM policy templates.

Data (``data/``): AWS managed policy names per partition and the SAM policy
templates, loaded once on first use.
"""

from __future__ import annotations

import copy
import json
import os
from functools import lru_cache
from typing import Any

from .intrinsics import is_if, is_intrinsic, is_no_value

_DATA = os.path.join(os.path.dirname(__file__), "data")
_PREFIX = "___SAM_POLICY_PARAMETER_"


@lru_cache(maxsize=1)
def _managed() -> dict:
    with open(os.path.join(_DATA, "managed_policies.json"), encoding="utf-8") as fh:
        return json.load(fh)


@lru_cache(maxsize=1)
def templates() -> dict:
    with open(os.path.join(_DATA, "policy_templates.json"), encoding="utf-8") as fh:
        return json.load(fh)["Templates"]


def managed_policy_arn(name: str, partition: str) -> str:
    """``AWSLambdaExecute`` -> ``arn:aws:iam::aws:policy/AWSLambdaExecute``; unknown names stay as they are."""
    path = _managed().get(partition, {}).get(name)
    if path is not None:
        return f"arn:{partition}:iam::aws:policy/{path}{name}"
    return name


def aws_policy(partition: str, name: str) -> str:
    return f"arn:{partition}:iam::aws:policy/{name}"


class PolicyError(ValueError):
    pass


# policy kinds
MANAGED, STATEMENT, TEMPLATE, UNKNOWN = "managed", "statement", "template", "unknown"


def kind_of(policy: Any) -> str:
    if isinstance(policy, str):
        return MANAGED
    if is_if(policy):
        items = policy["Fn::If"]
        if not isinstance(items, list) or len(items) != 3:
            raise PolicyError("Fn::If in Policies needs [condition, value_if_true, value_if_false]")
        a, b = kind_of(items[1]), kind_of(items[2])
        if a == b:
            return a
        if is_no_value(items[1]):
            return b
        if is_no_value(items[2]):
            return a
        raise PolicyError("different policy types within one Fn::If are not supported; "
                          "split them into separate Fn::If entries")
    if is_intrinsic(policy):
        return MANAGED
    if isinstance(policy, dict) and "Statement" in policy:
        return STATEMENT
    if isinstance(policy, dict) and len(policy) == 1 and next(iter(policy)) in templates():
        return TEMPLATE
    return UNKNOWN


def as_list(policies: Any) -> list:
    if not policies:
        return []
    return policies if isinstance(policies, list) else [policies]


def expand_template(name: str, values: Any) -> dict:
    """A policy template with its parameter values -> ``{"Statement": [...]}``."""
    tpl = templates()[name]
    if not isinstance(values, dict):
        raise PolicyError(f"policy template {name} needs a mapping of parameter values "
                          f"({', '.join(tpl['Parameters']) or 'use {} when it takes none'})")
    missing = [p for p in tpl["Parameters"] if p not in values]
    if missing:
        raise PolicyError(f"policy template {name} is missing parameter(s) {', '.join(missing)}")
    params = {_PREFIX + k: v for k, v in values.items() if k in tpl["Parameters"]}

    def walk(node):
        if isinstance(node, dict):
            if len(node) == 1 and "Ref" in node and isinstance(node["Ref"], str):
                key = _PREFIX + node["Ref"]
                return copy.deepcopy(params[key]) if key in params else {"Ref": key}
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    return walk(tpl["Definition"])


def expand_templates(policies: Any) -> list | Any:
    """The Policies list with every policy template replaced by its statement (what the reference's plugin does)."""
    entries = as_list(policies)
    out = []
    for p in entries:
        kind = kind_of(p)
        if kind != TEMPLATE:
            out.append(p)
        elif is_if(p):
            cond, a, b = p["Fn::If"]
            a = a if is_no_value(a) else expand_template(*next(iter(a.items())))
            b = b if is_no_value(b) else expand_template(*next(iter(b.items())))
            out.append({"Fn::If": [cond, a, b]})
        else:
            out.append(expand_template(*next(iter(p.items()))))
    return out


class NotAPolicy(PolicyError):
    """An entry of ``Policies`` that is neither a managed policy, a statement document nor a known template."""

    def __init__(self, index: int):
        super().__init__(f"Policies[{index}] is not a managed policy name or ARN, a policy document with "
                         "Statement, or a known policy template")
        self.index = index


def add_role_policies(policies: list, role_id: str, partition: str, docs: list, managed: list) -> None:
    """Sort a role's ``Policies`` (templates already expanded) as the reference does: a statement document
    becomes the inline policy ``<role_id>Policy<index>`` (in both branches of an ``Fn::If``), appended to
    ``docs``; a managed policy name becomes its ARN (also inside an ``Fn::If``), appended to ``managed`` once.
    :class:`PolicyError` for an entry it cannot read, :class:`NotAPolicy` for one of no known kind."""
    for index, entry in enumerate(policies):
        kind = kind_of(entry)
        if kind == STATEMENT:
            if is_if(entry):
                entry = copy.deepcopy(entry)
                items = entry["Fn::If"]
                for i in (1, 2):
                    if not is_no_value(items[i]):
                        items[i] = {"PolicyName": f"{role_id}Policy{index}", "PolicyDocument": items[i]}
                docs.append(entry)
            else:
                docs.append({"PolicyName": f"{role_id}Policy{index}", "PolicyDocument": entry})
        elif kind == MANAGED:
            arn = entry
            if isinstance(arn, str):
                arn = managed_policy_arn(arn, partition)
            elif is_if(arn):
                arn = copy.deepcopy(arn)
                items = arn["Fn::If"]
                for i in (1, 2):
                    if isinstance(items[i], str):
                        items[i] = managed_policy_arn(items[i], partition)
            if arn not in managed:
                managed.append(arn)
        else:
            raise NotAPolicy(index)
