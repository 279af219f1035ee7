// The messages that replies answer: a reply shows a quote of the message
// it answers, and when that message is older than everything the room
// holds, it is fetched on its own (history before reply_to + 1, limit 1, as
// docs/protocol.md says) and kept beside the list for the quote only, so
// that the list itself stays without gaps.

import { getConn, subscribe } from "./state.js";

const asked = new WeakMap(); // room → seqs fetched or being fetched

async function fetchQuoted(room, seq) {
  let seqs = asked.get(room);
  if (!seqs) asked.set(room, (seqs = new Set()));
  if (seqs.has(seq)) return;
  const conn = getConn();
  if (!conn || !conn.ready) return;
  seqs.add(seq);
  try {
    const ok = await conn.request({ op: "history", room: room.name, before: seq + 1, limit: 1 });
    const m = Array.isArray(ok.messages) ? ok.messages.find((x) => x && x.seq === seq) : undefined;
    if (m) room.setQuoted(m);
  } catch {
    seqs.delete(seq); // try again with the next reply shown
  }
}

// initReplies fetches the answered messages the rooms lack, once.
export function initReplies() {
  subscribe((topic, room, detail) => {
    if (topic !== "messages" || !room || !detail.added) return;
    for (const m of detail.added) {
      const seq = m.reply_to;
      if (!Number.isSafeInteger(seq) || seq <= 0 || room.message(seq)) continue;
      if (room.oldest !== null && seq >= room.oldest) continue; // in the list's range: not a plain message
      fetchQuoted(room, seq);
    }
  });
}
