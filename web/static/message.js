// One item of a room's message list as the user sees it: a message (its
// author and time, the quote of the message it answers, its body or the
// tombstone of a deleted one, its file (files.js), "(edited)", its
// reactions and the actions on it), or a room entry shown as a line of
// news (invitations, kicks, bans, mutes, the topic, roles) that names who
// acted and why. And the V rule that folds edits, deletions and reactions
// into the message they target.
//
// Everything from the network goes in as text (textContent, text nodes,
// markdown.js); nothing here parses HTML. This module keeps no state.

import { el, avatar, formatTime, formatShortTime, formatFull, when } from "./dom.js";
import { renderBody } from "./markdown.js";
import { renderFile } from "./files.js";

// Entries that change the message they target, and entries shown as news.
const FOLDED = new Set(["edit", "delete", "react", "unreact"]);
const NEWS = new Set(["invite", "kick", "ban", "unban", "mute", "unmute", "topic", "role"]);

// kindOf sorts a stored message: "plain" (a message someone wrote), "fold"
// (an edit, deletion or reaction of one), "news" (what an owner or
// moderator did), or "unknown" (a kind from a newer server: not shown).
export function kindOf(m) {
  if (m.kind === undefined || m.kind === "") return "plain";
  if (FOLDED.has(m.kind)) return Number.isSafeInteger(m.target) ? "fold" : "unknown";
  return NEWS.has(m.kind) ? "news" : "unknown";
}

const str = (v) => (typeof v === "string" ? v : "");

// fold applies entry e (kindOf "fold") to the plain message m by the V
// rule of the protocol: only if e is newer than everything already folded
// into m (m.v). It reports whether m changed.
export function fold(m, e) {
  const v = Number.isSafeInteger(m.v) ? m.v : m.seq;
  if (e.seq <= v) return false;
  m.v = e.seq;
  if (m.deleted) return true; // nothing but the tombstone is left
  switch (e.kind) {
    case "edit":
      m.body = str(e.body);
      m.edited = Number.isSafeInteger(e.ts) ? e.ts : Date.now();
      break;
    case "delete":
      m.deleted = true;
      m.body = "";
      m.reactions = [];
      delete m.file;
      break;
    case "react":
    case "unreact": {
      const emoji = str(e.body);
      const who = str(e.from);
      if (!emoji || !who) break;
      const list = reactionsOf(m).map((r) => ({ emoji: r.emoji, users: [...r.users] }));
      let r = list.find((x) => x.emoji === emoji);
      if (e.kind === "react") {
        if (!r) list.push((r = { emoji, users: [] }));
        if (!r.users.includes(who)) r.users.push(who);
      } else if (r) {
        r.users = r.users.filter((u) => u !== who);
      }
      m.reactions = list.filter((x) => x.users.length > 0);
      break;
    }
  }
  return true;
}

// reactionsOf is m's reactions as the protocol has them ([{emoji, users}]),
// with anything malformed left out.
export function reactionsOf(m) {
  if (!Array.isArray(m.reactions)) return [];
  return m.reactions.filter(
    (r) => r && typeof r.emoji === "string" && r.emoji !== "" && Array.isArray(r.users) && r.users.every((u) => typeof u === "string"),
  );
}

