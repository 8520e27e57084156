"""``AWS::Serverless::Connector`` and the ``Connectors`` attribute of any resource -> the IAM policies, queue and
topic policies and Lambda permissions that let a source resource reach its destinations, as the reference
transform does.

* :func:`embedded_connectors`: a resource's ``Connectors: {Name: {Properties: {Destination, Permissions,
  SourceReference}}}`` becomes the connector ``<Resource><Name>`` (its ``Source`` is the resource), and the
  attribute is dropped from the resource;
* :func:`transform_connectors`: runs last, over the CloudFormation resources the other steps made (a
  connector reads what its source and destination became: ``Role`` of a Lambda function, ``RoleArn`` of a
  state machine, the target role of an EventBridge rule...). The policy comes from the connector profiles
  (``data/connector_profiles.json``, the reference's own), by source type, destination type and permission
  (``Read`` / ``Write``). Each generated resource carries ``Metadata: aws:sam:connectors``, the connector's
  ``DependsOn`` and resource attributes; a ``DependsOn`` on the connector becomes one on what it generated.
"""

from __future__ import annotations

import copy
import json
import os
import re
from functools import lru_cache
from typing import Any

from .context import Context
from .intrinsics import logical_id_of

TYPE = "AWS::Serverless::Connector"
ATTRIBUTES = ("DeletionPolicy", "UpdatePolicy", "Condition", "UpdateReplacePolicy", "Metadata")
PROPERTIES = ("Source", "Destination", "Permissions")
_SAM_TO_CFN = {
    "AWS::Serverless::Function": "AWS::Lambda::Function",
    "AWS::Serverless::StateMachine": "AWS::StepFunctions::StateMachine",
    "AWS::Serverless::Api": "AWS::ApiGateway::RestApi",
    "AWS::Serverless::HttpApi": "AWS::ApiGatewayV2::Api",
    "AWS::Serverless::SimpleTable": "AWS::DynamoDB::Table",
}
_VARIABLE = re.compile(r"%{[\w\.]+}")


@lru_cache(maxsize=1)
def profiles() -> dict:
    path = os.path.join(os.path.dirname(__file__), "data", "connector_profiles.json")
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


class ConnectorError(ValueError):
    """A connector the reference refuses; ``keys`` (below the connector's Properties) locate it."""

    def __init__(self, message: str, *keys, hint: str | None = None):
        super().__init__(message)
        self.keys = keys
        self.hint = hint


# -- the Connectors attribute -----------------------------------------------------------------------------
def embedded_connectors(ctx: Context, resources: dict) -> tuple[dict, dict]:
    """``resources`` without ``Connectors`` attributes, plus one connector per entry (after all the others);
    and, for each generated connector, the key path of its entry (for errors)."""
    out: dict = {}
    generated: dict = {}
    origins: dict = {}
    for source, res in resources.items():
        if not isinstance(res, dict) or "Connectors" not in res:
            out[source] = res
            continue
        keys = ("Resources", source, "Connectors")
        conns = res["Connectors"]
        if not isinstance(conns, dict):
            raise ctx.error(f"resource {source}: Connectors must be a mapping of connector names to "
                            "{Properties: {Destination, Permissions}}", keys)
        for name, conn in conns.items():
            lid = f"{source}{name}"
            ckeys = keys + (name,)
            if not isinstance(conn, dict):
                raise ctx.error(f"resource {source}: connector {name} must be a mapping with Properties", ckeys)
            props = conn.get("Properties")
            if not isinstance(props, dict):
                raise ctx.error(f"resource {source}: connector {name} needs Properties (a mapping with "
                                "Destination and Permissions)", ckeys + (("Properties",) if "Properties" in conn
                                                                         else ()))
            connector = copy.deepcopy(conn)
            connector["Type"] = TYPE
            props = connector["Properties"]
            src: dict = {"Id": source}
            if "SourceReference" in props:
                ref = props.pop("SourceReference")
                if not isinstance(ref, dict):
                    raise ctx.error(f"resource {source}: connector {name}: SourceReference must be a mapping "
                                    "(Qualifier, ...)", ckeys + ("Properties", "SourceReference"))
                if "Id" in ref:
                    raise ctx.error(f"resource {source}: connector {name}: SourceReference cannot set Id (the "
                                    f"source is {source})", ckeys + ("Properties", "SourceReference", "Id"),
                                    key=True)
                src.update(ref)
            props["Source"] = src
            if lid in resources or lid in generated:
                raise ctx.error(f"resource {source}: connector {name} becomes the connector {lid}, which clashes "
                                "with another resource of that logical ID", ckeys,
                                hint=f"rename the connector or the resource called {lid}")
            generated[lid] = connector
            origins[lid] = ckeys
        res = {k: v for k, v in res.items() if k != "Connectors"}
        out[source] = res
    out.update(generated)
    return out, origins


