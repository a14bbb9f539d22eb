package awsquery

import (
	"net/url"
	"strconv"
	"strings"

	"github.com/rdsca/rdsca/rds"
)

// Params are the decoded parameters of a Query request.
type Params struct {
	values url.Values
}

// NewParams wraps decoded form values.
func NewParams(v url.Values) Params { return Params{values: v} }

// Has reports whether the parameter was sent.
func (p Params) Has(name string) bool { return p.values.Has(name) }

// String returns the parameter's value, or "" when absent.
func (p Params) String(name string) string { return p.values.Get(name) }

// Bool returns the parameter as a boolean, nil when absent.
func (p Params) Bool(name string) (*bool, error) {
	if !p.values.Has(name) {
		return nil, nil
	}
	var b bool
	switch v := p.values.Get(name); strings.ToLower(v) {
	case "true":
		b = true
	case "false":
	default:
		return nil, rds.Errorf(rds.CodeInvalidParameterValue, "Value %s for parameter %s is invalid. Must be true or false.", quote(v), name)
	}
	return &b, nil
}

// Int returns the parameter as a 32-bit integer, nil when absent.
func (p Params) Int(name string) (*int, error) {
	if !p.values.Has(name) {
		return nil, nil
	}
	v := p.values.Get(name)
	n, err := strconv.ParseInt(v, 10, 32)
	if err != nil {
		return nil, rds.Errorf(rds.CodeInvalidParameterValue, "Value %s for parameter %s is invalid. Must be an integer.", quote(v), name)
	}
	i := int(n)
	return &i, nil
}

// List returns the members of a list parameter sent as prefix.member.N
// (or prefix.<memberName>.N), in index order, stopping at the first gap.
func (p Params) List(prefix, memberName string) []string {
	var out []string
	for i := 1; ; i++ {
		k := prefix + "." + memberName + "." + strconv.Itoa(i)
		if !p.values.Has(k) {
			return out
		}
		out = append(out, p.values.Get(k))
	}
}

// quote renders a user value for an error message.
func quote(v string) string { return "'" + truncate(v) + "'" }

// truncate shortens a user value for an error message.
func truncate(v string) string {
	const max = 64
	if len(v) > max {
		v = v[:max] + "..."
	}
	return v
}
