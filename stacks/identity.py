"""Identity stack: the workforce pool federated to the corporate IdP and a separate customer pool (R4, R5)."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_cognito as cognito
from constructs import Construct

from stacks.config import StageConfig
from stacks.constructs.nag import acknowledge
from stacks.secrets import secret_name

_CUSTOM_ATTRIBUTES = ("groups", "department")
# Guests carry their tenant (keel.channels.guests sets custom:tenant) and join this group.
CUSTOMER_ATTRIBUTES = ("tenant",)
GUEST_GROUP = "customers"
CUSTOMER_WRITABLE = cognito.ClientAttributes().with_standard_attributes(
    email=True, fullname=True, given_name=True, family_name=True, locale=True
)
# Cognito writes IdP-mapped attributes through the client the user signs in with, so a federating client
# must be allowed to write them. No workforce client issues tokens with the aws.cognito.signin.user.admin
# scope (OAuth only, no password or SRP flows), so no user can call UpdateUserAttributes with them.
WORKFORCE_MAPPED = (
    cognito.ClientAttributes().with_standard_attributes(email=True).with_custom_attributes(*_CUSTOM_ATTRIBUTES)
)


class IdentityStack(cdk.Stack):
    """Cognito brokers SSO; Keel never stores a workforce password."""

    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig, **kwargs: object) -> None:
        """Create the workforce pool with SAML/OIDC providers and its clients, then the customer pool."""
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        removal = cdk.RemovalPolicy.RETAIN if config.retain_data else cdk.RemovalPolicy.DESTROY
        self.workforce_pool = self._pool("Workforce", config, removal, self_sign_up=False)
        self.workforce_pool.add_domain(
            "Domain", cognito_domain=cognito.CognitoDomainOptions(domain_prefix=config.auth_domain_prefix)
        )
        providers = self._federate(config)
        self.web_client = self._client("Web", config, providers, generate_secret=False)
        self.widget_client = self._client("Widget", config, providers, generate_secret=False)
        # Slack account linking runs server-side, so that client is confidential.
        self.slack_client = self._client("Slack", config, providers, generate_secret=True)

        self.customer_pool = self._pool("Customer", config, removal, self_sign_up=True, extra=CUSTOMER_ATTRIBUTES)
        acknowledge(
            self.customer_pool,
            "AwsSolutions-COG2",
            "Website customers may enrol TOTP (optional MFA); forcing MFA would block anonymous-visitor support",
        )
        self.customer_widget_client = self.customer_pool.add_client(
            "CustomerWidgetClient",
            user_pool_client_name=config.resource_name("customer-widget"),
            generate_secret=False,
            # Self sign-up lets anyone call SignUp and UpdateUserAttributes through this client: it may write
            # standard profile attributes only, never custom:* (Keel trusts none of a customer's claims anyway).
            read_attributes=CUSTOMER_WRITABLE.with_standard_attributes(email_verified=True),
            write_attributes=CUSTOMER_WRITABLE,
            # ADMIN_USER_PASSWORD_AUTH only from the guest-session function's role (AdminInitiateAuth is
            # an IAM-authorised call); browsers use SRP.
            auth_flows=cognito.AuthFlow(user_srp=True, admin_user_password=True),
            access_token_validity=cdk.Duration.minutes(config.access_token_minutes),
            id_token_validity=cdk.Duration.minutes(config.access_token_minutes),
            refresh_token_validity=cdk.Duration.hours(config.refresh_token_hours),
            enable_token_revocation=True,
            prevent_user_existence_errors=True,
        )
        cognito.CfnUserPoolGroup(
            self,
            "GuestGroup",
            user_pool_id=self.customer_pool.user_pool_id,
            group_name=GUEST_GROUP,
            description="Anonymous website visitors (guest sessions); customer policies apply",
        )

    def _pool(
        self,
        kind: str,
        config: StageConfig,
        removal: cdk.RemovalPolicy,
        *,
        self_sign_up: bool,
        extra: tuple[str, ...] = (),
    ) -> cognito.UserPool:
        return cognito.UserPool(
            self,
            f"{kind}Pool",
            user_pool_name=config.resource_name(kind.lower()),
            self_sign_up_enabled=self_sign_up,
            sign_in_aliases=cognito.SignInAliases(email=True, username=False),
            auto_verify=cognito.AutoVerifiedAttrs(email=True),
            custom_attributes={
                name: cognito.StringAttribute(min_len=0, max_len=2048, mutable=True)
                for name in (*_CUSTOM_ATTRIBUTES, *extra)
            },
            password_policy=cognito.PasswordPolicy(
                min_length=14,
                require_digits=True,
                require_lowercase=True,
                require_uppercase=True,
                require_symbols=True,
                temp_password_validity=cdk.Duration.days(1),
            ),
            mfa=cognito.Mfa.OPTIONAL if self_sign_up else cognito.Mfa.REQUIRED,
            mfa_second_factor=cognito.MfaSecondFactor(otp=True, sms=False),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            feature_plan=cognito.FeaturePlan.PLUS,
            standard_threat_protection_mode=cognito.StandardThreatProtectionMode.FULL_FUNCTION,
            deletion_protection=config.is_production,
            removal_policy=removal,
        )

    def _federate(self, config: StageConfig) -> list[cognito.UserPoolClientIdentityProvider]:
        fed = config.federation
        providers: list[cognito.UserPoolClientIdentityProvider] = []
        groups = f"custom:{_CUSTOM_ATTRIBUTES[0]}"
        department = f"custom:{_CUSTOM_ATTRIBUTES[1]}"
        if fed.saml_metadata_url and fed.saml_provider_name:
            saml = cognito.UserPoolIdentityProviderSaml(
                self,
                "Saml",
                user_pool=self.workforce_pool,
                name=fed.saml_provider_name,
                metadata=cognito.UserPoolIdentityProviderSamlMetadata.url(fed.saml_metadata_url),
                idp_signout=True,
                attribute_mapping=cognito.AttributeMapping(
                    email=cognito.ProviderAttribute.other(fed.saml_email_claim),
                    custom={
                        groups: cognito.ProviderAttribute.other(fed.groups_claim),
                        department: cognito.ProviderAttribute.other(fed.department_claim),
                    },
                ),
            )
            providers.append(cognito.UserPoolClientIdentityProvider.custom(saml.provider_name))
        if fed.oidc_issuer_url and fed.oidc_provider_name and fed.oidc_client_id:
            # A dynamic reference: CloudFormation reads the secret at deploy time, it never enters the template.
            client_secret = cdk.SecretValue.secrets_manager(
                secret_name(config, "idp-oidc-client"), json_field="client_secret"
            ).unsafe_unwrap()
            oidc = cognito.UserPoolIdentityProviderOidc(
                self,
                "Oidc",
                user_pool=self.workforce_pool,
                name=fed.oidc_provider_name,
                client_id=fed.oidc_client_id,
                client_secret=client_secret,
                issuer_url=fed.oidc_issuer_url,
                scopes=["openid", "email", "profile"],
                attribute_request_method=cognito.OidcAttributeRequestMethod.GET,
                attribute_mapping=cognito.AttributeMapping(
                    email=cognito.ProviderAttribute.other("email"),
                    custom={
                        groups: cognito.ProviderAttribute.other(fed.groups_claim),
                        department: cognito.ProviderAttribute.other(fed.department_claim),
                    },
                ),
            )
            providers.append(cognito.UserPoolClientIdentityProvider.custom(oidc.provider_name))
        return providers

    def _client(
        self,
        kind: str,
        config: StageConfig,
        providers: list[cognito.UserPoolClientIdentityProvider],
        *,
        generate_secret: bool,
    ) -> cognito.UserPoolClient:
        client = self.workforce_pool.add_client(
            f"{kind}Client",
            user_pool_client_name=config.resource_name(kind.lower()),
            generate_secret=generate_secret,
            supported_identity_providers=providers,
            o_auth=cognito.OAuthSettings(
                flows=cognito.OAuthFlows(authorization_code_grant=True),
                scopes=[cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL, cognito.OAuthScope.PROFILE],
                callback_urls=list(config.callback_urls),
                logout_urls=list(config.callback_urls),
            ),
            # Federated sign-in only: no password flows on workforce clients.
            auth_flows=cognito.AuthFlow(user_srp=False, user_password=False, admin_user_password=False),
            read_attributes=WORKFORCE_MAPPED.with_standard_attributes(email_verified=True),
            write_attributes=WORKFORCE_MAPPED,
            access_token_validity=cdk.Duration.minutes(config.access_token_minutes),
            id_token_validity=cdk.Duration.minutes(config.access_token_minutes),
            refresh_token_validity=cdk.Duration.hours(config.refresh_token_hours),
            enable_token_revocation=True,
            prevent_user_existence_errors=True,
        )
        # Providers must exist before a client can name them.
        for child in self.node.children:
            if isinstance(child, cognito.UserPoolIdentityProviderSaml | cognito.UserPoolIdentityProviderOidc):
                client.node.add_dependency(child)
        return client
