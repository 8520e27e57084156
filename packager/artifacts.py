"""What a build produces, as data: one :class:`Artifact` per deployable zip.

``build`` makes them, ``package`` uploads them and rewrites the template,
``local invoke`` runs them, ``deploy`` does all three.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field

from lamctl.schemas import sam

FUNCTION = "function"
LAYER = "layer"

# resource type -> (kind, property holding the code location), from lamctl.schemas.sam.CODE_PROPERTIES
CODE_PROPERTIES = {rtype: (FUNCTION if rtype.endswith("::Function") else LAYER, prop)
                   for rtype, prop in sam.CODE_PROPERTIES.items()}


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
    """True when a code location in the template is a local path (folder or zip) to build and upload: read
    after Globals, as build reads it (:func:`lamctl.schemas.sam.code_location`; no CodeUri at all is the
    template's folder); or when a nested template is a local file (:mod:`lamctl.packager.nested`)."""
    data = template.data if isinstance(template.data, dict) else {}
    resources = data.get("Resources") if isinstance(data.get("Resources"), dict) else {}
    globs = sam.Globals.of(data, check=False)
    for lid, res in resources.items():
        if not isinstance(res, dict):
            continue
        found = sam.code_location(res.get("Type"), globs.resource(lid, res))
        if found is not None and isinstance(found[1], str) and not found[1].startswith("s3://"):
            return True
    from lamctl.packager.nested import NESTED_TEMPLATES, is_local_path

    return any(isinstance(res, dict) and isinstance(res.get("Properties"), dict) and res.get("Type") in NESTED_TEMPLATES
               and is_local_path(res["Properties"].get(NESTED_TEMPLATES[res["Type"]])) for res in resources.values())
