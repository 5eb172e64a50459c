"""API stack: the REST and WebSocket APIs, WAF, and every function that serves a channel (R5, R20).

REST (one Lambda REQUEST authorizer, results cache 0, so a revoked subject is refused on its next
request): POST /v1/chat, POST /v1/feedback, /v1/agent/... (agent console), GET /v1/ops/kpis. Public
by design: POST /v1/session/guest (anonymous visitors; throttled per method and per IP by WAF) and
POST /slack/{events,commands,interactivity} (verified by Slack's request signature in code).
WebSocket: route selection ``$request.body.action``; $connect verifies the token in the handler
(browsers cannot send headers on an upgrade, and the token may come as a subprotocol).
Revocation: Cognito admin calls recorded by CloudTrail reach the revocation function through EventBridge.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import aws_cdk as cdk
import jsii
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_integrations as ws_integrations
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from keel.contract import BY_DAY_INDEX, ENABLING_EVENTS, REVOKING_EVENTS
from stacks.config import StageConfig
from stacks.constructs.function import FunctionNetwork, KeelFunction
from stacks.constructs.layer import core_layer
from stacks.constructs.nag import acknowledge
from stacks.constructs.queues import dead_letter_queue, encrypted_queue
from stacks.constructs.retention import retention
from stacks.constructs.settings_env import (
    escalation_environment,
    escalation_state_machine_arn,
    maintenance_parameter,
    turn_environment,
)
from stacks.guardrail import publish_version
from stacks.search import domain_arn

SEARCH_READ = ["es:ESHttpGet", "es:ESHttpHead", "es:ESHttpPost"]
MODEL_INVOKE = ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"]
WEBSOCKET_ROUTES = ("$connect", "$disconnect", "sendMessage", "talkToPerson", "feedback", "authenticate")
AGENT_ACTIONS = ("take", "reply", "handback", "close")
SLACK_ENDPOINTS = ("events", "commands", "interactivity")
# The Cognito calls that change a user's access (keel.identity.events decides what each one means).
REVOCATION_EVENT_NAMES = tuple(sorted({*REVOKING_EVENTS, *ENABLING_EVENTS}))
GUEST_PATH = "/v1/session/guest"
# A guest session creates a Cognito user: far fewer per second than chat turns, per stage and per IP.
GUEST_RATE_DIVISOR = 10
GUEST_WAF_LIMIT_PER_5_MIN = 100
MANAGEMENT_URL_VARIABLE = "WEBSOCKET_MANAGEMENT_URL"
# Instances the bot may stop or terminate carry this tag; no other instance can be touched (R6, R8).
MANAGED_TAG = "keel-managed"


@jsii.implements(apigwv2.IAccessLogSettings)
class _AccessLogs:
    """WebSocket stage access-log settings (a jsii interface, so a small class rather than a dict)."""

    def __init__(self, destination: apigwv2.IAccessLogDestination) -> None:
        self._destination = destination

    @property
    def destination(self) -> apigwv2.IAccessLogDestination:
        """Where access logs go."""
        return self._destination

    @property
    def format(self) -> apigw.AccessLogFormat:
        """JSON lines without caller identity or user (PII stays out of logs)."""
        return _log_format()


def _log_format() -> apigw.AccessLogFormat:
    return apigw.AccessLogFormat.json_with_standard_fields(
        caller=False,
        http_method=True,
        ip=True,
        protocol=True,
        request_time=True,
        resource_path=True,
        response_length=True,
        status=True,
        user=False,
    )


@dataclass(frozen=True)
class ApiDependencies:
    """What the API's functions use from the other stacks."""

    key: kms.IKey
    vault_key: kms.IKey
    tables: dict[str, dynamodb.ITable]
    workforce_pool: cognito.IUserPool
    customer_pool: cognito.IUserPool
    network: FunctionNetwork
    audit_queue: sqs.IQueue
    slack_signing_secret: secretsmanager.ISecret
    slack_bot_token_secret: secretsmanager.ISecret
    guardrail_id: str
    guardrail_arn: str
    # CRM, HR and helpdesk credentials the actions read (only when the stage enables actions).
    integration_secrets: list[secretsmanager.ISecret]


