"""The platform's HTTP API client: the one wrapper the local target calls it through.

It exposes only the calls strum makes, speaks the platform's Lambda REST API with the
standard library's ``http.client`` (no boto3: 200+ ms of import for a loopback call),
signs every request with SigV4 like any AWS SDK (the home's owner key, by default), and
turns every error into ``LambdaAPIError`` with AWS's error code and message.
The AWS target's counterpart is ``strum.aws.client.AwsClient``, on boto3.
"""

from __future__ import annotations

import http.client
import json
import ssl
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import quote, urlencode, urlsplit

from strum.deploy.local.packages import PackageCalls
from strum.errors import StrumError
from strum.platform import Home
from strum.runtime.sigv4 import sign


class LambdaAPIError(StrumError):
    """A Lambda API call failed; ``code`` is AWS's error code (``ResourceNotFoundException``)."""

    exit_code = 6

    def __init__(self, code: str, message: str, status: int) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.status = status


@dataclass(frozen=True)
class SigningKey:
    """The key a client signs with; the secret never shows in a repr."""

    access_key: str
    secret: str = field(repr=False)
    region: str = "us-east-1"
    session_token: str | None = field(default=None, repr=False)


class PlatformLambdaAPI(PackageCalls):
    """Lambda API calls against strum's platform at ``endpoint``, signed with ``key``.

    ``ca_file`` pins an ``https`` endpoint's certificate (the one a platform made for
    itself); without it the system's trust store verifies it.
    """

    def __init__(
        self,
        endpoint: str,
        key: SigningKey | None = None,
        timeout: float = 120.0,
        *,
        ca_file: str | None = None,
    ) -> None:
        url = urlsplit(endpoint)
        self.endpoint = endpoint
        self._tls = url.scheme == "https"
        self._host = url.hostname or "127.0.0.1"
        self._port = url.port or (443 if self._tls else 80)
        self._key = key
        self._timeout = timeout
        self._ca_file = ca_file
        self._connection: http.client.HTTPConnection | None = None

    @classmethod
    def for_home(cls, home: Home, endpoint: str, **options: Any) -> PlatformLambdaAPI:
        """A client of the platform of ``home``, signing with its owner key."""
        # Imported here: the identity package (policy evaluation and all) costs a CLI
        # start about 25 ms, and only reading the owner key is needed from it.
        from strum.platform.identity import owner_key

        owner = owner_key(home.keys_file)
        if owner is None:
            raise StrumError(
                f"{home.keys_file} holds no owner key yet: it is made when the platform "
                "first starts (`strum platform start`)"
            )
        record = home.address()
        if record.get("tls_certificate") and "ca_file" not in options:
            options["ca_file"] = record["tls_certificate"]
        region = str(record.get("region") or "us-east-1")
        return cls(endpoint, SigningKey(owner.access_key_id, owner.secret, region), **options)

    def __enter__(self) -> PlatformLambdaAPI:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the kept-alive connection (the next call opens another)."""
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    # -- plumbing ---------------------------------------------------------------------

    def _call(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | bytes | BinaryIO | None = None,
        query: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """A JSON call: the decoded response document ({} when empty)."""
        _, payload = self._request(method, path, body, query, headers)
        document: dict[str, Any] = json.loads(payload) if payload else {}
        return document

    def _request(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | bytes | BinaryIO | None = None,
        query: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[http.client.HTTPResponse, bytes]:
        if query:
            path = f"{path}?{urlencode(query, doseq=True)}"
        data = json.dumps(body).encode() if isinstance(body, dict) else body
        # A stream is signed over the X-Amz-Content-Sha256 its caller sets, not read here.
        signed_body = data if isinstance(data, bytes) else b""
        sent = {"Content-Type": "application/json", **(headers or {})}
        if self._key is not None:
            default_port = 443 if self._tls else 80
            host = self._host if self._port == default_port else f"{self._host}:{self._port}"
            sent = sign(
                method=method,
                host=host,
                raw_path=path,
                body=signed_body,
                access_key=self._key.access_key,
                secret=self._key.secret,
                region=self._key.region,
                session_token=self._key.session_token,
                headers=sent,
            )
        for attempt in (1, 2):
            if self._connection is None:
                self._connection = self._connect()
            if attempt == 2 and data is not None and not isinstance(data, bytes):
                data.seek(0)  # a stream goes again from its start
            try:
                self._connection.request(method, path, body=data, headers=sent)
                response = self._connection.getresponse()
                payload = response.read()
                break
            except (ConnectionError, http.client.RemoteDisconnected, BrokenPipeError) as exc:
                self.close()
                if attempt == 2:
                    raise StrumError(
                        f"strum's platform at {self.endpoint} stopped answering: {exc}"
                    ) from exc
            except OSError as exc:
                self.close()
                raise StrumError(
                    f"cannot reach strum's platform at {self.endpoint}: {exc}; is it running? "
                    "(`strum platform status`)"
                ) from exc
        if response.status >= 400:
            code = response.getheader("x-amzn-ErrorType", "ServiceException").split(":")[0]
            try:
                message = json.loads(payload).get("message") or json.loads(payload).get("Message")
            except ValueError:
                message = payload.decode("utf-8", "replace")[:500]
            raise LambdaAPIError(code, message or f"HTTP {response.status}", response.status)
        return response, payload

    def _connect(self) -> http.client.HTTPConnection:
        if not self._tls:
            return http.client.HTTPConnection(self._host, self._port, timeout=self._timeout)
        context = ssl.create_default_context(cafile=self._ca_file)
        return http.client.HTTPSConnection(
            self._host, self._port, timeout=self._timeout, context=context
        )

    @staticmethod
    def _fn(name: str) -> str:
        return quote(name, safe="")

    # -- functions --------------------------------------------------------------------

    def get_function(self, name: str, qualifier: str | None = None) -> dict[str, Any] | None:
        """``GetFunction``, or None when the function (or qualifier) does not exist."""
        try:
            return self._call(
                "GET",
                f"/2015-03-31/functions/{self._fn(name)}",
                query={"Qualifier": qualifier} if qualifier else None,
            )
        except LambdaAPIError as exc:
            if exc.code == "ResourceNotFoundException":
                return None
            raise

    def download_code(self, location: str) -> bytes:
        """The zip behind the ``Code.Location`` link ``GetFunction`` handed out."""
        link = urlsplit(location)
        _, payload = self._request("GET", link.path + (f"?{link.query}" if link.query else ""))
        return payload

    def create_function(self, config: dict[str, Any], zip_path: Path | bytes) -> dict[str, Any]:
        body = {**config, "Code": self._content(zip_path)}
        return self._call("POST", "/2015-03-31/functions", body)

    def update_function_code(self, name: str, zip_path: Path | bytes) -> dict[str, Any]:
        body = self._content(zip_path)
        return self._call("PUT", f"/2015-03-31/functions/{self._fn(name)}/code", body)

    def update_function_configuration(self, name: str, config: dict[str, Any]) -> dict[str, Any]:
        return self._call("PUT", f"/2015-03-31/functions/{self._fn(name)}/configuration", config)

    def publish_version(self, name: str, code_sha256: str, description: str = "") -> dict[str, Any]:
        body = {"CodeSha256": code_sha256, "Description": description}
        return self._call("POST", f"/2015-03-31/functions/{self._fn(name)}/versions", body)

    def list_functions(self) -> list[dict[str, Any]]:
        return self._pages("/2015-03-31/functions/", "Functions")

    def list_aliases(self, name: str) -> list[dict[str, Any]]:
        return self._pages(f"/2015-03-31/functions/{self._fn(name)}/aliases", "Aliases")

    def list_url_configs(self, name: str) -> list[dict[str, Any]]:
        return self._pages(f"/2021-10-31/functions/{self._fn(name)}/urls", "FunctionUrlConfigs")

    def list_versions(self, name: str) -> list[dict[str, Any]]:
        return self._pages(f"/2015-03-31/functions/{self._fn(name)}/versions", "Versions")

    def delete_function(self, name: str, qualifier: str | None = None) -> None:
        self._call(
            "DELETE",
            f"/2015-03-31/functions/{self._fn(name)}",
            query={"Qualifier": qualifier} if qualifier else None,
        )

    # -- aliases ----------------------------------------------------------------------

    def get_alias(self, name: str, alias: str) -> dict[str, Any] | None:
        try:
            return self._call(
                "GET", f"/2015-03-31/functions/{self._fn(name)}/aliases/{quote(alias, safe='')}"
            )
        except LambdaAPIError as exc:
            if exc.code == "ResourceNotFoundException":
                return None
            raise

    def create_alias(self, name: str, alias: str, version: str) -> dict[str, Any]:
        body = {"Name": alias, "FunctionVersion": version}
        return self._call("POST", f"/2015-03-31/functions/{self._fn(name)}/aliases", body)

    def update_alias(self, name: str, alias: str, version: str) -> dict[str, Any]:
        body = {"FunctionVersion": version, "RoutingConfig": {"AdditionalVersionWeights": {}}}
        return self._call(
            "PUT", f"/2015-03-31/functions/{self._fn(name)}/aliases/{quote(alias, safe='')}", body
        )

    def delete_alias(self, name: str, alias: str) -> None:
        self._call(
            "DELETE", f"/2015-03-31/functions/{self._fn(name)}/aliases/{quote(alias, safe='')}"
        )

    # -- function URLs ----------------------------------------------------------------

    def get_url_config(self, name: str, qualifier: str) -> dict[str, Any] | None:
        try:
            return self._call(
                "GET", f"/2021-10-31/functions/{self._fn(name)}/url", query={"Qualifier": qualifier}
            )
        except LambdaAPIError as exc:
            if exc.code == "ResourceNotFoundException":
                return None
            raise

    def create_url_config(
        self, name: str, qualifier: str, config: dict[str, Any]
    ) -> dict[str, Any]:
        return self._call(
            "POST",
            f"/2021-10-31/functions/{self._fn(name)}/url",
            config,
            query={"Qualifier": qualifier},
        )

    def update_url_config(
        self, name: str, qualifier: str, config: dict[str, Any]
    ) -> dict[str, Any]:
        return self._call(
            "PUT",
            f"/2021-10-31/functions/{self._fn(name)}/url",
            config,
            query={"Qualifier": qualifier},
        )

    def delete_url_config(self, name: str, qualifier: str) -> None:
        self._call(
            "DELETE", f"/2021-10-31/functions/{self._fn(name)}/url", query={"Qualifier": qualifier}
        )

    # -- concurrency ------------------------------------------------------------------

    def put_concurrency(self, name: str, reserved: int) -> None:
        self._call(
            "PUT",
            f"/2017-10-31/functions/{self._fn(name)}/concurrency",
            {"ReservedConcurrentExecutions": reserved},
        )

    def delete_concurrency(self, name: str) -> None:
        self._call("DELETE", f"/2017-10-31/functions/{self._fn(name)}/concurrency")

    # -- invoking ---------------------------------------------------------------------

    def invoke(
        self,
        name: str,
        qualifier: str | None,
        payload: bytes,
        *,
        asynchronous: bool = False,
        tail: bool = False,
    ) -> tuple[int, dict[str, str], bytes]:
        """``Invoke``: returns (status, response headers, payload)."""
        headers = {"X-Amz-Invocation-Type": "Event" if asynchronous else "RequestResponse"}
        if tail:
            headers["X-Amz-Log-Type"] = "Tail"
        response, body = self._request(
            "POST",
            f"/2015-03-31/functions/{self._fn(name)}/invocations",
            payload,
            query={"Qualifier": qualifier} if qualifier else None,
            headers=headers,
        )
        return response.status, {k.lower(): v for k, v in response.getheaders()}, body

    # -- asynchronous invocation ------------------------------------------------------

    def get_event_invoke_config(
        self, name: str, qualifier: str
    ) -> tuple[int, int, str | None, str | None] | None:
        """(retries, max age, on-success ARN, on-failure ARN) of ``name:qualifier``, or None."""
        try:
            config = self._call(
                "GET",
                f"/2019-09-25/functions/{self._fn(name)}/event-invoke-config",
                query={"Qualifier": qualifier},
            )
        except LambdaAPIError as exc:
            if exc.code == "ResourceNotFoundException":
                return None
            raise
        destinations = config.get("DestinationConfig") or {}
        return (
            int(config.get("MaximumRetryAttempts", 2)),
            int(config.get("MaximumEventAgeInSeconds", 21600)),
            (destinations.get("OnSuccess") or {}).get("Destination"),
            (destinations.get("OnFailure") or {}).get("Destination"),
        )

    def put_event_invoke_config(
        self, name: str, qualifier: str, settings: tuple[int, int, str | None, str | None]
    ) -> None:
        retries, max_age, on_success, on_failure = settings
        destinations = {
            outcome: {"Destination": arn}
            for outcome, arn in (("OnSuccess", on_success), ("OnFailure", on_failure))
            if arn
        }
        self._call(
            "PUT",
            f"/2019-09-25/functions/{self._fn(name)}/event-invoke-config",
            {
                "MaximumRetryAttempts": retries,
                "MaximumEventAgeInSeconds": max_age,
                "DestinationConfig": destinations,
            },
            query={"Qualifier": qualifier},
        )

    def delete_event_invoke_config(self, name: str, qualifier: str) -> None:
        try:
            self._call(
                "DELETE",
                f"/2019-09-25/functions/{self._fn(name)}/event-invoke-config",
                query={"Qualifier": qualifier},
            )
        except LambdaAPIError as exc:
            if exc.code != "ResourceNotFoundException":
                raise

    # -- strum's own routes -----------------------------------------------------------

    def get_schedules(self, name: str) -> list[dict[str, Any]]:
        """The function's schedule rules: name, qualifier, expression, enabled, next."""
        rules: list[dict[str, Any]] = self._call(
            "GET", f"/strum/v1/schedules/{self._fn(name)}"
        ).get("rules", [])
        return rules

    def put_schedules(
        self, name: str, qualifier: str, rules: tuple[tuple[str, str, bool], ...]
    ) -> list[dict[str, Any]]:
        """Replace the function's schedule rules with ``rules`` (name, expression, enabled)."""
        body = {
            "qualifier": qualifier,
            "rules": [
                {"name": rule, "expression": expression, "enabled": enabled}
                for rule, expression, enabled in rules
            ],
        }
        stored: list[dict[str, Any]] = self._call(
            "PUT", f"/strum/v1/schedules/{self._fn(name)}", body
        ).get("rules", [])
        return stored

    def durable_executions(self, name: str) -> list[dict[str, Any]]:
        """ListDurableExecutionsByFunction, every page: the function's executions."""
        found: list[dict[str, Any]] = []
        query: dict[str, Any] = {}
        while True:
            page = self._call(
                "GET", f"/2025-12-01/functions/{self._fn(name)}/durable-executions", query=query
            )
            found.extend(page.get("DurableExecutions") or ())
            if not page.get("NextMarker"):
                return found
            query = {"Marker": page["NextMarker"]}

    def dead_letters(
        self, name: str | None = None, request_ids: tuple[str, ...] = ()
    ) -> list[dict[str, Any]]:
        """Async events that exhausted their retries (payloads base64), oldest first."""
        letters: list[dict[str, Any]] = self._call(
            "GET", "/strum/v1/events/dead", query=_letter_query(name, request_ids)
        ).get("dead_letters", [])
        return letters

    def redrive(self, name: str | None = None, request_ids: tuple[str, ...] = ()) -> list[str]:
        """Queue dead letters again; answers the request ids queued."""
        moved: list[str] = self._call(
            "POST", "/strum/v1/events/dead/redrive", query=_letter_query(name, request_ids)
        ).get("redriven", [])
        return moved

    def discard(self, name: str | None = None, request_ids: tuple[str, ...] = ()) -> int:
        """Delete dead letters for good; answers how many."""
        return int(
            self._call(
                "DELETE", "/strum/v1/events/dead", query=_letter_query(name, request_ids)
            ).get("discarded", 0)
        )

    def logs(
        self, name: str, since: float | None = None, limit: int = 1000
    ) -> list[dict[str, Any]]:
        query = {"function": name, "limit": str(limit)}
        if since is not None:
            query["since"] = repr(since)
        entries: list[dict[str, Any]] = self._call("GET", "/strum/v1/logs", query=query).get(
            "entries", []
        )
        return entries

    # -- the platform itself: status, access keys, the audit log -----------------------

    def platform_status(self) -> dict[str, Any]:
        """``GET /strum/v1/status``: the engine, its instances and the sandbox."""
        return self._call("GET", "/strum/v1/status")

    def create_key(self, name: str, policy: str) -> dict[str, Any]:
        """Issue a named key with an IAM policy document; the answer holds its secret."""
        return self._call("POST", "/strum/v1/keys", {"Name": name, "Policy": policy})

    def list_keys(self) -> list[dict[str, Any]]:
        keys: list[dict[str, Any]] = self._call("GET", "/strum/v1/keys").get("Keys", [])
        return keys

    def revoke_key(self, name_or_id: str) -> dict[str, Any]:
        return self._call("DELETE", f"/strum/v1/keys/{quote(name_or_id, safe='')}")

    def audit(self, since: float | None = None, limit: int = 1000) -> list[dict[str, Any]]:
        query: dict[str, Any] = {"limit": limit}
        if since is not None:
            query["since"] = since
        entries: list[dict[str, Any]] = self._call("GET", "/strum/v1/audit", query=query).get(
            "Entries", []
        )
        return entries


def _letter_query(name: str | None, request_ids: tuple[str, ...]) -> dict[str, Any]:
    query: dict[str, Any] = {"request_id": list(request_ids)} if request_ids else {}
    if name is not None:
        query["function"] = name
    return query
