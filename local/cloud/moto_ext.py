"""The one module that touches moto's internals: every import of ``moto.*``, every patch, every backend read.

lamctl's local cloud is moto's server with lamctl's behaviour added. moto's
public surface (its server, ``/moto-api/*``, the AWS APIs it answers) is not
enough: the local cloud reads moto's backends in-process, calls backend
methods, subclasses its CloudFormation models and wraps two of its methods.
Those are internals that a moto release may change. They are gathered here,
each documented with what lamctl needs and which moto behaviour it relies on
(written against moto 5.2.6; pyproject asks for 5.2.5 or later: the contract
tests pass on 5.2.5 and 5.2.6, while on 5.1.4 T8, T9 and T11 fail, and
``MotoRequestHandler`` first shipped in 5.2.5, moto's CodeDeploy backend in
5.1.4), and each has a contract test in
``tests/functional/test_localcloud_moto_contract.py`` whose failure names the
behaviour that changed. Upgrading moto: run that file first.

Nothing here imports moto at module import (``lamctl --help`` must stay fast):
every function imports what it uses.

Touch points (the contract tests use these names):

T1  lambda-backend     ``moto.awslambda.utils.get_backend(account, region)`` is the Lambda backend
                        (Docker-free when so configured); its ``_lambdas._functions[name]`` is
                        ``{"latest": LambdaFunction, "versions": [LambdaFunction, ...]}`` and
                        ``_lambdas._aliases[unqualified arn][alias]`` the alias (``function_version``,
                        ``routing_config``); ``layers_versions_by_arn(arn)`` a layer version
                        (``code_bytes``, ``code_sha_256``).
T2  lambda-function     a ``LambdaFunction`` has the attributes in :data:`LAMBDA_FUNCTION_ATTRIBUTES`.
T3  lambda-methods      backend ``get_function(name)``, ``publish_version(name, description)``,
                        ``create_alias(name, function_name, version, description, routing)``,
                        ``update_alias(...)`` (same), ``get_alias(name, function_name)``,
                        ``delete_alias(name, function_name)`` (aliases get ``.arn``).
T4  internal-invoke     moto runs the functions it calls itself (SNS, SQS mappings) through
                        ``LambdaFunction.invoke(self, body, request_headers, response_headers)``, which
                        returns the payload bytes: replaced so that they run on lamctl's runtime.
T5  account-of-key      ``moto.iam.models.get_account_id_from(access_key)``: the account moto files a
                        request under.
T6  cfn-models          moto's CloudFormation finds resource types among the *direct* subclasses of
                        ``moto.core.common_models.CloudFormationModel`` (``cloudformation_type``,
                        ``create/update/delete_from_cloudformation_json``), the last defined winning for a
                        type, through the lru-cached ``moto.cloudformation.parsing.get_model_list``,
                        ``get_model_map`` and ``get_name_type_map``; an unknown GetAtt raises
                        ``UnformattedGetAttTemplateException``.
T7  change-set-outputs  ``CloudFormationBackend.execute_change_set(change_set_name, stack_name)`` keeps the
                        outputs of before; wrapped so that ``stack.output_map`` is rebuilt with
                        ``stack._parse_template()`` / ``stack._create_output_map()`` (and ``change_sets``,
                        ``stacks``, ``change_set.stack_id`` find the stack).
T8  cloudwatch          ``moto.cloudwatch.models.cloudwatch_backends[account][region]``:
                        ``put_metric_alarm(**kwargs)`` (``alarm_arn``), ``delete_alarms(names)``,
                        ``alarms[name].state_value``.
T9  apigateway          ``moto.apigateway.models``: ``RestAPI`` (subclassed for ``AWS::ApiGateway::RestApi``),
                        ``apigateway_backends`` with ``create_rest_api``, ``get_rest_api``, ``delete_rest_api``,
                        ``put_rest_api(api_id, doc, fail_on_warnings, mode)``, ``create_stage``, ``get_stage``,
                        ``delete_stage``, ``apis``; resources with ``get_path()``, ``resource_methods``,
                        ``method_integration``.
T10 apigatewayv2        ``moto.apigatewayv2.models.apigatewayv2_backends``: ``create_api(**kwargs)``,
                        ``get_api``, ``delete_api``, ``create_stage(api_id, dict)``, ``delete_stage``, ``apis``;
                        an API's ``import_api(body, fail_on_warnings)``, ``stages``, ``routes``,
                        ``integrations``.
T11 server              ``moto.moto_server.werkzeug_app.DomainDispatcherApplication(create_backend_app)`` is
                        moto's WSGI application and ``MotoRequestHandler`` (5.2.5+) its request handler; its
                        ``/moto-api/reset`` drops every backend and ``/moto-api/config`` sets
                        ``{"lambda": {"use_docker": false}}``.
T12 codedeploy          ``moto.codedeploy.models.codedeploy_backends[account][region]``: ``deployments[id]``
                        (a ``DeploymentInfo``: ``revision``, ``deployment_config_name``,
                        ``application.compute_platform``,
                        ``application_name``, ``deployment_group_name``, ``deployment_group``
                        with ``auto_rollback_configuration`` and ``alarm_configuration``,
                        ``auto_rollback_configuration``), whose ``status``, ``start_time``,
                        ``complete_time``, ``deployment_overview`` and ``creator`` GetDeployment reports as
                        set; ``create_deployment(...)`` records one. moto never moves a deployment on and lacks
                        deployment configs, StopDeployment and hook reports: the local cloud supplies them
                        (:mod:`lamctl.local.cloud.codedeploy`).
T13 s3-multipart        ``moto.s3.models.S3Backend.upload_part(bucket, upload_id, ...)`` and
                        ``complete_multipart_upload(bucket, upload_id, ...)`` look the upload up in
                        ``get_bucket(bucket).multiparts`` and fail with a KeyError (HTTP 500) for one that was
                        aborted; wrapped to raise ``moto.s3.exceptions.NoSuchUpload`` (404), as S3 answers and
                        a client acts on (lamctl starts again an upload another lamctl aborted as a leftover).
T14 alias-revision      ``moto.awslambda.models.LambdaAlias`` keeps ``revision_id`` (reported as ``RevisionId``)
                        and changes through ``update(description, function_version, routing_config)``;
                        ``moto.awslambda.responses.LambdaResponse.update_alias()`` answers UpdateAlias from
                        ``self.body`` (JSON) and ``self.path`` (``.../functions/{name}/aliases/{alias}``) and
                        ignores ``RevisionId``; ``moto.awslambda.exceptions.PreconditionFailedException(message)``
                        is a 412. Wrapped as Lambda behaves: every change of an alias gets a new RevisionId,
                        and an UpdateAlias with a RevisionId other than the alias's current one is refused with
                        412 PreconditionFailedException, changing nothing.
"""