# -- the transform ----------------------------------------------------------------------------------------
class Reference:
    """What a connector knows of its source or of one destination."""

    __slots__ = ("logical_id", "type", "arn", "role_name", "queue_url", "resource_id", "name", "qualifier")

    def __init__(self, **kw):
        for slot in self.__slots__:
            setattr(self, slot, kw.get(slot))


def _nonblank(value: Any) -> bool:
    return bool(value) and isinstance(value, str)


_SUB_VARIABLE = re.compile(r"\${.+}")


@lru_cache(maxsize=64)
def _sub_name(key: str) -> str:
    """A profile variable's name in ``Fn::Sub`` (``Source.Arn`` -> ``SourceArn``)."""
    return "".join(c for c in key if c.isalnum())


def _replace_profile(obj: Any, replacements: dict) -> Any:
    if isinstance(obj, dict):
        return {k: _replace_profile(v, replacements) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_replace_profile(v, replacements) for v in obj]
    if not isinstance(obj, str):
        return obj
    if "%{" not in obj:  # no variable: only a ${...} makes it an Fn::Sub
        return {"Fn::Sub": obj} if "${" in obj and _SUB_VARIABLE.search(obj) else obj
    s, subs = obj, {}
    for k, v in replacements.items():
        pattern = "%{" + k + "}"
        var = _sub_name(k)
        if pattern in s and v is None:
            raise ConnectorError(f"{k} is missing", k.split(".")[0])
        if pattern == s:
            return v
        if pattern in s:
            s = s.replace(pattern, "${" + var + "}")
            subs[var] = v
    if _SUB_VARIABLE.search(s):
        return {"Fn::Sub": [s, subs]} if subs else {"Fn::Sub": s}
    return s


def _events_rule_role(other_id: Any, other_arn: Any, props: dict) -> Any:
    for target in props.get("Targets", []):
        arn = target.get("Arn")
        tid = logical_id_of(arn)
        if (tid and tid == other_id) or (other_arn and arn == other_arn):
            return target.get("RoleArn")
    return None


def _reference(ctx: Context, obj: dict, other: dict, prop: str) -> Reference:
    given_id = "Id" in obj
    others = [k for k in obj if k not in ("Id", "Qualifier")]
    if given_id == bool(others):
        raise ConnectorError(f"{prop} needs Id (with an optional Qualifier) or the properties of a resource "
                             "outside the template (Type with Arn, RoleName, QueueUrl, ResourceId, Name), not both "
                             "or neither", prop, hint=f"e.g. {prop}: {{Id: MyFunction}}")
    lid = obj.get("Id")
    if not lid:
        rtype = obj.get("Type")
        if not _nonblank(rtype):
            raise ConnectorError(f"{prop}.Type is missing or not a string (a resource given without Id needs its "
                                 "Type)", prop)
        return Reference(type=_SAM_TO_CFN.get(rtype, rtype), arn=obj.get("Arn"), role_name=obj.get("RoleName"),
                         queue_url=obj.get("QueueUrl"), resource_id=obj.get("ResourceId"), name=obj.get("Name"),
                         qualifier=obj.get("Qualifier"))
    if not _nonblank(lid):
        raise ConnectorError(f"{prop}.Id must be the logical ID of a resource (a string)", prop, "Id")
    res = ctx.resources.get(lid)
    if not isinstance(res, dict):
        raise ConnectorError(f"{prop}.Id names {lid}, which is not a resource of the template", prop, "Id")
    rtype = res.get("Type")
    if not _nonblank(rtype):
        raise ConnectorError(f"{prop}.Id names {lid}, which has no Type", prop, "Id")
    props = res.get("Properties", {})
    cfn = _replace_profile(copy.deepcopy(profiles()["CfnResourceProperties"].get(rtype, {})), {"logicalId": lid})
    outputs = cfn.get("Outputs", {})
    role_input = cfn.get("Inputs", {}).get("Role")
    role = None
    if isinstance(role_input, str):
        role = props.get(role_input)
    elif isinstance(role_input, dict) and role_input.get("Function") == "GetEventsRuleRole":
        role = _events_rule_role(other.get("Id"), other.get("Arn"), props)
    role_id = logical_id_of(role) if role else None
    return Reference(logical_id=lid, type=rtype, arn=outputs.get("Arn"),
                     role_name={"Ref": role_id} if role_id else None, queue_url=outputs.get("Url"),
                     resource_id=outputs.get("Id"), name=outputs.get("Name"),
                     qualifier=obj["Qualifier"] if "Qualifier" in obj else outputs.get("Qualifier"))


