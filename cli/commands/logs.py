"""``lamctl logs FUNCTION | --stack NAME [--function LOGICAL_ID]``: a function's CloudWatch Logs.

Newest last, each line with its time and request id; several functions (all
of a stack's) interleaved by time with the function's name in front.
``--tail`` follows: a Live Tail session on AWS, polling where the endpoint has
none (the local cloud). ``--output json``: one ``log_event`` object per line.
"""

from __future__ import annotations

import datetime as _dt
from typing import Optional

import typer

from lamctl.cli.application import get_app
from lamctl.schemas.errors import UsageError


def _stamp(ms: int) -> str:
    when = _dt.datetime.fromtimestamp(ms / 1000, _dt.timezone.utc)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def logs(
    ctx: typer.Context,
    function: Optional[str] = typer.Argument(None, help="Function name (or, with --stack, a logical ID)."),
    stack: Optional[str] = typer.Option(None, "--stack",
                                        help="Read the functions of this stack (else, with no FUNCTION, stack in "
                                             "lamctl.toml)."),
    logical_id: Optional[str] = typer.Option(None, "--function", help="With --stack: only this logical ID."),
    since: str = typer.Option("10m", "--since", help="How far back: 30s, 10m, 2h, 1d, 1w."),
    pattern: Optional[str] = typer.Option(None, "--filter", help="A CloudWatch Logs filter pattern."),
    tail: bool = typer.Option(False, "--tail", help="Keep following new lines (Ctrl-C stops)."),
) -> None:
    """Print a function's logs (or a stack's functions' logs), newest last; --tail follows."""
    from lamctl.cli.wiring import system_clock
    from lamctl.release.logs import LogsGateway, LogLine, follow, log_group, parse_since, read

    app = get_app(ctx)
    seconds = parse_since(since)
    clients = app.aws()
    if not stack and not function:
        stack = app.setting("stack")
    if stack:
        from lamctl.release.stacks import LAMBDA_FUNCTION, StackGateway, function_name

        gateway = StackGateway(clients.client("cloudformation"))
        wanted = logical_id or function
        if wanted:
            functions = [function_name(gateway, stack, wanted)]
        else:
            if gateway.describe(stack) is None:
                raise UsageError(f"stack {stack} does not exist", where=stack,
                                 hint="check --stack (and --region / --local)")
            functions = sorted(r.physical_id for r in gateway.resources(stack)
                               if r.resource_type == LAMBDA_FUNCTION and r.physical_id)
            if not functions:
                raise UsageError(f"stack {stack} has no functions", where=stack,
                                 hint="name a stack that has an AWS::Serverless::Function or AWS::Lambda::Function")
    elif logical_id:
        raise UsageError("--function names a logical ID of a stack: give --stack too", where="--function",
                         hint="lamctl logs --stack NAME --function LOGICAL_ID, or lamctl logs FUNCTION_NAME")
    elif function:
        functions = [function]
    else:
        raise UsageError("name a function, or a stack with --stack", where="logs",
                         hint="lamctl logs FUNCTION | --stack NAME [--function LOGICAL_ID]")
    logs_gateway = LogsGateway(clients.client("logs"))
    clock = system_clock()
    since_ms = int((clock.now() - seconds) * 1000)
    out = app.out
    several = len(functions) > 1
    width = max(len(f) for f in functions)

    def emit(line: LogLine) -> None:
        if out.json:
            out.emit("log_event", time=_stamp(line.timestamp), **line.as_dict())
            return
        head = f"{line.function:<{width}}  " if several else ""
        out.stdout.write(f"{head}{_stamp(line.timestamp)}  {line.request_id or '-':<36}  {line.message}\n")
        out.stdout.flush()

    if tail:
        from lamctl.cli.aws import is_loopback

        # the local cloud has no Live Tail API (it would be asked at a stream- host name): poll it
        live = not is_loopback(logs_gateway.client.meta.endpoint_url)
        follow(logs_gateway, functions, since_ms, emit, clock, pattern=pattern, live_tail=live,
               on_mode=lambda mode: out.info(f"following {', '.join(log_group(f) for f in functions)} ({mode}); "
                                             "Ctrl-C stops"))
        return
    lines = read(logs_gateway, functions, since_ms, pattern)
    for line in lines:
        emit(line)
    if not lines:
        missing = [f for f in functions if not logs_gateway.exists(log_group(f))]
        if missing:
            out.info(f"no logs yet for {', '.join(missing)}: {', '.join(log_group(f) for f in missing)} does not "
                     "exist (a function's log group appears with its first invocation)")
        else:
            out.info(f"no log lines in the last {since}" + (f" matching {pattern!r}" if pattern else ""))
    if out.json:
        out.result(True, None, functions=functions, lines=len(lines))
