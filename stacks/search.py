"""Search stack: a private VPC and the OpenSearch domain inside it, reachable only from search clients (R7)."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_opensearchservice as opensearch
from constructs import Construct

from stacks.config import StageConfig
from stacks.constructs.function import function_role_arn
from stacks.constructs.nag import acknowledge
from stacks.constructs.retention import retention

ENGINE_VERSION = "OpenSearch_2.19"
TLS_POLICY = "Policy-Min-TLS-1-2-PFS-2023-10"
_LOG_TYPES = ("SEARCH_SLOW_LOGS", "INDEX_SLOW_LOGS", "ES_APPLICATION_LOGS", "AUDIT_LOGS")


def domain_name(config: StageConfig) -> str:
    """The physical domain name (at most 28 characters)."""
    return config.resource_name("search")


def domain_arn(config: StageConfig) -> str:
    """The domain ARN built from its name, so function policies need no cross-stack token."""
    return f"arn:aws:es:{config.target.region}:{config.target.account}:domain/{domain_name(config)}"


# The NAT instance's root volume, explicit so it is encrypted and the cost report can price it.
_NAT_ROOT_VOLUME = ec2.CfnInstance.BlockDeviceMappingProperty(
    device_name="/dev/xvda",
    ebs=ec2.CfnInstance.EbsProperty(encrypted=True, volume_size=8, volume_type="gp3", delete_on_termination=True),
)


def _nat_instances(config: StageConfig) -> ec2.NatProvider | None:
    """A NAT instance provider when the stage chooses one (dev), else None: managed NAT gateways."""
    if config.nat_instance_type is None:
        return None
    return ec2.NatProvider.instance_v2(
        instance_type=ec2.InstanceType(config.nat_instance_type),
        machine_image=ec2.MachineImage.latest_amazon_linux2023(cpu_type=ec2.AmazonLinuxCpuType.ARM_64),
        default_allowed_traffic=ec2.NatTrafficDirection.OUTBOUND_ONLY,
    )


class SearchStack(cdk.Stack):
    """VPC, flow logs, security groups and the encrypted, fine-grained-access OpenSearch domain."""

    def __init__(
        self, scope: Construct, construct_id: str, *, config: StageConfig, key: kms.IKey, **kwargs: object
    ) -> None:
        """Create the network and the domain of ``config``'s stage."""
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        removal = cdk.RemovalPolicy.RETAIN if config.retain_data else cdk.RemovalPolicy.DESTROY
        flow_logs = logs.LogGroup(
            self,
            "FlowLogs",
            retention=retention(config.log_retention_days),
            encryption_key=key,
            removal_policy=removal,
        )
        nat = _nat_instances(config)
        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            availability_zones=list(config.availability_zones),
            nat_gateways=config.nat_gateways,
            nat_gateway_provider=nat,
            subnet_configuration=[
                ec2.SubnetConfiguration(name="public", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=24),
                ec2.SubnetConfiguration(name="private", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS, cidr_mask=20),
            ],
            gateway_endpoints={
                "DynamoDb": ec2.GatewayVpcEndpointOptions(service=ec2.GatewayVpcEndpointAwsService.DYNAMODB),
                "S3": ec2.GatewayVpcEndpointOptions(service=ec2.GatewayVpcEndpointAwsService.S3),
            },
            flow_logs={
                "All": ec2.FlowLogOptions(
                    destination=ec2.FlowLogDestination.to_cloud_watch_logs(flow_logs),
                    traffic_type=ec2.FlowLogTrafficType.ALL,
                )
            },
        )
        if isinstance(nat, ec2.NatInstanceProviderV2):
            self._harden_nat_instances(nat)
        # Functions that run the turn or ingest carry this group; it is the only way into the domain.
        self.clients_sg = ec2.SecurityGroup(
            self,
            "SearchClients",
            vpc=self.vpc,
            description="Keel functions that query or index OpenSearch (chat, slack, ingest)",
            allow_all_outbound=False,
        )
        # Egress on 443 only: AWS APIs through NAT/endpoints and the domain itself.
        self.clients_sg.add_egress_rule(ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "HTTPS to AWS APIs and search")
        self.domain_sg = ec2.SecurityGroup(
            self,
            "DomainSg",
            vpc=self.vpc,
            description="OpenSearch domain: HTTPS from search clients only",
            allow_all_outbound=False,
        )
        self.domain_sg.add_ingress_rule(self.clients_sg, ec2.Port.tcp(443), "HTTPS from Keel search clients")
        self.domain = self._domain(config, key, removal)

    def _harden_nat_instances(self, nat: ec2.NatInstanceProviderV2) -> None:
        """NAT instances forward HTTPS from inside the VPC only, on an encrypted root volume, with IMDSv2."""
        nat.security_group.add_ingress_rule(
            ec2.Peer.ipv4(self.vpc.vpc_cidr_block), ec2.Port.tcp(443), "HTTPS from the VPC's functions only"
        )
        acknowledge(
            nat.security_group,
            "AwsSolutions-EC23",
            "Ingress is HTTPS from the VPC's own CIDR (an intrinsic cdk-nag cannot resolve), never 0.0.0.0/0",
        )
        for instance in nat.gateway_instances:
            cfn = instance.node.default_child
            if isinstance(cfn, ec2.CfnInstance):
                cfn.block_device_mappings = [_NAT_ROOT_VOLUME]
            acknowledge(
                instance,
                "AwsSolutions-EC28",
                "Dev's NAT instance forwards packets only; basic monitoring and the VPC flow logs cover it",
            )
            acknowledge(
                instance,
                "AwsSolutions-EC29",
                "Dev's NAT instance holds no data: replacing it is the recovery; termination protection adds nothing",
            )
        cdk.Aspects.of(self.vpc).add(ec2.InstanceRequireImdsv2Aspect())

    def _domain(self, config: StageConfig, key: kms.IKey, removal: cdk.RemovalPolicy) -> opensearch.CfnDomain:
        capacity = config.search
        name = domain_name(config)
        zones = min(capacity.data_nodes, len(config.availability_zones)) if capacity.zone_aware else 1
        subnets = self.vpc.select_subnets(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS).subnet_ids[:zones]
        log_groups = {
            log_type: logs.LogGroup(
                self,
                "".join(part.title() for part in log_type.lower().split("_")),
                log_group_name=f"/aws/opensearch/{name}/{log_type.lower()}",
                retention=retention(config.log_retention_days),
                encryption_key=key,
                removal_policy=removal,
            )
            for log_type in _LOG_TYPES
        }
        log_policy = logs.CfnResourcePolicy(
            self,
            "OpenSearchLogsPolicy",
            policy_name=config.resource_name("opensearch-logs"),
            policy_document=cdk.Stack.of(self).to_json_string(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "es.amazonaws.com"},
                            "Action": ["logs:PutLogEvents", "logs:CreateLogStream"],
                            "Resource": [group.log_group_arn for group in log_groups.values()],
                            "Condition": {"StringEquals": {"aws:SourceAccount": config.target.account}},
                        }
                    ],
                }
            ),
        )
        domain = opensearch.CfnDomain(
            self,
            "Domain",
            domain_name=name,
            engine_version=ENGINE_VERSION,
            cluster_config=opensearch.CfnDomain.ClusterConfigProperty(
                instance_type=capacity.data_node_type,
                instance_count=capacity.data_nodes,
                dedicated_master_enabled=capacity.master_nodes > 0,
                dedicated_master_type=capacity.master_node_type,
                dedicated_master_count=capacity.master_nodes or None,
                zone_awareness_enabled=capacity.zone_aware,
                zone_awareness_config=opensearch.CfnDomain.ZoneAwarenessConfigProperty(availability_zone_count=zones)
                if capacity.zone_aware
                else None,
            ),
            ebs_options=opensearch.CfnDomain.EBSOptionsProperty(
                ebs_enabled=True, volume_type="gp3", volume_size=capacity.volume_gib
            ),
            vpc_options=opensearch.CfnDomain.VPCOptionsProperty(
                subnet_ids=subnets, security_group_ids=[self.domain_sg.security_group_id]
            ),
            encryption_at_rest_options=opensearch.CfnDomain.EncryptionAtRestOptionsProperty(
                enabled=True, kms_key_id=key.key_id
            ),
            node_to_node_encryption_options=opensearch.CfnDomain.NodeToNodeEncryptionOptionsProperty(enabled=True),
            domain_endpoint_options=opensearch.CfnDomain.DomainEndpointOptionsProperty(
                enforce_https=True, tls_security_policy=TLS_POLICY
            ),
            advanced_security_options=opensearch.CfnDomain.AdvancedSecurityOptionsInputProperty(
                enabled=True,
                internal_user_database_enabled=False,
                # The ingest function owns index templates and maps the chat/slack roles to read-only roles.
                master_user_options=opensearch.CfnDomain.MasterUserOptionsProperty(
                    master_user_arn=function_role_arn(config, "ingest")
                ),
            ),
            # The account principal delegates to IAM: only roles granted es:ESHttp* can call the domain.
            access_policies={
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": f"arn:aws:iam::{config.target.account}:root"},
                        "Action": ["es:ESHttpGet", "es:ESHttpHead", "es:ESHttpPost", "es:ESHttpPut", "es:ESHttpDelete"],
                        "Resource": f"{domain_arn(config)}/*",
                    }
                ],
            },
            log_publishing_options={
                log_type: opensearch.CfnDomain.LogPublishingOptionProperty(
                    enabled=True, cloud_watch_logs_log_group_arn=group.log_group_arn
                )
                for log_type, group in log_groups.items()
            },
        )
        domain.add_resource_dependency(log_policy)
        domain.apply_removal_policy(removal)
        acknowledge(
            domain,
            "AwsSolutions-OS3",
            "VPC-only domain: IP allowlists do not apply to private ENIs; the security group admits only "
            "Keel search clients, IAM policies and fine-grained access control do the rest",
        )
        if not capacity.master_nodes:
            acknowledge(domain, "AwsSolutions-OS4", f"{config.name} is small; dedicated masters run in prod only")
        if not capacity.zone_aware:
            acknowledge(domain, "AwsSolutions-OS7", f"{config.name} runs one data node; prod spans three zones")
        return domain
