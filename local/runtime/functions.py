"""The functions of a template, as the local runtime runs them.

:class:`TemplateFunctions` reads a SAM / CloudFormation template and answers
a :class:`~lamctl.local.runtime.environment.FunctionSpec` per function: runtime,
handler, memory, timeout (``Globals.Function`` merged in), the Environment
with ``!Ref`` / ``!Sub`` / ``!Join`` on parameters and pseudo parameters
resolved, ``--env-vars`` overrides (SAM's file format: an object per function
logical ID, and ``Parameters`` for every function), and the folders holding
the code and each layer.

It also watches: :meth:`TemplateFunctions.refresh` compares a cheap signature
of the template and of the function's code and layer folders (paths, sizes,
modification times) with the last one and reloads when anything changed, so
that ``start-lambda`` serves edited code on the next invocation.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
import threading
from typing import Any

from lamctl.schemas.errors import TemplateError, UsageError, location
from lamctl.schemas.sam import CODE_PROPERTIES, Globals, GlobalsError, code_location
from lamctl.schemas.template import load_template

from .environment import FunctionSpec

FUNCTION_TYPES = ("AWS::Serverless::Function", "AWS::Lambda::Function")
LAYER_TYPES = ("AWS::Serverless::LayerVersion", "AWS::Lambda::LayerVersion")
ACCOUNT_ID = "123456789012"


def node_version() -> str | None:
    """``node --version`` of the node on the PATH (``v20.11.1``), asked once per node binary; None without one."""
    from .environment import find_node

    path = find_node()
    if path is None:
        return None
    if path not in _NODE_VERSIONS:
        import subprocess

        try:
            out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            out = ""
        _NODE_VERSIONS[path] = out or None
    return _NODE_VERSIONS[path]


_NODE_VERSIONS: dict[str, str | None] = {}


def parse_parameter_overrides(values: list[str] | tuple[str, ...] | None) -> dict[str, str]:
    """``Key=Value`` pairs (space separated, one or several per flag) or SAM's
    ``ParameterKey=K,ParameterValue=V`` form."""
    out: dict[str, str] = {}
    for value in values or ():
        for item in _split_overrides(value):
            m = re.fullmatch(r"ParameterKey=([^,]+),ParameterValue=(.*)", item)
            if m:
                out[m.group(1)] = m.group(2)
                continue
            key, sep, val = item.partition("=")
            if not sep or not key:
                raise UsageError(f"--parameter-overrides: {item!r} is not Key=Value",
                                 hint="write Name=Value (several separated by spaces), "
                                      "or ParameterKey=Name,ParameterValue=Value")
            out[key] = val
    return out


def _split_overrides(value: str) -> list[str]:
    import shlex

    try:
        return shlex.split(value)
    except ValueError as exc:
        raise UsageError(f"--parameter-overrides: {exc}", hint="check the quotes") from None


def load_env_vars(path: str | None) -> dict[str, dict[str, str]]:
    """SAM's ``--env-vars`` file: ``{"Function": {"VAR": "value"}, "Parameters": {"VAR": "value"}}``."""
    if not path:
        return {}
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except OSError as exc:
        raise UsageError(f"cannot read the --env-vars file: {exc.strerror}", where=path) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"invalid JSON: {exc.msg}", where=location(path, exc.lineno, exc.colno),
                         hint='the file maps function names (or "Parameters") to {"VAR": "value"}') from None
    if not isinstance(data, dict):
        raise UsageError("the --env-vars file must hold a JSON object", where=location(path, 1, 1),
                         hint='{"MyFunction": {"VAR": "value"}, "Parameters": {"VAR": "value"}}')
    out: dict[str, dict[str, str]] = {}
    for name, variables in data.items():
        if not isinstance(variables, dict):
            raise UsageError(f"{name!r} must map to an object of variables, not {type(variables).__name__}",
                             where=location(path, *_find_key(text, name)),
                             hint='{"MyFunction": {"VAR": "value"}}')
        section = {}
        for key, value in variables.items():
            if isinstance(value, (dict, list)) or value is None:
                raise UsageError(f"{name}.{key} must be a string, number or boolean",
                                 where=location(path, *_find_key(text, key)))
            section[key] = _scalar(value)
        out[name] = section
    return out


