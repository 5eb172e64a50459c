"""`keel tenant validate`: every refusal names the problem and what is accepted; a valid tenant passes."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from keel.cli.main import main
from keel.tenant.loader import TenantInvalid, default_tenant_dir, load_tenant

LAKESIDE = Path(__file__).resolve().parents[3] / "examples" / "lakeside-health"

BASE: dict[str, Any] = {
    "name": "Northwind Bank",
    "collections": [{"id": "hr", "audience": "internal"}, {"id": "help", "audience": "external"}],
    "bots": [
        {
            "id": "hr",
            "name": "HR assistant",
            "audience": "internal",
            "collections": ["hr"],
            "allowed_groups": ["all-staff"],
            "owner": "hr-systems@northwind.example",
        },
        {
            "id": "help",
            "name": "Help",
            "audience": "external",
            "collections": ["help"],
            "owner": "web@northwind.example",
        },
    ],
    "access": [
        {"collection": "hr", "classification": "confidential", "groups": ["hr", "hr-managers"]},
        {"collection": "hr", "classification": "restricted", "groups": ["payroll"]},
    ],
}


def write(tmp_path: Path, data: Any, policies: dict[str, str] | None = None) -> Path:
    folder = tmp_path / "tenant"
    folder.mkdir(exist_ok=True)
    (folder / "tenant.yaml").write_text(yaml.safe_dump(data) if not isinstance(data, str) else data)
    for name, text in (policies or {}).items():
        (folder / "policies").mkdir(exist_ok=True)
        (folder / "policies" / name).write_text(text)
    return folder


def changed(edit: Any) -> dict[str, Any]:
    data = copy.deepcopy(BASE)
    edit(data)
    return data


def problems_of(tmp_path: Path, data: Any, policies: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(TenantInvalid) as caught:
        load_tenant(write(tmp_path, data, policies))
    return caught.value.problems


def test_the_issue_example_tenant_is_accepted(tmp_path: Path) -> None:
    tenant = load_tenant(write(tmp_path, BASE))
    assert tenant.name == "Northwind Bank"
    assert tenant.collections == {"hr": "internal", "help": "external"}
    assert 'principal in Keel::Group::"hr-managers"' in tenant.grant_policies()


@pytest.mark.parametrize("folder", [default_tenant_dir(), LAKESIDE], ids=["acme", "lakeside"])
def test_both_example_tenants_are_valid(folder: Path) -> None:
    tenant = load_tenant(folder)
    assert tenant.spec.bots and tenant.users_file() and tenant.docs_dir()


REFUSALS: list[tuple[str, Any, str]] = [
    (
        "bot-reads-unknown-collection",
        lambda d: d["bots"][0]["collections"].append("legal"),
        "bot 'hr' reads unknown collection 'legal'; accepted: help, hr",
    ),
    (
        "collection-in-two-audiences",
        lambda d: d["collections"].append({"id": "hr", "audience": "external"}),
        "collection 'hr' is in two audiences",
    ),
    (
        "grant-to-unknown-classification",
        lambda d: d["access"].append({"collection": "hr", "classification": "secret", "groups": ["hr"]}),
        "access.2.classification: got 'secret'; accepted: 'public', 'internal', 'confidential' or 'restricted'",
    ),
    ("bot-without-owner", lambda d: d["bots"][0].pop("owner"), "bots.0.owner: is required"),
    ("bot-defined-twice", lambda d: d["bots"].append(copy.deepcopy(d["bots"][0])), "bot id 'hr' is defined 2 times"),
    (
        "external-bot-reads-internal-collection",
        lambda d: d["bots"][1]["collections"].append("hr"),
        "external bot 'help' reads internal collection 'hr'",
    ),
    (
        "grant-on-unknown-collection",
        lambda d: d["access"].append({"collection": "legal", "classification": "confidential", "groups": ["x"]}),
        "grant on unknown collection 'legal'",
    ),
    (
        "confidential-grant-on-external-collection",
        lambda d: d["access"].append({"collection": "help", "classification": "confidential", "groups": ["x"]}),
        "external collections hold public documents only",
    ),
    (
        "same-grant-twice",
        lambda d: d["access"].append({"collection": "hr", "classification": "restricted", "groups": ["hr"]}),
        "restricted of 'hr' is granted 2 times",
    ),
    (
        "group-name-with-a-quote",
        lambda d: d["access"][0]["groups"].append('hr" || true'),
        "invalid group name(s)",
    ),
    (
        "internal-bot-without-allowed-groups",
        lambda d: d["bots"][0].pop("allowed_groups"),
        "internal bot 'hr' has no allowed_groups",
    ),
    (
        "agent-queue-for-unknown-bot",
        lambda d: d.update(escalation={"agent_queues": [{"group": "support-agents", "bots": ["sales"]}]}),
        "group 'support-agents' is assigned unknown bot 'sales'",
    ),
    ("action-for-unknown-bot", lambda d: d.update(actions={"cloud": ["it"]}), "actions.cloud names unknown bot 'it'"),
    ("misspelt-key", lambda d: d.update(colections=[]), "colections: unknown key"),
    (
        "support-resource-without-contact",
        lambda d: d["bots"][0].update(escalation={"support_resources": [{"name": "EAP"}]}),
        "bot 'hr': invalid escalation settings",
    ),
    (
        "guardrail-threshold-out-of-range",
        lambda d: d["bots"][0].update(guardrails={"flag_threshold": 0.9, "block_threshold": 0.5}),
        "bot 'hr': invalid guardrails settings",
    ),
    (
        "guardrail-action-for-an-unknown-category",
        lambda d: d["bots"][1].update(guardrails={"actions": {"jailbrak": "flag"}}),
        "actions name unknown categories jailbrak",
    ),
    (
        "misspelt-guardrail-setting",
        lambda d: d["bots"][0].update(guardrails={"flag": 0.4}),
        "unknown guardrails setting(s) flag",
    ),
    ("no-collections", lambda d: d.pop("collections"), "collections: is required"),
    ("bad-bot-audience", lambda d: d["bots"][0].update(audience="partners"), "accepted: 'internal' or 'external'"),
]


@pytest.mark.parametrize(("edit", "expected"), [(e, m) for _, e, m in REFUSALS], ids=[i for i, _, _ in REFUSALS])
def test_each_refusal_names_the_problem(tmp_path: Path, edit: Any, expected: str) -> None:
    problems = problems_of(tmp_path, changed(edit))
    assert any(expected in p for p in problems), problems


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    def edit(d: dict[str, Any]) -> None:
        d["bots"][0]["collections"].append("legal")
        d["access"].append({"collection": "legal", "classification": "confidential", "groups": ["x"]})
        d["bots"][1]["collections"].append("hr")

    assert len(problems_of(tmp_path, changed(edit))) == 3


def test_a_cedar_policy_that_fails_the_schema_is_refused(tmp_path: Path) -> None:
    typo = '@id("t")\npermit (principal, action == Keel::Action::"use", resource) when { resource.audiense == "x" };\n'
    problems = problems_of(tmp_path, BASE, {"extra.cedar": typo})
    assert any("policies/extra.cedar fails Cedar schema validation" in p for p in problems), problems


def test_a_policy_that_reuses_a_base_id_is_refused(tmp_path: Path) -> None:
    clash = (
        '@id("data.external-never-internal")\n'
        'permit (principal, action == Keel::Action::"use", resource) when { resource.audience == "external" };\n'
    )
    problems = problems_of(tmp_path, BASE, {"clash.cedar": clash})
    assert any("reuses base policy id(s) ['data.external-never-internal']" in p for p in problems), problems


def test_a_prompt_folder_for_an_unknown_bot_is_refused(tmp_path: Path) -> None:
    folder = write(tmp_path, BASE)
    (folder / "prompts" / "sales").mkdir(parents=True)
    with pytest.raises(TenantInvalid, match="prompts/sales names no bot"):
        load_tenant(folder)


@pytest.mark.parametrize(
    ("content", "expected"),
    [("name: [unclosed", "not valid YAML"), ("- a list", "must be a mapping")],
    ids=["not-yaml", "not-a-mapping"],
)
def test_unreadable_tenant_files_are_refused(tmp_path: Path, content: str, expected: str) -> None:
    assert any(expected in p for p in problems_of(tmp_path, content))


def test_a_folder_without_tenant_yaml_is_refused(tmp_path: Path) -> None:
    with pytest.raises(TenantInvalid, match=r"no tenant\.yaml"):
        load_tenant(tmp_path)
    with pytest.raises(TenantInvalid, match="is not a folder"):
        load_tenant(tmp_path / "absent")


def test_cli_validate_exits_two_listing_every_problem(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = write(tmp_path, changed(lambda d: d["bots"][0]["collections"].append("legal")))
    assert main(["tenant", "validate", str(folder)]) == 2
    err = capsys.readouterr().err
    assert "1 problem(s)" in err and "unknown collection 'legal'" in err
    assert main(["tenant", "validate", str(folder), "--json"]) == 2
    assert json.loads(capsys.readouterr().out)["valid"] is False


def test_cli_validate_exits_zero_for_a_valid_tenant(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tenant", "validate", str(write(tmp_path, BASE))]) == 0
    assert "is valid: 2 collections, 2 bots, 2 grants" in capsys.readouterr().out


def test_cli_show_prints_who_may_read_what(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tenant", "show", str(write(tmp_path, BASE)), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["access"]
    readers = {(r["collection"], r["classification"]): r["readers"] for r in rows}
    assert readers[("hr", "confidential")] == ["hr", "hr-managers"]
    assert readers[("hr", "restricted")] == ["payroll"]
    assert readers[("help", "internal")] == []
    assert main(["tenant", "show", str(LAKESIDE)]) == 0
    table = capsys.readouterr().out
    assert "pharmacy" in table and "pharmacists" in table and "ward-assistant" in table


def test_the_appconfig_schema_is_current_and_accepts_the_examples(capsys: pytest.CaptureFixture[str]) -> None:
    import jsonschema

    root = Path(__file__).resolve().parents[3]
    assert main(["tenant", "schema", "--check", "--output", str(root / "docs" / "tenant.schema.json")]) == 0
    schema = json.loads((root / "docs" / "tenant.schema.json").read_text())
    validator = jsonschema.Draft4Validator(schema)
    for folder in (default_tenant_dir(), LAKESIDE):
        validator.validate({"tenant": yaml.safe_load((folder / "tenant.yaml").read_text()), "policies": {}})
    # AppConfig refuses a deployment whose document misspells a key, before any function sees it.
    broken = {"tenant": {**BASE, "colections": []}, "policies": {}}
    assert not validator.is_valid(broken)


def test_a_stale_schema_file_is_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stale = tmp_path / "tenant.schema.json"
    stale.write_text("{}\n")
    assert main(["tenant", "schema", "--check", "--output", str(stale)]) == 1
    assert "differs" in capsys.readouterr().err
