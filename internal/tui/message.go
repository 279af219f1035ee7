package tui

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"github.com/hubbub-chat/hubbub/protocol"
)

// How a plain message is shown, under its author line: the quote of the
// message it answers, its text as plain text (markdown.go), "(edited)",
// or "message deleted" in its place; its file as name, size and link; its
// reactions, yours in brackets.

var (
	quoteStyle   = lipgloss.NewStyle().Faint(true)
	mentionStyle = lipgloss.NewStyle().Bold(true).Reverse(true)
)

// msgLine is a line of a message's rendering before wrapping: text with
// styles, wrapped at spaces unless code.
type msgLine struct {
	text  string
	style lipgloss.Style
	code  bool
}

// messageLines renders a plain message's lines, unwrapped. number puts
// the message's seq before its first line, for the commands that name a
// message.
func (m *Model) messageLines(w *window, msg *protocol.Message, number bool) []msgLine {
	var out []msgLine
	plain := lipgloss.NewStyle()
	if msg.ReplyTo > 0 {
		out = append(out, msgLine{text: m.quoteLine(w, msg.ReplyTo), style: quoteStyle})
	}
	switch {
	case msg.Deleted:
		out = append(out, msgLine{text: "message deleted", style: noteStyle})
	default:
		body := Sanitize(msg.Body)
		if action, ok := strings.CutPrefix(body, meAction); ok {
			body = "* " + SanitizeLine(msg.From) + " " + action
		}
		if body != "" {
			for _, l := range plainLines(body) {
				out = append(out, msgLine{text: m.highlight(l.text), style: plain, code: l.code})
			}
		}
		if msg.File != nil {
			out = append(out, msgLine{text: m.fileLine(msg.File), style: plain})
		}
		if len(out) == 0 || (msg.ReplyTo > 0 && len(out) == 1) {
			out = append(out, msgLine{style: plain})
		}
		if msg.Edited > 0 {
			last := &out[len(out)-1]
			last.text += dimStyle.Render(" (edited)")
		}
	}
	if line := m.reactionsLine(msg.Reactions); line != "" {
		out = append(out, msgLine{text: line, style: plain})
	}
	if number {
		i := 0
		if msg.ReplyTo > 0 && len(out) > 1 {
			i = 1 // the number goes before the text, not the quote
		}
		out[i].text = dimStyle.Render(fmt.Sprintf("#%d ", msg.Seq)) + out[i].text
	}
	return out
}

// quoteLine is the one-line quote of the message seq a reply answers. A
// message not held is fetched (fetchQuotes), and shown meanwhile as its
// number.
func (m *Model) quoteLine(w *window, seq int64) string {
	q := w.message(seq)
	if q == nil {
		return fmt.Sprintf("↪ #%d …", seq)
	}
	text := "message deleted"
	if !q.Deleted {
		text = strings.Join(strings.Fields(SanitizeLine(q.Body)), " ")
		if strings.HasPrefix(text, meAction) {
			text = "* " + SanitizeLine(q.From) + " " + strings.TrimPrefix(text, meAction)
		}
		if text == "" && q.File != nil {
			text = SanitizeLine(q.File.Name)
		}
	}
	return "↪ " + SanitizeLine(q.From) + ": " + ansi.Strip(plainInline(text))
}

// reactionsLine shows reactions as "👍 2  [❤️ 1]": the emoji and how many
// reacted with it, in brackets those the user reacted with.
func (m *Model) reactionsLine(rs []protocol.Reaction) string {
	var parts []string
	for _, r := range rs {
		if len(r.Users) == 0 {
			continue
		}
		part := fmt.Sprintf("%s %d", SanitizeLine(r.Emoji), len(r.Users))
		for _, u := range r.Users {
			if u == m.self.Name {
				part = "[" + part + "]"
				break
			}
		}
		parts = append(parts, part)
	}
	return strings.Join(parts, "  ")
}

// fileLine shows a file as its name, size and download link.
func (m *Model) fileLine(f *protocol.File) string {
	line := "📎 " + SanitizeLine(f.Name) + " (" + byteSize(f.Size)
	if f.Width > 0 && f.Height > 0 {
		line += fmt.Sprintf(", %d×%d", f.Width, f.Height)
	}
	line += ")"
	if link := fileURL(m.server, f); link != "" {
		line += " " + SanitizeLine(link)
	}
	return line
}

// fileURL is where a file is downloaded: the server's HTTP address and
// /files/{id}/{name} (docs/protocol.md, "Files"); "" if server is not a
// URL.
func fileURL(server string, f *protocol.File) string {
	u, err := url.Parse(server)
	if err != nil || u.Host == "" {
		return ""
	}
	switch u.Scheme {
	case "ws":
		u.Scheme = "http"
	case "wss":
		u.Scheme = "https"
	}
	u.RawQuery, u.Fragment = "", ""
	base := strings.TrimSuffix(u.String(), "/")
	return base + "/files/" + url.PathEscape(f.ID) + "/" + url.PathEscape(f.Name)
}

// byteSize shows n bytes as people read sizes: 512 B, 47.1 KiB, 3.0 MiB.
func byteSize(n int64) string {
	switch {
	case n < 1024:
		return fmt.Sprintf("%d B", n)
	case n < 1024*1024:
		return fmt.Sprintf("%.1f KiB", float64(n)/1024)
	}
	return fmt.Sprintf("%.1f MiB", float64(n)/(1024*1024))
}

// entryLine is the line of a moderation entry: who did what, to whom.
func (m *Model) entryLine(msg *protocol.Message) string {
	by := SanitizeLine(msg.From)
	who := SanitizeLine(msg.User)
	if msg.User != "" && msg.User == m.self.Name {
		who = "you"
	}
	why := ""
	if msg.Body != "" {
		why = ": " + SanitizeLine(msg.Body)
	}
	until := ""
	if msg.Until > 0 {
		until = " until " + time.UnixMilli(msg.Until).In(m.loc).Format(untilLayout)
	}
	switch msg.Kind {
	case protocol.KindInvite:
		return by + " invited " + who
	case protocol.KindKick:
		return by + " kicked " + who + why
	case protocol.KindBan:
		return by + " banned " + who + until + why
	case protocol.KindUnban:
		if msg.From == "" { // nobody lifted it: its time ran out
			return "the ban of " + who + " ended"
		}
		return by + " lifted the ban of " + who
	case protocol.KindMute:
		return by + " muted " + who + until + why
	case protocol.KindUnmute:
		if msg.From == "" { // nobody lifted it: its time ran out
			return "the mute of " + who + " ended"
		}
		return by + " lifted the mute of " + who
	case protocol.KindTopic:
		if msg.Body == "" {
			return by + " cleared the topic"
		}
		return by + " set the topic" + why
	case protocol.KindRole:
		if msg.Body == protocol.RoleMember {
			return by + " made " + who + " a member"
		}
		return by + " made " + who + " " + SanitizeLine(msg.Body)
	}
	return ""
}

// numbering reports whether messages show their numbers: while a command
// that names a message is being typed.
func (m *Model) numbering() bool {
	name, _, _ := strings.Cut(strings.TrimSpace(m.input.Value()), " ")
	switch strings.ToLower(name) {
	case "/edit", "/delete", "/del", "/react", "/reply", "/re":
		return true
	}
	return false
}
