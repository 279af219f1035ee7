// Rooms the user joins and leaves: adding one to the joined list (and
// joining it when connected), opening one from Browse, leaving a room or
// closing a conversation, creating a room, opening a direct message, and
// the server's room directory.

import { Disconnected, RequestError } from "./conn.js";
import { sentence } from "./account.js";
import { ROOM_NAME, checkUsername, isDM, isRoomName } from "./names.js";
import { isNarrow, toast, ui } from "./ui.js";
import * as state from "./state.js";
import { sync } from "./sync.js";
import { resendLocals, restoreKept } from "./send.js";

const JOIN_RETRY_MS = 5000;
// A join or room listing refused as rate_limited goes again after about
// this: coming back to many rooms sends more commands at once than the
// server takes in a burst (docs/protocol.md, "Abuse limits").
const RATE_RETRY_MS = 1000;
const RATE_RETRIES = 10;
const rateWait = () => new Promise((resolve) => setTimeout(resolve, RATE_RETRY_MS * (0.5 + Math.random())));
// join refusals that mean the room is not for us (any more).
const GONE = new Set(["no_such_room", "forbidden", "banned", "kicked", "invalid_value", "too_long"]);

// addRoom puts a room in the joined list (seen: the last seq the user has
// seen, or null for nothing unread on first join), with the user's
// messages kept unsent over a reload (send.js, restoreKept), and joins it
// when connected.
export function addRoom(name, seen, join = true) {
  const room = state.addRoom(name, seen);
  restoreKept(room);
  const conn = state.getConn();
  if (join && conn && conn.identified) joinRoom(room).catch(() => {});
  return room;
}

// joinRoom joins room on the current connection, then catches it up and
// resends what the server has not acknowledged. sent, if given, is the
// join request already sent (the handshake sends them with hello).
export async function joinRoom(room, sent = null) {
  const conn = state.getConn();
  let ok;
  try {
    ok = await (sent || conn.request({ op: "join", room: room.name }));
  } catch (err) {
    if (err instanceof RequestError && GONE.has(err.code)) {
      // The messages waiting to go there (put back after a reload, say)
      // go with the room: the toast counts them.
      const unsent = room.locals.size;
      state.removeRoom(room);
      const lost = unsent === 0 ? "" : unsent === 1 ? " (1 unsent message discarded)" : ` (${unsent} unsent messages discarded)`;
      toast(`Could not join #${room.name}: ${err.reason || err.code}${lost}`);
    } else if (err instanceof RequestError && err.code === "rate_limited") {
      // Too many commands at once (many rooms joined together): not the
      // user's doing, so no word of it; try again in a moment.
      setTimeout(() => {
        if (state.getConn() === conn && conn.ready && state.getRoom(room.name) === room && !room.joined) joinRoom(room).catch(() => {});
      }, RATE_RETRY_MS * (0.5 + Math.random()));
    } else if (err instanceof RequestError) {
      // internal, unavailable: try again in a while.
      toast(`Could not join #${room.name} yet: ${err.reason || err.code}`);
      setTimeout(() => {
        if (state.getConn() === conn && conn.ready && state.getRoom(room.name) === room && !room.joined) joinRoom(room).catch(() => {});
      }, JOIN_RETRY_MS);
    }
    throw err;
  }
  if (state.getRoom(room.name) !== room) return; // left while joining
  room.joined = true;
  // The roles are the reply's from here on, as of baseSeq: ours (info),
  // the owner, a private room's roster, a public room's staff; role
  // entries after baseSeq change them (roomnews.js).
  room.roles.clear();
  room.admins.clear();
  state.applyInfo(room, ok.info);
  room.baseSeq = room.info.last_seq; // news up to here is in info and members
  room.members = new Set(Array.isArray(ok.members) ? ok.members : []);
  // Nobody may kick or ban the owner: Manage offers neither.
  room.owner = ok.info && typeof ok.info.owner === "string" ? ok.info.owner : "";
  if (room.owner) room.roles.set(room.owner, "owner");
  // A public room's owner and moderators, and the server's
  // administrators: the member list badges them, and nobody is offered
  // what the server refuses on them.
  if (ok.info && Array.isArray(ok.info.staff)) {
    for (const m of ok.info.staff) {
      if (!m || typeof m.name !== "string") continue;
      if (m.role === "owner" || m.role === "moderator") room.roles.set(m.name, m.role);
      else if (m.role === "admin") room.admins.add(m.name);
    }
  }
  // A private room's roster: who belongs to it, online or not, with roles.
  room.roster = null;
  if (Array.isArray(ok.roster)) {
    room.roster = new Set();
    for (const m of ok.roster) {
      if (!m || typeof m.name !== "string") continue;
      room.roster.add(m.name);
      if (typeof m.role === "string" && m.role) room.roles.set(m.name, m.role);
    }
  }
  state.changed("members", room);
  if (room.seen === null) state.setSeen(room, room.latest); // a room joined for the first time has nothing unread
  sync(room)
    .then(() => resendLocals(room))
    .catch((err) => {
      if (!(err instanceof Disconnected)) console.warn("hubbub: catching up", room.name, err);
    });
}

