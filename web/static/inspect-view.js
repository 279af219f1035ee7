// The inspector's view of one WebSocket connection, shared by the panel
// of the chat (inspector.js: your own socket) and the administrators' page
// (inspect-page.js: anyone's). The server decodes the frames it sees on the
// wire (internal/inspect) and streams them as NDJSON records; this module
// reads that stream and renders each record. Everything is text.

import { el } from "./dom.js";

const MAX_ROWS = 400; // older rows are removed

// watch POSTs body to /api/inspect/watch and calls onRecord with every
// record until the stream ends or signal aborts. It resolves with null at
// the end of the stream, or rejects with an Error carrying the HTTP status.
export async function watch(body, onRecord, signal) {
  const res = await fetch("/api/inspect/watch", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
    credentials: "same-origin",
    signal,
  });
  if (!res.ok) {
    let reason = res.statusText;
    try {
      reason = (await res.json()).reason || reason;
    } catch {}
    const err = new Error(reason);
    err.status = res.status;
    throw err;
  }
  const reader = res.body.getReader();
  const text = new TextDecoder();
  let buf = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return null;
    buf += text.decode(value, { stream: true });
    let nl;
    while ((nl = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (line.trim() === "") continue;
      try {
        onRecord(JSON.parse(line));
      } catch {}
    }
  }
}

// appendRecord renders rec at the end of list (an <ol>).
export function appendRecord(list, rec) {
  list.append(renderRecord(rec));
  while (list.children.length > MAX_ROWS) list.firstElementChild.remove();
}

const ms = (t) => (typeof t === "number" ? `${t.toFixed(1)} ms` : "");

// renderRecord returns one <li> for rec.
export function renderRecord(rec) {
  switch (rec.kind) {
    case "handshake":
      return renderHandshake(rec);
    case "frame":
      return renderFrame(rec);
  }
  return el("li", { class: "insp-note", text: String(rec.note || "") });
}

function headers(title, line, list) {
  return el(
    "div",
    { class: "insp-head" },
    el("div", { class: "insp-line", text: `${title}: ${line}` }),
    el("dl", {}, ...(list || []).flatMap(([k, v]) => [el("dt", { text: k }), el("dd", { text: v })])),
  );
}

function renderHandshake(rec) {
  const h = rec.handshake || {};
  const li = el("li", { class: "insp-handshake", "data-kind": "handshake" });
  li.append(el("div", { class: "insp-title", text: `${ms(rec.t)} HTTP Upgrade handshake (RFC 6455 §4)` }));
  li.append(headers("request", h.request, h.request_headers));
  if (h.request_note) li.append(el("div", { class: "insp-hint", text: h.request_note }));
  li.append(headers("response", h.status, h.response_headers));
  const a = h.accept;
  if (a) {
    li.append(
      el(
        "ol",
        { class: "insp-accept", "aria-label": "Sec-WebSocket-Accept derivation" },
        el("li", { text: `Sec-WebSocket-Key: ${a.key}` }),
        el("li", { text: `+ GUID ${a.guid} = ${a.concatenated}` }),
        el("li", { text: `SHA-1 = ${a.sha1_hex}` }),
        el("li", { text: `base64 of the 20 digest bytes = ${a.accept}` }),
        el("li", { text: `server sent ${a.sent}: ${a.matches ? "matches" : "DOES NOT MATCH"}` }),
      ),
    );
  }
  li.append(el("div", { text: `subprotocol: ${h.subprotocol || "none"}; extensions: ${h.extensions || "none"}` }));
  return li;
}

function renderFrame(rec) {
  const f = rec.frame || {};
  const arrow = rec.from === "client" ? "client → server" : "server → client";
  const li = el("li", { class: `insp-frame insp-${rec.dir}`, "data-kind": "frame", "data-op": f.op, "data-dir": rec.dir });
  const bits = [
    `FIN=${f.fin ? 1 : 0}`,
    `RSV=${(f.rsv || []).map((b) => (b ? 1 : 0)).join("")}`,
    `MASK=${f.masked ? 1 : 0}`,
    f.masked ? `key=${f.mask_key}` : "",
    `len=${f.length} (${f.length_form})`,
    `header ${f.header_size} B`,
    f.fragment ? `fragment: ${f.fragment}` : "",
    f.rtt_ms !== undefined ? `RTT ${f.rtt_ms.toFixed(2)} ms` : "",
  ].filter(Boolean);
  li.append(
    el(
      "div",
      { class: "insp-title" },
      el("span", { class: "insp-t", text: ms(rec.t) }),
      " ",
      el("span", { class: "insp-dir", text: arrow }),
      " ",
      el("strong", { class: "insp-op", text: `${f.op} (0x${Number(f.opcode).toString(16)})` }),
      " ",
      el("span", { class: "insp-bits", text: bits.join(" · ") }),
    ),
  );
  if (f.error) li.append(el("div", { class: "insp-error", text: `protocol error: ${f.error}` }));
  if (f.close) {
    const c = f.close;
    const reason = c.redacted ? " reason [redacted]" : c.reason ? ` reason "${c.reason}"` : "";
    li.append(
      el("div", {
        class: "insp-close",
        text: `close code ${c.code}${reason} · started by the ${c.started_by}${c.reply ? " · this answers it" : ""}${c.error ? " · " + c.error : ""}`,
      }),
    );
  } else if (f.redacted) {
    li.append(el("div", { class: "insp-payload insp-redacted", text: "payload [redacted]" }));
  } else if (f.payload) {
    li.append(el("pre", { class: "insp-payload", text: (f.payload_hex ? "hex " : "") + f.payload + (f.cut ? " …" : "") }));
  }
  const m = f.message;
  if (m) {
    const ev = m.events || [];
    li.append(
      el("div", {
        class: "insp-message",
        text: `message: ${m.type}, ${m.frames} frame${m.frames === 1 ? "" : "s"}, ${m.length} bytes${m.bad_utf8 ? ", NOT valid UTF-8" : ""}${ev.length ? `, ${ev.length} hubbub event${ev.length === 1 ? "" : "s"}:` : ""}`,
      }),
    );
    if (ev.length) {
      li.append(
        el(
          "ul",
          { class: "insp-events" },
          ...ev.map((e) => el("li", {}, el("strong", { text: e.name }), " ", el("code", { text: e.json + (e.cut ? " …" : "") }))),
        ),
      );
    }
  }
  return li;
}
