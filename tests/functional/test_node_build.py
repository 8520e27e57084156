"""`lamctl build` of Node.js functions: npm installs of the production dependencies for Lambda's platform
(cached per lock file and platform), BuildMethod esbuild with SAM's BuildProperties, and the errors for a
missing node, npm or esbuild.

npm never reaches the network here: ``npm_config_offline`` is set, and the packages come from npm's cache,
which ``.ci/run`` fills (``npm ci`` of samples/hello-node, ``npm cache add`` of esbuild's linux-arm64 binary).
"""

from __future__ import annotations

import json
import os
import shutil
import zipfile
from pathlib import Path

import pytest

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "hello-node"
ESBUILD_VERSION = "0.24.2"  # samples/hello-node/hello/package-lock.json


def sample_copy(dest: Path, with_modules: bool = True) -> Path:
    """samples/hello-node copied to ``dest`` (its node_modules, holding esbuild, too unless told not to)."""
    if with_modules and not (SAMPLE / "hello" / "node_modules" / ".bin" / "esbuild").exists():
        pytest.skip("samples/hello-node/hello has no node_modules: run npm ci there first (.ci/run does)")
    ignore = None if with_modules else shutil.ignore_patterns("node_modules", ".lamctl")
    shutil.copytree(SAMPLE, dest, symlinks=True, ignore=ignore)
    shutil.rmtree(dest / ".lamctl", ignore_errors=True)
    return dest


pytestmark = pytest.mark.skipif(not (shutil.which("node") and shutil.which("npm")),
                                reason="node and npm are not installed")


@pytest.fixture(autouse=True)
def offline_npm(monkeypatch):
    monkeypatch.setenv("npm_config_offline", "true")
    monkeypatch.setenv("npm_config_update_notifier", "false")


def names(zip_path) -> list[str]:
    with zipfile.ZipFile(zip_path) as zf:
        return zf.namelist()


JS_TEMPLATE = """\
Transform: AWS::Serverless-2016-10-31
Resources:
  Js:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: js/
      Handler: index.handler
      Runtime: nodejs20.x
      Architectures: [{arch}]
{more}"""

PY_FUNCTION = """\
  Py:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: py/
      Handler: app.handler
      Runtime: python3.12
"""


def js_project(tmp_path: Path, package: dict, lock: bool = True, arch: str = "x86_64", more: str = "") -> Path:
    """A JavaScript function whose package.json is ``package``; with ``lock``, the sample's lock file
    (ms as a dependency, esbuild as a dev dependency) and a package.json that matches it."""
    js = tmp_path / "js"
    js.mkdir(parents=True)
    (js / "index.js").write_text("const ms = require('ms');\nexports.handler = async () => ms(60000);\n")
    if lock:
        shutil.copy(SAMPLE / "hello" / "package-lock.json", js / "package-lock.json")
        package = json.loads((SAMPLE / "hello" / "package.json").read_text())
    (js / "package.json").write_text(json.dumps(package))
    (tmp_path / "template.yaml").write_text(JS_TEMPLATE.format(arch=arch, more=more))
    return tmp_path


def test_npm_ci_ships_the_production_dependencies_not_the_folders_own_node_modules(cli, tmp_path):
    project = js_project(tmp_path, {})
    junk = project / "js" / "node_modules" / "left-pad"  # a developer's own install: never shipped
    junk.mkdir(parents=True)
    (junk / "index.js").write_text("module.exports = 1;\n")
    r = cli("build", "--output", "json", cwd=project)
    assert r.exit_code == 0, r
    files = names(project / ".lamctl" / "build" / "Js.zip")
    assert "index.js" in files and "package.json" in files and "node_modules/ms/index.js" in files
    assert not [f for f in files if f.startswith(("node_modules/left-pad", "node_modules/esbuild"))], files

    r = cli("build", "--output", "json", cwd=project)  # unchanged: reused, npm not run
    assert r.exit_code == 0, r
    assert [line["reused"] for line in r.json_lines() if line.get("type") == "artifact"] == [True], r.stdout
    assert not [x for x in r.json_lines() if x.get("type") == "log" and x["message"].startswith("Js: npm")], r.stdout


