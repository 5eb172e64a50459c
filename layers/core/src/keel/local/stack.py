"""The local stack: every stand-in for AWS on 127.0.0.1, provisioned and seeded, behind one object."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from keel.local import provision, snapshot
from keel.local.api import PAGE_CONFIG_PATH, LocalApi, Route, load_handler, page_config_service
from keel.local.escalation import start_local_escalation
from keel.local.servers import (
    LOOPBACK,
    MotoStack,
    OpenSearchStack,
    free_port,
    spawn_server,
    terminate,
)
from keel.local.state import clear_stack, state_dir, write_stack

if TYPE_CHECKING:
    from keel.tenant.loader import Tenant

logger = logging.getLogger("keel.local.stack")

ROUTES = [
    Route("/v1/chat", "chat", ("POST",)),
    Route("/v1/feedback", "feedback", ("POST",)),
    Route("/v1/session/guest", "guest_session", ("POST",)),
    Route("/v1/agent", "agent_api", ("GET", "POST")),
    Route("/slack", "slack", ("POST",)),
    Route("/v1/ops", "ops_api", ("GET",)),
]
# The pages that sign people in (their exact URLs are the registered redirect and sign-out URIs).
CONSOLE_PAGES = ("/agent/", "/ops/")
SLACK_SIGNING_SECRET_ID = "keel-local/slack/signing-secret"  # noqa: S105 - a secret's name
SLACK_BOT_TOKEN_SECRET_ID = "keel-local/slack/bot-token"  # noqa: S105 - a secret's name
LOCAL_SLACK_BOT_TOKEN = "xoxb-local-keel"  # noqa: S105 - the local Slack stand-in's token
# The same current-generation models, through the same kind of inference profile ids, as a stage uses.
MODEL_IDS = {
    "primary": "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
    "secondary": "us.anthropic.claude-haiku-4-5-20251001-v1:0",
    "small": "us.amazon.nova-micro-v1:0",
}


def repo_root() -> Path:
    """The repository holding functions/ and web/ (KEEL_REPO_ROOT, else found from the working directory)."""
    configured = os.environ.get("KEEL_REPO_ROOT")
    if configured:
        return Path(configured).resolve()
    here = Path.cwd().resolve()
    for candidate in (here, *here.parents):
        if (candidate / "functions").is_dir() and (candidate / "layers" / "core").is_dir():
            return candidate
    raise FileNotFoundError("run from inside the Keel repository (no functions/ and layers/core/ found)")


@dataclass
class ModelEndpoint:
    """The local Bedrock-protocol model server, run as its own process."""

    url: str
    process: subprocess.Popen[bytes]

    @classmethod
    def start(cls, port: int | None = None) -> ModelEndpoint:
        """Start `python -m keel.local.model_server` on a loopback port and wait until it answers."""
        port = port or free_port()
        url = f"http://{LOOPBACK}:{port}"
        process = spawn_server(
            [sys.executable, "-m", "keel.local.model_server", "--host", LOOPBACK, "--port", str(port)],
            f"{url}/_requests",
        )
        return cls(url=url, process=process)

    def stop(self) -> None:
        """Terminate the process."""
        terminate(self.process)


@dataclass
class LocalStack:
    """Handles to every running component, and the settings the handlers run with."""

    moto: MotoStack
    opensearch: OpenSearchStack
    model: ModelEndpoint
    api: LocalApi
    pool: provision.UserPool
    names: provision.LocalResources
    queue_urls: dict[str, str]
    environment: dict[str, str]
    users: list[dict[str, Any]] = field(default_factory=list)
    _stoppers: list[Callable[[], None]] = field(default_factory=list)
    websocket_url: str = ""
    slack_api_url: str = ""

    def info(self) -> dict[str, Any]:
        """What other commands need to reach this stack (written to .keel/stack.json)."""
        return {
            "api_url": self.api.url,
            "websocket_url": self.websocket_url,
            "slack_api_url": self.slack_api_url,
            "moto_url": self.moto.url,
            "opensearch_url": self.opensearch.url,
            "model_url": self.model.url,
            "region": self.environment["KEEL_REGION"],
            "user_pool_id": self.pool.pool_id,
            "client_id": self.pool.client_id,
            "environment": self.environment,
            "queues": self.queue_urls,
            "tables": {role: spec.name for role, spec in self.names.tables.items()},
            "buckets": self.names.buckets,
            "kms_keys": {
                "vault": self.environment["KEEL_VAULT_KMS_KEY_ID"],
                "audit-signing": self.environment["KEEL_AUDIT_SIGNING_KEY_ID"],
            },
            "pid": os.getpid(),
        }

    def health(self) -> dict[str, Any]:
        """Each component's status; the stack is up only when all are."""
        checks = {
            "moto": f"{self.moto.url}/moto-api/",
            "opensearch": f"{self.opensearch.url}/",
            "model": f"{self.model.url}/_requests",
        }
        components: dict[str, dict[str, Any]] = {}
        for name, url in checks.items():
            started = time.perf_counter()
            try:
                with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback
                    status = "up" if response.status < 500 else "down"
            except (OSError, ValueError) as exc:
                components[name] = {"status": "down", "error": type(exc).__name__}
                continue
            components[name] = {
                "status": status,
                "latency_ms": round((time.perf_counter() - started) * 1000, 1),
            }
        components["api"] = {"status": "up", "url": self.api.url}
        overall = "up" if all(c["status"] == "up" for c in components.values()) else "degraded"
        return {"status": overall, "components": components}

    def stop(self) -> None:
        """Stop every process this stack started, in reverse order; the data is saved before moto stops.

        Raises SnapshotError, once everything is stopped, when the data could not be saved.
        """
        failed_save: snapshot.SnapshotError | None = None
        for stopper in reversed(self._stoppers):
            started = time.perf_counter()
            try:
                stopper()
            except snapshot.SnapshotError as exc:
                failed_save = exc
            except Exception:  # a component that fails to stop must not keep the others running
                logger.exception("failed to stop a component")
            name = getattr(stopper, "__qualname__", stopper)
            logger.debug("stopped %s in %.2f s", name, time.perf_counter() - started)
        self._stoppers.clear()
        if failed_save is not None:
            raise failed_save


