"""A custom domain on an AWS stage, against a real moto server: certificate, DNS, API
Gateway domain name and mapping, inspected with boto3; writes counted from the client's log."""

from __future__ import annotations

import hashlib
import time

import boto3
import pytest

from strum.aws import AwsTarget
from strum.aws.client import AwsClient
from strum.aws.execute import Patience
from strum.config import load_config
from strum.deploy import DeployError
from strum.platform.home import Home
from tests.aws.conftest import REGION, make_project
from tests.aws.test_deploy import Quiet

DOMAIN = "api.example.com"
STAGE = f'http_api = true\ndomain = "{DOMAIN}"'
TAGS = {"strum:project": "shop", "strum:stage": "prod"}


class MotoDomainTargets(AwsClient):
    """moto 5.2 does not report a regional domain name's target (``ApiGatewayDomainName``,
    ``HostedZoneId``), which AWS always does; this fills them in as AWS would."""

    def _fill(self, found):
        for config in (found or {}).get("DomainNameConfigurations") or ():
            digest = hashlib.sha256(found["DomainName"].encode()).hexdigest()[:10]
            config.setdefault(
                "ApiGatewayDomainName", f"d-{digest}.execute-api.{REGION}.amazonaws.com"
            )
            config.setdefault("HostedZoneId", "ZLY8HYME6SFDD")
        return found

    def create_domain_name(self, name, certificate_arn, tags):
        return self._fill(super().create_domain_name(name, certificate_arn, tags))

    def get_domain_name(self, name):
        return self._fill(super().get_domain_name(name))

    def list_domain_names(self):
        return [self._fill(found) for found in super().list_domain_names()]


def boto(service: str):
    return boto3.client(service, region_name=REGION)


def deploy(root, tmp_path):
    config = load_config(root, "prod")
    client = MotoDomainTargets(config.region, None)
    quiet = Quiet()
    patience = Patience(certificate_issued=30)
    result = AwsTarget(config, Home(tmp_path / "home"), client=client, patience=patience).deploy(
        quiet.step, quiet.info
    )
    return result, client, quiet


def undeploy(root):
    config = load_config(root, "prod")
    client = MotoDomainTargets(config.region, None)
    return AwsTarget(config, client=client).undeploy(Quiet().step), client


def zone(name: str = "example.com") -> str:
    route53 = boto("route53")
    return route53.create_hosted_zone(Name=name, CallerReference=name)["HostedZone"]["Id"]


def records(zone_id: str) -> dict[tuple[str, str], dict]:
    found = boto("route53").list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]
    return {(r["Name"], r["Type"]): r for r in found if r["Type"] not in ("NS", "SOA")}


def test_a_domain_gets_a_certificate_a_mapping_and_an_alias_record(aws, tmp_path):
    zone("com")  # a shorter suffix: the longest matching zone wins
    zone_id = zone()
    root = make_project(tmp_path / "shop", stage_extra=STAGE)
    result, _client, quiet = deploy(root, tmp_path)
    assert result.url == f"https://{DOMAIN}"
    assert any(
        "wait for ACM to validate" in line or "request a certificate" in line
        for line in quiet.lines
    )

    # The certificate: DNS-validated, issued, tagged as the stage's.
    acm = boto("acm")
    (summary,) = acm.list_certificates()["CertificateSummaryList"]
    certificate = acm.describe_certificate(CertificateArn=summary["CertificateArn"])["Certificate"]
    assert (certificate["DomainName"], certificate["Status"]) == (DOMAIN, "ISSUED")
    tags = acm.list_tags_for_certificate(CertificateArn=certificate["CertificateArn"])["Tags"]
    assert {t["Key"]: t["Value"] for t in tags} == TAGS
    validation = certificate["DomainValidationOptions"][0]["ResourceRecord"]

    # The domain name: regional, with that certificate, mapped to the stage's HTTP API.
    gateway = boto("apigatewayv2")
    (api,) = gateway.get_apis()["Items"]
    domain = gateway.get_domain_name(DomainName=DOMAIN)
    (config,) = domain["DomainNameConfigurations"]
    assert (config["EndpointType"], config["CertificateArn"]) == (
        "REGIONAL",
        certificate["CertificateArn"],
    )
    assert domain["Tags"] == TAGS
    (mapping,) = gateway.get_api_mappings(DomainName=DOMAIN)["Items"]
    assert (mapping["ApiId"], mapping["Stage"]) == (api["ApiId"], "$default")
    assert not mapping.get("ApiMappingKey")

    # DNS: the validation CNAME and an alias A record at the regional target.
    found = records(zone_id)
    assert found[(validation["Name"], "CNAME")]["ResourceRecords"] == [
        {"Value": validation["Value"]}
    ]
    alias = found[(f"{DOMAIN}.", "A")]["AliasTarget"]
    digest = hashlib.sha256(DOMAIN.encode()).hexdigest()[:10]
    assert alias["DNSName"].rstrip(".") == f"d-{digest}.execute-api.{REGION}.amazonaws.com"
    assert alias["HostedZoneId"] == "ZLY8HYME6SFDD"

    # The same deploy again: not one write.
    again, client, _ = deploy(root, tmp_path)
    assert again.steps == []
    assert client.log.writes == []
    assert again.url == f"https://{DOMAIN}"
    # Seven reads for the domain: domain names, zones, certificate and its tags, the two
    # records, the mappings.
    api_parts = ("GetApis", "GetIntegrations", "GetRoutes", "GetStages")
    domain_calls = [
        call
        for call in client.log.calls
        if call[0] in ("acm", "route53", "apigatewayv2") and call[1] not in api_parts
    ]
    assert len(domain_calls) == 7, domain_calls

    # Undeploy leaves the zone as it was and no certificate behind.
    removed, _ = undeploy(root)
    assert removed is True
    assert records(zone_id) == {}
    assert gateway.get_domain_names()["Items"] == []
    assert acm.list_certificates()["CertificateSummaryList"] == []
    assert gateway.get_apis()["Items"] == []


