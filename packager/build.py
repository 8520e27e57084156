"""``build_template``: one deterministic zip per function or layer whose code is local.

The order of work keeps a failed build from leaving anything half-done and an
unchanged build from reading file contents. ``plan_template`` comes first; the
numbered steps are those of ``build_template``:

* **plan**: find every ``AWS::Serverless::Function`` (``CodeUri``, also from
  ``Globals.Function``; none means the template's folder), ``AWS::Serverless::LayerVersion``
  (``ContentUri``), ``AWS::Lambda::Function`` (``Code``) and ``AWS::Lambda::LayerVersion``
  (``Content``) whose location is a local folder or zip (relative to the template's
  folder), with its properties after ``Globals`` (the transform's rules,
  :mod:`lamctl.schemas.sam`: what is built is what is deployed), its runtime and
  architecture, and the layers it uses (built here or not);
1. **configuration limits** of each function (memory, timeout, ...), before any work;
2. **walk**: list each folder's files (stat only), read ``requirements.txt``, compute the
   fingerprint and ask the cache whether the zip is still good (a given zip is fingerprinted
   as it is); when only the stat data changed, the files' digests decide;
3. **dependencies**: for what must be rebuilt, install the requirements with pip (cached,
   shared) for the function's runtime and architecture;
4. **size limits**: each function plus its layers against the 250 MB quota, each layer alone;
5. **zip** what the cache could not vouch for (identical inputs once), record it in the
   cache, then check the 50 MB quota of a direct upload.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Callable

# archive (ISA-L, thread pool) and zipfile are imported only when something must be zipped:
# an unchanged rebuild stays lean.
from lamctl.packager import cache as cache_mod, deps as deps_mod, files as files_mod, limits
from lamctl.packager import node as node_mod
from lamctl.packager.artifacts import CODE_PROPERTIES, FUNCTION, LAYER, Artifact
from lamctl.schemas.errors import BuildError, TemplateError, UsageError
from lamctl.packager import builders  # go1.x and makefile: a toolchain makes the zip's files
from lamctl.schemas.sam import Globals, GlobalsError, code_location, merge_globals
from lamctl.schemas.template import Template

ZIP_LEVEL = 3  # lamctl.packager.archive.LEVEL (a test keeps them equal); part of every fingerprint
DEFAULT_BUILD_DIR = os.path.join(".lamctl", "build")
LAYER_DEPS_PREFIX = "python/"
DEPS_EXCLUDES = ("__pycache__", "*.pyc")
SERVERLESS_FUNCTION = "AWS::Serverless::Function"


@dataclass
class BuildResult:
    artifacts: list[Artifact]
    warnings: list[str] = field(default_factory=list)
    headroom: dict[str, list[limits.Headroom]] = field(default_factory=dict)  # resource -> headroom per limit
    build_dir: str = ""

    def artifact(self, resource: str) -> Artifact:
        for a in self.artifacts:
            if a.resource == resource:
                return a
        raise KeyError(resource)


@dataclass
class _Plan:
    resource: str
    resource_type: str
    kind: str
    prop: str
    source: str  # absolute path of the folder or zip
    is_zip: bool
    props: dict
    runtime: str | None
    architecture: str
    layer_refs: tuple[str, ...] = ()  # layers built here
    external_layers: tuple[Any, ...] = ()
    where: Callable[[tuple], str] | None = None
    metadata: Any = None  # the resource's Metadata (BuildMethod)
    builder: Any = None  # lamctl.packager.builders: a toolchain makes the zip's files (go1.x, makefile)
    extra_racy: dict = field(default_factory=dict)  # racy sources not in the zip: arcname -> [path, sha256]
    # filled while walking
    entries: list = field(default_factory=list)
    spec: deps_mod.DepsSpec | None = None
    fingerprint: str = ""
    record: cache_mod.Record | None = None
    sources: list = field(default_factory=list)
    unzipped: int = 0
    parts: list = field(default_factory=list)
    racy: set = field(default_factory=set)
    zip_path: str = ""
    extra: str = ""  # what besides the files decides the bytes (kind, level, dependency set)


def _mapping(template: Template, value: Any, keys: list, what: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise TemplateError(f"{what} must be a mapping, not {type(value).__name__}", where=template.where(keys))
    return value


def plan_template(template: Template, build_dir: str, only: set[str] | None = None,
                  warnings: list[str] | None = None) -> list[_Plan]:
    """Every artifact the template asks for (or those in ``only`` plus the layers they use)."""
    warnings = warnings if warnings is not None else []
    data = template.data
    resources = data.get("Resources")
    if not isinstance(resources, dict) or not resources:
        raise TemplateError("the template has no Resources section" if resources is None else
                            "Resources must be a mapping of logical IDs to resources",
                            where=template.where(["Resources"]) if resources is not None else template.where([]),
                            hint="add Resources: with at least one resource")
    try:
        globs = Globals.of(data)
    except GlobalsError as exc:
        raise exc.located(template.where) from None
    plans: list[_Plan] = []
    for name, res in resources.items():
        if not isinstance(res, dict):
            raise TemplateError(f"resource {name} must be a mapping with a Type", where=template.where(["Resources", name]))
        rtype = res.get("Type")
        if rtype is None:
            raise TemplateError(f"resource {name} has no Type", where=template.where(["Resources", name], key=True),
                                hint="add Type: AWS::Serverless::Function (or another resource type)")
        if rtype not in CODE_PROPERTIES:
            continue
        kind, prop = CODE_PROPERTIES[rtype]
        base = ["Resources", name, "Properties"]
        local = _mapping(template, res.get("Properties"), base, f"{name}.Properties")
        gpath = ["Globals", "Function" if rtype == SERVERLESS_FUNCTION else "LayerVersion"]
        try:  # the transform's Globals rules, IgnoreGlobals included: what is built is what is deployed
            g = globs.section_for(rtype, name, res.get("IgnoreGlobals"))
        except GlobalsError as exc:
            raise exc.located(template.where) from None
        props = merge_globals(g, local, gpath[1]) if g else dict(local)

        def where(keys: tuple, _local=local, _base=base, _gpath=gpath, _g=g) -> str:
            if keys and keys[0] not in _local and keys[0] in _g:
                return template.where(_gpath + list(keys))
            return template.where(_base + list(keys))

        location = _local_location(template, name, rtype, prop, props, where)
        if location is None:
            continue
        path, is_zip = location
        runtime, arch = _runtime_and_arch(template, name, rtype, props, res, where)
        plans.append(_Plan(name, rtype, kind, prop, path, is_zip, props, runtime, arch, where=where,
                           zip_path=os.path.join(build_dir, f"{name}.zip"), metadata=res.get("Metadata")))
    by_name = {p.resource: p for p in plans}
    for p in plans:
        if p.kind != FUNCTION:
            continue
        layers = p.props.get("Layers")
        if layers is None:
            continue
        if not isinstance(layers, list):
            raise TemplateError(f"{p.resource}: Layers must be a list", where=p.where(("Layers",)))
        built, external = [], []
        for item in layers:
            ref = item.get("Ref") if isinstance(item, dict) and len(item) == 1 else None
            if isinstance(ref, str) and ref in by_name and by_name[ref].kind == LAYER:
                built.append(ref)
            else:
                external.append(item)
        p.layer_refs = tuple(built)
        p.external_layers = tuple(external)
    if only:
        unknown = sorted(set(only) - set(by_name))
        if unknown:
            names = ", ".join(sorted(by_name)) or "none"
            raise UsageError(f"nothing to build named {', '.join(unknown)}",
                             hint=f"resources with local code in {template.path}: {names}")
        keep = set(only)
        for n in only:
            keep.update(by_name[n].layer_refs)
        plans = [p for p in plans if p.resource in keep]
    return plans


def _local_location(template: Template, name: str, rtype: str, prop: str, props: dict, where) -> tuple[str, bool] | None:
    found = code_location(rtype, props)  # no CodeUri: the template's folder, as SAM reads it
    if found is None:
        return None  # a container image, inline code, or no code property
    value = found[1]
    if isinstance(value, dict):
        return None  # {Bucket, Key}, S3Bucket/S3Key, ZipFile or an intrinsic: nothing local to build
    if not isinstance(value, str):
        raise TemplateError(f"{name}: {prop} must be a path or an S3 location, not {value!r}",
                            where=where((prop,)), hint="give a folder or .zip relative to the template")
    if value.startswith("s3://") or "://" in value:
        return None
    path = os.path.normpath(os.path.join(template.folder, value))
    if not os.path.exists(path):
        raise TemplateError(f"{name}: {prop} {value} does not exist (looked for {path})", where=where((prop,)),
                            hint="point it at a folder or .zip relative to the template's folder")
    if os.path.isdir(path):
        return path, False
    import zipfile

    if zipfile.is_zipfile(path):
        try:
            with zipfile.ZipFile(path) as zf:
                names = zf.namelist()
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise TemplateError(f"{name}: {prop} {value} is a damaged zip ({exc})", where=where((prop,)),
                                hint="build the zip again, or point at the folder") from None
        from lamctl.packager.archive import escaping_entry

        bad = escaping_entry(names)
        if bad is not None:
            raise TemplateError(f"{name}: {prop} {value} holds the entry {bad!r}, which escapes the folder it is "
                                "unpacked into; Lambda refuses such a zip", where=where((prop,)),
                                hint="make the zip again from inside the code folder (entry names relative to "
                                     "it, no '..' and no leading '/'), or point at the folder")
        return path, True
    raise TemplateError(f"{name}: {prop} {value} is a file but not a zip", where=where((prop,)),
                        hint="point it at the folder holding the code, or at a .zip")


def _runtime_and_arch(template: Template, name: str, rtype: str, props: dict, res: dict, where) -> tuple[str | None, str]:
    archs = props.get("Architectures") if rtype in (SERVERLESS_FUNCTION, "AWS::Lambda::Function") else \
        props.get("CompatibleArchitectures")
    arch = "x86_64"
    if isinstance(archs, list) and archs:
        if isinstance(archs[0], str):
            arch = archs[0]
        if arch not in ("x86_64", "arm64"):
            key = "Architectures" if "Architectures" in props else "CompatibleArchitectures"
            raise TemplateError(f"{name}: unknown architecture {arch!r}", where=where((key, 0)),
                                hint="use x86_64 or arm64")
    if rtype in (SERVERLESS_FUNCTION, "AWS::Lambda::Function"):
        runtime = props.get("Runtime")
        return (runtime if isinstance(runtime, str) else None), arch
    meta = res.get("Metadata") if isinstance(res.get("Metadata"), dict) else {}
    method = meta.get("BuildMethod")
    if isinstance(method, str) and (deps_mod.python_version(method) or node_mod.node_major(method)):
        return method, arch
    for rt in props.get("CompatibleRuntimes") or []:
        if isinstance(rt, str) and deps_mod.python_version(rt):
            return rt, arch
    for rt in props.get("CompatibleRuntimes") or []:  # a Node.js layer (its package.json goes under nodejs/)
        if isinstance(rt, str) and node_mod.node_major(rt):
            return rt, arch
    return None, arch


def build_template(template: Template, build_dir: str | None = None, *, only: set[str] | None = None,
                   cache_root: str | None = None, direct_upload: bool = False,
                   layer_size: Callable[[Any], int | None] | None = None,
                   notify: Callable[[str], None] | None = None, threads: int | None = None) -> BuildResult:
    """Build every artifact of ``template`` into ``build_dir`` (default ``.lamctl/build`` beside the template).

    ``only``: build just these logical IDs (plus the layers they use). ``direct_upload``: enforce the 50 MB
    zipped quota (the zips go straight to the Lambda API). ``layer_size(arn)``: unzipped bytes of a layer
    given by ARN, or None when unknown (then a warning)."""
    build_dir = os.path.abspath(build_dir or os.path.join(template.folder, DEFAULT_BUILD_DIR))
    cache_root = cache_root or cache_mod.cache_root()
    warnings: list[str] = []
    plans = plan_template(template, build_dir, only, warnings)
    by_name = {p.resource: p for p in plans}
    for p in plans:  # a missing toolchain (go, make) is a usage error before any work
        p.builder = builders.builder_for(p, warnings)

    # 1. configuration limits (cheap, before any work)
    config_headroom = {p.resource: limits.check_function_config(p.resource, p.props, p.where)
                       for p in plans if p.kind == FUNCTION}

    # 2. walk (stat only) and ask the cache
    bcache = cache_mod.BuildCache(cache_root)
    start_ns = cache_mod.fs_now_ns(bcache.root)
    template_dir = template.folder
    walks: dict[str, tuple] = {}
    node_builds: dict[str, node_mod.NodeBuild | None] = {}  # Node.js: npm dependencies or an esbuild bundle
    for p in plans:
        if p.is_zip:
            p.fingerprint = _zip_fingerprint(p.source)
            p.record = bcache.lookup(p.zip_path, p.fingerprint)
            if p.record is None:
                import zipfile

                with zipfile.ZipFile(p.source) as zf:
                    infos = [i for i in zf.infolist() if not i.is_dir()]
                p.unzipped = sum(i.file_size for i in infos)
                p.parts = limits.largest_parts((i.filename, i.file_size) for i in infos)
            continue
        if p.source not in walks:  # functions sharing a folder share one walk
            matcher = files_mod.matcher_for(p.source, template_dir)
            walks[p.source] = (matcher, files_mod.walk(p.source, matcher, owner=p.resource,
                                                             skip=[build_dir, *node_mod.skipped(p)]))
            left_out = walks[p.source][1].left_out
            if left_out:  # named once per code folder, whatever the number of functions sharing it
                warnings.append(f"{p.resource}: left out of the zip, as files that often hold credentials: "
                                f"{', '.join(left_out)} (to ship one, add '!NAME' to {files_mod.IGNORE_FILE})")
        matcher, w = walks[p.source]
        p.entries = w.entries
        req = os.path.join(p.source, deps_mod.REQUIREMENTS)
        if p.builder is None and os.path.isfile(req) and not matcher.excluded(deps_mod.REQUIREMENTS, False):
            runtime = p.runtime
            if deps_mod.python_version(runtime) is None:
                if p.kind == FUNCTION and runtime is None:
                    raise UsageError(f"{p.resource} has a requirements.txt but no Runtime lamctl can read, so no "
                                     "Python version to install for", where=p.where(("Runtime",)),
                                     hint="set Runtime: python3.X on the function or in Globals.Function")
                if p.kind == LAYER:
                    raise UsageError(f"layer {p.resource} has a requirements.txt but no Python runtime to build for",
                                     where=p.where(("CompatibleRuntimes",)),
                                     hint="add CompatibleRuntimes: [python3.X] or Metadata: {BuildMethod: python3.X}")
            p.spec = deps_mod.read_spec(req, runtime, p.architecture) if deps_mod.python_version(runtime) else None
            if p.spec is None and deps_mod.python_version(runtime) is None:
                warnings.append(f"{p.resource}: requirements.txt ignored, the runtime {runtime!r} is not Python")
        node_builds[p.resource] = node_mod.prepare(template, p, warnings)
        extra = f"{p.kind}\0{ZIP_LEVEL}\0{p.spec.key if p.spec else ''}"
        if node_builds[p.resource] is not None:
            extra += f"\0{node_builds[p.resource].key}"
        p.fingerprint = cache_mod.fingerprint(p.entries, extra)
        p.extra = extra
        if p.builder is not None:  # the toolchain and its settings decide the bytes too
            p.extra = f"{extra}\0{p.builder.key}"
            p.fingerprint = cache_mod.fingerprint(p.entries, p.extra)
        p.record = bcache.lookup(p.zip_path, p.fingerprint)
        if p.record is None:
            if p.builder is None:  # a built zip does not hold the sources to compare them with
                p.record = _same_contents(bcache, p, start_ns)
        elif p.record.racy:
            # verified by content just now; a file whose mtime is older than the racy window is settled
            still = cache_mod.racy_names(p.entries, start_ns)
            if len(still) < len(p.record.racy):
                p.record.racy = {n: v for n, v in p.record.racy.items() if n in still}
                bcache.store(p.record)

    # 3. dependencies, for what must be rebuilt
    if any(p.record is None for p in plans):
        from lamctl.packager import archive
    for p in plans:
        if p.record is not None or p.is_zip:
            continue
        sources = archive.sources_from(p.entries)
        if p.builder is not None:  # the toolchain's output is the zip; the sources' racy digests come first
            p.extra_racy = builders.racy_digests(p.entries, cache_mod.racy_names(p.entries, start_ns))
            sources = archive.sources_from(builders.run(p, build_dir, notify))
        if p.spec is not None:
            folder = deps_mod.install(p.spec, cache_root, owner=p.resource, notify=notify)
            # installed packages keep everything but byte code (a package may well hold a "venv" or ".env")
            dmatcher = files_mod.Matcher([files_mod.compile_pattern(x, "default") for x in DEPS_EXCLUDES])
            dwalk = files_mod.walk(folder, dmatcher, owner=f"{p.resource} (dependencies)")
            prefix = LAYER_DEPS_PREFIX if p.kind == LAYER else ""
            own = {e.arcname for e in p.entries}
            shadowed = [e.arcname for e in dwalk.entries if prefix + e.arcname in own]
            if shadowed:
                warnings.append(f"{p.resource}: {len(shadowed)} file(s) of the code folder replace installed "
                                f"dependencies (first: {shadowed[0]})")
            sources += [s for s in archive.sources_from(dwalk.entries, prefix) if s.arcname not in own]
        if node_builds.get(p.resource) is not None:
            sources = node_builds[p.resource].sources(sources, cache_root, notify)
        p.sources = sources
        p.unzipped = sum(s.size for s in sources)
        p.parts = limits.largest_parts((s.arcname, s.size) for s in sources)
        racy = cache_mod.racy_names(p.entries, start_ns)  # by path: an entry may be archived under another name
        racy_paths = {e.path for e in p.entries if e.arcname in racy}
        p.racy = {s.arcname for s in sources if s.path in racy_paths}

    # 4. size limits: each function with its layers; each layer alone
    headroom: dict[str, list[limits.Headroom]] = {}
    for p in plans:
        own = p.record.unzipped_bytes if p.record else p.unzipped
        layer_sizes = {}
        if p.kind == FUNCTION:
            for ref in p.layer_refs:
                lp = by_name[ref]
                layer_sizes[ref] = lp.record.unzipped_bytes if lp.record else lp.unzipped
            for item in p.external_layers:
                size = layer_size(item) if (layer_size and isinstance(item, str)) else None
                if size is None:
                    label = item if isinstance(item, str) else next(iter(item), "?") if isinstance(item, dict) else item
                    warnings.append(f"{p.resource}: the size of layer {label} is not known here, so the "
                                    f"250 MB check counts only the code and the layers built here")
                else:
                    layer_sizes[str(item)] = size
        parts = p.parts or (_record_parts(p.record) if p.record else [])
        headroom[p.resource] = [limits.check_unzipped(p.resource, own, layer_sizes, parts)]

    # 5. zip what the cache could not vouch for
    try:
        os.makedirs(build_dir, exist_ok=True)
    except OSError as exc:
        raise BuildError(f"cannot create the build folder {build_dir}: {exc.strerror}", where=build_dir,
                         hint="choose another one with --build-dir") from None
    artifacts = []
    made: dict[str, tuple] = {}  # fingerprint -> (zip path, result): identical inputs are zipped once
    for p in plans:
        reused = p.record is not None
        if reused:
            rec = p.record
        else:
            try:
                if p.is_zip:
                    z = archive.copy_zip(p.source, p.zip_path)
                    racy_map = {}
                else:
                    if p.fingerprint in made:
                        first, z = made[p.fingerprint]
                        archive.copy_file(first, p.zip_path)
                    else:
                        if notify:
                            notify(f"{p.resource}: zipping {len(p.sources)} file(s)")
                        z = archive.write_zip(p.zip_path, p.sources, threads=threads, digests_for=p.racy)
                        made[p.fingerprint] = (p.zip_path, z)
                    paths = {s.arcname: s.path for s in p.sources}
                    racy_map = {n: [paths[n], z.digests[n]] for n in p.racy if n in paths}  # built: not all
                    racy_map.update(p.extra_racy)  # racy sources of a toolchain's build, digested before it ran
            except OSError as exc:  # writing the zip (reading a file is a BuildError of its own)
                raise BuildError(f"cannot write {p.zip_path}: {exc.strerror or exc}", where=p.resource,
                                 hint="check the free space and permissions of the build folder") from None
            rec = cache_mod.Record(p.fingerprint, p.zip_path, [], z.sha256, z.zipped_bytes, z.unzipped_bytes,
                                   z.files, racy_map, [list(x) for x in p.parts], p.extra, len(p.entries))
            if not bcache.store(rec):
                warnings.append(f"cannot write the build cache in {bcache.root}; the next build starts over")

        headroom[p.resource].append(limits.check_direct(p.resource, rec.zipped_bytes,
                                                        p.parts or _record_parts(rec), direct_upload))
        headroom[p.resource] += config_headroom.get(p.resource, [])
        artifacts.append(Artifact(
            resource=p.resource, resource_type=p.resource_type, kind=p.kind, prop=p.prop, source=p.source,
            zip_path=p.zip_path, sha256=rec.sha256, files=rec.files, unzipped_bytes=rec.unzipped_bytes,
            zipped_bytes=rec.zipped_bytes, runtime=p.runtime, architecture=p.architecture, reused=reused,
            layers=p.layer_refs))
    return BuildResult(artifacts, warnings, headroom, build_dir)


def _same_contents(bcache: cache_mod.BuildCache, p: _Plan, start_ns: int) -> cache_mod.Record | None:
    """The stat data changed (a checkout, a touch): reuse the zip when every file still holds the bytes
    it was built from, and record the new stat data so the next build is a stat-only one again."""
    rec = bcache.intact(p.zip_path)
    if rec is None:
        return None
    racy = cache_mod.racy_names(p.entries, start_ns)
    digests = bcache.same_contents(rec, p.extra, p.entries, racy)
    if digests is None:
        return None
    paths = {e.arcname: e.path for e in p.entries}
    rec.racy = {n: [paths[n], d] for n, d in digests.items()}  # digests of the very bytes compared
    rec.fingerprint = p.fingerprint
    bcache.store(rec)
    return rec


def _record_parts(rec: cache_mod.Record) -> list:
    return [tuple(x) for x in rec.parts]


def _zip_fingerprint(path: str) -> str:
    st = os.stat(path)
    return f"zip\0{os.path.abspath(path)}\0{st.st_size}\0{st.st_mtime_ns}\0{st.st_ino}"


@dataclass(frozen=True)
class ExplainRow:
    resource: str
    code_folder: str
    path: str
    included: bool
    reason: str
    rule: str | None


def explain_path(template: Template, path: str, build_dir: str | None = None) -> list[ExplainRow]:
    """For each artifact whose code folder holds ``path``: whether it goes into the zip, and which rule says so."""
    build_dir = os.path.abspath(build_dir or os.path.join(template.folder, DEFAULT_BUILD_DIR))
    target = os.path.abspath(path)
    plans = [p for p in plan_template(template, build_dir) if not p.is_zip]
    if not os.path.lexists(target):
        folders = sorted({os.path.relpath(p.source) + "/" for p in plans})
        raise UsageError(f"--explain {path}: {target} does not exist",
                         hint="give the path of a file or folder, relative to the current folder"
                              + (f"; the template's code folders: {', '.join(folders)}" if folders else ""))
    rows = []
    for p in plans:
        root = os.path.abspath(p.source)
        if target != root and not target.startswith(root + os.sep):
            continue
        rel = os.path.relpath(target, root).replace(os.sep, "/")
        matcher = files_mod.matcher_for(root, template.folder)
        e = files_mod.explain(root, matcher, "" if rel == "." else rel)
        rows.append(ExplainRow(p.resource, root, e.path, e.included, e.reason, e.rule))
    return rows
