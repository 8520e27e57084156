"""The run step of lamctl's GitHub Action (``action.yml`` at the repository root): ``python -m lamctl.cli.github_action``.

It runs ``lamctl --output json COMMAND`` (``--local`` too when the action's
``local`` input is true) and turns its NDJSON into what a workflow uses:

* step outputs in ``$GITHUB_OUTPUT`` (``result``, ``stack-outputs``,
  ``api-urls``, ``release-id``, ``version``, ``exit-code``), each written as
  ``name<<DELIMITER`` with a random delimiter, so values may hold newlines;
* the job summary in ``$GITHUB_STEP_SUMMARY``: the change set and the outputs
  of a ``deploy``, the timeline and final state of a ``shift``, the findings of
  a ``validate`` with links to their lines;
* the log: progress lines, then stack events and function logs in
  ``::group::`` blocks. Everything lamctl prints may carry text from outside
  (event reasons, function output), so it is printed between
  ``::stop-commands::TOKEN`` and ``::TOKEN::``: it cannot issue workflow
  commands;
* the exit code of lamctl, with its error as an ``::error::`` annotation
  (3: a release rolled back; the reason is in the annotation).

Inputs come from the environment the action sets: ``LAMCTL_COMMAND`` (the
command line after ``lamctl``, split as a shell would, never evaluated),
``LAMCTL_ACTION_LOCAL``.
"""

from __future__ import annotations

import json
import os
import secrets
import shlex
import subprocess
import sys
from typing import Any, Iterable

OUTPUT_NAMES = ("result", "stack-outputs", "api-urls", "release-id", "version", "exit-code")


def escape_data(text: str) -> str:
    """A workflow command's message, escaped as the runner reads it back."""
    return str(text).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command_line(command: str, local: bool) -> list[str]:
    args = shlex.split(command)
    if args and args[0] == "lamctl":
        args = args[1:]
    if not args:
        raise SystemExit("lamctl action: the command input is empty; give a lamctl command, e.g. 'deploy --yes'")
    return ["--output", "json"] + (["--local"] if local else []) + args


def verb(args: list[str]) -> str:
    """The command's name among the arguments (global options may come first)."""
    from lamctl.cli.app import COMMANDS

    names = {name.split()[0] for name, _ in COMMANDS}
    for a in args:
        if a in names:
            return a
    return ""


class Log:
    """Prints lamctl's lines with workflow commands switched off around them."""

    def __init__(self, stream=None):
        self.stream = stream or sys.stdout
        self.token = secrets.token_hex(16)

    def command(self, text: str) -> None:
        self.stream.write(text + "\n")

    def outside(self, lines: Iterable[str]) -> None:
        lines = list(lines)
        if not lines:
            return
        self.command(f"::stop-commands::{self.token}")
        for line in lines:
            self.stream.write(line + "\n")
        self.command(f"::{self.token}::")
        self.stream.flush()

    def group(self, title: str, lines: Iterable[str]) -> None:
        lines = list(lines)
        if not lines:
            return
        self.command(f"::group::{escape_data(title)}")
        self.outside(lines)
        self.command("::endgroup::")


def _describe(event: dict) -> str | None:
    kind = event.get("type")
    if kind in ("stack_event", "finding", "result", "change", "output", "api"):
        return None  # shown in a group, the summary or the outputs
    message = event.get("message")
    if message is None:
        return None
    return f"{kind}: {message}" if kind in ("warning", "error") else str(message)


def stack_event_line(e: dict) -> str:
    reason = f"  {e['reason']}" if e.get("reason") else ""
    return f"{e.get('timestamp', '')}  {e.get('logical_id', '')}  {e.get('resource_type', '')}  {e.get('status', '')}{reason}"


def _cell(value: Any) -> str:
    return str("" if value is None else value).replace("|", "\\|").replace("\n", " ")


def _table(columns: list[str], rows: list[list[Any]]) -> str:
    head = "| " + " | ".join(columns) + " |\n|" + "---|" * len(columns) + "\n"
    return head + "".join("| " + " | ".join(_cell(c) for c in row) + " |\n" for row in rows)


