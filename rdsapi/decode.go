package rdsapi

import (
	"github.com/rdsca/rdsca/awsquery"
	"github.com/rdsca/rdsca/rds"
)

// decoder reads typed parameters and keeps the first malformed one's
// error, so a decode function reads every member and checks once.
type decoder struct {
	p   awsquery.Params
	err error
}

func (d *decoder) str(name string) string { return d.p.String(name) }

func (d *decoder) bool(name string) *bool {
	b, err := d.p.Bool(name)
	if d.err == nil {
		d.err = err
	}
	return b
}

func (d *decoder) int(name string) *int {
	n, err := d.p.Int(name)
	if d.err == nil {
		d.err = err
	}
	return n
}

// filters reads the Filters parameter.
func (d *decoder) filters() []rds.Filter {
	fs := d.p.Filters("Filters")
	if fs == nil {
		return nil
	}
	out := make([]rds.Filter, len(fs))
	for i, f := range fs {
		out[i] = rds.Filter{Name: f.Name, Values: f.Values}
	}
	return out
}
