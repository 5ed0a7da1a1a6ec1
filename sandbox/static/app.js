// The sandbox page: a customer's private chat and the staff group, drawn from the emulator's
// state and redrawn on server-sent events. Every text is put in with textContent, so nothing
// a user or the bot wrote is ever read as HTML.
"use strict";

const state = {
  info: null,
  clockOffsetMs: 0,
  customerId: null,
  staffId: null,
  threadId: null, // null: the group's General topic
  topics: [],
  toastTimers: {},
};

const panes = {
  customer: { reply: null, edit: null, messages: [] },
  staff: { reply: null, edit: null, messages: [] },
};

const $ = (id) => document.getElementById(id);

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = text;
  return node;
}

async function api(path, body) {
  const options = body === undefined ? {} : {
    method: "POST",
    headers: body instanceof FormData ? {} : { "Content-Type": "application/json" },
    body: body instanceof FormData ? body : JSON.stringify(body),
  };
  const response = await fetch(path, options);
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const message = data.error || `${response.status} ${response.statusText}`;
    showStatus(message, true);
    throw new Error(message);
  }
  return data;
}

function showStatus(text, isError) {
  const status = $("status");
  status.textContent = text;
  status.style.color = isError ? "#ffd7d7" : "";
}

// ------------------------------------------------------------------ Telegram's formatting

const SAFE_LINK = /^(https?:|tg:|mailto:)/i;

function entityElement(entity, covered, pane) {
  switch (entity.type) {
    case "bold": return el("b");
    case "italic": return el("i");
    case "underline": return el("u");
    case "strikethrough": return el("s");
    case "spoiler": {
      const node = el("span", "spoiler");
      node.title = "Spoiler: click to show";
      node.addEventListener("click", () => node.classList.toggle("revealed"));
      return node;
    }
    case "code": return el("code");
    case "pre": {
      const node = el("pre");
      const code = el("code");
      if (entity.language) code.dataset.language = entity.language;
      node.appendChild(code);
      return { outer: node, inner: code };
    }
    case "text_link": {
      if (!SAFE_LINK.test(entity.url || "")) return el("span");
      const node = el("a");
      node.href = entity.url;
      node.target = "_blank";
      node.rel = "noopener noreferrer";
      return node;
    }
    case "url": {
      const node = el("a");
      node.href = /^[a-z]+:/i.test(covered) ? covered : `http://${covered}`;
      if (!SAFE_LINK.test(node.href)) return el("span");
      node.target = "_blank";
      node.rel = "noopener noreferrer";
      return node;
    }
    case "email": {
      const node = el("a");
      node.href = `mailto:${covered}`;
      return node;
    }
    case "phone_number": {
      const node = el("a");
      node.href = `tel:${covered}`;
      return node;
    }
    case "bot_command": {
      const node = el("a", "cmd");
      node.href = "#";
      node.title = "Send this command";
      node.addEventListener("click", (event) => {
        event.preventDefault();
        sendText(pane, covered.split("@")[0]);
      });
      return node;
    }
    case "blockquote": return el("blockquote");
    case "expandable_blockquote": {
      const node = el("blockquote", "expandable");
      node.addEventListener("click", () => node.classList.toggle("expanded"));
      return node;
    }
    case "mention":
    case "text_mention": return el("span", "mention");
    case "hashtag":
    case "cashtag": return el("span", "tag");
    default: return el("span");
  }
}

// Entities are in UTF-16 code units, which is what JavaScript strings index by.
function buildText(parent, text, start, end, entities, pane) {
  let position = start;
  let index = 0;
  while (index < entities.length) {
    const entity = entities[index];
    const entityEnd = Math.min(entity.offset + entity.length, end);
    if (entity.offset < position) { index += 1; continue; }
    if (entity.offset >= end) break;
    if (entity.offset > position) parent.appendChild(document.createTextNode(text.slice(position, entity.offset)));
    const inner = [];
    let next = index + 1;
    while (next < entities.length && entities[next].offset < entityEnd) {
      if (entities[next].offset + entities[next].length <= entityEnd) inner.push(entities[next]);
      next += 1;
    }
    const made = entityElement(entity, text.slice(entity.offset, entityEnd), pane);
    const outer = made.outer || made;
    buildText(made.inner || made, text, entity.offset, entityEnd, inner, pane);
    parent.appendChild(outer);
    position = entityEnd;
    index = next;
  }
  if (position < end) parent.appendChild(document.createTextNode(text.slice(position, end)));
}

