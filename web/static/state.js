// What the client knows, shared by its modules: who the user is, the
// joined rooms and what this browser remembers of them, the server's room
// directory, the room on screen and the connection.
//
// The `let` bindings are live: every module sees the current value, and
// only the setters below assign them. Derived facts that only need this
// state (a room's name on screen, what the user may do) live here too.

import { Saved } from "./storage.js";
import { dmPeer, isDM } from "./names.js";
import { mayBeAccount } from "./manage.js";

// Who the user is: an account (guest false; the session cookie speaks for
// it) or a guest with a display name.
export const me = { name: "", guest: true, admin: false };
export let saved = new Saved(null); // what this browser remembers of the current identity
export const rooms = new Map(); // joined rooms by name, in the user's order
export let directory = new Map(); // every room the server listed, by name
export let active = null; // the Room on screen
export let conn = null;
export let firstListing = false; // the next room listing is the first for a browser that knew nothing
export const knownGuests = new Set(); // authors seen writing as guests (they cannot be DMed)

export const setSaved = (s) => (saved = s);
export const setDirectory = (d) => (directory = d);
export const setActive = (room) => (active = room);
export const setConn = (c) => (conn = c);
export const setFirstListing = (first) => (firstListing = first);

// roomInfo reads a RoomInfo from the server. Every one is complete: a
// field left out (topic, private, role, peer) is empty, not unknown.
export function roomInfo(name, info) {
  const str = (v) => (typeof v === "string" ? v : "");
  const int = (v) => (Number.isSafeInteger(v) && v >= 0 ? v : 0);
  return {
    name,
    topic: str(info.topic),
    private: info.private === true,
    last_seq: int(info.last_seq),
    online: int(info.online),
    peer: str(info.peer),
    role: str(info.role),
  };
}

export function applyInfo(room, info) {
  if (!info || typeof info !== "object") return;
  room.info = roomInfo(room.name, info);
  if (room.info.last_seq > room.latest) room.latest = room.info.last_seq;
  if (room.info.role) room.roles.set(me.name, room.info.role);
  else room.roles.delete(me.name);
  room.setLabel(labelOf(room.name, room.info));
  if (directory.has(room.name)) directory.set(room.name, room.info);
}

// titleOf is how a room is called on screen: its name, or for a DM the
// other user's name (never the raw "dm:a:b").
export function titleOf(name, info) {
  if (!isDM(name)) return name;
  return (info && info.peer) || dmPeer(name, me.name);
}

// labelOf is titleOf in running text: "#lobby", or "bob".
export const labelOf = (name, info) => (isDM(name) ? titleOf(name, info) : `#${name}`);

export function persistRooms() {
  saved.setRooms([...rooms.values()].map((r) => ({ name: r.name, seen: r.seen })));
}

// noteAuthors remembers who writes as a guest: guests cannot be DMed.
export function noteAuthors(msgs) {
  for (const m of msgs) {
    if (typeof m.from !== "string") continue;
    if (m.guest) knownGuests.add(m.from);
    else knownGuests.delete(m.from);
  }
}

// mayModerate: does the user's role in room allow the Manage dialog?
export function mayModerate(room) {
  if (!room || me.guest || isDM(room.name)) return false;
  return me.admin || room.info.role === "owner" || room.info.role === "moderator";
}

// mayDM: may the user open a conversation with name? Accounts only, on
// both sides.
export function mayDM(name) {
  return !me.guest && name !== me.name && mayBeAccount(name) && !knownGuests.has(name);
}