def start_stack(
    *, reset: bool = False, seed: bool = True, api_port: int | None = None, tenant_dir: Path | None = None
) -> LocalStack:
    """Start moto, osmem-server, the model endpoint and the API; provision, load or seed the tenant's data."""
    from keel.tenant.loader import load_tenant

    # Validated before anything starts: a broken tenant never reaches a running stack.
    tenant = load_tenant(tenant_dir)
    stoppers: list[Callable[[], None]] = []
    try:
        moto = MotoStack.start()
        stoppers.append(moto.stop)
        opensearch = OpenSearchStack.start()
        stoppers.append(opensearch.stop)
        model = ModelEndpoint.start()
        stoppers.append(model.stop)
        return _assemble(moto, opensearch, model, stoppers, reset=reset, seed=seed, api_port=api_port, tenant=tenant)
    except BaseException:
        for stopper in reversed(stoppers):
            stopper()
        raise


def _assemble(
    moto: MotoStack,
    opensearch: OpenSearchStack,
    model: ModelEndpoint,
    stoppers: list[Callable[[], None]],
    *,
    reset: bool,
    seed: bool,
    api_port: int | None,
    tenant: Tenant,
) -> LocalStack:
    from keel.bootstrap import AwsClients

    names = provision.LocalResources()
    region = "us-east-1"
    _fake_credentials()
    clients = AwsClients(region=region, endpoint_url=moto.url)
    queue_urls = provision.provision_aws(clients, names)
    keys = provision.provision_keys(clients, names)
    pool = provision.provision_user_pool(clients.cognito)
    users = (
        provision.provision_demo_users(clients.cognito, pool, tenant.users_file(), tenant_id(tenant)) if seed else []
    )
    environment = {
        **local_environment(names, pool, queue_urls, keys, moto.url, opensearch.url, model.url, region),
        **provision.customer_pool_settings(provision.provision_customer_pool(clients.cognito)),
        **tenant_environment(tenant),
    }
    os.environ.update(environment)
    escalation = start_local_escalation(environment, agents_table=names.tables["agents"].name, clients=clients)
    stoppers.append(escalation.stop)
    environment["KEEL_ESCALATION_STATE_MACHINE_ARN"] = escalation.state_machine_arn
    environment["ESCALATION_STATE_MACHINE_ARN"] = escalation.state_machine_arn
    environment["HELPDESK_URL"] = escalation.environment["helpdesk_url"]
    environment["HELPDESK_SECRET_ID"] = escalation.environment["helpdesk_secret_id"]
    os.environ.update(environment)
    audit_loop, drain_audit = _audit_drainer(environment, clients)
    stoppers.append(_background("keel-audit-writer", audit_loop))
    slack = _start_slack(clients, environment, users)
    stoppers.append(slack.stop)
    stoppers.extend(_start_integrations(clients, environment, users))
    os.environ.update(environment)

    snapshot_path = state_dir() / "snapshot.json"
    if reset:
        snapshot_path.unlink(missing_ok=True)
    restored = snapshot.load(clients, snapshot_path)
    logger.info("restored %s items and %s objects", restored["items"], restored["objects"])
    _restore_sections(snapshot.sections(snapshot_path), clients, pool, opensearch, escalation)
    if seed:
        _seed_knowledge(environment)
    _warm(clients)

    root = repo_root()
    api = LocalApi(ROUTES, root / "functions", root / "web", lambda: {}, port=api_port or 0)
    stack = LocalStack(moto, opensearch, model, api, pool, names, queue_urls, environment, users, stoppers)
    stoppers.append(_serve(api, stack, clients))
    from keel.local.websocket import start_local_websocket

    websocket = start_local_websocket(root / "functions")
    stoppers.append(websocket.stop)
    _serve_page(stack, websocket.url, tenant)
    stack.slack_api_url = slack.api_url
    slack_worker = load_handler(root / "functions", "slack_worker")
    stoppers.append(_background("keel-slack-worker", _sqs_poller(clients, queue_urls["slack-events"], slack_worker)))

    # Saved while moto and osmem-server still run (they stop last), after the API and workers have stopped.
    stoppers.insert(2, _saver(clients, names, pool, opensearch, escalation, drain_audit, snapshot_path))
    write_stack(stack.info())
    stoppers.append(clear_stack)
    return stack


