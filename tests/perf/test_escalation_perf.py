"""Cost of the escalation decision per turn (issue 18 target: under 30 ms on this machine; printed, never asserted).

The decision embeds the user's message with the shared encoder, applies the heads, detects the language and
runs the phrase patterns. "cold text" is a message the process has not embedded yet (the worst case; in the
turn the input screen may already have embedded it); "cached text" is one the encoder saw this turn.
"""

from __future__ import annotations

import resource
import statistics
import time

from keel.escalation import Turn, decide, first_escalation

MESSAGES = [
    "My card shows two payments I don't recognise from a shop in another country",
    "Je voudrais résilier mon contrat et que vous supprimiez mes données",
    "Ich weiß nicht mehr weiter, seit mein Mann gestorben ist, kommen nur noch Mahnungen",
    "How many days of annual leave do I get after five years?",
    "Czy mogę porozmawiać z kimś z działu obsługi o mojej fakturze?",
]
HEDGE = "I'm not sure, I could not find this in the sources available to me."


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[int(0.95 * (len(ordered) - 1))]


def test_escalation_decision_cost_per_turn() -> None:
    started = time.perf_counter()
    decide([Turn(role="user", text="warm up the heads, the encoder and the language model")])
    load_s = time.perf_counter() - started
    results: dict[str, list[float]] = {"cold text, 1 turn": [], "cached text, 1 turn": [], "cold, 6 turns + hedges": []}
    for i in range(60):
        text = f"{MESSAGES[i % len(MESSAGES)]} (ref {i})"
        t0 = time.perf_counter()
        decide([Turn(role="user", text=text)])
        t1 = time.perf_counter()
        decide([Turn(role="user", text=text)])
        t2 = time.perf_counter()
        history = [
            turn
            for n in range(2)
            for turn in (
                Turn(role="user", text=f"{MESSAGES[(i + n) % len(MESSAGES)]} (case {i}-{n})"),
                Turn(role="assistant", text=HEDGE),
            )
        ]
        t3 = time.perf_counter()
        decide([*history, Turn(role="user", text=f"{text} again")])
        t4 = time.perf_counter()
        results["cold text, 1 turn"].append((t1 - t0) * 1000)
        results["cached text, 1 turn"].append((t2 - t1) * 1000)
        results["cold, 6 turns + hedges"].append((t4 - t3) * 1000)
    replay = [
        Turn(role="user", text=m) if k % 2 == 0 else Turn(role="assistant", text=HEDGE) for k, m in enumerate(MESSAGES)
    ]
    t5 = time.perf_counter()
    first_escalation(replay)
    replay_ms = (time.perf_counter() - t5) * 1000
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\nescalation decision per turn (ms); first load {load_s:.2f} s, peak RSS {peak_mb:.0f} MB")
    for name, samples in results.items():
        p50, p95 = _percentiles(samples)
        print(f"  {name:<24} p50={p50:6.2f}  p95={p95:6.2f}")
    print(f"  replay of a 5-message transcript (keel escalation classify): {replay_ms:.1f} ms")
    assert all(results.values())