from __future__ import annotations

import json
import sys
from typing import Any, Callable, Iterator

# T11: moto's server API (public, but lamctl relies on its effect)
RESET_PATH = "/moto-api/reset"
CONFIG_PATH = "/moto-api/config"
LAMBDA_CONFIG = {"lambda": {"use_docker": False}}

# T2: what lamctl reads of a function (or version) record
LAMBDA_FUNCTION_ATTRIBUTES = (
    "function_name", "version", "region", "account_id", "handler", "run_time", "memory_size", "timeout",
    "environment_vars", "code_bytes", "code_sha_256", "layers", "architectures", "package_type",
    "reserved_concurrency",
)


# ---------------------------------------------------------------- T1-T3 Lambda


def lambda_backend(account: str, region: str) -> Any:
    """T1: the Lambda backend moto answers for (the Docker-free one when ``use_docker`` is off)."""
    from moto.awslambda.utils import get_backend

    return get_backend(account, region)


def lambda_function_entry(account: str, region: str, name: str) -> tuple[Any, dict[str, Any]] | None:
    """T1: (``$LATEST``, {version number: version}) of a function, or None when there is no such function."""
    try:
        entry = lambda_backend(account, region)._lambdas._functions.get(name)
    except KeyError:  # an unknown region or account
        return None
    if not entry or entry.get("latest") is None:
        return None
    return entry["latest"], {str(v.version): v for v in entry.get("versions") or []}


def lambda_alias(account: str, region: str, function_name: str, alias: str) -> Any | None:
    """T1: an alias record (``function_version``, ``routing_config``), or None."""
    unqualified = f"arn:aws:lambda:{region}:{account}:function:{function_name}"
    try:
        return lambda_backend(account, region)._lambdas._aliases.get(unqualified, {}).get(alias)
    except KeyError:
        return None


