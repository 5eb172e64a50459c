"""Template assertions on every stage: encryption, network isolation, least privilege, audit, identity."""

from __future__ import annotations

import json
from typing import Any

from aws_cdk.assertions import Match

from keel.contract import M
from stacks.access import READ_ONLY_VERBS
from stacks.config import FUNCTION_NAMES
from stacks.constructs.function import DATA_SERVICES, function_name, function_role_name
from stacks.data import TABLES
from tests.infra.conftest import Synthesized

ADMIN_POLICY_NAMES = ("AdministratorAccess", "PowerUserAccess", "IAMFullAccess")
# The functions that query OpenSearch, and so run in the VPC with the search clients group.
SEARCH_CLIENTS = ("chat", "websocket", "slack_worker", "ingest")


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _policy_documents(s: Synthesized) -> list[tuple[str, dict[str, Any]]]:
    """Every identity policy document of the stage: inline role policies, AWS::IAM::Policy, managed policies."""
    documents: list[tuple[str, dict[str, Any]]] = []
    for logical_id, (_, resource) in s.resources("AWS::IAM::Policy").items():
        documents.append((logical_id, resource["Properties"]["PolicyDocument"]))
    for logical_id, (_, resource) in s.resources("AWS::IAM::ManagedPolicy").items():
        documents.append((logical_id, resource["Properties"]["PolicyDocument"]))
    for logical_id, (_, resource) in s.resources("AWS::IAM::Role").items():
        for policy in resource["Properties"].get("Policies", []):
            documents.append((logical_id, policy["PolicyDocument"]))
    return documents


def _allowed_actions(s: Synthesized) -> list[tuple[str, str]]:
    found = []
    for logical_id, document in _policy_documents(s):
        for statement in document["Statement"]:
            if statement["Effect"] == "Allow":
                found += [(logical_id, action) for action in _as_list(statement["Action"])]
    return found


def _role_logical_id(s: Synthesized, concern: str, role_name: str) -> str:
    for logical_id, resource in s.raw[concern]["Resources"].items():
        if resource["Type"] == "AWS::IAM::Role" and resource["Properties"].get("RoleName") == role_name:
            return str(logical_id)
    raise AssertionError(f"no role named {role_name} in {concern}")


def _role_actions(s: Synthesized, concern: str, role_name: str) -> set[str]:
    role_id = _role_logical_id(s, concern, role_name)
    actions: set[str] = set()
    for resource in s.raw[concern]["Resources"].values():
        if resource["Type"] != "AWS::IAM::Policy":
            continue
        if {"Ref": role_id} not in resource["Properties"]["Roles"]:
            continue
        for statement in resource["Properties"]["PolicyDocument"]["Statement"]:
            if statement["Effect"] == "Allow":
                actions.update(_as_list(statement["Action"]))
    return actions


# Encryption at rest -----------------------------------------------------------------------------


def test_every_table_is_kms_encrypted_with_point_in_time_recovery(synthesized: Synthesized) -> None:
    tables = synthesized.resources("AWS::DynamoDB::Table")
    assert len(tables) == len(TABLES)
    for logical_id, (_, table) in tables.items():
        props = table["Properties"]
        assert props["SSESpecification"]["SSEEnabled"] is True, logical_id
        assert props["SSESpecification"]["SSEType"] == "KMS", logical_id
        assert "KMSMasterKeyId" in props["SSESpecification"], logical_id
        assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True, logical_id


def test_conversations_have_the_by_day_index_analytics_reads(synthesized: Synthesized) -> None:
    # keel.analytics.dynamodb queries it day by day; the ops function has Query on it and no Scan.
    tables = [
        t
        for _, t in synthesized.resources("AWS::DynamoDB::Table").values()
        if "GlobalSecondaryIndexes" in t["Properties"]
    ]
    assert len(tables) == 1
    [index] = tables[0]["Properties"]["GlobalSecondaryIndexes"]
    assert index["IndexName"] == "by-day"
    assert [k["AttributeName"] for k in index["KeySchema"]] == ["day", "created_at"]
    assert index["Projection"]["ProjectionType"] == "KEYS_ONLY"


def test_the_stage_key_rotates(synthesized: Synthesized) -> None:
    synthesized.templates["data"].has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True})


