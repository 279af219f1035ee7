// A room's life for its owner and administrators: the room menu in the
// header (Archive, Unarchive, Delete), the dialog that asks for the room's
// name before deleting it, and the "archived" badge beside the open room's
// name, which everyone sees.
//
// What the server says afterwards is the record: the directory event
// (directory.js) marks or removes the room for every user, the caller
// included. The reply is applied here too, so that the caller's own screen
// does not wait for the event.

import { Disconnected } from "./conn.js";
import { sentence } from "./account.js";
import { toast } from "./ui.js";
import * as state from "./state.js";
import { roomDeleted } from "./directory.js";

const $ = (id) => document.getElementById(id);
const ui = {
  badge: $("room-archived"),
  menuBtn: $("room-menu-btn"),
  menu: $("room-menu"),
  archive: $("rm-archive"),
  unarchive: $("rm-unarchive"),
  remove: $("rm-delete"),
  dialog: $("room-delete-dialog"),
  form: $("room-delete-form"),
  text: $("room-delete-text"),
  name: $("room-delete-name"),
  error: $("room-delete-error"),
  cancel: $("room-delete-cancel"),
  confirm: $("room-delete-confirm"),
};

// The room the delete dialog is about, while it is open.
let deleting = null;

function render() {
  const room = state.getActive();
  const archived = !!room && room.info.archived;
  ui.badge.textContent = archived ? "archived" : "";
  ui.badge.hidden = !archived;
  const may = state.mayArchive(room);
  ui.menuBtn.hidden = !may;
  if (!may) closeMenu(false);
  ui.archive.hidden = archived;
  ui.unarchive.hidden = !archived;
}

function openMenu() {
  ui.menu.hidden = false;
  ui.menuBtn.setAttribute("aria-expanded", "true");
  ui.menu.querySelector(".menu-item:not([hidden])").focus();
}

function closeMenu(refocus) {
  if (ui.menu.hidden) return;
  ui.menu.hidden = true;
  ui.menuBtn.setAttribute("aria-expanded", "false");
  if (refocus) ui.menuBtn.focus();
}

// request sends cmd on the current connection; it resolves with the ok
// reply, or null after telling the user why it could not be done.
async function request(cmd, what) {
  const c = state.getConn();
  if (!c || !c.ready) {
    toast(`Not connected to the server: could not ${what}. Try again in a moment.`);
    return null;
  }
  try {
    return await c.request(cmd);
  } catch (err) {
    const why = err instanceof Disconnected ? "the connection was lost" : err.reason || err.code || err.message;
    toast(sentence(`Could not ${what}: ${why}`));
    return null;
  }
}

async function setArchived(archive) {
  closeMenu(true);
  const room = state.getActive();
  if (!room) return;
  const name = room.name;
  const ok = await request({ op: archive ? "archive_room" : "unarchive_room", room: name }, `${archive ? "archive" : "unarchive"} #${name}`);
  if (!ok) return;
  // The directory event does the same for everyone; this is for the case
  // where it is slower than the reply.
  state.setArchived(name, archive, archive ? null : state.getRoom(name)?.info);
  toast(archive ? `#${name} is archived: it is read-only for everyone.` : `#${name} is writable again.`);
}

function openDelete() {
  closeMenu(false);
  const room = state.getActive();
  if (!room) return;
  deleting = room;
  ui.form.reset();
  ui.error.textContent = "";
  ui.confirm.disabled = true;
  ui.name.placeholder = room.name;
  ui.text.textContent = `This deletes #${room.name} for everyone, with all its messages. It cannot be undone; the name becomes free for a new room.`;
  ui.dialog.showModal();
  ui.name.focus();
}

async function submitDelete(e) {
  e.preventDefault();
  const room = deleting;
  if (!room || ui.name.value !== room.name) {
    ui.error.textContent = "Type the room's name exactly to confirm.";
    ui.name.focus();
    return;
  }
  ui.confirm.disabled = true;
  ui.error.textContent = "";
  const c = state.getConn();
  if (!c || !c.ready) {
    ui.error.textContent = "Not connected to the server. Try again in a moment.";
    ui.confirm.disabled = false;
    return;
  }
  try {
    await c.request({ op: "delete_room", room: room.name });
  } catch (err) {
    ui.error.textContent = sentence(err.reason || err.code || err.message || "The room could not be deleted.");
    ui.confirm.disabled = false;
    return;
  }
  ui.dialog.close();
  roomDeleted(room.name, state.getRoom(room.name), state.getMe().name);
}

// initRoomAdmin wires the room menu and the delete dialog, and follows the
// state, once.
export function initRoomAdmin() {
  ui.menuBtn.addEventListener("click", () => (ui.menu.hidden ? openMenu() : closeMenu(true)));
  ui.archive.addEventListener("click", () => setArchived(true));
  ui.unarchive.addEventListener("click", () => setArchived(false));
  ui.remove.addEventListener("click", openDelete);
  ui.menu.addEventListener("keydown", (e) => {
    if (e.key === "Escape") {
      e.stopPropagation();
      closeMenu(true);
    } else if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      const items = [...ui.menu.querySelectorAll(".menu-item:not([hidden])")];
      const i = items.indexOf(document.activeElement);
      items[(i + (e.key === "ArrowDown" ? 1 : items.length - 1)) % items.length].focus();
    }
  });
  document.addEventListener("click", (e) => {
    if (!ui.menu.hidden && !ui.menu.contains(e.target) && !ui.menuBtn.contains(e.target)) closeMenu(false);
  });
  ui.name.addEventListener("input", () => {
    ui.confirm.disabled = !deleting || ui.name.value !== deleting.name;
  });
  ui.form.addEventListener("submit", submitDelete);
  ui.cancel.addEventListener("click", () => ui.dialog.close());
  ui.dialog.addEventListener("close", () => {
    deleting = null;
  });
  state.subscribe((topic, room) => {
    if (topic === "active" || topic === "me" || (topic === "room" && room === state.getActive())) render();
    if (topic === "active") closeMenu(false);
    // The room went away (deleted by someone else, left, kicked) while
    // the dialog asked about it.
    if (topic === "rooms" && deleting && state.getRoom(deleting.name) !== deleting) ui.dialog.close();
  });
}
