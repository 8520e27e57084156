"""CloudFormation resource types the local cloud adds to moto's: Lambda versions, aliases and function URLs,
CloudWatch alarms, REST and HTTP APIs, nested stacks, Step Functions state machines.

moto's CloudFormation skips ``AWS::Lambda::Alias`` (with a warning) and its
``AWS::Lambda::Version`` answers neither ``!Ref`` (the version ARN) nor
``!GetAtt V.Version``, which is exactly what SAM's ``AutoPublishAlias``
generates. With these two models a stack deployed to the local cloud gets
its published version and its alias, moved to the new version on each
deploy that changes the code, as CloudFormation does. An alias with a
``DeploymentPreference`` (``UpdatePolicy: CodeDeployLambdaAliasUpdate``) is
left where it was on update, as CloudFormation leaves it for CodeDeploy: the
local cloud has no CodeDeploy, so ``lamctl deploy`` then shifts it with
lamctl's release engine (:mod:`lamctl.release.preferences`).

moto's CloudFormation skips ``AWS::CloudWatch::Alarm`` too; created here, the
alarms a template declares exist on the local cloud, so a release (or a
``DeploymentPreference``) watches them, and ``aws cloudwatch set-alarm-state``
rehearses a rollback.

moto's ``AWS::ApiGateway::RestApi`` wants ``Name`` and ignores ``Body``, and
it has no ``AWS::ApiGateway::Stage`` nor any ``AWS::ApiGatewayV2`` model: SAM's
``Api`` and ``HttpApi`` events failed or were skipped. Here an API takes its
name, paths, methods and integrations from its OpenAPI body (updated in place
on a redeploy), and stages are created, moved and deleted, so that
:mod:`lamctl.local.cloud.apis` can answer calls to them.

moto's CloudFormation skips ``AWS::Lambda::EventInvokeConfig`` (SAM's ``EventInvokeConfig``) and drops a
function's ``DeadLetterConfig``: here both reach the function, so its asynchronous invocations are retried and
delivered as the template says.

moto's CloudFormation skips ``AWS::Scheduler::Schedule`` (SAM's ``ScheduleV2``): created here in moto's EventBridge
Scheduler, which keeps schedules but never fires them; the local cloud's scheduler fires them.

moto's CloudFormation skips ``AWS::Lambda::Url`` too (so ``!GetAtt F.FunctionUrl`` in an output failed the
stack's outputs as a whole): created here, a function URL (SAM's ``FunctionUrlConfig``) exists and answers.

moto's ``AWS::StepFunctions::StateMachine`` files a state machine where the executing interpreter does not
look, and drops ``DefinitionSubstitutions``, ``Definition``, ``DefinitionS3Location`` and the type; it has
no ``StateMachineVersion`` nor ``StateMachineAlias``: the three are here (SAM's ``AutoPublishAlias`` on a
state machine), so that a stack's state machine runs its executions (:mod:`lamctl.local.cloud.states`) and
its alias follows the stack's version (a gradual ``DeploymentPreference`` shifted by ``lamctl deploy``).

The types the local cloud creates neither way (an Amazon MQ broker, an API Gateway domain name, ...) get a
:class:`PlaceholderResource`: nothing is made, but Ref and GetAtt of it resolve to placeholder values (marked
``lamctl-placeholder``), so a template that refers to it deploys and ``lamctl deploy`` names the placeholders.

:func:`register` installs them; it is called by the local cloud's server
(:mod:`lamctl.local.cloud.emulator`) before it answers any request.
"""

from __future__ import annotations

import functools
import json
import os
from typing import Any

from lamctl.release.stacks import PLACEHOLDER_MARK

from . import moto_ext

_registered = False
_METHODS = {"get", "put", "post", "delete", "options", "head", "patch"}  # OpenAPI operations (path-level keys aside)
_ANY = "x-amazon-apigateway-any-method"
_INTEGRATION = "x-amazon-apigateway-integration"


def _routing(value: Any) -> dict | None:
    """CloudFormation's ``RoutingConfig`` (a list of ``{FunctionVersion, FunctionWeight}``) in the API's shape."""
    if not isinstance(value, dict):
        return None
    weights = value.get("AdditionalVersionWeights")
    if isinstance(weights, list):
        return {"AdditionalVersionWeights": {str(w["FunctionVersion"]): float(w["FunctionWeight"])
                                             for w in weights if isinstance(w, dict)}}
    if isinstance(weights, dict):
        return {"AdditionalVersionWeights": {str(k): float(v) for k, v in weights.items()}}
    return None


def _function_name(value: Any) -> str:
    """A function name from a name, an ARN (``!GetAtt F.Arn``) or a partial ARN."""
    text = str(value)
    if ":function:" in text:
        return text.split(":function:", 1)[1].split(":")[0]
    return text


def _importable(operation: dict) -> dict:
    """An operation whose integration moto's importer can take (a ``mock`` one, SAM's CORS preflight, included)."""
    integration = operation.get(_INTEGRATION)
    if not isinstance(integration, dict):
        return operation
    return {**operation, _INTEGRATION: moto_ext.rest_integration_import_ready(integration)}


def _operations(body: dict) -> dict:
    """An OpenAPI body's paths for moto's importers: API Gateway's ANY extension as ``ANY``, and path-level keys
    (``parameters``, ...) left out, as they are not methods."""
    paths = {}
    for path, operations in (body.get("paths") or {}).items():
        if isinstance(operations, dict):
            paths[path] = {("ANY" if verb == _ANY else verb): _importable(op) for verb, op in operations.items()
                           if isinstance(op, dict) and (verb.lower() in _METHODS or verb == _ANY)}
    return paths


class _Declared:
    """What every CloudFormation model says about itself, from class attributes (a mixin: moto lists only the
    direct subclasses of its ``CloudFormationModel``, so each model names both)."""

    TYPE = ""
    NAME_PROPERTY = ""  # the property that names the resource (else CloudFormation generates a name)
    PHYSICAL = "name"  # the attribute that is its physical ID (what Ref gives)
    ATTRS: dict[str, str] = {}  # GetAtt name -> attribute

    @property
    def physical_resource_id(self) -> str:
        return getattr(self, self.PHYSICAL)

    @classmethod
    def cloudformation_type(cls) -> str:
        return cls.TYPE

    @classmethod
    def cloudformation_name_type(cls) -> str:
        return cls.NAME_PROPERTY

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr in cls.ATTRS

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        if attribute_name in self.ATTRS:
            return getattr(self, self.ATTRS[attribute_name])
        raise moto_ext.unsupported_get_att()

    @classmethod
    def update_from_cloudformation_json(cls, original_resource: Any, new_resource_name: str,  # type: ignore[misc]
                                        cloudformation_json: dict[str, Any], account_id: str, region_name: str) -> Any:
        """An update creates the resource again from its new properties (a model whose update differs says so)."""
        return cls.create_from_cloudformation_json(new_resource_name, cloudformation_json, account_id,  # type: ignore[attr-defined]
                                                   region_name)


# ---------------------------------------------------------------- placeholders for the types not emulated

PLACEHOLDER = PLACEHOLDER_MARK  # in every placeholder value: lamctl deploy says which values are placeholders
_DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "resource_attributes.json")


