"""CodeDeploy on the local cloud: Lambda deployments carried out, as CodeDeploy carries them out.

moto's CodeDeploy records applications, deployment groups and deployments, and
never moves a deployment on: ``lamctl shift --engine codedeploy`` (or
``aws deploy create-deployment``) against a plain moto server waits on a
deployment that stays ``Created``. The local cloud runs each deployment of a
``Lambda`` application in a thread of the emulator (EC2 and ECS deployments
stay as moto leaves them):

* ``Created`` -> ``InProgress``: the AppSpec revision (``AppSpecContent`` or
  ``String``, JSON or YAML) names the function, the alias and its
  ``CurrentVersion`` / ``TargetVersion``; the alias must point at
  ``CurrentVersion`` with no weights, or the deployment fails
  (``INVALID_LAMBDA_CONFIGURATION``) with nothing moved;
* the ``BeforeAllowTraffic`` hook is invoked with ``DeploymentId`` and
  ``LifecycleEventHookExecutionId`` and the deployment waits for the verdict the
  hook sends through ``PutLifecycleEventHookExecutionStatus`` (one hour at most);
* the deployment config shifts the alias: predefined ``CodeDeployDefault.Lambda*``
  configs and the custom ones made with ``CreateDeploymentConfig``
  (``TimeBasedCanary``, ``TimeBasedLinear``, ``AllAtOnce``), then the
  ``AfterAllowTraffic`` hook; the deployment group's alarms are watched all along;
* ``Succeeded``; or ``Failed`` (a hook failed or did not report) / ``Stopped``
  (``StopDeployment``, or an alarm went to ``ALARM``), with ``errorInformation``.
  When the deployment's (else its group's) ``autoRollbackConfiguration`` asks
  for it (``DEPLOYMENT_FAILURE``, ``DEPLOYMENT_STOP_ON_ALARM``,
  ``DEPLOYMENT_STOP_ON_REQUEST``), or ``StopDeployment`` says
  ``autoRollbackEnabled``, a rollback deployment (creator ``codeDeployRollback``)
  puts the alias back on ``CurrentVersion`` before the deployment reports its
  end, and ``rollbackInfo`` links the two.

Time is real here (the emulator is a server). ``LAMCTL_LOCAL_CODEDEPLOY_MINUTE``
(emulator only, meant for tests and demos) sets how many seconds one CodeDeploy
minute lasts on the local cloud, default 60: with ``0.1`` a
``LambdaCanary10Percent5Minutes`` holds its 10 % for half a second and a hook
gets six seconds to report instead of an hour. Configs keep AWS's whole
minutes.

One shortcut: a hook whose invocation fails (a function error, a function that
does not exist) without having reported fails its lifecycle event at once; on
AWS the event fails when the hour runs out.
"""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable

from lamctl.release import strategy as S

from . import moto_ext

TARGET_PREFIX = "CodeDeploy_20141006."
MINUTE_ENV = "LAMCTL_LOCAL_CODEDEPLOY_MINUTE"
HOOK_STATUSES = ("Pending", "InProgress", "Succeeded", "Failed", "Skipped", "Unknown")
# the operations answered here (the rest go to moto as they are)
OPERATIONS = ("PutLifecycleEventHookExecutionStatus", "CreateDeploymentConfig", "GetDeploymentConfig",
              "ListDeploymentConfigs", "DeleteDeploymentConfig", "CreateDeployment", "StopDeployment",
              "GetDeployment", "BatchGetDeployments")
HOOK_MINUTES = 60  # CodeDeploy gives a traffic hook one hour to report
BEFORE, AFTER = "BeforeAllowTraffic", "AfterAllowTraffic"

Reply = tuple[int, bytes]


def _error(kind: str, message: str, status: int = 400) -> Reply:
    return status, json.dumps({"__type": kind, "message": message}).encode()


