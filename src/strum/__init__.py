"""strum: run any Python web app (WSGI or ASGI) and plain functions serverless.

``make_handler`` wraps an app as a Lambda handler for every HTTP event kind; ``@task`` gives
a function ``.delay()`` to run it asynchronously in the deployed function. Importing
``strum`` stays cheap and standard-library only, because this package ships inside every
function and cold start is a product feature.
"""

from __future__ import annotations

from strum.adapter import make_handler
from strum.runtime.tasks import task

__all__ = ["make_handler", "task"]
__version__ = "0.1.0.dev0"