def lambda_layer_version(account: str, region: str, arn: str) -> Any | None:
    """T1: a published layer version (``code_bytes``, ``code_sha_256``) by its ARN, or None."""
    try:
        return lambda_backend(account, region).layers_versions_by_arn(arn)
    except (KeyError, ValueError):
        return None


def lambda_require_function(account: str, region: str, name: str) -> Any:
    """T3: the function, or moto's ResourceNotFound error."""
    return lambda_backend(account, region).get_function(name)


def lambda_publish_version(account: str, region: str, name: str, description: str) -> str:
    """T3: publish ``$LATEST``; the new version's number."""
    return str(lambda_backend(account, region).publish_version(name, description).version)


def lambda_create_alias(account: str, region: str, function_name: str, name: str, version: str,
                        description: str = "", routing: dict | None = None) -> str:
    """T3: create an alias; its ARN."""
    return lambda_backend(account, region).create_alias(name, function_name, version, description, routing).arn


def lambda_update_alias(account: str, region: str, function_name: str, name: str, version: str,
                        description: str = "", routing: dict | None = None) -> str:
    """T3: move an alias (``routing`` {} clears the weights); its ARN."""
    return lambda_backend(account, region).update_alias(name, function_name, version, description,
                                                        routing if routing is not None else {}).arn


def lambda_alias_arn(account: str, region: str, function_name: str, name: str) -> str:
    """T3: an existing alias's ARN."""
    return lambda_backend(account, region).get_alias(name, function_name).arn


def lambda_delete_alias(account: str, region: str, function_name: str, name: str) -> None:
    """T3."""
    lambda_backend(account, region).delete_alias(name, function_name)


# ---------------------------------------------------------------- T4 internal invokes


def patch_internal_invokes(invoke: Callable[[Any, bytes], tuple[bytes, str | None]]) -> Callable[[], None]:
    """T4: route the invocations moto makes itself through ``invoke(function record, payload)`` -> (payload,
    function error or None). Returns the function that undoes it."""
    from moto.awslambda.models import LambdaFunction

    original = LambdaFunction.invoke

    def patched(fn: Any, body: Any, request_headers: Any, response_headers: Any) -> bytes:
        if isinstance(body, (bytes, str)):
            payload = body.encode() if isinstance(body, str) else body
        else:
            payload = json.dumps(body if body is not None else {}).encode()
        out, error = invoke(fn, payload or b"{}")
        if error and response_headers is not None:
            response_headers["x-amz-function-error"] = error
        return out

    LambdaFunction.invoke = patched  # type: ignore[method-assign]

    def undo() -> None:
        LambdaFunction.invoke = original  # type: ignore[method-assign]

    return undo


# ---------------------------------------------------------------- T5 accounts


def account_of(access_key: str | None) -> str:
    """T5: the account moto files a request signed with ``access_key`` under."""
    from moto.iam.models import get_account_id_from

    return get_account_id_from(access_key or "AKIAEXAMPLE")


# ---------------------------------------------------------------- T6-T7 CloudFormation


def cloudformation_model() -> type:
    """T6: the base class whose direct subclasses moto's CloudFormation creates."""
    import moto.awslambda.models  # noqa: F401 - first: of two models of one type, the one defined last is used
    from moto.core.common_models import CloudFormationModel

    return CloudFormationModel


def unsupported_get_att() -> Exception:
    """T6: what a model raises for a GetAtt it does not have."""
    from moto.cloudformation.exceptions import UnformattedGetAttTemplateException

    return UnformattedGetAttTemplateException()


def refresh_cloudformation_models() -> None:
    """T6: moto's CloudFormation lists the model classes once (lru-cached): list them again, ours included.
    Nothing to do when it is not loaded yet (it lists them on first use)."""
    parsing = sys.modules.get("moto.cloudformation.parsing")
    if parsing is not None:
        for cache in (parsing.get_model_list, parsing.get_model_map, parsing.get_name_type_map):
            cache.cache_clear()


_patched = {"outputs": False}


def change_set_outputs_patched() -> bool:
    return _patched["outputs"]


