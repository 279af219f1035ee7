// The sidebar: the joined rooms and conversations with their unread
// counts, the rooms to browse, the page title's unread total, and on a
// narrow screen the drawer that holds it all.

import { avatar, el, keyed } from "./dom.js";
import { isDM } from "./names.js";
import { ui } from "./ui.js";
import { blockedPeer, directoryInfo, directoryNames, getActive, getRoom, hasRoom, labelOf, roomList, setActive, subscribe, titleOf } from "./state.js";
import { joinAndOpen } from "./rooms.js";

// roomIcon is what stands before a room's name: "#" for a public room, a
// lock for a private one, the other user's avatar for a DM.
function roomIcon(name, info) {
  if (isDM(name)) return avatar(titleOf(name, info) || "?", "avatar-mini");
  if (info && info.private) return el("span", { class: "room-icon lock", "aria-hidden": "true", title: "Private" });
  return el("span", { class: "room-icon", "aria-hidden": "true", text: "#" });
}

function iconKind(name, info) {
  return isDM(name) ? `dm:${titleOf(name, info)}` : info && info.private ? "private" : "public";
}

function setIcon(btn, name, info) {
  const kind = iconKind(name, info);
  if (btn.dataset.icon === kind) return;
  btn.dataset.icon = kind;
  btn.firstChild.replaceWith(roomIcon(name, info));
}

function renderRoomList() {
  const active = getActive();
  const makeJoined = (name) => {
    const btn = el(
      "button",
      { type: "button", class: "room-btn" },
      el("span", { class: "room-icon" }),
      el("span", { class: "room-label" }),
      el("span", { class: "tag tag-archived", text: "archived", title: "Read-only" }),
      el("span", { class: "tag tag-blocked", text: "blocked", title: "You block this user" }),
      el("span", { class: "mention-badge", title: "Mentions of you" }),
      el("span", { class: "badge" }),
    );
    btn.addEventListener("click", () => setActive(getRoom(name) || null));
    return el("li", {}, btn);
  };
  const updateJoined = (li, name) => {
    const room = getRoom(name);
    const btn = li.firstChild;
    const title = titleOf(name, room.info);
    setIcon(btn, name, room.info);
    btn.querySelector(".room-label").textContent = title;
    const unread = room === active ? 0 : room.unread;
    const mentioned = room === active ? 0 : room.mentionCount;
    const fresh = room !== active && room.invited && unread === 0;
    btn.classList.toggle("active", room === active);
    btn.classList.toggle("unread", unread > 0 || fresh);
    if (room === active) btn.setAttribute("aria-current", "page");
    else btn.removeAttribute("aria-current");
    btn.querySelector(".tag-archived").hidden = !room.info.archived;
    const blocked = blockedPeer(room);
    btn.querySelector(".tag-blocked").hidden = !blocked;
    const badge = btn.querySelector(".badge");
    badge.textContent = unread > 99 ? "99+" : unread > 0 ? String(unread) : fresh ? "new" : "";
    // Mentions count apart from unread: "@2" beside the unread count.
    btn.querySelector(".mention-badge").textContent = mentioned > 0 ? `@${mentioned > 99 ? "99+" : mentioned}` : "";
    const kind = isDM(name) ? `conversation with ${title}${blocked ? ", blocked" : ""}` : `${name}${room.info.private ? ", private" : ""}${room.info.archived ? ", archived" : ""}`;
    const counts = [unread > 0 ? `${unread} unread` : fresh ? "new" : "", mentioned > 0 ? `${mentioned} mentioning you` : ""].filter(Boolean);
    btn.setAttribute("aria-label", [kind, ...counts].join(", "));
  };
  const joined = roomList().map((r) => r.name);
  const roomNames = joined.filter((n) => !isDM(n));
  keyed(ui.joined, roomNames, makeJoined, updateJoined);
  ui.joinedEmpty.hidden = roomNames.length > 0;
  const dmNames = joined.filter(isDM);
  keyed(ui.dms, dmNames, makeJoined, updateJoined);
  ui.dmEmpty.hidden = dmNames.length > 0;

  const others = directoryNames()
    .filter((n) => !hasRoom(n) && !isDM(n))
    .sort();
  keyed(
    ui.browse,
    others,
    (name) => {
      const btn = el(
        "button",
        { type: "button", class: "room-btn" },
        el("span", { class: "room-icon" }),
        el("span", { class: "room-label" }, el("span", { class: "room-name", text: name }), el("span", { class: "room-topic" })),
        el("span", { class: "online" }),
      );
      btn.addEventListener("click", () => joinAndOpen(name));
      return el("li", {}, btn);
    },
    (li, name) => {
      const info = directoryInfo(name) || {};
      const btn = li.firstChild;
      setIcon(btn, name, info);
      btn.querySelector(".room-topic").textContent = info.topic || "";
      const online = Number.isSafeInteger(info.online) ? info.online : 0;
      btn.querySelector(".online").textContent = online > 0 ? String(online) : "";
      btn.title = `Join #${name}`;
      btn.setAttribute("aria-label", `Join ${name}${info.private ? ", private" : ""}${online ? `, ${online} online` : ""}`);
    },
  );
  ui.browseEmpty.hidden = others.length > 0;

  // The title counts for a user who is not looking: the open room's news
  // too while the tab is in the background.
  const looking = document.visibilityState === "visible";
  let total = 0;
  for (const room of roomList()) if (room !== active || !looking) total += room.unread;
  ui.drawerUnread.hidden = total === 0;
  const where = active ? `${labelOf(active.name, active.info)} — hubbub` : "hubbub";
  document.title = total > 0 ? `(${total}) ${where}` : where;
}