function formatted(text, entities, pane) {
  const node = el("div", "text");
  const sorted = (entities || []).slice().sort((a, b) => a.offset - b.offset || b.length - a.length);
  buildText(node, text, 0, text.length, sorted, pane);
  return node;
}

// ------------------------------------------------------------------------------ messages

function personName(user) {
  if (!user) return "";
  return [user.first_name, user.last_name].filter(Boolean).join(" ");
}

function timeOf(message) {
  const zone = state.info ? state.info.timezone : "UTC";
  const options = { timeZone: zone, day: "2-digit", month: "2-digit", hour: "2-digit", minute: "2-digit" };
  return new Intl.DateTimeFormat("en-GB", options).format(new Date(message.date * 1000));
}

function summary(message) {
  if (message.text) return message.text;
  if (message.caption) return message.caption;
  if (message.photo) return "🖼 Photo";
  if (message.document) return `📄 ${message.document.file_name || "Document"}`;
  if (message.contact) return `📞 ${message.contact.phone_number}`;
  return "Message";
}

function mediaOf(message) {
  const box = el("div", "media");
  if (message.photo && message.photo.length) {
    const largest = message.photo[message.photo.length - 1];
    const img = el("img");
    img.alt = "photo";
    img.loading = "lazy";
    img.src = `/api/file/${encodeURIComponent(largest.file_id)}`;
    box.appendChild(img);
    return box;
  }
  for (const kind of ["document", "video", "audio", "voice", "animation", "sticker", "video_note"]) {
    const file = message[kind];
    if (!file) continue;
    const name = file.file_name || kind;
    const link = el("a", "file", `📄 ${name}`);
    link.href = `/api/file/${encodeURIComponent(file.file_id)}?name=${encodeURIComponent(name)}`;
    link.download = name;
    box.appendChild(link);
    return box;
  }
  if (message.contact) {
    const card = el("div", "contact-card", `📞 ${personName(message.contact)} · ${message.contact.phone_number}`);
    box.appendChild(card);
    return box;
  }
  if (message.location) {
    box.appendChild(el("div", "", `📍 ${message.location.latitude}, ${message.location.longitude}`));
    return box;
  }
  return null;
}

function inlineKeyboard(message, pane, chatId) {
  const markup = message.reply_markup;
  if (!markup || !markup.inline_keyboard) return null;
  const box = el("div", "inline-keyboard");
  for (const row of markup.inline_keyboard) {
    const line = el("div", "inline-row");
    for (const button of row) {
      const node = el("button", "inline-btn", button.text);
      node.type = "button";
      if (button.callback_data !== undefined) {
        node.dataset.data = button.callback_data;
        node.addEventListener("click", () => press(pane, chatId, message.message_id, button.callback_data));
      } else if (button.url) {
        node.classList.add("link");
        node.addEventListener("click", () => {
          if (SAFE_LINK.test(button.url)) window.open(button.url, "_blank", "noopener");
        });
      } else {
        node.disabled = true;
        node.title = "Not available in the sandbox";
      }
      line.appendChild(node);
    }
    box.appendChild(line);
  }
  return box;
}

function viewerId(pane) {
  return pane === "customer" ? state.customerId : state.staffId;
}

