"""Lambda calls of ``strum.aws.client.AwsClient``: functions, versions, aliases, layers,
URLs, permissions, concurrency, async settings and event source mappings."""

from __future__ import annotations

from typing import Any

from strum.aws.client.base import ClientBase


class LambdaCalls(ClientBase):
    """The Lambda API, as strum uses it."""

    # -- Lambda: functions, versions, aliases ----------------------------------------------

    def get_function(self, name: str, qualifier: str | None = None) -> dict[str, Any] | None:
        """``Configuration``, ``Tags`` and ``Concurrency`` of a function (version)."""
        extra = {"Qualifier": qualifier} if qualifier else {}
        return self._maybe("lambda", "get_function", FunctionName=name, **extra)

    def get_configuration(self, name: str, qualifier: str | None = None) -> dict[str, Any] | None:
        extra = {"Qualifier": qualifier} if qualifier else {}
        return self._maybe("lambda", "get_function_configuration", FunctionName=name, **extra)

    def create_function(self, **params: Any) -> dict[str, Any]:
        return self._call("lambda", "create_function", **params)

    def update_function_code(self, **params: Any) -> dict[str, Any]:
        return self._call("lambda", "update_function_code", **params)

    def update_function_configuration(self, **params: Any) -> dict[str, Any]:
        return self._call("lambda", "update_function_configuration", **params)

    def tag_function(self, arn: str, tags: dict[str, str]) -> None:
        self._call("lambda", "tag_resource", Resource=arn, Tags=tags)

    def publish_version(self, name: str, code_sha256: str, description: str) -> str:
        published = self._call(
            "lambda",
            "publish_version",
            FunctionName=name,
            CodeSha256=code_sha256,
            Description=description,
        )
        return str(published["Version"])

    def list_versions(self, name: str) -> list[dict[str, Any]]:
        return list(
            self._pages("lambda", "list_versions_by_function", "Versions", FunctionName=name)
        )

    def get_alias(self, name: str, alias: str) -> dict[str, Any] | None:
        return self._maybe("lambda", "get_alias", FunctionName=name, Name=alias)

    def create_alias(self, name: str, alias: str, version: str) -> None:
        self._call("lambda", "create_alias", FunctionName=name, Name=alias, FunctionVersion=version)

    def update_alias(self, name: str, alias: str, version: str) -> None:
        self._call("lambda", "update_alias", FunctionName=name, Name=alias, FunctionVersion=version)

    def delete_function(self, name: str) -> None:
        self._call("lambda", "delete_function", FunctionName=name)

    def invoke(self, name: str, qualifier: str, payload: bytes, *, asynchronous: bool) -> Any:
        response = self._call(
            "lambda",
            "invoke",
            FunctionName=name,
            Qualifier=qualifier,
            Payload=payload,
            InvocationType="Event" if asynchronous else "RequestResponse",
            LogType="None" if asynchronous else "Tail",
        )
        body = response.get("Payload")
        response["Payload"] = body.read() if body is not None else b""
        return response

    def durable_executions(self, name: str) -> list[dict[str, Any]]:
        """ListDurableExecutionsByFunction, every page."""
        return list(
            self._pages(
                "lambda",
                "list_durable_executions_by_function",
                "DurableExecutions",
                FunctionName=name,
            )
        )

    # -- Lambda: layers -------------------------------------------------------------------

    def list_layer_versions(self, layer: str) -> list[dict[str, Any]]:
        return list(self._pages("lambda", "list_layer_versions", "LayerVersions", LayerName=layer))

    def publish_layer_version(self, **params: Any) -> str:
        return str(self._call("lambda", "publish_layer_version", **params)["LayerVersionArn"])

    def delete_layer_version(self, layer: str, version: int) -> None:
        self._call("lambda", "delete_layer_version", LayerName=layer, VersionNumber=version)

    # -- Lambda: URLs, permissions, concurrency, async -------------------------------------

    def get_url_config(self, name: str, alias: str) -> dict[str, Any] | None:
        return self._maybe("lambda", "get_function_url_config", FunctionName=name, Qualifier=alias)

    def put_url_config(self, name: str, alias: str, invoke_mode: str, *, exists: bool) -> str:
        operation = "update_function_url_config" if exists else "create_function_url_config"
        result = self._call(
            "lambda",
            operation,
            FunctionName=name,
            Qualifier=alias,
            AuthType="NONE",
            InvokeMode=invoke_mode,
        )
        return str(result["FunctionUrl"])

    def delete_url_config(self, name: str, alias: str) -> None:
        self._call("lambda", "delete_function_url_config", FunctionName=name, Qualifier=alias)

    def get_policy(self, name: str, alias: str) -> list[dict[str, Any]]:
        """The statements of the resource policy of ``name:alias`` (none: ``[]``)."""
        import json

        found = self._maybe("lambda", "get_policy", FunctionName=name, Qualifier=alias)
        if not found or not found.get("Policy"):
            return []
        return list(json.loads(found["Policy"]).get("Statement") or [])

    def add_permission(self, name: str, alias: str, **statement: Any) -> None:
        self._call("lambda", "add_permission", FunctionName=name, Qualifier=alias, **statement)

    def remove_permission(self, name: str, alias: str, sid: str) -> None:
        self._call(
            "lambda", "remove_permission", FunctionName=name, Qualifier=alias, StatementId=sid
        )

    def put_concurrency(self, name: str, reserved: int | None) -> None:
        if reserved is None:
            self._call("lambda", "delete_function_concurrency", FunctionName=name)
        else:
            self._call(
                "lambda",
                "put_function_concurrency",
                FunctionName=name,
                ReservedConcurrentExecutions=reserved,
            )

    def get_event_invoke_config(self, name: str, alias: str) -> dict[str, Any] | None:
        return self._maybe(
            "lambda", "get_function_event_invoke_config", FunctionName=name, Qualifier=alias
        )

    def put_event_invoke_config(self, name: str, alias: str, **settings: Any) -> None:
        self._call(
            "lambda",
            "put_function_event_invoke_config",
            FunctionName=name,
            Qualifier=alias,
            **settings,
        )

    def delete_event_invoke_config(self, name: str, alias: str) -> None:
        self._call(
            "lambda", "delete_function_event_invoke_config", FunctionName=name, Qualifier=alias
        )

    # -- Lambda: event source mappings ----------------------------------------------------

    def list_mappings(self, name: str) -> list[dict[str, Any]]:
        return list(
            self._pages(
                "lambda", "list_event_source_mappings", "EventSourceMappings", FunctionName=name
            )
        )

    def create_mapping(self, **params: Any) -> None:
        self._call("lambda", "create_event_source_mapping", **params)

    def update_mapping(self, uuid: str, **params: Any) -> None:
        self._call("lambda", "update_event_source_mapping", UUID=uuid, **params)

    def delete_mapping(self, uuid: str) -> None:
        self._call("lambda", "delete_event_source_mapping", UUID=uuid)
