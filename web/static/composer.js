// The composer and sending: a message shows at once as the user's own
// ("sending"), goes out with a client message id, and is retried with the
// same id after a reconnect, so that the server stores it at most once.
// The composer is disabled while the user is muted in the open room.

import { RequestError } from "./conn.js";
import { byteLength, newCMID, when } from "./dom.js";
import { toast, ui } from "./ui.js";
import { active, conn, labelOf, me } from "./state.js";
import { receive, sync } from "./sync.js";
import { scrollToBottom } from "./view.js";
import { TYPING_AFTER_SEND_MS, TYPING_EVERY_MS, sendTyping } from "./presence.js";

const SEND_TIMEOUT_MS = 15_000;
const MAX_BODY_BYTES = 4096;
const MUTE_RECHECK_MS = 60_000; // a send refused as muted, end unknown: try again after this
// send refusals worth retrying automatically after a reconnect.
const RETRYABLE = new Set(["internal", "unavailable", "not_joined", "rate_limited", "disconnected"]);

function sendDraft() {
  const room = active;
  const body = ui.input.value;
  if (!room || body.trim() === "") return;
  if (byteLength(body) > MAX_BODY_BYTES) {
    toast(`Messages are at most ${MAX_BODY_BYTES} bytes.`);
    return;
  }
  const msg = { room: room.name, from: me.name, guest: me.guest, body, cmid: newCMID(), ts: Date.now() };
  room.addLocal(
    msg,
    (cmid) => transmit(room, cmid),
    (cmid) => {
      room.discardLocal(cmid);
      ui.input.focus();
    },
  );
  ui.input.value = "";
  room.draft = "";
  // The next message may announce typing sooner than TYPING_EVERY_MS after
  // the last notice, but not within a second of it: the server drops
  // notices closer than that.
  clearTimeout(room.typingTimer);
  room.typingTimer = 0;
  room.lastTypingSent -= TYPING_EVERY_MS - TYPING_AFTER_SEND_MS;
  renderCount();
  room.pinned = true;
  ui.pill.hidden = true;
  scrollToBottom();
  transmit(room, msg.cmid);
}

// transmit sends a local message, or resends it with the same cmid, so
// the server stores it at most once however often this runs.
async function transmit(room, cmid) {
  const item = room.locals.get(cmid);
  if (!item || item.inFlight) return;
  room.setLocalState(cmid, "sending");
  if (!conn || !conn.ready || !room.joined) {
    item.auto = true;
    room.setLocalState(cmid, "failed", "not connected; will retry");
    return;
  }
  item.inFlight = true;
  try {
    const ok = await conn.request({ op: "send", room: room.name, body: item.msg.body, cmid }, SEND_TIMEOUT_MS);
    if (ok.message && typeof ok.message === "object") {
      receive(room, ok.message, false);
    } else {
      // The ok of send carries the stored message; without it, find it in
      // history by its cmid.
      console.warn("hubbub: send ok without message");
      sync(room).catch(() => {});
    }
  } catch (err) {
    if (!room.locals.has(cmid)) return;
    const code = err.code || "disconnected";
    item.auto = RETRYABLE.has(code);
    if (code === "muted" && !(room.mutedUntil > Date.now())) {
      // Muted before we joined (the join reply does not say): hold the
      // composer for a while; a muted or unmuted event sets it right.
      room.mutedUntil = Date.now() + MUTE_RECHECK_MS;
      room.muteEndUnknown = true;
      if (room === active) renderComposer();
    }
    room.setLocalState(cmid, "failed", err instanceof RequestError ? err.reason || code : "connection lost; will retry");
  } finally {
    item.inFlight = false;
  }
}

// resendLocals retries, in order, the room's sends that failed for a
// reason a reconnect can cure.
export async function resendLocals(room) {
  for (const item of [...room.locals.values()]) {
    if (item.auto && room.locals.has(item.msg.cmid)) await transmit(room, item.msg.cmid);
  }
}

// renderComposer enables the composer for the open room, unless the user
// is muted there.
export function renderComposer() {
  const room = active;
  const muted = !!room && room.mutedUntil > Date.now();
  ui.input.disabled = !room || muted;
  ui.send.disabled = !room || muted;
  ui.composer.classList.toggle("muted", muted);
  ui.mutedNote.hidden = !muted;
  if (muted) {
    const label = labelOf(room.name, room.info);
    ui.mutedNote.textContent =
      room.mutedUntil === Infinity
        ? `You are muted in ${label} until a moderator lifts it. You can still read along.`
        : room.muteEndUnknown
          ? `You are muted in ${label}. You can still read along.`
          : `You are muted in ${label} until ${when(room.mutedUntil)}. You can still read along.`;
  }
  ui.input.placeholder = muted ? "You are muted" : room ? `Message ${labelOf(room.name, room.info)}` : "Message";
}

export function renderCount() {
  const n = byteLength(ui.input.value);
  ui.count.textContent = n > MAX_BODY_BYTES - 600 ? ` · ${n}/${MAX_BODY_BYTES}` : "";
  ui.count.classList.toggle("over", n > MAX_BODY_BYTES);
  ui.composer.classList.toggle("has-text", ui.input.value.trim() !== "");
}

// initComposer wires the composer, once.
export function initComposer() {
  ui.composer.addEventListener("submit", (e) => {
    e.preventDefault();
    sendDraft();
    ui.input.focus();
  });
  ui.input.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
      e.preventDefault();
      sendDraft();
    }
  });
  ui.input.addEventListener("input", () => {
    renderCount();
    const room = active;
    if (!room) return;
    room.draft = ui.input.value;
    if (ui.input.value.trim() === "") return;
    room.lastInputAt = Date.now();
    sendTyping(room);
  });
}
