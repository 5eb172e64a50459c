"""The tenant's IdP group mapping: internal principals get the Keel groups their IdP values mean."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from keel.access.pdp import PolicyDecisionPoint
from keel.access.scope import scope_for
from keel.identity.groups import MappedGroups
from keel.identity.principal import Principal
from keel.tenant.loader import load_tenant

LAKESIDE = load_tenant(Path(__file__).resolve().parents[3] / "examples" / "lakeside-health")


@dataclass(frozen=True)
class Verified:
    claims: dict[str, Any]
    principal: Principal


@dataclass
class Issuer:
    """Stands in for the token authenticator: the principal a token verifies to."""

    principals: dict[str, Principal] = field(default_factory=dict)

    def authenticate(self, token: str) -> Principal:
        return self.principals[token]

    def identify(self, token: str) -> Verified:
        return Verified({"sub": token}, self.principals[token])

    def authenticate_high_assurance(self, token: str) -> Principal:
        return self.principals[token]

    def session(self, token: str) -> tuple[Principal, dict[str, Any]]:
        return self.principals[token], {"sub": token}

    def resume(self, claims: dict[str, Any]) -> Principal:
        return self.principals[claims["sub"]]


DOCTOR = Principal("sub-d", "dr", frozenset({"SG-Aerzte", "SG-Mitarbeitende"}), "lakeside")
PATIENT = Principal("sub-p", "pia", frozenset({"SG-Aerzte"}), "lakeside", external=True)


def test_idp_values_become_the_tenants_groups_and_unmapped_ones_stay() -> None:
    assert LAKESIDE.map_groups({"SG-Aerzte", "SG-Pflege", "other"}) == {"clinicians", "nursing", "other"}


def test_an_internal_principal_is_mapped_on_every_path() -> None:
    auth = MappedGroups(Issuer({"t": DOCTOR}), lambda: LAKESIDE.map_groups)
    assert auth.authenticate("t").groups == {"clinicians", "staff"}
    assert auth.identify("t").principal.groups == {"clinicians", "staff"}
    assert auth.identify("t").claims == {"sub": "t"}
    assert auth.authenticate_high_assurance("t").groups == {"clinicians", "staff"}
    principal, claims = auth.session("t")
    assert principal.groups == {"clinicians", "staff"} and auth.resume(claims).groups == {"clinicians", "staff"}
    # The mapped doctor reaches the ward assistant and its confidential clinical guidelines.
    scope = scope_for(auth.authenticate("t"), "ward-assistant", PolicyDecisionPoint.for_tenant(LAKESIDE))
    assert "confidential" in dict(scope.department_classifications or ())["clinical"]


def test_an_external_principal_is_never_mapped() -> None:
    auth = MappedGroups(Issuer({"p": PATIENT}), lambda: LAKESIDE.map_groups)
    assert auth.authenticate("p").groups == {"SG-Aerzte"}


def test_a_bot_without_its_own_prompt_gets_keels_default_and_a_tenant_prompt_wins(tmp_path: Path) -> None:
    from keel.models.prompt_library import PromptLibrary

    library = PromptLibrary(tenant=LAKESIDE.prompts_dir())
    text, label = library.system_prompt("ward-assistant")
    assert label == "default/v1" and "Answer only from the sources" in text
    own = tmp_path / "ward-assistant"
    own.mkdir()
    header = "---\nversion: 2\nowner: clinical-governance\napproved_by: board\napproved_at: 2026-12-01\n---\n"
    (own / "v2.md").write_text(header + "You are the ward assistant. Answer only from the sources.\n")
    assert PromptLibrary(tenant=tmp_path).system_prompt("ward-assistant")[1] == "ward-assistant/v2"
