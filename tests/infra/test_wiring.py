"""Every function is deployed with its trigger, its exact grants and its data; the APIs route to them."""

from __future__ import annotations

import json
from typing import Any

from keel.contract import ENABLING_EVENTS, PLACEHOLDERS, REVOKING_EVENTS, M
from keel.escalation.workflow import definition_template
from stacks.api import AGENT_ACTIONS, GUEST_PATH, SLACK_ENDPOINTS, WEBSOCKET_ROUTES
from stacks.config import FUNCTION_NAMES, TENANT_READERS
from stacks.constructs.function import function_name
from stacks.observability import BOT_METRICS
from stacks.secrets import AGE_CHECK_SCHEDULE, REST_KEY_AUTH
from tests.infra.conftest import REPO_ROOT, Synthesized

# Actions that every function has for its own logs, traces and (in the VPC) network interfaces.
PLUMBING = ("logs:", "xray:", "ec2:")


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _functions(s: Synthesized) -> dict[str, tuple[str, str, dict[str, Any]]]:
    """Function folder name -> (concern, logical id, resource)."""
    by_physical = {function_name(s.config, n): n for n in FUNCTION_NAMES}
    found = {}
    for key, (concern, fn) in s.resources("AWS::Lambda::Function").items():
        physical = fn["Properties"].get("FunctionName")
        if physical in by_physical:
            found[by_physical[physical]] = (concern, key.split("/", 1)[1], fn)
    return found


def function_grants(s: Synthesized) -> dict[str, list[tuple[str, dict[str, Any]]]]:
    """Function -> every (action, statement) its role is allowed, across the stage's policies."""
    grants: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for name, (concern, _, fn) in _functions(s).items():
        role_id = fn["Properties"]["Role"]["Fn::GetAtt"][0]
        resources = s.raw[concern]["Resources"]
        found: list[tuple[str, dict[str, Any]]] = []
        for resource in resources.values():
            if resource["Type"] == "AWS::IAM::Policy" and {"Ref": role_id} in resource["Properties"]["Roles"]:
                for statement in resource["Properties"]["PolicyDocument"]["Statement"]:
                    if statement["Effect"] == "Allow":
                        found += [(a, statement) for a in _as_list(statement["Action"])]
        grants[name] = found
    return grants


def _actions(s: Synthesized, name: str) -> set[str]:
    return {a for a, _ in function_grants(s)[name] if not a.startswith(PLUMBING)}


def _resources_of(s: Synthesized, name: str, action: str) -> str:
    return json.dumps([st["Resource"] for a, st in function_grants(s)[name] if a == action])


# Every function, exactly what its code calls (read from the handlers and the adapters they build).
TURN = {
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:Query",
    "es:ESHttpGet",
    "es:ESHttpHead",
    "es:ESHttpPost",
    "bedrock:InvokeModel",
    "bedrock:InvokeModelWithResponseStream",
    "sqs:SendMessage",
    "states:StartExecution",
    "states:DescribeExecution",
    "ssm:GetParameter",
    "kms:Encrypt",
    "kms:Decrypt",
    "kms:GenerateDataKey",
    "kms:DescribeKey",
    # The toxicity screen (Bedrock guardrail) and name detection (Comprehend) of the AWS build.
    "bedrock:ApplyGuardrail",
    "comprehend:DetectPiiEntities",
}
TURN_FUNCTIONS = ("chat", "websocket", "slack_worker")
# Integration credentials for actions (EC2 actions are asserted on their own: "ec2:" is plumbing here).
ACTIONS = {"secretsmanager:GetSecretValue"}
SQS_CONSUMER = {
    "sqs:ReceiveMessage",
    "sqs:DeleteMessage",
    "sqs:ChangeMessageVisibility",
    "sqs:GetQueueAttributes",
    "sqs:GetQueueUrl",
}
EXPECTED_ACTIONS: dict[str, set[str]] = {
    "chat": TURN,
    "websocket": TURN | {"dynamodb:DeleteItem", "execute-api:ManageConnections"},
    "slack_worker": TURN
    | SQS_CONSUMER
    | {
        "dynamodb:DeleteItem",
        "secretsmanager:GetSecretValue",
        "cognito-idp:ListUsers",
        "cognito-idp:AdminListGroupsForUser",
    },
    "feedback": {
        "dynamodb:GetItem",
        "dynamodb:Query",
        "dynamodb:UpdateItem",
        "kms:Decrypt",
        "kms:DescribeKey",
        "kms:Encrypt",
        "kms:GenerateDataKey",
    },
    "guest_session": {
        "cognito-idp:AdminCreateUser",
        "cognito-idp:AdminSetUserPassword",
        "cognito-idp:AdminAddUserToGroup",
        "cognito-idp:CreateGroup",
        "cognito-idp:AdminInitiateAuth",
    },
    "agent_api": {
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:Query",
        "dynamodb:DeleteItem",
        "execute-api:ManageConnections",
        "secretsmanager:GetSecretValue",
        "kms:Decrypt",
        "kms:DescribeKey",
        "kms:Encrypt",
        "kms:GenerateDataKey",
    },
    "ops_api": {"dynamodb:GetItem", "dynamodb:Query", "kms:Decrypt", "kms:DescribeKey"},
    "authorizer": {"dynamodb:GetItem", "kms:Decrypt", "kms:DescribeKey"},
    "slack": {
        "secretsmanager:GetSecretValue",
        "dynamodb:PutItem",
        "dynamodb:DeleteItem",
        "sqs:SendMessage",
        "kms:Decrypt",
        "kms:DescribeKey",
        "kms:Encrypt",
        "kms:GenerateDataKey",
    },
    "revocation": {
        "dynamodb:UpdateItem",
        "dynamodb:Query",
        "dynamodb:DeleteItem",
        "cognito-idp:AdminGetUser",
        "execute-api:ManageConnections",
        "kms:Decrypt",
        "kms:DescribeKey",
        "kms:Encrypt",
        "kms:GenerateDataKey",
    },
    "ingest": {
        "es:ESHttpGet",
        "es:ESHttpHead",
        "es:ESHttpPost",
        "es:ESHttpPut",
        "es:ESHttpDelete",
        "bedrock:InvokeModel",
        "s3:GetObject",
        "s3:GetObjectTagging",
        "s3:ListBucket",
        "kms:Decrypt",
        "kms:DescribeKey",
    },
    "audit_writer": SQS_CONSUMER
    | {
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:ConditionCheckItem",
        "dynamodb:Query",
        "s3:PutObject",
        "s3:PutObjectRetention",
        "s3:GetObject",
        "s3:GetObjectVersion",
        "s3:ListBucket",
        "s3:ListBucketVersions",
        "kms:Decrypt",
        "kms:DescribeKey",
        "kms:Encrypt",
        "kms:GenerateDataKey",
        "kms:Sign",
    },
    "escalation_worker": SQS_CONSUMER
    | {
        "states:SendTaskSuccess",
        "states:SendTaskFailure",
        "dynamodb:GetItem",
        "dynamodb:UpdateItem",
        "dynamodb:Query",
        "secretsmanager:GetSecretValue",
        "kms:Decrypt",
        "kms:DescribeKey",
        "kms:Encrypt",
        "kms:GenerateDataKey",
    },
    "secret_rotation": {
        "secretsmanager:DescribeSecret",
        "secretsmanager:GetSecretValue",
        "secretsmanager:PutSecretValue",
        "secretsmanager:UpdateSecretVersionStage",
        "secretsmanager:GetRandomPassword",
        "kms:Decrypt",
        "kms:DescribeKey",
        "kms:Encrypt",
        "kms:GenerateDataKey",
    },
}


