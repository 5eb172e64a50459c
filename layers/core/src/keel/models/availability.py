"""What Bedrock itself says about a model id in a Region (ListInferenceProfiles, GetInferenceProfile,
GetFoundationModel): the live half of `keel models check`, beside the dated catalogue's offline half.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from keel.models.catalogue import Catalogue, split_model_id

_NOT_FOUND = ("ResourceNotFoundException", "ValidationException")


class BedrockAvailability:
    """Asks one Region's Bedrock control plane why an id would fail there; the client is a boto3 ``bedrock``."""

    def __init__(self, client: Any, region: str, catalogue: Catalogue | None = None) -> None:
        """``client`` must be bound to ``region``."""
        self._client = client
        self._region = region
        self._catalogue = catalogue or Catalogue()
        self._profiles: set[str] | None = None

    def problems(self, model_id: str) -> list[str]:
        """Why Bedrock would refuse ``model_id`` from this Region; empty when it is served and active."""
        geography, bare = split_model_id(model_id)
        found: list[str] = []
        if geography is not None:
            found += self._profile_problems(model_id, geography, bare)
            if found:
                return found
        try:
            details = self._client.get_foundation_model(modelIdentifier=bare)["modelDetails"]
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in _NOT_FOUND:
                return [f"{bare!r} is not offered in {self._region} (GetFoundationModel: {code})"]
            return [f"GetFoundationModel {bare!r} in {self._region} failed: {code or exc}"]
        status = str(details.get("modelLifecycle", {}).get("status", "")).upper()
        if status != "ACTIVE":
            found.append(
                f"{bare!r} is {status.lower() or 'of unknown lifecycle'} in {self._region} (GetFoundationModel)"
            )
        if geography is None and "ON_DEMAND" not in details.get("inferenceTypesSupported", []):
            found.append(
                f"{model_id!r} is a bare model id, but {self._region} serves this model only through inference "
                f"profiles (inferenceTypesSupported {details.get('inferenceTypesSupported', [])})"
            )
        return found

    def _profile_problems(self, model_id: str, geography: str, bare: str) -> list[str]:
        if model_id not in self._system_profiles():
            return [
                f"{model_id!r} is not an inference profile offered in {self._region} (ListInferenceProfiles); "
                f"the {geography} profile cannot be reached from this Region"
            ]
        try:
            profile = self._client.get_inference_profile(inferenceProfileIdentifier=model_id)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            return [f"GetInferenceProfile {model_id!r} in {self._region} failed: {code or exc}"]
        found = []
        if str(profile.get("status", "")).upper() != "ACTIVE":
            found.append(f"{model_id!r} is {profile.get('status')} in {self._region} (GetInferenceProfile)")
        routed = sorted({_arn_region(m.get("modelArn", "")) for m in profile.get("models", [])} - {""})
        spec = self._catalogue.find(model_id)
        listed = sorted(spec.profiles.get(geography, ())) if spec is not None else []
        if geography != "global" and routed and routed != listed:
            found.append(
                f"{model_id!r} routes to {', '.join(routed)} but the catalogue (and so the IAM grant) lists "
                f"{', '.join(listed) or 'nothing'}: update registry.json's profiles for {bare}"
            )
        return found

    def _system_profiles(self) -> set[str]:
        if self._profiles is None:
            ids: set[str] = set()
            token: str | None = None
            while True:
                kwargs: dict[str, Any] = {"typeEquals": "SYSTEM_DEFINED", "maxResults": 1000}
                if token:
                    kwargs["nextToken"] = token
                page = self._client.list_inference_profiles(**kwargs)
                ids |= {p["inferenceProfileId"] for p in page.get("inferenceProfileSummaries", [])}
                token = page.get("nextToken")
                if not token:
                    break
            self._profiles = ids
        return self._profiles


def _arn_region(arn: str) -> str:
    parts = arn.split(":")
    return parts[3] if len(parts) > 3 else ""
