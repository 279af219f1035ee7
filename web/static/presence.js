// Presence and typing: the member list of the open room (with roles,
// mutes and a menu on each name) and who is typing there.

import { avatar, el, keyed } from "./dom.js";
import { closeMemberMenu, openMemberMenu } from "./manage.js";
import { ui } from "./ui.js";
import { getActive, getMe, isBlocked, mayDM, mayModerate, subscribe } from "./state.js";

export function renderMembers() {
  const room = getActive();
  const me = getMe().name;
  // A private room lists everyone who belongs to it, online ones first;
  // a public room, who is here. Each group lists the staff first, as IRC
  // clients do: the server's administrators, the owner, the moderators.
  const online = room ? room.members : new Set();
  const names = room ? new Set([...online, ...(room.roster || [])]) : new Set();
  const list = [...names].sort((a, b) => (online.has(b) - online.has(a)) || staffRank(room, a) - staffRank(room, b) || a.localeCompare(b));
  ui.memberCount.textContent = String(online.size);
  ui.memberCountNoun.textContent = online.size === 1 ? " person here" : " people here";
  const canMod = mayModerate(room);
  keyed(
    ui.memberList,
    list,
    (name) => el("li", { class: "member" }),
    (li, name) => {
      // A name is a button when there is something to do with it.
      const actionable = name !== me && (canMod || mayDM(name));
      const role = room.admins.has(name) ? "admin" : room.roles.get(name) || "";
      const mutedUntil = room.muted.get(name) || 0;
      const away = !online.has(name);
      const tags = [
        name === me ? "you" : "",
        away ? "away" : "",
        role === "admin" ? "admin" : role === "owner" ? "owner" : role === "moderator" ? "mod" : "",
        mutedUntil > Date.now() ? "muted" : "",
        name !== me && isBlocked(name) ? "blocked" : "",
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
      li.classList.toggle("away", away);
      li.replaceChildren(avatar(name), label, ...tags.map((t) => el("span", { class: `tag tag-${t}`, text: t })));
    },
  );
}

// staffRank orders the member list: administrators, the owner, the
// moderators, everyone else.
function staffRank(room, name) {
  if (room.admins.has(name)) return 0;
  const role = room.roles.get(name);
  return role === "owner" ? 1 : role === "moderator" ? 2 : 3;
}

export function renderTyping() {
  const active = getActive();
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

// initPresence wires the member panel's buttons and follows the state, once.
export function initPresence() {
  // On a wide window the list is open until closed: the button says so,
  // and follows the window across the width where that changes.
  const wide = window.matchMedia("(min-width: 1200px)");
  const sayOpen = () => ui.toggleMembers.setAttribute("aria-expanded", String(membersOpen()));
  sayOpen();
  wide.addEventListener("change", sayOpen);
  ui.toggleMembers.addEventListener("click", () => setMembersOpen(!membersOpen()));
  ui.closeMembers.addEventListener("click", () => {
    setMembersOpen(false);
    ui.toggleMembers.focus();
  });
  subscribe((topic, room) => {
    const active = getActive();
    if (topic === "active") {
      renderMembers();
      renderTyping();
    } else if (topic === "me" || ((topic === "members" || topic === "room") && room === active)) {
      renderMembers();
    } else if ((topic === "typing" || topic === "messages") && (room === active || room === null)) {
      renderTyping();
    }
  });
}
