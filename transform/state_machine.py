"""``AWS::Serverless::StateMachine`` -> Step Functions state machine, its execution role, the version and
alias of ``AutoPublishAlias`` / ``DeploymentPreference``, and the resources of its events.

As the reference transform: an inline ``Definition`` becomes a ``DefinitionString`` (an ``Fn::Join`` of the
definition's lines, JSON with sorted keys and four-space indents) whose intrinsic functions and dynamic
references are lifted into ``DefinitionSubstitutions`` (``definition_substitution_<n>``, in sorted key
order); ``DefinitionUri`` (``s3://bucket/key[?versionId=v]`` or ``{Bucket, Key[, Version]}``) becomes
``DefinitionS3Location``. Events: ``Schedule``, ``ScheduleV2``, ``CloudWatchEvent``, ``EventBridgeRule``
(each with a role allowed to start executions), ``Api`` (handed to the API step, see context.py)."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

from . import events as ev
from .context import ApiEvent, Context
from .function import RESOURCE_ATTRIBUTES, PASSTHROUGH, _suggest, resource, tag_list
from .intrinsics import is_intrinsic
from .policies import NotAPolicy, PolicyError, add_role_policies, expand_templates

TYPE = "AWS::Serverless::StateMachine"
# property -> accepted Python types (an intrinsic function is accepted where a string is)
PROPERTIES: dict[str, tuple] = {
    "Definition": (dict,), "DefinitionUri": (str, dict), "Logging": (dict,), "Role": (str,), "RolePath": (),
    "DefinitionSubstitutions": (dict,), "Events": (dict,), "Name": (str,), "Type": (str,), "Tags": (dict,),
    "PropagateTags": (bool,), "Policies": (str, list, dict), "Tracing": (dict,), "PermissionsBoundary": (str,),
    "AutoPublishAlias": (), "DeploymentPreference": (), "UseAliasAsEventTarget": (bool,),
}
_NAMES = {str: "a string", dict: "a mapping", list: "a list", bool: "true or false"}
_DYNAMIC_REF = re.compile(r"^{{resolve:([a-z-]+):(.+)}}$")
TAGGABLE = {"AWS::StepFunctions::StateMachine", "AWS::IAM::Role", "AWS::SQS::Queue"}
TARGET_SUFFIX = "StepFunctionsTarget"
EVENT_TYPES = ("Schedule", "ScheduleV2", "CloudWatchEvent", "EventBridgeRule", "Api")


class StateMachine:
    """One serverless state machine being translated."""

    def __init__(self, ctx: Context, lid: str, res: dict):
        self.ctx, self.lid, self.res = ctx, lid, res
        self.keys = ("Resources", lid)
        self.p: dict = res.get("Properties") or {}
        for name, value in self.p.items():
            if name not in PROPERTIES:
                raise self.error(f"unknown property {name}", name, hint=_suggest(name, PROPERTIES), key=True)
            want = PROPERTIES[name]
            if want and value is not None and not isinstance(value, want):
                if str in want and is_intrinsic(value):
                    continue
                raise self.error(f"{name} must be " + " or ".join(_NAMES[w] for w in want), name)
        self.attrs = {k: res[k] for k in RESOURCE_ATTRIBUTES if k in res}
        self.passthrough = {k: res[k] for k in PASSTHROUGH if k in res}
        self.out: list[tuple[str, dict]] = []

    def error(self, message: str, *more, hint: str | None = None, key: bool = False):
        keys = self.keys + (("Properties",) + more if more else ())
        return self.ctx.error(f"state machine {self.lid}: {message}", keys, hint, key=key)

    # ------------------------------------------------------------------------------------------
    def translate(self, api_events: list[ApiEvent]) -> None:
        p = self.p
        sm = resource("AWS::StepFunctions::StateMachine", {}, self.attrs, self.res.get("DependsOn"))
        props: dict = {}
        if p.get("DefinitionSubstitutions"):
            props["DefinitionSubstitutions"] = copy.deepcopy(p["DefinitionSubstitutions"])
        if p.get("Definition") and p.get("DefinitionUri"):
            raise self.error("give Definition or DefinitionUri, not both", "DefinitionUri")
        if p.get("Definition"):
            definition = copy.deepcopy(p["Definition"])
            subs = _lift_dynamic_values(definition)
            if subs:
                props.setdefault("DefinitionSubstitutions", {}).update(subs)
            lines = json.dumps(definition, sort_keys=True, indent=4, separators=(",", ": ")).split("\n")
            props["DefinitionString"] = {"Fn::Join": ["\n", lines]}
        elif p.get("DefinitionUri"):
            props["DefinitionS3Location"] = self._definition_s3()
        else:
            raise self.error("needs Definition (the state machine inline) or DefinitionUri (a file or S3 object)",
                             hint="e.g. DefinitionUri: statemachine/definition.asl.json (lamctl package uploads it)")
        if p.get("Role") and p.get("Policies"):
            raise self.error("give Role or Policies, not both (or neither: lamctl then creates the role)", "Role")
        if p.get("Role"):
            props["RoleArn"] = p["Role"]
        else:
            role_id, role = self._role()
            self.out.append((role_id, role))
            props["RoleArn"] = {"Fn::GetAtt": [role_id, "Arn"]}
        props["StateMachineName"] = p.get("Name")
        props["StateMachineType"] = p.get("Type")
        props["LoggingConfiguration"] = p.get("Logging")
        props["TracingConfiguration"] = p.get("Tracing")
        props["Tags"] = self._tags()
        sm["Properties"] = {k: v for k, v in props.items() if v is not None}
        self.out.insert(0, (self.lid, sm))

        alias_id = self._alias()
        target = {"Ref": alias_id} if alias_id and p.get("UseAliasAsEventTarget") else {"Ref": self.lid}
        self._events(target, api_events)

        if p.get("PropagateTags") and p.get("Tags"):
            for _, r in self.out:
                if r["Type"] in TAGGABLE:
                    r["Properties"]["Tags"] = tag_list(p["Tags"])
        for rid, r in self.out:
            self.ctx.add(rid, r, self.keys)

    # ------------------------------------------------------------------------------------------
    def _tags(self) -> list:
        return [{"Key": "stateMachine:createdBy", "Value": "SAM"}] + tag_list(self.p.get("Tags"))

    def _definition_s3(self) -> dict:
        from urllib.parse import parse_qs, urlparse

        uri = self.p["DefinitionUri"]
        if isinstance(uri, dict):
            if not uri.get("Bucket") or not uri.get("Key"):
                raise self.error("DefinitionUri needs Bucket and Key", "DefinitionUri")
            pointer = uri
        else:
            url = urlparse(uri) if isinstance(uri, str) else None
            if url is None or not (url.scheme == "s3" and url.netloc and url.path):
                raise self.error(f"DefinitionUri {uri!r} is not an S3 location (s3://bucket/key?versionId=v)",
                                 "DefinitionUri",
                                 hint="run lamctl package to upload a local definition file and rewrite the template")
            query = parse_qs(url.query)
            pointer = {"Bucket": url.netloc, "Key": url.path.lstrip("/")}
            if "versionId" in query and len(query["versionId"]) == 1:
                pointer["Version"] = query["versionId"][0]
        out = {"Bucket": pointer["Bucket"], "Key": pointer["Key"]}
        if "Version" in pointer:
            out["Version"] = pointer["Version"]
        return out

    def _role(self) -> tuple[str, dict]:
        p, part = self.p, self.ctx.partition
        role_id = self.lid + "Role"
        try:
            policies = expand_templates(p.get("Policies"))
        except PolicyError as exc:
            raise self.error(str(exc), "Policies") from None
        policies = list(policies) if isinstance(policies, list) else ([policies] if policies else [])
        tracing = p.get("Tracing")
        if isinstance(tracing, dict) and tracing.get("Enabled") is True:
            policies.append("AWSXrayWriteOnlyAccess" if part == "aws" else "AWSXRayDaemonWriteAccess")
        managed: list = []
        docs: list = []
        try:
            add_role_policies(policies, role_id, part, docs, managed)
        except NotAPolicy as exc:
            raise self.error(str(exc), "Policies", hint="e.g. AWSStepFunctionsFullAccess, {Statement: [...]}, "
                                      "or {LambdaInvokePolicy: {FunctionName: !Ref Fn}}") from None
        except PolicyError as exc:
            raise self.error(str(exc), "Policies") from None
        props = {
            "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{
                "Action": ["sts:AssumeRole"], "Effect": "Allow", "Principal": {"Service": ["states.amazonaws.com"]}}]},
            "ManagedPolicyArns": managed,
            "Policies": docs or None,
            "Path": p.get("RolePath"),
            "PermissionsBoundary": p.get("PermissionsBoundary"),
            "Tags": self._tags(),
        }
        return role_id, resource("AWS::IAM::Role", props, dict(self.passthrough))

    def _alias(self) -> str | None:
        p = self.p
        alias, dp = p.get("AutoPublishAlias"), p.get("DeploymentPreference")
        if not alias and p.get("UseAliasAsEventTarget"):
            raise self.error("UseAliasAsEventTarget needs AutoPublishAlias", "UseAliasAsEventTarget",
                             hint="add AutoPublishAlias: live")
        if not alias and not dp:
            return None
        if not alias:
            raise self.error("DeploymentPreference needs AutoPublishAlias", "DeploymentPreference",
                             hint="add AutoPublishAlias: live (traffic shifts between versions of an alias)")
        if not isinstance(alias, str) or not alias.replace("-", "").replace("_", "").isalnum():
            raise self.error("AutoPublishAlias must be an alias name (letters, digits, - and _)", "AutoPublishAlias")
        version_attrs = dict(self.passthrough)
        version_attrs.setdefault("DeletionPolicy", "Retain")
        version_attrs.setdefault("UpdateReplacePolicy", "Retain")
        version_id, alias_id = self.lid + "Version", f"{self.lid}Alias{alias}"
        self.out.append((version_id, resource("AWS::StepFunctions::StateMachineVersion", {
            "StateMachineArn": {"Ref": self.lid},
            "StateMachineRevisionId": {"Fn::GetAtt": [self.lid, "StateMachineRevisionId"]}}, version_attrs)))
        preference = copy.deepcopy(dp) if dp else {"Type": "ALL_AT_ONCE"}
        if not isinstance(preference, dict):
            raise self.error("DeploymentPreference must be a mapping (Type, Percentage, Interval, Alarms)",
                             "DeploymentPreference")
        preference["StateMachineVersionArn"] = {"Ref": version_id}
        self.out.append((alias_id, resource("AWS::StepFunctions::StateMachineAlias", {
            "Name": alias, "DeploymentPreference": preference}, dict(self.passthrough))))
        return alias_id

    # -- events ------------------------------------------------------------------------------------
    def _events(self, target: dict, api_events: list[ApiEvent]) -> None:
        events = self.p.get("Events") or {}
        for name in events:
            event = events[name]
            keys = self.keys + ("Properties", "Events", name)
            if not isinstance(event, dict):
                raise self.ctx.error(f"state machine {self.lid}: event {name} must be a mapping with Type",
                                     keys)
            etype = event.get("Type")
            if etype not in EVENT_TYPES:
                raise self.ctx.error(f"state machine {self.lid}: event {name} has unknown type {etype!r}",
                                     keys + ("Type",), hint="a state machine takes " + ", ".join(EVENT_TYPES))
            props = event.get("Properties")
            props = {} if props is None else props
            if not isinstance(props, dict):
                raise self.ctx.error(f"state machine {self.lid}: event {name}: Properties must be a mapping",
                                     keys + ("Properties",))
            if etype == "Api":
                flag = props.get("UnescapeMappingTemplate")
                if flag is not None and not isinstance(flag, bool):  # no intrinsic function here (as the reference)
                    raise self.ctx.error(f"state machine {self.lid}: event {name} (Api): UnescapeMappingTemplate "
                                         "must be true or false", keys + ("Properties", "UnescapeMappingTemplate"))
                role_id, role = self._event_role(self.lid + name, target, "apigateway.amazonaws.com")
                self.out.append((role_id, role))
                api_events.append(ApiEvent(
                    function_id=self.lid, name=name, type="Api", properties=copy.deepcopy(props),
                    function_arn=copy.deepcopy(target), condition=self.passthrough.get("Condition"),
                    attributes=dict(self.passthrough), keys=keys,
                    state_machine_role={"Fn::GetAtt": [role_id, "Arn"]}))
                continue
            info = ev.FunctionInfo(lid=self.lid, arn=copy.deepcopy(target), name=copy.deepcopy(target),
                                   attrs=dict(self.passthrough), role={})
            if etype == "ScheduleV2":
                self.out.extend(ev.schedule_v2(self.ctx, info, name, props, keys,
                                               policy=("states:StartExecution", "StartExecutionPolicy")))
            elif etype == "Schedule":
                self.out.extend(self._schedule(info, name, props, keys))
            else:
                self.out.extend(self._cloudwatch_event(info, name, props, keys, etype))

    def _check(self, name, etype, props, keys, allowed, required=()):
        for key, value in props.items():
            if key not in allowed:
                raise self.ctx.error(f"state machine {self.lid}: event {name} ({etype}) has unknown property {key}",
                                     keys + ("Properties", key), hint="allowed: " + ", ".join(sorted(allowed)),
                                     key=True)
            want = allowed[key]
            if value is not None and not isinstance(value, want) and not (want is not dict and is_intrinsic(value)):
                raise self.ctx.error(f"state machine {self.lid}: event {name} ({etype}): {key} must be "
                                     f"{_NAMES[want]}", keys + ("Properties", key))
        for key in required:
            if props.get(key) is None:
                raise self.ctx.error(f"state machine {self.lid}: event {name} ({etype}) needs {key}",
                                     keys + ("Properties",))

    def _event_role(self, rid: str, target: dict, principal: str = "events.amazonaws.com") -> tuple[str, dict]:
        role_id = rid + "Role"
        props = {
            "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{
                "Action": ["sts:AssumeRole"], "Effect": "Allow", "Principal": {"Service": [principal]}}]},
            "Policies": [{"PolicyName": role_id + "StartExecutionPolicy", "PolicyDocument": {"Statement": [{
                "Action": "states:StartExecution", "Effect": "Allow", "Resource": copy.deepcopy(target)}]}}],
            "PermissionsBoundary": self.p.get("PermissionsBoundary") or None,
        }
        return role_id, resource("AWS::IAM::Role", props, dict(self.passthrough))

    def _target(self, info, rid, props, role_arn, dlq_arn) -> dict:
        tgt = props.get("Target")
        target = {"Arn": copy.deepcopy(info.arn),
                  "Id": tgt["Id"] if isinstance(tgt, dict) and "Id" in tgt else ev._target_id(rid, TARGET_SUFFIX),
                  "RoleArn": role_arn}
        for key in ("Input", "InputPath"):
            if props.get(key) is not None:
                target[key] = props[key]
        if props.get("DeadLetterConfig") is not None:
            target["DeadLetterConfig"] = {"Arn": dlq_arn}
        for key in ("RetryPolicy", "InputTransformer"):
            if props.get(key) is not None:
                target[key] = props[key]
        return target

    def _schedule(self, info, name, props, keys):
        self._check(name, "Schedule", props, keys, {
            "Schedule": str, "Input": str, "Enabled": bool, "State": str, "Name": str, "Description": str,
            "DeadLetterConfig": dict, "RetryPolicy": dict, "Target": dict, "RoleArn": str}, ("Schedule",))
        rid = self.lid + name
        rule = {"ScheduleExpression": props["Schedule"], "State": ev._state(self.ctx, info, name, props, keys),
                "Name": props.get("Name"), "Description": props.get("Description")}
        out = [(rid, None)]
        if props.get("RoleArn") is None:
            role_id, role = self._event_role(rid, info.arn)
            out.append((role_id, role))
            role_arn = {"Fn::GetAtt": [role_id, "Arn"]}
        else:
            role_arn = props["RoleArn"]
        dlq_arn = None
        if props.get("DeadLetterConfig") is not None:
            dlq_arn, extra = ev._dlq(self.ctx, info, name, rid, props["DeadLetterConfig"],
                                     {"Fn::GetAtt": [rid, "Arn"]}, keys)
            out += extra
        rule["Targets"] = [self._target(info, rid, {k: v for k, v in props.items() if k != "InputPath"},
                                        role_arn, dlq_arn)]
        out[0] = (rid, resource("AWS::Events::Rule", rule, dict(self.passthrough)))
        return out

    def _cloudwatch_event(self, info, name, props, keys, etype):
        self._check(name, etype, props, keys, {
            "EventBusName": str, "RuleName": str, "Pattern": dict, "Input": str, "InputPath": str,
            "DeadLetterConfig": dict, "RetryPolicy": dict, "State": str, "Target": dict, "InputTransformer": dict})
        rid = self.lid + name
        rule = {"EventBusName": props.get("EventBusName"), "EventPattern": props.get("Pattern"),
                "Name": props.get("RuleName")}
        if props.get("State"):
            rule["State"] = props["State"]
        role_id, role = self._event_role(rid, info.arn)
        out = [(rid, None), (role_id, role)]
        dlq_arn = None
        if props.get("DeadLetterConfig") is not None:
            dlq_arn, extra = ev._dlq(self.ctx, info, name, rid, props["DeadLetterConfig"],
                                     {"Fn::GetAtt": [rid, "Arn"]}, keys)
            out += extra
        rule["Targets"] = [self._target(info, rid, props, {"Fn::GetAtt": [role_id, "Arn"]}, dlq_arn)]
        out[0] = (rid, resource("AWS::Events::Rule", rule, dict(self.passthrough)))
        return out


def _is_dynamic(value: Any) -> bool:
    return isinstance(value, str) and bool(_DYNAMIC_REF.match(value))


def _lift_dynamic_values(definition: Any) -> dict:
    """Replace intrinsic functions and dynamic references inside ``definition`` (in place) with
    ``${definition_substitution_<n>}``; return the substitutions, numbered in the reference's order."""
    subs: dict = {}

    def walk(node):
        items = sorted(node.items(), key=lambda kv: kv[0]) if isinstance(node, dict) else list(enumerate(node))
        for key, value in items:
            if is_intrinsic(value) or _is_dynamic(value):
                n = len(subs) + 1
                subs[f"definition_substitution_{n}"] = value
                node[key] = "${definition_substitution_%d}" % n
            elif isinstance(value, (dict, list)):
                walk(value)

    walk(definition)
    return subs


def transform_state_machine(ctx: Context, lid: str, res: dict, api_events: list[ApiEvent]) -> None:
    StateMachine(ctx, lid, res).translate(api_events)
