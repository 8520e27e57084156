"""Gateways: the only code in ``release`` that talks to AWS.

Each takes a boto3 client (made by ``lamctl.cli.aws``), returns dataclasses
and raises domain errors from :mod:`lamctl.schemas.errors`. Engine tests use
the in-memory fakes of :mod:`lamctl.release.fakes`, which implement the same
methods; adapter tests run these classes against the emulator over HTTP.

Every gateway counts the API calls it makes (``calls``), so the engine's
overhead can be measured and asserted.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Protocol

from lamctl.schemas.errors import CloudError, ConflictError, UsageError, error_code, error_message, http_status


# ---------------------------------------------------------------- data


@dataclass(frozen=True)
class FunctionConfig:
    name: str
    version: str
    role: str | None
    dead_letter: str | None
    code_sha256: str | None = None
    state: str | None = None
    description: str | None = None


@dataclass(frozen=True)
class AliasInfo:
    name: str
    version: str
    weights: dict[str, float] = field(default_factory=dict)  # AdditionalVersionWeights (never empty dicts kept)
    revision_id: str | None = None

    def split(self) -> bool:
        return bool(self.weights)

    def describe(self) -> str:
        if not self.weights:
            return f"version {self.version} 100%"
        extra = sum(self.weights.values())
        parts = [f"version {self.version} {(1 - extra) * 100:g}%"]
        parts += [f"version {v} {w * 100:g}%" for v, w in sorted(self.weights.items())]
        return ", ".join(parts)


@dataclass(frozen=True)
class InvokeResult:
    status: int
    function_error: str | None
    payload: bytes
    executed_version: str | None = None


@dataclass(frozen=True)
class AlarmState:
    name: str
    state: str  # OK, ALARM, INSUFFICIENT_DATA
    reason: str = ""


@dataclass(frozen=True)
class DeploymentStatus:
    id: str
    status: str  # Created, Queued, InProgress, Baking, Succeeded, Failed, Stopped, Ready
    message: str = ""


# ---------------------------------------------------------------- errors


class RevisionMismatch(ConflictError):
    """UpdateAlias answered 412: someone else moved the alias since we last read it."""


class HookTimeout(CloudError):
    pass


def _lost_condition(exc: Exception) -> bool:
    """A conditional S3 write that lost: the object changed (412), is gone (404) or is being written (409)."""
    return (error_code(exc) in ("PreconditionFailed", "ConditionalRequestConflict", "NoSuchKey", "404", "NotFound")
            or http_status(exc) in (404, 409, 412))


def _client_error():
    import botocore.exceptions

    return (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError)


def _cloud(what: str, exc: Exception, where: str | None = None) -> CloudError:
    return CloudError(f"{what} failed: {error_code(exc) or type(exc).__name__}: {error_message(exc) or exc}",
                      where=where,
                      hint="check the credentials, the region and the name, then run again")


# ---------------------------------------------------------------- protocols


class Lambda(Protocol):
    calls: Counter

    def get_function_config(self, function: str, qualifier: str = "$LATEST") -> FunctionConfig: ...
    def publish_version(self, function: str, description: str = "") -> FunctionConfig: ...
    def get_alias(self, function: str, alias: str) -> AliasInfo | None: ...
    def create_alias(self, function: str, alias: str, version: str) -> AliasInfo: ...
    def update_alias(self, function: str, alias: str, version: str, weights: dict[str, float],
                     revision_id: str | None) -> AliasInfo: ...
    def delete_alias(self, function: str, alias: str) -> None: ...
    def invoke(self, function: str, payload: dict, timeout: float | None = None) -> InvokeResult: ...


class Alarms(Protocol):
    calls: Counter

    def states(self, names: list[str] | tuple[str, ...]) -> list[AlarmState]: ...


class ObjectStore(Protocol):
    calls: Counter
    where: str

    def get(self, key: str) -> bytes | None: ...
    def put(self, key: str, body: bytes) -> None: ...
    def put_if_absent(self, key: str, body: bytes) -> bool: ...
    def delete(self, key: str) -> None: ...
    # compare-and-swap on an existing key, for the release lock: ``tag`` is what get_tagged returned
    def get_tagged(self, key: str) -> tuple[bytes, str] | None: ...
    def put_if_match(self, key: str, body: bytes, tag: str) -> bool: ...
    def delete_if_match(self, key: str, tag: str) -> bool: ...


# ---------------------------------------------------------------- Lambda


def _alias(resp: dict) -> AliasInfo:
    routing = (resp.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
    return AliasInfo(name=resp["Name"], version=str(resp["FunctionVersion"]),
                     weights={str(k): float(v) for k, v in routing.items()}, revision_id=resp.get("RevisionId"))


def _config(resp: dict) -> FunctionConfig:
    return FunctionConfig(name=resp["FunctionName"], version=str(resp.get("Version", "$LATEST")),
                          role=resp.get("Role"), dead_letter=(resp.get("DeadLetterConfig") or {}).get("TargetArn"),
                          code_sha256=resp.get("CodeSha256"), state=resp.get("State"),
                          description=resp.get("Description"))


class LambdaGateway:
    def __init__(self, client: Any, invoke_client: Any = None):
        """``invoke_client`` runs hooks: made with a read timeout that covers the hook's
        time limit and a single attempt, so a slow hook is never invoked twice."""
        self.client = client
        self.invoke_client = invoke_client or client
        self.calls: Counter = Counter()
        # the local cloud records the verdicts hooks report through CodeDeploy's
        # PutLifecycleEventHookExecutionStatus; AWS has none to read outside a CodeDeploy deployment
        self.hook_reports_url: str | None = None

    def reported_hook_status(self, execution_id: str) -> str | None:
        """The status a hook reported for ``execution_id`` through CodeDeploy's API (local cloud only)."""
        if not self.hook_reports_url:
            return None
        import urllib.error
        import urllib.parse
        import urllib.request

        url = self.hook_reports_url + urllib.parse.quote(execution_id, safe="")
        try:
            with urllib.request.urlopen(url, timeout=10) as resp:  # noqa: S310 - the loopback local cloud
                status = json.loads(resp.read() or b"{}").get("status")
        except (urllib.error.URLError, OSError, ValueError):
            return None
        return str(status) if status else None

    def _not_found(self, function: str, qualifier: str | None = None) -> UsageError:
        name = f"{function}:{qualifier}" if qualifier and qualifier != "$LATEST" else function
        return UsageError(f"function {name} does not exist", where=function,
                          hint="check the name and the region (--region), or deploy the function first")

    def get_function_config(self, function: str, qualifier: str = "$LATEST") -> FunctionConfig:
        self.calls["GetFunctionConfiguration"] += 1
        try:
            return _config(self.client.get_function_configuration(FunctionName=function, Qualifier=qualifier))
        except _client_error() as exc:
            if error_code(exc) == "ResourceNotFoundException":
                raise self._not_found(function, qualifier) from None
            raise _cloud("GetFunctionConfiguration", exc, function) from None

    def publish_version(self, function: str, description: str = "") -> FunctionConfig:
        self.calls["PublishVersion"] += 1
        kwargs = {"FunctionName": function}
        if description:
            kwargs["Description"] = description
        try:
            return _config(self.client.publish_version(**kwargs))
        except _client_error() as exc:
            if error_code(exc) == "ResourceNotFoundException":
                raise self._not_found(function) from None
            raise _cloud("PublishVersion", exc, function) from None

    def latest_version(self, function: str) -> str | None:
        """The highest published version number, or None when there is none."""
        best = None
        marker = None
        while True:
            self.calls["ListVersionsByFunction"] += 1
            kwargs = {"FunctionName": function, "MaxItems": 50}
            if marker:
                kwargs["Marker"] = marker
            try:
                resp = self.client.list_versions_by_function(**kwargs)
            except _client_error() as exc:
                if error_code(exc) == "ResourceNotFoundException":
                    raise self._not_found(function) from None
                raise _cloud("ListVersionsByFunction", exc, function) from None
            for v in resp.get("Versions", []):
                if str(v.get("Version", "")).isdigit():
                    best = max(best or 0, int(v["Version"]))
            marker = resp.get("NextMarker")
            if not marker:
                return None if best is None else str(best)

    def get_alias(self, function: str, alias: str) -> AliasInfo | None:
        self.calls["GetAlias"] += 1
        try:
            return _alias(self.client.get_alias(FunctionName=function, Name=alias))
        except _client_error() as exc:
            if error_code(exc) == "ResourceNotFoundException":
                return None
            raise _cloud("GetAlias", exc, f"{function}:{alias}") from None

    def create_alias(self, function: str, alias: str, version: str) -> AliasInfo:
        self.calls["CreateAlias"] += 1
        try:
            return _alias(self.client.create_alias(FunctionName=function, Name=alias, FunctionVersion=version))
        except _client_error() as exc:
            if error_code(exc) == "ResourceConflictException":
                raise ConflictError(f"alias {function}:{alias} was created by someone else meanwhile",
                                    where=f"{function}:{alias}", hint="run again to shift from it") from None
            raise _cloud("CreateAlias", exc, f"{function}:{alias}") from None

    def update_alias(self, function: str, alias: str, version: str, weights: dict[str, float],
                     revision_id: str | None) -> AliasInfo:
        self.calls["UpdateAlias"] += 1
        kwargs: dict[str, Any] = {
            "FunctionName": function, "Name": alias, "FunctionVersion": version,
            "RoutingConfig": {"AdditionalVersionWeights": {k: float(v) for k, v in weights.items()}},
        }
        if revision_id:
            kwargs["RevisionId"] = revision_id
        try:
            return _alias(self.client.update_alias(**kwargs))
        except _client_error() as exc:
            if error_code(exc) == "PreconditionFailedException" or http_status(exc) == 412:
                raise RevisionMismatch(
                    f"alias {function}:{alias} was changed by someone else (RevisionId {revision_id} is stale)",
                    where=f"{function}:{alias}",
                    hint="lamctl did not overwrite it; look at 'lamctl status', then rollback or shift again") from None
            raise _cloud("UpdateAlias", exc, f"{function}:{alias}") from None

    def delete_alias(self, function: str, alias: str) -> None:
        self.calls["DeleteAlias"] += 1
        try:
            self.client.delete_alias(FunctionName=function, Name=alias)
        except _client_error() as exc:
            if error_code(exc) != "ResourceNotFoundException":
                raise _cloud("DeleteAlias", exc, f"{function}:{alias}") from None

    def invoke(self, function: str, payload: dict, timeout: float | None = None) -> InvokeResult:
        """A synchronous invoke; ``timeout`` bounds the wait (a :class:`HookTimeout` when exceeded)."""
        self.calls["Invoke"] += 1
        box: dict[str, Any] = {}

        def call() -> None:
            try:
                resp = self.invoke_client.invoke(FunctionName=function, InvocationType="RequestResponse",
                                          Payload=json.dumps(payload).encode())
                box["result"] = InvokeResult(status=resp.get("StatusCode", 0),
                                             function_error=resp.get("FunctionError"),
                                             payload=resp["Payload"].read() if resp.get("Payload") else b"",
                                             executed_version=resp.get("ExecutedVersion"))
            except Exception as exc:  # handed to the caller's thread below
                box["error"] = exc

        worker = threading.Thread(target=call, daemon=True, name=f"invoke-{function}")
        worker.start()
        worker.join(timeout)
        if worker.is_alive():
            raise HookTimeout(f"{function} did not answer within {timeout:g}s", where=function,
                              hint="raise --hook-timeout, or make the hook faster")
        if "error" in box:
            exc = box["error"]
            if error_code(exc) == "ResourceNotFoundException":
                raise self._not_found(function) from None
            if isinstance(exc, _client_error()):
                raise _cloud("Invoke", exc, function) from None
            raise exc
        return box["result"]


