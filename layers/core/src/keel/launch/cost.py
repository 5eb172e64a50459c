"""What a stage costs (R3): idle monthly cost from the synthesized templates, and cost per 1,000 turns.

Idle cost counts what runs (and bills) with no user at all: NAT gateways and their public addresses,
interface endpoints, OpenSearch instances and storage, KMS keys, secrets, alarms, dashboards, the WAF
web ACL and the platform's own logs. Per-turn cost counts the model calls (prices from the dated model
catalogue, tokens from a checked-in measurement), the guardrail, PII detection, the API and Lambda.
Prices come from ``aws_prices.json`` beside this module, each entry with its own date and source.
Every resource type of the templates is either priced here or listed in NOT_BILLED_WHILE_IDLE with the
reason; any other type is refused with a clear error, so a new billable resource is never counted as zero.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from keel.errors import InvalidRequest
from keel.launch.templates import Assembly
from keel.models.catalogue import Catalogue

# Retention of a log group with none set: kept forever; counted as ten years of storage.
_NEVER_EXPIRES_DAYS = 3653
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

# Resource types idle_costs prices.
PRICED_TYPES = frozenset(
    {
        "AWS::EC2::NatGateway",
        "AWS::EC2::EIP",
        "AWS::EC2::Instance",
        "AWS::EC2::VPCEndpoint",
        "AWS::OpenSearchService::Domain",
        "AWS::KMS::Key",
        "AWS::SecretsManager::Secret",
        "AWS::CloudWatch::Alarm",
        "AWS::CloudWatch::Dashboard",
        "AWS::WAFv2::WebACL",
        "AWS::Logs::LogGroup",
    }
)
# Resource types that cost nothing while idle, each with why (billed per use, or free). Per-use costs of
# the turn are in turn_costs; storage that grows with use (S3, DynamoDB) is not idle cost.
NOT_BILLED_WHILE_IDLE: dict[str, str] = {
    **dict.fromkeys(
        (
            "AWS::ApiGateway::Account",
            "AWS::ApiGateway::Authorizer",
            "AWS::ApiGateway::Deployment",
            "AWS::ApiGateway::Method",
            "AWS::ApiGateway::RequestValidator",
            "AWS::ApiGateway::Resource",
            "AWS::ApiGateway::RestApi",
            "AWS::ApiGateway::Stage",
            "AWS::ApiGatewayV2::Api",
            "AWS::ApiGatewayV2::Integration",
            "AWS::ApiGatewayV2::Route",
            "AWS::ApiGatewayV2::Stage",
        ),
        "API Gateway bills per request and message",
    ),
    **dict.fromkeys(
        (
            "AWS::AppConfig::Application",
            "AWS::AppConfig::ConfigurationProfile",
            "AWS::AppConfig::Deployment",
            "AWS::AppConfig::DeploymentStrategy",
            "AWS::AppConfig::Environment",
            "AWS::AppConfig::HostedConfigurationVersion",
        ),
        "AppConfig bills per configuration request",
    ),
    "AWS::Bedrock::Guardrail": "billed per text unit screened (turn_costs)",
    "AWS::Bedrock::GuardrailVersion": "billed per text unit screened (turn_costs)",
    "AWS::CloudTrail::Trail": "the first management-event trail is free; its bucket's storage grows with use",
    **dict.fromkeys(
        (
            "AWS::Cognito::UserPool",
            "AWS::Cognito::UserPoolClient",
            "AWS::Cognito::UserPoolDomain",
            "AWS::Cognito::UserPoolGroup",
            "AWS::Cognito::UserPoolIdentityProvider",
        ),
        "Cognito bills per monthly active user",
    ),
    "AWS::DynamoDB::Table": "on-demand tables bill per request and stored GB (grows with use)",
    **dict.fromkeys(
        (
            "AWS::EC2::FlowLog",
            "AWS::EC2::InternetGateway",
            "AWS::EC2::LaunchTemplate",
            "AWS::EC2::Route",
            "AWS::EC2::RouteTable",
            "AWS::EC2::SecurityGroup",
            "AWS::EC2::SecurityGroupIngress",
            "AWS::EC2::SecurityGroupEgress",
            "AWS::EC2::Subnet",
            "AWS::EC2::SubnetRouteTableAssociation",
            "AWS::EC2::VPC",
            "AWS::EC2::VPCGatewayAttachment",
        ),
        "no charge for the network object itself (flow logs bill as log ingestion)",
    ),
    "AWS::Events::Rule": "EventBridge rules on AWS events and schedules are free",
    **dict.fromkeys(
        ("AWS::IAM::InstanceProfile", "AWS::IAM::Policy", "AWS::IAM::Role", "AWS::IAM::ManagedPolicy"),
        "IAM is free",
    ),
    "AWS::KMS::Alias": "aliases are free (the key is priced)",
    **dict.fromkeys(
        (
            "AWS::Lambda::EventSourceMapping",
            "AWS::Lambda::Function",
            "AWS::Lambda::LayerVersion",
            "AWS::Lambda::Permission",
            "AWS::Lambda::Version",
            "AWS::Lambda::Alias",
        ),
        "Lambda bills per request and GB-second (turn_costs)",
    ),
    "AWS::Logs::ResourcePolicy": "free",
    "AWS::S3::Bucket": "S3 bills per stored GB and request (grows with use)",
    "AWS::S3::BucketPolicy": "free",
    "AWS::SNS::Topic": "SNS bills per publish and delivery",
    "AWS::SNS::TopicPolicy": "free",
    "AWS::SQS::Queue": "SQS bills per request",
    "AWS::SQS::QueuePolicy": "free",
    "AWS::SSM::Parameter": "standard parameters are free",
    "AWS::SecretsManager::RotationSchedule": "free (the secret is priced; rotation runs a Lambda per use)",
    "AWS::StepFunctions::StateMachine": "Standard workflows bill per state transition",
    "AWS::WAFv2::WebACLAssociation": "free (the web ACL and its rules are priced)",
    "AWS::CDK::Metadata": "CDK bookkeeping, not a billed resource",
}


@dataclass(frozen=True)
class Prices:
    """The dated price table."""

    as_of: str
    region: str
    hours_per_month: float
    source: str
    usd: Mapping[str, Any]
    sources: Mapping[str, str]
    dates: Mapping[str, str] = field(default_factory=dict)

    def unit(self, name: str, variant: str | None = None) -> float:
        """The price of one unit of ``name`` (an instance type for per-type prices)."""
        value = self.usd[name]
        if isinstance(value, Mapping):
            if variant not in value:
                raise InvalidRequest(
                    f"aws_prices.json has no {name} price for {variant!r}; priced: {', '.join(sorted(value))}"
                )
            return float(value[variant])
        return float(value)


@dataclass(frozen=True)
class TurnProfile:
    """Measured tokens and sizes of one turn (evals/baselines/tokens_per_turn.json)."""

    measured_on: str
    how: str
    answer_input_tokens: float
    answer_output_tokens: float
    planning_calls_per_turn: float
    planning_input_tokens: float
    planning_output_tokens: float
    message_chars: float
    answer_chars: float
    lambda_seconds_per_turn: float


@dataclass(frozen=True)
class CostItem:
    """One line of the bill."""

    item: str
    quantity: float
    unit: str
    unit_usd: float
    usd: float
    note: str = ""


@dataclass
class StageCost:
    """A stage's idle month and its cost per 1,000 turns."""

    stage: str
    prices_as_of: str
    idle: list[CostItem] = field(default_factory=list)
    per_1k_turns: list[CostItem] = field(default_factory=list)
    model_id: str = ""
    assumptions: dict[str, Any] = field(default_factory=dict)

    @property
    def idle_usd(self) -> float:
        """Monthly cost with no traffic."""
        return round(sum(i.usd for i in self.idle), 2)

    @property
    def per_1k_turns_usd(self) -> float:
        """Cost of 1,000 turns."""
        return round(sum(i.usd for i in self.per_1k_turns), 4)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready figures."""
        return {
            "stage": self.stage,
            "prices_as_of": self.prices_as_of,
            "idle_monthly_usd": self.idle_usd,
            "per_1k_turns_usd": self.per_1k_turns_usd,
            "model_id": self.model_id,
            "idle": [asdict(i) for i in self.idle],
            "per_1k_turns": [asdict(i) for i in self.per_1k_turns],
            "assumptions": self.assumptions,
        }


def load_prices(path: Path | None = None) -> Prices:
    """The price table shipped beside this module (or another file of the same shape).

    Every entry needs ``usd`` (a number, or a number per variant), ``as_of`` (YYYY-MM-DD) and ``source``;
    InvalidRequest names the entry and the field otherwise.
    """
    name = "aws_prices.json" if path is None else str(path)
    if path is None:
        text = resources.files("keel.launch").joinpath("aws_prices.json").read_text(encoding="utf-8")
    else:
        text = path.read_text(encoding="utf-8")
    data = json.loads(text)
    for key, entry in data["prices"].items():
        problem = _entry_problem(entry)
        if problem:
            raise InvalidRequest(
                f"{name}: price {key!r} {problem}; accepted is an object with usd (a number or numbers per "
                "variant), as_of (YYYY-MM-DD) and source (where the figure was read)"
            )
    return Prices(
        as_of=str(data["as_of"]),
        region=str(data["region"]),
        hours_per_month=float(data["hours_per_month"]),
        source=str(data["source"]),
        usd={k: v["usd"] for k, v in data["prices"].items()},
        sources={k: str(v["source"]) for k, v in data["prices"].items()},
        dates={k: str(v["as_of"]) for k, v in data["prices"].items()},
    )


def _entry_problem(entry: Any) -> str:
    if not isinstance(entry, Mapping):
        return "is not an object"
    usd = entry.get("usd")
    numbers = list(usd.values()) if isinstance(usd, Mapping) else [usd]
    if not numbers or not all(isinstance(n, int | float) and not isinstance(n, bool) and n >= 0 for n in numbers):
        return "has no usd price (a non-negative number)"
    if not isinstance(entry.get("as_of"), str) or not _DATE.match(entry["as_of"]):
        return "has no as_of date"
    if not isinstance(entry.get("source"), str) or not entry["source"].strip():
        return "has no source"
    return ""


def unpriced_types(assembly: Assembly) -> dict[str, list[str]]:
    """Resource types of the templates that are neither priced nor known to cost nothing while idle."""
    found: dict[str, list[str]] = {}
    for stack, template in assembly.templates.items():
        for logical, resource in template.get("Resources", {}).items():
            kind = str(resource.get("Type"))
            if kind not in PRICED_TYPES and kind not in NOT_BILLED_WHILE_IDLE:
                found.setdefault(kind, []).append(f"{stack}/{logical}")
    return found


def load_turn_profile(path: Path) -> TurnProfile:
    """The measured turn; a clear error naming the file and its fields when it is not one."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return TurnProfile(**{k: data[k] for k in TurnProfile.__dataclass_fields__})
    except (OSError, ValueError, KeyError, TypeError) as exc:
        fields = ", ".join(TurnProfile.__dataclass_fields__)
        raise InvalidRequest(f"{path}: accepted is a JSON object with {fields} ({exc})") from None


