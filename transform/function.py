"""``AWS::Serverless::Function`` -> Lambda function, role, version, alias, URL, invoke config,
CodeDeploy wiring and the resources of its events (API events are handed on, see context.py)."""

from __future__ import annotations

import copy
import re
from typing import Any

from . import events as ev
from .context import ApiEvent, Context, logical_id_hash
from .intrinsics import find_in_map, is_if, is_intrinsic, is_no_value, logical_id_of, resolve_parameter_refs
from .policies import NotAPolicy, PolicyError, add_role_policies, aws_policy, expand_templates

PROPERTIES = {
    "FunctionName", "Handler", "Runtime", "CodeUri", "ImageUri", "PackageType", "InlineCode", "DeadLetterQueue",
    "Description", "MemorySize", "Timeout", "VpcConfig", "Role", "AssumeRolePolicyDocument", "Policies", "RolePath",
    "PermissionsBoundary", "Environment", "Events", "Tags", "PropagateTags", "Tracing", "KmsKeyArn",
    "DeploymentPreference", "ReservedConcurrentExecutions", "Layers", "EventInvokeConfig", "EphemeralStorage",
    "AutoPublishAlias", "AutoPublishCodeSha256", "AutoPublishAliasAllProperties", "VersionDescription",
    "ProvisionedConcurrencyConfig", "FileSystemConfigs", "ImageConfig", "CodeSigningConfigArn", "Architectures",
    "SnapStart", "FunctionUrlConfig", "RuntimeManagementConfig", "LoggingConfig", "RecursiveLoop", "SourceKMSKeyArn",
    "CapacityProviderConfig", "FunctionScalingConfig", "VersionDeletionPolicy", "PublishToLatestPublished",
    "TenancyConfig", "DurableConfig",
}
# Passed to AWS::Lambda::Function under the same name, in this order.
_PASS = ["Handler", "Runtime", "Description", "MemorySize", "Timeout", "VpcConfig", "Role", "Environment",
         "KmsKeyArn", "ReservedConcurrentExecutions", "Layers", "FileSystemConfigs", "ImageConfig", "PackageType",
         "Architectures", "SnapStart", "EphemeralStorage", "CodeSigningConfigArn", "RuntimeManagementConfig",
         "LoggingConfig", "TenancyConfig", "RecursiveLoop", "DurableConfig", "FunctionScalingConfig"]
RESOURCE_ATTRIBUTES = ("DeletionPolicy", "UpdatePolicy", "Condition", "UpdateReplacePolicy", "Metadata")
PASSTHROUGH = ("Condition", "DeletionPolicy", "UpdateReplacePolicy")
_ALIAS = re.compile(r"(?!^[0-9]+$)([a-zA-Z0-9\-_]+)$")
_TYPES = {"FunctionName": (str, dict), "DeadLetterQueue": dict, "Role": (str, dict),
          "AssumeRolePolicyDocument": dict, "Policies": (str, dict, list), "PermissionsBoundary": (str, dict),
          "Environment": dict, "Events": dict, "Tags": dict, "PropagateTags": bool, "Tracing": (dict, str),
          "DeploymentPreference": dict, "Layers": list, "EventInvokeConfig": dict, "AutoPublishAlias": (str, dict),
          "AutoPublishCodeSha256": (str, dict), "AutoPublishAliasAllProperties": bool, "SnapStart": dict,
          "FunctionUrlConfig": dict}
_TYPE_NAMES = {str: "a string", dict: "a mapping", list: "a list", bool: "true or false"}


def resource(type_: str, props: dict, attrs: dict | None = None, depends_on: Any = None) -> dict:
    out: dict = {"Type": type_}
    if depends_on:
        out["DependsOn"] = depends_on
    if attrs:
        out.update(attrs)
    out["Properties"] = {k: v for k, v in props.items() if v is not None}
    return out


def tag_list(tags: dict | None) -> list:
    return [{"Key": k, "Value": v if v is not None else ""} for k, v in (tags or {}).items()]


