"""The operations table: every route the API registers is signed in and authorised as an
IAM action, so no route can be added that anyone may call without a decision."""

from __future__ import annotations

from strum.platform.api import OPERATIONS
from strum.platform.api.access import OPEN_PATHS


def test_every_route_has_an_iam_action(running_platform):
    app = running_platform.platform.application()
    registered = {
        (route.method, route.resource.canonical)
        for route in app.router.routes()
        if route.resource is not None and route.method != "HEAD"
    }
    unlisted = sorted(
        route for route in registered if route not in OPERATIONS and route[1] not in OPEN_PATHS
    )
    assert unlisted == []
    # And nothing in the table that no route serves (a renamed route would leave its
    # entry behind, and the route unguarded).
    assert sorted(set(OPERATIONS) - registered) == []


def test_actions_use_iam_service_prefixes():
    assert all(
        operation.action.split(":")[0] in {"lambda", "logs", "strum"}
        and operation.action.split(":")[1][:1].isupper()
        for operation in OPERATIONS.values()
    )
