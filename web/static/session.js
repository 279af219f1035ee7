// Who the user is: the start (ask the server who the cookie signs in,
// then the chat or the welcome screen), entering and leaving the chat as
// an account or a guest, finding out that a session ended, logging out,
// and the account menu with its password and account deletion dialogs.

import { Close, Connection } from "./conn.js";
import { Saved, lastMode, setLastMode } from "./storage.js";
import { clearDrafts } from "./drafts.js";
import { clearOutbox } from "./outbox.js";
import { avatar } from "./dom.js";
import { logout as apiLogout, changePassword, deleteAccount, describe, getSession } from "./account.js";
import { DEFAULT_ROOM, checkPassword, isRoomName } from "./names.js";
import { hideWelcome, setGuestsAllowed, setNotice, showWelcome } from "./welcome.js";
import { closeManage, closeMemberMenu } from "./manage.js";
import { hideToast, toast, ui } from "./ui.js";
import * as state from "./state.js";
import { makeHandshake, onClosed } from "./lifecycle.js";
import { addRoom } from "./rooms.js";

const SESSION_RETRY_MAX_MS = 10_000;
export const SIGNED_OUT = "You were signed out. Log in again to continue.";

let guestsAllowed = true;

export async function boot() {
  for (let attempt = 0; ; attempt++) {
    let s;
    try {
      s = await getSession();
    } catch {
      if (attempt === 0) showWelcome({ tab: defaultTab(), notice: "Cannot reach the server. Retrying…" });
      await new Promise((r) => setTimeout(r, Math.min(SESSION_RETRY_MAX_MS, 1000 * 2 ** attempt)));
      continue;
    }
    setGuests(s.guests);
    if (s.self) return enterChat({ name: s.self.name, guest: false, admin: s.self.admin });
    const guest = new Saved(null);
    if (guestsAllowed && guest.name && lastMode() !== "account") return enterChat({ name: guest.name, guest: true });
    if (attempt > 0) setNotice("");
    return showWelcome({ tab: defaultTab(), guestName: guest.name });
  }
}

function defaultTab() {
  return lastMode() === "account" || !guestsAllowed ? "login" : "guest";
}

function setGuests(allowed) {
  guestsAllowed = allowed;
  setGuestsAllowed(allowed);
}

// enterChat shows the chat as identity ({name, guest, admin}): the rooms
// this browser remembers for it, then a connection.
export function enterChat(identity) {
  leaveChat();
  state.setIdentity(identity);
  const me = state.getMe();
  const saved = state.getSaved();
  const fresh = state.isFirstListing();
  setLastMode(me.guest ? "guest" : "account");
  for (const r of saved.rooms) {
    if (isRoomName(r.name) && !state.hasRoom(r.name)) addRoom(r.name, r.seen, false);
  }
  if (fresh && state.roomCount() === 0) addRoom(DEFAULT_ROOM, null, false);
  hideWelcome();
  ui.app.hidden = false;
  state.setActive(state.getRoom(saved.active) || state.roomList()[0] || null);
  const c = new Connection({ precheck, handshake });
  state.setConn(c);
  c.addEventListener("state", (e) => {
    if (state.getConn() === c) state.setStatus(e.detail);
  });
  c.addEventListener("event", (e) => {
    if (state.getConn() === c) state.dispatch(e.detail);
  });
  c.addEventListener("closed", (e) => {
    if (state.getConn() !== c) return;
    onClosed();
    // 1008 is how the server ends a socket whose session ended (logout or
    // a password change elsewhere): find out now rather than reconnect.
    if (e.detail.code === Close.policy && !state.getMe().guest) recheckSession(c);
  });
  c.start();
}

const handshake = makeHandshake({
  onNameRefused: (name, why) => {
    leaveChat();
    ui.app.hidden = true;
    showWelcome({ tab: "guest", guestName: name, guestError: why });
  },
  onSignedOut: () => signedOut(SIGNED_OUT),
});

// leaveChat closes the connection and forgets the rooms on screen (not
// what is saved).
export function leaveChat() {
  const c = state.getConn();
  if (c) c.stop();
  closeMenus();
  for (const d of [ui.createDialog, ui.dmDialog, ui.passwordDialog, ui.accountDeleteDialog]) if (d.open) d.close();
  closeManage();
  hideToast();
  state.clearChat();
}