// newsText is the line of news a room entry shows, as the user me reads it.
export function newsText(m, me) {
  const who = (n) => (n === me ? "You" : n);
  const whom = (n) => (n === me ? "you" : n);
  const by = str(m.from) || "a moderator";
  const user = str(m.user) || "someone";
  const were = user === me ? "were" : "was";
  const body = str(m.body);
  const reason = body ? `: ${body}` : "";
  const till = Number.isSafeInteger(m.until) && m.until > 0 ? ` until ${when(m.until)}` : "";
  let text;
  switch (m.kind) {
    case "invite":
      text = `${who(by)} invited ${whom(user)}`;
      break;
    case "kick":
      text = `${who(user)} ${were} kicked by ${whom(by)}${reason}`;
      break;
    case "ban":
      text = `${who(user)} ${were} banned${till} by ${whom(by)}${reason}`;
      break;
    case "unban":
      // No from: nobody lifted it, the ban's time ran out.
      text = str(m.from) ? `${who(user)} may join again — ${whom(by)} lifted the ban` : `${who(user)} may join again — the ban ended`;
      break;
    case "mute":
      text = `${who(user)} ${were} muted${till} by ${whom(by)}${reason}`;
      break;
    case "unmute":
      // No from: nobody lifted it, the mute's time ran out.
      text = str(m.from) ? `${who(user)} ${were} unmuted by ${whom(by)}` : `${who(user)} may write again — the mute ended`;
      break;
    case "topic":
      text = body ? `${who(by)} set the topic: ${body}` : `${who(by)} cleared the topic`;
      break;
    case "role": {
      const what = body === "moderator" ? "a moderator" : body === "owner" ? "the owner" : "a member";
      text = `${who(by)} made ${whom(user)} ${what}`;
      break;
    }
    default:
      text = `${who(by)} changed the room`;
  }
  // Not sentence(): the line may start with a user name, whose case counts.
  return /[.!?…]$/.test(text) ? text : `${text}.`;
}

function timeEl(cls, ts) {
  return el("time", { class: cls, datetime: new Date(ts).toISOString(), title: formatFull(ts), text: formatTime(ts) });
}

// renderNews builds the list item of a room entry: a line of news.
export function renderNews(m, me) {
  const li = el(
    "li",
    { class: "entry" },
    el("div", { class: "day", role: "separator" }, el("span", { class: "day-label" })),
    el("div", { class: "system" }, el("span", { class: "system-text", text: newsText(m, me) }), timeEl("time", m.ts)),
  );
  li.dataset.seq = String(m.seq);
  li.dataset.kind = m.kind;
  return li;
}

// renderSystem builds a line of news that is no entry (it is not stored).
export function renderSystem(text, ts) {
  return el("li", { class: "system" }, el("span", { class: "system-text", text }), timeEl("time", ts));
}

function actionButton(action, label, symbol) {
  return el("button", { type: "button", class: `act act-${action}`, "data-action": action, "aria-label": label, title: label, text: symbol });
}

// renderMessage builds the list item of one message as the user me sees
// it; the parts that change (quote, body, reactions) are filled by
// refreshMessage. quoted is the message it answers, if known.
export function renderMessage(m, me, quoted) {
  const mine = m.from === me;
  const meta = el(
    "div",
    { class: "meta" },
    el("span", { class: "author", text: m.from }),
    m.guest ? el("span", { class: "tag", text: "guest" }) : null,
    timeEl("time", m.ts),
    el("span", { class: "edited", hidden: true, text: "(edited)" }),
    el("span", { class: "sent-mark", title: "Sent", "aria-label": "sent" }, "✓"),
  );
  const actions = el(
    "div",
    { class: "msg-actions", role: "toolbar", "aria-label": "Message actions" },
    actionButton("pick", "Add a reaction", "☺"),
    actionButton("reply", "Reply", "↩"),
    mine ? actionButton("edit", "Edit", "✎") : null,
    actionButton("delete", "Delete", "🗑"),
  );
  const li = el(
    "li",
    { class: `msg${mine ? " mine" : ""}` },
    el("div", { class: "day", role: "separator" }, el("span", { class: "day-label" })),
    el(
      "div",
      { class: "msg-row" },
      el("div", { class: "gutter" }, avatar(m.from), el("time", { class: "gutter-time", "aria-hidden": "true", text: formatShortTime(m.ts) })),
      el(
        "div",
        { class: "msg-main" },
        el("button", { type: "button", class: "reply-quote", "data-action": "jump", hidden: true }),
        meta,
        el("div", { class: "body" }),
        el("div", { class: "attachment", hidden: true }),
        el("span", { class: "edited-tail", hidden: true, text: "(edited)" }),
        el("div", { class: "reactions" }),
        el("div", { class: "status" }),
      ),
      actions,
    ),
  );
  if (Number.isSafeInteger(m.seq)) li.dataset.seq = String(m.seq);
  refreshMessage(li, m, me, quoted);
  return li;
}

