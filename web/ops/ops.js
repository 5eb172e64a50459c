// The ops view: reads GET /v1/ops/kpis and draws the KPIs as charts over time (definitions: docs/kpis.md).
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const C = window.KeelCharts;
  const TOKEN_KEY = "keel-ops-token";

  function token() {
    const fromHash = new URLSearchParams(location.hash.slice(1)).get("token");
    if (fromHash) {
      sessionStorage.setItem(TOKEN_KEY, fromHash);
      history.replaceState(null, "", location.pathname + location.search);  // keep the token out of history
    }
    return $("token").value.trim() || sessionStorage.getItem(TOKEN_KEY) || "";
  }

  function setStatus(text, isError) {
    $("status").textContent = text;
    $("status").className = isError ? "error" : "";
  }

  async function load() {
    const bearer = token();
    if (!bearer) { setStatus("Paste an operator's access token to load the KPIs.", true); return; }
    const since = $("since").value;
    setStatus("Loading…");
    let response;
    try {
      response = await fetch(`/v1/ops/kpis?since=${encodeURIComponent(since)}`,
        { headers: { Authorization: "Bearer " + bearer } });
    } catch (err) {
      setStatus("The API cannot be reached: " + err.message, true);
      return;
    }
    const body = await response.json().catch(() => ({}));
    if (!response.ok) {
      setStatus((body.error && body.error.message) || `HTTP ${response.status}`, true);
      return;
    }
    render(body);
    setStatus(`${body.totals.conversations} conversations from ${body.since.slice(0, 16)} to ${body.until.slice(0, 16)} UTC`);
  }

  const TILES = [
    ["Conversations", (t) => C.format(t.conversations, "int")],
    ["Deflection", (t) => C.format(t.deflection_rate, "pct")],
    ["Resolution", (t) => C.format(t.resolution_rate, "pct")],
    ["CSAT", (t) => (t.csat_average === null ? "-" : t.csat_average.toFixed(2))],
    ["Latency p95", (t) => C.format(t.latency_p95_ms, "num") + " ms"],
    ["Hallucination", (t) => C.format(t.hallucination_rate, "pct")],
    ["Error rate", (t) => C.format(t.error_rate, "pct")],
    ["Tokens / query", (t) => C.format(t.tokens_per_query, "num")],
    ["Cost / conversation", (t) => C.format(t.cost_per_conversation, "usd")],
  ];

  function render(report) {
    const t = report.totals;
    $("tiles").replaceChildren(...TILES.map(([label, value]) => {
      const tile = document.createElement("div");
      tile.className = "tile";
      tile.innerHTML = "<span></span><b></b>";
      tile.firstChild.textContent = label;
      tile.lastChild.textContent = value(t);
      return tile;
    }));
    const days = report.daily;
    const labels = days.map((d) => d.date);
    const col = (key) => days.map((d) => d[key]);
    const outcome = (key) => days.map((d) => d.outcomes[key]);
    $("charts").replaceChildren(
      C.stackedBars("Conversations by outcome", labels, ["resolved", "escalated", "abandoned", "open"]
        .map((o) => ({ name: o, values: outcome(o) }))),
      C.lineChart("Deflection and resolution", labels,
        [{ name: "deflection", values: col("deflection_rate") }, { name: "resolution", values: col("resolution_rate") }], "pct"),
      C.lineChart("CSAT (1-5)", labels, [{ name: "average", values: col("csat_average") }], "num"),
      C.stackedBars("Feedback", labels,
        [{ name: "thumbs up", values: col("thumbs_up") }, { name: "thumbs down", values: col("thumbs_down") }]),
      C.lineChart("Latency (ms)", labels,
        [{ name: "p50", values: col("latency_p50_ms") }, { name: "p95", values: col("latency_p95_ms") }], "num"),
      C.lineChart("Hallucination and error rate", labels,
        [{ name: "hallucination", values: col("hallucination_rate") }, { name: "errors", values: col("error_rate") }], "pct"),
      C.lineChart("Tokens per query", labels, [{ name: "tokens", values: col("tokens_per_query") }], "num"),
      C.lineChart("Cost per day (USD)", labels, [{ name: "cost", values: col("cost_usd") }], "usd"),
    );
    topics($("low-confidence"), report.low_confidence_topics);
    topics($("unresolved"), report.unresolved_topics);
    document.body.dataset.loaded = "true";
  }

  function topics(list, groups) {
    list.replaceChildren(...(groups.length ? groups : [null]).map((g) => {
      const item = document.createElement("li");
      if (!g) { item.textContent = "none"; return item; }
      const count = document.createElement("b");
      count.textContent = g.count + " ";
      const examples = document.createElement("small");
      examples.textContent = " " + g.examples.join(" | ");
      item.append(count, document.createTextNode(g.topic), examples);
      return item;
    }));
  }

  $("controls").addEventListener("submit", (event) => { event.preventDefault(); load(); });
  load();
})();
