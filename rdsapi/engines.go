package rdsapi

import (
	"context"

	"github.com/rdsca/rdsca/awsquery"
	"github.com/rdsca/rdsca/rds"
)

// registerEngines adds DescribeDBEngineVersions.
func registerEngines(s *awsquery.Server, svc *rds.Service) {
	awsquery.Handle(s, "DescribeDBEngineVersions", decodeDescribeDBEngineVersions,
		func(ctx context.Context, c awsquery.Caller, in rds.DescribeEngineVersionsInput) (describeDBEngineVersionsResult, error) {
			out, err := svc.DescribeEngineVersions(ctx, c.Scope(), in)
			if err != nil {
				return describeDBEngineVersionsResult{}, err
			}
			return toDescribeDBEngineVersionsResult(out), nil
		})
}

func decodeDescribeDBEngineVersions(p awsquery.Params) (rds.DescribeEngineVersionsInput, error) {
	d := decoder{p: p}
	in := rds.DescribeEngineVersionsInput{
		Engine:        d.str("Engine"),
		EngineVersion: d.str("EngineVersion"),
		Family:        d.str("DBParameterGroupFamily"),
		DefaultOnly:   d.bool("DefaultOnly"),
		Filters:       d.filters(),
		MaxRecords:    d.int("MaxRecords"),
		Marker:        d.str("Marker"),
	}
	return in, d.err
}
