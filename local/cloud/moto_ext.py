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
T14 logs                ``moto.logs.models.logs_backends[account][region]``: ``groups`` (by name),
                        ``create_log_group(name, tags)``, ``create_log_stream(group, stream)`` (a group's
                        ``streams`` by name) and ``put_log_events(group, stream, [{"timestamp", "message"}])``
                        (events in time order, within 14 days back and 2 hours ahead), which FilterLogEvents and
                        GetLogEvents then answer: where the local cloud writes each invocation's log.
T15 cfn-lambda-layers   ``moto.awslambda.models``: ``LambdaFunction.create_from_cloudformation_json`` drops
                        ``Layers`` (``update_configuration({"Layers": [...]})`` sets them) and ``LayerVersion`` has
                        no ``physical_resource_id`` (so ``!Ref`` of a layer is not its version ARN, ``arn``):
                        both supplied, so a stack's function runs with its stack's layers.
T16 event-invoke-config a ``LambdaFunction``'s ``event_invoke_config`` is a list of moto's ``EventInvokeConfig``
                        (``.config``: ``MaximumRetryAttempts``, ``MaximumEventAgeInSeconds``,
                        ``DestinationConfig``), each PutFunctionEventInvokeConfig appending one (the last is the
                        one in force); backend ``put_function_event_invoke_config(name, config)`` and
                        ``delete_function_event_invoke_config(name)`` (CloudFormation's
                        ``AWS::Lambda::EventInvokeConfig``, which moto skips, uses them).
T17 dead-letter-config  moto drops ``DeadLetterConfig`` (CreateFunction, UpdateFunctionConfiguration, CloudFormation):
                        ``LambdaFunction.__init__(account_id, spec, region, version)``,
                        ``update_configuration(updates)`` (also what a stack update calls),
                        ``get_configuration(...)`` and the classmethod
                        ``create_from_cloudformation_json(resource_name, cloudformation_json, ...)`` (which
                        builds the spec from a few properties only) are wrapped to keep it as
                        ``dead_letter_config`` and report it.
T18 deliveries          ``moto.sqs.models.sqs_backends[account][region].send_message(queue_name, body,
                        message_attributes={name: {"DataType", "StringValue"}})``;
                        ``moto.sns.models.sns_backends[account][region].publish(message, arn,
                        message_attributes={name: {"Type", "Value"}})``;
                        ``moto.events.models.events_backends[account][region].put_events(entries)`` (each with
                        ``Source``, ``DetailType``, ``Detail`` text, ``Resources``, ``EventBusName``), answering
                        ``[{"EventId"} or {"ErrorCode", "ErrorMessage"}]``.
T19 function-urls       ``LambdaBackend.create_function_url_config(name_or_arn, config)`` (no qualifier) gives a
                        ``FunctionUrlConfig(function, config)`` kept as the function's ``url_config``, whose
                        ``url`` is ``https://{id}.lambda-url.{region}.on.aws`` (and what GetFunctionUrlConfig
                        and CreateFunctionUrlConfig answer); ``__init__`` is wrapped so that on the local cloud
                        ``url`` is the local address that answers (``url_id`` keeps the ID).
T20 sqs-mappings        ``moto.sqs.models.Queue.add_message(message)`` invokes the functions of the queue's
                        ``lambda_event_source_mappings`` (wrapped: hidden while it runs, so the local cloud polls
                        instead); each Lambda backend's ``_event_source_mappings`` {uuid: EventSourceMapping};
                        ``SQSBackend.receive_message(name, count, wait, visibility, attribute names)`` (receive
                        counts, redrive to the dead-letter queue), ``delete_message(name, receipt)``, ``queues``.
T21 async-sources       ``moto.s3.notifications._invoke_awslambda(account_id, event_body, fn_arn, region_name)``
                        and ``moto.events.models.Rule.send_to_targets(event, transform_input)`` (Lambda targets
                        skipped by moto) and ``moto.sns.models.Subscription.publish`` (protocol lambda) are
                        wrapped so that they invoke asynchronously through the local cloud;
                        ``events_backends[account][region].event_buses[name].rules`` (``scheduled_expression``, ``state``,
                        ``targets``, ``arn``) for schedules.
T22 bucket-notifications ``FakeBucket.create_from_cloudformation_json`` / ``update_from_cloudformation_json``
                        ignore ``NotificationConfiguration``: wrapped to apply it with the bucket's
                        ``set_notification_configuration({"CloudFunctionConfiguration": [{"CloudFunction",
                        "Event": [..], "Filter": {"S3Key": {"FilterRule": [..]}}}], "QueueConfiguration",
                        "TopicConfiguration", "EventBridgeConfiguration"})``.

T23 alias-revision      ``moto.awslambda.models.LambdaAlias`` keeps ``revision_id`` (reported as ``RevisionId``)
                        and changes through ``update(description, function_version, routing_config)``;
                        ``moto.awslambda.responses.LambdaResponse.update_alias()`` answers UpdateAlias from
                        ``self.body`` (JSON) and ``self.path`` (``.../functions/{name}/aliases/{alias}``) and
                        ignores ``RevisionId``; ``moto.awslambda.exceptions.PreconditionFailedException(message)``
                        is a 412. Wrapped as Lambda behaves: every change of an alias gets a new RevisionId,
                        and an UpdateAlias with a RevisionId other than the alias's current one is refused with
                        412 PreconditionFailedException, changing nothing.
T24 cfn-placeholders    ``moto.cloudformation.parsing.resource_class_from_type(type)`` (a module function the
                        module's own ``parse_resource``, ``validate_outputs`` and ``parse_and_delete_resource``
                        call by name) answers None for a type moto's CloudFormation lacks (``NULL_MODELS`` and
                        the types not in ``get_model_map()``, T6); the stack's resource map then holds None, so
                        ``Fn::GetAtt`` of it fails with "references undefined resource", an output's GetAtt
                        crashes ``validate_outputs`` and DescribeStackResource crashes on the None. Wrapped: such
                        a type (but ``Custom::``) gets the class ``factory(type)`` gives (duck-typed as a model:
                        ``create/update/delete_from_cloudformation_json``, ``has_cfn_attr``; instances
                        ``physical_resource_id``, ``get_cfn_attribute``, ``delete``, ``is_created``), whose
                        resources stand in with placeholder values; a placeholder refuses an attribute with
                        ``moto.cloudformation.exceptions.ValidationError(message=...)``.
T25 describe-resource   ``CloudFormationBackend.describe_stack_resource(stack_name, logical_id)`` walks
                        ``stack.stack_resources`` (the resource map's values: None for a resource whose Condition
                        is false) reading ``logical_resource_id``: wrapped to pass over the Nones (an AttributeError,
                        an HTTP 500 a client cannot parse, otherwise).
T26 cfn-defaults        ``moto.cloudformation.parsing.parse_resource_and_generate_name(logical_id, resource_json,
                        resources_map)`` (called by name, for a creation and an update) reads the resource's
                        ``Properties`` as given; ``resources_map["AWS::StackName"]``, ``["AWS::AccountId"]``,
                        ``["AWS::Region"]``, ``["AWS::Partition"]`` and ``resources_map.stack_id``. Wrapped so that
                        the defaults CloudFormation applies and some of moto's models lack (an ``AWS::SSM::Document``'s
                        ``DocumentFormat``, ...) are filled in first.