def _saver(
    clients: Any,
    names: provision.LocalResources,
    pool: provision.UserPool,
    opensearch: OpenSearchStack,
    escalation: Any,
    drain_audit: Callable[[], None],
    snapshot_path: Path,
) -> Callable[[], None]:
    """The stopper that writes the snapshot; it raises SnapshotError when anything is not saved."""

    def _save() -> None:
        # Every request has ended (the API and workers stop first); write what is still queued for the audit
        # trail, then save while moto and osmem-server still run (they stop last).
        undrained: snapshot.SnapshotError | None = None
        try:
            drain_audit()
        except snapshot.SnapshotError as exc:
            undrained = exc  # save everything else, then report it
        try:
            sections = _export_sections(clients, pool, opensearch, escalation)
        except Exception as exc:  # a stand-in that no longer answers: nothing can be saved
            raise snapshot.SnapshotError(f"could not read the local data: {type(exc).__name__}: {exc}") from exc
        counts = snapshot.save(
            clients,
            [t.name for t in names.tables.values()],
            list(names.buckets.values()),
            snapshot_path,
            sections=sections,
        )
        logger.info(
            "saved %s items, %s objects, %s users and %s search documents to %s",
            counts["items"],
            counts["objects"],
            len(sections["users"]),
            sum(len(index["documents"]) for index in sections["indices"].values()),
            snapshot_path,
        )
        if undrained is not None:
            raise undrained

    return _save


def _export_sections(
    clients: Any, pool: provision.UserPool, opensearch: OpenSearchStack, escalation: Any
) -> dict[str, Any]:
    """What a restart needs beyond tables and buckets: users, search documents, helpdesk tickets."""
    from keel.knowledge.opensearch import opensearch_client

    with escalation.helpdesk.state.lock:
        tickets = [dict(ticket) for ticket in escalation.helpdesk.state.tickets.values()]
    return {
        "users": provision.export_users(clients.cognito, pool),
        "indices": snapshot.export_indices(opensearch_client(opensearch.url)),
        "tickets": tickets,
    }


