// A safe Markdown subset for message bodies, parsed by hand and rendered
// by building DOM nodes: nothing here ever parses HTML, and every piece of
// the body reaches the page as a text node (textContent), so markup in a
// message is shown as the characters it is.
//
// Blocks: fenced code blocks (``` on a line of its own, closed by another)
// and quotes (lines starting with ">"); everything else is a paragraph
// whose line breaks are kept. Inline: **bold**, *italic* or _italic_,
// `code`, [text](url) links with http:, https: and mailto: URLs only, bare
// http(s) URLs, :shortcode: emoji from a fixed table, and @name mentions.
// Unclosed markers and refused URLs stay text. Nesting is cut at MAX_DEPTH.
//
// parse is pure (no DOM) and returns a tree; render turns a tree into
// nodes. The terminal client shows the same bodies as plain text.

import { appendBody, el } from "./dom.js";

const MAX_DEPTH = 4; // quotes in quotes, emphasis in emphasis
const LINK_SCHEMES = new Set(["http:", "https:", "mailto:"]);
const MAX_LABEL = 1000; // characters of a link's text

// EMOJI are the shortcodes the client knows: a modest table of common ones.
export const EMOJI = Object.freeze({
  smile: "😄", smiley: "😃", grin: "😁", joy: "😂", laughing: "😆", wink: "😉", blush: "😊",
  slightly_smiling_face: "🙂", upside_down_face: "🙃", heart_eyes: "😍", thinking: "🤔", neutral_face: "😐",
  expressionless: "😑", unamused: "😒", roll_eyes: "🙄", sweat_smile: "😅", sob: "😭", cry: "😢",
  angry: "😠", rage: "😡", scream: "😱", flushed: "😳", sunglasses: "😎", nerd: "🤓",
  sleeping: "😴", yum: "😋", stuck_out_tongue: "😛", confused: "😕", sweat: "😓", hugs: "🤗",
  "+1": "👍", thumbsup: "👍", "-1": "👎", thumbsdown: "👎", ok_hand: "👌", clap: "👏", wave: "👋",
  pray: "🙏", muscle: "💪", raised_hands: "🙌", point_up: "☝️", eyes: "👀",
  heart: "❤️", broken_heart: "💔", fire: "🔥", tada: "🎉", sparkles: "✨", star: "⭐", rocket: "🚀",
  "100": "💯", check: "✅", white_check_mark: "✅", x: "❌", warning: "⚠️", question: "❓",
  exclamation: "❗", bulb: "💡", coffee: "☕", beers: "🍻", cake: "🍰", bug: "🐛", zap: "⚡",
  poop: "💩", skull: "💀", see_no_evil: "🙈", shrug: "🤷", facepalm: "🤦", memo: "📝", lock: "🔒",
});

