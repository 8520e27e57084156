"""Kinesis and DynamoDB stream event source mappings on the local cloud, polled as Lambda polls them.

For each enabled mapping on a Kinesis stream or a DynamoDB stream (``CreateEventSourceMapping``, SAM's
``Kinesis`` and ``DynamoDB`` events, ``AWS::Lambda::EventSourceMapping``), each shard is read in order:

* ``StartingPosition``: ``TRIM_HORIZON`` from the shard's oldest record; ``LATEST`` from the records that arrive
  after the local cloud first sees the mapping (within one poll, :data:`POLL_INTERVAL`, of its creation);
  ``AT_TIMESTAMP`` (Kinesis) from ``StartingPositionTimestamp``;
* up to ``BatchSize`` records per invocation (100 by default), with the event Lambda sends (Kinesis:
  ``kinesis.data`` base64, ``partitionKey``, ``sequenceNumber``, ``approximateArrivalTimestamp``, ``eventID``
  ``shardId:sequence``; DynamoDB: ``eventName``, ``dynamodb.Keys/NewImage/OldImage/SequenceNumber``),
  ``MaximumBatchingWindowInSeconds`` waiting for a fuller batch;
* a failed batch is retried (the shard waits, as on Lambda) until ``MaximumRetryAttempts`` retries (-1, the
  default: until the record is too old) or until a record is older than ``MaximumRecordAgeInSeconds``;
  ``BisectBatchOnFunctionError`` splits a failed batch in two and tries each half (a split does not use a
  retry); a batch given up is passed over and its description (Lambda's stream failure record:
  ``requestContext`` with ``condition`` ``RetryAttemptsExhausted`` or ``RecordAgeExceeded`` and
  ``approximateInvokeCount``, ``responseContext``, ``KinesisBatchInfo`` / ``DDBStreamBatchInfo``) goes to the
  ``DestinationConfig.OnFailure`` SQS queue or SNS topic;
* ``FunctionResponseTypes: [ReportBatchItemFailures]``: ``batchItemFailures`` (``itemIdentifier``: a sequence
  number) checkpoints before the lowest one named, and the batch is retried from there; an answer naming a
  record not in the batch fails the whole batch;
* ``FilterCriteria`` (:mod:`lamctl.local.cloud.filters`) passes over records no pattern matches;
* ``Enabled: false`` mappings are not read (and keep their place in the shard).

moto itself invokes the function once per record as it arrives; :func:`moto_ext.patch_stream_mappings_polled`
turns that off on the local cloud.
"""

from __future__ import annotations

import base64
import datetime
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable

from lamctl.schemas.errors import LamctlError

from . import moto_ext
from .event_sources import failed_items
from .filters import EventFilter
from .loops import LastStartedLoop

POLL_INTERVAL = 0.1  # seconds between two looks at the streams (Lambda polls each shard about once a second)
_ROUND = threading.Lock()  # moto's state is the process's: one round over the mappings at a time (and of two
# local clouds in one process, the one started last reads the streams: loops.LastStartedLoop)
_OWNER: dict[str, "StreamPoller"] = {}  # mapping UUID -> the poller that saw it first: the only one to read it


@dataclass
class _Batch:
    records: list[tuple[int, float, dict]]  # (sequence number, arrival, Lambda's record)
    attempts: int = 0
    last: Any = None  # the last InvokeResult


@dataclass
class _Shard:
    position: int  # the last sequence number handled
    batches: list[_Batch] = field(default_factory=list)
    waiting_since: float | None = None
    problem: str | None = None  # what was last logged about the mapping (said once)


def _iso(epoch: float) -> str:
    moment = datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def kinesis_record(seq: int, arrival: float, raw: dict, shard: str, arn: str, region: str, role: str) -> dict:
    """The record Lambda sends for one Kinesis record."""
    return {"kinesis": {"kinesisSchemaVersion": "1.0", "partitionKey": raw["partitionKey"],
                        "sequenceNumber": str(seq), "data": base64.b64encode(raw["data"]).decode(),
                        "approximateArrivalTimestamp": round(arrival, 3)},
            "eventSource": "aws:kinesis", "eventVersion": "1.0", "eventID": f"{shard}:{seq}",
            "eventName": "aws:kinesis:record", "invokeIdentityArn": role, "awsRegion": region,
            "eventSourceARN": arn}


def dynamodb_record(raw: dict, arn: str, region: str) -> dict:
    """The record Lambda sends for one DynamoDB stream record."""
    out = dict(raw)
    out.update(eventVersion="1.1", awsRegion=region, eventSourceARN=arn)
    return out


