"""Regenerate the transform's data files from the installed reference (aws-sam-translator):

    python tests/conformance/refresh_data.py          # rewrite transform/data/*.json
    python tests/conformance/refresh_data.py --check  # exit 1 when they differ from the reference's

The managed policy map becomes ``{partition: {name: path}}`` (ARN = ``arn:<partition>:iam::aws:policy/<path><name>``);
the policy templates keep only what the transform reads (parameter names, statement definition).
"""

from __future__ import annotations

import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.normpath(os.path.join(HERE, "..", "..", "packager", "transform", "data"))
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
    dump = lambda d: json.dumps(d, separators=(",", ":"), sort_keys=True)  # noqa: E731
    return {"managed_policies.json": dump(out), "policy_templates.json": dump(tpl)}


def main(argv: list[str]) -> int:
    files = build()
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