def _restore_sections(
    sections: dict[str, Any], clients: Any, pool: provision.UserPool, opensearch: OpenSearchStack, escalation: Any
) -> None:
    from keel.knowledge.opensearch import opensearch_client

    users = provision.import_users(clients.cognito, pool, sections.get("users", []))
    documents = snapshot.import_indices(opensearch_client(opensearch.url), sections.get("indices", {}))
    state = escalation.helpdesk.state
    with state.lock:
        for ticket in sections.get("tickets", []):
            state.tickets.setdefault(int(ticket["id"]), ticket)
    logger.info("restored %s users, %s search documents and %s tickets", users, documents, len(state.tickets))


def _serve(api: LocalApi, stack: LocalStack, clients: Any) -> Callable[[], None]:
    api.set_health(stack.health)
    mount_sign_in(api, clients, stack.pool)
    api.start()
    return api.stop


def mount_sign_in(api: LocalApi, clients: Any, pool: provision.UserPool) -> None:
    """The managed login stand-in and the consoles' page configuration, on the API's own origin."""
    from keel.local.login import PATHS, CognitoDirectoryLogin, ManagedLogin

    port = api.url.rsplit(":", 1)[1]
    origins = (f"http://{LOOPBACK}:{port}", f"http://localhost:{port}")
    consoles = frozenset(f"{origin}{page}" for origin in origins for page in CONSOLE_PAGES)
    login = ManagedLogin(
        CognitoDirectoryLogin(clients.cognito, pool.pool_id, pool.client_id),
        client_id=pool.client_id,
        redirect_uris=consoles,
    )
    api.mount(PATHS, login.dispatch)
    config = json.dumps(
        {
            "auth": {
                "authorize_url": "/oauth2/authorize",
                "token_url": "/oauth2/token",
                "logout_url": "/logout",
                "client_id": pool.client_id,
                "scope": "openid email profile",
            }
        }
    ).encode()

    def page_config(
        method: str, raw_path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        if method != "GET":
            refused = {"error": {"code": "method_not_allowed", "message": f"{method} is not accepted; use GET"}}
            return 405, {"Content-Type": "application/json"}, json.dumps(refused).encode()
        return 200, {"Content-Type": "application/json", "Cache-Control": "no-cache"}, config

    api.mount(("/config.json",), page_config)


def _serve_page(stack: LocalStack, websocket_url: str, tenant: Tenant) -> None:
    """The hosted page reads these from /keel-config.js, so the printed URL chats with no query parameter."""
    stack.websocket_url = websocket_url
    config = {"wsUrl": websocket_url, "title": f"Ask {tenant.name}", "organisation": tenant.name}
    stack.api.mount((PAGE_CONFIG_PATH,), page_config_service(config))


def tenant_id(tenant: Tenant) -> str:
    """The tenant's slug as principals and audit records carry it."""
    return tenant.spec.id or "default"


def tenant_environment(tenant: Tenant) -> dict[str, str]:
    """KEEL_TENANT and KEEL_TENANT_DIR: every handler of the stack loads the same tenant folder."""
    environment = {"KEEL_TENANT": tenant_id(tenant)}
    if tenant.folder is not None:
        environment["KEEL_TENANT_DIR"] = str(tenant.folder.resolve())
    return environment


def local_environment(
    names: provision.LocalResources,
    pool: provision.UserPool,
    queue_urls: dict[str, str],
    keys: dict[str, str],
    moto_url: str,
    opensearch_url: str,
    model_url: str,
    region: str,
) -> dict[str, str]:
    """The KEEL_* settings the handlers read, pointing at the local stand-ins."""
    tables = names.tables
    return {
        "KEEL_ENVIRONMENT": "local",
        "KEEL_REGION": region,
        "KEEL_AWS_ENDPOINT_URL": moto_url,
        "KEEL_BEDROCK_ENDPOINT_URL": model_url,
        "KEEL_USER_POOL_ID": pool.pool_id,
        "KEEL_APP_CLIENT_IDS": pool.client_id,
        "KEEL_JWKS_URL": f"{moto_url}/{pool.pool_id}/.well-known/jwks.json",
        "KEEL_CONVERSATIONS_TABLE": tables["conversations"].name,
        "KEEL_OPENSEARCH_URL": opensearch_url,
        "KEEL_MODEL_PRIMARY": MODEL_IDS["primary"],
        "KEEL_MODEL_SECONDARY": MODEL_IDS["secondary"],
        "KEEL_MODEL_SMALL": MODEL_IDS["small"],
        "KEEL_MODEL_TIMEOUT_SECONDS": "5",
        "KEEL_REVOCATIONS_TABLE": tables["revocations"].name,
        "KEEL_SESSIONS_TABLE": tables["sessions"].name,
        "KEEL_BUDGETS_TABLE": tables["budgets"].name,
        "KEEL_ESCALATIONS_TABLE": tables["agents"].name,
        "KEEL_VAULT_KMS_KEY_ID": keys["vault"],
        "KEEL_AUDIT_QUEUE_URL": queue_urls["audit"],
        "KEEL_AUDIT_BUCKET": names.buckets["audit"],
        "KEEL_AUDIT_TABLE": tables["audit-chain"].name,
        "KEEL_AUDIT_SIGNING_KEY_ID": keys["audit-signing"],
        "KEEL_AUDIT_RETENTION_DAYS": "1",
        # Filled in once the local escalation workflow exists.
        "KEEL_ESCALATION_STATE_MACHINE_ARN": "pending",
        "KEEL_CHANNEL_STATE_TABLE": tables["idempotency"].name,
        "KEEL_SLACK_SIGNING_SECRET_ID": SLACK_SIGNING_SECRET_ID,
        "KEEL_SLACK_BOT_TOKEN_SECRET_ID": SLACK_BOT_TOKEN_SECRET_ID,
        "KEEL_SLACK_EVENTS_QUEUE_URL": queue_urls["slack-events"],
        # The agent console and escalation worker read these at their Lambda edge.
        "ESCALATION_AGENTS_TABLE": tables["agents"].name,
        "ESCALATION_QUEUE_URL": queue_urls["escalation"],
    }


def _start_slack(clients: Any, environment: dict[str, str], users: list[dict[str, Any]]) -> Any:
    """The local Slack Web API with the demo users, and the app's secrets in Secrets Manager."""
    import secrets as random_secrets

    from keel.local.slack_api import start_local_slack_api

    signing_secret = random_secrets.token_hex(16)
    for secret_id, value in (
        (SLACK_SIGNING_SECRET_ID, {"signing_secret": signing_secret}),
        (SLACK_BOT_TOKEN_SECRET_ID, {"bot_token": LOCAL_SLACK_BOT_TOKEN}),
    ):
        _put_secret(clients.client("secretsmanager"), secret_id, value)
    directory = {f"U{index:06d}": u["email"] for index, u in enumerate(users) if u.get("email")}
    slack = start_local_slack_api(directory)
    environment["KEEL_SLACK_API_URL"] = slack.api_url
    return slack


def _start_integrations(
    clients: Any, environment: dict[str, str], users: list[dict[str, Any]]
) -> list[Callable[[], None]]:
    """The CRM and HR stand-ins with rotatable API keys in Secrets Manager, and demo EC2 instances in moto."""
    import secrets as random_secrets

    from keel.local.integrations import demo_contacts, demo_leave, start_crm, start_hr

    stoppers: list[Callable[[], None]] = []
    secrets_client = clients.client("secretsmanager")
    for name, start, extra in (
        ("crm", start_crm, {"contacts": demo_contacts()}),
        ("hr", start_hr, {"employees": demo_leave(u["username"] for u in users)}),
    ):
        key = random_secrets.token_urlsafe(24)
        service = start(key=key, **extra)
        stoppers.append(service.stop)
        secret_id = f"keel-local/integrations/{name}"
        _put_secret(secrets_client, secret_id, {"api_key": key})
        environment[f"KEEL_{name.upper()}_URL"] = service.url
        environment[f"KEEL_{name.upper()}_SECRET_ID"] = secret_id
    environment["KEEL_HELPDESK_URL"] = environment["HELPDESK_URL"]
    environment["KEEL_HELPDESK_SECRET_ID"] = environment["HELPDESK_SECRET_ID"]
    environment["KEEL_ACTIONS_ENABLED"] = "true"
    ec2 = clients.client("ec2")
    if not ec2.describe_instances(Filters=[{"Name": "tag:keel-demo", "Values": ["true"]}])["Reservations"]:
        ec2.run_instances(
            ImageId="ami-12c6146b",
            MinCount=2,
            MaxCount=2,
            InstanceType="t3.micro",
            TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "keel-demo", "Value": "true"}]}],
        )
    return stoppers


