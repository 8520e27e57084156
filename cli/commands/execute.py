"""``lamctl execute STATE_MACHINE[:QUALIFIER]``: run a Step Functions execution and print its output.

Starts an execution (of the state machine, of a version ``name:3``, or of an alias ``name:live``), waits for
its end, and prints its output on stdout; an EXPRESS state machine runs with StartSyncExecution, which answers
at the end. A failed, timed-out or aborted execution prints the state that failed (not known for EXPRESS) with
its error and cause, and exits 1. With ``--stack``, STATE_MACHINE may be a logical ID of the
stack's template. On the local cloud the Lambda tasks run the deployed code (see README, Step Functions).
"""

from __future__ import annotations

import json
import sys
from typing import Optional

import typer

from lamctl.cli.application import get_app
from lamctl.schemas.errors import UsageError
from lamctl.schemas.event import read_event

INPUT_LIMIT = 256 * 1024  # Step Functions' limit on an execution's input (and on any state's data)


def execute(
    ctx: typer.Context,
    state_machine: str = typer.Argument(..., help="STATE_MACHINE[:VERSION|ALIAS]: name or ARN "
                                                  "(a logical ID with --stack)."),
    event: Optional[str] = typer.Option(None, "--event", "-e", help="Input JSON file, or - for stdin (default {})."),
    stack: Optional[str] = typer.Option(None, "--stack", help="Resolve STATE_MACHINE as a logical ID of this stack."),
    name: Optional[str] = typer.Option(None, "--name", help="The execution's name (default: a new UUID)."),
    timeout: Optional[float] = typer.Option(None, "--timeout", help="Seconds to wait for the end (default: no limit); "
                                                                   "exit 1 if it is still running."),
) -> None:
    """Run a Step Functions execution to its end and print its output (exit 1 when it fails)."""
    from lamctl.cli.wiring import system_clock
    from lamctl.release.states import StatesGateway, run_execution

    app = get_app(ctx)
    target, qualifier = state_machine, None
    if target.startswith("arn:"):
        parts = target.split(":")
        if len(parts) == 8:
            target, qualifier = ":".join(parts[:7]), parts[7] or None
    else:
        target, sep, rest = target.partition(":")
        qualifier = (rest or None) if sep else None
    if not target:
        raise UsageError("name the state machine to execute", hint="lamctl execute STATE_MACHINE [-e input.json]")
    if timeout is not None and timeout <= 0:
        raise UsageError(f"--timeout {timeout:g} must be more than 0 seconds", where="--timeout")
    payload = read_event(event)
    if len(payload) > INPUT_LIMIT:
        raise UsageError(f"the input is {len(payload):,} bytes; Step Functions refuses an execution input over "
                         f"{INPUT_LIMIT:,} bytes (256 KB)", where=event or "input",
                         hint="pass a smaller input, e.g. a reference to the data in S3")
    clients = app.aws()
    if stack:
        from lamctl.cli.wiring import resolve_stack
        from lamctl.release.stacks import StackGateway
        from lamctl.release.states import state_machine_arn

        target = state_machine_arn(StackGateway(clients.client("cloudformation")), resolve_stack(app, stack), target)
    # StartSyncExecution (EXPRESS) answers when the execution ends, up to Express's 5 minutes: a longer read
    # timeout, and no retry (that would start it again)
    gateway = StatesGateway(clients.client("stepfunctions"),
                            sync_client=clients.client("stepfunctions", read_timeout=330, max_attempts=1))
    arn = gateway.arn_of(target) + (f":{qualifier}" if qualifier else "")
    result = run_execution(gateway, system_clock(), arn, payload.decode("utf-8"), name=name, timeout=timeout)
    if app.out.json:
        app.out.result(result.ok, None, execution_arn=result.arn, status=result.status, output=result.output,
                       error=result.error, cause=result.cause, failed_state=result.failed_state)
    elif result.ok:
        app.out.info(f"execution {result.arn} succeeded")
        text = json.dumps(result.output, indent=2) if not isinstance(result.output, str) else result.output
        sys.stdout.write(text + "\n")
        sys.stdout.flush()
    elif result.status == "RUNNING":
        app.out.info(f"execution {result.arn} is still running after {timeout:g}s (it goes on)")
    else:
        where = f" in state {result.failed_state}" if result.failed_state else ""
        app.out.info(f"execution {result.arn} {result.status.lower().replace('_', ' ')}{where}")
        app.out.info(f"error: {result.error or '-'}")
        if result.cause:
            app.out.info(f"cause: {result.cause}")
    if not result.ok:
        raise typer.Exit(1)
