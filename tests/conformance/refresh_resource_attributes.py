"""Regenerate the local cloud's list of resource attributes (local/cloud/data/resource_attributes.json) from the
CloudFormation resource schemas bundled with cfn-lint (us-east-1):

    python tests/conformance/refresh_resource_attributes.py          # rewrite the file
    python tests/conformance/refresh_resource_attributes.py --check  # exit 1 when it differs from cfn-lint's

For each resource type: what ``Ref`` gives (its primary identifier, a property name, and whether it is an ARN) and
the attributes ``Fn::GetAtt`` reads, each with its kind (``arn``, ``list``, ``number``, ``string``). The local
cloud gives a resource of a type it does not emulate placeholder values of these shapes
(:mod:`lamctl.local.cloud.models`), so that ``Ref`` and ``GetAtt`` of it resolve.
"""

from __future__ import annotations

import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.normpath(os.path.join(HERE, "..", "..", "local", "cloud", "data", "resource_attributes.json"))


def _resolve(schema: dict, pointer: str) -> dict:
    """The sub-schema at a JSON pointer like ``/properties/A/B`` (nested names under ``properties``), following
    ``$ref`` into the schema's definitions."""
    node: dict = schema
    parts = [p for p in pointer.split("/") if p]
    i = 0
    while i < len(parts):
        while isinstance(node, dict) and "$ref" in node:
            node = _resolve(schema, node["$ref"].lstrip("#"))
        if not isinstance(node, dict):
            return {}
        key = parts[i]
        if key in ("properties", "definitions") and isinstance(node.get(key), dict) and i + 1 < len(parts):
            node = node[key].get(parts[i + 1], {})
            i += 2
            continue
        node = node.get("properties", {}).get(key, {}) if isinstance(node.get("properties"), dict) else {}
        i += 1
    while isinstance(node, dict) and "$ref" in node:
        node = _resolve(schema, node["$ref"].lstrip("#"))
    return node if isinstance(node, dict) else {}


def _kind(name: str, prop: dict) -> str:
    types = prop.get("type")
    types = types if isinstance(types, list) else [types]
    if "array" in types:
        return "list"
    if "integer" in types or "number" in types:
        return "number"
    pattern = str(prop.get("pattern") or "")
    if name.split(".")[-1].lower().endswith("arn") or pattern.startswith("^arn") or "format" in prop and \
            str(prop["format"]).lower().endswith("arn"):
        return "arn"
    return "string"


def build() -> dict:
    from cfnlint.schema import PROVIDER_SCHEMA_MANAGER as manager

    region = "us-east-1"
    out: dict = {"_source": "CloudFormation resource types: what Ref gives (the primary identifier) and the GetAtt "
                            "attributes with their kind, from the resource schemas bundled with cfn-lint (MIT-0); "
                            "regenerate with tests/conformance/refresh_resource_attributes.py"}
    for type_name in sorted(manager.get_resource_types(region)):
        if not type_name.startswith("AWS::") or type_name.startswith("AWS::Serverless::"):
            continue
        resource = manager.get_resource_schema(region, type_name)
        schema = resource.schema
        attrs = {}
        for name, pointer in sorted(resource.get_atts.items()):
            attrs[name] = _kind(name, _resolve(schema, str(pointer)))
        ids = [p.split("/")[-1] for p in schema.get("primaryIdentifier") or []]
        ref = ids[0] if len(ids) == 1 else ""
        entry: dict = {"attrs": attrs}
        if ref:
            entry["ref"] = ref
            entry["ref_kind"] = _kind(ref, _resolve(schema, f"/properties/{ref}"))
        out[type_name] = entry
    return out


def main(argv: list[str]) -> int:
    data = build()
    text = json.dumps(data, indent=0, sort_keys=True, separators=(",", ":")) + "\n"
    if "--check" in argv:
        with open(DATA, encoding="utf-8") as fh:
            same = fh.read() == text
        print("up to date" if same else f"{DATA} differs from cfn-lint's schemas: run this script to refresh it")
        return 0 if same else 1
    os.makedirs(os.path.dirname(DATA), exist_ok=True)
    with open(DATA, "w", encoding="utf-8") as fh:
        fh.write(text)
    print(f"wrote {DATA} ({len(data) - 1} resource types)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
