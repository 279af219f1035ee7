// Sending: a message shows at once as the user's own ("sending"), goes out
// with a client message id, and is retried with the same id after a
// reconnect, so that the server stores it at most once. A room's sends go
// out one after the other, each after the server answered the one before,
// so that they are stored in the order written; one refused as
// rate_limited (more than the server's 10 a second, after a burst of 30)
// is sent again a moment later, as docs/protocol.md asks, and those after
// it wait for it. Until the server has it, a message is kept in the tab's
// outbox (outbox.js), and a reload puts it back and sends it again with
// its cmid (restoreKept).

import { RequestError } from "./conn.js";
import { newCMID } from "./dom.js";
import { keep, keptIn, markFailed } from "./outbox.js";
import { changed, getConn, getMe, setArchived } from "./state.js";
import { receive, sync } from "./sync.js";

const SEND_TIMEOUT_MS = 15_000;
const MUTE_RECHECK_MS = 60_000; // a send refused as muted, end unknown: try again after this
const RATE_RETRY_MS = 1_000; // a send refused as rate_limited goes again after this (the bucket refills 10 a second)
const RATE_RETRIES = 30; // and gives up (failed, Retry offered) after this many refusals in a row
// send refusals worth retrying automatically after a reconnect.
const RETRYABLE = new Set(["internal", "unavailable", "not_joined", "rate_limited", "disconnected"]);

// sendMessage shows body in room as the user's and sends it, as a reply to
// the message with seq replyTo if that is given, carrying file (a complete
// upload of the user's, upload.js) if that is given; body is then its
// caption and may be "".
export function sendMessage(room, body, replyTo = 0, file = null) {
  const me = getMe();
  const msg = { room: room.name, from: me.name, guest: me.guest, body, cmid: newCMID(), ts: Date.now() };
  if (replyTo > 0) msg.reply_to = replyTo;
  if (file) msg.file = file;
  keep(msg);
  addLocal(room, msg);
  // Writing brings the view back to the newest message.
  room.pinned = true;
  changed("messages", room, { added: [], live: false, wasPinned: true });
  // The room's messages still waiting to go again (after a reconnect, or
  // put back after a reload) go first: the room gets them in the order
  // they were written.
  for (const item of [...room.locals.values()]) {
    if (item.auto && !item.queued && item.msg.cmid !== msg.cmid) transmit(room, item.msg.cmid);
  }
  transmit(room, msg.cmid);
}

// restoreKept puts back in room the user's messages kept over a reload
// (outbox.js), in the order they were sent, as the user's own: those
// refused for good as failed, with Retry and Discard, the others as
// sending. They go out again with their original cmids once the room is
// joined and caught up (rooms.js: sync, then resendLocals), so that one
// the server had stored before the reload is matched by its cmid in the
// history first (room.js, addConfirmed) and not sent again; one stored
// but older than the history fetched is answered with the stored copy.
// Those already shown (a room added again in the same page) are left be.
export function restoreKept(room) {
  const me = getMe();
  for (const e of keptIn(room.name)) {
    if (room.locals.has(e.cmid)) continue;
    const msg = { room: room.name, from: me.name, guest: me.guest, body: e.body, cmid: e.cmid, ts: e.ts };
    if (e.reply_to) msg.reply_to = e.reply_to;
    if (e.file) msg.file = e.file;
    const item = addLocal(room, msg);
    if (e.failed) {
      item.keptFailed = true;
      room.setLocalState(e.cmid, "failed", e.failed);
    } else {
      item.auto = true; // resendLocals sends it
    }
  }
}

// addLocal shows msg in room as the user's, not acknowledged yet, with
// its Retry and Discard.
function addLocal(room, msg) {
  return room.addLocal(
    msg,
    (cmid) => transmit(room, cmid),
    (cmid) => {
      room.discardLocal(cmid);
      changed("messages", room, { added: [], live: false, wasPinned: room.pinned, discarded: true });
    },
  );
}

