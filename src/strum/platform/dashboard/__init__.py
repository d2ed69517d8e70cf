"""The platform's web dashboard, served at ``/strum/`` on the API's port.

Server-rendered pages (``render``: Jinja2, autoescaped, imported on the first page) with a
little JavaScript and uPlot, vendored in ``static/`` (no CDN: the platform may have no
internet): the functions, one function (versions, aliases and their weights, configuration,
environment with secret-looking values masked, schedules, invocation charts), live
instances, logs with a live tail (server-sent events) and the async queue's dead letters
with redrive and discard.

Nothing is readable without signing in (``sessions``): an issued access key's id and secret
buy a short-lived session cookie; each page is then authorised by the access middleware
like the API call that shows the same thing (``api.access.OPERATIONS``, ``by_cookie``
rows), and every POST carries the session's CSRF token.
"""

from strum.platform.dashboard.pages import Dashboard
from strum.platform.dashboard.sessions import COOKIE, SignIns

__all__ = ["COOKIE", "Dashboard", "SignIns"]
