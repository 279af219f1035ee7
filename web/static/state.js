// The one owner of what the client knows: who the user is, the joined rooms
// (in the user's order) and what this browser remembers of them, the
// server's room directory, the room on screen, the connection and its
// status, and the handlers of the server's event kinds.
//
// Nothing here is assigned from outside: other modules read through the
// getters and change things only through the actions below, each of which
// tells the subscribers what changed (subscribe). Views re-render from
// those notices; they never call each other. A Room (room.js) is the model
// of one joined room: the controllers that speak the protocol for it
// (sync.js, send.js, events.js) update its fields and then call
// changed(topic, room) so that the views follow.
//
// Topics of a notice (topic, room, detail):
//   me         the identity changed (name, guest, admin)
//   rooms      a room was added to or removed from the joined list
//   active     another room is on screen (detail.prev: the one before)
//   room       a room's info (archived too), unread or mention count changed
//   directory  the server's room list changed (a listing, or a directory
//              event: a room created, archived, unarchived or deleted)
//   conn       the connection's status changed (status())
//   messages   messages were shown in room (detail: {added, live, wasPinned})
//   older      a page of older messages is about to be shown (detail.phase
//              "before") or was shown ("after")
//   history    the top of room's history changed (loading, more, start)
//   members    room's member list, roles or mutes changed
//   typing     who is typing in room changed
//   composer   whether the user may write in room changed (a mute), or
//              what the composer does there (room.compose: a reply, an edit)
//   blocks     the accounts the user blocks changed (isBlocked); every room
//              has folded or unfolded their messages already
//
// Derived facts that only need this state (a room's name on screen, what
// the user may do) live here too.

import { Saved } from "./storage.js";
import { dropDraft, loadDraft, noteDraft, setDraftOwner } from "./drafts.js";
import { dropRoom as dropKept, setOutboxOwner } from "./outbox.js";
import { DEFAULT_ROOM, dmPeer, isDM, mayBeAccount } from "./names.js";
import { Room } from "./room.js";

// The state, private to this module.
let me = Object.freeze({ name: "", guest: true, admin: false });
let saved = new Saved(null); // what this browser remembers of the current identity
const rooms = new Map(); // joined rooms by name, in the user's order
let directory = new Map(); // every room the server listed, by name → RoomInfo
let active = null; // the Room on screen
let conn = null; // the Connection (conn.js), or null
let connStatus = Object.freeze({ state: "stopped" }); // the last "state" event of conn
let firstListing = false; // the next room listing is the first for a browser that knew nothing
const knownGuests = new Set(); // authors seen writing as guests (they cannot be DMed)
const blocked = new Set(); // the accounts the user blocks (docs/protocol.md, "Blocking")

// ---------------------------------------------------------------------------
// Subscribers.

const subscribers = new Set();

// subscribe calls fn(topic, room, detail) after every change, in the order
// of subscription, synchronously. It returns a function that unsubscribes.
export function subscribe(fn) {
  subscribers.add(fn);
  return () => subscribers.delete(fn);
}

// changed tells the subscribers that topic changed for room (or for no
// room in particular). A subscriber that throws does not stop the others;
// its error is thrown again on its own, as an uncaught error of the page.
export function changed(topic, room = null, detail = {}) {
  for (const fn of subscribers) {
    try {
      fn(topic, room, detail);
    } catch (err) {
      queueMicrotask(() => {
        throw err;
      });
    }
  }
}

// ---------------------------------------------------------------------------
// Server events: one handler per event type. A new kind of event is one
// module that calls onServerEvent in its init (and is imported by app.js).

const handlers = new Map();

// onServerEvent makes fn(ev, room) the handler of server events of type;
// room is the joined Room that ev.room names, if any.
export function onServerEvent(type, fn) {
  if (handlers.has(type)) throw new Error(`hubbub: two handlers for ${type} events`);
  handlers.set(type, fn);
}

// dispatch hands a server event to the handler of its type; unknown types
// are ignored (the protocol may grow).
export function dispatch(ev) {
  const fn = handlers.get(ev.type);
  if (!fn) return;
  fn(ev, typeof ev.room === "string" ? rooms.get(ev.room) : undefined);
}

// ---------------------------------------------------------------------------
// Reading.

export const getMe = () => me;
export const getSaved = () => saved;
export const getActive = () => active;
export const getConn = () => conn;
export const status = () => connStatus;
export const isFirstListing = () => firstListing;
export const getRoom = (name) => rooms.get(name);
export const hasRoom = (name) => rooms.has(name);
export const roomCount = () => rooms.size;
// roomList returns the joined rooms in the user's order (a copy).
export const roomList = () => [...rooms.values()];
export const directoryInfo = (name) => directory.get(name);
export const directoryNames = () => [...directory.keys()];
// isReady: is there a connection that carries commands now?
export const isReady = () => !!conn && conn.ready;

// ---------------------------------------------------------------------------
// Actions.

