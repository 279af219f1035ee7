// Drafts: what the user was writing in each room and not sent yet — its
// text and the message it answers — kept so that a reload (F5, a crashed
// tab restored, the browser's "reload to update") gives it back.
//
// They are kept in sessionStorage, not localStorage: sessionStorage
// survives a reload and a restored tab, is not shared with other tabs, and
// is gone when the tab is closed, so a shared computer keeps nobody's
// unsent words once their tab is closed. Signing out forgets them at once.
//
// One item per identity (an account's name, or a guest's) and room, so
// that whoever signs in next in this tab never sees another's drafts and
// a keystroke rewrites one room's draft only. At most MAX_DRAFTS rooms
// have one (the oldest goes), and a draft longer than a message may be is
// not kept (given back cut short, it could be sent as if whole).
//
// What is kept is the new message the composer holds: an edit of a sent
// message in progress is not (the draft it set aside is). A draft leaves
// storage the moment Enter hands its message to send.js, before the server
// has it: from then on the message is send.js's, which keeps it in the
// outbox (outbox.js) and sends it again with the same id after a reconnect
// or a reload (the server stores it once). Kept as a draft too, it would
// come back after a reload as a new message, with a new id, and could go
// out twice.
//
// Storage may be full or disabled: then drafts last until the reload, as
// they did before, and nothing says so.

import { byteLength } from "./dom.js";

const PREFIX = "hubbub.v1.draft "; // + JSON [identity, room]
export const MAX_DRAFTS = 50;
export const MAX_DRAFT_BYTES = 4096; // the server's limit on a message body
const WRITE_DELAY_MS = 300; // typing writes at most this often

let who = ""; // "account:NAME" or "guest:NAME" whose drafts these are; "" for nobody
const pending = new Map(); // storage key → Room whose draft is to be written
let timer = 0;

const keyOf = (room) => PREFIX + JSON.stringify([who, room]);

// parseKey returns [identity, room] of a draft's storage key, or null.
function parseKey(key) {
  if (typeof key !== "string" || !key.startsWith(PREFIX)) return null;
  try {
    const v = JSON.parse(key.slice(PREFIX.length));
    return Array.isArray(v) && v.length === 2 && typeof v[0] === "string" && typeof v[1] === "string" ? v : null;
  } catch {
    return null;
  }
}

// setDraftOwner makes identity ({name, guest}, or null for nobody) the
// one whose drafts are read and written; what the previous one typed last
// is written first.
export function setDraftOwner(identity) {
  flushDrafts();
  who = identity && identity.name ? `${identity.guest ? "guest" : "account"}:${identity.name}` : "";
}

// loadDraft returns the kept draft of room (a name): {text, reply} with
// reply the seq of the message it answers or 0; null if there is none.
export function loadDraft(room) {
  if (!who) return null;
  try {
    const v = JSON.parse(sessionStorage.getItem(keyOf(room)) || "null");
    if (!v || typeof v.text !== "string" || v.text.trim() === "" || byteLength(v.text) > MAX_DRAFT_BYTES) return null;
    return { text: v.text, reply: Number.isSafeInteger(v.reply) && v.reply > 0 ? v.reply : 0 };
  } catch {
    return null;
  }
}

// noteDraft keeps room's draft soon (a Room: its draft and compose are
// read when written); a burst of keystrokes costs one write.
export function noteDraft(room) {
  if (!who) return;
  pending.set(keyOf(room.name), room);
  if (!timer) timer = setTimeout(flushDrafts, WRITE_DELAY_MS);
}

// dropDraft forgets room's draft now (a Room or its name): its message
// was handed to send.js, or the room left the list.
export function dropDraft(room) {
  if (!who) return;
  const key = keyOf(typeof room === "string" ? room : room.name);
  pending.delete(key);
  remove(key);
}

// flushDrafts writes now what noteDraft would write soon (the page is
// going away).
export function flushDrafts() {
  clearTimeout(timer);
  timer = 0;
  for (const [key, room] of pending) write(key, room);
  pending.clear();
}

// clearDrafts forgets every draft of the current identity (signing out);
// nothing is kept for it until setDraftOwner names it again.
export function clearDrafts() {
  clearTimeout(timer);
  timer = 0;
  pending.clear();
  if (!who) return;
  for (const [key, [id]] of draftKeys()) if (id === who) remove(key);
  who = "";
}

// draftOf is what is kept of room's composer: the text of a new message
// and what it answers. While the user edits a sent message, the composer
// holds that message; the draft set aside meanwhile is the one kept.
function draftOf(room) {
  const c = room.compose;
  if (c && c.kind === "edit") return { text: c.draft || "", reply: 0 };
  return { text: room.draft, reply: c && c.kind === "reply" ? c.seq : 0 };
}

function write(key, room) {
  const d = draftOf(room);
  if (d.text.trim() === "" || byteLength(d.text) > MAX_DRAFT_BYTES) {
    remove(key);
    return;
  }
  try {
    if (sessionStorage.getItem(key) === null) makeRoom();
    const v = { text: d.text, at: Date.now() };
    if (d.reply) v.reply = d.reply;
    sessionStorage.setItem(key, JSON.stringify(v));
  } catch {
    // storage full or disabled: the draft lasts until the reload
  }
}

// makeRoom removes the oldest drafts until one more fits in MAX_DRAFTS.
function makeRoom() {
  const all = draftKeys().map(([key]) => {
    let at = 0;
    try {
      at = Number(JSON.parse(sessionStorage.getItem(key)).at) || 0;
    } catch {
      // unreadable: the first to go
    }
    return { key, at };
  });
  all.sort((a, b) => a.at - b.at);
  for (let i = 0; i <= all.length - MAX_DRAFTS; i++) remove(all[i].key);
}

// draftKeys lists [key, [identity, room]] of every draft kept in this tab.
function draftKeys() {
  const out = [];
  try {
    for (let i = 0; i < sessionStorage.length; i++) {
      const key = sessionStorage.key(i);
      const v = parseKey(key);
      if (v) out.push([key, v]);
    }
  } catch {
    // storage disabled
  }
  return out;
}

function remove(key) {
  try {
    sessionStorage.removeItem(key);
  } catch {
    // storage disabled
  }
}
