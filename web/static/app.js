// hubbub's browser client: who the user is (an account or a guest), the
// room list with rooms and direct messages, the message view and the
// composer, and the protocol logic that keeps every joined room complete —
// no gaps, no duplicates — across reconnects.
//
// This is the entry point: it wires the modules to the page and starts.
// The imports form a tree (web_test.go checks that they have no cycle):
//
//   app.js ─┬─ views: view.js, sidebar.js, composer.js, presence.js, notify.js,
//           │         lifecycle.js (the banner), session.js (who, menus)
//           ├─ controllers: events.js (server news), roomnews.js (what room
//           │         entries change), msgops.js (edit, delete, react),
//           │         replies.js (the messages replies quote), read.js
//           │         (read positions kept on the server),
//           │         rooms.js (join, leave, directory),
//           │         directory.js (directory events, room search),
//           │         roomadmin.js (archive, unarchive, delete),
//           │         blocks.js (block, unblock and their events),
//           │         attach.js (files: attach, upload.js, send),
//           │         sync.js (catch-up), send.js, typing.js
//           └─ state.js: the one owner of what the client knows; views
//                     subscribe to it and never call each other
//
// under them the leaves: conn.js (the socket), room.js (one room's model
// and message list), message.js (how one message or entry looks), files.js
// (how a message's file looks), upload.js (a file's bytes over the
// socket), dom.js, ui.js, names.js, storage.js, drafts.js, outbox.js (sent
// messages not acknowledged, over a reload), account.js.
//
// Everything from the network is rendered as text; see dom.js.

import { Disconnected } from "./conn.js";
import { initWelcome } from "./welcome.js";
import { initManage } from "./manage.js";
import { hideToast, toast, ui } from "./ui.js";
import * as state from "./state.js";
import { flushDrafts } from "./drafts.js";
import { boot, closeMenus, enterChat, initSession } from "./session.js";
import { initLifecycle, renderConn } from "./lifecycle.js";
import { initEvents } from "./events.js";
import { initRoomNews } from "./roomnews.js";
import { initActions } from "./actions.js";
import { initReplies } from "./replies.js";
import { initRead } from "./read.js";
import { initSearch } from "./search.js";
import { initRooms, messageUser } from "./rooms.js";
import { initDirectory } from "./directory.js";
import { initRoomAdmin } from "./roomadmin.js";
import { closeDrawer, initSidebar } from "./sidebar.js";
import { initView } from "./view.js";
import { initComposer } from "./composer.js";
import { initAttach } from "./attach.js";
import { initPresence, renderTyping, setMembersOpen } from "./presence.js";
import { initInspector } from "./inspector.js";
import { initNotify } from "./notify.js";
import { initBlocks, setBlock } from "./blocks.js";

// wireUI wires every part of the page to the app, once.
function wireUI() {
  initWelcome({
    onSignedIn: (self) => enterChat({ name: self.name, guest: false, admin: self.admin }),
    onGuest: (name) => enterChat({ name, guest: true }),
  });
  initManage({
    request: (cmd) => (state.getConn() ? state.getConn().request(cmd) : Promise.reject(new Disconnected())),
    room: () => state.getActive(),
    me: () => state.getMe(),
    toast,
    openDM: messageUser,
    mayDM: state.mayDM,
    mayBlock: state.mayBlock,
    isBlocked: state.isBlocked,
    block: setBlock,
    mayModerate: state.mayModerate,
    label: (room) => state.labelOf(room.name, room.info),
  });

  // Views subscribe first, so that they render what the controllers change.
  initView();
  initSidebar();
  initComposer();
  initAttach();
  initPresence();
  initNotify();
  initLifecycle();
  initSession();
  initRooms();
  initEvents();
  initRoomNews();
  initActions();
  initReplies();
  initRead();
  initSearch();
  initDirectory();
  initRoomAdmin();
  initBlocks();
  initInspector(state.getConn, closeMenus);

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
    if (e.altKey && (e.key === "ArrowUp" || e.key === "ArrowDown") && state.roomCount() > 1) {
      e.preventDefault();
      state.moveActive(e.key === "ArrowDown" ? 1 : -1);
      ui.input.focus();
    }
  });
  window.addEventListener("pagehide", () => {
    state.getSaved().flush();
    flushDrafts();
  });

  // One ticker for everything that changes with time alone: the reconnect
  // countdown, typing indicators expiring, "Today" turning into "Yesterday".
  let day = new Date().getDate();
  setInterval(() => {
    if (state.status().state === "waiting") renderConn();
    const active = state.getActive();
    if (active && active.typing.size) renderTyping();
    if (active && active.mutedUntil && active.mutedUntil !== Infinity && active.mutedUntil <= Date.now()) {
      active.mutedUntil = 0; // a timed mute ended (the server needs no word to let us write)
      state.changed("composer", active);
      state.changed("members", active);
    }
    if (new Date().getDate() !== day) {
      day = new Date().getDate();
      for (const room of state.roomList()) room.refreshDays();
    }
  }, 500);
}

wireUI();
boot();
