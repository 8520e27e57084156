"""Custom domains of REST and HTTP APIs: DomainName, base path mappings and Route 53 record set groups
(the reference's rules). Record set groups are shared between APIs of one template (keyed by hosted zone)
and are emitted once, after every API, by the caller."""

from __future__ import annotations

import re
from typing import Any

from .api_common import ApiError, hash_id, make_resource

DOMAIN_MTLS_FIELDS = ("TruststoreUri", "TruststoreVersion")


def _getatt(name: str, attr: str) -> dict:
    return {"Fn::GetAtt": [name, attr]}


def _basepaths(domain: dict) -> list | None:
    value = domain.get("BasePath")
    if value and isinstance(value, str):
        return [value]
    if value and isinstance(value, list):
        return value
    return None


def _routing(route53: dict, recordset: dict) -> None:
    if route53.get("Region") is not None:
        recordset["Region"] = route53.get("Region")
    if route53.get("SetIdentifier") is not None:
        recordset["SetIdentifier"] = route53.get("SetIdentifier")


def _record_sets(domain: dict, route53: dict, alias_target: Any) -> list:
    out = []
    recordset = {"Name": domain.get("DomainName"), "Type": "A", "AliasTarget": alias_target}
    _routing(route53, recordset)
    out.append(recordset)
    if route53.get("IpV6") is not None and route53.get("IpV6") is True:
        v6 = {"Name": domain.get("DomainName"), "Type": "AAAA", "AliasTarget": alias_target}
        _routing(route53, v6)
        out.append(v6)
    return out


def _rest_alias_target(domain: dict, api_domain_name: str, route53: dict) -> dict:
    target: dict = {}
    if route53.get("EvaluateTargetHealth") is not None:
        target["EvaluateTargetHealth"] = route53.get("EvaluateTargetHealth")
    endpoint = domain.get("EndpointConfiguration")
    if endpoint == "REGIONAL":
        target["HostedZoneId"] = _getatt(api_domain_name, "RegionalHostedZoneId")
        target["DNSName"] = _getatt(api_domain_name, "RegionalDomainName")
    elif endpoint == "EDGE":
        if route53.get("DistributionDomainName") is None:
            route53["DistributionDomainName"] = _getatt(api_domain_name, "DistributionDomainName")
        target["HostedZoneId"] = "Z2FDTNDATAQYW2"
        target["DNSName"] = route53.get("DistributionDomainName")
    else:
        target["HostedZoneId"] = route53.get("VpcEndpointHostedZoneId")
        target["DNSName"] = route53.get("VpcEndpointDomainName")
    return target


def _route53(gen: Any, domain: dict, api_domain_name: str, alias_name: Any, alias_fn) -> list[tuple[str, dict]]:
    """The record set group for this domain: a shared one (kept in gen.record_set_groups, emitted later) or,
    with SeparateRecordSetGroup, one of its own (returned)."""
    route53 = domain.get("Route53")
    if route53 is None:
        return []
    if not isinstance(route53, dict):
        raise ApiError("Domain.Route53 must be a map", ("Domain", "Route53"))
    zone_id, zone_name = route53.get("HostedZoneId"), route53.get("HostedZoneName")
    if zone_id is None and zone_name is None:
        raise ApiError("HostedZoneId or HostedZoneName is required to enable Route53 support on custom domains",
                       ("Domain", "Route53"))
    group_id = "RecordSetGroup" + hash_id(zone_id or zone_name)
    if route53.get("SeparateRecordSetGroup"):
        if not isinstance(route53.get("SeparateRecordSetGroup"), bool):
            raise ApiError("Domain.Route53.SeparateRecordSetGroup must be true or false",
                           ("Domain", "Route53", "SeparateRecordSetGroup"))
        own_id = "RecordSetGroup" + hash_id([zone_id or zone_name, domain.get("DomainName")])
        props: dict = {}
        if zone_id:
            props["HostedZoneId"] = zone_id
        if zone_name:
            props["HostedZoneName"] = zone_name
        props["RecordSets"] = _record_sets(domain, route53, alias_fn(domain, alias_name, route53))
        return [(own_id, make_resource("AWS::Route53::RecordSetGroup", props, gen.passthrough))]
    group = gen.record_set_groups.get(group_id)
    if group is None:
        props = {}
        if "HostedZoneId" in route53:
            props["HostedZoneId"] = zone_id
        if "HostedZoneName" in route53 and (gen.__class__.__name__ == "RestApiGenerator" or "HostedZoneId"
                                            not in route53):
            props["HostedZoneName"] = zone_name
        props["RecordSets"] = []
        group = make_resource("AWS::Route53::RecordSetGroup", props, gen.passthrough)
        group["Properties"]["RecordSets"] = []
        gen.record_set_groups[group_id] = group
    group["Properties"]["RecordSets"] += _record_sets(domain, route53, alias_fn(domain, alias_name, route53))
    return []


