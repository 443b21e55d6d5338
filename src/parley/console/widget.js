// The parley chat widget: <script src="https://PARLEY/widget.js" data-bot="NAME"></script>
// puts a chat bubble on any page. It talks to the dialog API (channel `chat-widget`) under a
// conversation id kept in localStorage, and follows the conversation's event stream, so an
// agent's replies arrive live after a hand-off. Attributes: data-bot (or ?bot=),
// data-environment (default production), data-title. See docs/console.md.
"use strict";
(function () {
  const script = document.currentScript;
  const source = new URL(script.src);
  const origin = source.origin;
  const bot = script.dataset.bot || source.searchParams.get("bot");
  const environment = script.dataset.environment || source.searchParams.get("environment") || "production";
  if (!bot) {
    console.error("parley widget: give the bot as data-bot or ?bot=");
    return;
  }
  const storageKey = `parley-widget:${origin}:${bot}`;
  let conversation = localStorage.getItem(storageKey);
  if (!conversation) {
    conversation = "w-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 12);
    localStorage.setItem(storageKey, conversation);
  }
  const base = `${origin}/api/v1/bots/${encodeURIComponent(bot)}`;
  const seen = new Set();
  let log = null;
  let stream = null;

  const host = document.createElement("div");
  host.id = "parley-widget";
  document.body.append(host);
  const root = host.attachShadow({ mode: "open" });
  root.innerHTML = `
    <link rel="stylesheet" href="${origin}/console/render.css">
    <link rel="stylesheet" href="${origin}/console/widget.css">
    <button class="bubble" type="button" aria-label="Chat with us">
      <svg viewBox="0 0 24 24" width="28" height="28" aria-hidden="true"><path fill="currentColor"
        d="M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2z"/></svg>
    </button>
    <section class="panel" hidden>
      <header><span class="title"></span><button class="close" type="button" aria-label="Close">×</button></header>
      <div class="log" aria-live="polite"></div>
      <p class="status"></p>
      <form><input placeholder="Type a message" autocomplete="off"><button type="submit">Send</button></form>
    </section>`;
  const panel = root.querySelector(".panel");
  const input = root.querySelector("input");
  log = root.querySelector(".log");
  root.querySelector(".title").textContent = script.dataset.title || bot;

  function note(text) { root.querySelector(".status").textContent = text; }

  function add(node, who) {
    const row = document.createElement("div");
    row.className = "row " + who;
    row.append(node);
    log.append(row);
    log.scrollTop = log.scrollHeight;
  }

  function userLine(text) {
    const line = document.createElement("div");
    line.className = "mine";
    line.textContent = text;
    add(line, "user");
  }

  function botMessage(message, who = "bot") {
    add(parleyRender(message, (value, title) => say(value, "postback", title)), who);
  }

  function entry(item) {
    if (item.id !== undefined && item.id !== null) {
      if (seen.has(item.id)) return;
      seen.add(item.id);
    }
    if (item.sender === "user") {
      userLine(item.message.type === "text" ? item.message.content : "↩ " + item.message.content);
    } else if (item.sender.startsWith("agent(")) {
      const who = document.createElement("div");
      who.className = "agent-name";
      who.textContent = item.sender.slice(6, -1);
      add(who, "agent");
      botMessage(item.message, "agent");
    } else {
      botMessage(item.message);
    }
  }

  async function say(content, type = "text", label = content) {
    userLine(label);
    try {
      const response = await fetch(`${base}/dialog`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({
          conversation_id: conversation,
          environment,
          message: { type, content },
          user: { profile: { channelType: "chat-widget" } },
        }),
      });
      const answer = await response.json();
      if (!response.ok) throw new Error((answer.error && answer.error.message) || response.statusText);
      for (const item of answer.agent_messages) entry(item);
      for (const message of answer.messages) botMessage(message);
      stateNote(answer.conversation.state);
    } catch (error) {
      note("Could not send: " + error.message);
    }
  }

  function stateNote(state) {
    note(state === "pending" ? "Waiting for an agent…" : state === "agent" ? "You are chatting with an agent." : "");
  }

  async function restore() {
    const response = await fetch(`${base}/conversations/${encodeURIComponent(conversation)}?limit=50`);
    if (!response.ok) return; // a new conversation
    const { history, conversation: conv } = await response.json();
    for (const item of history) entry(item);
    stateNote(conv.state);
  }

  function follow() {
    stream = new EventSource(`${base}/conversations/${encodeURIComponent(conversation)}/events`);
    stream.addEventListener("message", (event) => {
      const item = JSON.parse(event.data);
      if (item.sender.startsWith("agent(")) entry(item);
    });
    stream.addEventListener("state", (event) => stateNote(JSON.parse(event.data).state));
  }

  function ready() {
    return new Promise((resolve) => {
      if (window.parleyRender) return resolve();
      const loader = document.createElement("script");
      loader.src = `${origin}/console/render.js`;
      loader.onload = () => resolve();
      document.head.append(loader);
    });
  }

  root.querySelector(".bubble").addEventListener("click", async () => {
    panel.hidden = !panel.hidden;
    if (!panel.hidden && !stream) {
      await ready();
      await restore();
      follow();
    }
    if (!panel.hidden) input.focus();
  });
  root.querySelector(".close").addEventListener("click", () => { panel.hidden = true; });
  root.querySelector("form").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    say(text);
  });
})();
