// The web console: test chat, invocation inspector, bot map. Only /api/v1/admin (docs/console.md).
"use strict";
const api = "/api/v1/admin";
const $ = (id) => document.getElementById(id);
let token = sessionStorage.getItem("parley-admin-token") || "";
let bots = [];
let conversation = "";
let selected = null;

async function call(method, path, body) {
  const headers = { "Content-Type": "application/json" };
  if (token) headers.Authorization = "Bearer " + token;
  const response = await fetch(api + path, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = new Error((data.error && data.error.message) || response.statusText);
    error.status = response.status;
    throw error;
  }
  return data;
}

function el(tag, cls, text) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

const pretty = (value) => JSON.stringify(value, null, 2);
const when = (epoch) => new Date(epoch * 1000).toLocaleTimeString();
function showError(error) { $("error").textContent = error ? error.message || String(error) : ""; }

// -- log in -------------------------------------------------------------------------------

async function start(event) {
  if (event) event.preventDefault();
  if (event) token = $("token").value.trim();
  try {
    ({ bots } = await call("GET", "/bots"));
  } catch (error) {
    if (error.status === 401) {
      $("login").hidden = false;
      $("login-error").textContent = event ? error.message : "";
      token = "";
      sessionStorage.removeItem("parley-admin-token");
    } else {
      showError(error);
    }
    return;
  }
  if (token) sessionStorage.setItem("parley-admin-token", token);
  $("login").hidden = true;
  $("tabs").hidden = false;
  for (const select of document.querySelectorAll(".bot-select")) {
    for (const bot of bots) select.append(new Option(bot.name, bot.name));
  }
  newConversation();
  show("chat");
  listen();
}

function show(tab) {
  for (const section of document.querySelectorAll(".tab")) section.hidden = section.id !== tab;
  for (const button of document.querySelectorAll("#tabs button")) {
    button.classList.toggle("active", button.dataset.tab === tab);
  }
  showError(null);
  if (tab === "inspector") loadCalls();
  if (tab === "map") loadMap();
}

// -- test chat ----------------------------------------------------------------------------

function newConversation() {
  conversation = "console-" + Math.random().toString(36).slice(2, 10);
  $("chat-id").textContent = conversation;
  $("turns").replaceChildren();
}

async function send(content, type = "text", label = content) {
  const turn = el("li", "turn");
  const talk = el("div", "talk");
  talk.append(el("div", "user-msg", label));
  turn.append(talk);
  $("turns").append(turn);
  try {
    const answer = await call("POST", `/bots/${encodeURIComponent($("chat-bot").value)}/chat`, {
      conversation_id: conversation,
      environment: $("chat-env").value,
      message: { type, content },
    });
    for (const message of answer.messages) {
      talk.append(parleyRender(message, (value, title) => send(value, "postback", title)));
    }
    turn.append(inspectPanel(answer));
  } catch (error) {
    talk.append(el("p", "error", error.message));
  }
  turn.scrollIntoView({ block: "end" });
}

function inspectPanel(answer) {
  const inspect = answer.inspect;
  const panel = el("aside", "inspect");
  const nlp = answer.nlp || {};
  const top = (nlp.intents || [])[0];
  const intent = top ? `${top.name} (${top.confidence})` : "none";
  const entities = Object.keys(nlp.entities || {});
  panel.append(fact("intent", intent));
  panel.append(fact("entities", entities.join(", ") || "none"));
  panel.append(fact("nodes", inspect.nodes.join(" → ") || "—"));
  panel.append(fact("state", answer.conversation.state + (inspect.bot_break ? ` · break: ${inspect.bot_break}` : "")));
  panel.append(details("nlp", pretty(nlp)));
  panel.append(variables(inspect.variables_before, inspect.variables_after));
  for (const invocation of inspect.invocations) {
    const head = `${invocation.kind} ${invocation.dialect} ${invocation.node} → ${invocation.status ?? "—"} · ${invocation.latency_ms} ms`;
    const box = details(head, `${invocation.method} ${invocation.url}\n\n${invocation.request_body}\n\n← ${invocation.response_body ?? ""}`);
    box.classList.add("call", invocation.error ? "failed" : "ok");
    if (invocation.error) box.append(el("p", "error", invocation.error));
    panel.append(box);
  }
  return panel;
}

