"""The event of an invocation (``lamctl invoke``, ``lamctl local invoke``): a JSON file, or standard input."""

from __future__ import annotations

import json
import sys
from typing import Optional

from lamctl.schemas.errors import UsageError, location


def read_event(event: Optional[str]) -> bytes:
    if event is None:
        return b"{}"
    if event == "-":
        text, where = sys.stdin.read(), "<stdin>"
    else:
        try:
            with open(event, encoding="utf-8") as fh:
                text = fh.read()
        except OSError as exc:
            raise UsageError(f"cannot read the event file: {exc.strerror}", where=event,
                             hint="give a JSON file with -e FILE, or -e - to read standard input") from None
        where = event
    if not text.strip():
        return b"{}"
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"the event is not valid JSON: {exc.msg}", where=location(where, exc.lineno, exc.colno),
                         hint="an event is a JSON document, for example {\"name\": \"world\"}") from None
    return text.encode()