T27 idle-mappings       ``moto.awslambda.models.EventSourceMapping(spec)`` (``spec``: ``EventSourceArn``,
                        ``FunctionName``, ``FunctionArn``, ``RegionName``, ``AccountId``, optional settings) accepts
                        SQS, Kinesis and DynamoDB sources only (its ``event_source_arn`` setter; ``batch_size``
                        looks the source's limits up), and the backend's ``create_event_source_mapping`` answers
                        "Invalid EventSourceArn" for any other; ``_event_source_arn``, ``_batch_size``, ``enabled``
                        and the backend's ``_event_source_mappings`` {uuid: mapping} hold what
                        GetEventSourceMapping / ListEventSourceMappings report. A mapping of Amazon MQ, MSK or a
                        self-managed Kafka cluster is recorded there, disabled, with its own source.
T28 rest-mock           ``APIGatewayBackend.put_rest_api`` imports an ``x-amazon-apigateway-integration`` with
                        ``put_integration(..., uri, integration_method, ...)``, which need ``uri`` and ``httpMethod``
                        (a ``mock`` integration, as SAM writes for CORS preflight, has neither: a TypeError, HTTP
                        500); an integration's ``integration_responses`` {status: ``IntegrationResponse``} keep
                        ``status_code``, ``selection_pattern``, ``response_parameters`` and ``response_templates``.
T29 outputs-lenient     ``moto.cloudformation.parsing.OutputMap.__getitem__(key)`` works an output out when it is read
                        (DescribeStacks reads them all through ``Stack.outputs``): one it cannot work out (a GetAtt
                        of an attribute no model has) raises on every DescribeStacks, so the stack can be neither
                        described nor deleted. Wrapped: such an output is left out (logged), as a false Condition
                        leaves it out.

T36 nested-stacks       ``moto.cloudformation.models.cloudformation_backends[account][region]``:
                        ``create_stack(name, template, parameters={name: value}, notification_arns, tags={key:
                        value}, timeout_in_mins)`` creates a stack (events, resources, lazily resolved
                        ``output_map`` of ``Output(key, value)``) and returns it (``stack_id``, ``status``,
                        ``update(template, role_arn, parameters, tags)``); ``delete_stack(stack_id)``;
                        ``get_stack(id)``. ``moto.cloudformation.utils.get_stack_from_s3_url(url, account_id,
                        partition)`` reads a template from moto's S3 (``https://s3.<region>.amazonaws.com/bucket/key``).
                        moto's own ``AWS::CloudFormation::Stack`` model answers no ``!GetAtt S.Outputs.X``, gives
                        its name as ``!Ref`` (CloudFormation gives the stack ID) and deletes then re-creates a
                        nested stack on update: lamctl's model (:mod:`lamctl.local.cloud.models`) uses these calls.

T39 state-machine-runs  ``moto.core.config.default_user_config["stepfunctions"]["execute_state_machine"]`` makes
                        ``moto.stepfunctions.responses.get_backend`` the interpreter's
                        ``stepfunctions_parser_backends``, which runs executions in threads; its Task states
                        call AWS through ``moto.stepfunctions.parser.asl.utils.boto_client.boto_client_for(region,
                        service, state_credentials)``, which aims at ``http://localhost:{moto_server_port()}``
                        (``MOTO_PORT``; the name imported into that module): made the local cloud's own port, so
                        that a Lambda task reaches the Invoke API lamctl answers. Wait states
                        (``WaitFunction._wait_interval(env, seconds)`` on ``env.program_state_event``) and Retry
                        intervals (``retrier_decl.time.sleep``) go through lamctl's ``wait``.
T40 cfn-state-machines  moto's ``AWS::StepFunctions::StateMachine`` model files state machines in
                        ``stepfunctions_backends`` whatever answers the API and drops ``DefinitionSubstitutions``,
                        ``Definition``, ``DefinitionS3Location`` and the type; moto has no CloudFormation
                        ``StateMachineVersion`` / ``StateMachineAlias``: lamctl's models (defined after moto's,
                        whose module is imported first) use the backend's ``create_state_machine(name, definition,
                        roleArn, tags=, loggingConfiguration=, tracingConfiguration=, sm_type=)``,
                        ``update_state_machine``, ``delete_state_machine``, ``describe_state_machine`` and a
                        state machine's ``publish(description)`` / ``latest_version`` / ``versions``.
