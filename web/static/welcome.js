// The welcome screen: log in, create an account, or continue as a guest.
// It talks to the account API itself and hands the result to the caller:
// onSignedIn({name, admin}) once the session cookie is set, onGuest(name)
// for a guest name that passed the local checks.

import { login, register, describe } from "./account.js";
import { checkUsername, checkPassword } from "./names.js";

const $ = (id) => document.getElementById(id);

const TABS = ["login", "register", "guest"];

const ui = {
  welcome: $("welcome"),
  notice: $("welcome-notice"),
  tabs: Object.fromEntries(TABS.map((t) => [t, $(`tab-${t}`)])),
  forms: { login: $("login-form"), register: $("register-form"), guest: $("guest-form") },
  loginUser: $("login-user"),
  loginPassword: $("login-password"),
  loginError: $("login-error"),
  registerUser: $("register-user"),
  registerPassword: $("register-password"),
  registerError: $("register-error"),
  guestName: $("guest-name"),
  guestError: $("guest-error"),
};

let guestsAllowed = true;
let current = "guest";

// checkName mirrors protocol.CheckDisplayName, so most mistakes are caught
// before a round trip; the server has the last word.
export function checkName(name) {
  if (name === "") return "Please enter a name.";
  if (Array.from(name).length > 32) return "Names are at most 32 characters.";
  if (/[\p{Cc}\p{Cf}]/u.test(name) || /[^\S ]/u.test(name)) return "Names cannot contain control characters.";
  return "";
}

// initWelcome wires the forms once.
export function initWelcome({ onSignedIn, onGuest }) {
  for (const t of TABS) {
    ui.tabs[t].addEventListener("click", () => selectTab(t, true));
    ui.tabs[t].addEventListener("keydown", (e) => {
      const shown = TABS.filter((x) => !ui.tabs[x].hidden);
      const i = shown.indexOf(t);
      let next = "";
      if (e.key === "ArrowRight") next = shown[(i + 1) % shown.length];
      else if (e.key === "ArrowLeft") next = shown[(i + shown.length - 1) % shown.length];
      else if (e.key === "Home") next = shown[0];
      else if (e.key === "End") next = shown[shown.length - 1];
      if (!next) return;
      e.preventDefault();
      selectTab(next, false);
      ui.tabs[next].focus();
    });
  }
  // User names are lower case: show what will be sent as it is typed.
  for (const input of [ui.loginUser, ui.registerUser]) {
    input.addEventListener("input", () => {
      const v = input.value;
      const fixed = v.toLowerCase().replace(/\s/g, "");
      if (fixed !== v) {
        const at = Math.min(input.selectionStart, fixed.length);
        input.value = fixed;
        input.setSelectionRange(at, at);
      }
    });
  }

  accountForm(ui.forms.login, ui.loginUser, ui.loginPassword, ui.loginError, login, "Logging in…", onSignedIn);
  accountForm(ui.forms.register, ui.registerUser, ui.registerPassword, ui.registerError, register, "Creating…", onSignedIn);

  ui.forms.guest.addEventListener("submit", (e) => {
    e.preventDefault();
    const name = ui.guestName.value.trim();
    const err = checkName(name);
    if (err) {
      fieldError(ui.guestName, ui.guestError, err);
      return;
    }
    onGuest(name);
  });
}

function accountForm(form, userInput, passwordInput, errorLine, call, busyText, onSignedIn) {
  const submit = form.querySelector('button[type="submit"]');
  const idleText = submit.textContent;
  const isRegister = call === register;
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (submit.disabled) return;
    const username = userInput.value.trim().toLowerCase();
    const password = passwordInput.value;
    for (const input of [userInput, passwordInput]) input.setAttribute("aria-invalid", "false");
    errorLine.textContent = "";
    // Registration gets the full rules; a login only needs something to
    // send, and the server's answer never tells which part was wrong.
    const userErr = isRegister ? checkUsername(username) : username === "" ? "Please enter your user name." : "";
    if (userErr) return fieldError(userInput, errorLine, userErr);
    const pwErr = isRegister ? checkPassword(password) : password === "" ? "Please enter your password." : "";
    if (pwErr) return fieldError(passwordInput, errorLine, pwErr);

    submit.disabled = true;
    submit.textContent = busyText;
    try {
      const self = await call(username, password);
      passwordInput.value = "";
      onSignedIn(self);
    } catch (err) {
      // A taken name is the name's fault; a refused login is never said to
      // be the name's or the password's, so the password is retyped.
      const field = err.code === "name_taken" ? userInput : passwordInput;
      fieldError(field, errorLine, describe(err));
      if (field === passwordInput) passwordInput.select();
    } finally {
      submit.disabled = false;
      submit.textContent = idleText;
    }
  });
}

function fieldError(input, line, text) {
  line.textContent = text;
  input.setAttribute("aria-invalid", "true");
  input.focus();
}

function selectTab(tab, focusField) {
  if (tab === "guest" && !guestsAllowed) tab = "login";
  current = tab;
  for (const t of TABS) {
    const on = t === tab;
    ui.tabs[t].setAttribute("aria-selected", String(on));
    ui.tabs[t].tabIndex = on ? 0 : -1;
    ui.forms[t].hidden = !on;
  }
  if (focusField) firstField(tab).focus();
}

function firstField(tab) {
  if (tab === "guest") return ui.guestName;
  const [user, pw] = tab === "login" ? [ui.loginUser, ui.loginPassword] : [ui.registerUser, ui.registerPassword];
  return user.value ? pw : user;
}

// setGuestsAllowed hides the guest tab on a server that allows no guests.
export function setGuestsAllowed(allowed) {
  guestsAllowed = allowed;
  ui.tabs.guest.hidden = !allowed;
  if (!allowed && current === "guest") selectTab("login", false);
}

// showWelcome shows the screen on tab ("login", "register" or "guest";
// default: the one shown last), with a notice above the tabs, an error for
// the guest name (a refused hello), and the login form's user name filled
// in (loginName; the account forms are emptied otherwise).
export function showWelcome({ tab = current, notice = "", guestError = "", guestName = "", loginName = "" } = {}) {
  ui.welcome.hidden = false;
  for (const input of [ui.loginUser, ui.loginPassword, ui.registerUser, ui.registerPassword]) {
    input.value = "";
    input.setAttribute("aria-invalid", "false");
  }
  ui.loginUser.value = loginName;
  ui.notice.textContent = notice;
  ui.notice.hidden = notice === "";
  if (guestName) ui.guestName.value = guestName;
  ui.guestError.textContent = guestError;
  ui.guestName.setAttribute("aria-invalid", guestError ? "true" : "false");
  for (const line of [ui.loginError, ui.registerError]) line.textContent = "";
  selectTab(tab, true);
}

export function hideWelcome() {
  ui.welcome.hidden = true;
  ui.notice.hidden = true;
}

// setNotice changes the notice while the screen is up.
export function setNotice(text) {
  ui.notice.textContent = text;
  ui.notice.hidden = text === "";
}