@functools.lru_cache(maxsize=1)
def resource_attributes() -> dict[str, dict]:
    """{type: {"ref": property, "ref_kind": kind, "attrs": {GetAtt name: kind}}} (kinds: arn, list, number,
    string), from CloudFormation's resource schemas (``data/resource_attributes.json``)."""
    with open(_DATA, encoding="utf-8") as fh:
        data = json.load(fh)
    data.pop("_source", None)
    return data


# ARN service names that are not the type's service name in lower case
_ARN_SERVICES = {"AmazonMQ": "mq", "MSK": "kafka", "KinesisFirehose": "firehose", "Cognito": "cognito-idp",
                 "ElasticLoadBalancingV2": "elasticloadbalancing", "CertificateManager": "acm",
                 "StepFunctions": "states", "OpenSearchService": "es", "Elasticsearch": "es"}


class PlaceholderResource:
    """A resource of a type the local cloud does not create (``AWS::AmazonMQ::Broker``, an API Gateway domain
    name, ...): nothing is made, but the stack gets it, with a placeholder physical ID (what Ref gives) and the
    attributes its type documents (what GetAtt gives, ARN-shaped where the attribute is an ARN), each value
    carrying ``lamctl-placeholder``. So the templates that refer to it deploy, and ``lamctl deploy`` says which
    values are placeholders. GetAtt of an attribute the type does not document is refused, naming the type.

    Duck-typed as one of moto's CloudFormation models (moto_ext T24); :func:`placeholder_class` makes one class
    per type."""

    TYPE = ""
    REF: str | None = None  # the property whose value Ref gives (the primary identifier), when known
    REF_KIND = "string"
    ATTRS: dict[str, str] | None = None  # GetAtt name -> kind; None: the type is unknown, any attribute goes

    def __init__(self, logical_id: str, name: str, region: str, account: str):
        self.logical_resource_id = logical_id
        self.cf_resource_type = self.TYPE
        self.name = name  # the resource's generated name, unique in the account: the stack's, the logical ID's
        self.region = region
        self.account = account

    # what moto's CloudFormation asks of a model
    @classmethod
    def cloudformation_type(cls) -> str:
        return cls.TYPE

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return cls.ATTRS is None or attr in cls.ATTRS

    @classmethod
    def create_from_cloudformation_json(cls, resource_name: str, cloudformation_json: dict[str, Any],
                                        account_id: str, region_name: str, **kwargs: Any) -> "PlaceholderResource":
        logical_id = str(kwargs.get("LogicalId") or resource_name)
        return cls(logical_id, str(resource_name), region_name, account_id)

    @classmethod
    def update_from_cloudformation_json(cls, original_resource: Any, new_resource_name: str,
                                        cloudformation_json: dict[str, Any], account_id: str,
                                        region_name: str) -> "PlaceholderResource":
        return original_resource  # nothing was made: its values stay

    @classmethod
    def delete_from_cloudformation_json(cls, resource_name: str, cloudformation_json: dict[str, Any],
                                        account_id: str, region_name: str) -> None:
        return None

    def delete(self, account_id: str, region_name: str) -> None:
        return None

    def is_created(self) -> bool:
        return True

    # its values
    def _value(self, attribute: str, kind: str) -> Any:
        text = f"{PLACEHOLDER}-{self.name}" + (f"-{attribute}" if attribute else "")
        if kind == "arn":
            _aws, service, kind_name = (self.TYPE.split("::") + ["", ""])[:3]
            service = _ARN_SERVICES.get(service, service.lower())
            return f"arn:aws:{service}:{self.region}:{self.account}:{kind_name.lower()}/{text}"
        if kind == "list":
            return [text]
        if kind == "number":
            return 0
        return text

    @property
    def physical_resource_id(self) -> str:
        return self._value("", "arn" if self.REF_KIND == "arn" else "string")

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        if self.ATTRS is None:
            return self._value(attribute_name, "arn" if attribute_name.lower().endswith("arn") else "string")
        if attribute_name not in self.ATTRS:
            raise moto_ext.cfn_validation_error(
                f"Template error: resource {self.logical_resource_id} ({self.TYPE}, which the local cloud does not "
                f"create: a placeholder) has no attribute {attribute_name} in Fn::GetAtt; its attributes: "
                + (", ".join(sorted(self.ATTRS)) or "none"))
        return self._value(attribute_name, self.ATTRS[attribute_name])


@functools.lru_cache(maxsize=None)
def placeholder_class(resource_type: str) -> type:
    """The placeholder model of a type moto's CloudFormation does not create (moto_ext T24): the attributes
    CloudFormation documents for it, or any attribute for a type the resource schemas do not list."""
    known = resource_attributes().get(resource_type)
    attrs = dict(known["attrs"]) if known is not None else None
    return type(f"Placeholder_{resource_type.replace('::', '_')}", (PlaceholderResource,), {
        "TYPE": resource_type, "ATTRS": attrs, "REF": (known or {}).get("ref"),
        "REF_KIND": (known or {}).get("ref_kind") or "string"})


# ---------------------------------------------------------------- CloudFormation's defaults

# The default key policy CloudFormation gives an AWS::KMS::Key without KeyPolicy (its resource schema's default).
_DEFAULT_KEY_POLICY = {"Version": "2012-10-17", "Id": "key-default", "Statement": [{
    "Sid": "Enable IAM User Permissions", "Effect": "Allow",
    "Principal": {"AWS": "arn:{partition}:iam::{account}:root"},
    "Action": "kms:*", "Resource": "*"}]}


def _generated_name(context: dict, prefix: str) -> str:
    """A name as CloudFormation generates one, stable for the stack's resource (an update keeps it)."""
    import hashlib

    digest = hashlib.sha256(f"{context['stack_id']}/{context['logical_id']}".encode()).hexdigest()[:12].upper()
    return f"{prefix}-{context['logical_id']}-{digest}"


def fill_defaults(resource_type: str, props: dict, context: dict) -> None:
    """The defaults CloudFormation applies (its resource schemas and the services' API defaults) that moto's
    models lack, for the types the local cloud creates: without them moto refuses the resource (``Invalid
    document format None``, a FIFO queue's name without ``.fifo``, an ECR repository name with capitals) or fails
    on it (``KeyError: 'KeyPolicy'``). moto_ext T26 calls it."""
    if resource_type == "AWS::SSM::Document":
        props.setdefault("DocumentFormat", "JSON")  # CloudFormation's default
        props.setdefault("DocumentType", "Command")  # SSM CreateDocument's default
        if isinstance(props.get("Content"), (dict, list)):  # CloudFormation takes an object; SSM keeps text
            props["Content"] = json.dumps(props["Content"])
    elif resource_type == "AWS::KMS::Key":
        if "KeyPolicy" not in props:
            text = json.dumps(_DEFAULT_KEY_POLICY).replace("{partition}", str(context["partition"])).replace(
                "{account}", str(context["account"]))
            props["KeyPolicy"] = text  # as GetKeyPolicy answers it: text
    elif resource_type == "AWS::SSM::Parameter":
        props.setdefault("Name", _generated_name(context, "CFN"))  # moto's model ignores the name it generates
    elif resource_type == "AWS::ECR::Repository":
        # CloudFormation generates a lower-case name (ECR's rule); moto's has capitals, which ECR refuses
        props.setdefault("RepositoryName", _generated_name(context, str(context["stack_name"])).lower())
    elif resource_type == "AWS::SQS::Queue" and props.get("FifoQueue") in (True, "true") and "QueueName" not in props:
        # CloudFormation's generated name of a FIFO queue ends in .fifo, as SQS requires
        props["QueueName"] = _generated_name(context, str(context["stack_name"]))[:75] + ".fifo"


