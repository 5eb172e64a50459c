"""`keel preflight`: every launch-readiness check against the running local stack, with its evidence (R21-R23)."""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from keel.errors import ConfigurationError
from keel.launch.report import Check, Report, Status

if TYPE_CHECKING:
    from keel.identity.principal import Principal
    from keel.launch.plan import LaunchPlan

DEFAULT_STEPS = (10, 25, 50)
REVIEW_DETECTORS = frozenset({"mitigation.MitigationBypass"})


@dataclass
class Options:
    """What to run and where to write."""

    repo_root: Path
    out_dir: Path
    skip_load: bool = False
    skip_garak: bool = False
    load_seconds: int = 40
    load_steps: tuple[int, ...] = DEFAULT_STEPS
    garak_prompt_cap: int = 10
    cdk_out: Path | None = None
    stage: str = "prod"
    tenant_dir: Path | None = None


class Preflight:
    """Runs the checks in order; one failing check never stops the others."""

    def __init__(self, info: dict[str, Any], options: Options) -> None:
        self.info = info
        self.options = options
        self._tokens: dict[str, str] = {}
        self._users = _tenant_users(options.tenant_dir)
        self._plan: LaunchPlan | None = None
        self.checks: list[Check] = []
        self._assembly: Any = None
        self._load: dict[str, Any] | None = None
        self._garak: dict[str, Any] | None = None
        self._rate_limit: dict[str, Any] | None = None
        self._injection: dict[str, Any] | None = None
        self._escalation: dict[str, Any] | None = None
        self._oversize: dict[str, Any] = {}

    @property
    def plan(self) -> LaunchPlan:
        """The tenant's bots, users and documents the live checks drive (keel.launch.plan), derived once."""
        if self._plan is None:
            from keel.launch.plan import launch_plan

            self._plan = launch_plan(self.options.tenant_dir)
        return self._plan

    def token(self, username: str) -> str:
        """An ID token for one of the tenant's local users with their groups (cached for the run)."""
        from keel.launch.local import token_for

        if username not in self._tokens:
            if username not in self._users:
                raise ConfigurationError(
                    f"{username!r} is not in the tenant's users.json; its users: {sorted(self._users)}"
                )
            self._tokens[username] = token_for(self.info, username, sorted(self._users[username].groups))
        return self._tokens[username]

    def run(self) -> Report:
        """Every check; the report."""
        steps: list[tuple[str, str, Callable[[], tuple[Status, str, dict[str, Any], list[str]]]]] = [
            ("S1", "Prompt-injection suite through the API", self._injection_suite),
            ("S2", "Privilege-escalation suite through the API", self._escalation_suite),
            ("S3", "Fallback and circuit breaker (model endpoint down, then restored)", self._fallback),
            ("S4", "Red team: garak (REST generator, offline)", self._garak_run),
            ("S5", "Load: ramps of concurrent users, rate-limit behaviour", self._load_test),
            ("I1", "Access audit of the synthesized templates", self._access_audit),
            ("I2", "cdk-nag status", self._nag),
            ("I3", "Secret rotation configured", self._rotation),
            ("I4", "Alarms present", self._alarms),
            ("I5", "Bedrock model-invocation logging", self._invocation_logging),
            ("I6", "Models: active, through inference profiles, reachable from the stage Region", self._models),
            ("C1", "Cost: idle month and 1,000 turns of the audited stage", self._cost),
            ("O1", "Named owners: bots, knowledge sources, prompts, models", self._owners),
        ]
        for check_id, title, step in steps:
            started = time.perf_counter()
            try:
                status, summary, evidence, tests = step()
            except Exception as exc:  # a broken check is reported as an error, never hides the rest
                status, summary, evidence, tests = "error", f"{type(exc).__name__}: {exc}"[:400], {}, []
            self.checks.append(Check(check_id, title, status, summary, evidence, tests, time.perf_counter() - started))
        from keel.launch.owasp import owasp_checks

        self.checks[0:0] = owasp_checks(self.checks, self.options.repo_root, {"oversize": self._oversize})
        return Report(self.checks, target="local")

    # -------------------------------------------------------------- live checks

    def _injection_suite(self) -> tuple[Status, str, dict[str, Any], list[str]]:
        from keel.launch.probes import injection_suite

        plan = self.plan
        ok, evidence = injection_suite(self.info["api_url"], self.token(plan.user), plan)
        self._injection = evidence
        self._oversize = _oversize(self.info["api_url"], self.token(plan.user), plan.bot)
        control = "answered" if evidence["control"]["answered"] else "NOT answered (nothing was tested)"
        summary = (
            f"bot {plan.bot}, user {plan.user}: the control question {control}; {evidence['contained']}/"
            f"{evidence['attacks']} attacks contained (no prompt leak, no citation the user may not see); "
            f"{evidence['refused_or_flagged']} refused or declined outright"
        )
        return (
            _status(ok),
            summary,
            evidence,
            ["tests/security/test_owasp_llm.py", "tests/security/test_guardrail_rates.py"],
        )

    def _escalation_suite(self) -> tuple[Status, str, dict[str, Any], list[str]]:
        from keel.launch.probes import curated_cases, escalation_suite

        plan = self.plan
        # The plan's questions (one per document a bot hides from its user) and the hand-written ones that fit this
        # tenant's bots and users.
        curated, skipped = curated_cases(
            self.options.repo_root / "evals" / "retrieval" / "forbidden.jsonl", plan.bots, self._users
        )
        ok, evidence = escalation_suite(self.info["api_url"], self.token, plan, curated)
        evidence["hand_written"] = {"asked": len(curated), "left_out_for_another_tenant": skipped}
        self._escalation = evidence
        blocked = sum(1 for c in evidence["external_to_internal_bots"] if c["status"] == 403)
        summary = (
            f"{evidence['forbidden_questions']} questions for documents outside the asker's groups: "
            f"{evidence['forbidden_documents_cited']} answers cited a document the asker may not see, "
            f"{evidence['unknown_documents_cited']} a document the tenant folder does not hold, "
            f"{evidence['wrong_status']} came back with the wrong status; a customer reached "
            f"{len(evidence['external_to_internal_bots']) - blocked} of "
            f"{len(evidence['external_to_internal_bots'])} internal bots"
        )
        return _status(ok), summary, evidence, ["tests/security/test_owasp_llm.py", "tests/integration/knowledge"]

    def _fallback(self) -> tuple[Status, str, dict[str, Any], list[str]]:
        from keel.launch.probes import fallback_check

        plan = self.plan
        ok, evidence = fallback_check(
            self.info["api_url"], self.info["model_url"], self.token(plan.user), plan.bot, plan.question
        )
        down = evidence["model_down"]
        summary = (
            f"model endpoint down: {sum(1 for d in down if d['status'] == 200)}/{len(down)} replies still 200 with "
            f"degradations {sorted({x for d in down for x in d['degradations']})}; after restore: "
            f"{evidence['after_restore']['outcome']}"
        )
        return _status(ok), summary, evidence, ["tests/integration/models", "tests/unit/models"]

    def _garak_run(self) -> tuple[Status, str, dict[str, Any], list[str]]:
        from keel.launch.garak import ensure_venv, run_garak
        from keel.turn import NO_ANSWER, WITHHELD_ANSWER

        if self.options.skip_garak:
            return "skipped", "skipped (--skip-garak)", {}, []
        python, install_seconds = ensure_venv(self.options.repo_root)
        refusals = (NO_ANSWER[:30], WITHHELD_ANSWER[:30], "I can't help with that request", "No one from our support")
        run = run_garak(
            python,
            self.info["api_url"],
            self.token(self.plan.user),
            self.options.out_dir / "garak",
            bot=self.plan.bot,
            prompt_cap=self.options.garak_prompt_cap,
            refusals=refusals,
        )
        evidence = run.to_dict()
        evidence["venv_install_seconds"] = round(install_seconds, 1)
        evidence["markdown"] = _garak_table(run.probes)
        self._garak = evidence
        not_run = [p.probe for p in run.probes if not p.ran]
        # MitigationBypass only says "no refusal phrase it knows": Keel's own refusals, handoffs and grounded
        # quotes score as hits, so its hits are listed for review; payload detectors decide the check.
        payload_hits = [p for p in run.probes if p.ran and p.failures and p.detector not in REVIEW_DETECTORS]
        review = sum(p.failures for p in run.probes if p.detector in REVIEW_DETECTORS)
        attempts = sum(p.attempts for p in run.probes)
        summary = (
            f"{len(run.probes)} probe results, {attempts} attempts in {run.seconds:.0f} s; payload detector hits: "
            f"{sum(p.failures for p in payload_hits)}; mitigation-phrase hits to review: {review}"
            + (f"; not run offline: {', '.join(not_run)}" if not_run else "")
        )
        return ("fail" if payload_hits else "pass"), summary, evidence, ["layers/core/src/keel/launch/garak.py"]

    def _load_test(self) -> tuple[Status, str, dict[str, Any], list[str]]:
        from keel.launch.load import ramp, rate_limit_probe, table

        if self.options.skip_load:
            return "skipped", "skipped (--skip-load); tests/perf/test_load.py runs 50 users for 2 minutes", {}, []
        plan = self.plan
        tokens = [self.token(u) for u in plan.load_users]
        steps = ramp(
            self.info["api_url"],
            tokens,
            self.options.out_dir / "load",
            steps=self.options.load_steps,
            seconds=self.options.load_seconds,
            plan=plan,
        )
        rate = rate_limit_probe(self.info["api_url"], self.info["model_url"], tokens[0], plan)
        self._rate_limit = rate
        errors = sum(s.failures for s in steps)
        last = steps[-1]
        evidence = {
            "markdown": table(steps) + "\n\n![latency under load](load/load.svg)",
            "steps": [s.to_dict() for s in steps],
            "rate_limit": rate,
        }
        self._load = evidence
        summary = (
            f"{len(steps)} steps up to {last.users} users: {errors} errors; at {last.users} users p50 "
            f"{last.p50_ms:.0f} ms, p95 {last.p95_ms:.0f} ms, p99 {last.p99_ms:.0f} ms, search p95 "
            f"{last.search_p95_ms:.0f} ms; provider throttling: statuses {rate['statuses']}"
        )
        return _status(errors == 0), summary, evidence, ["tests/perf/test_load.py"]

    # -------------------------------------------------------------- template checks

    def _templates(self) -> Any:
        from keel.launch.templates import load_assembly, synthesize

        if self._assembly is None:
            given = self.options.cdk_out
            if given is not None and (given / f"assembly-{self.options.stage}").is_dir():
                self._assembly = load_assembly(given, self.options.stage)
            else:
                folder = Path(tempfile.mkdtemp(prefix="keel-preflight-cdk-"))
                try:
                    self._assembly = synthesize(self.options.repo_root, folder, self.options.stage)
                finally:
                    # The templates are held in memory; the asset copies are not worth keeping.
                    shutil.rmtree(folder, ignore_errors=True)
        return self._assembly

    def _access_audit(self) -> tuple[Status, str, dict[str, Any], list[str]]:
        from keel.launch.templates import audit_access

        audit = audit_access(self._templates())
        evidence = {
            "stage": self.options.stage,
            "roles": audit.roles,
            "functions": audit.functions,
            "wildcard_data_actions": audit.wildcard_data_actions,
            "admin_policies": audit.admin_policies,
            "roles_shared_by_functions": audit.shared_roles,
        }
        summary = (
            f"{self.options.stage}: {audit.functions} functions, {audit.roles} roles; "
            f"{len(audit.wildcard_data_actions)} wildcard data actions, {len(audit.admin_policies)} admin policies, "
            f"{len(audit.shared_roles)} roles shared between functions"
        )
        return _status(audit.passed), summary, evidence, ["tests/infra/test_stacks.py"]

    def _nag(self) -> tuple[Status, str, dict[str, Any], list[str]]:
        from keel.launch.templates import nag_status

        ok, evidence = nag_status(self._templates())
        plugins = evidence.get("plugins", [])
        summary = "; ".join(
            f"{p['plugin']}: {p['conclusion']} ({p['violations']} violations, {p['acknowledged']} acknowledged)"
            for p in plugins
        ) or str(evidence)
        return _status(ok), summary, evidence, ["tests/infra/test_gate.py"]

    def _rotation(self) -> tuple[Status, str, dict[str, Any], list[str]]:
        from keel.launch.templates import rotation

        ok, evidence = rotation(self._templates())
        age = evidence["age_check"]
        summary = (
            f"{len(evidence['automatic'])} of {evidence['secrets']} secrets rotate automatically "
            f"(every {evidence['intervals_days']} days); {len(evidence['provider_rotated'])} are rotated at their "
            f"provider, watched by {len(age['rules'])} daily age check(s) (over {age['max_age_days']} days) and "
            f"{len(age['overdue_alarms'])} SecretsOverdue alarm(s); failing: "
            + ("; ".join(f"{n}: {why}" for n, why in evidence["failing"].items()) or "none")
        )
        tests = ["tests/infra/test_wiring.py", "tests/unit/launch/test_templates.py", "functions/secret_rotation"]
        return _status(ok), summary, evidence, tests

    def _alarms(self) -> tuple[Status, str, dict[str, Any], list[str]]:
        from keel.launch.templates import alarms

        ok, evidence = alarms(self._templates())
        silent = len(evidence["without_action"])
        summary = f"{evidence['alarms']} alarms on {', '.join(evidence['metrics'])}; without an action: {silent}"
        return _status(ok), summary, evidence, ["tests/infra/test_stacks.py"]

    def _invocation_logging(self) -> tuple[Status, str, dict[str, Any], list[str]]:
        from keel.launch.templates import invocation_logging

        ok, evidence = invocation_logging(self._templates())
        summary = str(evidence.get("model_invocation_logging") or evidence)
        return _status(ok), summary, evidence, []

    def _models(self) -> tuple[Status, str, dict[str, Any], list[str]]:
        from keel.launch.templates import models

        ok, evidence = models(self._templates())
        failing = evidence["failing"]
        summary = f"{len(evidence['models'])} model ids (catalogue of {evidence['prices_as_of']}): " + (
            "; ".join(f"{m}: {' '.join(p)}" for m, p in failing.items()) if failing else "all usable"
        )
        return _status(ok), summary, evidence, ["tests/infra/test_models.py", "tests/unit/models/test_catalogue.py"]

    def _cost(self) -> tuple[Status, str, dict[str, Any], list[str]]:
        from keel.launch.cost import load_turn_profile, stage_cost, table

        profile = load_turn_profile(self.options.repo_root / "evals" / "baselines" / "tokens_per_turn.json")
        cost = stage_cost(self.options.stage, self._templates(), profile)
        largest = ", ".join(f"{i.item} {i.usd:,.2f}" for i in cost.idle[:3])
        summary = (
            f"{self.options.stage}: idle {cost.idle_usd:,.2f} USD a month (largest: {largest}); "
            f"{cost.per_1k_turns_usd:,.2f} USD per 1,000 turns on {cost.model_id} (prices of {cost.prices_as_of})"
        )
        evidence = {**cost.to_dict(), "markdown": "```\n" + table(cost) + "\n```"}
        return "pass", summary, evidence, ["tests/unit/launch/test_cost.py"]

    def _owners(self) -> tuple[Status, str, dict[str, Any], list[str]]:
        from keel.launch.owners import audit_owners
        from keel.tenant.loader import load_tenant

        tenant = load_tenant(self.options.tenant_dir)
        ok, evidence = audit_owners([b.model_dump() for b in tenant.spec.bots], tenant.docs_dir())
        summary = (
            f"{len(evidence['bots'])} bots, {evidence['documents']['count']} documents, {len(evidence['prompts'])} "
            f"prompt versions, {len(evidence['models'])} models; missing owners: {evidence['missing'] or 'none'}"
        )
        return _status(ok), summary, evidence, ["tests/unit/launch/test_owners.py"]

    # -------------------------------------------------------------- facts the OWASP mapping reads

    def facts(self) -> dict[str, Any]:
        """What the live checks measured, for the OWASP mapping."""
        return {
            "injection": self._injection,
            "escalation": self._escalation,
            "garak": self._garak,
            "load": self._load,
            "rate_limit": self._rate_limit,
        }


