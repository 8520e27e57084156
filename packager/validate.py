"""Semantic checks of a SAM template: what a JSON Schema cannot say.

``validate_template(template)`` = schema findings (``lamctl.schemas.validate``)
plus these checks, sorted by position, one finding per problem:

* logical IDs (resources, parameters, outputs, conditions, mappings, events)
  that are not alphanumeric or longer than 255 characters;
* serverless resources or ``Globals`` without ``Transform: AWS::Serverless-2016-10-31``,
  and serverless resource types lamctl does not transform;
* per function, after ``Globals`` (the transform's rules, :mod:`lamctl.schemas.sam`: maps merge,
  lists concatenate, scalars and ``Architectures`` are replaced, ``IgnoreGlobals`` honoured): ``AutoPublishAlias`` that is not a
  valid Lambda alias name, ``DeploymentPreference`` or
  ``ProvisionedConcurrencyConfig`` without ``AutoPublishAlias``, an enabled
  ``DeploymentPreference`` without ``Type``, and the Lambda limits (docs/architecture.md,
  facts of the platform: memory 128-10,240 MB, timeout 1-900 s, ephemeral storage 512-10,240 MB,
  at most 5 layers, environment variables 4 KB together);
* connectors: the ``Id`` of a source or destination that is not a resource of the template;
* references: ``Ref``/``Fn::GetAtt``/``Fn::Sub`` to names that are neither a
  resource, a parameter, a pseudo parameter nor a resource the transform
  generates; events whose API, bucket, queue, topic or stream is such a name;
  ``DependsOn`` and ``Condition`` naming what does not exist; unknown
  intrinsic functions.

A value given as an intrinsic function (``!Ref MemoryParam``) is not checked
against a limit: only CloudFormation knows it. Pure: no AWS calls, standard
library only.
"""

from __future__ import annotations

import json
import re
from typing import Any, Iterator

from lamctl.schemas.errors import LimitError, TemplateError
from lamctl.schemas.template import Template
from lamctl.schemas.sam import CODE_PROPERTIES, SERVERLESS_PREFIX, Globals, is_intrinsic, transforms_of
from lamctl.schemas.sam import TRANSFORM as SAM_TRANSFORM
from lamctl.schemas.validate import ERROR, Finding, finding_at, intrinsic_names, schema_findings

SUPPORTED_TYPES = (
    "AWS::Serverless::Function",
    "AWS::Serverless::LayerVersion",
    "AWS::Serverless::Api",
    "AWS::Serverless::HttpApi",
    "AWS::Serverless::SimpleTable",
    "AWS::Serverless::StateMachine",
    "AWS::Serverless::CapacityProvider",
    "AWS::Serverless::Application",
    "AWS::Serverless::Connector",
    "AWS::Serverless::GraphQLApi",
    "AWS::Serverless::WebSocketApi",
)
GLOBALS_SECTIONS = {"Function": "AWS::Serverless::Function", "Api": "AWS::Serverless::Api",
                    "HttpApi": "AWS::Serverless::HttpApi", "SimpleTable": "AWS::Serverless::SimpleTable",
                    "LayerVersion": "AWS::Serverless::LayerVersion", "StateMachine": "AWS::Serverless::StateMachine",
                    "CapacityProvider": "AWS::Serverless::CapacityProvider",
                    "WebSocketApi": "AWS::Serverless::WebSocketApi"}
PSEUDO_PARAMETERS = {"AWS::AccountId", "AWS::NotificationARNs", "AWS::NoValue", "AWS::Partition", "AWS::Region",
                     "AWS::StackId", "AWS::StackName", "AWS::URLSuffix"}
# Resources the transform creates whatever the function names are.
GENERATED_NAMES = ("ServerlessRestApi", "ServerlessHttpApi", "ServerlessDeploymentApplication",
                   "CodeDeployServiceRole")

