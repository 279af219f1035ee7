// Presence and typing: the member list of the open room (with roles,
// mutes and a menu on each name), who is typing there, and telling the
// room that the user is typing.

import { avatar, el, keyed } from "./dom.js";
import { closeMemberMenu, openMemberMenu } from "./manage.js";
import { ui } from "./ui.js";
import { active, conn, mayDM, mayModerate, me } from "./state.js";

export const TYPING_EVERY_MS = 3000;
export const TYPING_SHOWN_MS = 5000;
export const TYPING_AFTER_SEND_MS = 1500;

// sendTyping tells the room that the user is typing, at most once every
// TYPING_EVERY_MS; input within that time is announced when it ends.
export function sendTyping(room) {
  const now = Date.now();
  const wait = room.lastTypingSent + TYPING_EVERY_MS - now;
  if (wait > 0) {
    if (!room.typingTimer) {
      room.typingTimer = setTimeout(() => {
        room.typingTimer = 0;
        if (room.lastInputAt > room.lastTypingSent && room.draft.trim() !== "") sendTyping(room);
      }, wait);
    }
    return;
  }
  if (room.joined && conn && conn.notify({ op: "typing", room: room.name })) room.lastTypingSent = now;
}

export function renderMembers() {
  const room = active;
  const list = room ? [...room.members].sort((a, b) => a.localeCompare(b)) : [];
  ui.memberCount.textContent = String(list.length);
  const canMod = mayModerate(room);
  keyed(
    ui.memberList,
    list,
    (name) => el("li", { class: "member" }),
    (li, name) => {
      // A name is a button when there is something to do with it.
      const actionable = name !== me.name && (canMod || mayDM(name));
      const role = room.roles.get(name) || "";
      const mutedUntil = room.muted.get(name) || 0;
      const tags = [
        name === me.name ? "you" : "",
        role === "owner" ? "owner" : role === "moderator" ? "mod" : "",
        mutedUntil > Date.now() ? "muted" : "",
      ].filter(Boolean);
      const key = `${actionable} ${tags.join(",")}`;
      if (li.dataset.render === key) return;
      li.dataset.render = key;
      const label = actionable
        ? el("button", { type: "button", class: "member-name member-btn", "aria-haspopup": "menu", "aria-expanded": "false", title: `Actions for ${name}`, text: name })
        : el("span", { class: "member-name", text: name });
      if (actionable) {
        label.addEventListener("click", () => {
          if (label.getAttribute("aria-expanded") === "true") closeMemberMenu(true);
          else openMemberMenu(label, name);
        });
      }
      li.replaceChildren(avatar(name), label, ...tags.map((t) => el("span", { class: `tag tag-${t}`, text: t })));
    },
  );
}

export function renderTyping() {
  const who = active ? active.activeTypists() : [];
  let text = "";
  if (who.length === 1) text = `${who[0]} is typing…`;
  else if (who.length === 2) text = `${who[0]} and ${who[1]} are typing…`;
  else if (who.length > 2) text = "Several people are typing…";
  if (ui.typing.textContent !== text) ui.typing.textContent = text;
  ui.typing.classList.toggle("on", text !== "");
}

export function setMembersOpen(open) {
  ui.app.classList.toggle("members-open", open);
  ui.app.classList.toggle("members-closed", !open);
  ui.toggleMembers.setAttribute("aria-expanded", String(open));
}

function membersOpen() {
  return ui.app.classList.contains("members-open") ||
    (!ui.app.classList.contains("members-closed") && window.matchMedia("(min-width: 1200px)").matches);
}

// initPresence wires the member panel's buttons, once.
export function initPresence() {
  ui.toggleMembers.addEventListener("click", () => setMembersOpen(!membersOpen()));
  ui.closeMembers.addEventListener("click", () => {
    setMembersOpen(false);
    ui.toggleMembers.focus();
  });
}
