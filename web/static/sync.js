// Keeping every joined room complete — no gaps, no duplicates — across
// reconnects: joining, the catch-up after the last seq held (page by
// page, or the newest page after a long absence), messages that arrive
// ahead of a gap, and older pages on demand.

import { Disconnected, RequestError } from "./conn.js";
import { announce, toast, ui } from "./ui.js";
import { active, applyInfo, conn, me, noteAuthors, persistRooms, rooms } from "./state.js";
import { forgetRoom } from "./rooms.js";
import { renderRoomList } from "./sidebar.js";
import { markSeen, renderHistoryTop, renderRoomHeader, scrollToBottom } from "./view.js";
import { resendLocals } from "./composer.js";
import { renderMembers, renderTyping } from "./presence.js";

const PAGE = 50; // messages per page when opening a room or loading older
const MAX_PAGE = 100; // the protocol's largest history page, for catching up
const RESYNC_OVER = 1000; // missed more than this: show the newest page instead
const JOIN_RETRY_MS = 5000;
// join refusals that mean the room is not for us (any more).
const GONE = new Set(["no_such_room", "forbidden", "banned", "invalid_value", "too_long"]);

// joinRoom joins room on the current connection, then catches it up and
// resends what the server has not acknowledged.
export async function joinRoom(room) {
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

// sync brings room up to date: the newest page if nothing is shown yet,
// then every message after the last one held, page by page, until there is
// no gap. Concurrent calls share one run.
export function sync(room) {
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
export function receive(room, m, live) {
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

export async function loadOlder(room) {
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
