"""``lamctl sync --stack NAME [--watch]``: push code changes to a deployed stack in seconds; deploy the rest.

A change that is only function code (or a layer's content) is pushed with
``UpdateFunctionCode`` (``PublishLayerVersion``), waiting for the update, then
``PublishVersion`` and the alias moved for ``AutoPublishAlias``; any other
change of the template runs ``lamctl deploy``. ``--watch`` does it again on
every save. The work is :mod:`lamctl.release.sync`; the watcher
:mod:`lamctl.release.watch`. A ``protected = true`` environment is refused.
"""

from __future__ import annotations

import os
import subprocess
import sys
from typing import List, Optional

import typer

from lamctl.cli.application import get_app
from lamctl.cli.wiring import resolve_stack, system_clock
from lamctl.schemas.errors import CloudError, ConfigError, LamctlError


def _deploy_words(app, stack: str, template: str, build_dir: Optional[str], parameter_overrides: List[str]) -> list:
    """``lamctl deploy`` against the same cloud, with the same settings, without questions."""
    opts = app.opts
    words = [sys.executable, "-m", "lamctl.cli"]
    if opts.local:
        words.append("--local")
    if opts.endpoint_url:
        words += ["--endpoint-url", opts.endpoint_url]
    if opts.region:
        words += ["--region", opts.region]
    if opts.profile and not app.target_local:
        words += ["--profile", opts.profile]
    if opts.env:
        words += ["--env", opts.env]
    if opts.config:
        words += ["--config", opts.config]
    if app.out.json:
        words += ["--output", "json"]
    words += ["deploy", "--stack", stack, "-t", template, "--yes"]
    if build_dir:
        words += ["--build-dir", build_dir]
    for item in parameter_overrides:
        words += ["--parameter-overrides", item]
    return words


def sync(
    ctx: typer.Context,
    stack: Optional[str] = typer.Option(None, "--stack", help="Stack name (else stack in lamctl.toml)."),
    template: Optional[str] = typer.Option(None, "-t", "--template", help="Template (default: template.yaml)."),
    build_dir: Optional[str] = typer.Option(None, "--build-dir", help="Build folder (default: .lamctl/build)."),
    parameter_overrides: Optional[List[str]] = typer.Option(
        None, "--parameter-overrides", help="As for deploy: K=V (repeatable); passed on to deploy."),
    watch: bool = typer.Option(False, "--watch", help="Keep watching: push on every save (Ctrl-C stops)."),
) -> None:
    """Push code-only changes straight to a deployed stack's functions; deploy other changes."""
    from lamctl.packager.build import build_template
    from lamctl.release.stack_params import overrides_from_config, parse_overrides
    from lamctl.release.stacks import StackGateway
    from lamctl.release.sync import SyncGateway, Syncer
    from lamctl.release.watch import Watcher
    from lamctl.schemas.template import find_template

    app = get_app(ctx)
    out = app.out
    stack_name = resolve_stack(app, stack)
    if app.setting("protected", None, False, bool):
        where = app.settings.config.where("protected") or "lamctl.toml"
        env = app.opts.env or os.environ.get("LAMCTL_ENV") or "default"
        raise ConfigError(f"environment {env} is protected (protected = true): lamctl sync changes code outside "
                          f"a deploy and is refused for stack {stack_name}", where=where,
                          hint="ship to a protected environment with lamctl deploy (and shift), or sync a "
                               "development environment (--env NAME)")
    template_path = os.path.abspath(find_template(app.setting("template", template)))
    build_dir = app.setting("build_dir", build_dir)
    overrides = []
    settings = app.settings
    if "parameter_overrides" in settings.config.values:
        overrides += overrides_from_config(settings.config.values["parameter_overrides"],
                                           settings.config.where("parameter_overrides") or "lamctl.toml")
    if os.environ.get("LAMCTL_PARAMETER_OVERRIDES"):
        overrides += parse_overrides([os.environ["LAMCTL_PARAMETER_OVERRIDES"]], "LAMCTL_PARAMETER_OVERRIDES")
    overrides += parse_overrides(parameter_overrides or [])
    clients = app.aws()
    clock = system_clock()
    stacks = StackGateway(clients.client("cloudformation"))
    lam = SyncGateway(clients.client("lambda"), clock)

    def build(tmpl):
        folder = build_dir or os.path.join(tmpl.folder, ".lamctl", "build")
        result = build_template(tmpl, folder, direct_upload=True)
        for warning in result.warnings:
            out.warn(warning)
        return result

    def deploy() -> None:
        words = _deploy_words(app, stack_name, template_path, build_dir, list(parameter_overrides or []))
        proc = subprocess.Popen(words, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        assert proc.stdout is not None
        for line in proc.stdout:
            stream = out.stdout if (out.json and line.startswith("{")) else out.stderr
            stream.write(line)
            stream.flush()
        if proc.wait() != 0:
            raise CloudError(f"lamctl deploy of stack {stack_name} failed (exit {proc.returncode})",
                             where=stack_name, hint="see its output above; fix the cause and save again")

    target = f"{clients.endpoint_url or 'aws'}|{clients.region}"
    syncer = Syncer(stack=stack_name, template_path=template_path, target=target,
                    parameters={o.key: o.value for o in overrides}, stacks=stacks, lam=lam, clock=clock,
                    build=build, deploy=deploy, notify=lambda m: out.event("progress", m, message=m, phase="sync"))
    warned = {"drift": False}

    def report(result, changes: set | None = None) -> None:
        took = f"{result.seconds:.1f} s"
        for p in result.pushed:
            out.event("pushed", f"pushed {p.resource} ({p.physical}): {p.detail}", resource=p.resource,
                      physical=p.physical, kind=p.kind, detail=p.detail, version=p.version, alias=p.alias)
        if result.pushed and not warned["drift"]:
            warned["drift"] = True
            out.warn(f"stack {stack_name} now differs from its template until the next deploy "
                     f"(lamctl deploy --stack {stack_name}, or a change to the template while syncing)")
        human = {"deploy": f"deployed stack {stack_name} ({result.reason}) in {took}",
                 "code": f"synced {len(result.pushed)} resource(s) of stack {stack_name} in {took}",
                 "none": f"stack {stack_name}: nothing to push ({took})"}[result.action]
        data = dict(stack=stack_name, action=result.action, reason=result.reason, seconds=round(result.seconds, 3),
                    pushed=[p.resource for p in result.pushed], changed=sorted(changes or ()))
        if watch:
            out.event("synced", human, **data)
        else:
            out.result(True, human, **data)

    report(syncer.once())
    if not watch:
        return
    watcher = Watcher(os.path.dirname(template_path), clock)
    out.info(f"watching {os.path.dirname(template_path)} (Ctrl-C stops)")
    while True:
        changes = watcher.wait()
        if changes is None:
            return
        names = ", ".join(sorted(os.path.relpath(p, os.path.dirname(template_path)) for p in changes)[:5])
        out.event("change", f"changed: {names}", paths=sorted(changes))
        try:
            report(syncer.once(), changes)
        except LamctlError as exc:  # a build error or a failed deploy: say so, keep watching
            out.error(exc)
