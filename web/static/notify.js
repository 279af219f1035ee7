// Desktop notifications for mentions: when someone mentions the user in a
// room that is not in front of them (another room is open, or the page is
// hidden), the browser shows a notification, unless the user turned them
// off for that room. Permission is asked only from the visible "Notify me"
// button in the room header, never on load. The rooms with notifications
// off are remembered in localStorage.

import { ui } from "./ui.js";
import { getActive, getMe, isBlocked, labelOf, setActive, subscribe } from "./state.js";
import { mentionsUser } from "./markdown.js";

const OFF_KEY = "hubbub.v1.notify-off"; // JSON array of room names
const MAX_OFF = 500; // rooms remembered

const supported = () => typeof window.Notification === "function";

function readOff() {
  try {
    const v = JSON.parse(localStorage.getItem(OFF_KEY) || "[]");
    return new Set(Array.isArray(v) ? v.filter((x) => typeof x === "string").slice(0, MAX_OFF) : []);
  } catch {
    return new Set();
  }
}

let off = readOff();

// notificationsOff reports whether the user turned notifications off in
// the room called name.
export const notificationsOff = (name) => off.has(name);

function setOff(name, value) {
  if (value) off.add(name);
  else off.delete(name);
  try {
    localStorage.setItem(OFF_KEY, JSON.stringify([...off].slice(-MAX_OFF)));
  } catch {
    // storage disabled: the choice lasts until reload
  }
}

// renderNotifyButton shows, for the open room, what the button would do:
// ask for permission, or turn this room's notifications off or on. It is
// hidden where the browser has no notifications or refused them.
function renderNotifyButton() {
  const room = getActive();
  const btn = ui.notifyRoom;
  const perm = supported() ? Notification.permission : "denied";
  btn.hidden = !room || perm === "denied";
  if (btn.hidden) return;
  if (perm === "default") {
    btn.textContent = "Notify me";
    btn.title = "Get a desktop notification when someone mentions you";
    btn.removeAttribute("aria-pressed");
    return;
  }
  const isOff = off.has(room.name);
  btn.textContent = isOff ? "Notifications off" : "Notifications on";
  btn.title = isOff ? `Notify me of mentions in ${labelOf(room.name, room.info)}` : `Stop notifications of mentions in ${labelOf(room.name, room.info)}`;
  btn.setAttribute("aria-pressed", String(!isOff));
}

async function clickNotify() {
  const room = getActive();
  if (!room || !supported()) return;
  if (Notification.permission === "default") {
    try {
      await Notification.requestPermission();
    } catch {
      // an old browser's callback form: nothing to do
    }
  } else if (Notification.permission === "granted") {
    setOff(room.name, !off.has(room.name));
  }
  renderNotifyButton();
}

// notifyMentions raises a notification for the newest message of added
// that mentions the user, when the room is not in front of the user.
function notifyMentions(room, added) {
  if (!supported() || Notification.permission !== "granted" || off.has(room.name)) return;
  if (room === getActive() && document.visibilityState === "visible") return;
  const me = getMe().name;
  // No word of the accounts the user blocks (a guest by such a name is not them).
  const hits = added.filter((m) => m.from !== me && (m.guest || !isBlocked(m.from)) && typeof m.body === "string" && mentionsUser(m.body, me));
  if (hits.length === 0) return;
  const m = hits[hits.length - 1];
  try {
    const n = new Notification(`${m.from} in ${labelOf(room.name, room.info)}`, {
      body: m.body.slice(0, 200),
      tag: `hubbub:${room.name}`, // one per room: a newer mention replaces the older
    });
    n.addEventListener("click", () => {
      window.focus();
      setActive(room);
      n.close();
    });
  } catch (err) {
    console.warn("hubbub: notification", err);
  }
}

// initNotify wires the header's button and follows the state, once.
export function initNotify() {
  ui.notifyRoom.addEventListener("click", clickNotify);
  window.addEventListener("storage", (e) => {
    if (e.key === OFF_KEY) {
      off = readOff();
      renderNotifyButton();
    }
  });
  subscribe((topic, room, detail) => {
    if (topic === "active" || topic === "me") renderNotifyButton();
    else if (topic === "messages" && detail.live && detail.added.length) notifyMentions(room, detail.added);
  });
}