// setIdentity starts over as identity ({name, guest, admin}): this
// browser's record of it is loaded; no rooms are joined yet.
export function setIdentity(identity) {
  me = Object.freeze({ name: identity.name, guest: !!identity.guest, admin: !!identity.admin });
  saved = new Saved(me.guest ? null : me.name);
  setDraftOwner(me);
  setOutboxOwner(me);
  firstListing = saved.fresh;
  if (me.guest) {
    saved.name = me.name;
    saved.save();
  }
  changed("me");
}

// updateMe changes the identity's name or admin flag as the server says.
export function updateMe(fields) {
  const next = Object.freeze({ ...me, ...fields });
  if (next.name === me.name && next.admin === me.admin && next.guest === me.guest) return;
  me = next;
  changed("me");
}

// clearChat forgets the rooms on screen, the directory and the connection
// (not what is saved, which is flushed).
export function clearChat() {
  saved.flush();
  const prev = active;
  active = null;
  rooms.clear();
  directory = new Map();
  knownGuests.clear();
  blocked.clear();
  conn = null;
  connStatus = Object.freeze({ state: "stopped" });
  changed("active", null, { prev });
  changed("rooms");
  changed("directory");
}

// forgetIdentity is clearChat for good: nobody is signed in.
export function forgetIdentity() {
  clearChat();
  me = Object.freeze({ name: "", guest: true, admin: false });
  setDraftOwner(null);
  setOutboxOwner(null);
  changed("me");
}

export function setConn(c) {
  conn = c;
  connStatus = Object.freeze({ state: c ? c.state : "stopped" });
  changed("conn");
}

// setStatus records the connection's status (a "state" event's detail).
export function setStatus(detail) {
  connStatus = Object.freeze({ ...detail });
  changed("conn");
}

// addRoom puts a new Room in the joined list (seen: the last seq the user
// has seen, or null for nothing unread on first join), with the draft kept
// for it before a reload if any (drafts.js), and returns it. It does not
// join it on the server: see rooms.js.
export function addRoom(name, seen) {
  const room = new Room(name, seen);
  room.blocked = blocked;
  const draft = loadDraft(name);
  if (draft) {
    room.draft = draft.text;
    if (draft.reply) room.compose = Object.freeze({ kind: "reply", seq: draft.reply });
  }
  const d = directory.get(name);
  if (d) applyInfo(room, d, false);
  else room.setLabel(labelOf(name, null));
  rooms.set(name, room);
  saved.closed.delete(name);
  persistRooms();
  changed("rooms", room);
  return room;
}

// removeRoom takes room off the joined list, and its draft and the
// messages kept unsent in it (outbox.js) with it; if it was on screen, the
// first other room (or none) is.
export function removeRoom(room) {
  if (rooms.get(room.name) !== room) return;
  rooms.delete(room.name);
  dropDraft(room);
  dropKept(room.name);
  persistRooms();
  if (active === room) setActive(rooms.values().next().value || null);
  changed("rooms", room);
}

// closeConversation remembers that the user closed DM room at seq: it
// comes back when something newer arrives.
export function closeConversation(name, seq) {
  saved.closed.set(name, seq);
  saved.save();
}

export function reopenConversation(name) {
  if (saved.closed.delete(name)) saved.save();
}

// closedAt is the seq at which the user closed DM room name, or undefined.
export const closedAt = (name) => saved.closed.get(name);

// setActive puts room (or null) on screen.
export function setActive(room) {
  const prev = active;
  active = room;
  if (room) {
    room.invited = false;
    saved.active = room.name;
    saved.save();
  }
  changed("active", room, { prev });
}

// moveActive puts the next (step 1) or previous (step -1) joined room on
// screen.
export function moveActive(step) {
  const list = [...rooms.values()];
  if (list.length === 0) return;
  const i = list.indexOf(active);
  setActive(list[(i + step + list.length) % list.length]);
}

// setSeen records that the user has seen room up to seq; from says who
// told: "" this browser (read.js tells the server), "server" (a read
// position the server keeps: another session read it).
export function setSeen(room, seq, from = "") {
  if (!Number.isSafeInteger(seq) || (room.seen !== null && seq <= room.seen)) return;
  room.seen = seq;
  persistRooms();
  changed("room", room, { seen: seq, from });
}

// setCompose makes the composer of room answer a message ({kind: "reply",
// seq}), edit one of the user's ({kind: "edit", seq, draft: the draft set
// aside meanwhile}), or (null) write a new message.
export function setCompose(room, compose) {
  room.compose = compose ? Object.freeze({ ...compose }) : null;
  noteDraft(room);
  changed("composer", room);
}

// setDirectory replaces the directory with list (RoomInfo objects) and
// applies what it says to the joined rooms.
export function setDirectory(list) {
  directory = new Map(list.map((info) => [info.name, info]));
  for (const [name, info] of directory) {
    const room = rooms.get(name);
    if (room) applyInfo(room, info, false);
  }
  changed("directory");
}

// directoryListed records that the first listing of this browser is done.
export function directoryListed() {
  firstListing = false;
}

