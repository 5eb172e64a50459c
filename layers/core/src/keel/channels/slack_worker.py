"""The Slack worker: maps the Slack user to the enterprise identity, runs the turn, replies in the thread.

Revocation (R5). Slack sends no Keel token, so every job reads the subject's revocation record (one consistent
read, as the HTTP path does): a disabled subject is refused, even before Cognito shows the user disabled. A
Slack thread is a session that began when Keel linked it to a conversation: a thread, or a button on a
conversation, that began before the record's ``not_before`` has ended, so it is refused and the thread's link
forgotten. A new message after a global sign-out is answered in a new conversation: Slack authenticated the
person to the workspace, and Keel cannot make anyone sign in again inside Slack. A sign-out therefore ends
every Slack conversation but not Slack access itself; disabling the user (or removing them from the
workspace) does that.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from keel.analytics.timeutil import parse_instant
from keel.channels.feedback import FeedbackRequest, FeedbackService
from keel.channels.idempotency import IdempotencyStore
from keel.channels.ports import Turn
from keel.channels.slack import ACTION_ESCALATE, ACTION_FEEDBACK_DOWN, ACTION_FEEDBACK_UP, SlackJob
from keel.channels.streaming import HUMAN_REQUEST
from keel.conversations.models import ChatReply, ChatRequest
from keel.conversations.ports import Conversation, ConversationStore
from keel.errors import Forbidden, InvalidRequest, KeelError, NotFound, ServiceUnavailable, Unauthenticated
from keel.identity.authenticator import IdpSession
from keel.identity.cognito import CognitoSessionCheck
from keel.identity.principal import EXTERNAL_GROUPS, Principal
from keel.identity.revocation import RevocationCheck, RevocationRecord
from keel.identity.tokens import refuse

logger = logging.getLogger("keel.slack.worker")
JOB_TTL_SECONDS = 24 * 3600
THREAD_TTL_SECONDS = 30 * 24 * 3600
MAX_SLACK_TEXT = 3000
# users.info answers these for a user the workspace does not have (or no longer has).
USER_GONE_ERRORS = frozenset({"user_not_found", "users_not_found", "user_not_visible"})
DISABLED_MESSAGE = "this Keel account is disabled; ask your administrator"
SIGNED_OUT_MESSAGE = (
    "you were signed out of Keel everywhere, so this conversation has ended; "
    "send a new message (not a reply in this thread) to start a new one"
)
ENDED_BUTTON_MESSAGE = (
    "this answer belongs to a conversation that ended when you were signed out of Keel everywhere; "
    "send a new message to start a new one"
)


class SlackWeb(Protocol):
    """The parts of the Slack Web API the worker uses."""

    def user_email(self, user_id: str) -> str | None:
        """users.info -> profile.email (needs users:read.email)."""
        ...

    def post_message(self, channel: str, text: str, *, thread_ts: str | None, blocks: list[dict[str, Any]]) -> str:
        """chat.postMessage; returns the message ts."""
        ...

    def update_message(self, channel: str, ts: str, text: str, *, blocks: list[dict[str, Any]]) -> None:
        """chat.update."""
        ...


class PrincipalDirectory(Protocol):
    """Finds the enterprise identity of a person by e-mail."""

    def principal_for_email(self, email: str) -> Principal:
        """The principal, NotFound when nobody has this e-mail, Unauthenticated when the user is disabled."""
        ...


@dataclass(frozen=True)
class ThreadLink:
    """The conversation a Slack thread continues, and when it began in the thread (epoch seconds)."""

    conversation_id: str
    started_at: float


@dataclass(frozen=True)
class SlackThread:
    """Where the bot answered a conversation in Slack: the channel and the thread (None: the channel itself)."""

    channel: str
    thread_ts: str | None


class ThreadMap(Protocol):
    """Which Keel conversation a Slack thread continues, and where each conversation is answered in Slack."""

    def link_for(self, key: str) -> ThreadLink | None:
        """The thread's link, or None for a new thread."""
        ...

    def remember(self, key: str, link: ThreadLink) -> None:
        """Link a thread to a conversation."""
        ...

    def forget(self, key: str) -> None:
        """Drop the thread's link (its conversation ended); a thread without one is not an error."""
        ...

    def remember_reply_thread(self, conversation_id: str, thread: SlackThread) -> None:
        """Where the conversation is answered, so a person taking it over can answer there too."""
        ...

    def reply_thread(self, conversation_id: str) -> SlackThread | None:
        """Where the conversation is answered in Slack, or None for a conversation of another channel."""
        ...