def idle_costs(assembly: Assembly, prices: Prices, *, idle_log_gb: float = 1.0) -> list[CostItem]:
    """The monthly cost of the stage's resources with no traffic, largest first.

    InvalidRequest when a template holds a resource type with no price and no reason to cost nothing.
    """
    unknown = unpriced_types(assembly)
    if unknown:
        listed = "; ".join(f"{kind} ({', '.join(where[:2])})" for kind, where in sorted(unknown.items()))
        raise InvalidRequest(
            f"no price for {listed}: add its price to keel/launch/aws_prices.json and count it in idle_costs, "
            "or list it in NOT_BILLED_WHILE_IDLE with why it costs nothing while idle"
        )
    hours = prices.hours_per_month
    items: list[CostItem] = []

    def add(item: str, quantity: float, unit: str, unit_usd: float, note: str = "") -> None:
        if quantity:
            items.append(CostItem(item, quantity, unit, unit_usd, round(quantity * unit_usd, 2), note))

    add(
        "NAT gateways",
        len(assembly.resources("AWS::EC2::NatGateway")),
        "gateway-month",
        prices.unit("nat_gateway_hour") * hours,
    )
    add(
        "public IPv4 addresses (NAT)",
        len(assembly.resources("AWS::EC2::EIP")),
        "address-month",
        prices.unit("public_ipv4_hour") * hours,
    )
    _nat_instances(assembly, prices, add)
    zones = sum(
        len(e.get("Properties", {}).get("SubnetIds", []) or [])
        for e in assembly.resources("AWS::EC2::VPCEndpoint").values()
        if e.get("Properties", {}).get("VpcEndpointType") == "Interface"
    )
    add("interface VPC endpoints", zones, "endpoint-AZ-month", prices.unit("interface_endpoint_hour_per_az") * hours)
    for name, domain in assembly.resources("AWS::OpenSearchService::Domain").items():
        props = domain.get("Properties", {})
        cluster, ebs = props.get("ClusterConfig", {}), props.get("EBSOptions", {})
        data_type, data_nodes = str(cluster.get("InstanceType")), int(cluster.get("InstanceCount", 1))
        add(
            f"OpenSearch data nodes ({data_type})",
            data_nodes,
            "node-month",
            prices.unit("opensearch_instance_hour", data_type) * hours,
            name,
        )
        if cluster.get("DedicatedMasterEnabled"):
            master_type = str(cluster.get("DedicatedMasterType"))
            add(
                f"OpenSearch dedicated masters ({master_type})",
                int(cluster.get("DedicatedMasterCount", 0)),
                "node-month",
                prices.unit("opensearch_instance_hour", master_type) * hours,
                name,
            )
        if ebs.get("EBSEnabled"):
            add(
                "OpenSearch storage (gp3)",
                int(ebs.get("VolumeSize", 0)) * data_nodes,
                "GB-month",
                prices.unit("opensearch_gp3_gb_month"),
                name,
            )
    add("KMS keys", len(assembly.resources("AWS::KMS::Key")), "key-month", prices.unit("kms_key_month"))
    add(
        "Secrets Manager secrets",
        len(assembly.resources("AWS::SecretsManager::Secret")),
        "secret-month",
        prices.unit("secret_month"),
    )
    alarms = assembly.resources("AWS::CloudWatch::Alarm").values()
    anomaly = sum(1 for a in alarms if "ANOMALY_DETECTION_BAND" in json.dumps(a.get("Properties", {})))
    add("CloudWatch alarms", len(alarms) - anomaly, "alarm-month", prices.unit("alarm_month"))
    add("CloudWatch anomaly-detection alarms", anomaly, "alarm-month", prices.unit("anomaly_alarm_month"))
    add(
        "CloudWatch dashboards",
        len(assembly.resources("AWS::CloudWatch::Dashboard")),
        "dashboard-month",
        prices.unit("dashboard_month"),
    )
    acls = assembly.resources("AWS::WAFv2::WebACL").values()
    add("WAF web ACLs", len(acls), "ACL-month", prices.unit("waf_web_acl_month"))
    add(
        "WAF rules",
        sum(len(a.get("Properties", {}).get("Rules", []) or []) for a in acls),
        "rule-month",
        prices.unit("waf_rule_month"),
    )
    groups = assembly.resources("AWS::Logs::LogGroup").values()
    if groups and idle_log_gb > 0:
        retention = [int(g.get("Properties", {}).get("RetentionInDays") or _NEVER_EXPIRES_DAYS) for g in groups]
        months_kept = sum(retention) / len(retention) / 30
        note = f"{len(retention)} log groups, mean retention {sum(retention) / len(retention):.0f} days"
        add("log ingestion (idle platform logs)", idle_log_gb, "GB", prices.unit("log_ingest_gb"), note)
        add(
            "log storage at that retention",
            round(idle_log_gb * months_kept, 3),
            "GB-month",
            prices.unit("log_storage_gb_month"),
            note,
        )
    return sorted(items, key=lambda i: -i.usd)


