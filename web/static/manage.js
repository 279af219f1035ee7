// Room management for owners and moderators: the Manage dialog (topic,
// invitations, kick, ban, mute, roles) and the little menu on a name in the
// presence list ("Message", "Moderate…", "Block"). The server authorises every
// action; this only offers what the user's role should allow and shows
// the server's refusals.

import { el } from "./dom.js";
import { checkUsername } from "./names.js";
import { sentence } from "./account.js";

const $ = (id) => document.getElementById(id);

const ui = {
  dialog: $("manage-dialog"),
  title: $("manage-title"),
  role: $("manage-role"),
  topicForm: $("topic-form"),
  topicInput: $("topic-input"),
  inviteForm: $("invite-form"),
  inviteUser: $("invite-user"),
  modForm: $("mod-form"),
  modUser: $("mod-user"),
  modReason: $("mod-reason"),
  modMembers: $("mod-members"),
  banFor: $("ban-for"),
  muteFor: $("mute-for"),
  roleParts: [$("role-label"), $("role-gap"), $("role-buttons")],
  status: $("manage-status"),
  close: $("manage-close"),
  members: $("members"),
  menu: $("member-menu"),
  menuMessage: $("mm-message"),
  menuModerate: $("mm-moderate"),
  menuBlock: $("mm-block"),
};

// ctx is the app: request(cmd) sends a command and resolves with its ok;
// room() is the open Room; me() is {name, guest, admin}; toast(text);
// openDM(user); mayDM(user), mayBlock(user) and mayModerate(room) say
// what to offer; isBlocked(user); block(user, on) blocks or unblocks;
// label(room) is how a room is named on screen.
let ctx = null;
let room = null; // the Room the dialog manages
let menuUser = "";
let menuAnchor = null;

// describeSeconds says how long a ban or mute lasts.
export function describeSeconds(s) {
  if (!s) return "until lifted";
  if (s % 86400 === 0) return s === 86400 ? "for 1 day" : `for ${s / 86400} days`;
  if (s % 3600 === 0) return s === 3600 ? "for 1 hour" : `for ${s / 3600} hours`;
  if (s % 60 === 0) return s === 60 ? "for 1 minute" : `for ${s / 60} minutes`;
  return `for ${s} seconds`;
}

export function initManage(app) {
  ctx = app;
  ui.close.addEventListener("click", () => ui.dialog.close());
  ui.dialog.addEventListener("close", () => {
    // The close event is queued: when the dialog was closed and opened
    // again at once, it arrives after the new openManage.
    if (!ui.dialog.open) room = null;
  });

  ui.topicForm.addEventListener("submit", (e) => {
    e.preventDefault();
    const topic = ui.topicInput.value.trim();
    act({ op: "topic", room: room.name, topic }, topic ? "Topic saved." : "Topic cleared.");
  });

  ui.inviteForm.addEventListener("submit", (e) => {
    e.preventDefault();
    const user = ui.inviteUser.value.trim().toLowerCase();
    const err = checkUsername(user);
    if (err) return fail(err, ui.inviteUser);
    act({ op: "invite", room: room.name, user }, `${user} was invited. They will find ${ctx.label(room)} in their room list.`).then((ok) => {
      if (ok) ui.inviteUser.value = "";
    });
  });

  ui.modUser.addEventListener("input", applyRules);
  ui.modForm.addEventListener("submit", (e) => {
    e.preventDefault();
    const op = e.submitter && e.submitter.dataset.op;
    if (!op) return;
    let user = ui.modUser.value.trim();
    if (user === "") return fail("Whom? Enter a name.", ui.modUser);
    const why = refused(room, ctx.me(), op, user);
    if (why) return fail(why, ui.modUser);
    // Account names are lower case; a guest's display name is kept as is,
    // unless it matches someone in the room once lower-cased.
    if (op === "promote" || op === "demote") {
      user = user.toLowerCase();
      const err = checkUsername(user);
      if (err) return fail(`Only accounts can have roles. ${err}`, ui.modUser);
    }
    const cmd = { op, room: room.name, user };
    const reason = ui.modReason.value.trim();
    if (reason && (op === "kick" || op === "ban" || op === "mute")) cmd.reason = reason;
    let done;
    switch (op) {
      case "kick":
        done = `${user} was removed from ${ctx.label(room)}.`;
        break;
      case "ban": {
        const s = Number(ui.banFor.value);
        if (s > 0) cmd.seconds = s;
        done = `${user} is banned ${describeSeconds(s)}.`;
        break;
      }
      case "unban":
        done = `${user} may join again.`;
        break;
      case "mute": {
        const s = Number(ui.muteFor.value);
        if (s > 0) cmd.seconds = s;
        done = `${user} is muted ${describeSeconds(s)}.`;
        break;
      }
      case "unmute":
        done = `${user} may write again.`;
        break;
      case "promote":
        done = `${user} is now a moderator.`;
        break;
      case "demote":
        done = `${user} is now a member.`;
        break;
    }
    act(cmd, done);
  });

  // The presence list menu.
  ui.menuMessage.addEventListener("click", () => {
    const user = menuUser;
    closeMemberMenu(false);
    ctx.openDM(user);
  });
  ui.menuModerate.addEventListener("click", () => {
    if (ui.menuModerate.getAttribute("aria-disabled") === "true") {
      ctx.toast(ui.menuModerate.title); // a tooltip does not show on a touch screen
      return;
    }
    const user = menuUser;
    closeMemberMenu(false);
    openManage(ctx.room(), user);
  });
  ui.menuBlock.addEventListener("click", () => {
    const user = menuUser;
    closeMemberMenu(true);
    ctx.block(user, !ctx.isBlocked(user));
  });
  document.addEventListener("click", (e) => {
    if (!ui.menu.hidden && !ui.menu.contains(e.target) && e.target !== menuAnchor && !menuAnchor?.contains(e.target)) {
      closeMemberMenu(false);
    }
  });
  ui.menu.addEventListener("keydown", (e) => {
    if (e.key === "Escape") {
      e.stopPropagation();
      closeMemberMenu(true);
    } else if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      const items = [...ui.menu.querySelectorAll(".menu-item:not([hidden])")];
      const i = items.indexOf(document.activeElement);
      const next = items[(i + (e.key === "ArrowDown" ? 1 : items.length - 1)) % items.length];
      if (next) next.focus();
    }
  });
}

