"""The composition root: the typer app, global options, one App object per run, one exit path.

Every command module in ``lamctl.cli.commands`` has ``register(app)``; it
imports heavy things (boto3, the transform) inside the command body only, so
``lamctl --help`` stays fast.
"""

from __future__ import annotations

import importlib
import os
import sys
from dataclasses import dataclass, field
from typing import Any, Optional

import typer

from lamctl.schemas.errors import EXIT_FAILURE, LamctlError, UsageError

try:  # typer's private coercion layer (typer >= 0.2x); with any other typer, nothing below applies
    from typer._coercion import RuntimeParam as _RuntimeParam
    from typer._coercion import build_runtime_param as _build_runtime_param
    from typer.core import _TyperParameter
except ImportError:  # pragma: no cover - another typer
    _RuntimeParam = None

# Command modules, in the order --help lists them.
COMMANDS = [
    "build",
    "package",
    "transform",
    "validate",
    "deploy",
    "release",
    "local",
    "invoke",
]


@dataclass
class GlobalOptions:
    profile: Optional[str] = None
    region: Optional[str] = None
    endpoint_url: Optional[str] = None
    local: bool = False
    env: Optional[str] = None
    config: Optional[str] = None
    output: str = "text"
    no_color: bool = False
    debug: bool = False


@dataclass
class App:
    """What every command receives: settings, output, and the AWS client factory."""

    opts: GlobalOptions
    settings: Any
    out: Any
    _clients: Any = field(default=None, repr=False)

    def setting(self, key: str, flag: Any = None, default: Any = None, kind: type | None = None) -> Any:
        return self.settings.get(key, flag, default, kind)

    @property
    def target_local(self) -> bool:
        return bool(self.opts.local or self.settings.get("target") == "local")

    def aws(self):
        """The client factory; with --local (or target = "local") it points at the local cloud."""
        if self._clients is None:
            from lamctl.cli.aws import ClientFactory

            endpoint = self.opts.endpoint_url
            if self.target_local and not endpoint:
                from lamctl.local.cloud.lifecycle import ensure_running

                endpoint = ensure_running(notify=self.out.info)
            self._clients = ClientFactory(
                profile=self.opts.profile,
                region=self.opts.region,
                endpoint_url=endpoint,
                local=self.target_local,
            )
        return self._clients


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


def _skip_pydantic(command: Any) -> Any:
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


def get_app(ctx: typer.Context) -> App:
    root = ctx.find_root()
    if not isinstance(root.obj, App):  # pragma: no cover - only when a command is invoked without the callback
        raise RuntimeError("lamctl's global options were not processed")
    return root.obj