def _mtls(value: Any, where: tuple) -> dict:
    if not isinstance(value, dict):
        raise ApiError("Domain.MutualTlsAuthentication must be a map with TruststoreUri and/or TruststoreVersion",
                       where)
    bad = sorted(k for k in value if k not in DOMAIN_MTLS_FIELDS)
    if bad:
        raise ApiError(f"unknown MutualTlsAuthentication field(s) {', '.join(bad)} (available: TruststoreUri, "
                       "TruststoreVersion)", where)
    out = {}
    if value.get("TruststoreUri"):
        out["TruststoreUri"] = value["TruststoreUri"]
    if value.get("TruststoreVersion"):
        out["TruststoreVersion"] = value["TruststoreVersion"]
    return out


def _optional_domain_props(domain: dict, props: dict) -> None:
    for key in ("SecurityPolicy", "EndpointAccessMode", "Policy", "OwnershipVerificationCertificateArn"):
        if domain.get(key):
            props[key] = domain[key]


def rest_domain(gen: Any) -> list[tuple[str, dict]]:
    domain = gen.domain
    if domain is None:
        return []
    if not isinstance(domain, dict):
        raise ApiError("Domain must be a map", ("Domain",))
    name, cert = domain.get("DomainName"), domain.get("CertificateArn")
    if name is None:
        raise ApiError("Domain.DomainName is required", ("Domain",))
    if cert is None:
        raise ApiError("Domain.CertificateArn is required", ("Domain",))
    private = domain.get("EndpointConfiguration") == "PRIVATE"
    api, stage_ref = gen.logical_id, {"Ref": gen.stage_id()}
    out: list[tuple[str, dict]] = []
    if private:
        domain_id = "ApiGatewayDomainNameV2" + hash_id(name)
        props: dict = {"DomainName": name, "CertificateArn": cert, "EndpointConfiguration": {"Types": ["PRIVATE"]}}
        if domain.get("IpAddressType"):
            props["EndpointConfiguration"]["IpAddressType"] = domain["IpAddressType"]
        _optional_domain_props(domain, props)
        out.append((domain_id, make_resource("AWS::ApiGateway::DomainNameV2", props, gen.passthrough)))
        arn = {"Ref": domain_id}
        basepaths = _basepaths(domain)
        normalize = domain.get("NormalizeBasePath", True)
        if basepaths is None:
            out.append((api + "BasePathMapping", make_resource("AWS::ApiGateway::BasePathMappingV2", {
                "DomainNameArn": arn, "RestApiId": {"Ref": api}, "Stage": stage_ref}, gen.passthrough)))
        else:
            if not all(isinstance(b, str) for b in basepaths):
                raise ApiError("Domain.BasePath must be a list of strings", ("Domain", "BasePath"))
            for basepath in basepaths:
                path = "".join(e for e in basepath if e.isalnum())
                out.append((api + path + "BasePathMapping", make_resource("AWS::ApiGateway::BasePathMappingV2", {
                    "DomainNameArn": arn, "RestApiId": {"Ref": api}, "Stage": stage_ref,
                    "BasePath": path if normalize else basepath}, gen.passthrough)))
        association = domain.get("AccessAssociation")
        if association is not None:
            if not isinstance(association, dict):
                raise ApiError("Domain.AccessAssociation must be a map", ("Domain", "AccessAssociation"))
            vpce = association.get("VpcEndpointId")
            out.append(("DomainNameAccessAssociation" + hash_id([vpce, domain_id]),
                        make_resource("AWS::ApiGateway::DomainNameAccessAssociation", {
                            "DomainNameArn": arn, "AccessAssociationSourceType": "VPCE",
                            "AccessAssociationSource": vpce}, gen.passthrough)))
        out.extend(_route53(gen, domain, name, name, _rest_alias_target))
        return out
    domain_id = "ApiGatewayDomainName" + hash_id(name)
    domain["ApiDomainName"] = domain_id
    endpoint = domain.get("EndpointConfiguration")
    if endpoint is None:
        endpoint = domain["EndpointConfiguration"] = "REGIONAL"
    elif endpoint not in ("EDGE", "REGIONAL", "PRIVATE"):
        raise ApiError("Domain.EndpointConfiguration must be one of EDGE, REGIONAL, PRIVATE",
                       ("Domain", "EndpointConfiguration"))
    props = {"DomainName": name}
    if endpoint == "REGIONAL":
        props["RegionalCertificateArn"] = cert
    else:
        props["CertificateArn"] = cert
    props["EndpointConfiguration"] = {"Types": [endpoint]}
    if domain.get("IpAddressType"):
        props["EndpointConfiguration"]["IpAddressType"] = domain["IpAddressType"]
    if domain.get("MutualTlsAuthentication"):
        props["MutualTlsAuthentication"] = _mtls(domain["MutualTlsAuthentication"],
                                                 ("Domain", "MutualTlsAuthentication"))
    _optional_domain_props(domain, props)
    out.append((domain_id, make_resource("AWS::ApiGateway::DomainName", props, gen.passthrough)))
    basepaths = _basepaths(domain)
    normalize = domain.get("NormalizeBasePath", True)
    if basepaths is None:
        out.append((api + "BasePathMapping", make_resource("AWS::ApiGateway::BasePathMapping", {
            "DomainName": {"Ref": domain_id}, "RestApiId": {"Ref": api}, "Stage": stage_ref}, gen.passthrough)))
    else:
        if not all(isinstance(b, str) for b in basepaths):
            raise ApiError("Domain.BasePath must be a list of strings", ("Domain", "BasePath"))
        for basepath in basepaths:
            path = "".join(e for e in basepath if e.isalnum())
            out.append((api + path + "BasePathMapping", make_resource("AWS::ApiGateway::BasePathMapping", {
                "DomainName": {"Ref": domain_id}, "RestApiId": {"Ref": api}, "Stage": stage_ref,
                "BasePath": path if normalize else basepath}, gen.passthrough)))
    out.extend(_route53(gen, domain, domain_id, domain_id, _rest_alias_target))
    return out


