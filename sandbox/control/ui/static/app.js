// campaign-sandbox inspector: a small page over the /_sandbox control API. No framework, no build step.
// Everything shown is built with DOM calls (text, never innerHTML), except e-mail HTML, which is rendered
// only inside an iframe with an empty sandbox attribute (no scripts, no forms, no same-origin access).
"use strict";

const API = "/_sandbox";
const MAX_ROWS = 1000;
const state = { tab: "requests", rows: [], selected: null, stream: null, tenants: new Set(), vendors: [], reasons: {} };
const $ = (selector) => document.querySelector(selector);

// ---- DOM and formatting helpers --------------------------------------------------------------------------
function h(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "class") node.className = value;
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}
const pretty = (value) => JSON.stringify(value, null, 2);
const time = (iso) => (iso || "").replace(/^.*T/, "").replace("Z", "");
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
function show(node, ...children) {  // replaceChildren, skipping absent parts (null, false) and flattening lists
  node.replaceChildren(...children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false));
}
function kvTable(pairs) {
  return h("table", { class: "kv" }, pairs.map(([k, v]) => h("tr", {}, h("td", {}, k), h("td", {}, v))));
}
function showError(message) {
  const box = $("#error");
  box.textContent = message || "";
  box.hidden = !message;
}
function reportErrors(promise) { return promise.catch((error) => showError(error.message)); }
function debounce(fn, ms) {
  let timer = null;
  return (...args) => { clearTimeout(timer); timer = setTimeout(() => fn(...args), ms); };
}

// ---- the control API, with the control token asked for once (on the first 401) ---------------------------
let token = sessionStorage.getItem("sandbox-token") || "";
async function call(path, options = {}) {
  for (let attempt = 0; ; attempt++) {
    const sent = token;
    const headers = { ...(options.headers || {}) };
    if (sent) headers["X-Sandbox-Token"] = sent;
    const response = await fetch(API + path, { ...options, headers });
    if (response.status !== 401 || attempt > 0) return response;
    if (token === sent) {  // nobody answered the prompt meanwhile: ask
      const given = window.prompt("This sandbox asks for its control token (--control-token):", "");
      if (!given) return response;
      token = given.trim();
      sessionStorage.setItem("sandbox-token", token);
    }
  }
}
async function json(path, options) {
  const response = await call(path, options);
  const body = await response.json().catch(() => null);
  if (!response.ok) {
    const message = body && body.error ? body.error.message : response.statusText;
    throw new Error(`${options && options.method || "GET"} ${API}${path}: ${response.status} ${message}`);
  }
  return body;
}
function tenantParam() { return $("#tenant").value.trim(); }
function query(params) {
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== "" && v !== null && v !== undefined) search.set(k, v);
  return search.toString();
}

// ---- tabs and tenant picker -----------------------------------------------------------------------------
function showTab(name) {
  state.tab = name;
  for (const button of document.querySelectorAll("#tabs button")) {
    button.classList.toggle("active", button.dataset.tab === name);
  }
  for (const section of document.querySelectorAll("section.tab")) section.hidden = section.id !== name;
  saveLocation();
  refreshTab();
}
function refreshTab() {
  const loaders = { deliveries: loadDeliveries, campaigns: loadCampaigns, audience: loadAudience };
  if (loaders[state.tab]) reportErrors(loaders[state.tab]());
}
// Braze and Netcore name the tenant by the API key: the page shows such tenants masked, as the HAR export
// does (the requests list gets them masked from the server already).
const KEY_TENANTS = new Set(["braze", "netcore"]);
function shownTenant(vendor, tenant) {
  if (!tenant || !KEY_TENANTS.has(vendor)) return tenant || "—";
  return "***" + (tenant.length > 12 ? tenant.slice(-4) : "");
}
function noteTenant(tenant) {  // masked tenants (API keys) are not offered: type the key to filter by it
  if (!tenant || tenant.startsWith("***") || state.tenants.has(tenant)) return;
  state.tenants.add(tenant);
  $("#tenants").append(h("option", { value: tenant }));
}
function saveLocation() {
  const params = { tab: state.tab === "requests" ? "" : state.tab, tenant: tenantParam(), ...requestFilters() };
  history.replaceState(null, "", location.pathname + (query(params) ? "?" + query(params) : ""));
}