def failure_record(kind: str, condition: str, batch: _Batch, shard: str, stream_arn: str, function_arn: str,
                   now: float) -> dict:
    """Lambda's description of stream records given up, for an OnFailure destination."""
    seqs = [s for s, _, _ in batch.records]
    arrivals = [a for _, a, _ in batch.records]
    record: dict[str, Any] = {
        "requestContext": {"requestId": batch.last.request_id if batch.last is not None else str(uuid.uuid4()),
                           "functionArn": function_arn, "condition": condition,
                           "approximateInvokeCount": batch.attempts},
        "version": "1.0", "timestamp": _iso(now),
        ("KinesisBatchInfo" if kind == "kinesis" else "DDBStreamBatchInfo"): {
            "shardId": shard, "startSequenceNumber": str(min(seqs)), "endSequenceNumber": str(max(seqs)),
            "approximateArrivalOfFirstRecord": _iso(min(arrivals)),
            "approximateArrivalOfLastRecord": _iso(max(arrivals)), "batchSize": len(seqs), "streamArn": stream_arn}}
    if batch.last is not None:
        record["responseContext"] = {"statusCode": 200, "executedVersion": batch.last.version,
                                     "functionError": batch.last.function_error}
    return record


def _number(value: Any, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except (TypeError, ValueError):
        return default


def _enabled(esm: Any) -> bool:
    return bool(esm.enabled) and str(esm.enabled).lower() != "false"


def _flag(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


class StreamPoller(LastStartedLoop):
    """Polls every enabled Kinesis and DynamoDB stream mapping in a background thread; ``invoke(arn, payload,
    headers=...)`` runs a function synchronously. ``clock`` (epoch seconds) times record ages and windows."""

    def __init__(self, invoke: Callable[..., Any], log: Callable[[str], Any] | None = None,
                 interval: float = POLL_INTERVAL, clock: Callable[[], float] = time.time):
        self.invoke = invoke
        self.log = log or (lambda text: None)
        self.interval = interval
        self.clock = clock
        self._shards: dict[tuple[str, str], _Shard] = {}
        self.lock = _ROUND

    thread_name = "lamctl-stream-poller"

    def start(self) -> "StreamPoller":
        moto_ext.patch_stream_mappings_polled()
        return super().start()

    def round(self) -> None:
        self.poll_once()

    def poll_once(self) -> int:
        """One round over the stream mappings; the number of invocations made."""
        moto_ext.patch_stream_mappings_polled()
        made = 0
        with self.lock:
            seen = set()
            for esm in list(moto_ext.event_source_mappings()):
                arn = str(esm.event_source_arn)
                kind = "kinesis" if arn.startswith("arn:aws:kinesis:") else (
                    "dynamodb" if arn.startswith("arn:aws:dynamodb:") else None)
                if kind is None:
                    continue
                seen.add(esm.uuid)
                if _OWNER.setdefault(esm.uuid, self) is not self:
                    continue  # another local cloud of this process reads it
                region, account = arn.split(":")[3], arn.split(":")[4]
                shards = (moto_ext.kinesis_shards if kind == "kinesis" else moto_ext.dynamodb_stream_shards)(
                    account, region, arn)
                for shard_id, records in (shards or {}).items():
                    state = self._shards.get((esm.uuid, shard_id))
                    if state is None:
                        state = self._shards[(esm.uuid, shard_id)] = _Shard(self._start(esm, records))
                    if not _enabled(esm):
                        continue
                    try:
                        made += self._shard(esm, kind, arn, account, region, shard_id, records, state)
                    except LamctlError as exc:  # a bad FilterCriteria: this mapping waits, the others go on
                        if state.problem != str(exc):
                            self.log(f"{arn} -> {esm.function_arn}: {exc}\n")
                        state.problem = str(exc)
            for key in [k for k in self._shards if k[0] not in seen]:
                del self._shards[key]
            for gone in [u for u in _OWNER if u not in seen]:
                del _OWNER[gone]
        return made

    def _start(self, esm: Any, records: list[tuple[int, float, dict]]) -> int:
        position = str(esm.starting_position or "TRIM_HORIZON").upper()
        if position == "LATEST":
            return records[-1][0] if records else -1
        if position == "AT_TIMESTAMP" and esm.starting_position_timestamp is not None:
            stamp = esm.starting_position_timestamp
            if isinstance(stamp, str):
                try:
                    stamp = float(stamp)
                except ValueError:
                    stamp = datetime.datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
            elif isinstance(stamp, datetime.datetime):
                stamp = stamp.timestamp()
            before = [seq for seq, arrival, _ in records if arrival < float(stamp)]
            return max(before) if before else -1
        return -1

    def _shard(self, esm: Any, kind: str, arn: str, account: str, region: str, shard: str,
               records: list[tuple[int, float, dict]], state: _Shard) -> int:
        if not state.batches:
            role = self._role(esm)
            fresh = [(seq, arrival, kinesis_record(seq, arrival, raw, shard, arn, region, role) if kind == "kinesis"
                      else dynamodb_record(raw, arn, region)) for seq, arrival, raw in records if seq > state.position]
            keep = EventFilter(esm.filter_criteria, where=f"event source mapping {esm.uuid}: FilterCriteria")
            if keep:  # records no pattern matches are passed over
                fresh = [r for r in fresh if keep.keeps(r[2], "kinesis.data" if kind == "kinesis" else None)]
            if not fresh:
                state.waiting_since = None
                return 0
            size = _number(esm.batch_size, 100)
            window = float(esm.max_batch_window or 0)
            if len(fresh) < size and window > 0:
                if state.waiting_since is None:
                    state.waiting_since = self.clock()
                if self.clock() - state.waiting_since < window:
                    return 0
            state.waiting_since = None
            state.batches.append(_Batch(fresh[:size]))
        batch = state.batches[0]
        now = self.clock()
        max_age = _number(esm.max_record_age, -1)
        if max_age >= 0:
            old = [r for r in batch.records if now - r[1] > max_age]
            if old:
                self._give_up(esm, kind, arn, shard, _Batch(old, batch.attempts, batch.last), "RecordAgeExceeded",
                              now)
                batch.records = [r for r in batch.records if r not in old]
                if not batch.records:
                    self._done(state)
                    return 0
        event = {"Records": [r for _, _, r in batch.records]}
        try:
            result = self.invoke(str(esm.function_arn), json.dumps(event).encode(),
                                 headers={"x-moto-account-id": account,
                                          "authorization": f"Credential={kind}/00000000/{region}/lambda/aws4_request"})
        except Exception as exc:  # noqa: BLE001 - throttled or gone: the batch waits (Lambda retries it until too old)
            if state.problem != str(exc):  # said once, not at every poll
                self.log(f"{arn} -> {esm.function_arn}: not invoked ({exc}); the batch waits\n")
            state.problem = str(exc)
            return 0
        state.problem = None
        batch.attempts += 1
        batch.last = result
        if getattr(result, "log", None):
            self.log(result.log)
        retry = batch.records
        if result.ok:
            if "ReportBatchItemFailures" not in (esm.function_response_types or []):
                self._done(state)
                return 1
            failed = failed_items(result.payload, {str(s) for s, _, _ in batch.records})
            if failed is not None and not failed:
                self._done(state)
                return 1
            if failed is not None:
                lowest = min(int(s) for s in failed)
                done = [r for r in batch.records if r[0] < lowest]
                if done:
                    state.position = max(state.position, done[-1][0])
                retry = [r for r in batch.records if r[0] >= lowest]
                batch.records = retry
        if not result.ok and _flag(esm.bisect_on_error) and len(retry) > 1:
            half = len(retry) // 2
            state.batches[0:1] = [_Batch(retry[:half]), _Batch(retry[half:])]
            self.log(f"{arn} -> {esm.function_arn}: the batch failed; split in two ({half} + {len(retry) - half})\n")
            return 1
        retries = _number(esm.max_retry_attempts, -1)
        if retries >= 0 and batch.attempts > retries:
            self._give_up(esm, kind, arn, shard, batch, "RetryAttemptsExhausted", now)
            self._done(state)
        return 1

    def _done(self, state: _Shard) -> None:
        batch = state.batches.pop(0)
        if batch.records:
            state.position = max(state.position, batch.records[-1][0])

    def _give_up(self, esm: Any, kind: str, arn: str, shard: str, batch: _Batch, condition: str, now: float) -> None:
        target = (((esm.destination_config or {}).get("OnFailure") or {}).get("Destination")) or None
        self.log(f"{arn} -> {esm.function_arn}: {len(batch.records)} record(s) given up ({condition})"
                 + (f"; described on {target}\n" if target else "\n"))
        if not target:
            return
        record = failure_record(kind, condition, batch, shard, arn, str(esm.function_arn), now)
        parts = str(target).split(":")
        try:
            if parts[2] == "sqs":
                moto_ext.sqs_send(parts[4], parts[3], parts[5], json.dumps(record), {})
            elif parts[2] == "sns":
                moto_ext.sns_publish(parts[4], parts[3], str(target), json.dumps(record), {})
            else:
                raise LamctlError(f"{target} is not an SQS queue or an SNS topic")
        except Exception as exc:  # noqa: BLE001 - a destination gone must not stop the shard
            self.log(f"{arn} -> {target}: the failure record was not delivered ({exc})\n")

    @staticmethod
    def _role(esm: Any) -> str:
        arn = str(esm.function_arn)
        parts = arn.split(":")
        entry = moto_ext.lambda_function_entry(parts[4], parts[3], parts[6]) if len(parts) > 6 else None
        return str(entry[0].role or "") if entry else ""
