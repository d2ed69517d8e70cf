"""Function URLs: one plain HTTP listener per URL config (``listener``), the payload 2.0
event a request becomes and the response a result becomes (``events``, pure), and AWS's
SigV4 check for ``AWS_IAM`` URLs (``sigv4``, pure). Invokes through ``invoke``'s
``Invoker`` like every other entry point; answers errors through ``api.error_response``.
"""

from strum.platform.urls import events, sigv4
from strum.platform.urls.listener import FunctionUrls

__all__ = ["FunctionUrls", "events", "sigv4"]
