"""``AWS::Serverless::LayerVersion`` (hashed logical ID) and ``AWS::Serverless::SimpleTable``."""

from __future__ import annotations

import copy

from .context import Context, logical_id_hash
from .function import resource, s3_location, tag_list

LAYER_PROPERTIES = {"LayerName", "Description", "PublishLambdaVersion", "ContentUri", "CompatibleArchitectures",
                    "CompatibleRuntimes", "LicenseInfo", "RetentionPolicy"}
TABLE_PROPERTIES = {"PointInTimeRecoverySpecification", "PrimaryKey", "ProvisionedThroughput", "TableName", "Tags",
                    "SSESpecification"}
ATTRIBUTES = ("DeletionPolicy", "UpdatePolicy", "Condition", "UpdateReplacePolicy", "Metadata")
PASSTHROUGH = ("Condition", "DeletionPolicy", "UpdateReplacePolicy")


def _props(ctx: Context, lid: str, res: dict, allowed: set, kind: str) -> dict:
    props = res.get("Properties")
    if props is None:
        props = {}
    if not isinstance(props, dict):
        raise ctx.error(f"{kind} {lid}: Properties must be a mapping", ("Resources", lid, "Properties"))
    for name in props:
        if name not in allowed:
            raise ctx.error(f"{kind} {lid}: unknown property {name}", ("Resources", lid, "Properties", name),
                            hint="allowed: " + ", ".join(sorted(allowed)), key=True)
    return props


def _resolve_string(ctx: Context, lid: str, props: dict, name: str) -> None:
    value = props.get(name)
    if not value:
        return
    value = ctx.resolve(value)
    if not isinstance(value, (str, dict)):
        raise ctx.error(f"layer {lid}: {name} must be a string (or resolve to one)",
                        ("Resources", lid, "Properties", name))
    props[name] = value


def transform_layer(ctx: Context, lid: str, res: dict) -> None:
    props = copy.deepcopy(_props(ctx, lid, res, LAYER_PROPERTIES, "layer"))
    keys = ("Resources", lid, "Properties")
    if props.get("ContentUri") is None:
        raise ctx.error(f"layer {lid}: ContentUri is required", keys,
                        hint="point it at the layer's folder and run lamctl package, or give s3://bucket/key")
    for name in ("LayerName", "LicenseInfo", "Description", "RetentionPolicy"):
        _resolve_string(ctx, lid, props, name)
    retention = props.get("RetentionPolicy")
    if isinstance(retention, dict):
        raise ctx.error(f"layer {lid}: RetentionPolicy does not accept intrinsic functions; use Retain or Delete",
                        keys + ("RetentionPolicy",))
    if retention is not None:
        if not isinstance(retention, str) or retention.lower() not in ("retain", "delete"):
            raise ctx.error(f"layer {lid}: RetentionPolicy must be Retain or Delete", keys + ("RetentionPolicy",))
        retention = "Retain" if retention.lower() == "retain" else "Delete"
    attrs = {k: res[k] for k in PASSTHROUGH if k in res}
    if "DeletionPolicy" not in attrs:
        attrs["DeletionPolicy"] = "Retain"
    if retention is not None:
        attrs["DeletionPolicy"] = retention
    # the hash covers the serverless resource as written (after Globals and parameter resolution),
    # without DeletionPolicy / UpdateReplacePolicy / Metadata
    hashed = {"Type": res.get("Type")}
    if res.get("DependsOn"):
        hashed["DependsOn"] = res["DependsOn"]
    for k in ("UpdatePolicy", "Condition"):
        if k in res:
            hashed[k] = res[k]
    hashed["Properties"] = {k: v for k, v in props.items() if v is not None}
    new_id = lid + logical_id_hash({lid: hashed})
    arch = props.get("CompatibleArchitectures")
    if not (isinstance(arch, dict) and len(arch) == 1):
        for a in arch or ["x86_64"]:
            if not (isinstance(a, dict) and len(a) == 1) and a not in ("x86_64", "arm64"):
                raise ctx.error(f"layer {lid}: CompatibleArchitectures must list x86_64 and/or arm64",
                                keys + ("CompatibleArchitectures",))
    out = resource("AWS::Lambda::LayerVersion", {
        "LayerName": props.get("LayerName") or lid,
        "Description": props.get("Description"),
        "Content": s3_location(ctx, props["ContentUri"], f"layer {lid}", "ContentUri", keys + ("ContentUri",)),
        "CompatibleArchitectures": props.get("CompatibleArchitectures"),
        "CompatibleRuntimes": props.get("CompatibleRuntimes"),
        "LicenseInfo": props.get("LicenseInfo"),
    }, attrs, res.get("DependsOn"))
    ctx.add(new_id, out, ("Resources", lid))
    ctx.changed_ids[lid] = new_id


def transform_table(ctx: Context, lid: str, res: dict) -> None:
    props = _props(ctx, lid, res, TABLE_PROPERTIES, "table")
    keys = ("Resources", lid, "Properties")
    pk = props.get("PrimaryKey")
    if pk:
        if not isinstance(pk, dict):
            raise ctx.error(f"table {lid}: PrimaryKey must be a mapping with Name and Type", keys + ("PrimaryKey",))
        if pk.get("Name") is None or pk.get("Type") is None:
            raise ctx.error(f"table {lid}: PrimaryKey needs Name and Type", keys + ("PrimaryKey",))
        types = {"String": "S", "Number": "N", "Binary": "B"}
        if pk["Type"] not in types:
            raise ctx.error(f"table {lid}: PrimaryKey.Type must be String, Number or Binary, not {pk['Type']!r}",
                            keys + ("PrimaryKey", "Type"))
        key = {"AttributeName": pk["Name"], "AttributeType": types[pk["Type"]]}
    else:
        key = {"AttributeName": "id", "AttributeType": "S"}
    table = {"AttributeDefinitions": [key],
             "KeySchema": [{"AttributeName": key["AttributeName"], "KeyType": "HASH"}]}
    if props.get("PointInTimeRecoverySpecification"):
        table["PointInTimeRecoverySpecification"] = props["PointInTimeRecoverySpecification"]
    if props.get("ProvisionedThroughput"):
        table["ProvisionedThroughput"] = props["ProvisionedThroughput"]
    else:
        table["BillingMode"] = "PAY_PER_REQUEST"
    if props.get("SSESpecification"):
        table["SSESpecification"] = props["SSESpecification"]
    if props.get("TableName"):
        table["TableName"] = props["TableName"]
    if props.get("Tags"):
        table["Tags"] = tag_list(props["Tags"])
    attrs = {k: res[k] for k in ATTRIBUTES if k in res}
    ctx.add(lid, resource("AWS::DynamoDB::Table", table, attrs, res.get("DependsOn")), ("Resources", lid))
