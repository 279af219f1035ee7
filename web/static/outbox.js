// The outbox: the messages the user sent that the server has not
// acknowledged yet, kept so that a reload (F5, a crashed tab restored, the
// browser's "reload to update") does not lose them. send.js keeps each one
// the moment Enter hands it over and puts the kept ones back after a
// reload; room.js lets one go when the server acknowledges it (stored, or
// a resend answered with the stored copy) or the user discards it.
//
// What is kept is what a resend needs: the room, the client message id
// (cmid), the body, the message it answers, the file it carries (the
// upload reference) and when it was written. A kept message goes out
// again after a reload with its original cmid, so the server stores it
// once even if it had stored it before the reload and only the
// acknowledgement was lost. Had it been, the room's history (fetched
// after the reload, before anything is sent again) shows the stored copy,
// which takes the place of the kept one; else the resend is answered with
// the stored copy (docs/protocol.md, "duplicate"). A tab duplicated by the
// browser copies its session storage, and with it the outbox: both tabs
// send the same cmids, and the room still gets each message once.
//
// A message the server refused for good (muted, archived, a file expired:
// shown as failed, with Retry and Discard) stays kept, marked failed with
// the reason, and comes back after a reload the same way, failed and not
// sent again until the user says Retry. It is text the user wrote and has
// not given up on: a reload is no reason to lose it, and nothing goes out
// that the user has not asked for again.
//
// Storage follows drafts.js: sessionStorage, not localStorage (survives a
// reload, not shared with other tabs, gone when the tab closes, so a
// shared computer keeps nobody's unsent words); one item per identity
// (an account's name, or a guest's), so that whoever signs in next in
// this tab never sends another's messages; signing out forgets them
// (session.js, signedOut). At most MAX_OUTBOX messages are kept: one
// written past that is still sent, but not kept over a reload (those kept
// are the older ones, which go first). A message longer than a body may
// be never gets here (the composer refuses it); one read back longer, or
// otherwise not a message, is ignored. Storage full or disabled: the
// messages last until the reload, as they did before, and nothing says so.

import { byteLength } from "./dom.js";

const PREFIX = "hubbub.v1.outbox "; // + identity: a JSON array of kept messages, in send order
export const MAX_OUTBOX = 100;
const MAX_BODY_BYTES = 4096; // the server's limit on a message body
const CMID = /^[A-Za-z0-9_-]{1,64}$/;

let who = ""; // "account:NAME" or "guest:NAME" whose outbox this is; "" for nobody

// setOutboxOwner makes identity ({name, guest}, or null for nobody) the one
// whose messages are kept and read.
export function setOutboxOwner(identity) {
  who = identity && identity.name ? `${identity.guest ? "guest" : "account"}:${identity.name}` : "";
}

// keptIn returns the messages kept for room (a name), in send order:
// {room, cmid, body, ts} with reply_to, file, and failed (the reason of a
// refusal for good) when they have one.
export function keptIn(room) {
  return read().filter((e) => e.room === room);
}

// keep keeps msg (as send.js makes it: {room, cmid, body, reply_to, file,
// ts}), after those kept before it.
export function keep(msg) {
  if (!who) return;
  const list = read();
  if (list.length >= MAX_OUTBOX || list.some((e) => e.cmid === msg.cmid)) return;
  const e = { room: msg.room, cmid: msg.cmid, body: msg.body, ts: msg.ts };
  if (msg.reply_to) e.reply_to = msg.reply_to;
  if (msg.file) e.file = msg.file;
  if (valid(e)) write([...list, e]);
}

// unkeep lets the message with cmid go: acknowledged, or discarded.
export function unkeep(cmid) {
  if (!who) return;
  const list = read();
  const rest = list.filter((e) => e.cmid !== cmid);
  if (rest.length !== list.length) write(rest);
}

// markFailed marks the kept message with cmid as refused for good with
// why, or, with why "", as to be sent again (the user chose Retry).
export function markFailed(cmid, why) {
  if (!who) return;
  const list = read();
  const e = list.find((x) => x.cmid === cmid);
  if (!e || (e.failed || "") === why) return;
  if (why) e.failed = why;
  else delete e.failed;
  write(list);
}

// dropRoom lets go of every message kept for room (a name): the room left
// the list, and its unsent messages with it, as its draft does.
export function dropRoom(room) {
  if (!who) return;
  const list = read();
  const rest = list.filter((e) => e.room !== room);
  if (rest.length !== list.length) write(rest);
}

// clearOutbox forgets every message kept for the current identity
// (signing out); nothing is kept for it until setOutboxOwner names it
// again.
export function clearOutbox() {
  if (who) remove(PREFIX + who);
  who = "";
}

function valid(e) {
  return (
    !!e &&
    typeof e.room === "string" &&
    e.room !== "" &&
    typeof e.cmid === "string" &&
    CMID.test(e.cmid) &&
    typeof e.body === "string" &&
    byteLength(e.body) <= MAX_BODY_BYTES &&
    (e.body.trim() !== "" || (!!e.file && typeof e.file === "object" && typeof e.file.id === "string")) &&
    (e.reply_to === undefined || (Number.isSafeInteger(e.reply_to) && e.reply_to > 0)) &&
    (e.file === undefined || (!!e.file && typeof e.file === "object" && typeof e.file.id === "string")) &&
    Number.isFinite(e.ts) &&
    (e.failed === undefined || typeof e.failed === "string")
  );
}

// read returns the current identity's kept messages that are messages.
function read() {
  if (!who) return [];
  try {
    const v = JSON.parse(sessionStorage.getItem(PREFIX + who) || "[]");
    return Array.isArray(v) ? v.filter(valid).slice(0, MAX_OUTBOX) : [];
  } catch {
    return [];
  }
}

function write(list) {
  if (list.length === 0) {
    remove(PREFIX + who);
    return;
  }
  try {
    sessionStorage.setItem(PREFIX + who, JSON.stringify(list));
  } catch {
    // storage full or disabled: the messages last until the reload
  }
}

function remove(key) {
  try {
    sessionStorage.removeItem(key);
  } catch {
    // storage disabled
  }
}
