"""typer's start-up fast path: option values that are already of the option's type skip pydantic.

This module holds lamctl's one dependency on typer's private API (``typer._coercion`` and the
``_TyperParameter`` attributes it reads). tests/unit/test_typer_compat.py names what a typer
release changed when it breaks; tests/unit/test_startup.py checks both halves of the behaviour.
"""

from __future__ import annotations

from typing import Any

try:  # typer's private coercion layer (typer >= 0.2x); with any other typer, nothing below applies
    from typer._coercion import RuntimeParam as _RuntimeParam
    from typer._coercion import build_runtime_param as _build_runtime_param
    from typer.core import _TyperParameter
except ImportError:  # pragma: no cover - another typer
    _RuntimeParam = None

# -- start-up cost: typer (0.2x) coerces option values through pydantic TypeAdapters, and building
# the first one imports pydantic (~80-100 ms, more than typer itself), even for an option left at
# None (the help option included). Our options are str, bool, int, float and list[str]; a value
# that is already of that exact type (and inside min/max) comes back unchanged from those
# adapters, so it is passed through here; any other value (a number given as text, for
# instance) goes to typer's own coercion, built on first need, with its own messages.
# tests/unit/test_startup.py checks both halves against typer's coercion.

if _RuntimeParam is not None:
    from dataclasses import dataclass as _dataclass

    @_dataclass(frozen=True)
    class _PlainParam(_RuntimeParam):
        descriptor: Any = None
        str_list: bool = False

        def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
            if self.str_list:
                if isinstance(value, (list, tuple)) and all(type(v) is str for v in value):
                    return list(value)
            elif type(value) is self.annotation and self._in_range(value):
                return value
            full = self.__dict__.get("_full")
            if full is None:
                full = _build_runtime_param(self.descriptor)
                object.__setattr__(self, "_full", full)
            return full._coerce_value(value, param=param, ctx=ctx)

        def _in_range(self, value: Any) -> bool:
            low, high = self.parameter_info.min, self.parameter_info.max
            return (low is None or value >= low) and (high is None or value <= high)


def _plain_kind(param: Any) -> str | None:
    """``"exact"`` or ``"str_list"`` when the parameter's value can skip pydantic, else None."""
    if not isinstance(param, _TyperParameter) or getattr(param, "_runtime_param", False) is not None:
        return None
    desc = getattr(param, "type_descriptor", None)
    info = getattr(desc, "parameter_info", None)
    if desc is None or info is None or desc.file_annotation is not None or getattr(info, "parser", None) is not None:
        return None
    ann = desc.annotation
    if ann in (str, bool):
        return "exact"
    if ann in (int, float):  # a value inside min/max comes back unchanged, clamped or not
        return "exact"
    if getattr(ann, "__origin__", None) is list and getattr(ann, "__args__", None) == (str,):
        return "str_list"
    return None


def _plain(param: Any) -> Any:
    kind = _plain_kind(param)
    if kind is not None:
        desc = param.type_descriptor
        param._runtime_param = _PlainParam(parameter_info=desc.parameter_info, annotation=desc.annotation,
                                           descriptor=desc, str_list=kind == "str_list")
    return param


def skip_pydantic(command: Any) -> Any:
    """Give every plain option of ``command`` and its subcommands the pass-through coercion.

    The help option is made on first use (its value is None unless given), so each
    command's ``get_help_option`` is wrapped to treat it the same way."""
    if _RuntimeParam is None:  # pragma: no cover - another typer
        return command
    stack = [command]
    while stack:
        cmd = stack.pop()
        for param in getattr(cmd, "params", ()):
            _plain(param)
        make_help = getattr(cmd, "get_help_option", None)
        if make_help is not None:
            cmd.get_help_option = lambda ctx, _make=make_help: _plain(_make(ctx))
        stack.extend(getattr(cmd, "commands", {}).values())
    return command


def value_annotation(param: Any) -> tuple[Any, Any]:
    """``(annotation, choices)`` of a typer parameter, for lamctl's help (``(None, None)`` when unknown)."""
    desc = getattr(param, "type_descriptor", None)
    if desc is None:
        return None, None
    return getattr(desc, "annotation", None), getattr(desc, "choices", None)


