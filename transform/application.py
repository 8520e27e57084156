"""``AWS::Serverless::Application`` -> ``AWS::CloudFormation::Stack`` (a nested stack), as the reference does.

``Location`` is either

* a template URL (a string, usually ``https://s3.<region>.amazonaws.com/bucket/key``; a local file is
  replaced by that URL when ``lamctl package`` or ``lamctl deploy`` packages it, see
  :mod:`lamctl.packager.nested`): it becomes ``TemplateURL`` as it is;
* a Serverless Application Repository (SAR) application ``{ApplicationId, SemanticVersion}``: the
  reference asks SAR for a template URL (``CreateCloudFormationTemplate``). The transform itself makes
  no AWS call: the caller passes ``applications(logical_id, application_id, semantic_version) -> url``
  (:class:`lamctl.packager.sar.ApplicationRepository` on AWS); without one, such a Location is a located
  error. ``ApplicationId`` and ``SemanticVersion`` may be ``!Ref`` of a parameter or ``!FindInMap`` with
  plain keys (resolved before the lookup); the stack is tagged ``serverlessrepo:applicationId`` and
  ``serverlessrepo:semanticVersion`` with the resolved values.

``Parameters``, ``NotificationARNs``, ``Tags`` (after ``lambda:createdBy: SAM``) and
``TimeoutInMinutes`` pass through; ``Condition``, ``DeletionPolicy``, ``UpdateReplacePolicy`` and
``DependsOn`` too. ``!GetAtt App.Outputs.Name`` reads an output of the nested stack (the logical ID is
kept).
"""

from __future__ import annotations

import re
from typing import Any, Callable

from lamctl.schemas.errors import TemplateError

from .context import Context
from .function import resource, tag_list
from .intrinsics import find_in_map

APPLICATION_PROPERTIES = ("Location", "Parameters", "NotificationARNs", "Tags", "TimeoutInMinutes")
PASSTHROUGH = ("Condition", "DeletionPolicy", "UpdateReplacePolicy")
RESERVED_TAGS = ("lambda:createdBy", "serverlessrepo:applicationId", "serverlessrepo:semanticVersion")
_SSM = re.compile(r"{{resolve:ssm:[a-zA-Z0-9_.\-/]+(:\d+)?}}")

# (logical ID, application ID, semantic version) -> template URL
Applications = Callable[[str, str, str], str]


def transform_application(ctx: Context, lid: str, res: dict, applications: Applications | None = None,
                          cache: dict | None = None) -> None:
    keys = ("Resources", lid, "Properties")
    props = res.get("Properties") or {}
    for name in props:
        if name == "TemplateUrl":
            raise ctx.error(f"application {lid}: TemplateUrl is not a property to set; give the template's URL "
                            "as Location", keys + (name,), hint="Location: https://s3.<region>.amazonaws.com/"
                            "bucket/template.yaml (or a local file that lamctl package uploads)", key=True)
        if name not in APPLICATION_PROPERTIES:
            raise ctx.error(f"application {lid}: unknown property {name}", keys + (name,),
                            hint="allowed: " + ", ".join(APPLICATION_PROPERTIES), key=True)
    if "Location" not in props:
        raise ctx.error(f"application {lid}: Location is required", keys,
                        hint="Location: a template URL, a local template file, or "
                             "{ApplicationId: ..., SemanticVersion: ...} of the Serverless Application Repository")
    location = props["Location"]
    sar_tags: dict = {}
    if isinstance(location, dict):
        url, sar_tags = _sar_location(ctx, lid, location, applications, cache if cache is not None else {})
    elif isinstance(location, str):
        url = location
    else:
        raise ctx.error(f"application {lid}: Location must be a template URL or a mapping with ApplicationId and "
                        f"SemanticVersion (it is {type(location).__name__})", keys + ("Location",))
    _check_types(ctx, lid, props)
    tags = props.get("Tags") or {}
    for reserved in RESERVED_TAGS:
        if reserved in tags:
            raise ctx.error(f"application {lid}: {reserved} is a reserved tag key", keys + ("Tags", reserved),
                            hint="remove it; lamctl sets it itself", key=True)
    stack = {
        "TemplateURL": url,
        "Parameters": props.get("Parameters"),
        "NotificationARNs": props.get("NotificationARNs"),
        "Tags": [{"Key": "lambda:createdBy", "Value": "SAM"}] + tag_list(sar_tags) + tag_list(tags),
        "TimeoutInMinutes": props.get("TimeoutInMinutes"),
    }
    attrs = {k: res[k] for k in PASSTHROUGH if k in res}
    ctx.add(lid, resource("AWS::CloudFormation::Stack", stack, attrs, res.get("DependsOn")), ("Resources", lid))


