"""Static checks that a ``"module:attribute"`` names something in the project.

The function package is the project directory as-is (``strum.build.files``), so a module
resolves exactly when ``<project>/a/b.py`` or ``<project>/a/b/__init__.py`` exists. The
attribute is looked for among the module's top-level bindings by reading its syntax tree;
user code is never imported. When the tree cannot say (a star import, a module
``__getattr__``, syntax this interpreter does not parse), the attribute is given the benefit
of the doubt - a wrong answer would block a valid deploy.
"""

from __future__ import annotations

from pathlib import Path

from strum.config._problems import Invalid, did_you_mean

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ast import stmt


def is_dotted_name(text: str) -> bool:
    """Whether ``text`` is ``name`` or ``name.name...`` of Python identifiers."""
    return bool(text) and all(part.isidentifier() for part in text.split("."))


def find_module(project_dir: Path, module: str) -> Path | None:
    """The file of ``module`` inside ``project_dir``, or ``None``.

    A package's ``__init__.py`` is returned for a package; a directory without one counts
    as a namespace package on the way down but is not itself a module file.
    """
    *packages, last = module.split(".")
    base = project_dir.joinpath(*packages)
    if packages and not base.is_dir():
        return None
    for candidate in (base / f"{last}.py", base / last / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def top_level_names(path: Path) -> set[str] | None:
    """Names bound at the top level of the module at ``path``; ``None`` if unknowable."""
    import ast

    try:
        tree = ast.parse(path.read_bytes(), filename=str(path))
    except (OSError, SyntaxError, ValueError):
        return None
    names: set[str] = set()
    for node in _top_level(tree.body):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                if alias.name == "*":
                    return None
                names.add(alias.asname or alias.name.split(".")[0])
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                for name in ast.walk(target):
                    if isinstance(name, ast.Name):
                        names.add(name.id)
        elif isinstance(node, (ast.For, ast.AsyncFor, ast.With, ast.AsyncWith)):
            for name in ast.walk(node):
                if isinstance(name, ast.Name) and isinstance(name.ctx, ast.Store):
                    names.add(name.id)
        elif isinstance(node, ast.Expr) and "globals" in ast.dump(node):
            # globals().update(...) makes the module's names unknowable.
            return None
    if "__getattr__" in names:
        return None
    return names


def _top_level(body: list[stmt]) -> list[stmt]:
    import ast

    flat: list[stmt] = []
    for node in body:
        flat.append(node)
        # Bindings inside top-level if/try blocks are still module attributes.
        if isinstance(node, ast.If):
            flat.extend(_top_level(list(node.body) + list(node.orelse)))
        elif isinstance(node, ast.Try):
            blocks = [*node.body, *node.orelse, *node.finalbody]
            for handler in node.handlers:
                blocks.extend(handler.body)
            flat.extend(_top_level(blocks))
    return flat


def check_reference(reference: str, project_dir: Path, what: str) -> str:
    """Validate ``"module:attribute"`` and return it; raise ``Invalid`` saying what is wrong."""
    module, colon, attribute = reference.partition(":")
    if not colon:
        raise Invalid(
            f'{what} "{reference}" needs the form "module:attribute", e.g. "jobs:cleanup"'
        )
    if attribute.endswith(")"):
        raise Invalid(
            f'{what} "{reference}" calls something; strum needs the object itself: '
            f'assign it in a module (app = create_app()) and write "{module}:app"'
        )
    if not is_dotted_name(module) or not is_dotted_name(attribute):
        raise Invalid(
            f'{what} "{reference}" is not "module:attribute" with Python names on both sides'
        )
    check_module(module, project_dir, what)
    path = find_module(project_dir, module)
    assert path is not None
    names = top_level_names(path)
    first = attribute.split(".")[0]
    if names is not None and first not in names:
        hint = did_you_mean(first, sorted(n for n in names if not n.startswith("__")))
        raise Invalid(
            f'{what} "{reference}": {_relative(path, project_dir)} defines no top-level '
            f'"{first}"{hint}'
        )
    return reference


def check_module(module: str, project_dir: Path, what: str) -> None:
    """Raise ``Invalid`` unless ``module`` is a module file in the project."""
    if find_module(project_dir, module) is not None:
        return
    as_path = module.replace(".", "/")
    raise Invalid(
        f'{what} module "{module}" is not in the project: there is no {as_path}.py or '
        f"{as_path}/__init__.py under {project_dir}; module paths are relative to the "
        "project directory, which is what strum packages"
    )


def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)
