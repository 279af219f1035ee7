// The room directory as it changes: the server's directory events (a room
// created, archived, unarchived or deleted) applied as they arrive, and the
// search box of Browse, which asks the server for the rooms whose name or
// topic holds some text (archived rooms too when asked), a page at a time.
//
// The client does not poll the directory: it lists the rooms once after
// each (re)connect (lifecycle.js) and follows the events from then on.
// Directory events may be lost between server nodes; the listing after the
// next reconnect sets things right, and a send refused as archived marks
// the room at once (send.js).

import { el, keyed } from "./dom.js";
import { DEFAULT_ROOM, isRoomName } from "./names.js";
import { closeManage } from "./manage.js";
import { announce, toast } from "./ui.js";
import * as state from "./state.js";
import { joinAndOpen } from "./rooms.js";

const $ = (id) => document.getElementById(id);
const ui = {
  form: $("dir-search"),
  query: $("dir-query"),
  archived: $("dir-archived"),
  all: $("browse-all"),
  found: $("dir-found"),
  results: $("dir-results"),
  status: $("dir-status"),
  more: $("dir-more"),
};

const SEARCH_DELAY_MS = 250; // typing pauses this long before a search goes out
const MAX_QUERY = 256; // protocol.MaxQueryRunes
// Control and format characters are refused in a query (protocol.CheckQuery).
const UNSAFE = /[\p{Cc}\p{Cf}]/gu;

// The search on screen. Immutable once made; a new search replaces it.
// results: the rooms found so far, by name in name order (RoomInfo);
// more: the server has more after the last; gen: which search this is,
// so that a late reply to an older one is dropped.
let search = null;
let gen = 0;
let timer = 0;

// ---------------------------------------------------------------------------
// Directory events.

function onDirectory(ev, room) {
  if (typeof ev.room !== "string" || !isRoomName(ev.room)) return;
  const info = ev.info && typeof ev.info === "object" ? state.roomInfo(ev.room, ev.info) : null;
  const by = typeof ev.by === "string" ? ev.by : "";
  switch (ev.change) {
    case "created":
      if (info && !state.hasRoom(ev.room)) state.setDirectoryEntry(ev.room, info);
      break;
    case "archived":
    case "unarchived":
      state.setArchived(ev.room, ev.change === "archived", info);
      break;
    case "deleted":
      roomDeleted(ev.room, room, by);
      break;
    default:
      return; // a change this client does not know
  }
  applyToSearch(ev.change, ev.room, info);
}

// roomDeleted forgets a deleted room: out of the directory and the joined
// list (and with it the last seq this browser kept of it, since a new room
// of that name starts again at 1). When it was on screen, the user is told
// and taken to the default room.
export function roomDeleted(name, room, by) {
  state.forgetDirectoryEntry(name);
  if (!room || state.getRoom(name) !== room) return;
  const open = state.getActive() === room;
  closeManage(room);
  state.removeRoom(room);
  const me = state.getMe().name;
  const text =
    by === me ? `You deleted #${name}.` : by ? `#${name} was deleted by ${by}.` : `#${name} was deleted: nobody had used it for a while.`;
  toast(text, 12_000);
  announce(text);
  if (open && name !== DEFAULT_ROOM) joinAndOpen(DEFAULT_ROOM);
}

// ---------------------------------------------------------------------------
// Search.

// wanted is the search the form asks for, or null for none (Browse then
// shows the directory).
function wanted() {
  const query = ui.query.value.replace(UNSAFE, " ").trim().slice(0, MAX_QUERY);
  const archived = ui.archived.checked;
  return query || archived ? { query, archived } : null;
}

// matches mirrors the server's filter: name or topic contains the query,
// ignoring case.
function matches(s, info) {
  if (info.archived && !s.archived) return false;
  const q = s.query.toLowerCase();
  return q === "" || info.name.toLowerCase().includes(q) || info.topic.toLowerCase().includes(q);
}

// runSearch starts the search the form asks for, from its first page.
function runSearch() {
  clearTimeout(timer);
  const w = wanted();
  gen++;
  search = w ? Object.freeze({ ...w, results: [], more: false, loading: true, error: "", gen }) : null;
  render();
  if (search) fetchPage(search, "");
}