TENANT_READ = {"appconfig:StartConfigurationSession", "appconfig:GetLatestConfiguration"}


def test_every_function_folder_is_deployed_once(synthesized: Synthesized) -> None:
    folders = {p.name for p in (REPO_ROOT / "functions").iterdir() if (p / "handler.py").is_file()}
    assert set(FUNCTION_NAMES) == folders
    assert set(_functions(synthesized)) == folders


def test_each_function_is_granted_exactly_what_its_code_calls(synthesized: Synthesized) -> None:
    assert set(EXPECTED_ACTIONS) == set(FUNCTION_NAMES)
    for name, expected in EXPECTED_ACTIONS.items():
        with_actions = name in TURN_FUNCTIONS and synthesized.config.actions_enabled
        granted = expected | (TENANT_READ if name in TENANT_READERS else set())
        assert _actions(synthesized, name) == (granted | ACTIONS if with_actions else granted), name


# Actions with no resource type: AWS documents Resource "*" for them (the action itself is fixed).
EC2_ACTIONS = ("ec2:DescribeInstances", "ec2:StopInstances", "ec2:TerminateInstances")
NO_RESOURCE_TYPE = ("secretsmanager:GetRandomPassword", "comprehend:DetectPiiEntities")


def test_data_grants_are_resource_scoped(synthesized: Synthesized) -> None:
    # Only the documented exceptions hold a wildcard: actions without a resource type and paths or
    # object keys under one named domain, bucket, workflow or WebSocket stage.
    for name, grants in function_grants(synthesized).items():
        for action, statement in grants:
            if action.startswith(PLUMBING) or action in NO_RESOURCE_TYPE:
                continue
            for resource in _as_list(statement["Resource"]):
                assert resource != "*", (name, action)


def test_the_guardrail_screens_toxic_answers_prompt_attacks_and_secrets(synthesized: Synthesized) -> None:
    (guardrail,) = [g["Properties"] for _, g in synthesized.resources("AWS::Bedrock::Guardrail").values()]
    assert guardrail["Name"] == synthesized.config.resource_name("guardrail") and "KmsKeyArn" in guardrail
    filters = {f["Type"]: f for f in guardrail["ContentPolicyConfig"]["FiltersConfig"]}
    for kind in ("HATE", "INSULTS", "SEXUAL", "VIOLENCE", "MISCONDUCT"):
        assert filters[kind]["OutputStrength"] == "HIGH", kind
    assert (filters["PROMPT_ATTACK"]["InputStrength"], filters["PROMPT_ATTACK"]["OutputStrength"]) == ("HIGH", "NONE")
    pii = {p["Type"]: p for p in guardrail["SensitiveInformationPolicyConfig"]["PiiEntitiesConfig"]}
    assert {"CREDIT_DEBIT_CARD_NUMBER", "AWS_SECRET_KEY", "US_SOCIAL_SECURITY_NUMBER"} <= set(pii)
    assert all(p["OutputAction"] == "BLOCK" for p in pii.values())
    assert guardrail["BlockedInputMessaging"] and guardrail["BlockedOutputsMessaging"]
    # The version the turn uses is published next to it, so its number is never a cross-stack export.
    (version,) = [v["Properties"] for _, v in synthesized.resources("AWS::Bedrock::GuardrailVersion").values()]
    assert "keel-" + synthesized.config.name + "-guardrail" in json.dumps(version["GuardrailIdentifier"])
    assert next(iter(synthesized.resources("AWS::Bedrock::GuardrailVersion"))).startswith("api/")


