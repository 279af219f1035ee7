// Attaching a file to a message: the paperclip button in the composer, a
// file dropped onto the room, or an image pasted into the composer. The
// upload (upload.js) starts at once, with a progress bar and a Cancel
// button above the composer, while the user writes the caption; sending
// (Enter, or the send button) sends the file with the composer's text as
// its caption, at once if the upload is done, else as soon as it is. A
// refusal (file_too_large, limit_reached, …) stays in the bar, in words,
// until the user dismisses it.
//
// One attachment per room at a time: attaching another replaces it. What
// is attached is this module's alone (no other module needs it); the
// composer asks through hasAttachment and hands the caption over with
// sendAttachment.

import { el } from "./dom.js";
import { RequestError } from "./conn.js";
import { toast, ui } from "./ui.js";
import { getActive, getConn, getRoom, subscribe } from "./state.js";
import { sendMessage } from "./send.js";
import { Cancelled, uploadFile } from "./upload.js";
import { formatSize } from "./files.js";
import { noteDraft } from "./drafts.js";

// Room → its attachment: {room, file, name, controller, phase ("checksum",
// "upload", "done", "failed"), stored, result (the complete file), error
// (words), pending ({caption, replyTo}: sent once the upload is done)}.
const attachments = new Map();

// Why the server refused, in a few words before its reason.
const LEADS = {
  file_too_large: "This file is too large to send",
  rate_limited: "Too many uploads at once",
  limit_reached: "Upload limit reached",
  checksum_mismatch: "The file changed while it was being sent",
  invalid_value: "This file cannot be sent",
  too_long: "This file's name is too long",
  forbidden: "This server does not take files",
};

// MAX_NAME_BYTES is the longest file name the protocol takes, in bytes
// of UTF-8.
const MAX_NAME_BYTES = 255;

// safeName is the file's name as the protocol takes it (CheckFileName):
// format characters dropped — bidi overrides that make "exe.txt" read as
// "txt.exe", zero-width joiners, which the server refuses in a name —
// path separators, control characters and broken surrogates made "_", no
// spaces at the ends, and at most 255 bytes of UTF-8, cut before the
// extension so that the type still shows.
function safeName(file) {
  let name = String(file.name || "")
    .replace(/\p{Cf}/gu, "")
    .replace(/[/\\\p{Cc}\uFFFD\uD800-\uDFFF]/gu, "_")
    .trim();
  const enc = new TextEncoder();
  if (enc.encode(name).length > MAX_NAME_BYTES) {
    const dot = name.lastIndexOf(".");
    const ext = dot > 0 && name.length - dot <= 16 ? name.slice(dot) : "";
    let stem = [...name.slice(0, name.length - ext.length)];
    const room = MAX_NAME_BYTES - enc.encode(ext).length;
    while (stem.length > 0 && enc.encode(stem.join("")).length > room) stem.pop();
    name = (stem.join("").trim() + ext).trim();
  }
  if (name && name !== "." && name !== "..") return name;
  const ext = /^image\/(png|jpeg|gif|webp)$/.exec(file.type || "");
  return ext ? `pasted.${ext[1] === "jpeg" ? "jpg" : ext[1]}` : "file";
}

// attachFile starts sending file in room, replacing what was attached
// there.
export function attachFile(room, file) {
  if (!room) {
    toast("Open a room to send a file there.");
    return;
  }
  if (ui.input.disabled) {
    toast("You cannot write in this room now.");
    return;
  }
  if (file.size === 0) {
    toast(`${file.name || "This file"} is empty; there is nothing to send.`);
    return;
  }
  const conn = getConn();
  if (!conn) return;
  discard(room);
  const rec = { room, file, name: safeName(file), controller: new AbortController(), phase: "checksum", stored: 0, result: null, error: "", pending: null };
  attachments.set(room, rec);
  render();
  uploadFile(conn, file, rec.name, {
    signal: rec.controller.signal,
    onProgress: (phase, stored) => {
      if (attachments.get(room) !== rec) return;
      rec.phase = phase;
      rec.stored = stored;
      render();
    },
  }).then(
    (result) => {
      if (attachments.get(room) !== rec) return;
      rec.phase = "done";
      rec.result = result;
      rec.stored = file.size;
      if (rec.pending) {
        attachments.delete(room);
        sendMessage(room, rec.pending.caption, rec.pending.replyTo, result);
      }
      render();
    },
    (err) => {
      if (err instanceof Cancelled || attachments.get(room) !== rec) return;
      rec.phase = "failed";
      rec.error = describe(err, rec.name);
      if (rec.pending && room === getActive() && ui.input.value === "") {
        // Give the caption back, so that nothing written is lost.
        ui.input.value = rec.pending.caption;
        room.draft = rec.pending.caption;
        noteDraft(room);
      }
      rec.pending = null;
      render();
    },
  );
}

// describe says why an upload failed, plainly.
function describe(err, name) {
  if (err instanceof RequestError) {
    const lead = LEADS[err.code] || "The upload failed";
    return err.reason ? `${lead}: ${err.reason}` : `${lead}.`;
  }
  return err && err.message ? `${name} was not sent: ${err.message}` : `${name} was not sent.`;
}

