// The inspector panel of the chat: the server's view of this page's own
// WebSocket, live — the handshake, every frame both ways with its header
// fields, the hubbub events inside, ping/pong round trips and the close.
// A browser's developer tools show frames too, but not what the server saw
// or when. The page proves the socket is its own with the key it put the
// hash of in the socket's URL (conn.js); it watches again after every
// reconnect.

import { appendRecord, watch } from "./inspect-view.js";

// initInspector wires the panel. getConn returns the current Connection
// (or null) and closeMenu closes the account menu the panel opens from:
// they are passed in, so that this module imports no app state.
export function initInspector(getConn, closeMenu) {
  const panel = document.getElementById("inspector");
  const list = document.getElementById("inspector-log");
  const status = document.getElementById("inspector-status");
  const toggle = document.getElementById("menu-inspector");
  const close = document.getElementById("inspector-close");
  let abort = null;
  let watchedKey = null;

  const stop = () => {
    if (abort) abort.abort();
    abort = null;
    watchedKey = null;
  };

  // attach watches the current socket unless it is watched already.
  const attach = () => {
    const conn = getConn();
    const key = conn && conn.ready ? conn.inspectKey : null;
    if (panel.hidden || !key || key === watchedKey) {
      if (conn && conn.ready && !conn.inspectKey) status.textContent = "The inspector needs a secure context (https: or localhost).";
      return;
    }
    stop();
    watchedKey = key;
    const ctl = new AbortController();
    abort = ctl;
    status.textContent = "Watching this page's socket…";
    watch({ key }, (rec) => appendRecord(list, rec), ctl.signal)
      .then(() => {
        if (abort === ctl) status.textContent = "The socket closed; watching again when it reconnects.";
      })
      .catch((err) => {
        if (ctl.signal.aborted) return;
        status.textContent = `Cannot watch: ${err.message}`;
      })
      .finally(() => {
        if (abort === ctl) watchedKey = null;
      });
  };

  const open = () => {
    panel.hidden = false;
    attach();
  };
  const hide = () => {
    panel.hidden = true;
    stop();
  };
  toggle.addEventListener("click", () => {
    closeMenu();
    if (panel.hidden) open();
    else hide();
  });
  close.addEventListener("click", hide);
  // A new socket after a reconnect: watch it. The Connection object
  // itself is replaced on sign-in, so poll the cheap getter instead of
  // subscribing to one object's events.
  setInterval(attach, 1000);
}
