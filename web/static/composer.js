// The composer: the draft of the open room, its byte count, Enter to send,
// typing notices, the composer held while the user is muted there or the
// room is archived, and what it is doing (room.compose): answering a
// message (the bar above it quotes which), or editing one of the user's
// (Up on an empty composer edits the last one; Escape gives up either).
// Each room's draft is kept over a reload too (drafts.js).

import { byteLength, when } from "./dom.js";
import { toast, ui } from "./ui.js";
import { blockedPeer, getActive, getMe, isReady, labelOf, setCompose, subscribe } from "./state.js";
import { sendMessage } from "./send.js";
import { hasAttachment, sendAttachment } from "./attach.js";
import { editMessage } from "./msgops.js";
import { sendTyping, typingSent } from "./typing.js";
import { dropDraft, noteDraft } from "./drafts.js";

const MAX_BODY_BYTES = 4096;

function sendDraft() {
  const room = getActive();
  const body = ui.input.value;
  if (!room) return;
  const compose = room.compose;
  if (compose && compose.kind === "edit") {
    saveEdit(room, compose, body);
    return;
  }
  const attached = hasAttachment(room); // a file goes with body as its caption
  if (body.trim() === "" && !attached) return;
  if (byteLength(body) > MAX_BODY_BYTES) {
    toast(`Messages are at most ${MAX_BODY_BYTES} bytes.`);
    return;
  }
  ui.input.value = "";
  room.draft = "";
  typingSent(room);
  renderCount();
  if (compose) setCompose(room, null);
  // From here the message is send.js's, which sends it again after a
  // reconnect: kept as a draft too, a reload would offer it a second time.
  dropDraft(room);
  const replyTo = compose && compose.kind === "reply" ? compose.seq : 0;
  if (attached) sendAttachment(room, body.trim() === "" ? "" : body, replyTo);
  else sendMessage(room, body, replyTo);
}

// saveEdit sends the edited body of the user's message, unless it is
// unchanged, and puts back the draft set aside while editing. An edit that
// cannot go out (not connected) keeps the composer editing, and one the
// server did not store comes back to it if the user has not started
// something else meanwhile: the edited text is never thrown away.
async function saveEdit(room, compose, body) {
  const m = room.message(compose.seq);
  if (body.trim() === "") {
    toast("A message cannot be empty; delete it instead.");
    return;
  }
  if (byteLength(body) > MAX_BODY_BYTES) {
    toast(`Messages are at most ${MAX_BODY_BYTES} bytes.`);
    return;
  }
  if (!m || m.deleted || m.body === body) {
    stopEditing(room);
    return;
  }
  if (!isReady()) {
    toast("Not connected: the edit was not sent. Press Enter to save it once connected.");
    return;
  }
  stopEditing(room);
  if (await editMessage(room, compose.seq, body)) return;
  const untouched = getActive() === room && !room.compose && ui.input.value === (compose.draft || "");
  const still = room.message(compose.seq);
  if (!untouched || !still || still.deleted) return;
  setCompose(room, compose);
  ui.input.value = body;
  room.draft = body;
  renderCount();
}

// startEditing puts the user's message seq of room in the composer.
export function startEditing(room, seq) {
  const m = room.message(seq);
  if (!m || m.deleted || m.from !== getMe().name) return;
  const draft = room.compose && room.compose.kind === "edit" ? room.compose.draft : ui.input.value;
  setCompose(room, { kind: "edit", seq, draft });
  ui.input.value = m.body;
  room.draft = m.body;
  renderCount();
  ui.input.focus();
  ui.input.setSelectionRange(m.body.length, m.body.length);
}

// stopEditing leaves the edit (or reply) mode of room; an edit gives the
// composer back the draft it set aside.
function stopEditing(room) {
  const compose = room.compose;
  if (!compose) return;
  setCompose(room, null);
  if (compose.kind === "edit") {
    ui.input.value = compose.draft || "";
    room.draft = ui.input.value;
    renderCount();
  }
}

// lastOwn is the seq of the user's newest message in room that may be
// edited, or 0.
function lastOwn(room) {
  const me = getMe().name;
  for (let i = room.confirmed - 1; i >= 0; i--) {
    const it = room.items[i];
    if (!it.news && it.msg.from === me && !it.msg.deleted) return it.seq;
  }
  return 0;
}

// renderCompose shows what the composer does in the bar above it.
function renderCompose() {
  const room = getActive();
  const compose = room && room.compose;
  ui.composeBar.hidden = !compose;
  ui.composer.classList.toggle("editing", !!compose && compose.kind === "edit");
  if (!compose) return;
  if (compose.kind === "edit") {
    ui.composeText.textContent = "Editing your message · Enter to save, Escape to cancel";
    ui.composeCancel.textContent = "Cancel";
    return;
  }
  const m = room.message(compose.seq);
  const snippet = m ? (m.deleted ? "message deleted" : m.body.replace(/\s+/g, " ").trim().slice(0, 100)) : "an earlier message";
  ui.composeText.textContent = m ? `Replying to ${m.from}: ${snippet}` : `Replying to ${snippet}`;
  ui.composeCancel.textContent = "Cancel reply";
}

