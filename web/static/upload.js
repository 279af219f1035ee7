// Uploading a file over the socket (docs/protocol.md, "Files"): the
// SHA-256 of the whole file, the upload command, then the file's bytes as
// binary messages — each a small header and up to the server's chunk size
// — a few ahead of the server's answers, through the connection's one
// socket (conn.js sendBinary). When the socket drops, the upload waits for
// the next one, asks the server where the upload stands and carries on
// from there: chunks the server answered are not sent again. The result is
// the complete file as the server describes it ({id, name, size, type,
// width, height, thumb}); sending a message with it is send.js's.
//
// crypto.subtle has no streaming digest, so the whole file is read into
// memory once for its checksum (files are at most 10 MiB by default); the
// chunks are then read a slice at a time. This module keeps no state
// between uploads and touches no page.

import { Disconnected, RequestError } from "./conn.js";

// WINDOW is how many chunks are sent ahead of the server's answers.
export const WINDOW = 4;
const DEFAULT_CHUNK = 60 * 1024; // protocol.MaxChunkBytes, if the server names none
const MAX_RESTARTS = 3; // bad_offset in a row before giving up

// Cancelled rejects an upload the user cancelled.
export class Cancelled extends Error {
  constructor() {
    super("cancelled");
    this.code = "cancelled";
  }
}

// sha256Hex returns the SHA-256 of blob in lower-case hex. It needs a
// secure context (https:, or http: on localhost), where crypto.subtle is.
export async function sha256Hex(blob) {
  if (!globalThis.crypto || !crypto.subtle) {
    throw new Error("Files can be sent only from a secure page (https, or this computer's own address).");
  }
  const sum = new Uint8Array(await crypto.subtle.digest("SHA-256", await blob.arrayBuffer()));
  return Array.from(sum, (b) => b.toString(16).padStart(2, "0")).join("");
}

// chunkMessage builds one binary message: version 1, the upload id's
// length and the id (ASCII), the offset (8 bytes, big-endian), the bytes.
export function chunkMessage(id, offset, bytes) {
  const head = 2 + id.length + 8;
  const out = new Uint8Array(head + bytes.length);
  out[0] = 1;
  out[1] = id.length;
  for (let i = 0; i < id.length; i++) out[2 + i] = id.charCodeAt(i);
  new DataView(out.buffer).setBigUint64(2 + id.length, BigInt(offset));
  out.set(bytes, head);
  return out;
}

// uploadFile uploads file (a File or Blob with a name) through conn and
// resolves with the complete file the server describes. onProgress(phase,
// stored, size) tells how far it is: phase "checksum" while the SHA-256
// is computed, then "upload" with the bytes the server has stored. signal
// (an AbortSignal) cancels it (Cancelled). A refusal of the server
// rejects with its RequestError (file_too_large, rate_limited,
// limit_reached, checksum_mismatch, …); a stopped connection (signed out)
// with Disconnected. A lost socket is not an error: the upload resumes on
// the next one.
export async function uploadFile(conn, file, name, { signal, onProgress = () => {} } = {}) {
  const size = file.size;
  const check = () => {
    if (signal && signal.aborted) throw new Cancelled();
  };
  onProgress("checksum", 0, size);
  const sha256 = await sha256Hex(file);
  check();
  let id = "";
  for (;;) {
    await whenReady(conn, signal);
    let reply;
    try {
      const cmd = id ? { op: "upload", upload: id } : { op: "upload", name, size, sha256 };
      if (!id && file.type && /^[\x21-\x7e]{1,255}$/.test(file.type)) cmd.type = file.type;
      reply = await conn.request(cmd);
    } catch (err) {
      // The reply was lost with the socket: ask again on the next one (a
      // start whose reply was lost is left to expire, as the Go client does).
      if (err instanceof Disconnected && conn.state !== "stopped") continue;
      throw err;
    }
    check();
    const st = reply.upload;
    if (!st || typeof st.id !== "string" || (id && st.id !== id) || st.size !== size) {
      throw new RequestError("internal", "the server's answer to the upload is not about this file");
    }
    id = st.id;
    onProgress("upload", st.offset, size);
    if (st.file) return st.file;
    const got = await pump(conn, file, st, signal, onProgress);
    if (got) return got;
    // null: the socket dropped; resume on the next one.
  }
}

