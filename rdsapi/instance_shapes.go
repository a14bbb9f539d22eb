package rdsapi

import (
	"strings"

	"github.com/rdsca/rdsca/awsquery"
	"github.com/rdsca/rdsca/rds"
)

// Wire shapes of the instance, maintenance and engine-version operations,
// with the element names of the RDS model (botocore
// data/rds/2014-10-31/service-2.json). Members follow the model's order.
// A list is a struct value, so its element is written even when empty
// (<DBInstances/>): clients index the member without checking for it.

// dbInstance is the DBInstance shape, for the members rdsca has.
type dbInstance struct {
	DBInstanceIdentifier             string
	DBInstanceClass                  string
	Engine                           string
	DBInstanceStatus                 string
	MasterUsername                   string `xml:",omitempty"`
	Endpoint                         *endpoint
	AllocatedStorage                 int
	InstanceCreateTime               *awsquery.TimestampMillis `xml:",omitempty"`
	BackupRetentionPeriod            int
	AvailabilityZone                 string `xml:",omitempty"`
	PreferredMaintenanceWindow       string
	PendingModifiedValues            pendingModifiedValues
	MultiAZ                          bool
	EngineVersion                    string
	AutoMinorVersionUpgrade          bool
	PubliclyAccessible               bool
	StorageType                      string
	DbInstancePort                   int
	StorageEncrypted                 bool
	DbiResourceId                    string
	CACertificateIdentifier          string // present even when empty (deleting)
	CopyTagsToSnapshot               bool
	DBInstanceArn                    string
	IAMDatabaseAuthenticationEnabled bool
	DeletionProtection               bool
	CertificateDetails               *certificateDetails
}

// endpoint is the Endpoint shape.
type endpoint struct {
	Address      string
	Port         int
	HostedZoneId string
}

// pendingModifiedValues is the PendingModifiedValues shape; with nothing
// pending it is the empty element <PendingModifiedValues/>.
type pendingModifiedValues struct {
	MasterUserPassword      string `xml:",omitempty"`
	CACertificateIdentifier string `xml:",omitempty"`
}

// certificateDetails is the CertificateDetails shape.
type certificateDetails struct {
	CAIdentifier string
	ValidTill    *awsquery.Timestamp `xml:",omitempty"`
}

// Fixed members: rdsca models no storage, networking or backups.
const (
	storageType           = "gp2"
	backupRetentionPeriod = 1
	maskedPassword        = "****"
)

func toDBInstance(v *rds.InstanceView) dbInstance {
	d := dbInstance{
		DBInstanceIdentifier:       v.Identifier,
		DBInstanceClass:            v.Class,
		Engine:                     v.Engine,
		DBInstanceStatus:           v.Status,
		MasterUsername:             v.MasterUsername,
		AllocatedStorage:           v.AllocatedStorage,
		InstanceCreateTime:         awsquery.NewTimestampMillis(v.CreateTime),
		BackupRetentionPeriod:      backupRetentionPeriod,
		PreferredMaintenanceWindow: v.MaintenanceWindow,
		MultiAZ:                    false,
		EngineVersion:              v.EngineVersion,
		AutoMinorVersionUpgrade:    true,
		StorageType:                storageType,
		DbiResourceId:              v.ResourceID,
		CACertificateIdentifier:    v.CACertificateIdentifier,
		DBInstanceArn:              v.ARN,
	}
	// RDS shows no AvailabilityZone while creating.
	if v.Status != rds.StatusCreating {
		d.AvailabilityZone = v.AvailabilityZone
	}
	if e := v.Endpoint; e != nil {
		d.Endpoint = &endpoint{Address: e.Address, Port: e.Port, HostedZoneId: e.HostedZoneID}
	}
	if v.PendingMasterUserPassword {
		d.PendingModifiedValues.MasterUserPassword = maskedPassword
	}
	d.PendingModifiedValues.CACertificateIdentifier = v.PendingCA
	if v.CertificateCA != "" {
		d.CertificateDetails = &certificateDetails{CAIdentifier: v.CertificateCA, ValidTill: awsquery.NewTimestamp(v.CertificateValidTill)}
	}
	return d
}

// dbInstanceList is DBInstances, a list of <DBInstance>.
type dbInstanceList struct {
	Items []dbInstance `xml:"DBInstance"`
}

// dbInstanceResult is the result of the operations returning one instance
// (Create, Modify, Reboot, Delete): <{Op}Result><DBInstance>.
type dbInstanceResult struct {
	DBInstance dbInstance
}

// describeDBInstancesResult is DescribeDBInstancesResult's content.
type describeDBInstancesResult struct {
	DBInstances dbInstanceList
	Marker      string `xml:",omitempty"`
}

func toDescribeDBInstancesResult(o *rds.DescribeInstancesOutput) describeDBInstancesResult {
	r := describeDBInstancesResult{Marker: o.Marker}
	r.DBInstances.Items = make([]dbInstance, len(o.Instances))
	for i := range o.Instances {
		r.DBInstances.Items[i] = toDBInstance(&o.Instances[i])
	}
	return r
}

