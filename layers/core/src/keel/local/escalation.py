"""The escalation pieces of the local stack: the local helpdesk, its secret, the state machine and the worker."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from keel.escalation.helpdesk import SecretCredentials
from keel.escalation.records import DynamoDBEscalationStore
from keel.escalation.service import Backoff, EscalationService
from keel.escalation.worker import EscalationWorker, run_loop
from keel.escalation.workflow import ensure_state_machine
from keel.escalation.zendesk import ZendeskHelpdesk
from keel.local import helpdesk as local_helpdesk

STATE_MACHINE = "keel-local-escalation"
ROLE_ARN = "arn:aws:iam::123456789012:role/keel-local-escalation"
SECRET_ID = "keel-local/helpdesk/zendesk"  # noqa: S105 - a secret name, not a secret
LOCAL_BACKOFF = Backoff(seconds=1, max_seconds=20, max_attempts=30)
RESUME_EVERY_SECONDS = 15.0


@dataclass
class LocalEscalation:
    """Handles to the running escalation pieces; stop() ends the worker and the helpdesk."""

    helpdesk: local_helpdesk.RunningHelpdesk
    state_machine_arn: str
    service: EscalationService
    escalations: DynamoDBEscalationStore
    secret_id: str
    _stop: threading.Event
    _thread: threading.Thread
    environment: dict[str, str] = field(default_factory=dict)

    def stop(self) -> None:
        """Stop the worker thread, then the helpdesk."""
        self._stop.set()
        self._thread.join(timeout=10)
        self.helpdesk.stop()


def start_local_escalation(
    stack_env: Mapping[str, str],
    *,
    agents_table: str = "keel-local-agents",
    queue_name: str = "keel-local-escalation",
    helpdesk_port: int = 0,
    backoff: Backoff = LOCAL_BACKOFF,
    wait_seconds: float = 4.0,
    clients: Any | None = None,
) -> LocalEscalation:
    """Start the local helpdesk, store its credentials in Secrets Manager, create the workflow, run the worker."""
    from keel.bootstrap import AwsClients
    from keel.conversations.dynamodb import DynamoDBConversationStore

    clients = clients or AwsClients(region=stack_env["KEEL_REGION"], endpoint_url=stack_env["KEEL_AWS_ENDPOINT_URL"])
    sfn, sqs = clients.client("stepfunctions"), clients.client("sqs")
    secrets = clients.client("secretsmanager")
    helpdesk = local_helpdesk.start(helpdesk_port)
    try:
        _ensure_secret(secrets, {"email": helpdesk.state.email, "api_token": helpdesk.state.token})
        queue_url = sqs.get_queue_url(QueueName=queue_name)["QueueUrl"]
        arn = ensure_state_machine(sfn, STATE_MACHINE, ROLE_ARN, agents_table=agents_table, queue_url=queue_url)
        conversations = DynamoDBConversationStore(clients.dynamodb, stack_env["KEEL_CONVERSATIONS_TABLE"])
        escalations = DynamoDBEscalationStore(clients.dynamodb, agents_table)
        zendesk = ZendeskHelpdesk(helpdesk.url, SecretCredentials(secrets, SECRET_ID, ttl_seconds=30))
        worker = EscalationWorker(sfn, zendesk, escalations, conversations)
        service = EscalationService(sfn, arn, escalations, conversations, backoff=backoff, wait_seconds=wait_seconds)
    except BaseException:
        helpdesk.stop()
        raise
    stop = threading.Event()
    thread = threading.Thread(
        target=run_loop,
        args=(sqs, queue_url, worker, stop),
        kwargs={"on_idle": _every(RESUME_EVERY_SECONDS, service.resume_failed)},
        name="keel-escalation-worker",
        daemon=True,
    )
    thread.start()
    environment = {"helpdesk_url": helpdesk.url, "state_machine_arn": arn, "helpdesk_secret_id": SECRET_ID}
    return LocalEscalation(helpdesk, arn, service, escalations, SECRET_ID, stop, thread, environment)


def _ensure_secret(secrets: Any, value: dict[str, str]) -> None:
    try:
        secrets.create_secret(Name=SECRET_ID, SecretString=json.dumps(value))
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ResourceExistsException":
            raise
        secrets.put_secret_value(SecretId=SECRET_ID, SecretString=json.dumps(value))


def _every(seconds: float, action: Callable[[], Any]) -> Callable[[], None]:
    last = [time.monotonic()]

    def maybe() -> None:
        if time.monotonic() - last[0] >= seconds:
            last[0] = time.monotonic()
            action()

    return maybe
