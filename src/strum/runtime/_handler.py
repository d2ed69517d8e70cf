"""Resolve ``$_HANDLER`` ("module.function", module possibly dotted) to a callable.

Failures become :class:`Fault` with the ``Runtime.*`` types and messages AWS's Python
runtime uses, because operators grep for them and tools key on them.
"""

from __future__ import annotations

import sys

from strum.runtime._faults import Fault, format_frames, user_frames

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    Handler = Callable[[Any, Any], Any]


def load_handler(spec: str) -> Handler:
    """Import the handler's module and return the handler; raise :class:`Fault` if unusable.

    Exceptions other than import and syntax errors (a module that raises at import time)
    propagate unchanged, so they are reported with their own type and stack trace.
    """
    try:
        module_name, attribute = spec.rsplit(".", 1)
    except ValueError as exc:
        raise Fault("Runtime.MalformedHandlerName", f"Bad handler '{spec}': {exc}") from None
    # awslambdaric accepts "dir/module.fn" too; handler strings written for AWS do use it.
    module_name = module_name.replace("/", ".")
    if not module_name or not attribute or module_name.startswith("."):
        raise Fault("Runtime.MalformedHandlerName", f"Bad handler '{spec}': empty module or name")
    if module_name.split(".")[0] in sys.builtin_module_names:
        raise Fault(
            "Runtime.BuiltInModuleConflict",
            f"Cannot use built-in module {module_name} as a handler module",
        )
    try:
        # __import__ rather than importlib.import_module: same result for absolute names,
        # without importing the importlib package on the cold-start path.
        __import__(module_name)
        module = sys.modules[module_name]
    except ImportError as exc:
        # Name the module whose import failed (the user's app.py behind strum's entry
        # module, say), with the frames that lead there: that is where the fix goes.
        frames = user_frames(exc)
        culprit = _module_of(frames[-1][0] if frames else None) or module_name
        raise Fault(
            "Runtime.ImportModuleError",
            f"Unable to import module '{culprit}': {exc}",
            format_frames(frames),
        ) from None
    except SyntaxError as exc:
        culprit = _module_of(exc.filename) or module_name
        raise Fault(
            "Runtime.UserCodeSyntaxError",
            f"Syntax error in module '{culprit}': {exc}",
            # awslambdaric's exact shape (" Line N"), which tools already parse.
            [f'  File "{exc.filename}" Line {exc.lineno}\n    {exc.text}'],
        ) from None
    try:
        handler: Handler = getattr(module, attribute)
    except AttributeError:
        raise Fault(
            "Runtime.HandlerNotFound", f"Handler '{attribute}' missing on module '{module_name}'"
        ) from None
    return handler


def _module_of(filename: str | None) -> str | None:
    """The dotted module a file of the function's code is (None outside the code)."""
    import os

    root = os.environ.get("LAMBDA_TASK_ROOT")
    if not filename or not root or not filename.startswith(root.rstrip("/") + "/"):
        return None
    relative = filename[len(root.rstrip("/")) + 1 :]
    if not relative.endswith(".py"):
        return None
    parts = relative[:-3].split("/")
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts) or None