class SlackWebApi:
    """The Slack Web API through slack_sdk; the bot token comes from a callable (Secrets Manager, cached)."""

    def __init__(self, token: Callable[[], str], *, base_url: str | None = None, timeout: int = 10) -> None:
        self._token = token
        self._base_url = base_url.rstrip("/") + "/" if base_url else "https://slack.com/api/"
        self._timeout = timeout

    def user_email(self, user_id: str) -> str | None:
        """users.info."""
        response = self._call("users_info", user=user_id)
        email = ((response.get("user") or {}).get("profile") or {}).get("email")
        return email if isinstance(email, str) and email else None

    def post_message(self, channel: str, text: str, *, thread_ts: str | None, blocks: list[dict[str, Any]]) -> str:
        """chat.postMessage, with Slack's link and media previews off: Slack's servers fetch a previewed URL, so a
        link in a reply must never be fetched before a person chooses to open it."""
        response = self._call(
            "chat_postMessage",
            channel=channel,
            text=text,
            thread_ts=thread_ts,
            blocks=blocks,
            unfurl_links=False,
            unfurl_media=False,
        )
        return str(response.get("ts") or "")

    def update_message(self, channel: str, ts: str, text: str, *, blocks: list[dict[str, Any]]) -> None:
        """chat.update."""
        self._call("chat_update", channel=channel, ts=ts, text=text, blocks=blocks)

    def _call(self, method: str, **kwargs: Any) -> dict[str, Any]:
        from slack_sdk import WebClient
        from slack_sdk.errors import SlackApiError, SlackClientError

        client = WebClient(token=self._token(), base_url=self._base_url, timeout=self._timeout)
        try:
            response = getattr(client, method)(**kwargs)
        except SlackApiError as exc:
            error = str(exc.response.get("error", "unknown error"))
            if error in USER_GONE_ERRORS:
                # Retrying cannot make Slack know the user: refuse now instead of parking the job in the DLQ.
                raise NotFound(f"Slack does not know this user ({error}), so Keel cannot tell who is asking") from exc
            raise ServiceUnavailable(f"Slack refused {method}: {error}") from exc
        except (SlackClientError, OSError) as exc:
            raise ServiceUnavailable(f"Slack cannot be reached for {method}") from exc
        return dict(response.data) if isinstance(response.data, dict) else {}


class CachedSecret:
    """A secret string from Secrets Manager (plain or JSON with `field`), cached for a short time."""

    def __init__(self, client: Any, secret_id: str, *, field: str, ttl_seconds: float = 300.0) -> None:
        self._client = client
        self._secret_id = secret_id
        self._field = field
        self._ttl = ttl_seconds
        self._value: str | None = None
        self._at = float("-inf")
        self._lock = threading.Lock()

    def __call__(self) -> str:
        """The secret value."""
        with self._lock:
            if self._value is None or time.monotonic() - self._at >= self._ttl:
                try:
                    raw = self._client.get_secret_value(SecretId=self._secret_id, VersionStage="AWSCURRENT")
                except (ClientError, BotoCoreError) as exc:
                    raise ServiceUnavailable(f"secret {self._secret_id} cannot be read") from exc
                text = str(raw.get("SecretString") or "").strip()
                if text.startswith("{"):
                    text = str(json.loads(text).get(self._field) or "")
                if not text:
                    raise ServiceUnavailable(f"secret {self._secret_id} has no {self._field}")
                self._value, self._at = text, time.monotonic()
            return self._value


class CognitoPrincipalDirectory:
    """The user pool as the enterprise directory: ListUsers by e-mail, AdminListGroupsForUser for groups."""

    def __init__(self, client: Any, user_pool_id: str, *, tenant: str) -> None:
        self._client = client
        self._pool = user_pool_id
        self._tenant = tenant

    def principal_for_email(self, email: str) -> Principal:
        """The one enabled user with this verified e-mail, with the same groups a token would carry."""
        if '"' in email or "\\" in email:
            raise InvalidRequest("the Slack profile e-mail is not a plain address")
        try:
            users = self._client.list_users(UserPoolId=self._pool, Filter=f'email = "{email}"', Limit=2)["Users"]
            if len(users) != 1:
                raise NotFound(
                    f"no single Keel user has the e-mail of this Slack account ({len(users)} found); "
                    "ask your administrator to link it"
                )
            user = users[0]
            groups = self._client.admin_list_groups_for_user(UserPoolId=self._pool, Username=user["Username"])
        except (ClientError, BotoCoreError) as exc:
            raise ServiceUnavailable("the user directory cannot be read") from exc
        if not user.get("Enabled", True):
            raise Unauthenticated("this Keel account is disabled")
        attributes = {a["Name"]: a["Value"] for a in user.get("Attributes", [])}
        if attributes.get("email_verified", "true").lower() != "true":
            raise Unauthenticated("the e-mail of this Keel account is not verified, so it cannot be matched")
        group_set = frozenset(g["GroupName"] for g in groups.get("Groups", []))
        # Slack sends no token: the live-session proof for destructive actions asks the directory again.
        live = IdpSession(CognitoSessionCheck(self._client, self._pool), None, {"cognito:username": user["Username"]})
        return Principal(
            subject=attributes.get("sub") or user["Username"],
            username=user["Username"],
            groups=group_set,
            tenant=self._tenant,  # from configuration, never from an attribute
            email=attributes.get("email"),
            department=attributes.get("custom:department") or None,
            external=bool(group_set & EXTERNAL_GROUPS),
            session=live,
        )