def test_queues_topics_logs_and_secrets_use_the_stage_key(synthesized: Synthesized) -> None:
    queues = synthesized.resources("AWS::SQS::Queue")
    # Audit, escalation and Slack queues with their DLQs; the webhook DLQ where actions are enabled.
    assert len(queues) == 6 + int(synthesized.config.actions_enabled)
    assert all("KmsMasterKeyId" in q["Properties"] for _, q in queues.values())
    topics = synthesized.resources("AWS::SNS::Topic")
    assert topics and all("KmsMasterKeyId" in t["Properties"] for _, t in topics.values())
    log_groups = synthesized.resources("AWS::Logs::LogGroup")
    assert log_groups and all("KmsKeyId" in g["Properties"] for _, g in log_groups.values())
    secrets = synthesized.resources("AWS::SecretsManager::Secret")
    assert len(secrets) == 6 and all("KmsKeyId" in s["Properties"] for _, s in secrets.values())


def test_buckets_are_encrypted_private_and_tls_only(synthesized: Synthesized) -> None:
    buckets = synthesized.resources("AWS::S3::Bucket")
    assert len(buckets) == 4
    for logical_id, (_, bucket) in buckets.items():
        props = bucket["Properties"]
        block = props["PublicAccessBlockConfiguration"]
        assert all(
            block[k] for k in ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets")
        )
        rule = props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
        if "AccessLogs" in logical_id:
            # S3 server access logging only delivers to SSE-S3 buckets.
            assert rule["SSEAlgorithm"] == "AES256"
        else:
            assert rule["SSEAlgorithm"] == "aws:kms" and "KMSMasterKeyID" in rule, logical_id
    policies = synthesized.resources("AWS::S3::BucketPolicy")
    assert len(policies) == len(buckets)
    for logical_id, (_, policy) in policies.items():
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        assert any(
            st["Effect"] == "Deny" and st.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") == "false"
            for st in statements
        ), logical_id
        assert not any(st["Effect"] == "Allow" and st.get("Principal") == "*" for st in statements), logical_id


# Audit --------------------------------------------------------------------------------------------


def test_audit_and_trail_buckets_use_object_lock_compliance_with_the_stage_retention(synthesized: Synthesized) -> None:
    locked = [
        bucket
        for _, bucket in synthesized.resources("AWS::S3::Bucket").values()
        if bucket["Properties"].get("ObjectLockEnabled")
    ]
    assert len(locked) == 2
    for bucket in locked:
        rule = bucket["Properties"]["ObjectLockConfiguration"]["Rule"]["DefaultRetention"]
        assert rule == {"Mode": "COMPLIANCE", "Days": synthesized.config.audit_retention_days}
        assert bucket["Properties"]["VersioningConfiguration"]["Status"] == "Enabled"


def test_audit_retention_differs_per_stage(dev: Synthesized, prod: Synthesized) -> None:
    assert prod.config.audit_retention_days > dev.config.audit_retention_days
    prod.templates["audit"].has_resource_properties(
        "AWS::S3::Bucket",
        {"ObjectLockConfiguration": {"Rule": {"DefaultRetention": {"Days": prod.config.audit_retention_days}}}},
    )


def test_cloudtrail_validates_log_files_into_the_locked_bucket(synthesized: Synthesized) -> None:
    template = synthesized.templates["audit"]
    template.has_resource_properties(
        "AWS::CloudTrail::Trail",
        {"EnableLogFileValidation": True, "IsMultiRegionTrail": True, "KMSKeyId": Match.any_value()},
    )
    trail = next(iter(synthesized.resources("AWS::CloudTrail::Trail").values()))[1]
    bucket_id = trail["Properties"]["S3BucketName"]["Ref"]
    assert synthesized.raw["audit"]["Resources"][bucket_id]["Properties"]["ObjectLockEnabled"] is True


def test_audit_queue_has_a_dead_letter_queue(synthesized: Synthesized) -> None:
    synthesized.templates["audit"].has_resource_properties(
        "AWS::SQS::Queue", {"RedrivePolicy": {"maxReceiveCount": 5, "deadLetterTargetArn": Match.any_value()}}
    )


# Search ------------------------------------------------------------------------------------------


