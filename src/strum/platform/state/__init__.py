"""The platform's state: functions, versions, aliases, concurrency and URL configs in SQLite
(``store``), the records and schema they are kept in (``records``), and deployment
packages stored and unpacked once by content (``codestore``), and the audit log of
control-plane decisions (``audit``), and the port each function URL last had
(``url_ports``, so a stage deployed again gets its URL back). Plain Python and plain errors
(``strum.platform.errors``): no HTTP, no aiohttp.
"""

from strum.platform.state.audit import AuditEntry, AuditLog
from strum.platform.state.codestore import CodeStore, StoredCode, code_sha256
from strum.platform.state.records import (
    LATEST,
    AliasRecord,
    FunctionRecord,
    parse_function_name,
    url_key,
)
from strum.platform.state.store import Store
from strum.platform.state.url_ports import remember_port, remembered_port

__all__ = [
    "LATEST",
    "AliasRecord",
    "AuditEntry",
    "AuditLog",
    "CodeStore",
    "FunctionRecord",
    "Store",
    "StoredCode",
    "code_sha256",
    "parse_function_name",
    "remember_port",
    "remembered_port",
    "url_key",
]