// pendingMaintenanceAction is the PendingMaintenanceAction shape.
type pendingMaintenanceAction struct {
	Action               string
	AutoAppliedAfterDate *awsquery.Timestamp `xml:",omitempty"`
	ForcedApplyDate      *awsquery.Timestamp `xml:",omitempty"`
	OptInStatus          string              `xml:",omitempty"`
	CurrentApplyDate     *awsquery.Timestamp `xml:",omitempty"`
	Description          string              `xml:",omitempty"`
}

// pendingMaintenanceActionDetails is a list of <PendingMaintenanceAction>.
type pendingMaintenanceActionDetails struct {
	Items []pendingMaintenanceAction `xml:"PendingMaintenanceAction"`
}

// resourcePendingMaintenanceActions is the ResourcePendingMaintenanceActions shape.
type resourcePendingMaintenanceActions struct {
	ResourceIdentifier              string
	PendingMaintenanceActionDetails pendingMaintenanceActionDetails
}

func toResourcePendingMaintenanceActions(r *rds.ResourcePendingActions) resourcePendingMaintenanceActions {
	out := resourcePendingMaintenanceActions{ResourceIdentifier: r.ResourceIdentifier}
	out.PendingMaintenanceActionDetails.Items = make([]pendingMaintenanceAction, len(r.Actions))
	for i, a := range r.Actions {
		out.PendingMaintenanceActionDetails.Items[i] = pendingMaintenanceAction{
			Action:               a.Action,
			AutoAppliedAfterDate: awsquery.NewTimestamp(a.AutoAppliedAfterDate),
			ForcedApplyDate:      awsquery.NewTimestamp(a.ForcedApplyDate),
			OptInStatus:          a.OptInStatus,
			CurrentApplyDate:     awsquery.NewTimestamp(a.CurrentApplyDate),
			Description:          a.Description,
		}
	}
	return out
}

// pendingMaintenanceActions is PendingMaintenanceActions, a list of
// <ResourcePendingMaintenanceActions>.
type pendingMaintenanceActions struct {
	Items []resourcePendingMaintenanceActions `xml:"ResourcePendingMaintenanceActions"`
}

// describePendingMaintenanceActionsResult is
// DescribePendingMaintenanceActionsResult's content.
type describePendingMaintenanceActionsResult struct {
	PendingMaintenanceActions pendingMaintenanceActions
	Marker                    string `xml:",omitempty"`
}

func toDescribePendingMaintenanceActionsResult(o *rds.DescribePendingMaintenanceOutput) describePendingMaintenanceActionsResult {
	r := describePendingMaintenanceActionsResult{Marker: o.Marker}
	r.PendingMaintenanceActions.Items = make([]resourcePendingMaintenanceActions, len(o.Resources))
	for i := range o.Resources {
		r.PendingMaintenanceActions.Items[i] = toResourcePendingMaintenanceActions(&o.Resources[i])
	}
	return r
}

// applyPendingMaintenanceActionResult is
// ApplyPendingMaintenanceActionResult's content.
type applyPendingMaintenanceActionResult struct {
	ResourcePendingMaintenanceActions resourcePendingMaintenanceActions
}

// memberList is a list of strings written as <member> elements.
type memberList struct {
	Items []string `xml:"member"`
}

// dbEngineVersion is the DBEngineVersion shape, for the members rdsca has.
type dbEngineVersion struct {
	Engine                                    string
	MajorEngineVersion                        string
	EngineVersion                             string
	DBParameterGroupFamily                    string
	DBEngineDescription                       string
	DBEngineVersionDescription                string
	SupportsLogExportsToCloudwatchLogs        bool
	SupportsReadReplica                       bool
	Status                                    string
	SupportsParallelQuery                     bool
	SupportsGlobalDatabases                   bool
	SupportsBabelfish                         bool
	SupportsLimitlessDatabase                 bool
	SupportsCertificateRotationWithoutRestart bool
	SupportedCACertificateIdentifiers         memberList
	SupportsIntegrations                      bool
}

func toDBEngineVersion(v *rds.EngineVersionView) dbEngineVersion {
	return dbEngineVersion{
		Engine:                     v.Engine,
		MajorEngineVersion:         strings.TrimPrefix(v.Family, v.Engine),
		EngineVersion:              v.Version,
		DBParameterGroupFamily:     v.Family,
		DBEngineDescription:        v.EngineDescription,
		DBEngineVersionDescription: v.VersionDescription,
		SupportsReadReplica:        true,
		Status:                     "available",
		SupportsCertificateRotationWithoutRestart: v.RotatesWithoutRestart,
		SupportedCACertificateIdentifiers:         memberList{Items: v.SupportedCAs},
	}
}

// dbEngineVersionList is DBEngineVersions, a list of <DBEngineVersion>.
type dbEngineVersionList struct {
	Items []dbEngineVersion `xml:"DBEngineVersion"`
}

// describeDBEngineVersionsResult is DescribeDBEngineVersionsResult's content.
type describeDBEngineVersionsResult struct {
	DBEngineVersions dbEngineVersionList
	Marker           string `xml:",omitempty"`
}

func toDescribeDBEngineVersionsResult(o *rds.DescribeEngineVersionsOutput) describeDBEngineVersionsResult {
	r := describeDBEngineVersionsResult{Marker: o.Marker}
	r.DBEngineVersions.Items = make([]dbEngineVersion, len(o.Versions))
	for i := range o.Versions {
		r.DBEngineVersions.Items[i] = toDBEngineVersion(&o.Versions[i])
	}
	return r
}
