"""Every stage invokes active, current models the way Bedrock serves them, and IAM grants exactly that."""

from __future__ import annotations

import json
from typing import Any

from keel.models.catalogue import ACTIVE, Catalogue, split_model_id
from tests.infra.conftest import Synthesized
from tests.infra.test_wiring import TURN_FUNCTIONS, _functions, function_grants

INVOKE = ("bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream")


def _invoke_resources(s: Synthesized, name: str) -> set[str]:
    found: set[str] = set()
    for action, statement in function_grants(s)[name]:
        if action in INVOKE:
            resources = statement["Resource"]
            found |= set(resources if isinstance(resources, list) else [resources])
    return found


def _environment_models(s: Synthesized) -> set[str]:
    ids: set[str] = set()
    for _, _, fn in _functions(s).values():
        variables: dict[str, Any] = fn["Properties"].get("Environment", {}).get("Variables", {})
        ids |= {v for k, v in variables.items() if k.startswith("KEEL_MODEL_")}
    return ids


def test_every_text_model_of_every_stage_is_a_profile_of_an_active_model(synthesized: Synthesized) -> None:
    catalogue, config = Catalogue(), synthesized.config
    text_ids = _environment_models(synthesized)
    assert text_ids == {config.models.primary, config.models.secondary, config.models.small}
    for model_id in text_ids:
        geography, _ = split_model_id(model_id)
        spec = catalogue.find(model_id)
        assert geography is not None, f"{model_id} is a bare id; stages invoke text models through profiles"
        assert spec is not None and spec.lifecycle == ACTIVE, model_id
        assert config.target.region in spec.profiles[geography], model_id
    embedding = catalogue.find(config.models.embedding)
    assert embedding is not None and embedding.lifecycle == ACTIVE
    assert config.target.region in embedding.on_demand_regions


def test_the_turn_may_invoke_exactly_its_profiles_and_their_foundation_models(synthesized: Synthesized) -> None:
    config = synthesized.config
    region, account = config.target.region, config.target.account
    expected = set(config.model_resources(config.models.all_ids()))
    for name in TURN_FUNCTIONS:
        granted = _invoke_resources(synthesized, name)
        assert granted == expected, name
    for model_id in (config.models.primary, config.models.secondary, config.models.small):
        geography, bare = split_model_id(model_id)
        assert f"arn:aws:bedrock:{region}:{account}:inference-profile/{model_id}" in expected
        spec = Catalogue().find(model_id)
        assert spec is not None and geography is not None
        for destination in spec.profiles[geography]:
            assert f"arn:aws:bedrock:{destination}::foundation-model/{bare}" in expected
    # Only the embedding model, in the stage's Region, for ingest; no other function invokes a model.
    assert _invoke_resources(synthesized, "ingest") == {
        f"arn:aws:bedrock:{region}::foundation-model/{config.models.embedding}"
    }
    others = set(_functions(synthesized)) - {*TURN_FUNCTIONS, "ingest"}
    assert all(not _invoke_resources(synthesized, name) for name in others)


def test_only_ingest_carries_the_ingest_layer_and_it_is_its_own_asset(dev: Synthesized) -> None:
    layers = {k: r for k, (_, r) in dev.resources("AWS::Lambda::LayerVersion").items()}
    ingest_layers = [k for k, r in layers.items() if "for ingest only" in r["Properties"]["Description"]]
    assert len(ingest_layers) == 1
    keys = {json.dumps(r["Properties"]["Content"]) for r in layers.values()}
    assert len(keys) == 2  # one core asset (shared by the per-stack layers) and the ingest asset
    core_layers = [k.split("/", 1)[1] for k in layers if k not in ingest_layers]
    for name, (_, _, fn) in _functions(dev).items():
        attached = json.dumps(fn["Properties"]["Layers"])
        assert len(fn["Properties"]["Layers"]) == 1, name
        assert (ingest_layers[0].split("/", 1)[1] in attached) == (name == "ingest"), name
        assert any(core in attached for core in core_layers) == (name != "ingest"), name
