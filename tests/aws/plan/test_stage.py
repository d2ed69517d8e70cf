"""The AWS planner is pure: desired vs current state -> ordered steps, no AWS involved."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from strum.aws.model import (
    HTTP_API_SID,
    Consumer,
    CurrentApi,
    CurrentConsumers,
    CurrentDomain,
    CurrentStage,
    DesiredStage,
    Record,
    Schedule,
    api_grant,
    canonical,
)
from strum.aws.plan import bucket_entry, plan_deploy


def desired(**changes) -> DesiredStage:
    base = DesiredStage(
        project="shop",
        stage="prod",
        function="shop-prod",
        region="eu-west-1",
        account="123456789012",
        partition="aws",
        code_zip=Path("app.zip"),
        code_sha256="Y29kZQ==",
        runtime="python3.12",
        architecture="arm64",
        role_arn="arn:aws:iam::123456789012:role/shop-prod-role",
        role_name="shop-prod-role",
        trust=canonical({"Statement": []}),
        policy=canonical({"Statement": [{"Sid": "A"}]}),
        layer_name="shop-deps",
        layer_marker="strum deps sha256:abc aws-py3.12-arm64",
        schedules=(Schedule("nightly", "shop-prod-nightly", "rate(1 day)", True),),
    )
    return replace(base, **changes)


def names(steps) -> list[str]:
    return [type(step).__name__ for step in steps]


def in_step(wanted: DesiredStage) -> CurrentStage:
    """What AWS reports right after ``wanted`` was deployed."""
    layer = "arn:aws:lambda:eu-west-1:123456789012:layer:shop-deps:1"
    configuration = {
        **wanted.configuration(layer),
        "Layers": [{"Arn": layer}],
        "CodeSha256": wanted.code_sha256,
        "Architectures": [wanted.architecture],
    }
    return CurrentStage(
        role={"RoleName": "shop-prod-role", "AssumeRolePolicyDocument": {"Statement": []}},
        role_policy={"Statement": [{"Sid": "A"}]},
        layer_arn=layer,
        function=configuration,
        tags=wanted.tags,
        alias={"FunctionVersion": "1"},
        aliased=configuration,
        url={"FunctionUrl": "https://x", "InvokeMode": "Buffered"},
        statements=tuple(
            {
                "Sid": g.sid,
                "Action": g.action,
                "Principal": g.principal if g.principal == "*" else {"Service": g.principal},
                "Condition": {"ArnLike": {"AWS:SourceArn": g.source_arn}} if g.source_arn else {},
            }
            for g in wanted.grants()
        ),
        rules=tuple((s, (wanted.alias_arn,)) for s in wanted.schedules),
        log_group={"logGroupName": wanted.log_group},
    )


def test_a_first_deploy_moves_the_alias_before_anything_routes_to_it():
    steps = names(plan_deploy(desired(), CurrentStage()))
    assert steps[:4] == ["CreateRole", "PutRolePolicy", "CreateLogGroup", "PublishLayer"]
    alias = steps.index("PointAlias")
    assert steps.index("CreateFunction") < steps.index("PublishVersion") < alias
    assert alias < steps.index("EnsureUrl") < steps.index("PutSchedule")


def test_in_step_means_no_steps():
    wanted = desired()
    assert plan_deploy(wanted, in_step(wanted)) == []


def test_code_only_change_updates_code_publishes_and_moves_the_alias():
    current = in_step(desired())
    steps = plan_deploy(desired(code_sha256="bmV3"), current)
    assert names(steps) == ["UpdateCode", "PublishVersion", "CheckVersion", "PointAlias"]


def test_architecture_change_goes_through_the_code_update():
    current = in_step(desired())
    (update, *_) = plan_deploy(desired(architecture="x86_64"), current)
    assert names([update]) == ["UpdateCode"] and update.architecture_changed


def test_a_new_dependency_hash_publishes_a_layer_and_reconfigures():
    current = replace(in_step(desired()), layer_arn=None)
    steps = plan_deploy(desired(), current)
    assert names(steps) == [
        "PublishLayer",
        "UpdateConfiguration",
        "PublishVersion",
        "CheckVersion",
        "PointAlias",
    ]
    assert steps[1].changes == ("Layers",)


def test_policy_drift_is_repaired_without_touching_the_function():
    current = replace(in_step(desired()), role_policy={"Statement": [{"Sid": "Wider"}]})
    assert names(plan_deploy(desired(), current)) == ["PutRolePolicy"]


def test_switching_to_the_users_role_deletes_strums_role_last():
    wanted = desired(role_name=None, role_arn="arn:aws:iam::123456789012:role/mine")
    steps = names(plan_deploy(wanted, in_step(desired())))
    assert steps[0] == "UpdateConfiguration" and steps[-1] == "DeleteOwnRole"


def test_removed_schedules_lose_their_rule_and_permission():
    steps = plan_deploy(desired(schedules=()), in_step(desired()))
    assert names(steps) == ["RemoveSchedule", "RevokePermission"]


def test_http_api_instead_of_url():
    wanted = desired(url=False, http_api=True)
    steps = names(plan_deploy(wanted, in_step(desired())))
    assert "RemoveUrl" in steps and "EnsureHttpApi" in steps
    assert steps.count("RevokePermission") == 2  # the URL's two statements


# Custom domains: the planner's half of what tests/aws/test_domain.py drives end to end.

DOMAIN = "api.shop.example.com"
API = CurrentApi(
    api_id="abc123",
    endpoint="https://abc123.execute-api.eu-west-1.amazonaws.com",
    integration_id="int1",
    integration_uri="arn:aws:lambda:eu-west-1:123456789012:function:shop-prod:prod",
    payload_version="2.0",
    route_id="route1",
    route_target="integrations/int1",
    has_default_stage=True,
)
CERTIFICATE = "arn:aws:acm:eu-west-1:123456789012:certificate/one"
TARGET = ("d-1.execute-api.eu-west-1.amazonaws.com", "ZLY8HYME6SFDD")


def with_api(wanted: DesiredStage) -> CurrentStage:
    """``in_step`` for a stage behind an HTTP API (no function URL)."""
    current = in_step(wanted)
    statement = {
        "Sid": HTTP_API_SID,
        "Action": "lambda:InvokeFunction",
        "Principal": {"Service": "apigateway.amazonaws.com"},
        "Condition": {"ArnLike": {"AWS:SourceArn": api_grant(wanted, API.api_id).source_arn}},
    }
    return replace(current, url=None, api=API, statements=(*current.statements, statement))


def current_domain(**changes) -> CurrentDomain:
    """The domain as AWS has it right after a deploy: issued, mapped, pointed at."""
    base = CurrentDomain(
        domain=DOMAIN,
        zone_id="Z1",
        zone_name="shop.example.com.",
        certificate_arn=CERTIFICATE,
        certificate_status="ISSUED",
        certificate_owned=True,
        validation=Record("_x.api.shop.example.com.", "CNAME", ("_y.acm-validations.aws.",)),
        validation_in_zone=True,
        domain_certificate=CERTIFICATE,
        domain_exists=True,
        target=TARGET,
        mappings=(("m1", API.api_id, "$default", ""),),
        record=Record(DOMAIN + ".", "A", alias=(TARGET[0] + ".", TARGET[1])),
    )
    return replace(base, **changes)


def domain_stage(**changes) -> DesiredStage:
    return desired(url=False, http_api=True, domain=DOMAIN, **changes)


def test_a_domain_in_step_plans_nothing():
    wanted = domain_stage()
    current = replace(with_api(wanted), domain=current_domain(), domains=(DOMAIN,))
    assert plan_deploy(wanted, current) == []


def test_a_new_domain_requests_a_certificate_then_maps_and_points_in_order():
    wanted = domain_stage()
    fresh = CurrentDomain(domain=DOMAIN, zone_id="Z1", zone_name="shop.example.com.")
    steps = plan_deploy(wanted, replace(with_api(wanted), domain=fresh))
    assert names(steps) == [
        "EnsureCertificate",
        "EnsureDomainName",
        "EnsureApiMapping",
        "PutDomainRecord",
    ]
    assert steps[0].describe().startswith(f"request a certificate for {DOMAIN}")
    assert steps[1].describe().startswith("create API Gateway domain name")
    assert steps[2].api_id == API.api_id and steps[2].stale == ()


def test_a_domain_on_a_new_api_is_mapped_after_the_api_is_made():
    wanted = domain_stage()
    fresh = CurrentDomain(domain=DOMAIN, zone_id="Z1", zone_name="shop.example.com.")
    steps = plan_deploy(wanted, CurrentStage(domain=fresh))
    order = names(steps)
    assert order.index("EnsureHttpApi") < order.index("EnsureCertificate")
    mapping = steps[order.index("EnsureApiMapping")]
    assert mapping.api_id is None  # the API this deploy creates
    start = order.index("EnsureCertificate")
    assert order[start : start + 4] == [
        "EnsureCertificate",
        "EnsureDomainName",
        "EnsureApiMapping",
        "PutDomainRecord",
    ]


def test_an_issued_certificate_for_the_name_is_reused_not_requested():
    # One the user had issued already (not strum's): no validation record to keep up.
    wanted = domain_stage()
    reused = current_domain(
        certificate_owned=False,
        validation_in_zone=False,
        domain_exists=False,
        domain_certificate=None,
        mappings=(),
        target=None,
        record=None,
    )
    steps = plan_deploy(wanted, replace(with_api(wanted), domain=reused))
    assert names(steps) == ["EnsureDomainName", "EnsureApiMapping", "PutDomainRecord"]


def test_strums_certificate_gets_its_validation_record_back():
    wanted = domain_stage()
    current = replace(with_api(wanted), domain=current_domain(validation_in_zone=False))
    (step,) = plan_deploy(wanted, current)
    assert names([step]) == ["EnsureCertificate"]
    assert step.describe().startswith("restore the validation record")


def test_a_certificate_still_pending_is_waited_for_not_requested_again():
    wanted = domain_stage()
    pending = current_domain(
        certificate_status="PENDING_VALIDATION", domain_exists=False, domain_certificate=None
    )
    steps = plan_deploy(wanted, replace(with_api(wanted), domain=pending))
    assert names(steps)[:2] == ["EnsureCertificate", "EnsureDomainName"]
    assert steps[0].describe().startswith("wait for ACM")


def test_a_new_certificate_moves_the_domain_name_to_it():
    wanted = domain_stage()
    moved = current_domain(domain_certificate="arn:aws:acm:eu-west-1:123456789012:certificate/old")
    (step,) = plan_deploy(wanted, replace(with_api(wanted), domain=moved))
    assert names([step]) == ["EnsureDomainName"]
    assert step.describe().startswith("switch the certificate of")


def test_mappings_to_other_apis_are_replaced():
    wanted = domain_stage()
    mappings = (("m0", "other", "$default", ""), ("m1", API.api_id, "v1", "v1"))
    current = replace(with_api(wanted), domain=current_domain(mappings=mappings))
    (step,) = plan_deploy(wanted, current)
    assert names([step]) == ["EnsureApiMapping"]
    assert step.stale == ("m0", "m1")


def test_a_record_pointing_elsewhere_is_repointed():
    wanted = domain_stage()
    for record in (
        None,
        Record(DOMAIN, "CNAME", ("elsewhere.example.net",)),
        Record(DOMAIN, "A", alias=("d-other.execute-api.eu-west-1.amazonaws.com", TARGET[1])),
    ):
        current = replace(with_api(wanted), domain=current_domain(record=record))
        assert names(plan_deploy(wanted, current)) == ["PutDomainRecord"]
    # DNS names compare without case or the trailing dot.
    upper = Record(DOMAIN, "A", alias=(TARGET[0].upper(), TARGET[1]))
    current = replace(with_api(wanted), domain=current_domain(record=upper))
    assert plan_deploy(wanted, current) == []


def test_a_changed_domain_removes_the_old_one_before_setting_up_the_new():
    wanted = domain_stage()
    fresh = CurrentDomain(domain=DOMAIN, zone_id="Z1", zone_name="shop.example.com.")
    current = replace(with_api(wanted), domain=fresh, domains=("old.shop.example.com",))
    steps = plan_deploy(wanted, current)
    assert names(steps) == [
        "RemoveDomain",
        "EnsureCertificate",
        "EnsureDomainName",
        "EnsureApiMapping",
        "PutDomainRecord",
    ]
    assert steps[0].domain == "old.shop.example.com"


def test_a_dropped_domain_is_removed_and_goes_before_its_api():
    before = domain_stage()
    current = replace(with_api(before), domain=None, domains=(DOMAIN,))
    steps = plan_deploy(replace(before, domain=None), current)
    assert names(steps) == ["RemoveDomain"]
    assert steps[0].domain == DOMAIN
    # Back to a function URL: the mapping holds on to the API, so the domain goes first.
    steps = names(plan_deploy(desired(), current))
    assert steps.index("RemoveDomain") < steps.index("RemoveHttpApi")


# SNS, S3 and EventBridge consumers: the planner's half of tests/aws/test_consumers.py.

TOPIC = "arn:aws:sns:eu-west-1:123456789012:news"
BUCKET = "uploads"
USER_RULE = "arn:aws:events:eu-west-1:123456789012:rule/billing"
PATTERN = canonical({"source": ["shop.orders"]})
NEWS = Consumer("news", "sns", TOPIC)
UPLOADS = Consumer(
    "uploads", "s3", f"arn:aws:s3:::{BUCKET}", ("s3:ObjectCreated:*",), "incoming/", ".csv"
)
ORDERS = Consumer("orders", "eventbridge", None, pattern=PATTERN, rule="shop-prod-on-orders")
BILLING = Consumer("billing", "eventbridge", USER_RULE)
OTHERS = {"Id": "someone-else", "LambdaFunctionArn": "arn:aws:lambda:eu-west-1:1:function:x"}


def consumer_stage(*consumers: Consumer) -> DesiredStage:
    return desired(consumers=consumers or (NEWS, UPLOADS, ORDERS, BILLING))


def notifications(wanted: DesiredStage, *entries: dict) -> tuple[tuple[str, str], ...]:
    """The bucket's configuration as S3 reports it: others' entry and ``entries``."""
    configuration = {"LambdaFunctionConfigurations": [OTHERS, *entries]}
    return ((BUCKET, json.dumps(configuration, sort_keys=True)),)


def consumers_in_step(wanted: DesiredStage) -> CurrentStage:
    """What the sources report right after ``wanted`` was deployed."""
    current = CurrentConsumers(
        subscribed=(TOPIC,),
        notifications=notifications(wanted, bucket_entry(wanted, UPLOADS)),
        rules=(("shop-prod-on-orders", PATTERN, (wanted.alias_arn,)),),
        targeted=(USER_RULE,),
    )
    return replace(in_step(wanted), consumers=current)


def test_consumers_in_step_plan_nothing():
    wanted = consumer_stage()
    assert plan_deploy(wanted, consumers_in_step(wanted)) == []


def test_s3_reports_filter_names_capitalised_and_that_is_still_in_step():
    wanted = consumer_stage()
    entry = bucket_entry(wanted, UPLOADS)
    entry["Filter"]["Key"]["FilterRules"] = [
        {"Name": "Suffix", "Value": ".csv"},
        {"Name": "Prefix", "Value": "incoming/"},
    ]
    current = consumers_in_step(wanted)
    sources = replace(current.consumers, notifications=notifications(wanted, entry))
    assert plan_deploy(wanted, replace(current, consumers=sources)) == []


def test_new_consumers_get_their_permission_before_their_source_calls():
    wanted = consumer_stage()
    current = replace(
        in_step(desired()),
        consumers=CurrentConsumers(notifications=notifications(wanted)),
    )
    steps = plan_deploy(wanted, current)
    assert names(steps) == [
        "GrantPermission",  # news, uploads, orders, billing: the permission first
        "GrantPermission",
        "GrantPermission",
        "GrantPermission",
        "Subscribe",
        "PutBucketNotifications",
        "PutEventRule",
        "PutEventRule",
    ]
    grants = {step.grant.sid: step.grant for step in steps[:4]}
    assert grants["strum-sns-news"].source_arn == TOPIC
    assert grants["strum-s3-uploads"].source_arn == f"arn:aws:s3:::{BUCKET}"
    # A bucket ARN names no account: S3's permission is limited to this one.
    assert grants["strum-s3-uploads"].source_account == "123456789012"
    assert grants["strum-event-orders"].source_arn == wanted.rule_arn("shop-prod-on-orders")
    assert grants["strum-event-billing"].source_arn == USER_RULE
    assert steps[4].topic == TOPIC
    # The bucket's whole configuration: the other entry kept, strum's added.
    written = json.loads(steps[5].configuration)["LambdaFunctionConfigurations"]
    assert written == [OTHERS, bucket_entry(wanted, UPLOADS)]
    assert [step.consumer for step in steps[6:]] == [ORDERS, BILLING]


def test_a_first_deploy_grants_and_subscribes_after_the_alias_exists():
    wanted = consumer_stage(NEWS)
    steps = names(plan_deploy(wanted, CurrentStage()))
    assert steps.index("PointAlias") < steps.index("GrantPermission") < steps.index("Subscribe")


def test_changed_consumers_are_rewritten():
    before = consumer_stage()
    narrower = replace(UPLOADS, suffix=".json")
    other = replace(ORDERS, pattern=canonical({"source": ["shop.refunds"]}))
    wanted = consumer_stage(NEWS, narrower, other, BILLING)
    steps = plan_deploy(wanted, consumers_in_step(before))
    assert names(steps) == ["PutBucketNotifications", "PutEventRule"]
    written = json.loads(steps[0].configuration)["LambdaFunctionConfigurations"]
    assert written == [OTHERS, bucket_entry(wanted, narrower)]
    assert steps[1].consumer == other


def test_a_rule_whose_target_went_elsewhere_is_put_back():
    wanted = consumer_stage()
    current = consumers_in_step(wanted)
    moved = (("shop-prod-on-orders", PATTERN, ("arn:aws:lambda:eu-west-1:1:function:x",)),)
    current = replace(current, consumers=replace(current.consumers, rules=moved))
    (step,) = plan_deploy(wanted, current)
    assert names([step]) == ["PutEventRule"] and step.consumer == ORDERS


def test_dropped_consumers_are_taken_off_their_sources_then_lose_their_permission():
    before = consumer_stage()
    current = consumers_in_step(before)
    # read_consumers reports what the dropped statements name: the topic and the user's
    # rule as stale, the bucket among the notifications, strum's own rule among the rules.
    stale = CurrentConsumers(
        notifications=current.consumers.notifications,
        rules=current.consumers.rules,
        stale=(("sns", TOPIC), ("eventbridge", USER_RULE)),
    )
    steps = plan_deploy(desired(consumers=()), replace(current, consumers=stale))
    assert names(steps) == [
        "PutBucketNotifications",
        "DeleteEventRule",
        "Unsubscribe",
        "RemoveEventTarget",
        "RevokePermission",
        "RevokePermission",
        "RevokePermission",
        "RevokePermission",
    ]
    # Only strum's entry leaves the bucket.
    assert json.loads(steps[0].configuration) == {"LambdaFunctionConfigurations": [OTHERS]}
    assert steps[1].rule == "shop-prod-on-orders"
    assert (steps[2].topic, steps[3].rule_arn) == (TOPIC, USER_RULE)
    assert sorted(step.sid for step in steps[4:]) == [
        "strum-event-billing",
        "strum-event-orders",
        "strum-s3-uploads",
        "strum-sns-news",
    ]


def test_the_last_strum_entry_leaving_a_bucket_leaves_no_empty_list():
    before = consumer_stage(UPLOADS)
    entry = bucket_entry(before, UPLOADS)
    configuration = {"LambdaFunctionConfigurations": [entry], "QueueConfigurations": []}
    current = replace(
        consumers_in_step(before),
        consumers=CurrentConsumers(notifications=((BUCKET, json.dumps(configuration)),)),
    )
    steps = plan_deploy(desired(consumers=()), current)
    assert names(steps)[0] == "PutBucketNotifications"
    assert json.loads(steps[0].configuration) == {"QueueConfigurations": []}
