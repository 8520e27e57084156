"""Property: for templates in any layout (block or flow, quoted or plain, comments, JSON compact or
indented), the packaged template reads back as the original with exactly the code locations replaced,
and in YAML every line without a code location is untouched."""

from __future__ import annotations

import copy
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lamctl.packager.artifacts import CODE_PROPERTIES, Artifact
from lamctl.packager.package import package_template, s3_code_value
from lamctl.packager.upload import S3Location, Upload
from lamctl.schemas.template import plain
from tests.helpers import template_from_text

TYPES = list(CODE_PROPERTIES)
# S3 keys may hold characters that YAML reads as syntax when unquoted
PREFIXES = ["p", "pre fix", "a #b", "x: y", "c,d", "[e]", "{f}", "'g'", "&h", "*i", "!j", "%k", "@l", "-"]
PATHS = ["src", "./src/hello/", "functions/a b", "üñí/code", "layer.zip", "a-b_c.d", "x:y", "#hash"]


def _quote(value: str, style: str) -> str:
    if style == "single":
        return "'" + value.replace("'", "''") + "'"
    if style == "double" or not value[0].isalnum() or any(c in value for c in ":#' "):
        return json.dumps(value)
    return value


resource = st.fixed_dictionaries({
    "type": st.sampled_from(TYPES),
    "path": st.sampled_from(PATHS),
    "quote": st.sampled_from(["plain", "single", "double"]),
    "flow": st.booleans(),
    "comment": st.booleans(),
    "position": st.integers(0, 2),  # where the code property stands among the others
    "prefix": st.sampled_from(PREFIXES),
})


def yaml_text(resources: list[dict]) -> str:
    lines = ["AWSTemplateFormatVersion: '2010-09-09'", "# header comment", "Resources:"]
    for i, r in enumerate(resources):
        prop = CODE_PROPERTIES[r["type"]][1]
        others = [("Handler", "app.handler"), ("Description", f"resource {i}")]
        entries = list(others)
        entries.insert(r["position"], (prop, _quote(r["path"], r["quote"])))
        lines.append(f"  R{i}:")
        lines.append(f"    Type: {r['type']}")
        if r["flow"]:
            lines.append("    Properties: {" + ", ".join(f"{k}: {v}" for k, v in entries) + "}"
                         + ("  # flow" if r["comment"] else ""))
        else:
            lines.append("    Properties:")
            for k, v in entries:
                lines.append(f"      {k}: {v}" + ("  # note" if r["comment"] and k == prop else ""))
    lines.append("Outputs:")
    lines.append("  O: {Value: !Ref R0}")
    return "\n".join(lines) + "\n"


def json_text(resources: list[dict], indent) -> str:
    doc = {"Resources": {}}
    for i, r in enumerate(resources):
        prop = CODE_PROPERTIES[r["type"]][1]
        props = {"Handler": "app.handler", "Description": f"resource {i}"}
        items = list(props.items())
        items.insert(r["position"], (prop, r["path"]))
        doc["Resources"][f"R{i}"] = {"Type": r["type"], "Properties": dict(items)}
    return json.dumps(doc, indent=indent, ensure_ascii=False)


def artifacts_for(resources: list[dict]) -> tuple[list[Artifact], list[Upload]]:
    arts, ups = [], []
    for i, r in enumerate(resources):
        kind, prop = CODE_PROPERTIES[r["type"]]
        sha = f"{i:02x}" * 32
        arts.append(Artifact(f"R{i}", r["type"], kind, prop, "/src", "/z.zip", sha, 1, 1, 1))
        key = f"{r['prefix']}/{sha}.zip"
        ups.append(Upload(f"R{i}", sha, S3Location("my.bucket-1", key), 1, True))
    return arts, ups


def expected_data(original: dict, resources: list[dict], uploads: list[Upload]) -> dict:
    data = copy.deepcopy(plain(original))
    for i, (r, u) in enumerate(zip(resources, uploads)):
        prop = CODE_PROPERTIES[r["type"]][1]
        data["Resources"][f"R{i}"]["Properties"][prop] = s3_code_value(r["type"], u.location)
    return data


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(resource, min_size=1, max_size=5))
def test_yaml_layouts(resources):
    text = yaml_text(resources)
    template = template_from_text(text, "t.yaml")
    arts, ups = artifacts_for(resources)
    packaged = package_template(template, ups, arts)
    assert plain(packaged.data) == expected_data(template.data, resources, ups)
    before, after = text.splitlines(), packaged.text.splitlines()
    assert len(before) == len(after)
    for b, a in zip(before, after):
        if b != a:
            assert any(f"{CODE_PROPERTIES[t][1]}:" in b for t in TYPES), (b, a)
    assert packaged.text.endswith("\n")


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(resource, min_size=1, max_size=5), st.sampled_from([None, 2, 4]))
def test_json_layouts(resources, indent):
    text = json_text(resources, indent)
    template = template_from_text(text, "t.json")
    arts, ups = artifacts_for(resources)
    packaged = package_template(template, ups, arts)
    assert json.loads(packaged.text) == expected_data(template.data, resources, ups)