# ---------------------------------------------------------------- event sources the local cloud does not poll

_IDLE_SERVICES = {"mq": "Amazon MQ", "kafka": "Amazon MSK"}


def idle_source(props: Any) -> str | None:
    """What an ``AWS::Lambda::EventSourceMapping``'s source is when the local cloud does not poll it (``Amazon
    MQ``, ``Amazon MSK``, ``self-managed Kafka``), else None. Such a mapping is created disabled."""
    if not isinstance(props, dict):
        return None
    if props.get("SelfManagedEventSource") is not None and not props.get("EventSourceArn"):
        return "self-managed Kafka"
    arn = props.get("EventSourceArn")
    if isinstance(arn, str) and arn.startswith("arn:") and arn.count(":") >= 2:
        return _IDLE_SERVICES.get(arn.split(":")[2])
    return None


def _api_shape(props: dict) -> dict:
    """A mapping's CloudFormation properties as the Lambda API reports them (``SelfManagedEventSource``'s
    ``KafkaBootstrapServers`` is ``KAFKA_BOOTSTRAP_SERVERS``)."""
    source = props.get("SelfManagedEventSource")
    endpoints = source.get("Endpoints") if isinstance(source, dict) else None
    if not isinstance(endpoints, dict) or "KafkaBootstrapServers" not in endpoints:
        return props
    rest = {k: v for k, v in endpoints.items() if k != "KafkaBootstrapServers"}
    return {**props, "SelfManagedEventSource": {**source, "Endpoints": {
        **rest, "KAFKA_BOOTSTRAP_SERVERS": endpoints["KafkaBootstrapServers"]}}}


def idle_mappings(template: Any) -> list[tuple[str, str]]:
    """(logical ID, source) of a CloudFormation template's event source mappings that the local cloud creates
    disabled (:func:`idle_source`): what ``lamctl deploy`` notes."""
    resources = template.get("Resources") if isinstance(template, dict) else None
    if not isinstance(resources, dict):
        return []
    kinds = {"AWS::AmazonMQ::Broker": "Amazon MQ", "AWS::MSK::Cluster": "Amazon MSK",
             "AWS::MSK::ServerlessCluster": "Amazon MSK"}
    by_id = {lid: kinds[r.get("Type")] for lid, r in resources.items()
             if isinstance(r, dict) and r.get("Type") in kinds}
    out = []
    for lid, r in resources.items():
        if not isinstance(r, dict) or r.get("Type") != "AWS::Lambda::EventSourceMapping":
            continue
        props = r.get("Properties") or {}
        arn = props.get("EventSourceArn") if isinstance(props, dict) else None
        source = None
        if isinstance(arn, dict):
            target = arn.get("Ref") or arn.get("Fn::GetAtt")
            name = target[0] if isinstance(target, list) and target else target
            if isinstance(name, str) and "." in name:
                name = name.split(".", 1)[0]
            source = by_id.get(name) if isinstance(name, str) else None
        if source is None:
            source = idle_source(props) if not isinstance(arn, dict) else None
        if source is not None:
            out.append((str(lid), source))
    return out


