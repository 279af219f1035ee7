// What the news of a room (its entries for invitations, kicks, bans,
// mutes, the topic and roles: message.js shows them as lines) changes in
// the client's state: who is here, who belongs to a private room (its
// roster), who is muted, the topic, roles.
//
// Only news newer than the state the join reply gave (room.baseSeq) is
// applied: older entries, in the first page or in older pages, are already
// in that state. Applying one twice changes nothing. The typed events of
// the protocol (kicked, banned, muted, role …) reach only the user acted
// on; events.js handles those.

import { refreshManage } from "./manage.js";
import * as state from "./state.js";

const str = (v) => (typeof v === "string" ? v : "");

// apply makes the client's state follow one entry of news in room.
function apply(room, m) {
  const me = state.getMe().name;
  const user = str(m.user);
  switch (m.kind) {
    case "invite":
      if (user && room.roster) {
        room.roster.add(user);
        if (!room.roles.has(user)) room.roles.set(user, "member");
        state.changed("members", room);
      }
      return;
    case "kick":
    case "ban":
      if (!user || user === me) return; // our own removal: events.js
      room.members.delete(user);
      // Kicked from a private room, a user loses their role. A ban keeps
      // it (unused while the ban lasts): the user stays on the roster.
      if (room.roster && m.kind === "kick") {
        room.roster.delete(user);
        room.roles.delete(user);
      }
      room.muted.delete(user);
      room.typing.delete(user);
      state.changed("members", room);
      state.changed("typing", room);
      return;
    case "mute":
    case "unmute": {
      if (!user) return;
      const end = m.kind === "unmute" ? 0 : Number.isSafeInteger(m.until) && m.until > 0 ? m.until : Infinity;
      if (end) room.muted.set(user, end);
      else room.muted.delete(user);
      if (user === me) {
        room.mutedUntil = end;
        room.muteEndUnknown = false;
        state.changed("composer", room);
      }
      state.changed("members", room);
      return;
    }
    case "topic":
      state.setTopic(room.name, str(m.body));
      return;
    case "role":
      if (!user) return;
      state.setRole(room, user, str(m.body));
      refreshManage(room); // ours changes what we may do; theirs, what we may do to them
      return;
  }
}

// initRoomNews follows the news shown in every room, once.
export function initRoomNews() {
  state.subscribe((topic, room, detail) => {
    if (topic !== "messages" || !room || !detail.news) return;
    for (const m of detail.news) if (m.seq > room.baseSeq) apply(room, m);
  });
}
