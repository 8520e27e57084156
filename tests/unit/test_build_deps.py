"""requirements.txt installed by real pip for Lambda's platform, from wheels built here (no network)."""

from __future__ import annotations

import base64
import hashlib
import os

import pytest

from lamctl.packager.build import build_template
from lamctl.schemas.errors import BuildError, UsageError
from tests.helpers import load_written, write_zip, zip_entries


def _wheel(folder, name: str, version: str, tag: str = "py3-none-any", files: dict[str, str] | None = None,
           requires: tuple[str, ...] = ()) -> str:
    """A real wheel file (PEP 427): the package, METADATA, WHEEL and a RECORD with hashes."""
    files = dict(files or {f"{name}/__init__.py": f"VERSION = {version!r}\n"})
    info = f"{name}-{version}.dist-info"
    files[f"{info}/METADATA"] = (f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
                                 + "".join(f"Requires-Dist: {r}\n" for r in requires))
    files[f"{info}/WHEEL"] = (f"Wheel-Version: 1.0\nGenerator: lamctl-tests\n"
                              f"Root-Is-Purelib: {'true' if tag.endswith('any') else 'false'}\nTag: {tag}\n")
    record = []
    for path, text in files.items():
        data = text.encode()
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(data)}")
    record.append(f"{info}/RECORD,,")
    files[f"{info}/RECORD"] = "\n".join(record) + "\n"
    path = os.path.join(folder, f"{name}-{version}-{tag}.whl")
    write_zip(path, files)
    return path


@pytest.fixture
def wheels(tmp_path, monkeypatch):
    """A folder of wheels that pip uses instead of any index."""
    folder = tmp_path / "wheels"
    folder.mkdir()
    _wheel(folder, "tinylib", "1.0", requires=("helperlib>=0.1",))
    _wheel(folder, "tinylib", "1.1", requires=("helperlib>=0.1",))
    _wheel(folder, "helperlib", "0.2", files={"helperlib/__init__.py": "", "helperlib/venv/__init__.py": "V = 1\n"})
    for arch in ("x86_64", "aarch64"):
        _wheel(folder, "native", "2.0", tag=f"cp312-cp312-manylinux2014_{arch}",
               files={"native/__init__.py": "", "native/ARCH": arch})
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(folder))
    return folder


TEMPLATE = """\
Globals:
  Function:
    Runtime: python3.12
    Handler: app.handler
Resources:
  Intel:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: intel
  Graviton:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: graviton
      Architectures: [arm64]
  Deps:
    Type: AWS::Serverless::LayerVersion
    Properties:
      ContentUri: layer
      CompatibleRuntimes: [python3.12]
"""


def _project(tmp_path, reqs: dict[str, str]):
    for folder in ("intel", "graviton", "layer"):
        (tmp_path / folder).mkdir(exist_ok=True)
        (tmp_path / folder / "app.py").write_text("def handler(e, c):\n    return 1\n")
        if folder in reqs:
            (tmp_path / folder / "requirements.txt").write_text(reqs[folder])
    return load_written(tmp_path, TEMPLATE)


def test_requirements_are_installed_for_the_lambda_platform_and_architecture(tmp_path, wheels):
    req = "# the app's needs\ntinylib==1.0  # pinned\nnative\n"
    tpl = _project(tmp_path, {"intel": req, "graviton": req, "layer": "tinylib==1.0\n"})
    messages: list[str] = []
    result = build_template(tpl, notify=messages.append)
    intel, graviton, layer = (zip_entries(result.artifact(n).zip_path) for n in ("Intel", "Graviton", "Deps"))
    assert intel["native/ARCH"] == b"x86_64"
    assert graviton["native/ARCH"] == b"aarch64"
    assert intel["tinylib/__init__.py"] == b"VERSION = '1.0'\n"
    assert "helperlib/__init__.py" in intel, "dependencies of dependencies are installed too"
    assert "helperlib/venv/__init__.py" in intel, "the code folder's excludes do not apply to installed packages"
    assert "app.py" in intel and "requirements.txt" in intel
    assert not any(n.endswith(".pyc") for n in intel), "no byte code compiled by the host's Python"
    # a layer's dependencies go under python/, its own files stay where they are
    assert "python/tinylib/__init__.py" in layer and "python/helperlib/__init__.py" in layer
    assert "app.py" in layer and "tinylib/__init__.py" not in layer
    installs = [m for m in messages if "installing" in m]
    assert len(installs) == 3, installs  # x86_64 and arm64 differ, the layer's set differs


def test_an_install_is_shared_between_functions_and_builds(tmp_path, wheels):
    tpl = _project(tmp_path, {"intel": "tinylib==1.0\n", "graviton": "tinylib==1.0\n"})
    (tmp_path / "graviton" / "extra.py").write_text("")
    tpl = load_written(tmp_path, TEMPLATE.replace("      Architectures: [arm64]\n", ""))
    messages: list[str] = []
    result = build_template(tpl, notify=messages.append)
    assert len([m for m in messages if "installing" in m]) == 1
    assert "tinylib/__init__.py" in zip_entries(result.artifact("Graviton").zip_path)
    cache = os.path.join(os.environ["XDG_CACHE_HOME"], "lamctl", "deps")
    assert len([d for d in os.listdir(cache) if not d.startswith(".")]) == 1
    # another build dir, nothing in the build cache for it: pip still does not run again
    messages.clear()
    build_template(tpl, str(tmp_path / "elsewhere"), notify=messages.append)
    assert not [m for m in messages if "installing" in m]