function fact(name, value) {
  const row = el("div", "fact");
  row.append(el("span", "muted", name + " "), el("span", null, value));
  return row;
}

function details(summary, text) {
  const box = el("details");
  box.append(el("summary", null, summary), el("pre", null, text));
  return box;
}

function variables(before, after) {
  const table = el("table", "vars");
  const head = el("tr");
  head.append(el("th", null, "variable"), el("th", null, "before"), el("th", null, "after"));
  table.append(head);
  for (const group of ["data", "entities"]) {
    const names = new Set([...Object.keys(before[group]), ...Object.keys(after[group])]);
    for (const name of names) {
      const old = JSON.stringify(before[group][name]);
      const now = JSON.stringify(after[group][name]);
      const row = el("tr", old === now ? "" : "changed");
      row.append(el("td", null, (group === "entities" ? "@" : "") + name), el("td", null, old ?? "—"), el("td", null, now ?? "—"));
      table.append(row);
    }
  }
  if (table.rows.length === 1) return fact("variables", "none");
  return table;
}

// -- invocation inspector -----------------------------------------------------------------

function filters() {
  const query = new URLSearchParams();
  if ($("f-bot").value) query.set("bot", $("f-bot").value);
  if ($("f-node").value.trim()) query.set("node", $("f-node").value.trim());
  if ($("f-status").value) query.set("status", $("f-status").value);
  if ($("f-since").value) query.set("since", String(new Date($("f-since").value).getTime() / 1000));
  return query;
}

async function loadCalls(event) {
  if (event) event.preventDefault();
  try {
    const { invocations } = await call("GET", "/invocations?" + filters());
    $("calls").tBodies[0].replaceChildren(...invocations.map(callRow));
  } catch (error) {
    showError(error);
  }
}

function matches(invocation) {
  const query = filters();
  const status = query.get("status");
  return (!query.get("bot") || invocation.bot === query.get("bot"))
    && (!query.get("node") || invocation.node === query.get("node"))
    && (!status || (status === "ok") === !invocation.error)
    && (!query.get("since") || invocation.created_at >= Number(query.get("since")));
}

function callRow(invocation) {
  const row = el("tr", invocation.error ? "failed" : "ok");
  row.dataset.id = invocation.id;
  for (const value of [invocation.id, when(invocation.created_at), invocation.bot, invocation.node,
    `${invocation.kind}/${invocation.dialect}`, invocation.status ?? "—", invocation.latency_ms, invocation.error || ""]) {
    row.append(el("td", null, value));
  }
  row.onclick = () => openCall(invocation);
  return row;
}

function openCall(invocation) {
  selected = invocation;
  $("call").hidden = false;
  $("call-id").textContent = `#${invocation.id}`;
  const meta = $("call-meta");
  meta.replaceChildren();
  for (const [name, value] of [["conversation", invocation.conversation_id], ["turn", invocation.turn_id],
    ["environment", invocation.environment], ["url", `${invocation.method} ${invocation.url}`],
    ["latency", `${invocation.latency_ms} ms`], ["failure", invocation.error || "none"]]) {
    meta.append(el("dt", null, name), el("dd", null, value));
  }
  const headers = Object.entries(invocation.request_headers).map(([k, v]) => `${k}: ${v}`).join("\n");
  $("call-request").textContent = `${headers}\n\n${prettyBody(invocation.request_body)}`;
  $("call-response").textContent = `HTTP ${invocation.status ?? "—"}\n\n${prettyBody(invocation.response_body)}`;
  $("replay-result").hidden = true;
}

