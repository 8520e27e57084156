"""``lamctl deploy --stack NAME``: build, package, transform, validate, change set, traffic.

Deploy = build + package + transform + validate + change set::

    template.yaml --build--> zips --package--> S3 + rewritten template --transform--> CloudFormation
        --validate--> --StackDeployer--> change set (shown, confirmed) --> execute --> events --> outputs

The work is done by ``lamctl.packager`` and ``lamctl.release.stacks``; this
module resolves settings, renders, asks, and maps results to exit codes.
"""

from __future__ import annotations

import functools
import json
import os
from typing import List, Optional

import typer

from lamctl.cli.application import get_app
from lamctl.cli.views import StackListener, ask, can_prompt, run_release
from lamctl.cli.wiring import (Services, applications_lookup, default_bucket, is_emulator, resolve_stack, run_package,
                               system_clock)
from lamctl.schemas.errors import CloudError, LamctlError, UsageError


def deploy_command(
    ctx: typer.Context,
    stack: Optional[str] = typer.Option(None, "--stack", help="Stack name (else stack in lamctl.toml)."),
    template: Optional[str] = typer.Option(None, "-t", "--template", help="Template (default: template.yaml)."),
    build_dir: Optional[str] = typer.Option(None, "--build-dir", help="Build folder (default: .lamctl/build)."),
    s3_bucket: Optional[str] = typer.Option(None, "--s3-bucket", help="Bucket for code and large templates."),
    s3_prefix: Optional[str] = typer.Option(None, "--s3-prefix", help="Key prefix in the bucket."),
    parameter_overrides: Optional[List[str]] = typer.Option(
        None, "--parameter-overrides",
        help="K=V, ParameterKey=K,ParameterValue=V or file://params.json|yaml; repeatable, space-separated."),
    tags: Optional[List[str]] = typer.Option(None, "--tags", help="Stack tags K=V (repeatable)."),
    capabilities: Optional[List[str]] = typer.Option(
        None, "--capabilities", help="CAPABILITY_IAM, CAPABILITY_NAMED_IAM, CAPABILITY_AUTO_EXPAND (default: inferred)."),
    no_execute: bool = typer.Option(False, "--no-execute", help="Create the change set and stop (for review)."),
    execute: Optional[str] = typer.Option(None, "--execute", metavar="CHANGE_SET",
                                          help="Execute a change set made with --no-execute (its ARN, or its name "
                                               "with --stack), follow it and print the outputs."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask; also recreate a ROLLBACK_COMPLETE stack."),
    fail_on_empty: Optional[bool] = typer.Option(None, "--fail-on-empty", help="Exit 1 when there is nothing to change."),
    on_failure: Optional[str] = typer.Option(None, "--on-failure", metavar="[ROLLBACK|DELETE|DO_NOTHING]",
                                             help="ROLLBACK (default), DELETE or DO_NOTHING."),
    wait_timeout: Optional[int] = typer.Option(None, "--wait-timeout", help="Minutes to follow the stack (default 60)."),
) -> None:
    """Build, package, transform and deploy a stack through a CloudFormation change set."""
    from lamctl.release.stack_params import (overrides_from_config, parse_capabilities, parse_overrides,
                                             parse_tags)
    from lamctl.release.aws import S3TemplateStore
    from lamctl.release.stacks import DeployRequest, StackDeployer, StackGateway
    from lamctl.schemas.template import find_template

    app = get_app(ctx)
    out = app.out
    if execute is not None:
        if no_execute:
            raise UsageError("--execute and --no-execute contradict each other",
                             hint="create a change set with --no-execute, then execute it with --execute")
        _execute_change_set(app, execute, stack, wait_timeout)
        return
    stack_name = resolve_stack(app, stack)
    template_path = find_template(app.setting("template", template))
    settings = app.settings

    on_failure_value = str(app.setting("on_failure", on_failure, "ROLLBACK")).upper()
    if on_failure_value not in ("ROLLBACK", "DELETE", "DO_NOTHING"):
        raise UsageError(f"--on-failure {on_failure_value!r} is not valid", hint="use ROLLBACK, DELETE or DO_NOTHING")
    timeout_minutes = app.setting("wait_timeout", wait_timeout, 60, int)
    if not isinstance(timeout_minutes, int) or timeout_minutes < 1:
        raise UsageError(f"--wait-timeout {timeout_minutes!r} is not valid", hint="give whole minutes, at least 1")
    fail_empty = bool(app.setting("fail_on_empty", fail_on_empty, False, bool))

    # Parameters: lamctl.toml first, then the flag (per key, the flag wins).
    overrides = []
    if "parameter_overrides" in settings.config.values:
        overrides += overrides_from_config(settings.config.values["parameter_overrides"],
                                           settings.config.where("parameter_overrides") or "lamctl.toml")
    env_overrides = os.environ.get("LAMCTL_PARAMETER_OVERRIDES")
    if env_overrides:
        overrides += parse_overrides([env_overrides], "LAMCTL_PARAMETER_OVERRIDES")
    overrides += parse_overrides(parameter_overrides or [])

    tag_source = tags or settings.get("tags", None, None, list)
    tag_where = "--tags" if tags else (settings.source("tags") or "lamctl.toml")
    tag_values = parse_tags(tag_source, tag_where)
    caps_source = capabilities or settings.get("capabilities", None, None, list)
    caps = parse_capabilities(caps_source, "--capabilities" if capabilities else settings.source("capabilities")) \
        if caps_source else None

    bucket = default_bucket(app, s3_bucket)  # on the local cloud: its artifact bucket, created when missing
    if bucket:
        from lamctl.packager.upload import check_bucket_name

        bucket = check_bucket_name(bucket)
    prefix = app.setting("s3_prefix", s3_prefix)
    data, body, bucket = _prepare(app, template_path, app.setting("build_dir", build_dir), bucket, prefix, overrides)

    aws = app.aws()
    gateway = StackGateway(aws.client("cloudformation"))
    listener = StackListener(app, yes)
    deployer = StackDeployer(gateway, system_clock(), listener, emulator=is_emulator(app),
                             wait_timeout=timeout_minutes * 60.0)

    existing = deployer.settle(stack_name)
    recreate = yes
    if existing is not None and existing.status == "ROLLBACK_COMPLETE" and not yes and can_prompt(app):
        out.warn(f"stack {stack_name} is in ROLLBACK_COMPLETE: its first creation failed and it cannot be updated")
        recreate = ask(f"Delete stack {stack_name} and create it again?")
    request = DeployRequest(
        stack=stack_name, template=data, template_body=body, parameters=tuple(overrides), tags=tag_values,
        capabilities=caps, on_failure=on_failure_value, s3_bucket=bucket, s3_prefix=prefix,
        region=aws.region, recreate=recreate)
    plan = deployer.plan(request, existing)
    if plan.upload is not None:  # the template is too large to pass inline
        s3 = aws.client("s3")
        if app.target_local:
            from lamctl.local.cloud.lifecycle import ensure_bucket

            ensure_bucket(s3, plan.upload.bucket, aws.region)
        deployer.store = S3TemplateStore(s3)
    @functools.cache
    def physical() -> dict:  # the stack's logical -> physical IDs, listed once after the stack operation
        return {r.logical_id: r.physical_id for r in gateway.resources(stack_name)}

    shift_traffic = None
    if deployer.emulator and not no_execute:
        # The local cloud has no CodeDeploy: lamctl shifts the aliases a DeploymentPreference governs once the
        # stack is up. What to do is read now, so that a config it cannot follow stops the deploy before it starts.
        from lamctl.release.preferences import alias_shifts, state_machine_shifts

        params = {o.key: o.value for o in overrides}
        shifts = alias_shifts(data, params, where=template_path)
        machine_shifts = state_machine_shifts(data, params, where=template_path)
        if shifts or machine_shifts:
            def shift_traffic() -> list[dict]:
                return _shift_traffic(app, physical(), stack_name, data, shifts, params, machine_shifts)
    api_urls = None
    from lamctl.local.cloud.routes import STAGE_TYPES, URL_TYPE, stack_api_urls, stack_function_urls

    if deployer.emulator and any(isinstance(r, dict) and (r.get("Type") in STAGE_TYPES or r.get("Type") == URL_TYPE)
                                 for r in (data.get("Resources") or {}).values()):
        def api_urls() -> list[dict]:
            ids = physical()
            return (stack_api_urls(gateway.client.meta.endpoint_url, data, ids)
                    + stack_function_urls(data, ids, lambda arn: _function_url(app, arn)))
    result = deployer.deploy(plan, execute=not no_execute, fail_on_empty=fail_empty)
    if deployer.emulator:
        _note_idle_mappings(app, result, data)
    _report_deploy(app, plan, result, deployer.emulator, shift_traffic, api_urls)


def _note_idle_mappings(app, result, template: dict) -> None:
    """On the local cloud, once a stack operation went through: say which event source mappings of ``template``
    were created disabled (Amazon MQ, MSK, self-managed Kafka), for ``deploy`` and ``deploy --execute`` alike."""
    if not result.ok or result.status in ("NO_CHANGES", "CHANGE_SET_CREATED", "CANCELLED"):
        return
    from lamctl.local.cloud.models import idle_mappings

    idle = idle_mappings(template)
    if idle:
        app.out.warn("event source mappings created disabled on the local cloud (these sources do not deliver "
                     "locally): " + ", ".join(f"{lid} ({source})" for lid, source in idle))



def _execute_change_set(app, change_set: str, stack: Optional[str], wait_timeout: Optional[int]) -> None:
    """``deploy --execute CHANGE_SET``: execute a change set made earlier, follow the stack, print the outputs."""
    from lamctl.release.stacks import StackDeployer, StackGateway

    timeout_minutes = app.setting("wait_timeout", wait_timeout, 60, int)
    if not isinstance(timeout_minutes, int) or timeout_minutes < 1:
        raise UsageError(f"--wait-timeout {timeout_minutes!r} is not valid", hint="give whole minutes, at least 1")
    stack_name = None if change_set.startswith("arn:") and not (stack or app.setting("stack")) \
        else resolve_stack(app, stack)
    gateway = StackGateway(app.aws().client("cloudformation"))
    deployer = StackDeployer(gateway, system_clock(), StackListener(app, True), emulator=is_emulator(app),
                             wait_timeout=timeout_minutes * 60.0)
    cs, plan, data = deployer.plan_execute(change_set, stack_name)
    deployer.listener.change_set(cs, plan)
    shift_traffic = api_urls = None
    if deployer.emulator:
        # As deploy does on the local cloud: the aliases a DeploymentPreference governs are shifted afterwards
        # (with the parameter values the stack was given) and each API route's URL is printed, from the template
        # the stack has once the change set is executed (the emulator answers a change set's template with the
        # stack's template of before, or nothing).
        from lamctl.local.cloud.routes import stack_api_urls
        from lamctl.release.preferences import alias_shifts, state_machine_shifts
        from lamctl.schemas.template import parse_text

        @functools.cache
        def deployed() -> tuple[dict, dict]:  # (template, logical -> physical IDs), read once after the execution
            body = gateway.template_body(plan.stack) or ""
            template = parse_text(body, f"template of stack {plan.stack}") if body else data
            physical = {r.logical_id: r.physical_id for r in gateway.resources(plan.stack)}
            return (template if isinstance(template, dict) else {}), physical

        def shift_traffic() -> list[dict]:
            template, physical = deployed()
            info = gateway.describe(plan.stack)
            params = dict(info.parameters) if info is not None else {}
            shifts = alias_shifts(template, params, where=f"change set {cs.name}")
            machine_shifts = state_machine_shifts(template, params, where=f"change set {cs.name}")
            return (_shift_traffic(app, physical, plan.stack, template, shifts, params, machine_shifts)
                    if shifts or machine_shifts else [])

        def api_urls() -> list[dict]:
            template, physical = deployed()
            return stack_api_urls(gateway.client.meta.endpoint_url, template, physical)
    result = deployer.execute(cs, plan)
    if deployer.emulator:
        _note_idle_mappings(app, result, deployed()[0])
    _report_deploy(app, plan, result, deployer.emulator, shift_traffic, api_urls)


# --------------------------------------------------------------------------- the pipeline


def _prepare(app, template_path: str, build_dir: str | None, bucket: str | None, prefix: str | None,
             overrides: list) -> tuple[dict, str, str | None]:
    """Build, package, transform and validate: (CloudFormation dict, its body, the bucket used)."""
    from lamctl.packager.artifacts import needs_build
    from lamctl.release.stack_params import check_parameter_names
    from lamctl.schemas.template import Template, load_template, plain

    out = app.out
    template = load_template(template_path)
    _validate(app, template)
    check_parameter_names(template.data, overrides, template.where)  # a typo is reported before anything is built
    data: dict = template.data
    where = template.where
    if needs_build(template):
        if not bucket:
            raise UsageError("deploy uploads code to S3, and no bucket is set",
                             hint="pass --s3-bucket BUCKET or set s3_bucket in lamctl.toml "
                                  "(or deploy to the local cloud with --local)")
        build_dir = build_dir or os.path.join(template.folder, ".lamctl", "build")
        out.event("progress", f"building and packaging {os.path.basename(template_path)} to s3://{bucket}/"
                  f"{(prefix or '').strip('/')}", message="package", phase="package", bucket=bucket, prefix=prefix)
        packaged = run_package(app, template, bucket, prefix, build_dir,
                               transform_nested=functools.partial(_transform_nested, app))
        data = packaged.data
        # the packaged text keeps the source's layout (only code locations change): its positions
        # point at the right lines of the source template
        where = Template(path=template_path, data=packaged.data).where
    from lamctl.schemas.sam import TRANSFORM, transforms_of

    if TRANSFORM in transforms_of(data):
        from lamctl.transform import transform

        params = {o.key: o.value for o in overrides}
        out.event("progress", "transforming SAM resources to CloudFormation", message="transform", phase="transform")
        data = transform(plain(data), region=app.aws().region, parameters=params, where=where,
                         applications=applications_lookup(app))
    else:
        data = plain(data)
    from lamctl.release.stacks import long_form_get_att

    data = long_form_get_att(data)
    body = json.dumps(data, separators=(",", ":"), default=str)
    return data, body, bucket


def _transform_nested(app, nested, packaged) -> dict:
    """A nested template as deploy uploads it: checked as the parent is, then transformed locally (its
    parameter values are the parent's to give at deploy time: its defaults fill them here)."""
    from lamctl.schemas.sam import TRANSFORM, transforms_of
    from lamctl.schemas.template import Template, plain

    _validate(app, nested)
    if TRANSFORM not in transforms_of(packaged.data):
        return plain(packaged.data)
    from lamctl.transform import transform

    where = Template(path=nested.path, data=packaged.data).where  # the packaged text keeps the source's lines
    return transform(plain(packaged.data), region=app.aws().region, where=where,
                     applications=applications_lookup(app))


def _validate(app, template) -> None:
    """lamctl validate's checks on the source template; an error stops the deploy before anything is built
    or uploaded (exit 2), warnings are shown."""
    from lamctl.packager.validate import raise_for_findings, validate_template
    from lamctl.schemas.validate import ERROR

    findings = validate_template(template)
    for f in findings:
        if f.severity != ERROR:
            app.out.warn(str(f))
    raise_for_findings(findings)


def _shift_traffic(app, physical: dict, stack: str, data: dict, shifts: list, params: dict,
                   machine_shifts: list = ()) -> list[dict]:
    """On the local cloud: shift each alias with a DeploymentPreference to the version the stack published, as
    CodeDeploy would on AWS (:class:`lamctl.release.traffic.StackTraffic`), each release in its live view; then
    the state machine aliases with a gradual DeploymentPreference, as Step Functions would."""
    records = _stack_traffic(app, Services(app), physical, stack, data, shifts, params) if shifts else []
    if machine_shifts:
        from lamctl.release.preferences import resolve_state_machine

        records += _stack_traffic(app, Services(app, state_machines=True), physical, stack, data,
                                  list(machine_shifts), params, resolver=resolve_state_machine,
                                  flag="--state-machine")
    return records


def _stack_traffic(app, svc, physical: dict, stack: str, data: dict, shifts: list, params: dict,
                   **options) -> list[dict]:
    from lamctl.release.traffic import StackTraffic

    out = app.out

    def on_event(ev) -> None:
        if ev.type == "warning":
            out.warn(ev.message)
        else:
            out.event("progress", ev.message, message="traffic", phase="traffic", **ev.data)

    traffic = StackTraffic(svc.lam, lambda: svc.engine(None), on_event,
                           run=lambda plan, info, label: run_release(app, svc, plan, info, label=label), **options)
    return traffic.shift(stack, data, physical, shifts, params)


def _function_url(app, function_arn: str) -> str | None:
    """The URL of a function (GetFunctionUrlConfig), None when it has none."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return app.aws().client("lambda").get_function_url_config(FunctionName=function_arn)["FunctionUrl"]
    except (BotoCoreError, ClientError):
        return None


def _show_apis(out, plan, api_urls) -> list[dict]:
    apis = api_urls() if api_urls is not None else []
    if apis:
        # one row per route the template defines (a stage without readable routes: its root)
        rows = [row for a in apis for row in ([(a["api"], a["stage"], r["method"], r["url"]) for r in a["routes"]]
                                              or [(a["api"], a["stage"], "", a["url"])])]
        out.table(["API", "Stage", "Method", "URL"], rows,
                  title=f"APIs and function URLs of {plan.stack} on the local cloud",
                  type_="api", records=apis)
    return apis


def _report_deploy(app, plan, result, emulator: bool, shift_traffic=None, api_urls=None) -> None:
    out = app.out
    cs = result.change_set
    if result.status == "NO_CHANGES":
        message = f"No changes: stack {plan.stack} is up to date"
        if not result.ok:
            raise LamctlError(message + " (--fail-on-empty)", hint="drop --fail-on-empty to treat this as success")
        traffic = shift_traffic() if shift_traffic is not None else []
        apis = _show_apis(out, plan, api_urls)
        message += "".join(f"; {t['function']}:{t['alias']} shifted to version {t['target']}"
                           for t in traffic if t["state"] == "succeeded")
        out.result(True, message, stack=plan.stack, status="NO_CHANGES", changes=0, traffic=traffic, apis=apis)
        out.summary(f"### lamctl deploy: {plan.stack}\n\nNo changes.")
        return
    if result.status == "CHANGE_SET_CREATED":
        assert cs is not None
        out.result(True, f"Change set {cs.name} created for stack {plan.stack}, not executed:\n{cs.arn}\n"
                   f"execute it: {_execute_command(app, cs.arn)}",
                   stack=plan.stack, status="CHANGE_SET_CREATED", change_set=cs.name, arn=cs.arn,
                   changes=len(cs.changes))
        _summary(out, plan, cs, "change set created, not executed")
        return
    if result.status == "CANCELLED":
        out.result(True, f"Not deployed: the change set for stack {plan.stack} was deleted",
                   stack=plan.stack, status="CANCELLED")
        return
    for note in result.notes:
        out.warn(note)
    if not result.ok:
        f = result.failure
        if f is not None:
            if f.is_stack:
                message = f"deploy of stack {plan.stack} failed ({result.status}): {f.reason or f.status}"
            else:
                kind = f" ({f.resource_type})" if f.resource_type else ""
                message = (f"deploy of stack {plan.stack} failed ({result.status}): {f.logical_id}{kind} "
                           f"{f.status}: {f.reason or 'no reason given'}")
        else:
            message = f"deploy of stack {plan.stack} failed ({result.status})"
        if result.status == "ROLLBACK_COMPLETE":
            hint = ("fix the cause, then deploy again with --yes (a stack whose creation failed must be deleted "
                    "and created again)")
        elif any("deleted the half-created stack" in n for n in result.notes):
            hint = "fix the cause and deploy again"
        else:
            hint = f"fix the cause and deploy again; see the events with lamctl status --stack {plan.stack}"
        _summary(out, plan, cs, f"failed: {result.status}")
        raise CloudError(message, where=f.logical_id if f is not None and not f.is_stack else plan.stack, hint=hint)

    traffic = shift_traffic() if shift_traffic is not None else []
    apis = _show_apis(out, plan, api_urls)
    from lamctl.release.stacks import PLACEHOLDER_MARK

    placeholder_outputs = [o.key for o in result.outputs if emulator and PLACEHOLDER_MARK in str(o.value)]
    if result.outputs:
        out.table(["Key", "Value", "Description"],
                  [(o.key, o.value, ("(placeholder) " if o.key in placeholder_outputs else "") + (o.description or ""))
                   for o in result.outputs],
                  title=f"Outputs of {plan.stack}", type_="output",
                  records=[{"key": o.key, "value": o.value, "description": o.description,
                            "export_name": o.export_name, "placeholder": o.key in placeholder_outputs}
                           for o in result.outputs])
    if result.outputs_unavailable:
        out.warn("outputs unavailable: " + ", ".join(result.outputs_unavailable)
                 + (" (the local cloud could not work them out: they name a resource it does not create, or an "
                    "attribute it does not know; its log says which)"
                    if emulator else " (not reported by CloudFormation; a false Condition?)"))
    absent = [(lid, typ) for lid, typ in result.skipped if lid not in result.placeholders]
    standing_in = [(lid, typ) for lid, typ in result.skipped if lid in result.placeholders]
    if absent:
        out.warn("skipped by the local cloud (it does not create these types; they are not deployed): "
                 + ", ".join(f"{lid} ({typ})" for lid, typ in absent))
    if standing_in:
        out.warn("placeholders on the local cloud (it does not create these types; their Ref and GetAtt give "
                 "placeholder values marked " + PLACEHOLDER_MARK + "): "
                 + ", ".join(f"{lid} ({typ})" for lid, typ in standing_in)
                 + (f"; outputs with placeholder values: {', '.join(placeholder_outputs)}" if placeholder_outputs
                    else ""))
    changes = len(cs.changes) if cs else 0
    shifted = "".join(f"; {t['function']}:{t['alias']} shifted to version {t['target']}"
                      for t in traffic if t["state"] == "succeeded")
    out.result(True, f"Stack {plan.stack}: {result.status} ({changes} change(s)){shifted}", stack=plan.stack,
               status=result.status, stack_id=result.stack_id, change_set=cs.name if cs else None,
               arn=cs.arn if cs else None, changes=changes,
               outputs={o.key: o.value for o in result.outputs},
               outputs_unavailable=list(result.outputs_unavailable),
               skipped=[{"logical_id": lid, "resource_type": typ} for lid, typ in result.skipped],
               placeholders=list(result.placeholders), placeholder_outputs=placeholder_outputs, traffic=traffic,
               apis=apis)
    _summary(out, plan, cs, result.status, result)


def _execute_command(app, arn: str) -> str:
    """The command that executes a change set made with --no-execute, against the same cloud."""
    words = ["lamctl"]
    if app.opts.local:
        words.append("--local")
    if app.opts.endpoint_url:
        words += ["--endpoint-url", app.opts.endpoint_url]
    if app.opts.region:
        words += ["--region", app.opts.region]
    if app.opts.profile and not app.target_local:
        words += ["--profile", app.opts.profile]
    if app.opts.env:
        words += ["--env", app.opts.env]
    if app.opts.config:
        words += ["--config", app.opts.config]
    import shlex

    return " ".join(shlex.quote(w) for w in words + ["deploy", "--execute", arn])


def _summary(out, plan, cs, status: str, result=None) -> None:
    from lamctl.cli.render import markdown_table

    text = f"### lamctl deploy: {plan.stack}\n\n{status}\n"
    if cs is not None and cs.changes:
        text += "\n" + markdown_table(["Action", "Logical ID", "Type", "Replacement"],
                                      [(c.action, c.logical_id, c.resource_type, c.replacement or "")
                                       for c in cs.changes])
    if result is not None and (result.outputs or result.outputs_unavailable):
        rows = [(o.key, o.value) for o in result.outputs]
        rows += [(k, "(unavailable)") for k in result.outputs_unavailable]
        text += "\n\n**Outputs**\n\n" + markdown_table(["Key", "Value"], rows)
    out.summary(text)
