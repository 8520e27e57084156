"""The moto behaviours lamctl's local cloud relies on, one test per touch point of
:mod:`lamctl.local.cloud.moto_ext` (T1-T29 in its docstring).

Each test drives moto the way the local cloud does (through the seam) and looks at
the result over HTTP, as a user of the emulator would. When a moto upgrade changes
one of these behaviours, the failure names the touch point and the behaviour, not a
stray AttributeError deep in a deploy.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import json
import urllib.request
import zipfile

import pytest

from lamctl.local.cloud import moto_ext

ACCOUNT = "123456789012"  # what moto files the dummy key 'testing' under
REGION = "us-east-1"


@contextlib.contextmanager
def touch(point: str, behaviour: str):
    """Any failure inside names the touch point and the moto behaviour lamctl relies on."""
    try:
        yield
    except AssertionError as exc:
        raise AssertionError(f"moto no longer behaves as lamctl's local cloud expects: {point}: {behaviour} "
                             f"(see lamctl.local.cloud.moto_ext): {exc}") from exc
    except Exception as exc:  # noqa: BLE001 - an internal that moved (AttributeError, TypeError, KeyError, ...)
        raise AssertionError(f"moto no longer behaves as lamctl's local cloud expects: {point}: {behaviour} "
                             f"(see lamctl.local.cloud.moto_ext): {type(exc).__name__}: {exc}") from exc


def _zip(text: str = "def handler(event, context):\n    return event\n") -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("app.py", text)
    return buf.getvalue()


@pytest.fixture
def fn(aws):
    """Function ``app`` (version 1 published) created over HTTP."""
    role = aws.client("iam").create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    lam = aws.client("lambda")
    lam.create_function(FunctionName="app", Runtime="python3.12", Role=role, Handler="app.handler",
                        Code={"ZipFile": _zip()}, MemorySize=256, Timeout=7, Environment={"Variables": {"A": "1"}},
                        Publish=True)
    aws.lam, aws.role = lam, role
    return aws


def test_t1_lambda_backend_storage(fn):
    lam = fn.lam
    lam.publish_version(FunctionName="app")  # unchanged code: still version 1
    lam.update_function_code(FunctionName="app", ZipFile=_zip("def handler(e, c):\n    return 2\n"))
    lam.publish_version(FunctionName="app")
    lam.create_alias(FunctionName="app", Name="live", FunctionVersion="1",
                     RoutingConfig={"AdditionalVersionWeights": {"2": 0.25}})
    layer = lam.publish_layer_version(LayerName="lib", Content={"ZipFile": _zip("X = 1\n")})
    with touch("T1 lambda-backend", "get_backend(account, region)._lambdas keeps {'latest', 'versions'} per "
                                    "function and _aliases[unqualified arn][alias]; layers_versions_by_arn(arn)"):
        entry = moto_ext.lambda_function_entry(ACCOUNT, REGION, "app")
        assert entry is not None, "function app created over HTTP is not in the backend's _lambdas._functions"
        latest, versions = entry
        assert latest.function_name == "app" and sorted(versions) == ["1", "2"], sorted(versions)
        assert moto_ext.lambda_function_entry(ACCOUNT, REGION, "nope") is None
        assert moto_ext.lambda_function_entry(ACCOUNT, "eu-west-3", "app") is None
        alias = moto_ext.lambda_alias(ACCOUNT, REGION, "app", "live")
        assert alias is not None and str(alias.function_version) == "1"
        assert alias.routing_config == {"AdditionalVersionWeights": {"2": 0.25}}, alias.routing_config
        assert moto_ext.lambda_alias(ACCOUNT, REGION, "app", "nope") is None
        version = moto_ext.lambda_layer_version(ACCOUNT, REGION, layer["LayerVersionArn"])
        assert version is not None and version.code_bytes == _zip("X = 1\n")
        assert version.code_sha_256 == layer["Content"]["CodeSha256"]


def test_t2_lambda_function_record(fn):
    with touch("T2 lambda-function", "a LambdaFunction record has " + ", ".join(moto_ext.LAMBDA_FUNCTION_ATTRIBUTES)):
        latest, versions = moto_ext.lambda_function_entry(ACCOUNT, REGION, "app")
        missing = [a for a in moto_ext.LAMBDA_FUNCTION_ATTRIBUTES if not hasattr(latest, a)]
        assert not missing, f"attributes gone: {missing}"
        v1 = versions["1"]
        assert (v1.function_name, str(v1.version), v1.region, v1.account_id) == ("app", "1", REGION, ACCOUNT)
        assert (v1.handler, v1.run_time, int(v1.memory_size), int(v1.timeout)) == ("app.handler", "python3.12",
                                                                                   256, 7)
        assert dict(v1.environment_vars) == {"A": "1"}
        assert v1.code_bytes == _zip()
        assert v1.code_sha_256 == base64.b64encode(hashlib.sha256(_zip()).digest()).decode()
        assert (getattr(v1, "package_type", None) or "Zip") == "Zip"


def test_t3_lambda_backend_methods(fn):
    with touch("T3 lambda-methods", "publish_version(name, description), create_alias/update_alias(name, "
                                    "function_name, version, description, routing), get_alias, delete_alias"):
        fn.lam.update_function_code(FunctionName="app", ZipFile=_zip("def handler(e, c):\n    return 2\n"))
        assert moto_ext.lambda_publish_version(ACCOUNT, REGION, "app", "second") == "2"
        assert fn.lam.get_function(FunctionName="app", Qualifier="2")["Configuration"]["Description"] == "second"
        arn = moto_ext.lambda_create_alias(ACCOUNT, REGION, "app", "live", "1", "", {
            "AdditionalVersionWeights": {"2": 0.1}})
        got = fn.lam.get_alias(FunctionName="app", Name="live")
        assert got["AliasArn"] == arn and got["FunctionVersion"] == "1"
        assert got["RoutingConfig"]["AdditionalVersionWeights"] == {"2": 0.1}
        assert moto_ext.lambda_update_alias(ACCOUNT, REGION, "app", "live", "2", "moved", {}) == arn
        got = fn.lam.get_alias(FunctionName="app", Name="live")
        assert got["FunctionVersion"] == "2" and not (got.get("RoutingConfig") or {}).get("AdditionalVersionWeights")
        assert moto_ext.lambda_alias_arn(ACCOUNT, REGION, "app", "live") == arn
        moto_ext.lambda_delete_alias(ACCOUNT, REGION, "app", "live")
        assert fn.lam.list_aliases(FunctionName="app")["Aliases"] == []
        assert moto_ext.lambda_require_function(ACCOUNT, REGION, "app").function_name == "app"
        with pytest.raises(Exception) as err:
            moto_ext.lambda_require_function(ACCOUNT, REGION, "nope")
        assert "nope" in str(err.value) or "not found" in str(err.value).lower(), err.value


def test_t4_invocations_moto_makes_itself_go_through_the_patch(fn):
    seen = []

    def invoke(record, payload):
        seen.append((record.function_name, json.loads(payload)))
        return b'{"ok": true}', None

    sns = fn.client("sns")
    topic = sns.create_topic(Name="t")["TopicArn"]
    arn = fn.lam.get_function(FunctionName="app")["Configuration"]["FunctionArn"]
    sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=arn)
    with touch("T4 internal-invoke", "moto invokes a subscribed function through "
                                     "LambdaFunction.invoke(self, body, request_headers, response_headers)"):
        undo = moto_ext.patch_internal_invokes(invoke)
        try:
            sns.publish(TopicArn=topic, Message="hello")
        finally:
            undo()
        assert len(seen) == 1, seen
        name, event = seen[0]
        assert name == "app" and event["Records"][0]["Sns"]["Message"] == "hello", event
        sns.publish(TopicArn=topic, Message="again")  # undone: the patch sees no more
        assert len(seen) == 1


def test_t5_account_of_an_access_key(fn):
    with touch("T5 account-of-key", "moto.iam.models.get_account_id_from(key) is the account a request signed "
                                    "with that key is filed under"):
        assert moto_ext.account_of("testing") == ACCOUNT
        assert moto_ext.lambda_function_entry(moto_ext.account_of("testing"), REGION, "app") is not None


TEMPLATE = {
    "Resources": {
        "Version": {"Type": "AWS::Lambda::Version", "Properties": {"FunctionName": "app"}},
        "Alias": {"Type": "AWS::Lambda::Alias",
                  "Properties": {"FunctionName": "app", "Name": "live",
                                 "FunctionVersion": {"Fn::GetAtt": ["Version", "Version"]}}},
    },
    "Outputs": {"AliasArn": {"Value": {"Ref": "Alias"}}},
}


def test_t6_cloudformation_creates_lamctls_models(fn):
    from lamctl.local.cloud.models import register

    register()
    with touch("T6 cfn-models", "moto's CloudFormation creates resource types from the direct subclasses of "
                                "CloudFormationModel (lists refreshed through parsing.get_model_list/map caches)"):
        cfn = fn.client("cloudformation")
        fn.lam.update_function_code(FunctionName="app", ZipFile=_zip("def handler(e, c):\n    return 2\n"))
        cfn.create_stack(StackName="s", TemplateBody=json.dumps(TEMPLATE))
        alias = fn.lam.get_alias(FunctionName="app", Name="live")
        assert alias["FunctionVersion"] == "2", alias  # the version the stack published (after version 1)
        outputs = cfn.describe_stacks(StackName="s")["Stacks"][0].get("Outputs") or []
        assert outputs == [{"OutputKey": "AliasArn", "OutputValue": alias["AliasArn"]}], outputs
        from moto.cloudformation.exceptions import UnformattedGetAttTemplateException

        assert isinstance(moto_ext.unsupported_get_att(), UnformattedGetAttTemplateException)


def test_t7_outputs_after_a_change_set(fn):
    from lamctl.local.cloud.emulator import prepare_moto

    prepare_moto()
    with touch("T7 change-set-outputs", "CloudFormationBackend.execute_change_set(change_set_name, stack_name) "
                                        "is wrapped; stack._parse_template()/_create_output_map() rebuild outputs"):
        assert moto_ext.change_set_outputs_patched()
        cfn = fn.client("cloudformation")
        cfn.create_change_set(StackName="cs", ChangeSetName="one", ChangeSetType="CREATE",
                              TemplateBody=json.dumps(TEMPLATE))
        cfn.execute_change_set(StackName="cs", ChangeSetName="one")
        stack = cfn.describe_stacks(StackName="cs")["Stacks"][0]
        assert [o["OutputKey"] for o in stack.get("Outputs") or []] == ["AliasArn"], stack


def test_t8_cloudwatch_alarms(aws):
    with touch("T8 cloudwatch", "cloudwatch_backends[account][region].put_metric_alarm(**kwargs) / delete_alarms "
                                "/ alarms[name].state_value"):
        backend = moto_ext.cloudwatch_backend(ACCOUNT, REGION)
        alarm = backend.put_metric_alarm(
            name="errors", namespace="AWS/Lambda", metric_name="Errors", comparison_operator="GreaterThanThreshold",
            evaluation_periods=1, period=60, threshold=1.0, statistic="Sum", description="", dimensions=[],
            alarm_actions=[], datapoints_to_alarm=None, extended_statistic=None, ok_actions=[],
            insufficient_data_actions=[], unit=None, actions_enabled=True, treat_missing_data=None)
        cw = aws.client("cloudwatch")
        described = cw.describe_alarms(AlarmNames=["errors"])["MetricAlarms"]
        assert [a["AlarmArn"] for a in described] == [alarm.alarm_arn]
        cw.set_alarm_state(AlarmName="errors", StateValue="ALARM", StateReason="test")
        assert moto_ext.alarm_states(ACCOUNT, REGION, ["errors", "absent"]) == {"errors": "ALARM"}
        backend.delete_alarms(["errors"])
        assert cw.describe_alarms(AlarmNames=["errors"])["MetricAlarms"] == []


OPENAPI = {"openapi": "3.0.1", "info": {"title": "api"}, "paths": {"/items/{id}": {"get": {
    "x-amazon-apigateway-integration": {"type": "aws_proxy", "httpMethod": "POST",
                                        "uri": "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
                                               "arn:aws:lambda:us-east-1:123456789012:function:app/invocations"}}}}}


def test_t9_apigateway_rest_apis(aws):
    with touch("T9 apigateway", "apigateway_backends: create_rest_api(name, description, endpoint_configuration), "
                                "put_rest_api(api_id, doc, fail_on_warnings, mode), create_stage, get_stage, "
                                "apis; RestAPI is a class; resources get_path()/resource_methods/method_integration"):
        assert isinstance(moto_ext.apigateway_module().RestAPI, type)
        backend = moto_ext.apigateway_backend(ACCOUNT, REGION)
        api = backend.create_rest_api(name="api", description="", endpoint_configuration=None)
        backend.put_rest_api(api.id, OPENAPI, fail_on_warnings=False, mode="merge")
        deployment = aws.client("apigateway").create_deployment(restApiId=api.id)["id"]
        backend.create_stage(api.id, "Prod", deployment, variables={}, description="", tracing_enabled=None)
        assert backend.get_stage(api.id, "Prod").deployment_id == deployment
        found = [(kind, a, r) for kind, a, r, b in moto_ext.api_backends() if api.id in b.apis]
        assert found == [("rest", ACCOUNT, REGION)], found
        paths = {r.get_path(): r for r in backend.apis[api.id].resources.values()}
        method = paths["/items/{id}"].resource_methods["GET"]
        assert method.method_integration.integration_type.upper() == "AWS_PROXY"
        assert method.method_integration.uri.endswith(":function:app/invocations")
        stages = aws.client("apigateway").get_stages(restApiId=api.id)["item"]
        assert [s["stageName"] for s in stages] == ["Prod"]
        backend.delete_stage(api.id, "Prod")
        backend.delete_rest_api(api.id)
        assert aws.client("apigateway").get_rest_apis()["items"] == []


def test_t10_apigatewayv2_http_apis(aws):
    with touch("T10 apigatewayv2", "apigatewayv2_backends: create_api(**kwargs), api.import_api(body, "
                                   "fail_on_warnings), create_stage(api_id, dict), routes/integrations/stages"):
        backend = moto_ext.apigatewayv2_backend(ACCOUNT, REGION)
        api = backend.create_api(api_key_selection_expression=None, cors_configuration=None, description="",
                                 disable_schema_validation=None, disable_execute_api_endpoint=None, name="http",
                                 protocol_type="HTTP", route_selection_expression=None, tags={}, version=None)
        api.import_api(json.dumps(OPENAPI), False)
        backend.create_stage(api.api_id, {"stageName": "$default", "autoDeploy": True, "stageVariables": {},
                                          "description": None})
        assert "$default" in api.stages
        routes = {r.route_key: r for r in api.routes.values()}
        assert "GET /items/{id}" in routes, list(routes)
        target = routes["GET /items/{id}"].target
        integration = api.integrations[target.split("/", 1)[1]]
        assert integration.integration_type.upper() == "AWS_PROXY"
        assert aws.client("apigatewayv2").get_apis()["Items"][0]["ApiId"] == api.api_id
        found = [kind for kind, a, r, b in moto_ext.api_backends() if api.api_id in b.apis]
        assert found == ["http"]
        backend.delete_stage(api.api_id, "$default")
        backend.delete_api(api.api_id)
        assert aws.client("apigatewayv2").get_apis()["Items"] == []


def test_t11_server_reset_and_config(fn):
    import http.server

    with touch("T11 server", "DomainDispatcherApplication(create_backend_app) / MotoRequestHandler; "
                             "POST /moto-api/reset drops every backend; /moto-api/config holds lambda.use_docker"):
        assert callable(moto_ext.wsgi_app())
        assert issubclass(moto_ext.request_handler(), http.server.BaseHTTPRequestHandler)
        with urllib.request.urlopen(fn.endpoint + moto_ext.CONFIG_PATH, timeout=10) as resp:
            assert json.loads(resp.read())["lambda"]["use_docker"] is False
        fn.post(moto_ext.RESET_PATH)
        assert moto_ext.lambda_function_entry(ACCOUNT, REGION, "app") is None
        assert fn.client("lambda").list_functions()["Functions"] == []


def test_t12_codedeploy_deployment_records(aws):
    cd = aws.client("codedeploy")
    cd.create_application(applicationName="a", computePlatform="Lambda")
    cd.create_deployment_group(applicationName="a", deploymentGroupName="g", serviceRoleArn="arn:aws:iam::1:role/r",
                               deploymentConfigName="CodeDeployDefault.LambdaAllAtOnce",
                               deploymentStyle={"deploymentType": "BLUE_GREEN",
                                                "deploymentOption": "WITH_TRAFFIC_CONTROL"},
                               autoRollbackConfiguration={"enabled": True, "events": ["DEPLOYMENT_FAILURE"]},
                               alarmConfiguration={"enabled": True, "alarms": [{"name": "errors"}]})
    revision = {"revisionType": "AppSpecContent", "appSpecContent": {"content": "{}"}}
    dep_id = cd.create_deployment(applicationName="a", deploymentGroupName="g", revision=revision)["deploymentId"]
    with touch("T12 codedeploy", "codedeploy_backends[account][region].deployments[id] keeps revision, config, "
                                 "group (auto_rollback_configuration, alarm_configuration); GetDeployment reports "
                                 "the status, start/complete times, overview and creator set on it"):
        record = moto_ext.codedeploy_deployment(ACCOUNT, REGION, dep_id)
        assert record is not None and record.revision == revision, getattr(record, "revision", None)
        assert str(record.deployment_config_name) == "CodeDeployDefault.LambdaAllAtOnce"
        assert (record.application_name, record.deployment_group_name) == ("a", "g")
        assert moto_ext.codedeploy_compute_platform(record) == "Lambda"
        rollback, alarms = moto_ext.codedeploy_group_settings(record)
        assert rollback == {"enabled": True, "events": ["DEPLOYMENT_FAILURE"]}, rollback
        assert alarms == {"enabled": True, "alarms": [{"name": "errors"}]}, alarms
        assert cd.get_deployment(deploymentId=dep_id)["deploymentInfo"]["status"] == "Created"
        moto_ext.codedeploy_set_state(record, status="InProgress", started=True,
                                      overview={"Pending": 0, "InProgress": 1, "Succeeded": 0, "Failed": 0,
                                                "Skipped": 0, "Ready": 0})
        info = cd.get_deployment(deploymentId=dep_id)["deploymentInfo"]
        assert info["status"] == "InProgress" and info.get("startTime") is not None, info
        assert info["deploymentOverview"]["InProgress"] == 1
        moto_ext.codedeploy_set_state(record, status="Succeeded", completed=True)
        info = cd.batch_get_deployments(deploymentIds=[dep_id])["deploymentsInfo"][0]
        assert info["status"] == "Succeeded" and info.get("completeTime") is not None, info
        assert cd.list_deployments(applicationName="a", deploymentGroupName="g",
                                   includeOnlyStatuses=["Succeeded"])["deployments"] == [dep_id]
        other = moto_ext.codedeploy_record(ACCOUNT, REGION, "a", "g", revision, "CodeDeployDefault.LambdaAllAtOnce",
                                           "rollback", "codeDeployRollback")
        assert cd.get_deployment(deploymentId=other)["deploymentInfo"]["creator"] == "codeDeployRollback"
        assert moto_ext.codedeploy_deployment(ACCOUNT, REGION, "d-NOPE") is None


def test_t13_s3_parts_of_an_aborted_upload_answer_no_such_upload(aws):
    from botocore.exceptions import ClientError

    s3 = aws.client("s3")
    s3.create_bucket(Bucket="parts-bucket")
    upload = s3.create_multipart_upload(Bucket="parts-bucket", Key="k")["UploadId"]
    s3.abort_multipart_upload(Bucket="parts-bucket", Key="k", UploadId=upload)
    with touch("T13 s3-multipart", "S3Backend.upload_part / complete_multipart_upload(bucket, upload_id, ...) look "
                                   "the upload up in get_bucket(bucket).multiparts; wrapped to answer NoSuchUpload"):
        for call in (lambda: s3.upload_part(Bucket="parts-bucket", Key="k", UploadId=upload, PartNumber=1, Body=b"x"),
                     lambda: s3.complete_multipart_upload(Bucket="parts-bucket", Key="k", UploadId=upload,
                                                          MultipartUpload={"Parts": [{"PartNumber": 1,
                                                                                      "ETag": '"x"'}]})):
            with pytest.raises(ClientError) as err:
                call()
            assert err.value.response["Error"]["Code"] == "NoSuchUpload", err.value.response
            assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_t14_cloudwatch_logs_written_in_process_are_read_over_http(aws):
    import time

    now = int(time.time() * 1000)
    with touch("T14 logs", "logs_backends[account][region] create_log_group / create_log_stream / put_log_events "
                           "store events that FilterLogEvents answers in time order"):
        moto_ext.put_log_events(ACCOUNT, REGION, "/aws/lambda/c", "2026/01/01/[$LATEST]ab",
                                [{"timestamp": now - 2, "message": "START"}, {"timestamp": now - 1, "message": "x"}])
        moto_ext.put_log_events(ACCOUNT, REGION, "/aws/lambda/c", "2026/01/01/[$LATEST]ab",
                                [{"timestamp": now, "message": "END"}])
        logs = aws.client("logs")
        events = logs.filter_log_events(logGroupName="/aws/lambda/c", interleaved=True)["events"]
        assert [e["message"] for e in events] == ["START", "x", "END"]
        assert {e["logStreamName"] for e in events} == {"2026/01/01/[$LATEST]ab"}
        assert logs.get_log_events(logGroupName="/aws/lambda/c", logStreamName="2026/01/01/[$LATEST]ab",
                                   startFromHead=True)["events"][0]["message"] == "START"


def test_t15_a_function_cloudformation_creates_gets_its_layers(aws):
    moto_ext.patch_cfn_lambda_layers()
    role = aws.client("iam").create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    s3 = aws.client("s3")
    s3.create_bucket(Bucket="code")
    s3.put_object(Bucket="code", Key="layer.zip", Body=_zip("WORD = 1\n"))
    s3.put_object(Bucket="code", Key="fn.zip", Body=_zip())
    template = {"Resources": {
        "Lib": {"Type": "AWS::Lambda::LayerVersion",
                "Properties": {"Content": {"S3Bucket": "code", "S3Key": "layer.zip"}}},
        "Fn": {"Type": "AWS::Lambda::Function", "Properties": {
            "FunctionName": "layered", "Runtime": "python3.12", "Handler": "app.handler", "Role": role,
            "Code": {"S3Bucket": "code", "S3Key": "fn.zip"}, "Layers": [{"Ref": "Lib"}]}}}}
    with touch("T15 cfn-lambda-layers", "LambdaFunction.create_from_cloudformation_json drops Layers and "
                                        "LayerVersion has no physical_resource_id; both supplied"):
        aws.client("cloudformation").create_stack(StackName="layers", TemplateBody=json.dumps(template))
        layers = aws.client("lambda").get_function_configuration(FunctionName="layered").get("Layers") or []
        assert [layer["Arn"].split(":")[-2:] for layer in layers] == [[layers[0]["Arn"].split(":")[-2], "1"]], layers
        assert ":layer:" in layers[0]["Arn"]
        resources = aws.client("cloudformation").describe_stack_resources(StackName="layers")["StackResources"]
        lib = next(r for r in resources if r["LogicalResourceId"] == "Lib")
        assert lib["PhysicalResourceId"] == layers[0]["Arn"]


def test_t15_a_stack_function_gets_a_published_layer_and_its_own_in_order(fn):
    moto_ext.patch_cfn_lambda_layers()
    layer = fn.lam.publish_layer_version(LayerName="lib", Content={"ZipFile": _zip("X = 1\n")})["LayerVersionArn"]
    template = {"Resources": {"WithLayer": {"Type": "AWS::Lambda::Function", "Properties": {
        "FunctionName": "with-layer", "Runtime": "python3.12", "Handler": "app.handler", "Role": fn.role,
        "Code": {"ZipFile": "def handler(e, c):\n    return 1\n"}, "Layers": [layer, {"Ref": "Own"}]}},
        "Own": {"Type": "AWS::Lambda::LayerVersion", "Properties": {
            "LayerName": "own", "Content": {"S3Bucket": "layers", "S3Key": "own.zip"}}}}}
    s3 = fn.client("s3")
    s3.create_bucket(Bucket="layers")
    s3.put_object(Bucket="layers", Key="own.zip", Body=_zip("Y = 2\n"))
    with touch("T15 cfn-lambda-layers", "LambdaFunction.create_from_cloudformation_json drops Layers and "
                                        "LayerVersion has no physical_resource_id; both supplied"):
        fn.client("cloudformation").create_stack(StackName="layers", TemplateBody=json.dumps(template))
        config = fn.lam.get_function(FunctionName="with-layer")["Configuration"]
        # (moto names a stack's layer after its logical ID, not its LayerName)
        (own,) = [x["LatestMatchingVersion"]["LayerVersionArn"] for x in fn.lam.list_layers()["Layers"]
                  if x["LayerName"] != "lib"]
        assert [entry["Arn"] for entry in config.get("Layers") or []] == [layer, own], config

def test_t16_event_invoke_config_records(fn):
    with touch("T16 event-invoke-config", "LambdaFunction.event_invoke_config lists EventInvokeConfig(.config), "
                                          "the last put in force"):
        latest, _ = moto_ext.lambda_function_entry(ACCOUNT, REGION, "app")
        assert moto_ext.lambda_event_invoke_config(latest) == {}
        fn.lam.put_function_event_invoke_config(FunctionName="app", MaximumRetryAttempts=0)
        fn.lam.put_function_event_invoke_config(
            FunctionName="app", MaximumRetryAttempts=1, MaximumEventAgeInSeconds=120,
            DestinationConfig={"OnFailure": {"Destination": f"arn:aws:sqs:{REGION}:{ACCOUNT}:q"}})
        latest, _ = moto_ext.lambda_function_entry(ACCOUNT, REGION, "app")
        config = moto_ext.lambda_event_invoke_config(latest)
        assert config["MaximumRetryAttempts"] == 1 and config["MaximumEventAgeInSeconds"] == 120, config
        assert config["DestinationConfig"]["OnFailure"]["Destination"].endswith(":q"), config
        moto_ext.lambda_put_event_invoke_config(ACCOUNT, REGION, "app", {"MaximumRetryAttempts": 2})
        latest, _ = moto_ext.lambda_function_entry(ACCOUNT, REGION, "app")
        assert moto_ext.lambda_event_invoke_config(latest) == {"MaximumRetryAttempts": 2}
        assert fn.lam.get_function_event_invoke_config(FunctionName="app")["MaximumRetryAttempts"] == 2
        moto_ext.lambda_delete_event_invoke_config(ACCOUNT, REGION, "app")
        latest, _ = moto_ext.lambda_function_entry(ACCOUNT, REGION, "app")
        assert moto_ext.lambda_event_invoke_config(latest) == {}


def test_t17_dead_letter_config_is_kept(fn):
    target = f"arn:aws:sqs:{REGION}:{ACCOUNT}:dlq"
    with touch("T17 dead-letter-config", "LambdaFunction.__init__(account_id, spec, region, ...), "
                                         "update_configuration(updates), get_configuration() wrapped to keep "
                                         "DeadLetterConfig"):
        fn.lam.create_function(FunctionName="with-dlq", Runtime="python3.12", Role=fn.role, Handler="app.handler",
                               Code={"ZipFile": _zip()}, DeadLetterConfig={"TargetArn": target})
        assert fn.lam.get_function_configuration(FunctionName="with-dlq")["DeadLetterConfig"] == {"TargetArn": target}
        latest, _ = moto_ext.lambda_function_entry(ACCOUNT, REGION, "with-dlq")
        assert moto_ext.lambda_dead_letter_target(latest) == target
        other = f"arn:aws:sns:{REGION}:{ACCOUNT}:dlq-topic"
        fn.lam.update_function_configuration(FunctionName="app", DeadLetterConfig={"TargetArn": other})
        latest, _ = moto_ext.lambda_function_entry(ACCOUNT, REGION, "app")
        assert moto_ext.lambda_dead_letter_target(latest) == other


def test_t18_deliveries_to_sqs_sns_and_eventbridge(aws):
    sqs = aws.client("sqs")
    url = sqs.create_queue(QueueName="out")["QueueUrl"]
    arn = f"arn:aws:sqs:{REGION}:{ACCOUNT}:out"
    with touch("T18 deliveries", "sqs_backends[..].send_message(queue, body, message_attributes), "
                                 "sns_backends[..].publish(message, arn, message_attributes), "
                                 "events_backends[..].put_events(entries)"):
        moto_ext.sqs_send(ACCOUNT, REGION, "out", "direct", {"ErrorCode": ("Number", "200")})
        sns = aws.client("sns")
        topic = sns.create_topic(Name="t")["TopicArn"]
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"})
        moto_ext.sns_publish(ACCOUNT, REGION, topic, "via sns", {"RequestID": ("String", "r-1")})
        events = aws.client("events")
        events.put_rule(Name="r", EventPattern=json.dumps({"source": ["lambda"]}))
        events.put_targets(Rule="r", Targets=[{"Id": "q", "Arn": arn}])
        answer = moto_ext.events_put(ACCOUNT, REGION, [{"Source": "lambda", "DetailType": "d", "Detail": "{}",
                                                        "Resources": [], "EventBusName": "default"}])
        assert "EventId" in answer[0], answer
        got = []
        for _ in range(3):
            got += sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]).get(
                "Messages", [])
        bodies = {m["Body"]: m.get("MessageAttributes", {}) for m in got}
        assert bodies["direct"]["ErrorCode"] == {"DataType": "Number", "StringValue": "200"}, bodies
        assert bodies["via sns"]["RequestID"]["StringValue"] == "r-1", bodies
        assert any(json.loads(b).get("source") == "lambda" for b in bodies if b.startswith("{")), bodies


def test_t19_function_url_records(fn):
    from lamctl.local.cloud.urls import function_url

    with touch("T19 function-urls", "create_function_url_config(name, config) -> FunctionUrlConfig(function, "
                                    "config) kept as url_config, url https://{id}.lambda-url.{region}.on.aws; "
                                    "__init__ wrapped to give the local address"):
        moto_ext.patch_function_urls(function_url)
        previous = moto_ext.set_function_url_endpoint("http://127.0.0.1:9")
        try:
            record = moto_ext.lambda_create_function_url(ACCOUNT, REGION, "app", {"AuthType": "NONE"})
        finally:
            moto_ext.set_function_url_endpoint(previous)
        assert record.url == f"http://127.0.0.1:9/lambda-url/{record.url_id}/", record.url
        assert fn.lam.get_function_url_config(FunctionName="app")["FunctionUrl"] == record.url
        found, account, region = moto_ext.lambda_find_function_url(record.url_id)
        assert found is record and (account, region) == (ACCOUNT, REGION)
        assert found.function.function_name == "app" and found.config["AuthType"] == "NONE"
        moto_ext.lambda_delete_function_url(ACCOUNT, REGION, "app")
        assert moto_ext.lambda_find_function_url(record.url_id) is None


def test_t20_sqs_mappings_are_left_to_the_local_cloud(fn):
    from lamctl.local.cloud import event_sources

    # a local cloud still running in this process (another test's) polls every enabled mapping of moto's shared
    # state: its rounds wait while this test receives the queue's messages itself
    with event_sources._ROUND:
        _t20(fn)


def _t20(fn):
    sqs = fn.client("sqs")
    dlq = sqs.create_queue(QueueName="t18-dlq")["QueueUrl"]
    url = sqs.create_queue(QueueName="t18", Attributes={"VisibilityTimeout": "0", "RedrivePolicy": json.dumps(
        {"deadLetterTargetArn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:t18-dlq", "maxReceiveCount": "1"})})["QueueUrl"]
    with touch("T20 sqs-mappings", "Queue.add_message runs lambda_event_source_mappings (hidden by the wrap); "
                                   "_event_source_mappings; receive_message counts receives and redrives"):
        moto_ext.patch_sqs_mappings_polled()
        uuid = fn.lam.create_event_source_mapping(EventSourceArn=f"arn:aws:sqs:{REGION}:{ACCOUNT}:t18",
                                                  FunctionName="app", BatchSize=5)["UUID"]
        (esm,) = [m for m in moto_ext.event_source_mappings() if m.uuid == uuid]
        assert esm.batch_size == 5 and esm.enabled and esm.function_arn.endswith(":function:app")
        sqs.send_message(QueueUrl=url, MessageBody="stays")  # not taken by moto's own invoke
        assert moto_ext.sqs_queue(ACCOUNT, REGION, "t18").approximate_number_of_messages == 1
        (message,) = moto_ext.sqs_receive(ACCOUNT, REGION, "t18", 5)
        assert message.body == "stays" and message.approximate_receive_count == 1 and message.receipt_handle
        assert moto_ext.sqs_receive(ACCOUNT, REGION, "t18", 5) == []  # received once: redriven
        assert sqs.receive_message(QueueUrl=dlq)["Messages"][0]["Body"] == "stays"
        sqs.send_message(QueueUrl=url, MessageBody="gone")
        (message,) = moto_ext.sqs_receive(ACCOUNT, REGION, "t18", 5)
        moto_ext.sqs_delete(ACCOUNT, REGION, "t18", message.receipt_handle)
        assert moto_ext.sqs_queue(ACCOUNT, REGION, "t18").approximate_number_of_messages == 0


def test_t21_async_sources_hand_lambda_invocations_over(fn):
    calls = []
    with touch("T21 async-sources", "s3.notifications._invoke_awslambda(account, event, arn, region), "
                                    "events Rule.send_to_targets(event, transform_input) and sns "
                                    "Subscription.publish(message, message_id, ...) wrapped; "
                                    "events_backends[..].event_buses[..].rules"):
        undo = moto_ext.patch_async_sources(lambda arn, payload, account, region: calls.append(
            (arn, json.loads(payload), account, region)))
        try:
            arn = fn.lam.get_function(FunctionName="app")["Configuration"]["FunctionArn"]
            s3 = fn.client("s3")
            s3.create_bucket(Bucket="t19")
            s3.put_bucket_notification_configuration(Bucket="t19", NotificationConfiguration={
                "LambdaFunctionConfigurations": [{"LambdaFunctionArn": arn, "Events": ["s3:ObjectCreated:*"]}]})
            s3.put_object(Bucket="t19", Key="a/b c.txt", Body=b"x")
            events = fn.client("events")
            events.put_rule(Name="t19", EventPattern=json.dumps({"source": ["t19"]}))
            events.put_targets(Rule="t19", Targets=[{"Id": "f", "Arn": arn, "Input": '{"fixed": 1}'}])
            events.put_events(Entries=[{"Source": "t19", "DetailType": "d", "Detail": "{}"}])
            sns = fn.client("sns")
            topic = sns.create_topic(Name="t19")["TopicArn"]
            sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=arn)
            sent = sns.publish(TopicArn=topic, Message="m")["MessageId"]
        finally:
            undo()
        (s3_call, rule_call, sns_call) = calls
        assert sns_call[0] == arn and sns_call[1]["Records"][0]["Sns"]["MessageId"] == sent, sns_call
        assert sns_call[1]["Records"][0]["Sns"]["TopicArn"] == topic
        assert s3_call[0] == arn and s3_call[1]["Records"][0]["s3"]["object"]["key"] == "a/b+c.txt", s3_call
        assert (s3_call[2], s3_call[3]) == (ACCOUNT, REGION)
        assert rule_call[0] == arn and rule_call[1] == {"fixed": 1}, rule_call
        rules = {rule.name: rule for _, _, rule in moto_ext.event_rules()}
        assert rules["t19"].state == "ENABLED" and rules["t19"].targets[0]["Arn"] == arn


def test_t22_bucket_notifications_from_templates(aws):
    template = {"Resources": {"B": {"Type": "AWS::S3::Bucket", "Properties": {
        "BucketName": "t20", "NotificationConfiguration": {"QueueConfigurations": [{
            "Event": "s3:ObjectCreated:*", "Queue": f"arn:aws:sqs:{REGION}:{ACCOUNT}:t20",
            "Filter": {"S3Key": {"Rules": [{"Name": "suffix", "Value": ".csv"}]}}}]}}}}}
    with touch("T22 bucket-notifications", "FakeBucket.create_from_cloudformation_json wrapped to apply "
                                           "NotificationConfiguration with set_notification_configuration"):
        moto_ext.patch_bucket_notifications()
        aws.client("sqs").create_queue(QueueName="t20")
        aws.client("cloudformation").create_stack(StackName="t20", TemplateBody=json.dumps(template))
        config = aws.client("s3").get_bucket_notification_configuration(Bucket="t20")
        (queue,) = config["QueueConfigurations"]
        assert queue["QueueArn"].endswith(":t20") and queue["Events"] == ["s3:ObjectCreated:*"], config
        assert queue["Filter"]["Key"]["FilterRules"] == [{"Name": "suffix", "Value": ".csv"}], config

def test_t23_update_alias_honours_revision_id_as_lambda_does(fn):
    lam = fn.lam
    created = lam.create_alias(FunctionName="app", Name="live", FunctionVersion="1")
    with touch("T23 alias-revision", "LambdaAlias.revision_id / update(description, function_version, "
                                     "routing_config), LambdaResponse.update_alias() reads self.body and self.path, "
                                     "PreconditionFailedException is a 412; wrapped to enforce RevisionId"):
        moved = lam.update_alias(FunctionName="app", Name="live", FunctionVersion="1", Description="one",
                                 RevisionId=created["RevisionId"])
        assert moved["RevisionId"] != created["RevisionId"]  # every change: a new RevisionId
        assert lam.get_alias(FunctionName="app", Name="live")["RevisionId"] == moved["RevisionId"]
        with pytest.raises(lam.exceptions.PreconditionFailedException) as err:
            lam.update_alias(FunctionName="app", Name="live", FunctionVersion="1", Description="two",
                             RevisionId=created["RevisionId"])  # stale
        assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 412
        assert lam.get_alias(FunctionName="app", Name="live")["Description"] == "one"  # nothing changed
        # a change through the seam (the local CodeDeploy moving an alias) makes the RevisionId of before stale
        moto_ext.lambda_update_alias(ACCOUNT, REGION, "app", "live", "1", "by the local cloud", {})
        with pytest.raises(lam.exceptions.PreconditionFailedException):
            lam.update_alias(FunctionName="app", Name="live", FunctionVersion="1", RevisionId=moved["RevisionId"])
        # without a RevisionId, no condition
        assert lam.update_alias(FunctionName="app", Name="live", FunctionVersion="1",
                                Description="three")["Description"] == "three"


def test_t36_nested_stacks_from_a_template_url(aws):
    from lamctl.local.cloud.emulator import prepare_moto
    from lamctl.local.cloud.models import register_nested_stacks

    prepare_moto()
    child = {"Parameters": {"Name": {"Type": "String"}},
             "Resources": {"Topic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": {"Ref": "Name"}}}},
             "Outputs": {"TopicArn": {"Value": {"Ref": "Topic"}}}}
    s3 = aws.client("s3")
    s3.create_bucket(Bucket="t36")
    s3.put_object(Bucket="t36", Key="child.json", Body=json.dumps(child).encode())
    url = "https://s3.us-east-1.amazonaws.com/t36/child.json"
    parent = {"Resources": {"Child": {"Type": "AWS::CloudFormation::Stack",
                                      "Properties": {"TemplateURL": url, "Parameters": {"Name": "t36-topic"},
                                                     "Tags": [{"Key": "team", "Value": "red"}]}}},
              "Outputs": {"FromChild": {"Value": {"Fn::GetAtt": ["Child", "Outputs.TopicArn"]}},
                          "ChildId": {"Value": {"Ref": "Child"}}}}
    with touch("T36 nested-stacks", "cloudformation_backends[account][region].create_stack(name, template, "
                                    "parameters, ...) / get_stack / delete_stack / Stack.update(template, role_arn, "
                                    "parameters, tags) / output_map; utils.get_stack_from_s3_url(url, account_id, "
                                    "partition); moto's own Stack model defined when its CloudFormation loads"):
        assert register_nested_stacks(load=True)
        cfn = aws.client("cloudformation")
        cfn.create_stack(StackName="t36", TemplateBody=json.dumps(parent))
        outputs = {o["OutputKey"]: o["OutputValue"] for o in cfn.describe_stacks(StackName="t36")["Stacks"][0]["Outputs"]}
        nested = cfn.describe_stacks(StackName=outputs["ChildId"])["Stacks"][0]
        assert nested["StackName"].startswith("t36-Child-") and nested["StackStatus"] == "CREATE_COMPLETE", nested
        assert outputs["FromChild"].endswith(":t36-topic"), outputs
        assert {"Key": "team", "Value": "red"} in nested["Tags"], nested
        # an update of the parent updates the nested stack in place
        s3.put_object(Bucket="t36", Key="child2.json", Body=json.dumps(child).encode())
        parent["Resources"]["Child"]["Properties"]["TemplateURL"] = url.replace("child.json", "child2.json")
        parent["Resources"]["Child"]["Properties"]["Parameters"]["Name"] = "t36-other"
        cfn.update_stack(StackName="t36", TemplateBody=json.dumps(parent))
        again = cfn.describe_stacks(StackName=outputs["ChildId"])["Stacks"][0]
        assert again["StackId"] == nested["StackId"] and again["StackStatus"] == "UPDATE_COMPLETE", again
        assert {p["ParameterKey"]: p["ParameterValue"] for p in again["Parameters"]} == {"Name": "t36-other"}
        # deleting the parent deletes the nested stack
        cfn.delete_stack(StackName="t36")
        names = {s["StackName"] for s in cfn.describe_stacks()["Stacks"]}
        assert not any(n.startswith("t36") for n in names), names

# ---------------------------------------------------------------- T39-T42 Step Functions

SFN_ROLE = f"arn:aws:iam::{ACCOUNT}:role/states"
DOUBLER = "def handler(event, context):\n    return {'doubled': event['n'] * 2}\n"
FLAKY = ("import os\n"
         "def handler(event, context):\n"
         "    mark = event['mark']\n"
         "    if not os.path.exists(mark):\n"
         "        open(mark, 'w').close()\n"
         "        raise RuntimeError('first call fails')\n"
         "    return {'second': True}\n")


def _finished(sfn, execution_arn: str) -> dict:
    from tests.helpers import wait_for

    return wait_for(lambda: (lambda d: d if d["status"] != "RUNNING" else None)(
        sfn.describe_execution(executionArn=execution_arn)), f"execution {execution_arn} to end", limit=60)


@pytest.fixture
def sfn_cloud(local_cloud, monkeypatch):
    """The local cloud with functions ``doubler`` and ``flaky`` (real code on the runtime); waits run at once."""
    monkeypatch.setenv("LAMCTL_STATES_WAIT_SCALE", "0")
    role = local_cloud.client("iam").create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    lam = local_cloud.client("lambda")
    for name, code in (("doubler", DOUBLER), ("flaky", FLAKY)):
        lam.create_function(FunctionName=name, Runtime="python3.12", Role=role, Handler="app.handler",
                            Code={"ZipFile": _zip(code)}, Timeout=10)
    local_cloud.sfn = local_cloud.client("stepfunctions")
    local_cloud.doubler = lam.get_function(FunctionName="doubler")["Configuration"]["FunctionArn"]
    return local_cloud


def test_t39_executions_run_and_their_lambda_tasks_reach_the_local_runtime(sfn_cloud, tmp_path):
    """Which states moto's interpreter runs: Pass, Task (lambda:invoke and a function ARN), Choice, Wait (an hour,
    at once here), Parallel, Map, Retry (an hour's interval), Catch, Succeed and Fail."""
    definition = {"StartAt": "Double", "States": {
        "Double": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                   "Parameters": {"FunctionName": "doubler", "Payload.$": "$"},
                   "ResultSelector": {"doubled.$": "$.Payload.doubled"}, "ResultPath": "$.d", "Next": "Big?"},
        "Big?": {"Type": "Choice", "Choices": [{"Variable": "$.d.doubled", "NumericGreaterThan": 10, "Next": "Hour"}],
                 "Default": "TooSmall"},
        "TooSmall": {"Type": "Fail", "Error": "Small", "Cause": "under 10"},
        "Hour": {"Type": "Wait", "Seconds": 3600, "Next": "Both"},
        "Both": {"Type": "Parallel", "ResultPath": "$.both", "Next": "Each", "Branches": [
            {"StartAt": "Direct", "States": {"Direct": {"Type": "Task", "Resource": sfn_cloud.doubler,
                                                        "Parameters": {"n": 1}, "End": True}}},
            {"StartAt": "Flaky", "States": {"Flaky": {
                "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "OutputPath": "$.Payload",
                "Parameters": {"FunctionName": "flaky", "Payload": {"mark": str(tmp_path / "flaky-called")}},
                "Retry": [{"ErrorEquals": ["RuntimeError"], "IntervalSeconds": 3600, "MaxAttempts": 1}],
                "End": True}}}]},
        "Each": {"Type": "Map", "ItemsPath": "$.items", "ResultPath": "$.mapped", "Next": "Caught",
                 "Iterator": {"StartAt": "D", "States": {"D": {"Type": "Task", "Resource": sfn_cloud.doubler,
                                                               "End": True}}}},
        "Caught": {"Type": "Task", "Resource": sfn_cloud.doubler, "Parameters": {"no": "n"}, "ResultPath": "$.error",
                   "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Done"}],
                   "Next": "Done"},
        "Done": {"Type": "Succeed"}}}
    sfn = sfn_cloud.sfn
    with touch("T39 state-machine-runs", "default_user_config['stepfunctions']['execute_state_machine'], "
                                         "parser boto_client_for(region, service, state_credentials) imported by "
                                         "name in its Task modules, WaitFunction._wait_interval(env, seconds), "
                                         "retrier_decl.time.sleep"):
        arn = sfn.create_state_machine(name="t39", definition=json.dumps(definition), roleArn=SFN_ROLE)[
            "stateMachineArn"]
        run = sfn.start_execution(stateMachineArn=arn, input=json.dumps({"n": 6, "items": [{"n": 1}, {"n": 2}]}))
        done = _finished(sfn, run["executionArn"])
        assert done["status"] == "SUCCEEDED", done
        out = json.loads(done["output"])
        assert out["d"] == {"doubled": 12}  # the deployed code ran (moto's own Lambda echoes the payload)
        assert out["both"] == [{"doubled": 2}, {"second": True}]  # the retry's hour-long interval ran at once
        assert out["mapped"] == [{"doubled": 2}, {"doubled": 4}]
        assert out["error"]["Error"] == "KeyError"  # the function's error, caught
        small = _finished(sfn, sfn.start_execution(stateMachineArn=arn, input='{"n": 1}')["executionArn"])
        assert (small["status"], small.get("error"), small.get("cause")) == ("FAILED", "Small", "under 10"), small
        assert moto_ext.states_execution_status(ACCOUNT, REGION, run["executionArn"]) == "SUCCEEDED"


