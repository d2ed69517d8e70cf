"""The platform's state: functions, versions, aliases, concurrency and URL configs in SQLite
(``store``), the records and schema they are kept in (``records``), and deployment
packages stored and unpacked once by content (``codestore``), and the audit log of
control-plane decisions (``audit``), functions' tags (``tags``), their recursion and
runtime-management settings (``function_settings``), provisioned concurrency
configurations (``provisioned``) and the port each function URL last had (``url_ports``, so
a stage deployed again gets its URL back), layer versions (``layers``), per-minute
invocation metrics (``metrics``) and durable executions in their own database
(``durable``). Plain Python and plain errors
(``strum.platform.errors``): no HTTP, no aiohttp.
"""

from strum.platform.state.audit import AuditEntry, AuditLog
from strum.platform.state.codestore import CodeStore, StoredCode, code_sha256
from strum.platform.state.durable import DurableStore, ExecutionRow
from strum.platform.state.function_settings import FunctionSettings
from strum.platform.state.layers import (
    LayerStore,
    LayerVersion,
    layer_arn,
    parse_layer_version_arn,
)
from strum.platform.state.metrics import InvocationMetrics
from strum.platform.state.provisioned import ProvisionedConfigs
from strum.platform.state.records import (
    LATEST,
    AliasRecord,
    FunctionRecord,
    parse_function_name,
    url_key,
)
from strum.platform.state.store import Store
from strum.platform.state.tags import MAX_TAGS, Tags, check_tags
from strum.platform.state.url_ports import remember_port, remembered_port

__all__ = [
    "LATEST",
    "MAX_TAGS",
    "AliasRecord",
    "AuditEntry",
    "AuditLog",
    "CodeStore",
    "DurableStore",
    "ExecutionRow",
    "FunctionRecord",
    "FunctionSettings",
    "InvocationMetrics",
    "LayerStore",
    "LayerVersion",
    "ProvisionedConfigs",
    "Store",
    "StoredCode",
    "Tags",
    "check_tags",
    "code_sha256",
    "layer_arn",
    "parse_function_name",
    "parse_layer_version_arn",
    "remember_port",
    "remembered_port",
    "url_key",
]
