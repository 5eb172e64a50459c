"""Observability stack: a dashboard per bot (a row per channel), alarms and the alarm topic (R12, R15, R16).

The turn emits CloudWatch EMF metrics in namespace ``Keel`` with two dimension sets, ``[bot]`` and
``[bot, channel]``: Turns, Errors, LatencyMs, BlockedRequests, FallbackActive (1 while a fallback
model or mode answers), CostUsd, Escalations and Deflected.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct

from stacks.access import break_glass_role_arn
from stacks.config import FUNCTION_NAMES, StageConfig
from stacks.constructs.function import function_name

NAMESPACE = "Keel"
DEAD_LETTER_QUEUES = ("audit-dlq", "tickets-dlq")
_MINUTE = cdk.Duration.minutes(1)
_FIVE_MINUTES = cdk.Duration.minutes(5)


def keel_metric(name: str, stat: str, dims: dict[str, str], period: cdk.Duration = _FIVE_MINUTES) -> cloudwatch.Metric:
    """One metric of the Keel namespace."""
    return cloudwatch.Metric(namespace=NAMESPACE, metric_name=name, statistic=stat, dimensions_map=dims, period=period)


class ObservabilityStack(cdk.Stack):
    """Dashboards, alarms on every bot, operational alarms and the break-glass alert."""

    def __init__(
        self, scope: Construct, construct_id: str, *, config: StageConfig, key: kms.IKey, **kwargs: object
    ) -> None:
        """Create the dashboards and alarms of ``config``'s stage; alarms notify one encrypted topic."""
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        self._config = config
        self.topic = sns.Topic(
            self,
            "Alarms",
            topic_name=config.resource_name("alarms"),
            display_name=f"Keel {config.name} alarms",
            master_key=key,
            enforce_ssl=True,
        )
        self._action = actions.SnsAction(self.topic)
        self.dashboards: dict[str, cloudwatch.Dashboard] = {}
        self.alarms: dict[str, list[cloudwatch.AlarmBase]] = {}
        for bot in config.bots:
            self.dashboards[bot] = self._dashboard(bot)
            self.alarms[bot] = self._bot_alarms(bot)
        self._cost_alarm()
        self._operational_alarms()
        self._break_glass_alert()

    def _dashboard(self, bot: str) -> cloudwatch.Dashboard:
        dashboard = cloudwatch.Dashboard(
            self,
            f"{bot.title()}Dashboard",
            dashboard_name=self._config.resource_name(f"bot-{bot}"),
            default_interval=cdk.Duration.hours(24),
        )
        dashboard.add_widgets(
            cloudwatch.TextWidget(markdown=f"# Keel {self._config.name}: {bot} bot", width=24, height=1)
        )
        for channel in self._config.channels:
            dims = {"bot": bot, "channel": channel}
            dashboard.add_widgets(
                cloudwatch.GraphWidget(
                    title=f"{channel}: turns, errors, escalations",
                    left=[keel_metric(m, "Sum", dims) for m in ("Turns", "Errors", "Escalations", "Deflected")],
                    width=8,
                ),
                cloudwatch.GraphWidget(
                    title=f"{channel}: latency p50 / p95 (ms)",
                    left=[keel_metric("LatencyMs", "p50", dims), keel_metric("LatencyMs", "p95", dims)],
                    width=8,
                ),
                cloudwatch.GraphWidget(
                    title=f"{channel}: blocked, fallback, cost (USD)",
                    left=[keel_metric("BlockedRequests", "Sum", dims), keel_metric("FallbackActive", "Maximum", dims)],
                    right=[keel_metric("CostUsd", "Sum", dims)],
                    width=8,
                ),
            )
        return dashboard

    def _bot_alarms(self, bot: str) -> list[cloudwatch.AlarmBase]:
        limits = self._config.alarms
        dims = {"bot": bot}
        name = self._config.resource_name
        error_rate = cloudwatch.MathExpression(
            expression="IF(turns > 0, 100 * errors / turns, 0)",
            using_metrics={"errors": keel_metric("Errors", "Sum", dims), "turns": keel_metric("Turns", "Sum", dims)},
            period=_FIVE_MINUTES,
            label=f"{bot} error rate (%)",
        )
        alarms: list[cloudwatch.AlarmBase] = [
            error_rate.create_alarm(
                self,
                f"{bot.title()}ErrorRate",
                alarm_name=name(f"{bot}-error-rate"),
                alarm_description=f"More than {limits.error_rate_percent}% of {bot} turns failed",
                threshold=limits.error_rate_percent,
                evaluation_periods=3,
                datapoints_to_alarm=2,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            ),
            keel_metric("LatencyMs", "p95", dims).create_alarm(
                self,
                f"{bot.title()}LatencyP95",
                alarm_name=name(f"{bot}-latency-p95"),
                alarm_description=f"{bot} p95 latency above {limits.p95_latency_ms} ms",
                threshold=limits.p95_latency_ms,
                evaluation_periods=3,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            ),
            cloudwatch.AnomalyDetectionAlarm(
                self,
                f"{bot.title()}BlockedSpike",
                alarm_name=name(f"{bot}-blocked-spike"),
                alarm_description=f"Blocked or flagged {bot} requests above their usual band (R12)",
                metric=keel_metric("BlockedRequests", "Sum", dims),
                std_devs=limits.blocked_anomaly_std_devs,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_UPPER_THRESHOLD,
                evaluation_periods=2,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            ),
            keel_metric("FallbackActive", "Maximum", dims, _MINUTE).create_alarm(
                self,
                f"{bot.title()}FallbackActive",
                alarm_name=name(f"{bot}-fallback-active"),
                alarm_description=f"{bot} answered from a fallback for {limits.fallback_active_minutes} minutes",
                threshold=1,
                evaluation_periods=limits.fallback_active_minutes,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            ),
        ]
        for alarm in alarms:
            alarm.add_alarm_action(self._action)
        return alarms

    def _cost_alarm(self) -> None:
        day = cdk.Duration.days(1)
        per_bot = {f"cost_{b}": keel_metric("CostUsd", "Sum", {"bot": b}, day) for b in self._config.bots}
        total = cloudwatch.MathExpression(
            expression=" + ".join(f"FILL({key}, 0)" for key in per_bot),
            using_metrics=per_bot,
            period=day,
            label="Model cost per day (USD)",
        )
        self.cost_alarm = total.create_alarm(
            self,
            "DailyCost",
            alarm_name=self._config.resource_name("daily-cost"),
            alarm_description=f"Model spend above {self._config.alarms.daily_cost_usd} USD in a day",
            threshold=self._config.alarms.daily_cost_usd,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        self.cost_alarm.add_alarm_action(self._action)

    def _operational_alarms(self) -> None:
        config = self._config
        for name in FUNCTION_NAMES:
            alarm = cloudwatch.Metric(
                namespace="AWS/Lambda",
                metric_name="Errors",
                statistic="Sum",
                dimensions_map={"FunctionName": function_name(config, name)},
                period=_FIVE_MINUTES,
            ).create_alarm(
                self,
                f"{name.title().replace('_', '')}Errors",
                alarm_name=config.resource_name(f"fn-{name.replace('_', '-')}-errors"),
                alarm_description=f"The {name} function raised unhandled errors",
                threshold=5,
                evaluation_periods=1,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )
            alarm.add_alarm_action(self._action)
        for queue in DEAD_LETTER_QUEUES:
            alarm = cloudwatch.Metric(
                namespace="AWS/SQS",
                metric_name="ApproximateNumberOfMessagesVisible",
                statistic="Maximum",
                dimensions_map={"QueueName": config.resource_name(queue)},
                period=_FIVE_MINUTES,
            ).create_alarm(
                self,
                "".join(p.title() for p in queue.split("-")),
                alarm_name=config.resource_name(f"{queue}-not-empty"),
                alarm_description=f"Messages are waiting in {queue}: records or tickets were not processed",
                threshold=0,
                evaluation_periods=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )
            alarm.add_alarm_action(self._action)

    def _break_glass_alert(self) -> None:
        """Every assumption of the break-glass role pages the alarm topic."""
        events.Rule(
            self,
            "BreakGlassAssumed",
            rule_name=self._config.resource_name("break-glass-assumed"),
            description="The break-glass role was assumed",
            event_pattern=events.EventPattern(
                source=["aws.sts"],
                detail_type=["AWS API Call via CloudTrail"],
                detail={
                    "eventName": ["AssumeRole"],
                    "requestParameters": {"roleArn": [break_glass_role_arn(self._config)]},
                },
            ),
            targets=[targets.SnsTopic(self.topic)],
        )