T41 state-machine-starts ``StepFunctionsParserBackend.start_execution(state_machine_arn, name, execution_input,
                        trace_header)`` runs state machines only (not a version or alias ARN) and names an unnamed
                        execution ``None``: wrapped to run the version (an alias's drawn by weight) and name it;
                        ``StepFunctionResponse.describe_execution()`` (an ``ActionResult`` whose ``result`` is the
                        answer) then reports ``stateMachineVersionArn`` / ``stateMachineAliasArn``.
T42 state-machine-aliases ``create_state_machine_alias(name, routing, description)``, ``update_state_machine_alias(
                        arn, description, routing)``, ``delete_state_machine_alias(arn)``; PublishStateMachineVersion
                        and ListStateMachineVersions, which moto lacks, added to ``StepFunctionResponse``.
T43 stream-mappings     ``LambdaBackend.send_kinesis_message(function_name, kinesis_stream, ...)`` (called by a
                        Kinesis stream's ``put_record`` for each of its ``lambda_event_source_mappings``) and
                        ``LambdaBackend.send_dynamodb_items(function_arn, items, source)`` (called by a table's
                        ``StreamShard.add``, which empties the shard's ``items`` when it answers truthy) invoke
                        the function at once, one record each: turned off (nothing invoked, ``None`` answered, the
                        records kept), so the local cloud polls the streams as Lambda does.
T44 stream-records      ``moto.kinesis.models.kinesis_backends[account][region].streams`` (by name: ``arn``,
                        ``shards`` {id: Shard with ``shard_id`` and ``records`` {sequence number (int): Record
                        with ``partition_key``, ``data`` (bytes), ``sequence_number``, ``created_at`` (naive
                        UTC)}}); ``moto.dynamodb.models.dynamodb_backends[account][region].tables`` (``table_arn``,
                        ``latest_stream_label``, ``stream_shard`` with ``id`` and ``items``: StreamRecords whose
                        ``record`` is the stream record, ``dynamodb.SequenceNumber`` text and
                        ``ApproximateCreationDateTime`` a naive UTC datetime); a table's stream ARN is
                        ``{table_arn}/stream/{latest_stream_label}``.
T45 event-patterns      ``moto.events.models.EventPattern.load(text)`` (``matches_event(dict)``): EventBridge's
                        pattern matching, which Lambda's event filtering (``FilterCriteria``) shares.
T46 scheduler           ``moto.scheduler.models.scheduler_backends[account][region]``: ``schedule_groups`` {name:
                        group with ``schedules`` {name: Schedule with ``name``, ``group_name``, ``arn``,
                        ``schedule_expression``, ``schedule_expression_timezone``, ``target`` (``Arn``,
                        ``Input``), ``state``, ``start_date``, ``end_date``}}; ``create_schedule(name, group_name,
                        schedule_expression, schedule_expression_timezone, description, target, state,
                        flexible_time_window, start_date, end_date, kms_key_arn, action_after_completion)``,
                        ``delete_schedule(group_name, name)``: moto keeps EventBridge Scheduler's schedules but
                        never fires them, and CloudFormation skips ``AWS::Scheduler::Schedule``.
T47 mapping-checks      ``LambdaBackend.create_event_source_mapping(spec)`` and
                        ``update_event_source_mapping(uuid, spec)`` (what CreateEventSourceMapping,
                        UpdateEventSourceMapping and CloudFormation's ``AWS::Lambda::EventSourceMapping`` call) accept
                        any ``FilterCriteria``, ``ScalingConfig``, ``MaximumRetryAttempts`` and
                        ``MaximumRecordAgeInSeconds``: wrapped to refuse what Lambda refuses, with
                        ``moto.awslambda.exceptions.InvalidParameterValueException(message)`` (a 400).
T48 cfn-event-buses     ``moto.events.models.EventBus`` (``AWS::Events::EventBus``: ``name``, ``arn``; GetAtt
                        ``Arn``, ``Name``) has no ``physical_resource_id``, so ``!Ref`` of a bus is the model
                        itself (a rule's ``EventBusName: !Ref Bus`` then fails with HTTP 500) and
                        DescribeStackResources has no physical ID for it: supplied, the bus's name, as
                        CloudFormation's ``Ref`` answers.
T49 function-deletes    ``LambdaBackend.delete_function(function_name, qualifier=None)`` (a name or an ARN, with or
                        without a qualifier; what DeleteFunction and CloudFormation's function and version
                        deletions call; ``account_id`` and ``region_name`` on the backend) deletes the records only:
                        wrapped to tell the local cloud, which stops the warm environments of what was deleted.
T50 state-machine-sync  moto 5.2's ``StepFunctionResponse`` has no ``start_sync_execution`` (StartSyncExecution, for
                        EXPRESS state machines, answered when the execution ends): added over the interpreter's
                        backend (``describe_state_machine(arn)`` with ``type``; ``start_execution`` as T41 wraps it;
                        an execution's ``exec_status`` (None until it runs, then ``ExecutionStatus``), ``start_date``,
                        ``stop_date``, ``output``, ``error``, ``cause``, ``execution_input``,
                        ``stop(stop_date, error, cause)``) and ``moto.stepfunctions.exceptions.StepFunctionsException``
                        (``code``).
"""

from __future__ import annotations

import json
import sys
import threading
from typing import Any, Callable, Iterator

# T11: moto's server API (public, but lamctl relies on its effect)
RESET_PATH = "/moto-api/reset"
CONFIG_PATH = "/moto-api/config"
LAMBDA_CONFIG = {"lambda": {"use_docker": False}}

# T2: what lamctl reads of a function (or version) record
LAMBDA_FUNCTION_ATTRIBUTES = (
    "function_name", "version", "region", "account_id", "handler", "run_time", "memory_size", "timeout",
    "environment_vars", "code_bytes", "code_sha_256", "layers", "architectures", "package_type",
    "reserved_concurrency", "role",
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
    _apply_cfn_pending()  # T24-T25 wait for moto's CloudFormation too


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


# ---------------------------------------------------------------- T14 CloudWatch Logs

_LOGS_LOCK = threading.Lock()  # moto's put_log_events is not thread-safe; invocations end on many threads


def logs_backend(account: str, region: str) -> Any:
    """T14: the CloudWatch Logs backend."""
    from moto.logs.models import logs_backends

    return logs_backends[account][region]


def put_log_events(account: str, region: str, group: str, stream: str, events: list[dict]) -> None:
    """T14: append ``events`` ({"timestamp": ms, "message": str}, in time order) to ``group``/``stream``,
    creating either when missing, as Lambda's service does for a function's log group."""
    if not events:
        return
    with _LOGS_LOCK:
        backend = logs_backend(account, region)
        if group not in backend.groups:
            backend.create_log_group(group, {})
        if stream not in backend.groups[group].streams:
            backend.create_log_stream(group, stream)
        backend.put_log_events(group, stream, events)


# ---------------------------------------------------------------- T15 CloudFormation functions with layers

_patched_layers = {"done": False}


def patch_cfn_lambda_layers() -> None:
    """T15: a function CloudFormation creates gets its ``Layers``; ``!Ref`` of a layer version is its ARN
    (idempotent)."""
    if _patched_layers["done"]:
        return
    from moto.awslambda.models import LambdaFunction, LayerVersion

    original = LambdaFunction.create_from_cloudformation_json.__func__

    def create(cls: Any, resource_name: str, cloudformation_json: dict, account_id: str, region_name: str,
               **kwargs: Any) -> Any:
        fn = original(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
        layers = (cloudformation_json.get("Properties") or {}).get("Layers")
        if layers:
            fn.update_configuration({"Layers": [str(arn) for arn in layers]})
        return fn

    LambdaFunction.create_from_cloudformation_json = classmethod(create)
    if "physical_resource_id" not in LayerVersion.__dict__:
        LayerVersion.physical_resource_id = property(lambda self: self.arn)
    _patched_layers["done"] = True

# ---------------------------------------------------------------- T16-T18 asynchronous invocation


def lambda_event_invoke_config(fn: Any) -> dict:
    """T16: the asynchronous invocation configuration in force for a function (the last one put), or {}."""
    configs = getattr(fn, "event_invoke_config", None) or []
    return dict(configs[-1].config) if configs else {}


def lambda_put_event_invoke_config(account: str, region: str, function_name: str, config: dict) -> None:
    """T16: replace a function's asynchronous invocation configuration."""
    backend = lambda_backend(account, region)
    backend.get_function(function_name).event_invoke_config = []
    backend.put_function_event_invoke_config(function_name, config)


def lambda_delete_event_invoke_config(account: str, region: str, function_name: str) -> None:
    """T16."""
    lambda_backend(account, region).get_function(function_name).event_invoke_config = []


_patched_dlq = {"done": False}


def patch_dead_letter_config() -> None:
    """T17: keep a function's ``DeadLetterConfig`` (idempotent)."""
    if _patched_dlq["done"]:
        return
    from moto.awslambda.models import LambdaFunction

    init, update, get = LambdaFunction.__init__, LambdaFunction.update_configuration, LambdaFunction.get_configuration

    def __init__(self: Any, account_id: str, spec: dict, region: str, *args: Any, **kwargs: Any) -> None:
        init(self, account_id, spec, region, *args, **kwargs)
        self.dead_letter_config = dict(spec.get("DeadLetterConfig") or {})

    def update_configuration(self: Any, updates: dict) -> Any:
        if "DeadLetterConfig" in updates:
            self.dead_letter_config = dict(updates.get("DeadLetterConfig") or {})
        return update(self, updates)

    def get_configuration(self: Any, *args: Any, **kwargs: Any) -> dict:
        config = get(self, *args, **kwargs)
        target = (getattr(self, "dead_letter_config", None) or {}).get("TargetArn")
        if target:
            config["DeadLetterConfig"] = {"TargetArn": target}
        return config

    create = LambdaFunction.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]

    def create_from_cloudformation_json(cls: Any, resource_name: str, cloudformation_json: dict, *args: Any,
                                        **kwargs: Any) -> Any:
        fn = create(cls, resource_name, cloudformation_json, *args, **kwargs)
        fn.dead_letter_config = dict((cloudformation_json.get("Properties") or {}).get("DeadLetterConfig") or {})
        return fn

    LambdaFunction.__init__ = __init__  # type: ignore[method-assign]
    LambdaFunction.create_from_cloudformation_json = classmethod(create_from_cloudformation_json)  # type: ignore
    LambdaFunction.update_configuration = update_configuration  # type: ignore[method-assign]
    LambdaFunction.get_configuration = get_configuration  # type: ignore[method-assign]
    _patched_dlq["done"] = True


def lambda_dead_letter_target(fn: Any) -> str | None:
    """T17: the ARN of a function's dead-letter queue or topic, or None."""
    return (getattr(fn, "dead_letter_config", None) or {}).get("TargetArn") or None


def sqs_send(account: str, region: str, queue_name: str, body: str, attributes: dict[str, tuple[str, str]]) -> None:
    """T18: send a message; ``attributes`` {name: (data type, string value)}."""
    from moto.sqs.models import sqs_backends

    sqs_backends[account][region].send_message(
        queue_name, body, message_attributes={k: {"DataType": t, "StringValue": v} for k, (t, v) in attributes.items()})


def sns_publish(account: str, region: str, topic_arn: str, message: str,
                attributes: dict[str, tuple[str, str]]) -> None:
    """T18: publish to a topic; ``attributes`` {name: (data type, string value)}."""
    from moto.sns.models import sns_backends

    sns_backends[account][region].publish(
        message, topic_arn, message_attributes={k: {"Type": t, "Value": v} for k, (t, v) in attributes.items()})


def events_put(account: str, region: str, entries: list[dict]) -> list[dict]:
    """T18: put events on an event bus."""
    from moto.events.models import events_backends

    return events_backends[account][region].put_events(entries)


# ---------------------------------------------------------------- T19 function URLs

_function_urls = {"patched": False, "endpoint": None}


def set_function_url_endpoint(endpoint: str | None) -> str | None:
    """T19: the local cloud's endpoint, which the function URLs created from now on answer at (None: moto's
    own address). Returns the one set before."""
    previous = _function_urls["endpoint"]
    _function_urls["endpoint"] = endpoint.rstrip("/") if endpoint else None
    return previous


def patch_function_urls(local_url: Callable[[str, str], str]) -> None:
    """T19: a function URL created on the local cloud is ``local_url(endpoint, url id)`` (idempotent)."""
    if _function_urls["patched"]:
        return
    from moto.awslambda.models import FunctionUrlConfig

    init = FunctionUrlConfig.__init__

    def __init__(self: Any, function: Any, config: dict) -> None:
        init(self, function=function, config=config)
        self.url_id = self.url.split("//", 1)[-1].split(".", 1)[0]
        if _function_urls["endpoint"]:
            self.url = local_url(_function_urls["endpoint"], self.url_id)

    FunctionUrlConfig.__init__ = __init__  # type: ignore[method-assign]
    _function_urls["patched"] = True


def lambda_create_function_url(account: str, region: str, function_name: str, config: dict) -> Any:
    """T19: create a function's URL configuration (``AuthType``, ``Cors``, ``InvokeMode``, ``Qualifier``); the
    record (``url``, ``url_id``, ``config``, ``function``)."""
    return lambda_backend(account, region).create_function_url_config(function_name, config)


def lambda_delete_function_url(account: str, region: str, function_name: str) -> None:
    """T19."""
    lambda_backend(account, region).delete_function_url_config(function_name)


def lambda_find_function_url(url_id: str) -> tuple[Any, str, str] | None:
    """T19: (the URL configuration with that ID, its account, its region), or None."""
    from moto.awslambda.models import lambda_backends
    from moto.awslambda_simple.models import lambda_simple_backends

    for backends in (lambda_simple_backends, lambda_backends):
        for account, regions in list(backends.items()):
            for region, backend in list(regions.items()):
                for entry in list(backend._lambdas._functions.values()):
                    latest = entry.get("latest") if isinstance(entry, dict) else None
                    config = getattr(latest, "url_config", None)
                    if config is None:
                        continue
                    found = getattr(config, "url_id", None) or config.url.split("//", 1)[-1].split(".", 1)[0]
                    if found == url_id:
                        return config, account, region
    return None


# ---------------------------------------------------------------- T20 SQS event source mappings

_patched_sqs = {"done": False, "lock": None}


def patch_sqs_mappings_polled() -> None:
    """T20: moto's ``Queue.add_message(message)`` runs the queue's ``lambda_event_source_mappings`` itself, one
    message per invocation and at once; the local cloud polls them instead (batches, windows, partial failures):
    the mappings are hidden from it while it adds the message (idempotent)."""
    if _patched_sqs["done"]:
        return
    import threading

    from moto.sqs.models import Queue

    lock = threading.RLock()
    original = Queue.add_message

    def add_message(self: Any, message: Any) -> None:
        with lock:
            mappings = self.lambda_event_source_mappings
            self.lambda_event_source_mappings = {}
            try:
                original(self, message)
            finally:
                mappings.update(self.lambda_event_source_mappings)  # any added meanwhile
                self.lambda_event_source_mappings = mappings

    Queue.add_message = add_message  # type: ignore[method-assign]
    _patched_sqs.update(done=True, lock=lock)


def event_source_mappings() -> Iterator[Any]:
    """T20: every event source mapping moto holds (``uuid``, ``event_source_arn``, ``function_arn``, ``enabled``,
    ``batch_size``, ``max_batch_window``, ``function_response_types``)."""
    from moto.awslambda.models import lambda_backends
    from moto.awslambda_simple.models import lambda_simple_backends

    seen = set()
    for backends in (lambda_simple_backends, lambda_backends):
        for account, regions in list(backends.items()):
            for region, backend in list(regions.items()):
                for esm in list(backend._event_source_mappings.values()):
                    if esm.uuid not in seen:
                        seen.add(esm.uuid)
                        yield esm


def sqs_queue(account: str, region: str, name: str) -> Any | None:
    """T20: moto's queue (``messages``: the visible ones; ``visibility_timeout``), or None."""
    from moto.sqs.models import sqs_backends

    try:
        return sqs_backends[account][region].queues.get(name)
    except KeyError:
        return None


def sqs_receive(account: str, region: str, name: str, count: int) -> list[Any]:
    """T20: receive up to ``count`` messages as ReceiveMessage does (the queue's visibility timeout, its redrive
    policy moving a message received ``maxReceiveCount`` times to its dead-letter queue); each has ``id``,
    ``body``, ``receipt_handle``, ``approximate_receive_count``, ``sent_timestamp``,
    ``approximate_first_receive_timestamp``, ``sender_id``, ``body_md5``, ``message_attributes``, ``group_id``,
    ``deduplication_id``."""
    from moto.sqs.models import sqs_backends

    backend = sqs_backends[account][region]
    visibility = int(backend.get_queue(name).visibility_timeout or 0)
    return backend.receive_message(name, count, 0, visibility, ["All"])


def sqs_delete(account: str, region: str, name: str, receipt_handle: str) -> None:
    """T20."""
    from moto.sqs.models import sqs_backends

    sqs_backends[account][region].delete_message(name, receipt_handle)


# ---------------------------------------------------------------- T21 asynchronous sources


_rule_lock = threading.RLock()


def patch_async_sources(run: Callable[[str, bytes, str, str], None]) -> Callable[[], None]:
    """T21: the services that invoke Lambda asynchronously hand the invocation to ``run(function ARN, payload,
    account, region)``: an S3 notification (``moto.s3.notifications._invoke_awslambda(account_id, event_body,
    fn_arn, region_name)``, which moto runs synchronously) and an EventBridge rule's Lambda targets (moto's
    ``Rule.send_to_targets(event, transform_input)`` raises NotImplementedError for them, so it is handed the
    other targets only; its ``event_pattern.matches_event(event)``, and
    ``moto.events.utils.EventTemplateParser.parse`` for an ``InputTransformer``), and an SNS subscription of
    protocol ``lambda`` (``moto.sns.models.Subscription.publish(message, message_id, subject, message_attributes,
    group_id, deduplication_id, message_structure)``, its ``_filter_policy_matcher.matches(attributes, message)``,
    ``arn``, ``topic.arn``, ``endpoint``), with the SNS event Lambda gets. Returns the undo."""
    import moto.s3.notifications as notifications
    from moto.events.models import Rule
    from moto.events.utils import EventTemplateParser

    original_s3, original_send = notifications._invoke_awslambda, Rule.send_to_targets

    def invoke_awslambda(account_id: str, event_body: Any, fn_arn: str, region_name: str) -> None:
        from urllib.parse import quote_plus, unquote_plus

        for record in (event_body or {}).get("Records") or []:
            obj = (record.get("s3") or {}).get("object") or {}
            if isinstance(obj.get("key"), str):  # S3 leaves a key's slashes as they are (moto encodes them)
                obj["key"] = quote_plus(unquote_plus(obj["key"]), safe="/")
        run(fn_arn, json.dumps(event_body).encode(), account_id, region_name)

    def send_to_targets(self: Any, original_event: Any, transform_input: bool = True) -> None:
        targets = list(self.targets)
        functions = [t for t in targets if ":lambda:" in str(t.get("Arn") or "")]
        others = [t for t in targets if t not in functions]
        if others:  # moto refuses (NotImplementedError) the Lambda targets: it gets the others only
            with _rule_lock:
                self.targets = others
                try:
                    original_send(self, original_event, transform_input)
                finally:
                    self.targets = targets
        if not functions or not self.event_pattern.matches_event(original_event):
            return
        for target in functions:
            arn = str(target["Arn"])
            run(arn, json.dumps(rule_target_input(target, original_event, transform_input)).encode(),
                self.account_id, self.region_name)

    def rule_target_input(target: dict, event: Any, transform: bool) -> Any:
        if target.get("Input"):
            return json.loads(target["Input"])
        if target.get("InputPath"):
            value: Any = event
            for part in str(target["InputPath"]).lstrip("$").strip(".").split("."):
                if part:
                    value = value.get(part) if isinstance(value, dict) else None
            return value
        transformer = target.get("InputTransformer") or {}
        if transform and transformer:
            return EventTemplateParser.parse(input_template=transformer.get("InputTemplate"),
                                             input_paths_map=transformer.get("InputPathsMap", {}), event=event)
        return event

    from moto.sns.models import Subscription

    original_publish = Subscription.publish

    def publish(self: Any, message: str, message_id: str, subject: str | None = None,
                message_attributes: dict | None = None, group_id: str | None = None,
                deduplication_id: str | None = None, message_structure: str | None = None) -> None:
        if self.protocol != "lambda":
            return original_publish(self, message, message_id, subject, message_attributes, group_id,
                                    deduplication_id, message_structure)
        matcher = self._filter_policy_matcher
        if matcher is not None and not matcher.matches(message_attributes, message):
            return None
        if message_structure == "json":
            message = self._parse_message_structure(message, self.protocol)
        import datetime

        now = datetime.datetime.now(datetime.timezone.utc)
        region = self.endpoint.split(":")[3]
        event = {"Records": [{
            "EventVersion": "1.0", "EventSubscriptionArn": self.arn, "EventSource": "aws:sns",
            "Sns": {"SignatureVersion": "1", "Timestamp": now.strftime("%Y-%m-%dT%H:%M:%S.")
                    + f"{now.microsecond // 1000:03d}Z", "Signature": "EXAMPLE", "SigningCertUrl": "EXAMPLE",
                    "MessageId": message_id, "Message": message,
                    "MessageAttributes": {k: {"Type": v.get("Type"), "Value": v.get("Value")}
                                          for k, v in (message_attributes or {}).items()},
                    "Type": "Notification", "UnsubscribeUrl": "EXAMPLE", "TopicArn": self.topic.arn,
                    "Subject": subject}}]}
        run(self.endpoint, json.dumps(event).encode(), self.account_id, region)
        return None

    notifications._invoke_awslambda = invoke_awslambda
    Rule.send_to_targets = send_to_targets  # type: ignore[method-assign]
    Subscription.publish = publish  # type: ignore[method-assign]

    def undo() -> None:
        notifications._invoke_awslambda = original_s3
        Rule.send_to_targets = original_send  # type: ignore[method-assign]
        Subscription.publish = original_publish  # type: ignore[method-assign]

    return undo


def event_rules() -> Iterator[tuple[str, str, Any]]:
    """T21: (account, region, rule) for every EventBridge rule moto holds (``name``, ``arn``, ``state``,
    ``scheduled_expression``, ``targets``, ``event_bus_name``; ``send_to_targets(event)``)."""
    from moto.events.models import events_backends

    for account, regions in list(events_backends.items()):
        for region, backend in list(regions.items()):
            for bus in list(backend.event_buses.values()):
                for rule in list(bus.rules.values()):
                    yield account, region, rule


# ---------------------------------------------------------------- T22 bucket notifications from templates

_patched_buckets = {"done": False}


def _notification_config(props: dict) -> dict | None:
    """CloudFormation's ``NotificationConfiguration`` in the shape of moto's ``set_notification_configuration``."""
    config = props.get("NotificationConfiguration")
    if not isinstance(config, dict):
        return None

    def entries(key: str, target: str, moto_target: str) -> list[dict]:
        out = []
        for item in config.get(key) or []:
            rules = (((item.get("Filter") or {}).get("S3Key") or {}).get("Rules")) or []
            entry = {moto_target: item[target], "Event": [item["Event"]]}
            if rules:
                entry["Filter"] = {"S3Key": {"FilterRule": [{"Name": str(r["Name"]).lower(), "Value": r["Value"]}
                                                            for r in rules]}}
            out.append(entry)
        return out

    out = {"CloudFunctionConfiguration": entries("LambdaConfigurations", "Function", "CloudFunction"),
           "QueueConfiguration": entries("QueueConfigurations", "Queue", "Queue"),
           "TopicConfiguration": entries("TopicConfigurations", "Topic", "Topic")}
    if (config.get("EventBridgeConfiguration") or {}).get("EventBridgeEnabled") in (True, "true"):
        out["EventBridgeConfiguration"] = {}
    return {k: v for k, v in out.items() if v or k == "EventBridgeConfiguration"} or None


def patch_bucket_notifications() -> None:
    """T22: moto's ``AWS::S3::Bucket`` (``FakeBucket.create_from_cloudformation_json`` /
    ``update_from_cloudformation_json``, classmethods) ignores ``NotificationConfiguration``: wrapped to apply it
    with the bucket's ``set_notification_configuration(config)`` (idempotent)."""
    if _patched_buckets["done"]:
        return
    from moto.s3.models import FakeBucket

    create = FakeBucket.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]
    update = FakeBucket.update_from_cloudformation_json.__func__  # type: ignore[attr-defined]

    def apply(bucket: Any, cloudformation_json: dict) -> Any:
        bucket.set_notification_configuration(_notification_config(cloudformation_json.get("Properties") or {}))
        return bucket

    def create_from_cloudformation_json(cls: Any, resource_name: str, cloudformation_json: dict, *args: Any,
                                        **kwargs: Any) -> Any:
        return apply(create(cls, resource_name, cloudformation_json, *args, **kwargs), cloudformation_json)

    def update_from_cloudformation_json(cls: Any, original_resource: Any, new_resource_name: str,
                                        cloudformation_json: dict, *args: Any, **kwargs: Any) -> Any:
        return apply(update(cls, original_resource, new_resource_name, cloudformation_json, *args, **kwargs),
                     cloudformation_json)

    FakeBucket.create_from_cloudformation_json = classmethod(create_from_cloudformation_json)  # type: ignore
    FakeBucket.update_from_cloudformation_json = classmethod(update_from_cloudformation_json)  # type: ignore
    _patched_buckets["done"] = True

# T23: UpdateAlias honours RevisionId, as Lambda does

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


# ---------------------------------------------------------------- T36 nested stacks


def cloudformation_loaded(load: bool = False) -> bool:
    """T36: whether moto's CloudFormation (and so its own ``Stack`` model) is loaded; ``load`` loads it."""
    if load:
        import moto.cloudformation.models  # noqa: F401
    return "moto.cloudformation.models" in sys.modules


def cloudformation_backend(account: str, region: str) -> Any:
    """T36: moto's CloudFormation backend."""
    from moto.cloudformation.models import cloudformation_backends

    return cloudformation_backends[account][region]


def nested_template(template_url: str, account: str, region: str) -> str:
    """T36: the body of the template at ``template_url`` in moto's S3."""
    from moto.cloudformation.utils import get_stack_from_s3_url
    from moto.utilities.utils import get_partition

    return get_stack_from_s3_url(template_url, account_id=account, partition=get_partition(region))


def nested_stack_create(account: str, region: str, name: str, template: str, parameters: dict, tags: dict,
                        notification_arns: list | None, timeout: int | None) -> str:
    """T36: create a stack (its resources at once); its ID."""
    stack = cloudformation_backend(account, region).create_stack(
        name=name, template=template, parameters=parameters, notification_arns=notification_arns, tags=tags,
        timeout_in_mins=timeout)
    return stack.stack_id


def nested_stack_update(account: str, region: str, stack_id: str, template: str, parameters: dict,
                        tags: dict) -> None:
    """T36: update a stack in place (as CloudFormation updates a nested stack)."""
    stack = cloudformation_backend(account, region).get_stack(stack_id)
    stack.update(template, None, parameters=parameters, tags=tags)


def nested_stack_delete(account: str, region: str, stack_id: str) -> None:
    """T36: delete a stack (and its resources)."""
    cloudformation_backend(account, region).delete_stack(stack_id)


def nested_stack_outputs(account: str, region: str, stack_id: str) -> dict[str, Any]:
    """T36: a stack's outputs, {key: value}."""
    stack = cloudformation_backend(account, region).get_stack(stack_id)
    return {key: getattr(output, "value", None) for key, output in stack.output_map.items() if output is not None}

# ---------------------------------------------------------------- T39-T42 Step Functions


def _states_parser() -> Any:
    import moto.stepfunctions.parser.models as parser_models

    return parser_models


def enable_state_machine_executions() -> None:
    """T39: moto's Step Functions runs executions with its interpreter (``moto.core.config.default_user_config
    ["stepfunctions"]["execute_state_machine"]``, what ``/moto-api/config`` sets) instead of only recording them."""
    from moto.core.config import default_user_config

    default_user_config.setdefault("stepfunctions", {})["execute_state_machine"] = True


def states_backend(account: str, region: str) -> Any:
    """T39: the Step Functions backend that answers the API (``moto.stepfunctions.responses.get_backend``: the
    interpreter's ``stepfunctions_parser_backends`` once executions are on): ``state_machines`` (each with ``arn``,
    ``name``, ``definition``, ``roleArn``, ``type``, ``versions`` {number: version with ``arn``},
    ``aliases`` {name: alias with ``arn``, ``routing_configuration``}, ``publish(description)``,
    ``latest_version``, ``update(**attributes)``), ``create_state_machine(...)``, ``update_state_machine``,
    ``delete_state_machine``, ``describe_state_machine``, ``create_state_machine_alias``,
    ``update_state_machine_alias``, ``delete_state_machine_alias``, ``describe_state_machine_alias``."""
    from moto.stepfunctions.responses import get_backend

    return get_backend(account, region)


_states = {"endpoint": None, "wait": None, "patched": False, "lock": threading.Lock()}


def set_states_endpoint(endpoint: str | None) -> str | None:
    """T39: where the interpreter's Task states send their AWS calls (a Lambda invoke): the local cloud's own
    endpoint (None: moto's ``http://localhost:{MOTO_PORT}``). Returns the one before."""
    before = _states["endpoint"]
    _states["endpoint"] = endpoint
    return before


def patch_state_machine_runs(wait: Callable[[float, threading.Event | None], None]) -> None:
    """T39: the interpreter's AWS calls go to :func:`set_states_endpoint`'s endpoint (a loopback one), and its
    waits (a Wait state's ``WaitFunction._wait_interval(env, seconds)`` on ``env.program_state_event``, a
    Retrier's ``time.sleep`` between attempts) go through ``wait(seconds, event or None)`` (idempotent; the last
    ``wait`` given wins).

    The interpreter creates its clients with ``moto.stepfunctions.parser.asl.utils.boto_client.boto_client_for(
    region, service, state_credentials)``, at ``http://localhost:{moto_server_port()}`` (``MOTO_PORT``): the
    port is the endpoint's."""
    _states["wait"] = wait
    if _states["patched"]:
        return
    import time as _time

    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import WaitFunction
    from moto.stepfunctions.parser.asl.utils import boto_client

    port_of_moto = boto_client.moto_server_port

    def server_port() -> str:
        endpoint = _states["endpoint"]
        if endpoint is None:
            return port_of_moto()
        from urllib.parse import urlsplit

        return str(urlsplit(endpoint).port)

    # boto_client_for aims at http://localhost:{moto_server_port()}: the port is the local cloud's
    boto_client.moto_server_port = server_port  # type: ignore[attr-defined]

    def wait_interval(self: Any, env: Any, wait_seconds: int) -> None:
        _states["wait"](float(wait_seconds), env.program_state_event)

    class _Time:
        def __getattr__(self, name: str) -> Any:
            return getattr(_time, name)

        @staticmethod
        def sleep(seconds: float) -> None:
            _states["wait"](float(seconds), None)

    WaitFunction._wait_interval = wait_interval  # type: ignore[method-assign]
    retrier_decl.time = _Time()  # type: ignore[attr-defined]
    _states["patched"] = True


def states_execution_status(account: str, region: str, execution_arn: str) -> str:
    """T39: an execution's status (``RUNNING``, ``SUCCEEDED``, ``FAILED``, ...) as DescribeExecution reports it."""
    return str(states_backend(account, region).describe_execution(execution_arn).status)


def load_states_models() -> None:
    """T40: import moto's Step Functions CloudFormation models (``StateMachine``, ``StateMachineVersion``,
    ``StateMachineAlias``) now, so that lamctl's models, defined after them, win for their types (T6)."""
    import moto.stepfunctions.models  # noqa: F401
    import moto.stepfunctions.parser.models  # noqa: F401


def states_create(account: str, region: str, name: str, definition: str, role_arn: str, sm_type: str | None,
                  logging: dict | None, tracing: dict | None, tags: list[dict]) -> Any:
    """T40: create a state machine in the backend that answers the API (moto's own CloudFormation model puts it
    in ``stepfunctions_backends`` whatever answers, drops ``DefinitionSubstitutions``, ``Definition``,
    ``DefinitionS3Location``, ``StateMachineType``): the record."""
    backend = states_backend(account, region)
    return backend.create_state_machine(name, definition, role_arn, tags=[{"key": t["Key"], "value": t["Value"]}
                                                                           for t in tags or []],
                                        loggingConfiguration=logging, tracingConfiguration=tracing,
                                        sm_type=sm_type)


def states_update(account: str, region: str, arn: str, definition: str, role_arn: str) -> Any:
    """T40."""
    return states_backend(account, region).update_state_machine(arn, definition=definition, role_arn=role_arn)


def states_delete(account: str, region: str, arn: str) -> None:
    """T40."""
    states_backend(account, region).delete_state_machine(arn)


def _publish(machine: Any, description: str | None) -> Any:
    """T42: ``StateMachine.publish(description)`` unless its latest version (``latest_version``) has the current
    definition and role already (PublishStateMachineVersion is idempotent on AWS); the version record."""
    latest = machine.latest_version
    if latest is None or (latest.definition, latest.roleArn) != (machine.definition, machine.roleArn):
        machine.publish(description)
    return machine.latest_version


def states_revision(account: str, region: str, arn: str) -> tuple[str, str]:
    """T40: (definition, role ARN) a state machine has now."""
    machine = states_backend(account, region).describe_state_machine(arn)
    return machine.definition, machine.roleArn


def states_publish(account: str, region: str, arn: str, description: str | None) -> str:
    """T40: publish a version of a state machine (as PublishStateMachineVersion); its ARN."""
    return _publish(states_backend(account, region).describe_state_machine(arn), description).arn


def states_create_alias(account: str, region: str, name: str, routing: list[dict], description: str | None) -> str:
    """T42: ``create_state_machine_alias(name, [{"stateMachineVersionArn", "weight"}], description)``; its ARN."""
    return states_backend(account, region).create_state_machine_alias(name, routing, description).arn


def states_update_alias(account: str, region: str, arn: str, routing: list[dict]) -> None:
    """T42."""
    states_backend(account, region).update_state_machine_alias(arn, None, routing)


def states_delete_alias(account: str, region: str, arn: str) -> None:
    """T42."""
    states_backend(account, region).delete_state_machine_alias(arn)


def states_object(account: str, region: str, bucket: str, key: str, version: str | None = None) -> bytes:
    """T40: an S3 object's bytes (a ``DefinitionS3Location``)."""
    from moto.s3.models import s3_backends

    return s3_backends[account]["global"].get_object(bucket, key, version_id=version).value


_patched_state_machine_starts = {"done": False}


def patch_state_machine_starts(choose: Callable[[list[tuple[str, float]]], str]) -> None:
    """T41: StartExecution of a version ARN (``...:stateMachine:name:3``) or an alias ARN (``...:name:live``) runs
    that version (an alias's version is ``choose([(version ARN, weight), ...])``), as Step Functions does; moto's
    interpreter (``StepFunctionsParserBackend.start_execution(state_machine_arn, name, execution_input,
    trace_header)``) looks only for state machines (a version has no ``_handle_name_input_idempotency``; an alias
    is not found), and names an execution without a name ``None``: given a UUID here, as AWS does (idempotent).
    DescribeExecution then reports the version (and the alias) that ran."""
    if _patched_state_machine_starts["done"]:
        return
    import uuid

    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    start = StepFunctionsParserBackend.start_execution

    def start_execution(self: Any, state_machine_arn: str, name: Any = None, execution_input: Any = None,
                        trace_header: Any = None) -> Any:
        name = name or str(uuid.uuid4())
        parts = str(state_machine_arn).split(":")
        if len(parts) != 8:  # arn:aws:states:region:account:stateMachine:name[:qualifier]
            return start(self, state_machine_arn, name, execution_input, trace_header)
        base, qualifier = ":".join(parts[:7]), parts[7]
        machine = self.describe_state_machine(base)
        if not qualifier.isdigit():
            alias = self.describe_state_machine_alias(state_machine_arn)
            chosen = choose([(r["stateMachineVersionArn"], float(r["weight"])) for r in alias.routing_configuration])
            qualifier = chosen.rsplit(":", 1)[1]
        version = self.describe_state_machine(f"{base}:{qualifier}")
        with _states["lock"]:
            saved = machine.definition, machine.roleArn
            machine.definition, machine.roleArn = version.definition, version.roleArn
            try:
                execution = start(self, base, name, execution_input, trace_header)
            finally:
                machine.definition, machine.roleArn = saved
        execution.lamctl_version_arn = version.arn
        if state_machine_arn != version.arn:
            execution.lamctl_alias_arn = state_machine_arn
        return execution

    from moto.stepfunctions.responses import StepFunctionResponse

    describe = StepFunctionResponse.describe_execution

    def describe_execution(self: Any) -> Any:
        answer = describe(self)
        execution = self.stepfunction_backend.describe_execution(self._get_param("executionArn"))
        for attribute, key in (("lamctl_version_arn", "stateMachineVersionArn"),
                               ("lamctl_alias_arn", "stateMachineAliasArn")):
            if getattr(execution, attribute, None) and isinstance(answer.result, dict):
                answer.result[key] = getattr(execution, attribute)
        return answer

    StepFunctionsParserBackend.start_execution = start_execution  # type: ignore[method-assign]
    StepFunctionResponse.describe_execution = describe_execution  # type: ignore[method-assign]
    _patched_state_machine_starts["done"] = True


_patched_state_machine_versions = {"done": False}


def patch_state_machine_versions() -> None:
    """T42: moto 5.2 answers CreateStateMachineAlias, UpdateStateMachineAlias (routing kept in order, a new
    ``update_date``) and DescribeStateMachineAlias, but not PublishStateMachineVersion nor
    ListStateMachineVersions: added to ``moto.stepfunctions.responses.StepFunctionResponse`` (``_get_param``,
    ``stepfunction_backend``, ``ActionResult``) over the backend's records (idempotent as on AWS: an unchanged
    revision gives its existing version)."""
    if _patched_state_machine_versions["done"]:
        return
    from moto.core.responses import ActionResult
    from moto.stepfunctions.responses import StepFunctionResponse

    def publish_state_machine_version(self: Any) -> Any:
        machine = self.stepfunction_backend.describe_state_machine(self._get_param("stateMachineArn"))
        version = _publish(machine, self._get_param("description"))
        return ActionResult({"creationDate": version.creation_date, "stateMachineVersionArn": version.arn})

    def list_state_machine_versions(self: Any) -> Any:
        machine = self.stepfunction_backend.describe_state_machine(self._get_param("stateMachineArn"))
        versions = sorted(machine.versions.values(), key=lambda v: -int(v.version))
        return ActionResult({"stateMachineVersions": [
            {"stateMachineVersionArn": v.arn, "creationDate": v.creation_date} for v in versions]})

    StepFunctionResponse.publish_state_machine_version = publish_state_machine_version  # type: ignore[attr-defined]
    StepFunctionResponse.list_state_machine_versions = list_state_machine_versions  # type: ignore[attr-defined]
    _patched_state_machine_versions["done"] = True


# ---------------------------------------------------------------- T43-T44 Kinesis and DynamoDB streams

_patched_streams = {"done": False}


def patch_stream_mappings_polled() -> None:
    """T43: moto invokes a Kinesis or DynamoDB stream mapping's function itself, one record at a time, as a
    record arrives (and empties a table's stream once a function took it); the local cloud polls the streams
    instead (batches, retries, bisection, destinations): both pushes are turned off (idempotent)."""
    if _patched_streams["done"]:
        return
    from moto.awslambda.models import LambdaBackend

    def send_kinesis_message(self: Any, *args: Any, **kwargs: Any) -> None:
        return None

    def send_dynamodb_items(self: Any, *args: Any, **kwargs: Any) -> None:
        return None  # falsy: the stream keeps its records

    LambdaBackend.send_kinesis_message = send_kinesis_message  # type: ignore[method-assign]
    LambdaBackend.send_dynamodb_items = send_dynamodb_items  # type: ignore[method-assign]
    _patched_streams["done"] = True


def _epoch(moment: Any) -> float:
    import datetime

    if isinstance(moment, (int, float)):
        return float(moment)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    return moment.timestamp()


def kinesis_shards(account: str, region: str, arn: str) -> dict[str, list[tuple[int, float, dict]]] | None:
    """T44: {shard ID: [(sequence number, arrival (epoch seconds), {"partitionKey", "data" (bytes)})]} of the
    Kinesis stream with that ARN, in order; None when there is no such stream."""
    from moto.kinesis.models import kinesis_backends

    try:
        streams = kinesis_backends[account][region].streams
    except KeyError:
        return None
    for stream in list(streams.values()):
        if stream.arn == arn:
            return {shard.shard_id: [(int(seq), _epoch(r.created_at), {"partitionKey": r.partition_key,
                                                                        "data": r.data})
                                     for seq, r in list(shard.records.items())]
                    for shard in list(stream.shards.values())}
    return None


def dynamodb_stream_shards(account: str, region: str, arn: str) -> dict[str, list[tuple[int, float, dict]]] | None:
    """T44: {shard ID: [(sequence number, arrival (epoch seconds), stream record)]} of the DynamoDB stream with
    that ARN (the table's latest stream), in order; None when there is no such stream."""
    import copy

    from moto.dynamodb.models import dynamodb_backends

    try:
        tables = dynamodb_backends[account][region].tables
    except KeyError:
        return None
    for table in list(tables.values()):
        label = getattr(table, "latest_stream_label", None)
        shard = getattr(table, "stream_shard", None)
        if not label or shard is None or f"{table.table_arn}/stream/{label}" != arn:
            continue
        out = []
        for item in list(shard.items):
            record = copy.deepcopy(item.record)
            arrival = _epoch(record["dynamodb"].get("ApproximateCreationDateTime"))
            record["dynamodb"]["ApproximateCreationDateTime"] = int(arrival)
            out.append((int(record["dynamodb"]["SequenceNumber"]), arrival, record))
        return {shard.id: out}
    return None


# ---------------------------------------------------------------- T45 event patterns


def event_pattern(text: str) -> Any:
    """T45: EventBridge's matcher for a pattern (JSON text): ``matches_event(dict)``; ValueError when it is not
    one."""
    from moto.events.models import EventPattern

    try:
        return EventPattern.load(text)
    except Exception as exc:  # noqa: BLE001 - moto raises its own InvalidEventPatternException
        raise ValueError(str(getattr(exc, "message", None) or exc)) from None


# ---------------------------------------------------------------- T46 EventBridge Scheduler


def scheduler_schedules() -> Iterator[tuple[str, str, Any]]:
    """T46: (account, region, schedule) for every EventBridge Scheduler schedule moto holds (``name``,
    ``group_name``, ``arn``, ``schedule_expression``, ``schedule_expression_timezone``, ``target``, ``state``,
    ``start_date``, ``end_date``)."""
    from moto.scheduler.models import scheduler_backends

    for account, regions in list(scheduler_backends.items()):
        for region, backend in list(regions.items()):
            for group in list(backend.schedule_groups.values()):
                for schedule in list(group.schedules.values()):
                    yield account, region, schedule


def scheduler_create_schedule(account: str, region: str, props: dict) -> Any:
    """T46: create a schedule from CloudFormation's ``AWS::Scheduler::Schedule`` properties; the schedule."""
    from moto.scheduler.models import scheduler_backends

    return scheduler_backends[account][region].create_schedule(
        name=props["Name"], group_name=props.get("GroupName"), schedule_expression=props["ScheduleExpression"],
        schedule_expression_timezone=props.get("ScheduleExpressionTimezone"), description=props.get("Description"),
        target=props["Target"], state=props.get("State"), flexible_time_window=props.get("FlexibleTimeWindow"),
        start_date=props.get("StartDate"), end_date=props.get("EndDate"), kms_key_arn=props.get("KmsKeyArn"),
        action_after_completion=props.get("ActionAfterCompletion"))


def scheduler_delete_schedule(account: str, region: str, group_name: str | None, name: str) -> None:
    """T46: delete a schedule (nothing when it is gone already)."""
    from moto.scheduler.models import scheduler_backends

    try:
        scheduler_backends[account][region].delete_schedule(group_name, name)
    except Exception:  # noqa: BLE001 - moto's ScheduleNotFound: deleted already
        pass


# ---------------------------------------------------------------- T47 event source mapping checks

_patched_mapping_checks: dict[str, Any] = {"done": False, "check": None}


def patch_mapping_checks(check: Callable[[dict], str | None] | None) -> Callable[[dict], str | None] | None:
    """T47: CreateEventSourceMapping and UpdateEventSourceMapping (and CloudFormation's mappings) refuse a spec
    for which ``check(spec)`` names a problem, with Lambda's InvalidParameterValueException (the wrap is
    installed once; the check is the last one given). Returns the check in force before."""
    previous = _patched_mapping_checks["check"]
    _patched_mapping_checks["check"] = check
    if _patched_mapping_checks["done"]:
        return previous
    from moto.awslambda.exceptions import InvalidParameterValueException
    from moto.awslambda.models import LambdaBackend

    create, update = LambdaBackend.create_event_source_mapping, LambdaBackend.update_event_source_mapping

    def checked(spec: dict) -> None:
        check = _patched_mapping_checks["check"]
        problem = check(spec or {}) if check is not None else None
        if problem:
            raise InvalidParameterValueException(problem)

    def create_event_source_mapping(self: Any, spec: dict) -> Any:
        checked(spec)
        return create(self, spec)

    def update_event_source_mapping(self: Any, uuid: str, spec: dict) -> Any:
        checked(spec)
        return update(self, uuid, spec)

    LambdaBackend.create_event_source_mapping = create_event_source_mapping  # type: ignore[method-assign]
    LambdaBackend.update_event_source_mapping = update_event_source_mapping  # type: ignore[method-assign]
    _patched_mapping_checks["done"] = True
    return previous


# ---------------------------------------------------------------- T48 EventBridge buses from CloudFormation

_patched_event_buses = {"done": False}


def patch_cfn_event_buses() -> None:
    """T48: ``!Ref`` of an ``AWS::Events::EventBus`` is its name, as CloudFormation answers (moto's model has no
    ``physical_resource_id``); idempotent."""
    if _patched_event_buses["done"]:
        return
    from moto.events.models import EventBus

    if "physical_resource_id" not in EventBus.__dict__:
        EventBus.physical_resource_id = property(lambda self: self.name)  # type: ignore[attr-defined]
    _patched_event_buses["done"] = True


# ---------------------------------------------------------------- T49 function deletions

_function_deletes: dict[str, Any] = {"done": False, "listeners": []}


def patch_function_deletes(listener: Callable[[str, str, str, str | None], None]) -> Callable[[], None]:
    """T49: after moto deletes a function (``qualifier`` None) or one of its versions, ``listener(account, region,
    function name, qualifier)`` is called (a listener's failure never fails the deletion). Returns the function
    that removes the listener (the wrap itself is installed once)."""
    _function_deletes["listeners"].append(listener)

    def undo() -> None:
        if listener in _function_deletes["listeners"]:
            _function_deletes["listeners"].remove(listener)

    if _function_deletes["done"]:
        return undo
    from moto.awslambda.models import LambdaBackend

    original = LambdaBackend.delete_function

    def delete_function(self: Any, function_name: str, qualifier: str | None = None) -> None:
        original(self, function_name, qualifier)
        parts = str(function_name).split(":")
        if parts[0] == "arn":  # arn:aws:lambda:region:account:function:name[:qualifier]
            parts = parts[6:]
        elif len(parts) >= 3 and parts[1] == "function":  # account:function:name[:qualifier]
            parts = parts[2:]
        name = parts[0]
        if len(parts) > 1 and parts[1]:
            qualifier = parts[1]
        for each in list(_function_deletes["listeners"]):
            try:
                each(self.account_id, self.region_name, name, str(qualifier) if qualifier else None)
            except Exception as exc:  # noqa: BLE001 - the deletion happened; the local cloud reports its own trouble
                print(f"lamctl: after deleting {function_name}: {exc}", file=sys.stderr, flush=True)

    LambdaBackend.delete_function = delete_function  # type: ignore[method-assign]
    _function_deletes["done"] = True
    return undo


# ---------------------------------------------------------------- T50 StartSyncExecution

_patched_sync_starts: dict[str, Any] = {"done": False}
SYNC_EXECUTION_LIMIT = 300.0  # seconds: an EXPRESS execution's longest run (5 minutes)


def patch_state_machine_sync_starts(limit: float = SYNC_EXECUTION_LIMIT) -> None:
    """T50: StartSyncExecution runs an EXPRESS state machine's execution (of a version or an alias too, through
    T41) with moto's interpreter and answers once it ends: ``status`` SUCCEEDED, FAILED or TIMED_OUT (stopped
    after ``limit`` seconds, as Express stops an execution after 5 minutes), ``output`` or ``error`` and ``cause``.
    A STANDARD state machine is refused with ``StateMachineTypeNotSupported``, as Step Functions refuses it.
    Idempotent."""
    if _patched_sync_starts["done"]:
        return
    import datetime

    from moto.core.responses import ActionResult
    from moto.stepfunctions.exceptions import StepFunctionsException
    from moto.stepfunctions.responses import StepFunctionResponse

    class StateMachineTypeNotSupported(StepFunctionsException):
        code = "StateMachineTypeNotSupported"

    def status_of(execution: Any) -> str | None:
        status = getattr(execution, "exec_status", None)
        return None if status is None else str(getattr(status, "value", status))

    def start_sync_execution(self: Any) -> Any:
        arn = str(self._get_param("stateMachineArn"))
        machine = self.stepfunction_backend.describe_state_machine(":".join(arn.split(":")[:7]))
        if str(getattr(machine, "type", "STANDARD")) != "EXPRESS":
            raise StateMachineTypeNotSupported(
                "This operation is not supported by this type of state machine (StartSyncExecution runs EXPRESS "
                "state machines only)")
        execution = self.stepfunction_backend.start_execution(
            arn, self._get_param("name"), self._get_param("input", if_none="{}"), self._get_param("traceHeader"))
        ended = threading.Event()
        waited = 0.0
        while status_of(execution) in (None, "RUNNING") and waited < limit:
            ended.wait(0.01)
            waited += 0.01
        status = status_of(execution)
        if status in (None, "RUNNING"):
            execution.stop(datetime.datetime.now(datetime.timezone.utc), "States.Timeout",
                           "The execution ran longer than an EXPRESS execution may (5 minutes)")
            status = "TIMED_OUT"
        elif status != "SUCCEEDED" and status != "TIMED_OUT":
            status = "FAILED"  # (ABORTED too: a synchronous execution is SUCCEEDED, FAILED or TIMED_OUT)
        answer: dict[str, Any] = {
            "executionArn": execution.execution_arn, "stateMachineArn": arn, "name": execution.name,
            "startDate": execution.start_date, "stopDate": execution.stop_date, "status": status,
            "input": execution.execution_input, "inputDetails": {"included": True}}
        if status == "SUCCEEDED":
            output = execution.output
            answer["output"] = output if isinstance(output, str) else json.dumps(output)
            answer["outputDetails"] = {"included": True}
        if status == "TIMED_OUT":
            answer.update(error=execution.error or "States.Timeout", cause=execution.cause)
        for key in ("error", "cause"):
            if getattr(execution, key, None) is not None:
                answer[key] = getattr(execution, key)
        return ActionResult({k: v for k, v in answer.items() if v is not None})

    StepFunctionResponse.start_sync_execution = start_sync_execution  # type: ignore[attr-defined]
    _patched_sync_starts["done"] = True


# ---------------------------------------------------------------- T24 placeholders for the types moto lacks

_patched_placeholders: dict[str, Any] = {"done": False, "factory": None}
_patched_describe = {"done": False, "wanted": False}
_patched_defaults: dict[str, Any] = {"done": False, "fill": None}
_patched_outputs = {"done": False, "wanted": False}


def _apply_cfn_pending() -> None:
    """T24-T25 once moto's CloudFormation is loaded (they wait for it, as T7 does, so the emulator starts without
    importing it)."""
    if _patched_placeholders["factory"] is not None:
        patch_cfn_placeholders(_patched_placeholders["factory"])
    if _patched_describe["wanted"]:
        patch_describe_stack_resource()
    if _patched_defaults["fill"] is not None:
        patch_cfn_defaults(_patched_defaults["fill"])
    if _patched_outputs["wanted"]:
        patch_lenient_outputs()


def cfn_validation_error(message: str) -> Exception:
    """T24: the error moto's CloudFormation answers a template error with (HTTP 400, ``ValidationError``)."""
    from moto.cloudformation.exceptions import ValidationError

    return ValidationError(message=message)


def patch_cfn_placeholders(factory: Callable[[str], Any]) -> None:
    """T24: a resource type moto's CloudFormation lacks gets ``factory(type)`` (a model class, or None to skip it
    as moto does). Idempotent; the latest factory is used. Applied now when moto's CloudFormation is loaded, else
    with T7 once it is."""
    _patched_placeholders["factory"] = factory
    if _patched_placeholders["done"]:
        return
    parsing = sys.modules.get("moto.cloudformation.parsing")
    if parsing is None:
        return

    original = parsing.resource_class_from_type

    def resource_class_from_type(resource_type: str) -> Any:
        factory = _patched_placeholders["factory"]
        if factory is not None and not resource_type.startswith("Custom::") \
                and resource_type not in parsing.get_model_map():
            return factory(resource_type)  # (before moto logs that it does not support the type)
        return original(resource_type)

    parsing.resource_class_from_type = resource_class_from_type
    _patched_placeholders["done"] = True


# ---------------------------------------------------------------- T25 DescribeStackResource

def patch_describe_stack_resource() -> None:
    """T25: DescribeStackResource passes over the resources that were not created (idempotent; applied with T7
    when moto's CloudFormation is not loaded yet)."""
    _patched_describe["wanted"] = True
    if _patched_describe["done"]:
        return
    models = sys.modules.get("moto.cloudformation.models")
    if models is None:
        return
    from moto.cloudformation.exceptions import ValidationError

    def describe_stack_resource(self: Any, stack_name: str, logical_resource_id: str) -> Any:
        stack = self.get_stack(stack_name)
        for resource in stack.stack_resources:
            if resource is not None and getattr(resource, "logical_resource_id", None) == logical_resource_id:
                return stack, resource
        raise ValidationError(stack_name, f"Resource {logical_resource_id} does not exist for stack {stack_name}")

    models.CloudFormationBackend.describe_stack_resource = describe_stack_resource  # type: ignore[method-assign]
    _patched_describe["done"] = True


# ---------------------------------------------------------------- T26 CloudFormation's defaults


def patch_cfn_defaults(fill: Callable[[str, dict, dict], None]) -> None:
    """T26: before moto reads a resource, ``fill(type, properties, context)`` completes its properties in place
    (``context``: ``logical_id``, ``stack_name``, ``stack_id``, ``account``, ``region``, ``partition``).
    Idempotent; applied with T7 when moto's CloudFormation is not loaded yet."""
    _patched_defaults["fill"] = fill
    if _patched_defaults["done"]:
        return
    parsing = sys.modules.get("moto.cloudformation.parsing")
    if parsing is None:
        return
    original = parsing.parse_resource_and_generate_name

    def parse_resource_and_generate_name(logical_id: str, resource_json: dict, resources_map: Any) -> Any:
        if isinstance(resource_json, dict) and isinstance(resource_json.get("Type"), str):
            props = resource_json.get("Properties")
            if props is None:
                props = resource_json["Properties"] = {}
            if isinstance(props, dict):
                context = {"logical_id": logical_id, "stack_id": getattr(resources_map, "stack_id", ""),
                           **{key: resources_map[name] for key, name in (
                               ("stack_name", "AWS::StackName"), ("account", "AWS::AccountId"),
                               ("region", "AWS::Region"), ("partition", "AWS::Partition"))}}
                _patched_defaults["fill"](resource_json["Type"], props, context)
        return original(logical_id, resource_json, resources_map)

    parsing.parse_resource_and_generate_name = parse_resource_and_generate_name
    _patched_defaults["done"] = True


# ---------------------------------------------------------------- T27 event source mappings the local cloud does not poll


def lambda_event_source_mapping_class() -> type:
    """T27: moto's ``AWS::Lambda::EventSourceMapping`` model (to subclass)."""
    from moto.awslambda.models import EventSourceMapping

    return EventSourceMapping


def lambda_record_idle_mapping(account: str, region: str, props: dict) -> Any:
    """T27: record an event source mapping of a source moto refuses (Amazon MQ, MSK, self-managed Kafka: its
    ``EventSourceArn``, or none), disabled; the mapping (``uuid``, ``physical_resource_id``)."""
    from moto.awslambda.models import EventSourceMapping

    backend = lambda_backend(account, region)
    fn = backend.get_function(str(props["FunctionName"]))  # moto's ResourceNotFound when there is none
    spec = {k: v for k, v in props.items() if k not in ("EventSourceArn", "BatchSize", "Enabled")}
    spec.update(EventSourceArn=f"arn:aws:sqs:{region}:{account}:lamctl-idle", FunctionArn=fn.function_arn,
                RegionName=region, AccountId=account)
    esm = EventSourceMapping(spec)  # built as an SQS one (moto's checks), then given its own source
    esm._event_source_arn = props.get("EventSourceArn")
    esm._batch_size = int(props.get("BatchSize") or 100)
    esm.enabled = False
    backend._event_source_mappings[esm.uuid] = esm
    return esm


# ---------------------------------------------------------------- T28 REST API mock integrations


def rest_integration_import_ready(integration: dict) -> dict:
    """T28: an OpenAPI integration as moto's importer needs it: ``uri`` and ``httpMethod`` present (empty for a
    ``mock`` integration, which has neither)."""
    out = dict(integration)
    out.setdefault("uri", "")
    out.setdefault("httpMethod", "POST")
    return out


def rest_integration_responses(integration: Any) -> list[tuple[str, str, dict, dict]]:
    """T28: (status code, selection pattern, response parameters, response templates) of each response of a REST
    API method's integration."""
    out = []
    for response in list((getattr(integration, "integration_responses", None) or {}).values()):
        out.append((str(response.status_code), str(response.selection_pattern or ""),
                    dict(response.response_parameters or {}), dict(response.response_templates or {})))
    return out


# ---------------------------------------------------------------- T29 outputs that cannot be worked out


def patch_lenient_outputs() -> None:
    """T29: an output moto cannot work out is left out instead of failing every DescribeStacks (idempotent;
    applied with T7 when moto's CloudFormation is not loaded yet)."""
    _patched_outputs["wanted"] = True
    if _patched_outputs["done"]:
        return
    parsing = sys.modules.get("moto.cloudformation.parsing")
    if parsing is None:
        return
    original = parsing.OutputMap.__getitem__

    def __getitem__(self: Any, key: str) -> Any:
        try:
            return original(self, key)
        except Exception as exc:  # noqa: BLE001 - moto raises several kinds (ValidationError, KeyError, ...)
            parsing.logger.warning("output %s cannot be worked out, left out: %s", key, exc)
            return None

    parsing.OutputMap.__getitem__ = __getitem__  # type: ignore[method-assign]
    _patched_outputs["done"] = True