def test_an_install_is_cached_per_lock_file_and_platform(cli, tmp_path):
    from lamctl.packager.cache import cache_root

    project = js_project(tmp_path, {})
    assert cli("build", cwd=project).exit_code == 0
    installs = os.path.join(cache_root(), "node")
    first = sorted(os.listdir(installs))
    assert len([d for d in first if not d.startswith(".")]) == 1
    (project / "js" / "index.js").write_text("exports.handler = async () => 'changed';\n")  # code only
    assert cli("build", cwd=project).exit_code == 0
    assert sorted(os.listdir(installs)) == first  # same lock file, same platform: no new install
    text = (project / "template.yaml").read_text().replace("[x86_64]", "[arm64]")
    (project / "template.yaml").write_text(text)
    assert cli("build", cwd=project).exit_code == 0
    assert len([d for d in os.listdir(installs) if not d.startswith(".")]) == 2  # another platform


def test_native_packages_get_the_binaries_of_the_functions_architecture(cli, tmp_path):
    """esbuild as a production dependency: its platform package is linux-arm64's for an arm64 function,
    whatever the host (npm install --os=linux --cpu=arm64)."""
    project = js_project(tmp_path, {"name": "native", "version": "1.0.0",
                                    "dependencies": {"esbuild": ESBUILD_VERSION}}, lock=False, arch="arm64")
    r = cli("build", cwd=project)
    assert r.exit_code == 0, r
    files = names(project / ".lamctl" / "build" / "Js.zip")
    assert "node_modules/@esbuild/linux-arm64/bin/esbuild" in files, files
    assert not [f for f in files if f.startswith("node_modules/@esbuild/linux-x64")]


def test_the_same_sources_and_lock_file_give_the_same_zip_bytes(cli, tmp_path, monkeypatch):
    a = js_project(tmp_path / "a", {})
    b = js_project(tmp_path / "b", {})
    os.utime(b / "js" / "index.js", (1_000_000, 1_000_000))
    assert cli("build", cwd=a).exit_code == 0
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "other-cache"))  # a second, separate npm install
    assert cli("build", cwd=b).exit_code == 0
    za, zb = (p / ".lamctl" / "build" / "Js.zip" for p in (a, b))
    assert "node_modules/ms/index.js" in names(za)  # the installed dependencies are part of the bytes compared
    assert za.read_bytes() == zb.read_bytes()


def test_a_package_json_that_npm_cannot_install_is_a_build_error_naming_it(cli, tmp_path):
    project = js_project(tmp_path, {"name": "x", "version": "1.0.0",
                                    "dependencies": {"no-such-package-lamctl-test": "1.0.0"}}, lock=False)
    r = cli("build", cwd=project)
    assert r.exit_code == 1, r
    assert "npm could not install the dependencies of Js" in r.stderr and "package.json" in r.stderr
    assert not (project / ".lamctl" / "build" / "Js.zip").exists()


def test_invalid_package_json_is_refused_with_its_line(cli, tmp_path):
    project = js_project(tmp_path, {}, lock=False)
    (project / "js" / "package.json").write_text('{\n  "dependencies": {\n    "ms": "2.1.3",\n  }\n}\n')
    r = cli("build", cwd=project)
    assert r.exit_code == 2, r
    assert "package.json:4" in r.stderr and "not valid JSON" in r.stderr


def test_without_npm_on_the_path_nothing_is_built_and_npm_is_named(cli, tmp_path, monkeypatch):
    project = js_project(tmp_path, {}, more=PY_FUNCTION)
    (project / "py").mkdir()
    (project / "py" / "app.py").write_text("def handler(e, c):\n    return 1\n")
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    r = cli("build", cwd=project)
    assert r.exit_code == 2, r
    assert "Js" in r.stderr and "needs node" in r.stderr and "install Node.js" in r.stderr
    assert not (project / ".lamctl" / "build" / "Py.zip").exists()  # checked before any work


