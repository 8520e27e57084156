"""Rendering: data in, text out. Services return dataclasses; this module alone decides how they look.

Three modes:

* ``table``: a terminal (stdout is a TTY and ``CI`` is not set): rich tables, colour, progress.
* ``plain``: not a TTY, or ``CI`` set: aligned columns and plain lines, no colour, no animation.
* ``json``: ``--output json``: NDJSON on stdout, one object per line, each with a ``type``;
  the last line is ``{"type": "result", ...}``.

Human text (progress, warnings, errors) goes to stderr; results go to stdout.
A Markdown job summary is appended to ``$GITHUB_STEP_SUMMARY`` when it is set.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from typing import Any, Iterable, Sequence


def _jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {k: _jsonable(v) for k, v in dataclasses.asdict(value).items()}
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def human_bytes(n: int | float | None) -> str:
    if n is None:
        return "-"
    n = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if abs(n) < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} GB"


class Output:
    def __init__(self, mode: str = "text", color: bool | None = None, stdout=None, stderr=None):
        self.stdout = stdout or sys.stdout
        self.stderr = stderr or sys.stderr
        self.json = mode == "json"
        ci = bool(os.environ.get("CI"))
        tty = _isatty(self.stdout)
        self.interactive = (not self.json) and tty and not ci
        self.plain = not self.json and not self.interactive
        if color is None:
            color = not os.environ.get("NO_COLOR")
        self.color = color and _isatty(self.stderr) and not ci
        self._err_console = None
        self._out_console = None
        self.summary_lines: list[str] = []

    # -- consoles (rich is imported only when a table or colour is needed)
    def _console(self, err: bool):
        from rich.console import Console

        if err:
            if self._err_console is None:
                self._err_console = Console(file=self.stderr, no_color=not self.color, highlight=False,
                                            soft_wrap=True, force_terminal=self.color or None)
            return self._err_console
        if self._out_console is None:
            self._out_console = Console(file=self.stdout, no_color=not self.color, highlight=False, soft_wrap=True)
        return self._out_console

    # -- primitives
    def emit(self, type_: str, **data: Any) -> None:
        """One NDJSON object (json mode only)."""
        if self.json:
            obj = {"type": type_}
            obj.update(_jsonable(data))
            self.stdout.write(json.dumps(obj, sort_keys=False) + "\n")
            self.stdout.flush()

    def info(self, message: str, type_: str = "log", **data: Any) -> None:
        """Progress for humans (stderr), or a ``log`` event in json mode."""
        if self.json:
            self.emit(type_, message=message, **data)
        else:
            self._err(message)

    def event(self, type_: str, human: str | None, **data: Any) -> None:
        """A typed event: NDJSON in json mode, ``human`` on stderr otherwise."""
        if self.json:
            self.emit(type_, **data)
        elif human is not None:
            self._err(human)

    def warn(self, message: str, **data: Any) -> None:
        if self.json:
            self.emit("warning", message=message, **data)
        else:
            self._err(("[yellow]warning:[/yellow] " if self.color else "warning: ") + _esc(message, self.color))

    def error(self, err: Any) -> None:
        """An error: ``where: message`` plus ``hint`` on stderr; an ``error`` event in json mode."""
        if self.json:
            data = err.to_dict() if hasattr(err, "to_dict") else {"message": str(err)}
            self.emit("error", **data)
            return
        where = getattr(err, "where", None)
        message = getattr(err, "message", str(err))
        head = f"{where}: " if where else ""
        if self.color:
            self._err(f"[red]error:[/red] {_esc(head + message, True)}")
        else:
            self._err(f"error: {head}{message}")
        hint = getattr(err, "hint", None)
        if hint:
            self._err(f"  hint: {_esc(hint, self.color)}")

    def result(self, ok: bool = True, human: str | None = None, **data: Any) -> None:
        """The last word of a command: a ``result`` object in json mode, ``human`` on stdout otherwise."""
        if self.json:
            self.emit("result", ok=ok, **data)
        elif human:
            self.stdout.write(human.rstrip("\n") + "\n")
            self.stdout.flush()

    def table(self, columns: Sequence[str], rows: Iterable[Sequence[Any]], title: str | None = None,
              type_: str | None = None, records: Iterable[dict] | None = None) -> None:
        """Results as a table (TTY), aligned plain columns (CI, pipes), or one event per row (json)."""
        rows = [[("" if c is None else str(c)) for c in row] for row in rows]
        if self.json:
            if type_:
                for rec in (records if records is not None else
                            ({columns[i]: row[i] for i in range(len(columns))} for row in rows)):
                    self.emit(type_, **rec)
            return
        if self.interactive:
            from rich.table import Table

            table = Table(title=title, title_justify="left", show_edge=False, header_style="bold")
            for col in columns:
                table.add_column(col, overflow="fold")
            for row in rows:
                table.add_row(*[_esc(c, True) for c in row])
            self._console(False).print(table)
            return
        widths = [max([len(c)] + [len(r[i]) for r in rows]) for i, c in enumerate(columns)]
        out = []
        if title:
            out.append(title)
        out.append("  ".join(c.ljust(widths[i]) for i, c in enumerate(columns)).rstrip())
        for row in rows:
            out.append("  ".join(v.ljust(widths[i]) for i, v in enumerate(row)).rstrip())
        self.stdout.write("\n".join(out) + "\n")
        self.stdout.flush()

    def summary(self, markdown: str) -> None:
        """Append Markdown to the GitHub Actions job summary, when there is one."""
        path = os.environ.get("GITHUB_STEP_SUMMARY")
        if not path:
            return
        try:
            with open(path, "a", encoding="utf-8") as fh:
                fh.write(markdown.rstrip("\n") + "\n\n")
        except OSError as exc:
            self.warn(f"cannot write the job summary to {path}: {exc.strerror}")

    def _err(self, text: str) -> None:
        if self.color:
            self._console(True).print(text)
        else:
            self.stderr.write(text + "\n")
            self.stderr.flush()


def markdown_table(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    def cell(v: Any) -> str:
        return str("" if v is None else v).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def _esc(text: str, markup: bool) -> str:
    if not markup:
        return text
    from rich.markup import escape

    return escape(text)


def _isatty(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
