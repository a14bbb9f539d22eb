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

// Fixed members: rdsca models no storage, networking or backups.
const (
	storageType           = "gp2"
	backupRetentionPeriod = 1
	maskedPassword        = "****"
)

// DBInstance is written with awsquery.Builder: DescribeDBInstances answers
// pages of up to 100 instances, and encoding/xml was half of its cost.

// instanceBytes is the usual size of one encoded <DBInstance>.
const instanceBytes = 1900

// appendDBInstance writes the DBInstance shape, for the members rdsca has,
// in the model's order.
func appendDBInstance(w *awsquery.Builder, v *rds.InstanceView) {
	w.Start("DBInstance")
	w.String("DBInstanceIdentifier", v.Identifier)
	w.String("DBInstanceClass", v.Class)
	w.String("Engine", v.Engine)
	w.String("DBInstanceStatus", v.Status)
	if v.MasterUsername != "" {
		w.String("MasterUsername", v.MasterUsername)
	}
	if e := v.Endpoint; e != nil {
		w.Start("Endpoint")
		w.String("Address", e.Address)
		w.Int("Port", e.Port)
		w.String("HostedZoneId", e.HostedZoneID)
		w.End("Endpoint")
	}
	w.Int("AllocatedStorage", v.AllocatedStorage)
	if v.CreateTime != nil {
		w.TimeMillis("InstanceCreateTime", *v.CreateTime)
	}
	w.Int("BackupRetentionPeriod", backupRetentionPeriod)
	// RDS shows no AvailabilityZone while creating.
	if v.Status != rds.StatusCreating && v.AvailabilityZone != "" {
		w.String("AvailabilityZone", v.AvailabilityZone)
	}
	w.String("PreferredMaintenanceWindow", v.MaintenanceWindow)
	w.Start("PendingModifiedValues")
	if v.PendingMasterUserPassword {
		w.String("MasterUserPassword", maskedPassword)
	}
	if v.PendingCA != "" {
		w.String("CACertificateIdentifier", v.PendingCA)
	}
	w.End("PendingModifiedValues")
	w.Bool("MultiAZ", false)
	w.String("EngineVersion", v.EngineVersion)
	w.Bool("AutoMinorVersionUpgrade", true)
	w.Bool("PubliclyAccessible", false)
	w.String("StorageType", storageType)
	w.Int("DbInstancePort", 0)
	w.Bool("StorageEncrypted", false)
	w.String("DbiResourceId", v.ResourceID)
	w.String("CACertificateIdentifier", v.CACertificateIdentifier) // <CACertificateIdentifier/> while deleting
	w.Bool("CopyTagsToSnapshot", false)
	w.String("DBInstanceArn", v.ARN)
	w.Bool("IAMDatabaseAuthenticationEnabled", false)
	w.Bool("DeletionProtection", false)
	if v.CertificateCA != "" {
		w.Start("CertificateDetails")
		w.String("CAIdentifier", v.CertificateCA)
		if v.CertificateValidTill != nil {
			w.Time("ValidTill", *v.CertificateValidTill)
		}
		w.End("CertificateDetails")
	}
	w.End("DBInstance")
}

// resultDepth is the depth of a Result element's children.
const resultDepth = 2

// toDBInstanceResult is the result of the operations returning one
// instance (Create, Modify, Reboot, Delete): <{Op}Result><DBInstance>.
func toDBInstanceResult(v *rds.InstanceView) awsquery.Raw {
	w := awsquery.NewBuilder(resultDepth, instanceBytes)
	appendDBInstance(w, v)
	return w.Bytes()
}

// toDescribeDBInstancesResult is DescribeDBInstancesResult's content:
// DBInstances (written even when empty) and Marker.
func toDescribeDBInstancesResult(o *rds.DescribeInstancesOutput) awsquery.Raw {
	w := awsquery.NewBuilder(resultDepth, instanceBytes*len(o.Instances)+128)
	w.Start("DBInstances")
	for i := range o.Instances {
		appendDBInstance(w, &o.Instances[i])
	}
	w.End("DBInstances")
	if o.Marker != "" {
		w.String("Marker", o.Marker)
	}
	return w.Bytes()
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
