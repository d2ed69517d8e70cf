"""The platform's state: functions, versions, aliases, concurrency and URL configs in SQLite
(``store``), the records and schema they are kept in (``records``), and deployment
packages stored and unpacked once by content (``codestore``), the audit log of
control-plane decisions (``audit``) and layer versions (``layers``). Plain Python and plain errors
(``strum.platform.errors``): no HTTP, no aiohttp.
"""

from strum.platform.state.audit import AuditEntry, AuditLog
from strum.platform.state.codestore import CodeStore, StoredCode, code_sha256
from strum.platform.state.layers import (
    LayerStore,
    LayerVersion,
    layer_arn,
    parse_layer_version_arn,
)
from strum.platform.state.records import (
    LATEST,
    AliasRecord,
    FunctionRecord,
    parse_function_name,
    url_key,
)
from strum.platform.state.store import Store

__all__ = [
    "LATEST",
    "AliasRecord",
    "AuditEntry",
    "AuditLog",
    "CodeStore",
    "FunctionRecord",
    "LayerStore",
    "LayerVersion",
    "Store",
    "StoredCode",
    "code_sha256",
    "layer_arn",
    "parse_function_name",
    "parse_layer_version_arn",
    "url_key",
]
