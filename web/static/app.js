// hubbub's browser client: the welcome screen, the room list, the message
// view and the composer, and the protocol logic that keeps every joined
// room complete — no gaps, no duplicates — across reconnects.
//
// Everything from the network is rendered as text; see dom.js.

import { Connection, RequestError, Disconnected } from "./conn.js";
import { Saved } from "./storage.js";
import { Room } from "./room.js";
import { el, avatar, newCMID, byteLength, formatFull } from "./dom.js";

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
const ROOM_NAME = /^[a-z0-9][a-z0-9_-]{0,31}$/;
// hello refusals that retrying cannot fix: the user must pick another name.
const FATAL_HELLO = new Set(["invalid_value", "too_long", "name_taken", "forbidden", "banned"]);
// join refusals that mean the room is not for us (any more).
const GONE = new Set(["no_such_room", "forbidden", "banned", "invalid_value", "too_long"]);
// send refusals worth retrying automatically after a reconnect.
const RETRYABLE = new Set(["internal", "unavailable", "not_joined", "rate_limited", "disconnected"]);

const $ = (id) => document.getElementById(id);
const ui = {
  welcome: $("welcome"),
  guestForm: $("guest-form"),
  guestName: $("guest-name"),
  guestError: $("guest-error"),
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
  browse: $("browse-rooms"),
  browseEmpty: $("browse-empty"),
  meAvatar: $("me-avatar"),
  meName: $("me-name"),
  meKind: $("me-kind"),
  changeName: $("change-name"),
  roomName: $("room-name"),
  roomTopic: $("room-topic"),
  memberCount: $("member-count"),
  toggleMembers: $("toggle-members"),
  leave: $("leave-room"),
  banner: $("banner"),
  scroller: $("scroller"),
  host: $("message-host"),
  loadOlder: $("load-older"),
  historyStart: $("history-start"),
  noRoom: $("no-room"),
  pill: $("new-pill"),
  typing: $("typing"),
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
  createError: $("create-error"),
  createCancel: $("create-cancel"),
  toast: $("toast"),
  announcer: $("announcer"),
};

const saved = new Saved();
const rooms = new Map(); // joined rooms by name, in the user's order
let directory = new Map(); // every room the server listed, by name
const me = { name: "", guest: true };
let active = null; // the Room on screen
let conn = null;

// ---------------------------------------------------------------------------
// Start: the welcome screen or straight into the chat.

function boot() {
  for (const r of saved.rooms) {
    if (ROOM_NAME.test(r.name) && !rooms.has(r.name)) rooms.set(r.name, new Room(r.name, r.seen));
  }
  if (saved.fresh && rooms.size === 0) rooms.set(DEFAULT_ROOM, new Room(DEFAULT_ROOM, null));
  wireUI();
  if (saved.name) startChat(saved.name);
  else showWelcome("");
}

function showWelcome(error) {
  ui.app.hidden = true;
  ui.welcome.hidden = false;
  ui.guestName.value = me.name || saved.name || "";
  ui.guestError.textContent = error;
  ui.guestName.setAttribute("aria-invalid", error ? "true" : "false");
  ui.guestName.focus();
}

// checkName mirrors protocol.CheckDisplayName, so most mistakes are caught
// before a round trip; the server has the last word.
function checkName(name) {
  if (name === "") return "Please enter a name.";
  if (Array.from(name).length > 32) return "Names are at most 32 characters.";
  if (/[\p{Cc}\p{Cf}]/u.test(name) || /[^\S ]/u.test(name)) return "Names cannot contain control characters.";
  return "";
}

function startChat(name) {
  me.name = name;
  me.guest = true;
  saved.name = name;
  saved.save();
  renderMe();
  ui.welcome.hidden = true;
  ui.app.hidden = false;
  const first = rooms.get(saved.active) || rooms.values().next().value || null;
  openRoom(first);
  if (conn) conn.stop();
  conn = new Connection({ handshake });
  conn.addEventListener("state", (e) => renderConn(e.detail));
  conn.addEventListener("event", (e) => onEvent(e.detail));
  conn.addEventListener("closed", onClosed);
  conn.start();
}

// ---------------------------------------------------------------------------
// Protocol: the handshake of every connection, and keeping rooms complete.

