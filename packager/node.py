"""Node.js functions: ``package.json`` installed with npm for Lambda's platform, or bundled with esbuild.

A function whose ``Runtime`` is ``nodejsNN.x`` and whose code folder holds a
``package.json`` is built in one of two ways, as ``sam build`` does:

* **npm** (the default): the production dependencies are installed for Lambda's
  platform, whatever the host::

      npm ci --omit=dev --os=linux --cpu=x64 (or arm64)     # with package-lock.json
      npm install --omit=dev --os=linux --cpu=x64            # without one

  in a private copy of ``package.json`` (and ``package-lock.json``, ``.npmrc``), so
  the code folder's own ``node_modules`` (a developer's install, dev dependencies
  and host binaries included) never goes into the zip; the fresh one does. The
  install is cached under ``$XDG_CACHE_HOME/lamctl/node/<key>``, the key being a
  digest of those files, the architecture and npm's registry settings: the same
  lock file on the same platform is never installed twice. npm honours the user's
  own settings (``npm_config_*``, ``.npmrc``: registry, cache, ``offline``).

* a **layer** (``Metadata: {BuildMethod: nodejsNN.x}`` or ``CompatibleRuntimes``) whose folder holds a
  ``package.json`` is built the same way, everything under ``nodejs/`` (``nodejs/package.json``,
  ``nodejs/node_modules/...``), where Lambda's ``NODE_PATH`` finds it in ``/opt``, as ``sam build`` lays it out;

* **esbuild** (``Metadata: {BuildMethod: esbuild}``): the entry points are bundled
  into one file each, with SAM's ``BuildProperties`` and defaults (``--bundle
  --platform=node``, ``Target`` es2020, ``Format`` cjs, ``Minify`` true,
  ``Sourcemap`` false, ``External`` packages left out), and only esbuild's output
  is zipped. esbuild comes from the project's own ``node_modules`` (the code
  folder's, or a parent's up to the template's folder), as SAM requires.

A missing ``node``, ``npm`` or esbuild is an error (exit 2) raised while the
build is planned, before anything is installed or zipped.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field

from lamctl.schemas.errors import BuildError, TemplateError, UsageError

PACKAGE_JSON = "package.json"
LOCK_FILES = ("package-lock.json", "npm-shrinkwrap.json")
NPMRC = ".npmrc"
NODE_MODULES = "node_modules"
CPUS = {"x86_64": "x64", "arm64": "arm64"}
ESBUILD = "esbuild"
ESBUILD_PROPERTIES = ("EntryPoints", "Minify", "Target", "Format", "Sourcemap", "External")
_NPM_SOURCE_VARS = ("npm_config_registry", "NPM_CONFIG_REGISTRY")
_RUNTIME_RX = re.compile(r"^nodejs(\d+)\.x$")
INSTALL_HINT = "install Node.js, which brings npm (Debian/Ubuntu: apt-get install nodejs npm; or https://nodejs.org)"


def node_major(runtime: str | None) -> int | None:
    """``nodejs20.x`` -> 20; None for other runtimes."""
    m = _RUNTIME_RX.match(runtime) if isinstance(runtime, str) else None
    return int(m.group(1)) if m else None


def _builds(p) -> bool:
    return (not p.is_zip and node_major(p.runtime) is not None
            and os.path.isfile(os.path.join(p.source, PACKAGE_JSON)))


def skipped(p) -> list[str]:
    """Folders of ``p``'s code folder not to walk: a Node.js build makes its own ``node_modules``."""
    return [os.path.join(p.source, NODE_MODULES)] if _builds(p) else []


def require_tool(tool: str, owner: str, why: str, where: str | None = None) -> str:
    """The path of ``tool`` on the PATH, or a usage error naming what to install."""
    found = shutil.which(tool)
    if found is None:
        raise UsageError(f"{owner}: {why} needs {tool}, which is not on the PATH", where=where or owner,
                         hint=INSTALL_HINT)
    return found