def run_preflight(info: dict[str, Any], options: Options) -> tuple[Report, Path, Path]:
    """Run every check against the stack described by `info` and write the report."""
    report = Preflight(info, options).run()
    md, js = report.write(options.out_dir)
    return report, md, js


def _oversize(api_url: str, token: str, bot: str) -> dict[str, Any]:
    """A message over the API's limit is refused with 400 before any model call (OWASP LLM10)."""
    from keel.conversations.models import MAX_MESSAGE_CHARS
    from keel.launch.probes import oversize_refused

    ok, evidence = oversize_refused(api_url, token, bot, MAX_MESSAGE_CHARS)
    summary = f"a {evidence['message_chars']}-character message got HTTP {evidence['status']}"
    return {"status": _status(ok), "summary": summary, "oversize": evidence}


def _status(ok: bool) -> Status:
    return "pass" if ok else "fail"


def _garak_table(probes: list[Any]) -> str:
    lines = ["| probe | detector | attempts | hits | hit rate | note |", "|---|---|---:|---:|---:|---|"]
    for p in probes:
        attempts = p.attempts if p.ran else "not run"
        lines.append(
            f"| {p.probe} | {p.detector or '-'} | {attempts} | {p.failures} | {p.hit_rate:.0%} | {p.note or ''} |"
        )
    return "\n".join(lines)


def _tenant_users(tenant_dir: Path | None) -> dict[str, Principal]:
    """The tenant's local users (a malformed users.json is an InvalidRequest saying what is accepted)."""
    from keel.identity.principal import principals_from_file
    from keel.tenant.loader import load_tenant

    tenant = load_tenant(tenant_dir)
    path = tenant.users_file()
    return principals_from_file(path, tenant.spec.id or "default") if path else {}
