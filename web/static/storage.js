// What the client remembers between visits, in localStorage: the display
// name, the joined rooms in the user's order with the last sequence number
// the user has seen in each, and the room that was open.
//
// localStorage may be unavailable (private modes, quota, disabled storage);
// then the client still works and simply forgets on reload.

const KEY = "hubbub.v1";

function read() {
  try {
    const raw = localStorage.getItem(KEY);
    if (!raw) return null;
    const v = JSON.parse(raw);
    return v && typeof v === "object" ? v : null;
  } catch {
    return null;
  }
}

export class Saved {
  constructor() {
    const v = read();
    // fresh: nothing stored yet — a new user, who gets the default room.
    this.fresh = v === null;
    this.name = v && typeof v.name === "string" ? v.name : "";
    this.active = v && typeof v.active === "string" ? v.active : "";
    this.rooms = []; // [{name, seen}]; seen is null until the room was first joined
    if (v && Array.isArray(v.rooms)) {
      for (const r of v.rooms) {
        if (r && typeof r.name === "string") {
          const seen = Number.isSafeInteger(r.seen) && r.seen >= 0 ? r.seen : null;
          this.rooms.push({ name: r.name, seen });
        }
      }
    }
    this.timer = 0;
  }

  seen(room) {
    const r = this.rooms.find((r) => r.name === room);
    return r ? r.seen : null;
  }

  // setRooms records the joined rooms, in order, with their seen seq.
  setRooms(list) {
    this.rooms = list.map(({ name, seen }) => ({ name, seen }));
    this.save();
  }

  // save writes soon; several changes in a burst cost one write.
  save() {
    this.fresh = false;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.flush(), 200);
  }

  flush() {
    clearTimeout(this.timer);
    try {
      localStorage.setItem(KEY, JSON.stringify({ name: this.name, active: this.active, rooms: this.rooms }));
    } catch {
      // storage full or disabled: keep working without it
    }
  }
}