// whenReady resolves once conn carries commands; it rejects if conn is
// stopped (signed out) or signal aborts.
function whenReady(conn, signal) {
  return new Promise((resolve, reject) => {
    const done = (fn, v) => {
      conn.removeEventListener("state", onState);
      if (signal) signal.removeEventListener("abort", onAbort);
      fn(v);
    };
    const onState = () => {
      if (conn.ready) done(resolve);
      else if (conn.state === "stopped") done(reject, new Disconnected("signed out"));
    };
    const onAbort = () => done(reject, new Cancelled());
    conn.addEventListener("state", onState);
    if (signal) signal.addEventListener("abort", onAbort);
    if (signal && signal.aborted) onAbort();
    else onState();
  });
}

// pump sends the chunks of the open upload st from st.offset on conn's
// current socket, at most WINDOW ahead of the server's answers, and
// resolves with the complete file, or null if the socket dropped first.
// After a bad_offset it waits for the answers to every chunk in flight
// (refused too) and goes on from where the last one says the upload stands.
function pump(conn, file, st, signal, onProgress) {
  const { id, size } = st;
  const chunk = Number.isSafeInteger(st.chunk) && st.chunk > 0 ? st.chunk : DEFAULT_CHUNK;
  const generation = conn.generation;
  return new Promise((resolve, reject) => {
    let next = st.offset; // the next byte to send
    let stored = st.offset; // where the server last said the upload stands
    let inflight = 0;
    let draining = false; // after a bad_offset: send nothing until every answer is in
    let restarts = 0;
    let busy = false; // fill is reading a slice of the file
    let over = false;

    const finish = (fn, v) => {
      if (over) return;
      over = true;
      conn.removeEventListener("chunk", onChunk);
      conn.removeEventListener("closed", onClosed);
      if (signal) signal.removeEventListener("abort", onAbort);
      fn(v);
    };
    const onClosed = () => finish(resolve, null);
    const onAbort = () => finish(reject, new Cancelled());

    // fill sends chunks while the window has room. Reading a slice takes
    // a moment, during which answers arrive: a slice read for an offset
    // that is no longer next (a restart) is not sent.
    async function fill() {
      if (busy) return;
      busy = true;
      try {
        while (!over && !draining && inflight < WINDOW && next < size) {
          const off = next;
          const n = Math.min(chunk, size - off);
          const bytes = new Uint8Array(await file.slice(off, off + n).arrayBuffer());
          if (over || conn.generation !== generation) return;
          if (draining || next !== off) continue;
          if (bytes.length !== n) throw new Error("The file changed while it was being sent.");
          if (!conn.sendBinary(chunkMessage(id, off, bytes))) {
            finish(resolve, null);
            return;
          }
          next = off + n;
          inflight++;
        }
      } catch (err) {
        finish(reject, err);
      } finally {
        busy = false;
      }
    }

    function onChunk(e) {
      const { ev, generation: gen } = e.detail;
      if (gen !== generation || ev.upload.id !== id) return; // another socket's, or another upload's
      inflight--;
      const offset = Number.isSafeInteger(ev.upload.offset) ? ev.upload.offset : stored;
      if (ev.type === "error") {
        if (ev.code !== "bad_offset") {
          finish(reject, new RequestError(ev.code, ev.reason));
          return;
        }
        if (!draining && ++restarts > MAX_RESTARTS) {
          finish(reject, new RequestError(ev.code, ev.reason));
          return;
        }
        draining = true;
        stored = offset;
      } else {
        stored = offset;
        onProgress("upload", stored, size);
        if (ev.upload.file && typeof ev.upload.file === "object") {
          finish(resolve, ev.upload.file);
          return;
        }
        restarts = 0;
      }
      if (draining && inflight <= 0) {
        draining = false;
        inflight = 0;
        next = stored;
      }
      if (!draining && inflight === 0 && next >= size && stored >= size) {
        finish(reject, new RequestError("internal", "the server stored the whole file and did not describe it"));
        return;
      }
      fill();
    }

    conn.addEventListener("chunk", onChunk);
    conn.addEventListener("closed", onClosed);
    if (signal) signal.addEventListener("abort", onAbort);
    if (signal && signal.aborted) onAbort();
    else if (!conn.ready || conn.generation !== generation) onClosed();
    else fill();
  });
}