# ---------------------------------------------------------------- CloudWatch


class AlarmGateway:
    def __init__(self, client: Any):
        self.client = client
        self.calls: Counter = Counter()

    def states(self, names: list[str] | tuple[str, ...]) -> list[AlarmState]:
        names = list(dict.fromkeys(names))
        if not names:
            return []
        found: dict[str, AlarmState] = {}
        for i in range(0, len(names), 100):
            self.calls["DescribeAlarms"] += 1
            try:
                resp = self.client.describe_alarms(AlarmNames=names[i:i + 100],
                                                   AlarmTypes=["MetricAlarm", "CompositeAlarm"])
            except _client_error() as exc:
                raise _cloud("DescribeAlarms", exc) from None
            for a in resp.get("MetricAlarms", []) + resp.get("CompositeAlarms", []):
                found[a["AlarmName"]] = AlarmState(a["AlarmName"], a.get("StateValue", ""), a.get("StateReason", ""))
        missing = [n for n in names if n not in found]
        if missing:
            raise UsageError("no such CloudWatch alarm: " + ", ".join(missing), where="--alarm",
                             hint="check the alarm names and the region (aws cloudwatch describe-alarms)")
        return [found[n] for n in names]


# ---------------------------------------------------------------- objects (S3, or a local folder)