// fetchPage asks for the page of s after the room named after ("" for the
// first one) and adds it to the results.
async function fetchPage(s, after) {
  const c = state.getConn();
  if (!state.isReady()) {
    update(s, { loading: false, error: "Not connected to the server. The search runs again once connected." });
    return;
  }
  update(s, { loading: true, error: "" });
  const cmd = { op: "rooms" };
  if (after) cmd.room = after;
  if (s.query) cmd.query = s.query;
  if (s.archived) cmd.archived = true;
  let ok;
  try {
    ok = await c.request(cmd);
  } catch (err) {
    update(s, { loading: false, error: err.reason || err.message || "The search failed." });
    return;
  }
  const page = (Array.isArray(ok.rooms) ? ok.rooms : [])
    .filter((r) => r && typeof r.name === "string" && isRoomName(r.name))
    .map((r) => state.roomInfo(r.name, r));
  const cur = current(s);
  if (!cur) return;
  const have = new Set(cur.results.map((r) => r.name));
  update(s, { loading: false, more: ok.more === true && page.length > 0, results: [...cur.results, ...page.filter((r) => !have.has(r.name))] });
}

// current returns the search on screen if it is still s (a newer one may
// have replaced it meanwhile), else null.
const current = (s) => (search && search.gen === s.gen ? search : null);

function update(s, fields) {
  if (!current(s)) return;
  search = Object.freeze({ ...search, ...fields });
  render();
}

// applyToSearch follows a directory event in the results on screen: a
// room deleted (or archived, when archived rooms are not asked for) leaves
// them, one created or unarchived that matches comes in where it sorts,
// unless that is past the last page fetched.
function applyToSearch(change, name, info) {
  if (!search) return;
  let results = search.results.filter((r) => r.name !== name);
  const was = results.length !== search.results.length;
  if (change !== "deleted" && info && matches(search, info)) {
    const last = search.results.length ? search.results[search.results.length - 1].name : "";
    if (was || !search.more || name < last) {
      results = [...results, info].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    }
  }
  search = Object.freeze({ ...search, results });
  render();
}

function render() {
  ui.all.hidden = !!search;
  ui.found.hidden = !search;
  if (!search) {
    keyed(ui.results, [], null, null);
    return;
  }
  const byName = new Map(search.results.map((r) => [r.name, r]));
  keyed(
    ui.results,
    search.results.map((r) => r.name),
    (name) => {
      const btn = el(
        "button",
        { type: "button", class: "room-btn" },
        el("span", { class: "room-icon", "aria-hidden": "true" }),
        el("span", { class: "room-label" }, el("span", { class: "room-name", text: name }), el("span", { class: "room-topic" })),
        el("span", { class: "tag tag-archived", text: "archived" }),
      );
      btn.addEventListener("click", () => joinAndOpen(name));
      return el("li", {}, btn);
    },
    (li, name) => {
      const info = byName.get(name);
      const btn = li.firstChild;
      const icon = btn.querySelector(".room-icon");
      icon.classList.toggle("lock", info.private);
      icon.textContent = info.private ? "" : "#";
      btn.querySelector(".room-topic").textContent = info.topic;
      btn.querySelector(".tag-archived").hidden = !info.archived;
      const joined = state.hasRoom(name);
      btn.title = joined ? `Open #${name}` : `Join #${name}`;
      btn.setAttribute("aria-label", `${joined ? "Open" : "Join"} ${name}${info.private ? ", private" : ""}${info.archived ? ", archived" : ""}`);
    },
  );
  const n = search.results.length;
  ui.more.hidden = !search.more || search.loading;
  ui.status.textContent = search.error
    ? search.error
    : search.loading
      ? "Searching…"
      : n === 0
        ? search.query
          ? `No room has “${search.query}” in its name or topic.`
          : "No rooms."
        : "";
  ui.status.hidden = ui.status.textContent === "";
  ui.status.classList.toggle("error", !!search.error);
}

// initDirectory registers the directory event and wires the search box, once.
export function initDirectory() {
  state.onServerEvent("directory", onDirectory);
  ui.form.addEventListener("submit", (e) => {
    e.preventDefault();
    runSearch();
  });
  ui.query.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(runSearch, SEARCH_DELAY_MS);
  });
  ui.query.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && ui.query.value !== "") {
      e.stopPropagation(); // the first Escape empties the box, the next closes the drawer
      ui.query.value = "";
      runSearch();
    }
  });
  ui.archived.addEventListener("change", runSearch);
  ui.more.addEventListener("click", () => {
    if (!search || !search.more || search.loading) return;
    fetchPage(search, search.results[search.results.length - 1].name);
  });
  let ready = false;
  state.subscribe((topic) => {
    if (topic === "conn") {
      // Connected again: directory events may have been missed meanwhile.
      const now = state.status().state === "ready";
      if (now && !ready && search) runSearch();
      ready = now;
    } else if (topic === "rooms" && search) render();
    if (topic === "me" && state.getMe().name === "" && search) {
      // Signed out: the next user starts with no search.
      ui.form.reset();
      runSearch();
    }
  });
}
