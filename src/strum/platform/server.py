"""The platform process: wiring of its parts, its HTTP listener and its lifecycle.

``Platform`` builds each part once, with exactly the collaborators it uses, from the
bottom up: the store, the engine, the async queue, the invoker on top of those, the
schedules and the Function URL listeners on top of the invoker, then the API routes.
Two parts call back into the invoker that is built on them - the engine (an instance's
``@task`` self-invocation) and the queue (its deliveries) - and get it when they start.
Functions learn the platform's own address (``STRUM_PLATFORM_API``) by asking ``endpoint``
when their first instance starts, by which time the API listens.

Identity is wired here too: the keys the platform issued (the owner key is made at first
start), the session key that seals instances' credentials, the ``Authority`` that checks
both, and the access middleware in front of every route. Beyond loopback the API listens
with TLS only.

``serve()`` runs a platform until cancelled (the CLI's ``strum platform run``); tests
start one on an ephemeral loopback port.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import secrets
import time
from pathlib import Path

from aiohttp import web

from strum.platform import api, tls
from strum.platform.dashboard import Dashboard, SignIns
from strum.platform.engine import Engine
from strum.platform.errors import ResourceNotFound
from strum.platform.home import Home, write_atomically
from strum.platform.identity import (
    Authority,
    KeyRing,
    Policy,
    Session,
    SessionIssuer,
    execution_policy,
    resource_policy,
)
from strum.platform.invoke import AsyncQueue, DurableExecutions, Invoker, Provisioner, Scheduler
from strum.platform.settings import LOOPBACK, Settings
from strum.platform.spec import FunctionSpec
from strum.platform.state import (
    AuditLog,
    DurableStore,
    FunctionSettings,
    InvocationMetrics,
    LayerStore,
    ProvisionedConfigs,
    Store,
    Tags,
)
from strum.platform.urls import FunctionUrls, host_routing

__all__ = ["Platform", "serve"]

logger = logging.getLogger(__name__)

# Deployment packages travel in CreateFunction / UpdateFunctionCode bodies (base64): AWS's
# front end reads 69,905,067 bytes of request at most ("Request must be smaller than
# 69905067 bytes for the CreateFunction operation"); bigger packages are staged
# (``api.uploads``), streamed.
_MAX_REQUEST_BYTES = api.uploads.MAX_REQUEST_BYTES


class Platform:
    """One running platform: store, engine, Function URLs, the async queue and schedules."""

    def __init__(self, home: Home, settings: Settings) -> None:
        # First of all: a second platform on this home must not touch the first one's
        # state (its sandbox /etc, its tmp, its certificate) on its way to failing.
        self._lock = home.lock()
        try:
            self._build(home, settings)
        except BaseException:
            self.release()
            raise

    def release(self) -> None:
        """Let go of the home's lock (``stop`` does; so does a platform that never started)."""
        if self._lock >= 0:
            os.close(self._lock)
            self._lock = -1

    def _build(self, home: Home, settings: Settings) -> None:
        self.home = home.ensure()
        self.settings = settings
        self.started_at = time.time()
        self.port = settings.port
        self.store = Store(home, region=settings.region, account_id=settings.account_id)
        self.tags = Tags(self.store)
        self.function_settings = FunctionSettings(self.store)
        self.layers = LayerStore(self.store)
        self.keys = KeyRing(home.keys_file)
        self.keys.ensure_owner()
        self.sessions = SessionIssuer(_session_key(home.session_key_file))
        self.authority = Authority(
            keys=self.keys,
            sessions=self.sessions,
            function_policy=self._function_policy,
            account=settings.account_id,
        )
        self.audit = AuditLog(home.audit_db)
        self.sign_ins = SignIns(self.authority, settings.region)
        self.metrics = InvocationMetrics(self.store)
        self.tls = _tls(home, settings)
        self._instance_port: int | None = None
        self.engine = Engine(
            home,
            settings,
            api_endpoint=self._instance_endpoint,
            credentials=self._instance_credentials,
        )
        self.engine.metrics = self.metrics
        self.asyncq = AsyncQueue(home.queue_db, self.store, settings)
        self.durable = DurableExecutions(
            DurableStore(home.root / "durable.db"),
            self.store,
            self.engine,
            retry_delay_scale=settings.retry_delay_scale,
        )
        self.invoker = Invoker(self.store, self.engine, self.asyncq, self.durable)
        self.provisioner = Provisioner(
            self.store, ProvisionedConfigs(self.store, settings.max_concurrency), self.engine
        )
        self.scheduler = Scheduler(home.root / "schedules.db", settings, self.invoker)
        self.urls = FunctionUrls(
            self.store, settings, self.invoker, self.authority, access_log=self.engine.logs.append
        )
        self._runner: web.AppRunner | None = None

    def application(self) -> web.Application:
        """The aiohttp application serving the control and Invoke APIs."""
        access = api.access_middleware(
            self.authority,
            self.audit,
            arn=self.store.arn,
            log_group_arn=self._log_group_arn,
            presigned=self.sessions.presigned,
            resource_policies=self._resource_policies,
            layer_arn=self.layers.arn,
            layer_policies=self._layer_policies,
            cookies=self.sign_ins,
        )
        # A stage's stable host (<stage>.<project>.localhost) is its function URL, which
        # checks its own callers; every other request is the API's, signed and authorised.
        stages = host_routing(self.urls.find)
        app = web.Application(
            client_max_size=_MAX_REQUEST_BYTES,
            middlewares=[stages, access, api.model.validation_middleware()],
        )
        packages = api.uploads.PackageSource(self.store.code, self.home.root / "uploads")
        api.functions.add_routes(
            app,
            self.store,
            self.settings,
            instances=self.engine,
            urls=self.urls,
            scheduler=self.scheduler,
            tags=self.tags,
            endpoint=lambda: self.endpoint,
            presign=self.sessions.presign,
            provisioned=self.provisioner.configs.total,
            layers=self.layers,
            packages=packages,
        )
        api.uploads.add_routes(app, packages)
        api.layers.add_routes(
            app,
            self.layers,
            package=lambda content: packages.store(content, "PublishLayerVersion"),
            location=lambda sha: self.endpoint + self.sessions.presign(f"/strum/code/{sha}.zip"),
        )
        api.invoke.add_routes(app, self.invoker)
        api.durable.add_routes(app, self.store, self.durable)
        api.provisioned.add_routes(app, self.store, self.provisioner)
        api.schedules.add_routes(app, self.store, self.scheduler)
        api.async_config.add_routes(app, self.store, self.asyncq)
        api.keys.add_routes(app, self.keys, self.audit)
        api.permissions.add_routes(app, self.store)
        api.tags.add_routes(app, self.store, self.tags)
        api.account.add_routes(app, self.store, self.settings, self.function_settings)
        status = api.StatusRoutes(
            self.home,
            self.engine.logs,
            engine_status=self.engine.status,
            health=self.engine.health,
            endpoint=lambda: self.endpoint,
            started_at=self.started_at,
            tls=(
                {"certificate": str(self.tls.certificate), "fingerprint": self.tls.fingerprint()}
                if self.tls is not None
                else None
            ),
            region=self.settings.region,
            account=self.settings.account_id,
        )
        api.status.add_routes(app, status)
        Dashboard(
            self.sign_ins,
            self.store,
            self.engine.logs,
            self.metrics,
            url_for=self.urls.url_for,
            engine_status=self.engine.status,
            instance_details=self.engine.instance_details,
            rules=self.scheduler.rules,
            dead_letters=self.asyncq,
            audit=self.audit,
            executions=self.durable.db.executions,
        ).add_routes(app)
        return app

    async def start(self) -> None:
        """Open the store, start the engine, bind the API, restore URLs and the queue."""
        if self.settings.host not in LOOPBACK and self.tls is None:
            raise PermissionError(
                f"refusing to listen on {self.settings.host} without TLS: give a certificate "
                "(--tls-cert and --tls-key) or the names to make one for (--tls-name)"
            )
        await self.engine.start(
            self_invoke=api.instance_invoke_route(
                self.invoker,
                self.authority,
                self.store.arn,
                self._resource_policies,
                self.durable,
            )
        )
        # Stopping waits this long for API requests still in flight (aiohttp's default is a
        # minute); instances are stopped right after anyway, as the Function URLs' are.
        self._runner = web.AppRunner(self.application(), access_log=None, shutdown_timeout=5.0)
        await self._runner.setup()
        context = self.tls.server_context() if self.tls is not None else None
        site = web.TCPSite(
            self._runner, self.settings.host, self.settings.port, ssl_context=context
        )
        await site.start()
        addresses = self._runner.addresses
        if addresses:
            self.port = int(addresses[0][1])
        if self.tls is not None:
            # Instances reach the API over loopback in plain HTTP: every request is signed
            # and authorised either way, and a sandbox has no certificate to trust.
            internal = web.TCPSite(self._runner, "127.0.0.1", 0)
            await internal.start()
            self._instance_port = int(self._runner.addresses[-1][1])
        await self.urls.start()
        await self.asyncq.start(self.invoker)
        await self.scheduler.start()
        await self.durable.start()
        await self.provisioner.start()
        self._write_address()
        logger.info("strum platform listening on %s", self.endpoint)

    async def stop(self) -> None:
        """Stop taking work, stop every instance, close listeners and the store."""
        await self.provisioner.stop()
        await self.durable.stop()
        await self.scheduler.stop()
        await self.asyncq.stop()
        await self.urls.stop()
        if self._runner is not None:
            await self._runner.cleanup()
        await self.engine.stop()
        self.metrics.flush()
        self.store.close()
        self.audit.close()
        self.release()
        for path in (self.home.address_file, self.home.pidfile):
            if path.exists() and _owned_by_us(path):
                path.unlink()

    @property
    def endpoint(self) -> str:
        """The API's address (``http://host:port``), the bound port once listening."""
        host = self.settings.host
        scheme = "https" if self.tls is not None else "http"
        return f"{scheme}://{'[' + host + ']' if ':' in host else host}:{self.port}"

    def _instance_endpoint(self) -> str:
        """The API's address as instances reach it (see ``start``)."""
        if self._instance_port is not None:
            return f"http://127.0.0.1:{self._instance_port}"
        return self.endpoint

    def _instance_credentials(self, spec: FunctionSpec) -> dict[str, str]:
        """A fresh session for one instance of ``spec``: its execution identity."""
        credentials = self.sessions.issue(
            account=self.settings.account_id, function=spec.name, version=spec.version
        )
        return credentials.environment()

    def _function_policy(self, session: Session) -> Policy | None:
        """A session's execution policy; None once its function or version is gone."""
        try:
            spec = self.store.version_spec(session.function, session.version)
        except ResourceNotFound:
            return None
        return execution_policy(self.store.arn(session.function), spec.policy)

    def _resource_policies(self, name: str, qualifier: str | None) -> list[Policy]:
        """The policies on a function that speak about ``name:qualifier``: the one on the
        version or alias, and the function's own (each statement names its resource)."""
        found = []
        for where in {None, qualifier}:
            entry = self.store.resource_policy(name, where)
            if entry is not None:
                found.append(resource_policy(entry[0]))
        return found

    def _layer_policies(self, name: str, version: int) -> list[Policy]:
        """The resource policy on a layer version (AddLayerVersionPermission), if any."""
        try:
            statements, _ = self.layers.policy(name, version)
        except ResourceNotFound:
            return []
        return [resource_policy(json.dumps(statements))] if statements else []

    def _log_group_arn(self, name: str) -> str:
        return self.store.scope().log_group(name)

    def _write_address(self) -> None:
        record = {
            "endpoint": self.endpoint,
            "pid": os.getpid(),
            "started_at": self.started_at,
            "region": self.settings.region,
            "account_id": self.settings.account_id,
        }
        if self.tls is not None:
            record["tls_certificate"] = str(self.tls.certificate)
            record["tls_fingerprint"] = self.tls.fingerprint()
        temporary = self.home.address_file.with_suffix(".tmp")
        temporary.write_text(json.dumps(record))
        temporary.replace(self.home.address_file)
        self.home.pidfile.write_text(str(os.getpid()))