async function handshake(c) {
  let ok;
  try {
    ok = await c.request({ op: "hello", name: me.name });
  } catch (err) {
    if (err instanceof RequestError && FATAL_HELLO.has(err.code)) {
      const fatal = new Error(err.reason || "That name cannot be used.");
      fatal.fatal = true;
      setTimeout(() => showWelcome(fatal.message), 0);
      throw fatal;
    }
    throw err;
  }
  if (ok.self && typeof ok.self.name === "string") {
    me.name = ok.self.name;
    me.guest = !!ok.self.guest;
  }
  renderMe();
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

function applyInfo(room, info) {
  if (!info || typeof info !== "object") return;
  room.info = { ...room.info, ...info };
  if (Number.isSafeInteger(info.last_seq) && info.last_seq > room.latest) room.latest = info.last_seq;
  const d = directory.get(room.name);
  if (d) directory.set(room.name, { ...d, ...info });
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
      if (typeof ev.room !== "string" || typeof ev.user !== "string") break;
      if (ev.user === me.name && room) {
        // The server has taken us out already; do not rejoin on reconnect.
        forgetRoom(room);
        const verb = ev.type === "kicked" ? "removed you from" : "banned you from";
        toast(`${ev.by || "A moderator"} ${verb} #${ev.room}${until(ev.until)}${ev.reason ? `: ${ev.reason}` : "."}`);
      } else if (room) {
        room.members.delete(ev.user);
        if (room === active) renderMembers();
      }
      break;
    case "muted":
    case "unmuted":
      if (ev.user === me.name && typeof ev.room === "string") {
        toast(
          ev.type === "muted"
            ? `You are muted in #${ev.room}${until(ev.until)}${ev.reason ? `: ${ev.reason}` : "."}`
            : `You can write in #${ev.room} again.`,
        );
      }
      break;
    case "topic":
      if (room) {
        room.info.topic = typeof ev.topic === "string" ? ev.topic : "";
        if (room === active) renderRoomHeader();
      }
      if (directory.has(ev.room)) directory.get(ev.room).topic = typeof ev.topic === "string" ? ev.topic : "";
      renderRoomList();
      break;
    case "invited":
      refreshDirectory();
      break;
    case "error":
      // A refusal of a command sent without an id (typing), or news the
      // server pushes on its own.
      if (ev.code === "rate_limited") toast("Slow down — you are sending too fast.");
      else console.warn("hubbub: server error", ev.code, ev.reason);
      break;
  }
}

// until describes the end of a ban or mute ("" when it lasts until lifted).
function until(ms) {
  return Number.isSafeInteger(ms) && ms > 0 ? ` until ${formatFull(ms)}` : "";
}

// ---------------------------------------------------------------------------
// Rooms: open, join, create, leave.

