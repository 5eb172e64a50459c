"""`keel models check`: a stage's model ids against the dated catalogue and against Bedrock's control plane.

The stage comes from a small hand-made cloud assembly; Bedrock is a loopback server speaking its REST
protocol to the real boto3 client.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from keel.cli.main import main
from keel.models.catalogue import Catalogue
from tests.integration.models.bedrock_control import BedrockControlPlane

SONNET = "anthropic.claude-sonnet-4-5-20250929-v1:0"
HAIKU = "anthropic.claude-haiku-4-5-20251001-v1:0"
EU = sorted(Catalogue().find(SONNET).profiles["eu"])  # type: ignore[union-attr]


def stage(tmp_path: Path, region: str = "eu-west-1", **models: str) -> Path:
    variables = {"KEEL_REGION": region, **{f"KEEL_MODEL_{k.upper()}": v for k, v in models.items()}}
    fn = {"Type": "AWS::Lambda::Function", "Properties": {"Environment": {"Variables": variables}}}
    folder = tmp_path / "cdk.out" / "assembly-prod"
    folder.mkdir(parents=True)
    (folder / "keel-prod-api.template.json").write_text(json.dumps({"Resources": {"Chat": fn}}))
    return tmp_path / "cdk.out"


@pytest.fixture
def bedrock() -> Iterator[tuple[str, BedrockControlPlane]]:
    plane = BedrockControlPlane(
        "eu-west-1",
        profiles={f"eu.{SONNET}": EU, f"eu.{HAIKU}": EU},
        models={
            SONNET: ("ACTIVE", ["INFERENCE_PROFILE"]),
            HAIKU: ("ACTIVE", ["INFERENCE_PROFILE"]),
            "anthropic.claude-3-haiku-20240307-v1:0": ("LEGACY", ["ON_DEMAND"]),
        },
    )
    url, server = plane.start()
    yield url, plane
    server.shutdown()


def run(cdk_out: Path, url: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["models", "check", "--stage", "prod", "--cdk-out", str(cdk_out), "--endpoint-url", url])
    return code, capsys.readouterr().out


def test_current_profiles_pass_both_checks(
    tmp_path: Path, bedrock: tuple[str, BedrockControlPlane], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = run(stage(tmp_path, primary=f"eu.{SONNET}", secondary=f"eu.{HAIKU}"), bedrock[0], capsys)
    assert code == 0, out
    assert f"ok   eu.{SONNET} from eu-west-1 (KEEL_MODEL_PRIMARY)" in out
    assert f"/inference-profiles/eu.{SONNET}" in bedrock[1].requests  # Bedrock was really asked


@pytest.mark.parametrize(
    ("model_id", "region", "message"),
    [
        ("anthropic.claude-3-haiku-20240307-v1:0", "eu-west-1", "is a legacy model"),
        (SONNET, "eu-west-1", "is a bare model id"),
        (f"eu.{SONNET}", "us-east-1", "cannot be invoked from us-east-1"),
    ],
)
def test_legacy_bare_and_unreachable_ids_fail(
    tmp_path: Path,
    bedrock: tuple[str, BedrockControlPlane],
    capsys: pytest.CaptureFixture[str],
    model_id: str,
    region: str,
    message: str,
) -> None:
    code, out = run(stage(tmp_path, region, primary=model_id), bedrock[0], capsys)
    assert code == 1
    assert f"FAIL {model_id} from {region}" in out and message in out


def test_bedrock_refuses_what_the_catalogue_allows(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # The catalogue says eu.Sonnet is served from eu-west-1, but this Region's Bedrock lists no such
    # profile, serves the model as legacy for a bare id, and routes Haiku's profile elsewhere.
    plane = BedrockControlPlane(
        "eu-west-1",
        profiles={f"eu.{HAIKU}": ["eu-central-1"]},
        models={HAIKU: ("ACTIVE", ["INFERENCE_PROFILE"]), SONNET: ("LEGACY", ["INFERENCE_PROFILE"])},
    )
    url, server = plane.start()
    try:
        code, out = run(stage(tmp_path, primary=f"eu.{SONNET}", secondary=f"eu.{HAIKU}"), url, capsys)
    finally:
        server.shutdown()
    assert code == 1
    assert "is not an inference profile offered in eu-west-1 (ListInferenceProfiles)" in out
    assert f"routes to eu-central-1 but the catalogue (and so the IAM grant) lists {', '.join(EU)}" in out


def test_offline_runs_the_catalogue_alone(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cdk_out = stage(tmp_path, primary=SONNET)
    assert main(["models", "check", "--cdk-out", str(cdk_out), "--offline"]) == 1
    out = capsys.readouterr().out
    assert "Bedrock: not asked (--offline)" in out and "bare model id" in out


def test_a_missing_assembly_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "check", "--cdk-out", str(tmp_path), "--offline"]) == 2
    assert "no assembly-prod folder; run `cdk synth` first" in capsys.readouterr().err


def test_an_unreachable_bedrock_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cdk_out = stage(tmp_path, primary=f"eu.{SONNET}")
    assert main(["models", "check", "--cdk-out", str(cdk_out), "--endpoint-url", "http://127.0.0.1:9"]) == 2
    assert "did not answer the model check" in capsys.readouterr().err