function messageNode(message, pane, chatId) {
  if (message.forum_topic_created) {
    return el("div", "service", `Topic created: ${message.forum_topic_created.name}`);
  }
  const from = message.from || {};
  const mine = from.id === viewerId(pane);
  const node = el("div", `msg ${mine ? "out" : "in"}`);
  node.dataset.messageId = message.message_id;
  node.dataset.from = from.id;
  const bubble = el("div", "bubble");
  if (pane === "staff" || from.is_bot) {
    if (!mine) bubble.appendChild(el("div", "sender", from.is_bot ? `🤖 ${personName(from)}` : personName(from)));
  }
  const quoted = message.reply_to_message;
  const isTopicRoot = quoted && quoted.forum_topic_created;
  if (quoted && !isTopicRoot) {
    const quote = el("div", "quote");
    quote.appendChild(el("span", "quote-from", personName(quoted.from)));
    quote.appendChild(el("span", "quote-text", summary(quoted)));
    quote.addEventListener("click", () => highlight(pane, quoted.message_id));
    bubble.appendChild(quote);
  }
  const media = mediaOf(message);
  if (media) bubble.appendChild(media);
  if (message.text !== undefined) bubble.appendChild(formatted(message.text, message.entities, pane));
  if (message.caption !== undefined) bubble.appendChild(formatted(message.caption, message.caption_entities, pane));

  const meta = el("div", "meta");
  const reply = el("button", "reply-action", "↩");
  reply.type = "button";
  reply.title = "Reply";
  reply.addEventListener("click", () => startReply(pane, message));
  meta.appendChild(reply);
  if (mine && message.text !== undefined) {
    const edit = el("button", "edit-action", "✎");
    edit.type = "button";
    edit.title = "Edit";
    edit.addEventListener("click", () => startEdit(pane, message));
    meta.appendChild(edit);
  }
  if (message.edit_date) meta.appendChild(el("span", "edited", "edited"));
  meta.appendChild(el("span", "time", timeOf(message)));
  bubble.appendChild(meta);
  node.appendChild(bubble);
  const keyboard = inlineKeyboard(message, pane, chatId);
  if (keyboard) node.appendChild(keyboard);
  return node;
}

function renderMessages(pane, container, messages, chatId, emptyText) {
  const atBottom = container.scrollHeight - container.scrollTop - container.clientHeight < 40;
  container.replaceChildren();
  if (!messages.length) container.appendChild(el("div", "empty", emptyText));
  for (const message of messages) container.appendChild(messageNode(message, pane, chatId));
  if (atBottom || panes[pane].forceScroll) container.scrollTop = container.scrollHeight;
  panes[pane].forceScroll = false;
}

function highlight(pane, messageId) {
  const container = $(`${pane}-messages`);
  const node = container.querySelector(`[data-message-id="${messageId}"]`);
  if (!node) return;
  node.scrollIntoView({ block: "center" });
  node.classList.add("highlight");
  setTimeout(() => node.classList.remove("highlight"), 1200);
}

// ---------------------------------------------------------------------------- customer

function renderReplyKeyboard(markup) {
  const box = $("customer-keyboard");
  box.replaceChildren();
  if (!markup || !markup.keyboard) return;
  for (const row of markup.keyboard) {
    const line = el("div", "reply-row");
    for (const button of row) {
      const text = typeof button === "string" ? button : button.text;
      const node = el("button", "reply-btn", text);
      node.type = "button";
      node.addEventListener("click", () => {
        if (button.request_contact) {
          shareContact();
        } else {
          sendText("customer", text, { from_keyboard: true });
        }
      });
      line.appendChild(node);
    }
    box.appendChild(line);
  }
}

async function loadCustomer() {
  if (state.customerId === null) return;
  const data = await api(`/api/chat/${state.customerId}`);
  panes.customer.messages = data.messages;
  renderMessages("customer", $("customer-messages"), data.messages, state.customerId,
    "No messages here yet. Send /start to meet the bot.");
  renderReplyKeyboard(data.reply_keyboard);
}

// ------------------------------------------------------------------------------- staff

function renderTopics() {
  const list = $("topic-list");
  list.replaceChildren();
  const general = el("button", `topic${state.threadId === null ? " selected" : ""}`);
  general.type = "button";
  general.appendChild(el("span", "topic-name", "# General"));
  general.addEventListener("click", () => selectTopic(null));
  list.appendChild(general);
  for (const topic of state.topics) {
    const node = el("button", `topic${topic.thread_id === state.threadId ? " selected" : ""}${topic.closed ? " closed" : ""}`);
    node.type = "button";
    node.dataset.threadId = topic.thread_id;
    node.title = topic.name;
    node.appendChild(el("span", "topic-name", topic.name));
    node.addEventListener("click", () => selectTopic(topic.thread_id));
    list.appendChild(node);
  }
  const current = state.topics.find((t) => t.thread_id === state.threadId);
  if (state.threadId !== null && !current) state.threadId = null;
  $("topic-title").textContent = current ? current.name : "# General";
}