// setDirectoryEntry adds or replaces one room of the directory.
export function setDirectoryEntry(name, info) {
  directory.set(name, roomInfo(name, info));
  changed("directory");
}

// setArchived records that room name was archived (archived true) or
// unarchived, as a directory event or a refused send says; info is the
// event's RoomInfo, if any. A joined room keeps its role and online count.
// The directory holds what a listing without "archived" holds: an archived
// room leaves it, an unarchived one comes back.
export function setArchived(name, archived, info = null) {
  const room = rooms.get(name);
  if (room && room.info.archived !== archived) {
    room.info = { ...room.info, archived };
    changed("room", room);
  }
  if (archived) directory.delete(name);
  else if (info && typeof info === "object") directory.set(name, room ? room.info : roomInfo(name, info));
  changed("directory");
}

// forgetDirectoryEntry takes a deleted room out of the directory (not out
// of the joined list: see rooms.js).
export function forgetDirectoryEntry(name) {
  if (directory.delete(name)) changed("directory");
}

// setTopic records a new topic of a room, joined or only listed.
export function setTopic(name, topic) {
  const room = rooms.get(name);
  if (room) room.info.topic = topic;
  const d = directory.get(name);
  if (d) d.topic = topic;
  if (room) changed("room", room);
  changed("directory");
}

// setRole records user's role in room ("" for none); the user's own role
// is also the room's info.role.
export function setRole(room, user, role) {
  if (role) room.roles.set(user, role);
  else room.roles.delete(user);
  if (user === me.name) {
    room.info.role = role;
    changed("room", room);
  }
  changed("members", room);
}

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
    read_seq: int(info.read_seq), // accounts: the read position the server keeps
    archived: info.archived === true,
  };
}

// applyInfo records a RoomInfo the server sent about a joined room.
export function applyInfo(room, info, notify = true) {
  if (!info || typeof info !== "object") return;
  room.info = roomInfo(room.name, info);
  if (room.info.last_seq > room.latest) room.latest = room.info.last_seq;
  if (room.info.role) room.roles.set(me.name, room.info.role);
  else room.roles.delete(me.name);
  room.setLabel(labelOf(room.name, room.info));
  if (directory.has(room.name)) directory.set(room.name, room.info);
  if (notify) changed("room", room);
  // An account's read position is the server's (another device may have
  // read further); a guest's is this browser's alone.
  if (!me.guest && room.info.read_seq > 0) setSeen(room, room.info.read_seq, "server");
}

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

// setBlocks replaces the accounts the user blocks with list (the blocks
// reply); setBlocked blocks (on) or unblocks one (a blocked or unblocked
// event). Every room folds or unfolds their messages and recounts its
// mentions; a "show" of theirs is forgotten when they are blocked again.
export function setBlocks(list) {
  const next = new Set(list.filter((n) => typeof n === "string"));
  if (next.size === blocked.size && [...next].every((n) => blocked.has(n))) return;
  const added = [...next].filter((n) => !blocked.has(n));
  blocked.clear();
  for (const n of next) blocked.add(n);
  blocksChanged(added);
}

export function setBlocked(name, on) {
  if (typeof name !== "string" || blocked.has(name) === on) return;
  if (on) blocked.add(name);
  else blocked.delete(name);
  blocksChanged(on ? [name] : []);
}

function blocksChanged(added) {
  for (const room of rooms.values()) {
    room.blocksChanged(added);
    for (const n of added) room.typing.delete(n);
    changed("room", room);
    changed("typing", room);
  }
  changed("blocks");
}

// isBlocked: does the user block the account name?
export const isBlocked = (name) => blocked.has(name);

// ---------------------------------------------------------------------------
// Derived.

// titleOf is how a room is called on screen: its name, or for a DM the
// other user's name (never the raw "dm:a:b").
export function titleOf(name, info) {
  if (!isDM(name)) return name;
  return (info && info.peer) || dmPeer(name, me.name);
}

// labelOf is titleOf in running text: "#lobby", or "bob".
export const labelOf = (name, info) => (isDM(name) ? titleOf(name, info) : `#${name}`);

// mayModerate: does the user's role in room allow the Manage dialog?
export function mayModerate(room) {
  if (!room || me.guest || isDM(room.name)) return false;
  return me.admin || room.info.role === "owner" || room.info.role === "moderator";
}

// mayArchive: may the user archive, unarchive and delete room? Its owner
// and administrators may, except for the default room and DMs.
export function mayArchive(room) {
  if (!room || me.guest || isDM(room.name) || room.name === DEFAULT_ROOM) return false;
  return me.admin || room.info.role === "owner";
}

// mayDM: may the user open a conversation with name? Accounts only, on
// both sides.
export function mayDM(name) {
  return !me.guest && name !== me.name && mayBeAccount(name) && !knownGuests.has(name);
}

// mayBlock: may the user block (or unblock) name? Accounts only, on both
// sides, as for a DM.
export const mayBlock = mayDM;

// blockedPeer: is room a DM with an account the user blocks?
export const blockedPeer = (room) => !!room && isDM(room.name) && blocked.has(titleOf(room.name, room.info));