@dataclass
class NodeBuild:
    """How one function's Node.js code is built; ``key`` is what besides its files decides the zip's bytes."""

    resource: str
    method: str  # "npm" | "esbuild"
    source: str
    architecture: str
    key: str
    manifest: dict = field(default_factory=dict)
    files: tuple[str, ...] = ()  # package.json and friends copied for npm
    esbuild: str = ""
    args: tuple[str, ...] = ()
    out_dir: str = ""
    prefix: str = ""  # "nodejs/" for a layer

    # -- step 3 of the build: what goes into the zip ---------------------------------------------

    def sources(self, code_sources: list, cache_root: str, notify=None) -> list:
        from lamctl.packager import archive, files as files_mod

        if self.method == ESBUILD:
            out = self._bundle(notify)
            walk = files_mod.walk(out, files_mod.Matcher([]), owner=f"{self.resource} (esbuild output)")
            return archive.sources_from(walk.entries)
        if self.prefix:
            code_sources = [archive.Source(self.prefix + s.arcname, s.path, s.executable, s.size)
                            for s in code_sources]
        if not self.files:  # nothing to install
            return code_sources
        folder = self._install(cache_root, notify)
        modules = os.path.join(folder, NODE_MODULES)
        if not os.path.isdir(modules):
            return code_sources
        walk = files_mod.walk(modules, files_mod.Matcher([]), owner=f"{self.resource} (dependencies)")
        own = {s.arcname for s in code_sources}
        return code_sources + [s for s in archive.sources_from(walk.entries, self.prefix + NODE_MODULES + "/")
                               if s.arcname not in own]

    def _install(self, cache_root: str, notify=None) -> str:
        root = os.path.join(cache_root, "node")
        final = os.path.join(root, self.key.split("\0")[-1])  # the install's own key
        if os.path.isdir(final):
            return final
        os.makedirs(root, exist_ok=True)
        tmp = tempfile.mkdtemp(dir=root, prefix=".tmp-")
        for name in self.files:
            shutil.copyfile(os.path.join(self.source, name), os.path.join(tmp, name))
        locked = any(n in LOCK_FILES for n in self.files)
        cmd = [shutil.which("npm") or "npm", "ci" if locked else "install", "--omit=dev", "--os=linux",
               f"--cpu={CPUS[self.architecture]}", "--no-audit", "--no-fund", "--no-progress",
               "--no-update-notifier", "--loglevel=error"]
        if notify:
            notify(f"{self.resource}: npm {cmd[1]} of the production dependencies for linux/{CPUS[self.architecture]}")
        try:
            proc = subprocess.run(cmd, cwd=tmp, capture_output=True, text=True, stdin=subprocess.DEVNULL)
        except OSError as exc:
            shutil.rmtree(tmp, ignore_errors=True)
            raise UsageError(f"{self.resource}: cannot run npm: {exc.strerror}", where=self.resource,
                             hint=INSTALL_HINT) from None
        if proc.returncode != 0:
            shutil.rmtree(tmp, ignore_errors=True)
            lines = [ln.strip() for ln in (proc.stderr or proc.stdout).splitlines() if ln.strip()]
            errors = [ln for ln in lines if "ERR!" in ln or ln.startswith("npm error")] or lines
            reason = "; ".join(errors[:6]) or f"npm exited with status {proc.returncode}"
            raise BuildError(f"npm could not install the dependencies of {self.resource}: {reason}",
                             where=os.path.join(self.source, PACKAGE_JSON),
                             hint=("npm ci needs package-lock.json to match package.json: run npm install and "
                                   "commit the lock file" if locked else
                                   "check the names and versions in package.json (and the registry npm uses)"))
        try:
            os.rename(tmp, final)
        except OSError:  # another build put it there first
            shutil.rmtree(tmp, ignore_errors=True)
            if not os.path.isdir(final):
                raise
        return final

    def _bundle(self, notify=None) -> str:
        shutil.rmtree(self.out_dir, ignore_errors=True)
        os.makedirs(self.out_dir, exist_ok=True)
        cmd = [self.esbuild, *self.args, f"--outdir={self.out_dir}", "--log-level=warning"]
        if notify:
            notify(f"{self.resource}: bundling with esbuild")
        try:
            proc = subprocess.run(cmd, cwd=self.source, capture_output=True, text=True, stdin=subprocess.DEVNULL)
        except OSError as exc:
            raise BuildError(f"{self.resource}: cannot run {self.esbuild}: {exc.strerror}", where=self.resource,
                             hint="reinstall esbuild in the project: npm install --save-dev esbuild") from None
        if proc.returncode != 0:
            text = (proc.stderr or proc.stdout).strip()
            raise BuildError(f"esbuild could not bundle {self.resource}:\n{text}", where=self.resource,
                             hint="fix the error esbuild names (file:line:column, relative to the code folder)")
        return self.out_dir


