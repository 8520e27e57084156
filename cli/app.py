"""The composition root: the typer app, global options, one App object per run, one exit path.

``COMMANDS`` lists every command as ``(name, "module:function")`` of
``lamctl.cli.commands``, in the order ``--help`` shows them; the functions are
plain module-level typer commands that import heavy things (boto3, the
transform) inside their body only. :func:`root_command` builds the click
command lamctl runs: a command's module is imported and the command built only
when the command line names it, so ``lamctl --version`` and the start of one
command neither import nor build the others. How the command line is read
(global options anywhere), helped and refused (one error style) is
:mod:`lamctl.cli.cmdline`.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Optional

import typer

from lamctl.cli.application import App, GlobalOptions
from lamctl.cli.cmdline import LamctlGroup
from lamctl.cli.typer_compat import skip_pydantic
from lamctl.schemas.errors import EXIT_FAILURE, LamctlError, UsageError

# Every command: (name, "module:function" in lamctl.cli.commands), in the order --help lists them. A name of
# two words is a subcommand of the group named by the first (GROUPS gives its help). Command modules import
# boto3, the transform and other heavy modules inside the function body only, so that --help stays fast;
# --help lists each command with the first paragraph of its function's docstring.
COMMANDS = [
    ("init", "init:init"),
    ("build", "build:build"),
    ("package", "package:package_cmd"),
    ("transform", "transform:transform_cmd"),
    ("validate", "validate:validate"),
    ("deploy", "deploy:deploy_command"),
    ("sync", "sync:sync"),
    ("outputs", "outputs:outputs_command"),
    ("delete", "delete:delete_command"),
    ("publish", "publish:publish"),
    ("alias", "alias:alias_cmd"),
    ("shift", "shift:shift"),
    ("promote", "control:promote"),
    ("rollback", "control:rollback"),
    ("status", "status:status"),
    ("local start", "local_cloud:start"),
    ("local stop", "local_cloud:stop"),
    ("local status", "local_cloud:status"),
    ("local trigger", "local_cloud:trigger"),
    ("local invoke", "local_runtime:invoke"),
    ("local start-lambda", "local_runtime:start_lambda"),
    ("local start-api", "local_runtime:start_api"),
    ("invoke", "invoke:invoke"),
    ("execute", "execute:execute"),
    ("completion", "completion:completion"),
    ("logs", "logs:logs"),
    ("tune", "tune:tune"),
]
GROUPS = {
    "local": "The local cloud: an AWS emulator and a Lambda runtime on this machine, no Docker.",
}


app = typer.Typer(
    name="lamctl",
    help="Ship AWS Lambda applications from a source folder to live traffic, safely.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    cls=LamctlGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)


def _version(value: bool) -> None:
    if value:
        from lamctl.cli.aws import lamctl_version

        typer.echo(f"lamctl {lamctl_version()}")
        raise typer.Exit(0)


@app.callback()
def _global(
    ctx: typer.Context,
    profile: Optional[str] = typer.Option(None, "--profile", metavar="NAME", help="AWS profile to use."),
    region: Optional[str] = typer.Option(None, "--region", metavar="REGION",
                                         help="AWS region (else AWS_REGION, AWS_DEFAULT_REGION)."),
    endpoint_url: Optional[str] = typer.Option(None, "--endpoint-url", metavar="URL",
                                               help="Send every AWS call to this endpoint."),
    local: bool = typer.Option(False, "--local", help="Target the local cloud (an embedded AWS emulator)."),
    env: Optional[str] = typer.Option(None, "--env", metavar="NAME",
                                      help="Section of lamctl.toml laid over [default]."),
    config: Optional[str] = typer.Option(None, "--config", metavar="FILE",
                                         help="Settings file (default: ./lamctl.toml)."),
    output: Optional[str] = typer.Option(None, "--output", metavar="[text|json]",
                                         help="text, or json for NDJSON on stdout."),
    no_color: bool = typer.Option(False, "--no-color", help="No colour (also NO_COLOR)."),
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks and AWS calls."),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Print the version and exit."),
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


def _loader(target: str):
    """A function importing the command function ``"module:function"`` of lamctl.cli.commands when called."""
    module_name, _, function = target.partition(":")
    return lambda: getattr(importlib.import_module(f"lamctl.cli.commands.{module_name}"), function)


def root_command() -> LamctlGroup:
    """lamctl's click command: the root group with every command of COMMANDS, each built on first use."""
    root = skip_pydantic(typer.main.get_command(app))
    groups: dict[str, LamctlGroup] = {}
    for name, target in COMMANDS:
        *group, verb = name.split()
        parent = root
        if group:
            if group[0] not in groups:
                groups[group[0]] = skip_pydantic(LamctlGroup(name=group[0], help=GROUPS[group[0]],
                                                             no_args_is_help=True, rich_markup_mode=None))
                root.add_lazy(group[0], groups[group[0]])
            parent = groups[group[0]]
        parent.add_lazy(verb, _loader(target))
    return root


_current: dict[str, App] = {}
_argv: list[str] = []


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the app, map every failure to its exit code, never a traceback by accident.

    Usage errors of the command line itself (unknown option, missing argument) arrive here as
    lamctl UsageErrors (lamctl.cli.cmdline) and are printed like every other error, exit 2. Ctrl-C and
    SIGTERM: :mod:`lamctl.cli.signals`."""
    from lamctl.cli.signals import handled

    with handled() as stop:
        return stop.exit_code(_main(argv), _output)


def _main(argv: list[str] | None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    command = root_command()
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
    """The run's output; before the global options were read (a usage error), what the command line asks for."""
    if "app" in _current:
        return _current["app"].out
    from lamctl.cli.render import Output

    asked = os.environ.get("LAMCTL_OUTPUT")
    for i, arg in enumerate(_argv):
        if arg == "--":
            break
        if arg == "--output" and i + 1 < len(_argv):
            asked = _argv[i + 1]
        elif arg.startswith("--output="):
            asked = arg.partition("=")[2]
    return Output("json" if asked == "json" else "text", color=False if "--no-color" in _argv else None)


def _debug(args: list[str]) -> bool:
    if "app" in _current:
        return _current["app"].opts.debug
    return "--debug" in args


def run() -> None:
    sys.exit(main())


if __name__ == "__main__":  # pragma: no cover
    run()
