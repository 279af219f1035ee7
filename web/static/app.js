// hubbub's browser client: who the user is (an account or a guest), the
// room list with rooms and direct messages, the message view and the
// composer, and the protocol logic that keeps every joined room complete —
// no gaps, no duplicates — across reconnects.
//
// Everything from the network is rendered as text; see dom.js.

import { Connection, RequestError, Disconnected, Close } from "./conn.js";
import { Saved, lastMode, setLastMode } from "./storage.js";
import { Room } from "./room.js";
import { el, avatar, newCMID, byteLength, formatTime, dayKey } from "./dom.js";
import { getSession, logout as apiLogout, changePassword, describe, sentence } from "./account.js";
import { ROOM_NAME, isDM, isRoomName, dmPeer, checkUsername, checkPassword } from "./names.js";
import { initWelcome, showWelcome, hideWelcome, setGuestsAllowed, setNotice } from "./welcome.js";
import { initManage, openManage, refreshManage, closeManage, openMemberMenu, closeMemberMenu, mayBeAccount } from "./manage.js";

const DEFAULT_ROOM = "lobby";
const PAGE = 50; // messages per page when opening a room or loading older
const MAX_PAGE = 100; // the protocol's largest history page, for catching up
const RESYNC_OVER = 1000; // missed more than this: show the newest page instead
const TYPING_EVERY_MS = 3000;
const TYPING_SHOWN_MS = 5000;
const TYPING_AFTER_SEND_MS = 1500;
const SEND_TIMEOUT_MS = 15_000;
const MAX_BODY_BYTES = 4096;
const ROOMS_REFRESH_MS = 60_000;
const JOIN_RETRY_MS = 5000;
const MUTE_RECHECK_MS = 60_000; // a send refused as muted, end unknown: try again after this
const SESSION_RETRY_MAX_MS = 10_000;
const SIGNED_OUT = "You were signed out. Log in again to continue.";
// hello refusals that retrying cannot fix: the user must pick another name.
const FATAL_HELLO = new Set(["invalid_value", "too_long", "name_taken", "forbidden", "banned"]);
// join refusals that mean the room is not for us (any more).
const GONE = new Set(["no_such_room", "forbidden", "banned", "invalid_value", "too_long"]);
// send refusals worth retrying automatically after a reconnect.
const RETRYABLE = new Set(["internal", "unavailable", "not_joined", "rate_limited", "disconnected"]);

const $ = (id) => document.getElementById(id);
const ui = {
  app: $("app"),
  sidebar: $("sidebar"),
  backdrop: $("backdrop"),
  openDrawer: $("open-drawer"),
  closeDrawer: $("close-drawer"),
  drawerUnread: $("drawer-unread"),
  conn: $("conn"),
  connText: $("conn-text"),
  connRetry: $("conn-retry"),
  joined: $("joined-rooms"),
  joinedEmpty: $("joined-empty"),
  dmSection: $("dm-section"),
  dms: $("dm-list"),
  dmEmpty: $("dm-empty"),
  openDM: $("open-dm"),
  dmDialog: $("dm-dialog"),
  dmForm: $("dm-form"),
  dmUser: $("dm-user"),
  dmError: $("dm-error"),
  dmCancel: $("dm-cancel"),
  browse: $("browse-rooms"),
  browseEmpty: $("browse-empty"),
  meAvatar: $("me-avatar"),
  meName: $("me-name"),
  meKind: $("me-kind"),
  meAdmin: $("me-admin"),
  meMenuBtn: $("me-menu-btn"),
  meMenu: $("me-menu"),
  menuPassword: $("menu-password"),
  menuLogout: $("menu-logout"),
  menuChangeName: $("menu-change-name"),
  menuSignIn: $("menu-sign-in"),
  passwordDialog: $("password-dialog"),
  passwordForm: $("password-form"),
  passwordUser: $("password-user"),
  passwordOld: $("password-old"),
  passwordNew: $("password-new"),
  passwordError: $("password-error"),
  passwordCancel: $("password-cancel"),
  roomIcon: $("room-icon"),
  roomName: $("room-name"),
  roomTopic: $("room-topic"),
  memberCount: $("member-count"),
  toggleMembers: $("toggle-members"),
  manage: $("manage-room"),
  leave: $("leave-room"),
  banner: $("banner"),
  scroller: $("scroller"),
  host: $("message-host"),
  loadOlder: $("load-older"),
  historyStart: $("history-start"),
  noRoom: $("no-room"),
  pill: $("new-pill"),
  typing: $("typing"),
  mutedNote: $("muted-note"),
  composer: $("composer"),
  input: $("composer-input"),
  send: $("send"),
  count: $("composer-count"),
  members: $("members"),
  memberList: $("member-list"),
  closeMembers: $("close-members"),
  openCreate: $("open-create"),
  createDialog: $("create-dialog"),
  createForm: $("create-form"),
  createName: $("create-name"),
  createTopic: $("create-topic"),
  createPrivateRow: $("create-private-row"),
  createPrivate: $("create-private"),
  createError: $("create-error"),
  createCancel: $("create-cancel"),
  toast: $("toast"),
  announcer: $("announcer"),
};

let saved = new Saved(null); // what this browser remembers of the current identity
const rooms = new Map(); // joined rooms by name, in the user's order
let directory = new Map(); // every room the server listed, by name
// Who the user is: an account (guest false; the session cookie speaks for
// it) or a guest with a display name.
const me = { name: "", guest: true, admin: false };
let guestsAllowed = true;
let active = null; // the Room on screen
let conn = null;
let firstListing = false; // the next room listing is the first for a browser that knew nothing
const knownGuests = new Set(); // authors seen writing as guests (they cannot be DMed)