class S3ObjectStore:
    def __init__(self, client: Any, bucket: str):
        self.client = client
        self.bucket = bucket
        self.calls: Counter = Counter()
        self.where = f"s3://{bucket}/"

    def get(self, key: str) -> bytes | None:
        self.calls["GetObject"] += 1
        try:
            return self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except _client_error() as exc:
            if error_code(exc) in ("NoSuchKey", "404", "NotFound"):
                return None
            if error_code(exc) == "NoSuchBucket":
                raise UsageError(f"bucket {self.bucket} does not exist", where="s3_bucket",
                                 hint="create it, or set s3_bucket (--s3-bucket / lamctl.toml) to one that exists") \
                    from None
            raise _cloud(f"GetObject s3://{self.bucket}/{key}", exc) from None

    def put(self, key: str, body: bytes) -> None:
        self.calls["PutObject"] += 1
        try:
            self.client.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType="application/json")
        except _client_error() as exc:
            raise _cloud(f"PutObject s3://{self.bucket}/{key}", exc) from None

    def put_if_absent(self, key: str, body: bytes) -> bool:
        """A conditional put (``If-None-Match: *``): False when the key already exists."""
        self.calls["PutObject"] += 1
        try:
            self.client.put_object(Bucket=self.bucket, Key=key, Body=body, IfNoneMatch="*",
                                   ContentType="application/json")
            return True
        except _client_error() as exc:
            if error_code(exc) in ("PreconditionFailed", "ConditionalRequestConflict") or http_status(exc) in (409, 412):
                return False
            if error_code(exc) == "NoSuchBucket":
                raise UsageError(f"bucket {self.bucket} does not exist", where="s3_bucket",
                                 hint="create it, or set s3_bucket to one that exists") from None
            raise _cloud(f"PutObject s3://{self.bucket}/{key}", exc) from None

    def delete(self, key: str) -> None:
        self.calls["DeleteObject"] += 1
        try:
            self.client.delete_object(Bucket=self.bucket, Key=key)
        except _client_error() as exc:
            raise _cloud(f"DeleteObject s3://{self.bucket}/{key}", exc) from None

    # S3 conditional writes: PutObject and DeleteObject with ``If-Match: <ETag>`` fail with 412 when the object
    # changed since it was read (404 when it is gone; 409 ConditionalRequestConflict when another conditional
    # request on it is in flight). Each answer but success means "someone else wrote it": False.

    def get_tagged(self, key: str) -> tuple[bytes, str] | None:
        self.calls["GetObject"] += 1
        try:
            resp = self.client.get_object(Bucket=self.bucket, Key=key)
            return resp["Body"].read(), resp["ETag"]
        except _client_error() as exc:
            if error_code(exc) in ("NoSuchKey", "404", "NotFound"):
                return None
            raise _cloud(f"GetObject s3://{self.bucket}/{key}", exc) from None

    def put_if_match(self, key: str, body: bytes, tag: str) -> bool:
        self.calls["PutObject"] += 1
        try:
            self.client.put_object(Bucket=self.bucket, Key=key, Body=body, IfMatch=tag,
                                   ContentType="application/json")
            return True
        except _client_error() as exc:
            if _lost_condition(exc):
                return False
            raise _cloud(f"PutObject s3://{self.bucket}/{key}", exc) from None

    def delete_if_match(self, key: str, tag: str) -> bool:
        self.calls["DeleteObject"] += 1
        try:
            self.client.delete_object(Bucket=self.bucket, Key=key, IfMatch=tag)
            return True
        except _client_error() as exc:
            if _lost_condition(exc):
                return False
            raise _cloud(f"DeleteObject s3://{self.bucket}/{key}", exc) from None


