// The agent console: the agent API (docs/handoff.md) and nothing else.
"use strict";
const api = "/api/v1/agent";
const $ = (id) => document.getElementById(id);
let token = sessionStorage.getItem("parley-agent-token") || "";
let me = null;
let open = null;

async function call(method, path, body) {
  const response = await fetch(api + path, {
    method,
    headers: { "Authorization": "Bearer " + token, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error((data.error && data.error.message) || response.statusText);
  return data;
}

function item(parent, text, cls) {
  const node = document.createElement(parent);
  node.textContent = text;
  if (cls) node.className = cls;
  return node;
}

async function login(event) {
  if (event) event.preventDefault();
  token = token || $("token").value.trim();
  try {
    me = await call("GET", "/me");
  } catch (error) {
    $("login-error").textContent = error.message;
    token = "";
    sessionStorage.removeItem("parley-agent-token");
    return;
  }
  sessionStorage.setItem("parley-agent-token", token);
  $("login").hidden = true;
  $("desk").hidden = false;
  $("whoami").textContent = `${me.name} · team ${me.team} · bot ${me.bot}`;
  await refreshQueue();
  listen();
}

async function refreshQueue() {
  const { chats } = await call("GET", "/queue");
  const list = $("queue");
  list.replaceChildren();
  for (const chat of chats) {
    const li = item("li", `${chat.conversation_id} (${chat.user_id}) · ${chat.state}`);
    li.dataset.conversation = chat.conversation_id;
    if (chat.state === "pending") {
      const claim = item("button", "Claim");
      claim.className = "claim";
      claim.onclick = () => claimChat(chat.conversation_id);
      li.append(" ", claim);
    } else if (chat.agent === me.name) {
      const show = item("button", "Open");
      show.className = "open";
      show.onclick = () => openChat(chat.conversation_id);
      li.append(" ", show);
    } else {
      li.append(` · with ${chat.agent}`);
    }
    list.append(li);
  }
}

async function claimChat(id) {
  try {
    await call("POST", `/chats/${encodeURIComponent(id)}/claim`);
    await refreshQueue();
    await openChat(id);
  } catch (error) {
    $("chat-error").textContent = error.message;
  }
}

async function openChat(id) {
  open = id;
  $("chat").hidden = false;
  $("chat-title").textContent = id;
  $("chat-error").textContent = "";
  await refreshHistory();
}

async function refreshHistory() {
  if (!open) return;
  const { history } = await call("GET", `/chats/${encodeURIComponent(open)}/history`);
  const list = $("history");
  list.replaceChildren();
  for (const entry of history) {
    const li = document.createElement("li");
    const content = entry.message.content;
    li.append(item("span", entry.sender, "sender"));
    li.append(typeof content === "string" ? content : JSON.stringify(content));
    list.append(li);
  }
}

async function reply(event) {
  event.preventDefault();
  const text = $("reply-text").value.trim();
  if (!text || !open) return;
  try {
    await call("POST", `/chats/${encodeURIComponent(open)}/messages`, { text });
    $("reply-text").value = "";
    await refreshHistory();
  } catch (error) {
    $("chat-error").textContent = error.message;
  }
}

async function closeChat() {
  try {
    await call("POST", `/chats/${encodeURIComponent(open)}/close`, { complete: $("complete").checked });
    open = null;
    $("chat").hidden = true;
    await refreshQueue();
  } catch (error) {
    $("chat-error").textContent = error.message;
  }
}

function listen() {
  return followEvents(api + "/events", { Authorization: "Bearer " + token }, async (event) => {
    await refreshQueue();
    if (event.conversation_id === open) await refreshHistory();
  });
}

$("login").addEventListener("submit", login);
$("reply").addEventListener("submit", reply);
$("close").addEventListener("click", closeChat);
$("refresh").addEventListener("click", refreshQueue);
if (token) login();