def test_only_the_turn_applies_the_guardrail_and_detects_names_with_comprehend(synthesized: Synthesized) -> None:
    for name, grants in function_grants(synthesized).items():
        applied = [st for a, st in grants if a == "bedrock:ApplyGuardrail"]
        comprehend = [st for a, st in grants if a == "comprehend:DetectPiiEntities"]
        if name not in TURN_FUNCTIONS:
            assert applied == comprehend == [], name
            continue
        # ApplyGuardrail on this stage's guardrail only; DetectPiiEntities has no resource type.
        assert [json.dumps(st["Resource"]) for st in applied] == [
            json.dumps({"Fn::ImportValue": next(iter(_guardrail_arn_exports(synthesized)))})
        ], name
        assert [st["Resource"] for st in comprehend] == ["*"], name


def _guardrail_arn_exports(s: Synthesized) -> list[str]:
    outputs = s.raw["guardrail"].get("Outputs", {})
    return [o["Export"]["Name"] for o in outputs.values() if "GuardrailArn" in json.dumps(o["Value"])]


def test_settings_carry_the_guardrail_everywhere_and_its_version_to_the_turn(synthesized: Synthesized) -> None:
    for name, (_, _, fn) in _functions(synthesized).items():
        env = fn["Properties"]["Environment"]["Variables"]
        if name == "secret_rotation":
            assert not any(k.startswith("KEEL_BEDROCK") for k in env)
            continue
        assert "GuardrailId" in json.dumps(env["KEEL_BEDROCK_GUARDRAIL_ID"]), name
        if name in TURN_FUNCTIONS:
            assert env["KEEL_BEDROCK_GUARDRAIL_VERSION"] == {"Fn::GetAtt": ["GuardrailVersion", "Version"]}, name
        else:
            assert "KEEL_BEDROCK_GUARDRAIL_VERSION" not in env, name


def test_every_function_environment_loads_as_keel_settings(synthesized: Synthesized) -> None:
    # Given each function's KEEL_* variables with deploy-time tokens replaced by plausible values,
    # When keel loads its settings as the function would, Then nothing is unknown, missing or refused.
    from keel.settings import load_settings

    def plausible(key: str, value: Any) -> str:
        if isinstance(value, str):
            return value
        if key == "KEEL_BEDROCK_GUARDRAIL_VERSION":
            return "3"
        if key == "KEEL_TENANT_APPCONFIG":
            # Fn::Join of the application, environment and profile ids.
            assert value["Fn::Join"][0] == "/" and len(value["Fn::Join"][1]) == 3, value
            return "app1234/env5678/prof9012"
        return "https://resolved.example.com" if key.endswith("_URL") else "resolved-at-deploy"

    for name, (_, _, fn) in _functions(synthesized).items():
        if name == "secret_rotation":
            continue
        env = fn["Properties"]["Environment"]["Variables"]
        settings = load_settings({k: plausible(k, v) for k, v in env.items() if k.startswith("KEEL_")})
        assert settings.bedrock_guardrail_id == "resolved-at-deploy", name
        assert settings.tenant_appconfig == "app1234/env5678/prof9012", name
        assert settings.actions_enabled is (synthesized.config.actions_enabled and name in TURN_FUNCTIONS), name


def test_actions_stop_or_terminate_only_tagged_instances_and_read_only_integration_secrets(
    synthesized: Synthesized,
) -> None:
    config = synthesized.config
    for name, grants in function_grants(synthesized).items():
        ec2 = {a: st for a, st in grants if a in EC2_ACTIONS}
        if not (config.actions_enabled and name in TURN_FUNCTIONS):
            assert ec2 == {}, name
            continue
        for action in ("ec2:StopInstances", "ec2:TerminateInstances"):
            statement = ec2[action]
            assert statement["Resource"] == f"arn:aws:ec2:{config.target.region}:{config.target.account}:instance/*"
            assert statement["Condition"] == {"StringEquals": {"aws:ResourceTag/keel-managed": "true"}}
        describe = ec2["ec2:DescribeInstances"]
        assert describe["Condition"] == {"StringEquals": {"aws:RequestedRegion": config.target.region}}
        secrets = _resources_of(synthesized, name, "secretsmanager:GetSecretValue")
        assert all(s in secrets for s in ("CrmSecret", "HrSecret", "HelpdeskSecret")), name
        assert "WebhookDeadLetters" in _resources_of(synthesized, name, "sqs:SendMessage"), name
    queues = {q["Properties"]["QueueName"] for _, q in synthesized.resources("AWS::SQS::Queue").values()}
    assert (config.resource_name("webhooks-dlq") in queues) is config.actions_enabled