def test_opensearch_is_private_encrypted_https_only_with_fine_grained_access(synthesized: Synthesized) -> None:
    domains = synthesized.resources("AWS::OpenSearchService::Domain")
    assert len(domains) == 1
    props = next(iter(domains.values()))[1]["Properties"]
    assert props["VPCOptions"]["SubnetIds"] and props["VPCOptions"]["SecurityGroupIds"]
    assert props["EncryptionAtRestOptions"]["Enabled"] is True and "KmsKeyId" in props["EncryptionAtRestOptions"]
    assert props["NodeToNodeEncryptionOptions"] == {"Enabled": True}
    assert props["DomainEndpointOptions"]["EnforceHTTPS"] is True
    assert props["DomainEndpointOptions"]["TLSSecurityPolicy"].startswith("Policy-Min-TLS-1-2")
    assert props["AdvancedSecurityOptions"]["Enabled"] is True
    assert props["AdvancedSecurityOptions"]["InternalUserDatabaseEnabled"] is False
    principals = [st["Principal"] for st in props["AccessPolicies"]["Statement"]]
    assert "*" not in json.dumps(principals)


def test_only_the_search_clients_group_reaches_the_domain(synthesized: Synthesized) -> None:
    search = synthesized.raw["search"]["Resources"]
    domain = next(r for r in search.values() if r["Type"] == "AWS::OpenSearchService::Domain")
    domain_sg = domain["Properties"]["VPCOptions"]["SecurityGroupIds"][0]["Fn::GetAtt"][0]
    ingress = [r["Properties"] for r in search.values() if r["Type"] == "AWS::EC2::SecurityGroupIngress"]
    inline = search[domain_sg]["Properties"].get("SecurityGroupIngress", [])
    to_domain = [i for i in ingress if i["GroupId"]["Fn::GetAtt"][0] == domain_sg] + inline
    assert len(to_domain) == 1
    rule = to_domain[0]
    assert rule["FromPort"] == 443 and rule["ToPort"] == 443
    clients_sg = rule["SourceSecurityGroupId"]["Fn::GetAtt"][0]
    assert "SearchClients" in clients_sg
    # The functions that carry the clients group are exactly the search users.
    carriers = set()
    for _, fn in synthesized.resources("AWS::Lambda::Function").values():
        vpc = fn["Properties"].get("VpcConfig")
        if vpc:
            carriers.add(fn["Properties"]["FunctionName"])
            assert len(vpc["SecurityGroupIds"]) == 1
    config = synthesized.config
    assert carriers == {function_name(config, n) for n in SEARCH_CLIENTS}


# IAM -----------------------------------------------------------------------------------------------


def test_each_function_has_its_own_named_role(synthesized: Synthesized) -> None:
    functions = synthesized.resources("AWS::Lambda::Function")
    names = {fn["Properties"]["FunctionName"]: (concern, fn) for concern, fn in functions.values()}
    assert set(names) == {function_name(synthesized.config, n) for n in FUNCTION_NAMES}
    role_ids = []
    for name in FUNCTION_NAMES:
        concern, fn = names[function_name(synthesized.config, name)]
        role_id = fn["Properties"]["Role"]["Fn::GetAtt"][0]
        role = synthesized.raw[concern]["Resources"][role_id]
        assert role["Properties"]["RoleName"] == function_role_name(synthesized.config, name)
        assert "ManagedPolicyArns" not in role["Properties"], name
        role_ids.append((concern, role_id))
    assert len(set(role_ids)) == len(FUNCTION_NAMES)


def test_no_policy_grants_wildcard_actions_on_data_services(synthesized: Synthesized) -> None:
    offenders = [
        (logical_id, action)
        for logical_id, action in _allowed_actions(synthesized)
        if action == "*" or ("*" in action and action.split(":")[0] in DATA_SERVICES)
    ]
    assert offenders == []


def test_no_admin_or_power_user_policies(synthesized: Synthesized) -> None:
    for _, (_, role) in synthesized.resources("AWS::IAM::Role").items():
        arns = json.dumps(role["Properties"].get("ManagedPolicyArns", []))
        assert not any(name in arns for name in ADMIN_POLICY_NAMES)
    for logical_id, action in _allowed_actions(synthesized):
        assert action != "*" and not action.endswith(":*"), (logical_id, action)


def test_prod_engineers_are_read_only_and_dev_engineers_may_operate(prod: Synthesized, dev: Synthesized) -> None:
    prod_actions = _role_actions(prod, "access", prod.config.resource_name("engineer"))
    assert prod_actions
    for action in prod_actions:
        verb = action.split(":")[1]
        assert verb.startswith(READ_ONLY_VERBS), action
    dev_actions = _role_actions(dev, "access", dev.config.resource_name("engineer"))
    assert "lambda:InvokeFunction" in dev_actions and dev_actions > prod_actions