def _check_types(ctx: Context, lid: str, props: dict) -> None:
    keys = ("Resources", lid, "Properties")
    for name, kind, what in (("Parameters", dict, "a mapping of the nested template's parameter names to values"),
                             ("Tags", dict, "a mapping of tag keys to values"),
                             ("NotificationARNs", list, "a list of SNS topic ARNs")):
        value = props.get(name)
        if value is not None and not isinstance(value, kind):
            raise ctx.error(f"application {lid}: {name} must be {what}", keys + (name,))
    for arn in props.get("NotificationARNs") or ():
        if not isinstance(arn, (str, dict)):
            raise ctx.error(f"application {lid}: NotificationARNs must list ARNs (strings or intrinsic functions)",
                            keys + ("NotificationARNs",))
    timeout = props.get("TimeoutInMinutes")
    if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, (int, dict))):
        raise ctx.error(f"application {lid}: TimeoutInMinutes must be a whole number of minutes",
                        keys + ("TimeoutInMinutes",))


def _sar_location(ctx: Context, lid: str, location: dict, applications: Applications | None,
                  cache: dict) -> tuple[str, dict]:
    keys = ("Resources", lid, "Properties", "Location")
    mappings = ctx.template.get("Mappings") if isinstance(ctx.template.get("Mappings"), dict) else {}
    resolved = {}
    for name in ("ApplicationId", "SemanticVersion"):
        if location.get(name) is None:
            raise ctx.error(f"application {lid}: Location.{name} is required (and may not be empty)", keys,
                            hint="a Serverless Application Repository application is "
                                 "{ApplicationId: arn:aws:serverlessrepo:...:applications/NAME, SemanticVersion: "
                                 "1.0.0}; a template URL is a string")
        value = find_in_map(ctx.resolve(location[name]), mappings)
        if isinstance(value, dict):
            raise ctx.error(f"application {lid}: Location.{name} cannot be resolved before deploying; only !Ref of "
                            "a parameter and !FindInMap are resolved", keys + (name,))
        if not isinstance(value, str) or not value:
            raise ctx.error(f"application {lid}: Location.{name} must be a string (it is "
                            f"{type(value).__name__})", keys + (name,),
                            hint="quote it in YAML, e.g. SemanticVersion: '1.0.0'")
        resolved[name] = value
    app_id, semver = resolved["ApplicationId"], resolved["SemanticVersion"]
    if _SSM.search(app_id):
        raise ctx.error(f"application {lid}: the Serverless Application Repository does not take a dynamic "
                        "reference ({{resolve:ssm:...}}) as ApplicationId", keys + ("ApplicationId",))
    if applications is None:
        raise ctx.error(f"application {lid}: Location names the Serverless Application Repository application "
                        f"{app_id} {semver}, and no lookup was given to turn it into a template URL", keys,
                        hint="lamctl deploy looks it up on AWS; the local cloud has no Serverless Application "
                             "Repository: give Location a template URL or a local template file instead")
    key = (app_id, semver)
    if key not in cache:
        try:
            cache[key] = applications(lid, app_id, semver)
        except TemplateError as exc:
            if not exc.where:
                exc.where = ctx.where(keys) or f"Resources.{lid}.Properties.Location"
            raise
    return cache[key], {"serverlessrepo:applicationId": app_id, "serverlessrepo:semanticVersion": semver}