def _session_key(path: Path) -> bytes:
    """The key sealing instances' sessions: made once, kept (mode 0600), so sessions
    survive a restart of the platform."""
    try:
        key = path.read_bytes()
    except FileNotFoundError:
        key = b""
    if len(key) >= 32:
        return key
    key = secrets.token_bytes(32)
    write_atomically(path, key)
    return key


def _tls(home: Home, settings: Settings) -> tls.TlsFiles | None:
    """The certificate to listen with: the operator's, one made for the names, or none."""
    if settings.tls_cert or settings.tls_key:
        if not (settings.tls_cert and settings.tls_key):
            raise tls.TlsError("give both --tls-cert and --tls-key")
        return tls.load(settings.tls_cert, settings.tls_key)
    if settings.tls_names:
        return tls.generate(list(settings.tls_names), home.tls)
    return None


def _owned_by_us(path: os.PathLike[str]) -> bool:
    try:
        text = Path(path).read_text()
    except OSError:
        return False
    return str(os.getpid()) in text


async def serve(home: Home, settings: Settings) -> None:
    """Run a platform until the task is cancelled (SIGINT/SIGTERM in the CLI)."""
    platform = Platform(home, settings)
    try:
        await platform.start()
    except BaseException:
        platform.release()
        raise
    try:
        await asyncio.Event().wait()
    finally:
        await platform.stop()
