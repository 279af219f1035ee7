// The account API: JSON over HTTP on the page's own origin (docs/protocol.md,
// "Accounts and sessions"). The session lives in the HttpOnly cookie
// hubbub_session, which the browser keeps and sends by itself, to these
// calls and to the WebSocket handshake; the page never sees the token.

// ApiError is a refused or failed call: the HTTP status (0 when the
// server could not be reached), the protocol's error code, its reason, and
// Retry-After in seconds when the server sent one.
export class ApiError extends Error {
  constructor(status, code, reason, retryAfter = 0) {
    super(reason || code);
    this.status = status;
    this.code = code;
    this.reason = reason || "";
    this.retryAfter = retryAfter;
  }
}

async function call(method, path, body, headers = {}) {
  const init = {
    method,
    credentials: "same-origin",
    cache: "no-store",
    headers: { Accept: "application/json", ...headers },
  };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch {
    throw new ApiError(0, "network", "the server cannot be reached");
  }
  if (res.status === 204) return {};
  let data = null;
  try {
    data = await res.json();
  } catch {
    // not JSON: a proxy's error page, say
  }
  if (res.ok && data && typeof data === "object") return data;
  const retry = Number.parseInt(res.headers.get("Retry-After") || "", 10);
  const code = data && typeof data.code === "string" ? data.code : `http_${res.status}`;
  const reason = data && typeof data.reason === "string" ? data.reason : res.statusText;
  throw new ApiError(res.status, code, reason, Number.isFinite(retry) && retry > 0 ? retry : 0);
}

// getSession says who the cookie signs in ({self: {name, admin}} or no
// self), whether the server allows guests, and, in originRefused, the
// server's sentence when it would refuse this page's origin (a browser
// cannot read why a WebSocket handshake failed, so the page asks).
export async function getSession() {
  const v = await call("GET", "/api/session", undefined, { "X-Hubbub-Origin": window.location.origin });
  const self = v.self && typeof v.self.name === "string" ? { name: v.self.name, admin: !!v.self.admin } : null;
  const originRefused = typeof v.origin_refused === "string" ? v.origin_refused : "";
  return { self, guests: v.guests !== false, originRefused };
}

// register creates an account and signs in; login signs in. Both resolve
// with {name, admin}.
export const register = (username, password) => signIn("/api/register", username, password);
export const login = (username, password) => signIn("/api/login", username, password);

async function signIn(path, username, password) {
  const v = await call("POST", path, { username, password });
  if (!v.self || typeof v.self.name !== "string") throw new ApiError(500, "internal", "the server's reply has no user");
  return { name: v.self.name, admin: !!v.self.admin };
}

// logout ends the session on the server and clears the cookie.
export const logout = () => call("POST", "/api/logout", {});

// changePassword sets a new password; the server ends every other session.
export const changePassword = (oldPassword, newPassword) => call("POST", "/api/password", { old: oldPassword, new: newPassword });

// deleteAccount deletes the signed-in account for good, after checking its
// password; the server ends every session of it and clears the cookie.
// Its messages stay, under its name (docs/protocol.md, "Delete your account").
export const deleteAccount = (password) => call("POST", "/api/account/delete", { password });

// describe turns an ApiError into a sentence for the user. It shows the
// server's reason (never parsing it), except for waits, where Retry-After
// is the number to trust.
export function describe(err) {
  if (!(err instanceof ApiError)) return sentence(err && err.message ? err.message : "something went wrong");
  if (err.code === "rate_limited" || err.status === 429) {
    return err.retryAfter > 0 ? `Too many attempts. Try again in ${err.retryAfter} s.` : "Too many attempts. Try again later.";
  }
  if (err.code === "unavailable" && err.retryAfter > 0) return `The server is busy. Try again in ${err.retryAfter} s.`;
  return sentence(err.reason || err.code);
}

// sentence capitalises a reason and ends it with a full stop.
export function sentence(s) {
  s = String(s).trim();
  if (s === "") return "";
  s = s[0].toUpperCase() + s.slice(1);
  return /[.!?…]$/.test(s) ? s : s + ".";
}
