"""A stage's custom domain against AWS: reading it, carrying out its steps, removing it.

The planning is pure (``strum.aws.domain``); this is the I/O around it. ACM and DNS are
slow and eventually consistent, and the waits here are bounded and reported: ACM reports the
validation record a few seconds after the request, and issues the certificate minutes after
the record is visible in DNS.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from strum.aws.client import AwsClient
from strum.aws.domain import (
    CurrentDomain,
    EnsureApiMapping,
    EnsureCertificate,
    EnsureDomainName,
    PutDomainRecord,
    Record,
    RemoveDomain,
    same_name,
)
from strum.aws.errors import AwsDeployError, AwsError
from strum.aws.state import owned
from strum.deploy.plan import Step

DOMAIN_STEPS = (
    EnsureCertificate,
    EnsureDomainName,
    EnsureApiMapping,
    PutDomainRecord,
    RemoveDomain,
)
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
    raise AwsDeployError(
        f"no public Route 53 hosted zone holds {domain}, so strum cannot validate its "
        f"certificate or point it at the API. Create one for the domain you own (e.g. "
        f"`aws route53 create-hosted-zone --name {parent} --caller-reference strum-{parent}`) "
        "and set its NS records at your registrar, then deploy again"
    )


def _within(domain: str, zone: str) -> bool:
    zone = zone.rstrip(".").lower()
    return domain == zone or domain.endswith("." + zone)


def _target(domain_name: dict[str, Any]) -> tuple[str, str] | None:
    config = (domain_name.get("DomainNameConfigurations") or [{}])[0]
    target, zone = config.get("ApiGatewayDomainName"), config.get("HostedZoneId")
    return (str(target), str(zone)) if target and zone else None


def _validation(certificate: dict[str, Any], domain: str) -> Record | None:
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


def _same_record(found: dict[str, Any], record: Record) -> bool:
    have = _as_record(found)
    values = sorted(value.rstrip(".").lower() for value in have.values)
    return have.type == record.type and values == sorted(
        value.rstrip(".").lower() for value in record.values
    )


def _has_record(client: AwsClient, zone_id: str, record: Record) -> bool:
    return any(_same_record(found, record) for found in client.records_named(zone_id, record.name))


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
        raise AwsDeployError(
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
    validation = _validation(certificate, domain) if certificate else None
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
        target=_target(found) if found else None,
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
    target = _target(found) if found else None
    pointed = record.alias[0] if record.alias else " ".join(record.values)
    ours = target is not None and same_name(pointed, target[0])
    if not ours and ".execute-api." not in pointed:
        raise AwsDeployError(
            f"the hosted zone already has {'a' if record.type == 'CNAME' else 'an'} "
            f"{record.type} record for {domain} (-> {pointed}); "
            "strum will not replace a record it did not make. Delete that record (or choose "
            "another domain) and deploy again"
        )
    return record


# -- carrying out the steps ------------------------------------------------------------


def run_domain_step(executor: Any, step: Step) -> None:
    """Carry out one domain step for ``strum.aws.execute.Executor``."""
    client: AwsClient = executor.client
    produced: dict[str, Any] = executor.produced
    if isinstance(step, RemoveDomain):
        d = step.desired
        remove_domain(client, step.domain, d.project, d.stage, executor.patience.sleep)
        return
    current: CurrentDomain = step.current  # type: ignore[attr-defined]
    domain = current.domain
    if isinstance(step, EnsureCertificate):
        _ensure_certificate(executor, step)
    elif isinstance(step, EnsureDomainName):
        arn = produced.get("certificate_arn") or current.certificate_arn
        if current.domain_exists:
            result = client.update_domain_certificate(domain, str(arn))
        else:
            result = client.create_domain_name(domain, str(arn), step.desired.tags)
        produced["domain_target"] = _target(result)
    elif isinstance(step, EnsureApiMapping):
        for mapping_id in step.stale:
            client.delete_api_mapping(domain, mapping_id)
        api_id = step.api_id or produced.get("api_id")
        if not any(m[1:] == (api_id, "$default", "") for m in current.mappings):
            client.create_api_mapping(domain, str(api_id))
    elif isinstance(step, PutDomainRecord):
        target = produced.get("domain_target") or current.target
        if target is None:
            raise AwsDeployError(
                f"API Gateway did not report the regional target of {domain} (its "
                "ApiGatewayDomainName and HostedZoneId); run the deploy again in a minute"
            )
        old = current.record
        if old is not None and old.type != "A":  # a CNAME cannot sit beside the A record
            client.change_record(current.zone_id, "DELETE", old.record_set())
        client.change_record(
            current.zone_id, "UPSERT", Record(domain + ".", "A", alias=target).record_set()
        )


def _ensure_certificate(executor: Any, step: EnsureCertificate) -> None:
    client: AwsClient = executor.client
    current, d = step.current, step.desired
    arn = current.certificate_arn
    if arn is None:
        # The same token within the hour returns the same certificate: a retried deploy
        # does not request a second one.
        token = hashlib.sha256(f"{d.function} {current.domain}".encode()).hexdigest()[:32]
        arn = client.request_certificate(current.domain, token, d.tags)
    executor.produced["certificate_arn"] = arn
    record = current.validation
    if record is None:
        record = _poll(
            executor,
            lambda: _validation(client.describe_certificate(str(arn)) or {}, current.domain),
            60.0,
            f"ACM has not given the validation record for {current.domain} yet",
        )
    client.change_record(current.zone_id, "UPSERT", record.record_set())
    if current.certificate_status == "ISSUED":
        return

    def issued() -> bool | None:
        status = (client.describe_certificate(str(arn)) or {}).get("Status")
        if status in ("FAILED", "VALIDATION_TIMED_OUT", "REVOKED", "EXPIRED", "INACTIVE"):
            raise AwsDeployError(
                f"ACM could not issue the certificate for {current.domain} ({status}); check "
                f"that {current.zone_name} is the zone your registrar delegates to (its NS "
                f"records), delete certificate {arn} and deploy again"
            )
        return True if status == "ISSUED" else None

    _poll(
        executor,
        issued,
        executor.patience.certificate_issued,
        f"waiting for ACM to validate the certificate for {current.domain} (the record "
        f"{record.name} is in {current.zone_name}; this usually takes a few minutes)",
        resume=f"the deploy resumes with certificate {arn}",
    )


def _poll(
    executor: Any, check: Callable[[], Any], limit: float, waiting: str, resume: str = ""
) -> Any:
    """``check()`` until it returns something, within ``limit`` seconds; progress each minute."""
    patience = executor.patience
    start = patience.clock()
    delay, told = 2.0, -60.0
    while True:
        found = check()
        if found is not None:
            return found
        waited = patience.clock() - start
        if waited + delay > limit:
            raise AwsDeployError(
                f"gave up after {waited:.0f} s: {waiting}. Run the deploy again"
                + (f"; {resume}" if resume else "")
            )
        if waited - told >= 60:
            executor.notify(f"{waiting} - {waited:.0f} s so far" if waited >= 1 else waiting)
            told = waited
        patience.sleep(delay)
        delay = min(delay * 1.5, 15.0)


# -- removal (a deploy without the domain, and undeploy) ---------------------------------


def remove_domain(
    client: AwsClient, domain: str, project: str, stage: str, sleep: Callable[[float], None]
) -> None:
    """Remove a domain strum made for the stage: its mappings, the alias record pointing at
    it, the domain name, and the certificate with its validation record if strum made it."""
    found = client.get_domain_name(domain)
    if found is None or not owned(found.get("Tags") or {}, project, stage):
        return
    for mapping in client.list_api_mappings(domain):
        client.delete_api_mapping(domain, str(mapping["ApiMappingId"]))
    zone_id = _zone_id(client, domain)
    target = _target(found)
    if zone_id and target:
        for record in client.records_named(zone_id, domain):
            alias = record.get("AliasTarget") or {}
            if same_name(str(alias.get("DNSName", "")), target[0]):
                client.change_record(zone_id, "DELETE", record)
    client.delete_domain_name(domain)
    certificate = (found.get("DomainNameConfigurations") or [{}])[0].get("CertificateArn")
    if certificate:
        remove_certificate(client, str(certificate), domain, project, stage, sleep)


def remove_certificate(
    client: AwsClient,
    arn: str,
    domain: str,
    project: str,
    stage: str,
    sleep: Callable[[float], None],
) -> bool:
    """Delete a certificate strum requested for the stage (and its validation record)."""
    if not owned(client.certificate_tags(arn), project, stage):
        return False
    described = client.describe_certificate(arn) or {}
    validation = _validation(described, domain)
    zone_id = _zone_id(client, domain)
    # ACM gives every certificate for a name the same record: keep it while another uses it.
    others = [
        s
        for s in client.list_certificates(CERTIFICATE_STATES)
        if same_name(str(s.get("DomainName", "")), domain) and s["CertificateArn"] != arn
    ]
    if validation and zone_id and not others:
        for record in client.records_named(zone_id, validation.name):
            if _same_record(record, validation):
                client.change_record(zone_id, "DELETE", record)
    for attempt in range(12):
        try:
            client.delete_certificate(arn)
            return True
        except AwsError as exc:
            # API Gateway lets go of a certificate some seconds after its domain is gone.
            if exc.code != "ResourceInUseException" or attempt == 11:
                raise
            sleep(5.0)
    return True


def remove_stage_certificates(
    client: AwsClient, domain: str, project: str, stage: str, sleep: Callable[[float], None]
) -> bool:
    """Delete certificates strum requested for the stage's domain that no domain name uses
    (a deploy stopped while ACM was validating); whether any went."""
    removed = False
    for summary in client.list_certificates(CERTIFICATE_STATES):
        if same_name(str(summary.get("DomainName", "")), domain):
            arn = str(summary["CertificateArn"])
            removed = remove_certificate(client, arn, domain, project, stage, sleep) or removed
    return removed


def _zone_id(client: AwsClient, domain: str) -> str | None:
    try:
        return str(find_zone(client, domain)["Id"]).rsplit("/", 1)[-1]
    except AwsDeployError:
        return None
