"""Rewrite a template so its code locations point at S3, and change nothing else.

``package_template(template, uploads)`` returns the template's text with each
built artifact's local location replaced by where it was uploaded:

* ``AWS::Serverless::Function`` ``CodeUri`` and ``AWS::Serverless::LayerVersion``
  ``ContentUri`` become ``s3://bucket/key`` URIs;
* ``AWS::Lambda::Function`` ``Code`` and ``AWS::Lambda::LayerVersion``
  ``Content`` become ``{S3Bucket: bucket, S3Key: key}``;
* ``Globals.Function.CodeUri`` becomes the URI of the functions that inherit it
  (when those functions were built into different zips, each gets its own
  ``CodeUri`` and Globals points at the first one); a function with no
  ``CodeUri`` anywhere (or one that ignores the global one with ``IgnoreGlobals``)
  was built from the template's folder, as SAM reads it, and gets a ``CodeUri``
  of its own;
* a nested template given as a local file (an ``AWS::Serverless::Application`` ``Location``, an
  ``AWS::CloudFormation::Stack`` ``TemplateURL``) is built and packaged recursively, uploaded under its
  SHA-256 and named by its ``https://`` S3 URL (:mod:`lamctl.packager.nested`);
* other local files (an API's ``DefinitionUri`` or ``BodyS3Location``, a state
  machine's definition, AppSync schemas (a GraphQL API's ``SchemaUri`` too) and templates: :data:`FILE_PROPERTIES`)
  are uploaded as they are, to ``<sha256><extension>``, and named by URI or by
  ``{Bucket, Key}`` as each property expects; so are the local code files of a GraphQL API's pipeline
  functions and resolvers (``Functions.<name>.CodeUri``, ``Resolvers.<type>.<field>.CodeUri``:
  :data:`NESTED_FILE_PROPERTIES`), as ``sam package`` does.

The rewrite edits the text in place: comments, key order, quoting, short-form
tags (``!Ref``, ``!Sub``, ...) and blank lines are kept byte for byte; only the
replaced values differ. JSON templates stay JSON.

``package(s3, template, artifacts, bucket, prefix)`` is the whole job
(upload, then rewrite) for commands that need both (``package``, ``deploy``).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

import yaml

from lamctl.packager.artifacts import CODE_PROPERTIES, Artifact
from lamctl.packager.nested import https_url, is_local_path, is_nested, local_nested, package_nested
from lamctl.packager.upload import FILE, ProgressCallback, S3Location, Upload, artifact_key, upload_artifacts
from lamctl.schemas.errors import TemplateError
from lamctl.schemas.sam import Globals
from lamctl.schemas.template import Template, parse_text

try:
    _ComposeLoader = yaml.CSafeLoader  # type: ignore[attr-defined]
except AttributeError:  # pragma: no cover
    _ComposeLoader = yaml.SafeLoader

SAM_TYPES = {"AWS::Serverless::Function", "AWS::Serverless::LayerVersion"}

URI, BUCKET_KEY = "uri", "bucket_key"
# Other properties naming a local file that is uploaded as it is (as ``aws cloudformation package`` does):
# resource type -> {property: the form its S3 location takes}.
_APPSYNC_TEMPLATES = {"RequestMappingTemplateS3Location": URI, "ResponseMappingTemplateS3Location": URI,
                      "CodeS3Location": URI}
FILE_PROPERTIES: dict[str, dict[str, str]] = {
    "AWS::Serverless::Api": {"DefinitionUri": URI},
    "AWS::Serverless::HttpApi": {"DefinitionUri": URI},
    "AWS::Serverless::StateMachine": {"DefinitionUri": URI},
    "AWS::Serverless::GraphQLApi": {"SchemaUri": URI},
    "AWS::ApiGateway::RestApi": {"BodyS3Location": BUCKET_KEY},
    "AWS::ApiGatewayV2::Api": {"BodyS3Location": BUCKET_KEY},
    "AWS::StepFunctions::StateMachine": {"DefinitionS3Location": BUCKET_KEY},
    "AWS::AppSync::GraphQLSchema": {"DefinitionS3Location": URI},
    "AWS::AppSync::Resolver": _APPSYNC_TEMPLATES,
    "AWS::AppSync::FunctionConfiguration": _APPSYNC_TEMPLATES,
}
# Local files named deeper inside a resource's properties, as ``sam package`` uploads them: a GraphQL API's
# pipeline functions (``Functions.<name>.CodeUri``) and resolvers (``Resolvers.<type>.<field>.CodeUri``).
# Their artifacts' ``prop`` is the dotted path from Properties (``Functions.Fetch.CodeUri``); the value is a URI.
NESTED_FILE_PROPERTIES = {"AWS::Serverless::GraphQLApi": ("Functions.*.CodeUri", "Resolvers.*.*.CodeUri")}


def nested_file_paths(resource_type: Any, props: Any) -> list[tuple[str, ...]]:
    """The paths (from Properties) of the nested file properties of a resource that are present, in
    template order: ``("Functions", "Fetch", "CodeUri")``, ``("Resolvers", "Query", "post", "CodeUri")``."""
    out: list[tuple[str, ...]] = []
    for pattern in NESTED_FILE_PROPERTIES.get(resource_type, ()) if isinstance(resource_type, str) else ():
        found: list[tuple[tuple[str, ...], Any]] = [((), props)]
        for part in pattern.split("."):
            deeper = []
            for path, node in found:
                if not isinstance(node, dict):
                    continue
                keys = [k for k in node if isinstance(k, str)] if part == "*" else [part] if part in node else []
                deeper.extend((path + (k,), node[k]) for k in keys)
            found = deeper
        out.extend(path for path, _ in found)
    return out


def _dig(value: Any, path: Iterable[str]) -> Any:
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return value


@dataclass
class PackagedTemplate:
    """The rewritten template: ``text`` to write out, ``data`` parsed from it (with positions)."""

    text: str
    data: dict
    uploads: list[Upload] = field(default_factory=list)
    path: str = "<packaged template>"
    artifacts: list[Artifact] = field(default_factory=list)  # what went up, nested templates' included


def s3_code_value(resource_type: str, location: S3Location) -> Any:
    """The value a code property takes for an S3 location (URI for SAM, S3Bucket/S3Key for Lambda)."""
    if resource_type in SAM_TYPES:
        return location.uri
    return {"S3Bucket": location.bucket, "S3Key": location.key}


def file_location(resource_type: str, prop: str, location: S3Location, region: str = "us-east-1") -> Any:
    """The value a file property (DefinitionUri, BodyS3Location, ...) takes for an S3 location."""
    if is_nested(resource_type, prop):
        return https_url(location.bucket, location.key, region)
    if FILE_PROPERTIES.get(resource_type, {}).get(prop) == BUCKET_KEY:
        return {"Bucket": location.bucket, "Key": location.key}
    return location.uri


_is_local_path = is_local_path


def local_files(template: Template) -> list[Artifact]:
    """One :class:`Artifact` (kind ``file``) for each local file named by a property of
    :data:`FILE_PROPERTIES` (paths are relative to the template's folder).

    A path that is not a file (a nested template's too: :func:`lamctl.packager.nested.local_nested`) is a
    :class:`TemplateError` with the template's file:line:col."""
    out: list[Artifact] = []
    local_nested(template)  # their paths are checked here; they are packaged by package()
    resources = template.data.get("Resources")
    if not isinstance(resources, dict):
        return out
    for name, resource in resources.items():
        if not isinstance(resource, dict) or not isinstance(resource.get("Properties"), dict):
            continue
        rtype, props = resource.get("Type"), resource["Properties"]
        paths = [(prop,) for prop in FILE_PROPERTIES.get(rtype, {})] + nested_file_paths(rtype, props)
        for keys in paths:
            value, prop = _dig(props, keys), ".".join(keys)
            if not _is_local_path(value):
                continue
            path = os.path.join(template.folder, value)
            if not os.path.isfile(path):
                what = "a folder" if os.path.isdir(path) else "not a file"
                raise TemplateError(f"{name}: {prop} {value!r} is {what}",
                                    where=template.where(["Resources", name, "Properties", *keys]),
                                    hint="give a file path relative to the template's folder, or an s3:// URI")
            digest = hashlib.sha256()
            with open(path, "rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    digest.update(chunk)
            size = os.path.getsize(path)
            out.append(Artifact(resource=name, resource_type=rtype, kind=FILE, prop=prop, source=os.path.abspath(path),
                                zip_path=os.path.abspath(path), sha256=digest.hexdigest(), files=1,
                                unzipped_bytes=size, zipped_bytes=size))
    return out


# -- the text edit -----------------------------------------------------------------------------


def _scalar(node) -> str | None:
    return node.value if isinstance(node, yaml.ScalarNode) else None


def _get(mapping, key: str):
    """(key node, value node) of ``key`` in a composed mapping node, or (None, None)."""
    if not isinstance(mapping, yaml.MappingNode):
        return None, None
    for k, v in mapping.value:
        if _scalar(k) == key:
            return k, v
    return None, None


_PLAIN_SAFE = re.compile(r"[A-Za-z0-9][A-Za-z0-9/._~+-]*")


class _Editor:
    def __init__(self, text: str, is_json: bool):
        self.text = text
        self.is_json = is_json
        self.edits: list[tuple[int, int, str]] = []  # (start, end, replacement) on the original text

    def _str(self, value: str, in_flow: bool = False) -> str:
        if self.is_json:
            return json.dumps(value)
        if _PLAIN_SAFE.fullmatch(value) or (not in_flow and value.startswith("s3://")
                                           and _PLAIN_SAFE.fullmatch(value[5:])):
            return value
        return json.dumps(value)  # a JSON string is a valid YAML double-quoted scalar

    def render(self, value: Any, in_flow: bool = False) -> str:
        if isinstance(value, str):
            return self._str(value, in_flow)
        sep = ", "
        items = [f"{self._str(k, True)}: {self._str(v, True)}" for k, v in value.items()]
        return "{" + sep.join(items) + "}"

    def replace(self, node, value: Any, in_flow: bool = False) -> None:
        self.edits.append((node.start_mark.index, node.end_mark.index, self.render(value, in_flow)))

    def insert_entry(self, mapping, key: str, value: Any) -> None:
        """Add ``key: value`` as the first entry of a composed mapping."""
        flow = bool(mapping.flow_style or self.is_json)
        rendered = f"{self._str(key, flow)}: {self.render(value, flow)}"
        if flow:
            brace = mapping.start_mark.index  # at "{"
            if self.text[brace] != "{":
                raise ValueError("flow mapping without a brace")
            sep = ", " if mapping.value else ""
            self.edits.append((brace + 1, brace + 1, " " + rendered + sep if self.is_json else rendered + sep))
            return
        first_key = mapping.value[0][0]
        line_start = self.text.rfind("\n", 0, first_key.start_mark.index) + 1
        indent = self.text[line_start:first_key.start_mark.index]
        if indent.strip():  # the first key does not start its line (e.g. "- Key: v"): insert before it
            self.edits.append((first_key.start_mark.index, first_key.start_mark.index,
                               rendered + "\n" + " " * first_key.start_mark.column))
            return
        self.edits.append((line_start, line_start, indent + rendered + "\n"))

    def apply(self) -> str:
        out = self.text
        for start, end, new in sorted(self.edits, key=lambda e: (e[0], e[1]), reverse=True):
            out = out[:start] + new + out[end:]
        return out


def package_template(template: Template, uploads: Iterable[Upload], artifacts: Iterable[Artifact],
                     region: str = "us-east-1") -> PackagedTemplate:
    """The template's text with every artifact's code location replaced by its S3 location.

    ``artifacts`` are the build's; ``uploads`` say where each went (matched by
    resource logical ID). Resources without an artifact are left as they are."""
    artifacts = list(artifacts)
    uploads = list(uploads)
    where_of: dict[Any, S3Location] = {u.resource: u.location for u in uploads}
    where_of.update({(u.resource, u.prop): u.location for u in uploads if u.prop})
    text = template.text
    is_json = text.lstrip().startswith("{")
    try:
        root = yaml.compose(text, Loader=_ComposeLoader)
    except yaml.YAMLError as exc:  # the loader read it, so this is unexpected; say where anyway
        raise TemplateError(f"cannot re-read the template to rewrite it: {exc}", where=template.path) from None
    _, resources = _get(root, "Resources")
    editor = _Editor(text, is_json)

    globs = Globals.of(template.data, check=False)
    inherit: list[tuple[Artifact, S3Location, Any]] = []  # functions taking CodeUri from Globals
    for artifact in artifacts:
        location = where_of.get((artifact.resource, artifact.prop)) or where_of.get(artifact.resource)
        if location is None:
            raise TemplateError(f"no upload recorded for {artifact.resource}", where=artifact.resource,
                                hint="this is a bug in lamctl; run with --debug and report it")
        _, resource = _get(resources, artifact.resource)
        if resource is None:
            raise TemplateError(f"resource {artifact.resource} is not in the template", where=template.path,
                                hint="build and package the same template")
        _, type_node = _get(resource, "Type")
        resource_type = _scalar(type_node) or artifact.resource_type
        if artifact.kind == FILE:
            prop = artifact.prop
            new = file_location(resource_type, prop, location, region)
        else:
            prop = CODE_PROPERTIES.get(resource_type, (None, artifact.prop))[1]
            new = s3_code_value(resource_type, location)
        _, props = _get(resource, "Properties")
        holder, value = props, None
        for i, part in enumerate(prop.split(".") if artifact.kind == FILE else [prop]):
            if i:
                holder = value
            _, value = _get(holder, part)
        if value is not None:
            editor.replace(value, new, in_flow=bool(holder.flow_style))
        elif resource_type == "AWS::Serverless::Function":
            res = template.data["Resources"][artifact.resource]
            takes = globs.section_for(resource_type, artifact.resource, res.get("IgnoreGlobals"))
            if "CodeUri" in takes:
                inherit.append((artifact, location, resource))
            else:  # no CodeUri anywhere: its code is the template's folder (schemas.sam.code_location)
                _own_code_uri(editor, template, artifact, resource, new)
        else:
            raise TemplateError(f"{artifact.resource} has no {prop} to rewrite",
                                where=template.where(["Resources", artifact.resource]))

    if inherit:
        _, globals_ = _get(root, "Globals")
        _, function_globals = _get(globals_, "Function")
        _, global_uri = _get(function_globals, "CodeUri")
        editor.replace(global_uri, s3_code_value("AWS::Serverless::Function", inherit[0][1]),
                       in_flow=bool(function_globals.flow_style))
        if len({loc for _, loc, _ in inherit}) > 1:
            # The functions sharing the global folder were built differently (runtime, architecture):
            # each names its own zip.
            for artifact, location, resource in inherit:
                _own_code_uri(editor, template, artifact, resource,
                              s3_code_value("AWS::Serverless::Function", location))

    out = editor.apply()
    try:
        data = parse_text(out, template.path)
    except TemplateError as exc:  # pragma: no cover - an edit that breaks the syntax is a bug
        raise TemplateError(f"the rewritten template does not parse: {exc.message}", where=template.path,
                            hint="this is a bug in lamctl; run with --debug and report it") from None
    return PackagedTemplate(text=out, data=data, uploads=uploads, path=template.path)


def _own_code_uri(editor: _Editor, template: Template, artifact: Artifact, resource: Any, uri: str) -> None:
    """Give a function without a ``CodeUri`` of its own one, as the first of its properties."""
    _, props = _get(resource, "Properties")
    if isinstance(props, yaml.MappingNode) and (props.value or props.flow_style or editor.is_json):
        editor.insert_entry(props, "CodeUri", uri)
    elif props is None and isinstance(resource, yaml.MappingNode):
        editor.insert_entry(resource, "Properties", {"CodeUri": uri})
    else:
        raise TemplateError(f"{artifact.resource} has no CodeUri of its own and no Properties mapping to hold its "
                            "S3 location", where=template.where(["Resources", artifact.resource]),
                            hint="give the function its own CodeUri")


def package(s3: Any, template: Template, artifacts: Iterable[Artifact], bucket: str, prefix: str | None = None, *,
            progress: ProgressCallback | None = None, files: Iterable[Artifact] | None = None,
            build_dir: str | None = None, transform_nested: Callable[[Template, Any], dict] | None = None,
            notify: Callable[[str], None] | None = None, chain: tuple[str, ...] = (),
            pending: list[Artifact] | None = None, warn: Callable[[str], None] | None = None,
            **upload_options: Any) -> PackagedTemplate:
    """Upload what S3 lacks, then rewrite the template (see :func:`upload_artifacts`).

    ``artifacts`` are the build's zips; the template's other local files (``files``,
    found with :func:`local_files` when not given) go up with them, and so do its local nested
    templates, built (into ``build_dir/nested``) and packaged first (:func:`lamctl.packager.nested.package_nested`;
    ``transform_nested(template, packaged) -> CloudFormation`` uploads them transformed). Nothing is uploaded
    until every nested template is packaged and checked: a nested template's artifacts are rewritten to the
    keys they will have (their SHA-256) and collected in ``pending`` for the top level to upload."""
    region = getattr(getattr(s3, "meta", None), "region_name", None) or "us-east-1"
    top = pending is None
    collected: list[Artifact] = [] if top else pending  # type: ignore[assignment]

    def package_one(nested: Template, nested_artifacts: list[Artifact], chain: tuple[str, ...],
                    build_dir: str) -> PackagedTemplate:
        return package(s3, nested, nested_artifacts, bucket, prefix, progress=progress, build_dir=build_dir,
                       transform_nested=transform_nested, notify=notify, chain=chain, pending=collected,
                       warn=warn, **upload_options)

    artifacts = list(artifacts) + list(local_files(template) if files is None else files)
    if local_nested(template):
        folder = build_dir or os.path.join(template.folder, ".lamctl", "build")
        artifacts += package_nested(template, folder, package_one, transform=transform_nested, chain=chain,
                                    notify=notify, warn=warn)
    if not top:  # a nested template: its artifacts go up with the top level's, under these keys
        collected.extend(artifacts)
        return package_template(template, [Upload(a.resource, a.sha256, S3Location(bucket, artifact_key(a, prefix)),
                                                   a.zipped_bytes, False, prop=a.prop) for a in artifacts],
                                artifacts, region)
    uploads = upload_artifacts(s3, artifacts + collected, bucket, prefix, progress=progress, **upload_options)
    own = uploads[:len(artifacts)]
    return PackagedTemplate(**{**package_template(template, own, artifacts, region).__dict__, "uploads": uploads,
                               "artifacts": artifacts + collected})
