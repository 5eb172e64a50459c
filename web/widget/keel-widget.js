/* Keel chat widget: one <script> tag, no dependencies.
 *
 * <script src="https://chat.example.com/widget/keel-widget.js" data-api-url="https://api.example.com"
 *         data-ws-url="wss://ws.example.com/prod" data-bot="support" defer></script>
 *
 * Or set window.KeelConfig = {apiUrl, wsUrl, bot, title, token, getToken, mount} before the script (the
 * local stack serves /keel-config.js that sets it). The URL of the page is never read: a crafted link must
 * not choose the server the visitor talks to. Without a bot, the API picks among the bots the visitor may use.
 * Without a token (or getToken) the visitor gets an anonymous guest session from POST /v1/session/guest.
 * Replies stream over the WebSocket as {type: "delta"} frames and end with {type: "done"}.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  var data = (script && script.dataset) || {};
  var given = window.KeelConfig || {};
  var config = {
    apiUrl: (given.apiUrl || data.apiUrl || (script ? new URL(script.src, location.href).origin : location.origin)).replace(/\/$/, ""),
    wsUrl: given.wsUrl || data.wsUrl || "",
    bot: given.bot || data.bot || "auto",
    title: given.title || data.title || "Chat with us",
    token: given.token || data.token || "",
    getToken: typeof given.getToken === "function" ? given.getToken : null,
    mount: given.mount || data.mount || "",
  };
  var HUMAN_LABEL = "Talk to a person";
  var OUTCOME_TEXT = {
    escalated: "Passed to our support team: a person will follow up, as the message above says.",
    no_answer: "I could not find this in our help articles.",
    maintenance: "The assistant is under maintenance; a person can still help you.",
    degraded: "This answer was given in a reduced mode.",
    refused: "I cannot help with that request.",
  };

  var state = { socket: null, token: "", conversationId: null, pending: {}, lastMessageId: null, seq: 0, opening: null };
  var ui = {};

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === "class") node.className = attrs[key];
      else node.setAttribute(key, attrs[key]);
    });
    if (text) node.textContent = text;
    return node;
  }

  function styles() {
    if (!script || document.querySelector("link[data-keel-css]")) return;
    var link = el("link", { rel: "stylesheet", href: script.src.replace(/\.js(\?.*)?$/, ".css"), "data-keel-css": "" });
    document.head.appendChild(link);
  }

  function build() {
    styles();
    var root = el("div", { class: "keel-widget" + (config.mount ? " keel-inline" : ""), "data-keel": "widget" });
    var launcher = el("button", { type: "button", class: "keel-launcher", "aria-expanded": "false", "aria-controls": "keel-panel" }, config.title);
    var panel = el("section", { id: "keel-panel", class: "keel-panel", role: "dialog", "aria-label": config.title, hidden: "" });
    var header = el("header", { class: "keel-header" });
    header.appendChild(el("h2", { class: "keel-title" }, config.title));
    var human = el("button", { type: "button", class: "keel-human", "data-keel": "human" }, HUMAN_LABEL);
    var close = el("button", { type: "button", class: "keel-close", "aria-label": "Close chat" }, "\u00d7");
    header.appendChild(human);
    if (!config.mount) header.appendChild(close);
    var status = el("p", { class: "keel-status", role: "status", "aria-live": "polite", "data-keel": "status" });
    var log = el("div", { class: "keel-log", role: "log", "aria-live": "polite", "aria-label": "Conversation", tabindex: "0", "data-keel": "log" });
    var csat = buildCsat();
    var form = el("form", { class: "keel-form", "data-keel": "form" });
    var label = el("label", { for: "keel-input", class: "keel-visually-hidden" }, "Your message");
    var input = el("textarea", { id: "keel-input", rows: "2", maxlength: "4000", placeholder: "Type your question\u2026", "data-keel": "input" });
    var send = el("button", { type: "submit", class: "keel-send", "data-keel": "send" }, "Send");
    form.appendChild(label);
    form.appendChild(input);
    form.appendChild(send);
    [header, status, log, csat, form].forEach(function (n) { panel.appendChild(n); });
    if (!config.mount) root.appendChild(launcher);
    root.appendChild(panel);

    launcher.addEventListener("click", function () { toggle(panel.hidden); });
    close.addEventListener("click", function () { toggle(false); });
    panel.addEventListener("keydown", function (e) { if (e.key === "Escape" && !config.mount) toggle(false); });
    human.addEventListener("click", askForPerson);
    form.addEventListener("submit", function (e) { e.preventDefault(); submit(); });
    input.addEventListener("keydown", function (e) {
      if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); submit(); }
    });
    ui = { root: root, launcher: launcher, panel: panel, status: status, log: log, input: input, send: send, csat: csat, human: human };
    var host = config.mount ? document.querySelector(config.mount) : document.body;
    (host || document.body).appendChild(root);
    if (config.mount) { panel.hidden = false; connect().catch(function () {}); }
  }

  function buildCsat() {
    var box = el("fieldset", { class: "keel-csat", hidden: "", "data-keel": "csat" });
    box.appendChild(el("legend", {}, "How satisfied are you with this conversation? (1 = not at all, 5 = very)"));
    for (var i = 1; i <= 5; i++) {
      var option = el("button", { type: "button", class: "keel-csat-option", "aria-pressed": "false", "aria-label": i + " out of 5", "data-score": String(i) }, String(i));
      option.addEventListener("click", onCsat);
      box.appendChild(option);
    }
    return box;
  }

  function toggle(open) {
    ui.panel.hidden = !open;
    ui.launcher.setAttribute("aria-expanded", String(open));
    if (open) { ui.input.focus(); connect().catch(function () {}); } else { ui.launcher.focus(); }
  }

  function setStatus(text, kind) {
    ui.status.textContent = text || "";
    ui.status.className = "keel-status" + (kind ? " keel-status-" + kind : "");
    ui.status.setAttribute("role", kind === "error" ? "alert" : "status");
  }

  function token(fresh) {
    if (config.getToken) return Promise.resolve(config.getToken());
    if (config.token && !fresh) return Promise.resolve(config.token);
    var saved = sessionStorage.getItem("keel.guest");
    if (saved && !fresh) {
      var parsed = JSON.parse(saved);
      if (parsed.expires > Date.now() + 60000) return Promise.resolve(parsed.token);
    }
    return fetch(config.apiUrl + "/v1/session/guest", { method: "POST", headers: { "Content-Type": "application/json" }, body: "{}" })
      .then(function (r) { return r.json().then(function (b) { if (!r.ok) throw new Error(b.error ? b.error.message : "sign-in failed"); return b; }); })
      .then(function (b) {
        sessionStorage.setItem("keel.guest", JSON.stringify({ token: b.token, expires: Date.now() + b.expires_in * 1000 }));
        return b.token;
      });
  }

  // One connection at a time: callers that arrive while one is opening (page load, then a quick first
  // message) share it instead of starting a second guest session and a second socket.
  function connect(fresh) {
    if (state.socket && state.socket.readyState === 1) return Promise.resolve();
    if (state.opening) return state.opening;
    if (!config.wsUrl) { setStatus("The chat is not configured (no WebSocket URL).", "error"); return Promise.reject(new Error("no wsUrl")); }
    setStatus("Connecting\u2026");
    var opening = token(fresh).then(function (t) {
      state.token = t;
      return new Promise(function (resolve, reject) {
        var socket = new WebSocket(config.wsUrl, ["keel.v1", t]);
        state.socket = socket;
        socket.onopen = function () { setStatus(""); resolve(); };
        socket.onmessage = function (e) { onFrame(JSON.parse(e.data)); };
        socket.onerror = function () { reject(new Error("connection failed")); };
        socket.onclose = function () {
          if (state.socket === socket) state.socket = null;
          reject(new Error("connection closed"));
        };
      });
    });
    state.opening = opening;
    opening.then(
      function () { if (state.opening === opening) state.opening = null; },
      function (err) {
        if (state.opening === opening) state.opening = null;
        setStatus("Could not connect: " + err.message + ". Try again in a moment.", "error");
      }
    );
    return opening;
  }

  function bubble(role, text) {
    var item = el("div", { class: "keel-msg keel-" + role, "data-keel": role });
    var speaker = role === "user" ? "You said: " : role === "agent" ? "Support agent: " : "Assistant: ";
    item.appendChild(el("span", { class: "keel-visually-hidden" }, speaker));
    var body = el("p", { class: "keel-text" }, text);
    item.appendChild(body);
    ui.log.appendChild(item);
    ui.log.scrollTop = ui.log.scrollHeight;
    return { item: item, body: body };
  }

  function send(frame, userText) {
    var id = "r" + (++state.seq) + "-" + Date.now();
    frame.request_id = id;
    if (userText) bubble("user", userText);
    var answer = bubble("assistant", "");
    answer.item.setAttribute("aria-busy", "true");
    answer.item.classList.add("keel-streaming");
    state.pending[id] = answer;
    ui.send.disabled = true;
    connect().then(function () { state.socket.send(JSON.stringify(frame)); }).catch(function () { finish(id); });
  }

  function submit() {
    var text = ui.input.value.trim();
    if (!text) { setStatus("Type a question first.", "error"); return; }
    ui.input.value = "";
    send({ action: "sendMessage", bot: config.bot, conversation_id: state.conversationId, message: text }, text);
  }

  function askForPerson() {
    send({ action: "talkToPerson", bot: config.bot, conversation_id: state.conversationId }, HUMAN_LABEL);
  }

  function finish(id) {
    var answer = state.pending[id];
    delete state.pending[id];
    if (answer) { answer.item.removeAttribute("aria-busy"); answer.item.classList.remove("keel-streaming"); }
    ui.send.disabled = false;
    return answer;
  }

  function onFrame(frame) {
    var answer = state.pending[frame.request_id];
    if (frame.type === "delta" && answer) {
      answer.body.textContent += frame.text;
      ui.log.scrollTop = ui.log.scrollHeight;
    } else if (frame.type === "done") {
      answer = finish(frame.request_id) || bubble("assistant", "");
      state.conversationId = frame.conversation_id;
      state.lastMessageId = frame.message_id;
      answer.item.setAttribute("data-message-id", frame.message_id);
      numberMarkers(answer.body, frame.citations || []);
      renderCitations(answer.item, frame.citations || []);
      renderOutcome(answer.item, frame);
      renderThumbs(answer.item, frame.conversation_id, frame.message_id);
      ui.csat.hidden = false;
      ui.log.scrollTop = ui.log.scrollHeight;
    } else if (frame.type === "feedback") {
      setStatus("Thank you, your feedback was recorded.");
    } else if (frame.type === "status" || frame.type === "agent_message") {
      var note = bubble(frame.type === "agent_message" ? "agent" : "notice", frame.text || "");
      note.item.setAttribute("data-keel", frame.type);
    } else if (frame.type === "error") {
      if (answer) { finish(frame.request_id); answer.item.remove(); }
      setStatus(frame.message, "error");
      if (frame.reconnect && state.socket) { state.socket.close(); connect(true).catch(function () {}); }
    }
  }

  // The answer cites as [doc-id]; once the sources are known, show those as [1], [2] like the numbered list.
  function numberMarkers(body, citations) {
    var numbers = {};
    citations.forEach(function (c, i) { numbers[c.doc_id] = i + 1; });
    var text = body.textContent.replace(/\[([A-Za-z0-9][A-Za-z0-9_.:-]*)\]/g, function (marker, id) {
      return numbers[id] ? "[" + numbers[id] + "]" : marker;
    });
    // Sources quote Markdown bold (**25 days**); shown as <strong> built from text nodes, never as HTML.
    body.textContent = "";
    text.split(/\*\*([^*\n]+)\*\*/).forEach(function (part, i) {
      body.appendChild(i % 2 ? el("strong", {}, part) : document.createTextNode(part));
    });
  }

  function renderCitations(item, citations) {
    if (!citations.length) return;
    var box = el("div", { class: "keel-sources", "data-keel": "citations" });
    box.appendChild(el("p", { class: "keel-sources-title" }, "Sources"));
    var list = el("ol", {});
    citations.forEach(function (c) {
      var entry = el("li", { title: c.snippet || "", "data-doc-id": c.doc_id }, c.title);
      list.appendChild(entry);
    });
    box.appendChild(list);
    item.appendChild(box);
  }

  function renderOutcome(item, frame) {
    var text = OUTCOME_TEXT[frame.outcome];
    var escalation = frame.escalation || {};
    var incident = (frame.degradations || []).some(function (d) { return String(d).indexOf("incident:") === 0; });
    if (incident) text = "Service incident: the assistant is partly down and our team knows. Tell me what you need and a person will take it.";
    if (escalation.ticket_id) text = "A support ticket was opened: #" + escalation.ticket_id + ". We will reply by e-mail.";
    else if (escalation.kind === "agent") text = "You are connected to " + (escalation.agent_name || "a person") + ": write here to talk to them.";
    if (!text) return;
    item.appendChild(el("p", { class: "keel-outcome keel-outcome-" + frame.outcome, "data-keel": "outcome" }, text));
    setStatus(text);
  }

  function renderThumbs(item, conversationId, messageId) {
    var box = el("div", { class: "keel-thumbs", role: "group", "aria-label": "Was this answer helpful?" });
    [["up", "\u25b2 Helpful", "Helpful"], ["down", "\u25bc Not helpful", "Not helpful"]].forEach(function (spec) {
      var b = el("button", { type: "button", class: "keel-thumb", "aria-pressed": "false", "aria-label": spec[2], "data-rating": spec[0] }, spec[1]);
      b.addEventListener("click", function () {
        box.querySelectorAll("button").forEach(function (o) { o.setAttribute("aria-pressed", String(o === b)); });
        feedback({ conversation_id: conversationId, message_id: messageId, rating: spec[0] });
      });
      box.appendChild(b);
    });
    item.appendChild(box);
  }

  function onCsat(e) {
    var score = Number(e.currentTarget.getAttribute("data-score"));
    ui.csat.querySelectorAll("button").forEach(function (o) { o.setAttribute("aria-pressed", String(o === e.currentTarget)); });
    if (state.conversationId && state.lastMessageId) {
      feedback({ conversation_id: state.conversationId, message_id: state.lastMessageId, csat: score });
    }
  }

  function feedback(body) {
    body.action = "feedback";
    connect().then(function () { state.socket.send(JSON.stringify(body)); }).catch(function () {});
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", build);
  else build();
  window.Keel = { config: config, open: function () { toggle(true); } };
})();
