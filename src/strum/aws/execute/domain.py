"""Carrying out a stage's custom-domain steps on AWS, and removing its domains.

The planning is pure (``strum.aws.plan.domain``) and the reading in ``strum.aws.read.domain``;
this is the writing. ACM and DNS are slow and eventually consistent, and the waits here are
bounded and reported: ACM issues the certificate minutes after the record is visible in DNS.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from strum.aws.client import AwsClient
from strum.aws.errors import AwsError
from strum.aws.model import CurrentDomain, Record, owned, same_name
from strum.aws.plan.domain import (
    EnsureApiMapping,
    EnsureCertificate,
    EnsureDomainName,
    PutDomainRecord,
    RemoveDomain,
)
from strum.aws.read.domain import (
    CERTIFICATE_STATES,
    domain_target,
    hosted_zone_id,
    same_record,
    validation_record,
)
from strum.deploy.errors import DeployError
from strum.deploy.steps import Step


def _remove_domain(executor: Any, step: RemoveDomain) -> None:
    d = step.desired
    remove_domain(executor.client, step.domain, d.project, d.stage, executor.patience.sleep)


def _ensure_domain_name(executor: Any, step: EnsureDomainName) -> None:
    client: AwsClient = executor.client
    current, produced = step.current, executor.produced
    arn = produced.get("certificate_arn") or current.certificate_arn
    if current.domain_exists:
        result = client.update_domain_certificate(current.domain, str(arn))
    else:
        result = client.create_domain_name(current.domain, str(arn), step.desired.tags)
    produced["domain_target"] = domain_target(result)


def _ensure_api_mapping(executor: Any, step: EnsureApiMapping) -> None:
    client: AwsClient = executor.client
    current = step.current
    for mapping_id in step.stale:
        client.delete_api_mapping(current.domain, mapping_id)
    api_id = step.api_id or executor.produced.get("api_id")
    if not any(m[1:] == (api_id, "$default", "") for m in current.mappings):
        client.create_api_mapping(current.domain, str(api_id))


def _put_domain_record(executor: Any, step: PutDomainRecord) -> None:
    client: AwsClient = executor.client
    current: CurrentDomain = step.current
    domain = current.domain
    target = executor.produced.get("domain_target") or current.target
    if target is None:
        raise DeployError(
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
            lambda: validation_record(client.describe_certificate(str(arn)) or {}, current.domain),
            60.0,
            f"ACM has not given the validation record for {current.domain} yet",
        )
    client.change_record(current.zone_id, "UPSERT", record.record_set())
    if current.certificate_status == "ISSUED":
        return

    def issued() -> bool | None:
        status = (client.describe_certificate(str(arn)) or {}).get("Status")
        if status in ("FAILED", "VALIDATION_TIMED_OUT", "REVOKED", "EXPIRED", "INACTIVE"):
            raise DeployError(
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
            raise DeployError(
                f"gave up after {waited:.0f} s: {waiting}. Run the deploy again"
                + (f"; {resume}" if resume else "")
            )
        if waited - told >= 60:
            executor.notify(f"{waiting} - {waited:.0f} s so far" if waited >= 1 else waiting)
            told = waited
        patience.sleep(delay)
        delay = min(delay * 1.5, 15.0)


# Step type -> what carries it out, given the executor (client, produced, patience, notify).
DOMAIN_RUNNERS: dict[type[Step], Callable[[Any, Any], None]] = {
    EnsureCertificate: _ensure_certificate,
    EnsureDomainName: _ensure_domain_name,
    EnsureApiMapping: _ensure_api_mapping,
    PutDomainRecord: _put_domain_record,
    RemoveDomain: _remove_domain,
}


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
    zone_id = hosted_zone_id(client, domain)
    target = domain_target(found)
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
    validation = validation_record(described, domain)
    zone_id = hosted_zone_id(client, domain)
    # ACM gives every certificate for a name the same record: keep it while another uses it.
    others = [
        s
        for s in client.list_certificates(CERTIFICATE_STATES)
        if same_name(str(s.get("DomainName", "")), domain) and s["CertificateArn"] != arn
    ]
    if validation and zone_id and not others:
        for record in client.records_named(zone_id, validation.name):
            if same_record(record, validation):
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