def _find_key(text: str, key: str) -> tuple[int | None, int | None]:
    idx = text.find(json.dumps(key))
    if idx < 0:
        return (None, None)
    line = text.count("\n", 0, idx) + 1
    col = idx - (text.rfind("\n", 0, idx) + 1) + 1
    return (line, col)


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class FunctionNotFound(LookupError):
    """No function of that name (logical ID, FunctionName or ARN) in the template."""

    def __init__(self, name: str, known: list[str] | None = None, arn: str | None = None, detail: str | None = None):
        super().__init__(name)
        self.name = name
        self.known = known or []
        self.arn = arn  # the ARN as Lambda would name it in its ResourceNotFoundException
        self.detail = detail


class TemplateFunctions:
    """The functions of one template, resolved for the local runtime."""

    def __init__(self, template_path: str, *, parameter_overrides: dict[str, str] | None = None,
                 env_vars: dict[str, dict[str, str]] | None = None, region: str = "us-east-1",
                 build_dir: str | None = None, credentials: dict[str, str] | None = None, build: bool = True):
        self.path = os.path.abspath(template_path)
        self.overrides = dict(parameter_overrides or {})
        self.env_vars = env_vars or {}
        self.region = region
        self.build_dir = os.path.abspath(build_dir or os.path.join(os.path.dirname(self.path), ".lamctl", "build"))
        self.credentials = credentials
        self.build = build  # False: run the source folders as they are (no dependencies installed)
        self.warnings: list[str] = []
        self._lock = threading.RLock()
        self._snapshots: dict[str, list] = {}
        self._specs: dict[str, FunctionSpec] = {}
        self._load()

    # -- the template ----------------------------------------------------------------

    def _load(self) -> None:
        self.template = load_template(self.path)
        data = self.template.data
        resources = data.get("Resources")
        if not isinstance(resources, dict):
            raise TemplateError("the template has no Resources", where=self.template.where(),
                                hint="add a Resources section with at least one function")
        self.resources = resources
        self.functions = [name for name, res in resources.items()
                          if isinstance(res, dict) and res.get("Type") in FUNCTION_TYPES]
        try:  # the transform's Globals rules (lamctl.schemas.sam): what runs here is what is deployed
            self.globals = Globals.of(data)
        except GlobalsError as exc:
            raise exc.located(self.template.where) from None
        self.parameters = self._parameters(data.get("Parameters") or {})
        self._template_stat = _stat(self.path)

    def _parameters(self, declared: dict) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name, decl in declared.items():
            if isinstance(decl, dict) and "Default" in decl:
                values[name] = decl["Default"]
        for name, value in self.overrides.items():
            if name not in declared:
                raise UsageError(f"--parameter-overrides names {name!r}, which the template does not declare",
                                 where=self.template.where(["Parameters"], key=True),
                                 hint="declared parameters: " + (", ".join(declared) or "(none)"))
            values[name] = value
        return values

    def names(self) -> list[str]:
        return list(self.functions)

    def find(self, name: str) -> str | None:
        """The logical ID for a logical ID, a FunctionName, or a function ARN (with or without qualifier)."""
        if name.startswith("arn:"):
            parts = name.split(":")
            name = parts[6] if len(parts) > 6 else name
        if name in self.functions:
            return name
        for logical in self.functions:
            props = self.resources[logical].get("Properties") or {}
            if isinstance(props.get("FunctionName"), str) and props["FunctionName"] == name:
                return logical
        return None

    def require(self, name: str) -> str:
        found = self.find(name)
        if found is None:
            have = ", ".join(self.functions) or "(none)"
            raise UsageError(f"function {name!r} is not in {self.path}; the template has: {have}",
                             where=self.path, hint="name one of the template's functions (its logical ID)")
        return found

    # -- resolving --------------------------------------------------------------------

    def _props(self, name: str) -> dict:
        """The resource's properties after Globals (a serverless one), as the transform merges them."""
        try:
            return dict(self.globals.resource(name, self.resources[name]))
        except GlobalsError as exc:
            raise exc.located(self.template.where) from None

    def resolve(self, value: Any, where: list) -> Any:
        """Resolve the intrinsics the local runtime can know: Ref (parameters, pseudo parameters,
        resources as their logical ID), Fn::Sub, Fn::Join, Fn::Select, Fn::If is not evaluated."""
        if isinstance(value, dict) and len(value) == 1:
            (key, arg), = value.items()
            if key == "Ref":
                return self._ref(arg, where)
            if key == "Fn::Sub":
                if isinstance(arg, list):
                    text, extra = arg[0], {k: self.resolve(v, where) for k, v in (arg[1] or {}).items()}
                else:
                    text, extra = arg, {}
                return re.sub(r"\$\{([^}!]+)\}", lambda m: str(extra[m.group(1)]) if m.group(1) in extra
                              else str(self._ref(m.group(1), where)), text)
            if key == "Fn::Join":
                sep, items = arg
                return sep.join(str(self.resolve(i, where)) for i in items)
            if key == "Fn::Select":
                index, items = arg
                return self.resolve(self.resolve(items, where)[int(self.resolve(index, where))], where)
            if key.startswith("Fn::"):
                self.warnings.append(f"{self.template.where(where)}: {key} cannot be resolved locally; "
                                     "the value is left empty")
                return ""
        if isinstance(value, list):
            return [self.resolve(v, where) for v in value]
        return value

    def _ref(self, name: str, where: list) -> Any:
        pseudo = {
            "AWS::Region": self.region, "AWS::AccountId": ACCOUNT_ID, "AWS::Partition": "aws",
            "AWS::StackName": "local", "AWS::StackId":
                f"arn:aws:cloudformation:{self.region}:{ACCOUNT_ID}:stack/local/00000000-0000-0000-0000-000000000000",
            "AWS::URLSuffix": "amazonaws.com", "AWS::NoValue": "",
        }
        if name in pseudo:
            return pseudo[name]
        if name in self.parameters:
            value = self.parameters[name]
            return ",".join(map(str, value)) if isinstance(value, list) else value
        declared = self.template.data.get("Parameters") or {}
        if name in declared:
            raise UsageError(f"parameter {name} has no Default and no value was given",
                             where=self.template.where(where), hint=f"pass --parameter-overrides {name}=VALUE")
        if name in self.resources:
            return name
        raise TemplateError(f"!Ref {name} names neither a parameter nor a resource", where=self.template.where(where))

    def spec(self, name: str) -> FunctionSpec:
        with self._lock:
            if name not in self._specs:
                self._specs[name] = self._resolve_spec(name)
            return self._specs[name]

    def _resolve_spec(self, name: str) -> FunctionSpec:
        res = self.resources[name]
        kind = res.get("Type")
        props = self._props(name)
        base = ["Resources", name, "Properties"]
        runtime = self.resolve(props.get("Runtime"), base + ["Runtime"])
        if props.get("PackageType") == "Image":
            raise UsageError(f"function {name} is a container image; lamctl runs zip functions locally",
                             where=self.template.where(base + ["PackageType"]))
        if not runtime:
            raise TemplateError(f"function {name} has no Runtime", where=self.template.where(base, key=False),
                                hint="set Runtime (for example python3.12) on the function or in Globals.Function")
        handler = self.resolve(props.get("Handler"), base + ["Handler"])
        signature = self.signature(name)
        inline = "InlineCode" in props or (isinstance(props.get("Code"), dict) and "ZipFile" in props["Code"])
        built = self._built_dirs(name, signature) if self.build and not inline else {}
        if name in built:
            code_dir = built[name]
        else:
            code_dir = self._code_dir(name, kind, props)
        layer_dirs = tuple(self._layer_dirs(name, props.get("Layers") or [], base + ["Layers"], built))
        env = {}
        variables = ((props.get("Environment") or {}).get("Variables") or {})
        for key, value in variables.items():
            env[key] = _scalar(self.resolve(value, base + ["Environment", "Variables", key]))
        fname = self.resolve(props.get("FunctionName"), base + ["FunctionName"]) if props.get("FunctionName") else None
        # --env-vars, as SAM reads it: "Parameters" for every function, then the function's own section
        # (by FunctionName, then by logical ID, which wins); only variables the template declares change.
        for section in ("Parameters", fname, name):
            values = self.env_vars.get(section) if section else None
            for key, value in (values or {}).items():
                if key in env:
                    env[key] = value
                elif section != "Parameters":
                    self.warnings.append(f"--env-vars: {section}.{key} is not in the Environment of {name} in "
                                         "the template, so it is not set (declare it in the template to use it)")
        reserved = props.get("ReservedConcurrentExecutions")
        arch = (props.get("Architectures") or ["x86_64"])[0]
        memory = int(self.resolve(props.get("MemorySize", 128), base + ["MemorySize"]))
        timeout = float(self.resolve(props.get("Timeout", 3), base + ["Timeout"]))
        m = re.fullmatch(r"python3\.(\d+)", str(runtime))
        if m and int(m.group(1)) != sys.version_info.minor:
            self.warnings.append(f"{name} declares {runtime}; locally it runs on the Python lamctl runs on, "
                                 f"{sys.version_info.major}.{sys.version_info.minor}")
        m = re.fullmatch(r"nodejs(\d+)\.x", str(runtime))
        local_node = node_version() if m else None
        if m and local_node and local_node.split(".")[0].lstrip("v") != m.group(1):
            self.warnings.append(f"{name} declares {runtime}; locally it runs on the node on the PATH, {local_node}")
        return FunctionSpec(
            name=name, runtime=str(runtime), handler=str(handler) if handler else None, code_dir=code_dir,
            layer_dirs=layer_dirs, memory_size=memory, timeout=timeout, environment=tuple(sorted(env.items())),
            function_name=str(fname) if fname else None, region=self.region,
            reserved_concurrency=int(self.resolve(reserved, base)) if reserved is not None else None,
            architecture=str(arch),
            credentials=tuple(sorted(self.credentials.items())) if self.credentials else None,
            code_sha256=signature,
            own_code=name in built,
        )

    def _source(self, value: Any, where: list, what: str) -> str:
        value = self.resolve(value, where)
        if not isinstance(value, str):
            raise UsageError(f"{what} is {json.dumps(value)[:80]}; the local runtime needs a local folder or zip",
                             where=self.template.where(where), hint="point it at a folder next to the template")
        path = value if os.path.isabs(value) else os.path.join(self.template.folder, value)
        if not os.path.exists(path):
            raise UsageError(f"{what} {value} does not exist", where=self.template.where(where),
                             hint="fix the path (it is relative to the template's folder)")
        return os.path.abspath(path)

    def _prop_where(self, name: str, prop: str) -> list:
        """Key path of a property: the resource's own, else ``Globals`` when the value comes from there."""
        own = self.resources[name].get("Properties")
        if not (isinstance(own, dict) and prop in own):
            section = self.globals.section_for(self.resources[name].get("Type"), name,
                                               self.resources[name].get("IgnoreGlobals"))
            if prop in section:
                return ["Globals", "Function", prop]
        return ["Resources", name, "Properties", prop]

    def _code_dir(self, name: str, kind: str, props: dict) -> str:
        if kind == "AWS::Serverless::Function" and "InlineCode" in props:
            return self._inline(name, props["InlineCode"], props.get("Runtime") or "")
        code = props.get("Code")
        if kind == "AWS::Lambda::Function" and isinstance(code, dict) and "ZipFile" in code:
            return self._inline(name, code["ZipFile"], props.get("Runtime") or "")
        prop, value = code_location(kind, props) or (CODE_PROPERTIES[kind], None)
        src = self._source(value, self._prop_where(name, prop), f"{prop} of {name}")
        return self._unzipped(src)

    def _inline(self, name: str, text: Any, runtime: str) -> str:
        if not isinstance(text, str):
            raise UsageError(f"inline code of {name} must be a plain string locally", where=name)
        filename = "index.py" if str(runtime).startswith("python") else "index.js"
        digest = hashlib.sha256(text.encode()).hexdigest()
        folder = os.path.join(self.build_dir, "local", "inline-" + digest)
        if not os.path.isdir(folder):
            tmp = folder + f".tmp{os.getpid()}"
            os.makedirs(tmp, exist_ok=True)
            with open(os.path.join(tmp, filename), "w", encoding="utf-8") as fh:
                fh.write(text)
            _publish(tmp, folder)
        return folder

    def _unzipped(self, src: str) -> str:
        """A folder stays itself; a zip is unpacked once into a folder named by its sha256."""
        if os.path.isdir(src):
            return src
        import zipfile

        if not zipfile.is_zipfile(src):
            raise UsageError(f"{src} is neither a folder nor a zip file", where=src)
        return unzip_artifact(src, self.build_dir)

    def _built_dirs(self, name: str, signature: str) -> dict[str, str]:
        """The unzipped build of the function and of the layers it uses, by logical ID.

        When nothing under the template, the code or the layers changed since the last local run
        (same stat signature), the record of that run answers without loading the build at all;
        otherwise ``build_template`` (with its own cache) builds and the zips are unpacked per sha256."""
        record_path = os.path.join(self.build_dir, "local", f"{name}.json")
        try:
            with open(record_path, encoding="utf-8") as fh:
                record = json.load(fh)
            if record.get("signature") == signature and all(os.path.isdir(d) for d in record["dirs"].values()):
                self.warnings.extend(record.get("warnings") or [])
                return dict(record["dirs"])
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            pass
        from lamctl.packager.build import build_template

        result = build_template(self.template, self.build_dir, only={name})
        self.warnings.extend(result.warnings)
        dirs = {a.resource: unzip_artifact(a.zip_path, self.build_dir, a.sha256) for a in result.artifacts}
        tmp = f"{record_path}.tmp{os.getpid()}-{threading.get_ident()}"
        try:
            with open(tmp, "w", encoding="utf-8") as fh:
                json.dump({"signature": signature, "dirs": dirs, "warnings": list(result.warnings)}, fh)
            os.replace(tmp, record_path)
        except OSError:
            pass  # only a shortcut for the next run
        return dirs

    def _layer_dirs(self, name: str, layers: list, where: list, built: dict | None = None) -> list[str]:
        out = []
        for i, layer in enumerate(layers):
            if isinstance(layer, dict) and set(layer) == {"Ref"} and layer["Ref"] in self.resources:
                lid = layer["Ref"]
                if built and lid in built:
                    out.append(built[lid])
                    continue
                res = self.resources[lid]
                if res.get("Type") not in LAYER_TYPES:
                    raise TemplateError(f"layer {lid} of {name} is a {res.get('Type')}, not a layer",
                                        where=self.template.where(where + [i]))
                prop, value = code_location(res["Type"], self._props(lid)) or (CODE_PROPERTIES[res["Type"]], None)
                src = self._source(value, ["Resources", lid, "Properties", prop], f"{prop} of {lid}")
                out.append(self._unzipped(src))
            else:
                value = self.resolve(layer, where + [i])
                self.warnings.append(f"{self.template.where(where + [i])}: layer {value} of {name} is not in the "
                                     "template; the local runtime runs without it")
        return out

    # -- watching ---------------------------------------------------------------------

    def _watched(self, name: str) -> list[str]:
        props = self._props(name)
        found = [code_location(self.resources[name].get("Type"), props)]
        for layer in props.get("Layers") or []:
            if isinstance(layer, dict) and layer.get("Ref") in self.resources:
                found.append(code_location(self.resources[layer["Ref"]].get("Type"), self._props(layer["Ref"])))
        return [os.path.normpath(os.path.join(self.template.folder, value))  # an absolute value stays as it is
                for _, value in filter(None, found) if isinstance(value, str)]

    def signature(self, name: str) -> str:
        """A digest of what the function's code is made of (paths, sizes, modification times)."""
        snapshot = _snapshot([self.path] + self._watched(name))
        self._snapshots[name] = snapshot
        return hashlib.sha256(repr(snapshot).encode()).hexdigest()

    def refresh(self, name: str) -> FunctionSpec:
        """The current spec of ``name``, reloaded (template and code) when anything changed on disk.

        The check stats every file and folder seen last time (a folder's time changes when an entry is
        added, removed or renamed); only a change leads to a new walk and a rebuild."""
        with self._lock:
            spec = self._specs.get(name)
            snapshot = self._snapshots.get(name)
            if spec is not None and snapshot is not None and _unchanged(snapshot):
                return spec
            if _stat(self.path) != self._template_stat:
                self._load()
                self._specs.clear()
                self._snapshots.clear()
                found = self.find(name)
                if found is None:
                    raise FunctionNotFound(name, self.names())
                name = found
            self._specs.pop(name, None)
            return self.spec(name)


