"""``lamctl local invoke``, ``start-lambda`` and ``start-api``: Lambda functions as local processes.

No Docker: each execution environment is a process speaking the Lambda Runtime
API (``lamctl.local``). ``invoke`` runs one invocation and stops; ``start-lambda``
serves the Lambda Invoke API on 127.0.0.1 for boto3 and the AWS CLI.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from typing import List, Optional

import typer

from lamctl.cli.application import get_app
from lamctl.schemas.errors import UsageError
from lamctl.schemas.event import read_event

TEMPLATE_HELP = "Template (default: template.yaml in the current folder)."

# Options the three commands share (typer reads an option's declaration; one object serves them all).
_TEMPLATE = typer.Option(None, "--template", "-t", help=TEMPLATE_HELP)
_ENV_VARS = typer.Option(None, "--env-vars", "-n", help="JSON file of environment overrides (SAM's format).")
_OVERRIDES = typer.Option(None, "--parameter-overrides", help="Template parameters: Key=Value ...")
_BUILD_DIR = typer.Option(None, "--build-dir", help="Where built code is kept.")
_CREDENTIALS = typer.Option(False, "--aws-credentials",
                            help="Give functions your AWS credentials (default: dummy ones).")
_HOST = typer.Option("127.0.0.1", "--host", help="Address to bind (keep it on loopback).")
_IDLE = typer.Option(None, "--idle-timeout", help="Seconds an idle environment is kept warm (default 300).")


def _region(app) -> str:
    return app.opts.region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"


def _credentials(app) -> dict[str, str] | None:
    """The caller's own AWS credentials, for --aws-credentials."""
    creds = app.aws().session().get_credentials()
    if creds is None:
        raise UsageError("--aws-credentials was given but no AWS credentials were found",
                         hint="configure a profile (--profile) or AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY")
    frozen = creds.get_frozen_credentials()
    out = {"AWS_ACCESS_KEY_ID": frozen.access_key, "AWS_SECRET_ACCESS_KEY": frozen.secret_key}
    if frozen.token:
        out["AWS_SESSION_TOKEN"] = frozen.token
    return out


def _functions(app, template: Optional[str], env_vars: Optional[str], overrides: Optional[List[str]],
               build_dir: Optional[str], aws_credentials: bool):
    from lamctl.local.runtime.functions import TemplateFunctions, load_env_vars, parse_parameter_overrides
    from lamctl.schemas.template import find_template

    # lamctl.toml's template, env_vars and build_dir apply here as they do to build and deploy
    path = find_template(app.setting("template", template))
    env_vars = app.setting("env_vars", env_vars)
    build_dir = app.setting("build_dir", build_dir)
    return TemplateFunctions(
        path, parameter_overrides=parse_parameter_overrides(overrides), env_vars=load_env_vars(env_vars),
        region=_region(app), build_dir=build_dir, credentials=_credentials(app) if aws_credentials else None,
    )



def _to_stderr(text: str) -> None:
    sys.stderr.write(text)
    sys.stderr.flush()


def invoke(
    ctx: typer.Context,
    function: Optional[str] = typer.Argument(None, help="Logical ID (optional when the template has one)."),
    template: Optional[str] = _TEMPLATE,
    event: Optional[str] = typer.Option(None, "--event", "-e", help="Event JSON file, or - for stdin (default {})."),
    env_vars: Optional[str] = _ENV_VARS,
    parameter_overrides: Optional[List[str]] = _OVERRIDES,
    build_dir: Optional[str] = _BUILD_DIR,
    aws_credentials: bool = _CREDENTIALS,
) -> None:
    """Run one invocation of a function as a local process: payload on stdout, logs on stderr."""
    from lamctl.local.runtime.pool import Pool
    from lamctl.local.runtime.service import LocalLambda

    app = get_app(ctx)
    fns = _functions(app, template, env_vars, parameter_overrides, build_dir, aws_credentials)
    if function is None:
        names = fns.names()
        if len(names) != 1:
            raise UsageError("name the function to invoke", where=fns.path,
                             hint="the template has: " + (", ".join(names) or "(no functions)"))
        function = names[0]
    name = fns.require(function)
    payload = read_event(event)
    service = LocalLambda(fns, Pool(idle_timeout=None))
    try:
        service.resolve(name)
        for warning in fns.warnings:
            app.out.warn(warning)
        result = service.pool.invoke(name, payload, on_log=_to_stderr)  # logs as they are written
    finally:
        service.close()
    text = result.payload.decode("utf-8", "replace")
    if app.out.json:
        try:
            body = json.loads(text) if text else None
        except ValueError:
            body = text
        app.out.result(result.ok, None, function=name, request_id=result.request_id, payload=body,
                       function_error=result.function_error, error_type=result.error_type,
                       duration_ms=round(result.duration_ms, 2), billed_duration_ms=result.billed_ms,
                       max_memory_used_mb=result.max_memory_mb,
                       init_duration_ms=round(result.init_duration_ms, 2) if result.init_duration_ms else None)
    else:
        sys.stdout.write(text + ("\n" if not text.endswith("\n") else ""))
        sys.stdout.flush()
    if not result.ok:
        raise typer.Exit(1)