// ---------------------------------------------------------------------------
// Start: ask the server who the cookie signs in, then the chat or the
// welcome screen.

async function boot() {
  wireUI();
  for (let attempt = 0; ; attempt++) {
    let s;
    try {
      s = await getSession();
    } catch {
      if (attempt === 0) showWelcome({ tab: defaultTab(), notice: "Cannot reach the server. Retrying…" });
      await new Promise((r) => setTimeout(r, Math.min(SESSION_RETRY_MAX_MS, 1000 * 2 ** attempt)));
      continue;
    }
    setGuests(s.guests);
    if (s.self) return enterChat({ name: s.self.name, guest: false, admin: s.self.admin });
    const guest = new Saved(null);
    if (guestsAllowed && guest.name && lastMode() !== "account") return enterChat({ name: guest.name, guest: true });
    if (attempt > 0) setNotice("");
    return showWelcome({ tab: defaultTab(), guestName: guest.name });
  }
}

function defaultTab() {
  return lastMode() === "account" || !guestsAllowed ? "login" : "guest";
}

function setGuests(allowed) {
  guestsAllowed = allowed;
  setGuestsAllowed(allowed);
}

// enterChat shows the chat as identity ({name, guest, admin}): the rooms
// this browser remembers for it, then a connection.
function enterChat(identity) {
  leaveChat();
  me.name = identity.name;
  me.guest = !!identity.guest;
  me.admin = !!identity.admin;
  saved = new Saved(me.guest ? null : me.name);
  const fresh = saved.fresh;
  if (me.guest) {
    saved.name = me.name;
    saved.save();
  }
  setLastMode(me.guest ? "guest" : "account");
  firstListing = fresh;
  for (const r of saved.rooms) {
    if (isRoomName(r.name) && !rooms.has(r.name)) addRoom(r.name, r.seen, false);
  }
  if (fresh && rooms.size === 0) addRoom(DEFAULT_ROOM, null, false);
  renderMe();
  hideWelcome();
  ui.app.hidden = false;
  openRoom(rooms.get(saved.active) || rooms.values().next().value || null);
  conn = new Connection({ precheck, handshake });
  const c = conn;
  conn.addEventListener("state", (e) => renderConn(e.detail));
  conn.addEventListener("event", (e) => onEvent(e.detail));
  conn.addEventListener("closed", (e) => {
    onClosed();
    // 1008 is how the server ends a socket whose session ended (logout or
    // a password change elsewhere): find out now rather than reconnect.
    if (e.detail.code === Close.policy && !me.guest) recheckSession(c);
  });
  conn.start();
}

// leaveChat closes the connection and forgets the rooms on screen (not
// what is saved).
function leaveChat() {
  if (conn) conn.stop();
  conn = null;
  saved.flush();
  closeMenus();
  for (const d of [ui.createDialog, ui.dmDialog, ui.passwordDialog]) if (d.open) d.close();
  closeManage();
  hideToast();
  openRoom(null);
  rooms.clear();
  directory = new Map();
  knownGuests.clear();
  renderRoomList();
}

// signedOut leaves the chat for the welcome screen, with notice. When the
// server ended the session (not the user), the login form has the name.
function signedOut(notice, { forgetName = false } = {}) {
  const name = me.guest || forgetName ? "" : me.name;
  leaveChat();
  ui.app.hidden = true;
  me.name = "";
  showWelcome({ tab: "login", notice, loginName: name });
}

// recheckSession asks the server whether the session of connection c is
// still good, and signs out if not.
async function recheckSession(c) {
  let s;
  try {
    s = await getSession();
  } catch {
    return; // not reachable: the reconnect's precheck asks again
  }
  if (conn !== c || me.guest) return;
  setGuests(s.guests);
  if (!s.self || s.self.name !== me.name) signedOut(SIGNED_OUT);
}

// precheck runs before every connection attempt. A browser cannot read the
// status of a refused WebSocket handshake, so ask the account API whether
// the socket would be what we think it is.
async function precheck(c) {
  const s = await getSession(); // a failure counts as a failed attempt
  if (c !== conn) throw new Error("replaced"); // the user moved on meanwhile
  setGuests(s.guests);
  const fatal = (message, then) => {
    setTimeout(then, 0);
    const err = new Error(message);
    err.fatal = true;
    return err;
  };
  if (me.guest) {
    if (s.self) {
      // Signed in meanwhile (in another tab): the cookie now speaks for
      // an account, whatever name this tab would give.
      const self = s.self;
      throw fatal("signed in elsewhere", () => enterChat({ name: self.name, guest: false, admin: self.admin }));
    }
    if (!s.guests) throw fatal("guests are not allowed", () => signedOut("This server no longer allows guests. Log in or create an account."));
  } else if (!s.self || s.self.name !== me.name) {
    throw fatal("signed out", () => signedOut(SIGNED_OUT));
  } else {
    me.admin = s.self.admin;
  }
}

async function logOut() {
  closeMenus();
  const c = conn;
  if (c) c.stop(); // so that the server's 1008 is not taken for news
  try {
    await apiLogout();
  } catch (err) {
    toast(`Could not log out: ${describe(err)}`);
    if (c && conn === c) c.start();
    return;
  }
  saved.remove(); // this user's rooms are nobody else's business
  signedOut("You are logged out.", { forgetName: true });
}

// ---------------------------------------------------------------------------
// Protocol: the handshake of every connection, and keeping rooms complete.

