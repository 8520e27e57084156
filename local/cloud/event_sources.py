"""Event source mappings on the local cloud: Lambda's pollers, for SQS queues.

An SQS mapping (``CreateEventSourceMapping``, SAM's ``SQS`` event, ``AWS::Lambda::EventSourceMapping``) is
polled as Lambda polls it:

* up to ``BatchSize`` messages per invocation (10 by default), the function invoked synchronously with the
  ``Records`` event Lambda sends (``messageId``, ``receiptHandle``, ``body``, ``attributes`` with the receive
  count and timestamps, ``messageAttributes``, ``md5OfBody``, ``eventSource``, ``eventSourceARN``,
  ``awsRegion``);
* ``MaximumBatchingWindowInSeconds``: a batch smaller than ``BatchSize`` waits that long for more messages;
* a batch whose invocation succeeds is deleted from the queue; one that fails stays, and its messages come
  back once the queue's visibility timeout has passed (received again, so the queue's redrive policy moves
  them to its dead-letter queue after ``maxReceiveCount`` receives);
* with ``FunctionResponseTypes: [ReportBatchItemFailures]``, the answer's ``batchItemFailures``
  (``itemIdentifier``: a message ID) stay and the rest is deleted; an answer naming an unknown ID, or a
  malformed one, fails the whole batch, as Lambda does;
* ``FilterCriteria`` (:mod:`lamctl.local.cloud.filters`): a message no pattern matches is deleted without
  invoking the function, as Lambda does;
* ``ScalingConfig.MaximumConcurrency``: up to that many batches of the mapping run at once (each round takes
  that many batches and waits for them); without it, one batch at a time (Lambda scales out further);
* a FIFO queue's messages reach the function in order within each message group: a group whose messages are
  in flight (a batch under way, or a failed one not visible again yet) gives no more until they are done;
* ``Enabled: false`` mappings are not polled.

moto itself invokes a mapping's function when a message is sent (one message per invocation, never
partially); :func:`lamctl.local.cloud.moto_ext.patch_sqs_mappings_polled` turns that off on the local cloud.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

from . import moto_ext
from .filters import EventFilter

POLL_INTERVAL = 0.1  # seconds between two looks at the queues (Lambda long-polls; locally a short wait)
# moto's state is the process's: two local clouds in one process (tests) must not both consume a mapping's queue
_ROUND = threading.Lock()


def _attributes(message: Any) -> dict[str, str]:
    out = {"ApproximateReceiveCount": str(message.approximate_receive_count),
           "SentTimestamp": str(message.sent_timestamp or 0), "SenderId": str(message.sender_id),
           "ApproximateFirstReceiveTimestamp": str(message.approximate_first_receive_timestamp or 0)}
    if getattr(message, "group_id", None):
        out["MessageGroupId"] = str(message.group_id)
    if getattr(message, "deduplication_id", None):
        out["MessageDeduplicationId"] = str(message.deduplication_id)
    return out


def _message_attributes(message: Any) -> dict[str, dict]:
    out = {}
    for name, value in (getattr(message, "message_attributes", None) or {}).items():
        if not isinstance(value, dict):
            continue
        kind = value.get("data_type") or value.get("DataType") or "String"
        entry: dict[str, Any] = {"stringListValues": [], "binaryListValues": [], "dataType": kind}
        text = value.get("string_value", value.get("StringValue"))
        binary = value.get("binary_value", value.get("BinaryValue"))
        if text is not None:
            entry["stringValue"] = text
        if binary is not None:
            entry["binaryValue"] = binary if isinstance(binary, str) else base64.b64encode(binary).decode()
        out[name] = entry
    return out


def sqs_event(messages: list[Any], queue_arn: str, region: str) -> dict:
    """The event Lambda invokes an SQS mapping's function with."""
    return {"Records": [{
        "messageId": m.id, "receiptHandle": m.receipt_handle, "body": m.body, "attributes": _attributes(m),
        "messageAttributes": _message_attributes(m), "md5OfBody": m.body_md5, "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn, "awsRegion": region} for m in messages]}


def maximum_concurrency(esm: Any) -> int:
    """How many batches of a mapping may run at once: its ``ScalingConfig.MaximumConcurrency``, else 1."""
    try:
        return max(1, int(((esm.scaling_config or {}).get("MaximumConcurrency")) or 1))
    except (TypeError, ValueError, AttributeError):
        return 1


def failed_items(payload: bytes, ids: set[str]) -> set[str] | None:
    """The message IDs a ReportBatchItemFailures answer names; None when the answer fails the whole batch."""
    try:
        answer = json.loads(payload or b"null")
    except ValueError:
        return set()  # not JSON: Lambda treats an answer it cannot read as a success
    if not isinstance(answer, dict) or answer.get("batchItemFailures") is None:
        return set()
    failures = answer["batchItemFailures"]
    if not isinstance(failures, list):
        return None
    out = set()
    for item in failures:
        ident = item.get("itemIdentifier") if isinstance(item, dict) else None
        if not ident or ident not in ids:
            return None
        out.add(str(ident))
    return out


class SqsPoller:
    """Polls every enabled SQS event source mapping in a background thread; ``invoke(arn, payload, headers=...)``
    runs a function (synchronously)."""

    def __init__(self, invoke: Callable[..., Any], log: Callable[[str], Any] | None = None,
                 interval: float = POLL_INTERVAL):
        self.invoke = invoke
        self.log = log or (lambda text: None)
        self.interval = interval
        self._closed = threading.Event()
        self._thread: threading.Thread | None = None
        self._waiting_since: dict[str, float] = {}  # mapping uuid -> when its batching window began
        self.lock = _ROUND  # held for a round over the mappings (one round at a time in the process)

    def start(self) -> "SqsPoller":
        moto_ext.patch_sqs_mappings_polled()
        self._thread = threading.Thread(target=self._run, name="lamctl-sqs-poller", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        self._closed.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._closed.wait(self.interval):
            try:
                self.poll_once()
            except Exception as exc:  # noqa: BLE001 - the poller must outlive one bad mapping
                self.log(f"SQS poller: {exc}\n")

    def poll_once(self) -> int:
        """One round over the mappings; the number of batches handled."""
        handled = 0
        with self.lock:
            for esm in list(moto_ext.event_source_mappings()):
                arn = str(esm.event_source_arn)
                if not arn.startswith("arn:aws:sqs:") or str(esm.enabled).lower() == "false" or not esm.enabled:
                    continue
                if self._batch(esm, arn):
                    handled += 1
        return handled

    def _batch(self, esm: Any, queue_arn: str) -> bool:
        _, _, _, region, account, name = queue_arn.split(":", 5)
        queue = moto_ext.sqs_queue(account, region, name)
        if queue is None:
            return False
        size = int(esm.batch_size or 10)
        window = float(esm.max_batch_window or 0)
        visible = len(queue.messages)
        if not visible:
            self._waiting_since.pop(esm.uuid, None)
            return False
        if visible < size and window > 0:
            began = self._waiting_since.setdefault(esm.uuid, time.monotonic())
            if time.monotonic() - began < window:
                return False
        self._waiting_since.pop(esm.uuid, None)
        batches = []
        for _ in range(maximum_concurrency(esm)):
            messages = moto_ext.sqs_receive(account, region, name, size)
            if not messages:
                break
            messages = self._filtered(esm, queue_arn, account, region, name, messages)
            if messages:
                batches.append(messages)
        if not batches:
            return False
        if len(batches) == 1:
            self._deliver(esm, queue_arn, account, region, name, batches[0])
        else:  # ScalingConfig.MaximumConcurrency: the batches run at once; the round ends with the last
            with ThreadPoolExecutor(max_workers=len(batches), thread_name_prefix="lamctl-sqs-batch") as pool:
                for done in [pool.submit(self._deliver, esm, queue_arn, account, region, name, b) for b in batches]:
                    done.result()
        return True

    def _filtered(self, esm: Any, queue_arn: str, account: str, region: str, name: str,
                  messages: list[Any]) -> list[Any]:
        """The messages a mapping's FilterCriteria keeps; the others are deleted, as Lambda deletes them."""
        try:
            keep = EventFilter(esm.filter_criteria, where=f"event source mapping {esm.uuid}: FilterCriteria")
        except Exception as exc:  # noqa: BLE001 - a bad pattern leaves the messages where they are
            self.log(f"{queue_arn} -> {esm.function_arn}: {exc}\n")
            return []
        if not keep:
            return messages
        records = sqs_event(messages, queue_arn, region)["Records"]
        kept = []
        for message, record in zip(messages, records):
            if keep.keeps(record, "body"):
                kept.append(message)
            else:
                moto_ext.sqs_delete(account, region, name, message.receipt_handle)
        return kept

    def _deliver(self, esm: Any, queue_arn: str, account: str, region: str, name: str, messages: list[Any]) -> None:
        event = sqs_event(messages, queue_arn, region)
        auth = f"Credential=sqs/00000000/{region}/lambda/aws4_request"
        try:
            result = self.invoke(str(esm.function_arn), json.dumps(event).encode(),
                                 headers={"x-moto-account-id": account, "authorization": auth})
        except Exception as exc:  # noqa: BLE001 - throttled, or gone: the batch stays on the queue
            self.log(f"{queue_arn} -> {esm.function_arn}: not invoked ({exc}); the batch stays on the queue\n")
            return
        if getattr(result, "log", None):
            self.log(result.log)
        if not result.ok:
            self.log(f"{queue_arn} -> {esm.function_arn}: the function failed; {len(messages)} message(s) stay "
                     "on the queue\n")
            return
        keep: set[str] | None = set()
        if "ReportBatchItemFailures" in (esm.function_response_types or []):
            keep = failed_items(result.payload, {m.id for m in messages})
            if keep is None:
                self.log(f"{queue_arn} -> {esm.function_arn}: batchItemFailures is malformed or names a message "
                         "not in the batch; the whole batch stays on the queue\n")
                return
        for m in messages:
            if m.id not in keep:
                moto_ext.sqs_delete(account, region, name, m.receipt_handle)
