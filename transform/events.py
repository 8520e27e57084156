"""Function events other than Api / HttpApi: each handler returns the resources the event expands to.

A handler is ``handler(ctx, fn, name, props, keys) -> list[(logical_id, resource)]``; it may add
managed policies or statements to the function's generated role (``fn.role``)."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, Callable

from .context import Context, logical_id_hash

TAGGABLE = {"AWS::Lambda::Function", "AWS::IAM::Role", "AWS::SQS::Queue", "AWS::SNS::Topic", "AWS::S3::Bucket",
            "AWS::IoT::TopicRule",
            "AWS::DynamoDB::Table", "AWS::CodeDeploy::Application", "AWS::CodeDeploy::DeploymentGroup"}


@dataclass
class FunctionInfo:
    lid: str
    arn: Any  # GetAtt Fn.Arn, or Ref alias
    name: Any  # Ref Fn, or Ref alias
    attrs: dict  # passthrough attributes (Condition, DeletionPolicy, UpdateReplacePolicy)
    role: dict  # Properties of the generated role (added to by pull events)
    alias_id: str | None = None


def _res(type_: str, props: dict, attrs: dict, depends_on: Any = None) -> dict:
    out: dict = {"Type": type_}
    if depends_on:
        out["DependsOn"] = depends_on
    out.update(copy.deepcopy(attrs))
    out["Properties"] = {k: v for k, v in props.items() if v is not None}
    return out


def _check(ctx: Context, fn: FunctionInfo, name: str, etype: str, props: dict, keys: tuple,
           allowed: dict, required: tuple = ()) -> None:
    for key, value in props.items():
        if key not in allowed:
            raise ctx.error(f"function {fn.lid}: event {name} ({etype}) has unknown property {key}",
                            keys + ("Properties", key), hint="allowed: " + ", ".join(sorted(allowed)), key=True)
        want = allowed[key]
        if want is not None and value is not None and not isinstance(value, want):
            if isinstance(value, dict) and len(value) == 1 and want is not dict:
                continue  # an intrinsic function
            names = {str: "a string", dict: "a mapping", list: "a list", bool: "true or false", int: "an integer"}
            wants = want if isinstance(want, tuple) else (want,)
            raise ctx.error(f"function {fn.lid}: event {name} ({etype}): {key} must be "
                            + " or ".join(names.get(w, w.__name__) for w in wants), keys + ("Properties", key))
    for key in required:
        if props.get(key) is None:
            raise ctx.error(f"function {fn.lid}: event {name} ({etype}) needs {key}", keys + ("Properties",))


def permission(fn: FunctionInfo, prefix: str, principal: str, source_arn: Any = None, source_account: Any = None,
               suffix: str = "", token: Any = None) -> tuple[str, dict]:
    pid = prefix + "Permission" + suffix if suffix.isalnum() else prefix + "Permission" + logical_id_hash(suffix)
    return pid, _res("AWS::Lambda::Permission", {
        "Action": "lambda:InvokeFunction", "FunctionName": copy.deepcopy(fn.name), "Principal": principal,
        "SourceArn": source_arn, "SourceAccount": source_account, "EventSourceToken": token}, fn.attrs)


def _target_id(lid: str, suffix: str = "LambdaTarget") -> str:
    if len(lid) + len(suffix) <= 64:
        return lid + suffix
    return lid[: 64 - len(suffix)] + suffix


def _dlq(ctx, fn, name, rid, dlq, source_arn, keys) -> tuple[Any, list]:
    if not isinstance(dlq, dict):
        raise ctx.error(f"function {fn.lid}: event {name}: DeadLetterConfig must be a mapping",
                        keys + ("Properties", "DeadLetterConfig"))
    if "Arn" in dlq and "Type" in dlq:
        raise ctx.error(f"function {fn.lid}: event {name}: DeadLetterConfig takes Arn or Type, not both",
                        keys + ("Properties", "DeadLetterConfig"))
    if "Type" in dlq and dlq.get("Type") != "SQS":
        raise ctx.error(f"function {fn.lid}: event {name}: DeadLetterConfig Type must be SQS",
                        keys + ("Properties", "DeadLetterConfig", "Type"))
    if "Arn" not in dlq and "Type" not in dlq:
        raise ctx.error(f"function {fn.lid}: event {name}: DeadLetterConfig needs Arn or Type",
                        keys + ("Properties", "DeadLetterConfig"))
    if dlq.get("Arn") is not None:
        return dlq["Arn"], []
    qid = dlq.get("QueueLogicalId")
    if qid is not None and not isinstance(qid, str):
        raise ctx.error(f"function {fn.lid}: event {name}: QueueLogicalId must be a string",
                        keys + ("Properties", "DeadLetterConfig", "QueueLogicalId"))
    qid = qid or rid + "Queue"
    arn = {"Fn::GetAtt": [qid, "Arn"]}
    return arn, [(qid, _res("AWS::SQS::Queue", {}, fn.attrs)), (rid + "QueuePolicy", _res(
        "AWS::SQS::QueuePolicy", {"PolicyDocument": {"Version": "2012-10-17", "Statement": [{
            "Action": "sqs:SendMessage", "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
            "Resource": arn, "Condition": {"ArnEquals": {"aws:SourceArn": source_arn}}}]},
            "Queues": [{"Ref": qid}]}, fn.attrs))]


def _state(ctx, fn, name, props, keys) -> Any:
    if props.get("State") and props.get("Enabled") is not None:
        raise ctx.error(f"function {fn.lid}: event {name}: State and Enabled cannot both be set",
                        keys + ("Properties", "Enabled"))
    if props.get("Enabled") is not None:
        return "ENABLED" if props["Enabled"] else "DISABLED"
    return props.get("State") or None


# -- push events ---------------------------------------------------------------------------------
def schedule(ctx, fn, name, props, keys):
    _check(ctx, fn, name, "Schedule", props, keys, {
        "Schedule": str, "RuleName": str, "Input": str, "Enabled": bool, "State": str, "Name": str,
        "Description": str, "DeadLetterConfig": dict, "RetryPolicy": dict}, ("Schedule",))
    rid = fn.lid + name
    arn = {"Fn::GetAtt": [rid, "Arn"]}
    rule = {"ScheduleExpression": props["Schedule"], "State": _state(ctx, fn, name, props, keys),
            "Name": props.get("Name"), "Description": props.get("Description")}
    out = [(rid, None)]
    dlq_arn = None
    if props.get("DeadLetterConfig") is not None:
        dlq_arn, extra = _dlq(ctx, fn, name, rid, props["DeadLetterConfig"], arn, keys)
        out += extra
    target = {"Arn": copy.deepcopy(fn.arn), "Id": _target_id(rid)}
    if props.get("Input") is not None:
        target["Input"] = props["Input"]
    if props.get("DeadLetterConfig") is not None:
        target["DeadLetterConfig"] = {"Arn": dlq_arn}
    if props.get("RetryPolicy") is not None:
        target["RetryPolicy"] = props["RetryPolicy"]
    rule["Targets"] = [target]
    out[0] = (rid, _res("AWS::Events::Rule", rule, fn.attrs))
    out.append(permission(fn, rid, "events.amazonaws.com", source_arn=arn))
    return out


def cloudwatch_event(ctx, fn, name, props, keys, etype="CloudWatchEvent"):
    _check(ctx, fn, name, etype, props, keys, {
        "EventBusName": str, "RuleName": str, "Pattern": dict, "DeadLetterConfig": dict, "RetryPolicy": dict,
        "Input": str, "InputPath": str, "Target": dict, "Enabled": bool, "State": str, "InputTransformer": dict})
    rid = fn.lid + name
    arn = {"Fn::GetAtt": [rid, "Arn"]}
    out = []
    dlq_arn = None
    if props.get("DeadLetterConfig") is not None:
        dlq_arn, out = _dlq(ctx, fn, name, rid, props["DeadLetterConfig"], arn, keys)
    rule = {"EventBusName": props.get("EventBusName"), "EventPattern": props.get("Pattern"),
            "Name": props.get("RuleName"), "State": _state(ctx, fn, name, props, keys)}
    tgt = props.get("Target")
    target = {"Arn": copy.deepcopy(fn.arn),
              "Id": tgt["Id"] if isinstance(tgt, dict) and "Id" in tgt else _target_id(rid)}
    for key in ("Input", "InputPath"):
        if props.get(key) is not None:
            target[key] = props[key]
    if props.get("DeadLetterConfig") is not None:
        target["DeadLetterConfig"] = {"Arn": dlq_arn}
    if props.get("RetryPolicy") is not None:
        target["RetryPolicy"] = props["RetryPolicy"]
    if props.get("InputTransformer") is not None:
        target["InputTransformer"] = props["InputTransformer"]
    rule["Targets"] = [target]
    out.append((rid, _res("AWS::Events::Rule", rule, fn.attrs)))
    out.append(permission(fn, rid, "events.amazonaws.com", source_arn=arn))
    return out


def eventbridge_rule(ctx, fn, name, props, keys):
    return cloudwatch_event(ctx, fn, name, props, keys, "EventBridgeRule")


def cloudwatch_logs(ctx, fn, name, props, keys):
    _check(ctx, fn, name, "CloudWatchLogs", props, keys, {"LogGroupName": None, "FilterPattern": None},
           ("LogGroupName", "FilterPattern"))
    rid = fn.lid + name
    source = {"Fn::Sub": [f"arn:{ctx.partition}:logs:${{AWS::Region}}:${{AWS::AccountId}}:"
                          "log-group:${__LogGroupName__}:*", {"__LogGroupName__": props["LogGroupName"]}]}
    pid, perm = permission(fn, rid, "logs.amazonaws.com", source_arn=source)
    sub = _res("AWS::Logs::SubscriptionFilter", {
        "LogGroupName": props["LogGroupName"], "FilterPattern": props["FilterPattern"],
        "DestinationArn": copy.deepcopy(fn.arn)}, fn.attrs, [pid])
    return [(pid, perm), (rid, sub)]


def s3(ctx, fn, name, props, keys):
    _check(ctx, fn, name, "S3", props, keys, {"Bucket": None, "Events": (str, list), "Filter": dict},
           ("Bucket", "Events"))
    if isinstance(props["Events"], dict):  # the reference reads no intrinsic function here
        raise ctx.error(f"function {fn.lid}: event {name} (S3): Events must be an event name or a list of them, "
                        "not an intrinsic function", keys + ("Properties", "Events"), hint="e.g. s3:ObjectCreated:*")
    bucket_ref = props["Bucket"]
    bucket_id = bucket_ref.get("Ref") if isinstance(bucket_ref, dict) else None
    resources = ctx.template.get("Resources", {})
    if not isinstance(bucket_id, str) or not isinstance(resources.get(bucket_id), dict):
        raise ctx.error(f"function {fn.lid}: event {name}: S3 events must reference (!Ref) an AWS::S3::Bucket of "
                        "the same template", keys + ("Properties", "Bucket"))
    live = ctx.modified_resources  # one bucket collects the notifications of every event
    if bucket_id not in live:
        live[bucket_id] = copy.deepcopy(resources[bucket_id])
    bucket = live[bucket_id]
    rid = fn.lid + name
    pid, perm = permission(fn, rid, "s3.amazonaws.com", source_account={"Ref": "AWS::AccountId"})
    if "Condition" in perm:
        bprops = bucket.setdefault("Properties", {})
        if bprops is None:
            bprops = bucket["Properties"] = {}
        tags = bprops.get("Tags")
        if tags is None:
            tags = []
        if not isinstance(tags, list):
            raise ctx.error(f"resource {bucket_id}: Tags must be a list", ("Resources", bucket_id, "Properties", "Tags"))
        bprops["Tags"] = tags + [{"Key": "sam:ConditionalDependsOn:" + pid,
                                  "Value": {"Fn::If": [perm["Condition"], {"Ref": pid}, "no dependency"]}}]
    else:
        deps = bucket.get("DependsOn", [])
        if isinstance(deps, str):
            deps = [deps]
        if not isinstance(deps, list) or not all(isinstance(d, str) for d in deps):
            raise ctx.error(f"resource {bucket_id}: DependsOn must be a string or a list of strings",
                            ("Resources", bucket_id, "DependsOn"))
        deps = list(dict.fromkeys(deps))
        if pid not in deps:
            deps.append(pid)
        bucket["DependsOn"] = deps
    base = {"Function": copy.deepcopy(fn.arn)}
    if props.get("Filter") is not None:
        base["Filter"] = props["Filter"]
    types = props["Events"] if isinstance(props["Events"], list) else [props["Events"]]
    bprops = bucket.get("Properties", {})
    if bprops is None:
        bprops = {}
    if not isinstance(bprops, dict):
        raise ctx.error(f"resource {bucket_id}: Properties must be a mapping", ("Resources", bucket_id, "Properties"))
    bucket["Properties"] = bprops
    notif = bprops.get("NotificationConfiguration")
    if notif is None:
        notif = bprops["NotificationConfiguration"] = {}
    if not isinstance(notif, dict):
        raise ctx.error(f"resource {bucket_id}: NotificationConfiguration must be a mapping",
                        ("Resources", bucket_id, "Properties", "NotificationConfiguration"))
    lambdas = notif.get("LambdaConfigurations")
    if lambdas is None:
        lambdas = notif["LambdaConfigurations"] = []
    if not isinstance(lambdas, list):
        raise ctx.error(f"resource {bucket_id}: LambdaConfigurations must be a list",
                        ("Resources", bucket_id, "Properties", "NotificationConfiguration"))
    for etype in types:
        mapping = copy.deepcopy(base)
        mapping["Event"] = etype
        if "Condition" in fn.attrs:
            mapping = {"Fn::If": [fn.attrs["Condition"], mapping, {"Ref": "AWS::NoValue"}]}
        if mapping not in lambdas:
            lambdas.append(mapping)
    out = {"Type": "AWS::S3::Bucket"}
    if bucket.get("DependsOn"):
        out["DependsOn"] = bucket["DependsOn"]
    for attr in ("DeletionPolicy", "UpdatePolicy", "Condition", "UpdateReplacePolicy", "Metadata"):
        if attr in bucket:
            out[attr] = bucket[attr]
    out["Properties"] = {k: v for k, v in bprops.items() if v is not None}
    return [(pid, perm), (bucket_id, Replace(copy.deepcopy(out)))]


class Replace(dict):
    """A resource that replaces the one of the same ID already in the output (the S3 bucket)."""


def sns(ctx, fn, name, props, keys):
    _check(ctx, fn, name, "SNS", props, keys, {
        "Topic": None, "Region": None, "FilterPolicy": None, "FilterPolicyScope": None,
        "SqsSubscription": (bool, dict), "RedrivePolicy": dict}, ("Topic",))
    rid = fn.lid + name
    topic = props["Topic"]

    def subscription(protocol, endpoint):
        return rid, _res("AWS::SNS::Subscription", {
            "Protocol": protocol, "Endpoint": endpoint, "TopicArn": topic, "Region": props.get("Region"),
            "FilterPolicy": props.get("FilterPolicy"), "FilterPolicyScope": props.get("FilterPolicyScope"),
            "RedrivePolicy": props.get("RedrivePolicy")}, fn.attrs)

    def queue_policy(queue_arn, queue_url, lid=None):
        return lid or rid + "QueuePolicy", _res("AWS::SQS::QueuePolicy", {
            "PolicyDocument": {"Version": "2012-10-17", "Statement": [{
                "Action": "sqs:SendMessage", "Effect": "Allow", "Principal": "*", "Resource": queue_arn,
                "Condition": {"ArnEquals": {"aws:SourceArn": topic}}}]},
            "Queues": [queue_url]}, fn.attrs)

    def mapping(queue_arn, batch_size=None):
        return sqs(ctx, fn, name, {"Queue": queue_arn, "BatchSize": batch_size or 10, "Enabled": True}, keys,
                   rid=rid + "EventSourceMapping")

    sub = props.get("SqsSubscription")
    if not sub:
        return [permission(fn, rid, "sns.amazonaws.com", source_arn=topic),
                subscription("lambda", copy.deepcopy(fn.arn))]
    if isinstance(sub, bool):
        fifo = False
        tid = topic.get("Ref") if isinstance(topic, dict) and len(topic) == 1 else None
        if tid is None and isinstance(topic, dict) and "Fn::GetAtt" in topic:
            v = topic["Fn::GetAtt"]
            tid = v[0] if isinstance(v, list) and v else None
        if isinstance(tid, str):
            target = ctx.template.get("Resources", {}).get(tid, {})
            tprops = target.get("Properties", {}) if isinstance(target, dict) else {}
            fifo = ctx.resolve((tprops or {}).get("FifoTopic", False))
        qid = rid + "Queue"
        arn, url = {"Fn::GetAtt": [qid, "Arn"]}, {"Ref": qid}
        out = mapping(arn)
        out.append((qid, _res("AWS::SQS::Queue", {"FifoQueue": fifo or None}, fn.attrs)))
        out.append(queue_policy(arn, url))
        out.append(subscription("sqs", arn))
        return out
    arn, url = sub.get("QueueArn"), sub.get("QueueUrl")
    if not arn or not url:
        raise ctx.error(f"function {fn.lid}: event {name}: SqsSubscription needs QueueArn and QueueUrl",
                        keys + ("Properties", "SqsSubscription"))
    out = mapping(arn, sub.get("BatchSize"))
    out.append(queue_policy(arn, url, sub.get("QueuePolicyLogicalId")))
    out.append(subscription("sqs", arn))
    return out


# -- pull events (event source mappings) -----------------------------------------------------------
_PULL = {
    "BatchSize": int, "StartingPosition": None, "StartingPositionTimestamp": None, "Enabled": bool,
    "MaximumBatchingWindowInSeconds": int, "MaximumRetryAttempts": int, "BisectBatchOnFunctionError": bool,
    "MaximumRecordAgeInSeconds": int, "DestinationConfig": dict, "ParallelizationFactor": int, "Topics": list,
    "Queues": list, "SourceAccessConfigurations": list, "SecretsManagerKmsKeyId": str,
    "TumblingWindowInSeconds": int, "FunctionResponseTypes": list, "KafkaBootstrapServers": list,
    "FilterCriteria": dict, "KmsKeyArn": None, "ConsumerGroupId": str, "ScalingConfig": dict,
    "ProvisionedPollerConfig": dict, "SchemaRegistryConfig": dict, "MetricsConfig": dict, "LoggingConfig": dict,
}
_ESM_PASS = ["StartingPosition", "StartingPositionTimestamp", "BatchSize", "Enabled", "MaximumBatchingWindowInSeconds",
             "MaximumRetryAttempts", "BisectBatchOnFunctionError", "MaximumRecordAgeInSeconds",
             "ParallelizationFactor", "Topics", "Queues", "SourceAccessConfigurations", "TumblingWindowInSeconds",
             "FunctionResponseTypes", "FilterCriteria", "KmsKeyArn", "ScalingConfig", "ProvisionedPollerConfig",
             "MetricsConfig", "LoggingConfig"]


def _pull(ctx, fn, name, props, keys, etype, source_key, policy, rid=None, statements=None, extra=None,
          more_props=None):
    allowed = dict(_PULL)
    if source_key:
        allowed[source_key] = None
    allowed.update(more_props or {})
    required = tuple(k for k in (source_key,) if k)
    if etype in ("Kinesis", "DynamoDB", "MSK"):
        required += ("StartingPosition",)
    _check(ctx, fn, name, etype, props, keys, allowed, required)
    rid = rid or fn.lid + name
    esm = {"FunctionName": copy.deepcopy(fn.name), "EventSourceArn": props.get(source_key) if source_key else None}
    for key in _ESM_PASS:
        esm[key] = props.get(key)
    fc = props.get("FilterCriteria")
    if fc and not (isinstance(fc, dict) and len(fc) == 1 and next(iter(fc)).startswith("Fn::")):
        if etype not in ("DocumentDB", "DynamoDB", "Kinesis", "MQ", "MSK", "SelfManagedKafka", "SQS"):
            raise ctx.error(f"function {fn.lid}: event {name}: FilterCriteria is not available for {etype} events",
                            keys + ("Properties", "FilterCriteria"))
        if list(fc.keys()) not in ([], ["Filters"]):
            raise ctx.error(f"function {fn.lid}: event {name}: FilterCriteria takes only Filters",
                            keys + ("Properties", "FilterCriteria"))
    if props.get("KafkaBootstrapServers"):
        esm["SelfManagedEventSource"] = {"Endpoints": {"KafkaBootstrapServers": props["KafkaBootstrapServers"]}}
    kafka_config = {"MSK": "AmazonManagedKafkaEventSourceConfig",
                    "SelfManagedKafka": "SelfManagedKafkaEventSourceConfig"}.get(etype)
    if props.get("ConsumerGroupId"):
        if kafka_config is None:
            raise ctx.error(f"function {fn.lid}: event {name}: ConsumerGroupId is not a property of {etype} events",
                            keys + ("Properties", "ConsumerGroupId"))
        esm[kafka_config] = {"ConsumerGroupId": props["ConsumerGroupId"]}
    if props.get("SchemaRegistryConfig") and kafka_config:
        esm.setdefault(kafka_config, {})
        esm[kafka_config]["SchemaRegistryConfig"] = props["SchemaRegistryConfig"]
    dest_policy = None
    dc = props.get("DestinationConfig")
    if dc:
        on_failure = dc.get("OnFailure")
        if not isinstance(on_failure, dict):
            raise ctx.error(f"function {fn.lid}: event {name}: DestinationConfig.OnFailure must be a mapping",
                            keys + ("Properties", "DestinationConfig", "OnFailure"))
        dtype = on_failure.get("Type")
        if dtype:
            del on_failure["Type"]
            if dtype not in ("SQS", "SNS", "S3", "Kafka"):
                raise ctx.error(f"function {fn.lid}: event {name}: DestinationConfig.OnFailure.Type must be SQS, "
                                "SNS, S3 or Kafka", keys + ("Properties", "DestinationConfig", "OnFailure", "Type"))
            from .function import invoke_policy
            dest = on_failure.get("Destination")
            if dtype in ("SQS", "SNS"):
                dest_policy = invoke_policy(dtype, rid, dest)
            elif dtype == "S3":
                dest_policy = invoke_policy("S3Bucket", rid, dest)
        esm["DestinationConfig"] = dc
    if extra is not None:
        extra(esm, props)
    docs = statements(ctx, fn, name, props, keys) if statements is not None else None
    role = fn.role
    if role is not None:
        if policy is not None:
            arn = f"arn:{ctx.partition}:iam::aws:policy/service-role/{policy}"
            if arn not in role["ManagedPolicyArns"]:
                role["ManagedPolicyArns"].append(arn)
        if docs is not None:
            if role.get("Policies") is None:
                role["Policies"] = []
            for doc in docs:
                if doc not in role["Policies"] and doc.get("PolicyDocument") not in [
                        d["PolicyDocument"] for d in role["Policies"]]:
                    role["Policies"].append(doc)
        if dest_policy:
            if role.get("Policies") is None:
                role["Policies"] = [dest_policy]
            elif dest_policy not in role["Policies"] and dest_policy.get("PolicyDocument") not in [
                    d.get("PolicyDocument", {}) for d in role["Policies"]]:
                role["Policies"].append(dest_policy)
    return [(rid, _res("AWS::Lambda::EventSourceMapping", esm, fn.attrs))]


def sqs(ctx, fn, name, props, keys, rid=None):
    return _pull(ctx, fn, name, props, keys, "SQS", "Queue", "AWSLambdaSQSQueueExecutionRole", rid)


def kinesis(ctx, fn, name, props, keys):
    return _pull(ctx, fn, name, props, keys, "Kinesis", "Stream", "AWSLambdaKinesisExecutionRole")


def dynamodb(ctx, fn, name, props, keys):
    return _pull(ctx, fn, name, props, keys, "DynamoDB", "Stream", "AWSLambdaDynamoDBExecutionRole")


def _kms(key_id, as_list=True):
    return {"Action": ["kms:Decrypt"] if as_list else "kms:Decrypt", "Effect": "Allow",
            "Resource": {"Fn::Sub": "arn:${AWS::Partition}:kms:${AWS::Region}:${AWS::AccountId}:key/" + key_id}}


def _kms_id(ctx, fn, name, props, keys):
    key = props.get("SecretsManagerKmsKeyId")
    if key and not isinstance(key, str):
        raise ctx.error(f"function {fn.lid}: event {name}: SecretsManagerKmsKeyId must be a string",
                        keys + ("Properties", "SecretsManagerKmsKeyId"))
    return key


def _access_uri(ctx, fn, name, props, keys, etype, supported, required):
    configs = props.get("SourceAccessConfigurations")
    where = keys + ("Properties", "SourceAccessConfigurations")
    if not configs:
        raise ctx.error(f"function {fn.lid}: event {name}: {etype} events need SourceAccessConfigurations", where)
    if not isinstance(configs, list):
        raise ctx.error(f"function {fn.lid}: event {name}: SourceAccessConfigurations must be a list", where)
    uri = None
    for conf in configs:
        if not isinstance(conf, dict) or not isinstance(conf.get("Type"), str):
            raise ctx.error(f"function {fn.lid}: event {name}: each SourceAccessConfigurations item needs a Type",
                            where)
        if conf["Type"] not in supported:
            raise ctx.error(f"function {fn.lid}: event {name}: SourceAccessConfigurations Type must be one of "
                            + ", ".join(supported), where)
        if conf["Type"] == required:
            if uri:
                raise ctx.error(f"function {fn.lid}: event {name}: more than one {required} access configuration",
                                where)
            uri = conf.get("URI")
            if not uri:
                raise ctx.error(f"function {fn.lid}: event {name}: the {required} access configuration needs a URI",
                                where)
    if not uri:
        raise ctx.error(f"function {fn.lid}: event {name}: SourceAccessConfigurations needs a {required} entry",
                        where)
    return uri


_REGISTRY_REQUIRED = ("SchemaRegistryURI", "EventRecordFormat", "SchemaValidationConfigs")
_REGISTRY_HINT = ("SchemaRegistryConfig takes SchemaRegistryURI, EventRecordFormat (JSON or SOURCE), "
                  "SchemaValidationConfigs (a list, e.g. [{Attribute: VALUE}]) and optionally AccessConfigs "
                  "(a list of {Type, URI})")


def _check_registry(ctx, fn, name, cfg, keys):
    """The reference's rules for a Kafka event's ``SchemaRegistryConfig`` (MSK, SelfManagedKafka)."""
    where = keys + ("Properties", "SchemaRegistryConfig")
    label = f"function {fn.lid}: event {name}: SchemaRegistryConfig"
    if not isinstance(cfg, dict):
        raise ctx.error(f"{label} must be a mapping", where, hint=_REGISTRY_HINT)
    for key in _REGISTRY_REQUIRED:
        if key not in cfg:
            raise ctx.error(f"{label} needs {key}", where, hint=_REGISTRY_HINT)
    if cfg["EventRecordFormat"] not in ("JSON", "SOURCE"):
        raise ctx.error(f"{label}: EventRecordFormat must be JSON or SOURCE (not an intrinsic function), "
                        f"not {cfg['EventRecordFormat']!r}", where + ("EventRecordFormat",))
    if not isinstance(cfg["SchemaValidationConfigs"], list):
        raise ctx.error(f"{label}: SchemaValidationConfigs must be a list", where + ("SchemaValidationConfigs",),
                        hint="e.g. SchemaValidationConfigs: [{Attribute: KEY}, {Attribute: VALUE}]")
    access = cfg.get("AccessConfigs", [])
    if access is None:  # the reference fails on it
        raise ctx.error(f"{label}: AccessConfigs must be a list", where + ("AccessConfigs",),
                        hint="give a list of {Type, URI}, or leave AccessConfigs out")
    if access:
        if not isinstance(access, list):
            raise ctx.error(f"{label}: AccessConfigs must be a list", where + ("AccessConfigs",),
                            hint="give a list of {Type, URI}")
        for i, conf in enumerate(access):
            if not isinstance(conf, dict) or "Type" not in conf or "URI" not in conf:
                raise ctx.error(f"{label}: AccessConfigs item {i + 1} needs Type and URI",
                                where + ("AccessConfigs", i), hint="e.g. {Type: BASIC_AUTH, URI: <secret ARN>}")


def _registry(ctx, fn, name, props, keys):
    cfg = props.get("SchemaRegistryConfig")
    if not cfg:
        return None
    _check_registry(ctx, fn, name, cfg, keys)
    out = []
    for conf in cfg.get("AccessConfigs") or []:
        if isinstance(conf, dict) and "URI" in conf:
            out.append({"Action": ["secretsmanager:GetSecretValue"], "Effect": "Allow", "Resource": conf["URI"]})
    uri = cfg.get("SchemaRegistryURI")
    arn = None
    if isinstance(uri, str):
        arn = uri
    elif isinstance(uri, dict):
        # a parameter's value, or the string of an Fn::Sub (the reference fails on a parameter that resolves)
        resolved = ctx.resolve(uri)
        arn = resolved if isinstance(resolved, str) else resolved.get("Fn::Sub") if isinstance(resolved, dict) \
            else None
    arn = str(arn)
    registry = None
    if arn.startswith("arn"):
        parts = arn.split(":")
        if len(parts) >= 6 and parts[5].startswith("registry/"):
            registry = parts[5][len("registry/"):]
    if registry is not None:
        out.append({"Action": ["glue:GetRegistry"], "Effect": "Allow", "Resource": uri})
        out.append({"Action": ["glue:GetSchemaVersion"], "Effect": "Allow", "Resource": [
            {"Fn::Sub": "arn:${AWS::Partition}:glue:${AWS::Region}:${AWS::AccountId}:schema/" + registry + "/*"}]})
    return out


def msk(ctx, fn, name, props, keys):
    def statements(ctx, fn, name, props, keys):
        out = list(_registry(ctx, fn, name, props, keys) or [])
        for conf in props.get("SourceAccessConfigurations") or []:
            if isinstance(conf, dict) and conf.get("Type") == "CLIENT_CERTIFICATE_TLS_AUTH" and conf.get("URI"):
                out.append({"Action": ["secretsmanager:GetSecretValue"], "Effect": "Allow", "Resource": conf["URI"]})
        return [{"PolicyName": "MSKExecutionRolePolicy", "PolicyDocument": {"Statement": out}}] if out else None
    return _pull(ctx, fn, name, props, keys, "MSK", "Stream", "AWSLambdaMSKExecutionRole", statements=statements)


def mq(ctx, fn, name, props, keys):
    def statements(ctx, fn, name, props, keys):
        uri = _access_uri(ctx, fn, name, props, keys, "MQ", ["BASIC_AUTH", "VIRTUAL_HOST"], "BASIC_AUTH")
        doc = {"PolicyName": f"{fn.lid}{name}AMQPolicy" if props.get("DynamicPolicyName")
               else "SamAutoGeneratedAMQPolicy",
               "PolicyDocument": {"Statement": [
                   {"Action": ["secretsmanager:GetSecretValue"], "Effect": "Allow", "Resource": uri},
                   {"Action": ["mq:DescribeBroker"], "Effect": "Allow", "Resource": props["Broker"]}]}}
        key = _kms_id(ctx, fn, name, props, keys)
        if key:
            doc["PolicyDocument"]["Statement"].append(_kms(key, as_list=False))
        return [doc]
    return _pull(ctx, fn, name, props, keys, "MQ", "Broker", None, statements=statements,
                 more_props={"DynamicPolicyName": bool})


_KAFKA_AUTH = ["SASL_SCRAM_256_AUTH", "SASL_SCRAM_512_AUTH", "BASIC_AUTH", "CLIENT_CERTIFICATE_TLS_AUTH",
               "OAUTHBEARER_AUTH", "IAM_AUTH", "IAM_OAUTHBEARER_AUTH"]
_KAFKA_OAUTH = ["OAUTHBEARER_SCOPE", "OAUTHBEARER_AUDIENCE", "OAUTHBEARER_LOGICAL_CLUSTER",
                "OAUTHBEARER_IDENTITY_POOL"]


def self_managed_kafka(ctx, fn, name, props, keys):
    def statements(ctx, fn, name, props, keys):
        where = keys + ("Properties",)
        if not props.get("KafkaBootstrapServers"):
            raise ctx.error(f"function {fn.lid}: event {name}: SelfManagedKafka needs KafkaBootstrapServers", where)
        topics = props.get("Topics")
        if not topics:
            raise ctx.error(f"function {fn.lid}: event {name}: SelfManagedKafka needs Topics", where)
        if len(topics) != 1:
            raise ctx.error(f"function {fn.lid}: event {name}: SelfManagedKafka takes exactly one topic",
                            where + ("Topics",))
        configs = props.get("SourceAccessConfigurations")
        if not configs:
            raise ctx.error(f"function {fn.lid}: event {name}: SelfManagedKafka needs SourceAccessConfigurations",
                            where)
        if not isinstance(configs, list):
            raise ctx.error(f"function {fn.lid}: event {name}: SourceAccessConfigurations must be a list", where)
        auth = auth2 = None
        subnet = group = has_auth = False
        for conf in configs:
            if not isinstance(conf, dict):
                raise ctx.error(f"function {fn.lid}: event {name}: SourceAccessConfigurations items are mappings",
                                where)
            ctype, uri = conf.get("Type"), conf.get("URI")

            def need_uri(label):
                if not uri:
                    raise ctx.error(f"function {fn.lid}: event {name}: the {label} access configuration needs a URI",
                                    where)
                if not isinstance(uri, (str, dict)):
                    raise ctx.error(f"function {fn.lid}: event {name}: the {label} URI must be a string", where)
            if ctype == "VPC_SUBNET":
                need_uri("VPC_SUBNET")
                subnet = True
            elif ctype == "VPC_SECURITY_GROUP":
                need_uri("VPC_SECURITY_GROUP")
                group = True
            elif ctype in _KAFKA_AUTH:
                if has_auth:
                    raise ctx.error(f"function {fn.lid}: event {name}: more than one authentication mechanism", where)
                has_auth = True
                if ctype not in ("IAM_AUTH", "IAM_OAUTHBEARER_AUTH"):
                    need_uri("auth mechanism")
                    auth = uri
            elif ctype == "SERVER_ROOT_CA_CERTIFICATE":
                need_uri("SERVER_ROOT_CA_CERTIFICATE")
                auth2 = uri
            elif ctype in _KAFKA_OAUTH:
                need_uri(ctype)
            else:
                raise ctx.error(f"function {fn.lid}: event {name}: unknown SourceAccessConfigurations Type {ctype!r}",
                                where)
        if subnet != group:
            raise ctx.error(f"function {fn.lid}: event {name}: VPC_SUBNET and VPC_SECURITY_GROUP go together", where)
        out = []
        for uri in (auth, auth2):
            if uri:
                out.append({"Action": ["secretsmanager:GetSecretValue"], "Effect": "Allow", "Resource": uri})
        if subnet and group:
            out.append({"Action": ["ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces",
                                   "ec2:DeleteNetworkInterface", "ec2:DescribeVpcs", "ec2:DescribeSubnets",
                                   "ec2:DescribeSecurityGroups"], "Effect": "Allow", "Resource": "*"})
        key = _kms_id(ctx, fn, name, props, keys)
        if key:
            out.append(_kms(key))
        out.extend(_registry(ctx, fn, name, props, keys) or [])
        if not out:
            return None
        return [{"PolicyDocument": {"Statement": out, "Version": "2012-10-17"},
                 "PolicyName": "SelfManagedKafkaExecutionRolePolicy"}]
    return _pull(ctx, fn, name, props, keys, "SelfManagedKafka", None, None, statements=statements)


def document_db(ctx, fn, name, props, keys):
    def statements(ctx, fn, name, props, keys):
        uri = _access_uri(ctx, fn, name, props, keys, "DocumentDB", ["BASIC_AUTH"], "BASIC_AUTH")
        out = [
            {"Action": ["secretsmanager:GetSecretValue"], "Effect": "Allow", "Resource": uri},
            {"Action": ["rds:DescribeDBClusterParameters"], "Effect": "Allow",
             "Resource": {"Fn::Sub": "arn:${AWS::Partition}:rds:${AWS::Region}:${AWS::AccountId}:cluster-pg:*"}},
            {"Action": ["rds:DescribeDBSubnetGroups"], "Effect": "Allow",
             "Resource": {"Fn::Sub": "arn:${AWS::Partition}:rds:${AWS::Region}:${AWS::AccountId}:subgrp:*"}},
            {"Action": ["rds:DescribeDBClusters"], "Effect": "Allow", "Resource": props["Cluster"]},
            {"Action": ["ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DeleteNetworkInterface",
                        "ec2:DescribeVpcs", "ec2:DescribeSubnets", "ec2:DescribeSecurityGroups"],
             "Effect": "Allow", "Resource": "*"},
        ]
        key = _kms_id(ctx, fn, name, props, keys)
        if key:
            out.append(_kms(key))
        return [{"PolicyName": "SamAutoGeneratedDocumentDBPolicy", "PolicyDocument": {"Statement": out}}]

    def extra(esm, props):
        cfg = {"DatabaseName": props.get("DatabaseName")}
        if props.get("CollectionName"):
            cfg["CollectionName"] = props["CollectionName"]
        if props.get("FullDocument"):
            cfg["FullDocument"] = props["FullDocument"]
        esm["DocumentDBEventSourceConfig"] = cfg
    if props.get("DatabaseName") is None:
        raise ctx.error(f"function {fn.lid}: event {name} (DocumentDB) needs DatabaseName", keys + ("Properties",))
    return _pull(ctx, fn, name, props, keys, "DocumentDB", "Cluster", None, statements=statements, extra=extra,
                 more_props={"DatabaseName": None, "CollectionName": None, "FullDocument": None})


# -- small push events ---------------------------------------------------------------------------------
def alexa_skill(ctx, fn, name, props, keys):
    _check(ctx, fn, name, "AlexaSkill", props, keys, {"SkillId": str})
    return [permission(fn, fn.lid + name, "alexa-appkit.amazon.com", token=props.get("SkillId"))]


def iot_rule(ctx, fn, name, props, keys):
    _check(ctx, fn, name, "IoTRule", props, keys, {"Sql": str, "AwsIotSqlVersion": str}, ("Sql",))
    rid = fn.lid + name
    source = {"Fn::Sub": [f"arn:{ctx.partition}:iot:${{AWS::Region}}:${{AWS::AccountId}}:rule/${{RuleName}}",
                          {"RuleName": {"Ref": rid}}]}
    payload = {"Sql": props["Sql"], "RuleDisabled": False,
               "Actions": [{"Lambda": {"FunctionArn": copy.deepcopy(fn.arn)}}]}
    if props.get("AwsIotSqlVersion"):
        payload["AwsIotSqlVersion"] = props["AwsIotSqlVersion"]
    return [permission(fn, rid, "iot.amazonaws.com", source_arn=source,
                       source_account={"Fn::Sub": "${AWS::AccountId}"}),
            (rid, _res("AWS::IoT::TopicRule", {"TopicRulePayload": payload}, fn.attrs))]


def cognito(ctx, fn, name, props, keys):
    _check(ctx, fn, name, "Cognito", props, keys, {"UserPool": None, "Trigger": (str, list)}, ("UserPool", "Trigger"))
    pool = props["UserPool"]
    pool_id = pool.get("Ref") if isinstance(pool, dict) else None
    resources = ctx.template.get("Resources", {})
    if not isinstance(pool_id, str) or not isinstance(resources.get(pool_id), dict):
        raise ctx.error(f"function {fn.lid}: event {name}: Cognito events must reference (!Ref) a user pool of the "
                        "same template", keys + ("Properties", "UserPool"))
    live = ctx.modified_resources
    if pool_id not in live:
        live[pool_id] = copy.deepcopy(resources[pool_id])
    userpool = live[pool_id]
    pid, perm = permission(fn, fn.lid + "Cognito", "cognito-idp.amazonaws.com",
                           source_arn={"Fn::GetAtt": [pool_id, "Arn"]})
    triggers = props["Trigger"] if isinstance(props["Trigger"], list) else [props["Trigger"]]
    uprops = userpool.get("Properties")
    if uprops is None:
        uprops = userpool["Properties"] = {}
    config = uprops.get("LambdaConfig")
    if config is None:
        config = uprops["LambdaConfig"] = {}
    if not isinstance(config, dict):
        raise ctx.error(f"resource {pool_id}: LambdaConfig must be a mapping",
                        ("Resources", pool_id, "Properties", "LambdaConfig"))
    for trigger in triggers:
        if trigger in config:
            raise ctx.error(f"function {fn.lid}: event {name}: Cognito trigger {trigger} is defined more than once",
                            keys + ("Properties", "Trigger"))
        config[trigger] = copy.deepcopy(fn.arn)
    out = {"Type": userpool.get("Type")}
    if userpool.get("DependsOn"):
        out["DependsOn"] = userpool["DependsOn"]
    for attr in ("DeletionPolicy", "UpdatePolicy", "Condition", "UpdateReplacePolicy", "Metadata"):
        if attr in userpool:
            out[attr] = userpool[attr]
    out["Properties"] = {k: v for k, v in uprops.items() if v is not None}
    return [(pid, perm), (pool_id, Replace(copy.deepcopy(out)))]


# -- ScheduleV2 (EventBridge Scheduler) --------------------------------------------------------------
def schedule_v2(ctx, fn, name, props, keys, policy=("lambda:InvokeFunction", "LambdaPolicy")):
    """``policy``: the action the schedule's role is allowed on its target, and the suffix of its name
    (a state machine's schedule starts executions: ``("states:StartExecution", "StartExecutionPolicy")``)."""
    _check(ctx, fn, name, "ScheduleV2", props, keys, {
        "PermissionsBoundary": str, "ScheduleExpression": str, "FlexibleTimeWindow": dict, "Name": str,
        "State": str, "Description": str, "StartDate": str, "EndDate": str, "ScheduleExpressionTimezone": str,
        "GroupName": str, "KmsKeyArn": str, "Input": str, "RoleArn": str, "DeadLetterConfig": dict,
        "RetryPolicy": dict, "OmitName": bool}, ("ScheduleExpression",))
    rid = fn.lid + name
    sched = {"ScheduleExpression": props["ScheduleExpression"]}
    if props.get("State"):
        sched["State"] = props["State"]
    if props.get("OmitName"):
        if props.get("Name"):
            raise ctx.error(f"function {fn.lid}: event {name}: Name cannot be set when OmitName is true",
                            keys + ("Properties", "Name"))
    else:
        sched["Name"] = props.get("Name") or rid
    sched["Description"] = props.get("Description")
    sched["FlexibleTimeWindow"] = props.get("FlexibleTimeWindow") or {"Mode": "OFF"}
    for key in ("StartDate", "EndDate", "ScheduleExpressionTimezone", "GroupName", "KmsKeyArn"):
        sched[key] = props.get(key)
    out = [(rid, None)]
    dlq_arn = None
    dlq = props.get("DeadLetterConfig")
    if dlq is not None:
        _dlq(ctx, fn, name, rid, dlq, None, keys)  # validation only
        if dlq.get("Arn") is not None:
            dlq_arn = dlq["Arn"]
        else:
            qid = dlq.get("QueueLogicalId") or rid + "Queue"
            out.append((qid, _res("AWS::SQS::Queue", {}, fn.attrs)))
            dlq_arn = {"Fn::GetAtt": [qid, "Arn"]}
    role_arn = props.get("RoleArn")
    if not role_arn:
        policies = [{"PolicyName": rid + policy[1], "PolicyDocument": {"Statement": [
            {"Action": policy[0], "Effect": "Allow", "Resource": copy.deepcopy(fn.arn)}]}}]
        if dlq_arn:
            policies.append({"PolicyName": rid + "SQSPolicy", "PolicyDocument": {"Statement": [
                {"Action": "sqs:SendMessage", "Effect": "Allow", "Resource": dlq_arn}]}})
        out.append((rid + "Role", _res("AWS::IAM::Role", {
            "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{
                "Action": ["sts:AssumeRole"], "Effect": "Allow", "Principal": {"Service": ["scheduler.amazonaws.com"]}}]},
            "Policies": policies, "PermissionsBoundary": props.get("PermissionsBoundary") or None}, fn.attrs)))
        role_arn = {"Fn::GetAtt": [rid + "Role", "Arn"]}
    target = {"Arn": copy.deepcopy(fn.arn), "RoleArn": role_arn}
    if props.get("Input") is not None:
        target["Input"] = props["Input"]
    if dlq is not None:
        target["DeadLetterConfig"] = {"Arn": dlq_arn}
    if props.get("RetryPolicy") is not None:
        target["RetryPolicy"] = props["RetryPolicy"]
    sched["Target"] = target
    out[0] = (rid, _res("AWS::Scheduler::Schedule", sched, fn.attrs))
    return out


HANDLERS: dict[str, Callable] = {
    "Schedule": schedule,
    "ScheduleV2": schedule_v2,
    "CloudWatchEvent": cloudwatch_event,
    "EventBridgeRule": eventbridge_rule,
    "CloudWatchLogs": cloudwatch_logs,
    "S3": s3,
    "SNS": sns,
    "SQS": sqs,
    "Kinesis": kinesis,
    "DynamoDB": dynamodb,
    "MSK": msk,
    "MQ": mq,
    "SelfManagedKafka": self_managed_kafka,
    "DocumentDB": document_db,
    "AlexaSkill": alexa_skill,
    "IoTRule": iot_rule,
    "Cognito": cognito,
}