class LocalObjectStore:
    """The same protocol over a folder (``.lamctl/`` when no bucket is configured).

    Writes are atomic (temporary file + rename, fsync'd); ``put_if_absent`` writes a
    temporary file and hard-links it into place, which fails when the key exists: two
    processes on one machine cannot both win, and no reader ever sees a half-written
    (empty) object, which a lock reader would take for an expired lease."""

    def __init__(self, root: str, strip_prefix: str = ""):
        self.root = root
        self.strip_prefix = strip_prefix  # "lamctl/": the key lamctl/releases/x lives at <root>/releases/x
        self.calls: Counter = Counter()
        self.where = root.rstrip("/") + "/"
        self._private = False

    def _folder_for(self, path: str) -> None:
        """Create the folder of ``path``: the root and everything under it 0700 (journals, locks and their
        owners are nobody else's business on a shared machine); files are written 0600."""
        if not self._private:
            os.makedirs(self.root, mode=0o700, exist_ok=True)
            try:
                os.chmod(self.root, 0o700)
            except OSError:
                pass
            self._private = True
        folder = os.path.dirname(path)
        if not os.path.isdir(folder):
            missing = []
            while folder and not os.path.isdir(folder):  # os.makedirs gives only the last folder its mode
                missing.append(folder)
                folder = os.path.dirname(folder)
            for each in reversed(missing):
                try:
                    os.mkdir(each, 0o700)
                except FileExistsError:
                    pass

    @staticmethod
    def _create(path: str, flags: int = os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode: str = "wb"):
        fd = os.open(path, flags, 0o600)
        return os.fdopen(fd, mode)

    def _path(self, key: str) -> str:
        if self.strip_prefix and key.startswith(self.strip_prefix):
            key = key[len(self.strip_prefix):]
        return os.path.join(self.root, *key.split("/"))

    def get(self, key: str) -> bytes | None:
        try:
            with open(self._path(key), "rb") as fh:
                return fh.read()
        except FileNotFoundError:
            return None

    def put(self, key: str, body: bytes) -> None:
        path = self._path(key)
        self._folder_for(path)
        tmp = f"{path}.{os.getpid()}.{threading.get_ident()}.tmp"
        with self._create(tmp) as fh:
            fh.write(body)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)

    def put_if_absent(self, key: str, body: bytes) -> bool:
        path = self._path(key)
        self._folder_for(path)
        tmp = f"{path}.{os.getpid()}.{threading.get_ident()}.new"
        with self._create(tmp) as fh:
            fh.write(body)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)  # atomic, and only when nothing is there: whole content or nothing
        except FileExistsError:
            return False
        finally:
            os.remove(tmp)
        return True

    def delete(self, key: str) -> None:
        try:
            os.remove(self._path(key))
        except FileNotFoundError:
            pass

    # Compare-and-swap: the tag is the SHA-256 of the content; the compare and the write happen under an
    # exclusive flock of ``<key>.guard``, so two processes cannot both replace the version they read.
    # ``put_if_absent`` needs no guard (link fails when the key exists) and readers none (whole files only).

    def get_tagged(self, key: str) -> tuple[bytes, str] | None:
        body = self.get(key)
        return None if body is None else (body, _content_tag(body))

    def put_if_match(self, key: str, body: bytes, tag: str) -> bool:
        with self._guard(key):
            current = self.get(key)
            if current is None or _content_tag(current) != tag:
                return False
            self.put(key, body)
            return True

    def delete_if_match(self, key: str, tag: str) -> bool:
        with self._guard(key):
            current = self.get(key)
            if current is None or _content_tag(current) != tag:
                return False
            self.delete(key)
            return True

    @contextlib.contextmanager
    def _guard(self, key: str):
        import fcntl

        path = self._path(key) + ".guard"
        self._folder_for(path)
        with self._create(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, "a+b") as fh:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def _content_tag(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


# ---------------------------------------------------------------- CodeDeploy


class CodeDeployGateway:
    def __init__(self, client: Any):
        self.client = client
        self.calls: Counter = Counter()

    def ensure_application(self, name: str) -> bool:
        """Create the Lambda application when missing; True when it was created."""
        self.calls["GetApplication"] += 1
        try:
            self.client.get_application(applicationName=name)
            return False
        except _client_error() as exc:
            if error_code(exc) != "ApplicationDoesNotExistException":
                raise _cloud("GetApplication", exc, name) from None
        self.calls["CreateApplication"] += 1
        try:
            self.client.create_application(applicationName=name, computePlatform="Lambda")
        except _client_error() as exc:
            if error_code(exc) != "ApplicationAlreadyExistsException":
                raise _cloud("CreateApplication", exc, name) from None
        return True

    def ensure_deployment_group(self, application: str, group: str, role_arn: str | None, config: str,
                                alarms: list[str] | tuple[str, ...] = ()) -> bool:
        self.calls["GetDeploymentGroup"] += 1
        try:
            self.client.get_deployment_group(applicationName=application, deploymentGroupName=group)
            return False
        except _client_error() as exc:
            if error_code(exc) != "DeploymentGroupDoesNotExistException":
                raise _cloud("GetDeploymentGroup", exc, f"{application}/{group}") from None
        if not role_arn:
            raise UsageError(f"CodeDeploy deployment group {application}/{group} does not exist and no service role "
                             "was given to create it", where=f"{application}/{group}",
                             hint="pass --codedeploy-role ARN (a role trusted by codedeploy.amazonaws.com with "
                                  "AWSCodeDeployRoleForLambda)")
        kwargs: dict[str, Any] = {
            "applicationName": application, "deploymentGroupName": group, "serviceRoleArn": role_arn,
            "deploymentConfigName": config,
            "deploymentStyle": {"deploymentType": "BLUE_GREEN", "deploymentOption": "WITH_TRAFFIC_CONTROL"},
            "autoRollbackConfiguration": {"enabled": True,
                                          "events": ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"]},
        }
        if alarms:
            kwargs["alarmConfiguration"] = {"enabled": True, "alarms": [{"name": a} for a in alarms]}
        self.calls["CreateDeploymentGroup"] += 1
        try:
            self.client.create_deployment_group(**kwargs)
        except _client_error() as exc:
            raise _cloud("CreateDeploymentGroup", exc, f"{application}/{group}") from None
        return True

    def ensure_config(self, name: str, routing: dict) -> bool:
        self.calls["GetDeploymentConfig"] += 1
        try:
            self.client.get_deployment_config(deploymentConfigName=name)
            return False
        except _client_error() as exc:
            if error_code(exc) != "DeploymentConfigDoesNotExistException":
                raise _cloud("GetDeploymentConfig", exc, name) from None
        self.calls["CreateDeploymentConfig"] += 1
        try:
            self.client.create_deployment_config(deploymentConfigName=name, computePlatform="Lambda",
                                                 trafficRoutingConfig=routing)
        except _client_error() as exc:
            if error_code(exc) != "DeploymentConfigAlreadyExistsException":
                raise _cloud("CreateDeploymentConfig", exc, name) from None
        return True

    def create_deployment(self, application: str, group: str, appspec: dict, config: str,
                          description: str = "") -> str:
        self.calls["CreateDeployment"] += 1
        content = json.dumps(appspec, sort_keys=True)
        import hashlib

        try:
            resp = self.client.create_deployment(
                applicationName=application, deploymentGroupName=group, deploymentConfigName=config,
                description=description or "lamctl shift",
                revision={"revisionType": "AppSpecContent",
                          "appSpecContent": {"content": content,
                                             "sha256": hashlib.sha256(content.encode()).hexdigest()}})
        except _client_error() as exc:
            raise _cloud("CreateDeployment", exc, f"{application}/{group}") from None
        return resp["deploymentId"]

    def get_deployment(self, deployment_id: str) -> DeploymentStatus:
        self.calls["GetDeployment"] += 1
        try:
            info = self.client.get_deployment(deploymentId=deployment_id)["deploymentInfo"]
        except _client_error() as exc:
            raise _cloud("GetDeployment", exc, deployment_id) from None
        err = info.get("errorInformation") or {}
        return DeploymentStatus(deployment_id, info.get("status", ""), err.get("message", ""))

    def stop_deployment(self, deployment_id: str) -> None:
        self.calls["StopDeployment"] += 1
        try:
            self.client.stop_deployment(deploymentId=deployment_id, autoRollbackEnabled=True)
        except _client_error() as exc:
            raise _cloud("StopDeployment", exc, deployment_id) from None


def total_calls(*gateways: Any) -> Counter:
    out: Counter = Counter()
    for g in gateways:
        out.update(getattr(g, "calls", {}))
    return out


class S3TemplateStore:
    """Where a template too large to pass inline goes before its change set (``StackDeployer.store``)."""

    def __init__(self, s3):
        self.s3 = s3

    def put_template(self, bucket: str, key: str, body: bytes) -> None:
        try:
            self.s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/json")
        except Exception as exc:  # botocore ClientError and friends
            raise CloudError(f"cannot upload the template to s3://{bucket}/{key}: {exc}",
                             hint="check the bucket exists, is in this region, and that you may write to it") from None