def prepare(template, p, warnings: list[str]) -> NodeBuild | None:
    """The Node.js build of plan ``p`` (None when it is not a Node.js function with a package.json).

    Checks the tools and the properties now, before any work."""
    if node_major(p.runtime) is None:
        return None
    if p.kind == "layer":
        if not _builds(p):
            return None
        manifest = _manifest(p.source, p.resource)
        if not manifest.get("dependencies"):  # laid out under nodejs/ all the same
            return NodeBuild(p.resource, "npm", p.source, p.architecture, "layer", manifest, prefix="nodejs/")
        build = _npm(p, manifest)
        build.prefix = "nodejs/"
        build.key = "layer\0" + build.key
        return build
    res = template.data["Resources"][p.resource]
    meta = res.get("Metadata") if isinstance(res.get("Metadata"), dict) else {}
    method = meta.get("BuildMethod")
    mwhere = ["Resources", p.resource, "Metadata"]
    if method == ESBUILD:
        if p.is_zip:
            raise TemplateError(f"{p.resource}: BuildMethod esbuild needs a code folder, and {p.prop} is a zip",
                                where=template.where(mwhere + ["BuildMethod"]),
                                hint="point CodeUri at the folder holding the sources")
        return _esbuild(template, p, meta, mwhere, warnings)
    if not _builds(p):
        return None
    manifest = _manifest(p.source, p.resource)
    if not manifest.get("dependencies"):
        return None  # nothing to install: the code folder is zipped as it is
    return _npm(p, manifest)


def _npm(p, manifest: dict) -> NodeBuild:
    require_tool("node", p.resource, "installing the dependencies of package.json")
    require_tool("npm", p.resource, "installing the dependencies of package.json")
    files = tuple(n for n in (PACKAGE_JSON, *LOCK_FILES, NPMRC) if os.path.isfile(os.path.join(p.source, n)))
    h = hashlib.sha256(f"node-deps-1\0{p.architecture}\0".encode())
    for name in files:
        with open(os.path.join(p.source, name), "rb") as fh:
            h.update(b"\0" + name.encode() + b"\0" + fh.read())
    for var in _NPM_SOURCE_VARS:
        h.update(f"\0{var}={os.environ.get(var, '')}".encode())
    key = h.hexdigest()[:32]
    return NodeBuild(p.resource, "npm", p.source, p.architecture, f"npm\0{key}", manifest, files)


def _manifest(folder: str, owner: str) -> dict:
    path = os.path.join(folder, PACKAGE_JSON)
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}", where=path) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        from lamctl.schemas.errors import location

        raise UsageError(f"{owner}: package.json is not valid JSON: {exc.msg}",
                         where=location(path, exc.lineno, exc.colno), hint="fix the JSON (npm reads it too)") from None
    if not isinstance(data, dict):
        raise UsageError(f"{owner}: package.json must hold a JSON object", where=path)
    return data


def _find_esbuild(source: str, top: str) -> tuple[str | None, list[str]]:
    """``node_modules/.bin/esbuild`` of the code folder or a parent folder up to ``top``."""
    looked = []
    folder = os.path.abspath(source)
    top = os.path.abspath(top)
    while True:
        candidate = os.path.join(folder, NODE_MODULES, ".bin", ESBUILD)
        looked.append(candidate)
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate, looked
        if folder == top or not folder.startswith(top + os.sep):
            return None, looked
        folder = os.path.dirname(folder)


def _esbuild_version(binary: str) -> str:
    pkg = os.path.join(os.path.dirname(os.path.dirname(binary)), ESBUILD, PACKAGE_JSON)
    try:
        with open(pkg, encoding="utf-8") as fh:
            return str(json.load(fh).get("version", ""))
    except (OSError, ValueError, AttributeError):
        st = os.stat(binary)
        return f"{st.st_size}-{st.st_mtime_ns}"


