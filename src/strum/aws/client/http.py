"""API Gateway v2 calls of ``strum.aws.client.AwsClient``: HTTP APIs."""

from __future__ import annotations

from typing import Any

from strum.aws.client.base import ClientBase


class HttpCalls(ClientBase):
    """HTTP APIs (API Gateway v2)."""

    # -- API Gateway v2 (HTTP APIs) -------------------------------------------------------

    def list_apis(self) -> list[dict[str, Any]]:
        return list(self._pages("apigatewayv2", "get_apis", "Items"))

    def api_parts(self, api_id: str) -> dict[str, list[dict[str, Any]]]:
        """The integrations, routes and stages of an HTTP API."""
        return {
            part: list(self._pages("apigatewayv2", f"get_{part}", "Items", ApiId=api_id))
            for part in ("integrations", "routes", "stages")
        }

    def create_api(self, name: str, description: str, tags: dict[str, str]) -> dict[str, Any]:
        return self._call(
            "apigatewayv2",
            "create_api",
            Name=name,
            ProtocolType="HTTP",
            Description=description,
            Tags=tags,
        )

    def create_integration(self, api_id: str, target_arn: str) -> str:
        result = self._call(
            "apigatewayv2",
            "create_integration",
            ApiId=api_id,
            IntegrationType="AWS_PROXY",
            IntegrationUri=target_arn,
            PayloadFormatVersion="2.0",
        )
        return str(result["IntegrationId"])

    def update_integration(self, api_id: str, integration_id: str, target_arn: str) -> None:
        self._call(
            "apigatewayv2",
            "update_integration",
            ApiId=api_id,
            IntegrationId=integration_id,
            IntegrationUri=target_arn,
            PayloadFormatVersion="2.0",
        )

    def create_route(self, api_id: str, integration_id: str) -> None:
        self._call(
            "apigatewayv2",
            "create_route",
            ApiId=api_id,
            RouteKey="$default",
            Target=f"integrations/{integration_id}",
        )

    def update_route(self, api_id: str, route_id: str, integration_id: str) -> None:
        self._call(
            "apigatewayv2",
            "update_route",
            ApiId=api_id,
            RouteId=route_id,
            Target=f"integrations/{integration_id}",
        )

    def create_stage(self, api_id: str, tags: dict[str, str]) -> None:
        self._call(
            "apigatewayv2",
            "create_stage",
            ApiId=api_id,
            StageName="$default",
            AutoDeploy=True,
            Tags=tags,
        )

    def delete_api(self, api_id: str) -> None:
        self._call("apigatewayv2", "delete_api", ApiId=api_id)

    # -- API Gateway v2: custom domain names and API mappings -------------------------------

    def get_domain_name(self, name: str) -> dict[str, Any] | None:
        return self._maybe("apigatewayv2", "get_domain_name", DomainName=name)

    def list_domain_names(self) -> list[dict[str, Any]]:
        return list(self._pages("apigatewayv2", "get_domain_names", "Items"))

    def create_domain_name(
        self, name: str, certificate_arn: str, tags: dict[str, str]
    ) -> dict[str, Any]:
        return self._call(
            "apigatewayv2",
            "create_domain_name",
            DomainName=name,
            DomainNameConfigurations=[_regional(certificate_arn)],
            Tags=tags,
        )

    def update_domain_certificate(self, name: str, certificate_arn: str) -> dict[str, Any]:
        return self._call(
            "apigatewayv2",
            "update_domain_name",
            DomainName=name,
            DomainNameConfigurations=[_regional(certificate_arn)],
        )

    def delete_domain_name(self, name: str) -> None:
        self._call("apigatewayv2", "delete_domain_name", DomainName=name)

    def list_api_mappings(self, domain: str) -> list[dict[str, Any]]:
        return list(self._pages("apigatewayv2", "get_api_mappings", "Items", DomainName=domain))

    def create_api_mapping(self, domain: str, api_id: str) -> None:
        """Map the whole domain (no path key) to the API's ``$default`` stage."""
        self._call(
            "apigatewayv2",
            "create_api_mapping",
            DomainName=domain,
            ApiId=api_id,
            Stage="$default",
            ApiMappingKey="",
        )

    def delete_api_mapping(self, domain: str, mapping_id: str) -> None:
        self._call("apigatewayv2", "delete_api_mapping", DomainName=domain, ApiMappingId=mapping_id)


def _regional(certificate_arn: str) -> dict[str, str]:
    return {
        "CertificateArn": certificate_arn,
        "EndpointType": "REGIONAL",
        "SecurityPolicy": "TLS_1_2",
    }