class DynamoDBThreadMap:
    """Thread links in a DynamoDB table with pk/sk (the idempotency table: pk SLACKTHREAD#..., sk LINK).

    A link written before links carried ``started_at`` reads as started at the epoch: it goes on while the
    subject has no revocation record, and any sign-out ends it.
    """

    def __init__(self, client: Any, table: str) -> None:
        self._client = client
        self._table = table

    def link_for(self, key: str) -> ThreadLink | None:
        """GetItem, consistent: a link forgotten a moment ago stays forgotten."""
        try:
            item = self._client.get_item(TableName=self._table, Key=_thread_key(key), ConsistentRead=True).get("Item")
        except (ClientError, BotoCoreError) as exc:
            raise ServiceUnavailable("the Slack thread links cannot be read") from exc
        if not item:
            return None
        return ThreadLink(item["conversation_id"]["S"], float(item.get("started_at", {}).get("N", "0")))

    def remember(self, key: str, link: ThreadLink) -> None:
        """PutItem."""
        try:
            self._client.put_item(
                TableName=self._table,
                Item={
                    **_thread_key(key),
                    "conversation_id": {"S": link.conversation_id},
                    "started_at": {"N": repr(link.started_at)},
                    "expires_at": {"N": str(int(time.time()) + THREAD_TTL_SECONDS)},
                },
            )
        except (ClientError, BotoCoreError) as exc:
            raise ServiceUnavailable("the Slack thread links cannot be written") from exc

    def forget(self, key: str) -> None:
        """DeleteItem."""
        try:
            self._client.delete_item(TableName=self._table, Key=_thread_key(key))
        except (ClientError, BotoCoreError) as exc:
            raise ServiceUnavailable("the Slack thread links cannot be written") from exc

    def remember_reply_thread(self, conversation_id: str, thread: SlackThread) -> None:
        """PutItem under the conversation (pk SLACKCONV#id), expiring with the thread links."""
        item = {
            **_conversation_key(conversation_id),
            "channel": {"S": thread.channel},
            "expires_at": {"N": str(int(time.time()) + THREAD_TTL_SECONDS)},
        }
        if thread.thread_ts:
            item["thread_ts"] = {"S": thread.thread_ts}
        try:
            self._client.put_item(TableName=self._table, Item=item)
        except (ClientError, BotoCoreError) as exc:
            raise ServiceUnavailable("the Slack thread links cannot be written") from exc

    def reply_thread(self, conversation_id: str) -> SlackThread | None:
        """GetItem, consistent."""
        try:
            item = self._client.get_item(
                TableName=self._table, Key=_conversation_key(conversation_id), ConsistentRead=True
            ).get("Item")
        except (ClientError, BotoCoreError) as exc:
            raise ServiceUnavailable("the Slack thread links cannot be read") from exc
        if not item:
            return None
        return SlackThread(item["channel"]["S"], item.get("thread_ts", {}).get("S"))


def _thread_key(key: str) -> dict[str, dict[str, str]]:
    return {"pk": {"S": f"SLACKTHREAD#{key}"}, "sk": {"S": "LINK"}}


def _conversation_key(conversation_id: str) -> dict[str, dict[str, str]]:
    return {"pk": {"S": f"SLACKCONV#{conversation_id}"}, "sk": {"S": "THREAD"}}


