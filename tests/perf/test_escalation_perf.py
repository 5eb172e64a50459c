"""Cost of the escalation decision per turn (issue 18 target: under 30 ms p95 on this machine; printed, never asserted).

The turn screens the input before it decides (identify -> route -> screen in -> ... -> decide): the input screen
embeds the message and the recent user turns with the shared encoder, so when the decision runs its embeddings
are already in the encoder's cache. "in the turn" measures the decision in that order: the real input screen
first (not timed), then the decision (timed). "cold" measures the decision on a message nothing has embedded
yet (the worst case, e.g. `keel escalation classify` on a new transcript). The decision embeds user messages
only (never assistant replies), in one encoder call. It embeds them without their opaque identifiers (order and
instance numbers), so a message that carries one is a cache miss even in the turn: "in the turn, with an
identifier" measures that.
"""

from __future__ import annotations

import os
import resource
import statistics
import time
from typing import Any

from keel.escalation import Turn, decide, first_escalation
from keel.guardrails.input import InputScreen

MESSAGES = [
    "My card shows two payments I don't recognise from a shop in another country",
    "Je voudrais résilier mon contrat et que vous supprimiez mes données",
    "Ich weiß nicht mehr weiter, seit mein Mann gestorben ist, kommen nur noch Mahnungen",
    "How many days of annual leave do I get after five years?",
    "Czy mogę porozmawiać z kimś z działu obsługi o mojej fakturze?",
    "¿Alguien me puede llamar para revisar mi expediente?",
]
HEDGE = "I'm not sure, I could not find this in the sources available to me."
ROUNDS = 60


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[int(0.95 * (len(ordered) - 1))]


def _timed(turns: list[Turn]) -> float:
    started = time.perf_counter()
    decide(turns)
    return (time.perf_counter() - started) * 1000


def _conversation(i: int, text: str) -> tuple[list[Turn], list[str]]:
    """Two earlier user turns the bot hedged on, then the new message; and the earlier user texts."""
    earlier = [f"{MESSAGES[(i + n) % len(MESSAGES)]} (case {i}-{n})" for n in range(2)]
    history = [turn for e in earlier for turn in (Turn(role="user", text=e), Turn(role="assistant", text=HEDGE))]
    return [*history, Turn(role="user", text=text)], earlier


def test_escalation_decision_cost_per_turn() -> None:
    screen = InputScreen()
    started = time.perf_counter()
    screen.screen("warm up the screen and the encoder")
    decide([Turn(role="user", text="warm up the heads, the encoder and the language model")])
    load_s = time.perf_counter() - started
    results: dict[str, list[float]] = {
        "in the turn, 1 message": [],
        "in the turn, 3 messages + hedges": [],
        "in the turn, with an identifier": [],
        "cold, 1 message": [],
        "cold, 3 messages + hedges": [],
    }
    for i in range(ROUNDS):
        # In the turn: the input screen has embedded the message (and the recent user turns) before the decision.
        text = f"{MESSAGES[i % len(MESSAGES)]} (turn {i})"
        screen.screen(text)
        results["in the turn, 1 message"].append(_timed([Turn(role="user", text=text)]))
        turns, earlier = _conversation(i, f"{text}, again")
        for n, e in enumerate(earlier):
            screen.screen(e, earlier[:n])  # each earlier turn was screened when it arrived
        screen.screen(turns[-1].text, earlier)
        results["in the turn, 3 messages + hedges"].append(_timed(turns))
        quoted = f"{MESSAGES[i % len(MESSAGES)]} (turn {i}, order {7_000_000 + 7919 * i})"
        screen.screen(quoted)
        results["in the turn, with an identifier"].append(_timed([Turn(role="user", text=quoted)]))
        # Cold: nothing has embedded these texts yet.
        results["cold, 1 message"].append(_timed([Turn(role="user", text=f"{text} (cold)")]))
        turns, _ = _conversation(i + 1000, f"{text} (cold), again")
        results["cold, 3 messages + hedges"].append(_timed(turns))
    replay = [
        Turn(role="user", text=m) if k % 2 == 0 else Turn(role="assistant", text=HEDGE) for k, m in enumerate(MESSAGES)
    ]
    t5 = time.perf_counter()
    first_escalation(replay)
    replay_ms = (time.perf_counter() - t5) * 1000
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    load: Any = os.getloadavg()
    print(
        f"\nescalation decision per turn (ms), {ROUNDS} rounds; first load {load_s:.2f} s, peak RSS {peak_mb:.0f} MB, "
        f"load average {load[0]:.2f} on {os.cpu_count()} cores"
    )
    for name, samples in results.items():
        p50, p95 = _percentiles(samples)
        print(f"  {name:<34} p50={p50:6.2f}  p95={p95:6.2f}")
    print(f"  replay of a {len(MESSAGES)}-message transcript (keel escalation classify, cold): {replay_ms:.1f} ms")
    assert all(len(samples) == ROUNDS for samples in results.values())
