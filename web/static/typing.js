// Telling a room that the user is typing, at a rate the server accepts.

import { getConn } from "./state.js";

export const TYPING_EVERY_MS = 3000;
export const TYPING_SHOWN_MS = 5000;
export const TYPING_AFTER_SEND_MS = 1500;

// sendTyping tells the room that the user is typing, at most once every
// TYPING_EVERY_MS; input within that time is announced when it ends.
export function sendTyping(room) {
  const now = Date.now();
  const wait = room.lastTypingSent + TYPING_EVERY_MS - now;
  if (wait > 0) {
    if (!room.typingTimer) {
      room.typingTimer = setTimeout(() => {
        room.typingTimer = 0;
        if (room.lastInputAt > room.lastTypingSent && room.draft.trim() !== "") sendTyping(room);
      }, wait);
    }
    return;
  }
  const conn = getConn();
  if (room.joined && conn && conn.notify({ op: "typing", room: room.name })) room.lastTypingSent = now;
}

// typingSent adjusts the pace after a message went out: the next one may
// announce typing sooner than TYPING_EVERY_MS after the last notice, but not
// within a second of it (the server drops notices closer than that).
export function typingSent(room) {
  clearTimeout(room.typingTimer);
  room.typingTimer = 0;
  room.lastTypingSent -= TYPING_EVERY_MS - TYPING_AFTER_SEND_MS;
}
