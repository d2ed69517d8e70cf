"""The platform's state: functions, versions, aliases, concurrency and URL configs in SQLite
(``store``), the records and schema they are kept in (``records``), and deployment
packages stored and unpacked once by content (``codestore``), and the audit log of
control-plane decisions (``audit``), functions' tags (``tags``), their recursion and
runtime-management settings (``function_settings``) and provisioned concurrency
configurations (``provisioned``); durable executions in their own database (``durable``). Plain Python and plain errors
(``strum.platform.errors``): no HTTP, no aiohttp.
"""

from strum.platform.state.audit import AuditEntry, AuditLog
from strum.platform.state.codestore import CodeStore, StoredCode, code_sha256
from strum.platform.state.durable import DurableStore, ExecutionRow
from strum.platform.state.function_settings import FunctionSettings
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
    "ProvisionedConfigs",
    "Store",
    "StoredCode",
    "Tags",
    "check_tags",
    "code_sha256",
    "parse_function_name",
    "url_key",
]
