"""API stack: REST and WebSocket APIs behind WAF, and the functions that serve them (R5, R20)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import aws_cdk as cdk
import jsii
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_authorizers as ws_authorizers
from aws_cdk import aws_apigatewayv2_integrations as ws_integrations
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from stacks.config import StageConfig
from stacks.constructs.function import FunctionNetwork, KeelFunction
from stacks.constructs.layer import core_layer
from stacks.constructs.nag import acknowledge
from stacks.constructs.retention import retention
from stacks.constructs.settings_env import maintenance_parameter
from stacks.search import domain_arn

SEARCH_READ = ["es:ESHttpGet", "es:ESHttpHead", "es:ESHttpPost"]
SEARCH_WRITE = [*SEARCH_READ, "es:ESHttpPut", "es:ESHttpDelete"]
MODEL_INVOKE = ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"]
_MAX_MESSAGE_CHARS = 4000


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
    tables: dict[str, dynamodb.ITable]
    workforce_pool: cognito.IUserPool
    customer_pool: cognito.IUserPool
    vpc: ec2.IVpc
    search_clients: ec2.ISecurityGroup
    audit_queue: sqs.IQueue
    escalation: sfn.IStateMachine
    slack_secrets: list[secretsmanager.ISecret]


class ApiStack(cdk.Stack):
    """Functions chat, ingest, authorizer, revocation and slack, the REST API, the WebSocket API and WAF."""

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
        self._layer = core_layer(self, repo_root, config.name)
        network = FunctionNetwork(vpc=deps.vpc, security_groups=[deps.search_clients])
        base_env = dict(settings_env)

        self.chat = self._function("Chat", "chat", "Runs one chat turn for the web and API channels", base_env, network)
        self.slack = self._function("Slack", "slack", "Verifies Slack requests and runs the turn", base_env, network)
        self.ingest = self._function(
            "Ingest",
            "ingest",
            "Indexes documents into the permission-scoped search indices",
            base_env,
            network,
            timeout=cdk.Duration.minutes(5),
            memory_mb=1024,
        )
        self.authorizer = self._function(
            "Authorizer",
            "authorizer",
            "Verifies tokens (JWKS) and refuses revoked subjects",
            base_env,
            None,
            memory_mb=256,
        )
        self.revocation = self._function(
            "Revocation",
            "revocation",
            "Revokes a subject: records it, signs it out, ends open sessions",
            base_env,
            None,
        )
        for fn in (self.chat, self.slack):
            self._grant_turn(fn)
        self._grant_ingest()
        self.authorizer.allow(["dynamodb:GetItem"], [deps.tables["revocations"].table_arn])
        self.authorizer.allow_key(deps.key)
        self.slack.allow(["secretsmanager:GetSecretValue"], [s.secret_arn for s in deps.slack_secrets])

        self.rest_api = self._rest_api()
        self.websocket_api, self.websocket_stage = self._websocket_api()
        self._grant_revocation()
        self._waf()

    # Functions ---------------------------------------------------------------------------------

    def _function(
        self,
        construct_id: str,
        name: str,
        description: str,
        environment: dict[str, str],
        network: FunctionNetwork | None,
        *,
        timeout: cdk.Duration | None = None,
        memory_mb: int = 1024,
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
            environment=environment,
            timeout=timeout,
            memory_mb=memory_mb,
            network=network,
        )

    def _model_arns(self, model_ids: tuple[str, ...]) -> list[str]:
        region = self._config.target.region
        return [f"arn:aws:bedrock:{region}::foundation-model/{model}" for model in model_ids]

    def _grant_turn(self, fn: KeelFunction) -> None:
        """What one chat turn touches: conversation, budget, idempotency, search, models, audit, escalation."""
        tables, config = self._deps.tables, self._config
        fn.allow(
            ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query", "dynamodb:DeleteItem"],
            [tables["conversations"].table_arn],
        )
        fn.allow(["dynamodb:GetItem"], [tables["revocations"].table_arn])
        fn.allow(["dynamodb:PutItem", "dynamodb:DeleteItem"], [tables["sessions"].table_arn])
        fn.allow(["dynamodb:GetItem", "dynamodb:UpdateItem"], [tables["budgets"].table_arn])
        fn.allow(
            ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"],
            [tables["idempotency"].table_arn],
        )
        fn.allow(
            SEARCH_READ,
            [f"{domain_arn(config)}/*"],
            wildcard_reason="Search paths are index names and _search/_msearch under the one Keel domain",
        )
        models = tuple(m for m in config.models.all_ids() if m != config.models.embedding)
        fn.allow(MODEL_INVOKE, self._model_arns((*models, config.models.embedding)))
        fn.allow(["sqs:SendMessage"], [self._deps.audit_queue.queue_arn])
        fn.allow(["states:StartExecution"], [self._deps.escalation.state_machine_arn])
        fn.allow(["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"], [tables["escalations"].table_arn])
        fn.allow(["ssm:GetParameter"], [self._parameter_arn(maintenance_parameter(config))])
        fn.allow_key(self._deps.key, encrypt=True)

    def _parameter_arn(self, name: str) -> str:
        return f"arn:aws:ssm:{self._config.target.region}:{self._config.target.account}:parameter{name}"

    def _grant_ingest(self) -> None:
        config = self._config
        self.ingest.allow(
            SEARCH_WRITE,
            [f"{domain_arn(config)}/*"],
            wildcard_reason="Ingest creates and writes the internal and external indices of the Keel domain",
        )
        self.ingest.allow(["bedrock:InvokeModel"], self._model_arns((config.models.embedding,)))
        self.ingest.allow(["sqs:SendMessage"], [self._deps.audit_queue.queue_arn])
        self.ingest.allow_key(self._deps.key, encrypt=True)

    def _grant_revocation(self) -> None:
        deps = self._deps
        sessions = deps.tables["sessions"]
        self.revocation.allow(
            ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"], [deps.tables["revocations"].table_arn]
        )
        self.revocation.allow(["dynamodb:Query", "dynamodb:DeleteItem"], [sessions.table_arn])
        self.revocation.allow(
            ["cognito-idp:AdminGetUser", "cognito-idp:AdminUserGlobalSignOut"],
            [deps.workforce_pool.user_pool_arn, deps.customer_pool.user_pool_arn],
        )
        self.revocation.allow(["sqs:SendMessage"], [deps.audit_queue.queue_arn])
        self.revocation.allow_key(deps.key, encrypt=True)
        self.revocation.allow(
            ["execute-api:ManageConnections"],
            [self._connections_arn("DELETE")],
            wildcard_reason="Connection ids are created at run time; only DELETE on this API's stage",
        )
        self.chat.allow(
            ["execute-api:ManageConnections"],
            [self._connections_arn("POST")],
            wildcard_reason="Connection ids are created at run time; only POST on this API's stage",
        )

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
                throttling_rate_limit=config.quotas.api_rate_limit_rps,
                throttling_burst_limit=config.quotas.api_burst_limit,
                access_log_destination=apigw.LogGroupLogDestination(access_logs),
                access_log_format=apigw.AccessLogFormat.json_with_standard_fields(
                    caller=False,
                    http_method=True,
                    ip=True,
                    protocol=True,
                    request_time=True,
                    resource_path=True,
                    response_length=True,
                    status=True,
                    user=False,
                ),
            ),
        )
        authorizer = apigw.RequestAuthorizer(
            self,
            "TokenAuthorizer",
            handler=self.authorizer.function,
            identity_sources=[apigw.IdentitySource.header("Authorization")],
            # No caching: a revoked subject must be refused on its very next request (R5).
            results_cache_ttl=cdk.Duration.seconds(0),
        )
        validator = api.add_request_validator(
            "RequestValidator", validate_request_body=True, validate_request_parameters=True
        )
        v1 = api.root.add_resource("v1")
        self._post(api, v1.add_resource("chat"), self.chat, authorizer, validator, self._chat_model(api))
        self._post(api, v1.add_resource("ingest"), self.ingest, authorizer, validator, self._ingest_model(api))
        self._post(
            api, v1.add_resource("revocations"), self.revocation, authorizer, validator, self._revocation_model(api)
        )
        slack = (
            api.root.add_resource("slack")
            .add_resource("events")
            .add_method("POST", apigw.LambdaIntegration(self.slack.function))
        )
        acknowledge(
            slack,
            "AwsSolutions-APIG4",
            "Slack cannot send a bearer token; the handler verifies Slack's HMAC request signature and timestamp",
        )
        acknowledge(
            slack,
            "AwsSolutions-COG4",
            "Slack cannot send a Cognito token; the handler verifies Slack's HMAC request signature and timestamp",
        )
        return api

    def _post(
        self,
        api: apigw.RestApi,
        resource: apigw.Resource,
        fn: KeelFunction,
        authorizer: apigw.RequestAuthorizer,
        validator: apigw.RequestValidator,
        model: apigw.Model,
    ) -> None:
        method = resource.add_method(
            "POST",
            apigw.LambdaIntegration(fn.function),
            authorizer=authorizer,
            authorization_type=apigw.AuthorizationType.CUSTOM,
            request_validator=validator,
            request_models={"application/json": model},
            request_parameters={"method.request.header.Authorization": True},
        )
        acknowledge(
            method,
            "AwsSolutions-COG4",
            "A Lambda authorizer verifies the Cognito JWT (JWKS, issuer, audience, expiry) and also checks "
            "revocation, which a Cognito authorizer cannot",
        )

    def _chat_model(self, api: apigw.RestApi) -> apigw.Model:
        return api.add_model(
            "ChatRequest",
            content_type="application/json",
            schema=apigw.JsonSchema(
                schema=apigw.JsonSchemaVersion.DRAFT4,
                type=apigw.JsonSchemaType.OBJECT,
                required=["bot", "message"],
                additional_properties=False,
                properties={
                    "bot": apigw.JsonSchema(type=apigw.JsonSchemaType.STRING, enum=list(self._config.bots)),
                    "message": apigw.JsonSchema(
                        type=apigw.JsonSchemaType.STRING, min_length=1, max_length=_MAX_MESSAGE_CHARS
                    ),
                    "conversation_id": apigw.JsonSchema(type=apigw.JsonSchemaType.STRING, max_length=128),
                    "channel": apigw.JsonSchema(type=apigw.JsonSchemaType.STRING, enum=list(self._config.channels)),
                },
            ),
        )

    def _ingest_model(self, api: apigw.RestApi) -> apigw.Model:
        return api.add_model(
            "IngestRequest",
            content_type="application/json",
            schema=apigw.JsonSchema(
                schema=apigw.JsonSchemaVersion.DRAFT4,
                type=apigw.JsonSchemaType.OBJECT,
                required=["source", "documents"],
                properties={
                    "source": apigw.JsonSchema(type=apigw.JsonSchemaType.STRING, min_length=1, max_length=256),
                    "documents": apigw.JsonSchema(
                        type=apigw.JsonSchemaType.ARRAY,
                        min_items=1,
                        max_items=100,
                        items=apigw.JsonSchema(type=apigw.JsonSchemaType.OBJECT),
                    ),
                },
            ),
        )

    def _revocation_model(self, api: apigw.RestApi) -> apigw.Model:
        return api.add_model(
            "RevocationRequest",
            content_type="application/json",
            schema=apigw.JsonSchema(
                schema=apigw.JsonSchemaVersion.DRAFT4,
                type=apigw.JsonSchemaType.OBJECT,
                required=["subject"],
                additional_properties=False,
                properties={
                    "subject": apigw.JsonSchema(type=apigw.JsonSchemaType.STRING, min_length=1, max_length=256),
                    "reason": apigw.JsonSchema(type=apigw.JsonSchemaType.STRING, max_length=512),
                },
            ),
        )

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
        chat = self.chat.function
        authorizer = ws_authorizers.WebSocketLambdaAuthorizer(
            "ConnectAuthorizer",
            self.authorizer.function,
            # Browsers cannot set headers on a WebSocket upgrade, so the token travels in the query string.
            identity_source=["route.request.querystring.token"],
        )
        api = apigwv2.WebSocketApi(
            self,
            "WebSocketApi",
            api_name=config.resource_name("ws"),
            description=f"Keel {config.name} chat WebSocket (web app and widget)",
            connect_route_options=apigwv2.WebSocketRouteOptions(
                integration=ws_integrations.WebSocketLambdaIntegration("ChatOnConnect", chat), authorizer=authorizer
            ),
            disconnect_route_options=apigwv2.WebSocketRouteOptions(
                integration=ws_integrations.WebSocketLambdaIntegration("ChatOnDisconnect", chat)
            ),
            default_route_options=apigwv2.WebSocketRouteOptions(
                integration=ws_integrations.WebSocketLambdaIntegration("ChatOnMessage", chat)
            ),
        )
        for route in ("$disconnect-Route", "$default-Route"):
            acknowledge(
                api.node.find_child(route),
                "AwsSolutions-APIG4",
                "WebSocket APIs authorize once on $connect (Lambda authorizer); later frames ride that connection",
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
                wafv2.CfnWebACL.RuleProperty(
                    name="PerIpRateLimit",
                    priority=2,
                    action=wafv2.CfnWebACL.RuleActionProperty(block={}),
                    statement=wafv2.CfnWebACL.StatementProperty(
                        rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                            # Five-minute window; one client may use a fifth of the stage's burst each second.
                            limit=max(100, config.quotas.api_burst_limit * 60),
                            aggregate_key_type="IP",
                        )
                    ),
                    visibility_config=visibility("PerIpRateLimit"),
                ),
            ],
        )
        wafv2.CfnWebACLAssociation(
            self,
            "RestApiAcl",
            resource_arn=self.rest_api.deployment_stage.stage_arn,
            web_acl_arn=acl.attr_arn,
        )
