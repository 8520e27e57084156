"""Lambda's event filtering (``FilterCriteria``) for event source mappings on the local cloud.

A mapping's ``FilterCriteria: {Filters: [{Pattern: "<JSON>"}]}`` keeps the records that match at least one
pattern (up to five); the others never reach the function (an SQS message is deleted, a stream record is passed
over), as Lambda does. The patterns are EventBridge's pattern syntax (exact values, ``prefix``, ``suffix``,
``anything-but``, ``numeric``, ``exists``, ``equals-ignore-case``, ``wildcard``, ``$or``), matched by the same
matcher the local cloud's EventBridge rules use (moto's, through :func:`lamctl.local.cloud.moto_ext.event_pattern`).

What a pattern sees is the record Lambda would send, with the data field read as JSON when it is JSON: SQS
``body`` (a body that is not JSON is matched as a plain string), Kinesis ``data`` alone (base64-decoded first:
Kinesis mappings filter on the data key only), a DynamoDB stream record as it is (``dynamodb.NewImage`` ...).
"""

from __future__ import annotations

import base64
import json
from typing import Any

from lamctl.schemas.errors import UsageError

from . import moto_ext


class EventFilter:
    """The patterns of one mapping's ``FilterCriteria``; :meth:`keeps` a record (as Lambda sends it)."""

    def __init__(self, criteria: Any, where: str = "FilterCriteria"):
        self.patterns = []
        filters = (criteria or {}).get("Filters") if isinstance(criteria, dict) else None
        for index, item in enumerate(filters or []):
            text = item.get("Pattern") if isinstance(item, dict) else None
            if not isinstance(text, str):
                raise UsageError(f"{where}: Filters[{index}] has no Pattern text", where=where,
                                 hint='write {"Filters": [{"Pattern": "{\\"body\\": {\\"kind\\": [\\"order\\"]}}"}]}')
            try:
                self.patterns.append(moto_ext.event_pattern(text))
            except ValueError as exc:
                raise UsageError(f"{where}: Filters[{index}].Pattern is not an event pattern: {exc}", where=where,
                                 hint="each value of a pattern is a list or an object") from None

    def __bool__(self) -> bool:
        return bool(self.patterns)

    def keeps(self, record: dict, data_field: str | None = None) -> bool:
        if not self.patterns:
            return True
        view = dict(record)
        if data_field == "body":
            view["body"] = _json_or_text(record.get("body"))
        elif data_field == "kinesis.data":  # Kinesis mappings filter on the data key alone
            raw = (record.get("kinesis") or {}).get("data") or ""
            try:
                view = {"data": _json_or_text(base64.b64decode(raw).decode())}
            except (ValueError, UnicodeDecodeError):
                view = {"data": raw}
        return any(p.matches_event(view) for p in self.patterns)


def _json_or_text(text: Any) -> Any:
    if not isinstance(text, str):
        return text
    try:
        value = json.loads(text)
    except ValueError:
        return text
    return value if isinstance(value, (dict, list)) else text


MAX_FILTERS = 5  # Lambda's quota of filters per event source mapping


def mapping_problem(spec: dict) -> str | None:
    """What Lambda refuses in a CreateEventSourceMapping / UpdateEventSourceMapping request, or None."""
    criteria = spec.get("FilterCriteria")
    if criteria is not None:
        filters = criteria.get("Filters") if isinstance(criteria, dict) else None
        if not isinstance(filters, list):
            return "FilterCriteria needs Filters: a list of {Pattern: <JSON text>}"
        if len(filters) > MAX_FILTERS:
            return f"FilterCriteria has {len(filters)} filters; at most {MAX_FILTERS} are allowed"
        try:
            EventFilter(criteria)
        except UsageError as exc:
            return f"{exc.message} ({exc.hint})" if getattr(exc, "hint", None) else str(exc.message)
    concurrency = (spec.get("ScalingConfig") or {}).get("MaximumConcurrency") if isinstance(
        spec.get("ScalingConfig"), dict) else None
    if concurrency is not None and not _within(concurrency, 2, 1000):
        return f"ScalingConfig.MaximumConcurrency is {concurrency}; it must be 2-1000"
    retries = spec.get("MaximumRetryAttempts")
    if retries is not None and not _within(retries, -1, 10000):
        return f"MaximumRetryAttempts is {retries}; it must be -1 (retry until the record expires) to 10000"
    age = spec.get("MaximumRecordAgeInSeconds")
    if age is not None and not (_within(age, -1, -1) or _within(age, 60, 604800)):
        return f"MaximumRecordAgeInSeconds is {age}; it must be -1 (no limit) or 60-604800"
    return None


def _within(value: object, low: int, high: int) -> bool:
    try:
        number = int(str(value))
    except ValueError:
        return False
    return low <= number <= high
