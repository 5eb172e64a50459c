"""The composition root picks the in-process NLP locally and the managed services in AWS."""

from __future__ import annotations

from typing import Any

from keel.bootstrap import AwsClients, build_guardrails, build_masker, warm_models
from keel.privacy.comprehend import ComprehendNameFinder
from keel.settings import load_settings
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
    assert guardrails.output._toxicity.__name__ == "<lambda>"


def test_locally_names_and_toxicity_run_in_process() -> None:
    settings = load_settings(environment(environment="local"))
    masker: Any = build_masker(settings, NoNetworkClients())
    assert masker._ner is None  # spaCy loads lazily on first use
    assert build_guardrails(settings, NoNetworkClients()).output._toxicity.__name__ == "_default_toxicity"


def test_warm_models_loads_the_local_models_once() -> None:
    from keel.guardrails.classifier import default_classifier
    from keel.privacy import ner

    settings = load_settings(environment(environment="local"))
    seconds = warm_models(settings, NoNetworkClients())
    assert seconds >= 0.0
    assert ner._analyzer.built and default_classifier.built
    loaded = ner._analyzer()
    warm_models(settings, NoNetworkClients())
    assert ner._analyzer() is loaded  # a second warm-up reuses the loaded pipeline
