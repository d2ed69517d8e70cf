"""What ``strum platform status`` lists about the functions a platform holds.

Per function: the version each alias serves, its function URLs (the stable
``<stage>.<project>.localhost`` one where the alias is a strum stage, and the listener's
own), and its warm instances per version (busy or idle), from the engine's report.
"""

from __future__ import annotations

from typing import Any

from strum.platform import LOOPBACK_HOSTS, stage_url

TYPE_CHECKING = False
if TYPE_CHECKING:
    from strum.deploy.local import PlatformLambdaAPI


def function_rows(
    client: PlatformLambdaAPI, engine: dict[str, Any], endpoint: str
) -> list[dict[str, Any]]:
    """One entry per function, by name: aliases, URLs and warm instances."""
    from urllib.parse import urlsplit

    parts = urlsplit(endpoint)
    stable = parts.scheme == "http" and (parts.hostname or "") in LOOPBACK_HOSTS and parts.port
    warm_by_function = (engine.get("instances") or {}).get("functions") or {}
    rows = []
    for function in sorted(client.list_functions(), key=lambda f: str(f["FunctionName"])):
        name = str(function["FunctionName"])
        aliases = {
            str(alias["Name"]): str(alias["FunctionVersion"]) for alias in client.list_aliases(name)
        }
        urls: dict[str, dict[str, str]] = {}
        for config in client.list_url_configs(name):
            arn = str(config.get("FunctionArn") or "").split(":")
            qualifier = arn[7] if len(arn) > 7 else "$LATEST"
            entry = {"url": str(config.get("FunctionUrl") or "")}
            project = name[: -len(qualifier) - 1] if name.endswith(f"-{qualifier}") else None
            if stable and project:
                entry["stage_url"] = stage_url(project, qualifier, int(parts.port or 0))
            urls[qualifier] = entry
        warm = {
            version: {"busy": counts.get("busy", 0), "idle": counts.get("idle", 0)}
            for version, counts in sorted((warm_by_function.get(name) or {}).items())
        }
        rows.append({"name": name, "aliases": aliases, "urls": urls, "warm": warm})
    return rows


def function_lines(rows: list[dict[str, Any]]) -> list[str]:
    """``rows`` as the few lines ``strum platform status`` prints."""
    if not rows:
        return ["functions: none (`strum deploy` in a project creates one)"]
    lines = [f"functions: {len(rows)}"]
    for row in rows:
        serving = ", ".join(f"{alias} -> {v}" for alias, v in sorted(row["aliases"].items()))
        warm = row["warm"]
        instances = sum(c["busy"] + c["idle"] for c in warm.values())
        detail = ", ".join(
            f"v{version}: {c['busy']} busy {c['idle']} idle" for version, c in warm.items()
        )
        lines.append(
            f"  {row['name']}  {serving or 'no alias'}; warm: {instances}"
            + (f" ({detail})" if detail else "")
        )
        for qualifier, url in sorted(row["urls"].items()):
            shown = url.get("stage_url") or url["url"]
            also = f" (also {url['url']})" if url.get("stage_url") else ""
            lines.append(f"    url {qualifier}: {shown}{also}")
    return lines