def test_a_changed_requirement_rebuilds_with_the_new_set(tmp_path, wheels):
    tpl = _project(tmp_path, {"intel": "tinylib==1.0\n"})
    first = build_template(tpl, only={"Intel"}).artifact("Intel")
    assert build_template(tpl, only={"Intel"}).artifact("Intel").reused
    (tmp_path / "intel" / "requirements.txt").write_text("tinylib==1.1\n")
    second = build_template(tpl, only={"Intel"}).artifact("Intel")
    assert not second.reused and second.sha256 != first.sha256
    files = zip_entries(second.zip_path)
    assert files["tinylib/__init__.py"] == b"VERSION = '1.1'\n"
    assert "tinylib-1.1.dist-info/METADATA" in files and "tinylib-1.0.dist-info/METADATA" not in files


def test_an_unsatisfiable_requirement_fails_with_pips_reason_naming_the_function(tmp_path, wheels):
    tpl = _project(tmp_path, {"intel": "tinylib==9.9\n"})
    with pytest.raises(BuildError) as err:
        build_template(tpl)
    e = err.value
    # lamctl's part: the function named, pip's own reason passed on (its wording is pip's, not asserted)
    assert e.message.startswith("pip could not install the requirements of Intel: ")
    reason = e.message.split(": ", 1)[1]
    assert "tinylib==9.9" in reason and "pip failed without a message" not in reason
    assert e.where == str(tmp_path / "intel" / "requirements.txt")
    assert not (tmp_path / ".lamctl" / "build" / "Intel.zip").exists()
    cache = os.path.join(os.environ["XDG_CACHE_HOME"], "lamctl", "deps")
    assert os.listdir(cache) == [], "a failed install leaves nothing in the cache"


def test_a_wheel_for_another_python_is_not_taken(tmp_path, wheels):
    _project(tmp_path, {"intel": "native\n"})
    with pytest.raises(BuildError) as err:
        build_template(load_written(tmp_path, TEMPLATE.replace("Runtime: python3.12", "Runtime: python3.11")),
                       only={"Intel"})
    assert "native" in err.value.message and "Python 3.11" in (err.value.hint or "")


def test_a_malformed_requirement_line_is_exit_2_with_file_and_line(tmp_path, wheels):
    tpl = _project(tmp_path, {"intel": "tinylib==1.0\nthis is not a requirement\n"})
    with pytest.raises(UsageError) as err:
        build_template(tpl, only={"Intel"})
    assert err.value.exit_code == 2
    assert err.value.where.endswith("intel/requirements.txt:2")
    assert "Intel" in err.value.message


def test_requirements_with_a_non_python_runtime_is_refused_for_a_layer(tmp_path, wheels):
    _project(tmp_path, {"layer": "tinylib\n"})
    with pytest.raises(UsageError) as err:
        build_template(load_written(tmp_path, TEMPLATE.replace("CompatibleRuntimes: [python3.12]",
                                                               "CompatibleRuntimes: [nodejs20.x]")))
    assert "Deps" in err.value.message and err.value.where.endswith("template.yaml:19:27")


def test_a_requirements_file_that_is_not_utf8_is_exit_2_with_its_line(tmp_path, wheels):
    tpl = _project(tmp_path, {})
    (tmp_path / "intel" / "requirements.txt").write_bytes(b"tinylib==1.0\n# caf\xe9\n")
    with pytest.raises(UsageError) as err:
        build_template(tpl, only={"Intel"})
    assert err.value.exit_code == 2 and err.value.where.endswith("intel/requirements.txt:2")


def test_a_change_in_an_included_requirements_file_rebuilds(tmp_path, wheels):
    tpl = _project(tmp_path, {"intel": "-r base.txt\n"})
    (tmp_path / "intel" / "base.txt").write_text("tinylib==1.0\n")
    first = build_template(tpl, only={"Intel"}).artifact("Intel")
    assert zip_entries(first.zip_path)["tinylib/__init__.py"] == b"VERSION = '1.0'\n"
    (tmp_path / "intel" / "base.txt").write_text("tinylib==1.1\n")
    os.utime(tmp_path / "intel" / "base.txt", (1_600_000_000, 1_600_000_000))
    second = build_template(tpl, only={"Intel"}).artifact("Intel")
    assert zip_entries(second.zip_path)["tinylib/__init__.py"] == b"VERSION = '1.1'\n"


def test_requirements_without_a_readable_runtime_is_exit_2_and_another_language_only_warns(tmp_path, wheels):
    _project(tmp_path, {"intel": "tinylib\n"})
    with pytest.raises(UsageError) as err:
        build_template(load_written(tmp_path, TEMPLATE.replace("    Runtime: python3.12\n", "    Runtime: !Ref Rt\n")),
                       only={"Intel"})
    assert "Intel" in err.value.message and err.value.where.endswith("template.yaml:3:14")
    nodejs = load_written(tmp_path, TEMPLATE.replace("Runtime: python3.12", "Runtime: nodejs20.x"))
    result = build_template(nodejs, only={"Intel"})
    assert any("requirements.txt ignored" in w and "nodejs20.x" in w for w in result.warnings)
    assert "tinylib/__init__.py" not in zip_entries(result.artifact("Intel").zip_path)


def test_a_touched_code_file_beside_installed_dependencies_is_verified_not_rebuilt(tmp_path, wheels):
    tpl = _project(tmp_path, {"layer": "tinylib==1.0\n"})
    first = build_template(tpl, only={"Deps"}).artifact("Deps")
    os.utime(tmp_path / "layer" / "app.py", (1_600_000_000, 1_600_000_000))
    again = build_template(tpl, only={"Deps"}).artifact("Deps")
    assert again.reused and again.sha256 == first.sha256