def test_t40_cloudformation_state_machines_versions_and_aliases(sfn_cloud):
    definition = {"StartAt": "D", "States": {"D": {"Type": "Task", "Resource": "${Fn}", "End": True}}}
    template = {"Resources": {
        "M": {"Type": "AWS::StepFunctions::StateMachine", "Properties": {
            "DefinitionString": json.dumps(definition), "RoleArn": SFN_ROLE,
            "DefinitionSubstitutions": {"Fn": sfn_cloud.doubler}}},
        "V": {"Type": "AWS::StepFunctions::StateMachineVersion", "Properties": {
            "StateMachineArn": {"Ref": "M"}, "StateMachineRevisionId": {"Fn::GetAtt": ["M", "StateMachineRevisionId"]}}},
        "A": {"Type": "AWS::StepFunctions::StateMachineAlias", "Properties": {
            "Name": "live", "DeploymentPreference": {"Type": "ALL_AT_ONCE", "StateMachineVersionArn": {"Ref": "V"}}}}},
        "Outputs": {"Machine": {"Value": {"Ref": "M"}}, "Alias": {"Value": {"Ref": "A"}}}}
    sfn = sfn_cloud.sfn
    with touch("T40 cfn-state-machines", "moto.stepfunctions models imported before lamctl's (the last defined "
                                         "wins), responses.get_backend(account, region), create_state_machine(name, "
                                         "definition, roleArn, tags=, loggingConfiguration=, tracingConfiguration=, "
                                         "sm_type=), StateMachine.publish(description) / latest_version"):
        cfn = sfn_cloud.client("cloudformation")
        cfn.create_stack(StackName="t40", TemplateBody=json.dumps(template))
        outputs = {o["OutputKey"]: o["OutputValue"] for o in cfn.describe_stacks(StackName="t40")["Stacks"][0]["Outputs"]}
        machine = sfn.describe_state_machine(stateMachineArn=outputs["Machine"])  # where the API looks
        assert sfn_cloud.doubler in machine["definition"] and "${Fn}" not in machine["definition"]
        alias = sfn.describe_state_machine_alias(stateMachineAliasArn=outputs["Alias"])
        assert alias["routingConfiguration"] == [{"stateMachineVersionArn": outputs["Machine"] + ":1", "weight": 100}]
        run = sfn.start_execution(stateMachineArn=outputs["Alias"], input='{"n": 4}')
        assert json.loads(_finished(sfn, run["executionArn"])["output"]) == {"doubled": 8}