// ---- requests: live list (server-sent events read with fetch, so the token header can be sent) -----------
function requestFilters() {
  const form = $("#filters");
  return { vendor: form.vendor.value, operation: form.operation.value.trim(),
           class: form.elements.namedItem("class").value, q: form.q.value.trim() };
}
function listQuery() { return query({ tenant: tenantParam(), ...requestFilters() }); }

async function openStream() {
  if (state.stream) state.stream.abort();
  const control = new AbortController();
  state.stream = control;
  clearRows();
  $("#har").href = `${API}/ui/requests.har?${listQuery()}`;
  let after = 0;
  while (!control.signal.aborted) {
    try {
      const response = await call(`/ui/live?${query({ after: after || "" })}&${listQuery()}`,
                                  { signal: control.signal });
      if (!response.ok) {
        const body = await response.json().catch(() => ({}));
        showError(`live feed: ${response.status} ${body.error ? body.error.message : ""}`);
        setLive(false);
        await sleep(3000);
        continue;
      }
      showError("");
      setLive(true);
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        let cut;
        while ((cut = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          const data = block.split("\n").filter((l) => l.startsWith("data: ")).map((l) => l.slice(6)).join("\n");
          if (!data) continue;
          const message = JSON.parse(data);
          after = message.last;
          if (message.reset) clearRows();
          addRows(message.rows);
        }
      }
    } catch (error) {
      if (control.signal.aborted) return;
    }
    setLive(false);
    await sleep(1000);
  }
}
function clearRows() {
  state.rows = [];
  $("#request-list tbody").replaceChildren();
  updateCount();
}
async function downloadHar(event) {  // fetched (not a plain link) so the control token is sent
  event.preventDefault();
  const response = await call(`/ui/requests.har?${listQuery()}`);
  if (!response.ok) {
    showError(`HAR download: ${response.status}`);
    return;
  }
  const url = URL.createObjectURL(await response.blob());
  const link = h("a", { href: url, download: "sandbox-requests.har" });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
function setLive(on) {
  const badge = $("#live");
  badge.textContent = on ? "live" : "offline";
  badge.classList.toggle("off", !on);
}
function addRows(rows) {
  if (!rows.length) return;
  const body = $("#request-list tbody");
  const fresh = state.rows.length > 0;
  for (const row of rows) {
    noteTenant(row.tenant);
    state.rows.push(row);
    const rejected = row.status >= 400;
    const tr = h("tr", { "data-id": row.id, class: (rejected ? "rejected " : "") + (fresh ? "fresh" : ""),
                         onclick: () => showDetail(row.id) },
      h("td", {}, time(new Date(row.received * 1000).toISOString())), h("td", {}, row.vendor || "—"),
      h("td", {}, row.operation || "—"),
      h("td", {}, row.method), h("td", { class: "path" }, row.path), h("td", { class: "status" }, row.status),
      h("td", { class: "tenant", title: row.tenant || "" }, row.tenant || ""), h("td", {}, row.duration_ms.toFixed(1)));
    body.prepend(tr);
  }
  while (state.rows.length > MAX_ROWS) {
    state.rows.shift();
    body.lastElementChild.remove();
  }
  updateCount();
  if (fresh) onNewRequests();
}
function updateCount() {
  $("#count").textContent = `${state.rows.length} shown` + (state.rows.length >= MAX_ROWS ? " (newest)" : "");
  $("#no-requests").hidden = state.rows.length > 0;
}
// New requests may have produced deliveries or campaigns: refresh the open tab (at most every 1.5 s).
const onNewRequests = debounce(() => { if (state.tab !== "requests") refreshTab(); }, 1500);

async function showDetail(id) {
  state.selected = id;
  for (const tr of document.querySelectorAll("#request-list tbody tr")) {
    tr.classList.toggle("selected", tr.dataset.id === String(id));
  }
  const panel = $("#detail");
  let entry;
  try {
    entry = await json(`/ui/requests/${id}`);
  } catch (error) {
    panel.replaceChildren(h("p", { class: "empty" }, error.message));
    return;
  }
  const rejected = entry.status >= 400;
  const curl = curlOf(entry);
  const curlBox = h("pre", { id: "curl", hidden: true }, curl);
  const notes = Object.keys(entry.notes || {}).length
    ? [h("h3", {}, "Notes and hints"), h("div", { class: "notes" }, h("pre", {}, pretty(entry.notes)))] : [];
  show(panel,
    h("h2", {}, `#${entry.id} ${entry.method} ${entry.path} → `,
      h("span", { class: "status" + (rejected ? " rejected" : "") }, entry.status)),
    h("p", { class: "meta" }, [entry.vendor || "no vendor", entry.operation || "no operation",
      `tenant ${entry.tenant || "—"}`, `${entry.duration_ms} ms`, entry.received_at].join(" · ")),
    h("p", {}, h("button", { type: "button", id: "copy-curl", onclick: () => copyCurl(curl, curlBox) },
      "Copy as curl"), " ", h("span", { class: "hint" }, "credentials are masked")),
    curlBox,
    ...notes,
    h("h3", {}, "Request headers"), kvTable(entry.headers),
    Object.keys(entry.query).length ? [h("h3", {}, "Query"),
      kvTable(Object.entries(entry.query).map(([k, v]) => [k, v.join(", ")]))] : null,
    h("h3", {}, entry.body_parsed ? "Body" : "Raw body (did not parse)"),
    h("pre", { id: "request-body" }, entry.body_parsed ? pretty(entry.body) : entry.raw_body || "(empty)"),
    h("h3", {}, "Answer"),
    kvTable([["status", String(entry.status)], ...(entry.response_headers.length ? entry.response_headers
      : [["content-type", entry.response_type]])]),
    h("pre", { id: "response-body" },
      entry.response !== null ? pretty(entry.response) : entry.response_text || "(empty)"));
}
function shellQuote(text) { return "'" + String(text).replace(/'/g, "'\\''") + "'"; }
function curlOf(entry) {
  const skip = new Set(["host", "content-length", "connection", "accept-encoding"]);
  const parts = ["curl", "-X", entry.method, shellQuote(entry.url)];
  for (const [name, value] of entry.headers) {
    if (!skip.has(name.toLowerCase())) parts.push("-H", shellQuote(`${name}: ${value}`));
  }
  if (entry.raw_body) parts.push("--data-raw", shellQuote(entry.raw_body));
  return parts.join(" ");
}
async function copyCurl(curl, box) {
  box.hidden = false;
  try {
    await navigator.clipboard.writeText(curl);
    $("#copy-curl").textContent = "Copied";
  } catch (error) {  // no clipboard (e.g. plain http from another host): the command is shown to copy by hand
    const range = document.createRange();
    range.selectNodeContents(box);
    getSelection().removeAllRanges();
    getSelection().addRange(range);
  }
}

// ---- deliveries: each message as the user would see it ---------------------------------------------------
function first(object, ...paths) {
  for (const path of paths) {
    let node = object;
    for (const part of path.split(".")) node = node && typeof node === "object" ? node[part] : undefined;
    if (node !== undefined && node !== null && node !== "") return node;
  }
  return undefined;
}
function textOf(value) { return typeof value === "string" ? value : value === undefined ? "" : pretty(value); }

function pushCard(delivery, content) {
  const alert = content.alert;
  const title = first(content, "title", "alert.title", "notification_title", "subject", "extra.title");
  const body = typeof alert === "string" ? alert
    : first(content, "body", "alert.body", "message", "msg", "text", "content");
  const image = first(content, "image_url", "asset_url", "image", "media_url", "mediaUrl", "imageUrl", "big_picture",
    "rich_media.url", "platform_specific.android.wzrk_bp", "platform_specific.ios.mutable-content-image");
  return h("div", { class: "push-card" },
    h("div", { class: "icon" }, (delivery.vendor || "?")[0].toUpperCase()),
    h("div", {},
      h("div", { class: "meta" }, `${delivery.platform || delivery.channel} · now`),
      h("div", { class: "title" }, textOf(title || "(no title)")),
      h("div", { class: "text" }, textOf(body)),
      typeof image === "string" ? h("img", { src: image, alt: "", loading: "lazy", referrerpolicy: "no-referrer" })
        : null));
}
function emailCard(delivery, content) {
  const html = first(content, "body", "html", "html_body", "content", "message", "text") || "";
  const frame = h("iframe", { sandbox: "", title: "e-mail body", referrerpolicy: "no-referrer" });
  frame.srcdoc = textOf(html);
  const extra = delivery.extra || {};
  return h("div", { class: "email" },
    h("div", { class: "email-head" },
      kvTable([["subject", textOf(first(content, "subject", "subject_line", "title") || "(no subject)")],
        ["from", textOf(first(content, "from", "from_email", "sender") || senderOf(content))],
        ["to", textOf(extra.address || delivery.user || "—")]])),
    frame);
}
function senderOf(content) {
  const name = first(content, "sender_name", "from_name");
  const address = first(content, "sender_email", "reply_to");
  return name && address ? `${name} <${address}>` : name || address || "—";
}
function bubble(delivery, content) {
  const text = first(content, "body", "message", "text", "msg", "content", "template.body") ?? content;
  return h("div", { class: "bubble " + delivery.channel }, textOf(text));
}
function renderMessage(delivery) {
  const content = delivery.content && typeof delivery.content === "object" ? delivery.content
    : { body: delivery.content };
  switch (delivery.channel) {
    case "push": case "webpush": case "notificationinbox": case "content_card":
      return pushCard(delivery, content);
    case "email":
      return emailCard(delivery, content);
    case "sms": case "whatsapp":
      return bubble(delivery, content);
    default:  // webhook and anything new: the body as sent
      return h("pre", {}, pretty(delivery.content));
  }
}
function deliveryCard(delivery) {
  const extra = delivery.extra || {};
  return h("div", { class: "card " + delivery.channel, "data-channel": delivery.channel, "data-id": delivery.id },
    h("div", {}, h("span", { class: "tag" }, delivery.vendor), h("span", { class: "tag" }, delivery.channel),
      delivery.platform ? h("span", { class: "tag" }, delivery.platform) : null,
      delivery.known ? null : h("span", { class: "tag unknown" }, "not in population")),
    renderMessage(delivery),
    h("div", { class: "foot" },
      h("div", {}, "to ", h("a", { class: "user", onclick: () => openProfile(delivery.user) }, delivery.user || "?"),
        delivery.device ? ` · device ${String(delivery.device).slice(0, 16)}…` : ""),
      h("div", {}, `${delivery.time} · campaign ${delivery.campaign_id ?? "—"}` +
        (extra.campaign_name ? ` (${extra.campaign_name})` : "") +
        ` · tenant ${shownTenant(delivery.vendor, delivery.tenant)}`),
      h("details", {}, h("summary", {}, "details"), h("pre", {}, pretty({ content: delivery.content, extra })))));
}
function sendLabel(delivery, extra) {
  const what = delivery.campaign_id ? `campaign ${delivery.campaign_id}`
    : extra.dispatch_id ? `dispatch ${extra.dispatch_id}` : `send at ${delivery.time}`;
  return [delivery.vendor, what, extra.campaign_name, extra.send_id && `send ${extra.send_id}`,
          extra.tag_group && `tag group ${extra.tag_group}`].filter(Boolean).join(" · ");
}
function runKey(item) {  // deliveries and skipped users of one campaign (or one send without a campaign) meet here
  return item.campaign_id ? `${item.vendor}|campaign|${item.campaign_id}` : `${item.vendor}|send|${item.time}`;
}
const REASON_LABELS = { no_channel: "no channel", control_group: "control group", frequency_capped: "frequency cap",
                        not_opted_in: "not opted in", not_in_audience: "not in audience", not_found: "not found" };
const SKIPPED_OPEN = 20;  // a campaign's skipped users start folded when there are more
function reasonLabel(reason) { return REASON_LABELS[reason] || reason; }
function skippedSummary(items) {  // "unsubscribed 3 · control group 5" (records beyond a run's cap count for many)
  const counts = new Map();
  for (const item of items) counts.set(item.reason, (counts.get(item.reason) || 0) + item.count);
  return [...counts].map(([reason, count]) => `${reasonLabel(reason)} ${count}`).join(" · ");
}
function skippedTable(items, byUser) {
  return h("table", { class: "skipped" },
    h("thead", {}, h("tr", {}, h("th", {}, byUser ? "campaign / send" : "user"), h("th", {}, "channel"),
      h("th", {}, "reason"), h("th", {}, "detail"))),
    h("tbody", {}, items.map((item) => h("tr", { "data-reason": item.reason },
      h("td", {}, byUser ? (item.campaign_id ? `${item.vendor} · campaign ${item.campaign_id}`
                                             : `${item.vendor} · send at ${item.time}`)
        : item.user === null ? `${item.count} more users` : h("a", { class: "user", onclick: () => openProfile(item.user) },
          item.user)),
      h("td", {}, [item.channel, item.platform].filter(Boolean).join(" · ")),
      h("td", { class: "reason", title: state.reasons[item.reason] || "" }, reasonLabel(item.reason)),
      h("td", { class: "detail-text" }, [item.detail || state.reasons[item.reason] || "",
                                         item.known ? "" : " (not in population)"].join(""))))));
}
async function loadDeliveries() {
  const form = $("#delivery-filters");
  const params = { tenant: tenantParam(), vendor: form.vendor.value, channel: form.channel.value,
                   campaign_id: form.campaign_id.value.trim(), user: form.user.value.trim(), limit: 500 };
  const [found, skipped] = await Promise.all([json(`/deliveries?${query(params)}`),
                                              json(`/deliveries/skipped?${query(params)}`)]);
  state.reasons = skipped.reasons;
  const byUser = form.group.value === "user";
  const groups = new Map();
  const group = (key, label) => {
    if (!groups.has(key)) groups.set(key, { label, sent: [], skipped: [] });
    return groups.get(key);
  };
  for (const delivery of found.deliveries.slice().reverse()) {  // newest first
    if (!KEY_TENANTS.has(delivery.vendor)) noteTenant(delivery.tenant);
    const key = byUser ? `user ${delivery.user}` : runKey(delivery);
    group(key, byUser ? key : sendLabel(delivery, delivery.extra || {})).sent.push(delivery);
  }
  for (const item of skipped.skipped.slice().reverse()) {
    if (byUser && item.user === null) continue;  // users beyond a run's cap are counted, not named
    const key = byUser ? `user ${item.user}` : runKey(item);
    group(key, byUser ? key : sendLabel(item, {})).skipped.push(item);
  }
  $("#delivery-count").textContent = `${found.deliveries.length} of ${found.total} deliveries · ` +
    `${skipped.total} skipped` + (skipped.total ? ` (${skippedSummary(skipped.skipped)})` : "");
  $("#delivery-groups").replaceChildren(...(groups.size ? [...groups].map(([key, g]) =>
    h("div", { class: "group", "data-key": key },
      h("h3", {}, `${g.label} — ${g.sent.length} sent`,
        g.skipped.length ? h("span", { class: "skipped-counts" }, ` · skipped: ${skippedSummary(g.skipped)}`) : null),
      g.skipped.length ? h("details", { class: "skipped-users", open: byUser || g.skipped.length <= SKIPPED_OPEN },
        h("summary", {}, byUser ? "Why this user was skipped" : `Skipped users (${g.skipped.length})`),
        skippedTable(g.skipped, byUser)) : null,
      g.sent.length ? h("div", { class: "cards" }, g.sent.map(deliveryCard)) : null))
    : [h("p", { class: "empty" }, "Nothing would have reached a user yet.")]));
}

// ---- campaigns, vendor data and the clock ---------------------------------------------------------------
async function loadCampaigns() {
  const tenant = tenantParam();
  const [clock, found] = await Promise.all([json(`/clock?${query({ tenant })}`),
                                            json(`/deliveries?${query({ tenant })}`)]);
  showClock(clock);
  const sends = new Map();
  for (const d of found.deliveries) {
    const key = `${d.vendor}\u0000${d.campaign_id}\u0000${d.tenant}`;
    const row = sends.get(key) || { vendor: d.vendor, campaign: d.campaign_id, tenant: d.tenant,
                                    channels: new Set(), count: 0, users: new Set(), last: "" };
    row.channels.add(d.channel);
    row.count += 1;
    row.users.add(d.user);
    row.last = d.time > row.last ? d.time : row.last;
    sends.set(key, row);
  }
  $("#campaign-sends tbody").replaceChildren(...[...sends.values()].map((r) => h("tr", {},
    h("td", {}, r.vendor), h("td", {}, r.campaign ?? "—"), h("td", {}, shownTenant(r.vendor, r.tenant)),
    h("td", {}, [...r.channels].join(", ")), h("td", {}, r.count), h("td", {}, r.users.size), h("td", {}, r.last))));
  const sections = [];
  for (const vendor of state.vendors) {
    const response = await call(`/ui/vendors/${vendor.name}?${query({ tenant })}`);
    const data = response.ok ? await response.json() : vendor;
    sections.push(h("h2", {}, vendor.name), vendorData(data));
  }
  $("#vendor-data").replaceChildren(...sections);
}
function vendorData(data) {
  const skip = ["name", "vendor", "tenant", "collections", "state", "strict"];
  const summary = Object.entries(data).filter(([k, v]) => !skip.includes(k) && !Array.isArray(v));
  const parts = [summary.length ? kvTable(summary.map(([k, v]) => [k, textOf(v)])) : null];
  const tables = { ...(data.collections || {}), ...(data.state || {}) };
  for (const [name, items] of Object.entries(tables)) {
    parts.push(h("h3", {}, `${name.replace(/_/g, " ")} (${items.length})`), itemsTable(items, data.vendor));
  }
  return h("div", { class: "vendor" }, parts);
}
function cellOf(value) {  // long nested values (messages, steps...) fold away
  if (value === null || value === undefined) return "";
  if (typeof value !== "object" && String(value).length <= 120) return value;
  const text = typeof value === "object" ? JSON.stringify(value) : String(value);
  if (text.length <= 80) return text;
  if (typeof value !== "object") return h("details", {}, h("summary", {}, `${text.length} characters`), h("pre", {}, text));
  const count = Array.isArray(value) ? value.length : Object.keys(value).length;
  const size = `${count} ${Array.isArray(value) ? "item" : "key"}${count === 1 ? "" : "s"}`;
  return h("details", {}, h("summary", {}, size), h("pre", {}, pretty(value)));
}
function itemsTable(items, vendor) {
  if (!items.length) return h("p", { class: "empty" }, "none");
  const columns = [...new Set(items.flatMap((item) => Object.keys(item)))].slice(0, 9);
  return h("table", {}, h("thead", {}, h("tr", {}, columns.map((c) => h("th", {}, c)))),
    h("tbody", {}, items.map((item) => h("tr", {}, columns.map((c) => {
      const value = c === "tenant" && vendor ? shownTenant(vendor, item[c]) : item[c];
      return h("td", { class: "path" }, cellOf(value));
    })))));
}
function showClock(clock) {
  $("#clock-now").textContent = clock.now;
  $("#clock-scope").textContent = tenantParam() ? `tenant ${tenantParam()}` : "every tenant";
}
async function advanceClock(seconds) {  // the picked tenant's clock only, or every tenant's
  const clock = await json(`/clock?${query({ tenant: tenantParam() })}`, {
    method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ advance_seconds: seconds }) });
  showClock(clock);
  await loadCampaigns();
}

// ---- audience: population summary, estimate playground, profiles ------------------------------------------
const EXAMPLES = {
  clevertap: { common_profile_properties: { profile_fields: [
    { name: "Customer Type", operator: "equals", value: ["Gold", "Platinum"] }] } },
  braze: { AND: [{ custom_attribute: { custom_attribute_name: "Plan", comparison: "equals", value: "plus" } },
    { email_subscription_status: { comparison: "is", value: "subscribed" } }] },
  netcore: { include_list: { list_ids: ["151"] } },
};
let populationShown = null;  // the tenant whose summary is shown
async function loadAudience() {
  if (populationShown === tenantParam()) return;
  const summary = await json(`/ui/population?${query({ tenant: tenantParam() })}`);
  populationShown = tenantParam();
  const stat = (title, rows) => h("div", { class: "stat" }, h("h3", {}, title),
    h("table", {}, rows.map(([k, v]) => h("tr", {}, h("td", {}, k), h("td", { class: "num" }, v)))));
  const reach = Object.entries(summary.reach).flatMap(([channel, counts]) =>
    Object.entries(counts).map(([key, n]) => [key === channel ? channel : `${channel} ${key}`, n]));
  const p = summary.population;
  show($("#population"), h("h2", {}, "Population"), h("div", { class: "stats" },
    stat("Users", [["total", summary.counted_profiles], ["seed", p.seed], ["reference date", p.reference_date]]),
    stat("Reachable per channel", reach),
    stat("Tiers", Object.entries(summary.tiers)),
    stat("Countries (top 10)", Object.entries(summary.countries)),
    stat("Top events", Object.entries(summary.top_events))));
}
function setExample() {
  $("#p-audience").value = pretty(EXAMPLES[$("#p-vendor").value] || {});
}
async function runEstimate(event) {
  event.preventDefault();
  const form = $("#playground");
  const out = $("#estimate");
  let audience;
  try {
    audience = JSON.parse(form.audience.value || "{}");
  } catch (error) {
    out.replaceChildren(h("p", { class: "status rejected" }, `not JSON: ${error.message}`));
    return;
  }
  const request = { vendor: form.vendor.value, audience, sample: 20 };
  if (form.channel.value) request.channel = form.channel.value;
  if (tenantParam()) request.tenant = tenantParam();
  const response = await call("/audience/estimate", { method: "POST", body: JSON.stringify(request),
                                                       headers: { "Content-Type": "application/json" } });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    out.replaceChildren(h("p", { class: "status rejected", id: "estimate-error" },
      body.error ? body.error.message : response.statusText));
    return;
  }
  out.replaceChildren(
    h("h3", {}, "Estimate"),
    kvTable([["matched users", h("strong", { id: "matched" }, body.matched)],
      ["reach", pretty(body.estimates)], ["channel", body.channel || "—"]]),
    h("h3", {}, "Sample"),
    h("p", { id: "sample" }, body.sample.length ? body.sample.flatMap((id) =>
      [h("a", { class: "user", onclick: () => openProfile(id) }, id), " "]) : "nobody matches"),
    h("details", {}, h("summary", {}, "neutral audience tree"), h("pre", {}, pretty(body.tree))));
}
async function openProfile(identity) {
  if (state.tab !== "audience") showTab("audience");
  const panel = $("#profile");
  let profile;
  try {
    profile = await json(`/profiles/${encodeURIComponent(identity)}?${query({ tenant: tenantParam() })}`);
  } catch (error) {
    panel.replaceChildren(h("p", { class: "empty" }, error.message));
    return;
  }
  const { events = [], devices = [], reachability = {}, properties = {}, ...fields } = profile;
  panel.replaceChildren(
    h("h2", {}, `Profile ${profile.identity}`),
    kvTable(Object.entries(fields).map(([k, v]) => [k, textOf(v)])),
    h("h3", {}, "Properties"), kvTable(Object.entries(properties).map(([k, v]) => [k, textOf(v)])),
    h("h3", {}, "Reachability"), kvTable(Object.entries(reachability).map(([k, v]) => [k, textOf(v)])),
    h("h3", {}, "Devices"), itemsTable(devices),
    h("h3", {}, `Events (${events.length}, newest first)`),
    h("table", {}, events.slice().reverse().map((e) => h("tr", {},
      h("td", {}, new Date(e.ts * 1000).toISOString().replace(".000Z", "Z")), h("td", {}, e.name),
      h("td", { class: "path" }, JSON.stringify(e.props || {}))))));
  panel.scrollIntoView();
}

