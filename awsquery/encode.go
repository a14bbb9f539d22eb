package awsquery

import (
	"bytes"
	"encoding/xml"
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

// encodeSuccess writes the success envelope; result may be nil, the Result
// element is always present.
func encodeSuccess(buf *bytes.Buffer, namespace, action string, result any, requestID string) error {
	buf.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	buf.WriteString("<" + action + `Response xmlns="` + namespace + `">` + "\n")
	start := xml.StartElement{Name: xml.Name{Local: action + "Result"}}
	wrote := false
	if result != nil {
		before := buf.Len()
		enc := xml.NewEncoder(buf)
		enc.Indent("  ", "  ")
		if err := enc.EncodeElement(result, start); err != nil {
			return err
		}
		if err := enc.Close(); err != nil {
			return err
		}
		wrote = buf.Len() > before
	}
	if !wrote {
		buf.WriteString("  <" + action + "Result/>")
	}
	buf.WriteString("\n  <ResponseMetadata>\n    <RequestId>" + requestID + "</RequestId>\n  </ResponseMetadata>\n")
	buf.WriteString("</" + action + "Response>\n")
	return nil
}

type errorResponse struct {
	XMLName   xml.Name `xml:"ErrorResponse"`
	Xmlns     string   `xml:"xmlns,attr"`
	Error     errorBody
	RequestID string `xml:"RequestId"`
}

type errorBody struct {
	Type    string
	Code    string
	Message string
}

func encodeError(buf *bytes.Buffer, namespace string, e errorBody, requestID string) error {
	buf.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	enc := xml.NewEncoder(buf)
	enc.Indent("", "  ")
	if err := enc.Encode(errorResponse{Xmlns: namespace, Error: e, RequestID: requestID}); err != nil {
		return err
	}
	buf.WriteString("\n")
	return enc.Close()
}
