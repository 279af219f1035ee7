// Read positions of an account, kept on the server so that another tab,
// another device or the terminal client knows what was read: what this
// browser sees is sent with `read` (at most once a second per room), and
// a `read` event from another session moves the position here, which
// clears the unread marks. Guests keep their positions in this browser
// only (storage.js); the server keeps none for them.

import { getConn, getMe, onServerEvent, setSeen, subscribe } from "./state.js";

const READ_EVERY_MS = 1000;
const timers = new WeakMap(); // room → pending timer
const sent = new WeakMap(); // room → the last seq told to the server

function send(room) {
  timers.delete(room);
  const conn = getConn();
  const seq = room.seen;
  if (getMe().guest || seq === null || seq <= (sent.get(room) || 0)) return;
  if (!conn || !conn.ready) {
    timers.set(room, setTimeout(() => send(room), 5 * READ_EVERY_MS)); // after the reconnect
    return;
  }
  sent.set(room, seq);
  conn.request({ op: "read", room: room.name, seq }).catch(() => sent.delete(room));
}

function schedule(room) {
  if (timers.has(room)) return;
  timers.set(room, setTimeout(() => send(room), READ_EVERY_MS));
}

// initRead wires read positions, once.
export function initRead() {
  subscribe((topic, room, detail) => {
    if (topic !== "room" || !room || !Number.isSafeInteger(detail.seen)) return;
    if (detail.from === "server") {
      if (detail.seen > (sent.get(room) || 0)) sent.set(room, detail.seen);
      return;
    }
    schedule(room);
  });
  onServerEvent("read", (ev, room) => {
    if (room && Number.isSafeInteger(ev.seq)) setSeen(room, ev.seq, "server");
  });
}