def patch_change_set_outputs(load: bool = False) -> None:
    """T7: moto's ExecuteChangeSet keeps the stack's outputs of before (none for a stack it creates): rebuild
    them from the template just applied, as CloudFormation reports them. Done once moto's CloudFormation is
    loaded (by the first request that uses it), so the emulator starts without importing it; ``load`` imports
    it now."""
    if _patched["outputs"]:
        return
    if load:
        import moto.cloudformation.models  # noqa: F401
    models = sys.modules.get("moto.cloudformation.models")
    if models is None:
        return
    backend_class = models.CloudFormationBackend
    original = backend_class.execute_change_set

    def execute_change_set(self: Any, change_set_name: str, stack_name: str | None = None) -> None:
        original(self, change_set_name, stack_name)
        change_set = self.change_sets.get(change_set_name) or next(
            (cs for cs in self.change_sets.values() if cs.change_set_name == change_set_name), None)
        stack = self.stacks.get(change_set.stack_id) if change_set is not None else None
        if stack is not None:
            stack._parse_template()
            stack.output_map = stack._create_output_map()

    backend_class.execute_change_set = execute_change_set
    _patched["outputs"] = True


# ---------------------------------------------------------------- T8 CloudWatch


def cloudwatch_backend(account: str, region: str) -> Any:
    """T8: ``put_metric_alarm(**kwargs)``, ``delete_alarms(names)``, ``alarms``."""
    from moto.cloudwatch.models import cloudwatch_backends

    return cloudwatch_backends[account][region]


def alarm_states(account: str, region: str, names: list[str]) -> dict[str, str]:
    """T8: {alarm name: state} for the alarms that exist (``OK``, ``ALARM``, ``INSUFFICIENT_DATA``)."""
    alarms = cloudwatch_backend(account, region).alarms
    return {name: str(alarms[name].state_value) for name in names if name in alarms}


# ---------------------------------------------------------------- T9-T10 API Gateway


def apigateway_module() -> Any:
    """T9: ``moto.apigateway.models`` (``RestAPI`` to subclass, ``apigateway_backends``)."""
    import moto.apigateway.models as apigateway

    return apigateway


def apigateway_backend(account: str, region: str) -> Any:
    """T9."""
    return apigateway_module().apigateway_backends[account][region]


def apigatewayv2_backend(account: str, region: str) -> Any:
    """T10."""
    from moto.apigatewayv2.models import apigatewayv2_backends

    return apigatewayv2_backends[account][region]


def api_backends() -> Iterator[tuple[str, str, str, Any]]:
    """T9/T10: ("rest" or "http", account, region, backend) for every API Gateway backend moto holds."""
    from moto.apigateway.models import apigateway_backends
    from moto.apigatewayv2.models import apigatewayv2_backends

    for kind, backends in (("rest", apigateway_backends), ("http", apigatewayv2_backends)):
        for account, regions in list(backends.items()):
            for region, backend in list(regions.items()):
                yield kind, account, region, backend


# ---------------------------------------------------------------- T11 server


def wsgi_app() -> Callable:
    """T11: moto's server as a WSGI application (every service, dispatched by host and signature)."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    return DomainDispatcherApplication(create_backend_app)


def request_handler() -> type:
    """T11: moto's werkzeug request handler (what ``moto.server`` serves with)."""
    from moto.moto_server.werkzeug_app import MotoRequestHandler

    return MotoRequestHandler


# ---------------------------------------------------------------- T12 CodeDeploy


def codedeploy_backend(account: str, region: str) -> Any:
    """T12."""
    from moto.codedeploy.models import codedeploy_backends

    return codedeploy_backends[account][region]


def codedeploy_deployment(account: str, region: str, deployment_id: str) -> Any | None:
    """T12: moto's record of a deployment (``DeploymentInfo``), or None."""
    return codedeploy_backend(account, region).deployments.get(deployment_id)


def codedeploy_compute_platform(deployment: Any) -> str:
    """T12: the compute platform of a deployment's application (``Lambda``, ``Server``, ``ECS``)."""
    return str(deployment.application.compute_platform)


def codedeploy_record(account: str, region: str, application: str, group: str, revision: dict, config: str,
                      description: str, creator: str) -> str:
    """T12: record a deployment as CreateDeployment does (a rollback's, here); its ID."""
    backend = codedeploy_backend(account, region)
    deployment_id = backend.create_deployment(application_name=application, deployment_group_name=group,
                                              revision=revision, deployment_config_name=config,
                                              description=description)
    backend.deployments[deployment_id].creator = creator
    return deployment_id