// The ops that act on the person named in the mod form, as the server
// ranks authority (internal/server/moderation.go, rank): an administrator
// above the owner above moderators above members.
const MOD_OPS = ["kick", "ban", "unban", "mute", "unmute"];
const rankOf = (role) => ({ admin: 4, owner: 3, moderator: 2, member: 1 })[role] || 0;

// roleIn is the role of the account key in r as far as the client knows:
// "admin" for a server administrator (a public room's staff names them),
// else from the join reply (a private room's roster, a public room's owner
// and staff) and the role entries since.
const roleIn = (r, key) => (r.admins.has(key) ? "admin" : r.roles.get(key) || (key === r.owner ? "owner" : ""));
const roleText = (role) => (role === "owner" ? "the owner" : role === "admin" ? "a server administrator" : `a ${role}`);

// refused says why the user may not do op to target in r, by the server's
// rules, or "" if they may as far as the client knows: nobody acts on
// themselves, nor on anyone of their rank or above (a moderator on the
// owner or another moderator; anyone, an administrator included, on an
// administrator), and nobody, an administrator included, kicks or bans
// the owner. A role the client does not know (an administrator in a
// private room, whose roster does not name them; a change made on another
// server node a moment ago) is the server's to refuse, which it still
// does.
export function refused(r, me, op, target) {
  const who = target.trim();
  if (!r || !who || !MOD_OPS.includes(op)) return "";
  const key = who.toLowerCase(); // account names are lower case
  if (key === me.name.toLowerCase()) return "That is you.";
  const role = roleIn(r, key);
  if ((op === "kick" || op === "ban") && role === "owner") {
    return `${key} owns ${ctx.label(r)}: nobody may remove them from it.`;
  }
  const mine = me.admin ? 4 : rankOf(r.info.role);
  if (rankOf(role) >= mine) return `You may not do that to ${key}: they are ${roleText(role)} here.`;
  return "";
}

// moderateRefused says why the user, who may moderate r, may do nothing
// to user there (Moderate… in the member menu), or "" if they may do
// something: an owner or administrator may at least change roles; a
// moderator nothing to the owner or another moderator.
function moderateRefused(r, me, user) {
  if (me.admin || r.info.role === "owner") return "";
  if (MOD_OPS.some((op) => refused(r, me, op, user) === "")) return "";
  const key = user.toLowerCase();
  return `You may not moderate ${key}: they are ${roleText(roleIn(r, key))} here.`;
}

// setOffered shows a menu item as usable, or greyed out with why not as
// its tooltip (it stays focusable, so that the reason can be read).
function setOffered(item, why) {
  if (why) {
    item.setAttribute("aria-disabled", "true");
    item.title = why;
  } else {
    item.removeAttribute("aria-disabled");
    item.removeAttribute("title");
  }
}