def _ok(data: dict) -> Reply:
    return 200, json.dumps(data, default=str).encode()


def _minute_from_env() -> float:
    raw = os.environ.get(MINUTE_ENV, "").strip()
    try:
        value = float(raw) if raw else 60.0
    except ValueError:
        value = 60.0
    return value if value > 0 else 60.0


def routing_of(strategy: S.Strategy) -> dict:
    """A strategy as CodeDeploy's ``trafficRoutingConfig``."""
    if strategy.kind == S.ALL_AT_ONCE:
        return {"type": "AllAtOnce"}
    step = strategy.steps[0]
    if strategy.kind == S.CANARY:
        return {"type": "TimeBasedCanary", "timeBasedCanary": {"canaryPercentage": int(step.percent),
                                                                "canaryInterval": step.seconds // 60}}
    return {"type": "TimeBasedLinear", "timeBasedLinear": {"linearPercentage": int(step.percent),
                                                            "linearInterval": step.seconds // 60}}


def strategy_of(routing: dict) -> S.Strategy:
    """CodeDeploy's ``trafficRoutingConfig`` as a strategy; ValueError says what is wrong with it."""
    kind = routing.get("type") if isinstance(routing, dict) else None
    if kind == "AllAtOnce":
        return S.all_at_once()
    key, pct_key, min_key, make = {
        "TimeBasedCanary": ("timeBasedCanary", "canaryPercentage", "canaryInterval", S.canary),
        "TimeBasedLinear": ("timeBasedLinear", "linearPercentage", "linearInterval", S.linear),
    }.get(kind, (None, None, None, None))
    if key is None:
        raise ValueError(f"type must be TimeBasedCanary, TimeBasedLinear or AllAtOnce, not {kind!r}")
    body = routing.get(key)
    if not isinstance(body, dict):
        raise ValueError(f"{kind} needs {key}")
    pct, minutes = body.get(pct_key), body.get(min_key)
    if not isinstance(pct, int) or isinstance(pct, bool) or not 1 <= pct <= 99:
        raise ValueError(f"{pct_key} must be a whole percent from 1 to 99, not {pct!r}")
    if not isinstance(minutes, int) or isinstance(minutes, bool) or minutes < 1:
        raise ValueError(f"{min_key} must be a whole number of minutes, at least 1, not {minutes!r}")
    return make(f"{pct}%{minutes}m")


PREDEFINED = {S.CODEDEPLOY_PREFIX + short: S.codedeploy_config(short) for short in S.PREDEFINED}


@dataclass
class Config:
    name: str
    routing: dict
    created: float
    id: str = field(default_factory=lambda: str(uuid.uuid4()))

    def info(self) -> dict:
        return {"deploymentConfigId": self.id, "deploymentConfigName": self.name, "createTime": self.created,
                "computePlatform": "Lambda", "trafficRoutingConfig": self.routing}


@dataclass
class AppSpecTarget:
    function: str
    alias: str
    current: str
    target: str
    hooks: dict[str, str]


class Problem(Exception):
    """Why a deployment ends: CodeDeploy's error code and message, and whether it stops rather than fails."""

    def __init__(self, code: str, message: str, stopped: bool = False, rollback_event: str = "DEPLOYMENT_FAILURE"):
        super().__init__(message)
        self.code, self.message, self.stopped, self.rollback_event = code, message, stopped, rollback_event


def _name(function: str) -> str:
    return function.split(":function:", 1)[1].split(":")[0] if ":function:" in function else function


def parse_revision(revision: Any) -> AppSpecTarget:
    """The Lambda AppSpec of a deployment's revision; Problem(INVALID_REVISION) when it is not one."""
    content = None
    if isinstance(revision, dict):
        if revision.get("revisionType") == "AppSpecContent":
            content = (revision.get("appSpecContent") or {}).get("content")
        elif revision.get("revisionType") == "String":
            content = (revision.get("string") or {}).get("content")
        else:
            raise Problem("INVALID_REVISION", f"the local cloud carries out AppSpecContent and String revisions, "
                                              f"not {revision.get('revisionType')!r}")
    if not isinstance(content, str):
        raise Problem("INVALID_REVISION", "the revision has no AppSpec content")
    try:
        doc = json.loads(content)
    except ValueError:
        import yaml

        try:
            doc = yaml.safe_load(content)
        except yaml.YAMLError as exc:
            raise Problem("INVALID_REVISION", f"the AppSpec is neither JSON nor YAML: {exc}") from None
    resources = doc.get("Resources") if isinstance(doc, dict) else None
    entry = resources[0] if isinstance(resources, list) and resources else resources
    props = None
    if isinstance(entry, dict) and len(entry) == 1:
        body = next(iter(entry.values()))
        props = body.get("Properties") if isinstance(body, dict) else None
    if not isinstance(props, dict) or not all(props.get(k) not in (None, "") for k in
                                              ("Name", "Alias", "CurrentVersion", "TargetVersion")):
        raise Problem("INVALID_REVISION", "the AppSpec needs one Resources entry of Type AWS::Lambda::Function "
                                          "with Properties Name, Alias, CurrentVersion and TargetVersion")
    hooks: dict[str, str] = {}
    for hook in doc.get("Hooks") or []:
        if isinstance(hook, dict):
            for event, fn in hook.items():
                if event not in (BEFORE, AFTER):
                    raise Problem("INVALID_REVISION", f"{event} is not a Lambda lifecycle event "
                                                      f"(BeforeAllowTraffic, AfterAllowTraffic)")
                hooks[event] = str(fn)
    return AppSpecTarget(_name(str(props["Name"])), str(props["Alias"]), str(props["CurrentVersion"]),
                         str(props["TargetVersion"]), hooks)


@dataclass
class Run:
    """One deployment carried out by the local cloud."""

    id: str
    account: str
    region: str
    stop: threading.Event = field(default_factory=threading.Event)
    stop_rollback: bool | None = None  # StopDeployment's autoRollbackEnabled
    done: threading.Event = field(default_factory=threading.Event)
    error: dict | None = None  # errorInformation
    rollback: dict | None = None  # rollbackInfo
    hooks: dict[str, str] = field(default_factory=dict)  # lifecycleEventHookExecutionId -> event, while running
    issued: set[str] = field(default_factory=set)  # every lifecycleEventHookExecutionId handed to a hook
    group: tuple[str, str] = ("", "")  # application, deployment group
    thread: threading.Thread | None = None


class LocalCodeDeploy:
    """Answers what moto's CodeDeploy lacks and carries out the deployments it records.

    ``invoke(function, payload, headers=...)`` runs a Lambda function (the local runtime) and returns
    its result (``ok``, ``function_error``, ``payload``, ``log``)."""

    def __init__(self, invoke: Callable[..., Any], account_of: Callable[[dict, str | None], str],
                 log: Callable[[str], Any] | None = None, minute: float | None = None):
        self.invoke = invoke
        self.account_of = account_of
        self.log = log
        self.minute = minute if minute is not None else _minute_from_env()
        self.reports: dict[str, str] = {}  # lifecycleEventHookExecutionId -> status reported
        self.configs: dict[tuple[str, str], dict[str, Config]] = {}
        self.runs: dict[str, Run] = {}
        self._lock = threading.Lock()
        self._closed = threading.Event()

    # -- requests ----------------------------------------------------------------------------

    def handle(self, operation: str, body: bytes, headers: dict, forward: Callable[[bytes], Reply]) -> Reply:
        """One CodeDeploy request (``operation`` without the target prefix); ``forward`` hands it to moto."""
        from .lambdas import request_context

        try:
            req = json.loads(body or b"{}")
        except ValueError:
            req = None
        if not isinstance(req, dict):
            return _error("SerializationException", "the request body is not a JSON object")
        key, region = request_context(headers)
        where = (self.account_of(headers, key), region)
        method = {
            "PutLifecycleEventHookExecutionStatus": self._put_lifecycle_event_hook_execution_status,
            "CreateDeploymentConfig": self._create_deployment_config,
            "GetDeploymentConfig": self._get_deployment_config,
            "ListDeploymentConfigs": self._list_deployment_configs,
            "DeleteDeploymentConfig": self._delete_deployment_config,
            "CreateDeployment": self._create_deployment,
            "StopDeployment": self._stop_deployment,
            "GetDeployment": self._get_deployment,
            "BatchGetDeployments": self._batch_get_deployments,
        }.get(operation)
        if method is None:
            return forward(body)
        return method(req, where, body, forward)

    def _put_lifecycle_event_hook_execution_status(self, req: dict, where: tuple, body: bytes, forward) -> Reply:
        execution_id = req.get("lifecycleEventHookExecutionId")
        status = req.get("status")
        if not isinstance(execution_id, str) or not execution_id:
            return _error("LifecycleEventHookExecutionIdRequiredException", "lifecycleEventHookExecutionId is required")
        if status not in HOOK_STATUSES:
            return _error("InvalidLifecycleEventHookExecutionStatusException",
                          f"status must be one of {', '.join(HOOK_STATUSES)}")
        with self._lock:
            # a deployment carried out here knows its hook executions; other IDs (lamctl's own release engine
            # hands its hooks CodeDeploy-style IDs) are recorded for GET /lamctl-api/hooks/
            run = self.runs.get(str(req.get("deploymentId") or ""))
            if run is not None and execution_id not in run.issued:
                return _error("InvalidLifecycleEventHookExecutionIdException",
                              f"{execution_id} is not a lifecycle event hook execution of deployment {run.id}")
            if run is not None and execution_id not in run.hooks:
                return _error("LifecycleEventAlreadyCompletedException",
                              f"lifecycle event {execution_id} of deployment {run.id} has already completed")
            self.reports[execution_id] = status
        return _ok({"lifecycleEventHookExecutionId": execution_id})

    def _configs(self, where: tuple) -> dict[str, Config]:
        return self.configs.setdefault(where, {})

    def config_routing(self, where: tuple, name: str) -> dict | None:
        if name in PREDEFINED:
            return routing_of(PREDEFINED[name])
        config = self._configs(where).get(name)
        return config.routing if config is not None else None

    def _create_deployment_config(self, req: dict, where: tuple, body: bytes, forward) -> Reply:
        name = req.get("deploymentConfigName")
        if not isinstance(name, str) or not name:
            return _error("DeploymentConfigNameRequiredException", "deploymentConfigName is required")
        if name.startswith(S.CODEDEPLOY_PREFIX):
            return _error("InvalidDeploymentConfigNameException",
                          f"{name}: the CodeDeployDefault. prefix is reserved for predefined configs")
        if req.get("computePlatform") not in (None, "Lambda"):
            return _error("InvalidComputePlatformException", "the local cloud carries out Lambda deployments only")
        try:
            strategy_of(req.get("trafficRoutingConfig") or {})
        except ValueError as exc:
            return _error("InvalidTrafficRoutingConfigurationException", f"trafficRoutingConfig: {exc}")
        with self._lock:
            if name in self._configs(where):
                return _error("DeploymentConfigAlreadyExistsException", f"deployment config {name} already exists")
            config = Config(name, req["trafficRoutingConfig"], time.time())
            self._configs(where)[name] = config
        return _ok({"deploymentConfigId": config.id})

    def _get_deployment_config(self, req: dict, where: tuple, body: bytes, forward) -> Reply:
        name = req.get("deploymentConfigName")
        if not isinstance(name, str) or not name:
            return _error("DeploymentConfigNameRequiredException", "deploymentConfigName is required")
        if name in PREDEFINED:
            return _ok({"deploymentConfigInfo": {"deploymentConfigId": str(uuid.uuid5(uuid.NAMESPACE_URL, name)),
                                                 "deploymentConfigName": name, "createTime": 0.0,
                                                 "computePlatform": "Lambda",
                                                 "trafficRoutingConfig": routing_of(PREDEFINED[name])}})
        config = self._configs(where).get(name)
        if config is None:
            return _error("DeploymentConfigDoesNotExistException", f"deployment config {name} does not exist")
        return _ok({"deploymentConfigInfo": config.info()})

    def _list_deployment_configs(self, req: dict, where: tuple, body: bytes, forward) -> Reply:
        return _ok({"deploymentConfigsList": sorted(PREDEFINED) + sorted(self._configs(where))})

    def _delete_deployment_config(self, req: dict, where: tuple, body: bytes, forward) -> Reply:
        name = str(req.get("deploymentConfigName") or "")
        if name in PREDEFINED:
            return _error("InvalidOperationException", f"{name} is predefined and cannot be deleted")
        with self._lock:
            self._configs(where).pop(name, None)
        return _ok({})

    def _create_deployment(self, req: dict, where: tuple, body: bytes, forward) -> Reply:
        name = req.get("deploymentConfigName")
        if isinstance(name, str) and name and self.config_routing(where, name) is None:
            return _error("DeploymentConfigDoesNotExistException", f"deployment config {name} does not exist")
        group = (str(req.get("applicationName") or ""), str(req.get("deploymentGroupName") or ""))
        with self._lock:
            active = [r.id for r in self.runs.values()
                      if (r.account, r.region) == where and r.group == group and not r.done.is_set()]
        if active:
            return _error("DeploymentLimitExceededException",
                          f"the deployment group {group[1]} already has an active deployment ({active[0]})")
        status, answer = forward(body)
        if status == 200:
            try:
                deployment_id = json.loads(answer)["deploymentId"]
            except (ValueError, KeyError, TypeError):
                return status, answer
            record = moto_ext.codedeploy_deployment(*where, deployment_id)
            if record is not None and moto_ext.codedeploy_compute_platform(record) == "Lambda":
                self.start(deployment_id, *where, group=group)  # EC2 and ECS deployments stay as moto leaves them
        return status, answer

    def _stop_deployment(self, req: dict, where: tuple, body: bytes, forward) -> Reply:
        deployment_id = req.get("deploymentId")
        if not isinstance(deployment_id, str) or not deployment_id:
            return _error("DeploymentIdRequiredException", "deploymentId is required")
        with self._lock:
            run = self.runs.get(deployment_id)
        if run is None or (run.account, run.region) != where:
            if moto_ext.codedeploy_deployment(*where, deployment_id) is not None:
                return _error("UnsupportedActionForDeploymentTypeException",
                              "the local cloud carries out (and stops) deployments of Lambda applications only")
            return _error("DeploymentDoesNotExistException", f"deployment {deployment_id} does not exist")
        if run.done.is_set():
            return _error("DeploymentAlreadyCompletedException", f"deployment {deployment_id} has already completed")
        rollback = req.get("autoRollbackEnabled")
        run.stop_rollback = bool(rollback) if isinstance(rollback, bool) else None
        run.stop.set()
        finished = run.done.wait(timeout=5.0)
        return _ok({"status": "Succeeded" if finished else "Pending",
                    "statusMessage": "the deployment was stopped" if finished else "stopping the deployment"})

    def _get_deployment(self, req: dict, where: tuple, body: bytes, forward) -> Reply:
        status, answer = forward(body)
        return status, self._overlay(status, answer, "deploymentInfo")

    def _batch_get_deployments(self, req: dict, where: tuple, body: bytes, forward) -> Reply:
        status, answer = forward(body)
        return status, self._overlay(status, answer, "deploymentsInfo")

    def _overlay(self, status: int, answer: bytes, key: str) -> bytes:
        """moto reports no errorInformation nor rollbackInfo: add the ones of the deployments run here."""
        if status != 200:
            return answer
        try:
            data = json.loads(answer)
        except ValueError:
            return answer
        infos = data.get(key)
        for info in infos if isinstance(infos, list) else [infos]:
            run = self.runs.get(info.get("deploymentId")) if isinstance(info, dict) else None
            if run is not None:
                if run.error:
                    info["errorInformation"] = dict(run.error)
                if run.rollback:
                    info["rollbackInfo"] = dict(run.rollback)
        return json.dumps(data, default=str).encode()

    # -- deployments ---------------------------------------------------------------------------

    def start(self, deployment_id: str, account: str, region: str, group: tuple[str, str] = ("", "")) -> Run:
        run = Run(deployment_id, account, region, group=group)
        with self._lock:
            self.runs[deployment_id] = run
        run.thread = threading.Thread(target=self._carry_out, args=(run,), name=f"codedeploy-{deployment_id}",
                                      daemon=True)
        run.thread.start()
        return run

    def _say(self, text: str) -> None:
        if self.log is not None:
            self.log(f"codedeploy {text}\n")

    def _wait(self, run: Run, seconds: float, alarms: list[str]) -> None:
        """Hold ``seconds`` (real), watching the stop request and the alarms."""
        deadline = time.monotonic() + max(0.0, seconds)
        tick = min(1.0, max(0.01, self.minute / 60.0))
        while True:
            self._check(run, alarms)
            left = deadline - time.monotonic()
            if left <= 0:
                return
            run.stop.wait(min(tick, left))

    def _check(self, run: Run, alarms: list[str]) -> None:
        if self._closed.is_set():
            raise Problem("INTERNAL_ERROR", "the local cloud stopped", stopped=True, rollback_event="")
        if run.stop.is_set():
            raise Problem("MANUAL_STOP", "the deployment was stopped by a StopDeployment request", stopped=True,
                          rollback_event="DEPLOYMENT_STOP_ON_REQUEST")
        if alarms:
            firing = sorted(n for n, state in moto_ext.alarm_states(run.account, run.region, alarms).items()
                            if state == "ALARM")
            if firing:
                raise Problem("ALARM_ACTIVE", "one or more alarms have been activated and the deployment has been "
                                              f"stopped: {', '.join(firing)}", stopped=True,
                              rollback_event="DEPLOYMENT_STOP_ON_ALARM")

    def _hook(self, run: Run, event: str, function: str, alarms: list[str]) -> None:
        execution_id = str(uuid.uuid4())
        with self._lock:
            run.hooks[execution_id] = event
            run.issued.add(execution_id)
        payload = json.dumps({"DeploymentId": run.id, "LifecycleEventHookExecutionId": execution_id}).encode()
        headers = {"x-moto-account-id": run.account,
                   "authorization": f"Credential=codedeploy/00000000/{run.region}/lambda/aws4_request"}
        outcome: dict[str, Any] = {}

        def call() -> None:
            try:
                outcome["result"] = self.invoke(function, payload, headers=headers)
            except Exception as exc:  # noqa: BLE001 - a hook that does not exist, a runtime that cannot start
                outcome["error"] = str(exc)

        invoker = threading.Thread(target=call, name=f"codedeploy-hook-{execution_id}", daemon=True)
        invoker.start()
        self._say(f"{run.id}: {event} hook {function} invoked ({execution_id})")
        deadline = time.monotonic() + HOOK_MINUTES * self.minute
        tick = min(0.5, max(0.01, self.minute / 60.0))
        try:
            while True:
                reported = self.reports.get(execution_id)
                if reported == "Succeeded":
                    return
                if reported == "Failed":
                    raise Problem("HOOK_EXECUTION_FAILURE", f"{event} hook {function} reported Failed")
                if not invoker.is_alive() and not outcome.get("seen"):
                    outcome["seen"] = True
                    result = outcome.get("result")
                    if result is not None and self.log is not None and getattr(result, "log", None):
                        self.log(result.log)
                    error = outcome.get("error")
                    if error is None and result is not None and not result.ok:
                        error = f"{result.function_error}: {result.payload[:300].decode(errors='replace')}"
                    if error and self.reports.get(execution_id) is None:
                        raise Problem("HOOK_EXECUTION_FAILURE", f"{event} hook {function} failed without reporting "
                                                                f"a status: {error}")
                if time.monotonic() >= deadline:
                    raise Problem("HOOK_EXECUTION_FAILURE", f"{event} hook {function} did not report a status "
                                                            "through PutLifecycleEventHookExecutionStatus within "
                                                            "one hour")
                self._check(run, alarms)
                run.stop.wait(tick)
        finally:
            with self._lock:
                run.hooks.pop(execution_id, None)

    def _set_alias(self, run: Run, spec: AppSpecTarget, version: str, weights: dict | None) -> None:
        moto_ext.lambda_update_alias(run.account, run.region, spec.function, spec.alias, version,
                                     routing={"AdditionalVersionWeights": weights} if weights else {})

    def _validate(self, run: Run, spec: AppSpecTarget) -> None:
        entry = moto_ext.lambda_function_entry(run.account, run.region, spec.function)
        if entry is None:
            raise Problem("INVALID_LAMBDA_FUNCTION", f"function {spec.function} does not exist")
        versions = entry[1]
        for what, version in (("CurrentVersion", spec.current), ("TargetVersion", spec.target)):
            if version not in versions:
                raise Problem("INVALID_LAMBDA_CONFIGURATION",
                              f"{what} {version} of function {spec.function} is not a published version")
        alias = moto_ext.lambda_alias(run.account, run.region, spec.function, spec.alias)
        if alias is None:
            raise Problem("INVALID_LAMBDA_CONFIGURATION", f"alias {spec.alias} of function {spec.function} does not "
                                                          "exist")
        routing = (alias.routing_config or {}).get("AdditionalVersionWeights") if isinstance(
            alias.routing_config, dict) else None
        if str(alias.function_version) != spec.current or routing:
            where = f"version {alias.function_version}" + (f" with weights {routing}" if routing else "")
            raise Problem("INVALID_LAMBDA_CONFIGURATION",
                          f"alias {spec.alias} of function {spec.function} points at {where}, not at the AppSpec's "
                          f"CurrentVersion {spec.current} alone")

    def _carry_out(self, run: Run) -> None:
        try:
            record = moto_ext.codedeploy_deployment(run.account, run.region, run.id)
            if record is None:
                return
            moto_ext.codedeploy_set_state(record, status="InProgress", started=True,
                                          overview={**_OVERVIEW, "InProgress": 1})
            self._say(f"{run.id}: InProgress")
            rollback_conf, alarm_conf = moto_ext.codedeploy_group_settings(record)
            alarms = [str(a.get("name")) for a in alarm_conf.get("alarms") or [] if isinstance(a, dict)] \
                if alarm_conf.get("enabled") else []
            spec: AppSpecTarget | None = None
            shifted = False
            try:
                spec = parse_revision(record.revision)
                routing = self.config_routing((run.account, run.region), str(record.deployment_config_name))
                if routing is None:
                    raise Problem("INVALID_REVISION", f"deployment config {record.deployment_config_name} is not a "
                                                      "Lambda deployment config")
                strategy = strategy_of(routing)
                self._validate(run, spec)
                self._check(run, alarms)
                if BEFORE in spec.hooks:
                    self._hook(run, BEFORE, spec.hooks[BEFORE], alarms)
                for step in strategy.steps:
                    self._check(run, alarms)
                    shifted = True
                    self._set_alias(run, spec, spec.current, {spec.target: step.weight})
                    self._say(f"{run.id}: {step.percent:g}% to version {spec.target}")
                    self._wait(run, step.seconds / 60.0 * self.minute, alarms)
                self._check(run, alarms)
                shifted = True
                self._set_alias(run, spec, spec.target, None)
                if AFTER in spec.hooks:
                    self._hook(run, AFTER, spec.hooks[AFTER], alarms)
                moto_ext.codedeploy_set_state(record, status="Succeeded", completed=True,
                                              overview={**_OVERVIEW, "Succeeded": 1})
                self._say(f"{run.id}: Succeeded")
            except Problem as problem:
                self._end_badly(run, record, spec, shifted, problem, rollback_conf)
        except Exception as exc:  # noqa: BLE001 - the emulator was reset under the deployment, or a bug: say so
            self._say(f"{run.id}: stopped carrying it out: {type(exc).__name__}: {exc}")
        finally:
            run.done.set()

    def _end_badly(self, run: Run, record: Any, spec: AppSpecTarget | None, shifted: bool, problem: Problem,
                   rollback_conf: dict) -> None:
        run.error = {"code": problem.code, "message": problem.message}
        if problem.rollback_event == "DEPLOYMENT_STOP_ON_REQUEST" and run.stop_rollback is not None:
            wanted = run.stop_rollback
        else:
            wanted = bool(rollback_conf.get("enabled")) and problem.rollback_event in (rollback_conf.get("events")
                                                                                      or [])
        if wanted and spec is not None and shifted:
            rollback_id = moto_ext.codedeploy_record(
                run.account, run.region, record.application_name, record.deployment_group_name, record.revision,
                str(record.deployment_config_name), f"rollback of {run.id}", "codeDeployRollback")
            rollback_record = moto_ext.codedeploy_deployment(run.account, run.region, rollback_id)
            moto_ext.codedeploy_set_state(rollback_record, status="InProgress", started=True,
                                          overview={**_OVERVIEW, "InProgress": 1})
            self._set_alias(run, spec, spec.current, None)
            moto_ext.codedeploy_set_state(rollback_record, status="Succeeded", completed=True,
                                          overview={**_OVERVIEW, "Succeeded": 1})
            back = Run(rollback_id, run.account, run.region)
            back.rollback = {"rollbackTriggeringDeploymentId": run.id}
            back.done.set()
            with self._lock:
                self.runs[rollback_id] = back
            run.rollback = {"rollbackDeploymentId": rollback_id,
                            "rollbackMessage": f"rolled back: alias {spec.alias} is on version {spec.current} again"}
            self._say(f"{run.id}: rolled back by {rollback_id}")
        elif spec is not None and shifted:
            run.rollback = {"rollbackMessage": "not rolled back: automatic rollback is off for this event"}
        status = "Stopped" if problem.stopped else "Failed"
        moto_ext.codedeploy_set_state(record, status=status, completed=True, overview={**_OVERVIEW, "Failed": 1})
        self._say(f"{run.id}: {status}: {problem.message}")

    # -- lifecycle -----------------------------------------------------------------------------

    def reset(self) -> None:
        """The emulator was reset: running deployments end (their records are gone), configs and reports go."""
        self._stop_all()
        with self._lock:
            self.runs.clear()
            self.configs.clear()
            self.reports.clear()

    def close(self) -> None:
        self._closed.set()
        self._stop_all()

    def _stop_all(self) -> None:
        with self._lock:
            runs = list(self.runs.values())
        for run in runs:
            run.stop_rollback = False
            run.stop.set()
        for run in runs:
            if run.thread is not None and run.thread is not threading.current_thread():
                run.thread.join(timeout=5.0)


_OVERVIEW = {"Pending": 0, "InProgress": 0, "Succeeded": 0, "Failed": 0, "Skipped": 0, "Ready": 0}
