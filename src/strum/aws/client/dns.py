"""ACM and Route 53 calls of ``strum.aws.client.AwsClient``: certificates and DNS records."""

from __future__ import annotations

from typing import Any

from strum.aws.client.base import ClientBase


class DnsCalls(ClientBase):
    """Certificates (ACM, the stage's region) and hosted zones and records (Route 53)."""

    # -- ACM ------------------------------------------------------------------------------

    def list_certificates(self, statuses: tuple[str, ...]) -> list[dict[str, Any]]:
        return list(
            self._pages(
                "acm",
                "list_certificates",
                "CertificateSummaryList",
                CertificateStatuses=list(statuses),
            )
        )

    def describe_certificate(self, arn: str) -> dict[str, Any] | None:
        found = self._maybe("acm", "describe_certificate", CertificateArn=arn)
        return dict(found["Certificate"]) if found else None

    def certificate_tags(self, arn: str) -> dict[str, str]:
        found = self._maybe("acm", "list_tags_for_certificate", CertificateArn=arn) or {}
        return {tag["Key"]: tag.get("Value", "") for tag in found.get("Tags") or ()}

    def request_certificate(self, domain: str, token: str, tags: dict[str, str]) -> str:
        """Ask for a DNS-validated certificate; the same ``token`` returns the same one."""
        result = self._call(
            "acm",
            "request_certificate",
            DomainName=domain,
            ValidationMethod="DNS",
            IdempotencyToken=token,
            Tags=[{"Key": key, "Value": value} for key, value in sorted(tags.items())],
        )
        return str(result["CertificateArn"])

    def delete_certificate(self, arn: str) -> None:
        self._call("acm", "delete_certificate", CertificateArn=arn)

    # -- Route 53 -------------------------------------------------------------------------

    def list_hosted_zones(self) -> list[dict[str, Any]]:
        return list(self._pages("route53", "list_hosted_zones", "HostedZones"))

    def records_named(self, zone_id: str, name: str) -> list[dict[str, Any]]:
        """The record sets of ``zone_id`` named ``name`` (any type)."""
        wanted = name.rstrip(".").lower() + "."
        found = self._call(
            "route53",
            "list_resource_record_sets",
            HostedZoneId=zone_id,
            StartRecordName=wanted,
            MaxItems="20",
        )
        return [
            dict(record)
            for record in found.get("ResourceRecordSets") or ()
            if str(record.get("Name", "")).lower() == wanted
        ]

    def change_record(self, zone_id: str, action: str, record: dict[str, Any]) -> None:
        """``UPSERT`` or ``DELETE`` one record set (a DELETE must match it exactly)."""
        self._call(
            "route53",
            "change_resource_record_sets",
            HostedZoneId=zone_id,
            ChangeBatch={
                "Comment": "strum",
                "Changes": [{"Action": action, "ResourceRecordSet": record}],
            },
        )