function prettyBody(text) {
  if (text === null || text === undefined) return "(no body)";
  try { return pretty(JSON.parse(text)); } catch { return text; }
}

function answerText(answer) {
  const head = `${answer.url}\nHTTP ${answer.status ?? "—"} · ${answer.latency_ms} ms`;
  return `${head}${answer.error ? "\nfailure: " + answer.error : ""}\n\n${prettyBody(answer.body)}`;
}

async function replay(event) {
  event.preventDefault();
  if (!selected) return;
  const url = $("replay-url").value.trim();
  try {
    const result = await call("POST", `/invocations/${selected.id}/replay`, url ? { url } : {});
    $("replay-recorded").textContent = answerText(result.recorded);
    $("replay-replayed").textContent = answerText(result.replayed);
    $("replay-result").hidden = false;
  } catch (error) {
    showError(error);
  }
}

function listen() {
  const headers = token ? { Authorization: "Bearer " + token } : {};
  return followEvents(api + "/events", headers, arrived);
}

function arrived(invocation) {
  if (!$("f-live").checked || !matches(invocation)) return;
  const body = $("calls").tBodies[0];
  if (body.querySelector(`tr[data-id="${invocation.id}"]`)) return;
  body.prepend(callRow(invocation));
}

// -- bot map ------------------------------------------------------------------------------

const BOX = { w: 210, h: 96, gapX: 70, gapY: 26 };
const SVG = "http://www.w3.org/2000/svg";

function svg(tag, attrs, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs || {})) node.setAttribute(name, value);
  if (text !== undefined) node.textContent = text;
  return node;
}

function layers(map) {
  const depth = new Map();
  const targets = new Set(map.nodes.flatMap((n) => n.next.map((step) => step.node)));
  const queue = map.nodes.filter((n) => n.start || !targets.has(n.name)).map((n) => [n.name, 0]);
  const byName = new Map(map.nodes.map((n) => [n.name, n]));
  while (queue.length) {
    const [name, level] = queue.shift();
    if (depth.has(name) || !byName.has(name)) continue;
    depth.set(name, level);
    for (const step of byName.get(name).next) queue.push([step.node, level + 1]);
  }
  for (const node of map.nodes) if (!depth.has(node.name)) depth.set(node.name, 0);
  return depth;
}

function drawMap(map) {
  const depth = layers(map);
  const rows = new Map();
  const place = new Map();
  for (const node of map.nodes) {
    const column = depth.get(node.name);
    const row = rows.get(column) || 0;
    rows.set(column, row + 1);
    place.set(node.name, { x: 10 + column * (BOX.w + BOX.gapX), y: 10 + row * (BOX.h + BOX.gapY) });
  }
  const width = 20 + (Math.max(...depth.values(), 0) + 1) * (BOX.w + BOX.gapX);
  const height = 20 + Math.max(...rows.values(), 1) * (BOX.h + BOX.gapY);
  const root = svg("svg", { width, height, viewBox: `0 0 ${width} ${height}`, role: "img" });
  const defs = svg("defs");
  const marker = svg("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 10, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto" });
  marker.append(svg("path", { d: "M0,0 L10,5 L0,10 z", fill: "#557" }));
  defs.append(marker);
  root.append(defs);
  for (const node of map.nodes) {
    for (const step of node.next) {
      const from = place.get(node.name);
      const to = place.get(step.node);
      if (!to) continue;
      const [x1, y1, x2, y2] = [from.x + BOX.w, from.y + BOX.h / 2, to.x, to.y + BOX.h / 2];
      const back = x2 <= x1;
      const d = back
        ? `M${from.x + BOX.w / 2},${from.y + BOX.h} C${from.x + BOX.w / 2},${from.y + BOX.h + 40} ${to.x + BOX.w / 2},${to.y + BOX.h + 40} ${to.x + BOX.w / 2},${to.y + BOX.h}`
        : `M${x1},${y1} C${x1 + 35},${y1} ${x2 - 35},${y2} ${x2},${y2}`;
      root.append(svg("path", { d, class: "edge", "marker-end": "url(#arrow)" }));
      if (step.if) root.append(svg("text", { x: (x1 + x2) / 2, y: (y1 + y2) / 2 - 4, class: "edge-label", "text-anchor": "middle" }, step.if));
    }
  }
  for (const node of map.nodes) root.append(nodeBox(node, place.get(node.name)));
  return root;
}

