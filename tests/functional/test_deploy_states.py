"""The stack deployer against an in-memory CloudFormation: the states the emulator cannot produce
(rollbacks, operations in progress, interrupted waits), parameters, capabilities and large templates.

Time is a FakeClock: every wait is recorded, none is slept through.
"""

from __future__ import annotations

import pytest

from lamctl.release.clock import FakeClock
from lamctl.release.fakes import FakeCloudFormation
from lamctl.release.fakes import resource_event as ev
from lamctl.release.fakes import stack_status_event as stack_ev
from lamctl.release.stack_params import ParameterOverride, infer_capabilities
from lamctl.release.stacks import (DeployRequest, Listener, OperationInterrupted, StackDeployer, StackEvent, StackInfo,
                                   first_failure)
from lamctl.schemas.errors import CloudError, ConflictError, UsageError


class Recorder(Listener):
    def __init__(self):
        self.events: list[StackEvent] = []
        self.messages: list[str] = []

    def progress(self, message, **data):
        self.messages.append(message)

    def stack_event(self, event):
        self.events.append(event)


TEMPLATE = {
    "Parameters": {"Env": {"Type": "String"}, "Size": {"Type": "Number", "Default": 1}},
    "Resources": {"Queue": {"Type": "AWS::SQS::Queue"}},
}


def request(**kw):
    base = dict(stack="app", template=TEMPLATE, template_body='{"Resources":{}}',
                parameters=(ParameterOverride("Env", "prod", "--parameter-overrides"),))
    base.update(kw)
    return DeployRequest(**base)


def create_ok(name="app"):
    return [("CREATE_IN_PROGRESS", [stack_ev(name, "CREATE_IN_PROGRESS", "User Initiated"),
                                    ev("Queue", "CREATE_IN_PROGRESS")]),
            ("CREATE_COMPLETE", [ev("Queue", "CREATE_COMPLETE"), stack_ev(name, "CREATE_COMPLETE")])]


def test_rollback_complete_is_explained_and_left_alone_without_yes():
    cf = FakeCloudFormation()
    cf.add_stack("app", "ROLLBACK_COMPLETE")
    deployer = StackDeployer(cf, FakeClock())
    with pytest.raises(CloudError) as err:
        deployer.plan(request(), deployer.settle("app"))
    assert "ROLLBACK_COMPLETE" in err.value.message and "first creation failed" in err.value.message
    assert "--yes" in err.value.hint
    assert cf.writes() == []


def test_rollback_complete_with_yes_is_deleted_and_created_again():
    cf = FakeCloudFormation()
    cf.add_stack("app", "ROLLBACK_COMPLETE", events=[stack_ev("app", "ROLLBACK_COMPLETE")])
    cf.on_execute = create_ok()
    clock = FakeClock()
    listener = Recorder()
    deployer = StackDeployer(cf, clock, listener)
    plan = deployer.plan(request(recreate=True), deployer.settle("app"))
    assert plan.recreate and plan.change_set_type == "CREATE"
    result = deployer.deploy(plan)
    assert result.ok and result.status == "CREATE_COMPLETE"
    assert cf.writes() == ["delete_stack", "create_change_set", "execute_change_set"]
    assert [e.status for e in listener.events][-1] == "CREATE_COMPLETE"
    assert "DELETE_COMPLETE" in [e.status for e in listener.events]


def test_an_operation_in_progress_is_waited_for_never_doubled():
    cf = FakeCloudFormation()
    cf.add_stack("app", "UPDATE_IN_PROGRESS", params={"Env": "prod"}, script=[
        ("UPDATE_IN_PROGRESS", []),
        ("UPDATE_IN_PROGRESS", [ev("Queue", "UPDATE_COMPLETE")]),
        ("UPDATE_COMPLETE", [stack_ev("app", "UPDATE_COMPLETE")]),
    ])
    clock = FakeClock()
    listener = Recorder()
    deployer = StackDeployer(cf, clock, listener)
    info = deployer.settle("app")
    assert info.status == "UPDATE_COMPLETE"
    assert cf.writes() == []  # nothing started while the other operation ran
    assert clock.sleeps and all(s > 0 for s in clock.sleeps)
    assert [e.status for e in listener.events] == ["UPDATE_COMPLETE", "UPDATE_COMPLETE"]
    assert any("busy" in m for m in listener.messages)
    plan = deployer.plan(request(), info)
    assert plan.change_set_type == "UPDATE"