def outputs_of(events: list[dict], exit_code: int) -> dict[str, str]:
    result = next((e for e in reversed(events) if e.get("type") == "result"), None)
    error = next((e for e in reversed(events) if e.get("type") == "error"), None)
    final = result if result is not None else ({"ok": False, "error": error} if error else {"ok": exit_code == 0})
    stack_outputs = {e["key"]: e.get("value") for e in events if e.get("type") == "output" and "key" in e}
    if not stack_outputs and isinstance((result or {}).get("outputs"), dict):
        stack_outputs = dict(result["outputs"])
    api_urls = [e["url"] for e in events if e.get("type") == "api" and e.get("url")]
    release = (result or {}).get("release") or ""
    version = ""
    traffic = (result or {}).get("traffic") or []
    for shift in traffic if isinstance(traffic, list) else []:
        release = release or shift.get("release") or ""
        ended = shift.get("target") if shift.get("state") == "succeeded" else shift.get("current")
        version = str(ended) if ended is not None else version
    if result is not None and result.get("version") is not None:
        version = str(result["version"])
    if not version:  # a release that ended otherwise (rolled back): where its events say the alias ended
        start = next((e for e in reversed(events) if e.get("type") == "start"), None)
        done = next((e for e in reversed(events) if e.get("type") == "done"), None)
        if done is not None and done.get("version") is not None:
            version = str(done["version"])
        elif start is not None and done is not None:
            ended = start.get("target") if done.get("state") == "succeeded" else start.get("current")
            version = "" if ended is None else str(ended)
    if not release:
        release = next((e["release"] for e in events if e.get("release")), "")
    return {"result": json.dumps(final), "stack-outputs": json.dumps(stack_outputs), "api-urls": json.dumps(api_urls),
            "release-id": str(release), "version": version, "exit-code": str(exit_code)}


