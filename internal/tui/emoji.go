package tui

import "strings"

// shortcodes maps the emoji shortcodes people type most to their emoji.
// /react takes them, and message bodies show them as emoji. The table is
// small on purpose: an unknown :word: stays text.
var shortcodes = map[string]string{
	"+1": "👍", "thumbsup": "👍", "-1": "👎", "thumbsdown": "👎",
	"heart": "❤️", "smile": "😄", "smiley": "😃", "grin": "😁", "joy": "😂",
	"laughing": "😆", "wink": "😉", "slightly_smiling_face": "🙂", "thinking": "🤔",
	"cry": "😢", "sob": "😭", "open_mouth": "😮", "scream": "😱", "angry": "😠",
	"tada": "🎉", "eyes": "👀", "rocket": "🚀", "fire": "🔥", "wave": "👋",
	"clap": "👏", "pray": "🙏", "ok_hand": "👌", "muscle": "💪", "100": "💯",
	"white_check_mark": "✅", "heavy_check_mark": "✔️", "x": "❌", "warning": "⚠️",
	"star": "⭐", "sparkles": "✨", "bug": "🐛", "coffee": "☕", "beers": "🍻",
}

// shortcodeAt returns the emoji of the shortcode that starts s (":tada:
// …"), and its length.
func shortcodeAt(s string) (string, int, bool) {
	end := strings.IndexByte(s[1:], ':')
	if end < 1 || end > 24 {
		return "", 0, false
	}
	emoji, ok := shortcodes[s[1:1+end]]
	return emoji, end + 2, ok
}

// emojiArg is the emoji of /react's argument: a shortcode (":+1:" or
// "+1") or the emoji itself.
func emojiArg(s string) string {
	if e, n, ok := shortcodeAt(s); ok && n == len(s) {
		return e
	}
	if e, ok := shortcodes[s]; ok {
		return e
	}
	return s
}
