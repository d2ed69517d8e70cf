"""A stage's custom domain in its CloudFormation template.

What ``strum.aws.plan.domain`` plans for a deploy, as resources: an ACM certificate validated
through DNS (CloudFormation writes the validation record itself when it is given the hosted
zone, and waits until the certificate is issued), a regional API Gateway domain name, its
mapping to the HTTP API's ``$default`` stage and an alias A record. The hosted zone is the
``HostedZoneId`` parameter: a deploy looks it up, a template made without credentials cannot.
"""

from __future__ import annotations

from typing import Any

from strum.aws.template.cfn import resource

TYPE_CHECKING = False
if TYPE_CHECKING:
    from strum.aws.model import DesiredStage

ZONE_PARAMETER = "HostedZoneId"


def domain_parameters(d: DesiredStage) -> dict[str, Any]:
    """The ``HostedZoneId`` parameter, when the stage has a domain."""
    if d.domain is None or not d.http_api:
        return {}
    return {
        ZONE_PARAMETER: {
            "Type": "AWS::Route53::HostedZone::Id",
            "Description": f"The public Route 53 hosted zone holding {d.domain}",
        }
    }


def domain_resources(d: DesiredStage, tags: list[dict[str, str]]) -> dict[str, Any]:
    """Certificate, domain name, API mapping and DNS record, by logical id."""
    if d.domain is None or not d.http_api:
        return {}
    zone = {"Ref": ZONE_PARAMETER}
    mapping = resource(
        "AWS::ApiGatewayV2::ApiMapping",
        ApiId={"Ref": "HttpApi"},
        DomainName={"Ref": "DomainName"},
        # Ref on the stage is its name, "$default", and makes the mapping wait for it.
        Stage={"Ref": "HttpApiStage"},
    )
    return {
        "Certificate": resource(
            "AWS::CertificateManager::Certificate",
            DomainName=d.domain,
            ValidationMethod="DNS",
            DomainValidationOptions=[{"DomainName": d.domain, "HostedZoneId": zone}],
            Tags=tags,
        ),
        "DomainName": resource(
            "AWS::ApiGatewayV2::DomainName",
            DomainName=d.domain,
            DomainNameConfigurations=[
                {
                    "CertificateArn": {"Ref": "Certificate"},
                    "EndpointType": "REGIONAL",
                    "SecurityPolicy": "TLS_1_2",
                }
            ],
            Tags={tag["Key"]: tag["Value"] for tag in tags},
        ),
        "DomainApiMapping": mapping,
        "DomainRecord": resource(
            "AWS::Route53::RecordSet",
            HostedZoneId=zone,
            Name=d.domain + ".",
            Type="A",
            AliasTarget={
                "DNSName": {"Fn::GetAtt": ["DomainName", "RegionalDomainName"]},
                "HostedZoneId": {"Fn::GetAtt": ["DomainName", "RegionalHostedZoneId"]},
                "EvaluateTargetHealth": False,
            },
        ),
    }