def _nat_instances(assembly: Assembly, prices: Prices, add: Any) -> None:
    """EC2 instances (dev's NAT instance): instance hours, root volumes, and a public IPv4 in a public subnet."""
    hours = prices.hours_per_month
    subnets = {
        name.split("/", 1)[1]: r.get("Properties", {}) for name, r in assembly.resources("AWS::EC2::Subnet").items()
    }
    by_type: dict[str, int] = {}
    volume_gb = 0
    public = 0
    for name, instance in assembly.resources("AWS::EC2::Instance").items():
        props = instance.get("Properties", {})
        kind = str(props.get("InstanceType"))
        by_type[kind] = by_type.get(kind, 0) + 1
        mappings = props.get("BlockDeviceMappings") or []
        if not mappings:
            raise InvalidRequest(
                f"{name} has no BlockDeviceMappings, so its root volume cannot be priced; accepted is an "
                "instance whose volumes (size and type gp3) the template states"
            )
        for mapping in mappings:
            ebs = mapping.get("Ebs") or {}
            if ebs.get("VolumeType", "gp3") != "gp3":
                raise InvalidRequest(f"{name}: aws_prices.json prices gp3 volumes only, not {ebs.get('VolumeType')}")
            volume_gb += int(ebs.get("VolumeSize", 0))
        subnet = props.get("SubnetId")
        ref = subnet.get("Ref") if isinstance(subnet, Mapping) else None
        if ref is not None and subnets.get(ref, {}).get("MapPublicIpOnLaunch"):
            public += 1
    for kind, count in sorted(by_type.items()):
        add(f"EC2 instances ({kind}, NAT)", count, "instance-month", prices.unit("ec2_instance_hour", kind) * hours)
    add("EC2 root volumes (gp3)", volume_gb, "GB-month", prices.unit("ebs_gp3_gb_month"))
    add("public IPv4 addresses (NAT instances)", public, "address-month", prices.unit("public_ipv4_hour") * hours)