def register() -> None:
    """Make moto's CloudFormation create Lambda versions and aliases (idempotent)."""
    global _registered
    if _registered:
        return
    # Light imports only: moto's CloudFormation (which imports every model) is loaded on its first use,
    # and then lists CloudFormationModel's subclasses, ours included.
    CloudFormationModel = moto_ext.cloudformation_model()

    class LambdaVersionModel(_Declared, CloudFormationModel):
        """``AWS::Lambda::Version``: publishes ``$LATEST``; Ref is the version ARN, GetAtt Version its number.

        Publishing waits until the version is first looked at (a Ref, a GetAtt, the stack's resource
        list): moto creates a stack update's new resources before it updates the changed ones, so
        publishing at creation would publish the function's old code."""

        TYPE = "AWS::Lambda::Version"
        ATTRS = {"Version": "version", "FunctionArn": "physical_resource_id"}

        def __init__(self, account_id: str, region: str, function_name: str, description: str):
            self.account_id = account_id
            self.region = region
            self.function_name = function_name
            self.description = description
            self._version: str | None = None

        @property
        def version(self) -> str:
            if self._version is None:
                self._version = moto_ext.lambda_publish_version(self.account_id, self.region, self.function_name,
                                                                self.description)
            return self._version

        @property
        def physical_resource_id(self) -> str:
            return f"arn:aws:lambda:{self.region}:{self.account_id}:function:{self.function_name}:{self.version}"

        @classmethod
        def create_from_cloudformation_json(cls, resource_name: str, cloudformation_json: dict[str, Any],  # type: ignore[misc]
                                            account_id: str, region_name: str, **kwargs: Any) -> "LambdaVersionModel":
            props = cloudformation_json.get("Properties") or {}
            moto_ext.lambda_require_function(account_id, region_name, _function_name(props["FunctionName"]))
            return cls(account_id, region_name, _function_name(props["FunctionName"]), props.get("Description") or "")

        @classmethod
        def delete_from_cloudformation_json(cls, resource_name: str, cloudformation_json: dict[str, Any],  # type: ignore[misc]
                                            account_id: str, region_name: str) -> None:
            return None  # a published version stays (SAM marks them DeletionPolicy: Retain anyway)

    class LambdaAliasModel(_Declared, CloudFormationModel):
        """``AWS::Lambda::Alias``: created, moved and deleted with the stack; Ref is the alias ARN."""

        TYPE, PHYSICAL, ATTRS = "AWS::Lambda::Alias", "alias_arn", {"AliasArn": "alias_arn"}

        def __init__(self, alias_arn: str, function_name: str, name: str):
            self.alias_arn = alias_arn
            self.function_name = function_name
            self.name = name

        @classmethod
        def create_from_cloudformation_json(cls, resource_name: str, cloudformation_json: dict[str, Any],  # type: ignore[misc]
                                            account_id: str, region_name: str, **kwargs: Any) -> "LambdaAliasModel":
            props = cloudformation_json.get("Properties") or {}
            function_name = _function_name(props["FunctionName"])
            arn = moto_ext.lambda_create_alias(account_id, region_name, function_name, props["Name"],
                                               str(props["FunctionVersion"]), props.get("Description") or "",
                                               _routing(props.get("RoutingConfig")))
            return cls(arn, function_name, props["Name"])

        @classmethod
        def update_from_cloudformation_json(cls, original_resource: Any, new_resource_name: str,  # type: ignore[misc]
                                            cloudformation_json: dict[str, Any], account_id: str,
                                            region_name: str) -> "LambdaAliasModel":
            props = cloudformation_json.get("Properties") or {}
            function_name = _function_name(props["FunctionName"])
            if (function_name, props["Name"]) != (original_resource.function_name, original_resource.name):
                moto_ext.lambda_delete_alias(account_id, region_name, original_resource.function_name,
                                             original_resource.name)
                return cls.create_from_cloudformation_json(new_resource_name, cloudformation_json, account_id,
                                                           region_name)
            # (the policy's Refs to the skipped CodeDeploy resources are dropped by moto: the key is what counts)
            if "CodeDeployLambdaAliasUpdate" in (cloudformation_json.get("UpdatePolicy") or {}):
                # CloudFormation leaves the move to CodeDeploy; here lamctl deploy shifts it afterwards
                return cls(moto_ext.lambda_alias_arn(account_id, region_name, function_name, props["Name"]),
                           function_name, props["Name"])
            arn = moto_ext.lambda_update_alias(account_id, region_name, function_name, props["Name"],
                                               str(props["FunctionVersion"]), props.get("Description") or "",
                                               _routing(props.get("RoutingConfig")) or {})
            return cls(arn, function_name, props["Name"])

        @classmethod
        def delete_from_cloudformation_json(cls, resource_name: str, cloudformation_json: dict[str, Any],  # type: ignore[misc]
                                            account_id: str, region_name: str) -> None:
            props = cloudformation_json.get("Properties") or {}
            try:
                moto_ext.lambda_delete_alias(account_id, region_name, _function_name(props["FunctionName"]),
                                             props["Name"])
            except Exception:  # noqa: BLE001 - the function went first: its aliases went with it
                pass

    class LambdaUrlModel(_Declared, CloudFormationModel):
        """``AWS::Lambda::Url`` (SAM's ``FunctionUrlConfig``): the function's URL, answering on the local cloud
        (:mod:`lamctl.local.cloud.function_urls`). GetAtt FunctionUrl is that address, FunctionArn the target's
        ARN (with its qualifier), which Ref gives too."""

        TYPE, PHYSICAL = "AWS::Lambda::Url", "function_arn"
        ATTRS = {"FunctionUrl": "url", "FunctionArn": "function_arn"}

        def __init__(self, function_name: str, function_arn: str, url: str):
            self.function_name = function_name
            self.function_arn = function_arn
            self.url = url

        @staticmethod
        def _config(props: dict) -> tuple[str, dict]:
            target = str(props["TargetFunctionArn"])
            name = _function_name(target)
            parts = target.split(":function:", 1)[1].split(":") if ":function:" in target else target.split(":")
            qualifier = props.get("Qualifier") or (parts[1] if len(parts) > 1 and parts[1] else None)
            config = {"AuthType": props.get("AuthType") or "NONE", "InvokeMode": props.get("InvokeMode") or "BUFFERED"}
            if props.get("Cors"):
                config["Cors"] = dict(props["Cors"])
            if qualifier and qualifier != "$LATEST":
                config["Qualifier"] = str(qualifier)
            return name, config

        @classmethod
        def create_from_cloudformation_json(cls, resource_name: str, cloudformation_json: dict[str, Any],  # type: ignore[misc]
                                            account_id: str, region_name: str, **kwargs: Any) -> "LambdaUrlModel":
            name, config = cls._config(cloudformation_json.get("Properties") or {})
            record = moto_ext.lambda_create_function_url(account_id, region_name, name, config)
            arn = f"arn:aws:lambda:{region_name}:{account_id}:function:{name}" + (
                f":{config['Qualifier']}" if config.get("Qualifier") else "")
            return cls(name, arn, record.url)

        @classmethod
        def update_from_cloudformation_json(cls, original_resource: Any, new_resource_name: str,  # type: ignore[misc]
                                            cloudformation_json: dict[str, Any], account_id: str,
                                            region_name: str) -> "LambdaUrlModel":
            try:
                moto_ext.lambda_delete_function_url(account_id, region_name, original_resource.function_name)
            except Exception:  # noqa: BLE001 - it went with its function
                pass
            return cls.create_from_cloudformation_json(new_resource_name, cloudformation_json, account_id,
                                                       region_name)

        @classmethod
        def delete_from_cloudformation_json(cls, resource_name: str, cloudformation_json: dict[str, Any],  # type: ignore[misc]
                                            account_id: str, region_name: str) -> None:
            props = cloudformation_json.get("Properties") or {}
            try:
                moto_ext.lambda_delete_function_url(account_id, region_name,
                                                    _function_name(props.get("TargetFunctionArn", resource_name)))
            except Exception:  # noqa: BLE001 - the function went first: its URL went with it
                pass

    class EventInvokeConfigModel(_Declared, CloudFormationModel):
        """``AWS::Lambda::EventInvokeConfig`` (SAM's ``EventInvokeConfig``): the retries, maximum event age and
        destinations of the function's asynchronous invocations. Ref is ``function:qualifier``. (moto keeps one
        configuration per function: the qualifier is not told apart.)"""

        TYPE, PHYSICAL = "AWS::Lambda::EventInvokeConfig", "name"

        def __init__(self, function_name: str, qualifier: str):
            self.function_name = function_name
            self.name = f"{function_name}:{qualifier}"

        @classmethod
        def create_from_cloudformation_json(cls, resource_name: str, cloudformation_json: dict[str, Any],  # type: ignore[misc]
                                            account_id: str, region_name: str, **kwargs: Any) -> "EventInvokeConfigModel":
            props = cloudformation_json.get("Properties") or {}
            name = _function_name(props["FunctionName"])
            config = {k: props[k] for k in ("MaximumRetryAttempts", "MaximumEventAgeInSeconds", "DestinationConfig")
                      if props.get(k) is not None}
            for key in ("MaximumRetryAttempts", "MaximumEventAgeInSeconds"):
                if key in config:
                    config[key] = int(config[key])
            moto_ext.lambda_put_event_invoke_config(account_id, region_name, name, config)
            return cls(name, str(props.get("Qualifier") or "$LATEST"))

        @classmethod
        def delete_from_cloudformation_json(cls, resource_name: str, cloudformation_json: dict[str, Any],  # type: ignore[misc]
                                            account_id: str, region_name: str) -> None:
            props = cloudformation_json.get("Properties") or {}
            try:
                moto_ext.lambda_delete_event_invoke_config(
                    account_id, region_name, _function_name(props.get("FunctionName") or resource_name.split(":")[0]))
            except Exception:  # noqa: BLE001 - the function went first
                pass

    class CloudWatchAlarmModel(_Declared, CloudFormationModel):
        """``AWS::CloudWatch::Alarm`` (a metric alarm): Ref is its name, GetAtt Arn its ARN."""

        TYPE, NAME_PROPERTY, ATTRS = "AWS::CloudWatch::Alarm", "AlarmName", {"Arn": "arn"}

        def __init__(self, account_id: str, region: str, name: str, arn: str):
            self.account_id = account_id
            self.region = region
            self.name = name
            self.arn = arn

        @classmethod
        def create_from_cloudformation_json(cls, resource_name: str, cloudformation_json: dict[str, Any],  # type: ignore[misc]
                                            account_id: str, region_name: str, **kwargs: Any) -> "CloudWatchAlarmModel":
            props = cloudformation_json.get("Properties") or {}
            name = str(props.get("AlarmName") or resource_name)
            alarm = moto_ext.cloudwatch_backend(account_id, region_name).put_metric_alarm(
                name=name, namespace=props.get("Namespace"), metric_name=props.get("MetricName"),
                comparison_operator=props.get("ComparisonOperator"),
                evaluation_periods=int(props.get("EvaluationPeriods") or 1), period=int(props.get("Period") or 60),
                threshold=float(props.get("Threshold") or 0), statistic=props.get("Statistic"),
                description=props.get("AlarmDescription") or "", dimensions=list(props.get("Dimensions") or []),
                alarm_actions=list(props.get("AlarmActions") or []),
                datapoints_to_alarm=props.get("DatapointsToAlarm"),
                extended_statistic=props.get("ExtendedStatistic"), ok_actions=list(props.get("OKActions") or []),
                insufficient_data_actions=list(props.get("InsufficientDataActions") or []), unit=props.get("Unit"),
                actions_enabled=props.get("ActionsEnabled", True) not in (False, "false"),
                treat_missing_data=props.get("TreatMissingData"))
            return cls(account_id, region_name, name, alarm.alarm_arn)

        @classmethod
        def update_from_cloudformation_json(cls, original_resource: Any, new_resource_name: str,  # type: ignore[misc]
                                            cloudformation_json: dict[str, Any], account_id: str,
                                            region_name: str) -> "CloudWatchAlarmModel":
            props = cloudformation_json.get("Properties") or {}
            new_name = str(props.get("AlarmName") or original_resource.name)
            if new_name != original_resource.name:  # a new name replaces the alarm
                cls.delete_from_cloudformation_json(original_resource.name, {}, account_id, region_name)
            return cls.create_from_cloudformation_json(new_name, cloudformation_json, account_id, region_name)

        @classmethod
        def delete_from_cloudformation_json(cls, resource_name: str, cloudformation_json: dict[str, Any],  # type: ignore[misc]
                                            account_id: str, region_name: str) -> None:
            moto_ext.cloudwatch_backend(account_id, region_name).delete_alarms([resource_name])  # the physical ID: its name

        def delete(self, account_id: str, region_name: str) -> None:
            self.delete_from_cloudformation_json(self.name, {}, account_id, region_name)

    class IdleEventSourceMappingModel(moto_ext.lambda_event_source_mapping_class(), CloudFormationModel):
        """``AWS::Lambda::EventSourceMapping``: moto's, except that a mapping of a source the local cloud does not
        poll (Amazon MQ, MSK, self-managed Kafka: :func:`idle_source`), which moto refuses, is created disabled,
        so that the stack deploys; such sources deliver nothing locally."""

        @classmethod
        def create_from_cloudformation_json(cls, resource_name: str, cloudformation_json: dict[str, Any],  # type: ignore[misc]
                                            account_id: str, region_name: str, **kwargs: Any) -> Any:
            props = cloudformation_json.get("Properties") or {}
            if idle_source(props) is not None:
                return moto_ext.lambda_record_idle_mapping(account_id, region_name, _api_shape(props))
            return super().create_from_cloudformation_json(resource_name, cloudformation_json, account_id,
                                                           region_name, **kwargs)

        @classmethod
        def update_from_cloudformation_json(cls, original_resource: Any, new_resource_name: str,  # type: ignore[misc]
                                            cloudformation_json: dict[str, Any], account_id: str,
                                            region_name: str) -> Any:
            props = cloudformation_json.get("Properties") or {}
            if idle_source(props) is not None:
                original_resource.delete(account_id, region_name)
                return moto_ext.lambda_record_idle_mapping(account_id, region_name, _api_shape(props))
            return super().update_from_cloudformation_json(original_resource, new_resource_name,
                                                           cloudformation_json, account_id, region_name)

    apigateway = moto_ext.apigateway_module()

    class RestApiModel(apigateway.RestAPI, CloudFormationModel):  # a direct subclass: moto lists only those
        """``AWS::ApiGateway::RestApi`` as SAM writes it: an OpenAPI/Swagger ``Body`` (whose ``info.title`` names
        the API when ``Name`` is absent) with its paths, methods and Lambda integrations. moto's own model wants
        ``Name`` and ignores ``Body``; its importer takes OpenAPI 3 only, and the paths walk is the same for
        Swagger 2, so the body is handed to it with the version key it accepts."""

        @classmethod
        def create_from_cloudformation_json(cls, resource_name: str, cloudformation_json: dict[str, Any],  # type: ignore[misc]
                                            account_id: str, region_name: str, **kwargs: Any) -> Any:
            props = cloudformation_json.get("Properties") or {}
            body = props.get("Body") if isinstance(props.get("Body"), dict) else None
            name = props.get("Name") or ((body or {}).get("info") or {}).get("title") or resource_name
            backend = moto_ext.apigateway_backend(account_id, region_name)
            api = backend.create_rest_api(name=str(name), description=props.get("Description") or "",
                                          endpoint_configuration=props.get("EndpointConfiguration"))
            if body is not None:
                _import_body(backend, api.id, body)
            return api

        @classmethod
        def update_from_cloudformation_json(cls, original_resource: Any, new_resource_name: str,  # type: ignore[misc]
                                            cloudformation_json: dict[str, Any], account_id: str,
                                            region_name: str) -> Any:
            props = cloudformation_json.get("Properties") or {}
            body = props.get("Body") if isinstance(props.get("Body"), dict) else None
            backend = moto_ext.apigateway_backend(account_id, region_name)
            api = backend.get_rest_api(original_resource.id)
            api.name = str(props.get("Name") or ((body or {}).get("info") or {}).get("title") or api.name)
            api.description = props.get("Description") or ""
            if body is not None:
                _import_body(backend, api.id, body, mode="overwrite")
            return api

        @classmethod
        def delete_from_cloudformation_json(cls, resource_name: str, cloudformation_json: dict[str, Any],  # type: ignore[misc]
                                            account_id: str, region_name: str) -> None:
            try:
                moto_ext.apigateway_backend(account_id, region_name).delete_rest_api(resource_name)
            except Exception:  # noqa: BLE001 - already gone
                pass

    class ApiStageModel(_Declared, CloudFormationModel):
        """``AWS::ApiGateway::Stage`` (SAM's ``Prod``): a stage of a REST API on a deployment; Ref is its name."""

        TYPE, NAME_PROPERTY = "AWS::ApiGateway::Stage", "StageName"

        def __init__(self, api_id: str, name: str):
            self.api_id = api_id
            self.name = name

        @classmethod
        def create_from_cloudformation_json(cls, resource_name: str, cloudformation_json: dict[str, Any],  # type: ignore[misc]
                                            account_id: str, region_name: str, **kwargs: Any) -> "ApiStageModel":
            props = cloudformation_json.get("Properties") or {}
            api_id, name = str(props["RestApiId"]), str(props.get("StageName") or resource_name)
            backend = moto_ext.apigateway_backend(account_id, region_name)
            backend.create_stage(api_id, name, _id_of(props.get("DeploymentId")),
                                 variables=dict(props.get("Variables") or {}),
                                 description=props.get("Description") or "",
                                 tracing_enabled=props.get("TracingEnabled"))
            return cls(api_id, name)

        @classmethod
        def update_from_cloudformation_json(cls, original_resource: Any, new_resource_name: str,  # type: ignore[misc]
                                            cloudformation_json: dict[str, Any], account_id: str,
                                            region_name: str) -> "ApiStageModel":
            props = cloudformation_json.get("Properties") or {}
            backend = moto_ext.apigateway_backend(account_id, region_name)
            api_id, name = str(props["RestApiId"]), str(props.get("StageName") or original_resource.name)
            if (api_id, name) != (original_resource.api_id, original_resource.name):
                original_resource.delete(account_id, region_name)
                return cls.create_from_cloudformation_json(name, cloudformation_json, account_id, region_name)
            stage = backend.get_stage(api_id, name)
            stage.deployment_id = _id_of(props.get("DeploymentId")) or stage.deployment_id  # a new deployment
            stage.variables = dict(props.get("Variables") or {})
            stage.description = props.get("Description") or ""
            return cls(api_id, name)

        def delete(self, account_id: str, region_name: str) -> None:
            try:
                moto_ext.apigateway_backend(account_id, region_name).delete_stage(self.api_id, self.name)
            except Exception:  # noqa: BLE001 - the API went first, with its stages
                pass

    _v2_backend = moto_ext.apigatewayv2_backend

    def _import_v2_body(api: Any, body: dict) -> None:
        """moto's importer, with API Gateway's ANY extension as ``ANY`` and path-level keys left out; the
        API's stages survive a re-import (moto's clears them with the routes)."""
        stages = dict(api.stages)
        api.import_api(json.dumps({**body, "paths": _operations(body)}, default=str), False)
        api.stages.update(stages)

    class HttpApiModel(_Declared, CloudFormationModel):
        """``AWS::ApiGatewayV2::Api`` as SAM writes it for ``HttpApi``: an OpenAPI ``Body`` with its routes and
        Lambda integrations. Ref is the API ID; GetAtt ApiEndpoint / ApiId."""

        TYPE, NAME_PROPERTY, PHYSICAL = "AWS::ApiGatewayV2::Api", "Name", "api_id"
        ATTRS = {"ApiEndpoint": "api_endpoint", "ApiId": "api_id"}

        def __init__(self, api: Any):
            self.api = api

        @property
        def api_id(self) -> str:
            return self.api.api_id

        @property
        def api_endpoint(self) -> str:
            return self.api.api_endpoint

        @classmethod
        def create_from_cloudformation_json(cls, resource_name: str, cloudformation_json: dict[str, Any],  # type: ignore[misc]
                                            account_id: str, region_name: str, **kwargs: Any) -> "HttpApiModel":
            props = cloudformation_json.get("Properties") or {}
            body = props.get("Body") if isinstance(props.get("Body"), dict) else None
            name = props.get("Name") or ((body or {}).get("info") or {}).get("title") or resource_name
            api = _v2_backend(account_id, region_name).create_api(
                api_key_selection_expression=None, cors_configuration=props.get("CorsConfiguration"),
                description=props.get("Description") or "", disable_schema_validation=None,
                disable_execute_api_endpoint=props.get("DisableExecuteApiEndpoint"), name=str(name),
                protocol_type=props.get("ProtocolType") or "HTTP", route_selection_expression=None,
                tags=dict(props.get("Tags") or {}), version=None)
            if body is not None:
                _import_v2_body(api, body)
            return cls(api)

        @classmethod
        def update_from_cloudformation_json(cls, original_resource: Any, new_resource_name: str,  # type: ignore[misc]
                                            cloudformation_json: dict[str, Any], account_id: str,
                                            region_name: str) -> "HttpApiModel":
            props = cloudformation_json.get("Properties") or {}
            body = props.get("Body") if isinstance(props.get("Body"), dict) else None
            api = _v2_backend(account_id, region_name).get_api(original_resource.api.api_id)
            if body is not None:
                _import_v2_body(api, body)
            api.name = str(props.get("Name") or ((body or {}).get("info") or {}).get("title") or api.name)
            return cls(api)

        def delete(self, account_id: str, region_name: str) -> None:
            _v2_backend(account_id, region_name).delete_api(self.api.api_id)

    class HttpApiStageModel(_Declared, CloudFormationModel):
        """``AWS::ApiGatewayV2::Stage`` (SAM's ``$default``, auto-deployed); Ref is its name."""

        TYPE, NAME_PROPERTY = "AWS::ApiGatewayV2::Stage", "StageName"

        def __init__(self, api_id: str, name: str):
            self.api_id = api_id
            self.name = name

        @classmethod
        def create_from_cloudformation_json(cls, resource_name: str, cloudformation_json: dict[str, Any],  # type: ignore[misc]
                                            account_id: str, region_name: str, **kwargs: Any) -> "HttpApiStageModel":
            props = cloudformation_json.get("Properties") or {}
            api_id, name = _id_of(props["ApiId"]), str(props.get("StageName") or resource_name)
            _v2_backend(account_id, region_name).create_stage(api_id, {
                "stageName": name, "autoDeploy": props.get("AutoDeploy"),
                "stageVariables": dict(props.get("StageVariables") or {}),
                "description": props.get("Description")})
            return cls(api_id, name)

        @classmethod
        def update_from_cloudformation_json(cls, original_resource: Any, new_resource_name: str,  # type: ignore[misc]
                                            cloudformation_json: dict[str, Any], account_id: str,
                                            region_name: str) -> "HttpApiStageModel":
            original_resource.delete(account_id, region_name)
            props = cloudformation_json.get("Properties") or {}
            return cls.create_from_cloudformation_json(str(props.get("StageName") or original_resource.name),
                                                       cloudformation_json, account_id, region_name)

        def delete(self, account_id: str, region_name: str) -> None:
            try:
                _v2_backend(account_id, region_name).delete_stage(self.api_id, self.name)
            except Exception:  # noqa: BLE001 - the API went first, with its stages
                pass

    def _id_of(value: Any) -> str:
        """A Ref's value: moto hands some resources (an API deployment) over as the object, not its ID."""
        if value is None or isinstance(value, str):
            return value or ""
        return str(getattr(value, "physical_resource_id", None) or getattr(value, "id", value))

    def _import_body(backend: Any, api_id: str, body: dict, mode: str = "merge") -> None:
        doc = {k: v for k, v in body.items() if k != "swagger"}
        doc["openapi"] = "3.0.1"
        doc["paths"] = _operations(body)
        backend.put_rest_api(api_id, doc, fail_on_warnings=False, mode=mode)

    _register_state_machines(CloudFormationModel)

    class SchedulerScheduleModel(_Declared, CloudFormationModel):
        """``AWS::Scheduler::Schedule`` (SAM's ``ScheduleV2``): an EventBridge Scheduler schedule, which the local
        cloud fires on time (:mod:`lamctl.local.cloud.schedules`). Ref is its name, GetAtt Arn its ARN."""

        TYPE, NAME_PROPERTY, ATTRS = "AWS::Scheduler::Schedule", "Name", {"Arn": "arn"}

        def __init__(self, name: str, group_name: str, arn: str):
            self.name, self.group_name, self.arn = name, group_name, arn

        @classmethod
        def create_from_cloudformation_json(cls, resource_name: str, cloudformation_json: dict[str, Any],  # type: ignore[misc]
                                            account_id: str, region_name: str, **kwargs: Any) -> "SchedulerScheduleModel":
            props = dict(cloudformation_json.get("Properties") or {})
            props["Name"] = str(props.get("Name") or resource_name)
            props["Target"] = dict(props.get("Target") or {})
            props = {k: v for k, v in props.items() if v is not None}
            schedule = moto_ext.scheduler_create_schedule(account_id, region_name, props)
            return cls(schedule.name, schedule.group_name, schedule.arn)

        @classmethod
        def update_from_cloudformation_json(cls, original_resource: Any, new_resource_name: str,  # type: ignore[misc]
                                            cloudformation_json: dict[str, Any], account_id: str,
                                            region_name: str) -> "SchedulerScheduleModel":
            moto_ext.scheduler_delete_schedule(account_id, region_name, original_resource.group_name,
                                               original_resource.name)
            return cls.create_from_cloudformation_json(new_resource_name, cloudformation_json, account_id,
                                                       region_name)

        @classmethod
        def delete_from_cloudformation_json(cls, resource_name: str, cloudformation_json: dict[str, Any],  # type: ignore[misc]
                                            account_id: str, region_name: str) -> None:
            props = cloudformation_json.get("Properties") or {}
            moto_ext.scheduler_delete_schedule(account_id, region_name, props.get("GroupName"),
                                               str(props.get("Name") or resource_name))

    moto_ext.refresh_cloudformation_models()  # when moto in this process already served CloudFormation
    moto_ext.patch_cfn_placeholders(placeholder_class)
    moto_ext.patch_describe_stack_resource()
    moto_ext.patch_cfn_defaults(fill_defaults)
    moto_ext.patch_lenient_outputs()  # an output it cannot work out is left out: the stack stays deletable
    _registered = True