class Function:
    """One serverless function being translated."""

    def __init__(self, ctx: Context, lid: str, res: dict):
        self.ctx = ctx
        self.lid = lid
        self.res = res
        self.keys = ("Resources", lid)
        props = res.get("Properties")
        if props is None:
            props = {}
        if not isinstance(props, dict):
            raise ctx.error(f"function {lid}: Properties must be a mapping", self.keys + ("Properties",))
        for name, value in props.items():
            if name not in PROPERTIES:
                raise ctx.error(f"function {lid}: unknown property {name}", self.pkeys(name),
                                hint=_suggest(name, PROPERTIES), key=True)
            want = _TYPES.get(name)
            if want is not None and value is not None and not isinstance(value, want):
                if not (isinstance(value, dict) and is_intrinsic(value)
                        and name not in ("Events", "Tags", "AutoPublishAliasAllProperties")):
                    wants = want if isinstance(want, tuple) else (want,)
                    raise ctx.error(f"function {lid}: {name} must be "
                                    + " or ".join(_TYPE_NAMES[w] for w in wants), self.pkeys(name))
        self.p = props
        self.attrs = {k: res[k] for k in RESOURCE_ATTRIBUTES if k in res}
        self.passthrough = {k: res[k] for k in PASSTHROUGH if k in res}
        self.out: list[tuple[str, dict]] = []  # generated resources, in order
        self.role: dict | None = None  # the generated role's Properties (events may add to it)

    def pkeys(self, *more) -> tuple:
        """Key path of a property for error locations: the resource's own, else where Globals set it."""
        if more:
            src = self.ctx.template.get("Resources", {}).get(self.lid, {})
            own = src.get("Properties") if isinstance(src, dict) else None
            if not (isinstance(own, dict) and more[0] in own):
                section = self.ctx.globals.sections.get("Function", {}) if self.ctx.globals else {}
                if more[0] in section:
                    return ("Globals", "Function") + more
        return self.keys + ("Properties",) + more

    def error(self, message: str, *more, hint: str | None = None):
        return self.ctx.error(f"function {self.lid}: {message}", self.pkeys(*more) if more else self.keys, hint)

    def add(self, lid: str, res: dict) -> dict:
        self.out.append((lid, res))
        return res

    # ------------------------------------------------------------------------------------------
    def translate(self, api_events: list[ApiEvent]) -> None:
        ctx, p = self.ctx, self.p
        if p.get("DeadLetterQueue"):
            self._check_dlq(p["DeadLetterQueue"])
        if p.get("TenancyConfig"):
            self._check_tenancy()
        fn_props = self._function_properties()
        fn = self.add(self.lid, resource("AWS::Lambda::Function", {}, self.attrs, self.res.get("DependsOn")))
        fn["Properties"] = fn_props
        if p.get("ProvisionedConcurrencyConfig") and not p.get("AutoPublishAlias"):
            raise self.error("ProvisionedConcurrencyConfig needs AutoPublishAlias", "ProvisionedConcurrencyConfig",
                             hint="add AutoPublishAlias: live (provisioned concurrency applies to an alias)")
        if p.get("VersionDeletionPolicy") is not None and not p.get("AutoPublishAlias"):
            raise self.error("VersionDeletionPolicy needs AutoPublishAlias", "VersionDeletionPolicy")

        alias_id = None
        alias_name = ""
        alias = None
        if p.get("AutoPublishAlias"):
            alias_name = ctx.resolve(p["AutoPublishAlias"])
            if not isinstance(alias_name, str):
                raise self.error("AutoPublishAlias must be a string or a Ref to a template parameter",
                                 "AutoPublishAlias")
            sha = None
            if p.get("AutoPublishCodeSha256"):
                sha = ctx.resolve(p["AutoPublishCodeSha256"])
                if not isinstance(sha, str):
                    raise self.error("AutoPublishCodeSha256 must be a string", "AutoPublishCodeSha256")
                description = ctx.resolve(p.get("Description"))
                if not description or isinstance(description, str):
                    fn_props["Description"] = f"{description} {sha}" if description else sha
                else:
                    fn_props["Description"] = {"Fn::Join": [" ", [description, sha]]}
            version_id = self._version(fn_props, sha)
            alias_id, alias = self._alias(alias_name, version_id)
        target = {"Ref": alias_id} if alias_id else {"Fn::GetAtt": [self.lid, "Arn"]}
        name_ref = {"Ref": alias_id} if alias_id else {"Ref": self.lid}

        if p.get("FunctionUrlConfig"):
            self._url(p["FunctionUrlConfig"], alias_id)
        self._deployment_preference(alias)
        invoke_policies: list = []
        if p.get("EventInvokeConfig"):
            invoke_policies = self._event_invoke_config(alias_name, alias_id)

        role_id, role = self._role(invoke_policies)
        user_role = fn_props.get("Role")
        if user_role is None:
            fn_props["Role"] = {"Fn::GetAtt": [role_id, "Arn"]}
            self.add(role_id, role)
        elif is_if(user_role):
            self._conditional_role(fn_props, role_id, role)
        self.role = role["Properties"]

        # events, in the reference's order (by Path, else name)
        events = p.get("Events") or {}
        def order(item):
            name, e = item
            if not isinstance(e, dict):
                return name
            props = e.get("Properties", {})
            return props.get("Path", name) if isinstance(props, dict) else name
        fn_info = ev.FunctionInfo(self.lid, target, name_ref, self.passthrough, self.role, alias_id)
        for name, event in sorted(events.items(), key=lambda kv: _sortable(order(kv))):
            keys = self.pkeys("Events", name)
            if not isinstance(event, dict):
                raise ctx.error(f"function {self.lid}: event {name} must be a mapping with Type and Properties", keys)
            etype = event.get("Type")
            if not isinstance(etype, str):
                raise ctx.error(f"function {self.lid}: event {name} needs a Type (Schedule, SQS, Api, ...)",
                                keys + ("Type",))
            eprops = event.get("Properties", {})
            if eprops is None:
                eprops = {}
            if not isinstance(eprops, dict):
                raise ctx.error(f"function {self.lid}: event {name}: Properties must be a mapping",
                                keys + ("Properties",))
            if etype in ("Api", "HttpApi"):
                api_events.append(ApiEvent(
                    function_id=self.lid, name=name, type=etype, properties=copy.deepcopy(eprops),
                    function_arn=copy.deepcopy(target), condition=self.passthrough.get("Condition"),
                    attributes=dict(self.passthrough), function_name=copy.deepcopy(p.get("FunctionName")),
                    keys=keys, function_ref=copy.deepcopy(name_ref)))
                continue
            handler = ev.HANDLERS.get(etype)
            if handler is None:
                raise ctx.error(
                    f"function {self.lid}: event {name} has unknown type {etype!r}", keys + ("Type",),
                    hint="lamctl knows " + ", ".join(sorted(list(ev.HANDLERS) + ["Api", "HttpApi"])))
            for rid, r in handler(ctx, fn_info, name, eprops, keys):
                self.add(rid, r)

        if p.get("PropagateTags") and p.get("Tags"):
            for _, r in self.out:
                if r["Type"] in ev.TAGGABLE:
                    r["Properties"]["Tags"] = tag_list(p["Tags"])
        for rid, r in self.out:
            if isinstance(r, ev.Replace):
                ctx.resources[rid] = dict(r)
            else:
                ctx.add(rid, r, self.keys)
        if alias_id:
            ctx.refer(self.lid, "Alias", alias_id)
            ctx.refer(self.lid, "Version", self._version_id)
        for rid, r in self.out:
            if r["Type"] == "AWS::SNS::Topic" and rid.startswith(self.lid + "EventInvokeConfig"):
                ctx.refer(self.lid, "DestinationTopic", rid)
            if r["Type"] == "AWS::SQS::Queue":
                ctx.refer(self.lid, "DestinationQueue", rid)

    # ------------------------------------------------------------------------------------------
    def _check_dlq(self, dlq: dict) -> None:
        if not dlq.get("Type") or not dlq.get("TargetArn"):
            raise self.error("DeadLetterQueue needs Type and TargetArn", "DeadLetterQueue")
        if dlq["Type"] not in ("SQS", "SNS"):
            raise self.error(f"DeadLetterQueue Type must be SQS or SNS, not {dlq['Type']!r}", "DeadLetterQueue", "Type")

    def _check_tenancy(self) -> None:
        p = self.p
        for name in ("ProvisionedConcurrencyConfig", "FunctionUrlConfig", "SnapStart"):
            if p.get(name):
                raise self.error(f"{name} is not supported with TenancyConfig", name)
        for name, e in (p.get("Events") or {}).items():
            if isinstance(e, dict) and e.get("Type") not in ("Api", "HttpApi"):
                raise self.error(f"event {name}: only Api and HttpApi events work with TenancyConfig", "Events", name)

    def _function_properties(self) -> dict:
        p, ctx = self.p, self.ctx
        out: dict = {}
        if p.get("FunctionName"):
            out["FunctionName"] = p["FunctionName"]
        for name in _PASS:
            if p.get(name) is not None:
                out[name] = p[name]
        out["Code"] = self._code()
        tags = p.get("Tags") or {}
        for reserved in ("lambda:createdBy", "serverlessrepo:applicationId", "serverlessrepo:semanticVersion"):
            if reserved in tags:
                raise self.error(f"{reserved} is a reserved tag key", "Tags", reserved,
                                 hint="remove it; lamctl sets lambda:createdBy itself")
        out["Tags"] = [{"Key": "lambda:createdBy", "Value": "SAM"}] + tag_list(tags)
        tracing = p.get("Tracing")
        if tracing and ctx.resolve(tracing) != "Disabled":
            out["TracingConfig"] = {"Mode": tracing}
        if p.get("DeadLetterQueue"):
            out["DeadLetterConfig"] = {"TargetArn": p["DeadLetterQueue"]["TargetArn"]}
        if p.get("CapacityProviderConfig"):
            cfg = p["CapacityProviderConfig"]
            inner = {"CapacityProviderArn": cfg.get("Arn")}
            for k in ("PerExecutionEnvironmentMaxConcurrency", "ExecutionEnvironmentMemoryGiBPerVCpu"):
                if cfg.get(k) is not None:
                    inner[k] = cfg[k]
            out["CapacityProviderConfig"] = {"LambdaManagedInstancesCapacityProviderConfig": inner}
        if p.get("PublishToLatestPublished") is not None:
            out["PublishToLatestPublished"] = p["PublishToLatestPublished"]
        self._check_package_type(out)
        return out

    def _code(self) -> dict:
        p = self.p
        ptype = p.get("PackageType") or "Zip"
        if ptype not in ("Zip", "Image"):
            raise self.error(f"PackageType must be Zip or Image, not {ptype!r}", "PackageType")
        if ptype == "Zip":
            if p.get("InlineCode") is not None:
                code = {"ZipFile": p["InlineCode"]}
            elif p.get("CodeUri") is not None:
                code = s3_location(self.ctx, p["CodeUri"], f"function {self.lid}", "CodeUri", self.pkeys("CodeUri"))
            else:
                raise self.error("needs CodeUri or InlineCode (or PackageType: Image with ImageUri)",
                                 hint="set CodeUri to the folder of the code and run lamctl package, or give "
                                      "InlineCode")
            if p.get("SourceKMSKeyArn"):
                code["SourceKMSKeyArn"] = p["SourceKMSKeyArn"]
            return code
        if not p.get("ImageUri"):
            raise self.error("PackageType Image needs ImageUri", "ImageUri")
        return {"ImageUri": p["ImageUri"]}

    def _check_package_type(self, out: dict) -> None:
        ptype = out.get("PackageType") or "Zip"
        if ptype == "Zip":
            if not (out.get("Runtime") and out.get("Handler")):
                missing = "Runtime" if not out.get("Runtime") else "Handler"
                raise self.error(f"{missing} is required for a Zip function (set it here or in Globals.Function)",
                                 missing if missing in self.p else None)
            if out["Code"].get("ImageUri") or out.get("ImageConfig"):
                raise self.error("ImageUri or ImageConfig cannot be used with PackageType Zip", "ImageConfig")
        else:
            for name in ("Handler", "Runtime", "Layers"):
                if out.get(name):
                    raise self.error(f"{name} cannot be used with PackageType Image", name)

    def _version(self, fn_props: dict, sha: str | None) -> str:
        ctx, p = self.ctx, self.p
        code = resolve_parameter_refs(fn_props["Code"], ctx.parameters)
        fn_props["Code"] = code
        if p.get("AutoPublishAliasAllProperties"):
            data = {k: v for k, v in fn_props.items() if v is not None}
            for layer in fn_props.get("Layers") or []:
                lid = logical_id_of(layer)
                target = ctx.template.get("Resources", {}).get(lid) if lid else None
                if isinstance(target, dict):
                    lprops = target.get("Properties", {}) or {}
                    if lprops.get("PublishLambdaVersion", False):
                        data[lid] = lprops
        else:
            data = dict(code) if isinstance(code, dict) else {}
            env = fn_props.get("Environment")
            if env:
                data.update(env)
            if fn_props.get("MemorySize"):
                data["MemorySize"] = fn_props["MemorySize"]
            snap = fn_props.get("SnapStart")
            if snap and snap.get("ApplyOn", "None") != "None":
                data["SnapStart"] = snap
        vid = f"{self.lid}Version" + (sha[:10] if sha else logical_id_hash(data))
        attrs = dict(self.passthrough)
        if "DeletionPolicy" not in attrs:
            attrs["DeletionPolicy"] = p.get("VersionDeletionPolicy") or (
                "Delete" if p.get("CapacityProviderConfig") is not None else "Retain")
        vprops = {"FunctionName": {"Ref": self.lid}, "Description": p.get("VersionDescription")}
        if p.get("CapacityProviderConfig") is not None and p.get("FunctionScalingConfig") is not None:
            vprops["FunctionScalingConfig"] = p["FunctionScalingConfig"]
        self.add(vid, resource("AWS::Lambda::Version", vprops, attrs))
        self._version_id = vid
        return vid

    def _alias(self, name: str, version_id: str) -> tuple[str, dict]:
        if not name:
            raise self.error("AutoPublishAlias must not be empty", "AutoPublishAlias")
        if not _ALIAS.match(name):
            raise self.error(f"AutoPublishAlias {name!r} may contain only letters, digits, - and _ "
                             "and must not be all digits", "AutoPublishAlias")
        aid = f"{self.lid}Alias" + name.replace("-", "D").replace("_", "U")
        props = {"Name": name, "FunctionName": {"Ref": self.lid},
                 "FunctionVersion": {"Fn::GetAtt": [version_id, "Version"]},
                 "ProvisionedConcurrencyConfig": self.p.get("ProvisionedConcurrencyConfig") or None}
        return aid, self.add(aid, resource("AWS::Lambda::Alias", props, dict(self.passthrough)))

    def _url(self, cfg: dict, alias_id: str | None) -> None:
        target = {"Ref": alias_id} if alias_id else {"Ref": self.lid}
        if not is_intrinsic(cfg):
            auth = cfg.get("AuthType")
            if not is_intrinsic(auth) and auth not in ("AWS_IAM", "NONE"):
                raise self.error("FunctionUrlConfig needs AuthType AWS_IAM or NONE", "FunctionUrlConfig", "AuthType")
            cors = cfg.get("Cors")
            if cors and not is_intrinsic(cors):
                if not isinstance(cors, dict):
                    raise self.error("FunctionUrlConfig.Cors must be a mapping", "FunctionUrlConfig", "Cors")
                kinds = {"AllowOrigins": list, "AllowMethods": list, "AllowCredentials": bool,
                         "AllowHeaders": list, "ExposeHeaders": list, "MaxAge": int}
                for k, v in cors.items():
                    if k not in kinds:
                        raise self.error(f"{k} is not a Cors property of FunctionUrlConfig",
                                         "FunctionUrlConfig", "Cors", k)
                    if not is_intrinsic(v) and not isinstance(v, kinds[k]):
                        raise self.error(f"FunctionUrlConfig.Cors.{k} must be of type {kinds[k].__name__}",
                                         "FunctionUrlConfig", "Cors", k)
        props = {"Cors": cfg.get("Cors") or None, "AuthType": cfg.get("AuthType"),
                 "TargetFunctionArn": target, "InvokeMode": cfg.get("InvokeMode")}
        self.add(f"{self.lid}Url", resource("AWS::Lambda::Url", props, dict(self.passthrough)))
        if cfg.get("AuthType") == "NONE" and not is_intrinsic(cfg):
            self.add(f"{self.lid}UrlPublicPermissions", resource("AWS::Lambda::Permission", {
                "Action": "lambda:InvokeFunctionUrl", "FunctionName": copy.deepcopy(target), "Principal": "*",
                "FunctionUrlAuthType": "NONE"}, dict(self.passthrough)))
            self.add(f"{self.lid}URLInvokeAllowPublicAccess", resource("AWS::Lambda::Permission", {
                "Action": "lambda:InvokeFunction", "Principal": "*", "FunctionName": copy.deepcopy(target),
                "InvokedViaFunctionUrl": True}, dict(self.passthrough)))

    def _deployment_preference(self, alias: dict | None) -> None:
        from .deployment import Preference

        dp = self.p.get("DeploymentPreference")
        if not dp:
            return
        ctx = self.ctx
        dp = copy.deepcopy(dp)
        mappings = ctx.template.get("Mappings") if isinstance(ctx.template.get("Mappings"), dict) else {}
        for key in ("Enabled", "Type"):
            if key in dp:
                dp[key] = find_in_map(ctx.resolve(dp[key]), mappings)
        if "PassthroughCondition" in dp:
            value = find_in_map(ctx.resolve(dp["PassthroughCondition"]), mappings)
            if value in (True, "true", "True"):
                dp["PassthroughCondition"] = True
            elif value in (False, "false", "False"):
                dp["PassthroughCondition"] = False
            else:
                raise self.error("DeploymentPreference.PassthroughCondition must be true or false (or a Ref to a "
                                 "parameter / Fn::FindInMap giving one)", "DeploymentPreference",
                                 "PassthroughCondition")
        else:
            dp["PassthroughCondition"] = False
        pref = Preference.parse(self, dp)
        ctx.deployment_preferences[self.lid] = pref
        if pref.enabled:
            if not self.p.get("AutoPublishAlias"):
                raise self.error("DeploymentPreference needs AutoPublishAlias", "DeploymentPreference",
                                 hint="add AutoPublishAlias: live; traffic shifting moves an alias")
            update = {"ApplicationName": {"Ref": "ServerlessDeploymentApplication"},
                      "DeploymentGroupName": {"Ref": f"{self.lid}DeploymentGroup"}}
            if pref.pre_traffic_hook is not None and pref.pre_traffic_hook != {"Ref": None}:
                update["BeforeAllowTrafficHook"] = pref.pre_traffic_hook
            if pref.post_traffic_hook is not None and pref.post_traffic_hook != {"Ref": None}:
                update["AfterAllowTrafficHook"] = pref.post_traffic_hook
            props = alias.pop("Properties")
            alias["UpdatePolicy"] = {"CodeDeployLambdaAliasUpdate": update}
            alias["Properties"] = props

    def _event_invoke_config(self, alias_name: str, alias_id: str | None) -> list:
        ctx = self.ctx
        cfg = resolve_parameter_refs(self.p["EventInvokeConfig"], ctx.parameters)
        eid = f"{self.lid}EventInvokeConfig"
        policies = []
        dest_config: dict = {}
        dests = cfg.get("DestinationConfig")
        if dests:
            if not isinstance(dests, dict):
                raise self.error("EventInvokeConfig.DestinationConfig must be a mapping",
                                 "EventInvokeConfig", "DestinationConfig")
            for which in ("OnSuccess", "OnFailure"):
                value = dests.get(which)
                if value is None:
                    continue
                if not isinstance(value, dict):
                    raise self.error(f"EventInvokeConfig.DestinationConfig.{which} must be a mapping",
                                     "EventInvokeConfig", "DestinationConfig", which)
                destination, policy = self._destination(value, which, eid)
                dest_config[which] = {"Destination": destination}
                value["Destination"] = destination
                if policy:
                    policies.append(policy)
        props = {"FunctionName": {"Ref": self.lid}, "Qualifier": alias_name or "$LATEST",
                 "DestinationConfig": dest_config,
                 "MaximumEventAgeInSeconds": cfg.get("MaximumEventAgeInSeconds"),
                 "MaximumRetryAttempts": cfg.get("MaximumRetryAttempts")}
        self.add(eid, resource("AWS::Lambda::EventInvokeConfig", props, dict(self.attrs),
                               [alias_id] if alias_id else None))
        return policies

    def _destination(self, value: dict, which: str, eid: str) -> tuple[Any, dict]:
        ctx = self.ctx
        types = ["SQS", "SNS", "EventBridge", "Lambda", "S3Bucket"]
        dtype = value.get("Type")
        rid = eid + which
        if dtype not in types:
            raise self.error(f"EventInvokeConfig.DestinationConfig.{which}.Type must be one of {', '.join(types)}",
                             "EventInvokeConfig", "DestinationConfig", which, "Type")
        destination = value.get("Destination")
        prop_cond, dest_arn = None, None
        if is_if(destination):
            items = destination["Fn::If"]
            if not isinstance(items, list) or len(items) != 3:
                raise self.error("Destination: Fn::If needs [condition, value_if_true, value_if_false]",
                                 "EventInvokeConfig", "DestinationConfig", which, "Destination")
            if is_no_value(items[1]) and is_no_value(items[2]):
                pass
            elif is_no_value(items[1]):
                prop_cond, dest_arn = items[0], items[2]
            elif is_no_value(items[2]):
                prop_cond = "NOT" + items[0] + logical_id_hash(eid)
                ctx.conditions[prop_cond] = {"Fn::Not": [{"Condition": items[0]}]}
                dest_arn = items[1]
        policy: dict = {}
        if destination is None or prop_cond is not None:
            own = self.passthrough.get("Condition")
            combined = prop_cond if own is None else own if prop_cond is None else None
            if own is not None and prop_cond is not None:
                combined = own + "AND" + prop_cond + logical_id_hash(self.lid)
                ctx.conditions[combined] = {"Fn::And": [{"Condition": own}, {"Condition": prop_cond}]}
            if dtype not in ("SQS", "SNS"):
                raise self.error(f"EventInvokeConfig.DestinationConfig.{which}: Destination is required for Type "
                                 f"{dtype} (only SQS and SNS destinations are created for you)",
                                 "EventInvokeConfig", "DestinationConfig", which)
            attrs = dict(self.passthrough)
            if combined:
                attrs["Condition"] = combined
            if dtype == "SQS":
                qid = rid + "Queue"
                self.add(qid, resource("AWS::SQS::Queue", {}, attrs))
                arn = {"Fn::GetAtt": [qid, "Arn"]}
            else:
                qid = rid + "Topic"
                self.add(qid, resource("AWS::SNS::Topic", {}, attrs))
                arn = {"Ref": qid}
            destination = {"Fn::If": [prop_cond, arn, dest_arn]} if prop_cond else arn
            policy = invoke_policy(dtype, rid, destination)
        if value.get("Destination") is not None and prop_cond is None:
            policy = invoke_policy(dtype, rid, value.get("Destination"))
        return destination, policy

    def _role(self, invoke_policies: list) -> tuple[str, dict]:
        ctx, p = self.ctx, self.p
        part = ctx.partition
        managed = [aws_policy(part, "service-role/AWSLambdaBasicDurableExecutionRolePolicy" if p.get("DurableConfig")
                              else "service-role/AWSLambdaBasicExecutionRole")]
        tracing = p.get("Tracing")
        if tracing and ctx.resolve(tracing) != "Disabled":
            managed.append(aws_policy(part, "AWSXrayWriteOnlyAccess" if part == "aws" else "AWSXRayDaemonWriteAccess"))
        if p.get("VpcConfig"):
            managed.append(aws_policy(part, "service-role/AWSLambdaVPCAccessExecutionRole"))
        docs: list = []
        if p.get("DeadLetterQueue"):
            dlq = p["DeadLetterQueue"]
            docs.append({"PolicyName": "DeadLetterQueuePolicy", "PolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [{"Action": {"SQS": "sqs:SendMessage", "SNS": "sns:Publish"}[dlq["Type"]],
                               "Resource": dlq["TargetArn"], "Effect": "Allow"}]}})
        docs.extend(invoke_policies)
        role_id = self.lid + "Role"
        try:
            policies = expand_templates(p.get("Policies"))
        except PolicyError as exc:
            raise self.error(str(exc), "Policies") from None
        try:
            add_role_policies(policies, role_id, part, docs, managed)
        except NotAPolicy as exc:
            raise self.error(str(exc), "Policies",
                             hint="e.g. AWSLambdaExecute, {Statement: [...]}, or {S3ReadPolicy: {BucketName: b}}") from None
        except PolicyError as exc:
            raise self.error(str(exc), "Policies") from None
        props = {
            "AssumeRolePolicyDocument": p["AssumeRolePolicyDocument"] if p.get("AssumeRolePolicyDocument") is not None
            else {"Version": "2012-10-17", "Statement": [{"Action": ["sts:AssumeRole"], "Effect": "Allow",
                                                          "Principal": {"Service": ["lambda.amazonaws.com"]}}]},
            "ManagedPolicyArns": managed,
            "Policies": docs or None,
            "Path": p.get("RolePath"),
            "PermissionsBoundary": p.get("PermissionsBoundary"),
            "Tags": [{"Key": "lambda:createdBy", "Value": "SAM"}] + tag_list(p.get("Tags")),
        }
        return role_id, resource("AWS::IAM::Role", props, dict(self.passthrough))

    def _conditional_role(self, fn_props: dict, role_id: str, role: dict) -> None:
        ctx = self.ctx
        value = resolve_parameter_refs(fn_props["Role"], ctx.parameters)
        items = value["Fn::If"]
        if not isinstance(items, list) or len(items) != 3:
            raise self.error("Role: Fn::If needs [condition, value_if_true, value_if_false]", "Role")
        cond, a, b = items
        arn = {"Fn::GetAtt": [role_id, "Arn"]}
        if is_no_value(a) and is_no_value(b):
            fn_props["Role"] = arn
        elif is_no_value(a):
            fn_props["Role"] = {"Fn::If": [cond, arn, b]}
            role["Condition"] = cond
        elif is_no_value(b):
            fn_props["Role"] = {"Fn::If": [cond, a, arn]}
            role["Condition"] = f"NOT{cond}"
            ctx.conditions[f"NOT{cond}"] = {"Fn::Not": [{"Condition": cond}]}
        else:
            return
        props = role.pop("Properties")
        role["Properties"] = props
        self.add(role_id, role)