// joinAndOpen opens room name, joining it first if need be, and puts the
// cursor in the composer (except on a phone, where that opens the keyboard).
export function joinAndOpen(name) {
  const room = state.getRoom(name) || addRoom(name, null);
  state.setActive(room);
  if (!isNarrow()) ui.input.focus();
}

// leaveRoom leaves a room, or closes a conversation: a DM stays closed
// until something newer than what it holds now arrives.
export async function leaveRoom(room) {
  if (isDM(room.name)) state.closeConversation(room.name, Math.max(room.latest, room.seen || 0));
  state.removeRoom(room);
  const conn = state.getConn();
  if (conn && conn.ready && room.joined) {
    try {
      await conn.request({ op: "leave", room: room.name });
    } catch (err) {
      console.warn("hubbub: leave", room.name, err);
    }
  }
}

// refreshDirectory lists every room the user may see, replacing the
// directory. It runs after each (re)connect and when what the user may see
// changed without a directory event (an invitation, a removal); directory
// events (directory.js) keep it current in between: nothing polls.
export async function refreshDirectory() {
  const c = state.getConn();
  if (!c) return;
  let list;
  try {
    // The server answers in pages; one with more set continues after
    // its last room.
    list = [];
    for (let after = "", refused = 0; ; ) {
      let ok;
      try {
        ok = await c.request(after ? { op: "rooms", room: after } : { op: "rooms" });
      } catch (err) {
        if (!(err instanceof RequestError) || err.code !== "rate_limited" || ++refused > RATE_RETRIES) throw err;
        await rateWait();
        if (state.getConn() !== c) return;
        continue;
      }
      const page = Array.isArray(ok.rooms) ? ok.rooms : [];
      list.push(...page);
      const last = page.length ? page[page.length - 1] : null;
      if (!ok.more || !last || typeof last.name !== "string") break;
      after = last.name;
    }
  } catch {
    return; // not connected; the next handshake refreshes
  }
  if (state.getConn() !== c) return;
  const infos = list.filter((r) => r && typeof r.name === "string" && isRoomName(r.name)).map((r) => state.roomInfo(r.name, r));
  state.setDirectory(infos);
  if (!state.getMe().guest) {
    for (const info of infos) {
      if (!isDM(info.name) || state.hasRoom(info.name)) continue;
      // A conversation we are not in: one opened while we were away, or
      // one we closed that has news. A browser that knew nothing of this
      // account shows what exists as read.
      const closedAt = state.closedAt(info.name);
      if (closedAt === undefined || info.last_seq > closedAt) {
        addRoom(info.name, closedAt !== undefined ? closedAt : state.isFirstListing() ? info.last_seq : 0);
      }
    }
  }
  state.directoryListed();
}