// ---- start ----------------------------------------------------------------------------------------------
async function start() {
  const params = new URLSearchParams(location.search);
  $("#tenant").value = params.get("tenant") || "";
  const form = $("#filters");
  for (const name of ["vendor", "operation", "class", "q"]) {
    form.elements.namedItem(name).value = params.get(name) || "";
  }
  for (const button of document.querySelectorAll("#tabs button")) {
    button.addEventListener("click", () => showTab(button.dataset.tab));
  }
  const refilter = debounce(() => { saveLocation(); openStream(); }, 300);
  form.addEventListener("input", refilter);
  form.addEventListener("submit", (e) => e.preventDefault());
  $("#tenant").addEventListener("input", debounce(() => { saveLocation(); openStream(); refreshTab(); }, 400));
  $("#delivery-filters").addEventListener("input", debounce(() => reportErrors(loadDeliveries()), 300));
  $("#deliveries-refresh").addEventListener("click", () => reportErrors(loadDeliveries()));
  for (const button of document.querySelectorAll("[data-advance]")) {
    button.addEventListener("click", () => reportErrors(advanceClock(Number(button.dataset.advance))));
  }
  $("#p-vendor").addEventListener("change", setExample);
  $("#har").addEventListener("click", (event) => reportErrors(downloadHar(event)));
  $("#playground").addEventListener("submit", (event) => reportErrors(runEstimate(event)));
  openStream();
  try {
    const [vendors, routes] = await Promise.all([json("/vendors"), json("/routes")]);
    state.vendors = vendors.vendors;
    for (const vendor of state.vendors) {
      form.vendor.append(h("option", { value: vendor.name }, vendor.name));
      $("#delivery-filters .vendor-select").append(h("option", { value: vendor.name }, vendor.name));
      $("#p-vendor").append(h("option", { value: vendor.name }, vendor.name));
    }
    form.vendor.value = params.get("vendor") || "";
    const operations = [...new Set(routes.routes.map((r) => r.operation || r.name).filter(Boolean))].sort();
    $("#operations").replaceChildren(...operations.map((op) => h("option", { value: op })));
    setExample();
  } catch (error) {
    showError(error.message);
  }
  showTab(params.get("tab") || "requests");
}
document.addEventListener("DOMContentLoaded", start);
