// One joined room: what the client knows of it (sequence bookkeeping,
// members, typing) and the list of messages it shows, kept as its own DOM
// element so that switching rooms keeps each room's scroll position.
//
// The list holds confirmed items in ascending seq order — messages, and the
// room entries shown as lines of news (kicks, bans, the topic …) — followed
// by the user's own messages that the server has not acknowledged yet
// ("local" items) in the order they were written (kept over a reload by
// outbox.js until then). Edits, deletions and reactions are entries too,
// but they take no place in the list: they are folded into the message
// they target (message.js, the V rule). How each item looks is
// message.js's.
//
// Messages from accounts the user blocks stay in the list, hidden: each
// run of them in a row shows as one line ("2 messages from blocked users —
// show") whose "show" reveals that run (refold); a run is cut at a day
// boundary and at the "New messages" line, which stay in sight. They count
// neither as unread nor as mentions.

import { el, formatDay, dayKey } from "./dom.js";
import { mentionsUser } from "./markdown.js";
import { fold, kindOf, refreshMessage, renderMessage, renderNews, renderQuote, renderSystem, updateRendered } from "./message.js";
import { unkeep } from "./outbox.js";

// Consecutive messages by one author within this time are grouped under
// one header.
const GROUP_MS = 5 * 60 * 1000;

// A room followed at its bottom keeps at most MAX_SHOWN items in its list:
// past that, the oldest the user has seen go, down to KEEP_SHOWN, and come
// back as older pages when scrolled to (trim). A busy room left open for
// hours would otherwise grow the page without bound.
export const MAX_SHOWN = 500;
const KEEP_SHOWN = 400;

export class Room {
  constructor(name, seen) {
    this.name = name;
    this.info = { name, topic: "", private: false, last_seq: 0, online: 0, peer: "", role: "" };
    // last is the highest seq up to which every message is held (no gaps),
    // or null before the first history page arrived.
    this.last = null;
    // oldest is the lowest seq of the entries loaded, shown or folded into
    // a message (a page of history may hold only edits and reactions):
    // every entry from it on has been seen. Older pages start below it.
    this.oldest = null;
    this.hasOlder = false;
    this.seen = seen; // highest seq the user has seen (persisted), or null
    this.latest = 0; // highest seq known to exist
    this.buffer = new Map(); // seq → message that arrived ahead of a gap
    this.syncing = null; // the catch-up in progress (a Promise)
    this.loadingOlder = false;
    this.joined = false; // joined on the current connection
    this.members = new Set();
    this.roster = null; // private rooms and DMs: everyone who belongs, online or not (a Set), else null
    this.typing = new Map(); // user → expiry (ms)
    this.lastTypingSent = 0; // when we last told the room we are typing
    this.lastInputAt = 0;
    this.typingTimer = 0;
    this.draft = ""; // what the composer holds here (drafts.js keeps it over a reload)
    this.compose = null; // what the composer does: null, {kind: "reply" | "edit", seq} (state.setCompose)
    this.invited = false; // added by an invitation and not opened yet
    this.mutedUntil = 0; // Unix ms when our mute ends; Infinity until lifted; 0 not muted
    this.muted = new Map(); // user → mute end (as mutedUntil), as far as we saw it happen
    this.roles = new Map(); // user → role, as far as we saw them (our own from info)
    this.owner = ""; // the account that owns the room, from the join reply; "" for none
    // The server's administrators, from a public room's join reply
    // (info.staff, role "admin"): a rank above any role in the room, which
    // no role entry changes. Empty for private rooms and DMs.
    this.admins = new Set();
    this.pinned = true; // the view follows new messages
    this.scrollTop = 0;

    this.baseSeq = 0; // the room's last seq when the join reply told its state
    this.me = ""; // who reads: set when the room is made

    this.items = []; // {seq, msg, li, local, news, mine}; confirmed first, then local
    this.confirmed = 0; // how many of items are confirmed
    this.locals = new Map(); // cmid → item, for unacknowledged sends
    this.sendQueue = Promise.resolve(); // the room's sends, one after the other (send.js)
    this.mentioned = new Set(); // seqs of shown messages that mention the user
    this.quoted = new Map(); // seq → a message answered by a reply, fetched outside the list
    this.replies = new Map(); // seq → items that answer it (for their quotes)
    this.blocked = null; // the accounts the user blocks (a Set, state.js's), or null
    this.revealed = new Set(); // seqs of blocked accounts' messages the user chose to show
    this.folded = false; // the list hides messages or shows fold lines
    this.list = el("ol", { class: "messages", "aria-label": `Messages in #${name}` });
  }

