"""No raw PII or token in any log line, one correlation id on every record (R9, R15)."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from keel.analytics.logs import (
    ScrubFilter,
    correlation_scope,
    current_correlation,
    install_log_hygiene,
    scrub,
    uninstall_log_hygiene,
)

UUID = "550e8400-e29b-41d4-a716-446655440000"
JWT = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJzdWIiOiJhbmEiLCJleHAiOjE3MDAwMDAwMDB9.c2lnbmF0dXJlLWJ5dGVz"


@pytest.mark.parametrize(
    ("raw", "secret"),
    [
        ("mail ana.lopez@example.com now", "ana.lopez@example.com"),
        ("call +1 415-555-0134 please", "415-555-0134"),
        ("call (415) 555 0134", "555 0134"),
        ("phone 0044 20 7946 0958", "7946 0958"),
        ("card 4111 1111 1111 1111 ok", "4111 1111 1111 1111"),
        ("card 4111111111111111", "4111111111111111"),
        ("iban DE89 3704 0044 0532 0130 00", "DE89 3704 0044 0532 0130 00"),
        ("iban GB82WEST12345698765432", "GB82WEST12345698765432"),
        ("ssn 123-45-6789", "123-45-6789"),
        (f"Authorization: Bearer {JWT}", JWT),
        (f"{{'authorization': '{JWT}'}}", JWT),
        (f"token {JWT} leaked", JWT),
        ("bearer abcdefghijklmnop1234", "abcdefghijklmnop1234"),
        ("password=hunter2hunter2", "hunter2hunter2"),
        ('{"client_secret": "s3cr3t-value"}', "s3cr3t-value"),
    ],
)
def test_scrub_removes_pii_and_tokens(raw: str, secret: str) -> None:
    assert secret not in scrub(raw)


@pytest.mark.parametrize(
    "kept",
    [
        f"correlation {UUID}",
        "at 2026-11-03T10:11:12.345+00:00",
        "took 123.4 ms over 17 passages",
        "listening on 127.0.0.1:8080",
        "conversation conv-0042 message 7",
        "model anthropic.claude-3-haiku-20240307-v1:0",
    ],
)
def test_scrub_keeps_ids_times_and_figures(kept: str) -> None:
    assert scrub(kept) == kept


@given(
    user=st.from_regex(r"[a-z][a-z0-9._]{0,15}", fullmatch=True),
    domain=st.from_regex(r"[a-z][a-z0-9-]{0,10}\.(com|org|example|de)", fullmatch=True),
    prefix=st.text(alphabet=" abcdefghij:=,", max_size=20),
)
def test_no_email_survives(user: str, domain: str, prefix: str) -> None:
    email = f"{user}@{domain}"
    assert email not in scrub(prefix + email + " end")


def _luhn_complete(body: str) -> str:
    digits = [int(c) for c in body]
    total = 0
    for i, digit in enumerate(reversed(digits)):
        doubled = digit * 2 - 9 if digit > 4 else digit * 2
        total += doubled if i % 2 == 0 else digit
    return body + str((10 - total % 10) % 10)


@given(body=st.from_regex(r"[3-6][0-9]{14}", fullmatch=True), sep=st.sampled_from(["", " ", "-"]))
def test_no_valid_card_number_survives(body: str, sep: str) -> None:
    card = _luhn_complete(body)
    written = sep.join(card[i : i + 4] for i in range(0, 16, 4))
    out = scrub(f"paid with {written} today")
    assert written not in out and card not in out.replace(" ", "").replace("-", "")


@given(header=st.from_regex(r"eyJ[A-Za-z0-9_-]{8,40}\.[A-Za-z0-9_-]{8,60}\.[A-Za-z0-9_-]{8,60}", fullmatch=True))
def test_no_jwt_survives(header: str) -> None:
    assert header not in scrub(f"got token {header} from the client")


@pytest.fixture
def capture() -> Iterator[io.StringIO]:
    """A handler on the keel logger that writes message + extras as JSON, with the scrub filter installed."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)

    class _Json(logging.Formatter):
        def format(self, record: logging.LogRecord) -> str:
            standard = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message"}
            extras = {k: v for k, v in vars(record).items() if k not in standard}
            return json.dumps({"message": record.getMessage(), "exc": record.exc_text, **extras}, default=str)

    handler.setFormatter(_Json())
    logger = logging.getLogger("keel.test.logs")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    install_log_hygiene(logger)
    yield stream
    logger.removeHandler(handler)


def test_log_records_are_scrubbed_in_message_args_extras_and_exceptions(capture: io.StringIO) -> None:
    logger = logging.getLogger("keel.test.logs")
    with correlation_scope("corr-7"):
        logger.info("user %s wrote", "ana@example.com", extra={"headers": {"Authorization": f"Bearer {JWT}"}})
        try:
            raise ValueError("card 4111 1111 1111 1111 declined")
        except ValueError:
            logger.exception("payment failed for +44 20 7946 0958")
    text = capture.getvalue()
    assert "ana@example.com" not in text
    assert JWT not in text
    assert "4111 1111 1111 1111" not in text
    assert "7946 0958" not in text
    lines = [json.loads(line) for line in text.splitlines()]
    assert [line["correlation_id"] for line in lines] == ["corr-7", "corr-7"]
    assert "[CARD]" in lines[1]["exc"]


def test_correlation_scope_nests_and_resets() -> None:
    assert current_correlation() == ""
    with correlation_scope("outer"):
        with correlation_scope("inner"):
            assert current_correlation() == "inner"
        assert current_correlation() == "outer"
    assert current_correlation() == ""


def test_an_explicit_correlation_id_extra_is_kept(capture: io.StringIO) -> None:
    # Given code that passes its own correlation id (channels/http.py does), logging must not fail.
    with correlation_scope("ambient"):
        logging.getLogger("keel.test.logs").warning("unhandled", extra={"correlation_id": "explicit"})
    assert json.loads(capture.getvalue())["correlation_id"] == "explicit"


def test_install_is_idempotent(capture: io.StringIO) -> None:
    first = install_log_hygiene()
    second = install_log_hygiene()
    assert first is second
    handler = logging.getLogger("keel.test.logs").handlers[0]
    assert sum(isinstance(f, ScrubFilter) for f in handler.filters) == 1


def test_a_message_with_bad_format_arguments_is_still_logged(capture: io.StringIO) -> None:
    logging.getLogger("keel.test.logs").info("two %s %s", "ana@example.com")  # noqa: PLE1206 - on purpose
    line = json.loads(capture.getvalue())
    assert "ana@example.com" not in line["message"]
    assert "two" in line["message"]


def test_uninstall_restores_the_previous_record_factory() -> None:
    before = logging.getLogRecordFactory()
    install_log_hygiene()
    assert logging.getLogRecordFactory() is not before
    uninstall_log_hygiene()
    assert logging.getLogRecordFactory() is before