def test_an_operation_in_progress_past_the_wait_timeout_is_refused():
    cf = FakeCloudFormation()
    cf.add_stack("app", "UPDATE_IN_PROGRESS", script=[("UPDATE_IN_PROGRESS", [])] * 1000)
    clock = FakeClock()
    deployer = StackDeployer(cf, clock, wait_timeout=120)
    with pytest.raises(CloudError) as err:
        deployer.settle("app")
    assert "still UPDATE_IN_PROGRESS" in err.value.message and "lamctl status --stack app" in err.value.hint
    assert cf.writes() == []
    assert 120 <= clock.now() - 1_700_000_000 <= 120 + 10


def test_plan_refuses_a_busy_stack_it_was_handed():
    deployer = StackDeployer(FakeCloudFormation(), FakeClock())
    busy = StackInfo("app", "id", "UPDATE_ROLLBACK_IN_PROGRESS")
    with pytest.raises(ConflictError, match="does not start a second operation"):
        deployer.plan(request(), busy)


def test_update_rollback_failed_is_explained_with_the_unblocking_step():
    cf = FakeCloudFormation()
    cf.add_stack("app", "UPDATE_ROLLBACK_FAILED")
    deployer = StackDeployer(cf, FakeClock())
    with pytest.raises(CloudError) as err:
        deployer.plan(request(), deployer.settle("app"))
    assert "UPDATE_ROLLBACK_FAILED" in err.value.message
    assert "continue-update-rollback --stack-name app" in err.value.hint
    assert cf.writes() == []


def test_a_failed_update_names_the_first_failing_resource_and_its_reason():
    cf = FakeCloudFormation()
    cf.add_stack("app", "UPDATE_COMPLETE", params={"Env": "prod"})
    cf.on_execute = [
        ("UPDATE_IN_PROGRESS", [stack_ev("app", "UPDATE_IN_PROGRESS", "User Initiated"),
                                ev("Bucket", "UPDATE_FAILED", "app-data already exists", "AWS::S3::Bucket"),
                                ev("Queue", "UPDATE_FAILED", "Resource update cancelled")]),
        ("UPDATE_ROLLBACK_IN_PROGRESS", [stack_ev("app", "UPDATE_ROLLBACK_IN_PROGRESS",
                                                  "The following resource(s) failed to update: [Bucket].")]),
        ("UPDATE_ROLLBACK_COMPLETE", [stack_ev("app", "UPDATE_ROLLBACK_COMPLETE")]),
    ]
    deployer = StackDeployer(cf, FakeClock())
    result = deployer.deploy(deployer.plan(request(), deployer.settle("app")))
    assert not result.ok and result.status == "UPDATE_ROLLBACK_COMPLETE"
    assert result.failure.logical_id == "Bucket"
    assert result.failure.reason == "app-data already exists"


def test_ctrl_c_while_waiting_leaves_the_operation_running_and_says_how_to_follow():
    class InterruptingClock(FakeClock):
        def sleep(self, seconds):
            raise KeyboardInterrupt

    cf = FakeCloudFormation()
    cf.add_stack("app", "UPDATE_COMPLETE", params={"Env": "prod"})
    cf.on_execute = [("UPDATE_IN_PROGRESS", [stack_ev("app", "UPDATE_IN_PROGRESS")])] * 5
    deployer = StackDeployer(cf, InterruptingClock())
    plan = deployer.plan(request(), deployer.settle("app"))
    with pytest.raises(OperationInterrupted) as err:
        deployer.deploy(plan)
    assert err.value.exit_code == 130
    assert "goes on in CloudFormation" in err.value.message
    assert "lamctl status --stack app" in err.value.hint and "cancel-update-stack" in err.value.hint
    assert cf.writes() == ["create_change_set", "execute_change_set"]  # nothing cancelled or deleted