async function handshake(c) {
  c.identified = false; // rooms added from now on are joined by addRoom
  let ok;
  try {
    // A signed-in socket speaks as its account and must not give a name.
    ok = await c.request(me.guest ? { op: "hello", name: me.name } : { op: "hello" });
  } catch (err) {
    if (err instanceof RequestError && me.guest && FATAL_HELLO.has(err.code)) {
      const fatal = new Error(err.reason || "That name cannot be used.");
      fatal.fatal = true;
      const name = me.name;
      setTimeout(() => {
        leaveChat();
        ui.app.hidden = true;
        showWelcome({ tab: "guest", guestName: name, guestError: sentence(fatal.message) });
      }, 0);
      throw fatal;
    }
    if (err instanceof RequestError && !me.guest && err.code === "missing_field") {
      // The socket came up as a guest's: the cookie is gone.
      const fatal = new Error("signed out");
      fatal.fatal = true;
      setTimeout(() => signedOut(SIGNED_OUT), 0);
      throw fatal;
    }
    throw err;
  }
  if (ok.self && typeof ok.self.name === "string") {
    me.name = ok.self.name;
    me.admin = !!ok.self.admin;
  }
  renderMe();
  c.identified = true;
  refreshDirectory();
  // Re-join every room before counting as connected; the catch-up of each
  // room (history after the last seq seen) then runs in the background.
  const results = await Promise.allSettled([...rooms.values()].map((r) => joinRoom(r)));
  for (const res of results) {
    if (res.status === "rejected" && res.reason instanceof Disconnected) throw res.reason;
  }
}

function onClosed() {
  for (const room of rooms.values()) {
    room.joined = false;
    for (const item of room.locals.values()) {
      if (item.state === "sending") {
        item.auto = true;
        room.setLocalState(item.msg.cmid, "failed", "connection lost; will retry");
      }
    }
    room.typing.clear();
  }
  renderTyping();
}

// joinRoom joins room on the current connection, then catches it up and
// resends what the server has not acknowledged.
async function joinRoom(room) {
  let ok;
  try {
    ok = await conn.request({ op: "join", room: room.name });
  } catch (err) {
    if (err instanceof RequestError && GONE.has(err.code)) {
      forgetRoom(room);
      toast(`Could not join #${room.name}: ${err.reason || err.code}`);
    } else if (err instanceof RequestError) {
      // internal, unavailable, rate_limited: try again in a while.
      toast(`Could not join #${room.name} yet: ${err.reason || err.code}`);
      const c = conn;
      setTimeout(() => {
        if (conn === c && conn.ready && rooms.get(room.name) === room && !room.joined) joinRoom(room).catch(() => {});
      }, JOIN_RETRY_MS);
    }
    throw err;
  }
  if (!rooms.has(room.name)) return; // left while joining
  room.joined = true;
  applyInfo(room, ok.info);
  room.members = new Set(Array.isArray(ok.members) ? ok.members : []);
  if (room.seen === null) {
    room.seen = room.latest; // a room joined for the first time has nothing unread
    persistRooms();
  }
  if (room === active) {
    renderRoomHeader();
    renderMembers();
  }
  renderRoomList();
  sync(room)
    .then(() => resendLocals(room))
    .catch((err) => {
      if (!(err instanceof Disconnected)) console.warn("hubbub: catching up", room.name, err);
    });
}

