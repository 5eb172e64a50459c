// The ops view: reads GET /v1/ops/kpis and draws the KPIs as charts over time (definitions: docs/kpis.md).
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const C = window.KeelCharts;
  const auth = window.KeelAuth;
  let stopped = false;

  function setStatus(text, isError) {
    $("status").textContent = text;
    $("status").className = isError ? "error" : "";
  }

  function gate(title, message, options = {}) {
    auth.gate(title, message, { ...options, content: "report" });
    for (const node of document.querySelectorAll("[data-signed-in]")) node.hidden = true;
  }

  async function load() {
    if (stopped) return;
    const since = $("since").value;
    setStatus("Loading the KPIs for " + $("since").selectedOptions[0].textContent + "…");
    document.body.dataset.loaded = "false";
    let body;
    try {
      body = await auth.api("GET", `/v1/ops/kpis?since=${encodeURIComponent(since)}`);
    } catch (error) {
      if (error.status === 401) return; // the "ended" listener explains it
      if (error.status === 403) {
        const user = auth.user();
        gate(
          "The ops view is for operators",
          (user ? "You are signed in as " + user.name + ", but " : "") + "the API refused access: " + error.message +
            ". If you run Keel, ask your administrator to add you to an operators' group in the directory.",
          { switchUser: true, refused: true },
        );
        stopped = true;
        return;
      }
      setStatus(error.message, true);
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
    const figure = (svg, series, kind) => C.figure(svg, labels, series, kind);
    const outcomes = ["resolved", "escalated", "abandoned", "open"].map((o) => ({ name: o, values: outcome(o) }));
    const feedback = [{ name: "thumbs up", values: col("thumbs_up") }, { name: "thumbs down", values: col("thumbs_down") }];
    const rates = [{ name: "deflection", values: col("deflection_rate") }, { name: "resolution", values: col("resolution_rate") }];
    const csat = [{ name: "average", values: col("csat_average") }];
    const latency = [{ name: "p50", values: col("latency_p50_ms") }, { name: "p95", values: col("latency_p95_ms") }];
    const errors = [{ name: "hallucination", values: col("hallucination_rate") }, { name: "errors", values: col("error_rate") }];
    const tokens = [{ name: "tokens", values: col("tokens_per_query") }];
    const cost = [{ name: "cost", values: col("cost_usd") }];
    $("charts").replaceChildren(
      figure(C.stackedBars("Conversations by outcome", labels, outcomes), outcomes, "int"),
      figure(C.lineChart("Deflection and resolution", labels, rates, "pct"), rates, "pct"),
      figure(C.lineChart("CSAT (1-5)", labels, csat, "num"), csat, "num"),
      figure(C.stackedBars("Feedback", labels, feedback), feedback, "int"),
      figure(C.lineChart("Latency (ms)", labels, latency, "num"), latency, "num"),
      figure(C.lineChart("Hallucination and error rate", labels, errors, "pct"), errors, "pct"),
      figure(C.lineChart("Tokens per query", labels, tokens, "num"), tokens, "num"),
      figure(C.lineChart("Cost per day (USD)", labels, cost, "usd"), cost, "usd"),
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
  $("since").addEventListener("change", load);
  $("signout").addEventListener("click", () => auth.signOut());
  $("switch").addEventListener("click", () => auth.signOut());
  $("signin").addEventListener("click", () => auth.signIn());
  auth.on("ended", (message) => { stopped = true; gate("You are signed out", message, { signIn: true }); });

  auth.start().then((result) => {
    if (result.state === "redirecting") return;
    if (result.state !== "signed-in") {
      gate(result.state === "signed-out" ? "You are signed out" : "Sign-in did not complete", result.message, { signIn: true });
      return;
    }
    $("gate").hidden = true;
    $("report").hidden = false;
    for (const node of document.querySelectorAll("[data-signed-in]")) node.hidden = false;
    const user = auth.user();
    $("user").textContent = user ? "Signed in as " + user.name : "";
    load();
  }, (error) => gate("The ops view cannot start", error.message));
})();