// signedOut leaves the chat for the welcome screen, with notice. When the
// server ended the session (not the user), the login form has the name.
// The user's drafts go (drafts.js), and the messages kept unsent
// (outbox.js): whoever uses this tab next, as someone else or not signed
// in, finds none, and no reload sends them.
export function signedOut(notice, { forgetName = false } = {}) {
  const me = state.getMe();
  const name = me.guest || forgetName ? "" : me.name;
  clearDrafts();
  clearOutbox();
  leaveChat();
  ui.app.hidden = true;
  state.forgetIdentity();
  showWelcome({ tab: "login", notice, loginName: name });
}

// recheckSession asks the server whether the session of connection c is
// still good, and signs out if not.
async function recheckSession(c) {
  let s;
  try {
    s = await getSession();
  } catch {
    return; // not reachable: the reconnect's precheck asks again
  }
  if (state.getConn() !== c || state.getMe().guest) return;
  setGuests(s.guests);
  if (!s.self || s.self.name !== state.getMe().name) signedOut(SIGNED_OUT);
}

// precheck runs before every connection attempt. A browser cannot read the
// status of a refused WebSocket handshake, so ask the account API whether
// the socket would be what we think it is.
async function precheck(c) {
  const s = await getSession(); // a failure counts as a failed attempt
  if (c !== state.getConn()) throw new Error("replaced"); // the user moved on meanwhile
  setGuests(s.guests);
  const me = state.getMe();
  const fatal = (message, then) => {
    setTimeout(then, 0);
    const err = new Error(message);
    err.fatal = true;
    return err;
  };
  // The server would refuse this page's origin: retrying cannot help, so
  // say so and stop (the banner shows the reason of a stopped connection).
  if (s.originRefused) throw fatal(s.originRefused, () => {});
  if (me.guest) {
    if (s.self) {
      // Signed in meanwhile (in another tab): the cookie now speaks for
      // an account, whatever name this tab would give.
      const self = s.self;
      throw fatal("signed in elsewhere", () => enterChat({ name: self.name, guest: false, admin: self.admin }));
    }
    if (!s.guests) throw fatal("guests are not allowed", () => signedOut("This server no longer allows guests. Log in or create an account."));
  } else if (!s.self || s.self.name !== me.name) {
    throw fatal("signed out", () => signedOut(SIGNED_OUT));
  } else {
    state.updateMe({ admin: s.self.admin });
  }
}

async function logOut() {
  closeMenus();
  const c = state.getConn();
  if (c) c.stop(); // so that the server's 1008 is not taken for news
  try {
    await apiLogout();
  } catch (err) {
    toast(`Could not log out: ${describe(err)}`);
    if (c && state.getConn() === c) c.start();
    return;
  }
  state.getSaved().remove(); // this user's rooms are nobody else's business
  signedOut("You are logged out.", { forgetName: true });
}

// leaveForWelcome stops chatting as a guest and shows the welcome screen.
function leaveForWelcome(tab) {
  closeMenus();
  const name = state.getMe().name;
  leaveChat();
  ui.app.hidden = true;
  showWelcome({ tab, guestName: name });
}

function renderMe() {
  const me = state.getMe();
  ui.meName.textContent = me.name;
  ui.meKind.textContent = me.guest ? "guest" : "signed in";
  ui.meAdmin.hidden = !me.admin;
  ui.meAvatar.replaceWith((ui.meAvatar = avatar(me.name || "?", "avatar-me")));
  ui.meAvatar.id = "me-avatar";
  ui.menuPassword.hidden = me.guest;
  ui.menuLogout.hidden = me.guest;
  ui.menuDeleteAccount.hidden = me.guest;
  ui.menuChangeName.hidden = !me.guest;
  ui.menuSignIn.hidden = !me.guest;
  ui.dmSection.hidden = me.guest;
  ui.createPrivateRow.hidden = me.guest;
}

// The account menu in the sidebar's footer.
function toggleMenu() {
  const open = ui.meMenu.hidden;
  ui.meMenu.hidden = !open;
  ui.meMenuBtn.setAttribute("aria-expanded", String(open));
  if (open) ui.meMenu.querySelector(".menu-item:not([hidden])").focus();
}

export function closeMenus() {
  if (!ui.meMenu.hidden) {
    ui.meMenu.hidden = true;
    ui.meMenuBtn.setAttribute("aria-expanded", "false");
  }
  closeMemberMenu(false);
}