def test_break_glass_needs_fresh_mfa_short_sessions_and_pages_on_use(synthesized: Synthesized) -> None:
    config = synthesized.config
    synthesized.templates["access"].has_resource_properties(
        "AWS::IAM::Role",
        {
            "RoleName": config.resource_name("break-glass"),
            "MaxSessionDuration": config.engineers.break_glass_max_session_hours * 3600,
            "AssumeRolePolicyDocument": {
                "Statement": [
                    Match.object_like(
                        {
                            "Condition": {
                                "Bool": {"aws:MultiFactorAuthPresent": "true"},
                                "NumericLessThan": Match.any_value(),
                            }
                        }
                    )
                ]
            },
        },
    )
    synthesized.templates["observability"].has_resource_properties(
        "AWS::Events::Rule",
        {"EventPattern": {"detail": {"eventName": ["AssumeRole"]}}, "Targets": Match.any_value()},
    )


# Identity ------------------------------------------------------------------------------------------


def test_workforce_pool_federates_saml_and_oidc_with_groups_and_department(synthesized: Synthesized) -> None:
    template = synthesized.templates["identity"]
    for provider_type in ("SAML", "OIDC"):
        template.has_resource_properties(
            "AWS::Cognito::UserPoolIdentityProvider",
            {
                "ProviderType": provider_type,
                "AttributeMapping": Match.object_like(
                    {"email": Match.any_value(), "custom:groups": "groups", "custom:department": "department"}
                ),
            },
        )
    oidc = next(
        p
        for _, p in synthesized.resources("AWS::Cognito::UserPoolIdentityProvider").values()
        if p["Properties"]["ProviderType"] == "OIDC"
    )
    # The client secret is a deploy-time dynamic reference, never a literal in the template.
    assert "{{resolve:secretsmanager:" in json.dumps(oidc["Properties"]["ProviderDetails"]["client_secret"])