def test_previous_values_defaults_and_overrides_reach_the_change_set():
    cf = FakeCloudFormation()
    cf.add_stack("app", "UPDATE_COMPLETE", params={"Env": "prod", "Size": "5"})
    cf.on_execute = [("UPDATE_COMPLETE", [])]
    deployer = StackDeployer(cf, FakeClock())
    plan = deployer.plan(request(parameters=()), deployer.settle("app"))
    deployer.deploy(plan)
    sent = next(kw for name, kw in cf.calls if name == "create_change_set")
    assert sent["parameters"] == [{"ParameterKey": "Env", "UsePreviousValue": True},
                                  {"ParameterKey": "Size", "UsePreviousValue": True}]
    assert sent["change_set_type"] == "UPDATE"

    fresh = FakeCloudFormation()
    deployer = StackDeployer(fresh, FakeClock())
    plan = deployer.plan(request(), None)
    assert [(p.key, p.source, p.value) for p in plan.parameters] == [("Env", "override", "prod"),
                                                                    ("Size", "default", None)]
    with pytest.raises(UsageError, match="Env has no value"):
        deployer.plan(request(parameters=()), None)


def test_on_failure_maps_to_the_api():
    cf = FakeCloudFormation()
    cf.on_execute = create_ok()
    deployer = StackDeployer(cf, FakeClock())
    deployer.deploy(deployer.plan(request(on_failure="DELETE"), None))
    sent = next(kw for name, kw in cf.calls if name == "create_change_set")
    assert sent["on_stack_failure"] == "DELETE"

    cf = FakeCloudFormation()
    cf.add_stack("app", "UPDATE_COMPLETE", params={"Env": "prod"})
    cf.on_execute = [("UPDATE_COMPLETE", [])]
    deployer = StackDeployer(cf, FakeClock())
    deployer.deploy(deployer.plan(request(on_failure="DO_NOTHING"), deployer.settle("app")))
    executed = next(kw for name, kw in cf.calls if name == "execute_change_set")
    assert executed["disable_rollback"] is True


def test_large_template_is_uploaded_and_passed_by_url():
    class Store:
        def __init__(self):
            self.puts = []

        def put_template(self, bucket, key, body):
            self.puts.append((bucket, key, len(body)))

    cf = FakeCloudFormation()
    cf.on_execute = create_ok()
    store = Store()
    body = '{"Resources":{"Queue":{"Type":"AWS::SQS::Queue","Metadata":{"x":"' + "y" * 60_000 + '"}}}}'
    deployer = StackDeployer(cf, FakeClock(), store=store)
    plan = deployer.plan(request(template_body=body, s3_bucket="b", s3_prefix="p/", region="eu-west-1"), None)
    result = deployer.deploy(plan)
    assert result.ok
    assert store.puts == [("b", plan.upload.key, len(body))]
    sent = next(kw for name, kw in cf.calls if name == "create_change_set")
    assert sent["template_body"] is None
    assert sent["template_url"] == f"https://s3.eu-west-1.amazonaws.com/b/{plan.upload.key}"
    assert plan.upload.key.startswith("p/") and plan.upload.key.endswith(".template")


def test_wait_timeout_during_execution_stops_waiting_not_the_operation():
    cf = FakeCloudFormation()
    cf.on_execute = [("CREATE_IN_PROGRESS", [])] * 1000
    clock = FakeClock()
    deployer = StackDeployer(cf, clock, wait_timeout=300)
    with pytest.raises(CloudError, match="lamctl stopped waiting"):
        deployer.deploy(deployer.plan(request(), None))
    assert "delete_stack" not in cf.writes()


@pytest.mark.parametrize("resources, expected", [
    ({"Q": {"Type": "AWS::SQS::Queue"}}, ()),
    ({"R": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {}}}}, ("CAPABILITY_IAM",)),
    ({"R": {"Type": "AWS::IAM::Role", "Properties": {"RoleName": "x"}}}, ("CAPABILITY_NAMED_IAM",)),
    ({"P": {"Type": "AWS::IAM::ManagedPolicy", "Properties": {"ManagedPolicyName": "p"}}},
     ("CAPABILITY_NAMED_IAM",)),
    ({"P": {"Type": "AWS::IAM::Policy", "Properties": {"PolicyName": "inline"}}}, ("CAPABILITY_IAM",)),
    ({"Q": {"Type": "AWS::SQS::Queue", "Properties": {"Fn::Transform": {"Name": "AWS::Include"}}}},
     ("CAPABILITY_AUTO_EXPAND",)),
    ({"App": {"Type": "AWS::CloudFormation::Stack", "Properties": {"TemplateURL": "https://x"}}},
     ("CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND")),  # whatever the nested stack holds
])
def test_capabilities_inferred(resources, expected):
    assert infer_capabilities({"Resources": resources}) == expected