def _http_alias_target(domain: dict, api_domain_name: str, route53: dict) -> dict:
    target: dict = {}
    if route53.get("EvaluateTargetHealth") is not None:
        target["EvaluateTargetHealth"] = route53.get("EvaluateTargetHealth")
    if domain.get("EndpointConfiguration") != "REGIONAL":
        raise ApiError("only the REGIONAL endpoint is supported on HTTP APIs", ("Domain", "EndpointConfiguration"))
    target["HostedZoneId"] = _getatt(api_domain_name, "RegionalHostedZoneId")
    target["DNSName"] = _getatt(api_domain_name, "RegionalDomainName")
    return target


def http_domain(gen: Any) -> list[tuple[str, dict]]:
    domain = gen.domain
    if domain is None:
        return []
    if not isinstance(domain, dict):
        raise ApiError("Domain must be a map", ("Domain",))
    name, cert = domain.get("DomainName"), domain.get("CertificateArn")
    if name is None or cert is None:
        raise ApiError("custom domains need both DomainName and CertificateArn", ("Domain",))
    config: dict = {"CertificateArn": cert}
    domain_id = "ApiGatewayDomainNameV2" + hash_id(name)
    domain["ApiDomainName"] = domain_id
    props: dict = {"DomainName": name, "Tags": {"httpapi:createdBy": "SAM"}}
    endpoint = domain.get("EndpointConfiguration")
    if endpoint is None:
        endpoint = domain["EndpointConfiguration"] = "REGIONAL"
    elif endpoint != "REGIONAL":
        raise ApiError("Domain.EndpointConfiguration of an HTTP API must be REGIONAL",
                       ("Domain", "EndpointConfiguration"))
    config["EndpointType"] = endpoint
    if domain.get("OwnershipVerificationCertificateArn"):
        config["OwnershipVerificationCertificateArn"] = domain["OwnershipVerificationCertificateArn"]
    if domain.get("SecurityPolicy"):
        config["SecurityPolicy"] = domain["SecurityPolicy"]
    props["DomainNameConfigurations"] = [config]
    if domain.get("MutualTlsAuthentication"):
        props["MutualTlsAuthentication"] = _mtls(domain["MutualTlsAuthentication"],
                                                 ("Domain", "MutualTlsAuthentication"))
    out: list[tuple[str, dict]] = [(domain_id, make_resource("AWS::ApiGatewayV2::DomainName", props,
                                                             gen.passthrough))]
    api, stage_ref = gen.logical_id, {"Ref": gen.stage_id()}
    basepaths = _basepaths(domain)
    if basepaths is None:
        out.append((api + "ApiMapping", make_resource("AWS::ApiGatewayV2::ApiMapping", {
            "DomainName": {"Ref": domain_id}, "ApiId": {"Ref": api}, "Stage": stage_ref}, gen.passthrough)))
    else:
        for path in basepaths:
            if not isinstance(path, str):
                raise ApiError("Domain.BasePath must be a string or a list of strings", ("Domain", "BasePath"))
            if re.search(r"[^0-9a-zA-Z\/\-\_]+", path) is not None:
                raise ApiError(f"invalid BasePath {path!r}: use letters, digits, '/', '-' and '_'",
                               ("Domain", "BasePath"))
            out.append((api + re.sub(r"[\-_/]+", "", path) + "ApiMapping",
                        make_resource("AWS::ApiGatewayV2::ApiMapping", {
                            "DomainName": {"Ref": domain_id}, "ApiId": {"Ref": api}, "Stage": stage_ref,
                            "ApiMappingKey": path.strip("/")}, gen.passthrough)))
    route53 = domain.get("Route53")
    if route53 is not None:
        if not isinstance(route53, dict):
            raise ApiError("Domain.Route53 must be a map", ("Domain", "Route53"))
        if route53.get("HostedZoneId") is None and route53.get("HostedZoneName") is None:
            raise ApiError("HostedZoneId or HostedZoneName is required to enable Route53 support on custom domains",
                           ("Domain", "Route53"))
        group_id = "RecordSetGroup" + hash_id(route53.get("HostedZoneId") or route53.get("HostedZoneName"))
        group = gen.record_set_groups.get(group_id)
        if group is None:
            gprops: dict = {}
            if "HostedZoneId" in route53:
                gprops["HostedZoneId"] = route53.get("HostedZoneId")
            elif "HostedZoneName" in route53:
                gprops["HostedZoneName"] = route53.get("HostedZoneName")
            group = make_resource("AWS::Route53::RecordSetGroup", gprops, gen.passthrough)
            group["Properties"]["RecordSets"] = []
            gen.record_set_groups[group_id] = group
        group["Properties"]["RecordSets"] += _record_sets(domain, route53,
                                                          _http_alias_target(domain, domain_id, route53))
    return out
