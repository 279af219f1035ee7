// Server events: live messages (and room entries, which arrive as
// messages), presence and typing, and the events addressed to the user
// alone when an owner or moderator acts on them (kicked, banned, unbanned,
// muted, unmuted, role, invited): the room's own record of those is its
// entries (message.js shows them, roomnews.js applies them); here they
// change what concerns the user and raise a toast. Each event type has one
// handler, registered with state.onServerEvent; a new kind of event can
// live in a module of its own the same way.

import { when } from "./dom.js";
import { isDM, isRoomName } from "./names.js";
import { closeManage, refreshManage } from "./manage.js";
import { announce, toast } from "./ui.js";
import * as state from "./state.js";
import { receive } from "./sync.js";
import { addRoom, refreshDirectory } from "./rooms.js";
import { TYPING_SHOWN_MS } from "./typing.js";

const me = () => state.getMe().name;

// initEvents registers the handlers of this module's event types, once.
export function initEvents() {
  state.onServerEvent("message", (ev) => {
    const m = ev.message;
    const r = m && typeof m.room === "string" && state.getRoom(m.room);
    if (r) receive(r, m, true);
  });
  state.onServerEvent("join", (ev, room) => {
    if (!room || typeof ev.user !== "string") return;
    room.members.add(ev.user);
    state.changed("members", room);
  });
  state.onServerEvent("leave", (ev, room) => {
    if (!room || typeof ev.user !== "string" || ev.user === me()) return;
    room.members.delete(ev.user);
    room.typing.delete(ev.user);
    state.changed("members", room);
    state.changed("typing", room);
  });
  state.onServerEvent("typing", (ev, room) => {
    if (!room || typeof ev.user !== "string" || ev.user === me() || state.isBlocked(ev.user)) return;
    room.typing.set(ev.user, Date.now() + TYPING_SHOWN_MS);
    state.changed("typing", room);
  });
  state.onServerEvent("kicked", onRemoved);
  state.onServerEvent("banned", onRemoved);
  state.onServerEvent("unbanned", onUnbanned);
  state.onServerEvent("muted", onMuted);
  state.onServerEvent("unmuted", onMuted);
  state.onServerEvent("role", (ev, room) => {
    // Our own role changed (the room's role entry tells everyone).
    if (!room || typeof ev.user !== "string") return;
    state.setRole(room, ev.user, typeof ev.role === "string" ? ev.role : "");
    if (ev.user === me()) refreshManage(room);
  });
  state.onServerEvent("invited", onInvited);
  state.onServerEvent("error", (ev) => {
    // A refusal of a command sent without an id (typing), or news the
    // server pushes on its own.
    if (ev.code === "rate_limited") toast("Slow down — you are sending too fast.");
    else console.warn("hubbub: server error", ev.code, ev.reason);
  });
}

// until describes the end of a ban or mute: "until 14:05", or "" when it
// lasts until lifted.
function until(ms) {
  return Number.isSafeInteger(ms) && ms > 0 ? ` until ${when(ms)}` : "";
}

// recent holds notices shown in the last seconds, so that one piece of news
// reaching us twice (through the room and addressed to us) shows once.
const recent = new Map();
function once(key) {
  const now = Date.now();
  for (const [k, t] of recent) if (now - t > 10_000) recent.delete(k);
  if (recent.has(key)) return false;
  recent.set(key, now);
  return true;
}

// forgetOnce forgets the recent notices whose keys start with prefix, so
// that news undoing them (a ban lifted, then made again) shows every time.
function forgetOnce(prefix) {
  for (const k of recent.keys()) if (k.startsWith(prefix)) recent.delete(k);
}

// onRemoved handles kicked and banned, which reach only the user removed.
// The removal has already happened on the server: forget the room so that
// no reconnect rejoins it.
function onRemoved(ev, room) {
  if (typeof ev.room !== "string" || typeof ev.user !== "string") return;
  const by = typeof ev.by === "string" && ev.by ? ev.by : "a moderator";
  const reason = typeof ev.reason === "string" && ev.reason ? `: ${ev.reason}` : ".";
  const label = state.labelOf(ev.room, room ? room.info : state.directoryInfo(ev.room));
  if (ev.user !== me()) return;
  if (room) {
    closeManage(room);
    state.removeRoom(room);
  }
  const text =
    ev.type === "kicked"
      ? `You were removed from ${label} by ${by}${reason}`
      : `You were banned from ${label} by ${by}${until(ev.until)}${reason}`;
  if (ev.type === "banned") forgetOnce(`unbanned ${ev.room} `);
  if (once(`${ev.type} ${ev.room} ${ev.by} ${ev.until || 0}`)) {
    toast(text, 12_000);
    announce(text);
  }
  refreshDirectory();
}

// onUnbanned handles a ban lifted. The client keeps no list of bans: a ban
// of ours made it forget the room (so that no reconnect rejoins it), and
// that is all there is to undo. The room is listed under Browse again,
// from where it can be joined.
function onUnbanned(ev, room) {
  if (typeof ev.room !== "string" || typeof ev.user !== "string") return;
  if (ev.user !== me()) return;
  forgetOnce(`banned ${ev.room} `);
  if (once(`unbanned ${ev.room} ${ev.by}`)) {
    const text = `You may join ${state.labelOf(ev.room, room ? room.info : state.directoryInfo(ev.room))} again.`;
    toast(text);
    announce(text);
  }
  refreshDirectory();
}

// onMuted handles our own mute or its end: the composer follows, and a
// toast tells of it when the room is not on screen (its line is there).
function onMuted(ev, room) {
  if (typeof ev.room !== "string" || ev.user !== me()) return;
  const muted = ev.type === "muted";
  const reason = typeof ev.reason === "string" && ev.reason ? `: ${ev.reason}` : "";
  const label = state.labelOf(ev.room, room ? room.info : state.directoryInfo(ev.room));
  if (room) {
    room.mutedUntil = muted ? (Number.isSafeInteger(ev.until) && ev.until > 0 ? ev.until : Infinity) : 0;
    room.muteEndUnknown = false;
    if (muted) room.muted.set(ev.user, room.mutedUntil);
    else room.muted.delete(ev.user);
    state.changed("composer", room);
    state.changed("members", room);
  }
  if (room !== state.getActive() && once(`${ev.type} ${ev.room} ${ev.until || 0}`)) {
    toast(muted ? `You were muted in ${label}${until(ev.until)}${reason}` : `You can write in ${label} again.`);
  }
}

// onInvited: a private room or a DM was opened to us. It joins the room
// list at once, marked, whether or not it holds messages yet.
function onInvited(ev, room) {
  if (typeof ev.room !== "string" || !isRoomName(ev.room)) return;
  const by = typeof ev.by === "string" && ev.by ? ev.by : "someone";
  if (typeof ev.user === "string" && ev.user && ev.user !== me()) return; // the room's invite entry tells
  state.reopenConversation(ev.room);
  if (!room) {
    room = addRoom(ev.room, 0, true);
    room.invited = true;
    state.changed("room", room);
  }
  if (once(`invited ${ev.room}`)) {
    toast(isDM(ev.room) ? `${by} started a conversation with you.` : `${by} invited you to #${ev.room}.`);
  }
  refreshDirectory();
}
