package awsquery

import (
	"bytes"
	"encoding/xml"
	"strings"
	"testing"
	"time"
)

type builderShape struct {
	Name  string
	Empty string
	Inner builderInner
	Flag  bool
	N     int
	At    Timestamp
	AtMs  TimestampMillis
}

type builderInner struct {
	Value string `xml:",omitempty"`
}

// encodeReference encodes v the way encodeSuccess does, as a Result child.
func encodeReference(t *testing.T, v builderShape) string {
	t.Helper()
	var buf bytes.Buffer
	enc := xml.NewEncoder(&buf)
	enc.Indent(strings.Repeat(indent, 2), indent)
	buf.WriteByte('\n')
	if err := enc.EncodeElement(v, xml.StartElement{Name: xml.Name{Local: "Shape"}}); err != nil {
		t.Fatal(err)
	}
	if err := enc.Close(); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	return string(b[:collapseEmpty(b)])
}

func build(v builderShape) string {
	w := NewBuilder(2, 0)
	w.Start("Shape")
	w.String("Name", v.Name)
	w.String("Empty", v.Empty)
	w.Start("Inner")
	if v.Inner.Value != "" {
		w.String("Value", v.Inner.Value)
	}
	w.End("Inner")
	w.Bool("Flag", v.Flag)
	w.Int("N", v.N)
	w.Time("At", time.Time(v.At))
	w.TimeMillis("AtMs", time.Time(v.AtMs))
	w.End("Shape")
	return string(w.Bytes())
}

func TestBuilderWritesWhatEncodingXMLWrites(t *testing.T) {
	at := time.Date(2026, 12, 4, 1, 2, 3, 456789000, time.FixedZone("x", 3600))
	for _, name := range []string{
		"plain", "", "a<b>&c", `quote " and ' apostrophe`, "tab\tnew\nline\rcr",
		"héllo wörld", "\x00\x01 control", "bad \xff utf-8", "emoji 😀", "\uFFFE non-char",
	} {
		for _, inner := range []string{"", "x"} {
			v := builderShape{Name: name, Inner: builderInner{Value: inner}, Flag: name == "", N: -42, At: Timestamp(at), AtMs: TimestampMillis(at)}
			if got, want := build(v), encodeReference(t, v); got != want {
				t.Errorf("%q:\ngot  %q\nwant %q", name, got, want)
			}
		}
	}
}
