// What the app does as its connection comes and goes (conn.js keeps the
// socket itself): the handshake on every new socket — hello, then
// re-joining every room before counting as connected — what a close
// undoes, and the connection indicator with its banner.

import { Close, Disconnected, RequestError } from "./conn.js";
import { sentence } from "./account.js";
import { showWelcome } from "./welcome.js";
import { ui } from "./ui.js";
import { conn, me, rooms } from "./state.js";
import { SIGNED_OUT, leaveChat, renderMe, signedOut } from "./session.js";
import { joinRoom } from "./sync.js";
import { refreshDirectory } from "./rooms.js";
import { renderTyping } from "./presence.js";

// hello refusals that retrying cannot fix: the user must pick another name.
const FATAL_HELLO = new Set(["invalid_value", "too_long", "name_taken", "forbidden", "banned"]);

export async function handshake(c) {
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

export function onClosed() {
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

// serverRestarting is set when the server closed with 1001 (going away) or
// 1012 (service restart) and cleared once connected again: the dials that
// fail meanwhile are the restart, not a lost network.
let serverRestarting = false;

export function renderConn(d) {
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

// initLifecycle wires the indicator's "Retry now", once.
export function initLifecycle() {
  ui.connRetry.addEventListener("click", () => conn && conn.connectNow());
}