def turn_costs(
    assembly: Assembly, prices: Prices, profile: TurnProfile, catalogue: Catalogue
) -> tuple[str, list[CostItem]]:
    """The primary model id and the cost of 1,000 turns, item by item."""
    model_id, memory_mb = _turn_function(assembly)
    spec = catalogue.find(model_id)
    if spec is None:
        raise InvalidRequest(f"{model_id!r} (KEEL_MODEL_PRIMARY) is not in the model catalogue")
    turns = 1000
    answer = spec.cost(round(profile.answer_input_tokens), round(profile.answer_output_tokens))
    planning = spec.cost(round(profile.planning_input_tokens), round(profile.planning_output_tokens))
    text_units = math.ceil(profile.answer_chars / 1000)
    pii_units = max(3, math.ceil(profile.message_chars / 100))
    items = [
        CostItem("model: answer call", turns, "call", answer, round(turns * answer, 4), model_id),
        CostItem(
            "model: tool-planning call",
            round(turns * profile.planning_calls_per_turn, 1),
            "call",
            planning,
            round(turns * profile.planning_calls_per_turn * planning, 4),
            "only turns whose words name an action intent",
        ),
        CostItem(
            "guardrail (answer screen)",
            turns * text_units,
            "text unit",
            prices.unit("guardrail_text_unit"),
            round(turns * text_units * prices.unit("guardrail_text_unit"), 4),
        ),
        CostItem(
            "PII detection (Comprehend)",
            turns * pii_units,
            "unit",
            prices.unit("comprehend_pii_unit"),
            round(turns * pii_units * prices.unit("comprehend_pii_unit"), 4),
        ),
        CostItem(
            "REST API requests",
            turns,
            "request",
            prices.unit("rest_api_request"),
            round(turns * prices.unit("rest_api_request"), 4),
        ),
    ]
    gb_seconds = memory_mb / 1024 * profile.lambda_seconds_per_turn
    lambda_turn = gb_seconds * prices.unit("lambda_gb_second") + prices.unit("lambda_request")
    items.append(
        CostItem(
            "Lambda (chat function)",
            turns,
            "invocation",
            lambda_turn,
            round(turns * lambda_turn, 4),
            f"{memory_mb} MB for {profile.lambda_seconds_per_turn} s",
        )
    )
    return model_id, sorted(items, key=lambda i: -i.usd)