// transmit sends a local message, or resends it with the same cmid, so
// the server stores it at most once however often this runs. It goes out
// after the room's sends queued before it; the promise returned settles
// when it is done with.
function transmit(room, cmid) {
  const item = room.locals.get(cmid);
  if (!item || item.queued) return room.sendQueue;
  item.queued = true;
  if (item.keptFailed) {
    // Retry: kept over a reload as one to send again from now on.
    item.keptFailed = false;
    markFailed(cmid, "");
  }
  room.setLocalState(cmid, "sending");
  const run = () =>
    transmitNow(room, cmid).finally(() => {
      item.queued = false;
    });
  room.sendQueue = room.sendQueue.then(run, run);
  return room.sendQueue;
}

const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function transmitNow(room, cmid) {
  const item = room.locals.get(cmid);
  if (!item) return;
  const cmd = { op: "send", room: room.name, body: item.msg.body, cmid };
  if (item.msg.reply_to) cmd.reply_to = item.msg.reply_to;
  if (item.msg.file) cmd.file = item.msg.file.id;
  for (let refused = 0; ; refused++) {
    const conn = getConn();
    if (!conn || !conn.ready || !room.joined) {
      item.auto = true;
      room.setLocalState(cmid, "failed", refused ? "connection lost; will retry" : "not connected; will retry");
      return;
    }
    room.setLocalState(cmid, "sending");
    try {
      const ok = await conn.request(cmd, SEND_TIMEOUT_MS);
      const m = ok.message;
      if (m && typeof m === "object" && room.oldest !== null && Number.isSafeInteger(m.seq) && m.seq < room.oldest) {
        // A resend answered with the copy stored long ago (before a
        // reload, with many messages since): it is older than what the
        // room shows, where it would stand out of place above a gap. It
        // shows in its place when the user scrolls up to it.
        room.discardLocal(cmid);
        changed("messages", room, { added: [], live: false, wasPinned: room.pinned });
      } else if (m && typeof m === "object") {
        receive(room, m, false);
      } else {
        // The ok of send carries the stored message; without it, find it in
        // history by its cmid.
        console.warn("hubbub: send ok without message");
        sync(room).catch(() => {});
      }
      return;
    } catch (err) {
      if (!room.locals.has(cmid)) return;
      const code = err.code || "disconnected";
      if (code === "rate_limited" && refused < RATE_RETRIES) {
        // Too fast: the server stored nothing. Wait a moment and send the
        // same again; the sends after it wait too.
        await pause(RATE_RETRY_MS);
        if (!room.locals.has(cmid)) return; // discarded meanwhile
        continue;
      }
      item.auto = RETRYABLE.has(code);
      if (code === "muted" && !(room.mutedUntil > Date.now())) {
        // Muted before we joined (the join reply does not say): hold the
        // composer for a while; a muted or unmuted event sets it right.
        room.mutedUntil = Date.now() + MUTE_RECHECK_MS;
        room.muteEndUnknown = true;
        changed("composer", room);
      }
      // Archived on another node and its directory event lost: the refusal
      // says so, and the composer closes (the failed message says why).
      if (code === "archived") setArchived(room.name, true);
      const why = err instanceof RequestError ? err.reason || code : "connection lost; will retry";
      room.setLocalState(cmid, "failed", why);
      if (!item.auto) {
        // Refused for good: kept over a reload as failed (outbox.js says
        // why), not sent again unless the user says Retry.
        item.keptFailed = true;
        markFailed(cmid, why);
      }
      return;
    }
  }
}

// resendLocals retries, in order, the room's sends that failed for a
// reason a reconnect can cure.
export async function resendLocals(room) {
  for (const item of [...room.locals.values()]) {
    if (item.auto && room.locals.has(item.msg.cmid)) await transmit(room, item.msg.cmid);
  }
}

// failInFlight marks the sends under way as failed after the connection
// was lost; resendLocals sends them again after the next join.
export function failInFlight(room) {
  for (const item of room.locals.values()) {
    if (item.state === "sending") {
      item.auto = true;
      room.setLocalState(item.msg.cmid, "failed", "connection lost; will retry");
    }
  }
}
