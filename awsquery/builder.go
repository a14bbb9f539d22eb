package awsquery

import (
	"encoding/xml"
	"strconv"
	"time"
)

// Raw is a result already encoded as the content of the <{Op}Result>
// element, by a Builder starting at depth 2.
type Raw []byte

// Builder appends indented XML elements, writing exactly what the
// response encoder writes for the same shape (empty elements as <X/>).
// It is for shapes on hot paths, where encoding/xml's reflection is most
// of a request's cost; golden files hold both writers to the same bytes.
type Builder struct {
	b     []byte
	depth int
	// open is the offset just after the last start tag while it has no
	// content yet, else -1.
	open int
}

// NewBuilder returns a builder whose elements start at depth (the Result
// element's children are at depth 2).
func NewBuilder(depth int, capacity int) *Builder {
	return &Builder{b: make([]byte, 0, capacity), depth: depth, open: -1}
}

// Bytes returns what was built.
func (w *Builder) Bytes() []byte { return w.b }

func (w *Builder) newline() {
	w.b = append(w.b, '\n')
	for range w.depth {
		w.b = append(w.b, indent...)
	}
}

// Start opens an element.
func (w *Builder) Start(name string) {
	w.newline()
	w.b = append(w.b, '<')
	w.b = append(w.b, name...)
	w.b = append(w.b, '>')
	w.depth++
	w.open = len(w.b)
}

// End closes the element Start opened; one with no content becomes <X/>.
func (w *Builder) End(name string) {
	w.depth--
	if w.open == len(w.b) {
		w.b = append(w.b[:len(w.b)-1], "/>"...)
	} else {
		w.newline()
		w.b = append(w.b, "</"...)
		w.b = append(w.b, name...)
		w.b = append(w.b, '>')
	}
	w.open = -1
}

// String writes <name>value</name>, or <name/> for "".
func (w *Builder) String(name, value string) {
	w.newline()
	w.b = append(w.b, '<')
	w.b = append(w.b, name...)
	if value == "" {
		w.b = append(w.b, "/>"...)
		w.open = -1
		return
	}
	w.b = append(w.b, '>')
	w.b = appendEscaped(w.b, value)
	w.b = append(w.b, "</"...)
	w.b = append(w.b, name...)
	w.b = append(w.b, '>')
	w.open = -1
}

// Bool writes a lowercase boolean.
func (w *Builder) Bool(name string, v bool) { w.String(name, strconv.FormatBool(v)) }

// Int writes a decimal integer.
func (w *Builder) Int(name string, v int) { w.String(name, strconv.Itoa(v)) }

// Time writes a time as Timestamp does.
func (w *Builder) Time(name string, t time.Time) {
	w.String(name, t.UTC().Format(TimestampLayout))
}

// TimeMillis writes a time as TimestampMillis does.
func (w *Builder) TimeMillis(name string, t time.Time) {
	w.String(name, t.UTC().Format(TimestampMillisLayout))
}

// appendEscaped appends s as encoding/xml escapes character data.
func appendEscaped(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x80 || c == '<' || c == '>' || c == '&' || c == '\'' || c == '"' {
			return append(b, escape(s)...)
		}
	}
	return append(b, s...)
}

type appender struct{ b []byte }

func (a *appender) Write(p []byte) (int, error) { a.b = append(a.b, p...); return len(p), nil }

func escape(s string) []byte {
	var a appender
	_ = xml.EscapeText(&a, []byte(s))
	return a.b
}