def _esbuild(template, p, meta: dict, mwhere: list, warnings: list[str]) -> NodeBuild:
    props = meta.get("BuildProperties")
    pwhere = mwhere + ["BuildProperties"]
    if props is None:
        props = {}
    if not isinstance(props, dict):
        raise TemplateError(f"{p.resource}: BuildProperties must be a mapping", where=template.where(pwhere))
    for key in props:
        if key not in ESBUILD_PROPERTIES:
            warnings.append(f"{template.where(pwhere + [key])}: {p.resource}: BuildProperties.{key} is not read by "
                            f"lamctl's esbuild build (it reads {', '.join(ESBUILD_PROPERTIES)}), so it is ignored")
    entries = props.get("EntryPoints")
    if not isinstance(entries, list) or not entries or not all(isinstance(e, str) and e for e in entries):
        raise TemplateError(f"{p.resource}: BuildMethod esbuild needs BuildProperties.EntryPoints, a list of the "
                            "files to bundle", where=template.where(pwhere + (["EntryPoints"] if "EntryPoints" in props
                                                                              else [])),
                            hint="for example EntryPoints: [app.ts] (relative to CodeUri)")
    args: list[str] = []
    for i, entry in enumerate(entries):
        found = _entry_file(p.source, entry)
        if found is None:
            raise TemplateError(f"{p.resource}: entry point {entry} is not in the code folder {p.source}",
                                where=template.where(pwhere + ["EntryPoints", i]),
                                hint="give the path relative to CodeUri (a .ts or .js suffix may be left out)")
        args.append(found)
    args += ["--bundle", "--platform=node"]
    for key, flag in (("Target", "target"), ("Format", "format")):
        if key in props:
            value = props[key]
            if not isinstance(value, str) or not value or (key == "Format" and value not in ("cjs", "esm")):
                raise TemplateError(f"{p.resource}: BuildProperties.{key} must be "
                                    + ("cjs or esm" if key == "Format" else "a string such as es2020 or node20"),
                                    where=template.where(pwhere + [key]))
            args.append(f"--{flag}={value}")
        else:
            args.append("--target=es2020" if key == "Target" else "--format=cjs")
    for key, flag, default in (("Minify", "--minify", True), ("Sourcemap", "--sourcemap", False)):
        value = props.get(key, default)
        if not isinstance(value, bool):
            raise TemplateError(f"{p.resource}: BuildProperties.{key} must be true or false",
                                where=template.where(pwhere + [key]))
        if value:
            args.append(flag)
    external = props.get("External", [])
    if not isinstance(external, list) or not all(isinstance(x, str) and x for x in external):
        raise TemplateError(f"{p.resource}: BuildProperties.External must be a list of package names",
                            where=template.where(pwhere + ["External"]), hint="for example External: ['@aws-sdk/*']")
    args += [f"--external:{x}" for x in external]

    binary, looked = _find_esbuild(p.source, template.folder)
    if binary is None:
        declared = _declaring_esbuild(p.source, template.folder)
        folder = os.path.dirname(declared) if declared else p.source
        rel = os.path.relpath(folder) if not os.path.relpath(folder).startswith("..") else folder
        raise UsageError(f"{p.resource}: BuildMethod esbuild needs esbuild in the project's node_modules, and "
                         f"there is none (looked for {', '.join(looked)})",
                         where=template.where(mwhere + ["BuildMethod"]),
                         hint=(f"install the project's packages: {'' if rel == '.' else f'cd {rel} && '}npm install "
                               f"({os.path.relpath(declared) if rel == '.' else declared} lists esbuild)"
                               if declared else
                               f"add it to the project: cd {rel} && npm install --save-dev esbuild "
                               "(then commit package.json and package-lock.json)"))
    require_tool("node", p.resource, "BuildMethod esbuild", template.where(mwhere + ["BuildMethod"]))
    # What decides the bundle besides the flags: every source file's bytes (read: they are small, and the
    # bundle leaves no file to compare with later), the lock file (the packages bundled) and esbuild's version.
    h = hashlib.sha256(f"esbuild-1\0{_esbuild_version(binary)}\0{json.dumps(args)}\0".encode())
    for e in p.entries:
        h.update(e.arcname.encode("utf-8", "surrogateescape") + b"\0")
        try:
            with open(e.path, "rb") as fh:
                h.update(hashlib.file_digest(fh, "sha256").digest())
        except OSError as exc:
            raise BuildError(f"{p.resource}: cannot read {e.path}: {exc.strerror}", where=p.resource) from None
    for name in LOCK_FILES:
        lock = _nearest(p.source, template.folder, name)
        if lock:
            with open(lock, "rb") as fh:
                h.update(b"\0lock\0" + fh.read())
            break
    out_dir = os.path.join(os.path.dirname(p.zip_path), ".esbuild", p.resource)
    return NodeBuild(p.resource, ESBUILD, p.source, p.architecture, f"esbuild\0{h.hexdigest()}",
                     esbuild=binary, args=tuple(args), out_dir=out_dir)


def _entry_file(source: str, entry: str) -> str | None:
    """SAM's rule: a path with a suffix must exist; without one, ``.ts`` then ``.js`` is tried."""
    if os.path.isabs(entry) or ".." in entry.replace("\\", "/").split("/"):
        return None
    path = os.path.join(source, entry)
    if os.path.splitext(entry)[1]:
        return entry if os.path.isfile(path) else None
    for ext in (".ts", ".js"):
        if os.path.isfile(path + ext):
            return entry + ext
    return None


def _declaring_esbuild(source: str, top: str) -> str | None:
    """The nearest package.json from the code folder up to ``top`` that lists esbuild (the project's own,
    not yet installed), else None."""
    found = _nearest(source, top, PACKAGE_JSON)
    if found is None:
        return None
    try:
        with open(found, encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    listed = [data.get(k) for k in ("devDependencies", "dependencies")]
    return found if any(isinstance(d, dict) and ESBUILD in d for d in listed) else None


def _nearest(source: str, top: str, name: str) -> str | None:
    folder, top = os.path.abspath(source), os.path.abspath(top)
    while True:
        path = os.path.join(folder, name)
        if os.path.isfile(path):
            return path
        if folder == top or not folder.startswith(top + os.sep):
            return None
        folder = os.path.dirname(folder)
