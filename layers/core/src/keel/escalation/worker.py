"""The ticket worker: takes the workflow's task token from the escalation queue, opens the ticket, reports back."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from keel.errors import Conflict, KeelError
from keel.escalation import messages
from keel.escalation.helpdesk import ticket_request
from keel.escalation.ports import CreatedTicket, Helpdesk, HelpdeskUnavailable, StatusStore
from keel.escalation.records import DynamoDBEscalationStore

logger = logging.getLogger("keel.escalation.worker")
TRANSCRIPT_LIMIT = 500


class EscalationWorker:
    """Handles one queue message: create the ticket exactly once, then send_task_success or a typed failure."""

    def __init__(
        self, sfn: Any, helpdesk: Helpdesk, escalations: DynamoDBEscalationStore, conversations: StatusStore
    ) -> None:
        self._sfn = sfn
        self._helpdesk = helpdesk
        self._escalations = escalations
        self._conversations = conversations

    def handle(self, body: str) -> None:
        """Process one message body ({task_token, escalation_id, conversation_id})."""
        task = json.loads(body)
        token, conversation_id = task["task_token"], task["conversation_id"]
        try:
            ticket = self._ticket(conversation_id, task["escalation_id"])
        except HelpdeskUnavailable as exc:
            # The workflow backs off and sends a fresh message; the user is told by the service.
            self._fail(token, "Helpdesk.Unavailable", exc.message)
            return
        except KeelError as exc:
            self._fail(token, "Helpdesk.Rejected", exc.message)
            return
        output = {"ticket_id": ticket.ticket_id, "helpdesk": ticket.helpdesk, "url": ticket.url}
        self._report(lambda: self._sfn.send_task_success(taskToken=token, output=json.dumps(output)))
        self._tell_user(conversation_id, ticket)

    def _ticket(self, conversation_id: str, escalation_id: str) -> CreatedTicket:
        record = self._escalations.require(conversation_id)
        # Checked before every create: a timed-out create may have landed, and a retry must not duplicate it.
        existing = self._helpdesk.find(escalation_id)
        if existing is not None:
            return existing
        request = ticket_request(
            escalation_id=escalation_id,
            conversation_id=conversation_id,
            bot=record.bot,
            reason=record.reason,
            detail=record.detail,
            intent=record.intent,
            summary=record.summary,
            user=record.user,
            transcript=self._conversations.messages(conversation_id, limit=TRANSCRIPT_LIMIT),
            urgency=record.urgency,
            language=record.language,
        )
        return self._helpdesk.create(request)

    def _tell_user(self, conversation_id: str, ticket: CreatedTicket) -> None:
        """Post the ticket number into the conversation when the user was told to wait for it."""
        try:
            self._escalations.update(
                conversation_id,
                {"status": "ticketed", "ticket_id": ticket.ticket_id},
                expect_status=("pending", "helpdesk_unavailable", "failed", "ticketed"),
            )
            record = self._escalations.require(conversation_id)
            if not record.notify_user:
                return
            # Cleared first and conditionally, so a redelivered message never posts the number twice.
            self._escalations.update(conversation_id, {"notify_user": False}, expect_status=("ticketed",))
        except Conflict:
            return  # an agent took or closed it meanwhile
        messages.post(
            self._conversations,
            conversation_id,
            "assistant",
            messages.ticket_opened(ticket.ticket_id),
            {"escalation": {"ticket_id": ticket.ticket_id, "helpdesk": ticket.helpdesk, "kind": "ticket"}},
        )

    def _fail(self, token: str, error: str, cause: str) -> None:
        logger.warning("ticket not created: %s: %s", error, cause)
        self._report(lambda: self._sfn.send_task_failure(taskToken=token, error=error, cause=cause[:250]))

    @staticmethod
    def _report(call: Callable[[], Any]) -> None:
        try:
            call()
        except ClientError as exc:
            # TaskTimedOut / InvalidToken: the execution moved on (timed out or stopped); nothing to report to.
            if exc.response["Error"]["Code"] not in ("TaskTimedOut", "InvalidToken", "TaskDoesNotExist"):
                raise


def run_loop(
    sqs: Any,
    queue_url: str,
    worker: EscalationWorker,
    stop: threading.Event,
    *,
    wait_seconds: int = 1,
    on_idle: Callable[[], None] | None = None,
) -> None:
    """Poll the queue until stop is set: handle each message, delete it; a crash leaves it for redelivery."""
    while not stop.is_set():
        try:
            received = sqs.receive_message(
                QueueUrl=queue_url, MaxNumberOfMessages=5, WaitTimeSeconds=wait_seconds, VisibilityTimeout=60
            ).get("Messages", [])
        except (ClientError, BotoCoreError):
            logger.exception("cannot read the escalation queue")
            stop.wait(1.0)
            continue
        for message in received:
            try:
                worker.handle(message["Body"])
            except Exception:  # one bad message must not stop the worker; SQS redelivers it, then the DLQ
                logger.exception("escalation message failed")
                continue
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        if not received and on_idle is not None:
            on_idle()