def test_an_issued_certificate_of_the_users_is_reused_and_kept(aws, tmp_path):
    zone_id = zone()
    acm = boto("acm")
    arn = acm.request_certificate(DomainName=DOMAIN, ValidationMethod="DNS")["CertificateArn"]
    deadline = time.monotonic() + 10
    while acm.describe_certificate(CertificateArn=arn)["Certificate"]["Status"] != "ISSUED":
        assert time.monotonic() < deadline
        time.sleep(0.5)
    root = make_project(tmp_path / "shop", stage_extra=STAGE)
    _result, client, _ = deploy(root, tmp_path)
    assert ("acm", "RequestCertificate") not in client.log.writes
    config = boto("apigatewayv2").get_domain_name(DomainName=DOMAIN)["DomainNameConfigurations"]
    assert config[0]["CertificateArn"] == arn
    assert [key[1] for key in records(zone_id)] == ["A"]  # no validation record: not ours

    undeploy(root)
    assert [c["CertificateArn"] for c in acm.list_certificates()["CertificateSummaryList"]] == [arn]


def test_dropping_the_domain_removes_it_and_keeps_the_api(aws, tmp_path):
    zone_id = zone()
    root = make_project(tmp_path / "shop", stage_extra=STAGE)
    deploy(root, tmp_path)
    pyproject = root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace(f'domain = "{DOMAIN}"', ""))
    result, _, _ = deploy(root, tmp_path)
    assert [type(step).__name__ for step in result.steps] == ["RemoveDomain"]
    assert result.url.startswith("https://") and DOMAIN not in result.url
    assert boto("apigatewayv2").get_domain_names()["Items"] == []
    assert records(zone_id) == {}
    assert boto("acm").list_certificates()["CertificateSummaryList"] == []
    assert len(boto("apigatewayv2").get_apis()["Items"]) == 1


def test_no_hosted_zone_says_which_to_create(aws, tmp_path):
    root = make_project(tmp_path / "shop", stage_extra=STAGE)
    with pytest.raises(DeployError) as failure:
        deploy(root, tmp_path)
    message = str(failure.value)
    assert f"no public Route 53 hosted zone holds {DOMAIN}" in message
    assert "aws route53 create-hosted-zone --name example.com" in message
    assert "NS records" in message


def test_a_record_strum_did_not_make_is_not_replaced(aws, tmp_path):
    zone_id = zone()
    boto("route53").change_resource_record_sets(
        HostedZoneId=zone_id,
        ChangeBatch={
            "Changes": [
                {
                    "Action": "CREATE",
                    "ResourceRecordSet": {
                        "Name": DOMAIN,
                        "Type": "A",
                        "TTL": 60,
                        "ResourceRecords": [{"Value": "192.0.2.10"}],
                    },
                }
            ]
        },
    )
    root = make_project(tmp_path / "shop", stage_extra=STAGE)
    with pytest.raises(DeployError, match=r"already has an A record for api\.example\.com"):
        deploy(root, tmp_path)
    assert boto("acm").list_certificates()["CertificateSummaryList"] == []