def codedeploy_group_settings(deployment: Any) -> tuple[dict, dict]:
    """T12: (autoRollbackConfiguration, alarmConfiguration) in force for a deployment: the deployment's own
    rollback configuration when it has one, else its group's; the group's alarms."""
    group = deployment.deployment_group
    rollback = deployment.auto_rollback_configuration or group.auto_rollback_configuration or {}
    alarms = group.alarm_configuration or {}
    if not isinstance(alarms, dict):  # moto's AlarmConfiguration object
        alarms = {"enabled": bool(getattr(alarms, "enabled", False)), "alarms": list(getattr(alarms, "alarms", []))}
    return dict(rollback), dict(alarms)


def _now_like(reference: Any) -> Any:
    """Now, as moto keeps a deployment's times: an ISO 8601 string (moto 5.1.x) or a naive UTC datetime (5.2)."""
    import datetime

    now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    if isinstance(reference, str):
        return now.isoformat(timespec="milliseconds") + "Z"
    return now


def codedeploy_set_state(deployment: Any, *, status: str | None = None, started: bool = False,
                         completed: bool = False, overview: dict[str, int] | None = None) -> None:
    """T12: what GetDeployment, BatchGetDeployments and ListDeployments report of a deployment (``started`` /
    ``completed`` stamp its start / completion time now)."""
    if status is not None:
        deployment.status = status
    if started:
        deployment.start_time = _now_like(deployment.create_time)
    if completed:
        deployment.complete_time = _now_like(deployment.create_time)
    if overview is not None:
        deployment.deployment_overview = dict(overview)


# T13: S3 multipart uploads that are gone answer NoSuchUpload, as S3 does

_patched_multipart = {"done": False}


def patch_multipart_no_such_upload() -> None:
    """Install the NoSuchUpload answers (idempotent)."""
    if _patched_multipart["done"]:
        return
    from moto.s3.exceptions import NoSuchUpload
    from moto.s3.models import S3Backend

    def guarded(original: Callable[..., Any]) -> Callable[..., Any]:
        def method(self: Any, bucket_name: str, multipart_id: str, *args: Any, **kwargs: Any) -> Any:
            if multipart_id not in self.get_bucket(bucket_name).multiparts:
                raise NoSuchUpload(upload_id=multipart_id)
            return original(self, bucket_name, multipart_id, *args, **kwargs)
        return method

    S3Backend.upload_part = guarded(S3Backend.upload_part)  # type: ignore[method-assign]
    S3Backend.complete_multipart_upload = guarded(S3Backend.complete_multipart_upload)  # type: ignore[method-assign]
    _patched_multipart["done"] = True


# T14: UpdateAlias honours RevisionId, as Lambda does

STALE_REVISION = ("The Revision Id provided does not match the latest Revision Id. "
                  "Call the GetAlias API to retrieve the latest Revision Id")
_patched_alias_revisions = {"done": False}


def patch_alias_revisions() -> None:
    """Install the RevisionId behaviour of aliases (idempotent): a new RevisionId on every change, and a 412
    for an UpdateAlias that names a stale one."""
    if _patched_alias_revisions["done"]:
        return
    import uuid
    from urllib.parse import unquote

    from moto.awslambda.exceptions import PreconditionFailedException
    from moto.awslambda.models import LambdaAlias
    from moto.awslambda.responses import LambdaResponse

    update = LambdaAlias.update
    respond = LambdaResponse.update_alias

    def update_renewing(self: Any, description: Any, function_version: Any, routing_config: Any) -> None:
        update(self, description, function_version, routing_config)
        self.revision_id = str(uuid.uuid4())

    def update_alias_checked(self: Any) -> Any:
        wanted = json.loads(self.body or "{}").get("RevisionId")
        if wanted:
            function_name = unquote(self.path.rsplit("/")[-3])
            alias_name = unquote(self.path.rsplit("/", 2)[-1])
            current = self.backend.get_alias(name=alias_name, function_name=function_name)
            if wanted != current.revision_id:
                raise PreconditionFailedException(STALE_REVISION)
        return respond(self)

    LambdaAlias.update = update_renewing  # type: ignore[method-assign]
    LambdaResponse.update_alias = update_alias_checked  # type: ignore[method-assign]
    _patched_alias_revisions["done"] = True