def _insert_unique(xs: Any, vs: Any) -> list:
    xs = copy.deepcopy(xs) if isinstance(xs, list) else [xs]
    for v in vs if isinstance(vs, list) else [vs]:
        if v not in xs:
            xs.append(v)
    return xs


def _dependents(ctx: Context) -> dict[str, set]:
    """Logical ID -> the output resources whose DependsOn names it; built at the first connector and kept up to
    date by the connectors' own DependsOn edits, so that each connector finds what depends on it at once."""
    index = ctx.__dict__.get("_connector_dependents")
    if index is None:
        index = ctx.__dict__["_connector_dependents"] = {}
        for rid, r in ctx.resources.items():
            _index(index, rid, r)
    return index


def _index(index: dict, rid: str, res: Any) -> None:
    deps = res.get("DependsOn") if isinstance(res, dict) else None
    for dep in deps if isinstance(deps, list) else [deps] if deps is not None else []:
        if isinstance(dep, str):
            index.setdefault(dep, set()).add(rid)


def _add_depends_on(ctx: Context, lid: str, dep: str) -> None:
    res = ctx.resources.get(lid)
    if isinstance(res, dict):
        res["DependsOn"] = _insert_unique(res.get("DependsOn", []), dep)
        _dependents(ctx).setdefault(dep, set()).add(lid)