function openRoom(room) {
  if (active) {
    active.scrollTop = ui.scroller.scrollTop;
    active.draft = ui.input.value;
  }
  active = room;
  ui.pill.hidden = true;
  if (room) {
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
  ui.input.disabled = !room;
  ui.send.disabled = !room;
  ui.leave.hidden = !room;
  ui.toggleMembers.hidden = !room;
  renderRoomHeader();
  renderHistoryTop();
  renderMembers();
  renderTyping();
  renderRoomList();
  renderCount();
  markSeen();
  closeDrawer();
}

async function joinAndOpen(name) {
  let room = rooms.get(name);
  if (!room) {
    room = new Room(name, null);
    const d = directory.get(name);
    if (d) applyInfo(room, d);
    rooms.set(name, room);
    persistRooms();
    if (conn && conn.ready) joinRoom(room).catch(() => {});
  }
  openRoom(room);
  if (!isNarrow()) ui.input.focus();
}

function forgetRoom(room) {
  rooms.delete(room.name);
  persistRooms();
  if (active === room) openRoom(rooms.values().next().value || null);
  else renderRoomList();
}

async function leaveRoom(room) {
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
  try {
    const ok = await conn.request({ op: "rooms" });
    const list = Array.isArray(ok.rooms) ? ok.rooms : [];
    directory = new Map(list.filter((r) => r && typeof r.name === "string").map((r) => [r.name, r]));
    for (const [name, info] of directory) {
      const room = rooms.get(name);
      if (room) applyInfo(room, info);
    }
    renderRoomList();
    if (active) renderRoomHeader();
  } catch {
    // not connected; the next handshake refreshes
  }
}

async function createRoom(e) {
  e.preventDefault();
  const name = ui.createName.value.trim().toLowerCase();
  const topic = ui.createTopic.value.trim();
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
  try {
    const ok = await conn.request(cmd);
    if (ok.info) directory.set(name, ok.info);
  } catch (err) {
    ui.createError.textContent = err.reason || err.message || "The room could not be created.";
    return;
  }
  ui.createDialog.close();
  ui.createForm.reset();
  await joinAndOpen(name);
  refreshDirectory();
}

function persistRooms() {
  saved.setRooms([...rooms.values()].map((r) => ({ name: r.name, seen: r.seen })));
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
  ui.meKind.textContent = me.guest ? "guest" : "account";
  ui.meAvatar.replaceWith((ui.meAvatar = avatar(me.name || "?", "avatar-me")));
  ui.meAvatar.id = "me-avatar";
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

function renderRoomList() {
  const names = [...rooms.keys()];
  keyed(
    ui.joined,
    names,
    (name) => {
      const btn = el(
        "button",
        { type: "button", class: "room-btn" },
        el("span", { class: "hash", "aria-hidden": "true", text: "#" }),
        el("span", { class: "room-label", text: name }),
        el("span", { class: "badge" }),
      );
      btn.addEventListener("click", () => openRoom(rooms.get(name) || null));
      return el("li", {}, btn);
    },
    (li, name) => {
      const room = rooms.get(name);
      const btn = li.firstChild;
      const unread = room === active ? 0 : room.unread;
      btn.classList.toggle("active", room === active);
      btn.classList.toggle("unread", unread > 0);
      if (room === active) btn.setAttribute("aria-current", "page");
      else btn.removeAttribute("aria-current");
      const badge = btn.querySelector(".badge");
      badge.textContent = unread > 99 ? "99+" : unread > 0 ? String(unread) : "";
      btn.setAttribute("aria-label", unread > 0 ? `${name}, ${unread} unread` : name);
    },
  );
  ui.joinedEmpty.hidden = rooms.size > 0;

  const others = [...directory.keys()].filter((n) => !rooms.has(n)).sort();
  keyed(
    ui.browse,
    others,
    (name) => {
      const btn = el(
        "button",
        { type: "button", class: "room-btn" },
        el("span", { class: "hash", "aria-hidden": "true", text: "#" }),
        el("span", { class: "room-label" }, el("span", { class: "room-name", text: name }), el("span", { class: "room-topic" })),
        el("span", { class: "online" }),
      );
      btn.addEventListener("click", () => joinAndOpen(name));
      return el("li", {}, btn);
    },
    (li, name) => {
      const info = directory.get(name) || {};
      const btn = li.firstChild;
      btn.querySelector(".room-topic").textContent = info.topic || "";
      const online = Number.isSafeInteger(info.online) ? info.online : 0;
      btn.querySelector(".online").textContent = online > 0 ? String(online) : "";
      btn.title = `Join #${name}`;
      btn.setAttribute("aria-label", `Join ${name}${online ? `, ${online} online` : ""}`);
    },
  );
  ui.browseEmpty.hidden = others.length > 0;

  let total = 0;
  for (const room of rooms.values()) if (room !== active) total += room.unread;
  ui.drawerUnread.hidden = total === 0;
  const where = active ? `#${active.name} — hubbub` : "hubbub";
  document.title = total > 0 ? `(${total}) ${where}` : where;
}

function renderRoomHeader() {
  ui.roomName.textContent = active ? active.name : "hubbub";
  ui.roomTopic.textContent = active ? active.info.topic || "" : "";
  ui.roomTopic.hidden = !active || !active.info.topic;
}

function renderHistoryTop() {
  const room = active;
  const loaded = room && room.last !== null;
  ui.loadOlder.hidden = !loaded || !room.hasOlder;
  ui.loadOlder.disabled = !!(room && room.loadingOlder);
  ui.loadOlder.textContent = room && room.loadingOlder ? "Loading…" : "Load older messages";
  ui.historyStart.hidden = !loaded || room.hasOlder;
  if (loaded) {
    ui.historyStart.textContent =
      room.confirmed === 0 && room.locals.size === 0
        ? `This is the very beginning of #${room.name}. Say hello!`
        : `This is the very beginning of #${room.name}.`;
  }
}

function renderMembers() {
  const list = active ? [...active.members].sort((a, b) => a.localeCompare(b)) : [];
  ui.memberCount.textContent = String(list.length);
  keyed(
    ui.memberList,
    list,
    (name) =>
      el(
        "li",
        { class: "member" },
        avatar(name),
        el("span", { class: "member-name", text: name }),
        name === me.name ? el("span", { class: "tag", text: "you" }) : null,
      ),
    () => {},
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

function renderCount() {
  const n = byteLength(ui.input.value);
  ui.count.textContent = n > MAX_BODY_BYTES - 600 ? ` · ${n}/${MAX_BODY_BYTES}` : "";
  ui.count.classList.toggle("over", n > MAX_BODY_BYTES);
  ui.composer.classList.toggle("has-text", ui.input.value.trim() !== "");
}

let toastTimer = 0;
function toast(text) {
  ui.toast.textContent = text;
  ui.toast.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => (ui.toast.hidden = true), 5000);
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

function wireUI() {
  ui.guestForm.addEventListener("submit", (e) => {
    e.preventDefault();
    const name = ui.guestName.value.trim();
    const err = checkName(name);
    if (err) {
      ui.guestError.textContent = err;
      ui.guestName.setAttribute("aria-invalid", "true");
      ui.guestName.focus();
      return;
    }
    startChat(name);
  });
  ui.changeName.addEventListener("click", () => {
    if (conn) conn.stop();
    showWelcome("");
  });

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
    if (new Date().getDate() !== day) {
      day = new Date().getDate();
      for (const room of rooms.values()) room.refreshDays();
    }
  }, 500);
  setInterval(() => conn && conn.ready && refreshDirectory(), ROOMS_REFRESH_MS);
}

boot();
