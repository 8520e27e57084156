"""Regenerate the transform's data files from the installed reference (aws-sam-translator):

    python tests/conformance/refresh_data.py          # rewrite transform/data/*.json
    python tests/conformance/refresh_data.py --check  # exit 1 when they differ from the reference's
    python tests/conformance/refresh_data.py --agree  # exit 1 when an entry lamctl bundles has another value in
                                                      # the reference; names only one side has are listed

``--agree`` is what the test suite runs: a newer aws-sam-translator that adds a managed policy or a policy
template is a prompt to refresh (printed), not a failure of a fresh install; a value that disagrees is a failure.

The managed policy map becomes ``{partition: {name: path}}`` (ARN = ``arn:<partition>:iam::aws:policy/<path><name>``);
the policy templates keep only what the transform reads (parameter names, statement definition); the connector
profiles are copied as they are.
"""

from __future__ import annotations

import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.normpath(os.path.join(HERE, "..", "..", "transform", "data"))
_ARN = re.compile(r"arn:[^:]+:iam::aws:policy/(.*)$")


def build() -> dict[str, str]:
    import samtranslator

    root = os.path.dirname(samtranslator.__file__)
    with open(os.path.join(root, "internal", "data", "aws_managed_policies.json"), encoding="utf-8") as fh:
        managed = json.load(fh)
    out = {"_source": "AWS managed IAM policy names and their paths per partition (ARN = arn:<partition>:iam::aws:"
                      "policy/<path><name>), as bundled with aws-sam-translator (Apache-2.0); regenerate with "
                      "tests/conformance/refresh_data.py"}
    for partition, names in managed.items():
        out[partition] = {name: _ARN.match(arn).group(1)[: -len(name)] for name, arn in sorted(names.items())}
    with open(os.path.join(root, "policy_templates_data", "policy_templates.json"), encoding="utf-8") as fh:
        templates = json.load(fh)
    tpl = {"_source": "SAM policy templates (name -> parameter names and statement definition), from "
                      "aws-sam-translator's policy_templates.json (Apache-2.0); regenerate with "
                      "tests/conformance/refresh_data.py",
           "Version": templates["Version"],
           "Templates": {k: {"Parameters": sorted(v.get("Parameters", {})), "Definition": v["Definition"]}
                         for k, v in sorted(templates["Templates"].items())}}
    with open(os.path.join(root, "model", "connector_profiles", "profiles.json"), encoding="utf-8") as fh:
        profiles = json.load(fh)
    conn = {"_source": "SAM connector profiles (source type -> destination type -> policy, and what each type's "
                       "Ref / GetAtt give), from aws-sam-translator's connector_profiles/profiles.json (Apache-2.0); "
                       "regenerate with tests/conformance/refresh_data.py", **profiles}
    dump = lambda d: json.dumps(d, separators=(",", ":"), sort_keys=True)  # noqa: E731
    return {"managed_policies.json": dump(out), "policy_templates.json": dump(tpl),
            "connector_profiles.json": dump(conn)}


def _disagreements(name: str, ours: dict, theirs: dict) -> tuple[list[str], list[str]]:
    """(entries whose values differ, names only one side has), over the maps below the top level."""
    differ, one_side = [], []
    for key in sorted(set(ours) | set(theirs)):
        if key == "_source":
            continue
        a, b = ours.get(key), theirs.get(key)
        if isinstance(a, dict) and isinstance(b, dict) and key != "Version":
            for inner in sorted(set(a) | set(b)):
                if inner not in a or inner not in b:
                    one_side.append(f"{name}: {key}.{inner} only in {'lamctl' if inner in a else 'the reference'}")
                elif a[inner] != b[inner]:
                    differ.append(f"{name}: {key}.{inner}")
        elif a != b:
            differ.append(f"{name}: {key}")
    return differ, one_side


def main(argv: list[str]) -> int:
    files = build()
    if "--agree" in argv:
        differ, one_side = [], []
        for name, text in files.items():
            with open(os.path.join(DATA, name), encoding="utf-8") as fh:
                d, o = _disagreements(name, json.load(fh), json.loads(text))
            differ += d
            one_side += o
        for line in one_side:
            print(f"refresh with tests/conformance/refresh_data.py: {line}")
        if differ:
            print("values that differ from the reference's:\n  " + "\n  ".join(differ), file=sys.stderr)
            return 1
        print(f"agree: {', '.join(files)} ({len(one_side)} names on one side only)")
        return 0
    stale = []
    for name, text in files.items():
        path = os.path.join(DATA, name)
        current = open(path, encoding="utf-8").read() if os.path.exists(path) else None
        if current != text:
            stale.append(name)
            if "--check" not in argv:
                with open(path, "w", encoding="utf-8") as fh:
                    fh.write(text)
    if "--check" in argv and stale:
        print("stale: " + ", ".join(stale), file=sys.stderr)
        return 1
    print(("rewrote " if stale else "up to date: ") + ", ".join(stale or files))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