class Connector:
    """One connector: ``res`` as in a template; ``keys`` locate it, ``props_keys`` its Properties (a connector
    that another resource makes, e.g. a GraphQL data source's, is located at that resource's property)."""

    def __init__(self, ctx: Context, lid: str, res: dict, keys: tuple, props_keys: tuple | None = None):
        self.ctx, self.lid, self.res, self.keys = ctx, lid, res, keys
        self.props_keys = props_keys if props_keys is not None else keys + ("Properties",)
        self.attrs = {k: res[k] for k in ATTRIBUTES if k in res}
        self.depends_on = res.get("DependsOn")

    def error(self, message: str, *more, hint: str | None = None, key: bool = False):
        return self.ctx.error(f"connector {self.lid}: {message}", self.props_keys + more, hint, key=key)

    def translate(self) -> list[str]:
        """Add what the connector generates to the output; a DependsOn on the connector is rewritten to them."""
        index = _dependents(self.ctx)
        generated = self.build()
        for rid, r in generated:
            self.ctx.add(rid, r, self.keys)
            _index(index, rid, r)
        ids = [rid for rid, _ in generated]
        for rid in index.pop(self.lid, ()):  # a DependsOn on the connector is one on what it generated
            r = self.ctx.resources.get(rid)
            if not isinstance(r, dict) or "DependsOn" not in r:
                continue
            deps = r["DependsOn"] if isinstance(r["DependsOn"], list) else [r["DependsOn"]]
            if self.lid in deps:
                deps = [d for d in deps if d != self.lid]
                r["DependsOn"] = _insert_unique(deps, ids)
                for new in ids:
                    index.setdefault(new, set()).add(rid)
        return ids

    def build(self) -> list[tuple[str, dict]]:
        """The resources the connector generates (policies or permissions, with their metadata)."""
        p = self.res.get("Properties")
        if not isinstance(p, dict):
            raise self.error("needs Properties with Source, Destination and Permissions")
        for name in p:
            if name not in PROPERTIES:
                raise self.error(f"unknown property {name}", name, key=True, hint="allowed: " + ", ".join(PROPERTIES))
        for name in PROPERTIES:
            if p.get(name) is None:
                raise self.error(f"needs {name}", hint="Source: {Id: MyFunction}, Destination: {Id: MyTable}, "
                                                       "Permissions: [Read, Write]")
        source = p["Source"]
        if not isinstance(source, dict) or not all(isinstance(k, str) for k in source):
            raise self.error("Source must be a mapping (Id, or Type with Arn, ...)", "Source")
        dests = p["Destination"]
        multi = isinstance(dests, list)
        dests = dests if multi else [dests]
        if not all(isinstance(d, dict) for d in dests):
            raise self.error("Destination must be a mapping (Id, or Type with Arn, ...) or a list of them",
                             "Destination")
        perms = p["Permissions"]
        if not isinstance(perms, list) or not all(isinstance(x, str) for x in perms):
            raise self.error("Permissions must be a list of Read and/or Write", "Permissions")
        if not dests:
            raise self.error("Destination is an empty list", "Destination")
        generated: list[tuple[str, dict]] = []
        for index, dest in enumerate(dests):
            dkeys = ("Destination", index) if multi else ("Destination",)
            try:
                destination = _reference(self.ctx, dest, source, "Destination")
                src = _reference(self.ctx, source, dest, "Source")
            except ConnectorError as exc:
                where = dkeys + exc.keys[1:] if exc.keys and exc.keys[0] == "Destination" else exc.keys
                raise self.error(str(exc), *where, hint=exc.hint) from None
            made = self._generate(src, destination, perms, index, multi, dkeys)
            self._metadata(made, src, destination)
            generated.extend(made)
        return generated

    def _generate(self, source: Reference, dest: Reference, perms: list, index: int, multi: bool,
                  dkeys: tuple) -> list[tuple[str, dict]]:
        profile = copy.deepcopy(profiles()["Permissions"].get(source.type, {}).get(dest.type))
        if not profile:
            raise self.error(f"lamctl cannot connect {source.type} to {dest.type} (no connector profile for this "
                             "pair)", *dkeys, hint="see the AWS::Serverless::Connector reference for the supported "
                                                   "source and destination types")
        perms = list(dict.fromkeys(perms))
        ptype, pprops = profile["Type"], profile["Properties"]
        categories = pprops["AccessCategories"]
        valid = ", ".join(categories)
        if not perms:
            raise self.error(f"Permissions cannot be empty; valid values are: {valid}", "Permissions")
        for perm in perms:
            if perm not in categories:
                raise self.error(f"Permissions has {perm!r}, which a connector from {source.type} to {dest.type} "
                                 f"does not take; valid values are: {valid}", "Permissions")
        combos = pprops.get("ValidAccessCategories")
        if combos and sorted(perms) not in [sorted(c) for c in combos]:
            raise self.error(f"Permissions {' + '.join(sorted(perms))} is not a valid combination for a connector "
                             f"from {source.type} to {dest.type}; valid: "
                             + ", ".join(" + ".join(sorted(c)) for c in combos), "Permissions")
        replacements = {"Source.Arn": source.arn, "Destination.Arn": dest.arn,
                        "Source.ResourceId": source.resource_id, "Destination.ResourceId": dest.resource_id,
                        "Source.Name": source.name, "Destination.Name": dest.name,
                        "Source.Qualifier": source.qualifier, "Destination.Qualifier": dest.qualifier}
        try:
            pprops = _replace_profile(pprops, replacements)
        except ConnectorError as exc:
            side = exc.keys[0] if exc.keys else "Source"
            raise self.error(f"{exc} (give it in {side} for a resource outside the template)",
                             *(dkeys if side == "Destination" else (side,))) from None
        left = _VARIABLE.findall(json.dumps(pprops))
        if left:
            raise self.error(f"the connector profile leaves {', '.join(left)} unset", *dkeys)
        on_source = pprops["SourcePolicy"]
        side, target = ("Source", source) if on_source else ("Destination", dest)
        side_keys = ("Source",) if on_source else dkeys
        suffix = f"Destination{index}" if multi else ""

        def res(rtype: str, props: dict) -> dict:
            out: dict = {"Type": rtype}
            if self.depends_on:
                out["DependsOn"] = copy.deepcopy(self.depends_on)
            out.update(copy.deepcopy(self.attrs))
            out["Properties"] = {k: v for k, v in props.items() if v is not None}
            return out

        if ptype == "AWS_IAM_ROLE_MANAGED_POLICY":
            if not target.role_name:
                raise self.error(f"cannot find the IAM role of the {side} resource (give RoleName, or a resource "
                                 "whose role is in the template)", *side_keys)
            pid = f"{self.lid}Policy{suffix}"
            out = [(pid, res("AWS::IAM::ManagedPolicy", {"PolicyDocument": self._statements(pprops, perms),
                                                         "Roles": [target.role_name]}))]
            depended_by = pprops.get("DependedBy")
            if depended_by == "DESTINATION_EVENT_SOURCE_MAPPING" and source.logical_id and dest.logical_id:
                esms = [lid for lid, r in self.ctx.resources.items()
                        if isinstance(r, dict) and r.get("Type") == "AWS::Lambda::EventSourceMapping"
                        and logical_id_of((r.get("Properties") or {}).get("FunctionName")) == dest.logical_id
                        and logical_id_of((r.get("Properties") or {}).get("EventSourceArn")) == source.logical_id]
                if len(esms) == 1:
                    _add_depends_on(self.ctx, esms[0], pid)
            if depended_by == "SOURCE" and source.logical_id:
                _add_depends_on(self.ctx, source.logical_id, pid)
            return out
        if ptype == "AWS_SQS_QUEUE_POLICY":
            if not target.queue_url:
                raise self.error(f"cannot find the SQS queue URL of the {side} resource (give QueueUrl)", *side_keys)
            return [(f"{self.lid}QueuePolicy{suffix}", res("AWS::SQS::QueuePolicy", {
                "PolicyDocument": self._statements(pprops, perms), "Queues": [target.queue_url]}))]
        if ptype == "AWS_SNS_TOPIC_POLICY":
            if not target.arn:
                raise self.error(f"cannot find the SNS topic ARN of the {side} resource (give Arn)", *side_keys)
            return [(f"{self.lid}TopicPolicy{suffix}", res("AWS::SNS::TopicPolicy", {
                "Topics": [target.arn], "PolicyDocument": self._statements(pprops, perms)}))]
        if ptype == "AWS_LAMBDA_PERMISSION":
            if not target.arn:
                raise self.error(f"cannot find the Lambda function ARN of the {side} resource (give Arn)",
                                 *side_keys)
            out = []
            for name, perm in categories.items():
                if name in perms:
                    spec = pprops["AccessCategories"][name]
                    out.append((f"{self.lid}{name}LambdaPermission{suffix}", res("AWS::Lambda::Permission", {
                        "Action": spec["Action"], "FunctionName": target.arn, "Principal": spec["Principal"],
                        "SourceArn": spec["SourceArn"], "SourceAccount": spec.get("SourceAccount")})))
            return out
        raise self.error(f"connector profile type {ptype} is not known to lamctl")

    @staticmethod
    def _statements(pprops: dict, perms: list) -> dict:
        statements: list = []
        for name, spec in pprops["AccessCategories"].items():
            if name in perms:
                statements.extend(spec["Statement"])
        return {"Version": "2012-10-17", "Statement": statements}

    def _metadata(self, made: list, source: Reference, dest: Reference) -> None:
        original = self.ctx.template.get("Resources") or {}

        def original_type(ref: Reference):
            r = original.get(ref.logical_id) if ref.logical_id else None
            return (r.get("Type") if isinstance(r, dict) else None) or ref.type

        meta = {"aws:sam:connectors": {self.lid: {"Source": {"Type": original_type(source)},
                                                  "Destination": {"Type": original_type(dest)}}}}
        for _, r in made:
            existing = r.get("Metadata") if isinstance(r.get("Metadata"), dict) else {}
            r["Metadata"] = {**existing, **copy.deepcopy(meta)}


def transform_connectors(ctx: Context, lid: str, res: dict, origins: dict) -> None:
    """One connector; the pipeline runs them in template order (embedded ones last), once everything else is
    CloudFormation. ``origins``: the key path of each connector made from a ``Connectors`` attribute."""
    Connector(ctx, lid, res, origins.get(lid, ("Resources", lid))).translate()
