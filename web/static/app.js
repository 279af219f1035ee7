// hubbub's browser client: who the user is (an account or a guest), the
// room list with rooms and direct messages, the message view and the
// composer, and the protocol logic that keeps every joined room complete —
// no gaps, no duplicates — across reconnects.
//
// This is the entry point: it wires the modules to the page and starts.
// state.js holds what the client knows; session.js who the user is;
// lifecycle.js what happens as the connection comes and goes; sync.js keeps
// rooms complete; events.js handles the server's news; rooms.js, sidebar.js,
// view.js, composer.js and presence.js are the parts of the screen.
//
// Everything from the network is rendered as text; see dom.js.

import { Disconnected } from "./conn.js";
import { initWelcome } from "./welcome.js";
import { initManage } from "./manage.js";
import { hideToast, toast, ui } from "./ui.js";
import { active, conn, labelOf, mayDM, mayModerate, me, rooms, saved } from "./state.js";
import { boot, closeMenus, enterChat, initSession } from "./session.js";
import { initLifecycle, renderConn } from "./lifecycle.js";
import { initRooms, messageUser, refreshDirectory } from "./rooms.js";
import { closeDrawer, initSidebar } from "./sidebar.js";
import { initView, markSeen, openRoom } from "./view.js";
import { initComposer, renderComposer } from "./composer.js";
import { initPresence, renderMembers, renderTyping, setMembersOpen } from "./presence.js";
import { initInspector } from "./inspector.js";

const ROOMS_REFRESH_MS = 60_000;

// wireUI wires every part of the page to the app, once.
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

  initSession();
  initRooms();
  initView();
  initComposer();
  initSidebar();
  initPresence();
  initLifecycle();
  initInspector(() => conn, closeMenus);

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

wireUI();
boot();