def write_outputs(path: str, values: dict[str, str]) -> None:
    with open(path, "a", encoding="utf-8") as fh:
        for name in OUTPUT_NAMES:
            value = values.get(name, "")
            delimiter = f"ghadelimiter_{secrets.token_hex(16)}"
            fh.write(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")


def _link(file: str | None, line: int | None) -> str:
    if not file:
        return ""
    workspace = os.environ.get("GITHUB_WORKSPACE") or os.getcwd()
    rel = os.path.relpath(os.path.abspath(file), workspace).replace(os.sep, "/")
    label = f"{rel}:{line}" if line else rel
    server, repo, sha = (os.environ.get(k) for k in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_SHA"))
    if server and repo and sha and not rel.startswith(".."):
        return f"[{label}]({server}/{repo}/blob/{sha}/{rel}{f'#L{line}' if line else ''})"
    return label


def summary(name: str, command: str, events: list[dict], exit_code: int) -> str:
    result = next((e for e in reversed(events) if e.get("type") == "result"), {})
    error = next((e for e in reversed(events) if e.get("type") == "error"), None)
    mark = {0: "succeeded", 3: "rolled back"}.get(exit_code, "failed")
    parts = [f"### lamctl {command}: {mark} (exit {exit_code})\n"]
    if error:
        where = f"`{error['where']}`: " if error.get("where") else ""
        parts.append(f"> **error:** {where}{error.get('message', '')}" +
                     (f"  \n> hint: {error['hint']}" if error.get("hint") else "") + "\n")
    if name == "deploy":
        changes = [[e.get("action"), e.get("logical_id"), e.get("resource_type"), e.get("replacement") or ""]
                   for e in events if e.get("type") == "change"]
        if result.get("stack"):
            parts.append(f"Stack `{result['stack']}`: **{result.get('status', '')}**\n")
        if changes:
            parts.append("#### Change set\n\n" + _table(["Action", "Logical ID", "Type", "Replacement"], changes))
        outs = [[e.get("key"), e.get("value"), e.get("description") or ""] for e in events if e.get("type") == "output"]
        if outs:
            parts.append("#### Outputs\n\n" + _table(["Key", "Value", "Description"], outs))
        routes = [[r.get("method"), r.get("path"), r.get("url")] for e in events if e.get("type") == "api"
                  for r in e.get("routes") or []]
        if routes:
            parts.append("#### API routes\n\n" + _table(["Method", "Path", "URL"], routes))
        for shift in result.get("traffic") or []:
            parts.append(f"Traffic: `{shift.get('function', '')}:{shift.get('alias', '')}` {shift.get('state')} "
                         f"(version {shift.get('current')} -> {shift.get('target')})\n")
    elif name == "shift":
        rows = [[f"{e['t']:g}s" if isinstance(e.get("t"), (int, float)) else "", e.get("type"), e.get("message")]
                for e in events if "t" in e and e.get("message")]
        if rows:
            parts.append("#### Timeline\n\n" + _table(["At", "Step", "What happened"], rows))
        if result:
            parts.append(f"Final state: **{result.get('state', '')}**: `{result.get('function', '')}:"
                         f"{result.get('alias', '')}` on version {result.get('version', '')}"
                         f" (release `{result.get('release', '')}`)\n")
    elif name == "validate":
        findings = [[e.get("severity"), _link(e.get("file"), e.get("line")), e.get("message"), e.get("hint") or ""]
                    for e in events if e.get("type") == "finding"]
        parts.append(("#### Findings\n\n" + _table(["Severity", "Where", "Message", "Hint"], findings)) if findings
                     else "No findings.\n")
    elif result:
        parts.append("```json\n" + json.dumps(result, indent=2) + "\n```\n")
    return "\n".join(parts)


def annotations(events: list[dict], exit_code: int) -> list[str]:
    lines = []
    for e in events:
        if e.get("type") == "finding":
            level = "error" if e.get("severity") == "error" else "warning"
            props = []
            if e.get("file"):
                workspace = os.environ.get("GITHUB_WORKSPACE") or os.getcwd()
                props.append("file=" + escape_property(os.path.relpath(os.path.abspath(e["file"]), workspace)))
            for key in ("line", "col"):
                if e.get(key):
                    props.append(f"{key}={int(e[key])}")
            lines.append(f"::{level} {','.join(props)}::{escape_data(e.get('message', ''))}")
    if exit_code != 0:
        error = next((e for e in reversed(events) if e.get("type") == "error"), None)
        if error:
            where = f"{error['where']}: " if error.get("where") else ""
            text = where + str(error.get("message", "")) + (f" (hint: {error['hint']})" if error.get("hint") else "")
        else:
            text = f"lamctl exited {exit_code}"
        lines.append(f"::error title=lamctl::{escape_data(text)}")
    return lines


def run(command: str, local: bool, log: Log | None = None) -> int:
    log = log or Log()
    args = command_line(command, local)
    env = dict(os.environ)
    env.pop("GITHUB_STEP_SUMMARY", None)  # the summary is written here, from the events
    proc = subprocess.Popen([sys.executable, "-m", "lamctl.cli", *args], stdout=subprocess.PIPE, env=env, text=True,
                            encoding="utf-8", errors="replace")
    events: list[dict] = []
    assert proc.stdout is not None
    for raw in proc.stdout:
        line = raw.rstrip("\n")
        try:
            event = json.loads(line)
            if not isinstance(event, dict):
                raise ValueError
        except ValueError:
            log.outside([line])
            continue
        events.append(event)
        text = _describe(event)
        if text is not None:
            log.outside([text])
    exit_code = proc.wait()
    log.group("Stack events", [stack_event_line(e) for e in events if e.get("type") == "stack_event"])
    logs = [e.get("log") for e in events if e.get("type") == "result" and e.get("log")]
    payloads = [json.dumps(e["payload"]) for e in events if e.get("type") == "result" and "payload" in e]
    log.group("Function logs", [ln for text in logs for ln in str(text).splitlines()])
    log.group("Function response", payloads)
    for line in annotations(events, exit_code):
        log.command(line)
    values = outputs_of(events, exit_code)
    if os.environ.get("GITHUB_OUTPUT"):
        write_outputs(os.environ["GITHUB_OUTPUT"], values)
    if os.environ.get("GITHUB_STEP_SUMMARY"):
        with open(os.environ["GITHUB_STEP_SUMMARY"], "a", encoding="utf-8") as fh:
            fh.write(summary(verb(args), command.strip(), events, exit_code) + "\n")
    sys.stdout.flush()
    return exit_code


def main() -> int:
    command = os.environ.get("LAMCTL_COMMAND", "")
    local = os.environ.get("LAMCTL_ACTION_LOCAL", "false").strip().lower() == "true"
    return run(command, local)


if __name__ == "__main__":
    sys.exit(main())
