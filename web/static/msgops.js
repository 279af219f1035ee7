// The commands on a message that is stored: edit (the user's own), delete
// (the user's own; anyone's for the room's owner and moderators and for
// server administrators) and react (toggle one emoji). Each answer is the
// entry the server stored; it is shown at once (sync.receive folds it into
// its message), and the same entry arriving as an event later changes
// nothing (the V rule). A refusal is told in a toast.

import { RequestError } from "./conn.js";
import { toast } from "./ui.js";
import { getConn } from "./state.js";
import { receive } from "./sync.js";

const REASONS = {
  forbidden: "You may not do that to this message.",
  no_such_message: "That message is gone.",
  muted: "You are muted here.",
  rate_limited: "Slow down — you are sending too fast.",
  limit_reached: "This message has as many different reactions as it can hold.",
  not_joined: "You are not in this room right now.",
};

// run sends cmd about room and shows the entry it answers with. It
// resolves true when the server stored it.
async function run(room, cmd, what) {
  const conn = getConn();
  if (!conn || !conn.ready) {
    toast(`Not connected: the ${what} was not sent.`);
    return false;
  }
  try {
    const ok = await conn.request({ room: room.name, ...cmd });
    if (ok.message && typeof ok.message === "object") receive(room, ok.message, false);
    return true;
  } catch (err) {
    const code = err instanceof RequestError ? err.code : "disconnected";
    toast(REASONS[code] || `The ${what} failed: ${err.reason || err.message || code}`);
    return false;
  }
}

// editMessage replaces the body of the user's message seq.
export const editMessage = (room, seq, body) => run(room, { op: "edit", seq, body }, "edit");

// deleteMessage deletes message seq.
export const deleteMessage = (room, seq) => run(room, { op: "delete", seq }, "deletion");

// react toggles the user's reaction emoji on message seq.
export const react = (room, seq, emoji) => run(room, { op: "react", seq, emoji }, "reaction");
