"""The architecture of docs/architecture.md (layout and layers), enforced: packaging, import direction, and a fast start."""

from __future__ import annotations

import ast
import os
import pathlib
import subprocess
import sys
import tomllib

ROOT = pathlib.Path(__file__).resolve().parents[2]
LAYERS = ["cli", "local", "release", "packager", "transform", "schemas"]  # each may import only those after it
RANK = {name: i for i, name in enumerate(LAYERS)}
CLI_ONLY = {"typer", "rich", "click"}
HEAVY_AT_TOP = {"boto3", "botocore", "moto"}


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_every_package_folder_is_listed_for_the_wheel():
    st = _pyproject()["tool"]["setuptools"]
    listed = set(st["packages"])
    found = set()
    for pkg, folder in st["package-dir"].items():
        for init in (ROOT / folder).rglob("__init__.py"):
            rel = init.parent.relative_to(ROOT / folder).parts
            found.add(".".join((pkg,) + rel))
    assert found == listed, f"not listed: {sorted(found - listed)}; listed but missing: {sorted(listed - found)}"


def test_top_level_folders_install_under_lamctl_only():
    st = _pyproject()["tool"]["setuptools"]
    assert set(st["package-dir"]) == {f"lamctl.{name}" for name in LAYERS}
    assert all(p.startswith("lamctl.") for p in st["packages"])


def _modules():
    for layer in LAYERS:
        for path in sorted((ROOT / layer).rglob("*.py")):
            yield layer, path


def _imports(tree: ast.AST):
    """(module name, is at module top level) for every import in the file."""
    top = set(id(n) for n in getattr(tree, "body", []))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, id(node) in top
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module, id(node) in top


def test_imports_only_flow_downward():
    problems = []
    for layer, path in _modules():
        tree = ast.parse(path.read_text(), filename=str(path))
        rel = path.relative_to(ROOT)
        for name, at_top in _imports(tree):
            parts = name.split(".")
            if parts[0] in LAYERS:
                problems.append(f"{rel}: imports bare {name!r}; use lamctl.{name}")
            if parts[0] == "lamctl" and len(parts) > 1 and parts[1] in RANK:
                if RANK[parts[1]] < RANK[layer]:
                    problems.append(f"{rel}: {layer} imports upward from {name}")
            if parts[0] in CLI_ONLY and layer != "cli":
                problems.append(f"{rel}: only cli may import {parts[0]}")
            if parts[0] in ("boto3", "botocore") and layer != "cli" and parts[0] == "boto3":
                problems.append(f"{rel}: only cli/aws.py creates boto3 sessions and clients")
            if parts[0] == "boto3" and layer == "cli" and rel.as_posix() != "cli/aws.py":
                problems.append(f"{rel}: only cli/aws.py imports boto3")
            if parts[0] in HEAVY_AT_TOP and at_top and layer in ("cli",) and rel.as_posix() != "cli/aws.py":
                problems.append(f"{rel}: imports {parts[0]} at module level (keep --help fast)")
    assert not problems, "\n".join(problems)


MOTO_SEAM = "local/cloud/moto_ext.py"


def test_only_the_moto_seam_imports_moto():
    """Every touch of moto's internals is in one module, with a contract test each
    (tests/functional/test_localcloud_moto_contract.py): a moto upgrade fails there first."""
    problems = []
    for layer, path in _modules():
        rel = path.relative_to(ROOT).as_posix()
        if rel == MOTO_SEAM:
            continue
        for name, _ in _imports(ast.parse(path.read_text(), filename=str(path))):
            if name.split(".")[0] == "moto":
                problems.append(f"{rel}: imports {name}; go through lamctl.local.cloud.moto_ext")
    assert not problems, "\n".join(problems)


def test_no_sleep_or_wall_clock_outside_the_clock():
    problems = []
    for layer, path in _modules():
        rel = path.relative_to(ROOT).as_posix()
        if rel in ("release/clock.py",) or layer in ("local",):
            continue  # the clock itself; the local emulator runs real servers with real time
        text = path.read_text()
        for needle in ("time.sleep(", "time.time()"):
            if needle in text:
                problems.append(f"{rel}: {needle} (take a Clock instead)")
    assert not problems, "\n".join(problems)


def test_help_and_version_do_not_import_boto3():
    code = (
        "import sys\n"
        "from lamctl.cli.app import main\n"
        "for args in (['--help'], ['--version']):\n"
        "    try:\n"
        "        main(args)\n"
        "    except SystemExit:\n"
        "        pass\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('boto3', 'botocore', 'moto', 'jsonschema'))\n"
        "print('HEAVY=' + ','.join(heavy))\n"
    )
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd="/")
    assert out.returncode == 0, out.stderr
    assert "lamctl" in out.stdout  # the help and the version were printed
    assert out.stdout.strip().splitlines()[-1] == "HEAVY=", "heavy modules imported on --help/--version"


def test_python_dash_m_works():
    out = subprocess.run([sys.executable, "-m", "lamctl.cli", "--version"], capture_output=True, text=True, cwd="/")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("lamctl ")


def test_the_local_runtime_does_not_import_the_local_cloud():
    """The local cloud runs its invocations on the local runtime, never the other way round."""
    problems = []
    for path in sorted((ROOT / "local" / "runtime").rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                module = node.module or ""
                if (node.level == 0 and module.startswith("lamctl.local.cloud")) or \
                        (node.level == 2 and module.split(".")[0] == "cloud") or \
                        (node.level == 2 and not module and any(a.name == "cloud" for a in node.names)):
                    problems.append(f"{path.relative_to(ROOT)}:{node.lineno}: imports the local cloud")
            elif isinstance(node, ast.Import):
                problems += [f"{path.relative_to(ROOT)}:{node.lineno}: imports the local cloud"
                             for a in node.names if a.name.startswith("lamctl.local.cloud")]
    assert not problems, "\n".join(problems)


def test_command_modules_do_not_import_each_other():
    """What two commands share lives below them (release/, packager/) or in cli/wiring.py, cli/views.py."""
    problems = []
    for path in sorted((ROOT / "cli" / "commands").glob("*.py")):
        for name, _ in _imports(ast.parse(path.read_text(), filename=str(path))):
            if name.startswith("lamctl.cli.commands") or name == "lamctl.cli.app":
                problems.append(f"{path.relative_to(ROOT)}: imports {name}")
    assert not problems, "\n".join(problems)


def test_every_command_module_is_in_the_one_registration_table():
    from lamctl.cli.app import COMMANDS

    listed = {target.partition(":")[0] for _, target in COMMANDS}
    modules = {p.stem for p in (ROOT / "cli" / "commands").glob("*.py") if p.stem != "__init__"}
    assert listed == modules, f"not registered: {sorted(modules - listed)}; listed but missing: {sorted(listed - modules)}"
    for path in sorted((ROOT / "cli" / "commands").glob("*.py")):
        assert "def register(" not in path.read_text(), f"{path.name}: commands are registered in cli/app.py only"
