"""``AWS::Serverless::GraphQLApi`` -> an AppSync GraphQL API and what it is made of, as the reference transform
does: its schema (``SchemaInline`` or ``SchemaUri``), authentication (``Auth`` and ``Auth.Additional``; a Lambda
authorizer gets a connector that lets AppSync invoke it), logging (a CloudWatch role unless one is given, none with
``Logging: false``), API keys, cache, custom domain, DynamoDB and Lambda data sources (each with a service role and a
connector to its table or function unless ``ServiceRoleArn`` is given), pipeline functions (``Functions``; ``Id``
names one defined elsewhere; ``DataSource: NONE`` makes the API's one ``NONE`` data source) and pipeline resolvers
(``Resolvers: {Type: {Field: {Pipeline: [...]}}}``, with AppSync's default JavaScript code when none is given).

Logical IDs: ``<Api>Schema``, ``<Api>CloudWatchRole``, ``<Api><Key>`` (API keys), ``<Api>ApiCache``,
``<Api>DomainName`` / ``DomainNameApiAssociation``, ``<Api><Name>DynamoDBDataSource`` / ``LambdaDataSource`` (and
``...Role``, ``...ToTableConnector`` / ``...ToLambdaConnector`` policies), ``<Api><Function>``,
``<Api><Type><Field>`` (resolvers), ``<Api>NoneDataSource``, ``<Api>ToLambdaAuthConnector<n>``."""

from __future__ import annotations

import copy
from typing import Any

from .connectors import Connector
from .context import Context
from .function import RESOURCE_ATTRIBUTES, _suggest, tag_list

TYPE = "AWS::Serverless::GraphQLApi"
AUTH_TYPES = ("AWS_IAM", "API_KEY", "AWS_LAMBDA", "OPENID_CONNECT", "AMAZON_COGNITO_USER_POOLS")
DEFAULT_RESOLVER_CODE = """
export function request(ctx) {
    return {};
}

export function response(ctx) {
    return ctx.prev.result;
}
"""
DEFAULT_RESOLVER_RUNTIME = {"Name": "APPSYNC_JS", "RuntimeVersion": "1.0.0"}

# The reference's model of the properties: key -> (required, shape); a shape is "any" (passed through), "str",
# "bool", "dict" (any mapping), a dict of keys (a nested model), ("map", shape) (names -> shape) or ("list", shape).
_LAMBDA_AUTH = {"AuthorizerResultTtlInSeconds": (False, "any"), "AuthorizerUri": (True, "any"),
                "IdentityValidationExpression": (False, "any")}
_OIDC = {"AuthTTL": (False, "any"), "ClientId": (False, "any"), "IatTTL": (False, "any"), "Issuer": (False, "any")}
_USER_POOL = {"AppIdClientRegex": (False, "any"), "AwsRegion": (False, "any"), "DefaultAction": (False, "any"),
              "UserPoolId": (True, "any")}
_AUTHORIZER = {"Type": (True, "authtype"), "LambdaAuthorizer": (False, _LAMBDA_AUTH),
               "OpenIDConnect": (False, _OIDC), "UserPool": (False, _USER_POOL)}
_AUTH = {**_AUTHORIZER, "Additional": (False, ("list", _AUTHORIZER))}
_RUNTIME = {"Name": (True, "any"), "Version": (True, "any")}
_SYNC = {"ConflictDetection": (True, "any"), "ConflictHandler": (False, "any"),
         "LambdaConflictHandlerConfig": (False, {"LambdaConflictHandlerArn": (True, "any")})}
_DDB = {"TableName": (True, "any"), "ServiceRoleArn": (False, "any"), "TableArn": (False, "any"),
        "Permissions": (False, ("list", "permission")), "Name": (False, "any"), "Description": (False, "any"),
        "Region": (False, "any"), "DeltaSync": (False, {"BaseTableTTL": (True, "any"),
                                                         "DeltaSyncTableName": (True, "any"),
                                                         "DeltaSyncTableTTL": (True, "any")}),
        "UseCallerCredentials": (False, "any"), "Versioned": (False, "any")}
_LAMBDA = {"FunctionArn": (True, "any"), "ServiceRoleArn": (False, "any"), "Name": (False, "any"),
           "Description": (False, "any")}
_FUNCTION = {"DataSource": (False, "str|dict"), "Runtime": (False, _RUNTIME), "InlineCode": (False, "any"),
             "CodeUri": (False, "any"), "Description": (False, "any"), "MaxBatchSize": (False, "any"),
             "Name": (False, "str"), "Id": (False, "any"), "Sync": (False, _SYNC)}
