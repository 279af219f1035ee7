// What the user does to a message on screen: the toolbar each message
// shows on hover or focus (react, reply, edit, delete), the reaction
// picker, a click on a reaction (toggles the user's), the confirmation of a
// deletion, a click on a reply's quote (goes to the message answered), and
// the keys that reach a message and its actions without a mouse. One
// listener on the message list serves every room (data-action).

import { ui } from "./ui.js";
import { getActive, getMe, mayModerate, roomList, setCompose, subscribe } from "./state.js";
import { deleteMessage, react } from "./msgops.js";
import { startEditing } from "./composer.js";
import { revealMessage } from "./view.js";

let picking = null; // {room, seq, li} while the reaction picker is open
let deleting = null; // {room, seq} while the deletion waits for confirmation

function openPicker(room, seq, li, anchor) {
  closePicker();
  picking = { room, seq, li };
  li.classList.add("picking");
  ui.picker.hidden = false;
  const r = anchor.getBoundingClientRect();
  const w = ui.picker.offsetWidth;
  ui.picker.style.top = `${Math.max(8, r.top - ui.picker.offsetHeight - 6)}px`;
  ui.picker.style.left = `${Math.max(8, Math.min(r.right - w, window.innerWidth - w - 8))}px`;
  ui.picker.querySelector("button").focus();
}

function closePicker() {
  if (!picking) return;
  picking.li.classList.remove("picking");
  picking = null;
  ui.picker.hidden = true;
}

function askDelete(room, seq) {
  const m = room.message(seq);
  if (!m || m.deleted) return;
  deleting = { room, seq };
  ui.deletePreview.textContent = `${m.from}: ${m.body.length > 300 ? `${m.body.slice(0, 300)}…` : m.body}`;
  ui.deleteDialog.showModal();
  ui.deleteCancel.focus();
}

function onClick(e) {
  const btn = e.target.closest("[data-action]");
  const li = e.target.closest("li.msg");
  const room = getActive();
  if (!btn || !li || !room || !ui.host.contains(li)) return;
  const seq = Number(li.dataset.seq);
  if (!Number.isSafeInteger(seq) || li.dataset.state === "sending" || li.dataset.state === "failed") return;
  switch (btn.dataset.action) {
    case "pick":
      if (picking && picking.li === li) closePicker();
      else openPicker(room, seq, li, btn);
      return;
    case "react":
      react(room, seq, btn.dataset.emoji);
      return;
    case "reply":
      setCompose(room, { kind: "reply", seq });
      ui.input.focus();
      return;
    case "edit":
      startEditing(room, seq);
      return;
    case "delete":
      askDelete(room, seq);
      return;
    case "jump": {
      const to = Number(btn.dataset.seq);
      if (Number.isSafeInteger(to)) revealMessage(room, to);
      return;
    }
  }
}

// inView returns the newest message of room's list whose top is above the
// bottom of the scroller (the last one on screen), or the newest message.
function inView(room) {
  const bottom = ui.scroller.getBoundingClientRect().bottom;
  const all = room.list.querySelectorAll("li.msg");
  for (let i = all.length - 1; i >= 0; i--) if (all[i].getBoundingClientRect().top < bottom) return all[i];
  return all[all.length - 1] || null;
}

// step returns the message before (dir -1) or after (dir 1) li, or null.
function step(li, dir) {
  for (let n = dir < 0 ? li.previousElementSibling : li.nextElementSibling; n; n = dir < 0 ? n.previousElementSibling : n.nextElementSibling) {
    if (n.matches("li.msg")) return n;
  }
  return null;
}

// focusMessage puts the keyboard's focus on the message li. It is made
// focusable for that moment only: a click on a message leaves the focus on
// the list as before (where the arrow keys scroll).
function focusMessage(li) {
  li.tabIndex = -1;
  li.addEventListener("blur", () => li.removeAttribute("tabindex"), { once: true });
  li.focus({ preventScroll: true });
  li.scrollIntoView({ block: "nearest" });
}

// onKeydown lets the keyboard reach messages and their actions, which
// show on hover or when focus is in the message: Tab from the message
// list goes to the last message on screen, ↑ and ↓ move between messages,
// and Tab from a message goes on to its actions.
function onKeydown(e) {
  const room = getActive();
  if (!room || e.altKey || e.ctrlKey || e.metaKey) return;
  if (e.key === "Tab" && !e.shiftKey && e.target === ui.scroller) {
    const li = inView(room);
    if (li) {
      e.preventDefault();
      focusMessage(li);
    }
    return;
  }
  if ((e.key === "ArrowUp" || e.key === "ArrowDown") && !e.shiftKey && e.target instanceof Element && e.target.matches("li.msg")) {
    e.preventDefault();
    const next = step(e.target, e.key === "ArrowUp" ? -1 : 1);
    if (next) focusMessage(next);
  }
}

// markModerator lets the rooms where the user may delete anyone's message
// show Delete on every message.
function markModerator(room) {
  room.list.classList.toggle("can-moderate", mayModerate(room));
}

// initActions wires the message actions, once.
export function initActions() {
  ui.host.addEventListener("click", onClick);
  ui.scroller.addEventListener("keydown", onKeydown);
  ui.picker.addEventListener("click", (e) => {
    const b = e.target.closest("button[data-emoji]");
    if (!b || !picking) return;
    const { room, seq } = picking;
    closePicker();
    react(room, seq, b.dataset.emoji);
  });
  ui.picker.addEventListener("keydown", (e) => {
    if (e.key === "Escape") {
      e.stopPropagation();
      const li = picking && picking.li;
      closePicker();
      if (li) li.querySelector(".act-pick").focus();
    }
  });
  document.addEventListener("pointerdown", (e) => {
    if (picking && !ui.picker.contains(e.target) && !e.target.closest(".act-pick")) closePicker();
  });
  ui.scroller.addEventListener("scroll", closePicker, { passive: true });
  ui.deleteCancel.addEventListener("click", () => ui.deleteDialog.close());
  ui.deleteForm.addEventListener("submit", (e) => {
    e.preventDefault();
    ui.deleteDialog.close();
    if (!deleting) return;
    const { room, seq } = deleting;
    deleting = null;
    deleteMessage(room, seq);
  });
  ui.deleteDialog.addEventListener("close", () => {
    deleting = null;
  });
  subscribe((topic, room) => {
    if (topic === "active") closePicker();
    if ((topic === "room" || topic === "rooms") && room) markModerator(room);
    if (topic === "me") for (const r of roomList()) markModerator(r);
    if (topic === "rooms" && room && getMe().name && picking && picking.room === room) closePicker();
  });
}
