// Rooms the user joins and leaves: adding one to the joined list (and
// joining it when connected), opening one from Browse, leaving a room or
// closing a conversation, creating a room, opening a direct message, and
// the server's room directory.

import { Room } from "./room.js";
import { sentence } from "./account.js";
import { ROOM_NAME, checkUsername, isDM, isRoomName } from "./names.js";
import { toast, ui } from "./ui.js";
import {
  active,
  applyInfo,
  conn,
  directory,
  firstListing,
  labelOf,
  me,
  persistRooms,
  roomInfo,
  rooms,
  saved,
  setDirectory,
  setFirstListing,
} from "./state.js";
import { joinRoom } from "./sync.js";
import { isNarrow, renderRoomList } from "./sidebar.js";
import { openRoom, renderRoomHeader } from "./view.js";

// addRoom puts a room in the joined list (seen: the last seq the user has
// seen, or null for nothing unread on first join), and joins it when
// connected.
export function addRoom(name, seen, join = true) {
  const room = new Room(name, seen);
  const d = directory.get(name);
  if (d) applyInfo(room, d);
  else room.setLabel(labelOf(name, null));
  rooms.set(name, room);
  saved.closed.delete(name);
  persistRooms();
  if (join && conn && conn.identified) joinRoom(room).catch(() => {});
  return room;
}

export function joinAndOpen(name) {
  const room = rooms.get(name) || addRoom(name, null);
  openRoom(room);
  if (!isNarrow()) ui.input.focus();
}

export function forgetRoom(room) {
  rooms.delete(room.name);
  persistRooms();
  if (active === room) openRoom(rooms.values().next().value || null);
  else renderRoomList();
}

// leaveRoom leaves a room, or closes a conversation: a DM stays closed
// until something newer than what it holds now arrives.
export async function leaveRoom(room) {
  if (isDM(room.name)) {
    saved.closed.set(room.name, Math.max(room.latest, room.seen || 0));
    saved.save();
  }
  forgetRoom(room);
  if (conn && conn.ready && room.joined) {
    try {
      await conn.request({ op: "leave", room: room.name });
    } catch (err) {
      console.warn("hubbub: leave", room.name, err);
    }
  }
  refreshDirectory();
}

export async function refreshDirectory() {
  if (!conn) return;
  const c = conn;
  let list;
  try {
    // The server answers in pages; one with more set continues after
    // its last room.
    list = [];
    for (let after = ""; ; ) {
      const ok = await conn.request(after ? { op: "rooms", room: after } : { op: "rooms" });
      const page = Array.isArray(ok.rooms) ? ok.rooms : [];
      list.push(...page);
      const last = page.length ? page[page.length - 1] : null;
      if (!ok.more || !last || typeof last.name !== "string") break;
      after = last.name;
    }
  } catch {
    return; // not connected; the next handshake refreshes
  }
  if (conn !== c) return;
  setDirectory(
    new Map(list.filter((r) => r && typeof r.name === "string" && isRoomName(r.name)).map((r) => [r.name, roomInfo(r.name, r)])),
  );
  for (const [name, info] of directory) {
    const room = rooms.get(name);
    if (room) {
      applyInfo(room, info);
    } else if (!me.guest && isDM(name)) {
      // A conversation we are not in: one opened while we were away, or
      // one we closed that has news. A browser that knew nothing of this
      // account shows what exists as read.
      const closedAt = saved.closed.get(name);
      if (closedAt === undefined || info.last_seq > closedAt) {
        addRoom(name, closedAt !== undefined ? closedAt : firstListing ? info.last_seq : 0);
      }
    }
  }
  setFirstListing(false);
  renderRoomList();
  if (active) renderRoomHeader();
}

async function createRoom(e) {
  e.preventDefault();
  const name = ui.createName.value.trim().toLowerCase();
  const topic = ui.createTopic.value.trim();
  const priv = !me.guest && ui.createPrivate.checked;
  ui.createError.textContent = "";
  if (!ROOM_NAME.test(name)) {
    ui.createError.textContent =
      name === "" ? "Please enter a room name." : "Use a-z, 0-9, - and _, starting with a letter or digit (up to 32).";
    ui.createName.focus();
    return;
  }
  if (!conn || !conn.ready) {
    ui.createError.textContent = "Not connected to the server. Try again in a moment.";
    return;
  }
  const cmd = { op: "create", room: name };
  if (topic) cmd.topic = topic;
  if (priv) cmd.private = true;
  try {
    const ok = await conn.request(cmd);
    if (ok.info) directory.set(name, roomInfo(name, ok.info));
  } catch (err) {
    ui.createError.textContent = sentence(err.reason || err.message || "The room could not be created.");
    return;
  }
  ui.createDialog.close();
  ui.createForm.reset();
  joinAndOpen(name);
  refreshDirectory();
}

// openDM opens the conversation with user, creating it if needed, and
// shows it. It resolves with an error sentence, or "" when it worked.
async function openDM(user) {
  if (!conn || !conn.ready) return "Not connected to the server. Try again in a moment.";
  let ok;
  try {
    ok = await conn.request({ op: "dm", user });
  } catch (err) {
    if (err.code === "no_such_user") return `There is no account called ${user}.`;
    if (err.code === "forbidden") return sentence(err.reason || "You cannot message them.");
    return sentence(err.reason || err.message || "The conversation could not be opened.");
  }
  const name = typeof ok.room === "string" && isDM(ok.room) ? ok.room : "";
  if (!name) return "The server's reply names no conversation.";
  if (ok.info) directory.set(name, roomInfo(name, ok.info));
  const room = rooms.get(name);
  if (room && ok.info) applyInfo(room, ok.info);
  joinAndOpen(name);
  return "";
}

async function submitDM(e) {
  e.preventDefault();
  const user = ui.dmUser.value.trim().toLowerCase();
  ui.dmError.textContent = "";
  let err = checkUsername(user);
  if (!err && user === me.name) err = "That is you. Pick someone else.";
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
    ui.createPrivateRow.hidden = me.guest;
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