_RESOLVER = {"FieldName": (False, "str"), "Caching": (False, {"Ttl": (True, "any"),
                                                              "CachingKeys": (False, ("list", "any"))}),
             "InlineCode": (False, "any"), "CodeUri": (False, "any"), "MaxBatchSize": (False, "any"),
             "Pipeline": (False, ("list", "str")), "Runtime": (False, _RUNTIME), "Sync": (False, _SYNC)}
PROPERTIES = {
    "Auth": (True, _AUTH), "Tags": (False, "dict"), "Name": (False, "any"), "XrayEnabled": (False, "bool"),
    "SchemaInline": (False, "any"), "SchemaUri": (False, "any"), "Logging": (False, "logging"),
    "DataSources": (False, {"DynamoDb": (False, ("map", _DDB)), "Lambda": (False, ("map", _LAMBDA))}),
    "Functions": (False, ("map", _FUNCTION)), "Resolvers": (False, ("map", ("map", _RESOLVER))),
    "ApiKeys": (False, ("map", {"ApiKeyId": (False, "any"), "Description": (False, "any"),
                                "ExpiresOn": (False, "any")})),
    "DomainName": (False, {"CertificateArn": (True, "any"), "DomainName": (True, "any"),
                           "Description": (False, "any")}),
    "Cache": (False, {"ApiCachingBehavior": (True, "any"), "Ttl": (True, "any"), "Type": (True, "any"),
                      "AtRestEncryptionEnabled": (False, "any"), "TransitEncryptionEnabled": (False, "any")}),
    "Visibility": (False, "any"), "OwnerContact": (False, "any"), "IntrospectionConfig": (False, "any"),
    "QueryDepthLimit": (False, "any"), "ResolverCountLimit": (False, "any"),
}
_LOGGING = {"CloudWatchLogsRoleArn": (False, "any"), "ExcludeVerboseContent": (False, "any"),
            "FieldLogLevel": (False, "any")}
# what the reference's model reads as true / false for a bool property
_TRUE = {"1", "on", "t", "true", "y", "yes"}
_FALSE = {"0", "off", "f", "false", "n", "no"}


class Invalid(ValueError):
    def __init__(self, message: str, path: tuple):
        super().__init__(message)
        self.path = path


def _bool(value: Any, path: tuple) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.lower() in _TRUE | _FALSE:
        return value.lower() in _TRUE
    raise Invalid("must be true or false", path)


def _check(value: Any, shape: Any, path: tuple) -> Any:
    """``value`` read as the reference's model reads it (bools and strings coerced); Invalid where it is not."""
    if value is None:
        return None
    if shape == "any":
        return value
    if shape == "str":
        if isinstance(value, str):
            return value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return str(value)
        raise Invalid("must be a string", path)
    if shape == "str|dict":
        if isinstance(value, dict):
            return value
        return _check(value, "str", path)
    if shape == "bool":
        return _bool(value, path)
    if shape == "dict":
        if not isinstance(value, dict):
            raise Invalid("must be a mapping", path)
        return value
    if shape == "authtype":
        if value not in AUTH_TYPES:
            raise Invalid(f"must be one of {', '.join(AUTH_TYPES)}", path)
        return value
    if shape == "permission":
        if value not in ("Read", "Write"):
            raise Invalid("must be Read or Write", path)
        return value
    if shape == "logging":
        if isinstance(value, dict):
            return _check(value, _LOGGING, path)
        return _bool(value, path)
    if isinstance(shape, tuple):
        kind, inner = shape
        if kind == "list":
            if not isinstance(value, list):
                raise Invalid("must be a list", path)
            return [_check(v, inner, path + (i,)) for i, v in enumerate(value)]
        if not isinstance(value, dict):
            raise Invalid("must be a mapping of names to settings", path)
        return {k: _check(v, inner, path + (k,)) for k, v in value.items()}
    if not isinstance(value, dict):
        raise Invalid("must be a mapping", path)
    out = {}
    for key, v in value.items():
        if key not in shape:
            raise Invalid(f"has unknown key {key} (allowed: {', '.join(shape)})", path + (key,))
    for key, (required, inner) in shape.items():
        v = value.get(key)
        if v is None:
            if required:
                raise Invalid(f"needs {key}", path)
            continue
        out[key] = _check(v, inner, path + (key,))
    return out


