"""``lamctl init [DIR] [--template NAME] [--runtime R] [--ci github] [--list] [--force]``: a new project.

Renders one of the templates shipped with lamctl (``lamctl init --list``) into
DIR (default: the current folder), in Python, or with ``--runtime nodejsNN.x`` /
``--runtime go`` in TypeScript (bundled with esbuild) or Go (provided.al2023) for
the templates written in them: ``template.yaml``, the code, a unit test,
``lamctl.toml`` with ``target = "local"`` so that ``lamctl deploy`` works at
once, and with ``--ci github`` the GitHub Actions workflows. The stack is named
after the folder. It asks which template only when stdin is a terminal and no
``--template`` was given, and never overwrites a file (exit 2, naming it)
unless ``--force``.
"""

from __future__ import annotations

import os
import sys
from typing import Optional

import typer

from lamctl.cli.application import get_app


def init(
    ctx: typer.Context,
    directory: str = typer.Argument(".", metavar="[DIR]", help="Folder of the new project (default: here)."),
    template: Optional[str] = typer.Option(None, "--template", metavar="NAME",
                                           help="Project template (lamctl init --list; default: hello-api)."),
    runtime: str = typer.Option("python3.12", "--runtime",
                                metavar="[python3.13|python3.12|python3.11|python3.10|python3.9|nodejs22.x|nodejs20.x|"
                                        "nodejs18.x|go]",
                                help="Lambda runtime of the functions: python3.9-3.13, nodejs18.x-22.x (TypeScript "
                                     "bundled with esbuild), or go (provided.al2023); lamctl init --list says which "
                                     "templates have which."),
    ci: Optional[str] = typer.Option(None, "--ci", metavar="[github]", help="Add CI workflows (GitHub Actions)."),
    action: Optional[str] = typer.Option(None, "--action", metavar="OWNER/REPO@REF",
                                         help="The lamctl action the workflows use (default: lamctl/lamctl at this "
                                              "release's tag)."),
    list_: bool = typer.Option(False, "--list", help="List the templates and exit."),
    force: bool = typer.Option(False, "--force", help="Overwrite files the template writes."),
) -> None:
    """Start a new project from a template: code, template.yaml, a unit test, lamctl.toml and CI workflows."""
    from lamctl.packager import scaffold

    app = get_app(ctx)
    out = app.out
    if list_:
        if not out.json:
            out.table(["Template", "What it is", "Runtimes"],
                      [(k, v, scaffold.runtimes_of(k)) for k, v in scaffold.TEMPLATES.items()],
                      title="lamctl init --template NAME [--runtime R]")
        out.result(True, None, templates=[{"name": k, "description": v, "languages": list(scaffold.LANGUAGES[k]),
                                           "runtimes": [r for r in scaffold.RUNTIMES
                                                        if scaffold.language(r) in scaffold.LANGUAGES[k]]}
                                          for k, v in scaffold.TEMPLATES.items()])
        return
    if template is None:
        template = scaffold.DEFAULT_TEMPLATE
        if sys.stdin.isatty() and not out.json:
            names = list(scaffold.TEMPLATES)
            for i, (name, about) in enumerate(scaffold.TEMPLATES.items(), 1):
                typer.echo(f"  {i}. {name}: {about}", err=True)
            pick = typer.prompt("Template", default="1", err=True)
            template = names[int(pick) - 1] if pick.isdigit() and 0 < int(pick) <= len(names) else pick
    name = scaffold.project_name(directory)
    files = scaffold.render_project(template, name=name, runtime=runtime, ci=ci, action=action)
    written = scaffold.write_project(directory, files, force=force)
    if not out.json:
        out.table(["File"], [(os.path.relpath(p, directory),) for p in written],
                  title=f"{template} project {name} in {directory}")
    where = "" if os.path.abspath(directory) == os.getcwd() else f"cd {directory} && "
    if scaffold.language(runtime) == "nodejs":  # esbuild, which the build takes from the project's node_modules
        where += "npm install && "
    out.result(True, f"created {name}; next: {where}lamctl deploy (on the local cloud)", template=template,
               stack=name, directory=directory, files=[os.path.relpath(p, directory) for p in written])
