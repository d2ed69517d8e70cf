"""Reading a stage's custom domain on AWS: the hosted zone, certificates, the API Gateway
domain name and the DNS records, as one ``CurrentDomain`` (planning: ``strum.aws.plan.domain``).

ACM reports the validation record a few seconds after a certificate is requested; what is
read here is what a deploy would use now.
"""

from __future__ import annotations

from typing import Any

from strum.aws.client import AwsClient
from strum.aws.model import CurrentDomain, Record, owned, same_name
from strum.deploy.errors import DeployError

CERTIFICATE_STATES = ("ISSUED", "PENDING_VALIDATION")
_ADDRESS_TYPES = ("A", "AAAA", "CNAME")


def find_zone(client: AwsClient, domain: str) -> dict[str, Any]:
    """The public hosted zone holding ``domain``: the longest matching suffix wins."""
    zones = [
        zone
        for zone in client.list_hosted_zones()
        if _within(domain, str(zone["Name"])) and not (zone.get("Config") or {}).get("PrivateZone")
    ]
    if zones:
        return max(zones, key=lambda zone: len(str(zone["Name"])))
    parent = ".".join(domain.split(".")[-2:])
    raise DeployError(
        f"no public Route 53 hosted zone holds {domain}, so strum cannot validate its "
        f"certificate or point it at the API. Create one for the domain you own (e.g. "
        f"`aws route53 create-hosted-zone --name {parent} --caller-reference strum-{parent}`) "
        "and set its NS records at your registrar, then deploy again"
    )


def _within(domain: str, zone: str) -> bool:
    zone = zone.rstrip(".").lower()
    return domain == zone or domain.endswith("." + zone)


def domain_target(domain_name: dict[str, Any]) -> tuple[str, str] | None:
    config = (domain_name.get("DomainNameConfigurations") or [{}])[0]
    target, zone = config.get("ApiGatewayDomainName"), config.get("HostedZoneId")
    return (str(target), str(zone)) if target and zone else None


def validation_record(certificate: dict[str, Any], domain: str) -> Record | None:
    for option in certificate.get("DomainValidationOptions") or ():
        record = option.get("ResourceRecord")
        if record and same_name(str(option.get("DomainName", "")), domain):
            return Record(str(record["Name"]), str(record["Type"]), (str(record["Value"]),))
    return None


def _as_record(found: dict[str, Any]) -> Record:
    alias = found.get("AliasTarget")
    return Record(
        name=str(found["Name"]),
        type=str(found["Type"]),
        values=tuple(str(r["Value"]) for r in found.get("ResourceRecords") or ()),
        alias=(str(alias["DNSName"]), str(alias["HostedZoneId"])) if alias else None,
    )


def same_record(found: dict[str, Any], record: Record) -> bool:
    have = _as_record(found)
    values = sorted(value.rstrip(".").lower() for value in have.values)
    return have.type == record.type and values == sorted(
        value.rstrip(".").lower() for value in record.values
    )


def _has_record(client: AwsClient, zone_id: str, record: Record) -> bool:
    return any(same_record(found, record) for found in client.records_named(zone_id, record.name))


def owned_domains(client: AwsClient, project: str, stage: str) -> list[dict[str, Any]]:
    """The API Gateway domain names strum made for the stage (found by their tags)."""
    return [d for d in client.list_domain_names() if owned(d.get("Tags") or {}, project, stage)]