def test_action_settings_name_the_secrets_that_exist(synthesized: Synthesized) -> None:
    env = _functions(synthesized)["chat"][2]["Properties"]["Environment"]["Variables"]
    if not synthesized.config.actions_enabled:
        assert not any(k.startswith(("KEEL_ACTIONS", "KEEL_CRM", "KEEL_HR")) for k in env)
        return
    secrets = {
        s["Properties"]["Name"]: json.loads(s["Properties"]["GenerateSecretString"]["SecretStringTemplate"])
        for _, s in synthesized.resources("AWS::SecretsManager::Secret").values()
    }
    # keel.integrations.crm sends access_token; keel.integrations.hr sends api_key.
    assert secrets[env["KEEL_CRM_SECRET_ID"]]["rotate_field"] == "access_token"
    assert secrets[env["KEEL_HR_SECRET_ID"]]["rotate_field"] == "api_key"
    assert env["KEEL_HELPDESK_SECRET_ID"] in secrets
    schedules = synthesized.resources("AWS::SecretsManager::RotationSchedule")
    assert len(schedules) == len(REST_KEY_AUTH)  # the provider-issued secrets are age-checked instead


def test_the_turn_reads_pii_vaults_only_with_the_conversation_as_encryption_context(synthesized: Synthesized) -> None:
    vault = next(k for k in synthesized.resources("AWS::KMS::Key") if "VaultKey" in k)
    for name, grants in function_grants(synthesized).items():
        on_vault = [st for _, st in grants if vault.split("/", 1)[1] in json.dumps(st["Resource"])]
        if name not in ("chat", "websocket", "slack_worker"):
            assert on_vault == [], name
            continue
        assert on_vault and all(set(_as_list(st["Action"])) == {"kms:Encrypt", "kms:Decrypt"} for st in on_vault)
        for statement in on_vault:
            condition = statement["Condition"]
            assert condition["ForAllValues:StringEquals"]["kms:EncryptionContextKeys"] == ["conversation_id"]


def test_keys_are_a_symmetric_vault_key_and_an_rsa_signing_key_for_audit_digests(synthesized: Synthesized) -> None:
    keys = {k.split("/", 1)[1]: r["Properties"] for k, (_, r) in synthesized.resources("AWS::KMS::Key").items()}
    vault = next(p for k, p in keys.items() if k.startswith("VaultKey"))
    signing = next(p for k, p in keys.items() if k.startswith("AuditSigningKey"))
    assert vault.get("KeySpec", "SYMMETRIC_DEFAULT") == "SYMMETRIC_DEFAULT" and vault["EnableKeyRotation"] is True
    assert signing["KeySpec"] == "RSA_2048" and signing["KeyUsage"] == "SIGN_VERIFY"
    assert "AuditSigningKey" in _resources_of(synthesized, "audit_writer", "kms:Sign")