def stage_cost(
    stage: str,
    assembly: Assembly,
    profile: TurnProfile,
    *,
    prices: Prices | None = None,
    catalogue: Catalogue | None = None,
    idle_log_gb: float = 1.0,
) -> StageCost:
    """Both halves of a stage's bill."""
    prices = prices or load_prices()
    model_id, per_turns = turn_costs(assembly, prices, profile, catalogue or Catalogue())
    return StageCost(
        stage=stage,
        prices_as_of=prices.as_of,
        idle=idle_costs(assembly, prices, idle_log_gb=idle_log_gb),
        per_1k_turns=per_turns,
        model_id=model_id,
        assumptions={
            "price_region": prices.region,
            "hours_per_month": prices.hours_per_month,
            "idle_log_gb_per_month": idle_log_gb,
            "tokens_measured_on": profile.measured_on,
            "tokens_how": profile.how,
        },
    )


def table(cost: StageCost, *, top: int = 8) -> str:
    """A plain-text table: the largest idle items, the total, then the cost per 1,000 turns."""
    lines = [
        f"{cost.stage}: idle {cost.idle_usd:,.2f} USD a month; {cost.per_1k_turns_usd:,.4f} USD per 1,000 turns "
        f"({cost.model_id}; prices of {cost.prices_as_of})",
        f"  {'idle item':<50} {'quantity':>10} {'unit':<18} {'USD/month':>10}",
    ]
    for i in cost.idle[:top]:
        lines.append(f"  {i.item:<50} {i.quantity:>10g} {i.unit:<18} {i.usd:>10,.2f}")
    rest = cost.idle[top:]
    if rest:
        lines.append(f"  {f'{len(rest)} smaller items':<50} {'':>10} {'':<18} {sum(i.usd for i in rest):>10,.2f}")
    lines.append(f"  {'per 1,000 turns':<50} {'quantity':>10} {'unit':<18} {'USD':>10}")
    for i in cost.per_1k_turns:
        lines.append(f"  {i.item:<50} {i.quantity:>10g} {i.unit:<18} {i.usd:>10,.4f}")
    return "\n".join(lines)


def _turn_function(assembly: Assembly) -> tuple[str, int]:
    for function in assembly.resources("AWS::Lambda::Function").values():
        props = function.get("Properties", {})
        variables = (props.get("Environment") or {}).get("Variables") or {}
        if "KEEL_MODEL_PRIMARY" in variables and "KEEL_BEDROCK_GUARDRAIL_VERSION" in variables:
            return str(variables["KEEL_MODEL_PRIMARY"]), int(props.get("MemorySize", 128))
    raise InvalidRequest("no turn function (KEEL_MODEL_PRIMARY and KEEL_BEDROCK_GUARDRAIL_VERSION) in the templates")