def test_t41_versions_and_aliases_run_their_own_definition(sfn_cloud):
    def returning(value: str) -> str:
        return json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": {"v": value}, "End": True}}})

    sfn = sfn_cloud.sfn
    with touch("T41 state-machine-starts", "StepFunctionsParserBackend.start_execution(state_machine_arn, name, "
                                           "execution_input, trace_header) finds state machines only; "
                                           "describe_state_machine(version ARN), describe_state_machine_alias, "
                                           "StepFunctionResponse.describe_execution() -> ActionResult.result"):
        arn = sfn.create_state_machine(name="t41", definition=returning("one"), roleArn=SFN_ROLE,
                                       publish=True)["stateMachineArn"]
        sfn.update_state_machine(stateMachineArn=arn, definition=returning("two"), publish=True)
        sfn.update_state_machine(stateMachineArn=arn, definition=returning("latest"))
        alias = sfn.create_state_machine_alias(name="live", routingConfiguration=[
            {"stateMachineVersionArn": f"{arn}:1", "weight": 100}])["stateMachineAliasArn"]

        def output(target: str) -> str:
            return json.loads(_finished(sfn, sfn.start_execution(stateMachineArn=target)["executionArn"])[
                "output"])["v"]

        assert (output(arn), output(f"{arn}:1"), output(f"{arn}:2"), output(alias)) == ("latest", "one", "two", "one")
        sfn.update_state_machine_alias(stateMachineAliasArn=alias, routingConfiguration=[
            {"stateMachineVersionArn": f"{arn}:1", "weight": 50}, {"stateMachineVersionArn": f"{arn}:2", "weight": 50}])
        seen = {output(alias) for _ in range(20)}
        assert seen == {"one", "two"}  # both routes drawn (a miss has odds of 2 in a million)
        ran = _finished(sfn, sfn.start_execution(stateMachineArn=f"{arn}:2")["executionArn"])
        assert ran["stateMachineVersionArn"] == f"{arn}:2" and "stateMachineAliasArn" not in ran, ran
        ran = _finished(sfn, sfn.start_execution(stateMachineArn=alias)["executionArn"])
        assert ran["stateMachineAliasArn"] == alias and ran["stateMachineVersionArn"] in (f"{arn}:1", f"{arn}:2")
        assert sfn.describe_state_machine(stateMachineArn=arn)["definition"] == returning("latest")  # untouched


