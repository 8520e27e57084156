"""Deleting a function or one of its versions on the local cloud stops its warm execution environments at once
(not at the pool's idle timeout): DeleteFunction with a Qualifier, DeleteFunction of the whole function, and a
stack delete that removes a function. The processes are looked at from outside: their PIDs, reported by the
functions themselves and by the local cloud's status."""

from __future__ import annotations

import json
import urllib.request

from tests.helpers import code_zip, wait_for

PID = """\
import os
def handler(event, context):
    return {"pid": os.getpid(), "version": context.function_version}
"""


def alive(pid: int) -> bool:
    """The process exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False


def environments(cloud) -> list[int]:
    with urllib.request.urlopen(cloud.endpoint + "/lamctl-api/status", timeout=30) as resp:
        return sorted(json.loads(resp.read())["environments"])


def pid_of(lam, name: str, qualifier: str | None = None) -> int:
    answer = lam.invoke(FunctionName=name, **({"Qualifier": qualifier} if qualifier else {}))
    assert "FunctionError" not in answer, answer
    return json.loads(answer["Payload"].read())["pid"]


def test_deleting_a_version_or_a_function_stops_its_warm_environments(local_cloud):
    role = local_cloud.client("iam").create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    lam = local_cloud.client("lambda")
    lam.create_function(FunctionName="pids", Runtime="python3.12", Role=role, Handler="app.handler",
                        Code={"ZipFile": code_zip(PID)}, Timeout=30)
    lam.publish_version(FunctionName="pids")
    lam.update_function_configuration(FunctionName="pids", MemorySize=256)  # a second version, of its own
    lam.get_waiter("function_updated_v2").wait(FunctionName="pids")
    lam.publish_version(FunctionName="pids")
    one, two, latest = pid_of(lam, "pids", "1"), pid_of(lam, "pids", "2"), pid_of(lam, "pids")
    assert len({one, two, latest}) == 3 and all(map(alive, (one, two, latest)))
    assert environments(local_cloud) == sorted([one, two, latest])
    assert pid_of(lam, "pids", "1") == one  # warm: the same process answers again

    lam.delete_function(FunctionName="pids", Qualifier="1")
    wait_for(lambda: not alive(one), "version 1's process to end", limit=10)
    assert environments(local_cloud) == sorted([two, latest])
    assert alive(two) and alive(latest)  # the others stay warm
    assert pid_of(lam, "pids", "2") == two

    arn = lam.get_function(FunctionName="pids")["Configuration"]["FunctionArn"]
    lam.delete_function(FunctionName=arn)  # by ARN: the function and every version
    wait_for(lambda: not alive(two) and not alive(latest), "the function's processes to end", limit=10)
    assert environments(local_cloud) == []


TEMPLATE = {"Resources": {"Fn": {"Type": "AWS::Lambda::Function", "Properties": {
    "FunctionName": "stacked", "Runtime": "python3.12", "Handler": "app.handler", "Timeout": 30,
    "Role": {"Fn::GetAtt": ["Role", "Arn"]}, "Code": {"S3Bucket": "code", "S3Key": "pid.zip"}}},
    "Role": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {}}}}}


def test_a_stack_delete_stops_the_environments_of_its_functions(local_cloud):
    s3 = local_cloud.client("s3")
    s3.create_bucket(Bucket="code")
    s3.put_object(Bucket="code", Key="pid.zip", Body=code_zip(PID))
    cf = local_cloud.client("cloudformation")
    cf.create_stack(StackName="pids", TemplateBody=json.dumps(TEMPLATE))
    pid = pid_of(local_cloud.client("lambda"), "stacked")
    assert alive(pid) and environments(local_cloud) == [pid]
    cf.delete_stack(StackName="pids")
    wait_for(lambda: not alive(pid), "the stack function's process to end", limit=10)
    assert environments(local_cloud) == []