class ApiStack(cdk.Stack):
    """Every channel function, the REST API with its authorizer, the WebSocket API, WAF and revocation."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StageConfig,
        repo_root: Path,
        deps: ApiDependencies,
        settings_env: dict[str, str],
        **kwargs: object,
    ) -> None:
        """Create the APIs of ``config``'s stage, each function with only the permissions it uses."""
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        self._config = config
        self._deps = deps
        self._repo_root = repo_root
        self._env = dict(settings_env)
        self._layer = core_layer(self, repo_root, config.name)
        self.slack_queue = self._slack_queue()
        self.webhook_dead_letters = self._webhook_dead_letters() if config.actions_enabled else None
        # Published here, beside its only users, so its number is never a cross-stack export.
        self.guardrail_version = publish_version(self, "GuardrailVersion", deps.guardrail_id)
        turn_env = turn_environment(config, self.guardrail_version.attr_version)
        net = deps.network
        fn = self._function
        self.chat = fn("Chat", "chat", "Runs one chat turn (POST /v1/chat)", network=net, extra_env=turn_env)
        self.websocket = fn(
            "WebSocket", "websocket", "Chat over the WebSocket API (streamed replies)", network=net, extra_env=turn_env
        )
        self.slack_worker = fn(
            "SlackWorker",
            "slack_worker",
            "Runs Slack turns from the Slack work queue",
            network=net,
            seconds=60,
            extra_env=turn_env,
        )
        self.slack = fn("Slack", "slack", "Verifies Slack requests, acknowledges and enqueues them", memory=256)
        self.feedback = fn("Feedback", "feedback", "Thumbs and CSAT on an answer (POST /v1/feedback)", memory=256)
        self.guest_session = fn("GuestSession", "guest_session", "Tokens for anonymous website visitors", memory=256)
        self.agent_api = fn(
            "AgentApi", "agent_api", "The agent console API (/v1/agent/...)", extra_env=escalation_environment(config)
        )
        self.ops_api = fn("OpsApi", "ops_api", "KPI report for operators (GET /v1/ops/kpis)", memory=1024)
        self.authorizer = fn("Authorizer", "authorizer", "Verifies tokens (JWKS) and refuses revoked subjects")
        self.revocation = fn("Revocation", "revocation", "Revokes subjects on Cognito admin events, ends sessions")

        self.rest_api = self._rest_api()
        self.websocket_api, self.websocket_stage = self._websocket_api()
        self._grant()
        self._waf()
        self._revocation_events()

    # Functions ---------------------------------------------------------------------------------

    def _function(
        self,
        construct_id: str,
        name: str,
        description: str,
        *,
        network: FunctionNetwork | None = None,
        seconds: int = 29,
        memory: int = 512,
        extra_env: dict[str, str] | None = None,
    ) -> KeelFunction:
        return KeelFunction(
            self,
            construct_id,
            config=self._config,
            repo_root=self._repo_root,
            name=name,
            layer=self._layer,
            log_key=self._deps.key,
            description=description,
            environment={**self._env, **(extra_env or {})},
            timeout=cdk.Duration.seconds(seconds),
            memory_mb=memory if network is None else max(memory, 1024),
            network=network,
        )

    def _slack_queue(self) -> sqs.Queue:
        config, key = self._config, self._deps.key
        dead_letters = dead_letter_queue(self, "SlackDeadLetters", config, "slack-events-dlq", key)
        return encrypted_queue(
            self,
            "SlackEvents",
            config,
            "slack-events",
            key,
            # Six times the worker's timeout, as AWS advises for Lambda event sources.
            visibility_timeout=cdk.Duration.seconds(360),
            retention_period=cdk.Duration.days(1),
            dead_letters=dead_letters,
        )

    def _webhook_dead_letters(self) -> sqs.Queue:
        """Undeliverable webhook events (keel.integrations.webhooks.SqsDeadLetters), kept for redrive."""
        queue = dead_letter_queue(self, "WebhookDeadLetters", self._config, "webhooks-dlq", self._deps.key)
        acknowledge(
            queue,
            "AwsSolutions-SQS3",
            "This queue is itself the dead-letter queue of the webhook sender, which retries before writing to it; "
            "operators redrive it",
        )
        return queue

    # Grants: what each handler's code calls, resource-scoped --------------------------------------

    def _table(self, name: str) -> str:
        return self._deps.tables[name].table_arn

    def _grant(self) -> None:
        deps = self._deps
        for fn in (self.chat, self.websocket, self.slack_worker):
            self._grant_turn(fn)
        for fn in (self.feedback, self.agent_api, self.ops_api, self.authorizer):
            # Token verification + the revocation record (keel.bootstrap.build_authenticator).
            fn.allow(["dynamodb:GetItem"], [self._table("revocations")])
            fn.allow_key(deps.key)
        self.feedback.allow(
            ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:UpdateItem"], [self._table("conversations")]
        )
        self.feedback.allow_key(deps.key, encrypt=True)
        self.agent_api.allow(
            ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query"],
            [self._table("agents"), self._table("conversations")],
        )
        self.agent_api.allow_key(deps.key, encrypt=True)
        # An agent's reply is pushed to the user's open widget (keel.channels.websocket.WebSocketNotifier): the
        # subject's sessions, each connection in the channel state table (forgotten once gone), a POST to it.
        self.agent_api.allow(["dynamodb:Query", "dynamodb:DeleteItem"], [self._table("sessions")])
        self.agent_api.allow(["dynamodb:GetItem", "dynamodb:DeleteItem"], [self._table("idempotency")])
        # ... and, for a conversation handed over from Slack, posted in its thread (keel.channels.SlackThreadNotifier:
        # the thread recorded in the channel state table, the bot token).
        self.agent_api.allow(["secretsmanager:GetSecretValue"], [deps.slack_bot_token_secret.secret_arn])
        # The KPI window: the by-day index, then one Query per conversation (keel.analytics.dynamodb); no Scan.
        conversations = self._table("conversations")
        self.ops_api.allow(["dynamodb:Query"], [conversations, f"{conversations}/index/{BY_DAY_INDEX}"])

        # Guests are users of the customer pool (keel.channels.guests.CognitoGuestIssuer).
        self.guest_session.allow(
            [
                "cognito-idp:AdminCreateUser",
                "cognito-idp:AdminSetUserPassword",
                "cognito-idp:AdminAddUserToGroup",
                "cognito-idp:CreateGroup",
                "cognito-idp:AdminInitiateAuth",
            ],
            [deps.customer_pool.user_pool_arn],
        )

        # Slack ingress: verify (signing secret, replay claims), enqueue.
        self.slack.allow(["secretsmanager:GetSecretValue"], [deps.slack_signing_secret.secret_arn])
        self.slack.allow(["dynamodb:PutItem", "dynamodb:DeleteItem"], [self._table("idempotency")])
        self.slack.allow(["sqs:SendMessage"], [self.slack_queue.queue_arn])
        self.slack.allow_key(deps.key, encrypt=True)
        # Slack worker: claims and thread links, the bot token, the directory lookup by e-mail.
        self.slack_worker.function.add_event_source(
            event_sources.SqsEventSource(self.slack_queue, batch_size=1, report_batch_item_failures=True)
        )
        self.slack_worker.allow(
            ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"], [self._table("idempotency")]
        )
        self.slack_worker.allow(["secretsmanager:GetSecretValue"], [deps.slack_bot_token_secret.secret_arn])
        self.slack_worker.allow(
            ["cognito-idp:ListUsers", "cognito-idp:AdminListGroupsForUser"], [deps.workforce_pool.user_pool_arn]
        )
        # WebSocket: connections in the channel state table, replies pushed to the caller's connection.
        self.websocket.allow(
            ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"], [self._table("idempotency")]
        )
        for pusher in (self.websocket, self.agent_api):
            pusher.allow(
                ["execute-api:ManageConnections"],
                [self._connections_arn("POST")],
                wildcard_reason="Connection ids are created at run time; only POST on this API's stage",
            )

        # Revocation: not-before records, the subject's sessions, user lookup in either pool, close sockets.
        self.revocation.allow(["dynamodb:UpdateItem"], [self._table("revocations")])
        self.revocation.allow(["dynamodb:Query", "dynamodb:DeleteItem"], [self._table("sessions")])
        self.revocation.allow(
            ["cognito-idp:AdminGetUser"], [deps.workforce_pool.user_pool_arn, deps.customer_pool.user_pool_arn]
        )
        self.revocation.allow(
            ["execute-api:ManageConnections"],
            [self._connections_arn("DELETE")],
            wildcard_reason="Connection ids are created at run time; only DELETE on this API's stage",
        )
        self.revocation.allow_key(deps.key, encrypt=True)

    def _grant_turn(self, fn: KeelFunction) -> None:
        """What one chat turn touches (keel.bootstrap.turn_dependencies), nothing more."""
        config, deps = self._config, self._deps
        region, account = config.target.region, config.target.account
        fn.allow(
            ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query"],
            [self._table("conversations")],
        )
        fn.allow(["dynamodb:GetItem"], [self._table("revocations")])
        fn.allow(["dynamodb:GetItem", "dynamodb:UpdateItem"], [self._table("budgets")])
        fn.allow(["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"], [self._table("agents")])
        fn.allow(
            SEARCH_READ,
            [f"{domain_arn(config)}/*"],
            wildcard_reason="Search paths are index names and _search/_msearch under the one Keel domain",
        )
        fn.allow(
            MODEL_INVOKE,
            config.model_resources(config.models.all_ids()),
        )
        fn.allow(["sqs:SendMessage"], [deps.audit_queue.queue_arn])
        fn.allow(["states:StartExecution"], [escalation_state_machine_arn(config)])
        fn.allow(
            ["states:DescribeExecution"],
            [f"arn:aws:states:{region}:{account}:execution:{config.resource_name('escalation')}:*"],
            wildcard_reason="Execution names are made per escalation; only executions of the Keel workflow",
        )
        fn.allow(["ssm:GetParameter"], [f"arn:aws:ssm:{region}:{account}:parameter{maintenance_parameter(config)}"])
        # PII vaults: only with the conversation as encryption context (keel.conversations.vaults).
        fn.allow(
            ["kms:Encrypt", "kms:Decrypt"],
            [deps.vault_key.key_arn],
            conditions={
                "ForAllValues:StringEquals": {"kms:EncryptionContextKeys": ["conversation_id"]},
                "Null": {"kms:EncryptionContext:conversation_id": "false"},
            },
        )
        fn.allow_key(deps.key, encrypt=True)
        self._grant_safety(fn)
        if config.actions_enabled:
            self._grant_actions(fn)

    def _grant_safety(self, fn: KeelFunction) -> None:
        """The AWS halves of the safety checks: the toxicity screen and name detection (keel.bootstrap)."""
        fn.allow(["bedrock:ApplyGuardrail"], [self._deps.guardrail_arn])
        fn.allow(
            ["comprehend:DetectPiiEntities"],
            ["*"],
            wildcard_reason="comprehend:DetectPiiEntities has no resource type; AWS documents Resource '*' for it",
        )

    def _grant_actions(self, fn: KeelFunction) -> None:
        """Actions the bot runs for a permitted user (keel.actions.wiring): tagged instances and integrations."""
        config, deps = self._config, self._deps
        region, account = config.target.region, config.target.account
        fn.allow(
            ["ec2:DescribeInstances"],
            ["*"],
            wildcard_reason="ec2:DescribeInstances supports neither resource ARNs nor tag conditions; "
            "limited to the stage's region",
            conditions={"StringEquals": {"aws:RequestedRegion": region}},
        )
        fn.allow(
            ["ec2:StopInstances", "ec2:TerminateInstances"],
            [f"arn:aws:ec2:{region}:{account}:instance/*"],
            wildcard_reason=f"Instance ids are chosen at run time; only instances tagged {MANAGED_TAG}=true",
            conditions={"StringEquals": {f"aws:ResourceTag/{MANAGED_TAG}": "true"}},
        )
        fn.allow(["secretsmanager:GetSecretValue"], [secret.secret_arn for secret in deps.integration_secrets])
        if self.webhook_dead_letters is not None:
            fn.allow(["sqs:SendMessage"], [self.webhook_dead_letters.queue_arn])

    def _connections_arn(self, method: str) -> str:
        return self.format_arn(
            service="execute-api",
            resource=self.websocket_api.api_id,
            resource_name=f"{self.websocket_stage.stage_name}/{method}/@connections/*",
        )

    # REST API ----------------------------------------------------------------------------------

    def _rest_api(self) -> apigw.RestApi:
        config = self._config
        access_logs = logs.LogGroup(
            self,
            "RestAccessLogs",
            retention=retention(config.log_retention_days),
            encryption_key=self._deps.key,
            removal_policy=cdk.RemovalPolicy.RETAIN if config.retain_data else cdk.RemovalPolicy.DESTROY,
        )
        self._api_gateway_account()
        quotas = config.quotas
        api = apigw.RestApi(
            self,
            "RestApi",
            rest_api_name=config.resource_name("api"),
            description=f"Keel {config.name} HTTP API",
            cloud_watch_role=False,
            endpoint_types=[apigw.EndpointType.REGIONAL],
            deploy_options=apigw.StageOptions(
                stage_name=config.name,
                # ERROR only and no data trace: request bodies may carry PII before masking (R9).
                logging_level=apigw.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,
                metrics_enabled=True,
                tracing_enabled=True,
                throttling_rate_limit=quotas.api_rate_limit_rps,
                throttling_burst_limit=quotas.api_burst_limit,
                method_options={
                    f"{GUEST_PATH}/POST": apigw.MethodDeploymentOptions(
                        throttling_rate_limit=max(1, quotas.api_rate_limit_rps // GUEST_RATE_DIVISOR),
                        throttling_burst_limit=max(2, quotas.api_burst_limit // GUEST_RATE_DIVISOR),
                    )
                },
                access_log_destination=apigw.LogGroupLogDestination(access_logs),
                access_log_format=_log_format(),
            ),
        )
        self._authorizer = apigw.RequestAuthorizer(
            self,
            "TokenAuthorizer",
            handler=self.authorizer.function,
            identity_sources=[apigw.IdentitySource.header("Authorization")],
            # No caching: a revoked subject must be refused on its very next request (R5).
            results_cache_ttl=cdk.Duration.seconds(0),
        )
        self._validator = api.add_request_validator(
            "RequestValidator", validate_request_body=True, validate_request_parameters=True
        )
        v1 = api.root.add_resource("v1")
        self._authorized(v1.add_resource("chat"), "POST", self.chat)
        self._authorized(v1.add_resource("feedback"), "POST", self.feedback)
        self._public(
            v1.add_resource("session").add_resource("guest"),
            "POST",
            self.guest_session,
            "Anonymous visitors have no token yet; this issues one. Throttled per method and by a WAF per-IP rule",
        )
        agent = v1.add_resource("agent")
        self._authorized(agent.add_resource("queue"), "GET", self.agent_api)
        self._authorized(agent.add_resource("presence"), "POST", self.agent_api)
        conversation = agent.add_resource("conversations").add_resource("{conversation_id}")
        self._authorized(conversation, "GET", self.agent_api)
        for action in AGENT_ACTIONS:
            self._authorized(conversation.add_resource(action), "POST", self.agent_api)
        self._authorized(v1.add_resource("ops").add_resource("kpis"), "GET", self.ops_api)
        slack = api.root.add_resource("slack")
        for endpoint in SLACK_ENDPOINTS:
            self._public(
                slack.add_resource(endpoint),
                "POST",
                self.slack,
                "Slack cannot send a bearer token; the handler verifies Slack's HMAC request signature and timestamp",
            )
        return api

    def _authorized(self, resource: apigw.Resource, http_method: str, fn: KeelFunction) -> None:
        method = resource.add_method(
            http_method,
            apigw.LambdaIntegration(fn.function),
            authorizer=self._authorizer,
            authorization_type=apigw.AuthorizationType.CUSTOM,
            request_validator=self._validator,
            request_parameters={"method.request.header.Authorization": True},
        )
        acknowledge(
            method,
            "AwsSolutions-COG4",
            "A Lambda authorizer verifies the Cognito JWT (JWKS, issuer, audience, expiry) and also checks "
            "revocation on every request, which a Cognito authorizer cannot",
        )

    def _public(self, resource: apigw.Resource, http_method: str, fn: KeelFunction, why: str) -> None:
        method = resource.add_method(
            http_method, apigw.LambdaIntegration(fn.function), request_validator=self._validator
        )
        acknowledge(method, "AwsSolutions-APIG4", why)
        acknowledge(method, "AwsSolutions-COG4", why)

    def _api_gateway_account(self) -> None:
        """The regional API Gateway logging role, with an inline policy instead of the AWS-managed one."""
        config = self._config
        role = iam.Role(
            self,
            "ApiGatewayLogsRole",
            assumed_by=iam.ServicePrincipal("apigateway.amazonaws.com"),
            description="Lets API Gateway write execution and access logs",
        )
        log_groups = f"arn:aws:logs:{config.target.region}:{config.target.account}:log-group:*"
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=[
                    "logs:CreateLogGroup",
                    "logs:CreateLogStream",
                    "logs:DescribeLogGroups",
                    "logs:DescribeLogStreams",
                    "logs:PutLogEvents",
                    "logs:GetLogEvents",
                    "logs:FilterLogEvents",
                ],
                resources=[log_groups],
            )
        )
        acknowledge(
            role,
            f"AwsSolutions-IAM5[Resource::{log_groups}]",
            "API Gateway names its execution log groups itself (API-Gateway-Execution-Logs_<id>/<stage>)",
        )
        account = apigw.CfnAccount(self, "ApiGatewayAccount", cloud_watch_role_arn=role.role_arn)
        account.node.add_dependency(role)

    # WebSocket API -----------------------------------------------------------------------------

    def _websocket_api(self) -> tuple[apigwv2.WebSocketApi, apigwv2.WebSocketStage]:
        config = self._config

        def integration(route: str) -> ws_integrations.WebSocketLambdaIntegration:
            name = "".join(ch for ch in route.title() if ch.isalnum())
            return ws_integrations.WebSocketLambdaIntegration(f"WebSocket{name}", self.websocket.function)

        api = apigwv2.WebSocketApi(
            self,
            "WebSocketApi",
            api_name=config.resource_name("ws"),
            description=f"Keel {config.name} chat WebSocket (web app and widget)",
            route_selection_expression="$request.body.action",
            connect_route_options=apigwv2.WebSocketRouteOptions(integration=integration("$connect")),
            disconnect_route_options=apigwv2.WebSocketRouteOptions(integration=integration("$disconnect")),
        )
        for route in WEBSOCKET_ROUTES[2:]:
            api.add_route(route, integration=integration(route))
        for route in WEBSOCKET_ROUTES:
            acknowledge(
                api.node.find_child(f"{route}-Route"),
                "AwsSolutions-APIG4",
                "$connect verifies the token in the handler (query string or Sec-WebSocket-Protocol, which an "
                "authorizer identity source cannot read) and every message is identified again from it",
            )
        access_logs = logs.LogGroup(
            self,
            "WebSocketAccessLogs",
            retention=retention(config.log_retention_days),
            encryption_key=self._deps.key,
            removal_policy=cdk.RemovalPolicy.RETAIN if config.retain_data else cdk.RemovalPolicy.DESTROY,
        )
        stage = apigwv2.WebSocketStage(
            self,
            "WebSocketStage",
            web_socket_api=api,
            stage_name=config.name,
            auto_deploy=True,
            throttle=apigwv2.ThrottleSettings(
                rate_limit=config.quotas.api_rate_limit_rps, burst_limit=config.quotas.api_burst_limit
            ),
            access_log_settings=_AccessLogs(apigwv2.LogGroupLogDestination(access_logs)),
        )
        # The revocation function ends sockets through the Management API of this stage.
        self.revocation.function.add_environment(MANAGEMENT_URL_VARIABLE, stage.callback_url)
        return api, stage

    # WAF -----------------------------------------------------------------------------------------

    def _waf(self) -> None:
        config = self._config

        def visibility(name: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
            return wafv2.CfnWebACL.VisibilityConfigProperty(
                cloud_watch_metrics_enabled=True, metric_name=name, sampled_requests_enabled=True
            )

        def managed(priority: int, name: str) -> wafv2.CfnWebACL.RuleProperty:
            return wafv2.CfnWebACL.RuleProperty(
                name=name,
                priority=priority,
                override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
                statement=wafv2.CfnWebACL.StatementProperty(
                    managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                        vendor_name="AWS", name=name
                    )
                ),
                visibility_config=visibility(name),
            )

        def rate_limit(
            priority: int, name: str, limit: int, scope: wafv2.CfnWebACL.StatementProperty | None = None
        ) -> wafv2.CfnWebACL.RuleProperty:
            return wafv2.CfnWebACL.RuleProperty(
                name=name,
                priority=priority,
                action=wafv2.CfnWebACL.RuleActionProperty(block={}),
                statement=wafv2.CfnWebACL.StatementProperty(
                    rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                        limit=limit, aggregate_key_type="IP", scope_down_statement=scope
                    )
                ),
                visibility_config=visibility(name),
            )

        guest_path = wafv2.CfnWebACL.StatementProperty(
            byte_match_statement=wafv2.CfnWebACL.ByteMatchStatementProperty(
                field_to_match=wafv2.CfnWebACL.FieldToMatchProperty(uri_path={}),
                positional_constraint="ENDS_WITH",
                search_string=GUEST_PATH,
                text_transformations=[wafv2.CfnWebACL.TextTransformationProperty(priority=0, type="LOWERCASE")],
            )
        )
        acl = wafv2.CfnWebACL(
            self,
            "WebAcl",
            name=config.resource_name("api-acl"),
            scope="REGIONAL",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            visibility_config=visibility(config.resource_name("api-acl")),
            rules=[
                managed(0, "AWSManagedRulesCommonRuleSet"),
                managed(1, "AWSManagedRulesKnownBadInputsRuleSet"),
                # Five-minute windows; one client may use a fifth of the stage's burst each second.
                rate_limit(2, "PerIpRateLimit", max(100, config.quotas.api_burst_limit * 60)),
                # Each guest session creates a Cognito user: a scripted visitor is stopped far earlier.
                rate_limit(3, "GuestSessionPerIpRateLimit", GUEST_WAF_LIMIT_PER_5_MIN, guest_path),
            ],
        )
        wafv2.CfnWebACLAssociation(
            self,
            "RestApiAcl",
            resource_arn=self.rest_api.deployment_stage.stage_arn,
            web_acl_arn=acl.attr_arn,
        )

    # Revocation events ---------------------------------------------------------------------------

    def _revocation_events(self) -> None:
        """Cognito admin calls (console, IdP automation, users signing out) revoke on the next request."""
        events.Rule(
            self,
            "CognitoAdminEvents",
            rule_name=self._config.resource_name("cognito-revocations"),
            description="Cognito sign-outs, disables, deletes and enables: update the revocation records",
            event_pattern=events.EventPattern(
                source=["aws.cognito-idp"],
                detail_type=["AWS API Call via CloudTrail"],
                detail={"eventSource": ["cognito-idp.amazonaws.com"], "eventName": list(REVOCATION_EVENT_NAMES)},
            ),
            targets=[targets.LambdaFunction(self.revocation.function, retry_attempts=8)],
        )