def test_t42_state_machine_alias_records(sfn_cloud):
    sfn = sfn_cloud.sfn
    with touch("T42 state-machine-aliases", "PublishStateMachineVersion / ListStateMachineVersions added to "
                                            "StepFunctionResponse (idempotent publish), "
                                            "create_state_machine_alias(name, routing, description).arn, "
                                            "update_state_machine_alias(arn, description, routing), "
                                            "delete_state_machine_alias(arn); DescribeStateMachineAlias reports "
                                            "routingConfiguration in order and a new updateDate"):
        arn = sfn.create_state_machine(name="t42", roleArn=SFN_ROLE, publish=True, definition=json.dumps(
            {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}))["stateMachineArn"]
        assert sfn.publish_state_machine_version(stateMachineArn=arn)["stateMachineVersionArn"] == f"{arn}:1"
        sfn.update_state_machine(stateMachineArn=arn, definition=json.dumps(
            {"StartAt": "Q", "States": {"Q": {"Type": "Pass", "End": True}}}))
        assert sfn.publish_state_machine_version(stateMachineArn=arn)["stateMachineVersionArn"] == f"{arn}:2"
        assert [v["stateMachineVersionArn"] for v in sfn.list_state_machine_versions(stateMachineArn=arn)[
            "stateMachineVersions"]] == [f"{arn}:2", f"{arn}:1"]
        alias = moto_ext.states_create_alias(ACCOUNT, REGION, "live", [{"stateMachineVersionArn": f"{arn}:1",
                                                                        "weight": 100}], None)
        before = sfn.describe_state_machine_alias(stateMachineAliasArn=alias)
        routes = [{"stateMachineVersionArn": f"{arn}:1", "weight": 90}, {"stateMachineVersionArn": f"{arn}:2",
                                                                          "weight": 10}]
        moto_ext.states_update_alias(ACCOUNT, REGION, alias, routes)
        after = sfn.describe_state_machine_alias(stateMachineAliasArn=alias)
        assert after["routingConfiguration"] == routes
        assert after["updateDate"] != before["updateDate"]
        moto_ext.states_delete_alias(ACCOUNT, REGION, alias)
        assert sfn.list_state_machine_aliases(stateMachineArn=arn)["stateMachineAliases"] == []