class InMemoryThreadMap:
    """Thread links in a dict, for tests."""

    def __init__(self) -> None:
        self.links: dict[str, ThreadLink] = {}
        self.threads: dict[str, SlackThread] = {}

    def link_for(self, key: str) -> ThreadLink | None:
        """Lookup."""
        return self.links.get(key)

    def remember(self, key: str, link: ThreadLink) -> None:
        """Store."""
        self.links[key] = link

    def forget(self, key: str) -> None:
        """Drop."""
        self.links.pop(key, None)

    def remember_reply_thread(self, conversation_id: str, thread: SlackThread) -> None:
        """Store."""
        self.threads[conversation_id] = thread

    def reply_thread(self, conversation_id: str) -> SlackThread | None:
        """Lookup."""
        return self.threads.get(conversation_id)


class SlackWorker:
    """Does one job once: identity mapping, the same turn as every channel, the answer in the thread."""

    def __init__(
        self,
        service: Callable[[], Turn],
        slack: SlackWeb,
        directory: PrincipalDirectory,
        revocations: RevocationCheck,
        jobs: IdempotencyStore,
        threads: ThreadMap,
        conversations: ConversationStore,
        feedback: Callable[[], FeedbackService],
        *,
        bot: str = "auto",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._service = service
        self._slack = slack
        self._directory = directory
        self._revocations = revocations
        self._jobs = jobs
        self._threads = threads
        self._conversations = conversations
        self._feedback = feedback
        self._bot = bot
        self._clock = clock

    def process(self, job: SlackJob) -> bool:
        """Run the job unless it already ran; True when it ran. Failures worth a retry are raised."""
        key = f"slack:job:{job.delivery_id}"
        if not self._jobs.claim(key, ttl_seconds=JOB_TTL_SECONDS):
            logger.info("Slack job %s already processed", job.delivery_id)
            return False
        try:
            self._run(job)
        except ServiceUnavailable:
            self._jobs.release(key)  # the queue redelivers it; the claim must not block that
            raise
        return True

    def _run(self, job: SlackJob) -> None:
        try:
            reply = self._reply(job)
        except ServiceUnavailable:
            raise
        except KeelError as exc:
            self._slack.post_message(job.channel_id, _refusal(exc), thread_ts=job.thread_ts, blocks=[])
            return
        if reply is not None:
            self._slack.post_message(job.channel_id, _plain(reply), thread_ts=job.thread_ts, blocks=reply_blocks(reply))

    def _reply(self, job: SlackJob) -> ChatReply | None:
        # Taken before the revocation read, so a conversation begun here is never newer than a sign-out it missed.
        now = self._clock()
        principal = self._principal(job.user_id)
        record = self._revocations.record_of(principal.subject)
        if record is not None and record.disabled:
            raise refuse("revoked", DISABLED_MESSAGE)
        if job.kind == "feedback":
            self._button_conversation_start(principal, record, job.conversation_id)
            self._record_feedback(principal, job)
            return None
        thread_key = f"{job.team_id}:{job.channel_id}:{job.thread_ts or job.message_ts or job.delivery_id}"
        if job.conversation_id:
            started = self._button_conversation_start(principal, record, job.conversation_id)
            link: ThreadLink | None = ThreadLink(job.conversation_id, now if started is None else started)
        else:
            link = self._thread_link(thread_key, record)
        message = HUMAN_REQUEST if job.kind == "escalate" else job.text
        request = ChatRequest(
            bot=self._bot, conversation_id=link.conversation_id if link else None, message=message[:4000]
        )
        reply = self._service().reply_as(principal, request, channel="slack").reply
        if job.thread_ts:
            self._threads.remember(thread_key, ThreadLink(reply.conversation_id, link.started_at if link else now))
        if reply.escalation is not None:
            # Handed to a person: their replies from the agent console are posted where this answer goes.
            self._threads.remember_reply_thread(reply.conversation_id, SlackThread(job.channel_id, job.thread_ts))
        return reply

    def _principal(self, user_id: str) -> Principal:
        email = self._slack.user_email(user_id)
        if not email:
            raise Forbidden("your Slack profile has no e-mail address, so Keel cannot tell who you are")
        return self._directory.principal_for_email(email)

    def _thread_link(self, thread_key: str, record: RevocationRecord | None) -> ThreadLink | None:
        """The thread's link; a thread that began before a sign-out has ended and is forgotten."""
        link = self._threads.link_for(thread_key)
        if link is None or record is None or not record.ends(link.started_at):
            return link
        self._threads.forget(thread_key)
        logger.info("Slack thread ended by a sign-out", extra={"subject": record.subject})
        raise refuse("revoked", SIGNED_OUT_MESSAGE)

    def _button_conversation_start(
        self, principal: Principal, record: RevocationRecord | None, conversation_id: str | None
    ) -> float | None:
        """When the button's conversation began; refused when a sign-out ended it. None: not the caller's."""
        if not conversation_id:
            return None
        conversation = self._conversations.get(conversation_id)
        if conversation is None or conversation.owner != principal.subject:
            return None  # the feedback service and the turn refuse it with their own NotFound
        started = _started_at(conversation)
        if record is not None and record.ends(started):
            raise refuse("revoked", ENDED_BUTTON_MESSAGE)
        return started

    def _record_feedback(self, principal: Principal, job: SlackJob) -> None:
        if not job.conversation_id or not job.message_id or job.rating is None:
            raise InvalidRequest("the feedback button does not name an answer")
        request = FeedbackRequest(conversation_id=job.conversation_id, message_id=job.message_id, rating=job.rating)
        self._feedback().give(principal, request, channel="slack")
        if job.message_ts:
            thanks = "Thanks, feedback recorded: " + ("helpful." if job.rating == "up" else "not helpful.")
            self._slack.update_message(
                job.channel_id,
                job.message_ts,
                thanks,
                blocks=[{"type": "context", "elements": [{"type": "mrkdwn", "text": thanks}]}],
            )


def reply_blocks(reply: ChatReply) -> list[dict[str, Any]]:
    """Block Kit for an answer: the text, its sources, and the feedback and escalate buttons."""
    blocks: list[dict[str, Any]] = [{"type": "section", "text": {"type": "mrkdwn", "text": _plain(reply)}}]
    if reply.citations:
        sources = " · ".join(f"*{_escape(c.title)}* (`{c.doc_id}`)" for c in reply.citations)
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": f"Sources: {sources}"[:3000]}]})
    if reply.outcome == "escalated":
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": _handoff_text(reply)}]})
    value = json.dumps({"c": reply.conversation_id, "m": reply.message_id})
    blocks.append(
        {
            "type": "actions",
            "block_id": "keel_feedback",
            "elements": [
                _button("Helpful", ACTION_FEEDBACK_UP, value),
                _button("Not helpful", ACTION_FEEDBACK_DOWN, value),
                _button("Talk to a person", ACTION_ESCALATE, value, style="danger"),
            ],
        }
    )
    return blocks


def _button(label: str, action_id: str, value: str, *, style: str | None = None) -> dict[str, Any]:
    button: dict[str, Any] = {
        "type": "button",
        "text": {"type": "plain_text", "text": label},
        "action_id": action_id,
        "value": value,
    }
    if style:
        button["style"] = style
    return button


def _handoff_text(reply: ChatReply) -> str:
    handoff = reply.escalation
    if handoff is not None and handoff.ticket_id:
        return f"Ticket *{_escape(handoff.ticket_id)}* was opened; the support team will follow up."
    if handoff is not None and handoff.kind == "agent" and handoff.agent_name:
        return f"*{_escape(handoff.agent_name)}* is taking over this conversation."
    return "A person has been asked to take over."


def _started_at(conversation: Conversation) -> float:
    try:
        return parse_instant(conversation.created_at).timestamp()
    except ValueError:
        return 0.0  # an unreadable start counts as the oldest: any sign-out ends the conversation


def _plain(reply: ChatReply) -> str:
    return _escape(reply.answer)[:MAX_SLACK_TEXT]


def _escape(text: str) -> str:
    # Slack treats <, > and & as markup; answers are data, so they are escaped.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _refusal(error: KeelError) -> str:
    return f"Sorry, I cannot help with that here: {_escape(error.message)}"


class SlackThreadNotifier:
    """Posts what a person does in the agent console (take, reply, hand back, close) into the Slack thread where the
    conversation was handed over; conversations of other channels are not its business."""

    def __init__(self, threads: ThreadMap, slack: SlackWeb) -> None:
        self._threads = threads
        self._slack = slack

    def notify(self, subject: str, frame: dict[str, Any]) -> None:
        """Best effort: Slack or the links being down is logged, never raised into the agent's action."""
        conversation_id = frame.get("conversation_id")
        text = str(frame.get("text") or "").strip()
        if not isinstance(conversation_id, str) or not text:
            return
        try:
            thread = self._threads.reply_thread(conversation_id)
            if thread is None:
                return
            if frame.get("type") == "agent_message" and frame.get("agent"):
                text = f"*{frame['agent']}*: {text}"
            self._slack.post_message(thread.channel, text, thread_ts=thread.thread_ts, blocks=[])
        except KeelError as exc:
            logger.warning("could not post an agent's message to Slack: %s", exc.code)