// roomInfo reads a RoomInfo from the server. Every one is complete: a
// field left out (topic, private, role, peer) is empty, not unknown.
function roomInfo(name, info) {
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

function applyInfo(room, info) {
  if (!info || typeof info !== "object") return;
  room.info = roomInfo(room.name, info);
  if (room.info.last_seq > room.latest) room.latest = room.info.last_seq;
  if (room.info.role) room.roles.set(me.name, room.info.role);
  else room.roles.delete(me.name);
  room.setLabel(labelOf(room.name, room.info));
  if (directory.has(room.name)) directory.set(room.name, room.info);
}

// sync brings room up to date: the newest page if nothing is shown yet,
// then every message after the last one held, page by page, until there is
// no gap. Concurrent calls share one run.
function sync(room) {
  if (!room.syncing) {
    room.syncing = doSync(room).finally(() => {
      room.syncing = null;
      if (room === active) renderHistoryTop();
    });
  }
  return room.syncing;
}

async function doSync(room) {
  if (room.last === null || room.latest - room.last > RESYNC_OVER) await loadNewest(room);
  for (let round = 0; round < 1000; round++) {
    drainBuffer(room);
    if (room.last >= room.latest && room.buffer.size === 0) return;
    const ok = await conn.request({ op: "history", room: room.name, after: room.last, limit: MAX_PAGE });
    const msgs = messagesOf(ok);
    show(room, msgs, false);
    for (const m of msgs) if (m.seq > room.last) room.last = m.seq;
    if (msgs.length === 0 && !ok.more) {
      // The server holds nothing after last. Whatever we were told
      // exists beyond it is either buffered already or not there.
      if (room.buffer.size === 0) {
        room.latest = room.last;
        return;
      }
      console.warn("hubbub: history has a gap in", room.name, "after", room.last);
      room.last = Math.min(...room.buffer.keys()) - 1;
    }
  }
}

// loadNewest shows the newest page of room, replacing what was shown.
async function loadNewest(room) {
  if (room.last !== null) room.clear();
  const ok = await conn.request({ op: "history", room: room.name, limit: PAGE });
  const msgs = messagesOf(ok);
  show(room, msgs, false);
  room.last = msgs.length ? msgs[msgs.length - 1].seq : 0;
  room.hasOlder = msgs.length > 0 && !!ok.more;
  if (room === active) renderHistoryTop();
}

// drainBuffer moves buffered messages that now follow on without a gap.
function drainBuffer(room) {
  for (const seq of room.buffer.keys()) if (seq <= room.last) room.buffer.delete(seq);
  for (let m = room.buffer.get(room.last + 1); m; m = room.buffer.get(room.last + 1)) {
    room.buffer.delete(m.seq);
    room.last = m.seq;
  }
}

// noteAuthors remembers who writes as a guest: guests cannot be DMed.
function noteAuthors(msgs) {
  for (const m of msgs) {
    if (typeof m.from !== "string") continue;
    if (m.guest) knownGuests.add(m.from);
    else knownGuests.delete(m.from);
  }
}

function messagesOf(ok) {
  const msgs = Array.isArray(ok.messages) ? ok.messages.filter((m) => m && Number.isSafeInteger(m.seq)) : [];
  return msgs.sort((a, b) => a.seq - b.seq);
}

// receive handles one stored message of room that arrived outside a
// history page: a live message event or the acknowledgement of our send.
function receive(room, m, live) {
  if (!Number.isSafeInteger(m.seq)) return;
  if (m.seq > room.latest) room.latest = m.seq;
  if (room.last !== null && m.seq <= room.last && !(m.cmid && room.locals.has(m.cmid))) return; // seen
  show(room, [m], live);
  if (room.last === null) {
    room.buffer.set(m.seq, m); // the first page is on its way
  } else if (m.seq === room.last + 1) {
    room.last = m.seq;
    drainBuffer(room);
  } else if (m.seq > room.last + 1) {
    room.buffer.set(m.seq, m); // a gap: fetch what is missing
    sync(room).catch(() => {});
  }
}

// show puts stored messages on screen and updates what depends on them.
function show(room, msgs, live) {
  if (msgs.length === 0) return;
  noteAuthors(msgs);
  const wasPinned = room.pinned;
  const added = room.addConfirmed(msgs, me.name);
  for (const m of added) room.typing.delete(m.from);
  if (room === active) {
    if (wasPinned) scrollToBottom();
    const fromOthers = added.filter((m) => m.from !== me.name);
    if (live && fromOthers.length) {
      if (!wasPinned) ui.pill.hidden = false;
      const m = fromOthers[fromOthers.length - 1];
      announce(`${m.from}: ${m.body.slice(0, 200)}`);
    }
    renderTyping();
    markSeen();
  }
  renderRoomList();
}

async function loadOlder(room) {
  if (room.loadingOlder || !room.hasOlder || room.oldest === null || !conn || !conn.ready) return;
  room.loadingOlder = true;
  renderHistoryTop();
  try {
    const ok = await conn.request({ op: "history", room: room.name, before: room.oldest, limit: PAGE });
    const msgs = messagesOf(ok);
    noteAuthors(msgs);
    const sc = ui.scroller;
    const height = sc.scrollHeight;
    const top = sc.scrollTop;
    room.addConfirmed(msgs, me.name);
    room.hasOlder = msgs.length > 0 && !!ok.more;
    if (room === active) sc.scrollTop = top + (sc.scrollHeight - height); // keep the view still
  } catch (err) {
    if (err instanceof RequestError) toast(`Could not load older messages: ${err.reason || err.code}`);
  } finally {
    room.loadingOlder = false;
    if (room === active) renderHistoryTop();
  }
}

// ---------------------------------------------------------------------------
// Sending.

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

// sendTyping tells the room that the user is typing, at most once every
// TYPING_EVERY_MS; input within that time is announced when it ends.
function sendTyping(room) {
  const now = Date.now();
  const wait = room.lastTypingSent + TYPING_EVERY_MS - now;
  if (wait > 0) {
    if (!room.typingTimer) {
      room.typingTimer = setTimeout(() => {
        room.typingTimer = 0;
        if (room.lastInputAt > room.lastTypingSent && room.draft.trim() !== "") sendTyping(room);
      }, wait);
    }
    return;
  }
  if (room.joined && conn && conn.notify({ op: "typing", room: room.name })) room.lastTypingSent = now;
}

// resendLocals retries, in order, the room's sends that failed for a
// reason a reconnect can cure.
async function resendLocals(room) {
  for (const item of [...room.locals.values()]) {
    if (item.auto && room.locals.has(item.msg.cmid)) await transmit(room, item.msg.cmid);
  }
}

// ---------------------------------------------------------------------------
// Server events.

function onEvent(ev) {
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

const dateTimeFmt = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
// when is a time in the near future: the time of day today, else with the date.
const when = (ms) => (dayKey(ms) === dayKey(Date.now()) ? formatTime(ms) : dateTimeFmt.format(ms));

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

// ---------------------------------------------------------------------------
// Rooms: open, join, create, leave; direct messages.

// titleOf is how a room is called on screen: its name, or for a DM the
// other user's name (never the raw "dm:a:b").
function titleOf(name, info) {
  if (!isDM(name)) return name;
  return (info && info.peer) || dmPeer(name, me.name);
}

// labelOf is titleOf in running text: "#lobby", or "bob".
const labelOf = (name, info) => (isDM(name) ? titleOf(name, info) : `#${name}`);

function openRoom(room) {
  if (active) {
    active.scrollTop = ui.scroller.scrollTop;
    active.draft = ui.input.value;
  }
  active = room;
  ui.pill.hidden = true;
  closeMemberMenu(false);
  if (room) {
    room.invited = false;
    saved.active = room.name;
    saved.save();
    ui.host.replaceChildren(room.list);
    ui.input.value = room.draft;
    if (room.pinned) scrollToBottom();
    else ui.scroller.scrollTop = room.scrollTop;
  } else {
    ui.host.replaceChildren();
  }
  ui.noRoom.hidden = !!room;
  ui.leave.hidden = !room;
  ui.toggleMembers.hidden = !room;
  renderRoomHeader();
  renderHistoryTop();
  renderMembers();
  renderTyping();
  renderRoomList();
  renderComposer();
  renderCount();
  markSeen();
  closeDrawer();
}

// addRoom puts a room in the joined list (seen: the last seq the user has
// seen, or null for nothing unread on first join), and joins it when
// connected.
function addRoom(name, seen, join = true) {
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

function joinAndOpen(name) {
  const room = rooms.get(name) || addRoom(name, null);
  openRoom(room);
  if (!isNarrow()) ui.input.focus();
}

function forgetRoom(room) {
  rooms.delete(room.name);
  persistRooms();
  if (active === room) openRoom(rooms.values().next().value || null);
  else renderRoomList();
}

// leaveRoom leaves a room, or closes a conversation: a DM stays closed
// until something newer than what it holds now arrives.
async function leaveRoom(room) {
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

async function refreshDirectory() {
  if (!conn) return;
  const c = conn;
  let list;
  try {
    const ok = await conn.request({ op: "rooms" });
    list = Array.isArray(ok.rooms) ? ok.rooms : [];
  } catch {
    return; // not connected; the next handshake refreshes
  }
  if (conn !== c) return;
  directory = new Map(
    list.filter((r) => r && typeof r.name === "string" && isRoomName(r.name)).map((r) => [r.name, roomInfo(r.name, r)]),
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
  firstListing = false;
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
async function messageUser(user) {
  const err = await openDM(user);
  if (err) toast(err);
}

function persistRooms() {
  saved.setRooms([...rooms.values()].map((r) => ({ name: r.name, seen: r.seen })));
}

// mayModerate: does the user's role in room allow the Manage dialog?
function mayModerate(room) {
  if (!room || me.guest || isDM(room.name)) return false;
  return me.admin || room.info.role === "owner" || room.info.role === "moderator";
}

// mayDM: may the user open a conversation with name? Accounts only, on
// both sides.
function mayDM(name) {
  return !me.guest && name !== me.name && mayBeAccount(name) && !knownGuests.has(name);
}

// markSeen records that the user has seen the active room up to its newest
// message, when the view is at the bottom and the page is visible.
function markSeen() {
  const room = active;
  if (!room || !room.pinned || document.visibilityState !== "visible" || room.confirmed === 0) return;
  const top = room.items[room.confirmed - 1].seq;
  if (room.seen === null || top > room.seen) {
    room.seen = top;
    persistRooms();
    renderRoomList();
  }
}

// ---------------------------------------------------------------------------
// Rendering.

function renderMe() {
  ui.meName.textContent = me.name;
  ui.meKind.textContent = me.guest ? "guest" : "signed in";
  ui.meAdmin.hidden = !me.admin;
  ui.meAvatar.replaceWith((ui.meAvatar = avatar(me.name || "?", "avatar-me")));
  ui.meAvatar.id = "me-avatar";
  ui.menuPassword.hidden = me.guest;
  ui.menuLogout.hidden = me.guest;
  ui.menuChangeName.hidden = !me.guest;
  ui.menuSignIn.hidden = !me.guest;
  ui.dmSection.hidden = me.guest;
  ui.createPrivateRow.hidden = me.guest;
}

// keyed keeps one element per key in list, in order, updating in place so
// that focus and hover survive re-renders.
function keyed(list, keys, make, update) {
  const byKey = new Map();
  for (const child of [...list.children]) {
    if (keys.includes(child.dataset.key)) byKey.set(child.dataset.key, child);
    else child.remove();
  }
  keys.forEach((key, i) => {
    let node = byKey.get(key);
    if (!node) {
      node = make(key);
      node.dataset.key = key;
    }
    update(node, key);
    if (list.children[i] !== node) list.insertBefore(node, list.children[i] || null);
  });
}

// roomIcon is what stands before a room's name: "#" for a public room, a
// lock for a private one, the other user's avatar for a DM.
function roomIcon(name, info) {
  if (isDM(name)) return avatar(titleOf(name, info) || "?", "avatar-mini");
  if (info && info.private) return el("span", { class: "room-icon lock", "aria-hidden": "true", title: "Private" });
  return el("span", { class: "room-icon", "aria-hidden": "true", text: "#" });
}

function iconKind(name, info) {
  return isDM(name) ? `dm:${titleOf(name, info)}` : info && info.private ? "private" : "public";
}

function setIcon(btn, name, info) {
  const kind = iconKind(name, info);
  if (btn.dataset.icon === kind) return;
  btn.dataset.icon = kind;
  btn.firstChild.replaceWith(roomIcon(name, info));
}

function renderRoomList() {
  const makeJoined = (name) => {
    const btn = el(
      "button",
      { type: "button", class: "room-btn" },
      el("span", { class: "room-icon" }),
      el("span", { class: "room-label" }),
      el("span", { class: "badge" }),
    );
    btn.addEventListener("click", () => openRoom(rooms.get(name) || null));
    return el("li", {}, btn);
  };
  const updateJoined = (li, name) => {
    const room = rooms.get(name);
    const btn = li.firstChild;
    const title = titleOf(name, room.info);
    setIcon(btn, name, room.info);
    btn.querySelector(".room-label").textContent = title;
    const unread = room === active ? 0 : room.unread;
    const fresh = room !== active && room.invited && unread === 0;
    btn.classList.toggle("active", room === active);
    btn.classList.toggle("unread", unread > 0 || fresh);
    if (room === active) btn.setAttribute("aria-current", "page");
    else btn.removeAttribute("aria-current");
    const badge = btn.querySelector(".badge");
    badge.textContent = unread > 99 ? "99+" : unread > 0 ? String(unread) : fresh ? "new" : "";
    const kind = isDM(name) ? `conversation with ${title}` : room.info.private ? `${name}, private` : name;
    btn.setAttribute("aria-label", unread > 0 ? `${kind}, ${unread} unread` : fresh ? `${kind}, new` : kind);
  };
  const joined = [...rooms.keys()];
  const roomNames = joined.filter((n) => !isDM(n));
  keyed(ui.joined, roomNames, makeJoined, updateJoined);
  ui.joinedEmpty.hidden = roomNames.length > 0;
  const dmNames = joined.filter(isDM);
  keyed(ui.dms, dmNames, makeJoined, updateJoined);
  ui.dmEmpty.hidden = dmNames.length > 0;

  const others = [...directory.keys()].filter((n) => !rooms.has(n) && !isDM(n)).sort();
  keyed(
    ui.browse,
    others,
    (name) => {
      const btn = el(
        "button",
        { type: "button", class: "room-btn" },
        el("span", { class: "room-icon" }),
        el("span", { class: "room-label" }, el("span", { class: "room-name", text: name }), el("span", { class: "room-topic" })),
        el("span", { class: "online" }),
      );
      btn.addEventListener("click", () => joinAndOpen(name));
      return el("li", {}, btn);
    },
    (li, name) => {
      const info = directory.get(name) || {};
      const btn = li.firstChild;
      setIcon(btn, name, info);
      btn.querySelector(".room-topic").textContent = info.topic || "";
      const online = Number.isSafeInteger(info.online) ? info.online : 0;
      btn.querySelector(".online").textContent = online > 0 ? String(online) : "";
      btn.title = `Join #${name}`;
      btn.setAttribute("aria-label", `Join ${name}${info.private ? ", private" : ""}${online ? `, ${online} online` : ""}`);
    },
  );
  ui.browseEmpty.hidden = others.length > 0;

  let total = 0;
  for (const room of rooms.values()) if (room !== active) total += room.unread;
  ui.drawerUnread.hidden = total === 0;
  const where = active ? `${labelOf(active.name, active.info)} — hubbub` : "hubbub";
  document.title = total > 0 ? `(${total}) ${where}` : where;
}

function renderRoomHeader() {
  const room = active;
  ui.roomName.textContent = room ? titleOf(room.name, room.info) : "hubbub";
  const dm = !!room && isDM(room.name);
  const priv = !!room && !dm && room.info.private;
  ui.roomIcon.textContent = dm ? "@" : priv ? "" : "#";
  ui.roomIcon.classList.toggle("lock", priv);
  ui.roomIcon.title = priv ? "Private room" : "";
  ui.roomTopic.textContent = room ? room.info.topic || "" : "";
  ui.roomTopic.hidden = !room || !room.info.topic;
  ui.manage.hidden = !mayModerate(room);
  ui.leave.textContent = dm ? "Close" : "Leave";
  ui.leave.title = dm ? "Close this conversation (it comes back with the next message)" : "Leave this room";
}

function renderHistoryTop() {
  const room = active;
  const loaded = room && room.last !== null;
  ui.loadOlder.hidden = !loaded || !room.hasOlder;
  ui.loadOlder.disabled = !!(room && room.loadingOlder);
  ui.loadOlder.textContent = room && room.loadingOlder ? "Loading…" : "Load older messages";
  ui.historyStart.hidden = !loaded || room.hasOlder;
  if (loaded) {
    const empty = room.confirmed === 0 && room.locals.size === 0;
    ui.historyStart.textContent = isDM(room.name)
      ? `This is the beginning of your conversation with ${titleOf(room.name, room.info)}.${empty ? " Only the two of you can read it." : ""}`
      : `This is the very beginning of #${room.name}.${empty ? " Say hello!" : ""}`;
  }
}

function renderMembers() {
  const room = active;
  const list = room ? [...room.members].sort((a, b) => a.localeCompare(b)) : [];
  ui.memberCount.textContent = String(list.length);
  const canMod = mayModerate(room);
  keyed(
    ui.memberList,
    list,
    (name) => el("li", { class: "member" }),
    (li, name) => {
      // A name is a button when there is something to do with it.
      const actionable = name !== me.name && (canMod || mayDM(name));
      const role = room.roles.get(name) || "";
      const mutedUntil = room.muted.get(name) || 0;
      const tags = [
        name === me.name ? "you" : "",
        role === "owner" ? "owner" : role === "moderator" ? "mod" : "",
        mutedUntil > Date.now() ? "muted" : "",
      ].filter(Boolean);
      const key = `${actionable} ${tags.join(",")}`;
      if (li.dataset.render === key) return;
      li.dataset.render = key;
      const label = actionable
        ? el("button", { type: "button", class: "member-name member-btn", "aria-haspopup": "menu", "aria-expanded": "false", title: `Actions for ${name}`, text: name })
        : el("span", { class: "member-name", text: name });
      if (actionable) {
        label.addEventListener("click", () => {
          if (label.getAttribute("aria-expanded") === "true") closeMemberMenu(true);
          else openMemberMenu(label, name);
        });
      }
      li.replaceChildren(avatar(name), label, ...tags.map((t) => el("span", { class: `tag tag-${t}`, text: t })));
    },
  );
}

function renderTyping() {
  const who = active ? active.activeTypists() : [];
  let text = "";
  if (who.length === 1) text = `${who[0]} is typing…`;
  else if (who.length === 2) text = `${who[0]} and ${who[1]} are typing…`;
  else if (who.length > 2) text = "Several people are typing…";
  if (ui.typing.textContent !== text) ui.typing.textContent = text;
  ui.typing.classList.toggle("on", text !== "");
}

function renderConn(d) {
  ui.conn.dataset.state = d.state;
  ui.app.dataset.conn = d.state;
  ui.connRetry.hidden = d.state !== "waiting";
  let text;
  let banner = "";
  switch (d.state) {
    case "ready":
      text = "Connected";
      break;
    case "connecting":
      text = "Connecting…";
      if (d.attempt > 0) banner = "Reconnecting…";
      break;
    case "waiting": {
      const secs = Math.ceil((d.retryAt - Date.now()) / 1000);
      text = secs >= 1 ? `Reconnecting in ${secs}s` : "Reconnecting…";
      banner = `${d.reason || "Connection lost."} ${text}.`;
      break;
    }
    case "offline":
      text = "Offline";
      banner = "You are offline. hubbub will reconnect when the network is back.";
      break;
    default:
      text = "Disconnected";
      banner = d.reason || "";
  }
  if (ui.connText.textContent !== text) ui.connText.textContent = text;
  ui.conn.title = d.reason || "";
  ui.banner.hidden = banner === "";
  if (ui.banner.textContent !== banner) ui.banner.textContent = banner;
}

// renderComposer enables the composer for the open room, unless the user
// is muted there.
function renderComposer() {
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

function renderCount() {
  const n = byteLength(ui.input.value);
  ui.count.textContent = n > MAX_BODY_BYTES - 600 ? ` · ${n}/${MAX_BODY_BYTES}` : "";
  ui.count.classList.toggle("over", n > MAX_BODY_BYTES);
  ui.composer.classList.toggle("has-text", ui.input.value.trim() !== "");
}

// The toast is a popover where the browser has them, so that it shows
// above an open modal dialog too.
const popoverToast = typeof ui.toast.showPopover === "function";
if (popoverToast) ui.toast.hidden = false;
let toastTimer = 0;
function toast(text, ms = 6000) {
  ui.toast.textContent = text;
  if (popoverToast) {
    // Re-showing puts it on top of whatever opened since.
    if (ui.toast.matches(":popover-open")) ui.toast.hidePopover();
    ui.toast.showPopover();
  } else {
    ui.toast.hidden = false;
  }
  clearTimeout(toastTimer);
  toastTimer = setTimeout(hideToast, ms);
}

function hideToast() {
  clearTimeout(toastTimer);
  if (!popoverToast) ui.toast.hidden = true;
  else if (ui.toast.matches(":popover-open")) ui.toast.hidePopover();
}

function announce(text) {
  ui.announcer.textContent = text;
}

// ---------------------------------------------------------------------------
// Scrolling, drawers and input.

function atBottom() {
  const sc = ui.scroller;
  return sc.scrollHeight - sc.scrollTop - sc.clientHeight < 48;
}

function scrollToBottom() {
  ui.scroller.scrollTop = ui.scroller.scrollHeight;
}

const narrowQuery = window.matchMedia("(max-width: 760px)");
const isNarrow = () => narrowQuery.matches;

function openDrawer() {
  ui.sidebar.classList.add("open");
  ui.backdrop.hidden = false;
  ui.openDrawer.setAttribute("aria-expanded", "true");
  refreshDirectory();
  const current = ui.joined.querySelector(".active") || ui.joined.querySelector("button");
  (current || ui.closeDrawer).focus();
}

function closeDrawer() {
  if (!ui.sidebar.classList.contains("open")) return;
  ui.sidebar.classList.remove("open");
  ui.backdrop.hidden = true;
  ui.openDrawer.setAttribute("aria-expanded", "false");
}

function setMembersOpen(open) {
  ui.app.classList.toggle("members-open", open);
  ui.app.classList.toggle("members-closed", !open);
  ui.toggleMembers.setAttribute("aria-expanded", String(open));
}

function membersOpen() {
  return ui.app.classList.contains("members-open") ||
    (!ui.app.classList.contains("members-closed") && window.matchMedia("(min-width: 1200px)").matches);
}

// The account menu in the sidebar's footer.
function toggleMenu() {
  const open = ui.meMenu.hidden;
  ui.meMenu.hidden = !open;
  ui.meMenuBtn.setAttribute("aria-expanded", String(open));
  if (open) ui.meMenu.querySelector(".menu-item:not([hidden])").focus();
}

function closeMenus() {
  if (!ui.meMenu.hidden) {
    ui.meMenu.hidden = true;
    ui.meMenuBtn.setAttribute("aria-expanded", "false");
  }
  closeMemberMenu(false);
}

function openPasswordDialog() {
  closeMenus();
  ui.passwordForm.reset();
  ui.passwordUser.value = me.name; // for password managers
  ui.passwordError.textContent = "";
  ui.passwordDialog.showModal();
  ui.passwordOld.focus();
}

async function submitPassword(e) {
  e.preventDefault();
  const submit = ui.passwordForm.querySelector('button[type="submit"]');
  if (submit.disabled) return;
  const oldPw = ui.passwordOld.value;
  const newPw = ui.passwordNew.value;
  ui.passwordError.textContent = "";
  if (oldPw === "") {
    ui.passwordError.textContent = "Please enter your current password.";
    ui.passwordOld.focus();
    return;
  }
  const err = checkPassword(newPw);
  if (err) {
    ui.passwordError.textContent = err;
    ui.passwordNew.focus();
    return;
  }
  submit.disabled = true;
  try {
    await changePassword(oldPw, newPw);
  } catch (err) {
    if (err.code === "unauthorized") {
      signedOut(SIGNED_OUT);
      return;
    }
    ui.passwordError.textContent = describe(err);
    (err.code === "bad_credentials" ? ui.passwordOld : ui.passwordNew).select();
    return;
  } finally {
    submit.disabled = false;
  }
  ui.passwordDialog.close();
  ui.passwordForm.reset();
  toast("Password changed. Your other sessions were signed out.");
}

// leaveForWelcome stops chatting as a guest and shows the welcome screen.
function leaveForWelcome(tab) {
  closeMenus();
  const name = me.name;
  leaveChat();
  ui.app.hidden = true;
  showWelcome({ tab, guestName: name });
}

function wireUI() {
  initWelcome({
    onSignedIn: (self) => enterChat({ name: self.name, guest: false, admin: self.admin }),
    onGuest: (name) => enterChat({ name, guest: true }),
  });
  initManage({
    request: (cmd) => (conn ? conn.request(cmd) : Promise.reject(new Disconnected())),
    room: () => active,
    me,
    toast,
    openDM: messageUser,
    mayDM,
    mayModerate,
    label: (room) => labelOf(room.name, room.info),
  });

  ui.meMenuBtn.addEventListener("click", toggleMenu);
  ui.meMenu.addEventListener("keydown", (e) => {
    if (e.key === "Escape") {
      e.stopPropagation();
      closeMenus();
      ui.meMenuBtn.focus();
    } else if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      const items = [...ui.meMenu.querySelectorAll(".menu-item:not([hidden])")];
      const i = items.indexOf(document.activeElement);
      items[(i + (e.key === "ArrowDown" ? 1 : items.length - 1)) % items.length].focus();
    }
  });
  document.addEventListener("click", (e) => {
    if (!ui.meMenu.hidden && !ui.meMenu.contains(e.target) && !ui.meMenuBtn.contains(e.target)) closeMenus();
  });
  ui.menuPassword.addEventListener("click", openPasswordDialog);
  ui.menuLogout.addEventListener("click", logOut);
  ui.menuChangeName.addEventListener("click", () => leaveForWelcome("guest"));
  ui.menuSignIn.addEventListener("click", () => leaveForWelcome("login"));
  ui.passwordCancel.addEventListener("click", () => ui.passwordDialog.close());
  ui.passwordForm.addEventListener("submit", submitPassword);

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
  ui.manage.addEventListener("click", () => openManage(active));

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

  ui.scroller.addEventListener("scroll", () => {
    const room = active;
    if (!room) return;
    room.pinned = atBottom();
    if (room.pinned) {
      ui.pill.hidden = true;
      markSeen();
    }
    if (ui.scroller.scrollTop < 120 && room.hasOlder) loadOlder(room);
  });
  // Keep the newest message in view while the content grows (fonts,
  // the typing line, a page of history arriving).
  new ResizeObserver(() => {
    if (active && active.pinned) scrollToBottom();
  }).observe(ui.host);
  ui.pill.addEventListener("click", () => {
    if (!active) return;
    active.pinned = true;
    scrollToBottom();
    ui.pill.hidden = true;
    markSeen();
    ui.input.focus();
  });
  ui.loadOlder.addEventListener("click", () => active && loadOlder(active));
  ui.leave.addEventListener("click", () => active && leaveRoom(active));

  ui.openDrawer.addEventListener("click", openDrawer);
  ui.closeDrawer.addEventListener("click", () => {
    closeDrawer();
    ui.openDrawer.focus();
  });
  ui.backdrop.addEventListener("click", closeDrawer);
  ui.toggleMembers.addEventListener("click", () => setMembersOpen(!membersOpen()));
  ui.closeMembers.addEventListener("click", () => {
    setMembersOpen(false);
    ui.toggleMembers.focus();
  });
  ui.connRetry.addEventListener("click", () => conn && conn.connectNow());

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

  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape") {
      hideToast();
      if (ui.sidebar.classList.contains("open")) {
        closeDrawer();
        ui.openDrawer.focus();
      } else if (ui.app.classList.contains("members-open") && !window.matchMedia("(min-width: 1200px)").matches) {
        setMembersOpen(false);
        ui.toggleMembers.focus();
      }
    }
    // Alt+↑ / Alt+↓ move between joined rooms.
    if (e.altKey && (e.key === "ArrowUp" || e.key === "ArrowDown") && rooms.size > 1) {
      e.preventDefault();
      const list = [...rooms.values()];
      const i = list.indexOf(active);
      const next = list[(i + (e.key === "ArrowDown" ? 1 : list.length - 1)) % list.length];
      openRoom(next);
      ui.input.focus();
    }
  });
  document.addEventListener("visibilitychange", markSeen);
  window.addEventListener("pagehide", () => saved.flush());

  // One ticker for everything that changes with time alone: the reconnect
  // countdown, typing indicators expiring, "Today" turning into "Yesterday".
  let day = new Date().getDate();
  setInterval(() => {
    if (conn && conn.state === "waiting") renderConn({ state: "waiting", ...conn.detail });
    if (active && active.typing.size) renderTyping();
    if (active && active.mutedUntil && active.mutedUntil !== Infinity && active.mutedUntil <= Date.now()) {
      active.mutedUntil = 0; // a timed mute ended (the server needs no word to let us write)
      renderComposer();
      renderMembers();
    }
    if (new Date().getDate() !== day) {
      day = new Date().getDate();
      for (const room of rooms.values()) room.refreshDays();
    }
  }, 500);
  setInterval(() => conn && conn.ready && refreshDirectory(), ROOMS_REFRESH_MS);
}

boot();
