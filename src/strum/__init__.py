"""strum: run any Python web app (WSGI or ASGI) and plain functions serverless.

``make_handler`` wraps an app as a Lambda handler for every HTTP event kind; ``@task`` gives
a function ``.delay()`` to run it asynchronously in the deployed function. This package
ships inside every function and cold start is a product feature, so importing it (which
``python -m strum.runtime`` does) loads nothing: the public names resolve on first use.
"""

TYPE_CHECKING = False
if TYPE_CHECKING:
    from strum.adapter import make_handler
    from strum.runtime.tasks import task

__all__ = ["make_handler", "task"]
__version__ = "0.1.0.dev0"


def __getattr__(name: str) -> object:
    # PEP 562 lazy exports: `from strum import make_handler` imports the adapter only then.
    if name == "make_handler":
        from strum.adapter import make_handler

        return make_handler
    if name == "task":
        from strum.runtime.tasks import task

        return task
    raise AttributeError(f"module 'strum' has no attribute {name!r}")
