"""``--engine codedeploy``: hand the release to AWS CodeDeploy and follow it.

For releases that must outlive the CI runner. lamctl checks the same
pre-flight, creates what is missing (the Lambda application, a deployment
group with auto-rollback on failure and on alarm, a custom deployment config
when the strategy is not a predefined one), submits the AppSpec, then polls
the deployment until it ends: ``Succeeded`` exits 0, ``Failed`` / ``Stopped``
raise :class:`RolledBack` (CodeDeploy rolled the alias back), and giving up
waiting (``--wait-timeout``) leaves the deployment running and says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from lamctl.release.engine import Event
from lamctl.release.plan import LATEST, Plan
from lamctl.release.strategy import to_codedeploy
from lamctl.schemas.appspec import appspec_document
from lamctl.schemas.errors import CloudError, RolledBack

TERMINAL_OK = ("Succeeded",)
TERMINAL_BAD = ("Failed", "Stopped")


@dataclass
class Submitted:
    deployment_id: str
    config: str
    status: str
    created: list[str]


def publish_target(lam: Any, plan: Plan, info: Any) -> Plan | None:
    """The plan with ``$LATEST`` published as a version (CodeDeploy shifts between published versions); None when
    the function has not changed since the version the alias serves: nothing to shift."""
    if plan.target != LATEST:
        return plan
    published = lam.publish_version(plan.function)
    plan = plan.with_target(published.version)
    if info is not None and info.version == plan.target:
        return None
    return plan


def submit_and_follow(gateway: Any, clock: Any, plan: Plan, application: str, group: str, role_arn: str | None,
                      on_event: Callable[[Event], None], poll_seconds: float = 10.0,
                      wait_timeout: float = 6 * 3600.0, follow: bool = True) -> Submitted:
    if plan.current is None:
        raise CloudError(f"alias {plan.function}:{plan.alias} does not exist; CodeDeploy shifts existing aliases only",
                         where=f"{plan.function}:{plan.alias}",
                         hint=f"create it first: lamctl alias {plan.function} {plan.alias} --version N")
    cfg = to_codedeploy(plan.strategy)
    created = []
    if gateway.ensure_application(application):
        created.append(f"application {application}")
    if not cfg.predefined and gateway.ensure_config(cfg.name, cfg.routing):
        created.append(f"deployment config {cfg.name}")
    if gateway.ensure_deployment_group(application, group, role_arn, cfg.name, plan.alarms):
        created.append(f"deployment group {group}")
    for what in created:
        on_event(Event("codedeploy", f"created CodeDeploy {what}", {"created": what}))
    appspec = appspec_document(plan.function, plan.alias, plan.current, plan.target, dict(plan.hooks))
    dep_id = gateway.create_deployment(application, group, appspec, cfg.name,
                                       f"lamctl: {plan.function}:{plan.alias} {plan.current} -> {plan.target}")
    on_event(Event("codedeploy", f"CodeDeploy deployment {dep_id} submitted ({cfg.name})",
                   {"deployment_id": dep_id, "config": cfg.name, "application": application, "group": group}))
    if not follow:
        return Submitted(dep_id, cfg.name, "Created", created)
    start = clock.now()
    last = None
    while True:
        status = gateway.get_deployment(dep_id)
        if status.status != last:
            on_event(Event("codedeploy", f"deployment {dep_id}: {status.status}",
                           {"deployment_id": dep_id, "status": status.status}))
            last = status.status
        if status.status in TERMINAL_OK:
            return Submitted(dep_id, cfg.name, status.status, created)
        if status.status in TERMINAL_BAD:
            raise RolledBack(f"CodeDeploy deployment {dep_id} {status.status.lower()}"
                             + (f": {status.message}" if status.message else ""),
                             where=f"{plan.function}:{plan.alias}",
                             hint="CodeDeploy rolls the alias back on failure; see the deployment in the console")
        if clock.now() - start >= wait_timeout:
            raise CloudError(f"CodeDeploy deployment {dep_id} is still {status.status} after "
                             f"{int(wait_timeout)}s; lamctl stops following it (it keeps running)",
                             where=dep_id, hint="follow it in the CodeDeploy console, or raise --wait-timeout")
        clock.sleep(poll_seconds)
