// The administrators' page of the inspector: every live connection on this
// server (GET /api/inspect/conns) and, for the one picked, its live view.
// Other users' payloads are redacted unless the server runs with
// --inspect-payloads. The server refuses everyone but administrators.

import { el } from "./dom.js";
import { appendRecord, watch } from "./inspect-view.js";

const $ = (id) => document.getElementById(id);
let abort = null;

function fmtAge(s) {
  if (s < 60) return `${Math.round(s)} s`;
  if (s < 3600) return `${Math.round(s / 60)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

async function refresh() {
  const status = $("conns-status");
  let reply;
  try {
    const res = await fetch("/api/inspect/conns", { credentials: "same-origin" });
    reply = await res.json();
    if (!res.ok) {
      status.textContent = res.status === 403 ? "Only administrators may list connections." : `Cannot list connections: ${reply.reason || res.status}`;
      return;
    }
  } catch (err) {
    status.textContent = `Cannot list connections: ${err.message}`;
    return;
  }
  const conns = reply.conns || [];
  status.textContent = `${conns.length} connection${conns.length === 1 ? "" : "s"}; other users' payloads ${reply.payloads ? "shown (--inspect-payloads)" : "redacted"}.`;
  $("conns-body").replaceChildren(
    ...conns.map((c) =>
      el(
        "tr",
        { "data-conn": c.id },
        el("td", { text: String(c.id) }),
        el("td", { text: c.path }),
        el("td", { text: (c.user || "—") + (c.user && !c.account ? " (guest)" : "") }),
        el("td", { text: c.addr }),
        el("td", { text: (c.rooms || []).join(", ") }),
        el("td", { text: fmtAge(c.age_s) }),
        el("td", { text: `${c.queue} (${c.queue_bytes} B)` }),
        el("td", { text: String(c.bytes_in) }),
        el("td", { text: String(c.bytes_out) }),
        el("td", { text: String(c.watchers) }),
        el("td", {}, watchButton(c)),
      ),
    ),
  );
}

function watchButton(c) {
  const b = el("button", { class: "btn btn-small", type: "button", text: "Watch" });
  b.addEventListener("click", () => open(c));
  return b;
}

function open(c) {
  stop();
  const ctl = new AbortController();
  abort = ctl;
  $("watch").hidden = false;
  $("watch-title").textContent = `Connection ${c.id} · ${c.user || "guest"} · ${c.path}`;
  $("watch-log").replaceChildren();
  $("watch-status").textContent = "Watching…";
  watch({ conn: c.id }, (rec) => appendRecord($("watch-log"), rec), ctl.signal)
    .then(() => {
      if (abort === ctl) $("watch-status").textContent = "The feed ended.";
    })
    .catch((err) => {
      if (!ctl.signal.aborted) $("watch-status").textContent = `Cannot watch: ${err.message}`;
    });
}

function stop() {
  if (abort) abort.abort();
  abort = null;
}

$("conns-refresh").addEventListener("click", refresh);
$("watch-stop").addEventListener("click", () => {
  stop();
  $("watch-status").textContent = "Stopped.";
});
refresh();
