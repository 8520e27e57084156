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
              type_: str | None = None, records: Iterable[dict] | None = None, *, drop: Sequence[str] = (),
              keep: Sequence[str] | None = None) -> None:
        """Results as a table (TTY), aligned plain columns (CI, pipes), or one event per row (json).

        On a terminal (or with ``COLUMNS`` set) the table fits the width: the columns named in ``drop`` are
        left out first, in that order, then the other columns wrap; the columns in ``keep`` (by default
        those named like :data:`COPY_COLUMNS`: values a user copies, such as an ARN or a URL) are never cut
        or wrapped. json mode always has every column."""
        columns = list(columns)
        rows = [[("" if c is None else str(c)) for c in row] for row in rows]
        if self.json:
            if type_:
                for rec in (records if records is not None else
                            ({columns[i]: row[i] for i in range(len(columns))} for row in rows)):
                    self.emit(type_, **rec)
            return
        keep = [c for c in columns if c.lower() in COPY_COLUMNS] if keep is None else list(keep)
        width = self.width()
        if width is not None:
            columns, rows, dropped = fit_columns(columns, rows, width, drop, keep)
            if dropped:
                self._err(f"(left out to fit {width} columns: {', '.join(dropped)}; "
                          "a wider terminal or --output json shows them)")
        natural = _natural(columns, rows)
        if self.interactive and (width is None or sum(natural) + 3 * len(columns) <= width):
            from rich.table import Table  # it fits whole: nothing is folded

            table = Table(title=title, title_justify="left", show_edge=False, header_style="bold")
            for col in columns:
                table.add_column(col, overflow="fold")
            for row in rows:
                table.add_row(*[_esc(c, True) for c in row])
            self._console(False).print(table)
            return
        # too wide for rich's frame (it would fold or hide a value to copy): aligned lines that wrap the rest
        out = []
        if title:
            out.append(title)
        out += plain_table(columns, rows, width, keep)
        self.stdout.write("\n".join(out) + "\n")
        self.stdout.flush()

    def width(self) -> int | None:
        """The width tables fit: ``COLUMNS`` when set, else the terminal's; None when stdout is no terminal
        (a pipe, a file, CI logs: nothing to fit, every column is kept whole)."""
        raw = os.environ.get("COLUMNS", "")
        if raw.isdigit() and int(raw) > 0:
            return int(raw)
        if self.interactive:
            import shutil

            return shutil.get_terminal_size().columns
        return None

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


# Columns whose values a user copies (an ARN, a URL, a path): never cut or wrapped to fit a terminal.
COPY_COLUMNS = frozenset({"value", "url", "arn", "location", "endpoint", "uri", "path", "zip", "log"})
SEPARATOR = 2  # spaces between plain columns
MIN_WRAP = 8  # a wrapped column keeps at least this many characters (or its header's)


def _natural(columns: Sequence[str], rows: Sequence[Sequence[str]]) -> list[int]:
    return [max([len(c)] + [len(line) for r in rows for line in r[i].splitlines() or [""]])
            for i, c in enumerate(columns)]


def fit_columns(columns: Sequence[str], rows: Sequence[Sequence[str]], width: int, drop: Sequence[str],
                keep: Sequence[str]) -> tuple[list[str], list[list[str]], list[str]]:
    """Leave out the columns of ``drop`` (in order) until the table's natural width fits ``width``, then
    take back those that fit again (a later, wider one may have made room); never one of ``keep``.
    Returns the columns and rows left, and the names left out."""
    natural = dict(zip(columns, _natural(columns, rows)))

    def fits(names: list[str]) -> bool:
        return sum(natural[n] for n in names) + SEPARATOR * (len(names) - 1) <= width

    shown = list(columns)
    dropped: list[str] = []
    for name in drop:
        if fits(shown):
            break
        if name in shown and name not in keep and len(shown) > 1:
            shown.remove(name)
            dropped.append(name)
    for name in reversed(list(dropped)):  # the most useful first
        trial = [c for c in columns if c in shown or c == name]
        if fits(trial):
            shown = trial
            dropped.remove(name)
    index = [columns.index(c) for c in shown]
    return shown, [[r[i] for i in index] for r in rows], dropped


def plain_table(columns: Sequence[str], rows: Sequence[Sequence[str]], width: int | None,
                keep: Sequence[str] = ()) -> list[str]:
    """Aligned plain lines; with ``width``, the columns not in ``keep`` wrap (widest first) to fit it."""
    import textwrap

    widths = _natural(columns, rows)
    if width is not None:
        total = sum(widths) + SEPARATOR * (len(columns) - 1)
        floor = [max(MIN_WRAP, len(c)) for c in columns]
        while total > width:
            wrappable = [i for i, c in enumerate(columns) if c not in keep and widths[i] > floor[i]]
            if not wrappable:
                break  # what is left must stay whole: the terminal wraps the line
            i = max(wrappable, key=lambda k: widths[k])
            cut = min(total - width, widths[i] - floor[i])
            widths[i] -= cut
            total -= cut

    def cell_lines(i: int, value: str) -> list[str]:
        if columns[i] in keep or len(value) <= widths[i]:
            return value.splitlines() or [""]
        return textwrap.wrap(value, widths[i], break_long_words=True, break_on_hyphens=False) or [""]

    out = ["  ".join(c.ljust(widths[i]) for i, c in enumerate(columns)).rstrip()]
    for row in rows:
        cells = [cell_lines(i, v) for i, v in enumerate(row)]
        for n in range(max(len(c) for c in cells)):
            out.append("  ".join((c[n] if n < len(c) else "").ljust(widths[i]) for i, c in enumerate(cells)).rstrip())
    return out


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
