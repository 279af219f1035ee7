// One joined room: what the client knows of it (sequence bookkeeping,
// members, typing) and the list of messages it shows, kept as its own DOM
// element so that switching rooms keeps each room's scroll position.
//
// The list holds confirmed messages in ascending seq order, followed by the
// user's own messages that the server has not acknowledged yet ("local"
// items) in the order they were written. System lines (moderation news,
// topic changes) sit between them where they happened; they are not
// stored anywhere and go with the page.

import { el, avatar, formatTime, formatShortTime, formatFull, formatDay, dayKey } from "./dom.js";
import { mentionsUser, renderBody } from "./markdown.js";

// Consecutive messages by one author within this time are grouped under
// one header.
const GROUP_MS = 5 * 60 * 1000;

export class Room {
  constructor(name, seen) {
    this.name = name;
    this.info = { name, topic: "", private: false, last_seq: 0, online: 0, peer: "", role: "" };
    // last is the highest seq up to which every message is held (no gaps),
    // or null before the first history page arrived.
    this.last = null;
    this.oldest = null; // lowest seq held
    this.hasOlder = false;
    this.seen = seen; // highest seq the user has seen (persisted), or null
    this.latest = 0; // highest seq known to exist
    this.buffer = new Map(); // seq → message that arrived ahead of a gap
    this.syncing = null; // the catch-up in progress (a Promise)
    this.loadingOlder = false;
    this.joined = false; // joined on the current connection
    this.members = new Set();
    this.typing = new Map(); // user → expiry (ms)
    this.lastTypingSent = 0; // when we last told the room we are typing
    this.lastInputAt = 0;
    this.typingTimer = 0;
    this.draft = "";
    this.invited = false; // added by an invitation and not opened yet
    this.mutedUntil = 0; // Unix ms when our mute ends; Infinity until lifted; 0 not muted
    this.muted = new Map(); // user → mute end (as mutedUntil), as far as we saw it happen
    this.roles = new Map(); // user → role, as far as we saw them (our own from info)
    this.pinned = true; // the view follows new messages
    this.scrollTop = 0;

    this.items = []; // {seq, msg, li, local}; confirmed first, then local
    this.confirmed = 0; // how many of items are confirmed
    this.locals = new Map(); // cmid → item, for unacknowledged sends
    this.mentioned = new Set(); // seqs of shown messages that mention the user
    this.list = el("ol", { class: "messages", "aria-label": `Messages in #${name}` });
  }

  // setLabel names the message list for screen readers ("#lobby", "bob").
  setLabel(label) {
    this.list.setAttribute("aria-label", `Messages in ${label}`);
  }

  // addSystem shows a line of news (not a message) at the end of the list,
  // before the user's unacknowledged messages.
  addSystem(text, ts = Date.now()) {
    const li = el(
      "li",
      { class: "system" },
      el("span", { class: "system-text", text }),
      el("time", { class: "time", datetime: new Date(ts).toISOString(), title: formatFull(ts), text: formatTime(ts) }),
    );
    const firstLocal = this.items[this.confirmed];
    this.list.insertBefore(li, firstLocal ? firstLocal.li : null);
    if (firstLocal) this.regroup(this.confirmed, this.confirmed + 1);
    return li;
  }

  get unread() {
    if (this.seen === null) return 0;
    return Math.max(0, this.latest - this.seen);
  }

  // mentionCount is how many unread messages shown (or once shown) here
  // mention the user. Messages never loaded (after a long absence the room
  // shows only its newest page) are not counted.
  get mentionCount() {
    if (this.seen === null) return 0;
    let n = 0;
    for (const seq of this.mentioned) if (seq > this.seen) n++;
    return n;
  }

  // has reports whether the message with seq is shown.
  has(seq) {
    return this.find(seq) >= 0;
  }

  // find returns the index in items of seq, or -1.
  find(seq) {
    const i = this.lowerBound(seq);
    return i < this.confirmed && this.items[i].seq === seq ? i : -1;
  }

  lowerBound(seq) {
    let lo = 0;
    let hi = this.confirmed;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.items[mid].seq < seq) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  // addConfirmed shows stored messages (any order, duplicates ignored). A
  // message that acknowledges one of our local sends (same cmid, from us)
  // takes its place. It returns the messages that were new.
  addConfirmed(msgs, me) {
    const added = [];
    for (const m of msgs) {
      if (!m || !Number.isSafeInteger(m.seq)) continue;
      if (m.seq > this.latest) this.latest = m.seq;
      const local = m.cmid && m.from === me ? this.locals.get(m.cmid) : undefined;
      if (local) {
        this.locals.delete(m.cmid);
        this.removeItem(local);
      }
      if (this.has(m.seq)) continue;
      const item = local || { seq: m.seq, msg: m, li: null, local: false };
      item.seq = m.seq;
      item.msg = m;
      item.local = false;
      if (!item.li) item.li = renderMessage(m, me);
      else updateRendered(item.li, m);
      if (m.from !== me && typeof m.body === "string" && mentionsUser(m.body, me)) {
        this.mentioned.add(m.seq);
        item.li.classList.add("mentions-me");
      }
      setState(item.li, m.from === me ? "sent" : "");
      const i = this.lowerBound(m.seq);
      this.items.splice(i, 0, item);
      this.confirmed++;
      const next = this.items[i + 1];
      this.list.insertBefore(item.li, next ? next.li : null);
      this.regroup(i - 1, i + 2);
      if (this.oldest === null || m.seq < this.oldest) this.oldest = m.seq;
      added.push(m);
    }
    return added;
  }