def test_a_package_json_without_dependencies_needs_no_npm(cli, tmp_path, monkeypatch):
    project = js_project(tmp_path, {"name": "plain", "version": "1.0.0", "type": "module"}, lock=False)
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    r = cli("build", cwd=project)
    assert r.exit_code == 0, r
    assert sorted(names(project / ".lamctl" / "build" / "Js.zip")) == ["index.js", "package.json"]


# -- BuildMethod esbuild -----------------------------------------------------------------------------------------


def test_the_typescript_sample_is_bundled_into_one_file_with_its_dependency(cli, tmp_path):
    project = sample_copy(tmp_path / "hello-node")
    r = cli("build", cwd=project)
    assert r.exit_code == 0, r
    zip_path = project / ".lamctl" / "build" / "HelloFunction.zip"
    assert names(zip_path) == ["app.js"]  # only esbuild's output: no sources, no node_modules
    with zipfile.ZipFile(zip_path) as zf:
        bundle = zf.read("app.js").decode()
    assert "import " not in bundle and "interface " not in bundle  # CommonJS JavaScript (Format cjs by default)
    assert "long" in bundle and "ms" in bundle  # ms is bundled in
    assert "\n  " not in bundle  # Minify: true

    other = sample_copy(tmp_path / "elsewhere" / "hello-node")  # same sources, another path: same bytes
    assert cli("build", cwd=other).exit_code == 0
    assert (other / ".lamctl" / "build" / "HelloFunction.zip").read_bytes() == zip_path.read_bytes()


def test_build_properties_reach_esbuild(cli, tmp_path):
    project = sample_copy(tmp_path / "hello-node")
    text = (project / "template.yaml").read_text()
    text = text.replace("Minify: true", "Minify: false").replace("Sourcemap: false", "Sourcemap: true")
    text = text.replace('External: ["@aws-sdk/*"]', 'External: ["ms"]\n        Format: esm')
    (project / "template.yaml").write_text(text)
    r = cli("build", cwd=project)
    assert r.exit_code == 0, r
    zip_path = project / ".lamctl" / "build" / "HelloFunction.zip"
    assert names(zip_path) == ["app.js", "app.js.map"]
    with zipfile.ZipFile(zip_path) as zf:
        bundle = zf.read("app.js").decode()
    assert 'import ms from "ms"' in bundle  # External: left out; Format esm; not minified


def test_sams_defaults_apply_when_properties_are_left_out(cli, tmp_path):
    """Minify defaults to true and Format to cjs, as in SAM's esbuild builder; only EntryPoints is needed."""
    project = sample_copy(tmp_path / "hello-node")
    text = (project / "template.yaml").read_text()
    for line in ("        Target: es2020\n", "        Minify: true\n", "        Sourcemap: false\n",
                 '        External: ["@aws-sdk/*"]\n'):
        assert line in text
        text = text.replace(line, "")
    (project / "template.yaml").write_text(text)
    r = cli("build", cwd=project)
    assert r.exit_code == 0, r
    zip_path = project / ".lamctl" / "build" / "HelloFunction.zip"
    assert names(zip_path) == ["app.js"]
    with zipfile.ZipFile(zip_path) as zf:
        bundle = zf.read("app.js").decode()
    assert "\n  " not in bundle and "module.exports" in bundle  # minified CommonJS


def test_an_edited_source_rebuilds_the_bundle(cli, tmp_path):
    project = sample_copy(tmp_path / "hello-node")
    assert cli("build", cwd=project).exit_code == 0
    zip_path = project / ".lamctl" / "build" / "HelloFunction.zip"
    before = zip_path.read_bytes()
    app = project / "hello" / "app.ts"
    app.write_text(app.read_text().replace("greeting ${name}", "hi there ${name}"))
    assert cli("build", cwd=project).exit_code == 0
    with zipfile.ZipFile(zip_path) as zf:
        assert "hi there" in zf.read("app.js").decode()
    assert zip_path.read_bytes() != before