def invoke_policy(dtype: str, rid: str, arn: Any) -> dict:
    if dtype == "SQS":
        return {"PolicyName": rid + "SQSPolicy", "PolicyDocument": {"Statement": [
            {"Action": "sqs:SendMessage", "Effect": "Allow", "Resource": arn}]}}
    if dtype == "SNS":
        return {"PolicyName": rid + "SNSPolicy", "PolicyDocument": {"Statement": [
            {"Action": "sns:publish", "Effect": "Allow", "Resource": arn}]}}
    if dtype == "EventBridge":
        return {"PolicyName": rid + "EventBridgePolicy", "PolicyDocument": {"Statement": [
            {"Action": "events:PutEvents", "Effect": "Allow", "Resource": arn}]}}
    if dtype == "Lambda":
        return {"PolicyName": rid + "LambdaPolicy", "PolicyDocument": {"Statement": [
            {"Action": "lambda:InvokeFunction", "Effect": "Allow", "Resource": arn}]}}
    if dtype == "S3Bucket":
        return {"PolicyName": rid + "S3Policy", "PolicyDocument": {"Statement": [
            {"Action": "s3:PutObject", "Effect": "Allow", "Resource": {"Fn::Join": ["/", [arn, "*"]]}},
            {"Action": "s3:ListBucket", "Effect": "Allow", "Resource": arn}]}}
    return {}