  // addLocal shows a message the user just wrote, before the server has it.
  addLocal(msg, onRetry, onDiscard) {
    const li = renderMessage(msg, msg.from);
    const item = { seq: null, msg, li, local: true, onRetry, onDiscard };
    const status = li.querySelector(".status");
    const retry = el("button", { type: "button", class: "link-btn retry", text: "Retry" });
    const discard = el("button", { type: "button", class: "link-btn discard", text: "Discard" });
    retry.addEventListener("click", () => onRetry(msg.cmid));
    discard.addEventListener("click", () => onDiscard(msg.cmid));
    status.append(el("span", { class: "status-text" }), retry, discard);
    this.items.push(item);
    this.locals.set(msg.cmid, item);
    this.list.append(li);
    this.regroup(this.items.length - 2, this.items.length);
    this.setLocalState(msg.cmid, "sending");
    return item;
  }

  // setLocalState shows a local message as "sending" or "failed" (with
  // why, and a retry button).
  setLocalState(cmid, state, why = "") {
    const item = this.locals.get(cmid);
    if (!item) return;
    item.state = state;
    setState(item.li, state);
    const text = item.li.querySelector(".status-text");
    if (state === "sending") text.textContent = "Sending…";
    else text.textContent = why ? `Failed — ${why}` : "Failed to send.";
  }

  discardLocal(cmid) {
    const item = this.locals.get(cmid);
    if (!item) return;
    this.locals.delete(cmid);
    this.removeItem(item);
  }

  removeItem(item) {
    const i = this.items.indexOf(item);
    if (i < 0) return;
    this.items.splice(i, 1);
    if (!item.local) this.confirmed--;
    item.li.remove();
    this.regroup(i - 1, i + 1);
  }

  // clear forgets every confirmed message (a resync from the newest page).
  clear() {
    for (const item of this.items.slice(0, this.confirmed)) item.li.remove();
    this.items.splice(0, this.confirmed);
    this.confirmed = 0;
    this.oldest = null;
    this.last = null;
    this.buffer.clear();
    this.regroup(0, 1);
  }

  // regroup recomputes the day dividers and author grouping of items
  // [from, to).
  regroup(from, to) {
    for (let i = Math.max(0, from); i < Math.min(to, this.items.length); i++) {
      const cur = this.items[i];
      const prev = i > 0 ? this.items[i - 1] : null;
      const newDay = !prev || dayKey(prev.msg.ts) !== dayKey(cur.msg.ts);
      // Anything between two messages (a system line) starts a new group.
      const cont =
        !newDay &&
        cur.li.previousElementSibling === prev.li &&
        prev.msg.from === cur.msg.from &&
        Math.abs(cur.msg.ts - prev.msg.ts) < GROUP_MS &&
        prev.state !== "failed";
      cur.li.classList.toggle("newday", newDay);
      cur.li.classList.toggle("cont", cont);
      if (newDay) cur.li.querySelector(".day-label").textContent = formatDay(cur.msg.ts);
    }
  }

  // refreshDays relabels the day dividers ("Today" becomes "Yesterday").
  refreshDays() {
    this.regroup(0, this.items.length);
  }

  // activeTypists returns who is typing now, dropping expired entries.
  activeTypists(now = Date.now()) {
    const out = [];
    for (const [user, until] of this.typing) {
      if (until <= now) this.typing.delete(user);
      else out.push(user);
    }
    return out.sort();
  }
}

function setState(li, state) {
  if (state) li.dataset.state = state;
  else delete li.dataset.state;
}

// renderMessage builds the list item of one message as the user me sees
// it; every value from the network goes in as text (markdown.js).
function renderMessage(m, me) {
  const mine = m.from === me;
  const time = el("time", { class: "time", datetime: new Date(m.ts).toISOString(), title: formatFull(m.ts), text: formatTime(m.ts) });
  const gutterTime = el("time", { class: "gutter-time", "aria-hidden": "true", text: formatShortTime(m.ts) });
  const body = el("div", { class: "body" });
  const action = renderBody(body, typeof m.body === "string" ? m.body : "", m.from, me);
  const meta = el(
    "div",
    { class: "meta" },
    el("span", { class: "author", text: m.from }),
    m.guest ? el("span", { class: "tag", text: "guest" }) : null,
    time,
    el("span", { class: "sent-mark", title: "Sent", "aria-label": "sent" }, "✓"),
  );
  const li = el(
    "li",
    { class: `msg${mine ? " mine" : ""}${action ? " action" : ""}` },
    el("div", { class: "day", role: "separator" }, el("span", { class: "day-label" })),
    el(
      "div",
      { class: "msg-row" },
      el("div", { class: "gutter" }, avatar(m.from), gutterTime),
      el("div", { class: "msg-main" }, meta, body, el("div", { class: "status" })),
    ),
  );
  if (Number.isSafeInteger(m.seq)) li.dataset.seq = String(m.seq);
  return li;
}

// updateRendered updates a local message's item once the server stored it.
function updateRendered(li, m) {
  li.dataset.seq = String(m.seq);
  li.querySelector("time.gutter-time").textContent = formatShortTime(m.ts);
  const time = li.querySelector("time.time");
  time.textContent = formatTime(m.ts);
  time.dateTime = new Date(m.ts).toISOString();
  time.title = formatFull(m.ts);
}