// applyRules disables the buttons of the ops the user may not do to the
// person the mod form names, each with the reason as its title.
function applyRules() {
  if (!room) return;
  const me = ctx.me();
  for (const b of ui.modForm.querySelectorAll("button[data-op]")) {
    const why = refused(room, me, b.dataset.op, ui.modUser.value);
    b.disabled = why !== "";
    b.title = why;
  }
}

// act sends cmd and reports how it went; it resolves with whether it worked.
async function act(cmd, done) {
  if (!room) return false;
  const buttons = [...ui.dialog.querySelectorAll("button[type=submit]")];
  for (const b of buttons) b.disabled = true;
  try {
    await ctx.request(cmd);
    ui.status.classList.remove("error");
    ui.status.textContent = done;
    return true;
  } catch (err) {
    const why = sentence(err.reason || err.message || err.code || "that did not work");
    ui.status.classList.add("error");
    ui.status.textContent = why;
    ctx.toast(why);
    return false;
  } finally {
    for (const b of buttons) b.disabled = false;
    applyRules();
  }
}

function fail(text, input) {
  ui.status.classList.add("error");
  ui.status.textContent = text;
  input.focus();
  return false;
}

// openManage opens the dialog for r, with user filled in (from the
// presence list) if given.
export function openManage(r, user = "") {
  if (!r) return;
  room = r;
  const info = r.info;
  const role = info.role || "";
  ui.title.textContent = `Manage ${ctx.label(r)}`;
  ui.role.textContent =
    role === "owner"
      ? "You own this room: you may do everything here, and choose moderators."
      : role === "moderator"
        ? "You are a moderator here: you may do everything except change roles, and not to the owner or other moderators."
        : ctx.me().admin
          ? "You are a server administrator: you may do everything here."
          : "";
  ui.topicInput.value = info.topic || "";
  ui.inviteForm.hidden = !info.private;
  ui.inviteUser.value = "";
  ui.modUser.value = user;
  ui.modReason.value = "";
  const ownerPowers = role === "owner" || ctx.me().admin;
  for (const part of ui.roleParts) part.hidden = !ownerPowers;
  ui.modMembers.replaceChildren(
    ...[...r.members].filter((m) => m !== ctx.me().name).sort().map((m) => el("option", { value: m })),
  );
  ui.status.textContent = "";
  ui.status.classList.remove("error");
  applyRules();
  if (!ui.dialog.open) ui.dialog.showModal();
  (user ? ui.modReason : ui.topicInput).focus();
}

// refreshManage updates the dialog after news about its room (a topic or
// role change), if it is open.
export function refreshManage(r) {
  if (room !== r || !ui.dialog.open) return;
  const role = r.info.role || "";
  if (role !== "owner" && role !== "moderator" && !ctx.me().admin) {
    ui.dialog.close();
    return;
  }
  const ownerPowers = role === "owner" || ctx.me().admin;
  for (const part of ui.roleParts) part.hidden = !ownerPowers;
  applyRules();
}

export function closeManage(r) {
  if (ui.dialog.open && (r === undefined || room === r)) ui.dialog.close();
}

// openMemberMenu offers what can be done with user, next to the anchor
// element of the presence list. It reports whether there was anything.
export function openMemberMenu(anchor, user) {
  const r = ctx.room();
  const canDM = ctx.mayDM(user);
  const canMod = !!r && ctx.mayModerate(r);
  const canBlock = ctx.mayBlock(user);
  if (!canDM && !canMod && !canBlock) return false;
  menuUser = user;
  menuAnchor = anchor;
  ui.menuMessage.hidden = !canDM;
  ui.menuModerate.hidden = !canMod;
  setOffered(ui.menuModerate, canMod ? moderateRefused(r, ctx.me(), user) : "");
  ui.menuMessage.textContent = `Message ${user}`;
  ui.menuBlock.hidden = !canBlock;
  ui.menuBlock.textContent = ctx.isBlocked(user) ? `Unblock ${user}` : `Block ${user}`;
  const box = ui.members.getBoundingClientRect();
  const at = anchor.getBoundingClientRect();
  ui.menu.style.top = `${Math.round(at.bottom - box.top + 2)}px`;
  ui.menu.hidden = false;
  anchor.setAttribute("aria-expanded", "true");
  ui.menu.querySelector(".menu-item:not([hidden])").focus();
  return true;
}

export function closeMemberMenu(refocus) {
  if (ui.menu.hidden) return;
  ui.menu.hidden = true;
  if (menuAnchor) {
    menuAnchor.setAttribute("aria-expanded", "false");
    if (refocus) menuAnchor.focus();
  }
  menuAnchor = null;
}