def s3_location(ctx: Context, uri: Any, owner: str, prop: str, keys: tuple) -> dict:
    """``s3://bucket/key?versionId=v`` or ``{Bucket, Key, Version}`` -> ``{S3Bucket, S3Key[, S3ObjectVersion]}``."""
    from urllib.parse import parse_qs, urlparse

    if isinstance(uri, dict):
        if not uri.get("Bucket") or not uri.get("Key"):
            raise ctx.error(f"{owner}: {prop} needs Bucket and Key", keys)
        pointer = uri
    elif isinstance(uri, str):
        if re.search(r"{{resolve:(ssm|ssm-secure|secretsmanager):[a-zA-Z0-9_.\-/]+(:\d+)?}}", uri) and "/" in uri:
            raise ctx.error(f"{owner}: dynamic references are not supported in {prop}", keys,
                            hint="use the Bucket/Key mapping form")
        try:
            url = urlparse(uri)
        except ValueError:
            url = None
        if url is None or not (url.scheme == "s3" and url.netloc and url.path):
            raise ctx.error(f"{owner}: {prop} {uri!r} is not an S3 location (s3://bucket/key)", keys,
                            hint="run lamctl package to upload local code and rewrite the template")
        query = parse_qs(url.query)
        pointer = {"Bucket": url.netloc, "Key": url.path.lstrip("/")}
        if "versionId" in query and len(query["versionId"]) == 1:
            pointer["Version"] = query["versionId"][0]
    else:
        raise ctx.error(f"{owner}: {prop} must be an s3:// URI or a Bucket/Key mapping", keys)
    code = {"S3Bucket": pointer["Bucket"], "S3Key": pointer["Key"]}
    if "Version" in pointer:
        code["S3ObjectVersion"] = pointer["Version"]
    if "StorageMode" in pointer:
        code["S3ObjectStorageMode"] = pointer["StorageMode"]
    return code


def _suggest(name: str, known) -> str:
    import difflib

    close = difflib.get_close_matches(str(name), sorted(known), n=1)
    if close:
        return f"did you mean {close[0]}?"
    return "see the AWS::Serverless::Function reference for the properties it takes"


def _sortable(value: Any) -> str:
    return value if isinstance(value, str) else str(value)


def transform_function(ctx: Context, lid: str, res: dict, api_events: list[ApiEvent]) -> None:
    Function(ctx, lid, res).translate(api_events)
