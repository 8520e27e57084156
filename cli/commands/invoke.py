"""``lamctl invoke FUNCTION[:QUALIFIER]``: invoke a deployed function, on AWS or on the local cloud.

Prints the response payload on stdout, the executed version (and with
``--logs`` the log tail) on stderr; a function error prints Lambda's error
object and exits 1. With ``--stack``, FUNCTION may be a logical ID of the
stack's template.
"""

from __future__ import annotations

import base64
import json
import sys
from typing import Optional

import typer

from lamctl.cli.application import get_app
from lamctl.schemas.errors import CloudError, UsageError, error_code, error_message
from lamctl.schemas.event import read_event


def split_qualifier(function: str) -> tuple[str, str | None]:
    """``name``, ``name:qualifier``, or an ARN with or without a qualifier -> (function, qualifier)."""
    if function.startswith("arn:"):
        parts = function.split(":")
        if len(parts) == 8:
            return ":".join(parts[:7]), parts[7] or None
        return function, None
    name, sep, qualifier = function.partition(":")
    return name, (qualifier or None) if sep else None


def invoke(
    ctx: typer.Context,
    function: str = typer.Argument(..., help="FUNCTION[:QUALIFIER]: name or ARN (a logical ID with --stack)."),
    event: Optional[str] = typer.Option(None, "--event", "-e", help="Event JSON file, or - for stdin (default {})."),
    stack: Optional[str] = typer.Option(None, "--stack", help="Resolve FUNCTION as a logical ID of this stack."),
    logs: bool = typer.Option(False, "--logs", help="Print the last 4 KB of the invocation's log."),
) -> None:
    """Invoke a deployed function (on AWS, or on the local cloud with --local) and print its response."""
    from botocore.exceptions import ClientError


    app = get_app(ctx)
    name, qualifier = split_qualifier(function)
    if not name:
        raise UsageError("name the function to invoke", hint="lamctl invoke FUNCTION[:QUALIFIER]")
    payload = read_event(event)
    clients = app.aws()
    if stack:
        from lamctl.release.stacks import StackGateway, function_name

        name = function_name(StackGateway(clients.client("cloudformation")), stack, name)
    lam = clients.client("lambda")
    kwargs = {"FunctionName": name, "Payload": payload}
    if qualifier:
        kwargs["Qualifier"] = qualifier
    if logs:
        kwargs["LogType"] = "Tail"
    try:
        resp = lam.invoke(**kwargs)
    except ClientError as exc:
        code = error_code(exc)
        message = error_message(exc) or str(exc)
        target = name + (f":{qualifier}" if qualifier else "")
        if code == "ResourceNotFoundException":
            raise UsageError(f"function {target} not found: {message}", where=target,
                             hint="check the name and qualifier (and --region / --local); "
                                  "with --stack give the template's logical ID") from None
        if code in ("RequestTooLargeException", "InvalidRequestContentException"):
            raise UsageError(f"the event was refused: {message}", where=event or "event") from None
        raise CloudError(f"invoking {target} failed ({code}): {message}", where=target) from None
    body = resp["Payload"].read()
    version = resp.get("ExecutedVersion")
    function_error = resp.get("FunctionError")
    log_text = base64.b64decode(resp["LogResult"]).decode("utf-8", "replace") if resp.get("LogResult") else None
    text = body.decode("utf-8", "replace")
    if app.out.json:
        try:
            parsed = json.loads(text) if text else None
        except ValueError:
            parsed = text
        app.out.result(function_error is None, None, function=name, qualifier=qualifier, payload=parsed,
                       executed_version=version, function_error=function_error, log=log_text)
    else:
        if log_text and logs:
            sys.stderr.write(log_text if log_text.endswith("\n") else log_text + "\n")
        if version:
            app.out.info(f"executed version: {version}")
        if function_error:
            app.out.info(f"function error: {function_error}")
        sys.stdout.write(text + ("" if text.endswith("\n") else "\n"))
        sys.stdout.flush()
    if function_error:
        raise typer.Exit(1)