// refreshMessage shows m's current state in its item li: the quote, the
// body or tombstone, the file, "(edited)", the reactions.
export function refreshMessage(li, m, me, quoted) {
  const body = li.querySelector(".body");
  body.replaceChildren();
  li.classList.toggle("deleted", !!m.deleted);
  let action = false;
  if (m.deleted) {
    body.append(el("span", { class: "tombstone", text: "message deleted" }));
  } else {
    action = renderBody(body, str(m.body), m.from, me);
  }
  li.classList.toggle("action", !!action);
  // The file, built again only when it changed (not on every reaction).
  const box = li.querySelector(".attachment");
  const fileKey = !m.deleted && m.file && typeof m.file.id === "string" ? m.file.id : "";
  if (box.dataset.file !== fileKey) {
    const file = fileKey ? renderFile(m) : null;
    box.replaceChildren(...(file ? [file] : []));
    box.dataset.file = file ? fileKey : "";
    box.hidden = !file;
  }
  for (const mark of li.querySelectorAll(".edited, .edited-tail")) {
    mark.hidden = !m.edited || !!m.deleted;
    if (m.edited) mark.title = `Edited ${formatFull(m.edited)}`;
  }
  renderQuote(li, m, quoted);
  renderReactions(li, m, me);
}

// renderQuote shows above a reply who wrote the message it answers and
// how it begins; a click on it goes there (data-seq).
export function renderQuote(li, m, quoted) {
  const q = li.querySelector(".reply-quote");
  const seq = Number.isSafeInteger(m.reply_to) && !m.deleted ? m.reply_to : 0;
  q.hidden = seq === 0;
  if (!seq) return;
  q.dataset.seq = String(seq);
  let author = "";
  let text = "an earlier message";
  if (quoted && quoted.deleted) text = "message deleted";
  else if (quoted) {
    author = str(quoted.from);
    text = str(quoted.body).replace(/\s+/g, " ").trim().slice(0, 140) || (quoted.file && str(quoted.file.name)) || "…";
  }
  q.title = "Go to the message this answers";
  q.replaceChildren(
    el("span", { class: "quote-mark", "aria-hidden": "true", text: "↪" }),
    author ? el("span", { class: "quote-author", text: author }) : null,
    el("span", { class: "quote-text", text }),
  );
}

function renderReactions(li, m, me) {
  const box = li.querySelector(".reactions");
  const list = m.deleted ? [] : reactionsOf(m);
  box.replaceChildren(
    ...list.map((r) => {
      const mine = r.users.includes(me);
      const names = r.users.map((u) => (u === me ? "you" : u));
      return el(
        "button",
        {
          type: "button",
          class: `reaction${mine ? " mine" : ""}`,
          "data-action": "react",
          "data-emoji": r.emoji,
          "aria-pressed": String(mine),
          title: `${names.join(", ")} reacted with ${r.emoji}`,
        },
        el("span", { class: "reaction-emoji", text: r.emoji }),
        el("span", { class: "reaction-count", text: String(r.users.length) }),
      );
    }),
  );
  box.hidden = list.length === 0;
}

// updateRendered updates a local message's item once the server stored it.
export function updateRendered(li, m) {
  li.dataset.seq = String(m.seq);
  li.querySelector("time.gutter-time").textContent = formatShortTime(m.ts);
  const time = li.querySelector("time.time");
  time.textContent = formatTime(m.ts);
  time.dateTime = new Date(m.ts).toISOString();
  time.title = formatFull(m.ts);
}