const FENCE = /^ {0,3}```/;
const FENCE_END = /^ {0,3}```\s*$/;
const QUOTE = /^ {0,3}>/;
const URL_AT = /https?:\/\/[^\s<>"'`]+/iy;
const EMOJI_AT = /:([a-z0-9_+-]{1,40}):/y;
const NAME_AT = /@([A-Za-z0-9][A-Za-z0-9_-]{0,31})/y;
const WORD = /[\p{L}\p{N}_]/u;
const SPACE = /\s/;

// parse reads body into blocks:
//   {t: "p", c: inlines}  {t: "pre", s: text}  {t: "quote", c: blocks}
export function parse(body, depth = 0) {
  const lines = String(body).split("\n");
  const blocks = [];
  let para = [];
  const flush = () => {
    if (para.length) blocks.push({ t: "p", c: parseInline(para.join("\n")) });
    para = [];
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (FENCE.test(line)) {
      let end = -1;
      for (let j = i + 1; j < lines.length; j++) {
        if (FENCE_END.test(lines[j])) {
          end = j;
          break;
        }
      }
      if (end > i) {
        flush();
        blocks.push({ t: "pre", s: lines.slice(i + 1, end).join("\n") });
        i = end;
        continue;
      }
    }
    if (QUOTE.test(line) && depth < MAX_DEPTH) {
      flush();
      const quoted = [];
      for (; i < lines.length && QUOTE.test(lines[i]); i++) quoted.push(lines[i].replace(/^ {0,3}> ?/, ""));
      i--;
      blocks.push({ t: "quote", c: parse(quoted.join("\n"), depth + 1) });
      continue;
    }
    para.push(line);
  }
  flush();
  return blocks;
}

// parseInline reads one run of text into inlines:
//   {t: "text", s}  {t: "code", s}  {t: "strong"|"em", c: inlines}
//   {t: "link", href, c: inlines}  {t: "emoji", name, s}  {t: "mention", name}
// A link's text holds no links (inLink).
export function parseInline(s, depth = 0, inLink = false) {
  const out = [];
  let text = "";
  const push = (tok) => {
    if (text) out.push({ t: "text", s: text });
    text = "";
    out.push(tok);
  };
  let i = 0;
  while (i < s.length) {
    const c = s[i];
    const prev = i > 0 ? s[i - 1] : "";
    if (c === "`") {
      const j = s.indexOf("`", i + 1);
      if (j > i + 1) {
        push({ t: "code", s: s.slice(i + 1, j) });
        i = j + 1;
        continue;
      }
    } else if ((c === "*" || c === "_") && depth < MAX_DEPTH && !(c === "_" && WORD.test(prev))) {
      const mark = s[i + 1] === c ? c + c : c;
      const from = i + mark.length;
      const j = from < s.length && !SPACE.test(s[from]) ? closer(s, from, mark) : -1;
      if (j > from) {
        push({ t: mark.length === 2 ? "strong" : "em", c: parseInline(s.slice(from, j), depth + 1, inLink) });
        i = j + mark.length;
        continue;
      }
    } else if (c === "[" && !inLink && depth < MAX_DEPTH) {
      const link = linkAt(s, i);
      if (link) {
        push({ t: "link", href: link.href, c: parseInline(link.label, depth + 1, true) });
        i = link.end;
        continue;
      }
    } else if ((c === "h" || c === "H") && !WORD.test(prev)) {
      // A bare URL is text (render links it): markers inside it are not.
      URL_AT.lastIndex = i;
      const m = URL_AT.exec(s);
      if (m) {
        text += m[0];
        i += m[0].length;
        continue;
      }
    } else if (c === ":") {
      EMOJI_AT.lastIndex = i;
      const m = EMOJI_AT.exec(s);
      if (m && Object.hasOwn(EMOJI, m[1])) {
        push({ t: "emoji", name: m[1], s: EMOJI[m[1]] });
        i += m[0].length;
        continue;
      }
    } else if (c === "@" && !WORD.test(prev) && prev !== "@") {
      NAME_AT.lastIndex = i;
      const m = NAME_AT.exec(s);
      if (m) {
        push({ t: "mention", name: m[1] });
        i += m[0].length;
        continue;
      }
    }
    text += c;
    i++;
  }
  if (text) out.push({ t: "text", s: text });
  return out;
}

// closer finds where emphasis opened with mark before from closes: the
// next mark after a non-space, that is not half of a longer run (and, for
// _, not inside a word). -1 when none.
function closer(s, from, mark) {
  const c = mark[0];
  for (let j = s.indexOf(mark, from + 1); j !== -1; j = s.indexOf(mark, j + 1)) {
    if (SPACE.test(s[j - 1])) continue;
    if (mark.length === 1 && (s[j - 1] === c || s[j + 1] === c)) continue;
    if (c === "_" && j + mark.length < s.length && WORD.test(s[j + mark.length])) continue;
    // "***" closes "**" with its last two: **a *b*** is strong around em.
    if (mark.length === 2) while (s[j + 2] === c) j++;
    return j;
  }
  return -1;
}

// linkAt reads [label](url) at s[i] === "[". It returns {label, href, end}
// or null when there is none or its URL is not allowed.
function linkAt(s, i) {
  const mid = s.indexOf("](", i + 1);
  if (mid < 0 || mid - i > MAX_LABEL) return null;
  const label = s.slice(i + 1, mid);
  if (label === "" || label.includes("\n")) return null;
  const end = s.indexOf(")", mid + 2);
  if (end < 0) return null;
  const raw = s.slice(mid + 2, end).trim();
  if (raw === "" || /\s/.test(raw)) return null;
  let url;
  try {
    url = new URL(raw);
  } catch {
    return null;
  }
  if (!LINK_SCHEMES.has(url.protocol)) return null;
  return { label, href: url.href, end: end + 1 };
}

// mentions returns the names mentioned in body (as written), outside code.
export function mentions(body) {
  const names = [];
  const walk = (nodes) => {
    for (const n of nodes) {
      if (n.t === "mention") names.push(n.name);
      if (n.c) walk(n.c);
    }
  };
  walk(parse(body));
  return names;
}

// mentionsUser reports whether body mentions user (names compare without
// case, as account names are lower case).
export function mentionsUser(body, user) {
  if (!user) return false;
  const u = user.toLowerCase();
  return mentions(body).some((n) => n.toLowerCase() === u);
}

// render turns blocks (parse) into a DocumentFragment. me is the user's
// name: mentions of it get the class "me".
export function render(blocks, me = "") {
  const frag = document.createDocumentFragment();
  for (const b of blocks) frag.append(renderBlock(b, me));
  return frag;
}

function renderBlock(b, me) {
  switch (b.t) {
    case "pre":
      return el("pre", { class: "md-pre" }, el("code", { text: b.s }));
    case "quote":
      return el("blockquote", { class: "md-quote" }, render(b.c, me));
    default:
      return el("p", { class: "md-p" }, renderInline(b.c, me));
  }
}

// renderInline turns inlines (parseInline) into a DocumentFragment.
export function renderInline(nodes, me = "", inLink = false) {
  const frag = document.createDocumentFragment();
  const lower = me.toLowerCase();
  for (const n of nodes) {
    switch (n.t) {
      case "text":
        if (inLink) frag.append(document.createTextNode(n.s));
        else appendBody(frag, n.s);
        break;
      case "code":
        frag.append(el("code", { class: "md-code", text: n.s }));
        break;
      case "strong":
        frag.append(el("strong", {}, renderInline(n.c, me, inLink)));
        break;
      case "em":
        frag.append(el("em", {}, renderInline(n.c, me, inLink)));
        break;
      case "link":
        frag.append(el("a", { href: n.href, target: "_blank", rel: "noopener noreferrer nofollow" }, renderInline(n.c, me, true)));
        break;
      case "emoji":
        frag.append(el("span", { class: "emoji", title: `:${n.name}:`, text: n.s }));
        break;
      case "mention": {
        const mine = lower !== "" && n.name.toLowerCase() === lower;
        frag.append(el("span", { class: mine ? "mention me" : "mention", text: `@${n.name}` }));
        break;
      }
    }
  }
  return frag;
}

// renderBody renders a message body: Markdown, or for an action ("/me
// waves", as the terminal client sends it) "* ada waves" on one line.
// It reports whether the body was an action.
export function renderBody(node, body, author, me = "") {
  const action = actionOf(body);
  if (action !== null) {
    node.append("* ", el("span", { class: "action-author", text: author }), " ", renderInline(parseInline(action), me));
    return true;
  }
  node.append(render(parse(body), me));
  return false;
}

// actionOf returns what follows "/me " at the start of body, or null.
export function actionOf(body) {
  return typeof body === "string" && body.startsWith("/me ") && body.length > 4 ? body.slice(4) : null;
}
