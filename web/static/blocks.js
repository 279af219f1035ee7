// Blocking (docs/protocol.md, "Blocking"): the blocked and unblocked
// events, which reach every connection of the account whichever made the
// change, and Block / Unblock from the member list's menu. The list itself
// is asked for after hello (lifecycle.js) and kept in state.js; the rooms
// fold the blocked accounts' messages (room.js).

import { Disconnected } from "./conn.js";
import { sentence } from "./account.js";
import { toast } from "./ui.js";
import * as state from "./state.js";

// initBlocks registers the handlers of this module's event types, once.
export function initBlocks() {
  state.onServerEvent("blocked", (ev) => state.setBlocked(ev.user, true));
  state.onServerEvent("unblocked", (ev) => state.setBlocked(ev.user, false));
}

// setBlock blocks user (on) or lifts the block, and tells how it went in a
// toast. The list changes at once; the event that follows changes nothing
// more.
export async function setBlock(user, on) {
  const conn = state.getConn();
  try {
    if (!conn) throw new Disconnected();
    await conn.request({ op: on ? "block" : "unblock", user });
  } catch (err) {
    const why = err instanceof Disconnected ? "not connected" : err.reason || err.code || err.message;
    toast(sentence(`Could not ${on ? "block" : "unblock"} ${user}: ${why}`));
    return;
  }
  state.setBlocked(user, on);
  toast(
    on
      ? `You blocked ${user}. Their messages are folded away, and they cannot message you.`
      : `You unblocked ${user}. Their messages show again.`,
  );
}