async function loadStaff() {
  const chatId = state.info.staff_chat.id;
  const query = state.threadId === null ? "" : `?thread=${state.threadId}`;
  const data = await api(`/api/chat/${chatId}${query}`);
  state.topics = data.topics;
  renderTopics();
  panes.staff.messages = data.messages;
  renderMessages("staff", $("staff-messages"), data.messages, chatId,
    state.threadId === null ? "The group's general topic: escalations and notices land here." : "No messages in this topic yet.");
}

function selectTopic(threadId) {
  state.threadId = threadId;
  panes.staff.forceScroll = true;
  cancelBanner("staff");
  loadStaff();
}

// ----------------------------------------------------------------------------- actions

function target(pane) {
  if (pane === "customer") return { user_id: state.customerId };
  return { user_id: state.staffId, chat_id: state.info.staff_chat.id, thread_id: state.threadId };
}

async function sendText(pane, text, extra) {
  const body = { ...target(pane), text, ...(extra || {}) };
  if (panes[pane].reply) body.reply_to = panes[pane].reply;
  await api("/api/message", body);
  cancelBanner(pane);
  panes[pane].forceScroll = true;
}

async function press(pane, chatId, messageId, data) {
  await api("/api/press", { user_id: viewerId(pane), chat_id: chatId, message_id: messageId, data });
}

async function shareContact() {
  await api("/api/contact", { user_id: state.customerId });
  panes.customer.forceScroll = true;
}

async function sendFiles(pane, files) {
  const form = new FormData();
  for (const [key, value] of Object.entries(target(pane))) {
    if (value !== null && value !== undefined) form.append(key, String(value));
  }
  const input = $(`${pane}-input`);
  if (input.value.trim()) form.append("caption", input.value);
  if (panes[pane].reply) form.append("reply_to", String(panes[pane].reply));
  for (const file of files) form.append("file", file, file.name);
  await api("/api/files", form);
  input.value = "";
  cancelBanner(pane);
  panes[pane].forceScroll = true;
}

function startReply(pane, message) {
  panes[pane].reply = message.message_id;
  panes[pane].edit = null;
  showBanner(pane, `Reply to ${personName(message.from)}: ${summary(message)}`);
  $(`${pane}-input`).focus();
}

function startEdit(pane, message) {
  panes[pane].edit = message.message_id;
  panes[pane].reply = null;
  showBanner(pane, "Editing the message");
  const input = $(`${pane}-input`);
  input.value = message.text;
  input.focus();
}

function showBanner(pane, text) {
  const banner = $(`${pane}-banner`);
  banner.querySelector(".banner-text").textContent = text;
  banner.hidden = false;
}

function cancelBanner(pane) {
  panes[pane].reply = null;
  panes[pane].edit = null;
  $(`${pane}-banner`).hidden = true;
}

function showToast(pane, text, alertText) {
  if (alertText) {
    window.alert(text);
    return;
  }
  const toast = $(`${pane}-toast`);
  toast.textContent = text;
  toast.hidden = false;
  clearTimeout(state.toastTimers[pane]);
  state.toastTimers[pane] = setTimeout(() => { toast.hidden = true; }, 2500);
}

function wireComposer(pane) {
  const form = $(`${pane}-form`);
  const input = $(`${pane}-input`);
  const fileInput = form.querySelector(".file-input");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = input.value;
    if (!text.trim()) return;
    if (panes[pane].edit) {
      const chatId = pane === "customer" ? state.customerId : state.info.staff_chat.id;
      await api("/api/edit", { user_id: viewerId(pane), chat_id: chatId, message_id: panes[pane].edit, text });
      cancelBanner(pane);
    } else {
      await sendText(pane, text);
    }
    input.value = "";
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  form.querySelector('[data-action="attach"]').addEventListener("click", () => fileInput.click());
  fileInput.addEventListener("change", async () => {
    if (fileInput.files.length) await sendFiles(pane, Array.from(fileInput.files));
    fileInput.value = "";
  });
  $(`${pane}-banner`).querySelector(".banner-close").addEventListener("click", () => {
    if (panes[pane].edit) input.value = "";
    cancelBanner(pane);
  });
}

// ------------------------------------------------------------------------- clock, seed

