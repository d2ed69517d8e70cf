"""The Invoker directly: qualifiers, ARNs, weighted aliases, payload limits."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from strum.platform.errors import RequestTooLarge, ResourceConflict, ResourceNotFound
from strum.platform.home import Home
from strum.platform.invoke import resolve_spec
from strum.platform.state import AliasRecord, Store
from tests.platform.packages import create_function, make_zip

CONFIG = {"Runtime": "python3.11", "Handler": "app.handler", "Role": "r", "Timeout": 3}


@pytest.fixture
def store(tmp_path: Path):
    opened = Store(Home(tmp_path / "home"))
    yield opened
    opened.close()


def test_weighted_alias_picks_versions_by_weight(store: Store):
    store.create_function("fn", dict(CONFIG), store.code.put(make_zip({"app.py": "1"})))
    store.publish_version("fn")
    store.update_code("fn", store.code.put(make_zip({"app.py": "2"})))
    store.publish_version("fn")
    store.create_alias(AliasRecord("fn", "live", "1", weights={"2": 0.25}))
    picks = Counter(resolve_spec(store, "fn", "live").version for _ in range(2000))
    assert set(picks) == {"1", "2"}
    assert 350 < picks["2"] < 650
    spec = resolve_spec(store, "fn", "live")
    assert spec.arn.endswith(":function:fn:live")
    with pytest.raises(ResourceConflict, match="aliases reference"):
        store.delete_version("fn", "2")
    with pytest.raises(ResourceNotFound):
        resolve_spec(store, "fn", "nope")


def test_the_invoker_by_name_qualifier_or_arn(running_platform, lambda_client):
    create_function(lambda_client, "direct", Publish=True)
    platform = running_platform.platform
    result = running_platform.call(platform.invoker.invoke("direct", "1", b'{"via": "code"}'))
    assert result.executed_version == "1"
    assert json.loads(result.payload)["event"] == {"via": "code"}
    arn = "arn:aws:lambda:us-east-1:000000000000:function:direct:1"
    assert running_platform.call(platform.invoker.invoke(arn, None, b"{}")).executed_version == "1"
    with pytest.raises(ResourceNotFound):
        running_platform.call(platform.invoker.invoke("nothing", None, b"{}"))
    with pytest.raises(RequestTooLarge):
        running_platform.call(
            platform.invoker.invoke("direct", None, b"0" * (2 << 20), invocation_type="Event")
        )
