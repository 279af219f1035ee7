// The open room: switching rooms (each keeps its own message list, draft
// and scroll position), the header, the top of the history, following new
// messages at the bottom, and recording what the user has seen.

import { el } from "./dom.js";
import { isDM } from "./names.js";
import { closeMemberMenu, openManage } from "./manage.js";
import { toast, ui } from "./ui.js";
import { getActive, getMe, mayModerate, setSeen, subscribe, titleOf } from "./state.js";
import { loadOlder } from "./sync.js";
import { leaveRoom } from "./rooms.js";

// showRoom puts the active room's message list on screen; prev is the
// room that was there, whose scroll position it keeps.
function showRoom(room, prev) {
  if (prev) {
    prev.scrollTop = ui.scroller.scrollTop;
    removeUnreadLine(prev);
  }
  ui.pill.hidden = true;
  closeMemberMenu(false);
  if (room) {
    ui.host.replaceChildren(room.list);
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
  markSeen();
}

function renderRoomHeader() {
  const room = getActive();
  // With no room open (after a kick, say) the header names no room: the
  // app's name there would read as a room called "hubbub".
  ui.roomName.textContent = room ? titleOf(room.name, room.info) : "No room open";
  const dm = !!room && isDM(room.name);
  const priv = !!room && !dm && room.info.private;
  ui.roomIcon.textContent = !room ? "" : dm ? "@" : priv ? "" : "#";
  ui.roomIcon.hidden = !room;
  if (ui.chatTitle.dataset.room !== (room ? room.name : "")) {
    // Another room: its title starts folded, and Leave unarmed.
    ui.chatTitle.dataset.room = room ? room.name : "";
    setTitleExpanded(false);
    disarmLeave();
  }
  ui.roomIcon.classList.toggle("lock", priv);
  ui.roomIcon.title = priv ? "Private room" : "";
  ui.roomTopic.textContent = room ? room.info.topic || "" : "";
  ui.roomTopic.hidden = !room || !room.info.topic;
  ui.manage.hidden = !mayModerate(room);
  if (!ui.leave.dataset.armed) {
    ui.leave.textContent = dm ? "Close" : "Leave";
    ui.leave.title = dm ? "Close this conversation (it comes back with the next message)" : "Leave this room";
  }
}

// setTitleExpanded unfolds the room's name and topic onto as many lines as
// they need (on a phone they are cut to a few characters otherwise).
function setTitleExpanded(on) {
  ui.chatTitle.classList.toggle("expanded", on);
  ui.chatTitle.setAttribute("aria-expanded", String(on));
}

// Leave asks once more before leaving a room: the first click arms it for
// a few seconds ("Really leave?"), the second leaves. Closing a DM needs no
// confirmation: the conversation comes back with its next message.
const LEAVE_ARMED_MS = 4000;
let leaveTimer = 0;

function disarmLeave() {
  clearTimeout(leaveTimer);
  if (!ui.leave.dataset.armed) return;
  delete ui.leave.dataset.armed;
  ui.leave.classList.remove("armed");
  renderRoomHeader();
}

function clickLeave() {
  const room = getActive();
  if (!room) return;
  if (isDM(room.name) || ui.leave.dataset.armed === room.name) {
    disarmLeave();
    leaveRoom(room);
    return;
  }
  ui.leave.dataset.armed = room.name;
  ui.leave.classList.add("armed");
  ui.leave.textContent = "Really leave?";
  ui.leave.title = `Click again to leave #${room.name}`;
  clearTimeout(leaveTimer);
  leaveTimer = setTimeout(disarmLeave, LEAVE_ARMED_MS);
}

function renderHistoryTop() {
  const room = getActive();
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

// markSeen records that the user has seen the active room up to its newest
// message, when the view is at the bottom and the page is visible.
export function markSeen() {
  const room = getActive();
  if (!room || !room.pinned || document.visibilityState !== "visible" || room.confirmed === 0) return;
  placeUnreadLine(room);
  setSeen(room, Math.max(room.items[room.confirmed - 1].seq, room.last || 0));
}

// The "New messages" line goes, once each time a room is opened, above
// the first message of others the user had not seen, if any of those is
// unread (not from an account the user blocks); it stays until another
// room is opened. It marks where unseen messages begin: a folded run of
// blocked messages right after it is unseen too, and the runs are split at
// the line (Room.refold).
function placeUnreadLine(room) {
  if (room.lineDone || room.last === null) return;
  room.lineDone = true;
  if (room.seen === null) return;
  const unseen = room.items.slice(0, room.confirmed).filter((it) => it.seq > room.seen && !it.news && !it.mine);
  if (!unseen.some((it) => !room.fromBlocked(it))) return;
  const line = el("li", { class: "unread-line", role: "separator" }, el("span", { text: "New messages" }));
  room.list.insertBefore(line, unseen[0].li);
  room.refold();
}

function removeUnreadLine(room) {
  room.lineDone = false;
  const line = room.list.querySelector(".unread-line");
  if (!line) return;
  line.remove();
  room.refold();
}

function atBottom() {
  const sc = ui.scroller;
  return sc.scrollHeight - sc.scrollTop - sc.clientHeight < 48;
}

function scrollToBottom() {
  ui.scroller.scrollTop = ui.scroller.scrollHeight;
}

// The scroll position before a page of older messages went in above.
let olderFrom = null;

// onChange follows the state: see the topics in state.js.
function onChange(topic, room, detail) {
  const active = getActive();
  switch (topic) {
    case "active":
      showRoom(room, detail.prev);
      return;
    case "room":
      if (room === active) renderRoomHeader();
      return;
    case "me":
      renderRoomHeader();
      return;
    case "history":
      if (room === active) renderHistoryTop();
      return;
    case "messages":
      if (room !== active) return;
      if (detail.wasPinned) {
        scrollToBottom();
        ui.pill.hidden = true;
      } else if (detail.live && detail.added.some((m) => m.from !== getMe().name)) {
        ui.pill.hidden = false;
      }
      renderHistoryTop();
      markSeen();
      return;
    case "older":
      if (room !== active) return;
      if (detail.phase === "before") olderFrom = { height: ui.scroller.scrollHeight, top: ui.scroller.scrollTop };
      else if (olderFrom) {
        // Keep the view still while the page goes in above it.
        ui.scroller.scrollTop = olderFrom.top + (ui.scroller.scrollHeight - olderFrom.height);
        olderFrom = null;
      }
      return;
  }
}

// How far back revealMessage pages (of 100) before giving up.
const REVEAL_PAGES = 30;
const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// revealMessage scrolls the message (or entry) seq of room into view and
// marks it for a moment, loading older pages until it is there. It waits
// for the room's first page if the room was only just joined.
export async function revealMessage(room, seq) {
  for (let i = 0; room.last === null && i < 100; i++) await pause(100);
  for (let pages = 0; !room.has(seq) && pages < REVEAL_PAGES; ) {
    if (room.oldest === null || seq > room.oldest || !room.hasOlder) break;
    if (room.loadingOlder) {
      await pause(100);
      continue;
    }
    await loadOlder(room, 100);
    pages++;
  }
  if (getActive() !== room) return;
  const li = room.list.querySelector(`li[data-seq="${seq}"]`);
  if (!li) {
    toast(seq > room.latest ? "That message is not here yet." : "That message is too far back to show here.");
    return;
  }
  room.pinned = false;
  li.scrollIntoView({ block: "center" });
  li.classList.remove("highlight");
  void li.offsetWidth; // restart the animation
  li.classList.add("highlight");
}

// initView wires the room header and the message list, once.
export function initView() {
  subscribe(onChange);
  ui.manage.addEventListener("click", () => openManage(getActive()));
  ui.scroller.addEventListener("scroll", () => {
    const room = getActive();
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
    const room = getActive();
    if (room && room.pinned) scrollToBottom();
  }).observe(ui.host);
  ui.pill.addEventListener("click", () => {
    const room = getActive();
    if (!room) return;
    room.pinned = true;
    scrollToBottom();
    ui.pill.hidden = true;
    markSeen();
    ui.input.focus();
  });
  ui.loadOlder.addEventListener("click", () => getActive() && loadOlder(getActive()));
  ui.leave.addEventListener("click", clickLeave);
  ui.chatTitle.addEventListener("click", () => setTitleExpanded(!ui.chatTitle.classList.contains("expanded")));
  ui.chatTitle.addEventListener("keydown", (ev) => {
    if (ev.key !== "Enter" && ev.key !== " ") return;
    ev.preventDefault();
    setTitleExpanded(!ui.chatTitle.classList.contains("expanded"));
  });
  document.addEventListener("visibilitychange", markSeen);
}
