// Server events: live messages, presence and typing, and the news of what
// owners and moderators do (kicks, bans and their lifting, mutes, topics,
// roles, invitations), shown as system lines in the room and, when it
// concerns the user, as a toast.

import { when } from "./dom.js";
import { isDM, isRoomName } from "./names.js";
import { closeManage, refreshManage } from "./manage.js";
import { announce, toast } from "./ui.js";
import { active, directory, labelOf, me, rooms, saved } from "./state.js";
import { receive } from "./sync.js";
import { addRoom, forgetRoom, refreshDirectory } from "./rooms.js";
import { renderRoomList } from "./sidebar.js";
import { renderRoomHeader, scrollToBottom } from "./view.js";
import { renderComposer } from "./composer.js";
import { TYPING_SHOWN_MS, renderMembers, renderTyping } from "./presence.js";

export function onEvent(ev) {
  const room = typeof ev.room === "string" ? rooms.get(ev.room) : undefined;
  switch (ev.type) {
    case "message": {
      const m = ev.message;
      const r = m && rooms.get(m.room);
      if (r) receive(r, m, true);
      break;
    }
    case "join":
      if (room && typeof ev.user === "string") {
        room.members.add(ev.user);
        if (room === active) renderMembers();
      }
      break;
    case "leave":
      if (room && typeof ev.user === "string" && ev.user !== me.name) {
        room.members.delete(ev.user);
        room.typing.delete(ev.user);
        if (room === active) {
          renderMembers();
          renderTyping();
        }
      }
      break;
    case "typing":
      if (room && typeof ev.user === "string" && ev.user !== me.name) {
        room.typing.set(ev.user, Date.now() + TYPING_SHOWN_MS);
        if (room === active) renderTyping();
      }
      break;
    case "kicked":
    case "banned":
      onRemoved(ev, room);
      break;
    case "unbanned":
      onUnbanned(ev, room);
      break;
    case "muted":
    case "unmuted":
      onMuted(ev, room);
      break;
    case "topic":
      if (typeof ev.room !== "string") break;
      if (room) {
        const topic = typeof ev.topic === "string" ? ev.topic : "";
        room.info.topic = topic;
        if (typeof ev.by === "string") {
          system(room, topic ? `${who(ev.by)} set the topic: ${topic}` : `${who(ev.by)} cleared the topic`);
        }
        if (room === active) renderRoomHeader();
      }
      if (directory.has(ev.room)) directory.get(ev.room).topic = typeof ev.topic === "string" ? ev.topic : "";
      renderRoomList();
      break;
    case "role":
      if (room && typeof ev.user === "string") {
        const role = typeof ev.role === "string" ? ev.role : "";
        if (role) room.roles.set(ev.user, role);
        else room.roles.delete(ev.user);
        if (ev.user === me.name) {
          room.info.role = role;
          refreshManage(room);
          if (room === active) renderRoomHeader();
        }
        const what = role === "moderator" ? "a moderator" : role === "member" ? "a member" : role === "owner" ? "the owner" : "";
        if (what && typeof ev.by === "string") system(room, `${who(ev.by)} made ${whom(ev.user)} ${what}`);
        if (room === active) renderMembers();
      }
      break;
    case "invited":
      onInvited(ev, room);
      break;
    case "error":
      // A refusal of a command sent without an id (typing), or news the
      // server pushes on its own.
      if (ev.code === "rate_limited") toast("Slow down — you are sending too fast.");
      else console.warn("hubbub: server error", ev.code, ev.reason);
      break;
  }
}

// who and whom name a user in a system line: "you" for the user.
const who = (name) => (name === me.name ? "You" : name);
const whom = (name) => (name === me.name ? "you" : name);

// system shows a line of news in room.
function system(room, text) {
  // Not sentence(): the line may start with a user name, whose case counts.
  room.addSystem(/[.!?…]$/.test(text) ? text : `${text}.`);
  if (room === active && room.pinned) scrollToBottom();
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
  const label = labelOf(ev.room, room ? room.info : directory.get(ev.room));
  if (ev.user === me.name) {
    if (room) {
      closeManage(room);
      forgetRoom(room);
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
  if (room === active) {
    renderMembers();
    renderTyping();
  }
}

// onUnbanned handles a ban lifted. The client keeps no list of bans: a ban
// of ours made it forget the room (so that no reconnect rejoins it), and
// that is all there is to undo. The room is listed under Browse again,
// from where it can be joined.
function onUnbanned(ev, room) {
  if (typeof ev.room !== "string" || typeof ev.user !== "string") return;
  const by = typeof ev.by === "string" && ev.by ? ev.by : "a moderator";
  if (room) system(room, `${who(ev.user)} may join again — ${whom(by)} lifted the ban`);
  if (ev.user !== me.name) return;
  forgetOnce(`banned ${ev.room} `);
  if (once(`unbanned ${ev.room} ${ev.by}`)) {
    const text = `You may join ${labelOf(ev.room, room ? room.info : directory.get(ev.room))} again.`;
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
    if (ev.user === me.name && once(`${ev.type} ${ev.room} ${ev.until || 0}`)) {
      toast(muted ? `You were muted in #${ev.room}${until(ev.until)}${reason}` : `You can write in #${ev.room} again.`);
    }
    return;
  }
  if (muted) room.muted.set(ev.user, end);
  else room.muted.delete(ev.user);
  if (ev.user === me.name) {
    room.mutedUntil = end;
    room.muteEndUnknown = false;
    if (room === active) renderComposer();
    else if (once(`${ev.type} ${ev.room} ${ev.until || 0}`)) {
      toast(muted ? `You were muted in ${labelOf(room.name, room.info)}${until(ev.until)}${reason}` : `You can write in ${labelOf(room.name, room.info)} again.`);
    }
  }
  system(room, muted ? `${who(ev.user)} ${ev.user === me.name ? "were" : "was"} muted${until(ev.until)} by ${whom(by)}${reason}` : `${who(ev.user)} ${ev.user === me.name ? "were" : "was"} unmuted by ${whom(by)}`);
  if (room === active) renderMembers();
}

// onInvited: a private room or a DM was opened to us. It joins the room
// list at once, marked, whether or not it holds messages yet.
function onInvited(ev, room) {
  if (typeof ev.room !== "string" || !isRoomName(ev.room)) return;
  const by = typeof ev.by === "string" && ev.by ? ev.by : "someone";
  if (typeof ev.user === "string" && ev.user && ev.user !== me.name) {
    // Someone else was invited to a room we are in.
    if (room) system(room, `${who(by)} invited ${ev.user}`);
    return;
  }
  saved.closed.delete(ev.room);
  if (!room) {
    room = addRoom(ev.room, 0, true);
    room.invited = true;
    renderRoomList();
  }
  if (once(`invited ${ev.room}`)) {
    toast(isDM(ev.room) ? `${by} started a conversation with you.` : `${by} invited you to #${ev.room}.`);
  }
  refreshDirectory();
}
