// What the app does as its connection comes and goes (conn.js keeps the
// socket itself): the handshake on every new socket — hello and the
// re-join of every room, sent together, before counting as connected; an
// account's blocks after hello — what a close
// undoes, and the connection indicator with its banner.

import { Close, Disconnected, RequestError } from "./conn.js";
import { sentence } from "./account.js";
import { ui } from "./ui.js";
import * as state from "./state.js";
import { joinRoom, refreshDirectory } from "./rooms.js";
import { failInFlight } from "./send.js";

// hello refusals that retrying cannot fix: the user must pick another name.
const FATAL_HELLO = new Set(["invalid_value", "too_long", "name_taken", "forbidden", "banned"]);

// makeHandshake returns the handshake of a Connection (conn.js) for the
// current identity. When the server refuses it for good, it calls
// onNameRefused(name, why) for a guest whose name cannot be used, or
// onSignedOut() for an account whose session is gone, after the socket is
// stopped.
export function makeHandshake({ onNameRefused, onSignedOut }) {
  return async function handshake(c) {
    c.identified = false; // rooms added from now on are joined by addRoom
    const me = state.getMe();
    // hello and the re-joins go out together, without waiting for hello's
    // reply (the server runs a socket's commands in order): a reconnect
    // costs one round trip, not two. If hello is refused, so are the joins,
    // and their replies are dropped.
    const rooms = state.roomList();
    // A signed-in socket speaks as its account and must not give a name.
    const helloReq = c.request(me.guest ? { op: "hello", name: me.name } : { op: "hello" });
    const joinReqs = rooms.map((r) => c.request({ op: "join", room: r.name }));
    for (const req of joinReqs) req.catch(() => {});
    let ok;
    try {
      ok = await helloReq;
    } catch (err) {
      if (err instanceof RequestError && me.guest && FATAL_HELLO.has(err.code)) {
        const fatal = new Error(err.reason || "That name cannot be used.");
        fatal.fatal = true;
        setTimeout(() => onNameRefused(me.name, sentence(fatal.message)), 0);
        throw fatal;
      }
      if (err instanceof RequestError && !me.guest && err.code === "missing_field") {
        // The socket came up as a guest's: the cookie is gone.
        const fatal = new Error("signed out");
        fatal.fatal = true;
        setTimeout(onSignedOut, 0);
        throw fatal;
      }
      throw err;
    }
    if (ok.self && typeof ok.self.name === "string") state.updateMe({ name: ok.self.name, admin: !!ok.self.admin });
    c.identified = true;
    // The accounts this one blocks, asked again on every socket (a block
    // made while it was down came as an event nobody heard). Guests block
    // nobody: the server refuses them.
    if (!me.guest) {
      c.request({ op: "blocks" }).then(
        (list) => state.setBlocks(Array.isArray(list.blocks) ? list.blocks : []),
        (err) => console.warn("hubbub: blocks", err.code || err),
      );
    }
    refreshDirectory();
    // Re-join every room before counting as connected; the catch-up of each
    // room (history after the last seq seen) then runs in the background.
    // A room added while hello was under way is joined now.
    const added = state.roomList().filter((r) => !rooms.includes(r));
    const results = await Promise.allSettled([
      ...rooms.map((r, i) => joinRoom(r, joinReqs[i])),
      ...added.map((r) => joinRoom(r)),
    ]);
    for (const res of results) {
      if (res.status === "rejected" && res.reason instanceof Disconnected) throw res.reason;
    }
  };
}

// onClosed undoes what a socket's end undoes: no room is joined, sends
// under way failed (and are retried after the next join), nobody is
// typing.
export function onClosed() {
  for (const room of state.roomList()) {
    room.joined = false;
    failInFlight(room);
    room.typing.clear();
  }
  state.changed("typing");
}

// serverRestarting is set when the server closed with 1001 (going away) or
// 1012 (service restart) and cleared once connected again: the dials that
// fail meanwhile are the restart, not a lost network.
let serverRestarting = false;

export function renderConn() {
  const d = state.status();
  if (d.state === "ready") serverRestarting = false;
  else if (d.code === Close.goingAway || d.code === Close.serviceRestart) serverRestarting = true;
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
      if (d.attempt > 0) banner = serverRestarting ? "The server is restarting. Reconnecting…" : "Reconnecting…";
      break;
    case "waiting": {
      const secs = Math.ceil((d.retryAt - Date.now()) / 1000);
      text = secs >= 1 ? `Reconnecting in ${secs}s` : "Reconnecting…";
      // Separate sentences, each capitalised; no advice to the user.
      banner = `${serverRestarting ? "The server is restarting." : sentence(d.reason || "Connection lost.")} ${sentence(text)}`;
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
  ui.membersTitle.textContent = d.state === "ready" ? "Here now" : "Here when last connected";
  ui.conn.title = d.reason || "";
  ui.banner.hidden = banner === "";
  if (ui.banner.textContent !== banner) ui.banner.textContent = banner;
}

// initLifecycle wires the indicator's "Retry now" and follows the
// connection's status, once.
export function initLifecycle() {
  ui.connRetry.addEventListener("click", () => {
    const c = state.getConn();
    if (c) c.connectNow();
  });
  state.subscribe((topic) => {
    if (topic === "conn") renderConn();
  });
}
