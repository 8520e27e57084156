"""Nested templates given as local files, packaged recursively as ``sam package`` does.

An ``AWS::Serverless::Application`` ``Location`` (or an ``AWS::CloudFormation::Stack`` ``TemplateURL``)
that is a local path names a template of its own. :func:`package_nested` builds that template's
functions and layers (:func:`lamctl.packager.build.build_template`, into
``<build dir>/nested/<logical ID>``), packages it (its code and its own nested templates, recursively),
writes the rewritten template to the build folder, and returns it as a file artifact: it is uploaded with
the parent's artifacts under its SHA-256 (``<sha256>.yaml``, or ``.json``), and the parent's ``Location``
becomes its ``https://s3.<region>.amazonaws.com/<bucket>/<key>`` URL, which is what CloudFormation's
``TemplateURL`` takes. The same sources give the same bytes, hence the same key.

``transform``: for ``lamctl deploy``, which transforms locally, each nested template is uploaded as the
CloudFormation it transforms to (JSON), so the nested stack needs no transform of its own (the local
cloud has none). ``lamctl package`` uploads the packaged SAM template, as ``sam package`` does.

Refused, with the location of the parent's property (exit 2): a path that is not a file, a nested
template that names itself again down the chain (a cycle, shown in full), one over 1 MB once packaged
(CloudFormation's limit for a template in S3), and nesting deeper than :data:`MAX_DEPTH`.
"""

from __future__ import annotations

import hashlib
import os
import re
from typing import Any, Callable

from lamctl.packager.artifacts import Artifact
from lamctl.packager.upload import FILE
from lamctl.schemas.errors import LimitError, TemplateError
from lamctl.schemas.template import Template

NESTED_TEMPLATES = {"AWS::Serverless::Application": "Location", "AWS::CloudFormation::Stack": "TemplateURL"}
# CloudFormation quotas: a template in S3 is at most 1 MB; each nesting level is a stack of its own, and
# lamctl stops at a depth no real application reaches, well before a runaway chain fills S3.
NESTED_TEMPLATE_MAX = 1_048_576
MAX_DEPTH = 10


def is_local_path(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip()) and not re.match(r"(?i)^(s3|https?)://", value)


def is_nested(resource_type: Any, prop: str) -> bool:
    return NESTED_TEMPLATES.get(resource_type) == prop


def https_url(bucket: str, key: str, region: str) -> str:
    """The URL CloudFormation reads a nested template from (``TemplateURL``)."""
    suffix = ".amazonaws.com.cn" if (region or "").startswith("cn-") else ".amazonaws.com"
    return f"https://s3.{region or 'us-east-1'}{suffix}/{bucket}/{key}"


def local_nested(template: Template) -> list[tuple[str, str, str, str]]:
    """``(logical ID, type, property, absolute path)`` of each nested template given as a local file;
    a path that is not a file is a located :class:`TemplateError`."""
    out = []
    resources = template.data.get("Resources") if isinstance(template.data, dict) else None
    for name, res in (resources.items() if isinstance(resources, dict) else ()):
        if not isinstance(res, dict) or not isinstance(res.get("Properties"), dict):
            continue
        prop = NESTED_TEMPLATES.get(res.get("Type"))
        value = res["Properties"].get(prop) if prop else None
        if not is_local_path(value):
            continue
        path = os.path.abspath(os.path.join(template.folder, value))
        if not os.path.isfile(path):
            what = "a folder" if os.path.isdir(path) else "not a file"
            raise TemplateError(f"{name}: {prop} {value!r} is {what}",
                                where=template.where(["Resources", name, "Properties", prop]),
                                hint="give the nested template's path relative to this template's folder, "
                                     "or its https:// S3 URL")
        out.append((name, res["Type"], prop, path))
    return out


def package_nested(template: Template, build_dir: str, package: Callable[..., Any], *,
                   transform: Callable[[Template, Any], dict] | None = None, chain: tuple[str, ...] = (),
                   notify: Callable[[str], None] | None = None,
                   warn: Callable[[str], None] | None = None) -> list[Artifact]:
    """A file artifact per local nested template of ``template``, each built and packaged (recursively).

    ``package(nested_template, artifacts, chain=...)`` uploads a nested template's artifacts and
    returns its :class:`~lamctl.packager.package.PackagedTemplate` (it is :func:`lamctl.packager.package.package`
    with the client, bucket and options bound); ``chain`` is the real paths of the templates above."""
    from lamctl.packager.build import build_template
    from lamctl.schemas.template import load_template

    chain = chain or (os.path.realpath(template.path),)
    out: list[Artifact] = []
    for name, rtype, prop, path in local_nested(template):
        where = template.where(["Resources", name, "Properties", prop])
        real = os.path.realpath(path)
        if real in chain:
            shown = " -> ".join(os.path.relpath(p, os.path.dirname(chain[0])) for p in chain + (real,))
            raise TemplateError(f"{name}: the nested templates form a cycle: {shown}", where=where,
                                hint="a template cannot contain itself; remove the Location that points back")
        if len(chain) > MAX_DEPTH:
            raise LimitError(f"{name}: nested templates go deeper than {MAX_DEPTH} levels", where=where,
                             hint="flatten the application: fewer levels of AWS::Serverless::Application")
        nested = load_template(path)
        if notify:
            notify(f"packaging the nested template {os.path.relpath(path, os.path.dirname(chain[0]))} of {name}")
        folder = os.path.join(build_dir, "nested", name)
        built = build_template(nested, os.path.join(folder, "build"), notify=notify)
        for warning in built.warnings:
            (warn or notify or (lambda _m: None))(f"{os.path.relpath(path, os.path.dirname(chain[0]))}: {warning}")
        packaged = package(nested, built.artifacts, chain=chain + (real,), build_dir=folder)
        if transform is not None:
            import json

            data = transform(nested, packaged)
            body = json.dumps(data, sort_keys=False, separators=(",", ":"), default=str).encode()
            ext = ".json"
        else:
            body = packaged.text.encode("utf-8")
            ext = ".json" if packaged.text.lstrip().startswith("{") else ".yaml"
        if len(body) > NESTED_TEMPLATE_MAX:
            raise LimitError(f"{name}: the nested template {os.path.basename(path)} is {len(body):,} bytes once "
                             f"packaged; CloudFormation reads at most {NESTED_TEMPLATE_MAX:,} from S3", where=where,
                             hint="split it into more nested applications, or move large inline code out")
        digest = hashlib.sha256(body).hexdigest()
        os.makedirs(folder, exist_ok=True)
        written = os.path.join(folder, f"template{ext}")
        with open(written, "wb") as fh:
            fh.write(body)
        out.append(Artifact(resource=name, resource_type=rtype, kind=FILE, prop=prop, source=path,
                            zip_path=written, sha256=digest, files=1, unzipped_bytes=len(body),
                            zipped_bytes=len(body)))
    return out
