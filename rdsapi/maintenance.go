package rdsapi

import (
	"context"

	"github.com/rdsca/rdsca/awsquery"
	"github.com/rdsca/rdsca/rds"
)

// registerMaintenance adds the pending maintenance operations.
func registerMaintenance(s *awsquery.Server, svc *rds.Service) {
	awsquery.Handle(s, "DescribePendingMaintenanceActions", decodeDescribePendingMaintenanceActions,
		func(ctx context.Context, c awsquery.Caller, in rds.DescribePendingMaintenanceInput) (describePendingMaintenanceActionsResult, error) {
			out, err := svc.DescribePendingMaintenance(ctx, c.Scope(), in)
			if err != nil {
				return describePendingMaintenanceActionsResult{}, err
			}
			return toDescribePendingMaintenanceActionsResult(out), nil
		})
	awsquery.Handle(s, "ApplyPendingMaintenanceAction", decodeApplyPendingMaintenanceAction,
		func(ctx context.Context, c awsquery.Caller, in rds.ApplyPendingMaintenanceInput) (applyPendingMaintenanceActionResult, error) {
			out, err := svc.ApplyPendingMaintenance(ctx, c.Scope(), in)
			if err != nil {
				return applyPendingMaintenanceActionResult{}, err
			}
			return applyPendingMaintenanceActionResult{ResourcePendingMaintenanceActions: toResourcePendingMaintenanceActions(out)}, nil
		})
}

func decodeDescribePendingMaintenanceActions(p awsquery.Params) (rds.DescribePendingMaintenanceInput, error) {
	d := decoder{p: p}
	in := rds.DescribePendingMaintenanceInput{
		ResourceIdentifier: d.str("ResourceIdentifier"),
		Filters:            d.filters(),
		MaxRecords:         d.int("MaxRecords"),
		Marker:             d.str("Marker"),
	}
	return in, d.err
}

func decodeApplyPendingMaintenanceAction(p awsquery.Params) (rds.ApplyPendingMaintenanceInput, error) {
	return rds.ApplyPendingMaintenanceInput{
		ResourceIdentifier: p.String("ResourceIdentifier"),
		ApplyAction:        p.String("ApplyAction"),
		OptInType:          p.String("OptInType"),
	}, nil
}