# Lambda quotas (docs/architecture.md, facts of the platform).
MEMORY_MB = (128, 10_240)
TIMEOUT_S = (1, 900)
EPHEMERAL_MB = (512, 10_240)
MAX_LAYERS = 5
MAX_ENVIRONMENT_BYTES = 4 * 1024
MAX_LOGICAL_ID = 255
ENV_NAME = re.compile(r"^[a-zA-Z][a-zA-Z0-9_]+$")  # the Lambda API's key pattern
# Set by the Lambda runtime; a function may not set them (Lambda developer guide, "Reserved environment variables").
RESERVED_ENV = {"AWS_REGION", "AWS_EXECUTION_ENV", "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
                "AWS_LAMBDA_FUNCTION_VERSION", "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME",
                "AWS_LAMBDA_LOG_STREAM_NAME", "AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                "AWS_SESSION_TOKEN", "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR"}
ALIAS_NAME = re.compile(r"^(?![0-9]+$)[a-zA-Z0-9_-]{1,128}$")
LOGICAL_ID = re.compile(r"^[A-Za-z0-9]+$")
SUB_VARIABLE = re.compile(r"\$\{([^!}][^}]*)\}")


def validate_template(template: Template, *, schema: bool = True) -> list[Finding]:
    """Schema and semantic findings of ``template``, by position, without duplicates."""
    findings = list(schema_findings(template)) if schema else []
    findings.extend(check_template(template))
    seen, out = set(), []
    for f in findings:
        key = (f.path, f.message)
        if key not in seen:
            seen.add(key)
            out.append(f)
    out.sort(key=lambda f: (f.line or 0, f.col or 0, f.message))
    return out


def raise_for_findings(findings: list[Finding]) -> None:
    """For commands that validate on the way (deploy, package): the first error as a TemplateError/LimitError."""
    errors = [f for f in findings if f.severity == ERROR]
    if not errors:
        return
    first = errors[0]
    more = f" (and {len(errors) - 1} more problem(s); run lamctl validate to see them all)" if len(errors) > 1 else ""
    cls = LimitError if first.code == "limit" else TemplateError
    raise cls(first.message + more, hint=first.hint, where=first.where)


def check_template(template: Template) -> list[Finding]:
    """The semantic findings of ``template`` (no schema validation), by position."""
    return sorted(_Checker(template).run(), key=lambda f: (f.line or 0, f.col or 0, f.message))


class _Checker:
    def __init__(self, template: Template):
        self.t = template
        self.data = template.data if isinstance(template.data, dict) else {}
        res = self.data.get("Resources")
        self.resources: dict = res if isinstance(res, dict) else {}
        params = self.data.get("Parameters")
        self.parameters: dict = params if isinstance(params, dict) else {}
        conds = self.data.get("Conditions")
        self.conditions: dict = conds if isinstance(conds, dict) else {}
        # lenient: a Globals section that breaks the rules is reported by the schema, the merge goes on
        self.globals = Globals.of(self.data, check=False)
        self.transforms = transforms_of(self.data)
        self._reported: set = set()
        self.serverless_ids = sorted(
            (rid for rid, r in self.resources.items()
             if isinstance(r, dict) and isinstance(r.get("Type"), str) and r["Type"].startswith(SERVERLESS_PREFIX)),
            key=len, reverse=True)

    def at(self, path, message, *, key=False, hint=None, code="semantic", severity=ERROR) -> Finding:
        return finding_at(self.t, path, message, key=key, hint=hint, code=code, severity=severity)

    # -- the checks
    def run(self) -> Iterator[Finding]:
        yield from self.check_transform()
        yield from self.check_logical_ids()
        for rid, res in self.resources.items():
            if not isinstance(res, dict):
                continue
            rtype = res.get("Type")
            if isinstance(rtype, str) and rtype.startswith("AWS::Serverless::") and rtype not in SUPPORTED_TYPES:
                yield self.at(("Resources", rid, "Type"), f"resource type {rtype} is not supported by lamctl",
                              hint="supported serverless types: " + ", ".join(SUPPORTED_TYPES))
            if rtype == "AWS::Serverless::Function":
                yield from self.check_function(rid, res)
            yield from self.check_connectors(rid, res)
            yield from self.check_attributes(rid, res)
        yield from self.check_references()

    def check_transform(self) -> Iterator[Finding]:
        if SAM_TRANSFORM in self.transforms:
            return
        # lamctl transforms serverless resources whether or not the template says so; CloudFormation and the
        # SAM CLI need the declaration, so it is a warning.
        if "Globals" in self.data:
            where = ("Globals",)
        elif self.serverless_ids:  # the first serverless resource in the file
            where = min((("Resources", rid, "Type") for rid in self.serverless_ids),
                        key=lambda p: tuple(x or 0 for x in self.t.position(p)))
        else:
            return
        yield self.at(where, f"the template uses SAM but does not declare Transform: {SAM_TRANSFORM}",
                      key=where == ("Globals",), severity="warning",
                      hint=f"add Transform: {SAM_TRANSFORM} at the top, so that CloudFormation and other "
                           "tools read it too (lamctl transforms it either way)")

    def check_logical_ids(self) -> Iterator[Finding]:
        for section in ("Resources", "Parameters", "Outputs", "Conditions", "Mappings"):
            body = self.data.get(section)
            if not isinstance(body, dict):
                continue
            for name in body:
                if isinstance(name, str) and name.startswith("Fn::ForEach::"):
                    yield self.at((section, name), f"{name}: Fn::ForEach loops (AWS::LanguageExtensions) are not "
                                  "supported by lamctl", key=True, code="semantic",
                                  hint=f"write the {section.lower()} of the loop out one by one")
                    continue
                yield from self._logical_id((section, name), name, section[:-1].lower() if section != "Mappings"
                                            else "mapping")
        for rid, res in self.resources.items():
            events = _get(res, "Properties", "Events")
            if isinstance(events, dict):
                for name in events:
                    yield from self._logical_id(("Resources", rid, "Properties", "Events", name), name,
                                                f"event name (of {rid})")

    def _logical_id(self, path, name, what) -> Iterator[Finding]:
        text = str(name)
        if not LOGICAL_ID.match(text):
            bad = sorted({c for c in text if not c.isascii() or not c.isalnum()})
            shown = "".join(bad) if bad else "?"
            suggestion = re.sub(r"[^A-Za-z0-9]", "", text)
            yield self.at(path, f"{what} {text!r} is not alphanumeric (it contains {shown!r})", key=True,
                          hint=(f"use only A-Z, a-z and 0-9, e.g. {suggestion}" if suggestion
                                else "use only A-Z, a-z and 0-9"), code="logical-id")
        elif len(text) > MAX_LOGICAL_ID:
            yield self.at(path, f"{what} is {len(text)} characters long; CloudFormation allows {MAX_LOGICAL_ID}",
                          key=True, code="logical-id")

    # -- functions, after Globals
    def effective(self, rid: str, res: dict) -> dict[str, tuple[Any, tuple]]:
        """Property -> (value, path of the value that decides it) after Globals.

        The values are the transform's (:mod:`lamctl.schemas.sam`: maps merge, lists concatenate,
        scalars, intrinsic functions and ``Architectures`` are replaced, ``IgnoreGlobals`` honoured);
        the path is the resource's own when it sets the property, else the one in ``Globals``."""
        props = res.get("Properties") if isinstance(res.get("Properties"), dict) else {}
        rtype = res.get("Type") if isinstance(res.get("Type"), str) else ""
        merged = self.globals.merge(rtype, props, rid, res.get("IgnoreGlobals"))
        section = ("Globals", rtype[len(SERVERLESS_PREFIX):])
        lpath = ("Resources", rid, "Properties")
        return {key: (value, (lpath if key in props else section) + (key,)) for key, value in merged.items()}

    def check_function(self, rid: str, res: dict) -> Iterator[Finding]:
        eff = self.effective(rid, res)
        alias, alias_path = eff.get("AutoPublishAlias", (None, None))
        if isinstance(alias, str):
            if not ALIAS_NAME.match(alias):
                yield self.at(alias_path, f"AutoPublishAlias {alias!r} of {rid} is not a valid alias name",
                              hint="1-128 characters of A-Z, a-z, 0-9, - and _, not only digits (e.g. live)",
                              code="alias")
        elif alias is not None and not is_intrinsic(alias):
            alias = None  # a wrong type: the schema reports it
        dp, dp_path = eff.get("DeploymentPreference", (None, None))
        if isinstance(dp, dict) and not is_intrinsic(dp):
            enabled = self.resolve(dp.get("Enabled", True))
            if enabled is not None and enabled not in (False, "false", "False"):
                if alias is None:
                    yield self.at(dp_path, f"DeploymentPreference of {rid} needs AutoPublishAlias", key=True,
                                  hint="add AutoPublishAlias: live (traffic is shifted on that alias)")
                if "Type" not in dp:
                    yield self.at(dp_path, f"DeploymentPreference of {rid} has no Type", key=True,
                                  hint="e.g. Type: Canary10Percent5Minutes, Linear10PercentEvery1Minute, AllAtOnce")
        pcc, pcc_path = eff.get("ProvisionedConcurrencyConfig", (None, None))
        if pcc is not None and alias is None:
            yield self.at(pcc_path, f"ProvisionedConcurrencyConfig of {rid} needs AutoPublishAlias", key=True,
                          hint="provisioned concurrency is set on the alias; add AutoPublishAlias: live")
        yield from self._range(eff, "MemorySize", rid, MEMORY_MB, "MB", "memory")
        yield from self._range(eff, "Timeout", rid, TIMEOUT_S, "seconds", "timeout")
        storage, storage_path = eff.get("EphemeralStorage", (None, None))
        if isinstance(storage, dict) and "Size" in storage:
            size = _number(storage["Size"])
            if size is not None and not EPHEMERAL_MB[0] <= size <= EPHEMERAL_MB[1]:
                path = storage_path + ("Size",) if "Size" in (_get_path(self.data, storage_path) or {}) \
                    else ("Globals", "Function", "EphemeralStorage", "Size")
                yield self.at(path, f"EphemeralStorage.Size of {rid} is {_fmt(size)} MB; Lambda allows "
                              f"{EPHEMERAL_MB[0]}-{EPHEMERAL_MB[1]:,} MB", code="limit")
        layers, layers_path = eff.get("Layers", (None, None))
        if isinstance(layers, list) and len(layers) > MAX_LAYERS:
            yield self.at(layers_path, f"{rid} uses {len(layers)} layers (with Globals); Lambda allows at most "
                          f"{MAX_LAYERS}", key=True, hint="merge layers, or move dependencies into the function",
                          code="limit")
        env, env_path = eff.get("Environment", (None, None))
        variables = env.get("Variables") if isinstance(env, dict) else None
        if isinstance(variables, dict) and not is_intrinsic(variables):
            yield from self._env_names(rid, res, variables)
            size = environment_size(variables)
            if size > MAX_ENVIRONMENT_BYTES:
                yield self.at(env_path, f"the environment variables of {rid} take {size:,} bytes (with Globals); "
                              f"Lambda allows {MAX_ENVIRONMENT_BYTES:,} bytes together", key=True,
                              hint="move large values to SSM Parameter Store or Secrets Manager", code="limit")
        events = _get(res, "Properties", "Events")
        if isinstance(events, dict):
            for name, event in events.items():
                if isinstance(event, dict):
                    yield from self.check_event(rid, name, event)

    def resolve(self, value: Any) -> Any:
        """A literal, or ``!Ref Param`` with a Default (as the transform resolves it); None when unknown."""
        if isinstance(value, dict) and len(value) == 1 and isinstance(value.get("Ref"), str):
            spec = self.parameters.get(value["Ref"])
            return spec.get("Default") if isinstance(spec, dict) else None
        return None if is_intrinsic(value) else value

    def _env_names(self, rid: str, res: dict, variables: dict) -> Iterator[Finding]:
        local = _get(res, "Properties", "Environment", "Variables")
        for name in variables:
            if isinstance(local, dict) and name in local:
                path = ("Resources", rid, "Properties", "Environment", "Variables", name)
            else:
                path = ("Globals", "Function", "Environment", "Variables", name)
                if path in self._reported:
                    continue  # a bad name in Globals is reported once, not once per function
                self._reported.add(path)
            text = str(name)
            if not ENV_NAME.match(text):
                yield self.at(path, f"environment variable name {text!r} of {rid} is not valid", key=True,
                              hint="start with a letter; use at least 2 characters, letters, digits and _",
                              code="limit")
            elif text in RESERVED_ENV:
                yield self.at(path, f"environment variable {text} of {rid} is reserved by the Lambda runtime",
                              key=True, hint="choose another name; Lambda sets this one itself", code="limit")

    def _range(self, eff, prop, rid, bounds, unit, what) -> Iterator[Finding]:
        value, path = eff.get(prop, (None, None))
        number = _number(value)
        if number is None:
            return
        lo, hi = bounds
        if not lo <= number <= hi:
            yield self.at(path, f"{prop} of {rid} is {_fmt(number)} {unit}; Lambda allows {lo}-{hi:,} {unit}",
                          hint=f"set a {what} between {lo} and {hi:,}", code="limit")

    # -- events
    EVENT_TARGETS = {
        "Api": ("RestApiId", ("AWS::Serverless::Api",)),
        "HttpApi": ("ApiId", ("AWS::Serverless::HttpApi", "AWS::Serverless::Api")),  # an OpenAPI 3 REST API too
        "S3": ("Bucket", ("AWS::S3::Bucket",)),
        "SNS": ("Topic", None),
        "SQS": ("Queue", None),
        "Kinesis": ("Stream", None),
        "DynamoDB": ("Stream", None),
        "CloudWatchLogs": ("LogGroupName", None),
        "EventBridgeRule": ("EventBusName", None),
        "CloudWatchEvent": ("EventBusName", None),
    }

    def check_event(self, rid: str, name: str, event: dict) -> Iterator[Finding]:
        etype = event.get("Type")
        props = event.get("Properties")
        if isinstance(props, dict) and etype in ("Schedule", "ScheduleV2"):
            prop = "Schedule" if etype == "Schedule" else "ScheduleExpression"
            problem = schedule_problem(props.get(prop), allow_at=etype == "ScheduleV2")
            if problem:
                yield self.at(("Resources", rid, "Properties", "Events", name, "Properties", prop),
                              f"{prop} of event {name} of {rid}: {problem}", code="schedule",
                              hint="e.g. rate(1 hour), rate(5 minutes), cron(0 12 * * ? *)")
        if not isinstance(props, dict) or etype not in self.EVENT_TARGETS:
            return
        prop, types = self.EVENT_TARGETS[etype]
        if prop not in props:
            return
        value = props[prop]
        path = ("Resources", rid, "Properties", "Events", name, "Properties", prop)
        target = _referenced_name(value)
        if etype == "S3":
            if target is None or not (isinstance(value, dict) and "Ref" in value):
                yield self.at(path, f"the S3 event {name} of {rid} must name a bucket of this template with !Ref",
                              hint="declare an AWS::S3::Bucket in Resources and use Bucket: !Ref ThatBucket",
                              code="reference")
                return
        if target is None:
            return
        base = target.split(".", 1)[0]
        if base in self.resources:
            rtype = self.resources[base].get("Type") if isinstance(self.resources[base], dict) else None
            if types and rtype not in types:
                yield self.at(path, f"{prop} of event {name} of {rid} refers to {base}, a {rtype}, not "
                              f"{' or '.join(types)}", code="reference")
            return
        if base in self.parameters or base in PSEUDO_PARAMETERS:
            if types and etype in ("Api", "HttpApi", "S3"):
                yield self.at(path, f"{prop} of event {name} of {rid} must refer to a {types[0]} of this template, "
                              f"not the parameter {base}", code="reference")
            return
        if types is None and self._generated(base):
            return
        yield self.at(path, f"{prop} of event {name} of {rid} refers to {base}, which is not a resource of this "
                      "template", hint=self._did_you_mean(base), code="reference")

    # -- resource attributes
    def check_connectors(self, rid: str, res: dict) -> Iterator[Finding]:
        """The ``Id`` of a connector's Source and Destinations (or of a ``Connectors`` entry's Destination)
        names a resource of this template."""
        ends: list[tuple[Any, tuple]] = []
        props = res.get("Properties")
        if res.get("Type") == "AWS::Serverless::Connector" and isinstance(props, dict):
            base = ("Resources", rid, "Properties")
            ends.append((props.get("Source"), base + ("Source",)))
            dest = props.get("Destination")
            ends += [(d, base + ("Destination", i)) for i, d in enumerate(dest)] if isinstance(dest, list) \
                else [(dest, base + ("Destination",))]
        conns = res.get("Connectors")
        for name, conn in (conns.items() if isinstance(conns, dict) else ()):
            cprops = conn.get("Properties") if isinstance(conn, dict) else None
            dest = cprops.get("Destination") if isinstance(cprops, dict) else None
            base = ("Resources", rid, "Connectors", name, "Properties", "Destination")
            ends += [(d, base + (i,)) for i, d in enumerate(dest)] if isinstance(dest, list) else [(dest, base)]
        for end, path in ends:
            target = end.get("Id") if isinstance(end, dict) else None
            if isinstance(target, str) and target not in self.resources:
                yield self.at(path + ("Id",), f"connector of {rid}: Id {target} is not a resource of this template",
                              hint=self._did_you_mean(target), code="reference")

    def check_attributes(self, rid: str, res: dict) -> Iterator[Finding]:
        deps = res.get("DependsOn")
        for i, dep in enumerate(deps if isinstance(deps, list) else [deps] if isinstance(deps, str) else []):
            if isinstance(dep, str) and dep not in self.resources and not self._generated(dep):
                path = ("Resources", rid, "DependsOn") + ((i,) if isinstance(deps, list) else ())
                yield self.at(path, f"{rid} depends on {dep}, which is not a resource of this template",
                              hint=self._did_you_mean(dep), code="reference")
        cond = res.get("Condition")
        if isinstance(cond, str) and cond not in self.conditions:
            yield self.at(("Resources", rid, "Condition"), f"condition {cond} of {rid} is not declared in Conditions",
                          code="reference", hint=self._did_you_mean(cond, self.conditions))

    # -- references everywhere
    def check_references(self) -> Iterator[Finding]:
        known = set(intrinsic_names())
        for section in ("Resources", "Outputs", "Globals", "Conditions"):
            body = self.data.get(section)
            if not isinstance(body, dict):
                continue
            for path, node in _walk(body, (section,)):
                if not (isinstance(node, dict) and len(node) == 1):
                    continue
                (name, arg), = node.items()
                if not isinstance(name, str):
                    continue
                if name.startswith("Fn::") and name not in known and not name.startswith("Fn::ForEach::"):
                    yield self.at(path, f"unknown intrinsic function {name}", key=False,
                                  hint="CloudFormation knows: " + ", ".join(sorted(known)), code="reference")
                    continue
                if _in_events_target(path, self.EVENT_TARGETS):
                    continue  # check_event reports these with their event
                for target, where in _targets(name, arg, path):
                    yield from self._check_target(target, where, name)

    def _check_target(self, target: str, path: tuple, how: str) -> Iterator[Finding]:
        if how == "Fn::If" or how == "Condition":
            if target not in self.conditions:
                yield self.at(path, f"condition {target} is not declared in Conditions", code="reference",
                              hint=self._did_you_mean(target, self.conditions))
            return
        base = target.split(".", 1)[0]
        if target in PSEUDO_PARAMETERS or target in self.parameters or base in self.resources:
            return
        if self._generated(base):
            return
        if how == "Fn::Sub" and base.startswith("AWS::"):
            return  # ${AWS::Region} etc. are pseudo parameters; unknown ones CloudFormation reports
        what = {"Ref": "!Ref", "Fn::GetAtt": "!GetAtt", "Fn::Sub": "!Sub"}.get(how, how)
        yield self.at(path, f"{what} {target}: {base} is not a resource or parameter of this template",
                      hint=self._did_you_mean(base), code="reference")

    def _generated(self, name: str) -> bool:
        """Whether ``name`` may be a resource the transform creates (FnRole, FnAliaslive, ServerlessRestApi...,
        the connector ``<Resource><Name>`` of a ``Connectors`` entry and its policies)."""
        if name.startswith(GENERATED_NAMES):
            return True
        if any(name.startswith(rid) for rid in self.serverless_ids):
            return True
        return any(isinstance(res, dict) and isinstance(res.get("Connectors"), dict)
                   and any(name.startswith(f"{rid}{c}") for c in res["Connectors"])
                   for rid, res in self.resources.items())

    def _did_you_mean(self, name: str, pool=None) -> str | None:
        import difflib

        candidates = [str(k) for k in (pool if pool is not None else list(self.resources) + list(self.parameters))]
        close = difflib.get_close_matches(name, candidates, n=1, cutoff=0.6)
        return f"did you mean {close[0]}?" if close else None


# -- helpers
_RATE = re.compile(r"^rate\((?P<value>[^ )]+) (?P<unit>[^ )]+)\)$")
_UNITS = {"minute", "minutes", "hour", "hours", "day", "days"}


def schedule_problem(expr: Any, allow_at: bool = False) -> str | None:
    """What is wrong with an EventBridge schedule expression (rate or cron), or None.

    Rules of the EventBridge user guide: ``rate(value unit)`` with a positive whole value and a
    singular unit for 1, plural above (``rate(1 hour)``, ``rate(5 hours)``); ``cron(...)`` with six
    fields, ``?`` in day-of-month or day-of-week. Intrinsic functions are not checked."""
    if not isinstance(expr, str):
        return None
    text = expr.strip()
    if text.startswith("rate("):
        m = _RATE.match(text)
        if not m:
            return f"{expr!r} is not rate(value unit)"
        value, unit = m.group("value"), m.group("unit")
        if not value.isdigit() or int(value) < 1:
            return f"the value of {expr!r} must be a positive whole number"
        if unit not in _UNITS:
            return f"the unit of {expr!r} must be minute(s), hour(s) or day(s)"
        if int(value) == 1 and unit.endswith("s"):
            return f"{expr!r} takes a singular unit for 1: rate(1 {unit[:-1]})"
        if int(value) > 1 and not unit.endswith("s"):
            return f"{expr!r} takes a plural unit above 1: rate({value} {unit}s)"
        return None
    if text.startswith("cron(") and text.endswith(")"):
        fields = text[5:-1].split()
        if len(fields) != 6:
            return (f"{expr!r} has {len(fields)} field(s); cron takes six: minutes hours day-of-month month "
                    "day-of-week year")
        if fields[2] != "?" and fields[4] != "?":
            return f"{expr!r} must have ? in day-of-month or in day-of-week"
        return None
    if allow_at and text.startswith("at(") and text.endswith(")"):
        return None
    return f"{expr!r} is not a rate(...) or cron(...) expression" + (" (or at(...))" if allow_at else "")


def environment_size(variables: dict) -> int:
    """Bytes Lambda counts against its 4 KB: the variables as compact JSON (intrinsic values count as empty)."""
    shown = {str(k): ("" if isinstance(v, (dict, list)) else _env_text(v)) for k, v in variables.items()}
    return len(json.dumps(shown, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))


def _env_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _get(node: Any, *keys: Any) -> Any:
    for k in keys:
        if not isinstance(node, dict):
            return None
        node = node.get(k)
    return node


def _get_path(node: Any, path: tuple) -> Any:
    for k in path:
        if isinstance(node, dict) and k in node:
            node = node[k]
        elif isinstance(node, list) and isinstance(k, int) and 0 <= k < len(node):
            node = node[k]
        else:
            return None
    return node


def _number(value: Any) -> float | None:
    """A literal number (int, float or numeric string); None for intrinsics and other types."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, str):
        try:
            return float(value) if "." in value else int(value)
        except ValueError:
            return None
    return None


def _fmt(n: float) -> str:
    return f"{n:,}" if isinstance(n, int) else f"{n:g}"


def _walk(node: Any, path: tuple) -> Iterator[tuple[tuple, Any]]:
    """Every (path, value) under ``node``, parents first (iterative: any nesting is safe)."""
    stack = [(node, path)]
    while stack:
        value, p = stack.pop()
        yield p, value
        if isinstance(value, dict):
            stack.extend((v, p + (k,)) for k, v in reversed(list(value.items())))
        elif isinstance(value, list):
            stack.extend((v, p + (i,)) for i, v in reversed(list(enumerate(value))))


def _referenced_name(value: Any) -> str | None:
    """The logical ID a value refers to (!Ref X, !GetAtt X.Arn, !Sub ${X.Arn}), if it is that simple."""
    if not (isinstance(value, dict) and len(value) == 1):
        return None
    (name, arg), = value.items()
    if name == "Ref" and isinstance(arg, str):
        return arg
    if name == "Fn::GetAtt":
        if isinstance(arg, list) and arg and isinstance(arg[0], str):
            return arg[0]
        if isinstance(arg, str):
            return arg.split(".", 1)[0]
    if name == "Fn::Sub":
        text = arg[0] if isinstance(arg, list) and arg else arg
        if isinstance(text, str):
            m = SUB_VARIABLE.fullmatch(text.strip())
            if m:
                return m.group(1).split(".", 1)[0]
    return None


def _targets(name: str, arg: Any, path: tuple) -> Iterator[tuple[str, tuple]]:
    """The names an intrinsic refers to, with the path to report them at."""
    if name == "Ref" and isinstance(arg, str):
        yield arg, path
    elif name == "Fn::GetAtt":
        if isinstance(arg, list) and arg and isinstance(arg[0], str):
            yield arg[0], path
        elif isinstance(arg, str) and "." in arg:
            yield arg.split(".", 1)[0], path
    elif name == "Fn::Sub":
        text, local = arg, {}
        if isinstance(arg, list) and arg:
            text = arg[0]
            local = arg[1] if len(arg) > 1 and isinstance(arg[1], dict) else {}
        if isinstance(text, str):
            for m in SUB_VARIABLE.finditer(text):
                var = m.group(1).strip()
                if var in local or var.split(".", 1)[0] in local:
                    continue
                yield var.split(".", 1)[0] if not var.startswith("AWS::") else var, path
    elif name == "Fn::If" and isinstance(arg, list) and arg and isinstance(arg[0], str):
        yield arg[0], path
    elif name == "Condition" and isinstance(arg, str) and len(path) >= 2 and path[0] == "Conditions":
        yield arg, path


def _in_events_target(path: tuple, targets: dict) -> bool:
    """Whether ``path`` is the API/bucket/queue/... property of an event (reported by check_event)."""
    if len(path) == 7 and path[0] == "Resources" and path[2:4] == ("Properties", "Events") and path[5] == "Properties":
        return path[6] in {prop for prop, _ in targets.values()}
    return False


# -- the transformed template
MAX_RESOURCES = 500
MAX_PARAMETERS = 200
MAX_OUTPUTS = 200
MAX_TEMPLATE_BYTES = 1_000_000  # from S3; lamctl uploads templates above the 51,200 bytes of an inline body


def transformed_findings(template: Template, transformed: dict) -> list[Finding]:
    """CloudFormation's stack quotas (docs/architecture.md, facts of the platform) checked on the transform's output."""
    out = []
    for section, limit in (("Resources", MAX_RESOURCES), ("Parameters", MAX_PARAMETERS), ("Outputs", MAX_OUTPUTS)):
        body = transformed.get(section)
        if isinstance(body, dict) and len(body) > limit:
            out.append(finding_at(template, (section,), f"the transformed template has {len(body):,} "
                                  f"{section.lower()}; CloudFormation allows {limit} per stack", key=True,
                                  hint="split the application into several stacks", code="limit"))
    size = len(json.dumps(transformed, separators=(",", ":"), default=str).encode())
    if size > MAX_TEMPLATE_BYTES:
        out.append(finding_at(template, (), f"the transformed template takes {size:,} bytes; CloudFormation "
                              f"accepts at most {MAX_TEMPLATE_BYTES:,}", hint="split the application into several "
                              "stacks", code="limit"))
    return out


# -- cfn-lint on the transformed template (optional extra ``lint``)
def lint_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("cfnlint") is not None


def transform_for_lint(template: Template, region: str, parameters: dict | None = None) -> dict:
    """The template after lamctl's transform, local code paths replaced by placeholder S3 locations (and
    Serverless Application Repository applications by placeholder template URLs: validate is offline).

    A TemplateError of the transform propagates (the caller reports it as a finding)."""
    from lamctl.packager.sar import PlaceholderApplications
    from lamctl.transform import transform

    return transform(with_placeholder_code(template.data), region=region, parameters=dict(parameters or {}),
                     where=template.where, applications=PlaceholderApplications())


# Properties naming local files that ``lamctl package`` uploads; validate runs before packaging.
LOCAL_FILE_PROPERTIES = {**{t: p for t, p in CODE_PROPERTIES.items() if t.startswith(SERVERLESS_PREFIX)},
                         "AWS::Serverless::Api": "DefinitionUri", "AWS::Serverless::HttpApi": "DefinitionUri"}
PLACEHOLDER_BUCKET = "lamctl-validate-placeholder"


def with_placeholder_code(data: dict) -> dict:
    """A copy of ``data`` whose local paths (``CodeUri: src/``) are placeholder S3 URIs, as after packaging.

    The transform only accepts S3 locations; validating a source template must not fail on that."""
    return placeholder_code(data)[0]


def placeholder_code(data: dict, bucket: str = PLACEHOLDER_BUCKET) -> tuple[dict, list[str]]:
    """:func:`with_placeholder_code` with the bucket to use, and what was swapped (``Fn.CodeUri``,
    ``Globals.Function.CodeUri``, in template order)."""
    import copy

    out = copy.deepcopy(data)
    swapped: list[str] = []

    def swap(props: Any, prop: str, name: str) -> None:
        if isinstance(props, dict) and isinstance(props.get(prop), str) and not props[prop].startswith("s3://"):
            props[prop] = f"s3://{bucket}/{props[prop].strip('/') or 'code'}"
            swapped.append(f"{name}.{prop}")

    glob = out.get("Globals") if isinstance(out.get("Globals"), dict) else {}
    for section, rtype in GLOBALS_SECTIONS.items():
        if rtype in LOCAL_FILE_PROPERTIES:
            swap(glob.get(section), LOCAL_FILE_PROPERTIES[rtype], f"Globals.{section}")
    resources = out.get("Resources") if isinstance(out.get("Resources"), dict) else {}
    for name, res in resources.items():
        if isinstance(res, dict) and res.get("Type") in LOCAL_FILE_PROPERTIES:
            swap(res.get("Properties"), LOCAL_FILE_PROPERTIES[res["Type"]], str(name))
    return out, swapped


def lint_findings(template: Template, transformed: dict, region: str) -> list[Finding]:
    """cfn-lint's findings on ``transformed``, located in the source template.

    A finding under ``Resources.X`` points at X's property in the source when X is
    a source resource (at Globals when the value came from there), else at the
    serverless resource X was generated from (``FnRole`` -> ``Fn``). ``E`` rules
    are errors, ``W`` rules warnings; informational rules are left out."""
    from cfnlint.api import lint

    text = json.dumps(transformed, indent=1, default=str)
    matches = lint(text, regions=[region])
    out: list[Finding] = []
    for m in matches:
        rule_id = str(getattr(m.rule, "id", "") or "")
        if rule_id.startswith("I"):
            continue
        severity = "warning" if rule_id.startswith("W") else ERROR
        path = tuple(getattr(m, "path", None) or ())
        src_path, note = _source_path(template, path)
        if rule_id == "E3001" and len(path) == 3 and path[0] == "Resources" and path[2] == "Description":
            # a resource-level Description: CloudFormation accepts it (and ignores it), cfn-lint does not
            severity, note = "warning", "CloudFormation accepts and ignores it"
        message = f"{rule_id} {_dotted(path)}: {m.message}" if path else f"{rule_id} {m.message}"
        if note:
            message += f" ({note})"
        f = finding_at(template, src_path, message, severity=severity, code=rule_id or "cfn-lint",
                       key=len(src_path) == 2)
        out.append(f)
    seen, unique = set(), []
    for f in out:
        if (f.path, f.message) not in seen:
            seen.add((f.path, f.message))
            unique.append(f)
    unique.sort(key=lambda f: (f.line or 0, f.col or 0, f.message))
    return unique


def _dotted(path: tuple) -> str:
    return ".".join(str(p) for p in path)


def _source_path(template: Template, path: tuple) -> tuple[tuple, str | None]:
    data = template.data if isinstance(template.data, dict) else {}
    resources = data.get("Resources") if isinstance(data.get("Resources"), dict) else {}
    if len(path) < 2 or path[0] != "Resources":
        return path, None
    rid = path[1]
    if rid in resources:
        res = resources[rid]
        rtype = res.get("Type") if isinstance(res, dict) else None
        if isinstance(rtype, str) and rtype.startswith("AWS::Serverless::") and len(path) >= 4 \
                and path[2] == "Properties":
            props = res.get("Properties") if isinstance(res.get("Properties"), dict) else {}
            section = rtype.rsplit("::", 1)[-1]
            glob = _get(data, "Globals", section)
            if path[3] not in props and isinstance(glob, dict) and path[3] in glob:
                return ("Globals", section) + tuple(path[3:]), f"set in Globals.{section}"
        return path, None
    owners = sorted((r for r in resources if isinstance(r, str) and rid.startswith(r)
                     and isinstance(resources[r], dict)
                     and str(resources[r].get("Type", "")).startswith("AWS::Serverless::")), key=len, reverse=True)
    if owners:
        return ("Resources", owners[0]), f"{rid} is generated from {owners[0]}"
    if rid.startswith(GENERATED_NAMES):
        return ("Resources",), f"{rid} is generated by the transform"
    return ("Resources",), None