function openPasswordDialog() {
  closeMenus();
  ui.passwordForm.reset();
  ui.passwordUser.value = state.getMe().name; // for password managers
  ui.passwordError.textContent = "";
  ui.passwordDialog.showModal();
  ui.passwordOld.focus();
}

async function submitPassword(e) {
  e.preventDefault();
  const submit = ui.passwordForm.querySelector('button[type="submit"]');
  if (submit.disabled) return;
  const oldPw = ui.passwordOld.value;
  const newPw = ui.passwordNew.value;
  ui.passwordError.textContent = "";
  if (oldPw === "") {
    ui.passwordError.textContent = "Please enter your current password.";
    ui.passwordOld.focus();
    return;
  }
  const err = checkPassword(newPw);
  if (err) {
    ui.passwordError.textContent = err;
    ui.passwordNew.focus();
    return;
  }
  submit.disabled = true;
  try {
    await changePassword(oldPw, newPw);
  } catch (err) {
    if (err.code === "unauthorized") {
      signedOut(SIGNED_OUT);
      return;
    }
    ui.passwordError.textContent = describe(err);
    (err.code === "bad_credentials" ? ui.passwordOld : ui.passwordNew).select();
    return;
  } finally {
    submit.disabled = false;
  }
  ui.passwordDialog.close();
  ui.passwordForm.reset();
  toast("Password changed. Your other sessions were signed out.");
}

function openAccountDeleteDialog() {
  closeMenus();
  ui.accountDeleteForm.reset();
  ui.accountDeleteUser.value = state.getMe().name; // for password managers
  ui.accountDeleteError.textContent = "";
  ui.accountDeleteDialog.showModal();
  ui.accountDeletePassword.focus();
}

async function submitAccountDelete(e) {
  e.preventDefault();
  const submit = ui.accountDeleteForm.querySelector('button[type="submit"]');
  if (submit.disabled) return;
  const pw = ui.accountDeletePassword.value;
  ui.accountDeleteError.textContent = "";
  if (pw === "") {
    ui.accountDeleteError.textContent = "Please enter your password.";
    ui.accountDeletePassword.focus();
    return;
  }
  const c = state.getConn();
  submit.disabled = true;
  try {
    if (c) c.stop(); // so that the server's 1008 is not taken for news
    await deleteAccount(pw);
  } catch (err) {
    if (err.code === "unauthorized") {
      signedOut(SIGNED_OUT);
      return;
    }
    if (c && state.getConn() === c) c.start();
    ui.accountDeleteError.textContent = describe(err);
    ui.accountDeletePassword.select();
    return;
  } finally {
    submit.disabled = false;
  }
  ui.accountDeleteDialog.close();
  state.getSaved().remove(); // the rooms of an account that is gone
  signedOut("Your account was deleted. Your messages stay, under your name.", { forgetName: true });
}

// initSession wires the account menu and the password dialog, and shows
// who the user is, once.
export function initSession() {
  state.subscribe((topic) => {
    if (topic === "me") renderMe();
  });
  ui.meMenuBtn.addEventListener("click", toggleMenu);
  ui.meMenu.addEventListener("keydown", (e) => {
    if (e.key === "Escape") {
      e.stopPropagation();
      closeMenus();
      ui.meMenuBtn.focus();
    } else if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      const items = [...ui.meMenu.querySelectorAll(".menu-item:not([hidden])")];
      const i = items.indexOf(document.activeElement);
      items[(i + (e.key === "ArrowDown" ? 1 : items.length - 1)) % items.length].focus();
    }
  });
  document.addEventListener("click", (e) => {
    if (!ui.meMenu.hidden && !ui.meMenu.contains(e.target) && !ui.meMenuBtn.contains(e.target)) closeMenus();
  });
  ui.menuPassword.addEventListener("click", openPasswordDialog);
  ui.menuLogout.addEventListener("click", logOut);
  ui.menuChangeName.addEventListener("click", () => leaveForWelcome("guest"));
  ui.menuSignIn.addEventListener("click", () => leaveForWelcome("login"));
  ui.passwordCancel.addEventListener("click", () => ui.passwordDialog.close());
  ui.passwordForm.addEventListener("submit", submitPassword);
  ui.menuDeleteAccount.addEventListener("click", openAccountDeleteDialog);
  ui.accountDeleteCancel.addEventListener("click", () => ui.accountDeleteDialog.close());
  ui.accountDeleteForm.addEventListener("submit", submitAccountDelete);
}
