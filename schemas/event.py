"""The event of an invocation (``lamctl invoke``, ``lamctl local invoke``): a JSON file, or standard input."""

from __future__ import annotations

import json
import os
import sys
from typing import Optional

from lamctl.schemas.errors import UsageError, location

SYNC_PAYLOAD_LIMIT = 6 * 1024 * 1024  # Lambda refuses a larger synchronous payload (RequestTooLargeException)


def read_event(event: Optional[str]) -> bytes:
    """The event's bytes: {} when none is given; exit 2 naming the file for one over 6 MB, one that is not
    UTF-8 text or not JSON."""
    if event is None:
        return b"{}"
    if event == "-":
        stream = getattr(sys.stdin, "buffer", None)
        raw, where = (stream.read() if stream is not None else sys.stdin.read().encode("utf-8")), "<stdin>"
        size = len(raw)
    else:
        try:
            with open(event, "rb") as fh:
                raw = fh.read(SYNC_PAYLOAD_LIMIT + 1)
                size = os.fstat(fh.fileno()).st_size
        except OSError as exc:
            raise UsageError(f"cannot read the event file: {exc.strerror}", where=event,
                             hint="give a JSON file with -e FILE, or -e - to read standard input") from None
        where = event
    if size > SYNC_PAYLOAD_LIMIT:
        raise UsageError(f"the event is {size:,} bytes; Lambda refuses a synchronous payload over "
                         f"{SYNC_PAYLOAD_LIMIT:,} bytes (6 MB)", where=where,
                         hint="send a smaller event, e.g. a reference to the data in S3")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise UsageError(f"the event is not UTF-8 text (byte {exc.start} cannot be decoded): an event is a JSON "
                         "document", where=location(where, line),
                         hint="give a JSON file saved as UTF-8, for example {\"name\": \"world\"}") from None
    if not text.strip():
        return b"{}"
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"the event is not valid JSON: {exc.msg}", where=location(where, exc.lineno, exc.colno),
                         hint="an event is a JSON document, for example {\"name\": \"world\"}") from None
    return text.encode()
