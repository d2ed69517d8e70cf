"""IAM policy evaluation, case by case from IAM's documented rules.

Sources: "Policy evaluation logic" (default deny, explicit deny wins, identity and
resource policies as a union within one account), "IAM JSON policy elements: Action /
NotAction / Resource / NotResource / Principal" (wildcards, case rules, ARN segments) and
"Condition operators" (missing keys, negation, IfExists, Null, set qualifiers).
"""

from __future__ import annotations

import json

import pytest

from strum.platform.identity import Decision, Policy, PolicyError, Request, authorize

FN = "arn:aws:lambda:us-east-1:111122223333:function:orders"
ALLOW, EXPLICIT, IMPLICIT = Decision.ALLOW, Decision.EXPLICIT_DENY, Decision.IMPLICIT_DENY


def policy(*statements, resource_based=False):
    return Policy.parse(
        {"Version": "2012-10-17", "Statement": list(statements)}, resource_based=resource_based
    )


def allow(action="lambda:InvokeFunction", resource=FN, **extra):
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action="lambda:InvokeFunction", resource=FN, **extra):
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def ask(action="lambda:InvokeFunction", resource=FN, **context):
    return Request(action=action, resource=resource, context=context)


def test_nothing_allowed_is_an_implicit_deny():
    assert authorize(ask(), []) is IMPLICIT
    assert authorize(ask(), [policy(allow(action="lambda:GetFunction"))]) is IMPLICIT


def test_an_allow_for_the_action_and_resource_allows():
    assert authorize(ask(), [policy(allow())]) is ALLOW


def test_an_explicit_deny_wins_over_any_allow_in_any_policy():
    assert authorize(ask(), [policy(allow(), deny())]) is EXPLICIT
    assert (
        authorize(ask(), [policy(allow(action="*", resource="*"))], [policy_deny_all()]) is EXPLICIT
    )
    assert authorize(ask(), [policy(deny())], [policy_allow_all()]) is EXPLICIT


def policy_deny_all():
    return policy(
        {"Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*"}, resource_based=True
    )


def policy_allow_all():
    return policy(
        {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}, resource_based=True
    )


def test_a_resource_policy_alone_can_allow_within_the_account():
    assert authorize(ask(), [], [policy_allow_all()]) is ALLOW


@pytest.mark.parametrize(
    ("pattern", "action", "decision"),
    [
        ("*", "lambda:DeleteFunction", ALLOW),
        ("lambda:*", "lambda:GetFunction", ALLOW),
        # Action names are case-insensitive (IAM: "lambda:getfunction" is the same action).
        ("lambda:get*", "lambda:GetFunctionConfiguration", ALLOW),
        ("LAMBDA:InvokeFunction", "lambda:InvokeFunction", ALLOW),
        ("lambda:Get?unction", "lambda:GetFunction", ALLOW),
        ("lambda:Get?unction", "lambda:GetFunctions", IMPLICIT),
        ("lambda:Invoke*", "lambda:GetFunction", IMPLICIT),
        ("s3:*", "lambda:GetFunction", IMPLICIT),
    ],
)
def test_action_wildcards(pattern, action, decision):
    assert authorize(ask(action=action), [policy(allow(action=pattern))]) is decision


@pytest.mark.parametrize(
    ("pattern", "resource", "decision"),
    [
        ("*", FN, ALLOW),
        (FN, FN + ":prod", IMPLICIT),
        # A * that ends a segment runs past the colons: versions and aliases of the function.
        (FN + "*", FN + ":prod", ALLOW),
        (FN + ":*", FN + ":7", ALLOW),
        ("arn:aws:lambda:*:111122223333:function:orders", FN, ALLOW),
        ("arn:aws:lambda:us-east-1:111122223333:function:ord?rs", FN, ALLOW),
        # Inside a segment a wildcard does not cross a colon.
        ("arn:aws:lambda:us-east-1:111122223333:function:o*s", FN + ":s", IMPLICIT),
        ("arn:aws:lambda:us-east-1:111122223333:function:o*s", FN, ALLOW),
        # Resource ARNs are case-sensitive.
        ("arn:aws:lambda:us-east-1:111122223333:function:Orders", FN, IMPLICIT),
        ("arn:aws:lambda:us-east-1:444455556666:function:orders", FN, IMPLICIT),
    ],
)
def test_resource_wildcards(pattern, resource, decision):
    assert authorize(ask(resource=resource), [policy(allow(resource=pattern))]) is decision