def _definition(props: dict, account_id: str, region_name: str, where: str) -> str:
    """A state machine's definition text: ``DefinitionString``, ``Definition`` (a mapping) or
    ``DefinitionS3Location``, with its ``DefinitionSubstitutions`` applied."""
    from .states import substitute

    if props.get("DefinitionString") is not None:
        text = str(props["DefinitionString"])
    elif isinstance(props.get("Definition"), dict):
        text = json.dumps(props["Definition"])
    elif isinstance(props.get("DefinitionS3Location"), dict):
        loc = props["DefinitionS3Location"]
        text = moto_ext.states_object(account_id, region_name, loc["Bucket"], loc["Key"],
                                      loc.get("Version")).decode("utf-8")
    else:
        raise ValueError(f"{where}: a state machine needs DefinitionString, Definition or DefinitionS3Location")
    return substitute(text, props.get("DefinitionSubstitutions"))


def _revision(definition: str, role: str) -> str:
    import hashlib

    return hashlib.sha256(f"{role}\n{definition}".encode()).hexdigest()[:32]


def _register_state_machines(CloudFormationModel: type) -> None:
    """``AWS::StepFunctions::StateMachine``, ``StateMachineVersion`` and ``StateMachineAlias`` (SAM's
    ``AutoPublishAlias``), in the backend that answers the Step Functions API (see moto_ext T40)."""
    moto_ext.load_states_models()  # moto's own models first: the last defined wins for a type

    class StateMachineModel(_Declared, CloudFormationModel):
        """Ref is the ARN; GetAtt Arn, Name, StateMachineRevisionId (changes with the definition or the role)."""

        TYPE, PHYSICAL = "AWS::StepFunctions::StateMachine", "arn"
        NAME_PROPERTY = "StateMachineName"
        ATTRS = {"Arn": "arn", "Name": "name", "StateMachineRevisionId": "revision"}

        def __init__(self, arn: str, name: str, revision: str):
            self.arn, self.name, self.revision = arn, name, revision

        @classmethod
        def create_from_cloudformation_json(cls, resource_name: str, cloudformation_json: dict[str, Any],  # type: ignore[misc]
                                            account_id: str, region_name: str, **kwargs: Any) -> "StateMachineModel":
            props = cloudformation_json.get("Properties") or {}
            name = props.get("StateMachineName") or resource_name  # moto generated it: stack-logical-id-random
            definition = _definition(props, account_id, region_name, resource_name)
            role = str(props.get("RoleArn") or "")
            logging = props.get("LoggingConfiguration")
            tracing = props.get("TracingConfiguration")
            machine = moto_ext.states_create(
                account_id, region_name, name, definition, role, props.get("StateMachineType"),
                {"level": logging.get("Level", "OFF")} if isinstance(logging, dict) else None,
                {"enabled": bool(tracing.get("Enabled"))} if isinstance(tracing, dict) else None,
                props.get("Tags") or [])
            return cls(machine.arn, machine.name, _revision(definition, role))

        @classmethod
        def update_from_cloudformation_json(cls, original_resource: Any, new_resource_name: str,  # type: ignore[misc]
                                            cloudformation_json: dict[str, Any], account_id: str,
                                            region_name: str) -> "StateMachineModel":
            props = cloudformation_json.get("Properties") or {}
            wanted = props.get("StateMachineName")
            if wanted and wanted != original_resource.name:  # a new name replaces the state machine
                new = cls.create_from_cloudformation_json(new_resource_name, cloudformation_json, account_id,
                                                          region_name)
                moto_ext.states_delete(account_id, region_name, original_resource.arn)
                return new
            definition = _definition(props, account_id, region_name, new_resource_name)
            role = str(props.get("RoleArn") or "")
            moto_ext.states_update(account_id, region_name, original_resource.arn, definition, role)
            return cls(original_resource.arn, original_resource.name, _revision(definition, role))

        @classmethod
        def delete_from_cloudformation_json(cls, resource_name: str, cloudformation_json: dict[str, Any],  # type: ignore[misc]
                                            account_id: str, region_name: str) -> None:
            moto_ext.states_delete(account_id, region_name, resource_name)  # the physical ID: its ARN

    class StateMachineVersionModel(_Declared, CloudFormationModel):
        """Publishes the state machine when first looked at (as ``AWS::Lambda::Version``: after the state machine
        itself was updated); Ref is the version ARN. A new revision of the state machine publishes again (on AWS
        the changed ``StateMachineRevisionId`` replaces the version; moto's CloudFormation does not update a
        resource whose template did not change, so the version follows the revision when looked at)."""

        TYPE, PHYSICAL, ATTRS = "AWS::StepFunctions::StateMachineVersion", "arn", {"Arn": "arn"}

        def __init__(self, account_id: str, region: str, machine_arn: str, description: str | None):
            self.account_id, self.region, self.machine_arn, self.description = (account_id, region, machine_arn,
                                                                                description)
            self._arn: str | None = None
            self._revision: str | None = None

        @property
        def arn(self) -> str:
            try:
                revision = _revision(*moto_ext.states_revision(self.account_id, self.region, self.machine_arn))
            except Exception:  # noqa: BLE001 - the state machine is gone (a stack being deleted): the last ARN
                return self._arn or ""
            if self._arn is None or revision != self._revision:
                self._arn = moto_ext.states_publish(self.account_id, self.region, self.machine_arn, self.description)
                self._revision = revision
            return self._arn

        @classmethod
        def create_from_cloudformation_json(cls, resource_name: str, cloudformation_json: dict[str, Any],  # type: ignore[misc]
                                            account_id: str, region_name: str,
                                            **kwargs: Any) -> "StateMachineVersionModel":
            props = cloudformation_json.get("Properties") or {}
            return cls(account_id, region_name, str(props["StateMachineArn"]), props.get("Description"))

        @classmethod
        def delete_from_cloudformation_json(cls, resource_name: str, cloudformation_json: dict[str, Any],  # type: ignore[misc]
                                            account_id: str, region_name: str) -> None:
            return None  # SAM keeps versions (DeletionPolicy: Retain)

    class StateMachineAliasModel(_Declared, CloudFormationModel):
        """``RoutingConfiguration`` or ``DeploymentPreference.StateMachineVersionArn``: created on it, moved at once
        on an update unless the preference is gradual (CANARY, LINEAR: left where it is, for ``lamctl deploy`` to
        shift). Ref is the alias ARN."""

        TYPE, PHYSICAL, ATTRS = "AWS::StepFunctions::StateMachineAlias", "arn", {"Arn": "arn"}

        def __init__(self, arn: str):
            self.arn = arn

        @staticmethod
        def _routing(props: dict) -> list[dict]:
            if props.get("RoutingConfiguration"):
                return [{"stateMachineVersionArn": str(r["StateMachineVersionArn"]), "weight": int(r["Weight"])}
                        for r in props["RoutingConfiguration"]]
            preference = props.get("DeploymentPreference") or {}
            return [{"stateMachineVersionArn": str(preference["StateMachineVersionArn"]), "weight": 100}]

        @classmethod
        def create_from_cloudformation_json(cls, resource_name: str, cloudformation_json: dict[str, Any],  # type: ignore[misc]
                                            account_id: str, region_name: str,
                                            **kwargs: Any) -> "StateMachineAliasModel":
            props = cloudformation_json.get("Properties") or {}
            name = props.get("Name") or resource_name
            return cls(moto_ext.states_create_alias(account_id, region_name, name, cls._routing(props),
                                                    props.get("Description")))

        @classmethod
        def update_from_cloudformation_json(cls, original_resource: Any, new_resource_name: str,  # type: ignore[misc]
                                            cloudformation_json: dict[str, Any], account_id: str,
                                            region_name: str) -> "StateMachineAliasModel":
            props = cloudformation_json.get("Properties") or {}
            pref = props.get("DeploymentPreference") or {}
            if not props.get("RoutingConfiguration") and str(pref.get("Type") or "").upper() in ("CANARY", "LINEAR"):
                # Step Functions shifts it on AWS; here lamctl deploy does, once the stack is up
                return cls(original_resource.arn)
            routing = cls._routing(props)
            base = routing[0]["stateMachineVersionArn"].rsplit(":", 1)[0]
            name = props.get("Name") or new_resource_name
            if f"{base}:{name}" != original_resource.arn:
                moto_ext.states_delete_alias(account_id, region_name, original_resource.arn)
                return cls.create_from_cloudformation_json(new_resource_name, cloudformation_json, account_id,
                                                           region_name)
            moto_ext.states_update_alias(account_id, region_name, original_resource.arn, routing)
            return cls(original_resource.arn)

        @classmethod
        def delete_from_cloudformation_json(cls, resource_name: str, cloudformation_json: dict[str, Any],  # type: ignore[misc]
                                            account_id: str, region_name: str) -> None:
            try:
                moto_ext.states_delete_alias(account_id, region_name, resource_name)
            except Exception:  # noqa: BLE001 - the state machine went first: its aliases went with it
                pass


