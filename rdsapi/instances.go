package rdsapi

import (
	"context"

	"github.com/rdsca/rdsca/awsquery"
	"github.com/rdsca/rdsca/rds"
)

// registerInstances adds the DB instance operations.
func registerInstances(s *awsquery.Server, svc *rds.Service) {
	awsquery.Handle(s, "CreateDBInstance", decodeCreateDBInstance, instanceCall(svc.CreateInstance))
	awsquery.Handle(s, "DescribeDBInstances", decodeDescribeDBInstances,
		func(ctx context.Context, c awsquery.Caller, in rds.DescribeInstancesInput) (awsquery.Raw, error) {
			out, err := svc.DescribeInstances(ctx, c.Scope(), in)
			if err != nil {
				return nil, err
			}
			return toDescribeDBInstancesResult(out), nil
		})
	awsquery.Handle(s, "ModifyDBInstance", decodeModifyDBInstance, instanceCall(svc.ModifyInstance))
	awsquery.Handle(s, "RebootDBInstance", decodeRebootDBInstance, instanceCall(svc.RebootInstance))
	awsquery.Handle(s, "DeleteDBInstance", decodeDeleteDBInstance, instanceCall(svc.DeleteInstance))
}

// instanceCall adapts a service method returning one instance to an
// operation whose result is <DBInstance>.
func instanceCall[In any](f func(context.Context, rds.Scope, In) (*rds.InstanceView, error)) func(context.Context, awsquery.Caller, In) (awsquery.Raw, error) {
	return func(ctx context.Context, c awsquery.Caller, in In) (awsquery.Raw, error) {
		v, err := f(ctx, c.Scope(), in)
		if err != nil {
			return nil, err
		}
		return toDBInstanceResult(v), nil
	}
}

func decodeCreateDBInstance(p awsquery.Params) (rds.CreateInstanceInput, error) {
	d := decoder{p: p}
	in := rds.CreateInstanceInput{
		Identifier:                 d.str("DBInstanceIdentifier"),
		Class:                      d.str("DBInstanceClass"),
		Engine:                     d.str("Engine"),
		EngineVersion:              d.str("EngineVersion"),
		MasterUsername:             d.str("MasterUsername"),
		MasterUserPassword:         d.str("MasterUserPassword"),
		ManageMasterUserPassword:   d.bool("ManageMasterUserPassword"),
		AllocatedStorage:           d.int("AllocatedStorage"),
		Port:                       d.int("Port"),
		AvailabilityZone:           d.str("AvailabilityZone"),
		PreferredMaintenanceWindow: d.str("PreferredMaintenanceWindow"),
		CACertificateIdentifier:    d.str("CACertificateIdentifier"),
	}
	return in, d.err
}

func decodeDescribeDBInstances(p awsquery.Params) (rds.DescribeInstancesInput, error) {
	d := decoder{p: p}
	in := rds.DescribeInstancesInput{
		Identifier: d.str("DBInstanceIdentifier"),
		Filters:    d.filters(),
		MaxRecords: d.int("MaxRecords"),
		Marker:     d.str("Marker"),
	}
	return in, d.err
}

func decodeModifyDBInstance(p awsquery.Params) (rds.ModifyInstanceInput, error) {
	d := decoder{p: p}
	in := rds.ModifyInstanceInput{
		Identifier:                 d.str("DBInstanceIdentifier"),
		CACertificateIdentifier:    d.str("CACertificateIdentifier"),
		ApplyImmediately:           d.bool("ApplyImmediately"),
		CertificateRotationRestart: d.bool("CertificateRotationRestart"),
		PreferredMaintenanceWindow: d.str("PreferredMaintenanceWindow"),
		MasterUserPassword:         d.str("MasterUserPassword"),
	}
	return in, d.err
}

func decodeRebootDBInstance(p awsquery.Params) (rds.RebootInstanceInput, error) {
	d := decoder{p: p}
	in := rds.RebootInstanceInput{
		Identifier:    d.str("DBInstanceIdentifier"),
		ForceFailover: d.bool("ForceFailover"),
	}
	return in, d.err
}

func decodeDeleteDBInstance(p awsquery.Params) (rds.DeleteInstanceInput, error) {
	d := decoder{p: p}
	in := rds.DeleteInstanceInput{
		Identifier:                d.str("DBInstanceIdentifier"),
		SkipFinalSnapshot:         d.bool("SkipFinalSnapshot"),
		FinalDBSnapshotIdentifier: d.str("FinalDBSnapshotIdentifier"),
	}
	return in, d.err
}
