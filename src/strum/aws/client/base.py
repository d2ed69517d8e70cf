"""The plumbing under ``strum.aws.client.AwsClient``: sessions, clients, the call log.

Every call goes through ``ClientBase._call``, which records it and turns botocore's errors
into strum's; the per-service calls live in its sibling modules and are combined in
``strum.aws.client.client``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from strum.aws.errors import AwsError, translate

_READ_PREFIXES = ("Get", "List", "Describe", "Head", "Filter")
_NOT_FOUND = frozenset(
    {
        "ResourceNotFoundException",
        "NoSuchEntity",
        "NotFoundException",
        "NoSuchEntityException",
        "NoSuchHostedZone",
        "NoSuchBucket",
        "NotFound",
        "NoSuchKey",
        "404",
    }
)


@dataclass
class CallLog:
    """The AWS calls made: ``(service, operation)`` in order, and request bytes sent."""

    calls: list[tuple[str, str]] = field(default_factory=list)
    bytes_sent: int = 0

    @property
    def writes(self) -> list[tuple[str, str]]:
        """The calls that change something (anything but Get/List/Describe/Head/Filter)."""
        return [call for call in self.calls if not call[1].startswith(_READ_PREFIXES)]


class ClientBase:
    """One boto3 session and its service clients; every call recorded in ``log``."""

    def __init__(self, region: str | None, profile: str | None = None) -> None:
        self.region = region
        self.profile = profile
        self.log = CallLog()
        self._session: Any = None
        self._clients: dict[str, Any] = {}

    # -- plumbing -------------------------------------------------------------------------

    def _get_session(self) -> Any:
        if self._session is None:
            try:
                import boto3

                self._session = boto3.session.Session(
                    profile_name=self.profile, region_name=self.region
                )
            except Exception as exc:
                raise translate(exc, "session", "connect", self.profile) from None
        return self._session

    def resolved_region(self) -> str | None:
        """The region calls go to: the stage's, else the profile's or the environment's."""
        return self.region or self._get_session().region_name

    def _client(self, service: str) -> Any:
        client = self._clients.get(service)
        if client is None:
            session = self._get_session()
            try:
                from botocore.config import Config

                config = Config(
                    retries={"mode": "standard", "max_attempts": 6},
                    read_timeout=300,
                    user_agent_extra="strum",
                )
                client = session.client(service, config=config)
            except Exception as exc:
                raise translate(exc, service, "connect", self.profile) from None
            client.meta.events.register("request-created", self._count_bytes)
            self._clients[service] = client
        return client

    def _count_bytes(self, request: Any, **_: Any) -> None:
        body = request.body
        if isinstance(body, (bytes, bytearray, str)):
            self.log.bytes_sent += len(body)
        elif hasattr(body, "seek") and hasattr(body, "tell"):
            position = body.tell()
            body.seek(0, 2)
            self.log.bytes_sent += body.tell() - position
            body.seek(position)

    def _call(self, service: str, operation: str, **params: Any) -> dict[str, Any]:
        """Make one call (``operation`` in boto3's snake_case); botocore errors become ours."""
        client = self._client(service)
        name = client.meta.method_to_api_mapping.get(operation, operation)
        self.log.calls.append((service, name))
        try:
            response: dict[str, Any] = getattr(client, operation)(**params)
        except Exception as exc:
            raise translate(exc, service, name, self.profile) from None
        response.pop("ResponseMetadata", None)
        return response

    def _maybe(self, service: str, operation: str, **params: Any) -> dict[str, Any] | None:
        try:
            return self._call(service, operation, **params)
        except AwsError as exc:
            if exc.code in _NOT_FOUND:
                return None
            raise

    def _pages(self, service: str, operation: str, key: str, **params: Any) -> Iterator[Any]:
        token_in, token_out = _PAGING.get((service, operation), ("Marker", "NextMarker"))
        while True:
            page = self._call(service, operation, **params)
            yield from page.get(key) or ()
            token = page.get(token_out)
            if not token:
                return
            params[token_in] = token


# (input token, output token) of the paginated calls that do not use Marker / NextMarker.
_PAGING = {
    ("resourcegroupstaggingapi", "get_resources"): ("PaginationToken", "PaginationToken"),
    ("iam", "list_role_policies"): ("Marker", "Marker"),
    ("events", "list_rules"): ("NextToken", "NextToken"),
    ("events", "list_targets_by_rule"): ("NextToken", "NextToken"),
    ("logs", "describe_log_groups"): ("nextToken", "nextToken"),
    ("apigatewayv2", "get_apis"): ("NextToken", "NextToken"),
    ("apigatewayv2", "get_integrations"): ("NextToken", "NextToken"),
    ("apigatewayv2", "get_routes"): ("NextToken", "NextToken"),
    ("apigatewayv2", "get_stages"): ("NextToken", "NextToken"),
    ("apigatewayv2", "get_domain_names"): ("NextToken", "NextToken"),
    ("apigatewayv2", "get_api_mappings"): ("NextToken", "NextToken"),
    ("acm", "list_certificates"): ("NextToken", "NextToken"),
    ("sns", "list_subscriptions_by_topic"): ("NextToken", "NextToken"),
    ("logs", "filter_log_events"): ("nextToken", "nextToken"),
}
