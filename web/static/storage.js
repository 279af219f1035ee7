// What the client remembers between visits, in localStorage, one record
// per identity so that a guest and an account (or two accounts) sharing a
// browser never share rooms: the joined rooms in the user's order with the
// last sequence number the user has seen in each, the room that was open,
// the conversations (DMs) the user closed and up to where, and, for the
// guest record, the display name.
//
// localStorage may be unavailable (private modes, quota, disabled storage);
// then the client still works and simply forgets on reload.

const GUEST_KEY = "hubbub.v1"; // the guest record (the key predates accounts)
const ACCOUNT_PREFIX = "hubbub.v1.account.";
const MODE_KEY = "hubbub.v1.mode"; // "guest" or "account": who used this browser last

// storageKey is the record of an account (name) or, for null, of guests.
export const storageKey = (account) => (account ? ACCOUNT_PREFIX + account : GUEST_KEY);

function read(key) {
  try {
    const raw = localStorage.getItem(key);
    if (!raw) return null;
    const v = JSON.parse(raw);
    return v && typeof v === "object" ? v : null;
  } catch {
    return null;
  }
}

// lastMode returns "guest", "account" or "" (nobody yet).
export function lastMode() {
  try {
    const v = localStorage.getItem(MODE_KEY);
    return v === "guest" || v === "account" ? v : "";
  } catch {
    return "";
  }
}

export function setLastMode(mode) {
  try {
    localStorage.setItem(MODE_KEY, mode);
  } catch {
    // storage disabled
  }
}

export class Saved {
  // account is the account name, or null for the guest record.
  constructor(account = null) {
    this.key = storageKey(account);
    const v = read(this.key);
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
    // closed: DM room → the last seq when the user closed it; it comes back
    // when something newer arrives.
    this.closed = new Map();
    if (v && v.closed && typeof v.closed === "object") {
      for (const [name, seq] of Object.entries(v.closed)) {
        if (Number.isSafeInteger(seq) && seq >= 0) this.closed.set(name, seq);
      }
    }
    this.timer = 0;
    this.dirty = false; // changed since the last write
    this.removed = false;
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
    if (this.removed) return;
    this.fresh = false;
    this.dirty = true;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.flush(), 200);
  }

  // flush writes now what save would write soon, if anything.
  flush() {
    clearTimeout(this.timer);
    if (this.removed || !this.dirty) return;
    this.dirty = false;
    try {
      const v = { name: this.name, active: this.active, rooms: this.rooms, closed: Object.fromEntries(this.closed) };
      localStorage.setItem(this.key, JSON.stringify(v));
    } catch {
      // storage full or disabled: keep working without it
    }
  }

  // remove forgets the record, now and for good: later saves are ignored.
  remove() {
    clearTimeout(this.timer);
    this.removed = true;
    try {
      localStorage.removeItem(this.key);
    } catch {
      // storage disabled
    }
  }
}