def start_lambda(
    ctx: typer.Context,
    port: Optional[int] = typer.Option(None, "--port", "-p", help="Port on 127.0.0.1 (default 3001, or port in "
                                                                  "lamctl.toml; 0 picks a free one)."),
    host: str = _HOST,
    template: Optional[str] = _TEMPLATE,
    env_vars: Optional[str] = _ENV_VARS,
    parameter_overrides: Optional[List[str]] = _OVERRIDES,
    max_concurrency: Optional[int] = typer.Option(None, "--max-concurrency", min=1,
                                                  help="Invocations in flight at most (then 429)."),
    idle_timeout: Optional[float] = _IDLE,
    build_dir: Optional[str] = _BUILD_DIR,
    aws_credentials: bool = _CREDENTIALS,
) -> None:
    """Serve the Lambda Invoke API on 127.0.0.1 (use boto3 or the AWS CLI with --endpoint-url)."""
    from lamctl.local.runtime.invoke_api import InvokeServer
    from lamctl.local.runtime.pool import Pool
    from lamctl.local.runtime.service import LocalLambda

    app = get_app(ctx)
    fns = _functions(app, template, env_vars, parameter_overrides, build_dir, aws_credentials)
    _check_functions(app, fns, fns.names())
    port = app.setting("port", port, 3001, int)
    max_concurrency = app.setting("max_concurrency", max_concurrency, None, int)
    idle_timeout = float(app.setting("idle_timeout", idle_timeout, 300, int))
    service = LocalLambda(fns, Pool(max_concurrency=max_concurrency, idle_timeout=idle_timeout))
    server = _listen(service, host, port, lambda log: InvokeServer(service, host, port, log=log))
    _serve(app, server, f"local Lambda at {server.url} serving {', '.join(fns.names())}\n"
                        f"  aws lambda invoke --endpoint-url {server.url} --function-name NAME out.json",
           functions=fns.names())


def start_api(
    ctx: typer.Context,
    port: int = typer.Option(3000, "--port", "-p", help="Port on 127.0.0.1 (0 picks a free one)."),
    host: str = _HOST,
    template: Optional[str] = _TEMPLATE,
    env_vars: Optional[str] = _ENV_VARS,
    parameter_overrides: Optional[List[str]] = _OVERRIDES,
    idle_timeout: Optional[float] = _IDLE,
    build_dir: Optional[str] = _BUILD_DIR,
    aws_credentials: bool = _CREDENTIALS,
) -> None:
    """Serve the template's Api and HttpApi events on 127.0.0.1, each route running its function locally."""
    from lamctl.local.runtime.pool import Pool
    from lamctl.local.runtime.service import LocalLambda
    from lamctl.local.runtime.start_api import ApiServer, routes_of

    app = get_app(ctx)
    fns = _functions(app, template, env_vars, parameter_overrides, build_dir, aws_credentials)
    routes, skipped = routes_of(fns.resources, fns.names(), fns.template.where)
    for text in skipped:
        app.out.warn(text)
    if not routes:
        raise UsageError("the template has no Api or HttpApi events to serve", where=fns.path,
                         hint="give a function an event of Type Api or HttpApi, or use 'lamctl local "
                              "start-lambda' to serve the Invoke API")
    _check_functions(app, fns, list(dict.fromkeys(r.function for r in routes)))
    idle_timeout = float(app.setting("idle_timeout", idle_timeout, 300, int))
    service = LocalLambda(fns, Pool(idle_timeout=idle_timeout))
    server = _listen(service, host, port, lambda log: ApiServer(service, routes, host, port, log=log))
    lines = "\n".join(f"  {r.key:<32} -> {r.function}" for r in routes)
    _serve(app, server, f"local API at {server.url}\n{lines}",
           routes=[{"route": r.key, "function": r.function, "kind": r.kind, "payload": r.payload}
                   for r in routes])


def _check_functions(app, fns, names: list[str]) -> None:
    """What start-lambda and start-api say before serving: each function's configuration read up front (a
    runtime it cannot run, a Python other than the one declared, unresolved values), as warnings."""
    from lamctl.local.runtime.environment import check_supported

    problems = []
    for name in names:  # bad configuration is said up front, not on the first call
        try:
            check_supported(fns.spec(name))
        except UsageError as exc:
            problems.append(exc)
    for warning in dict.fromkeys(fns.warnings):
        app.out.warn(warning)
    for exc in problems:
        app.out.warn(str(exc) + (f" ({exc.hint})" if exc.hint else ""))


def _listen(service, host: str, port: int, make):
    try:
        return make(lambda text: (sys.stderr.write(text), sys.stderr.flush()))
    except OSError as exc:
        service.close()
        raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror}",
                         hint="pick another --port (or 0 for any free one)") from None


def _serve(app, server, message: str, **data) -> None:
    """Serve until Ctrl-C or SIGTERM, then stop every function process."""

    def _stop(signum, frame):
        raise KeyboardInterrupt

    previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    app.out.event("listening", message, url=server.url, **data)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        server.close()
    app.out.result(True, None, url=server.url)