def test_pools_forbid_workforce_self_sign_up_and_tokens_are_short_lived(synthesized: Synthesized) -> None:
    pools = {
        p["Properties"]["UserPoolName"]: p["Properties"]
        for _, p in synthesized.resources("AWS::Cognito::UserPool").values()
    }
    workforce = pools[synthesized.config.resource_name("workforce")]
    assert workforce["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    assert workforce["MfaConfiguration"] == "ON"
    clients = synthesized.resources("AWS::Cognito::UserPoolClient")
    assert len(clients) == 4
    for _, (_, client) in clients.items():
        props = client["Properties"]
        assert props["AccessTokenValidity"] == synthesized.config.access_token_minutes
        assert props["TokenValidityUnits"]["AccessToken"] == "minutes"
        assert props["AccessTokenValidity"] <= 60 and props["EnableTokenRevocation"] is True


def test_no_client_of_a_self_sign_up_pool_may_write_custom_attributes(synthesized: Synthesized) -> None:
    # A pool with sign-up lets anyone choose the attributes a client may write: never custom:* there (#21).
    pools = synthesized.resources("AWS::Cognito::UserPool")
    self_service = {
        key.split("/", 1)[1]
        for key, (_, pool) in pools.items()
        if not pool["Properties"].get("AdminCreateUserConfig", {}).get("AllowAdminCreateUserOnly", False)
    }
    assert self_service, "the customer pool allows self sign-up"
    clients = synthesized.resources("AWS::Cognito::UserPoolClient")
    checked = 0
    for _, (_, client) in clients.items():
        props = client["Properties"]
        # Every client names what it may write; an absent list means every standard attribute.
        assert props.get("WriteAttributes"), f"{props['ClientName']} sets no WriteAttributes"
        if props["UserPoolId"]["Ref"] in self_service:
            checked += 1
            assert not [a for a in props["WriteAttributes"] if a.startswith("custom:")], props["ClientName"]
    assert checked >= 1


def test_workforce_clients_issue_no_token_that_can_rewrite_the_idp_attributes(synthesized: Synthesized) -> None:
    # Federation makes the mapped attributes writable through the client; a token that could call
    # UpdateUserAttributes needs the aws.cognito.signin.user.admin scope, which no workforce client grants.
    pools = synthesized.resources("AWS::Cognito::UserPool")
    workforce = {
        key.split("/", 1)[1]
        for key, (_, pool) in pools.items()
        if pool["Properties"]["UserPoolName"] == synthesized.config.resource_name("workforce")
    }
    clients = [
        c["Properties"]
        for _, c in synthesized.resources("AWS::Cognito::UserPoolClient").values()
        if c["Properties"]["UserPoolId"]["Ref"] in workforce
    ]
    assert len(clients) == 3
    for props in clients:
        assert "aws.cognito.signin.user.admin" not in props["AllowedOAuthScopes"]
        assert set(props["ExplicitAuthFlows"]) == {"ALLOW_REFRESH_TOKEN_AUTH"}
        assert set(props["WriteAttributes"]) == {"email", "custom:groups", "custom:department"}


# APIs -----------------------------------------------------------------------------------------------


# Escalation and observability ------------------------------------------------------------------------


def test_every_bot_has_a_dashboard_with_every_channel_and_its_alarms(synthesized: Synthesized) -> None:
    config = synthesized.config
    dashboards = {
        d["Properties"]["DashboardName"]: "".join(
            part for part in d["Properties"]["DashboardBody"]["Fn::Join"][1] if isinstance(part, str)
        )
        for _, d in synthesized.resources("AWS::CloudWatch::Dashboard").values()
    }
    alarms = {
        a["Properties"]["AlarmName"]: a["Properties"]
        for _, a in synthesized.resources("AWS::CloudWatch::Alarm").values()
    }
    for bot in config.bots:
        body = dashboards[config.dashboard_name(bot)]
        for channel in config.channels:
            for metric in (M.TURNS, M.ERRORS, M.TURN_LATENCY, M.FALLBACKS, M.COST, M.ESCALATIONS):
                assert f'"{metric}","bot","{bot}","channel","{channel}"' in body, (bot, channel, metric)
            assert f'"{M.OUTCOMES}","bot","{bot}","channel","{channel}","outcome","refused"' in body
        assert M.GUARDRAIL_BLOCKED in body
        for kind in ("error-rate", "latency-p95", "blocked-spike", "fallback-active", "daily-cost"):
            alarm = alarms[config.resource_name(f"{bot}-{kind}")]
            assert alarm["AlarmActions"], (bot, kind)
            # No metric carries bot alone: each alarm reads every channel of the bot.
            dims = [
                {d["Name"]: d["Value"] for d in m["MetricStat"]["Metric"]["Dimensions"]}
                for m in alarm["Metrics"]
                if "MetricStat" in m
            ]
            assert {d["channel"] for d in dims} == set(config.channels) and {d["bot"] for d in dims} == {bot}
        spike = alarms[config.resource_name(f"{bot}-blocked-spike")]
        assert spike["ThresholdMetricId"] and "ANOMALY_DETECTION_BAND" in json.dumps(spike["Metrics"])
        latency = alarms[config.resource_name(f"{bot}-latency-p95")]
        assert latency["Threshold"] == config.alarms.p95_latency_ms
        assert {m["MetricStat"]["Stat"] for m in latency["Metrics"] if "MetricStat" in m} == {"p95"}
        cost = alarms[config.resource_name(f"{bot}-daily-cost")]
        assert cost["Threshold"] == config.alarms.daily_cost_usd


def test_function_assets_are_each_functions_own_folder(synthesized: Synthesized) -> None:
    manifest_dir = synthesized.outdir / f"assembly-{synthesized.config.name}"
    assets = {}
    for manifest in manifest_dir.glob("*.assets.json"):
        for asset in json.loads(manifest.read_text())["files"].values():
            assets[asset["source"]["path"]] = asset
    handler_dirs = [p for p in assets if (manifest_dir / p / "handler.py").exists()]
    assert len(handler_dirs) == len(FUNCTION_NAMES)
    for path in handler_dirs:
        assert not (manifest_dir / path / "app.py").exists() and not (manifest_dir / path / "stacks").exists()


def test_functions_get_only_settings_that_keel_accepts_and_all_it_requires(synthesized: Synthesized) -> None:
    from keel.settings import Settings

    fields = set(Settings.model_fields)
    required = {name for name, field in Settings.model_fields.items() if field.is_required()}
    for _, fn in synthesized.resources("AWS::Lambda::Function").values():
        name = fn["Properties"]["FunctionName"]
        variables = fn["Properties"].get("Environment", {}).get("Variables", {})
        keel = {key.removeprefix("KEEL_").lower() for key in variables if key.startswith("KEEL_")}
        assert keel <= fields, (name, sorted(keel - fields))
        if name != function_name(synthesized.config, "secret_rotation"):
            assert required <= keel, (name, sorted(required - keel))