def _put_secret(secrets_client: Any, secret_id: str, value: dict[str, str]) -> None:
    from botocore.exceptions import ClientError

    try:
        secrets_client.create_secret(Name=secret_id, SecretString=json.dumps(value))
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ResourceExistsException":
            raise
        secrets_client.put_secret_value(SecretId=secret_id, SecretString=json.dumps(value))


def _sqs_poller(clients: Any, queue_url: str, handler: Any) -> Callable[[threading.Event], None]:
    """The local stand-in for an SQS event source: batches to a Lambda handler, partial failures retried."""

    def loop(stop: threading.Event) -> None:
        sqs = clients.sqs
        while not stop.is_set():
            try:
                messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get(
                    "Messages", []
                )
                if not messages:
                    continue
                records = [{"messageId": m["MessageId"], "body": m["Body"]} for m in messages]
                failed = {f["itemIdentifier"] for f in handler({"Records": records}, None)["batchItemFailures"]}
                for message in messages:
                    if message["MessageId"] not in failed:
                        sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
            except Exception:  # the poller must outlive one failed batch; unacknowledged messages come back
                logger.exception("SQS poller for %s failed; retrying", queue_url)
                stop.wait(1)

    return loop


def _audit_drainer(
    environment: dict[str, str], clients: Any
) -> tuple[Callable[[threading.Event], None], Callable[[], None]]:
    """The local stand-in for the audit writer Lambda's SQS trigger: drain the queue every half second.

    Returns the loop and a final drain (run once the loop has stopped, before the snapshot).
    """
    from keel.audit.sqs import SqsBatchSource
    from keel.audit.wiring import AuditConfig, build_writer
    from keel.settings import load_settings

    config = AuditConfig.from_settings(load_settings(environment))
    writer = build_writer(config, clients.dynamodb, clients.s3)
    source = SqsBatchSource(clients.sqs, config.audit_queue_url)

    def loop(stop: threading.Event) -> None:
        from keel.audit.writer import drain

        while not stop.wait(0.5):
            try:
                drain(source, writer)
            except Exception:  # the drainer must outlive a failed batch; the messages stay queued
                logger.exception("audit drain failed; retrying")

    def final() -> None:
        from keel.audit.writer import drain

        try:
            result = drain(source, writer)
        except Exception as exc:  # the queue cannot be read: what it holds is not in the archive
            raise snapshot.SnapshotError(f"the audit queue could not be drained: {type(exc).__name__}: {exc}") from exc
        if result.failed:
            raise snapshot.SnapshotError(f"{len(result.failed)} queued audit record(s) could not be written")

    return loop, final


def _background(name: str, loop: Callable[[threading.Event], None]) -> Callable[[], None]:
    """Run loop(stop_event) in a daemon thread; returns its stopper."""
    stop = threading.Event()
    thread = threading.Thread(target=loop, args=(stop,), name=name, daemon=True)
    thread.start()

    def stopper() -> None:
        stop.set()
        thread.join(timeout=10)

    return stopper


def _seed_knowledge(environment: dict[str, str]) -> None:
    from keel.bootstrap import seed_demo_knowledge

    report = seed_demo_knowledge(environment)
    logger.info("knowledge base: %s", json.dumps(report))


def _warm(clients: Any) -> None:
    # The first question should not wait for spaCy and the classifiers: load them before "ready".
    from keel.bootstrap import warm_models
    from keel.settings import load_settings

    logger.info("models warm in %.1f s", warm_models(load_settings(), clients))


def _fake_credentials() -> None:
    # moto accepts any credentials; set them so boto3 never looks for real ones.
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "local")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