def test_t43_t44_stream_mappings_are_left_to_the_local_cloud_which_reads_the_streams(fn):
    kinesis, ddb = fn.client("kinesis"), fn.client("dynamodb")
    with touch("T43 stream-mappings / T44 stream-records",
               "LambdaBackend.send_kinesis_message / send_dynamodb_items push records (turned off); kinesis "
               "streams[name].shards[id].records; dynamodb tables[name].stream_shard.items"):
        moto_ext.patch_stream_mappings_polled()
        kinesis.create_stream(StreamName="t43", ShardCount=1)
        arn = kinesis.describe_stream(StreamName="t43")["StreamDescription"]["StreamARN"]
        fn.lam.create_event_source_mapping(EventSourceArn=arn, FunctionName="app", StartingPosition="TRIM_HORIZON")
        seq = kinesis.put_record(StreamName="t43", Data=b"x", PartitionKey="k")["SequenceNumber"]
        ((shard, records),) = moto_ext.kinesis_shards(ACCOUNT, REGION, arn).items()
        assert shard == "shardId-000000000000" and [(str(s), r["data"], r["partitionKey"]) for s, _, r in records] \
            == [(seq, b"x", "k")] and records[0][1] > 1_600_000_000
        table = ddb.create_table(
            TableName="t44", KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"})["TableDescription"]
        fn.lam.create_event_source_mapping(EventSourceArn=table["LatestStreamArn"], FunctionName="app",
                                           StartingPosition="TRIM_HORIZON")
        ddb.put_item(TableName="t44", Item={"id": {"S": "1"}})
        ddb.put_item(TableName="t44", Item={"id": {"S": "2"}})
        ((_, items),) = moto_ext.dynamodb_stream_shards(ACCOUNT, REGION, table["LatestStreamArn"]).items()
        # kept (a push would have emptied the shard), in order, with the new image
        assert [r["dynamodb"]["NewImage"]["id"]["S"] for _, _, r in items] == ["1", "2"]
        assert items[0][0] < items[1][0] and items[0][2]["eventName"] == "INSERT"
        assert moto_ext.kinesis_shards(ACCOUNT, REGION, arn + "-gone") is None


def test_t45_event_patterns(fn):
    with touch("T45 event-patterns", "moto.events.models.EventPattern.load(text).matches_event(dict)"):
        pattern = moto_ext.event_pattern(json.dumps({"body": {"kind": ["order"], "n": [{"numeric": [">", 1]}]}}))
        assert pattern.matches_event({"body": {"kind": "order", "n": 2}})
        assert not pattern.matches_event({"body": {"kind": "order", "n": 1}})
        with pytest.raises(ValueError):
            moto_ext.event_pattern(json.dumps({"body": "not a list"}))


def test_t46_scheduler_schedules(fn):
    with touch("T46 scheduler", "scheduler_backends[account][region].schedule_groups[g].schedules; "
                                "create_schedule(...), delete_schedule(group, name)"):
        api = fn.client("scheduler")
        api.create_schedule(Name="t46", ScheduleExpression="rate(5 minutes)", FlexibleTimeWindow={"Mode": "OFF"},
                            Target={"Arn": "arn:aws:lambda:us-east-1:123456789012:function:app", "RoleArn": "r",
                                    "Input": "{}"})
        moto_ext.scheduler_create_schedule(ACCOUNT, REGION, {
            "Name": "t46-cfn", "ScheduleExpression": "at(2030-01-01T00:00:00)", "ScheduleExpressionTimezone":
            "Europe/Paris", "State": "DISABLED", "Target": {"Arn": "arn:aws:sqs:us-east-1:123456789012:q",
                                                          "RoleArn": "r"}, "FlexibleTimeWindow": {"Mode": "OFF"}})
        found = {s.name: s for _, _, s in moto_ext.scheduler_schedules()}
        assert found["t46"].schedule_expression == "rate(5 minutes)" and found["t46"].state == "ENABLED"
        assert found["t46"].target["Input"] == "{}" and found["t46"].group_name == "default"
        assert found["t46"].arn.endswith(":schedule/default/t46")
        assert found["t46-cfn"].schedule_expression_timezone == "Europe/Paris" and found["t46-cfn"].state == "DISABLED"
        assert api.get_schedule(Name="t46-cfn")["Target"]["Arn"].endswith(":q")
        moto_ext.scheduler_delete_schedule(ACCOUNT, REGION, None, "t46-cfn")
        moto_ext.scheduler_delete_schedule(ACCOUNT, REGION, None, "t46-cfn")  # gone already: nothing
        assert [s.name for _, _, s in moto_ext.scheduler_schedules()] == ["t46"]


def test_t47_mapping_checks(fn):
    from botocore.exceptions import ClientError

    with touch("T47 mapping-checks", "LambdaBackend.create_event_source_mapping(spec) / "
                                     "update_event_source_mapping(uuid, spec); InvalidParameterValueException"):
        before = moto_ext.patch_mapping_checks(lambda spec: "no, because" if spec.get("BatchSize") == 7 else None)
        arn = fn.client("sqs").get_queue_attributes(
            QueueUrl=fn.client("sqs").create_queue(QueueName="t47")["QueueUrl"],
            AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        with pytest.raises(ClientError) as caught:
            fn.lam.create_event_source_mapping(EventSourceArn=arn, FunctionName="app", BatchSize=7)
        assert caught.value.response["Error"]["Code"] == "InvalidParameterValueException"
        assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
        uuid = fn.lam.create_event_source_mapping(EventSourceArn=arn, FunctionName="app", BatchSize=5)["UUID"]
        try:
            with pytest.raises(ClientError):
                fn.lam.update_event_source_mapping(UUID=uuid, BatchSize=7)
        finally:
            moto_ext.patch_mapping_checks(before)


def _stack(aws, name: str, template: dict) -> dict:
    cf = aws.client("cloudformation")
    cf.create_stack(StackName=name, TemplateBody=json.dumps(template))
    return cf.describe_stacks(StackName=name)["Stacks"][0]


def test_t24_types_moto_lacks_get_placeholders(aws):
    template = {"Resources": {"Broker": {"Type": "AWS::AmazonMQ::Broker", "Properties": {"BrokerName": "b"}},
                              "Q": {"Type": "AWS::SQS::Queue", "Properties": {
                                  "QueueName": {"Fn::Join": ["-", [{"Fn::GetAtt": ["Broker", "Id"]}, "q"]]}}}},
                "Outputs": {"Id": {"Value": {"Ref": "Broker"}},
                            "Arn": {"Value": {"Fn::GetAtt": ["Broker", "Arn"]}},
                            "Endpoints": {"Value": {"Fn::Select": [0, {"Fn::GetAtt": ["Broker", "AmqpEndpoints"]}]}}}}
    with touch("T24 cfn-placeholders", "parsing.resource_class_from_type answers None for a type moto lacks; "
                                       "wrapped to give the placeholder model"):
        stack = _stack(aws, "t24", template)
        outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
        assert outputs["Id"].startswith("lamctl-placeholder-t24-Broker-"), outputs
        assert outputs["Arn"].startswith(f"arn:aws:mq:{REGION}:{ACCOUNT}:broker/lamctl-placeholder-"), outputs
        assert "lamctl-placeholder" in outputs["Endpoints"], outputs
        queues = aws.client("sqs").list_queues()["QueueUrls"]
        assert any("lamctl-placeholder" in q for q in queues), queues  # GetAtt resolved in a resource too
        listed = aws.client("cloudformation").list_stack_resources(StackName="t24")["StackResourceSummaries"]
        broker = next(r for r in listed if r["LogicalResourceId"] == "Broker")
        assert broker["ResourceType"] == "AWS::AmazonMQ::Broker" and broker["PhysicalResourceId"] == outputs["Id"]
        aws.client("cloudformation").delete_stack(StackName="t24")


def test_t25_describe_stack_resource_passes_over_resources_not_created(aws):
    template = {"Conditions": {"Never": {"Fn::Equals": ["a", "b"]}},
                "Resources": {"Off": {"Type": "AWS::SQS::Queue", "Condition": "Never"},
                              "On": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "t25"}}}}
    with touch("T25 describe-resource", "describe_stack_resource walks stack.stack_resources (None for a "
                                        "resource whose Condition is false); wrapped to pass over them"):
        _stack(aws, "t25", template)
        cf = aws.client("cloudformation")
        detail = cf.describe_stack_resource(StackName="t25", LogicalResourceId="On")["StackResourceDetail"]
        assert detail["ResourceType"] == "AWS::SQS::Queue" and detail["PhysicalResourceId"].endswith("t25")
        with pytest.raises(cf.exceptions.ClientError) as err:
            cf.describe_stack_resource(StackName="t25", LogicalResourceId="Off")
        assert "does not exist" in str(err.value)


