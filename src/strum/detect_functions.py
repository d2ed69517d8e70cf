"""Finding plain functions in a project, for ``strum init`` when there is no web app.

A project of plain functions has handlers (``def cleanup(event, context)``) that schedules
and event sources call, and ``@task`` functions (``from strum import task``) that run
asynchronously in the deployed function. ``detect_functions`` finds both by reading the
files with ``ast`` (nothing is imported); ``render_functions_config`` writes the config: no
``app``, each handler named in a schedule that is off until you set its expression, and
the tasks listed - they need no config.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from strum.detect import _imports, _parse, _python_files, _qualified

__all__ = ["PlainFunction", "detect_functions", "render_functions_config"]

_EVENT_NAMES = ("event", "evt", "record", "records")
_CONTEXT_NAMES = ("context", "ctx", "_context")
_TASK_DECORATORS = ("strum.task", "strum.runtime.task", "strum.runtime.tasks.task")


@dataclass(frozen=True)
class PlainFunction:
    """A handler (``kind == "handler"``) or a ``@task`` (``"task"``) at ``path:line``."""

    reference: str  # "module:function"
    kind: str
    path: Path
    line: int


def detect_functions(project_dir: Path) -> list[PlainFunction]:
    """The module-level handlers and tasks of the project, by module and line."""
    import ast

    project_dir = Path(project_dir)
    found: list[PlainFunction] = []
    for path, module in _python_files(project_dir):
        tree = _parse(path)
        if tree is None:
            continue
        imports = _imports(tree, module)
        for node in tree.body:
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            reference = f"{module}:{node.name}"
            decorators = [
                _qualified(d.func if isinstance(d, ast.Call) else d, imports)
                for d in node.decorator_list
            ]
            if any(name in _TASK_DECORATORS for name in decorators):
                found.append(PlainFunction(reference, "task", path, node.lineno))
                continue
            names = [argument.arg for argument in node.args.args]
            if (
                not node.decorator_list
                and not node.name.startswith("_")
                and len(names) == 2
                and names[0] in _EVENT_NAMES
                and names[1] in _CONTEXT_NAMES
            ):
                found.append(PlainFunction(reference, "handler", path, node.lineno))
    return found


def render_functions_config(functions: list[PlainFunction], *, in_pyproject: bool) -> str:
    """The config for a project of plain functions, as TOML."""
    prefix = "tool.strum." if in_pyproject else ""
    handlers = [f for f in functions if f.kind == "handler"]
    tasks = [f for f in functions if f.kind == "task"]
    lines = [f"[{prefix[:-1]}]"] if in_pyproject else []
    lines += [
        "# plain functions, no web app (found by `strum init`); no `app`, so no URL",
        *(f"#   {f.reference}  - a handler (event, context)" for f in handlers),
        *(
            f"#   {f.reference}  - a @task: .delay(...) runs it in the deployed function"
            for f in tasks
        ),
        '# python = "3.12"          # the AWS Lambda runtime; default: this machine\'s Python',
        "# memory = 512             # MB, 128-10240",
        "# timeout = 30             # seconds, 1-900",
        "",
    ]
    if handlers:
        lines += [
            f"[{prefix}schedules]",
            "# Each handler on a schedule, off until you pick its expression (rate(...) or",
            "# cron(...)) and remove `enabled = false`; or call it from an event source:",
            f'# [{prefix}events.orders] source = "sqs", function = "...", arn = "arn:aws:sqs:..."',
        ]
        for handler in handlers:
            name = handler.reference.partition(":")[2].replace("_", "-")
            lines.append(
                f'{name} = {{ function = "{handler.reference}", expression = "rate(1 hour)", '
                "enabled = false }"
            )
        lines.append("")
    lines += [
        f"[{prefix}stages.dev]",
        'target = "local"            # strum\'s own platform on this machine: no cloud account',
        "",
    ]
    return "\n".join(lines)