def test_not_action_allows_everything_but_the_named_actions():
    everything_but_delete = policy(
        {"Effect": "Allow", "NotAction": "lambda:Delete*", "Resource": "*"}
    )
    assert authorize(ask(action="lambda:GetFunction"), [everything_but_delete]) is ALLOW
    # NotAction in an Allow is silence about the excluded actions, not a deny.
    assert authorize(ask(action="lambda:DeleteFunction"), [everything_but_delete]) is IMPLICIT
    assert (
        authorize(
            ask(action="lambda:DeleteFunction"), [everything_but_delete, policy(allow(action="*"))]
        )
        is ALLOW
    )


def test_not_resource_with_deny_denies_all_other_resources():
    only_orders = policy(
        allow(action="*", resource="*"), {"Effect": "Deny", "Action": "*", "NotResource": FN + "*"}
    )
    assert authorize(ask(), [only_orders]) is ALLOW
    other = "arn:aws:lambda:us-east-1:111122223333:function:billing"
    assert authorize(ask(resource=other), [only_orders]) is EXPLICIT


def conditioned(condition):
    return [policy(allow(Condition=condition))]


@pytest.mark.parametrize(
    ("condition", "context", "decision"),
    [
        (
            {"StringEquals": {"aws:SourceAccount": "111122223333"}},
            {"aws:SourceAccount": "111122223333"},
            ALLOW,
        ),
        # Condition key names are case-insensitive; values are not (for StringEquals).
        (
            {"StringEquals": {"AWS:SOURCEACCOUNT": "111122223333"}},
            {"aws:SourceAccount": "111122223333"},
            ALLOW,
        ),
        (
            {"StringEquals": {"lambda:FunctionUrlAuthType": "AWS_IAM"}},
            {"lambda:FunctionUrlAuthType": "aws_iam"},
            IMPLICIT,
        ),
        (
            {"StringEqualsIgnoreCase": {"lambda:FunctionUrlAuthType": "AWS_IAM"}},
            {"lambda:FunctionUrlAuthType": "aws_iam"},
            ALLOW,
        ),
        # A key missing from the request: the condition is false...
        ({"StringEquals": {"aws:SourceAccount": "111122223333"}}, {}, IMPLICIT),
        # ...unless the operator is negated, or IfExists.
        ({"StringNotEquals": {"aws:SourceAccount": "111122223333"}}, {}, ALLOW),
        ({"ArnNotLike": {"aws:SourceArn": "arn:aws:s3:::x"}}, {}, ALLOW),
        ({"StringEqualsIfExists": {"aws:SourceAccount": "111122223333"}}, {}, ALLOW),
        (
            {"StringEqualsIfExists": {"aws:SourceAccount": "111122223333"}},
            {"aws:SourceAccount": "9"},
            IMPLICIT,
        ),
        # Several values for one key: any matches (OR); for a negated operator, none may.
        ({"StringEquals": {"aws:SourceAccount": ["1", "2"]}}, {"aws:SourceAccount": "2"}, ALLOW),
        (
            {"StringNotEquals": {"aws:SourceAccount": ["1", "2"]}},
            {"aws:SourceAccount": "2"},
            IMPLICIT,
        ),
        ({"StringNotEquals": {"aws:SourceAccount": ["1", "2"]}}, {"aws:SourceAccount": "3"}, ALLOW),
        # Several keys, several operators: all must hold (AND).
        (
            {"StringEquals": {"aws:SourceAccount": "1", "aws:PrincipalAccount": "2"}},
            {"aws:SourceAccount": "1", "aws:PrincipalAccount": "3"},
            IMPLICIT,
        ),
        (
            {"StringEquals": {"aws:SourceAccount": "1"}, "Bool": {"aws:SecureTransport": "true"}},
            {"aws:SourceAccount": "1", "aws:SecureTransport": True},
            ALLOW,
        ),
        (
            {"StringLike": {"aws:SourceArn": "arn:aws:events:*:1:rule/strum-*"}},
            {"aws:SourceArn": "arn:aws:events:eu-west-1:1:rule/strum-nightly"},
            ALLOW,
        ),
        (
            {"ArnLike": {"aws:SourceArn": "arn:aws:events:*:1:rule/*"}},
            {"aws:SourceArn": "arn:aws:events:eu-west-1:1:rule/a"},
            ALLOW,
        ),
        (
            {"ArnLike": {"aws:SourceArn": "arn:aws:events:*:1:rule/*"}},
            {"aws:SourceArn": "arn:aws:events:eu-west-1:2:rule/a"},
            IMPLICIT,
        ),
        # Null: true means the key is absent.
        ({"Null": {"aws:TokenIssueTime": "true"}}, {}, ALLOW),
        (
            {"Null": {"aws:TokenIssueTime": "true"}},
            {"aws:TokenIssueTime": "2026-12-04T00:00:00Z"},
            IMPLICIT,
        ),
        (
            {"Null": {"aws:TokenIssueTime": "false"}},
            {"aws:TokenIssueTime": "2026-12-04T00:00:00Z"},
            ALLOW,
        ),
        ({"IpAddress": {"aws:SourceIp": "127.0.0.0/8"}}, {"aws:SourceIp": "127.0.0.1"}, ALLOW),
        (
            {"IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "::1/128"]}},
            {"aws:SourceIp": "::1"},
            ALLOW,
        ),
        ({"NotIpAddress": {"aws:SourceIp": "127.0.0.0/8"}}, {"aws:SourceIp": "192.0.2.7"}, ALLOW),
        (
            {"NotIpAddress": {"aws:SourceIp": "127.0.0.0/8"}},
            {"aws:SourceIp": "127.0.0.1"},
            IMPLICIT,
        ),
        (
            {"DateLessThan": {"aws:CurrentTime": "2027-01-01T00:00:00Z"}},
            {"aws:CurrentTime": "2026-12-04T18:00:00Z"},
            ALLOW,
        ),
        (
            {"DateGreaterThan": {"aws:CurrentTime": "2027-01-01T00:00:00Z"}},
            {"aws:CurrentTime": "2026-12-04T18:00:00Z"},
            IMPLICIT,
        ),
        (
            {"NumericLessThanEquals": {"aws:MultiFactorAuthAge": "3600"}},
            {"aws:MultiFactorAuthAge": 3600},
            ALLOW,
        ),
        (
            {"NumericLessThan": {"aws:MultiFactorAuthAge": "3600"}},
            {"aws:MultiFactorAuthAge": "3601"},
            IMPLICIT,
        ),
        # Set qualifiers on a multi-valued key.
        (
            {"ForAnyValue:StringEquals": {"aws:TagKeys": ["team", "cost"]}},
            {"aws:TagKeys": ["env", "team"]},
            ALLOW,
        ),
        (
            {"ForAllValues:StringEquals": {"aws:TagKeys": ["team", "cost"]}},
            {"aws:TagKeys": ["env", "team"]},
            IMPLICIT,
        ),
        (
            {"ForAllValues:StringEquals": {"aws:TagKeys": ["team", "cost"]}},
            {"aws:TagKeys": ["team"]},
            ALLOW,
        ),
        # ForAllValues holds when the key is missing (IAM documents this trap).
        ({"ForAllValues:StringEquals": {"aws:TagKeys": ["team"]}}, {}, ALLOW),
        ({"ForAnyValue:StringEquals": {"aws:TagKeys": ["team"]}}, {}, IMPLICIT),
    ],
)
def test_conditions(condition, context, decision):
    request = Request(action="lambda:InvokeFunction", resource=FN, context=context)
    assert authorize(request, conditioned(condition)) is decision


def principal_request(principal="", account=""):
    return Request(
        action="lambda:InvokeFunction", resource=FN, principal=principal, principal_account=account
    )


@pytest.mark.parametrize(
    ("principal", "request_", "decision"),
    [
        ("*", principal_request("arn:aws:iam::999988887777:user/x", "999988887777"), ALLOW),
        ({"Service": "events.amazonaws.com"}, principal_request("events.amazonaws.com"), ALLOW),
        ({"Service": "events.amazonaws.com"}, principal_request("s3.amazonaws.com"), IMPLICIT),
        # An account id, or its root ARN, delegates to the account: it names its root; the
        # account's other identities need an identity policy of their own.
        (
            {"AWS": "111122223333"},
            principal_request("arn:aws:iam::111122223333:root", "111122223333"),
            ALLOW,
        ),
        (
            {"AWS": "111122223333"},
            principal_request("arn:aws:iam::111122223333:user/a", "111122223333"),
            IMPLICIT,
        ),
        (
            {"AWS": "arn:aws:iam::111122223333:root"},
            principal_request("arn:aws:iam::111122223333:role/r", "111122223333"),
            IMPLICIT,
        ),
        # A role's ARN names the role's sessions.
        (
            {"AWS": "arn:aws:iam::111122223333:role/billing-role"},
            principal_request(
                "arn:aws:sts::111122223333:assumed-role/billing-role/billing", "111122223333"
            ),
            ALLOW,
        ),
        (
            {"AWS": "arn:aws:iam::111122223333:root"},
            principal_request("arn:aws:iam::444455556666:role/r", "444455556666"),
            IMPLICIT,
        ),
        (
            {"AWS": ["arn:aws:iam::111122223333:role/r"]},
            principal_request("arn:aws:iam::111122223333:role/r", "111122223333"),
            ALLOW,
        ),
        (
            {"AWS": ["arn:aws:iam::111122223333:role/r"]},
            principal_request("arn:aws:iam::111122223333:role/s", "111122223333"),
            IMPLICIT,
        ),
    ],
)
def test_resource_policy_principals(principal, request_, decision):
    document = policy(
        {
            "Effect": "Allow",
            "Principal": principal,
            "Action": "lambda:InvokeFunction",
            "Resource": FN,
        },
        resource_based=True,
    )
    assert authorize(request_, [], [document]) is decision


def test_a_single_statement_object_is_a_policy():
    assert Policy.parse({"Statement": allow()}).decide(ask()) is ALLOW


def refused(document, **kwargs) -> str:
    text = document if isinstance(document, str) else json.dumps(document, indent=2)
    with pytest.raises(PolicyError) as info:
        Policy.parse(text, **kwargs)
    return str(info.value)


def test_malformed_json_names_its_line():
    assert refused(
        '{\n  "Version": "2012-10-17",\n  "Statement": [\n    {"Effect": "Allow",,}\n  ]\n}'
    ).startswith("line 4: not valid JSON: ")


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        (
            {"Effect": "allow", "Action": "*", "Resource": "*"},
            "line 5: Statement[0].Effect: 'allow': Effect is 'Allow' or 'Deny'",
        ),
        ({"Action": "*", "Resource": "*"}, "line 4: Statement[0].Effect: missing"),
        (
            {"Effect": "Allow", "Resource": "*"},
            "line 4: Statement[0].Action: missing: give Action or NotAction",
        ),
        (
            {"Effect": "Allow", "Action": "*", "NotAction": "x:y", "Resource": "*"},
            "line 6: Statement[0].Action: give Action or NotAction, not both",
        ),
        (
            {"Effect": "Allow", "Action": "InvokeFunction", "Resource": "*"},
            "line 6: Statement[0].Action: 'InvokeFunction' is not an action; write service:Action, e.g. lambda:InvokeFunction",
        ),
        (
            {"Effect": "Allow", "Action": [], "Resource": "*"},
            "line 6: Statement[0].Action: a non-empty string or list of strings",
        ),
        (
            {"Effect": "Allow", "Action": "*", "Resource": "orders"},
            "line 7: Statement[0].Resource: 'orders' is not an ARN (arn:aws:lambda:<region>:<account>:function:<name>)",
        ),
        (
            {"Effect": "Allow", "Action": "*", "Resource": "*", "Actions": "*"},
            "line 8: Statement[0].Actions: unknown key",
        ),
        (
            {"Effect": "Allow", "Action": "*", "Resource": "*", "Principal": "*"},
            "line 8: Statement[0].Principal: an identity policy names no principal (it is the caller's own)",
        ),
        (
            {
                "Effect": "Allow",
                "Action": "*",
                "Resource": "*",
                "Condition": {"StringEqualz": {"a:b": "c"}},
            },
            "line 8: Statement[0].Condition: unknown condition operator 'StringEqualz'",
        ),
        (
            {
                "Effect": "Allow",
                "Action": "*",
                "Resource": "*",
                "Condition": {"IpAddress": {"aws:SourceIp": "nope"}},
            },
            "line 8: Statement[0].Condition: IpAddress.aws:SourceIp: 'nope' is not valid here",
        ),
    ],
)
def test_a_bad_statement_is_refused_with_its_line_and_field(statement, message):
    assert refused({"Version": "2012-10-17", "Statement": [statement]}) == message