def test_t26_cloudformation_defaults_are_filled_before_moto_reads_a_resource(aws):
    template = {"Resources": {"Doc": {"Type": "AWS::SSM::Document", "Properties": {
        "Name": "t26-doc", "Content": {"schemaVersion": "2.2", "mainSteps": []}}},
        "Key": {"Type": "AWS::KMS::Key", "Properties": {}},
        "Param": {"Type": "AWS::SSM::Parameter", "Properties": {"Type": "String", "Value": "v"}},
        "Fifo": {"Type": "AWS::SQS::Queue", "Properties": {"FifoQueue": True}},
        "Images": {"Type": "AWS::ECR::Repository", "Properties": {}}}}
    with touch("T26 cfn-defaults", "parsing.parse_resource_and_generate_name(logical_id, resource_json, "
                                   "resources_map) wrapped to fill CloudFormation's defaults first"):
        stack = _stack(aws, "t26", template)
        assert stack["StackStatus"] == "CREATE_COMPLETE"
        doc = aws.client("ssm").describe_document(Name="t26-doc")["Document"]
        assert doc["DocumentFormat"] == "JSON" and doc["DocumentType"] == "Command"
        resources = {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in aws.client(
            "cloudformation").list_stack_resources(StackName="t26")["StackResourceSummaries"]}
        assert resources["Param"].startswith("CFN-Param-")
        assert resources["Fifo"].endswith(".fifo") and resources["Images"] == resources["Images"].lower()
        policy = aws.client("kms").get_key_policy(KeyId=resources["Key"], PolicyName="default")["Policy"]
        assert f"arn:aws:iam::{ACCOUNT}:root" in policy