def unzip_artifact(zip_path: str | bytes, build_dir: str, sha256: str | None = None) -> str:
    """Unpack a zip (a path, or the zip's bytes) once into ``<build_dir>/local/<sha256>/``
    (modes kept: a bootstrap stays executable)."""
    if sha256 is None:
        h = hashlib.sha256()
        if isinstance(zip_path, bytes):
            h.update(zip_path)
        else:
            with open(zip_path, "rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    h.update(block)
        sha256 = h.hexdigest()
    folder = os.path.join(build_dir, "local", sha256)
    if os.path.isdir(folder):
        return folder
    import shutil
    import zipfile

    tmp = folder + f".tmp{os.getpid()}-{threading.get_ident()}"
    os.makedirs(tmp, exist_ok=True)
    import zlib

    where = "the function's code" if isinstance(zip_path, bytes) else zip_path
    try:
        _extract(zip_path, tmp, where)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise UsageError(f"the zip is damaged or cannot be unpacked: {exc}", where=where,
                         hint="build and deploy the code again") from None
    _publish(tmp, folder)
    return folder


def _extract(zip_path: str | bytes, tmp: str, where: str) -> None:
    import io
    import shutil
    import zipfile

    with zipfile.ZipFile(io.BytesIO(zip_path) if isinstance(zip_path, bytes) else zip_path) as zf:
        root = os.path.realpath(tmp)
        for info in zf.infolist():
            target = os.path.realpath(os.path.join(tmp, info.filename))
            if not target.startswith(root + os.sep):
                shutil.rmtree(tmp, ignore_errors=True)
                raise UsageError(f"the zip's entry {info.filename!r} escapes the folder it is unpacked into",
                                 where=where, hint="make the zip with entry names relative to the code folder "
                                                   "(no '..', no leading '/')")
            if info.is_dir():
                os.makedirs(target, exist_ok=True)
                continue
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with zf.open(info) as src, open(target, "wb") as dst:
                shutil.copyfileobj(src, dst)
            mode = (info.external_attr >> 16) & 0o777
            if mode:
                os.chmod(target, mode)


def _publish(tmp: str, folder: str) -> None:
    import shutil

    try:
        os.rename(tmp, folder)
    except OSError:  # another process got there first: its copy is identical
        shutil.rmtree(tmp, ignore_errors=True)


def _stat(path: str):
    try:
        st = os.stat(path)
        return (st.st_mtime_ns, st.st_size, st.st_ino)
    except OSError:
        return None


_SKIP_DIRS = (".lamctl", ".git", "__pycache__", ".aws-sam")


def _snapshot(paths: list[str]) -> list[tuple[str, tuple | None]]:
    """(path, (mtime_ns, size)) of every path given and, for folders, of everything under them (but for a
    ``node_modules`` folder, only itself and npm's ``.package-lock.json``: thousands of files, changed by npm)."""
    out: list[tuple[str, tuple | None]] = []
    seen = set()
    for top in paths:
        if top in seen:
            continue
        seen.add(top)
        try:
            st = os.stat(top)
        except OSError:
            out.append((top, None))
            continue
        out.append((top, (st.st_mtime_ns, st.st_size)))
        if not os.path.isdir(top):
            continue
        for root, dirs, files in os.walk(top):
            dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS)
            if "node_modules" in dirs:  # npm rewrites its .package-lock.json on every install: watch that alone
                dirs.remove("node_modules")
                for p in (os.path.join(root, "node_modules"), os.path.join(root, "node_modules", ".package-lock.json")):
                    try:
                        nst = os.stat(p)
                    except OSError:
                        out.append((p, None))
                        continue
                    out.append((p, (nst.st_mtime_ns, nst.st_size)))
            for d in dirs:
                p = os.path.join(root, d)
                try:
                    dst = os.stat(p)
                except OSError:
                    continue
                out.append((p, (dst.st_mtime_ns, dst.st_size)))
            for f in sorted(files):
                p = os.path.join(root, f)
                try:
                    fst = os.stat(p)
                except OSError:
                    continue
                out.append((p, (fst.st_mtime_ns, fst.st_size)))
    return out


def _unchanged(snapshot: list[tuple[str, tuple | None]]) -> bool:
    stat = os.stat
    for path, seen in snapshot:
        try:
            st = stat(path)
        except OSError:
            if seen is not None:
                return False
            continue
        if seen is None or st.st_mtime_ns != seen[0] or st.st_size != seen[1]:
            return False
    return True
