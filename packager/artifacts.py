"""What a build produces, as data: one :class:`Artifact` per deployable zip.

``build`` makes them, ``package`` uploads them and rewrites the template,
``local invoke`` runs them, ``deploy`` does all three.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field

FUNCTION = "function"
LAYER = "layer"

# resource type -> (kind, property holding the code location)
CODE_PROPERTIES = {
    "AWS::Serverless::Function": (FUNCTION, "CodeUri"),
    "AWS::Serverless::LayerVersion": (LAYER, "ContentUri"),
    "AWS::Lambda::Function": (FUNCTION, "Code"),
    "AWS::Lambda::LayerVersion": (LAYER, "Content"),
}


@dataclass(frozen=True)
class Artifact:
    resource: str  # logical ID in the template
    resource_type: str  # a key of CODE_PROPERTIES
    kind: str  # FUNCTION or LAYER
    prop: str  # CodeUri, ContentUri, Code or Content
    source: str  # absolute path of the local folder or zip it was built from
    zip_path: str  # absolute path of the built zip
    sha256: str  # hex digest of the zip's bytes
    files: int
    unzipped_bytes: int
    zipped_bytes: int
    runtime: str | None = None
    architecture: str = "x86_64"
    reused: bool = False  # True when the incremental cache made the build a no-op
    layers: tuple[str, ...] = field(default=())  # logical IDs of layers built here that the function uses

    @property
    def code_sha256(self) -> str:
        """As Lambda reports it (``CodeSha256``): base64 of the zip's sha256."""
        return base64.b64encode(bytes.fromhex(self.sha256)).decode()


def needs_build(template) -> bool:
    """True when a code location in the template is a local path (folder or zip) to build and upload."""
    data = template.data
    resources = data.get("Resources") or {}
    globals_code = ((data.get("Globals") or {}).get("Function") or {}).get("CodeUri")
    for res in resources.values() if isinstance(resources, dict) else ():
        if not isinstance(res, dict) or res.get("Type") not in CODE_PROPERTIES:
            continue
        _kind, prop = CODE_PROPERTIES[res["Type"]]
        props = res.get("Properties") or {}
        value = props.get(prop) if isinstance(props, dict) else None
        if value is None and res["Type"] == "AWS::Serverless::Function":
            if isinstance(props, dict) and (props.get("InlineCode") is not None or props.get("ImageUri")):
                continue
            value = globals_code if globals_code is not None else "."
        if isinstance(value, str) and not value.startswith("s3://"):
            return True
    return False