def test_tables_have_the_keys_the_code_uses(synthesized: Synthesized) -> None:
    tables = {
        t["Properties"]["TableName"]: t["Properties"] for _, t in synthesized.resources("AWS::DynamoDB::Table").values()
    }
    name = synthesized.config.resource_name

    def schema(table: str) -> list[tuple[str, str]]:
        props = tables[name(table)]
        types = {a["AttributeName"]: a["AttributeType"] for a in props["AttributeDefinitions"]}
        return [(k["AttributeName"], types[k["AttributeName"]]) for k in props["KeySchema"]]

    assert schema("revocations") == [("subject", "S")]
    assert schema("sessions") == [("subject", "S"), ("session_key", "S")]
    for table in ("conversations", "budgets", "audit-chain", "agents", "idempotency"):
        assert schema(table) == [("pk", "S"), ("sk", "S")], table
    for table in ("sessions", "conversations", "budgets", "audit-chain", "agents", "idempotency"):
        assert tables[name(table)]["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}


def test_settings_name_the_tables_queues_and_secrets_that_exist(synthesized: Synthesized) -> None:
    name = synthesized.config.resource_name
    tables = {t["Properties"]["TableName"] for _, t in synthesized.resources("AWS::DynamoDB::Table").values()}
    queues = {q["Properties"]["QueueName"] for _, q in synthesized.resources("AWS::SQS::Queue").values()}
    secrets = {s["Properties"]["Name"] for _, s in synthesized.resources("AWS::SecretsManager::Secret").values()}
    env = _functions(synthesized)["chat"][2]["Properties"]["Environment"]["Variables"]
    for variable in (
        "CONVERSATIONS",
        "REVOCATIONS",
        "SESSIONS",
        "BUDGETS",
        "AUDIT",
        "ESCALATIONS",
        "CHANNEL_STATE",
    ):
        assert env[f"KEEL_{variable}_TABLE"] in tables, variable
    assert env["KEEL_AUDIT_QUEUE_URL"].rsplit("/", 1)[1] in queues
    assert env["KEEL_SLACK_EVENTS_QUEUE_URL"].rsplit("/", 1)[1] in queues
    assert {env["KEEL_SLACK_SIGNING_SECRET_ID"], env["KEEL_SLACK_BOT_TOKEN_SECRET_ID"]} <= secrets
    assert env["KEEL_ESCALATIONS_TABLE"] == name("agents")
    parameters = {p["Properties"]["Name"] for _, p in synthesized.resources("AWS::SSM::Parameter").values()}
    assert env["KEEL_MAINTENANCE_PARAMETER"] in parameters
    assert env["KEEL_MAINTENANCE_PARAMETER"] in _resources_of(synthesized, "chat", "ssm:GetParameter")


def test_slack_secrets_hold_the_fields_the_code_reads(synthesized: Synthesized) -> None:
    secrets = {
        s["Properties"]["Name"]: s["Properties"]
        for _, s in synthesized.resources("AWS::SecretsManager::Secret").values()
    }
    stage = synthesized.config.name
    for suffix, field in (("slack-signing", "signing_secret"), ("slack-bot-token", "bot_token")):
        generated = secrets[f"keel/{stage}/{suffix}"]["GenerateSecretString"]
        assert generated["GenerateStringKey"] == field
        assert json.loads(generated["SecretStringTemplate"])["rotate_field"] == field


def test_the_slack_worker_reads_revocation_records_and_forgets_thread_links(synthesized: Synthesized) -> None:
    # keel.channels.wiring.Channels.slack_worker: RevocationCheck on every job, DynamoDBThreadMap.forget.
    env = _functions(synthesized)["slack_worker"][2]["Properties"]["Environment"]["Variables"]
    assert env["KEEL_REVOCATIONS_TABLE"] == synthesized.config.resource_name("revocations")
    assert "RevocationsTable" in _resources_of(synthesized, "slack_worker", "dynamodb:GetItem")
    assert "IdempotencyTable" in _resources_of(synthesized, "slack_worker", "dynamodb:DeleteItem")


def test_crm_and_hr_secrets_tell_the_rotation_function_their_providers_key_api(synthesized: Synthesized) -> None:
    # Given the secrets as deployed, When the rotation function reads their tags as it does in AWS,
    # Then CRM and HR rotate through their provider's key API and every other secret is rotated at its provider.
    from keel.contract import KeyAuth, Scheme
    from keel.integrations.rotation_schemes import RotationScheme

    config, stage = synthesized.config, synthesized.config.name
    tags = {
        s["Properties"]["Name"]: {t["Key"]: t["Value"] for t in s["Properties"].get("Tags", [])}
        for _, s in synthesized.resources("AWS::SecretsManager::Secret").values()
    }
    expected = {
        "crm": ("bearer", config.integrations.crm_url, "access_token"),
        "hr": ("api-key-header", config.integrations.hr_url, "api_key"),
    }
    for suffix, (auth, url, field) in expected.items():
        on_secret = tags[f"keel/{stage}/{suffix}"]
        assert {k: v for k, v in on_secret.items() if k.startswith("keel:rotation")} == {
            "keel:rotation": "rest-key",
            "keel:rotation-url": url,
            "keel:rotation-auth": auth,
            "keel:rotation-field": field,
        }, suffix
        scheme = RotationScheme.from_tags(suffix, on_secret)
        assert (scheme.scheme, scheme.auth, scheme.base_url) == (Scheme.REST_KEY, KeyAuth(auth), url), suffix
    for name, on_secret in tags.items():
        if name.rsplit("/", 1)[1] not in expected:
            assert {k: v for k, v in on_secret.items() if k.startswith("keel:rotation")} == {
                "keel:rotation": "provider"
            }, name
            assert RotationScheme.from_tags(name, on_secret).scheme is Scheme.PROVIDER


def test_the_rotation_function_rotates_every_secret_from_outside_the_vpc(synthesized: Synthesized) -> None:
    # Outside a VPC it reaches Secrets Manager and the providers over HTTPS with no NAT and no ENI grants.
    _, logical, fn = _functions(synthesized)["secret_rotation"]
    assert "VpcConfig" not in fn["Properties"]
    assert not any(a.startswith("ec2:") for a, _ in function_grants(synthesized)["secret_rotation"])
    schedules = [s["Properties"] for _, s in synthesized.resources("AWS::SecretsManager::RotationSchedule").values()]
    # Only the secrets with a key API; a provider-issued secret's rotation could never succeed.
    assert sorted(s["SecretId"]["Ref"][:-8] for s in schedules) == ["CrmSecret", "HrSecret"]
    assert all(logical in json.dumps(s["RotationLambdaARN"]) for s in schedules)


PROVIDER_SECRETS = ("HelpdeskSecret", "SlackSigningSecret", "SlackBotTokenSecret", "IdpOidcClientSecret")


def test_provider_rotated_secrets_are_age_checked_daily_by_the_rotation_function(synthesized: Synthesized) -> None:
    # Given the provider-issued secrets, which no schedule can rotate,
    config, raw = synthesized.config, synthesized.raw["secrets"]["Resources"]
    _, logical, _ = _functions(synthesized)["secret_rotation"]
    [rule] = [r["Properties"] for r in raw.values() if r["Type"] == "AWS::Events::Rule"]

    # Then a daily rule hands the rotation function their ARNs and the stage's rotation days,
    assert rule["ScheduleExpression"] == AGE_CHECK_SCHEDULE and rule.get("State", "ENABLED") == "ENABLED"
    [target] = rule["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": [logical, "Arn"]}
    parts = target["Input"]["Fn::Join"][1]
    refs = [p["Ref"] for p in parts if isinstance(p, dict)]
    assert sorted(r[:-8] for r in refs) == sorted(PROVIDER_SECRETS)
    text = "".join(p if isinstance(p, str) else "arn" for p in parts)
    assert json.loads(text) == {
        "check": "secret-age",
        "secret_ids": ["arn"] * 4,
        "max_age_days": config.secret_rotation_days,
    }
    permissions = [r["Properties"] for r in raw.values() if r["Type"] == "AWS::Lambda::Permission"]
    assert any(
        p["Principal"] == "events.amazonaws.com" and "SecretAgeCheck" in json.dumps(p["SourceArn"]) for p in permissions
    )

    # And the function may describe every secret, but read or write only the ones it rotates (no ListSecrets).
    described = _resources_of(synthesized, "secret_rotation", "secretsmanager:DescribeSecret")
    assert all(s in described for s in (*PROVIDER_SECRETS, "CrmSecret", "HrSecret")) and '"*"' not in described
    for action in ("GetSecretValue", "PutSecretValue", "UpdateSecretVersionStage"):
        scoped = _resources_of(synthesized, "secret_rotation", f"secretsmanager:{action}")
        assert "CrmSecret" in scoped and "HrSecret" in scoped and not any(s in scoped for s in PROVIDER_SECRETS)
    assert "secretsmanager:ListSecrets" not in _actions(synthesized, "secret_rotation")


def test_an_overdue_secret_raises_an_alarm_on_the_alarm_topic(synthesized: Synthesized) -> None:
    alarms = [a for _, a in synthesized.resources("AWS::CloudWatch::Alarm").values()]
    [alarm] = [a["Properties"] for a in alarms if a["Properties"].get("MetricName") == "SecretsOverdue"]
    assert alarm["Namespace"] == "Keel" and alarm["Dimensions"] == [{"Name": "service", "Value": "secret-age"}]
    assert alarm["Threshold"] == 1 and alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert alarm["Period"] == 86400 and alarm["Statistic"] == "Maximum"
    assert alarm["AlarmActions"] == [
        {
            "Ref": next(
                k for k, r in synthesized.raw["observability"]["Resources"].items() if r["Type"] == "AWS::SNS::Topic"
            )
        }
    ]


# Triggers ------------------------------------------------------------------------------------------


def _mappings(s: Synthesized) -> dict[str, dict[str, Any]]:
    ids = {(concern, logical): name for name, (concern, logical, _) in _functions(s).items()}
    found = {}
    for _key, (concern, mapping) in s.resources("AWS::Lambda::EventSourceMapping").items():
        target = mapping["Properties"]["FunctionName"]["Ref"]
        found[ids[(concern, target)]] = mapping["Properties"]
    return found


def _rules_targeting(s: Synthesized, name: str) -> list[dict[str, Any]]:
    concern, logical, _ = _functions(s)[name]
    return [
        r["Properties"]
        for _, (c, r) in s.resources("AWS::Events::Rule").items()
        if c == concern and logical in json.dumps(r["Properties"].get("Targets", []))
    ]


def test_queue_workers_report_partial_batch_failures(synthesized: Synthesized) -> None:
    mappings = _mappings(synthesized)
    assert set(mappings) == {"audit_writer", "escalation_worker", "slack_worker"}
    for props in mappings.values():
        assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    writer = mappings["audit_writer"]
    assert writer["BatchSize"] == 10 and 2 <= writer["ScalingConfig"]["MaximumConcurrency"] <= 5


def test_the_audit_writer_also_signs_digests_every_hour(synthesized: Synthesized) -> None:
    assert [r["ScheduleExpression"] for r in _rules_targeting(synthesized, "audit_writer")] == ["rate(1 hour)"]


def test_ingest_runs_on_knowledge_bucket_events_and_on_a_schedule(synthesized: Synthesized) -> None:
    rules = _rules_targeting(synthesized, "ingest")
    patterns = [r["EventPattern"] for r in rules if "EventPattern" in r]
    assert len(patterns) == 1 and patterns[0]["source"] == ["aws.s3"]
    assert set(patterns[0]["detail-type"]) == {"Object Created", "Object Deleted"}
    bucket = patterns[0]["detail"]["bucket"]["name"][0]
    scheduled = [r for r in rules if "ScheduleExpression" in r]
    assert len(scheduled) == 1
    assert json.loads(scheduled[0]["Targets"][0]["Input"]) == {"refresh": {"bucket": bucket}}
    buckets = {
        b["Properties"].get("BucketName"): b["Properties"] for _, b in synthesized.resources("AWS::S3::Bucket").values()
    }
    assert buckets[bucket]["NotificationConfiguration"]["EventBridgeConfiguration"]["EventBridgeEnabled"] is True


def test_cognito_admin_calls_reach_the_revocation_function(synthesized: Synthesized) -> None:
    (rule,) = _rules_targeting(synthesized, "revocation")
    pattern = rule["EventPattern"]
    assert pattern["source"] == ["aws.cognito-idp"] and pattern["detail-type"] == ["AWS API Call via CloudTrail"]
    assert (
        set(pattern["detail"]["eventName"])
        == {
            "AdminRemoveUserFromGroup",
            "AdminUpdateUserAttributes",
            "AdminDeleteUserAttributes",
            "AdminDisableProviderForUser",
            "AdminUserGlobalSignOut",
            "GlobalSignOut",
            "RevokeToken",
            "AdminDisableUser",
            "AdminDeleteUser",
            "DeleteUser",
            "AdminEnableUser",
        }
        == {*REVOKING_EVENTS, *ENABLING_EVENTS}
    )


# REST API -------------------------------------------------------------------------------------------


def _rest_methods(s: Synthesized) -> dict[tuple[str, str], dict[str, Any]]:
    resources = s.raw["api"]["Resources"]

    def path(ref: Any) -> str:
        if not isinstance(ref, dict) or "Ref" not in ref:
            return ""
        node = resources[ref["Ref"]]["Properties"]
        return f"{path(node['ParentId'])}/{node['PathPart']}"

    return {
        (path(m["Properties"]["ResourceId"]) or "/", m["Properties"]["HttpMethod"]): m["Properties"]
        for _, (c, m) in s.resources("AWS::ApiGateway::Method").items()
        if c == "api"
    }


def test_rest_routes_reach_their_functions_behind_the_authorizer(synthesized: Synthesized) -> None:
    functions = {logical: name for name, (c, logical, _) in _functions(synthesized).items() if c == "api"}
    routes = {("/v1/chat", "POST"): "chat", ("/v1/feedback", "POST"): "feedback", ("/v1/ops/kpis", "GET"): "ops_api"}
    routes |= {("/v1/agent/queue", "GET"): "agent_api", ("/v1/agent/presence", "POST"): "agent_api"}
    routes |= {("/v1/agent/conversations/{conversation_id}", "GET"): "agent_api"}
    routes |= {(f"/v1/agent/conversations/{{conversation_id}}/{a}", "POST"): "agent_api" for a in AGENT_ACTIONS}
    public = {(GUEST_PATH, "POST"): "guest_session"} | {(f"/slack/{e}", "POST"): "slack" for e in SLACK_ENDPOINTS}
    methods = _rest_methods(synthesized)
    assert set(methods) == set(routes) | set(public)
    for route, props in methods.items():
        uri = json.dumps(props["Integration"]["Uri"])
        assert [f for logical, f in functions.items() if logical in uri] == [(routes | public)[route]], route
        assert props["AuthorizationType"] == ("CUSTOM" if route in routes else "NONE"), route


def test_the_authorizer_is_the_authorizer_function_with_no_result_cache(synthesized: Synthesized) -> None:
    (authorizer,) = [a["Properties"] for _, a in synthesized.resources("AWS::ApiGateway::Authorizer").values()]
    assert authorizer["Type"] == "REQUEST" and authorizer["AuthorizerResultTtlInSeconds"] == 0
    assert authorizer["IdentitySource"] == "method.request.header.Authorization"
    assert _functions(synthesized)["authorizer"][1] in json.dumps(authorizer["AuthorizerUri"])


def test_guest_sessions_are_throttled_by_the_stage_and_rate_limited_per_ip(synthesized: Synthesized) -> None:
    quotas = synthesized.config.quotas
    (stage,) = [s["Properties"] for _, s in synthesized.resources("AWS::ApiGateway::Stage").values()]
    settings = {m["ResourcePath"]: m for m in stage["MethodSettings"]}
    assert settings["/*"]["ThrottlingRateLimit"] == quotas.api_rate_limit_rps
    guest = settings["/~1v1~1session~1guest"]
    assert guest["HttpMethod"] == "POST" and guest["ThrottlingRateLimit"] < quotas.api_rate_limit_rps
    (acl,) = [a["Properties"] for _, a in synthesized.resources("AWS::WAFv2::WebACL").values()]
    rate_rules = {r["Name"]: r["Statement"]["RateBasedStatement"] for r in acl["Rules"] if "Action" in r}
    assert set(rate_rules) == {"PerIpRateLimit", "GuestSessionPerIpRateLimit"}
    scoped = rate_rules["GuestSessionPerIpRateLimit"]
    assert scoped["AggregateKeyType"] == "IP" and scoped["Limit"] < rate_rules["PerIpRateLimit"]["Limit"]
    assert scoped["ScopeDownStatement"]["ByteMatchStatement"]["SearchString"] == GUEST_PATH
    synthesized.templates["api"].resource_count_is("AWS::WAFv2::WebACLAssociation", 1)


# WebSocket API ----------------------------------------------------------------------------------------


def test_the_websocket_api_routes_every_action_to_the_websocket_function(synthesized: Synthesized) -> None:
    (api,) = [a["Properties"] for _, a in synthesized.resources("AWS::ApiGatewayV2::Api").values()]
    assert api["ProtocolType"] == "WEBSOCKET" and api["RouteSelectionExpression"] == "$request.body.action"
    routes = {r["Properties"]["RouteKey"] for _, r in synthesized.resources("AWS::ApiGatewayV2::Route").values()}
    assert routes == set(WEBSOCKET_ROUTES)
    logical = _functions(synthesized)["websocket"][1]
    integrations = synthesized.resources("AWS::ApiGatewayV2::Integration")
    assert integrations and all(
        logical in json.dumps(i["Properties"]["IntegrationUri"]) for _, i in integrations.values()
    )


def test_websocket_connections_are_posted_to_by_the_channel_and_closed_by_revocation(synthesized: Synthesized) -> None:
    assert "/POST/@connections/*" in _resources_of(synthesized, "websocket", "execute-api:ManageConnections")
    assert "/DELETE/@connections/*" in _resources_of(synthesized, "revocation", "execute-api:ManageConnections")
    env = _functions(synthesized)["revocation"][2]["Properties"]["Environment"]["Variables"]
    assert "WEBSOCKET_MANAGEMENT_URL" in env


def test_an_agents_reply_can_reach_the_users_open_widget(synthesized: Synthesized) -> None:
    # The console pushes an agent's reply (keel.channels.websocket.WebSocketNotifier): it reads the user's sessions,
    # looks up each connection, posts to it, and forgets the ones that are gone. Without these grants the reply is
    # stored but the push fails in AWS (there is no IAM locally to show it).
    assert "/POST/@connections/*" in _resources_of(synthesized, "agent_api", "execute-api:ManageConnections")
    assert "sessions" in _resources_of(synthesized, "agent_api", "dynamodb:Query").lower()
    assert "idempotency" in _resources_of(synthesized, "agent_api", "dynamodb:GetItem").lower()
    # and, handed over from Slack, in the thread: the bot token and nothing else of Secrets Manager
    secrets = json.loads(_resources_of(synthesized, "agent_api", "secretsmanager:GetSecretValue"))
    assert len(secrets) == 1 and "SlackBotToken" in json.dumps(secrets), secrets


# Identity ----------------------------------------------------------------------------------------------


def test_a_separate_customer_pool_serves_guests_through_its_own_client(synthesized: Synthesized) -> None:
    name = synthesized.config.resource_name
    pools = {
        p["Properties"]["UserPoolName"]: (k.split("/", 1)[1], p["Properties"])
        for k, (_, p) in synthesized.resources("AWS::Cognito::UserPool").items()
    }
    customer_id, customer = pools[name("customer")]
    assert "custom:tenant" not in customer and any(a["Name"] == "tenant" for a in customer["Schema"])
    clients = {
        c["Properties"]["ClientName"]: c["Properties"]
        for _, c in synthesized.resources("AWS::Cognito::UserPoolClient").values()
    }
    widget = clients[name("customer-widget")]
    assert widget["UserPoolId"] == {"Ref": customer_id}
    assert "ALLOW_ADMIN_USER_PASSWORD_AUTH" in widget["ExplicitAuthFlows"]
    groups = [g["Properties"] for _, g in synthesized.resources("AWS::Cognito::UserPoolGroup").values()]
    assert {"GroupName": "customers", "UserPoolId": {"Ref": customer_id}}.items() <= groups[0].items()
    assert customer_id in _resources_of(synthesized, "guest_session", "cognito-idp:AdminCreateUser")
    assert name("workforce") not in _resources_of(synthesized, "guest_session", "cognito-idp:AdminCreateUser")


# Escalation ----------------------------------------------------------------------------------------------


def test_the_escalation_workflow_is_the_asl_file_with_its_substitutions(synthesized: Synthesized) -> None:
    (machine,) = [m["Properties"] for _, m in synthesized.resources("AWS::StepFunctions::StateMachine").values()]
    assert machine["DefinitionString"] == definition_template()
    assert set(machine["DefinitionSubstitutions"]) == set(PLACEHOLDERS)
    assert machine["TracingConfiguration"] == {"Enabled": True}
    role_id = machine["RoleArn"]["Fn::GetAtt"][0]
    escalation = synthesized.raw["escalation"]["Resources"]
    actions = set()
    for resource in escalation.values():
        if resource["Type"] == "AWS::IAM::Policy" and {"Ref": role_id} in resource["Properties"]["Roles"]:
            for statement in resource["Properties"]["PolicyDocument"]["Statement"]:
                actions |= set(_as_list(statement["Action"]))
    data = {a for a in actions if a.split(":")[0] in ("dynamodb", "sqs")}
    assert data == {"dynamodb:Query", "dynamodb:UpdateItem", "sqs:SendMessage"}


def test_the_escalation_worker_reads_the_helpdesk_secret_and_answers_the_workflow(synthesized: Synthesized) -> None:
    env = _functions(synthesized)["escalation_worker"][2]["Properties"]["Environment"]["Variables"]
    assert env["HELPDESK_URL"] == synthesized.config.helpdesk.url
    assert env["ESCALATION_AGENTS_TABLE"] == synthesized.config.resource_name("agents")
    assert "Escalation" in _resources_of(synthesized, "escalation_worker", "states:SendTaskSuccess")
    assert "HelpdeskSecret" in _resources_of(synthesized, "escalation_worker", "secretsmanager:GetSecretValue")


# Observability --------------------------------------------------------------------------------------------


def test_dashboards_and_alarms_read_only_metrics_that_keel_emits(synthesized: Synthesized) -> None:
    emitted = {v for k, v in vars(M).items() if not k.startswith("_") and isinstance(v, str)}
    assert set(BOT_METRICS) <= emitted
    used = set()
    for _, (_c, alarm) in synthesized.resources("AWS::CloudWatch::Alarm").items():
        for metric in alarm["Properties"].get("Metrics", []):
            stat = metric.get("MetricStat")
            if stat and stat["Metric"]["Namespace"] == "Keel":
                used.add(stat["Metric"]["MetricName"])
    assert used and used <= emitted
