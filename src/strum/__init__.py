"""strum: run any Python web app (WSGI or ASGI) and plain functions serverless.

``make_handler`` wraps an app as a Lambda handler for every HTTP event kind. Importing
``strum`` stays cheap and standard-library only, because this package ships inside every
function and cold start is a product feature.
"""

from __future__ import annotations

from strum.adapter import make_handler

__all__ = ["make_handler"]
__version__ = "0.1.0.dev0"
