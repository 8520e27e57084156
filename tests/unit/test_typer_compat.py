"""lamctl's start-up fast path leans on typer's private API (lamctl.cli.typer_compat): a typer release
that changes what it relies on must fail here, saying what changed, not slow every run down silently."""

from __future__ import annotations

import types

import typer._coercion
import typer.core

from lamctl.cli.typer_compat import problems


def test_the_installed_typer_has_everything_the_fast_path_relies_on():
    found = problems()
    assert found == [], "\n".join(found)


def test_a_private_name_gone_from_typer_is_named():
    coercion = types.SimpleNamespace(RuntimeParam=typer._coercion.RuntimeParam)  # build_runtime_param gone
    found = problems(coercion=coercion, core=typer.core)
    assert len(found) == 1
    assert "changed typer._coercion.build_runtime_param" in found[0]
    assert "lamctl's fast path (lamctl.cli.typer_compat) must be updated" in found[0]


def test_a_changed_signature_or_attribute_is_named():
    def build_runtime_param(descriptor, strict):  # a second required argument
        raise AssertionError("never called")

    class TyperParameter(typer.core._TyperParameter):
        def get_runtime_param(self):  # no longer reads the attribute the fast path sets
            raise AssertionError("never called")

    coercion = types.SimpleNamespace(RuntimeParam=typer._coercion.RuntimeParam,
                                     build_runtime_param=build_runtime_param)
    found = problems(coercion=coercion, core=types.SimpleNamespace(_TyperParameter=TyperParameter))
    assert any("build_runtime_param(descriptor)" in f for f in found), found
    assert any("get_runtime_param" in f for f in found), found
