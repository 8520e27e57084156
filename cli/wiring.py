"""From the App to what commands work with: release services, stack helpers, packaging with progress.

Commands share these instead of importing each other's names. Everything here
takes the :class:`lamctl.cli.application.App` of the run and imports heavy modules
inside the function body.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Optional

from lamctl.cli.faults import fault_from_env
from lamctl.cli.views import UploadProgress, upload_events
from lamctl.schemas.errors import LamctlError, UsageError

if TYPE_CHECKING:
    from lamctl.cli.application import App



# ---------------------------------------------------------------- release services


class Services:
    """The release gateways of one run, from the App's client factory: Lambda, alarms (made on first use),
    the object store of journals and locks (S3 with ``s3_bucket``, else ./.lamctl), the system clock, and
    :meth:`engine` to drive them."""

    def __init__(self, app: Any, hook_timeout: float = 3600.0, poll: float = 10.0, state_machines: bool = False):
        """``state_machines``: the releases are of state machine aliases (``lamctl shift --state-machine``): the
        gateway is Step Functions', the journals and locks are filed apart."""
        from lamctl.cli.aws import is_loopback
        from lamctl.release.aws import LambdaGateway, LocalObjectStore, S3ObjectStore
        from lamctl.release.clock import SystemClock
        from lamctl.release.journal import Journal
        from lamctl.release.lock import AliasLock

        self.app = app
        factory = app.aws()
        self.clock = SystemClock()
        self.lam = LambdaGateway(factory.client("lambda"), _LazyClient(
            lambda: factory.client("lambda", read_timeout=hook_timeout + 30, max_attempts=1)))
        endpoint = self.lam.client.meta.endpoint_url
        if is_loopback(endpoint):  # the local cloud, which records what CodeDeploy-style hooks report
            from lamctl.local.cloud.urls import hook_status_url

            self.lam.hook_reports_url = hook_status_url(endpoint)
        self._factory = factory
        self._alarms = None
        bucket = app.setting("s3_bucket")
        self.store = (S3ObjectStore(factory.client("s3"), bucket) if bucket
                      else LocalObjectStore(os.path.join(os.getcwd(), ".lamctl"), strip_prefix="lamctl/"))
        if state_machines:
            from lamctl.release.states import StateMachineStore, StatesGateway

            self.lam = StatesGateway(factory.client("stepfunctions"))
            self.store = StateMachineStore(self.store)
        self.journal = Journal(self.store)
        self.lock = AliasLock(self.store, self.clock)
        self.hook_timeout = hook_timeout
        self.poll = poll

    @property
    def alarms(self):
        if self._alarms is None:
            from lamctl.release.aws import AlarmGateway

            self._alarms = AlarmGateway(self._factory.client("cloudwatch"))
        return self._alarms

    def engine(self, view: Any):
        from lamctl.release.engine import Engine

        return Engine(self.lam, _LazyAlarms(self), self.store, self.clock,
                      on_event=view.on_event if view is not None else None, poll_seconds=self.poll,
                      tick_seconds=1.0 if (view is not None and view.live) else None,
                      hook_timeout=self.hook_timeout, fault=fault_from_env(), owner=self.lock.owner)

    def calls(self) -> dict:
        from lamctl.release.aws import total_calls

        return dict(sorted(total_calls(self.lam, self.store, *([self._alarms] if self._alarms else [])).items()))


class _LazyClient:
    """A client made on first use (hooks are rare; most releases never invoke one)."""

    def __init__(self, make):
        self._make = make
        self._client = None

    def __getattr__(self, name):
        if self._client is None:
            self._client = self._make()
        return getattr(self._client, name)


class _LazyAlarms:
    """The CloudWatch client is made only when an alarm is actually watched."""

    def __init__(self, svc: Services):
        self.svc = svc

    @property
    def calls(self):
        return self.svc.alarms.calls

    def states(self, names):
        return self.svc.alarms.states(names)


# ---------------------------------------------------------------- stacks


def resolve_stack(app, flag: str | None) -> str:
    stack = app.setting("stack", flag)
    if not stack:
        raise UsageError("no stack name given", hint='pass --stack NAME or set stack = "NAME" in lamctl.toml')
    import re

    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9-]{0,127}", str(stack)):
        raise UsageError(f"stack name {stack!r} is not valid",
                         hint="a stack name starts with a letter and holds up to 128 letters, digits and hyphens")
    return str(stack)


