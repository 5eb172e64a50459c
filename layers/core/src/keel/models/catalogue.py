"""The dated model catalogue (R2, R3): what each Bedrock model costs, where it runs and how it is invoked.

One file, ``registry.json``, is read by the runtime (budgets, routing, fallbacks), by the CDK stacks
(model ids per stage, the IAM grant) and by the checks that stop a deployment naming a model that
would fail on its first call: a legacy model, a bare model id where only an inference profile is
served, or a profile whose geography does not serve the stage's Region.

An id is either a model id (``amazon.titan-embed-text-v2:0``, invoked on demand in one Region) or a
cross-Region inference profile id: a geography prefix before the model id
(``eu.anthropic.claude-sonnet-4-5-20250929-v1:0``), routed to one of that geography's Regions.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from importlib import resources
from typing import Any

GEOGRAPHIES: tuple[str, ...] = ("global", "eu", "us", "apac")
ACTIVE = "active"
LEGACY = "legacy"
# The geography of a Region's own profiles: eu-west-1 -> eu. Regions of no geography use global only.
_REGION_GEOGRAPHY = {"eu": "eu", "us": "us", "ap": "apac"}


@dataclass(frozen=True)
class ModelSpec:
    """One catalogue entry: context window, prices per 1,000 tokens, owner, lifecycle, where it runs (R23).

    ``id`` is what Keel sends to Bedrock: for an entry resolved from a profile id it is the profile id.
    """

    id: str
    context_tokens: int
    input_per_1k: float
    output_per_1k: float
    owner: str
    kind: str = "text"
    lifecycle: str = ACTIVE
    tool_use: bool = True
    streaming: bool = True
    # geography -> destination Regions of that geography's profile (its source Regions too).
    profiles: Mapping[str, Sequence[str]] = field(default_factory=dict)
    on_demand_regions: Sequence[str] = ()
    price_source: str = ""

    def cost(self, input_tokens: int, output_tokens: int) -> float:
        """Estimated cost in USD of one call."""
        return round(input_tokens / 1000 * self.input_per_1k + output_tokens / 1000 * self.output_per_1k, 8)

    @property
    def model_id(self) -> str:
        """The foundation model id (the profile prefix removed)."""
        return split_model_id(self.id)[1]

    @property
    def geography(self) -> str | None:
        """The profile geography of ``id``, or None for a bare model id."""
        return split_model_id(self.id)[0]


def split_model_id(model_id: str) -> tuple[str | None, str]:
    """``eu.anthropic.x`` -> ("eu", "anthropic.x"); a bare id -> (None, id)."""
    head, dot, rest = model_id.partition(".")
    if dot and head in GEOGRAPHIES:
        return head, rest
    return None, model_id


def region_geography(region: str) -> str | None:
    """The geographic profile prefix that serves a Region (eu-west-1 -> eu), or None."""
    return _REGION_GEOGRAPHY.get(region.split("-", 1)[0])


def load_catalogue_data() -> dict[str, Any]:
    """The catalogue file shipped with the package (models, environments, routing, its date and source)."""
    text = resources.files("keel.models").joinpath("registry.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


class Catalogue:
    """Every catalogued model by model id; resolves profile ids and says why an id cannot be used."""

    def __init__(self, data: Mapping[str, Any] | None = None) -> None:
        data = data if data is not None else load_catalogue_data()
        self.meta: Mapping[str, Any] = data.get("catalogue", {})
        self._models = {m["id"]: ModelSpec(**m) for m in data["models"]}
        self._environments: Mapping[str, Sequence[str]] = data.get("environments", {})

    @property
    def prices_as_of(self) -> str:
        """The date the prices and Regions were recorded."""
        return str(self.meta.get("prices_as_of", "undated"))

    def models(self) -> list[ModelSpec]:
        """Every catalogued model (bare ids)."""
        return list(self._models.values())

    def find(self, model_id: str) -> ModelSpec | None:
        """The spec for an id or profile id (``id`` kept as given), or None when the model is not catalogued."""
        geography, bare = split_model_id(model_id)
        spec = self._models.get(bare)
        if spec is None:
            return None
        return spec if geography is None else replace(spec, id=model_id)

    def active_ids(self, region: str) -> list[str]:
        """Ids usable from a Region: profiles of its geography and global, and on-demand models there."""
        ids = []
        geography = region_geography(region)
        for spec in self._models.values():
            if spec.lifecycle != ACTIVE:
                continue
            for geo in (geography, "global"):
                if geo and region in spec.profiles.get(geo, ()):
                    ids.append(f"{geo}.{spec.id}")
            if region in spec.on_demand_regions:
                ids.append(spec.id)
        return ids

    def problems(self, model_id: str, region: str, *, environment: str | None = None) -> list[str]:
        """Why ``model_id`` would fail when invoked from ``region``; empty when it is usable.

        A legacy model, a bare id of a model served only through profiles, a profile or on-demand model
        the Region cannot reach, and (with ``environment``) a model the runtime registry does not allow there.
        """
        spec = self.find(model_id)
        if spec is None:
            return [f"{model_id!r} is not in the model catalogue; accepted from {region}: {self._accepted(region)}"]
        found = []
        if spec.lifecycle != ACTIVE:
            found.append(
                f"{model_id!r} is a {spec.lifecycle} model; choose an active one: {self._accepted(region, spec.kind)}"
            )
        geography = spec.geography
        if geography is None:
            if not spec.on_demand_regions:
                profiles = ", ".join(f"{g}.{spec.id}" for g in spec.profiles) or "none"
                found.append(
                    f"{model_id!r} is a bare model id, but this model is invoked only through an inference "
                    f'profile (a bare id fails with "on-demand throughput isn\'t supported"); use one of: {profiles}'
                )
            elif region not in spec.on_demand_regions:
                found.append(
                    f"{model_id!r} is not served on demand in {region} (served in "
                    f"{', '.join(spec.on_demand_regions)}); accepted from {region}: {self._accepted(region, spec.kind)}"
                )
        elif region not in spec.profiles.get(geography, ()):
            served = ", ".join(spec.profiles.get(geography, ())) or "no Region (no such profile)"
            found.append(
                f"{model_id!r} cannot be invoked from {region}: the {geography} profile serves {served}; "
                f"accepted from {region}: {self._accepted(region, spec.kind)}"
            )
        if environment is not None and spec.model_id not in self._environments.get(environment, ()):
            allowed = ", ".join(self._environments.get(environment, ())) or "none"
            found.append(f"{spec.model_id!r} is not allowed in environment {environment} (registry: {allowed})")
        return found

    def invoke_resources(self, model_id: str, region: str, account: str) -> list[str]:
        """The IAM resources that invoking ``model_id`` from ``region`` needs, and no more.

        A bare id: the foundation model in the Region. A profile: the profile in the Region and the
        foundation model in each destination Region; a global profile's destination is any commercial
        Region, which AWS grants as the foundation model with an empty Region.
        """
        spec = self.find(model_id)
        if spec is None:
            raise KeyError(f"{model_id!r} is not in the model catalogue")
        bare = spec.model_id
        if spec.geography is None:
            return [f"arn:aws:bedrock:{region}::foundation-model/{bare}"]
        arns = [f"arn:aws:bedrock:{region}:{account}:inference-profile/{model_id}"]
        if spec.geography == "global":
            arns += [f"arn:aws:bedrock:{region}::foundation-model/{bare}", f"arn:aws:bedrock:::foundation-model/{bare}"]
        else:
            arns += [f"arn:aws:bedrock:{r}::foundation-model/{bare}" for r in sorted(spec.profiles[spec.geography])]
        return arns

    def _accepted(self, region: str, kind: str | None = None) -> str:
        ids = [i for i in self.active_ids(region) if kind is None or self._models[split_model_id(i)[1]].kind == kind]
        return ", ".join(ids) or "none"
