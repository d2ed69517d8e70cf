"""A stage's custom domain on AWS: what it has now, and the steps that put it in step.

Pure, like the rest of ``strum.aws.plan``: ``plan_domain`` compares the stage's ``domain``
with a ``CurrentDomain`` (read by ``strum.aws.read.domain``) and returns steps that
``strum.aws.execute.domain`` carries out. A custom domain rides on the HTTP API:
an ACM certificate validated through a Route 53 record, an API Gateway domain name with a
mapping to the API's ``$default`` stage, and an alias record pointing the name at it.
"""

from __future__ import annotations

from dataclasses import dataclass

from strum.aws.model import CurrentDomain, same_name
from strum.deploy.steps import Step

TYPE_CHECKING = False
if TYPE_CHECKING:
    from strum.aws.model import DesiredStage


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