def is_emulator(app) -> bool:
    """True when CloudFormation is the local cloud's emulator, whose gaps deploy works around (it lists the
    resource types the emulator skips, deletes a half-created stack itself, explains missing outputs).

    That is the target being the local cloud (``--local`` / ``target = "local"``), or the CloudFormation
    endpoint being the one the running local cloud recorded (``lamctl local status``). Any other endpoint
    (a VPC endpoint, a proxy, a FIPS endpoint) is AWS: it gets AWS's behaviour, never the emulator's."""
    if app.target_local:
        return True
    from lamctl.cli.aws import is_loopback

    endpoint = app.aws().client("cloudformation").meta.endpoint_url
    if not is_loopback(endpoint):
        return False  # the local cloud listens on 127.0.0.1 only: no need to look for it
    from lamctl.local.cloud.lifecycle import status

    try:
        recorded = status().endpoint
    except LamctlError:  # its state folder cannot be read: no local cloud can be running from it
        return False
    return recorded is not None and _same_endpoint(endpoint, recorded)


def _same_endpoint(a: str, b: str) -> bool:
    """The same server: scheme and port equal, hosts equal or both loopback names."""
    from lamctl.cli.aws import is_loopback, url_parts

    sa, ha, pa = url_parts(a)
    sb, hb, pb = url_parts(b)
    return sa == sb and pa == pb and (ha == hb or (is_loopback(a) and is_loopback(b)))


def applications_lookup(app: App):
    """What turns a Serverless Application Repository ``Location`` into a template URL for the transform:
    SAR itself on AWS (waiting for the template on the system clock); on the local cloud, which has no SAR,
    a located error saying so (:mod:`lamctl.packager.sar`)."""
    from lamctl.packager.sar import ApplicationRepository, LocalCloudApplications

    if is_emulator(app):
        return LocalCloudApplications()

    def lookup(logical_id: str, application_id: str, semantic_version: str) -> str:  # a client only when needed
        repository = ApplicationRepository(app.aws().client("serverlessrepo"), system_clock())
        return repository(logical_id, application_id, semantic_version)

    return lookup


def system_clock():
    from lamctl.release.clock import SystemClock

    return SystemClock()



# ---------------------------------------------------------------- packaging


# The local cloud's artifact bucket: package and deploy upload there when the target is the local cloud and no
# bucket is set (it is created when missing).
LOCAL_BUCKET = "lamctl-local-artifacts"


def default_bucket(app: App, s3_bucket: Optional[str]) -> str | None:
    """flag > LAMCTL_S3_BUCKET > lamctl.toml > the local cloud's artifact bucket (on the local cloud only)."""
    bucket = app.setting("s3_bucket", s3_bucket)
    if not bucket and app.target_local:
        bucket = LOCAL_BUCKET
    return bucket


def resolve_bucket(app: App, s3_bucket: Optional[str], s3_prefix: Optional[str]) -> tuple[str, str | None]:
    """The bucket and prefix from flag > LAMCTL_S3_BUCKET > lamctl.toml (> the local cloud's artifact bucket);
    a clear error when there is none."""
    from lamctl.packager.upload import check_bucket_name

    bucket = check_bucket_name(default_bucket(app, s3_bucket))
    prefix = app.setting("s3_prefix", s3_prefix)
    return bucket, (prefix or None)


def run_package(app: App, template: Any, bucket: str, prefix: str | None = None, build_dir: str | None = None,
                build_result: Any = None, transform_nested: Any = None):
    """Build (unless ``build_result`` is given), upload, rewrite: a :class:`PackagedTemplate`.

    Progress and per-artifact events go to ``app.out``; on the local cloud the bucket is created when missing.
    Local nested templates are packaged too (``transform_nested``: see :func:`lamctl.packager.package.package`)."""
    from lamctl.packager.package import local_files, package

    files = local_files(template)  # a bad file path is reported before anything is built
    if build_result is None:
        from lamctl.packager.build import build_template

        build_result = build_template(template, build_dir, notify=app.out.info)
        for warning in build_result.warnings:
            app.out.warn(warning)
    artifacts = list(build_result.artifacts) + files
    clients = app.aws()
    s3 = clients.client("s3")
    if app.target_local:
        from lamctl.local.cloud.lifecycle import ensure_bucket

        if ensure_bucket(s3, bucket, clients.region):
            app.out.info(f"created the bucket {bucket} on the local cloud")
    from lamctl.cli.upload_notes import upload_options

    with UploadProgress(app, bucket) as progress:
        packaged = package(s3, template, artifacts, bucket, prefix, progress=progress, files=[],
                           build_dir=build_result.build_dir or build_dir, transform_nested=transform_nested,
                           notify=app.out.info, warn=app.out.warn, **upload_options(app, s3))
    upload_events(app, packaged, packaged.artifacts or artifacts)
    return packaged
