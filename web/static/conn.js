// The connection to the server: one WebSocket speaking protocol v1, with
// request/reply matching by command id and reconnection with exponential
// backoff and full jitter. What to do on each new socket (hello, re-join,
// catch up) is the caller's business: see the `handshake` option.
//
// Coming back promptly: the wait between attempts is at most 10 s (4 s
// while the server said it is restarting), and a tab that becomes visible
// again, or a network that comes back, tries at once instead of waiting —
// browsers throttle the timers of background tabs (Chromium to once a
// minute after a few minutes hidden), so a wait scheduled there can end far
// later than planned. A tab that becomes visible while connected checks
// its socket with a ping at once, for the same reason.
//
// Binary messages (upload chunks, docs/protocol.md "Files") go out through
// the same socket with sendBinary; the server's answers to them (upload
// events, and error events that carry an upload) are "chunk" events, with
// the generation of the socket they came on, and never "event" events.

import { localTimes } from "./dom.js";

export const SUBPROTOCOL = "hubbub.v1";

const BACKOFF_BASE_MS = 500;
const BACKOFF_CAP_MS = 10_000;
const RESTART_CAP_MS = 4_000; // the cap while the server is restarting (it said so)
const CONNECT_TIMEOUT_MS = 10_000;
const REQUEST_TIMEOUT_MS = 20_000;
const PING_EVERY_MS = 25_000;
const PING_TIMEOUT_MS = 10_000;
const RETRY_JITTER_MS = 1_000; // added, at random, to a wait the server named

// Close codes of protocol v1 (protocol/codes.go).
export const Close = Object.freeze({
  normal: 1000,
  goingAway: 1001,
  policy: 1008,
  tooBig: 1009,
  internal: 1011,
  serviceRestart: 1012,
  tryAgainLater: 1013,
  slowConsumer: 4000,
  identifyTimeout: 4001,
});

// RequestError is the server's refusal of a command: an error event with a
// stable code and a human reason. The UTC times a reason may carry ("you
// are banned from lobby until 2026-12-03T17:50:29Z") are shown as local
// times, like every other time in the client.
export class RequestError extends Error {
  constructor(code, reason) {
    reason = localTimes(reason || "");
    super(reason || code);
    this.code = code;
    this.reason = reason;
  }
}

// Disconnected rejects requests that could not be sent or whose reply was
// lost because the socket closed. Whether the command took effect is unknown.
export class Disconnected extends Error {
  constructor(msg = "not connected") {
    super(msg);
    this.code = "disconnected";
  }
}

// backoffDelay returns the delay before reconnect attempt n (0-based):
// uniformly random in [0, min(cap, base·2ⁿ)] ("full jitter"), where cap is
// 10 s, or 4 s when the server closed for a restart (1001, 1012) and will
// be back in moments.
export function backoffDelay(attempt, restarting = false) {
  const cap = restarting ? RESTART_CAP_MS : BACKOFF_CAP_MS;
  const ceiling = Math.min(cap, BACKOFF_BASE_MS * 2 ** Math.min(attempt, 16));
  return Math.random() * ceiling;
}

// retryAfterMs reads the wait a 1013 close reason names ("retry after 7s",
// protocol.RetryAfterReason): a server turning a storm away hands out waits
// spread over whole seconds. 0 when the reason names none.
export function retryAfterMs(reason) {
  const m = /^retry after ([1-9][0-9]{0,3})s(;|$)/.exec(reason || "");
  if (!m) return 0;
  const secs = Number(m[1]);
  return secs <= 3600 ? secs * 1000 : 0;
}