def test_t27_mappings_of_sources_moto_refuses_are_recorded_disabled(fn):
    with touch("T27 idle-mappings", "EventSourceMapping(spec) accepts SQS/Kinesis/DynamoDB only; a mapping "
                                    "recorded in the backend's _event_source_mappings with its own source"):
        arn = f"arn:aws:mq:{REGION}:{ACCOUNT}:broker:b:b-1234"
        esm = moto_ext.lambda_record_idle_mapping(ACCOUNT, REGION, {"FunctionName": "app", "EventSourceArn": arn,
                                                                    "Queues": ["orders"], "BatchSize": 5})
        listed = fn.lam.list_event_source_mappings(FunctionName="app")["EventSourceMappings"]
        (mapping,) = [m for m in listed if m["UUID"] == esm.uuid]
        assert mapping["EventSourceArn"] == arn and mapping["State"] == "Disabled" and mapping["BatchSize"] == 5
        assert mapping["Queues"] == ["orders"]
        fn.lam.delete_event_source_mapping(UUID=esm.uuid)
        assert not fn.lam.list_event_source_mappings(FunctionName="app")["EventSourceMappings"]


def test_t28_rest_api_mock_integrations_are_imported(aws):
    options = {"x-amazon-apigateway-integration": {
        "type": "mock", "requestTemplates": {"application/json": "{\"statusCode\" : 200}"},
        "responses": {"default": {"statusCode": "200", "responseParameters": {
            "method.response.header.Access-Control-Allow-Origin": "'https://example.com'"},
            "responseTemplates": {"application/json": "{}"}}}},
        "responses": {"200": {"description": "ok"}}}
    body = {"swagger": "2.0", "info": {"title": "t28"}, "paths": {"/items": {"options": options}}}
    template = {"Resources": {"Api": {"Type": "AWS::ApiGateway::RestApi", "Properties": {"Body": body}}}}
    with touch("T28 rest-mock", "put_rest_api imports an integration with put_integration(uri, "
                                "integration_method); integration_responses keep status_code, selection_pattern, "
                                "response_parameters, response_templates"):
        assert _stack(aws, "t28", template)["StackStatus"] == "CREATE_COMPLETE"
        api = aws.client("apigateway").get_rest_apis()["items"][0]
        backend = moto_ext.apigateway_backend(ACCOUNT, REGION)
        resource = next(r for r in backend.apis[api["id"]].resources.values() if r.get_path() == "/items")
        integration = resource.resource_methods["OPTIONS"].method_integration
        assert str(integration.integration_type).upper() == "MOCK"
        assert moto_ext.rest_integration_responses(integration) == [
            ("200", "", {"method.response.header.Access-Control-Allow-Origin": "'https://example.com'"},
             {"application/json": "{}"})]


