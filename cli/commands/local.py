"""``lamctl local ...``: the local cloud (start, stop, status) and the local Lambda runtime
(invoke, start-lambda). Each half registers its subcommands on the ``local`` group."""

from __future__ import annotations

import importlib

import typer

local_app = typer.Typer(
    help="The local cloud: an AWS emulator and a Lambda runtime on this machine, no Docker.",
    no_args_is_help=True,
)

# Modules that add subcommands to the group.
PARTS = ["local_cloud", "local_runtime"]


def register(app: typer.Typer) -> None:
    for name in PARTS:
        try:
            module = importlib.import_module(f"lamctl.cli.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"lamctl.cli.commands.{name}":
                raise
            continue
        module.register(local_app)
    app.add_typer(local_app, name="local")
