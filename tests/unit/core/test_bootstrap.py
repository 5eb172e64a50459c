"""The composition root picks the in-process NLP locally and the managed services in AWS."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

from keel.bootstrap import AwsClients, build_guardrails, build_masker
from keel.guardrails.bedrock import BedrockGuardrail
from keel.privacy.comprehend import ComprehendNameFinder
from keel.settings import load_settings
from tests.conftest import REPO_ROOT
from tests.fakes.settings import environment


class NoNetworkClients(AwsClients):
    """Clients that are made but never called (no socket is opened in these tests)."""

    def __init__(self) -> None:
        super().__init__(region="us-east-1", endpoint_url="http://127.0.0.1:9")


def test_in_aws_names_go_to_comprehend_and_toxicity_to_the_bedrock_guardrail() -> None:
    settings = load_settings(environment())
    masker: Any = build_masker(settings, NoNetworkClients())
    assert isinstance(masker._ner, ComprehendNameFinder)
    guardrails = build_guardrails(settings, NoNetworkClients())
    toxicity = guardrails.output._toxicity
    assert toxicity.__name__ == "toxicity" and isinstance(toxicity.__self__, BedrockGuardrail)


def test_locally_names_and_toxicity_run_in_process() -> None:
    settings = load_settings(environment(environment="local"))
    masker: Any = build_masker(settings, NoNetworkClients())
    assert masker._ner is None  # spaCy loads lazily on first use
    assert build_guardrails(settings, NoNetworkClients()).output._toxicity.__name__ == "_default_toxicity"


def test_bare_places_stay_readable_unless_the_deployment_masks_them() -> None:
    assert build_masker(load_settings(environment()), NoNetworkClients()).places is False
    masker = build_masker(load_settings(environment(pii_mask_places="true")), NoNetworkClients())
    assert masker.places is True
    local = build_masker(load_settings(environment(environment="local", pii_mask_places="true")), NoNetworkClients())
    assert local.places is True


def test_warm_models_loads_the_local_models_once() -> None:
    # In a fresh interpreter: loading spaCy here would break tests that check fast mode never imports it.
    code = """
from keel.bootstrap import AwsClients, warm_models
from keel.guardrails.classifier import default_classifier
from keel.privacy import ner
from keel.settings import load_settings
from tests.fakes.settings import environment

settings = load_settings(environment(environment="local"))
clients = AwsClients(region="us-east-1", endpoint_url="http://127.0.0.1:9")
assert not ner._analyzer.built
warm_models(settings, clients)
from keel.escalation.heads import packaged_heads

assert ner._analyzer.built and default_classifier.built and packaged_heads.built
loaded = ner._analyzer()
warm_models(settings, clients)
assert ner._analyzer() is loaded
print("ok")
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO_ROOT, check=False)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]


def test_the_guard_second_opinion_is_off_by_default_and_never_local() -> None:
    assert build_guardrails(load_settings(environment()), NoNetworkClients()).input.second_opinion is None
    local = load_settings(environment(environment="local", guard_second_opinion="true"))
    assert build_guardrails(local, NoNetworkClients()).input.second_opinion is None


def test_in_aws_the_guard_second_opinion_is_the_small_model_under_a_deadline() -> None:
    from keel.guardrails.second_opinion import BedrockSecondOpinion
    from keel.models.registry import ModelRegistry

    settings = load_settings(
        environment(
            guard_second_opinion="true",
            guard_second_opinion_timeout_ms="800",
            model_primary="anthropic.claude-haiku-4-5-20251001-v1:0",
            model_secondary="amazon.nova-lite-v1:0",
            model_small="amazon.nova-micro-v1:0",
        )
    )
    judge: Any = build_guardrails(settings, NoNetworkClients()).input.second_opinion
    assert isinstance(judge, BedrockSecondOpinion)
    assert judge._spec == ModelRegistry.from_settings(settings).small
    assert judge._timeout == 0.8


def test_the_screens_per_bot_policies_follow_the_tenant_rather_than_a_copy_made_at_start() -> None:
    from keel.tenant.derived import PerBot

    guardrails = build_guardrails(load_settings(environment(environment="local")), NoNetworkClients())
    assert isinstance(guardrails.input.bot_policies, PerBot)
    assert dict(guardrails.input.bot_policies) == dict(guardrails.input.bot_policies.current())


def test_the_actions_each_bot_offers_follow_the_tenant_rather_than_a_copy_made_at_start(monkeypatch: Any) -> None:
    import copy

    from keel import bootstrap
    from keel.tenant.appconfig import AppConfigTenant
    from tests.unit.tenant.test_appconfig import DOCUMENT, Deployments

    served = Deployments(copy.deepcopy(DOCUMENT))
    monkeypatch.setattr(bootstrap, "build_tenant_source", lambda settings: AppConfigTenant(served, source="t").current)
    settings = load_settings(environment(environment="local", actions_enabled="true"))
    planner = bootstrap.build_actions(settings, NoNetworkClients(), access=None, router=None, trail=None)
    assert planner.registry.for_bot("hr") == []
    offering = copy.deepcopy(DOCUMENT)
    offering["tenant"]["actions"] = {"cloud": ["hr"]}
    served.document = offering
    assert planner.registry.for_bot("hr")