// renderComposer enables the composer for the open room, unless the user
// is muted there or the room is archived (read-only for everyone).
export function renderComposer() {
  const room = getActive();
  const archived = !!room && room.info.archived;
  const muted = !archived && !!room && room.mutedUntil > Date.now();
  // A DM with an account the user blocks: the server would take the
  // message, but writing to someone one blocks is a slip. Unblock first.
  const blocked = !archived && !muted && blockedPeer(room);
  ui.input.disabled = !room || muted || archived || blocked;
  ui.send.disabled = !room || muted || archived || blocked;
  ui.composer.classList.toggle("muted", muted || archived || blocked);
  ui.mutedNote.hidden = !muted && !archived && !blocked;
  if (blocked) {
    ui.mutedNote.textContent = `You block ${labelOf(room.name, room.info)}: they cannot message you. Unblock them from the member list to write here.`;
  } else if (archived) {
    ui.mutedNote.textContent = `${labelOf(room.name, room.info)} is archived: it is read-only. You can still read its history.`;
  } else if (muted) {
    const label = labelOf(room.name, room.info);
    ui.mutedNote.textContent =
      room.mutedUntil === Infinity
        ? `You are muted in ${label} until a moderator lifts it. You can still read along.`
        : room.muteEndUnknown
          ? `You are muted in ${label}. You can still read along.`
          : `You are muted in ${label} until ${when(room.mutedUntil)}. You can still read along.`;
  }
  ui.input.placeholder = archived
    ? "This room is archived"
    : muted
      ? "You are muted"
      : blocked
        ? "You block this user"
        : room && room.compose && room.compose.kind === "edit"
          ? "Edit your message"
          : room
            ? `Message ${labelOf(room.name, room.info)}`
            : "Message";
  renderCompose();
}

function renderCount() {
  const n = byteLength(ui.input.value);
  ui.count.textContent = n > MAX_BODY_BYTES - 600 ? ` · ${n}/${MAX_BODY_BYTES}` : "";
  ui.count.classList.toggle("over", n > MAX_BODY_BYTES);
  ui.composer.classList.toggle("has-text", ui.input.value.trim() !== "");
}

// Tab completes the @name before the cursor from the open room's members;
// Tab again goes on to the next name that fits.
const MENTIONABLE = /^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$/;
let completion = null; // {start, end, names, index}: the last completion made

function completeMention() {
  const room = getActive();
  if (!room) return false;
  const value = ui.input.value;
  const at = ui.input.selectionStart;
  if (at !== ui.input.selectionEnd) return false;
  if (!completion || completion.end !== at || value.slice(completion.start - 1, at) !== `@${completion.names[completion.index]} `) {
    const m = /(?:^|\s)@([A-Za-z0-9_-]*)$/.exec(value.slice(0, at));
    if (!m) return false;
    const prefix = m[1].toLowerCase();
    const me = getMe().name;
    const names = [...room.members]
      .filter((n) => n !== me && MENTIONABLE.test(n) && n.toLowerCase().startsWith(prefix))
      .sort((a, b) => a.localeCompare(b));
    if (names.length === 0) return false;
    completion = { start: at - m[1].length, end: at, names, index: -1 };
  }
  const c = completion;
  c.index = (c.index + 1) % c.names.length;
  const insert = `${c.names[c.index]} `;
  ui.input.value = value.slice(0, c.start) + insert + value.slice(c.end);
  c.end = c.start + insert.length;
  ui.input.setSelectionRange(c.end, c.end);
  room.draft = ui.input.value;
  noteDraft(room);
  renderCount();
  return true;
}

// initComposer wires the composer, once.
export function initComposer() {
  ui.composer.addEventListener("submit", (e) => {
    e.preventDefault();
    sendDraft();
    ui.input.focus();
  });
  ui.input.addEventListener("keydown", (e) => {
    if (e.key === "Tab" && !e.shiftKey && !e.altKey && !e.ctrlKey && !e.metaKey && completeMention()) {
      e.preventDefault(); // otherwise Tab moves on, as it should
      return;
    }
    const room = getActive();
    const plain = !e.shiftKey && !e.altKey && !e.ctrlKey && !e.metaKey;
    if (e.key === "ArrowUp" && plain && room && ui.input.value === "" && !room.compose) {
      const seq = lastOwn(room);
      if (seq) {
        e.preventDefault();
        startEditing(room, seq);
      }
      return;
    }
    if (e.key === "Escape" && room && room.compose) {
      e.preventDefault();
      e.stopPropagation();
      stopEditing(room);
      return;
    }
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
      e.preventDefault();
      sendDraft();
    }
  });
  ui.composeCancel.addEventListener("click", () => {
    const room = getActive();
    if (room) stopEditing(room);
    ui.input.focus();
  });
  ui.input.addEventListener("input", () => {
    renderCount();
    const room = getActive();
    if (!room) return;
    room.draft = ui.input.value;
    noteDraft(room);
    if (ui.input.value.trim() === "") return;
    room.lastInputAt = Date.now();
    sendTyping(room);
  });
  subscribe((topic, room, detail) => {
    if (topic === "active") {
      // The draft of each room stays with it.
      ui.input.value = room ? room.draft : "";
      renderComposer();
      renderCount();
    } else if (topic === "me" || ((topic === "composer" || topic === "room") && room === getActive())) {
      renderComposer();
    } else if (topic === "messages" && room === getActive()) {
      if (detail.discarded) ui.input.focus();
      // A reply kept over a reload names its message once history shows it.
      if (room.compose && room.compose.kind === "reply") renderCompose();
    }
  });
}
