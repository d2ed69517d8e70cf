"""The control-plane routes: AWS Lambda's REST API for functions, versions, aliases,
concurrency and Function URL configs, at AWS's own paths (botocore's service model).

Each handler parses the request, lets ``shapes`` check it, changes the ``Store``, and
tells the other parts what changed: a code or configuration change retires the engine's
instances of ``$LATEST``, a deleted function retires all of them, and URL config changes
open or close the URL's listener.
"""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import Callable
from dataclasses import replace
from typing import Any, Protocol

from aiohttp import web

from strum.platform.api import shapes
from strum.platform.api._http import answering_errors, function_target, json_response, read_body
from strum.platform.api.uploads import PackageSource
from strum.platform.errors import InvalidParameterValue, ResourceNotFound, model_error
from strum.platform.invoke import Scheduler
from strum.platform.settings import Settings
from strum.platform.state import (
    LATEST,
    AliasRecord,
    LayerStore,
    Store,
    Tags,
    check_tags,
    parse_function_name,
    url_key,
)

__all__ = ["FunctionRoutes", "Instances", "UrlListeners", "add_routes"]

logger = logging.getLogger(__name__)


class Instances(Protocol):
    """The engine, as far as the control plane tells it what changed."""

    def retire(self, name: str, version: str | None = None) -> None:
        """Stop the instances of ``name`` (one version, or all)."""


class UrlListeners(Protocol):
    """The Function URL listeners, as far as URL configs open and close them."""

    async def open(self, name: str) -> str:
        """Bind (or refresh) the listener of URL config ``name``; its URL."""
        ...

    async def close(self, name: str) -> None:
        """Unbind the listener of ``name``."""

    def url_for(self, name: str) -> str | None:
        """The URL of a bound listener, or None."""
        ...


def add_routes(
    app: web.Application,
    store: Store,
    settings: Settings,
    *,
    instances: Instances,
    urls: UrlListeners,
    scheduler: Scheduler,
    tags: Tags,
    endpoint: Callable[[], str],
    presign: Callable[[str], str],
    layers: LayerStore,
    packages: PackageSource,
    provisioned: Callable[[str], int] = lambda name: 0,
) -> None:
    """Register the control API on ``app``; ``endpoint`` is the platform's own address,
    ``presign`` makes a path a link anyone may fetch for a while (code downloads),
    ``packages`` stores the package a request carries or names and ``provisioned(name)``
    is a function's provisioned concurrency in all."""
    routes = FunctionRoutes(
        store,
        settings,
        layers=layers,
        packages=packages,
        instances=instances,
        urls=urls,
        scheduler=scheduler,
        tags=tags,
        endpoint=endpoint,
        presign=presign,
    )
    routes.provisioned = provisioned
    functions = "/2015-03-31/functions"
    one = functions + "/{name}"
    for method, path, handler in (
        ("POST", functions, routes.create_function),
        ("GET", functions, routes.list_functions),
        ("GET", functions + "/", routes.list_functions),
        ("GET", one, routes.get_function),
        ("DELETE", one, routes.delete_function),
        ("GET", one + "/configuration", routes.get_configuration),
        ("PUT", one + "/configuration", routes.update_configuration),
        ("PUT", one + "/code", routes.update_code),
        ("POST", one + "/versions", routes.publish_version),
        ("GET", one + "/versions", routes.list_versions),
        ("POST", one + "/aliases", routes.create_alias),
        ("GET", one + "/aliases", routes.list_aliases),
        ("GET", one + "/aliases/{alias}", routes.get_alias),
        ("PUT", one + "/aliases/{alias}", routes.update_alias),
        ("DELETE", one + "/aliases/{alias}", routes.delete_alias),
        ("PUT", "/2017-10-31/functions/{name}/concurrency", routes.put_concurrency),
        ("GET", "/2019-09-30/functions/{name}/concurrency", routes.get_concurrency),
        ("DELETE", "/2017-10-31/functions/{name}/concurrency", routes.delete_concurrency),
        ("POST", "/2021-10-31/functions/{name}/url", routes.create_url_config),
        ("GET", "/2021-10-31/functions/{name}/url", routes.get_url_config),
        ("PUT", "/2021-10-31/functions/{name}/url", routes.update_url_config),
        ("DELETE", "/2021-10-31/functions/{name}/url", routes.delete_url_config),
        ("GET", "/2021-10-31/functions/{name}/urls", routes.list_url_configs),
        ("GET", "/strum/code/{sha}.zip", routes.download_code),
    ):
        app.router.add_route(method, path, answering_errors(handler))