// hasAttachment reports whether room has a file attached that is being
// (or was) uploaded, ready to go with the next message.
export function hasAttachment(room) {
  const rec = room && attachments.get(room);
  return !!rec && rec.phase !== "failed";
}

// sendAttachment sends room's attached file with caption (may be ""),
// as a reply to replyTo if that is not 0: now if the upload is done, else
// once it is.
export function sendAttachment(room, caption, replyTo = 0) {
  const rec = attachments.get(room);
  if (!rec || rec.phase === "failed") return;
  if (rec.phase === "done") {
    attachments.delete(room);
    sendMessage(room, caption, replyTo, rec.result);
  } else {
    rec.pending = { caption, replyTo };
  }
  render();
}

// discard cancels room's attachment, if any.
function discard(room) {
  const rec = attachments.get(room);
  if (!rec) return;
  attachments.delete(room);
  rec.controller.abort();
}

// render shows the open room's attachment above the composer.
function render() {
  const room = getActive();
  const rec = room && attachments.get(room);
  ui.attachTray.hidden = !rec;
  ui.composer.classList.toggle("has-file", !!rec && rec.phase !== "failed");
  ui.attach.disabled = ui.input.disabled;
  if (!rec) return;
  const size = rec.file.size;
  ui.attachTray.dataset.phase = rec.phase;
  ui.attachName.replaceChildren(el("span", { class: "attach-file", text: rec.name }), el("span", { class: "attach-size", text: formatSize(size) }));
  const bar = ui.attachProgress;
  bar.hidden = rec.phase === "failed" || rec.phase === "done";
  if (rec.phase === "checksum") {
    bar.removeAttribute("value"); // indeterminate
  } else {
    bar.max = size;
    bar.value = rec.stored;
  }
  let text;
  switch (rec.phase) {
    case "checksum":
      text = "Preparing…";
      break;
    case "upload": {
      const pct = Math.floor((100 * rec.stored) / size);
      text = `Uploading ${pct}%`;
      if (rec.pending) text += " · sends when done";
      break;
    }
    case "done":
      text = "Ready · Enter sends it with your text as caption";
      break;
    default:
      text = rec.error;
  }
  ui.attachStatus.textContent = text;
  ui.attachCancel.textContent = rec.phase === "failed" ? "Dismiss" : "Cancel";
  ui.attachCancel.setAttribute("aria-label", rec.phase === "failed" ? "Dismiss" : `Cancel sending ${rec.name}`);
}

// isFileDrag reports whether a drag carries files.
const isFileDrag = (e) => !!e.dataTransfer && [...e.dataTransfer.types].includes("Files");

// firstFile picks the file to attach from a list, saying so when there
// were several.
function firstFile(files) {
  if (!files || files.length === 0) return null;
  if (files.length > 1) toast(`One file at a time: attached ${files[0].name}.`);
  return files[0];
}

// initAttach wires the attach button, dropping and pasting, once.
export function initAttach() {
  ui.attach.addEventListener("click", () => ui.attachInput.click());
  ui.attachInput.addEventListener("change", () => {
    const file = firstFile(ui.attachInput.files);
    ui.attachInput.value = ""; // the same file again fires change again
    if (file) attachFile(getActive(), file);
    ui.input.focus();
  });
  ui.attachCancel.addEventListener("click", () => {
    const room = getActive();
    if (room) discard(room);
    render();
    ui.input.focus();
  });

  // Dropping a file anywhere on the room attaches it.
  const zone = ui.chat;
  let depth = 0; // dragenter/dragleave pairs: children fire them too
  zone.addEventListener("dragenter", (e) => {
    if (!isFileDrag(e)) return;
    e.preventDefault();
    depth++;
    zone.classList.add("dropping");
  });
  zone.addEventListener("dragover", (e) => {
    if (!isFileDrag(e)) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = getActive() && !ui.input.disabled ? "copy" : "none";
  });
  zone.addEventListener("dragleave", () => {
    if (--depth <= 0) {
      depth = 0;
      zone.classList.remove("dropping");
    }
  });
  zone.addEventListener("drop", (e) => {
    depth = 0;
    zone.classList.remove("dropping");
    if (!isFileDrag(e)) return;
    e.preventDefault();
    const file = firstFile(e.dataTransfer.files);
    if (file) attachFile(getActive(), file);
  });

  // Pasting an image (a screenshot, say) attaches it; pasted text stays text.
  ui.input.addEventListener("paste", (e) => {
    const files = e.clipboardData ? [...e.clipboardData.files] : [];
    if (files.length === 0) return;
    e.preventDefault();
    const file = firstFile(files);
    if (file) attachFile(getActive(), file);
  });

  subscribe((topic, room) => {
    if (topic === "rooms") {
      // A room left (or everything, signing out): its upload stops.
      for (const r of [...attachments.keys()]) if (getRoom(r.name) !== r) discard(r);
      render();
    } else if (topic === "active" || ((topic === "composer" || topic === "room" || topic === "me") && (!room || room === getActive()))) {
      render();
    }
  });
}
