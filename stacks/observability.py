"""Observability stack: a dashboard per bot (a row per channel), alarms and the alarm topic (R12, R15, R16).

Metric names, namespace and dimensions come from ``keel.analytics.telemetry`` (the EMF contract the turn
emits): namespace ``Keel``, dimensions ``(bot, channel)``. No metric carries ``bot`` alone, so every
per-bot alarm is metric math over the bot's channels: error rate, the worst channel's p95 latency,
an anomaly band on refused turns (blocked or flagged requests, R12), fallbacks, and model cost.
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

from keel.contract import NAMESPACE, SECRET_AGE_SERVICE, TURN_DIMENSIONS, M
from keel.contract import SECRETS_OVERDUE_METRIC as OVERDUE_METRIC
from stacks.access import break_glass_role_arn
from stacks.config import FUNCTION_NAMES, StageConfig
from stacks.constructs.function import function_name

DEAD_LETTER_QUEUES = ("audit-dlq", "escalation-dlq", "slack-events-dlq")
# The outcome the turn records for a request a guardrail blocked or an output check refused.
BLOCKED_OUTCOME = "refused"
# Per-bot metrics the dashboards and alarms read; a test checks each is a name keel emits.
BOT_METRICS = (M.TURNS, M.ERRORS, M.TURN_LATENCY, M.OUTCOMES, M.FALLBACKS, M.COST, M.ESCALATIONS, M.TOKENS)
_MINUTE = cdk.Duration.minutes(1)
_FIVE_MINUTES = cdk.Duration.minutes(5)


def keel_metric(
    name: str, stat: str, dims: dict[str, str], period: cdk.Duration = _FIVE_MINUTES, label: str | None = None
) -> cloudwatch.Metric:
    """One metric of the Keel namespace."""
    return cloudwatch.Metric(
        namespace=NAMESPACE, metric_name=name, statistic=stat, dimensions_map=dims, period=period, label=label
    )


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
        # Dev: one dashboard with a section per bot; other stages: a dashboard per bot.
        shared = (
            self._new_dashboard("BotsDashboard", config.dashboard_name(config.bots[0]), "every bot")
            if config.one_dashboard
            else None
        )
        for bot in config.bots:
            dashboard = shared or self._new_dashboard(
                f"{bot.title()}Dashboard", config.dashboard_name(bot), f"{bot} bot"
            )
            self._bot_widgets(dashboard, bot)
            self.dashboards[bot] = dashboard
            self.alarms[bot] = self._bot_alarms(bot)
        self._operational_alarms()
        self._secrets_overdue_alarm()
        self._break_glass_alert()

    def _channels(
        self, bot: str, name: str, stat: str, period: cdk.Duration, extra: dict[str, str] | None = None
    ) -> dict[str, cloudwatch.IMetric]:
        """The metric for each of the stage's channels, keyed by a math-expression id."""
        return {
            f"{name.lower()}{i}": keel_metric(name, stat, {"bot": bot, "channel": ch, **(extra or {})}, period)
            for i, ch in enumerate(self._config.channels)
        }

    def _total(
        self, bot: str, name: str, period: cdk.Duration, label: str, extra: dict[str, str] | None = None
    ) -> cloudwatch.MathExpression:
        """A bot's metric summed over its channels (missing channels count as zero)."""
        parts = self._channels(bot, name, "Sum", period, extra)
        return cloudwatch.MathExpression(
            expression=" + ".join(f"FILL({key}, 0)" for key in parts), using_metrics=parts, period=period, label=label
        )

    def _new_dashboard(self, construct_id: str, name: str, shows: str) -> cloudwatch.Dashboard:
        dashboard = cloudwatch.Dashboard(
            self, construct_id, dashboard_name=name, default_interval=cdk.Duration.hours(24)
        )
        dashboard.add_widgets(
            cloudwatch.TextWidget(markdown=f"# Keel {self._config.name}: {shows}", width=24, height=1)
        )
        return dashboard

    def _bot_widgets(self, dashboard: cloudwatch.Dashboard, bot: str) -> None:
        """A bot's rows: a title, a row per channel, and its guardrail blocks."""
        if self._config.one_dashboard:
            dashboard.add_widgets(cloudwatch.TextWidget(markdown=f"## {bot} bot", width=24, height=1))
        for channel in self._config.channels:
            dims = dict(zip(TURN_DIMENSIONS, (bot, channel), strict=True))
            dashboard.add_widgets(
                cloudwatch.GraphWidget(
                    title=f"{channel}: turns, errors, escalations",
                    left=[keel_metric(m, "Sum", dims) for m in (M.TURNS, M.ERRORS, M.ESCALATIONS)],
                    width=8,
                ),
                cloudwatch.GraphWidget(
                    title=f"{channel}: latency p50 / p95 (ms)",
                    left=[keel_metric(M.TURN_LATENCY, "p50", dims), keel_metric(M.TURN_LATENCY, "p95", dims)],
                    width=8,
                ),
                cloudwatch.GraphWidget(
                    title=f"{channel}: refused, fallbacks, tokens, cost (USD)",
                    left=[
                        keel_metric(M.OUTCOMES, "Sum", {**dims, "outcome": BLOCKED_OUTCOME}, label="Refused"),
                        keel_metric(M.FALLBACKS, "Sum", dims),
                        keel_metric(M.TOKENS, "Sum", dims),
                    ],
                    right=[keel_metric(M.COST, "Sum", dims)],
                    width=8,
                ),
            )
        guardrails = cloudwatch.MathExpression(
            expression=(
                f'SEARCH(\'{{{NAMESPACE},bot,category,channel,stage}} MetricName="{M.GUARDRAIL_BLOCKED}" '
                f"bot=\"{bot}\"', 'Sum', 300)"
            ),
            label="Guardrail blocks by stage and category",
            period=_FIVE_MINUTES,
        )
        title = f"{bot}: guardrail blocks" if self._config.one_dashboard else "Guardrail blocks"
        dashboard.add_widgets(cloudwatch.GraphWidget(title=title, left=[guardrails], width=24))

    def _bot_alarms(self, bot: str) -> list[cloudwatch.AlarmBase]:
        limits = self._config.alarms
        name = self._config.resource_name
        turns = self._channels(bot, M.TURNS, "Sum", _FIVE_MINUTES)
        errors = self._channels(bot, M.ERRORS, "Sum", _FIVE_MINUTES)
        error_rate = cloudwatch.MathExpression(
            expression=(
                f"IF(({' + '.join(f'FILL({k}, 0)' for k in turns)}) > 0, "
                f"100 * ({' + '.join(f'FILL({k}, 0)' for k in errors)}) / "
                f"({' + '.join(f'FILL({k}, 0)' for k in turns)}), 0)"
            ),
            using_metrics={**turns, **errors},
            period=_FIVE_MINUTES,
            label=f"{bot} error rate (%)",
        )
        latency = self._channels(bot, M.TURN_LATENCY, "p95", _FIVE_MINUTES)
        worst_p95 = cloudwatch.MathExpression(
            expression=f"MAX([{', '.join(latency)}])",
            using_metrics=latency,
            period=_FIVE_MINUTES,
            label=f"{bot} p95 latency, worst channel (ms)",
        )
        anomaly = cloudwatch.AnomalyDetectionAlarm(
            self,
            f"{bot.title()}BlockedSpike",
            alarm_name=name(f"{bot}-blocked-spike"),
            alarm_description=f"Blocked or flagged {bot} requests above their usual band (R12)",
            metric=self._total(bot, M.OUTCOMES, _FIVE_MINUTES, f"{bot} refused turns", {"outcome": BLOCKED_OUTCOME}),
            std_devs=limits.blocked_anomaly_std_devs,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_UPPER_THRESHOLD,
            evaluation_periods=2,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        anomaly.add_alarm_action(self._action)
        fallbacks = self._total(bot, M.FALLBACKS, _MINUTE, f"{bot} answers through a fallback")
        # A whole day's stage budget spent by one bot; more bots x channels than one alarm may read.
        cost = self._total(bot, M.COST, cdk.Duration.days(1), f"{bot} model cost per day (USD)")
        return [
            self._alarm(
                error_rate,
                f"{bot.title()}ErrorRate",
                name(f"{bot}-error-rate"),
                f"More than {limits.error_rate_percent}% of {bot} turns failed",
                limits.error_rate_percent,
                cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                periods=3,
                datapoints=2,
            ),
            self._alarm(
                worst_p95,
                f"{bot.title()}LatencyP95",
                name(f"{bot}-latency-p95"),
                f"{bot} p95 latency above {limits.p95_latency_ms} ms on some channel",
                limits.p95_latency_ms,
                cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                periods=3,
            ),
            anomaly,
            self._alarm(
                fallbacks,
                f"{bot.title()}FallbackActive",
                name(f"{bot}-fallback-active"),
                f"{bot} answered through a fallback for {limits.fallback_active_minutes} minutes",
                1,
                cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                periods=limits.fallback_active_minutes,
            ),
            self._alarm(
                cost,
                f"{bot.title()}DailyCost",
                name(f"{bot}-daily-cost"),
                f"{bot} model spend above {limits.daily_cost_usd} USD in a day",
                limits.daily_cost_usd,
                cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            ),
        ]

    def _alarm(
        self,
        metric: cloudwatch.IMetric,
        construct_id: str,
        alarm_name: str,
        description: str,
        threshold: float,
        comparison: cloudwatch.ComparisonOperator,
        *,
        periods: int = 1,
        datapoints: int | None = None,
    ) -> cloudwatch.Alarm:
        """A threshold alarm that treats missing data as fine and notifies the alarm topic."""
        alarm = metric.create_alarm(
            self,
            construct_id,
            alarm_name=alarm_name,
            alarm_description=description,
            threshold=threshold,
            evaluation_periods=periods,
            datapoints_to_alarm=datapoints,
            comparison_operator=comparison,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(self._action)
        return alarm

    def _operational_alarms(self) -> None:
        config = self._config
        for name in FUNCTION_NAMES:
            errors = cloudwatch.Metric(
                namespace="AWS/Lambda",
                metric_name="Errors",
                statistic="Sum",
                dimensions_map={"FunctionName": function_name(config, name)},
                period=_FIVE_MINUTES,
            )
            self._alarm(
                errors,
                f"{name.title().replace('_', '')}Errors",
                config.resource_name(f"fn-{name.replace('_', '-')}-errors"),
                f"The {name} function raised unhandled errors",
                5,
                cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            )
        for queue in DEAD_LETTER_QUEUES:
            waiting = cloudwatch.Metric(
                namespace="AWS/SQS",
                metric_name="ApproximateNumberOfMessagesVisible",
                statistic="Maximum",
                dimensions_map={"QueueName": config.resource_name(queue)},
                period=_FIVE_MINUTES,
            )
            self._alarm(
                waiting,
                "".join(p.title() for p in queue.split("-")),
                config.resource_name(f"{queue}-not-empty"),
                f"Messages are waiting in {queue}: records or tickets were not processed",
                0,
                cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            )

    def _secrets_overdue_alarm(self) -> None:
        """The daily secret-age check (stacks.secrets) found a provider-rotated secret past its rotation days."""
        config = self._config
        overdue = cloudwatch.Metric(
            namespace=NAMESPACE,
            metric_name=OVERDUE_METRIC,
            statistic="Maximum",
            dimensions_map={"service": SECRET_AGE_SERVICE},
            period=cdk.Duration.days(1),
        )
        self._alarm(
            overdue,
            "SecretsOverdue",
            config.resource_name("secrets-overdue"),
            f"A secret rotated at its provider is older than {config.secret_rotation_days} days or unreadable: "
            "the secret_rotation function's log names it and how to rotate it",
            1,
            cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        )

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