class FunctionRoutes:
    """The handlers; one method per API operation."""

    def __init__(
        self,
        store: Store,
        settings: Settings,
        *,
        instances: Instances,
        urls: UrlListeners,
        scheduler: Scheduler,
        tags: Tags,
        endpoint: Callable[[], str],
        presign: Callable[[str], str],
        layers: LayerStore,
        packages: PackageSource,
    ) -> None:
        self.packages = packages
        self.layers = layers
        self.presign = presign
        self.tags = tags
        self.store = store
        self.settings = settings
        self.instances = instances
        self.urls = urls
        self.scheduler = scheduler
        self.endpoint = endpoint
        self.provisioned: Callable[[str], int] = lambda name: 0

    def _where(self) -> dict[str, str]:
        """The caller's region and account: a volume's ARN must name that account."""
        scope = self.store.scope()
        return {"region": scope.region, "account": scope.account}

    # -- functions --------------------------------------------------------------------------

    def _with_layers(self, body: dict[str, Any], config: dict[str, Any]) -> dict[str, Any]:
        """``config`` with the request's ``Layers`` (an empty list removes them)."""
        if "Layers" not in body:
            return config
        layers = self.layers.function_layers(body["Layers"] or [])
        config = {key: value for key, value in config.items() if key != "Layers"}
        if layers:
            config["Layers"] = layers
        return config

    def _collect(self) -> None:
        """Drop the packages nothing uses any more (deleted layer versions included)."""
        self.layers.purge_unused()
        self.store.code.collect(self.store.referenced_code())

    async def create_function(self, request: web.Request) -> web.StreamResponse:
        body = await read_body(request)
        name = body.get("FunctionName")
        if not isinstance(name, str):
            raise InvalidParameterValue("FunctionName is required")
        name, qualifier = parse_function_name(name) if ":" in name else (name, None)
        shapes.check_function_name(name)
        if qualifier is not None:
            raise InvalidParameterValue("FunctionName must not carry a qualifier on create")
        config = self._with_layers(body, shapes.function_config(body, None, **self._where()))
        shapes.check_references(body, self.store.scope())
        tags = check_tags(body.get("Tags") or {})
        code = self.packages.store(body.get("Code"), "CreateFunction")
        self.layers.check_size(code.sha_hex, config.get("Layers") or [])
        record = self.store.create_function(name, config, code)
        if tags:
            self.tags.tag(name, tags)
        if body.get("Publish"):
            # AWS answers the unqualified ARN, with Version naming what was published.
            record = self.store.publish_version(name)
        logger.info("created function %s (%s)", name, code.sha_hex[:12])
        return json_response(shapes.render_function(self.store, record, None), 201)

    async def get_function(self, request: web.Request) -> web.StreamResponse:
        name, qualifier = function_target(request)
        record = self.store.function(name, qualifier)
        answer: dict[str, Any] = {
            "Configuration": shapes.render_function(self.store, record, qualifier),
            "Code": {
                "RepositoryType": "S3",
                "Location": self.endpoint() + self.presign(f"/strum/code/{record.code_sha}.zip"),
            },
        }
        reserved = self.store.concurrency(name)
        if reserved is not None:
            answer["Concurrency"] = {"ReservedConcurrentExecutions": reserved}
        tags = self.tags.of(name)
        if tags:
            answer["Tags"] = tags
        return json_response(answer)

    async def get_configuration(self, request: web.Request) -> web.StreamResponse:
        name, qualifier = function_target(request)
        record = self.store.function(name, qualifier)
        return json_response(shapes.render_function(self.store, record, qualifier))

    async def list_functions(self, request: web.Request) -> web.StreamResponse:
        records = self.store.list_functions()
        every = request.query.get("FunctionVersion") == "ALL"
        if every:
            records = [version for r in records for version in self.store.list_versions(r.name)]
        elif request.query.get("FunctionVersion") not in (None, ""):
            raise model_error(
                request.query["FunctionVersion"],
                "functionVersion",
                "Member must satisfy enum value set: [ALL]",
            )
        items, marker = shapes.page(
            records, request.query.get("Marker"), request.query.get("MaxItems")
        )
        answer: dict[str, Any] = {
            "Functions": [
                # With FunctionVersion=ALL every ARN is qualified, $LATEST's too, as AWS's;
                # otherwise $LATEST's is unqualified.
                shapes.render_function(self.store, record, record.version if every else None)
                for record in items
            ]
        }
        if marker:
            answer["NextMarker"] = marker
        return json_response(answer)

    async def update_code(self, request: web.Request) -> web.StreamResponse:
        name, _ = function_target(request, name_only=True)
        body = await read_body(request)
        current = self.store.function(name)
        config = current.config
        if "Architectures" in body:
            config = shapes.function_config({"Architectures": body["Architectures"]}, config)
        code = self.packages.store(body, "UpdateFunctionCode")
        self.layers.check_size(code.sha_hex, config.get("Layers") or [])
        if body.get("DryRun"):
            preview = replace(current, code_sha=code.sha_hex, code_size=code.size, config=config)
            return json_response(shapes.render_function(self.store, preview, None))
        record = self.store.update_code(name, code, revision_id=body.get("RevisionId"))
        if config != current.config:
            record = self.store.update_config(name, config)
        self.instances.retire(name, LATEST)
        self._collect()
        qualifier = None
        if body.get("Publish"):
            record = self.store.publish_version(name)
            qualifier = record.version
        logger.info("updated code of %s (%s)", name, code.sha_hex[:12])
        return json_response(shapes.render_function(self.store, record, qualifier))

    async def update_configuration(self, request: web.Request) -> web.StreamResponse:
        name, _ = function_target(request, name_only=True)
        body = await read_body(request)
        current = self.store.function(name)
        config = self._with_layers(
            body, shapes.function_config(body, current.config, **self._where())
        )
        shapes.check_references(body, self.store.scope())
        if "Layers" in body:
            self.layers.check_size(current.code_sha, config.get("Layers") or [])
        record = self.store.update_config(name, config, revision_id=body.get("RevisionId"))
        self.instances.retire(name, LATEST)
        return json_response(shapes.render_function(self.store, record, None))

    async def delete_function(self, request: web.Request) -> web.StreamResponse:
        name, qualifier = function_target(request)
        if qualifier is None:
            keys = self.store.delete_function(name)
            self.instances.retire(name)
            self.scheduler.forget(name)
            for key in keys:
                await self.urls.close(key)
            self._collect()
            logger.info("deleted function %s", name)
        elif qualifier == LATEST:
            raise InvalidParameterValue(
                "$LATEST version cannot be deleted without deleting the function."
            )
        elif not qualifier.isdigit():
            raise InvalidParameterValue(
                f"Deletion of aliases is not supported through DeleteFunction; use "
                f"DeleteAlias for {qualifier}"
            )
        else:
            self.store.delete_version(name, qualifier)
            self.instances.retire(name, qualifier)
            self._collect()
        return web.Response(status=204)

    async def publish_version(self, request: web.Request) -> web.StreamResponse:
        name, _ = function_target(request, name_only=True)
        body = await read_body(request)
        code_sha_hex = None
        if body.get("CodeSha256"):
            try:
                code_sha_hex = base64.b64decode(body["CodeSha256"], validate=True).hex()
            except (binascii.Error, ValueError):
                raise InvalidParameterValue("CodeSha256 must be base64 of a SHA-256") from None
        description = body.get("Description")
        if description is not None:
            shapes.function_config({"Description": description}, {})
        record = self.store.publish_version(
            name,
            description=description,
            code_sha_hex=code_sha_hex,
            revision_id=body.get("RevisionId"),
        )
        return json_response(shapes.render_function(self.store, record, record.version), 201)

    async def list_versions(self, request: web.Request) -> web.StreamResponse:
        name, _ = function_target(request, name_only=True)
        records = self.store.list_versions(name)
        items, marker = shapes.page(
            records, request.query.get("Marker"), request.query.get("MaxItems")
        )
        answer: dict[str, Any] = {
            "Versions": [
                shapes.render_function(self.store, record, record.version) for record in items
            ]
        }
        if marker:
            answer["NextMarker"] = marker
        return json_response(answer)

    async def download_code(self, request: web.Request) -> web.StreamResponse:
        sha = request.match_info["sha"]
        path = self.store.code_path(sha)
        if len(sha) != 64 or not all(c in "0123456789abcdef" for c in sha) or not path.exists():
            raise ResourceNotFound("The resource you requested does not exist.")
        return web.FileResponse(path, headers={"Content-Type": "application/zip"})

    # -- aliases ----------------------------------------------------------------------------

    async def create_alias(self, request: web.Request) -> web.StreamResponse:
        name, _ = function_target(request, name_only=True)
        body = await read_body(request)
        alias_name = shapes.check_alias_name(body.get("Name"))
        version = shapes.check_version(body.get("FunctionVersion"))
        description = body.get("Description", "")
        shapes.function_config({"Description": description}, {})
        alias = AliasRecord(
            function_name=name,
            name=alias_name,
            function_version=version,
            description=description,
            weights=shapes.alias_weights(body.get("RoutingConfig"), version),
        )
        record = self.store.create_alias(alias)
        return json_response(shapes.render_alias(self.store, record), 201)

    async def get_alias(self, request: web.Request) -> web.StreamResponse:
        # The alias's own ARN names the function too (AWS accepts it as FunctionName).
        name, _ = function_target(request)
        self.store.function(name)
        alias = self.store.alias(name, request.match_info["alias"])
        return json_response(shapes.render_alias(self.store, alias))

    async def update_alias(self, request: web.Request) -> web.StreamResponse:
        name, _ = function_target(request, name_only=True)
        body = await read_body(request)
        self.store.function(name)
        current = self.store.alias(name, request.match_info["alias"])
        version = current.function_version
        if "FunctionVersion" in body:
            version = shapes.check_version(body["FunctionVersion"])
        description = body.get("Description", current.description)
        shapes.function_config({"Description": description}, {})
        if "RoutingConfig" in body:
            weights = shapes.alias_weights(body["RoutingConfig"], version)
        else:
            weights = shapes.alias_weights({"AdditionalVersionWeights": current.weights}, version)
        updated = AliasRecord(name, current.name, version, description, weights)
        record = self.store.update_alias(updated, revision_id=body.get("RevisionId"))
        return json_response(shapes.render_alias(self.store, record))

    async def delete_alias(self, request: web.Request) -> web.StreamResponse:
        name, _ = function_target(request, name_only=True)
        self.store.function(name)
        url = self.store.delete_alias(name, request.match_info["alias"])
        if url is not None:
            await self.urls.close(url)
        return web.Response(status=204)

    async def list_aliases(self, request: web.Request) -> web.StreamResponse:
        name, _ = function_target(request, name_only=True)
        version = request.query.get("FunctionVersion")
        if version is not None:
            shapes.check_version(version)
        aliases = self.store.list_aliases(name, version)
        items, marker = shapes.page(
            aliases, request.query.get("Marker"), request.query.get("MaxItems")
        )
        answer: dict[str, Any] = {
            "Aliases": [shapes.render_alias(self.store, alias) for alias in items]
        }
        if marker:
            answer["NextMarker"] = marker
        return json_response(answer)

    # -- concurrency ------------------------------------------------------------------------

    async def put_concurrency(self, request: web.Request) -> web.StreamResponse:
        name, _ = function_target(request, name_only=True)
        body = await read_body(request)
        reserved = body.get("ReservedConcurrentExecutions")
        if not isinstance(reserved, int) or isinstance(reserved, bool) or reserved < 0:
            raise InvalidParameterValue(
                "ReservedConcurrentExecutions must be a whole number, 0 or more"
            )
        self.store.function(name)
        limit = self.settings.max_concurrency
        if self.store.reserved_elsewhere(name) + reserved > limit:
            raise InvalidParameterValue(
                "Specified ReservedConcurrentExecutions for function decreases account's "
                "UnreservedConcurrentExecution below its minimum value of [0]: the platform "
                f"allows {limit} concurrent executions in all and "
                f"{self.store.reserved_elsewhere(name)} are reserved by other functions"
            )
        provisioned = self.provisioned(name)
        if reserved < provisioned:
            raise InvalidParameterValue(
                f"ReservedConcurrentExecutions {reserved} is less than the {provisioned} "
                f"provisioned concurrent executions of {name}: lower its provisioned "
                "concurrency first"
            )
        self.store.put_concurrency(name, reserved)
        return json_response({"ReservedConcurrentExecutions": reserved})

    async def get_concurrency(self, request: web.Request) -> web.StreamResponse:
        name, _ = function_target(request, name_only=True)
        self.store.function(name)
        reserved = self.store.concurrency(name)
        return json_response({} if reserved is None else {"ReservedConcurrentExecutions": reserved})

    async def delete_concurrency(self, request: web.Request) -> web.StreamResponse:
        name, _ = function_target(request, name_only=True)
        self.store.delete_concurrency(name)
        return web.Response(status=204)

    # -- Function URL configs ---------------------------------------------------------------

    def _url_target(self, request: web.Request) -> tuple[str, str | None]:
        name, qualifier = function_target(request)
        self.store.function(name)
        if qualifier is not None:
            if qualifier == LATEST or qualifier.isdigit():
                raise InvalidParameterValue(
                    f"A function URL's qualifier must be an alias name, not a version ({qualifier})"
                )
            self.store.alias(name, qualifier)
        return name, qualifier

    def _url_of(self, config: dict[str, Any]) -> str:
        url: str | None = self.urls.url_for(config["key"])
        if url is None:
            url = f"http://{self.settings.host}:{config['port']}/"
        return url

    async def create_url_config(self, request: web.Request) -> web.StreamResponse:
        name, qualifier = self._url_target(request)
        settings = shapes.url_settings(await read_body(request), create=True)
        config = self.store.create_url_config(name, qualifier, **settings)
        try:
            url = await self.urls.open(config["key"])
        except BaseException:
            self.store.delete_url_config(config["key"])
            raise
        rendered = shapes.render_url_config(self.store, config, url)
        del rendered["LastModifiedTime"]
        return json_response(rendered, 201)

    async def get_url_config(self, request: web.Request) -> web.StreamResponse:
        name, qualifier = self._url_target(request)
        config = self.store.get_url_config(url_key(name, qualifier))
        if config is None:
            raise ResourceNotFound("The resource you requested does not exist.")
        return json_response(shapes.render_url_config(self.store, config, self._url_of(config)))

    async def update_url_config(self, request: web.Request) -> web.StreamResponse:
        name, qualifier = self._url_target(request)
        settings = shapes.url_settings(await read_body(request), create=False)
        config = self.store.update_url_config(url_key(name, qualifier), **settings)
        url = await self.urls.open(config["key"])
        return json_response(shapes.render_url_config(self.store, config, url))

    async def delete_url_config(self, request: web.Request) -> web.StreamResponse:
        name, qualifier = self._url_target(request)
        key = url_key(name, qualifier)
        self.store.delete_url_config(key)
        await self.urls.close(key)
        return web.Response(status=204)

    async def list_url_configs(self, request: web.Request) -> web.StreamResponse:
        name, _ = function_target(request, name_only=True)
        self.store.function(name)
        configs = self.store.list_url_configs(name)
        items, marker = shapes.page(
            configs, request.query.get("Marker"), request.query.get("MaxItems")
        )
        answer: dict[str, Any] = {
            "FunctionUrlConfigs": [
                shapes.render_url_config(self.store, config, self._url_of(config))
                for config in items
            ]
        }
        if marker:
            answer["NextMarker"] = marker
        return json_response(answer)
