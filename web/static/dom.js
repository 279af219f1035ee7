// Small DOM helpers. Everything that comes from the network is put on the
// page as text (textContent, text nodes); this file holds the only places
// that build elements from data, and none of them parses HTML.

// el creates an element with attributes and children. Children are nodes
// or strings; strings become text nodes. Attribute values are set with
// setAttribute, except `class` (className) and `text` (textContent).
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else node.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    node.append(typeof c === "string" ? document.createTextNode(c) : c);
  }
  return node;
}

// keyed keeps one element per key in list, in order, updating in place so
// that focus and hover survive re-renders.
export function keyed(list, keys, make, update) {
  const byKey = new Map();
  for (const child of [...list.children]) {
    if (keys.includes(child.dataset.key)) byKey.set(child.dataset.key, child);
    else child.remove();
  }
  keys.forEach((key, i) => {
    let node = byKey.get(key);
    if (!node) {
      node = make(key);
      node.dataset.key = key;
    }
    update(node, key);
    if (list.children[i] !== node) list.insertBefore(node, list.children[i] || null);
  });
}

// A URL candidate: http(s):// then anything up to white space or a
// character that cannot end a URL in running text.
const urlRE = /\bhttps?:\/\/[^\s<>"'`]+/gi;
const trailingRE = /[.,;:!?'"»)\]}]+$/;

// appendBody appends body to node as text, with http: and https: URLs as
// links that open in a new tab and send no referrer. A candidate that
// `new URL` does not accept, or whose scheme is anything else, stays text.
export function appendBody(node, body) {
  let at = 0;
  for (const m of body.matchAll(urlRE)) {
    let raw = m[0];
    // Keep a closing parenthesis that closes one opened inside the URL
    // (Wikipedia style), drop other trailing punctuation.
    const trail = raw.match(trailingRE);
    if (trail) {
      let cut = trail[0];
      if (cut.startsWith(")") && count(raw, "(") > count(raw.slice(0, -cut.length), ")")) {
        cut = cut.slice(1);
      }
      raw = raw.slice(0, raw.length - cut.length);
    }
    let url;
    try {
      url = new URL(raw);
    } catch {
      continue;
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") continue;
    if (m.index > at) node.append(document.createTextNode(body.slice(at, m.index)));
    const a = document.createElement("a");
    a.href = url.href;
    a.textContent = raw;
    a.target = "_blank";
    a.rel = "noopener noreferrer nofollow";
    node.append(a);
    at = m.index + raw.length;
  }
  if (at < body.length) node.append(document.createTextNode(body.slice(at)));
}

function count(s, ch) {
  let n = 0;
  for (const c of s) if (c === ch) n++;
  return n;
}

const timeFmt = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const fullFmt = new Intl.DateTimeFormat(undefined, { dateStyle: "full", timeStyle: "medium" });
const dayFmt = new Intl.DateTimeFormat(undefined, { weekday: "long", month: "long", day: "numeric" });
const dayYearFmt = new Intl.DateTimeFormat(undefined, { year: "numeric", month: "long", day: "numeric" });

export const formatTime = (ms) => timeFmt.format(ms);

// formatShortTime is the time without a day period ("4:05", not
// "04:05 PM"), for the narrow gutter beside grouped messages.
export function formatShortTime(ms) {
  return shortFmt
    .formatToParts(ms)
    .filter((p) => p.type === "hour" || p.type === "minute" || (p.type === "literal" && p.value.trim() === ":"))
    .map((p) => p.value)
    .join("");
}
const shortFmt = new Intl.DateTimeFormat(undefined, { hour: "numeric", minute: "2-digit" });
export const formatFull = (ms) => fullFmt.format(ms);

// dayKey identifies the local calendar day of a Unix-ms time.
export function dayKey(ms) {
  const d = new Date(ms);
  return d.getFullYear() * 10000 + d.getMonth() * 100 + d.getDate();
}

export function formatDay(ms) {
  const now = new Date();
  const today = dayKey(now.getTime());
  const key = dayKey(ms);
  if (key === today) return "Today";
  const y = new Date(now);
  y.setDate(now.getDate() - 1);
  if (key === dayKey(y.getTime())) return "Yesterday";
  return new Date(ms).getFullYear() === now.getFullYear() ? dayFmt.format(ms) : dayYearFmt.format(ms);
}

const dateTimeFmt = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
// when is a time in the near future: the time of day today, else with the date.
export const when = (ms) => (dayKey(ms) === dayKey(Date.now()) ? formatTime(ms) : dateTimeFmt.format(ms));

// localTimes rewrites the RFC 3339 UTC times in s (as server reasons carry
// them) with when(): "until 2026-12-03T17:50:29Z" reads "until 18:50" today,
// or with the date on another day.
export function localTimes(s) {
  return String(s).replace(/\b\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z\b/g, (ts) => {
    const ms = Date.parse(ts);
    return Number.isFinite(ms) ? when(ms) : ts;
  });
}

// colorClass picks one of ten avatar colours from a name, stably.
export function colorClass(name) {
  let h = 2166136261;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 16777619);
  }
  return "c" + ((h >>> 0) % 10);
}

// initial is the first character of a name, for avatars.
export function initial(name) {
  const first = Array.from(name.trim())[0] || "?";
  return first.toLocaleUpperCase();
}

export function avatar(name, extra = "") {
  return el("span", { class: `avatar ${colorClass(name)} ${extra}`.trim(), "aria-hidden": "true", text: initial(name) });
}

// newCMID returns a fresh client message id: 22 characters of A-Za-z0-9_-
// (the protocol's charset) that sort in the order they were made, as the
// Go client's NewCMID makes them: 48 bits of Unix milliseconds (the first
// eight characters), then 80 random bits, in base64 with its alphabet in
// ASCII order. The server indexes cmids by room and author to find
// resends, and ids that grow go in at the end of that index.
const cmidAlphabet = "-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz";
export function newCMID(now = Date.now()) {
  const b = new Uint8Array(16);
  crypto.getRandomValues(b.subarray(6));
  let ms = Math.floor(now);
  for (let i = 5; i >= 0; i--) {
    b[i] = ms % 256;
    ms = Math.floor(ms / 256);
  }
  let s = "";
  for (let i = 0; i < b.length; i += 3) {
    const n = (b[i] << 16) | ((b[i + 1] ?? 0) << 8) | (b[i + 2] ?? 0);
    const chars = i + 3 <= b.length ? 4 : (b.length - i) + 1; // no padding
    for (let j = 0; j < chars; j++) s += cmidAlphabet[(n >> (18 - 6 * j)) & 63];
  }
  return s;
}

// byteLength is the UTF-8 length of s, which is what the server limits.
const encoder = new TextEncoder();
export const byteLength = (s) => encoder.encode(s).length;
