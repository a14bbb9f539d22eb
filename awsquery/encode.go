package awsquery

import (
	"bytes"
	"encoding/xml"
	"strings"
	"time"
)

// TimestampLayout is how Query responses write times: UTC, whole seconds.
const TimestampLayout = "2006-01-02T15:04:05Z"

// Timestamp is a time written in TimestampLayout.
type Timestamp time.Time

// MarshalText implements encoding.TextMarshaler.
func (t Timestamp) MarshalText() ([]byte, error) {
	return []byte(time.Time(t).UTC().Format(TimestampLayout)), nil
}

// NewTimestamp returns a pointer to t as a Timestamp, nil for nil.
func NewTimestamp(t *time.Time) *Timestamp {
	if t == nil {
		return nil
	}
	ts := Timestamp(*t)
	return &ts
}

// TimestampMillisLayout is how a few members (DBInstance's
// InstanceCreateTime) are written: UTC with milliseconds.
const TimestampMillisLayout = "2006-01-02T15:04:05.000Z"

// TimestampMillis is a time written in TimestampMillisLayout.
type TimestampMillis time.Time

// MarshalText implements encoding.TextMarshaler.
func (t TimestampMillis) MarshalText() ([]byte, error) {
	return []byte(time.Time(t).UTC().Format(TimestampMillisLayout)), nil
}

// NewTimestampMillis returns a pointer to t as a TimestampMillis, nil for nil.
func NewTimestampMillis(t *time.Time) *TimestampMillis {
	if t == nil {
		return nil
	}
	ts := TimestampMillis(*t)
	return &ts
}

// indent is one level of indentation in response bodies.
const indent = "  "

// EncodeFragment renders v as the element name, indented for the given
// depth below the response element (the Result element is depth 1) and
// starting on a new line. The bytes can go verbatim into a result through a
// []byte field tagged `xml:",innerxml"` placed after another element.
func EncodeFragment(v any, name string, depth int) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteByte('\n')
	enc := xml.NewEncoder(&buf)
	enc.Indent(strings.Repeat(indent, depth), indent)
	if err := enc.EncodeElement(v, xml.StartElement{Name: xml.Name{Local: name}}); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// writer is a response buffer with an XML encoder bound to it, pooled so a
// request does not allocate an encoder.
type writer struct {
	buf bytes.Buffer
	enc *xml.Encoder
}

// newWriter returns a writer whose encoder starts every element on a new
// line: a fresh encoder omits the newline before its first element only,
// so one throwaway element is encoded and discarded.
func newWriter() *writer {
	w := &writer{}
	w.enc = xml.NewEncoder(&w.buf)
	w.enc.Indent(indent, indent)
	_ = w.enc.EncodeElement("", xml.StartElement{Name: xml.Name{Local: "x"}})
	_ = w.enc.Flush()
	w.buf.Reset()
	return w
}

const xmlHeader = `<?xml version="1.0" encoding="UTF-8"?>` + "\n"

// encodeSuccess writes the success envelope; result may be nil, the Result
// element is always present. After an error the writer must be dropped.
func (w *writer) encodeSuccess(namespace, action string, result any, requestID string) error {
	buf := &w.buf
	buf.WriteString(xmlHeader)
	buf.WriteString("<" + action + `Response xmlns="` + namespace + `">`)
	wrote := false
	if raw, ok := result.(Raw); ok {
		if len(raw) > 0 {
			buf.WriteString("\n" + indent + "<" + action + "Result>")
			buf.Write(raw)
			buf.WriteString("\n" + indent + "</" + action + "Result>")
			wrote = true
		}
	} else if result != nil {
		before := buf.Len()
		if err := w.enc.EncodeElement(result, xml.StartElement{Name: xml.Name{Local: action + "Result"}}); err != nil {
			return err
		}
		if err := w.enc.Flush(); err != nil {
			return err
		}
		wrote = buf.Len() > before
		if wrote {
			buf.Truncate(before + collapseEmpty(buf.Bytes()[before:]))
		}
	}
	if !wrote {
		buf.WriteString("\n" + indent + "<" + action + "Result/>")
	}
	buf.WriteString("\n" + indent + "<ResponseMetadata>\n" + indent + indent + "<RequestId>" + requestID + "</RequestId>\n" + indent + "</ResponseMetadata>\n")
	buf.WriteString("</" + action + "Response>\n")
	return nil
}

type errorBody struct {
	Type    string
	Code    string
	Message string
}

// encodeError writes the ErrorResponse envelope.
func (w *writer) encodeError(namespace string, e errorBody, requestID string) {
	buf := &w.buf
	buf.WriteString(xmlHeader)
	buf.WriteString(`<ErrorResponse xmlns="` + namespace + `">` + "\n" + indent + "<Error>\n")
	for _, f := range [][2]string{{"Type", e.Type}, {"Code", e.Code}, {"Message", e.Message}} {
		buf.WriteString(indent + indent + "<" + f[0] + ">")
		_ = xml.EscapeText(buf, []byte(f[1]))
		buf.WriteString("</" + f[0] + ">\n")
	}
	buf.WriteString(indent + "</Error>\n" + indent + "<RequestId>" + requestID + "</RequestId>\n</ErrorResponse>\n")
}

// collapseEmpty rewrites every empty element <Name></Name> in b as <Name/>,
// as AWS writes them (an empty list, <PendingModifiedValues/>, an empty
// string member), in place, and returns the new length. Text is escaped,
// so every '<' in b starts a tag.
func collapseEmpty(b []byte) int {
	if !bytes.Contains(b, []byte("></")) {
		return len(b)
	}
	w := 0 // write position
	last := 0
	for r := 0; r < len(b); {
		i := bytes.Index(b[r:], []byte("></"))
		if i < 0 {
			break
		}
		gt := r + i // the '>' of the start tag
		lt := bytes.LastIndexByte(b[last:gt], '<')
		if lt < 0 {
			r = gt + 1
			continue
		}
		lt += last
		name := b[lt+1 : gt]
		end := gt + 3 + len(name)
		if len(name) == 0 || name[0] == '/' || name[0] == '?' || bytes.ContainsAny(name, " \t\n=\"") ||
			end >= len(b) || b[end] != '>' || !bytes.Equal(b[gt+3:end], name) {
			r = gt + 1
			continue
		}
		w += copy(b[w:], b[last:gt])
		w += copy(b[w:], "/>")
		last = end + 1
		r = last
	}
	w += copy(b[w:], b[last:])
	return w
}
