"""keel.launch.probes.post_chat, the one POST /v1/chat of the launch checks (probes, the load ramp, the scenario runner
against a deployed API) and of `keel ask`, against a throwaway loopback server: every status comes back with its body
and headers, a body that is not JSON as "raw", and each caller says what went wrong instead of raising."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from keel.cli import ask
from keel.launch import load, probes
from keel.launch.runners import HttpRunner
from keel.launch.scenarios import Scenario

pytestmark = pytest.mark.integration


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if request["message"] == "html":
            self.send_response(200)
            body = b"<html>a proxy page</html>"
        elif request["message"] == "busy":
            self.send_response(429)
            self.send_header("retry-after", "7")  # lower case: headers are read case-insensitively
            body = b"<html>slow down</html>"
        elif request["message"] == "secret":
            self.send_response(403)
            body = json.dumps({"error": {"code": "forbidden", "message": "not for you"}}).encode()
        elif request["message"] == "refund?":
            self.send_response(200)
            reply = {"answer": "Within 30 days.", "citations": [{"doc_id": "refunds", "title": "Refunds"}]}
            body = json.dumps({**reply, "outcome": "answered", "confidence": 0.9, "conversation_id": "c1"}).encode()
        else:
            self.send_response(200)
            body = json.dumps({"echo": request, "auth": self.headers["Authorization"]}).encode()
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        return


@pytest.fixture()
def api() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def test_answer_comes_back_with_the_request_it_was_sent(api: str) -> None:
    status, body, _ = probes.post_chat(api, "tok", "hr", "hello")
    assert status == 200
    assert body == {"echo": {"bot": "hr", "message": "hello"}, "auth": "Bearer tok"}
    assert probes.chat(api, "tok", "hr", "hello") == (200, body)


def test_a_non_json_answer_comes_back_raw_not_as_a_traceback(api: str) -> None:
    assert probes.chat(api, "tok", "hr", "html") == (200, {"raw": "<html>a proxy page</html>"})


def test_error_status_keeps_its_headers_and_a_non_json_body(api: str) -> None:
    status, body, headers = probes.post_chat(api, "tok", "hr", "busy")
    assert (status, body, headers.get("Retry-After")) == (429, {"raw": "<html>slow down</html>"}, "7")
    assert load._chat(api, "tok", "hr", "busy") == (429, {"raw": "<html>slow down</html>"}, "7")


def test_a_burst_request_that_gets_no_answer_is_counted_not_raised() -> None:
    with socket.socket() as probe:  # a port nobody listens on: bound, never listening
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}/"
        status, body, retry_after = load._chat(url, "tok", "hr", "hello")
    assert (status, retry_after) == (0, "")
    assert body["error"].startswith("no response:")
    with pytest.raises(OSError):  # the probes' own call still says the API is unreachable
        probes.post_chat(url, "tok", "hr", "hello")


def test_the_conversation_goes_with_the_turn_when_given(api: str) -> None:
    _, body, _ = probes.post_chat(api, "tok", "hr", "hello", conversation_id="c-7")
    assert body["echo"] == {"bot": "hr", "message": "hello", "conversation_id": "c-7"}


def _scenario(question: str) -> Scenario:
    return Scenario("s1", "hr", "ana", question, "answer", ("refunds",), ())


def test_the_scenario_runner_observes_answers_refusals_and_what_else_came_back(api: str) -> None:
    run = HttpRunner(api, lambda user: f"token-of-{user}")
    answered = run(_scenario("refund?"))
    assert (answered.behaviour, answered.cited, answered.answer, answered.error) == (
        "answer",
        ("refunds",),
        "Within 30 days.",
        None,
    )
    assert run(_scenario("secret")).behaviour == "refuse" and run(_scenario("secret")).error is None
    busy = run(_scenario("busy"))
    assert (busy.behaviour, busy.error) == ("refuse", "HTTP 429")
    page = run(_scenario("html"))  # a 200 that is no chat reply is a finding, not a traceback
    assert page.behaviour == "refuse" and page.error is not None and "without a chat reply" in page.error


def test_the_scenario_runner_counts_an_api_that_does_not_answer() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        run = HttpRunner(f"http://127.0.0.1:{probe.getsockname()[1]}/", lambda user: "tok")
        observed = run(_scenario("refund?"))
    assert observed.behaviour == "refuse" and observed.error == "URLError"


def test_keel_ask_prints_the_reply_the_error_or_what_else_came_back(
    api: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert ask.report(*probes.post_chat(api, "tok", "hr", "refund?")[:2]) == 0
    assert "Within 30 days." in capsys.readouterr().out
    assert ask.report(*probes.post_chat(api, "tok", "hr", "secret")[:2]) == 1
    assert "keel: 403 forbidden: not for you" in capsys.readouterr().out
    assert ask.report(*probes.post_chat(api, "tok", "hr", "html")[:2]) == 1
    assert "not a chat reply: '<html>a proxy page</html>'" in capsys.readouterr().out