function nodeBox(node, at) {
  const group = svg("g", { class: "node" + (node.problems.length ? " invalid" : "") + (node.end ? " end" : ""), transform: `translate(${at.x},${at.y})`, "data-node": node.name, tabindex: 0 });
  group.append(svg("rect", { width: BOX.w, height: BOX.h, rx: 6 }));
  const integration = node.integration ? `${node.integration.kind} · ${node.integration.dialect}` : "no integration";
  const required = node.entities.filter((e) => e.required).map((e) => e.name);
  const lines = [
    [(node.start ? "▶ " : "") + node.name + (node.end ? "  ■ end" : ""), "title"],
    ["on: " + (node.intents.join(", ") || "—"), ""],
    ["needs: " + (required.join(", ") || "—"), ""],
    [integration, "integration"],
  ];
  if (node.problems.length) lines.push([`⚠ ${node.problems.length} problem(s)`, "problem"]);
  lines.forEach(([text, cls], n) => {
    const clipped = text.length > 30 ? text.slice(0, 29) + "…" : text;
    group.append(svg("text", { x: 10, y: 20 + n * 17, class: cls }, clipped));
  });
  group.addEventListener("click", () => openNode(node));
  return group;
}

let currentMap = null;

async function loadMap() {
  const bot = $("map-bot").value;
  if (!bot) return;
  try {
    currentMap = await call("GET", `/bots/${encodeURIComponent(bot)}/map`);
  } catch (error) {
    showError(error);
    return;
  }
  $("graph").replaceChildren(drawMap(currentMap));
  $("map-problems").textContent = currentMap.problems.map((p) => `${p.key || p.file}: ${p.message}`).join("\n");
  $("node").hidden = true;
}

async function openNode(node) {
  $("node").hidden = false;
  $("node-name").textContent = node.name;
  const { problems, ...config } = node;
  const text = (problems.length ? problems.map((p) => `⚠ line ${p.line ?? "?"} ${p.key}: ${p.message}`).join("\n") + "\n\n" : "") + pretty(config);
  $("node-config").textContent = text;
  const list = $("node-calls");
  list.replaceChildren(el("li", "muted", "loading…"));
  const query = new URLSearchParams({ bot: currentMap.bot, node: node.name, limit: "10" });
  const { invocations } = await call("GET", "/invocations?" + query);
  list.replaceChildren();
  for (const invocation of invocations) {
    const item = el("li", invocation.error ? "failed" : "ok", `#${invocation.id} ${when(invocation.created_at)} · ${invocation.status ?? "—"} · ${invocation.latency_ms} ms ${invocation.error || ""}`);
    item.onclick = () => { show("inspector"); openCall(invocation); };
    list.append(item);
  }
  if (!invocations.length) list.append(el("li", "muted", "no calls yet"));
}

// -- wiring -------------------------------------------------------------------------------

$("login").addEventListener("submit", start);
$("say").addEventListener("submit", (event) => {
  event.preventDefault();
  const text = $("say-text").value.trim();
  if (!text) return;
  $("say-text").value = "";
  send(text);
});
$("chat-new").addEventListener("click", newConversation);
$("chat-bot").addEventListener("change", newConversation);
$("chat-env").addEventListener("change", newConversation);
$("filters").addEventListener("submit", loadCalls);
$("replay").addEventListener("submit", replay);
$("map-bot").addEventListener("change", loadMap);
for (const button of document.querySelectorAll("#tabs button")) {
  button.addEventListener("click", () => show(button.dataset.tab));
}
start();
