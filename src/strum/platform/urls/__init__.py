"""Function URLs: one plain HTTP listener per URL config (``listener``), and the payload 2.0
event a request becomes and the response a result becomes (``events``, pure). ``AWS_IAM``
URLs check their callers with the platform's ``identity.Authority``
(``lambda:InvokeFunctionUrl``). Invokes through ``invoke``'s ``Invoker`` like every other
entry point; answers errors through ``api.error_response``. ``hosts`` serves each stage at a stable
``http://<stage>.<project>.localhost:<port>/`` on the platform's own port.
"""

from strum.platform.urls import events
from strum.platform.urls.hosts import host_routing
from strum.platform.urls.listener import FunctionUrls

__all__ = ["FunctionUrls", "events", "host_routing"]
