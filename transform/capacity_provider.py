"""``AWS::Serverless::CapacityProvider`` -> ``AWS::Lambda::CapacityProvider`` (Lambda managed instances) and,
unless ``OperatorRole`` is given, its operator role ``<Id>OperatorRole``, as the reference transform does."""

from __future__ import annotations

import copy
from typing import Any

from .context import Context
from .function import PASSTHROUGH, RESOURCE_ATTRIBUTES, _suggest, resource, tag_list
from .intrinsics import is_intrinsic

TYPE = "AWS::Serverless::CapacityProvider"
PROPERTIES = ("CapacityProviderName", "VpcConfig", "OperatorRole", "Tags", "PropagateTags", "InstanceRequirements",
              "ScalingConfig", "KmsKeyArn")
_KEYS = {"VpcConfig": ("SecurityGroupIds", "SubnetIds"),
         "InstanceRequirements": ("Architectures", "AllowedTypes", "ExcludedTypes"),
         "ScalingConfig": ("MaxVCpuCount", "AverageCPUUtilization")}
TAGGABLE = {"AWS::Lambda::CapacityProvider", "AWS::IAM::Role"}


def transform_capacity_provider(ctx: Context, lid: str, res: dict) -> None:
    keys = ("Resources", lid, "Properties")

    def error(message: str, *more, key: bool = False, hint: str | None = None):
        return ctx.error(f"capacity provider {lid}: {message}", keys + more, hint, key=key)

    p = res.get("Properties") or {}
    for name, value in p.items():
        if name not in PROPERTIES:
            raise error(f"unknown property {name}", name, key=True, hint=_suggest(name, PROPERTIES))
        if name in _KEYS and value is not None:
            if not isinstance(value, dict):
                raise error(f"{name} must be a mapping", name)
            for sub in value:
                if sub not in _KEYS[name]:
                    raise error(f"{name} has unknown key {sub} (allowed: {', '.join(_KEYS[name])})", name, sub,
                                key=True)
    if p.get("Tags") is not None and not isinstance(p["Tags"], dict):
        raise error("Tags must be a mapping", "Tags")
    if p.get("PropagateTags") is not None and not isinstance(p["PropagateTags"], bool):
        raise error("PropagateTags must be true or false", "PropagateTags")
    vpc = p.get("VpcConfig")
    if not vpc or vpc.get("SubnetIds") is None:
        raise error("needs VpcConfig with SubnetIds (the subnets its instances run in)", *(("VpcConfig",) if vpc else ()))
    for name in ("SecurityGroupIds", "SubnetIds"):
        if vpc.get(name) is not None and not isinstance(vpc[name], list) and not is_intrinsic(vpc[name]):
            raise error(f"VpcConfig.{name} must be a list", "VpcConfig", name)
    req = p.get("InstanceRequirements") or {}
    if req.get("AllowedTypes") is not None and req.get("ExcludedTypes") is not None:
        raise error("InstanceRequirements takes AllowedTypes or ExcludedTypes, not both", "InstanceRequirements")

    attrs = {k: res[k] for k in RESOURCE_ATTRIBUTES if k in res}
    passthrough = {k: res[k] for k in PASSTHROUGH if k in res}
    out: list[tuple[str, dict]] = []
    operator = p.get("OperatorRole")
    if not operator:
        role_id = lid + "OperatorRole"
        out.append((role_id, resource("AWS::IAM::Role", {
            "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{
                "Action": ["sts:AssumeRole"], "Effect": "Allow", "Principal": {"Service": ["lambda.amazonaws.com"]}}]},
            "ManagedPolicyArns": [f"arn:{ctx.partition}:iam::aws:policy/AWSLambdaManagedEC2ResourceOperator"],
            "Tags": [{"Key": "lambda:createdBy", "Value": "SAM"}]}, dict(passthrough))))
        operator = {"Fn::GetAtt": [role_id, "Arn"]}
    props: dict[str, Any] = {}
    if p.get("CapacityProviderName"):
        props["CapacityProviderName"] = p["CapacityProviderName"]
    out_vpc = {"SubnetIds": vpc["SubnetIds"]}
    if vpc.get("SecurityGroupIds") is not None:
        out_vpc["SecurityGroupIds"] = vpc["SecurityGroupIds"]
    props["VpcConfig"] = out_vpc
    props["PermissionsConfig"] = {"CapacityProviderOperatorRoleArn": operator}
    tags = dict(p.get("Tags") or {})
    tags["lambda:createdBy"] = "SAM"
    props["Tags"] = tag_list(tags)
    if req:
        out_req = {}
        for src, dst in (("Architectures", "Architectures"), ("AllowedTypes", "AllowedInstanceTypes"),
                         ("ExcludedTypes", "ExcludedInstanceTypes")):
            if req.get(src) is not None:
                out_req[dst] = req[src]
        props["InstanceRequirements"] = out_req
    scaling = p.get("ScalingConfig")
    if scaling:
        out_scaling: dict[str, Any] = {}
        if scaling.get("MaxVCpuCount") is not None:
            out_scaling["MaxVCpuCount"] = scaling["MaxVCpuCount"]
        if scaling.get("AverageCPUUtilization") is not None:
            out_scaling["ScalingMode"] = "Manual"
            out_scaling["ScalingPolicies"] = [{"PredefinedMetricType": "LambdaCapacityProviderAverageCPUUtilization",
                                               "TargetValue": scaling["AverageCPUUtilization"]}]
        else:
            out_scaling["ScalingMode"] = "Auto"
        props["CapacityProviderScalingConfig"] = out_scaling
    if p.get("KmsKeyArn"):
        props["KmsKeyArn"] = p["KmsKeyArn"]
    provider = resource("AWS::Lambda::CapacityProvider", {}, {**attrs, **passthrough}, res.get("DependsOn"))
    provider["Properties"] = props
    out.append((lid, provider))
    if p.get("PropagateTags") and p.get("Tags"):
        # the reference combines: existing tags first, the resource's Tags after (a later key wins in place)
        for _, r in out:
            if r["Type"] in TAGGABLE:
                merged = {t["Key"]: t["Value"] for t in r["Properties"].get("Tags") or []}
                merged.update({k: v for k, v in p["Tags"].items()})
                r["Properties"]["Tags"] = [{"Key": k, "Value": v} for k, v in merged.items()]
    for rid, r in out:
        ctx.add(rid, copy.deepcopy(r), ("Resources", lid))
