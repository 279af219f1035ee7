// Names in protocol v1: rooms, direct-message rooms and account names.
// These mirror protocol.CheckRoomName, protocol.CheckUsername and
// protocol.DMPeers so that the client can tell most mistakes before a round
// trip; the server has the last word.

// DEFAULT_ROOM is the room every server has (chat.DefaultRoom): new users
// start in it, and it can be neither archived nor deleted.
export const DEFAULT_ROOM = "lobby";

// ROOM_NAME is a public or private room: 1 to 32 of a-z 0-9 - _, starting
// with a letter or digit.
export const ROOM_NAME = /^[a-z0-9][a-z0-9_-]{0,31}$/;

// USERNAME is an account name: 3 to 32 of a-z 0-9 - _, starting with a
// letter.
export const USERNAME = /^[a-z][a-z0-9_-]{2,31}$/;

// mayBeAccount: could this presence name be an account? Guests may use any
// display name that is not an account's, so a name that is not a valid
// user name is a guest's for sure; other names are checked by the server.
export const mayBeAccount = (name) => USERNAME.test(name);

export const MIN_PASSWORD_BYTES = 8;
export const MAX_PASSWORD_BYTES = 128;

// dmPeers returns the two users of a direct-message room "dm:a:b" (a < b),
// or null if name is not one.
export function dmPeers(name) {
  if (typeof name !== "string" || !name.startsWith("dm:")) return null;
  const parts = name.slice(3).split(":");
  if (parts.length !== 2) return null;
  const [a, b] = parts;
  if (!USERNAME.test(a) || !USERNAME.test(b) || !(a < b)) return null;
  return [a, b];
}

export const isDM = (name) => dmPeers(name) !== null;

// isRoomName reports whether name can be joined: a room or a DM.
export const isRoomName = (name) => ROOM_NAME.test(name) || isDM(name);

// dmPeer is the other user of DM room name, as seen by me.
export function dmPeer(name, me) {
  const p = dmPeers(name);
  if (!p) return "";
  return p[0] === me ? p[1] : p[0];
}

// checkUsername returns why name (already lower-cased) is not an account
// name, or "".
export function checkUsername(name) {
  if (name === "") return "Please enter a user name.";
  if (name.length < 3) return "User names have at least 3 characters.";
  if (name.length > 32) return "User names have at most 32 characters.";
  if (!/^[a-z]/.test(name)) return "User names start with a letter.";
  if (!USERNAME.test(name)) return "Use a-z, 0-9, - and _ only.";
  return "";
}

// checkPassword returns why pw is not an acceptable password, or "".
// The limits are in bytes of UTF-8, as the server counts them.
export function checkPassword(pw) {
  const n = new TextEncoder().encode(pw).length;
  if (n === 0) return "Please enter a password.";
  if (n < MIN_PASSWORD_BYTES) return `Passwords have at least ${MIN_PASSWORD_BYTES} characters.`;
  if (n > MAX_PASSWORD_BYTES) return `Passwords have at most ${MAX_PASSWORD_BYTES} bytes.`;
  return "";
}
