// Server events: live messages, presence and typing, and the news of what
// owners and moderators do (kicks, bans and their lifting, mutes, topics,
// roles, invitations), shown as system lines in the room and, when it
// concerns the user, as a toast. Each event type has one handler,
// registered with state.onServerEvent; a new kind of event can live in a
// module of its own the same way.

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
    if (!room || typeof ev.user !== "string" || ev.user === me()) return;
    room.typing.set(ev.user, Date.now() + TYPING_SHOWN_MS);
    state.changed("typing", room);
  });
  state.onServerEvent("kicked", onRemoved);
  state.onServerEvent("banned", onRemoved);
  state.onServerEvent("unbanned", onUnbanned);
  state.onServerEvent("muted", onMuted);
  state.onServerEvent("unmuted", onMuted);
  state.onServerEvent("topic", (ev, room) => {
    if (typeof ev.room !== "string") return;
    const topic = typeof ev.topic === "string" ? ev.topic : "";
    state.setTopic(ev.room, topic);
    if (room && typeof ev.by === "string") {
      system(room, topic ? `${who(ev.by)} set the topic: ${topic}` : `${who(ev.by)} cleared the topic`);
    }
  });
  state.onServerEvent("role", (ev, room) => {
    if (!room || typeof ev.user !== "string") return;
    const role = typeof ev.role === "string" ? ev.role : "";
    state.setRole(room, ev.user, role);
    if (ev.user === me()) refreshManage(room);
    const what = role === "moderator" ? "a moderator" : role === "member" ? "a member" : role === "owner" ? "the owner" : "";
    if (what && typeof ev.by === "string") system(room, `${who(ev.by)} made ${whom(ev.user)} ${what}`);
  });
  state.onServerEvent("invited", onInvited);
  state.onServerEvent("error", (ev) => {
    // A refusal of a command sent without an id (typing), or news the
    // server pushes on its own.
    if (ev.code === "rate_limited") toast("Slow down — you are sending too fast.");
    else console.warn("hubbub: server error", ev.code, ev.reason);
  });
}

// who and whom name a user in a system line: "you" for the user.
const who = (name) => (name === me() ? "You" : name);
const whom = (name) => (name === me() ? "you" : name);

// system shows a line of news in room.
function system(room, text) {
  // Not sentence(): the line may start with a user name, whose case counts.
  const wasPinned = room.pinned;
  room.addSystem(/[.!?…]$/.test(text) ? text : `${text}.`);
  state.changed("messages", room, { added: [], live: false, wasPinned });
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

// onRemoved handles kicked and banned. Our own removal has already
// happened on the server: forget the room so that no reconnect rejoins it.
function onRemoved(ev, room) {
  if (typeof ev.room !== "string" || typeof ev.user !== "string") return;
  const by = typeof ev.by === "string" && ev.by ? ev.by : "a moderator";
  const reason = typeof ev.reason === "string" && ev.reason ? `: ${ev.reason}` : ".";
  const label = state.labelOf(ev.room, room ? room.info : state.directoryInfo(ev.room));
  if (ev.user === me()) {
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
    return;
  }
  if (!room) return;
  room.members.delete(ev.user);
  room.typing.delete(ev.user);
  const verb = ev.type === "kicked" ? "was kicked" : `was banned${until(ev.until)}`;
  system(room, `${ev.user} ${verb} by ${whom(by)}${reason === "." ? "" : reason}`);
  state.changed("members", room);
  state.changed("typing", room);
}

// onUnbanned handles a ban lifted. The client keeps no list of bans: a ban
// of ours made it forget the room (so that no reconnect rejoins it), and
// that is all there is to undo. The room is listed under Browse again,
// from where it can be joined.
function onUnbanned(ev, room) {
  if (typeof ev.room !== "string" || typeof ev.user !== "string") return;
  const by = typeof ev.by === "string" && ev.by ? ev.by : "a moderator";
  if (room) system(room, `${who(ev.user)} may join again — ${whom(by)} lifted the ban`);
  if (ev.user !== me()) return;
  forgetOnce(`banned ${ev.room} `);
  if (once(`unbanned ${ev.room} ${ev.by}`)) {
    const text = `You may join ${state.labelOf(ev.room, room ? room.info : state.directoryInfo(ev.room))} again.`;
    toast(text);
    announce(text);
  }
  refreshDirectory();
}

function onMuted(ev, room) {
  if (typeof ev.room !== "string" || typeof ev.user !== "string") return;
  const muted = ev.type === "muted";
  const end = muted ? (Number.isSafeInteger(ev.until) && ev.until > 0 ? ev.until : Infinity) : 0;
  const by = typeof ev.by === "string" && ev.by ? ev.by : "a moderator";
  const reason = typeof ev.reason === "string" && ev.reason ? `: ${ev.reason}` : "";
  if (!room) {
    if (ev.user === me() && once(`${ev.type} ${ev.room} ${ev.until || 0}`)) {
      toast(muted ? `You were muted in #${ev.room}${until(ev.until)}${reason}` : `You can write in #${ev.room} again.`);
    }
    return;
  }
  if (muted) room.muted.set(ev.user, end);
  else room.muted.delete(ev.user);
  if (ev.user === me()) {
    room.mutedUntil = end;
    room.muteEndUnknown = false;
    state.changed("composer", room);
    if (room !== state.getActive() && once(`${ev.type} ${ev.room} ${ev.until || 0}`)) {
      const label = state.labelOf(room.name, room.info);
      toast(muted ? `You were muted in ${label}${until(ev.until)}${reason}` : `You can write in ${label} again.`);
    }
  }
  const were = ev.user === me() ? "were" : "was";
  system(room, muted ? `${who(ev.user)} ${were} muted${until(ev.until)} by ${whom(by)}${reason}` : `${who(ev.user)} ${were} unmuted by ${whom(by)}`);
  state.changed("members", room);
}

// onInvited: a private room or a DM was opened to us. It joins the room
// list at once, marked, whether or not it holds messages yet.
function onInvited(ev, room) {
  if (typeof ev.room !== "string" || !isRoomName(ev.room)) return;
  const by = typeof ev.by === "string" && ev.by ? ev.by : "someone";
  if (typeof ev.user === "string" && ev.user && ev.user !== me()) {
    // Someone else was invited to a room we are in.
    if (room) system(room, `${who(by)} invited ${ev.user}`);
    return;
  }
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