// wsURL returns the URL of the server's WebSocket endpoint on the page's
// own host: ws: for http: pages and wss: for https: pages.
export function wsURL(loc = window.location) {
  const scheme = loc.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${loc.host}/ws`;
}

// inspectKey returns a fresh random key and its challenge,
// base64url(SHA-256(key)), for the server's inspector (/ws?inspect=…), or
// null where the page has no crypto.subtle (an http: page on a host other
// than localhost is not a secure context).
export async function inspectKey() {
  if (!globalThis.crypto || !crypto.subtle) return null;
  const b64url = (bytes) => btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  const key = b64url(crypto.getRandomValues(new Uint8Array(24)));
  const sum = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(key)));
  return { key, challenge: b64url(sum) };
}

// Connection states, reported by the "state" event:
//   connecting  a socket is being opened or the handshake is running
//   ready       the handshake succeeded; commands flow
//   waiting     closed; the next attempt is at detail.retryAt
//   offline     the browser is offline; waiting for it to come back
//   stopped     stop() was called
export class Connection extends EventTarget {
  // precheck(conn) runs before every attempt to open a socket, for what a
  // browser's WebSocket cannot tell (a refused handshake is only ever a
  // close with 1006): whether the session is still good, say. If it throws,
  // the attempt counts as failed; a thrown error with `fatal` set stops
  // reconnecting.
  //
  // handshake(conn) runs on every new socket before it counts as ready; it
  // may send requests. If it throws, the socket is closed; a thrown error
  // with `fatal` set stops reconnecting.
  constructor({ url = wsURL(), precheck = async () => {}, handshake = async () => {} } = {}) {
    super();
    this.url = url;
    this.precheck = precheck;
    this.handshake = handshake;
    this.opening = 0; // counts attempts, so that a stale precheck is ignored
    this.state = "stopped";
    this.detail = {};
    this.ws = null;
    this.nextId = 1;
    this.pending = new Map(); // id → {resolve, reject, timer}
    this.attempt = 0;
    this.retryTimer = 0;
    this.connectTimer = 0;
    this.pingTimer = 0;
    this.restarting = false; // the last close was the server's restart (1001, 1012)
    this.lastHeard = 0; // when the socket last brought anything (Date.now())
    this.generation = 0; // counts sockets: a chunk's answer belongs to the socket it was sent on

    this.serverWaitUntil = 0; // a wait the server named ends then (Date.now()); 0 for none

    this.listening = null; // aborts the window and document listeners of listen()
  }

  // listen adds the window and document listeners that bring the
  // connection back sooner (online, back in front of the user) or hold it
  // (offline), until stop() takes them away: a page that changes identity
  // makes a new Connection each time, and listeners left behind would keep
  // every old one alive.
  listen() {
    if (this.listening) return;
    this.listening = new AbortController();
    const signal = this.listening.signal;
    window.addEventListener("online", () => {
      if (this.state !== "offline" && this.state !== "waiting") return;
      if (!this.serverWaiting()) {
        this.connectNow();
      } else if (this.state === "offline") {
        // Back online inside the server's wait: wait out the rest of it.
        const retryAt = this.serverWaitUntil;
        this.retryTimer = setTimeout(() => this.open(), retryAt - Date.now());
        this.setState("waiting", { code: Close.tryAgainLater, reason: "The server is busy.", retryAt });
      }
    }, { signal });
    // Back in front of the user: don't let a throttled timer decide. But a
    // wait the server named (1013 "retry after Ns") stands: a node turning
    // a storm away spreads its clients over those seconds, and coming back
    // early only earns a longer wait. "Retry now" still skips it.
    const wake = () => {
      if (document.visibilityState !== "visible") return;
      if (this.state === "waiting" && !this.serverWaiting()) this.connectNow();
      else if (this.ready && Date.now() - this.lastHeard > PING_EVERY_MS) this.checkNow();
    };
    document.addEventListener("visibilitychange", wake, { signal });
    window.addEventListener("pageshow", wake, { signal });
    window.addEventListener("focus", wake, { signal });
    window.addEventListener("offline", () => {
      if (this.state === "waiting") {
        clearTimeout(this.retryTimer);
        this.setState("offline", {});
      }
    }, { signal });
  }

  // serverWaiting reports whether a wait the server named is still running.
  serverWaiting() {
    return Date.now() < this.serverWaitUntil;
  }

  get ready() {
    return this.state === "ready";
  }

  // start opens the first socket.
  start() {
    if (this.state !== "stopped") return;
    this.listen();
    this.attempt = 0;
    this.open();
  }

  // stop closes the socket and does not reconnect.
  stop() {
    this.listening?.abort();
    this.listening = null;
    clearTimeout(this.retryTimer);
    this.opening++;
    this.setState("stopped", {});
    this.drop(Close.normal, "bye");
  }

  // connectNow skips the rest of a backoff wait.
  connectNow() {
    if (this.state !== "waiting" && this.state !== "offline") return;
    clearTimeout(this.retryTimer);
    this.open();
  }

  // request sends cmd with a fresh id and resolves with the ok event, or
  // rejects with RequestError (the server refused) or Disconnected.
  request(cmd, timeoutMs = REQUEST_TIMEOUT_MS) {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) {
      return Promise.reject(new Disconnected());
    }
    const id = String(this.nextId++);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Disconnected("no reply from the server"));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      ws.send(JSON.stringify({ id, ...cmd }));
    });
  }

  // notify sends cmd without an id: the server replies only if it fails.
  // It reports whether the command was handed to the socket.
  notify(cmd) {
    if (!this.ready) return false;
    this.ws.send(JSON.stringify(cmd));
    return true;
  }

  // sendBinary sends data (an ArrayBuffer or a typed array) as one binary
  // message on the ready socket. It reports whether it was handed to the
  // socket; if not, the socket is gone or not ready yet.
  sendBinary(data) {
    if (!this.ready) return false;
    this.ws.send(data);
    return true;
  }

  // buffered is how many bytes the socket holds that it has not sent yet.
  get buffered() {
    return this.ws ? this.ws.bufferedAmount : 0;
  }

  setState(state, detail) {
    this.state = state;
    this.detail = detail;
    this.dispatchEvent(new CustomEvent("state", { detail: { state, ...detail } }));
  }

  async open() {
    if (!navigator.onLine) {
      this.setState("offline", {});
      return;
    }
    const attempt = ++this.opening;
    this.setState("connecting", { attempt: this.attempt });
    try {
      await this.precheck(this);
    } catch (err) {
      if (attempt !== this.opening || this.state !== "connecting") return;
      if (err && err.fatal) {
        this.setState("stopped", { reason: err.message });
        return;
      }
      this.closed(0, err && err.message ? err.message : "cannot reach the server");
      return;
    }
    const inspect = await inspectKey();
    if (attempt !== this.opening || this.state !== "connecting") return; // stopped meanwhile
    let ws;
    try {
      ws = new WebSocket(inspect ? `${this.url}?inspect=${inspect.challenge}` : this.url, SUBPROTOCOL);
      // The key lets this page watch its own socket in the inspector
      // (inspector.js); only its hash went to the server in the URL.
      this.inspectKey = inspect ? inspect.key : null;
    } catch (err) {
      this.closed(0, String(err));
      return;
    }
    this.ws = ws;
    this.generation++;
    this.connectTimer = setTimeout(() => this.drop(0, "connection timed out"), CONNECT_TIMEOUT_MS);
    ws.onopen = () => {
      clearTimeout(this.connectTimer);
      this.runHandshake(ws);
    };
    ws.onmessage = (ev) => this.receive(ev.data);
    ws.onclose = (ev) => {
      if (this.ws === ws) this.closed(ev.code, ev.reason);
    };
    ws.onerror = () => {}; // onclose follows and carries what is known
  }

  async runHandshake(ws) {
    try {
      await this.handshake(this);
    } catch (err) {
      if (this.ws !== ws) return;
      if (err && err.fatal) {
        this.setState("stopped", { reason: err.message });
        this.drop(Close.normal, "handshake refused");
        return;
      }
      this.drop(0, err && err.message ? err.message : "handshake failed");
      return;
    }
    if (this.ws !== ws) return;
    this.attempt = 0;
    this.restarting = false;
    this.setState("ready", {});
    this.schedulePing();
  }

  schedulePing() {
    clearTimeout(this.pingTimer);
    this.pingTimer = setTimeout(() => this.checkNow(), PING_EVERY_MS);
  }

  // checkNow pings the server now; no answer in PING_TIMEOUT_MS drops the
  // socket (and so reconnects).
  async checkNow() {
    if (!this.ready) return;
    clearTimeout(this.pingTimer);
    const ws = this.ws;
    try {
      await this.request({ op: "ping" }, PING_TIMEOUT_MS);
    } catch (err) {
      if (err instanceof Disconnected && this.ws === ws) {
        this.drop(0, "the server stopped answering");
        return;
      }
    }
    if (this.ws === ws) this.schedulePing();
  }

  receive(data) {
    this.lastHeard = Date.now();
    if (typeof data !== "string") return; // binary frames are reserved
    // A server frame holds one or more JSON objects separated by '\n'.
    for (const line of data.split("\n")) {
      if (line.trim() === "") continue;
      let ev;
      try {
        ev = JSON.parse(line);
      } catch {
        console.warn("hubbub: ignoring a malformed server event");
        continue;
      }
      if (!ev || typeof ev !== "object") continue;
      if (!ev.id && (ev.type === "upload" || ev.type === "error") && ev.upload && typeof ev.upload === "object") {
        this.dispatchEvent(new CustomEvent("chunk", { detail: { ev, generation: this.generation } }));
        continue;
      }
      const waiter = ev.id ? this.pending.get(ev.id) : undefined;
      if (waiter && (ev.type === "ok" || ev.type === "error")) {
        this.pending.delete(ev.id);
        clearTimeout(waiter.timer);
        if (ev.type === "ok") waiter.resolve(ev);
        else waiter.reject(new RequestError(ev.code, ev.reason));
        continue;
      }
      this.dispatchEvent(new CustomEvent("event", { detail: ev }));
    }
  }

  // drop abandons the current socket at once (without waiting for the
  // closing handshake) and handles it as closed with code and reason.
  drop(code, reason) {
    const ws = this.ws;
    if (!ws) return;
    ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
    try {
      ws.close(Close.normal);
    } catch {
      // already closing
    }
    this.closed(code, reason);
  }

  closed(code, reason) {
    clearTimeout(this.connectTimer);
    clearTimeout(this.pingTimer);
    this.ws = null;
    for (const [id, w] of this.pending) {
      clearTimeout(w.timer);
      w.reject(new Disconnected("connection lost"));
      this.pending.delete(id);
    }
    this.dispatchEvent(new CustomEvent("closed", { detail: { code, reason } }));
    if (this.state === "stopped") return;

    let attempt = this.attempt;
    let why = reason || "";
    let serverWait = 0; // the wait the server named, if it did
    switch (code) {
      case Close.goingAway:
      case Close.serviceRestart:
        why = "The server is restarting.";
        this.restarting = true;
        attempt = 0; // it will be back in moments: start the waits short
        break;
      case Close.slowConsumer:
        why = "The connection fell behind; resuming.";
        break;
      case Close.tryAgainLater: {
        why = "The server is busy.";
        const wait = retryAfterMs(reason);
        if (wait > 0) serverWait = wait;
        else attempt = Math.max(attempt, 4); // start the wait at up to 8 s
        break;
      }
      case Close.policy:
        why = reason ? `Disconnected by the server: ${reason}` : "Disconnected by the server.";
        attempt = Math.max(attempt, 2);
        break;
      default:
        if (!why) why = "Connection lost.";
    }
    this.attempt = attempt + 1;
    if (!navigator.onLine) {
      this.setState("offline", { code, reason: why });
      return;
    }
    const delay = serverWait > 0 ? serverWait + Math.random() * RETRY_JITTER_MS : backoffDelay(attempt, this.restarting);
    const retryAt = Date.now() + delay;
    this.serverWaitUntil = serverWait > 0 ? retryAt : 0;
    this.retryTimer = setTimeout(() => this.open(), delay);
    this.setState("waiting", { code, reason: why, retryAt });
  }
}
