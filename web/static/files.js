// How a message's file looks (docs/protocol.md, "Files"): an image with a
// thumbnail shows it inline from /thumbs/{id}, sized by its width and
// height before it loads (so that nothing jumps), and a click opens the
// full image (/files/{id}/{name}) in a new tab; any other file shows its
// name and size as a download link. URLs are built from the file's id and
// name with encodeURIComponent; the name is shown as text. This module
// keeps no state.

import { el } from "./dom.js";

// THUMB_SIDE is the box a server's thumbnail fits in (320 × 320).
const THUMB_SIDE = 320;

const FILE_ID = /^[A-Za-z0-9_-]{1,64}$/;

// isFile reports whether f is a file as the protocol describes one.
export function isFile(f) {
  return !!f && typeof f === "object" && typeof f.id === "string" && FILE_ID.test(f.id) && typeof f.name === "string" && Number.isSafeInteger(f.size);
}

// fileURL is where file f downloads from.
export const fileURL = (f) => `/files/${encodeURIComponent(f.id)}/${encodeURIComponent(f.name)}`;

// thumbURL is where the thumbnail of image f is.
export const thumbURL = (f) => `/thumbs/${encodeURIComponent(f.id)}`;

// thumbSize is the size of the thumbnail of a width × height image: the
// image scaled to fit 320 × 320 (never enlarged), as the server makes it.
export function thumbSize(width, height) {
  if (width <= THUMB_SIDE && height <= THUMB_SIDE) return { width, height };
  if (width >= height) return { width: THUMB_SIDE, height: Math.max(1, Math.floor((height * THUMB_SIDE) / width)) };
  return { width: Math.max(1, Math.floor((width * THUMB_SIDE) / height)), height: THUMB_SIDE };
}

// formatSize says a number of bytes for people: "812 bytes", "48 KB",
// "3.2 MB".
export function formatSize(n) {
  if (n < 1000) return `${n} byte${n === 1 ? "" : "s"}`;
  const units = ["KB", "MB", "GB", "TB"];
  let v = n;
  let u = -1;
  do {
    v /= 1000;
    u++;
  } while (v >= 1000 && u < units.length - 1);
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[u]}`;
}

// renderFile builds what message m shows of its file, or null when it
// carries none (or one this client cannot read).
export function renderFile(m) {
  const f = m.file;
  if (!isFile(f)) return null;
  const w = Number.isSafeInteger(f.width) && f.width > 0 ? f.width : 0;
  const h = Number.isSafeInteger(f.height) && f.height > 0 ? f.height : 0;
  if (f.thumb === true && w && h) {
    const size = thumbSize(w, h);
    return el(
      "a",
      { class: "file file-image", href: fileURL(f), target: "_blank", rel: "noopener noreferrer", title: `${f.name} (${w} × ${h}, ${formatSize(f.size)}) — open the full image` },
      el("img", { src: thumbURL(f), width: size.width, height: size.height, alt: f.name, loading: "lazy", decoding: "async" }),
    );
  }
  return el(
    "a",
    { class: "file file-link", href: fileURL(f), download: f.name, rel: "noopener noreferrer", title: `Download ${f.name}` },
    el("span", { class: "file-icon", "aria-hidden": "true", text: "↓" }),
    el("span", { class: "file-name", text: f.name }),
    el("span", { class: "file-size", text: formatSize(f.size) }),
  );
}