async function createRoom(e) {
  e.preventDefault();
  const name = ui.createName.value.trim().toLowerCase();
  const topic = ui.createTopic.value.trim();
  const priv = !state.getMe().guest && ui.createPrivate.checked;
  ui.createError.textContent = "";
  if (!ROOM_NAME.test(name)) {
    ui.createError.textContent =
      name === "" ? "Please enter a room name." : "Use a-z, 0-9, - and _, starting with a letter or digit (up to 32).";
    ui.createName.focus();
    return;
  }
  if (!state.isReady()) {
    ui.createError.textContent = "Not connected to the server. Try again in a moment.";
    return;
  }
  const cmd = { op: "create", room: name };
  if (topic) cmd.topic = topic;
  if (priv) cmd.private = true;
  try {
    const ok = await state.getConn().request(cmd);
    if (ok.info) state.setDirectoryEntry(name, ok.info);
  } catch (err) {
    ui.createError.textContent = sentence(err.reason || err.message || "The room could not be created.");
    return;
  }
  ui.createDialog.close();
  ui.createForm.reset();
  joinAndOpen(name);
}

// openDM opens the conversation with user, creating it if needed, and
// shows it. It resolves with an error sentence, or "" when it worked.
async function openDM(user) {
  if (!state.isReady()) return "Not connected to the server. Try again in a moment.";
  let ok;
  try {
    ok = await state.getConn().request({ op: "dm", user });
  } catch (err) {
    if (err.code === "no_such_user") return `There is no account called ${user}.`;
    if (err.code === "forbidden") return sentence(err.reason || "You cannot message them.");
    return sentence(err.reason || err.message || "The conversation could not be opened.");
  }
  const name = typeof ok.room === "string" && isDM(ok.room) ? ok.room : "";
  if (!name) return "The server's reply names no conversation.";
  if (ok.info) state.setDirectoryEntry(name, ok.info);
  const room = state.getRoom(name);
  if (room && ok.info) state.applyInfo(room, ok.info);
  joinAndOpen(name);
  return "";
}

async function submitDM(e) {
  e.preventDefault();
  const user = ui.dmUser.value.trim().toLowerCase();
  ui.dmError.textContent = "";
  let err = checkUsername(user);
  if (!err && user === state.getMe().name) err = "That is you. Pick someone else.";
  if (!err) err = await openDM(user);
  if (err) {
    ui.dmError.textContent = err;
    ui.dmUser.setAttribute("aria-invalid", "true");
    ui.dmUser.focus();
    return;
  }
  ui.dmDialog.close();
  ui.dmForm.reset();
}

// messageUser is "Message" on a name in the presence list.
export async function messageUser(user) {
  const err = await openDM(user);
  if (err) toast(err);
}

// initRooms wires the dialogs that create a room and start a
// conversation, once.
export function initRooms() {
  ui.openDM.addEventListener("click", () => {
    ui.dmError.textContent = "";
    ui.dmUser.setAttribute("aria-invalid", "false");
    ui.dmDialog.showModal();
    ui.dmUser.focus();
  });
  ui.dmCancel.addEventListener("click", () => ui.dmDialog.close());
  ui.dmForm.addEventListener("submit", submitDM);
  ui.dmUser.addEventListener("input", () => {
    const v = ui.dmUser.value;
    const fixed = v.toLowerCase().replace(/\s/g, "");
    if (fixed !== v) {
      const at = Math.min(ui.dmUser.selectionStart, fixed.length);
      ui.dmUser.value = fixed;
      ui.dmUser.setSelectionRange(at, at);
    }
  });

  ui.openCreate.addEventListener("click", () => {
    ui.createError.textContent = "";
    ui.createPrivateRow.hidden = state.getMe().guest;
    ui.createDialog.showModal();
    ui.createName.focus();
  });
  ui.createCancel.addEventListener("click", () => ui.createDialog.close());
  ui.createForm.addEventListener("submit", createRoom);
  ui.createName.addEventListener("input", () => {
    // Room names are lower case; show what will be sent as it is typed.
    const v = ui.createName.value;
    const fixed = v.toLowerCase().replace(/\s/g, "-");
    if (fixed !== v) {
      const at = ui.createName.selectionStart;
      ui.createName.value = fixed;
      ui.createName.setSelectionRange(at, at);
    }
  });
}