function tickClock() {
  if (!state.info) return;
  const now = new Date(Date.now() + state.clockOffsetMs);
  const options = { timeZone: state.info.timezone, weekday: "short", day: "2-digit", month: "short", hour: "2-digit", minute: "2-digit", second: "2-digit" };
  $("clock").textContent = new Intl.DateTimeFormat("en-GB", options).format(now);
}

function setClock(iso) {
  state.clockOffsetMs = new Date(iso).getTime() - Date.now();
  tickClock();
}

async function advance(step) {
  const data = await api("/api/clock", { step });
  setClock(data.now);
  showStatus(`Clock moved: +1 ${step}. Sweeps run within seconds.`);
}

async function seed() {
  const button = $("seed");
  button.disabled = true;
  showStatus("Seeding a week…");
  try {
    const result = await api("/api/seed", {});
    showStatus(result.summary || "Seeded.");
  } finally {
    button.disabled = false;
  }
}

// ------------------------------------------------------------------------ live updates

const pending = { customer: false, staff: false };

function schedule(pane) {
  if (pending[pane]) return;
  pending[pane] = true;
  setTimeout(() => {
    pending[pane] = false;
    (pane === "customer" ? loadCustomer() : loadStaff()).catch(() => {});
  }, 60);
}

function listen() {
  const source = new EventSource("/api/events");
  source.onmessage = (message) => {
    const event = JSON.parse(message.data);
    if (event.type === "clock") {
      setClock(event.now);
      return;
    }
    if (event.type === "toast") {
      if (event.user_id === state.customerId) showToast("customer", event.text, event.show_alert);
      if (event.user_id === state.staffId) showToast("staff", event.text, event.show_alert);
      return;
    }
    if (event.type === "status") {
      showStatus(event.text);
      return;
    }
    if (event.type === "seeded") {
      showStatus(event.text);
      refreshCustomers().catch(() => {});
      schedule("customer");
      schedule("staff");
      return;
    }
    if (event.chat_id === state.customerId) schedule("customer");
    if (state.info && event.chat_id === state.info.staff_chat.id) schedule("staff");
  };
  source.onopen = () => {
    schedule("customer");
    schedule("staff");
  };
}

// ------------------------------------------------------------------------------- start

function fillCustomers() {
  const select = $("customer-select");
  select.replaceChildren();
  for (const customer of state.info.customers) {
    const option = el("option", "", `${customer.name} (${customer.language})`);
    option.value = customer.id;
    select.appendChild(option);
  }
  if (state.customerId !== null) select.value = String(state.customerId);
}

async function refreshCustomers() {
  state.info = await api("/api/state");
  fillCustomers();
}

async function start() {
  state.info = await api("/api/state");
  setClock(state.info.now);
  setInterval(tickClock, 1000);
  const customers = $("customer-select");
  fillCustomers();
  state.customerId = state.info.customers[0].id;
  customers.addEventListener("change", () => {
    state.customerId = Number(customers.value);
    cancelBanner("customer");
    panes.customer.forceScroll = true;
    loadCustomer();
  });
  const staff = $("staff-select");
  for (const member of state.info.staff) {
    const option = el("option", "", `${member.name} (${member.role})`);
    option.value = member.id;
    staff.appendChild(option);
  }
  state.staffId = state.info.staff[0].id;
  staff.addEventListener("change", () => {
    state.staffId = Number(staff.value);
    cancelBanner("staff");
    loadStaff();
  });
  $("customer-chat-title").textContent = `🤖 ${state.info.bot.name} · @${state.info.bot.username}`;
  $("staff-chat-title").textContent = `👥 ${state.info.staff_chat.title}`;
  $("customer-contact").addEventListener("click", () => shareContact());
  for (const button of document.querySelectorAll("[data-step]")) {
    button.addEventListener("click", () => advance(button.dataset.step));
  }
  const seedButton = $("seed");
  if (state.info.can_seed) seedButton.addEventListener("click", seed);
  else seedButton.hidden = true;
  wireComposer("customer");
  wireComposer("staff");
  panes.customer.forceScroll = true;
  panes.staff.forceScroll = true;
  await Promise.all([loadCustomer(), loadStaff()]);
  listen();
}

start().catch((error) => showStatus(`The page could not start: ${error.message}`, true));
