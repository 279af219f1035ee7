// The page's fixed elements, by role, and the two ways the app speaks up
// outside the message list: the toast, and the screen-reader announcer.
// Everything else in the client reaches the page through `ui`.

const $ = (id) => document.getElementById(id);

export const ui = {
  app: $("app"),
  sidebar: $("sidebar"),
  backdrop: $("backdrop"),
  openDrawer: $("open-drawer"),
  closeDrawer: $("close-drawer"),
  drawerUnread: $("drawer-unread"),
  conn: $("conn"),
  connText: $("conn-text"),
  connRetry: $("conn-retry"),
  joined: $("joined-rooms"),
  joinedEmpty: $("joined-empty"),
  dmSection: $("dm-section"),
  dms: $("dm-list"),
  dmEmpty: $("dm-empty"),
  openDM: $("open-dm"),
  dmDialog: $("dm-dialog"),
  dmForm: $("dm-form"),
  dmUser: $("dm-user"),
  dmError: $("dm-error"),
  dmCancel: $("dm-cancel"),
  browse: $("browse-rooms"),
  browseEmpty: $("browse-empty"),
  meAvatar: $("me-avatar"),
  meName: $("me-name"),
  meKind: $("me-kind"),
  meAdmin: $("me-admin"),
  meMenuBtn: $("me-menu-btn"),
  meMenu: $("me-menu"),
  menuPassword: $("menu-password"),
  menuLogout: $("menu-logout"),
  menuDeleteAccount: $("menu-delete-account"),
  menuChangeName: $("menu-change-name"),
  menuSignIn: $("menu-sign-in"),
  passwordDialog: $("password-dialog"),
  passwordForm: $("password-form"),
  passwordUser: $("password-user"),
  passwordOld: $("password-old"),
  passwordNew: $("password-new"),
  passwordError: $("password-error"),
  passwordCancel: $("password-cancel"),
  accountDeleteDialog: $("account-delete-dialog"),
  accountDeleteForm: $("account-delete-form"),
  accountDeleteUser: $("account-delete-user"),
  accountDeletePassword: $("account-delete-password"),
  accountDeleteError: $("account-delete-error"),
  accountDeleteCancel: $("account-delete-cancel"),
  roomIcon: $("room-icon"),
  roomName: $("room-name"),
  roomTopic: $("room-topic"),
  memberCount: $("member-count"),
  memberCountNoun: $("member-count-noun"),
  membersTitle: $("members-title"),
  chatTitle: $("chat-title"),
  toggleMembers: $("toggle-members"),
  manage: $("manage-room"),
  notifyRoom: $("notify-room"),
  leave: $("leave-room"),
  banner: $("banner"),
  scroller: $("scroller"),
  host: $("message-host"),
  composeBar: $("compose-bar"),
  composeText: $("compose-text"),
  composeCancel: $("compose-cancel"),
  deleteDialog: $("delete-dialog"),
  deleteForm: $("delete-form"),
  deletePreview: $("delete-preview"),
  deleteCancel: $("delete-cancel"),
  picker: $("reaction-picker"),
  searchForm: $("search-form"),
  searchInput: $("search-input"),
  searchPanel: $("search-panel"),
  searchTitle: $("search-title"),
  searchClose: $("search-close"),
  searchStatus: $("search-status"),
  searchResults: $("search-results"),
  loadOlder: $("load-older"),
  historyStart: $("history-start"),
  noRoom: $("no-room"),
  pill: $("new-pill"),
  typing: $("typing"),
  mutedNote: $("muted-note"),
  chat: $("chat"),
  composer: $("composer"),
  attach: $("attach"),
  attachInput: $("attach-input"),
  attachTray: $("attach-tray"),
  attachName: $("attach-name"),
  attachProgress: $("attach-progress"),
  attachStatus: $("attach-status"),
  attachCancel: $("attach-cancel"),
  input: $("composer-input"),
  send: $("send"),
  count: $("composer-count"),
  members: $("members"),
  memberList: $("member-list"),
  closeMembers: $("close-members"),
  openCreate: $("open-create"),
  createDialog: $("create-dialog"),
  createForm: $("create-form"),
  createName: $("create-name"),
  createTopic: $("create-topic"),
  createPrivateRow: $("create-private-row"),
  createPrivate: $("create-private"),
  createError: $("create-error"),
  createCancel: $("create-cancel"),
  toast: $("toast"),
  announcer: $("announcer"),
};

// The toast is a popover where the browser has them, so that it shows
// above an open modal dialog too.
const popoverToast = typeof ui.toast.showPopover === "function";
if (popoverToast) ui.toast.hidden = false;
let toastTimer = 0;
export function toast(text, ms = 6000) {
  ui.toast.textContent = text;
  if (popoverToast) {
    // Re-showing puts it on top of whatever opened since.
    if (ui.toast.matches(":popover-open")) ui.toast.hidePopover();
    ui.toast.showPopover();
  } else {
    ui.toast.hidden = false;
  }
  clearTimeout(toastTimer);
  toastTimer = setTimeout(hideToast, ms);
}

export function hideToast() {
  clearTimeout(toastTimer);
  if (!popoverToast) ui.toast.hidden = true;
  else if (ui.toast.matches(":popover-open")) ui.toast.hidePopover();
}

const narrowQuery = window.matchMedia("(max-width: 760px)");
// isNarrow: is the window as narrow as a phone's (the sidebar a drawer)?
export const isNarrow = () => narrowQuery.matches;

export function announce(text) {
  ui.announcer.textContent = text;
}