class GraphQLApi:
    def __init__(self, ctx: Context, lid: str, res: dict):
        self.ctx, self.lid, self.res = ctx, lid, res
        self.keys = ("Resources", lid, "Properties")
        self.attrs = {k: res[k] for k in RESOURCE_ATTRIBUTES if k in res}
        self.depends_on = res.get("DependsOn")
        raw = res.get("Properties") or {}
        for name in raw:
            if name not in PROPERTIES:
                raise self.error(f"unknown property {name}", name, key=True, hint=_suggest(name, PROPERTIES))
        try:
            self.p = _check(raw, PROPERTIES, ())
        except Invalid as exc:
            where = exc.path
            label = ".".join(str(k) for k in where) or "Properties"
            raise self.error(f"{label} {exc}", *where, key="unknown key" in str(exc)) from None
        self.out: list[tuple[str, dict]] = []
        self.datasource_names: dict[str, Any] = {}
        self.function_ids: dict[str, Any] = {}
        self.none_datasource: tuple[str, dict] | None = None

    def error(self, message: str, *more, hint: str | None = None, key: bool = False):
        return self.ctx.error(f"GraphQL API {self.lid}: {message}", self.keys + more, hint, key=key)

    def _res(self, rtype: str, props: dict, depends_on: Any = "same") -> dict:
        out: dict = {"Type": rtype}
        deps = self.depends_on if depends_on == "same" else depends_on
        if deps:
            out["DependsOn"] = copy.deepcopy(deps)
        out.update(copy.deepcopy(self.attrs))
        out["Properties"] = {k: v for k, v in props.items() if v is not None}
        return out

    # ------------------------------------------------------------------------------------------
    def translate(self) -> None:
        p = self.p
        api_id = {"Fn::GetAtt": [self.lid, "ApiId"]}
        api: dict = {"Name": p.get("Name") or self.lid}
        for key in ("Visibility", "OwnerContact"):
            if p.get(key):
                api[key] = p[key]
        api["XrayEnabled"] = p.get("XrayEnabled")
        for key in ("IntrospectionConfig", "QueryDepthLimit", "ResolverCountLimit"):
            if p.get(key):
                api[key] = p[key]
        lambda_auths = self._auth(api, p["Auth"])
        tags = dict(p.get("Tags") or {})
        tags["graphqlapi:createdBy"] = "SAM"
        api["Tags"] = tag_list(tags)
        role = None
        logging = p.get("Logging")
        if logging is not False:
            if isinstance(logging, dict):
                config: dict = {}
                if logging.get("ExcludeVerboseContent"):
                    config["ExcludeVerboseContent"] = logging["ExcludeVerboseContent"]
                config["FieldLogLevel"] = logging.get("FieldLogLevel") or "ALL"
                config["CloudWatchLogsRoleArn"] = logging.get("CloudWatchLogsRoleArn")
                if not config["CloudWatchLogsRoleArn"]:
                    role = self._cloudwatch_role()
                    config["CloudWatchLogsRoleArn"] = {"Fn::GetAtt": [role[0], "Arn"]}
            else:
                role = self._cloudwatch_role()
                config = {"FieldLogLevel": "ALL", "CloudWatchLogsRoleArn": {"Fn::GetAtt": [role[0], "Arn"]}}
            api["LogConfig"] = config
        self.out.append((self.lid, self._res("AWS::AppSync::GraphQLApi", api)))

        if not p.get("SchemaInline") and not p.get("SchemaUri"):
            raise self.error("needs SchemaInline (the schema in the template) or SchemaUri (an S3 location)")
        if p.get("SchemaInline") and p.get("SchemaUri"):
            raise self.error("give SchemaInline or SchemaUri, not both", "SchemaUri")
        schema_id = self.lid + "Schema"
        self.out.append((schema_id, self._res("AWS::AppSync::GraphQLSchema", {
            "ApiId": api_id, "Definition": p.get("SchemaInline"), "DefinitionS3Location": p.get("SchemaUri")})))
        for n, arn in enumerate(lambda_auths, 1):
            self._connector(f"{self.lid}ToLambdaAuthConnector{n}",
                            {"Type": "AWS::AppSync::GraphQLApi", "Arn": {"Ref": self.lid}, "ResourceId": api_id},
                            {"Type": "AWS::Lambda::Function", "Arn": arn}, ["Write"], ("Auth",))
        if role:
            self.out.append(role)
        for name, key in (p.get("ApiKeys") or {}).items():
            self.out.append((self.lid + name, self._res("AWS::AppSync::ApiKey", {
                "ApiId": api_id, "ApiKeyId": key.get("ApiKeyId"), "Description": key.get("Description"),
                "Expires": key.get("ExpiresOn")})))
        cache = p.get("Cache")
        if cache:
            self.out.append((self.lid + "ApiCache", self._res("AWS::AppSync::ApiCache", {
                "ApiId": api_id, "ApiCachingBehavior": cache.get("ApiCachingBehavior"), "Type": cache.get("Type"),
                "Ttl": cache.get("Ttl"), "AtRestEncryptionEnabled": cache.get("AtRestEncryptionEnabled"),
                "TransitEncryptionEnabled": cache.get("TransitEncryptionEnabled")})))
        sources = p.get("DataSources")
        if sources:
            for name, ds in (sources.get("DynamoDb") or {}).items():
                self._dynamodb(name, ds, api_id)
            for name, ds in (sources.get("Lambda") or {}).items():
                self._lambda(name, ds, api_id)
        domain = p.get("DomainName")
        if domain:
            domain_id = self.lid + "DomainName"
            self.out.append((domain_id, self._res("AWS::AppSync::DomainName", {
                "CertificateArn": domain.get("CertificateArn"), "DomainName": domain.get("DomainName"),
                "Description": domain.get("Description")})))
            self.out.append((self.lid + "DomainNameApiAssociation", self._res(
                "AWS::AppSync::DomainNameApiAssociation", {"ApiId": api_id, "DomainName": {"Ref": domain_id}})))
        for name, fn in (p.get("Functions") or {}).items():
            self._function(name, fn, api_id)
        for type_name, fields in (p.get("Resolvers") or {}).items():
            for name, resolver in fields.items():
                self._resolver(type_name, name, resolver, api_id, schema_id)
        if self.none_datasource:
            self.out.append(self.none_datasource)
        for rid, r in self.out:
            self.ctx.add(rid, r, ("Resources", self.lid))

    # -- auth ----------------------------------------------------------------------------------
    def _auth(self, api: dict, auth: dict) -> list:
        arns: list = []
        name, config = self._authorizer({k: v for k, v in auth.items() if k != "Additional"}, None)
        api["AuthenticationType"] = auth["Type"]
        if name and config:
            api[name] = config
            if name == "LambdaAuthorizerConfig":
                arns.append(config["AuthorizerUri"])
        providers = []
        for index, extra in enumerate(auth.get("Additional") or []):
            name, config = self._authorizer(extra, index)
            provider: dict = {"AuthenticationType": extra["Type"]}
            if name and config:
                provider[name] = config
                if name == "LambdaAuthorizerConfig":
                    arns.append(config["AuthorizerUri"])
            providers.append(provider)
        if providers:
            api["AdditionalAuthenticationProviders"] = providers
        return arns

    def _authorizer(self, auth: dict, index: int | None) -> tuple[str | None, dict | None]:
        path = ("Auth",) if index is None else ("Auth", "Additional", index)
        if len(auth) > 2:
            raise self.error(f"{'.'.join(map(str, path))} has more than one authentication configuration (give "
                             "Type and the one setting it takes)", *path)
        kind = auth["Type"]
        for wanted, setting, config_name in (("AWS_LAMBDA", "LambdaAuthorizer", "LambdaAuthorizerConfig"),
                                             ("OPENID_CONNECT", "OpenIDConnect", "OpenIDConnectConfig"),
                                             ("AMAZON_COGNITO_USER_POOLS", "UserPool", "UserPoolConfig")):
            if kind == wanted:
                config = auth.get(setting)
                if config is None:
                    raise self.error(f"{'.'.join(map(str, path))}: Type {kind} needs {setting}", *path)
                config = dict(config)
                if setting == "UserPool" and index is not None:
                    config.pop("DefaultAction", None)  # only the primary authentication takes a default action
                return config_name, config
        return None, None

    def _cloudwatch_role(self) -> tuple[str, dict]:
        return (self.lid + "CloudWatchRole", self._res("AWS::IAM::Role", {
            "AssumeRolePolicyDocument": _assume_role("appsync.amazonaws.com"),
            "ManagedPolicyArns": [{"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/service-role/"
                                              "AWSAppSyncPushToCloudWatchLogs"}]}))

    def _connector(self, lid: str, source: dict, destination: dict, permissions: list, keys: tuple) -> None:
        res = {"Type": "AWS::Serverless::Connector",
               "Properties": {"Source": source, "Destination": destination, "Permissions": permissions}}
        made = Connector(self.ctx, lid, res, ("Resources", self.lid), self.keys + keys).build()
        self.out.extend(made)

    # -- data sources ----------------------------------------------------------------------------
    def _service_role(self, ds_id: str) -> tuple[str, dict]:
        return ds_id + "Role", self._res("AWS::IAM::Role", {
            "AssumeRolePolicyDocument": _assume_role("appsync.amazonaws.com")})

    def _dynamodb(self, name: str, ds: dict, api_id: dict) -> None:
        ds_id = f"{self.lid}{name}DynamoDBDataSource"
        config: dict = {"AwsRegion": ds.get("Region") or {"Ref": "AWS::Region"}, "TableName": ds.get("TableName")}
        if ds.get("UseCallerCredentials"):
            config["UseCallerCredentials"] = ds["UseCallerCredentials"]
        if ds.get("Versioned"):
            config["Versioned"] = ds["Versioned"]
        if ds.get("DeltaSync"):
            config["DeltaSyncConfig"] = ds["DeltaSync"]
        props = {"Name": ds.get("Name") or name, "Type": "AMAZON_DYNAMODB", "ApiId": api_id,
                 "Description": ds.get("Description"), "DynamoDBConfig": config}
        extra: list = []
        if ds.get("ServiceRoleArn"):
            props["ServiceRoleArn"] = ds["ServiceRoleArn"]
        else:
            table_arn = ds.get("TableArn") or {"Fn::Sub": [
                "arn:${AWS::Partition}:dynamodb:${__Region__}:${AWS::AccountId}:table/${__TableName__}",
                {"__TableName__": ds.get("TableName"), "__Region__": ds.get("Region") or {"Ref": "AWS::Region"}}]}
            role_id, role = self._service_role(ds_id)
            props["ServiceRoleArn"] = {"Fn::GetAtt": [role_id, "Arn"]}
            extra.append((role_id, role))
        self.out.append((ds_id, self._res("AWS::AppSync::DataSource", props)))
        self.out.extend(extra)
        if extra:
            self._connector(f"{ds_id}ToTableConnector",
                            {"Type": "AWS::AppSync::DataSource", "Arn": {"Fn::GetAtt": [ds_id, "DataSourceArn"]},
                             "RoleName": {"Ref": extra[0][0]}},
                            {"Type": "AWS::DynamoDB::Table", "Arn": table_arn},
                            ds.get("Permissions") or ["Read", "Write"], ("DataSources", "DynamoDb", name))
        self.datasource_names[name] = {"Fn::GetAtt": [ds_id, "Name"]}

    def _lambda(self, name: str, ds: dict, api_id: dict) -> None:
        ds_id = f"{self.lid}{name}LambdaDataSource"
        props = {"Name": ds.get("Name") or name, "Type": "AWS_LAMBDA", "ApiId": api_id,
                 "Description": ds.get("Description"), "LambdaConfig": {"LambdaFunctionArn": ds.get("FunctionArn")}}
        extra: list = []
        if ds.get("ServiceRoleArn"):
            props["ServiceRoleArn"] = ds["ServiceRoleArn"]
        else:
            role_id, role = self._service_role(ds_id)
            props["ServiceRoleArn"] = {"Fn::GetAtt": [role_id, "Arn"]}
            extra.append((role_id, role))
        self.out.append((ds_id, self._res("AWS::AppSync::DataSource", props)))
        self.out.extend(extra)
        if extra:
            self._connector(f"{ds_id}ToLambdaConnector",
                            {"Type": "AWS::AppSync::DataSource", "Arn": {"Fn::GetAtt": [ds_id, "DataSourceArn"]},
                             "RoleName": {"Ref": extra[0][0]}},
                            {"Type": "AWS::Lambda::Function", "Arn": ds.get("FunctionArn")}, ["Write"],
                            ("DataSources", "Lambda", name))
        self.datasource_names[name] = {"Fn::GetAtt": [ds_id, "Name"]}

    # -- functions and resolvers --------------------------------------------------------------------
    def _runtime(self, item: dict, path: tuple) -> dict:
        runtime = item.get("Runtime")
        if not runtime:
            raise self.error(f"{'.'.join(map(str, path))} needs Runtime (e.g. {{Name: APPSYNC_JS, Version: 1.0.0}})",
                             *path)
        return {"Name": runtime.get("Name"), "RuntimeVersion": runtime.get("Version")}

    def _datasource(self, name: str, fn: dict, path: tuple) -> Any:
        ds = fn.get("DataSource")
        if not ds:
            raise self.error(f"{'.'.join(map(str, path))} needs DataSource", *path)
        if not isinstance(ds, str):
            return ds  # an intrinsic function: a data source defined elsewhere
        if ds.lower() == "none":
            if not self.none_datasource:
                ds_id = self.lid + "NoneDataSource"
                self.none_datasource = (ds_id, self._res("AWS::AppSync::DataSource", {
                    "ApiId": {"Fn::GetAtt": [self.lid, "ApiId"]}, "Name": ds_id, "Type": "NONE"}))
            return {"Fn::GetAtt": [self.none_datasource[0], "Name"]}
        if ds in self.datasource_names:
            return self.datasource_names[ds]
        raise self.error(f"{'.'.join(map(str, path))}: DataSource {ds} is not one of DataSources (use an intrinsic "
                         "function such as !GetAtt for a data source defined elsewhere, or NONE)",
                         *path, "DataSource")

    def _function(self, name: str, fn: dict, api_id: dict) -> None:
        path = ("Functions", name)
        if fn.get("Id"):
            if len(fn) != 1:
                raise self.error(f"Functions.{name}: Id names a function defined elsewhere and takes no other "
                                 "property", *path)
            self.function_ids[name] = fn["Id"]
            return
        if fn.get("InlineCode") and fn.get("CodeUri"):
            raise self.error(f"Functions.{name}: give InlineCode or CodeUri, not both", *path)
        if not fn.get("InlineCode") and not fn.get("CodeUri"):
            raise self.error(f"Functions.{name} needs InlineCode or CodeUri", *path)
        fid = self.lid + name
        props = {"ApiId": api_id, "Name": fn.get("Name") or name, "Code": fn.get("InlineCode") or None,
                 "CodeS3Location": None if fn.get("InlineCode") else fn.get("CodeUri"),
                 "DataSourceName": self._datasource(name, fn, path), "MaxBatchSize": fn.get("MaxBatchSize"),
                 "Description": fn.get("Description"), "Runtime": self._runtime(fn, path)}
        if fn.get("Sync"):
            props["SyncConfig"] = fn["Sync"]
        self.function_ids[name] = {"Fn::GetAtt": [fid, "FunctionId"]}
        self.out.append((fid, self._res("AWS::AppSync::FunctionConfiguration", props)))

    def _resolver(self, type_name: str, name: str, resolver: dict, api_id: dict, schema_id: str) -> None:
        path = ("Resolvers", type_name, name)
        if resolver.get("CodeUri") and resolver.get("InlineCode"):
            raise self.error(f"Resolvers.{type_name}.{name}: give InlineCode or CodeUri, not both", *path)
        props: dict = {"Code": resolver.get("InlineCode"), "CodeS3Location": resolver.get("CodeUri")}
        if not props["Code"] and not props["CodeS3Location"]:
            props["Code"] = DEFAULT_RESOLVER_CODE
            props["Runtime"] = dict(DEFAULT_RESOLVER_RUNTIME)
        else:
            props["Runtime"] = self._runtime(resolver, path)
        props["ApiId"] = api_id
        props["FieldName"] = resolver.get("FieldName") or name
        props["TypeName"] = type_name
        if not resolver.get("Pipeline"):
            raise self.error(f"Resolvers.{type_name}.{name} needs Pipeline (the functions it runs, in order); "
                             "unit resolvers are not available here (declare an AWS::AppSync::Resolver)", *path)
        props["Kind"] = "PIPELINE"
        ids = []
        for fn in resolver["Pipeline"]:
            if fn not in self.function_ids:
                raise self.error(f"Resolvers.{type_name}.{name}: Pipeline names {fn}, which is not one of Functions",
                                 *path, "Pipeline")
            ids.append(self.function_ids[fn])
        props["PipelineConfig"] = {"Functions": ids}
        if resolver.get("Caching"):
            props["CachingConfig"] = resolver["Caching"]
        if resolver.get("MaxBatchSize"):
            props["MaxBatchSize"] = resolver["MaxBatchSize"]
        self.out.append((self.lid + type_name + name, self._res("AWS::AppSync::Resolver", props, [schema_id])))


def _assume_role(service: str) -> dict:
    return {"Version": "2012-10-17", "Statement": [{"Action": ["sts:AssumeRole"], "Effect": "Allow",
                                                     "Principal": {"Service": [service]}}]}


def transform_graphql_api(ctx: Context, lid: str, res: dict) -> None:
    GraphQLApi(ctx, lid, res).translate()
