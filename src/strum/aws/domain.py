"""A stage's custom domain on AWS: what it has now, and the steps that put it in step.

Pure, like ``strum.aws.plan``: ``plan_domain`` compares the stage's ``domain`` with a
``CurrentDomain`` (read by ``strum.aws.domain_io``) and returns steps that
``strum.aws.domain_io.run_domain_step`` carries out. A custom domain rides on the HTTP API:
an ACM certificate validated through a Route 53 record, an API Gateway domain name with a
mapping to the API's ``$default`` stage, and an alias record pointing the name at it.
"""

from __future__ import annotations

from dataclasses import dataclass

from strum.deploy.plan import Step

TYPE_CHECKING = False
if TYPE_CHECKING:
    from strum.aws.plan import DesiredStage


@dataclass(frozen=True)
class Record:
    """One DNS record as strum compares it: a name, a type and either values or an alias."""

    name: str
    type: str
    values: tuple[str, ...] = ()
    alias: tuple[str, str] | None = None  # (DNS name, hosted zone id) of an alias target

    def record_set(self) -> dict[str, object]:
        """The Route 53 ``ResourceRecordSet`` for this record."""
        if self.alias is not None:
            return {
                "Name": self.name,
                "Type": self.type,
                "AliasTarget": {
                    "DNSName": self.alias[0],
                    "HostedZoneId": self.alias[1],
                    "EvaluateTargetHealth": False,
                },
            }
        return {
            "Name": self.name,
            "Type": self.type,
            "TTL": 300,
            "ResourceRecords": [{"Value": value} for value in self.values],
        }


def same_name(a: str, b: str) -> bool:
    """Whether two DNS names are the same (case and the trailing dot aside)."""
    return a.rstrip(".").lower() == b.rstrip(".").lower()


@dataclass(frozen=True)
class CurrentDomain:
    """The stage's custom domain as AWS has it; ``None`` for what does not exist.

    ``certificate_arn`` is the certificate the deploy will use: the domain name's own when
    it is issued, else an issued one for exactly this name, else one strum requested earlier
    and that is still being validated (``certificate_status`` says which).
    """

    domain: str
    zone_id: str
    zone_name: str
    certificate_arn: str | None = None
    certificate_status: str | None = None
    certificate_owned: bool = False
    validation: Record | None = None  # the CNAME ACM asks for (once ACM has said it)
    validation_in_zone: bool = False
    domain_certificate: str | None = None  # the certificate the API Gateway domain uses
    domain_exists: bool = False
    target: tuple[str, str] | None = None  # the domain's regional (DNS name, zone id)
    mappings: tuple[tuple[str, str, str, str], ...] = ()  # (id, api id, stage, key)
    record: Record | None = None  # what the zone has at the name now (A, AAAA or CNAME)


@dataclass(frozen=True)
class EnsureCertificate(Step):
    """Request the certificate if needed, put its validation record, wait until ISSUED."""

    desired: DesiredStage
    current: CurrentDomain

    def describe(self) -> str:
        c, name = self.current, self.current.domain
        if c.certificate_arn is None:
            return f"request a certificate for {name} (ACM, DNS-validated in {c.zone_name})"
        if c.certificate_status == "ISSUED":
            return f"restore the validation record of the certificate for {name}"
        return f"wait for ACM to validate the certificate for {name}"


@dataclass(frozen=True)
class EnsureDomainName(Step):
    """Create the API Gateway domain name, or move it to the certificate chosen."""

    desired: DesiredStage
    current: CurrentDomain

    def describe(self) -> str:
        verb = "switch the certificate of" if self.current.domain_exists else "create"
        return f"{verb} API Gateway domain name {self.current.domain} (regional)"


@dataclass(frozen=True)
class EnsureApiMapping(Step):
    """Map the domain to the stage's HTTP API, removing mappings to anything else."""

    desired: DesiredStage
    current: CurrentDomain
    api_id: str | None  # None: the HTTP API this deploy creates
    stale: tuple[str, ...] = ()  # mapping ids to delete

    def describe(self) -> str:
        return f"map {self.current.domain} to the HTTP API of {self.desired.function}"


@dataclass(frozen=True)
class PutDomainRecord(Step):
    """Point the name at the domain's regional target (an alias A record)."""

    desired: DesiredStage
    current: CurrentDomain

    def describe(self) -> str:
        return f"point {self.current.domain} at API Gateway (alias A record in {self.current.zone_name})"


@dataclass(frozen=True)
class RemoveDomain(Step):
    """Remove a domain the stage no longer has: mapping, record, domain name, own certificate."""

    desired: DesiredStage
    domain: str

    def describe(self) -> str:
        return f"remove custom domain {self.domain} (mapping, DNS record, certificate strum made)"


def plan_domain(
    desired: DesiredStage, current: CurrentDomain | None, owned: tuple[str, ...], api_id: str | None
) -> list[Step]:
    """The steps for the stage's domain; ``owned`` are the domain names strum made for it.

    ``api_id`` is the stage's HTTP API as it is (``None``: this deploy creates it).
    """
    steps: list[Step] = []
    wanted = desired.domain
    steps += [RemoveDomain(desired, name) for name in owned if name != wanted]
    if wanted is None or current is None:
        return steps
    issued = current.certificate_status == "ISSUED"
    record_needed = current.certificate_owned and not current.validation_in_zone
    if not issued or record_needed:
        steps.append(EnsureCertificate(desired, current))
    if not current.domain_exists or current.domain_certificate != current.certificate_arn:
        steps.append(EnsureDomainName(desired, current))
    ours = [m for m in current.mappings if api_id and m[1:] == (api_id, "$default", "")]
    stale = tuple(m[0] for m in current.mappings if m not in ours)
    if not ours or stale:
        steps.append(EnsureApiMapping(desired, current, api_id, stale))
    target = current.target
    record = current.record
    in_step = (
        target is not None
        and record is not None
        and record.type == "A"
        and record.alias is not None
        and same_name(record.alias[0], target[0])
        and record.alias[1] == target[1]
    )
    if not in_step:
        steps.append(PutDomainRecord(desired, current))
    return steps