def test_document_level_problems():
    assert refused({"Version": "2020-01-01", "Statement": [allow()]}) == (
        "line 2: Version: '2020-01-01' is not a policy version; use '2012-10-17'"
    )
    assert refused({"Statement": []}) == "Statement: a policy needs at least one statement"
    assert refused("[]") == "line 1: a policy document is a JSON object"
    assert refused({"Statement": [allow()]}, resource_based=True) == (
        "Statement[0].Principal: a resource policy names its Principal"
    )
    assert refused(
        '{"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}} x'
    ).startswith("line 1: extra data")
    assert "over IAM's 10240 bytes" in refused({"Statement": [allow(Sid="x" * 11000)]})


def test_a_deny_naming_an_account_reaches_every_identity_in_it():
    deny_account = policy(
        {"Effect": "Deny", "Principal": {"AWS": "111122223333"}, "Action": "*", "Resource": "*"},
        resource_based=True,
    )
    user = principal_request("arn:aws:iam::111122223333:user/a", "111122223333")
    assert authorize(user, [policy(allow(action="*", resource="*"))], [deny_account]) is EXPLICIT
    stranger = principal_request("arn:aws:iam::444455556666:user/a", "444455556666")
    assert authorize(stranger, [policy(allow(action="*", resource="*"))], [deny_account]) is ALLOW