def test_t29_an_output_moto_cannot_work_out_leaves_the_stack_describable_and_deletable(aws):
    template = {"Resources": {"Q": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "t29"}}},
                "Outputs": {"Good": {"Value": {"Fn::GetAtt": ["Q", "Arn"]}},
                            "Bad": {"Value": {"Fn::GetAtt": ["Q", "NoSuchAttribute"]}}}}
    with touch("T29 outputs-lenient", "OutputMap.__getitem__ works an output out on every DescribeStacks; "
                                      "wrapped to leave out one it cannot"):
        cf = aws.client("cloudformation")  # through a change set, as lamctl deploys (CreateStack refuses it)
        cs = cf.create_change_set(StackName="t29", ChangeSetName="cs", ChangeSetType="CREATE",
                                  TemplateBody=json.dumps(template))
        cf.execute_change_set(ChangeSetName=cs["Id"])
        stack = cf.describe_stacks(StackName="t29")["Stacks"][0]
        assert [o["OutputKey"] for o in stack.get("Outputs") or []] == ["Good"]
        cf.delete_stack(StackName="t29")
        assert not [s for s in cf.list_stacks()["StackSummaries"]
                    if s["StackName"] == "t29" and s["StackStatus"] != "DELETE_COMPLETE"]


def test_t48_ref_of_an_event_bus_is_its_name_and_rules_on_it_work(aws):
    moto_ext.patch_cfn_event_buses()
    template = {"Resources": {
        "Bus": {"Type": "AWS::Events::EventBus", "Properties": {"Name": "orders"}},
        "OnBus": {"Type": "AWS::Events::Rule", "Properties": {
            "EventBusName": {"Ref": "Bus"}, "EventPattern": {"source": ["shop"]}}}},
        "Outputs": {"Ref": {"Value": {"Ref": "Bus"}}, "Arn": {"Value": {"Fn::GetAtt": ["Bus", "Arn"]}},
                    "Name": {"Value": {"Fn::GetAtt": ["Bus", "Name"]}}}}
    with touch("T48 cfn-event-buses", "EventBus (name, arn, GetAtt Arn/Name) has no physical_resource_id; "
                                      "supplied as its name"):
        stack = _stack(aws, "buses", template)
        assert stack["StackStatus"] == "CREATE_COMPLETE", stack
        outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
        assert outputs == {"Ref": "orders", "Name": "orders",
                           "Arn": f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/orders"}, outputs
        resources = aws.client("cloudformation").describe_stack_resources(StackName="buses")["StackResources"]
        assert {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in resources}["Bus"] == "orders"
        rules = aws.client("events").list_rules(EventBusName="orders")["Rules"]
        assert [r["EventBusName"] for r in rules] == ["orders"], rules
        assert aws.client("events").list_rules()["Rules"] == []  # not on the default bus


def test_t49_function_and_version_deletions_are_told(fn):
    told: list[tuple] = []
    undo = moto_ext.patch_function_deletes(lambda *args: told.append(args))
    try:
        with touch("T49 function-deletes", "LambdaBackend.delete_function(function_name, qualifier) (DeleteFunction, "
                                           "CloudFormation) wrapped to tell the local cloud what was deleted"):
            fn.lam.delete_function(FunctionName="app", Qualifier="1")
            assert told == [(ACCOUNT, REGION, "app", "1")], told
            assert [v["Version"] for v in fn.lam.list_versions_by_function(FunctionName="app")["Versions"]] == [
                "$LATEST"]
            arn = fn.lam.get_function(FunctionName="app")["Configuration"]["FunctionArn"]
            fn.lam.delete_function(FunctionName=arn)
            assert told[1:] == [(ACCOUNT, REGION, "app", None)], told
            assert fn.lam.list_functions()["Functions"] == []
    finally:
        undo()
    fn.lam.create_function(FunctionName="again", Runtime="python3.12", Role=fn.role, Handler="app.handler",
                           Code={"ZipFile": _zip()})
    fn.lam.delete_function(FunctionName="again")
    assert len(told) == 2  # removed listeners are not told


def test_t50_start_sync_execution_answers_when_an_express_execution_ends(sfn_cloud):
    import boto3
    from botocore.config import Config
    from botocore.exceptions import ClientError

    moto_ext.patch_state_machine_sync_starts()
    # botocore puts StartSyncExecution's "sync-" host prefix before a loopback endpoint's address unless told not to
    sfn = boto3.client("stepfunctions", region_name=REGION, endpoint_url=sfn_cloud.endpoint,
                       aws_access_key_id="testing", aws_secret_access_key="testing",
                       config=Config(inject_host_prefix=False))
    double = {"StartAt": "D", "States": {
        "D": {"Type": "Task", "Resource": sfn_cloud.doubler, "Next": "Big?"},
        "Big?": {"Type": "Choice", "Choices": [{"Variable": "$.doubled", "NumericGreaterThan": 10, "Next": "Ok"}],
                 "Default": "Small"},
        "Small": {"Type": "Fail", "Error": "Small", "Cause": "under 10"},
        "Ok": {"Type": "Succeed"}}}
    with touch("T50 state-machine-sync", "StepFunctionResponse has no start_sync_execution; added over the "
                                         "interpreter's start_execution and an execution's exec_status, output, "
                                         "error, cause"):
        express = sfn.create_state_machine(name="quick", definition=json.dumps(double), roleArn=SFN_ROLE,
                                           type="EXPRESS")["stateMachineArn"]
        done = sfn.start_sync_execution(stateMachineArn=express, input='{"n": 6}')
        assert (done["status"], json.loads(done["output"])) == ("SUCCEEDED", {"doubled": 12}), done
        assert done["stopDate"] >= done["startDate"] and done["stateMachineArn"] == express
        failed = sfn.start_sync_execution(stateMachineArn=express, input='{"n": 1}', name="small-one")
        assert (failed["status"], failed.get("error"), failed.get("cause"), failed["name"]) == (
            "FAILED", "Small", "under 10", "small-one"), failed
        assert "output" not in failed
        standard = sfn.create_state_machine(name="slow", definition=json.dumps(double), roleArn=SFN_ROLE)[
            "stateMachineArn"]
        with pytest.raises(ClientError) as refused:
            sfn.start_sync_execution(stateMachineArn=standard, input='{"n": 6}')
        assert refused.value.response["Error"]["Code"] == "StateMachineTypeNotSupported"
