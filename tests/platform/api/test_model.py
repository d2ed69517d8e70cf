"""Requests checked against botocore's model, in AWS's words."""

from __future__ import annotations

import pytest

from strum.platform.api import model
from strum.platform.errors import ValidationFailed


def test_operations_are_found_by_method_and_route() -> None:
    assert model.operation_for("GET", "/2015-03-31/functions/{name}") == "GetFunction"
    assert model.operation_for("POST", "/2015-03-31/functions") == "CreateFunction"
    assert model.operation_for("GET", "/2015-03-31/functions/") == "ListFunctions"
    assert model.operation_for("GET", "/strum/v1/status") is None


def test_a_listing_sharing_its_gets_path_is_told_apart_by_its_query_key() -> None:
    path = "/2019-09-30/functions/{name}/provisioned-concurrency"
    assert model.operation_for("GET", path, ["Qualifier"]) == "GetProvisionedConcurrencyConfig"
    assert model.operation_for("GET", path, ["List"]) == "ListProvisionedConcurrencyConfigs"


def test_one_violation() -> None:
    with pytest.raises(ValidationFailed) as raised:
        model.validate(
            "PutFunctionConcurrency", {"FunctionName": "f", "ReservedConcurrentExecutions": -1}
        )
    assert raised.value.message == (
        "1 validation error detected: Value '-1' at 'reservedConcurrentExecutions' failed to "
        "satisfy constraint: Member must have value greater than or equal to 0"
    )


def test_several_violations_in_one_message() -> None:
    errors = model.validation_errors(
        "CreateAlias", {"FunctionName": "f" * 200, "Name": "123", "FunctionVersion": None}
    )
    assert len(errors) == 3
    assert errors[0] == (
        "Value null at 'functionVersion' failed to satisfy constraint: Member must not be null"
    )
    assert any(
        "at 'name' failed to satisfy constraint: Member must satisfy regular" in e for e in errors
    )
    assert any(e.endswith("Member must have length less than or equal to 140") for e in errors)


def test_lists_maps_and_sensitive_values() -> None:
    assert model.validation_errors(
        "UpdateFunctionCode", {"FunctionName": "f", "Architectures": ["sparc"]}
    ) == [
        "Value '[sparc]' at 'architectures' failed to satisfy constraint: Member must satisfy "
        "constraint: [Member must satisfy enum value set: [x86_64, arm64]]"
    ]
    errors = model.validation_errors(
        "UpdateFunctionConfiguration",
        {"FunctionName": "f", "Environment": {"Variables": {"1X": "s3cret"}}},
    )
    # Environment variables are sensitive: named, never shown.
    assert errors == [
        "Value at 'environment.variables' failed to satisfy constraint: Map keys must satisfy "
        "constraint: [Member must satisfy regular expression pattern: [a-zA-Z]([a-zA-Z0-9_])+]"
    ]


def test_tag_patterns_with_unicode_classes() -> None:
    ok = {
        "Resource": "arn:aws:lambda:us-east-1:000000000000:function:f",
        "Tags": {"équipe": "web 1"},
    }
    assert model.validation_errors("TagResource", ok) == []
    bad = {**ok, "Tags": {"a\tb": "v"}}
    assert len(model.validation_errors("TagResource", bad)) == 1
