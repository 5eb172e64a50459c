// Keel agent console: the queue of escalated conversations; take, reply, hand back, close. No dependencies.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  let selected = null;

  async function api(method, path, body) {
    const response = await fetch(path, {
      method,
      headers: { "Content-Type": "application/json", Authorization: "Bearer " + $("token").value.trim() },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error((data.error && data.error.message) || response.statusText);
    return data;
  }

  function show(error) { $("status").textContent = error ? String(error.message || error) : ""; }

  function text(tag, className, value) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    node.textContent = value; // never innerHTML: transcripts are user input
    return node;
  }

  async function loadQueue() {
    try {
      const { queue } = await api("GET", "/v1/agent/queue");
      const list = $("queue");
      list.replaceChildren();
      for (const item of queue) {
        const li = document.createElement("li");
        li.dataset.id = item.conversation_id;
        if (item.conversation_id === selected) li.className = "selected";
        const urgency = item.urgency && item.urgency !== "normal" ? item.urgency.toUpperCase() + " · " : "";
        li.append(text("div", "reason", urgency + item.reason.replace(/_/g, " ") + (item.intent !== "general" ? " · " + item.intent : "")));
        li.append(text("div", "", item.summary || item.detail));
        const who = item.agent_name ? " · " + item.agent_name : "";
        const ticket = item.ticket_id ? " · ticket #" + item.ticket_id : "";
        const language = item.language && item.language !== "und" ? " · " + item.language : "";
        li.append(text("div", "meta", item.bot + " · " + item.status + who + ticket + language + " · " + item.created_at.slice(0, 16)));
        li.addEventListener("click", () => open(item.conversation_id));
        list.append(li);
      }
      show();
    } catch (error) { show(error); }
  }

  async function open(id) {
    selected = id;
    try {
      const conversation = await api("GET", "/v1/agent/conversations/" + encodeURIComponent(id));
      const box = $("transcript");
      box.replaceChildren(...conversation.messages.map((m) => text("div", "msg " + m.role, m.text)));
      box.scrollTop = box.scrollHeight;
      const mine = conversation.status === "assigned";
      $("take").disabled = mine;
      for (const key of ["handback", "text", "send"]) $(key).disabled = !mine;
      $("close").disabled = false;
      show();
    } catch (error) { show(error); }
    loadQueue();
  }

  async function act(action, body) {
    if (!selected) return;
    try {
      await api("POST", "/v1/agent/conversations/" + encodeURIComponent(selected) + "/" + action, body);
      await open(selected);
    } catch (error) { show(error); }
  }

  $("refresh").addEventListener("click", loadQueue);
  $("online").addEventListener("click", () => api("POST", "/v1/agent/presence", { status: "online" }).then(() => show(), show));
  $("offline").addEventListener("click", () => api("POST", "/v1/agent/presence", { status: "offline" }).then(() => show(), show));
  $("take").addEventListener("click", () => act("take"));
  $("handback").addEventListener("click", () => act("handback"));
  $("close").addEventListener("click", () => act("close"));
  $("reply").addEventListener("submit", (event) => {
    event.preventDefault();
    const value = $("text").value.trim();
    if (value) act("reply", { text: value }).then(() => { $("text").value = ""; });
  });
  setInterval(() => { if ($("token").value) { loadQueue(); if (selected) open(selected); } }, 5000);
})();
