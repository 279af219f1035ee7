// Keeping every joined room complete — no gaps, no duplicates — across
// reconnects: the catch-up after the last seq held (page by page, or the
// newest page after a long absence), messages that arrive ahead of a gap,
// and older pages on demand. Joining is rooms.js's; what is shown is told
// to the views through state.js.

import { Disconnected, RequestError } from "./conn.js";
import { announce, toast } from "./ui.js";
import { changed, getActive, getConn, getMe, noteAuthors } from "./state.js";

const PAGE = 50; // messages per page when opening a room or loading older
const MAX_PAGE = 100; // the protocol's largest history page, for catching up
const RESYNC_OVER = 1000; // missed more than this: show the newest page instead
const RATE_RETRY_MS = 1000; // a page refused as rate_limited is asked again after about this
const RATE_RETRIES = 10;
// FOLDED_PAGES bounds the pages one load fetches in a row that show
// nothing: pages of edits and reactions to older messages only.
const FOLDED_PAGES = 20;

const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// history asks for a page of history, and again a moment later if the
// server refused it as rate_limited: coming back to many rooms joins and
// catches up all of them at once, which can be more commands than the
// server takes in a burst (docs/protocol.md, "Abuse limits"). The waits
// are spread so that the refused pages do not all come back together.
async function history(cmd) {
  for (let refused = 0; ; refused++) {
    const conn = getConn();
    if (!conn) throw new Disconnected();
    try {
      return await conn.request(cmd);
    } catch (err) {
      if (!(err instanceof RequestError) || err.code !== "rate_limited" || refused >= RATE_RETRIES) throw err;
      await pause(RATE_RETRY_MS * (0.5 + Math.random()));
    }
  }
}

// sync brings room up to date: the newest page if nothing is shown yet,
// then every message after the last one held, page by page, until there is
// no gap. Concurrent calls share one run.
export function sync(room) {
  if (!room.syncing) {
    room.syncing = doSync(room).finally(() => {
      room.syncing = null;
      changed("history", room);
    });
  }
  return room.syncing;
}

async function doSync(room) {
  if (room.last === null || room.latest - room.last > RESYNC_OVER) await loadNewest(room);
  for (let round = 0; round < 1000; round++) {
    drainBuffer(room);
    if (room.last >= room.latest && room.buffer.size === 0) return;
    const ok = await history({ op: "history", room: room.name, after: room.last, limit: MAX_PAGE });
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

// loadNewest shows the newest page of room, replacing what was shown. A
// page of edits and reactions only shows nothing (the messages they change
// are older): then the pages before it come too, until one shows something.
async function loadNewest(room) {
  if (room.last !== null) room.clear();
  let ok = await history({ op: "history", room: room.name, limit: PAGE });
  let msgs = messagesOf(ok);
  show(room, msgs, false);
  room.last = msgs.length ? msgs[msgs.length - 1].seq : 0;
  for (let pages = 1; room.confirmed === 0 && msgs.length > 0 && ok.more && pages < FOLDED_PAGES; pages++) {
    ok = await history({ op: "history", room: room.name, before: msgs[0].seq, limit: PAGE });
    msgs = messagesOf(ok);
    show(room, msgs, false);
  }
  room.hasOlder = msgs.length > 0 && !!ok.more;
  changed("history", room);
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

// show puts stored messages and entries on screen and tells the views
// ("messages": the plain messages added, the news shown, the messages
// whose state changed).
function show(room, msgs, live) {
  if (msgs.length === 0) return;
  noteAuthors(msgs);
  const me = getMe().name;
  const wasPinned = room.pinned;
  const { added, news, changed: updated } = room.addConfirmed(msgs, me);
  // Followed at the bottom, the list keeps a bounded length (room.js).
  if (wasPinned && room.trim()) changed("history", room);
  let typing = false;
  for (const m of added) typing = room.typing.delete(m.from) || typing;
  if (live && room === getActive()) {
    const fromOthers = added.filter((m) => m.from !== me);
    if (fromOthers.length) {
      const m = fromOthers[fromOthers.length - 1];
      announce(`${m.from}: ${m.body.slice(0, 200)}`);
    }
  }
  changed("messages", room, { added, news, changed: updated, live, wasPinned });
  if (typing) changed("typing", room);
  changed("room", room);
}

// loadOlder shows the page of (limit) messages before the oldest one held.
export async function loadOlder(room, limit = PAGE) {
  const conn = getConn();
  if (room.loadingOlder || !room.hasOlder || room.oldest === null || !conn || !conn.ready) return;
  room.loadingOlder = true;
  changed("history", room);
  try {
    // A page of edits and reactions only shows nothing: the one before
    // it comes too, until a page shows something.
    for (let pages = 0, shown = false; !shown && room.hasOlder && pages < FOLDED_PAGES; pages++) {
      const ok = await history({ op: "history", room: room.name, before: room.oldest, limit: Math.min(limit, MAX_PAGE) });
      const msgs = messagesOf(ok);
      noteAuthors(msgs);
      // The view keeps still around the insertion (see "older" in state.js).
      changed("older", room, { phase: "before" });
      const { added, news } = room.addConfirmed(msgs, getMe().name);
      room.hasOlder = msgs.length > 0 && !!ok.more;
      changed("older", room, { phase: "after", news });
      changed("room", room);
      shown = added.length > 0 || news.length > 0;
    }
  } catch (err) {
    if (err instanceof RequestError) toast(`Could not load older messages: ${err.reason || err.code}`);
  } finally {
    room.loadingOlder = false;
    changed("history", room);
  }
}