_nested = {"registered": False}


def register_nested_stacks(load: bool = False) -> bool:
    """Make moto's CloudFormation create nested stacks with :class:`NestedStackModel` (idempotent); True once
    done. moto's own ``AWS::CloudFormation::Stack`` model is defined when its CloudFormation is loaded, and of
    two models of one type the one defined last is used, so this one is defined after that: at once with
    ``load``, else (in the emulator, on each request) as soon as a request has loaded it."""
    if _nested["registered"]:
        return True
    if not moto_ext.cloudformation_loaded(load):
        return False
    CloudFormationModel = moto_ext.cloudformation_model()

    class NestedStackModel(_Declared, CloudFormationModel):
        """``AWS::CloudFormation::Stack`` (SAM's ``AWS::Serverless::Application``): the template at
        ``TemplateURL`` (in the local cloud's S3) becomes a stack of its own, named as CloudFormation names
        it (``<parent>-<logical ID>-<suffix>``); Ref is its stack ID, ``!GetAtt App.Outputs.Name`` one of its
        outputs; an update updates it in place and deleting the parent deletes it. moto's own model answers
        neither, and re-creates the nested stack on every update."""

        TYPE = "AWS::CloudFormation::Stack"
        PHYSICAL = "stack_id"

        def __init__(self, stack_id: str, name: str, account_id: str, region: str):
            self.stack_id = stack_id
            self.name = name
            self.account_id = account_id
            self.region = region

        @classmethod
        def has_cfn_attr(cls, attr: str) -> bool:
            return attr.startswith("Outputs.")

        def get_cfn_attribute(self, attribute_name: str) -> Any:
            if attribute_name.startswith("Outputs."):
                outputs = moto_ext.nested_stack_outputs(self.account_id, self.region, self.stack_id)
                key = attribute_name[len("Outputs."):]
                if key in outputs:
                    return outputs[key]
            raise moto_ext.unsupported_get_att()

        @staticmethod
        def _arguments(props: dict, account_id: str, region_name: str) -> tuple[str, dict, dict]:
            template = moto_ext.nested_template(str(props["TemplateURL"]), account_id, region_name)
            parameters = {str(k): v if isinstance(v, str) else json.dumps(v) if isinstance(v, (dict, list))
                          else str(v) for k, v in (props.get("Parameters") or {}).items()}
            tags = {str(t["Key"]): str(t.get("Value", "")) for t in props.get("Tags") or [] if isinstance(t, dict)}
            return template, parameters, tags

        @classmethod
        def create_from_cloudformation_json(cls, resource_name: str, cloudformation_json: dict[str, Any],  # type: ignore[misc]
                                            account_id: str, region_name: str, **kwargs: Any) -> Any:
            props = cloudformation_json.get("Properties") or {}
            template, parameters, tags = cls._arguments(props, account_id, region_name)
            timeout = props.get("TimeoutInMinutes")
            stack_id = moto_ext.nested_stack_create(account_id, region_name, resource_name, template, parameters,
                                                    tags, props.get("NotificationARNs"),
                                                    int(timeout) if timeout is not None else None)
            return cls(stack_id, resource_name, account_id, region_name)

        @classmethod
        def update_from_cloudformation_json(cls, original_resource: Any, new_resource_name: str,  # type: ignore[misc]
                                            cloudformation_json: dict[str, Any], account_id: str,
                                            region_name: str) -> Any:
            props = cloudformation_json.get("Properties") or {}
            template, parameters, tags = cls._arguments(props, account_id, region_name)
            moto_ext.nested_stack_update(account_id, region_name, original_resource.stack_id, template, parameters,
                                         tags)
            return original_resource

        @classmethod
        def delete_from_cloudformation_json(cls, resource_name: str, cloudformation_json: dict[str, Any],  # type: ignore[misc]
                                            account_id: str, region_name: str) -> None:
            try:
                moto_ext.nested_stack_delete(account_id, region_name, resource_name)
            except Exception:  # noqa: BLE001 - already gone
                pass

        def delete(self, account_id: str, region_name: str) -> None:
            self.delete_from_cloudformation_json(self.stack_id, {}, account_id, region_name)

    moto_ext.refresh_cloudformation_models()
    _nested["registered"] = True
    return True
