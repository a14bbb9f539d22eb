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

// Filter is one element of a Filters parameter.
type Filter struct {
	Name   string
	Values []string
}

// Filters returns a list of Filter structures sent as
// prefix.Filter.N.Name and prefix.Filter.N.Values.Value.M (the members'
// names in the RDS model, used by the AWS SDKs and CLI), or with the
// generic member name (prefix.member.N.Name, ...Values.member.M). Filters
// are read in index order up to the first gap; a filter is there when its
// Name or first value is.
func (p Params) Filters(prefix string) []Filter {
	out := p.filters(prefix, "Filter", "Value")
	if out == nil {
		out = p.filters(prefix, "member", "member")
	}
	return out
}

func (p Params) filters(prefix, memberName, valueName string) []Filter {
	var out []Filter
	for i := 1; ; i++ {
		k := prefix + "." + memberName + "." + strconv.Itoa(i)
		values := p.List(k+".Values", valueName)
		if values == nil && valueName != "member" {
			values = p.List(k+".Values", "member")
		}
		if !p.values.Has(k+".Name") && values == nil {
			return out
		}
		out = append(out, Filter{Name: p.values.Get(k + ".Name"), Values: values})
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