  // setLabel names the message list for screen readers ("#lobby", "bob").
  setLabel(label) {
    this.list.setAttribute("aria-label", `Messages in ${label}`);
  }

  // addSystem shows a line of news that is not stored (no entry) at the
  // end of the list, before the user's unacknowledged messages.
  addSystem(text, ts = Date.now()) {
    const li = renderSystem(text, ts);
    const firstLocal = this.items[this.confirmed];
    this.list.insertBefore(li, firstLocal ? firstLocal.li : null);
    if (firstLocal) this.regroup(this.confirmed, this.confirmed + 1);
    return li;
  }

  // unread is how many messages of others, shown after the last one the
  // user has seen, are not deleted. Entries (news, edits, reactions) are
  // not unread messages.
  get unread() {
    if (this.seen === null) return 0;
    let n = 0;
    for (let i = this.confirmed - 1; i >= 0 && this.items[i].seq > this.seen; i--) {
      const it = this.items[i];
      if (!it.news && !it.mine && !it.msg.deleted && !this.fromBlocked(it)) n++;
    }
    return n;
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

  // message returns the plain message with seq as the room knows it: shown
  // in the list, or fetched for a quote; else undefined.
  message(seq) {
    const i = this.find(seq);
    if (i >= 0) return this.items[i].news ? undefined : this.items[i].msg;
    return this.quoted.get(seq);
  }

  // addConfirmed shows stored messages and entries (any order, duplicates
  // ignored): plain messages and news take their place in the list, edits,
  // deletions and reactions fold into their target. A message that
  // acknowledges one of our local sends (same cmid, from us) takes its
  // place; a message shown already is replaced by a newer state of it
  // (greater v). It returns what was new: {added: plain messages, news:
  // entries shown as news, changed: messages whose state changed}.
  addConfirmed(msgs, me) {
    const added = [];
    const news = [];
    const changed = [];
    this.me = me;
    for (const m of msgs) {
      if (!m || !Number.isSafeInteger(m.seq)) continue;
      if (m.seq > this.latest) this.latest = m.seq;
      if (this.oldest === null || m.seq < this.oldest) this.oldest = m.seq;
      const kind = kindOf(m);
      if (kind === "unknown") continue;
      if (kind === "fold") {
        const target = this.applyEntry(m);
        if (target) changed.push(target);
        continue;
      }
      const local = kind === "plain" && m.cmid && m.from === me ? this.locals.get(m.cmid) : undefined;
      if (local) {
        // Acknowledged (the ok of its send, a live event or history):
        // the outbox lets it go.
        this.locals.delete(m.cmid);
        this.removeItem(local);
        unkeep(m.cmid);
      }
      const at = this.find(m.seq);
      if (at >= 0) {
        const item = this.items[at];
        if (kind === "plain" && !item.news && (m.v || 0) > (item.msg.v || 0)) {
          item.msg = m;
          this.refreshItem(item);
          this.markMention(item);
          changed.push(m);
        }
        continue;
      }
      const item = local || { seq: m.seq, msg: m, li: null, local: false };
      item.seq = m.seq;
      item.msg = m;
      item.local = false;
      item.news = kind === "news";
      item.mine = m.from === me;
      if (item.news) item.li = renderNews(m, me);
      else if (!item.li) item.li = renderMessage(m, me, this.message(m.reply_to));
      else {
        updateRendered(item.li, m);
        this.refreshItem(item);
      }
      if (!item.news) {
        this.markMention(item);
        setState(item.li, item.mine ? "sent" : "");
        if (Number.isSafeInteger(m.reply_to)) {
          if (!this.replies.has(m.reply_to)) this.replies.set(m.reply_to, new Set());
          this.replies.get(m.reply_to).add(item);
        }
      }
      const i = this.lowerBound(m.seq);
      this.items.splice(i, 0, item);
      this.confirmed++;
      const next = this.items[i + 1];
      this.list.insertBefore(item.li, next ? next.li : null);
      this.regroup(i - 1, i + 2);
      if (item.news) news.push(m);
      else {
        added.push(m);
        this.quoted.delete(m.seq);
        this.refreshQuotes(m.seq);
      }
    }
    if (added.length || news.length) this.refold();
    return { added, news, changed };
  }

  // fromBlocked reports whether item is a message from an account the
  // user blocks (a guest may go by a blocked account's name: not them).
  fromBlocked(item) {
    return !!this.blocked && !item.news && !item.mine && !item.local && !item.msg.guest && this.blocked.has(item.msg.from);
  }

  // blocksChanged follows a change of the accounts the user blocks: the
  // mentions are counted again and the list folded again; the messages
  // of the accounts just blocked (added) that were shown are hidden again.
  blocksChanged(added = []) {
    for (const seq of this.revealed) {
      const i = this.find(seq);
      if (i < 0 || added.includes(this.items[i].msg.from)) this.revealed.delete(seq);
    }
    for (const item of this.items.slice(0, this.confirmed)) if (!item.news) this.markMention(item);
    this.refold();
  }

  // refold hides the messages from blocked accounts that the user has not
  // chosen to show, and puts one line before each run of them in a row
  // with a "show" button that reveals the run. A run never spans a day
  // boundary nor anything shown between two of its messages (the "New
  // messages" line, a system line): it is split there, so that the day
  // divider (carried by the fold line of a run that starts a day) and the
  // unread line stay in sight and in place. Whatever changes the list or
  // the lines in it calls refold again.
  refold() {
    const hiding = !!this.blocked && this.blocked.size > 0;
    if (!hiding && !this.folded) return;
    for (const line of this.list.querySelectorAll(":scope > .blocked-fold")) line.remove();
    this.folded = false;
    let run = [];
    const flush = () => {
      if (run.length === 0) return;
      const shown = run;
      run = [];
      const n = shown.length;
      const show = el("button", { type: "button", class: "link-btn blocked-show", text: "show" });
      show.setAttribute("aria-label", n === 1 ? "Show the message from a blocked user" : `Show the ${n} messages from blocked users`);
      show.addEventListener("click", () => {
        for (const item of shown) this.revealed.add(item.seq);
        this.refold();
      });
      const text = n === 1 ? "1 message from a blocked user — " : `${n} messages from blocked users — `;
      // The first message of a day carries the day's divider: hidden, its
      // fold line shows the divider instead.
      const first = shown[0];
      const newDay = first.li.classList.contains("newday");
      const line = el(
        "li",
        { class: newDay ? "blocked-fold newday" : "blocked-fold" },
        el("div", { class: "day", role: "separator" }, el("span", { class: "day-label", text: newDay ? formatDay(first.msg.ts) : "" })),
        el("div", { class: "system" }, el("span", { class: "system-text" }, text, show)),
      );
      this.list.insertBefore(line, first.li);
    };
    for (let i = 0; i < this.confirmed; i++) {
      const item = this.items[i];
      const hide = hiding && this.fromBlocked(item) && !this.revealed.has(item.seq);
      if (item.li.hidden !== hide) item.li.hidden = hide;
      if (!hide) {
        flush();
        continue;
      }
      if (run.length > 0 && !foldsWith(run[run.length - 1], item)) flush();
      this.folded = true;
      run.push(item);
    }
    flush();
  }

  // applyEntry folds an edit, deletion or reaction into its target if the
  // room holds it, and returns the target if it changed. A target not held
  // needs nothing: history shows it as it is now when it is loaded.
  applyEntry(e) {
    const at = this.find(e.target);
    if (at < 0 || this.items[at].news) {
      const q = this.quoted.get(e.target);
      if (q && fold(q, e)) this.refreshQuotes(e.target);
      return null;
    }
    const item = this.items[at];
    if (!fold(item.msg, e)) return null;
    this.markMention(item);
    this.refreshItem(item);
    this.refreshQuotes(item.seq);
    return item.msg;
  }

  // markMention counts item, a plain message in the list, as mentioning
  // the user or not by its text now: an edit may add a mention or take it
  // away, and a deleted message mentions nobody.
  markMention(item) {
    const m = item.msg;
    const on = !item.mine && !m.deleted && !this.fromBlocked(item) && typeof m.body === "string" && mentionsUser(m.body, this.me);
    if (on) this.mentioned.add(item.seq);
    else this.mentioned.delete(item.seq);
    item.li.classList.toggle("mentions-me", on);
  }

  // setQuoted records a message fetched for the quote of a reply to it.
  setQuoted(m) {
    if (!m || !Number.isSafeInteger(m.seq) || kindOf(m) !== "plain" || this.find(m.seq) >= 0) return;
    this.quoted.set(m.seq, m);
    this.refreshQuotes(m.seq);
  }

  // refreshItem shows the current state of a message item.
  refreshItem(item) {
    refreshMessage(item.li, item.msg, this.me, this.message(item.msg.reply_to));
  }

  // refreshQuotes updates the quotes of the replies to seq.
  refreshQuotes(seq) {
    const set = this.replies.get(seq);
    if (!set) return;
    const m = this.message(seq);
    for (const item of set) renderQuote(item.li, item.msg, m);
  }

  // addLocal shows a message the user just wrote, before the server has it.
  addLocal(msg, onRetry, onDiscard) {
    const li = renderMessage(msg, msg.from, this.message(msg.reply_to));
    const item = { seq: null, msg, li, local: true, mine: true, onRetry, onDiscard };
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

  // discardLocal takes away a local message the user gave up on, from
  // the outbox too.
  discardLocal(cmid) {
    const item = this.locals.get(cmid);
    if (!item) return;
    this.locals.delete(cmid);
    this.removeItem(item);
    unkeep(cmid);
  }

  removeItem(item) {
    const i = this.items.indexOf(item);
    if (i < 0) return;
    this.items.splice(i, 1);
    if (!item.local) this.confirmed--;
    item.li.remove();
    this.regroup(i - 1, i + 1);
  }

  // trim takes the oldest confirmed items out of the list when it holds
  // more than MAX_SHOWN, down to KEEP_SHOWN, but only items up to the last
  // one the user has seen (unread counts and the "New messages" line count
  // the list). What goes is history again: hasOlder is set, and a message
  // still answered by a reply in the list (or by the composer's reply or
  // edit) stays known beside the list, as a quoted one does. It
  // reports whether anything went. Callers trim only a room followed at its
  // bottom, never one the user has scrolled up in.
  trim() {
    if (this.confirmed <= MAX_SHOWN || this.seen === null) return false;
    const n = Math.min(this.confirmed - KEEP_SHOWN, this.lowerBound(this.seen + 1));
    if (n <= 0) return false;
    const gone = this.items.splice(0, n);
    this.confirmed -= n;
    // The items' lines, and the lines not stored (system lines) among them.
    // The "New messages" line stays: it is above an unseen item, kept.
    const first = this.items[0].li;
    for (let node = this.list.firstChild; node && node !== first; ) {
      const next = node.nextSibling;
      if (!node.classList.contains("unread-line")) node.remove();
      node = next;
    }
    for (const item of gone) {
      this.mentioned.delete(item.seq);
      this.revealed.delete(item.seq);
      if (item.news) continue;
      const to = item.msg.reply_to;
      const set = Number.isSafeInteger(to) ? this.replies.get(to) : undefined;
      if (set) {
        set.delete(item);
        if (set.size === 0) this.replies.delete(to);
      }
    }
    const answered = (seq) => this.replies.has(seq) || (!!this.compose && this.compose.seq === seq);
    for (const item of gone) if (!item.news && answered(item.seq)) this.quoted.set(item.seq, item.msg);
    this.oldest = this.items[0].seq;
    this.hasOlder = true;
    this.regroup(0, 1);
    this.refold();
    return true;
  }

  // clear forgets every confirmed message (a resync from the newest page).
  clear() {
    for (const item of this.items.slice(0, this.confirmed)) item.li.remove();
    this.items.splice(0, this.confirmed);
    this.confirmed = 0;
    this.oldest = null;
    this.last = null;
    this.buffer.clear();
    this.replies.clear();
    this.revealed.clear();
    this.regroup(0, 1);
    this.refold();
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
        !cur.news &&
        !prev.news &&
        !cur.msg.reply_to &&
        cur.li.previousElementSibling === prev.li &&
        prev.msg.from === cur.msg.from &&
        Math.abs(cur.msg.ts - prev.msg.ts) < GROUP_MS &&
        prev.state !== "failed";
      cur.li.classList.toggle("newday", newDay);
      cur.li.classList.toggle("cont", cont);
      if (newDay) cur.li.querySelector(".day-label").textContent = formatDay(cur.msg.ts);
    }
  }

  // refreshDays relabels the day dividers ("Today" becomes "Yesterday"),
  // those of the fold lines included.
  refreshDays() {
    this.regroup(0, this.items.length);
    this.refold();
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

// foldsWith reports whether the hidden message item may join the run of
// hidden messages that ends with prev: both of one day, and nothing shown
// between them in the list (the "New messages" line, a system line).
function foldsWith(prev, item) {
  if (dayKey(prev.msg.ts) !== dayKey(item.msg.ts)) return false;
  for (let node = prev.li.nextElementSibling; node && node !== item.li; node = node.nextElementSibling) {
    if (!node.hidden) return false;
  }
  return true;
}

function setState(li, state) {
  if (state) li.dataset.state = state;
  else delete li.dataset.state;
}