app = typer.Typer(
    name="lamctl",
    help="Ship AWS Lambda applications from a source folder to live traffic, safely.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        from lamctl.cli.aws import lamctl_version

        typer.echo(f"lamctl {lamctl_version()}")
        raise typer.Exit(0)


@app.callback()
def _global(
    ctx: typer.Context,
    profile: Optional[str] = typer.Option(None, "--profile", help="AWS profile to use.", show_default=False),
    region: Optional[str] = typer.Option(None, "--region", help="AWS region (else AWS_REGION, AWS_DEFAULT_REGION)."),
    endpoint_url: Optional[str] = typer.Option(None, "--endpoint-url", help="Send every AWS call to this endpoint."),
    local: bool = typer.Option(False, "--local", help="Target the local cloud (an embedded AWS emulator)."),
    env: Optional[str] = typer.Option(None, "--env", help="Section of lamctl.toml laid over \\[default]."),
    config: Optional[str] = typer.Option(None, "--config", help="Settings file (default: ./lamctl.toml)."),
    output: Optional[str] = typer.Option(None, "--output", help="text, or json for NDJSON on stdout."),
    no_color: bool = typer.Option(False, "--no-color", help="No colour (also NO_COLOR)."),
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks and AWS calls."),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
) -> None:
    from lamctl.cli.render import Output
    from lamctl.cli.settings import Config, Settings, find_config, load_config

    env = env or os.environ.get("LAMCTL_ENV") or None
    config = config or os.environ.get("LAMCTL_CONFIG") or None
    # Output first, so that a bad config file is reported in the requested format.
    early_output = output or os.environ.get("LAMCTL_OUTPUT") or "text"
    ctx.obj = _current["app"] = App(GlobalOptions(output=early_output, debug=debug), Settings(Config()),
                                    Output(early_output if early_output in ("text", "json") else "text",
                                           color=not no_color))
    if early_output not in ("text", "json"):
        raise UsageError(f"--output {early_output!r} is not valid", hint="use --output text or --output json")
    try:
        settings = Settings(load_config(find_config(config), env))
    except LamctlError:
        # Help for a subcommand must work even when the settings file is broken.
        if any(a in ("--help", "-h") for a in _argv):
            settings = Settings(Config())
        else:
            raise
    opts = GlobalOptions(
        profile=settings.get("profile", profile) or None,
        region=settings.get("region", region),
        endpoint_url=settings.get("endpoint_url", endpoint_url),
        local=local or settings.get("target") == "local",
        env=env,
        config=config,
        output=settings.get("output", output, "text"),
        no_color=settings.get("no_color", no_color or None, False, bool),
        debug=settings.get("debug", debug or None, False, bool),
    )
    if opts.output not in ("text", "json"):
        raise UsageError(f"output {opts.output!r} is not valid", hint="use text or json")
    ctx.obj = _current["app"] = App(opts, settings, Output(opts.output, color=not opts.no_color))


for _name in COMMANDS:
    try:
        _module = importlib.import_module(f"lamctl.cli.commands.{_name}")
    except ModuleNotFoundError as _exc:  # a command module not written yet
        if _exc.name != f"lamctl.cli.commands.{_name}":
            raise
        continue
    _module.register(app)


_current: dict[str, App] = {}
_argv: list[str] = []


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the app, map every failure to its exit code, never a traceback by accident.

    Usage errors of the command line itself (unknown option, missing argument)
    are click's, reported by typer, exit 2. Ctrl-C and SIGTERM: :mod:`lamctl.cli.signals`."""
    from lamctl.cli.signals import handled

    with handled() as stop:
        return stop.exit_code(_main(argv), _output)


def _main(argv: list[str] | None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    command = _skip_pydantic(typer.main.get_command(app))
    _current.clear()
    _argv[:] = args
    try:
        command.main(args=args, prog_name="lamctl", standalone_mode=True)
        return 0
    except SystemExit as exc:
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else EXIT_FAILURE)
    except LamctlError as exc:
        out = _output()
        if _debug(args):
            import traceback

            traceback.print_exc()
        out.error(exc)
        out.result(ok=False, exit_code=exc.exit_code, error=exc.message)
        return exc.exit_code
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM outside the command (typer maps one inside it to 130)
        return 130
    except BrokenPipeError:
        return EXIT_FAILURE
    except Exception as exc:  # an unexpected failure: a bug; say so plainly
        if _debug(args):
            raise
        out = _output()
        out.error(LamctlError(f"unexpected {type(exc).__name__}: {exc}",
                              hint="run again with --debug for the traceback, and report it"))
        out.result(ok=False, exit_code=EXIT_FAILURE, error=str(exc))
        return EXIT_FAILURE


def _output():
    if "app" in _current:
        return _current["app"].out
    from lamctl.cli.render import Output

    return Output("json" if os.environ.get("LAMCTL_OUTPUT") == "json" else "text")


def _debug(args: list[str]) -> bool:
    if "app" in _current:
        return _current["app"].opts.debug
    return "--debug" in args


def run() -> None:
    sys.exit(main())


if __name__ == "__main__":  # pragma: no cover
    run()
