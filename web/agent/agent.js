// Keel agent console: the queue of escalated conversations (most urgent, then oldest, first), take, reply,
// hand back and close, by mouse or keyboard. Sign-in through KeelAuth; new escalations appear without a reload.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const auth = window.KeelAuth;
  const POLL_MS = 3000;
  const REASONS = {
    explicit_request: "Asked for a person",
    high_risk_intent: "High-risk request",
    negative_sentiment: "Frustrated user",
    low_confidence: "Bot not confident",
    system_failure: "System failure",
  };
  const ROLES = { user: "User", assistant: "Bot", agent: "Agent", event: "Event" };
  let selected = null;
  let current = null; // the open conversation as last loaded
  let items = [];
  let known = null; // conversation ids seen in the last queue, to announce new ones
  let poller = null;
  let stopped = false;

  function text(tag, className, value) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    node.textContent = value; // never innerHTML: transcripts and summaries are user input
    return node;
  }

  function showStatus(message) { $("status").textContent = message || ""; }

  function gate(title, message, options = {}) {
    auth.gate(title, message, { ...options, content: "console" });
  }

  function openConsole() {
    $("gate").hidden = true;
    $("console").hidden = false;
    for (const node of document.querySelectorAll("[data-signed-in]")) node.hidden = false;
    const user = auth.user();
    $("user").textContent = user ? "Signed in as " + user.name : "";
  }

  function stop(message) {
    stopped = true;
    clearInterval(poller);
    for (const node of document.querySelectorAll("[data-signed-in]")) node.hidden = true;
    gate("You are signed out", message, { signIn: true });
  }

  // Refusals the API explains: 401 ends the session, 403 means this person may not use the console.
  function failed(error) {
    if (error.status === 401) { stop(error.message); return; }
    if (error.status === 403 && !current && !items.length) {
      stopped = true;
      clearInterval(poller);
      const user = auth.user();
      gate(
        "This console is for support agents",
        (user ? "You are signed in as " + user.name + ", but " : "") + "the API refused access: " + error.message +
          ". If you answer escalations, ask your administrator to add you to the support agents' group in the directory.",
        { switchUser: true, refused: true },
      );
      return;
    }
    showStatus(error.message);
  }

  function age(iso) {
    const minutes = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 60000));
    if (minutes < 1) return "just now";
    if (minutes < 60) return minutes + " min";
    const hours = Math.floor(minutes / 60);
    return hours < 48 ? hours + " h" : Math.floor(hours / 24) + " d";
  }

  function describe(item) {
    return REASONS[item.reason] || item.reason.replace(/_/g, " ");
  }

  function renderQueue() {
    const list = $("queue");
    const focused = document.activeElement && document.activeElement.closest("#queue li");
    const focusedId = focused ? focused.dataset.id : null;
    list.replaceChildren(...items.map((item) => {
      const li = document.createElement("li");
      li.dataset.id = item.conversation_id;
      if (item.conversation_id === selected) li.className = "selected";
      const button = document.createElement("button");
      button.type = "button";
      if (item.conversation_id === selected) button.setAttribute("aria-current", "true");
      const top = text("span", "item-top", "");
      top.append(
        text("span", "urgency " + item.urgency, item.urgency),
        text("span", "reason", describe(item)),
        text("span", "lang", item.language_name || item.language || "unknown language"),
        text("span", "age", age(item.created_at)),
      );
      const who = item.agent_name ? " · with " + item.agent_name : "";
      const ticket = item.ticket_id ? " · ticket #" + item.ticket_id : "";
      button.append(
        top,
        text("span", "summary", item.summary || item.detail || "(no summary)"),
        text("span", "meta", item.bot + " bot · " + item.status.replace(/_/g, " ") + who + ticket),
      );
      button.addEventListener("click", () => open(item.conversation_id));
      li.append(button);
      return li;
    }));
    $("queue-count").textContent = "(" + items.length + ")";
    $("queue-empty").hidden = items.length > 0;
    if (focusedId) {
      const again = list.querySelector(`li[data-id="${CSS.escape(focusedId)}"] button`);
      if (again) again.focus();
    }
  }

  async function loadQueue() {
    if (stopped) return;
    try {
      const { queue } = await auth.api("GET", "/v1/agent/queue");
      const ids = new Set(queue.map((q) => q.conversation_id));
      if (known) {
        const fresh = queue.filter((q) => !known.has(q.conversation_id));
        if (fresh.length) {
          $("announcer").textContent = fresh.length === 1
            ? "New escalation: " + describe(fresh[0]) + ", " + (fresh[0].language_name || "") + "."
            : fresh.length + " new escalations.";
        }
      }
      known = ids;
      items = queue;
      renderQueue();
      if (!current) showStatus("");
    } catch (error) { failed(error); }
  }

  function renderConversation(conversation) {
    current = conversation;
    $("conversation-title").textContent = describe(conversation) + " · " + conversation.bot + " bot";
    const lang = conversation.language_name || conversation.language || "unknown language";
    const who = conversation.agent_name ? " · with " + conversation.agent_name : "";
    $("conversation-meta").textContent = lang + " · " + conversation.status.replace(/_/g, " ") + who + " · since " + age(conversation.created_at);
    const box = $("transcript");
    const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
    const shown = box.childElementCount;
    if (shown !== conversation.messages.length || box.dataset.id !== conversation.conversation_id) {
      box.dataset.id = conversation.conversation_id;
      box.replaceChildren(...conversation.messages.map((m) => {
        const li = text("li", "msg " + m.role, "");
        li.append(text("span", "role", ROLES[m.role] || m.role), document.createTextNode(m.text));
        return li;
      }));
      if (atBottom || shown === 0) box.scrollTop = box.scrollHeight;
    }
    const mine = conversation.status === "assigned" && conversation.mine;
    const takeable = !mine && conversation.status !== "assigned";
    $("take").disabled = !takeable;
    for (const key of ["handback", "text", "send"]) $(key).disabled = !mine;
    $("close").disabled = conversation.status === "assigned" && !mine;
    $("reply-hint").textContent = mine
      ? "Enter sends, Shift+Enter starts a new line."
      : "Take the conversation to reply (Alt+T).";
  }

  async function open(id) {
    selected = id;
    renderQueue();
    try {
      renderConversation(await auth.api("GET", "/v1/agent/conversations/" + encodeURIComponent(id)));
      showStatus("");
    } catch (error) { failed(error); }
  }

  async function act(action, body) {
    if (!selected) return;
    try {
      await auth.api("POST", "/v1/agent/conversations/" + encodeURIComponent(selected) + "/" + action, body);
      if (action === "close" || action === "handback") {
        $("announcer").textContent = action === "close" ? "Conversation closed." : "Handed back to the bot.";
      }
      await open(selected);
      await loadQueue();
      return true;
    } catch (error) { failed(error); return false; }
  }

  async function presence(status) {
    try {
      const answer = await auth.api("POST", "/v1/agent/presence", { status });
      const queues = (answer.queues || []).join(", ");
      $("presence").textContent = (status === "online" ? "Online" : "Offline") + (queues ? " · queues: " + queues : "");
      $("online").disabled = status === "online";
      $("offline").disabled = status !== "online";
    } catch (error) { failed(error); }
  }

  async function send() {
    const value = $("text").value.trim();
    if (!value || $("send").disabled) return;
    if (await act("reply", { text: value })) $("text").value = "";
  }

  function move(step) {
    if (!items.length) return;
    const index = items.findIndex((i) => i.conversation_id === selected);
    const next = items[Math.min(items.length - 1, Math.max(0, index < 0 ? 0 : index + step))];
    open(next.conversation_id).then(() => {
      const button = $("queue").querySelector(`li[data-id="${CSS.escape(next.conversation_id)}"] button`);
      if (button) button.focus();
    });
  }

  const SHORTCUTS = {
    j: () => move(1),
    k: () => move(-1),
    t: () => { if (!$("take").disabled) act("take").then(() => $("text").focus()); },
    r: () => { if (!$("text").disabled) $("text").focus(); },
    h: () => { if (!$("handback").disabled) act("handback"); },
    c: () => { if (!$("close").disabled) act("close"); },
  };

  document.addEventListener("keydown", (event) => {
    if ($("console").hidden || !event.altKey || event.ctrlKey || event.metaKey) return;
    const action = SHORTCUTS[event.key.toLowerCase()];
    if (action) { event.preventDefault(); action(); }
  });
  $("text").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.altKey) { event.preventDefault(); send(); }
  });
  $("reply").addEventListener("submit", (event) => { event.preventDefault(); send(); });
  $("take").addEventListener("click", () => act("take").then(() => $("text").focus()));
  $("handback").addEventListener("click", () => act("handback"));
  $("close").addEventListener("click", () => act("close"));
  $("online").addEventListener("click", () => presence("online"));
  $("offline").addEventListener("click", () => presence("offline"));
  $("signout").addEventListener("click", () => auth.signOut());
  $("signin").addEventListener("click", () => auth.signIn());
  $("switch").addEventListener("click", () => auth.signOut());
  auth.on("ended", (message) => stop(message));

  function poll() {
    if (stopped || document.hidden) return;
    loadQueue();
    if (selected) {
      auth.api("GET", "/v1/agent/conversations/" + encodeURIComponent(selected)).then(renderConversation, failed);
    }
  }

  auth.start().then(async (result) => {
    if (result.state === "redirecting") return;
    if (result.state !== "signed-in") {
      gate(result.state === "signed-out" ? "You are signed out" : "Sign-in did not complete", result.message, { signIn: true });
      return;
    }
    openConsole();
    $("offline").disabled = true;
    await loadQueue();
    if (!stopped) poller = setInterval(poll, POLL_MS);
  }, (error) => gate("The console cannot start", error.message, { signIn: false }));
})();