def read_domain(
    client: AwsClient, desired: Any, mine: list[dict[str, Any]]
) -> CurrentDomain | None:
    """The stage's domain as AWS has it, with the certificate a deploy would use."""
    domain = desired.domain
    if domain is None:
        return None
    zone = find_zone(client, domain)
    zone_id = str(zone["Id"]).rsplit("/", 1)[-1]
    found = next((d for d in mine if same_name(str(d["DomainName"]), domain)), None)
    if found is None and client.get_domain_name(domain) is not None:
        raise DeployError(
            f"the API Gateway domain name {domain} exists in {desired.region} but strum did not "
            f"create it for stage {desired.stage!r} (it lacks the strum tags); strum will not "
            "change it. Delete it, or use another domain"
        )
    domain_certificate = None
    if found is not None:
        config = (found.get("DomainNameConfigurations") or [{}])[0]
        domain_certificate = config.get("CertificateArn")
    arn, status, mine_cert, certificate = _choose_certificate(
        client, domain, domain_certificate, desired.project, desired.stage
    )
    validation = validation_record(certificate, domain) if certificate else None
    in_zone = True
    if mine_cert and validation is not None:
        in_zone = _has_record(client, zone_id, validation)
    mappings: tuple[tuple[str, str, str, str], ...] = ()
    if found is not None:
        mappings = tuple(
            (
                str(m["ApiMappingId"]),
                str(m.get("ApiId")),
                str(m.get("Stage")),
                str(m.get("ApiMappingKey") or ""),
            )
            for m in client.list_api_mappings(domain)
        )
    record = _current_record(client, zone_id, domain, found)
    return CurrentDomain(
        domain=domain,
        zone_id=zone_id,
        zone_name=str(zone["Name"]).rstrip("."),
        certificate_arn=arn,
        certificate_status=status,
        certificate_owned=mine_cert,
        validation=validation,
        validation_in_zone=in_zone,
        domain_certificate=domain_certificate,
        domain_exists=found is not None,
        target=domain_target(found) if found else None,
        mappings=mappings,
        record=record,
    )


def _choose_certificate(
    client: AwsClient, domain: str, in_use: str | None, project: str, stage: str
) -> tuple[str | None, str | None, bool, dict[str, Any] | None]:
    """(ARN, status, strum's own, description) of the certificate to use, if there is one.

    The domain name's own certificate while it is issued; else an issued certificate for
    exactly this name (strum's own first); else one strum requested for the stage and ACM
    is still validating. Someone else's pending certificate is never waited on.
    """
    if in_use:
        described = client.describe_certificate(in_use)
        if (
            described
            and described.get("Status") == "ISSUED"
            and same_name(str(described.get("DomainName", "")), domain)
        ):
            return (
                in_use,
                "ISSUED",
                owned(client.certificate_tags(in_use), project, stage),
                described,
            )
    choices = []
    for summary in client.list_certificates(CERTIFICATE_STATES):
        if not same_name(str(summary.get("DomainName", "")), domain):
            continue
        arn = str(summary["CertificateArn"])
        described = client.describe_certificate(arn) or {}
        ours = owned(client.certificate_tags(arn), project, stage)
        status = str(described.get("Status"))
        if status == "ISSUED" or (ours and status == "PENDING_VALIDATION"):
            rank = (status != "ISSUED", not ours)
            choices.append((rank, arn, status, ours, described))
    if not choices:
        return None, None, False, None
    _, arn, status, ours, described = min(choices, key=lambda choice: choice[0])
    return arn, status, ours, described


def _current_record(
    client: AwsClient, zone_id: str, domain: str, found: dict[str, Any] | None
) -> Record | None:
    records = [
        _as_record(r) for r in client.records_named(zone_id, domain) if r["Type"] in _ADDRESS_TYPES
    ]
    if not records:
        return None
    record = records[0]
    target = domain_target(found) if found else None
    pointed = record.alias[0] if record.alias else " ".join(record.values)
    ours = target is not None and same_name(pointed, target[0])
    if not ours and ".execute-api." not in pointed:
        raise DeployError(
            f"the hosted zone already has {'a' if record.type == 'CNAME' else 'an'} "
            f"{record.type} record for {domain} (-> {pointed}); "
            "strum will not replace a record it did not make. Delete that record (or choose "
            "another domain) and deploy again"
        )
    return record


def hosted_zone_id(client: AwsClient, domain: str) -> str | None:
    try:
        return str(find_zone(client, domain)["Id"]).rsplit("/", 1)[-1]
    except DeployError:
        return None