// While the drawer is open it is modal: what it covers (the chat and the
// people list) is inert, and Tab goes round the drawer's own controls.
function setCoveredInert(on) {
  ui.chat.inert = on;
  ui.members.inert = on;
}

function openDrawer() {
  ui.sidebar.classList.add("open");
  ui.backdrop.hidden = false;
  setCoveredInert(true);
  ui.openDrawer.setAttribute("aria-expanded", "true");
  const current = ui.joined.querySelector(".active") || ui.joined.querySelector("button");
  (current || ui.closeDrawer).focus();
}

export function closeDrawer() {
  if (!ui.sidebar.classList.contains("open")) return;
  ui.sidebar.classList.remove("open");
  ui.backdrop.hidden = true;
  setCoveredInert(false);
  ui.openDrawer.setAttribute("aria-expanded", "false");
}

// tabbable lists the controls in root that Tab reaches, in order.
function tabbable(root) {
  return [...root.querySelectorAll("button, input, select, textarea, a[href], [tabindex]")].filter(
    (e) => !e.disabled && e.tabIndex >= 0 && e.getClientRects().length > 0,
  );
}

// wrapTab keeps Tab and Shift+Tab inside the open drawer.
function wrapTab(e) {
  if (e.key !== "Tab" || e.altKey || e.ctrlKey || e.metaKey || !ui.sidebar.classList.contains("open")) return;
  // A dialog opened from the drawer (create a room, a new message) has
  // the focus, and keeps it.
  const at = document.activeElement;
  if (!ui.sidebar.contains(at)) return;
  const list = tabbable(ui.sidebar);
  if (list.length === 0) return;
  const first = list[0];
  const last = list[list.length - 1];
  if (e.shiftKey ? at === first : at === last) {
    e.preventDefault();
    (e.shiftKey ? last : first).focus();
  }
}

// The topics that change what the sidebar shows.
const LISTED = new Set(["active", "rooms", "room", "directory", "me", "messages"]);

// initSidebar wires the drawer and follows the state, once.
export function initSidebar() {
  ui.openDrawer.addEventListener("click", openDrawer);
  ui.closeDrawer.addEventListener("click", () => {
    closeDrawer();
    ui.openDrawer.focus();
  });
  ui.backdrop.addEventListener("click", closeDrawer);
  document.addEventListener("keydown", wrapTab);
  // Grown wide enough for a sidebar: there is no drawer to close.
  window.matchMedia("(max-width: 760px)").addEventListener("change", (e) => {
    if (!e.matches) closeDrawer();
  });
  // The title's count of the open room follows the tab in and out of view.
  document.addEventListener("visibilitychange", renderRoomList);
  subscribe((topic) => {
    if (!LISTED.has(topic)) return;
    renderRoomList();
    if (topic === "active") closeDrawer();
  });
}
