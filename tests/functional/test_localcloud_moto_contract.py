"""The moto behaviours lamctl's local cloud relies on, one test per touch point of
:mod:`lamctl.local.cloud.moto_ext` (T1-T14 in its docstring).

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


def test_t14_update_alias_honours_revision_id_as_lambda_does(fn):
    lam = fn.lam
    created = lam.create_alias(FunctionName="app", Name="live", FunctionVersion="1")
    with touch("T14 alias-revision", "LambdaAlias.revision_id / update(description, function_version, "
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
