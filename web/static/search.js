// Search: the box in the sidebar sends the `search` op (every room the
// user may read, newest first) and lists what it finds — room, author,
// time and the message with the words marked; a click on a result opens
// its room (joining it if need be) and goes to the message, loading older
// pages around it (view.revealMessage).

import { el, formatFull, formatTime, when } from "./dom.js";
import { isDM } from "./names.js";
import { isNarrow, toast, ui } from "./ui.js";
import * as state from "./state.js";
import { joinAndOpen } from "./rooms.js";
import { closeDrawer } from "./sidebar.js";
import { revealMessage } from "./view.js";

const LIMIT = 20;
let asked = 0; // the number of the newest search, so that an older answer is dropped

// marked appends text to node with every word of words in a <mark>.
function marked(node, text, words) {
  const esc = words.filter(Boolean).map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  if (esc.length === 0) {
    node.append(text);
    return node;
  }
  const re = new RegExp(`(${esc.join("|")})`, "giu");
  text.split(re).forEach((part, i) => node.append(i % 2 ? el("mark", { text: part }) : part));
  return node;
}

function snippet(body) {
  const flat = body.replace(/\s+/g, " ").trim();
  return flat.length > 200 ? `${flat.slice(0, 200)}…` : flat;
}

function result(m, words) {
  const label = state.labelOf(m.room, state.directoryInfo(m.room));
  const btn = el(
    "button",
    { type: "button", class: "search-hit", "data-room": m.room, "data-seq": String(m.seq) },
    el(
      "span",
      { class: "search-meta" },
      el("span", { class: "search-room", text: isDM(m.room) ? `@${label}` : label }),
      el("span", { class: "search-author", text: m.from }),
      el("time", { class: "time", datetime: new Date(m.ts).toISOString(), title: formatFull(m.ts), text: when(m.ts) === formatTime(m.ts) ? formatTime(m.ts) : when(m.ts) }),
    ),
    marked(el("span", { class: "search-text" }), snippet(m.body), words),
  );
  return el("li", {}, btn);
}

async function search(query) {
  const n = ++asked;
  ui.searchPanel.hidden = false;
  ui.searchTitle.textContent = `Results for “${query}”`;
  ui.searchStatus.textContent = "Searching…";
  ui.searchResults.replaceChildren();
  const conn = state.getConn();
  if (!conn || !conn.ready) {
    ui.searchStatus.textContent = "Not connected to the server. Try again in a moment.";
    return;
  }
  let ok;
  try {
    ok = await conn.request({ op: "search", query, limit: LIMIT });
  } catch (err) {
    if (n === asked) ui.searchStatus.textContent = `The search failed: ${err.reason || err.message || err.code}`;
    return;
  }
  if (n !== asked) return;
  const msgs = Array.isArray(ok.messages)
    ? ok.messages.filter((m) => m && typeof m.room === "string" && Number.isSafeInteger(m.seq) && typeof m.body === "string")
    : [];
  const words = query.split(/\s+/);
  ui.searchResults.replaceChildren(...msgs.map((m) => result(m, words)));
  ui.searchStatus.textContent =
    msgs.length === 0
      ? "Nothing found."
      : `${msgs.length} message${msgs.length === 1 ? "" : "s"}${ok.more ? ", the newest; more match — add a word to narrow it" : ""}.`;
}

function closeSearch() {
  asked++;
  ui.searchPanel.hidden = true;
}

// initSearch wires the search box and its results, once.
export function initSearch() {
  ui.searchForm.addEventListener("submit", (e) => {
    e.preventDefault();
    const q = ui.searchInput.value.trim();
    if (q === "") {
      closeSearch();
      return;
    }
    search(q);
    // On a phone the box is in the drawer and the results under it: show
    // them, and take the focus there (the box goes with the drawer).
    if (ui.sidebar.classList.contains("open")) {
      closeDrawer();
      ui.searchPanel.focus();
    }
  });
  ui.searchClose.addEventListener("click", closeSearch);
  ui.searchPanel.addEventListener("keydown", (e) => {
    if (e.key === "Escape") {
      e.stopPropagation();
      closeSearch();
      (isNarrow() ? ui.openDrawer : ui.searchInput).focus();
    }
  });
  ui.searchResults.addEventListener("click", (e) => {
    const hit = e.target.closest(".search-hit");
    if (!hit) return;
    const name = hit.dataset.room;
    const seq = Number(hit.dataset.seq);
    closeSearch();
    closeDrawer();
    joinAndOpen(name);
    const room = state.getRoom(name);
    if (room) revealMessage(room, seq);
    else toast(`Could not open ${state.labelOf(name, null)}.`);
  });
  state.subscribe((topic) => {
    if (topic === "me" && !state.getMe().name) closeSearch();
  });
}