def test_a_remaining_macro_needs_auto_expand():
    template = {"Transform": "MyMacro", "Resources": {"R": {"Type": "AWS::IAM::Role", "Properties": {}}}}
    assert infer_capabilities(template) == ("CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND")


def test_first_failure_skips_cancellations_and_the_stack_itself():
    events = [stack_ev("app", "CREATE_IN_PROGRESS"),
              ev("A", "CREATE_FAILED", "Resource creation cancelled"),
              ev("B", "CREATE_FAILED", "Invalid request provided: bad runtime"),
              stack_ev("app", "ROLLBACK_IN_PROGRESS", "The following resource(s) failed to create: [B]."),
              stack_ev("app", "ROLLBACK_COMPLETE")]
    assert first_failure(events, "app").logical_id == "B"
    only_stack = [stack_ev("app", "ROLLBACK_IN_PROGRESS", "Insufficient permissions")]
    assert first_failure(only_stack, "app").reason == "Insufficient permissions"


def test_ctrl_c_during_the_execute_call_says_it_may_be_running():
    class Interrupted(FakeCloudFormation):
        def execute_change_set(self, arn, disable_rollback=False):
            super().execute_change_set(arn, disable_rollback)
            raise KeyboardInterrupt

    cf = Interrupted()
    cf.on_execute = create_ok()
    deployer = StackDeployer(cf, FakeClock())
    with pytest.raises(OperationInterrupted) as err:
        deployer.deploy(deployer.plan(request(), None))
    assert "may be running" in err.value.message and "lamctl status --stack app" in err.value.hint
    assert cf.writes() == ["create_change_set", "execute_change_set"]


def test_delete_failed_names_the_resource_that_blocked_it():
    cf = FakeCloudFormation()
    cf.add_stack("app", "UPDATE_COMPLETE")
    cf.on_delete = [
        ("DELETE_IN_PROGRESS", [stack_ev("app", "DELETE_IN_PROGRESS", "User Initiated")]),
        ("DELETE_FAILED", [ev("Bucket", "DELETE_FAILED", "The bucket you tried to delete is not empty",
                              "AWS::S3::Bucket"), stack_ev("app", "DELETE_FAILED")]),
    ]
    result = StackDeployer(cf, FakeClock()).delete("app")
    assert not result.ok and result.status == "DELETE_FAILED"
    assert (result.failure.logical_id, result.failure.reason) == ("Bucket", "The bucket you tried to delete is not empty")


def test_delete_waits_for_a_running_operation_first():
    cf = FakeCloudFormation()
    cf.add_stack("app", "UPDATE_IN_PROGRESS", script=[("UPDATE_IN_PROGRESS", []), ("UPDATE_COMPLETE", [])])
    clock = FakeClock()
    result = StackDeployer(cf, clock).delete("app")
    assert result.ok and result.status == "DELETE_COMPLETE"
    first_write = next(i for i, (name, _) in enumerate(cf.calls) if name == "delete_stack")
    statuses_seen_before = [name for name, _ in cf.calls[:first_write] if name == "describe"]
    assert len(statuses_seen_before) >= 3  # it polled until UPDATE_COMPLETE before deleting
    assert clock.sleeps


def test_a_status_from_before_the_execution_is_not_taken_for_its_result():
    cf = FakeCloudFormation()
    cf.add_stack("app", "UPDATE_COMPLETE", params={"Env": "prod"})
    cf.on_execute = [
        ("UPDATE_COMPLETE", []),  # CloudFormation has not started yet: the old status, no new event
        ("UPDATE_IN_PROGRESS", [stack_ev("app", "UPDATE_IN_PROGRESS", "User Initiated"),
                                ev("Queue", "UPDATE_FAILED", "Access denied")]),
        ("UPDATE_ROLLBACK_COMPLETE", [stack_ev("app", "UPDATE_ROLLBACK_COMPLETE")]),
    ]
    deployer = StackDeployer(cf, FakeClock())
    result = deployer.deploy(deployer.plan(request(), deployer.settle("app")))
    assert not result.ok and result.status == "UPDATE_ROLLBACK_COMPLETE"
    assert result.failure.logical_id == "Queue"