def test_esbuild_missing_from_the_project_is_refused_with_how_to_add_it(cli, tmp_path):
    project = sample_copy(tmp_path / "hello-node", with_modules=False)
    r = cli("build", cwd=project)
    assert r.exit_code == 2, r
    assert "template.yaml:" in r.stderr and "HelloFunction" in r.stderr
    # package.json lists esbuild, not installed yet: install the project's packages
    assert "cd hello && npm install (" in r.stderr and "package.json lists esbuild" in r.stderr, r.stderr
    assert not (project / ".lamctl" / "build" / "HelloFunction.zip").exists()
    # a package.json without esbuild: add it
    package = project / "hello" / "package.json"
    package.write_text(package.read_text().replace('"esbuild"', '"not-esbuild"'))
    r = cli("build", cwd=project)
    assert r.exit_code == 2, r
    assert "cd hello && npm install --save-dev esbuild" in r.stderr, r.stderr


@pytest.mark.parametrize("change, where, what", [
    ("EntryPoints: [app.ts]", "EntryPoints: [missing.ts]", "entry point missing.ts is not in the code folder"),
    ("EntryPoints: [app.ts]", "EntryPoints: []", "needs BuildProperties.EntryPoints"),
    ("Minify: true", "Minify: yes-please", "BuildProperties.Minify must be true or false"),
    ("Target: es2020", "Format: amd", "BuildProperties.Format must be cjs or esm"),
])
def test_bad_build_properties_are_refused_with_their_line(cli, tmp_path, change, where, what):
    project = sample_copy(tmp_path / "hello-node", with_modules=False)
    text = (project / "template.yaml").read_text()
    (project / "template.yaml").write_text(text.replace(change, where))
    line = text.replace(change, where).splitlines().index(next(
        ln for ln in text.replace(change, where).splitlines() if where in ln)) + 1
    r = cli("build", cwd=project)
    assert r.exit_code == 2, r
    assert what in r.stderr and f"template.yaml:{line}" in r.stderr


LAYER_TEMPLATE = """\
Transform: AWS::Serverless-2016-10-31
Resources:
  Lib:
    Type: AWS::Serverless::LayerVersion
    Properties:
      ContentUri: lib/
      CompatibleRuntimes: [nodejs20.x]
  Js:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: js/
      Handler: index.handler
      Runtime: nodejs20.x
      Layers: [!Ref Lib]
"""


def test_a_node_layer_is_laid_out_under_nodejs_and_its_functions_find_its_packages(cli, tmp_path):
    lib = tmp_path / "lib"
    lib.mkdir()
    shutil.copy(SAMPLE / "hello" / "package-lock.json", lib / "package-lock.json")
    shutil.copy(SAMPLE / "hello" / "package.json", lib / "package.json")
    (lib / "node_modules" / "stale").mkdir(parents=True)  # the folder's own install: not shipped
    (lib / "node_modules" / "stale" / "index.js").write_text("module.exports = 0;\n")
    js = tmp_path / "js"
    js.mkdir()
    (js / "index.js").write_text("const ms = require('ms');\nexports.handler = async () => ms(90000, {long: true});\n")
    (tmp_path / "template.yaml").write_text(LAYER_TEMPLATE)
    r = cli("build", cwd=tmp_path)
    assert r.exit_code == 0, r
    files = names(tmp_path / ".lamctl" / "build" / "Lib.zip")
    assert "nodejs/package.json" in files and "nodejs/node_modules/ms/index.js" in files, files
    assert not [f for f in files if not f.startswith("nodejs/") or "stale" in f or "esbuild" in f], files

    r = cli("local", "invoke", "Js", cwd=tmp_path)
    assert r.exit_code == 0, r
    assert json.loads(r.stdout) == "2 minutes"