# -- what the fast path relies on, checked by tests/unit/test_typer_compat.py on every typer release


def problems(coercion: Any = None, core: Any = None) -> list[str]:
    """What of typer's private API the fast path relies on and no longer finds, one sentence each.

    ``coercion`` and ``core`` default to ``typer._coercion`` and ``typer.core``; an empty list means
    the fast path works with the installed typer."""
    import dataclasses

    import typer

    version = getattr(typer, "__version__", "?")
    found: list[str] = []

    def changed(what: str) -> None:
        found.append(f"typer {version} changed {what}: lamctl's fast path (lamctl.cli.typer_compat) must be updated")

    if coercion is None or core is None:
        try:
            import typer._coercion as coercion_module
            import typer.core as core_module
        except ImportError as exc:
            changed(f"its modules ({exc})")
            return found
        coercion = coercion if coercion is not None else coercion_module
        core = core if core is not None else core_module
    runtime_param = getattr(coercion, "RuntimeParam", None)
    build = getattr(coercion, "build_runtime_param", None)
    typer_parameter = getattr(core, "_TyperParameter", None)
    for name, value in (("typer._coercion.RuntimeParam", runtime_param),
                        ("typer._coercion.build_runtime_param", build),
                        ("typer.core._TyperParameter", typer_parameter)):
        if value is None:
            changed(f"{name} (it is gone)")
    if found:
        return found
    fields = {f.name for f in dataclasses.fields(runtime_param)} if dataclasses.is_dataclass(runtime_param) else set()
    if not {"parameter_info", "annotation"} <= fields:
        changed(f"RuntimeParam's fields (expected parameter_info and annotation, found {sorted(fields)})")
    if list(_parameters(getattr(runtime_param, "_coerce_value", None)))[-3:] != ["value", "param", "ctx"]:
        changed("RuntimeParam._coerce_value(value, param, ctx)")
    if "_coerce_value" not in _source(getattr(runtime_param, "coerce", None)):
        changed("RuntimeParam.coerce (it no longer calls _coerce_value)")
    if len(list(_parameters(build))) != 1:
        changed("build_runtime_param(descriptor)")
    if "self._runtime_param" not in _source(getattr(typer_parameter, "get_runtime_param", None)):
        changed("_TyperParameter.get_runtime_param (it no longer reads _runtime_param)")
    if not found:
        _check_built_command(typer_parameter, changed)
    return found


def _check_built_command(typer_parameter: Any, changed: Any) -> None:
    """The attributes read from the parameters and commands typer builds, on a small command."""
    import typer

    sample = typer.Typer(add_completion=False)

    @sample.command()
    def cmd(name: str = typer.Option("x", "--name"), count: int = typer.Option(1, "--count", min=0),
            items: list[str] = typer.Option([], "--item")) -> None:  # pragma: no cover - never run
        pass

    command = typer.main.get_command(sample)
    params = [p for p in command.params if isinstance(p, typer_parameter)]
    if len(params) != 3:
        changed(f"the parameters it builds (expected 3 {typer_parameter.__name__}, found {len(params)})")
        return
    for param in params:
        if getattr(param, "_runtime_param", "missing") is not None:
            changed("_TyperParameter._runtime_param (no longer None until first use)")
        desc = getattr(param, "type_descriptor", None)
        for attr in ("annotation", "parameter_info", "file_annotation", "choices"):
            if not hasattr(desc, attr):
                changed(f"_TyperParameter.type_descriptor.{attr}")
        for attr in ("min", "max", "parser"):
            if not hasattr(getattr(desc, "parameter_info", None), attr):
                changed(f"type_descriptor.parameter_info.{attr}")
    if not callable(getattr(command, "get_help_option", None)):
        changed("Command.get_help_option(ctx)")


def _parameters(fn: Any) -> Any:
    import inspect

    try:
        return inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return {}


def _source(fn: Any) -> str:
    import inspect

    try:
        return inspect.getsource(fn)
    except (TypeError, OSError):
        return ""
