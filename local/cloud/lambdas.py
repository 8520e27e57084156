"""Lambda on the local cloud: the functions deployed to the emulator, run through lamctl's local runtime.

The emulator (moto's backends, in this process) keeps what was deployed:
functions, their published versions and aliases. :class:`CloudLambda`
resolves an invocation the way Lambda does and hands it to a
:class:`~lamctl.local.runtime.pool.Pool` of execution environments:

* ``name``, ``name:qualifier``, a full or partial ARN, and ``Qualifier``;
  ``$LATEST`` when there is no qualifier, a version number, or an alias;
* an alias with ``RoutingConfig.AdditionalVersionWeights`` sends each
  invocation to the additional version with that probability and to its
  primary version otherwise; the executed version is what the caller sees in
  ``X-Amz-Executed-Version`` (and what the function sees in
  ``AWS_LAMBDA_FUNCTION_VERSION`` and in its ``START`` line);
* each version runs its own code: the zip the emulator holds for it is
  unpacked once per SHA-256 (layers likewise), so ``$LATEST`` updated with new
  code gets fresh environments while published versions keep theirs;
* the region comes from the request's signature and the account from its
  access key, as the emulator decides them;
* the function's SDK calls go to the local cloud too: ``AWS_ENDPOINT_URL`` is
  set to the emulator's endpoint unless the function's Environment sets it.
* every invocation's log (the environment's init output, START, the function's
  output, END, REPORT), one event per line, goes into the emulator's CloudWatch
  Logs under ``/aws/lambda/<name>``, one stream per execution environment named
  as Lambda names them (``YYYY/MM/DD/[version]<id>``), so ``lamctl logs`` and
  ``aws logs tail --endpoint-url ...`` read it there.

Nothing here knows about HTTP: :class:`~lamctl.local.runtime.invoke_api.InvokeHandler`
answers the Invoke API with it.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import random
import re
import sys
import threading
import time
import zipfile
from io import BytesIO
from typing import Any

from lamctl.schemas.errors import LamctlError, UsageError

from . import moto_ext
from ..runtime.environment import FunctionSpec, InvokeResult
from ..runtime.functions import FunctionNotFound, unzip_artifact
from ..runtime.invoke_api import MAX_EVENT_AGE, AsyncConfig
from ..runtime.pool import Pool
from ..runtime.service import Target

DEFAULT_REGION = "us-east-1"
_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/[^/]+/([^/]+)/")


def request_context(headers: dict) -> tuple[str | None, str]:
    """(access key, region) of a signed request (lower-case header names)."""
    match = _CREDENTIAL.search(headers.get("authorization") or "")
    if match:
        return match.group(1), match.group(2)
    return None, DEFAULT_REGION


def pick_version(primary: str, weights: dict[str, float] | None, rng: random.Random) -> str:
    """The version one invocation of an alias runs: an additional version with its weight, else the primary."""
    if weights:
        draw = rng.random()
        total = 0.0
        for version, weight in weights.items():
            total += float(weight)
            if draw < total:
                return str(version)
    return str(primary)


def log_events(result: InvokeResult, ended: float) -> list[dict]:
    """An invocation's log as CloudWatch Logs events, one per line, in time order: init output at the
    environment's start, START and the function's output at the invocation's start, END and REPORT at
    ``ended`` (seconds since the epoch)."""
    end_ms = int(ended * 1000)
    start_ms = end_ms - int(result.duration_ms)
    init_ms = start_ms - int(result.init_duration_ms or 0)
    events = []
    started = False
    for line in result.log.splitlines():
        if line.startswith("START RequestId: "):
            started = True
        if line.startswith(("END RequestId: ", "REPORT RequestId: ")):
            stamp = end_ms
        else:
            stamp = start_ms if started else init_ms
        events.append({"timestamp": stamp, "message": line})
    return events


class CloudLambda:
    """The local cloud's Lambda service: resolves deployed functions, runs them in a pool of environments."""

    def __init__(self, work_dir: str, endpoint: str | None = None, pool: Pool | None = None,
                 rng: random.Random | None = None):
        self.work_dir = os.path.abspath(work_dir)
        self.endpoint = endpoint
        self.pool = pool or Pool()
        self.rng = rng or random.Random()
        self._rng_lock = threading.Lock()
        self._code_dirs: dict[str, str] = {}  # code sha256 (hex) -> unpacked folder
        self._lock = threading.Lock()
        self.pool.on_result = self._write_log

    # -- the emulator's state ---------------------------------------------------------------

    @staticmethod
    def _account(headers: dict, access_key: str | None) -> str:
        if os.environ.get("MOTO_ACCOUNT_ID"):
            return os.environ["MOTO_ACCOUNT_ID"]
        if headers.get("x-moto-account-id"):
            return headers["x-moto-account-id"]
        return moto_ext.account_of(access_key)

    def target(self, name: str, qualifier: str | None = None, headers: dict | None = None) -> Target:
        """Resolve one invocation: the function version to run (chosen by the alias's weights) and the
        ARN it was invoked by. Raises FunctionNotFound as Lambda's ResourceNotFoundException does."""
        headers = headers or {}
        access_key, region = request_context(headers)
        account = self._account(headers, access_key)
        fn, version, invoked_arn = self._find(name, qualifier, account, region)
        spec = self._spec(fn, version, account, region)
        self.pool.replace(spec)
        return Target(spec.name, invoked_arn)

    def _find(self, name: str, qualifier: str | None, account: str, region: str):
        if name.startswith("arn:"):
            parts = name.split(":")
            if len(parts) < 7 or parts[5] != "function":
                raise FunctionNotFound(name, arn=name, detail="not a function ARN")
            region, account, fname = parts[3], parts[4], parts[6]
            if len(parts) > 7 and parts[7]:
                qualifier = parts[7]
        else:
            parts = name.split(":")
            if len(parts) >= 3 and parts[1] == "function":  # partial ARN: 123456789012:function:name[:qualifier]
                account, fname = parts[0], parts[2]
                if len(parts) > 3 and parts[3]:
                    qualifier = parts[3]
            else:
                fname = parts[0]
                if len(parts) > 1 and parts[1]:
                    qualifier = parts[1]
        unqualified = f"arn:aws:lambda:{region}:{account}:function:{fname}"
        invoked = unqualified + (f":{qualifier}" if qualifier else "")
        entry = moto_ext.lambda_function_entry(account, region, fname)
        if entry is None:
            raise FunctionNotFound(fname, arn=invoked)
        latest, versions = entry
        if qualifier in (None, "$LATEST"):
            return latest, "$LATEST", invoked
        if qualifier in versions:
            return versions[qualifier], qualifier, invoked
        alias = moto_ext.lambda_alias(account, region, fname, qualifier)
        if alias is None:
            raise FunctionNotFound(fname, arn=invoked)
        routing = alias.routing_config or {}
        weights = routing.get("AdditionalVersionWeights") if isinstance(routing, dict) else None
        with self._rng_lock:
            chosen = pick_version(str(alias.function_version), weights, self.rng)
        if chosen == "$LATEST":
            return latest, "$LATEST", invoked
        if chosen not in versions:
            raise FunctionNotFound(fname, arn=invoked, detail=f"the alias points at version {chosen}, "
                                                              "which does not exist")
        return versions[chosen], chosen, invoked

    # -- code and configuration -----------------------------------------------------------

    def _unpack(self, data: bytes, digest_b64: str | None, what: str) -> str:
        digest = None
        if digest_b64:
            try:
                digest = base64.b64decode(digest_b64, validate=True).hex()
            except (binascii.Error, ValueError):
                digest = None
        with self._lock:
            if digest and digest in self._code_dirs:
                return self._code_dirs[digest]
        if not data:
            raise LamctlError(f"the local cloud holds no code for {what}",
                              hint="deploy it again (its S3 object may have been deleted before it was created)")
        if not zipfile.is_zipfile(BytesIO(data)):
            raise UsageError(f"the code of {what} is not a zip file", where=what,
                             hint="deploy a zip (lamctl build makes one)")
        folder = unzip_artifact(data, self.work_dir, digest)
        with self._lock:
            if digest:
                self._code_dirs[digest] = folder
        return folder

    def _layers(self, fn: Any, account: str, region: str) -> tuple[str, ...]:
        dirs = []
        for layer in getattr(fn, "layers", None) or []:
            arn = layer.get("Arn") if isinstance(layer, dict) else str(layer)
            parts = arn.split(":")
            layer_region, layer_account = (parts[3], parts[4]) if len(parts) > 4 else (region, account)
            version = moto_ext.lambda_layer_version(layer_account, layer_region, arn)
            if version is None:
                raise LamctlError(f"layer {arn} of function {fn.function_name} is not in the local cloud",
                                  hint="publish the layer to the local cloud (deploy its stack) first")
            dirs.append(self._unpack(version.code_bytes, getattr(version, "code_sha_256", None), f"layer {arn}"))
        return tuple(dirs)

    def _spec(self, fn: Any, version: str, account: str, region: str) -> FunctionSpec:
        what = f"function {fn.function_name}" + (f" version {version}" if version != "$LATEST" else "")
        if getattr(fn, "package_type", "Zip") == "Image":
            raise UsageError(f"{what} is a container image, which is not supported locally", where=what,
                             hint="lamctl's local runtime runs zip functions (python3.x, nodejsNN.x, provided.al2023)")
        code_dir = self._unpack(getattr(fn, "code_bytes", b""), getattr(fn, "code_sha_256", None), what)
        env = {str(k): str(v) for k, v in (fn.environment_vars or {}).items()}
        if self.endpoint and "AWS_ENDPOINT_URL" not in env:
            env["AWS_ENDPOINT_URL"] = self.endpoint
        latest = self._latest(fn, account, region)
        reserved = getattr(latest, "reserved_concurrency", None)
        arch = (getattr(fn, "architectures", None) or ["x86_64"])[0]
        return FunctionSpec(
            name=f"arn:aws:lambda:{region}:{account}:function:{fn.function_name}:{version}",
            runtime=str(fn.run_time or ""), handler=fn.handler, code_dir=code_dir,
            layer_dirs=self._layers(fn, account, region), memory_size=int(fn.memory_size or 128),
            timeout=float(fn.timeout or 3), environment=tuple(sorted(env.items())),
            function_name=fn.function_name, version=version, region=region, account_id=account,
            architecture=str(arch), reserved_concurrency=int(reserved) if reserved is not None else None,
            code_sha256=str(getattr(fn, "code_sha_256", "")), own_code=True,
        )

    def _latest(self, fn: Any, account: str, region: str) -> Any:
        entry = moto_ext.lambda_function_entry(account, region, fn.function_name)
        return entry[0] if entry is not None else fn

    # -- logs ----------------------------------------------------------------------------

    def _write_log(self, env: Any, result: InvokeResult) -> None:
        """Put one invocation's log into the emulator's CloudWatch Logs (a failure to do so never fails the
        invocation: it is reported on stderr, the emulator's own log)."""
        spec = env.spec
        stream = env.log_stream or time.strftime("%Y/%m/%d", time.gmtime()) + f"/[{result.version}]{env.id}"
        try:
            moto_ext.put_log_events(spec.account_id, spec.region, f"/aws/lambda/{spec.physical_name}", stream,
                                    log_events(result, time.time()))
        except Exception as exc:  # noqa: BLE001 - the emulator keeps serving
            print(f"lamctl: could not write the log of {spec.physical_name} to CloudWatch Logs: {exc}",
                  file=sys.stderr, flush=True)

    # -- asynchronous invocation -----------------------------------------------------------

    def async_config(self, name: str, qualifier: str | None = None, headers: dict | None = None) -> AsyncConfig:
        """What the function's PutFunctionEventInvokeConfig and DeadLetterConfig ask of its asynchronous
        invocations (Lambda's defaults where they say nothing)."""
        headers = headers or {}
        access_key, region = request_context(headers)
        account = self._account(headers, access_key)
        fn, _, _ = self._find(name, qualifier, account, region)
        latest = self._latest(fn, account, region)
        config = moto_ext.lambda_event_invoke_config(latest)
        destinations = config.get("DestinationConfig") or {}
        return AsyncConfig(
            max_retries=int(config.get("MaximumRetryAttempts", 2)),
            max_age=float(config.get("MaximumEventAgeInSeconds", MAX_EVENT_AGE)),
            on_success=(destinations.get("OnSuccess") or {}).get("Destination") or None,
            on_failure=(destinations.get("OnFailure") or {}).get("Destination") or None,
            dead_letter=moto_ext.lambda_dead_letter_target(fn) or moto_ext.lambda_dead_letter_target(latest),
        )

    def deliver(self, arn: str, body: bytes, request_id: str, *, headers: dict | None = None, kind: str,
                success: bool, error: str | None = None) -> None:
        """Send an invocation record (``kind="destination"``) or a failed event (``kind="dead-letter"``, with
        Lambda's RequestID, ErrorCode and ErrorMessage attributes) to an SQS queue, an SNS topic or an
        EventBridge bus, as Lambda does."""
        parts = arn.split(":")
        if len(parts) < 6:
            raise UsageError(f"{arn} is not an ARN", where=arn)
        service, region, account, resource = parts[2], parts[3], parts[4], ":".join(parts[5:])
        text = body.decode()
        attributes = {}
        if kind == "dead-letter":
            attributes = {"RequestID": ("String", request_id), "ErrorCode": ("Number", "200"),
                          "ErrorMessage": ("String", error or "Unhandled")}
        if service == "sqs":
            moto_ext.sqs_send(account, region, resource, text, attributes)
        elif service == "sns":
            moto_ext.sns_publish(account, region, arn, text, attributes)
        elif service == "events" and kind == "destination":
            record = json.loads(text)
            function_arn = ":".join(record["requestContext"]["functionArn"].split(":")[:7])
            outcome = "Success" if success else "Failure"
            answer = moto_ext.events_put(account, region, [{
                "Source": "lambda", "DetailType": f"Lambda Function Invocation Result - {outcome}",
                "Detail": text, "Resources": [function_arn], "EventBusName": arn}])
            if answer and answer[0].get("ErrorCode"):
                raise LamctlError(f"EventBridge refused the record: {answer[0].get('ErrorMessage')}")
        else:
            raise UsageError(f"{arn} cannot receive the {kind} of an asynchronous invocation", where=arn,
                             hint="use an SQS queue, an SNS topic, a Lambda function or an EventBridge bus")

    # -- the service's other half ---------------------------------------------------------

    def invoke(self, name: str, payload: bytes, qualifier: str | None = None, headers: dict | None = None,
               **kwargs) -> InvokeResult:
        target = self.target(name, qualifier, headers)
        kwargs.setdefault("function_arn", target.arn)
        return self.pool.invoke(target.key, payload, **kwargs)

    def forget(self, account: str, region: str, name: str, qualifier: str | None = None) -> int:
        """A function (``qualifier`` None) or one of its versions was deleted: its warm environments stop now
        (busy ones when their invocation ends). Returns how many stopped now."""
        prefix = f"arn:aws:lambda:{region}:{account}:function:{name}:"
        if qualifier:
            return self.pool.retire(lambda key: key == prefix + qualifier)
        return self.pool.retire(lambda key: key.startswith(prefix))

    def close(self) -> None:
        self.pool.close()
