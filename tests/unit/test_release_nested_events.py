"""The events of nested stacks, as deploy reports them with the parent's (``release.stacks.NestedEvents``), over
the in-memory CloudFormation of ``release.fakes``: found from the parent's events as CloudFormation reports them,
labelled ``App`` / ``App/LogicalId`` (deeper: ``App/Inner/LogicalId``), each once, none from an earlier operation."""

from __future__ import annotations

from lamctl.release.fakes import FakeCloudFormation
from lamctl.release.stacks import NestedEvents, StackEvent, StackResource

STACK = "AWS::CloudFormation::Stack"


def ev(n: int, logical_id: str, status: str, rtype: str = "AWS::Lambda::Function", physical_id: str | None = None,
       day: str = "2026-01-02") -> StackEvent:
    return StackEvent(event_id=f"{logical_id}-{n}", timestamp=f"{day}T00:00:{n:02d}.000Z", logical_id=logical_id,
                      resource_type=rtype, status=status, physical_id=physical_id)


class Recorder:
    def __init__(self):
        self.events: list[StackEvent] = []

    def stack_event(self, event: StackEvent) -> None:
        self.events.append(event)


def test_nested_stacks_found_in_the_parents_events_are_followed_at_every_depth():
    gw = FakeCloudFormation()
    parent = gw.add_stack("parent", "UPDATE_IN_PROGRESS")
    inner = gw.add_stack("parent-App-1-Inner-2", "UPDATE_COMPLETE")
    app = gw.add_stack("parent-App-1", "UPDATE_COMPLETE", events=[
        ev(1, "parent-App-1", "CREATE_COMPLETE", STACK, day="2025-06-01"),  # an earlier operation
        ev(3, "parent-App-1", "UPDATE_IN_PROGRESS", STACK),
        ev(4, "Fn", "UPDATE_COMPLETE"),
        ev(5, "Inner", "UPDATE_IN_PROGRESS", STACK, physical_id=inner["id"]),
    ])
    inner["events"] = [ev(6, "parent-App-1-Inner-2", "UPDATE_IN_PROGRESS", STACK), ev(7, "Deep", "UPDATE_COMPLETE")]
    seen = Recorder()
    nested = NestedEvents(gw, seen)
    nested.saw(ev(2, "parent", "UPDATE_IN_PROGRESS", STACK, physical_id=parent["id"]), parent["id"])
    nested.saw(ev(3, "App", "UPDATE_IN_PROGRESS", STACK, physical_id=app["id"]), parent["id"])
    nested.follow()
    nested.follow()  # nothing twice
    assert [(e.logical_id, e.status) for e in seen.events] == [
        ("App", "UPDATE_IN_PROGRESS"), ("App/Fn", "UPDATE_COMPLETE"), ("App/Inner", "UPDATE_IN_PROGRESS"),
        ("App/Inner", "UPDATE_IN_PROGRESS"), ("App/Inner/Deep", "UPDATE_COMPLETE")]


def test_at_the_end_nested_stacks_are_found_among_the_resources_too():
    gw = FakeCloudFormation()
    parent = gw.add_stack("parent", "CREATE_COMPLETE")
    app = gw.add_stack("parent-App-1", "CREATE_COMPLETE", events=[ev(3, "parent-App-1", "CREATE_COMPLETE", STACK)])
    gw.resources = lambda stack: ([StackResource("App", STACK, "CREATE_COMPLETE", app["id"])]
                                  if stack == parent["id"] else [])  # the local cloud reports no resource events
    seen = Recorder()
    nested = NestedEvents(gw, seen)
    nested.saw(ev(2, "parent", "CREATE_IN_PROGRESS", STACK, physical_id=parent["id"]), parent["id"])
    nested.finish(parent["id"])
    assert [(e.logical_id, e.status) for e in seen.events] == [("App", "CREATE_COMPLETE")]
