package rds

import "time"

// Filter is a name and values, as the Query API's Filters.
type Filter struct {
	Name   string
	Values []string
}

// Endpoint is where an instance would accept connections.
type Endpoint struct {
	Address      string
	Port         int
	HostedZoneID string
}

// InstanceView is an instance as the API shows it at one instant: members
// appear and disappear by state, as RDS shows them.
type InstanceView struct {
	Instance
	ARN    string
	Status string
	// Endpoint is nil while creating.
	Endpoint *Endpoint
	// CACertificateIdentifier is "" while deleting.
	CACertificateIdentifier string
	// CertificateCA is CertificateDetails/CAIdentifier; "" (no
	// CertificateDetails) while deleting.
	CertificateCA string
	// CertificateValidTill is nil while creating and deleting.
	CertificateValidTill *time.Time
	// CreateTime is nil while creating.
	CreateTime *time.Time
	// PendingCA is PendingModifiedValues/CACertificateIdentifier.
	PendingCA string
	// PendingMasterUserPassword shows <MasterUserPassword>****</...>.
	PendingMasterUserPassword bool
}

// CreateInstanceInput is CreateDBInstance's input.
type CreateInstanceInput struct {
	Identifier                 string
	Class                      string
	Engine                     string
	EngineVersion              string
	MasterUsername             string
	MasterUserPassword         string
	ManageMasterUserPassword   *bool
	AllocatedStorage           *int
	Port                       *int
	AvailabilityZone           string
	PreferredMaintenanceWindow string
	CACertificateIdentifier    string
}

// DescribeInstancesInput is DescribeDBInstances' input.
type DescribeInstancesInput struct {
	Identifier string // an identifier or an ARN
	Filters    []Filter
	MaxRecords *int
	Marker     string
}

// DescribeInstancesOutput is DescribeDBInstances' output.
type DescribeInstancesOutput struct {
	Instances []InstanceView
	Marker    string
}

// ModifyInstanceInput is ModifyDBInstance's input, for the members rdsca
// implements; others are ignored.
type ModifyInstanceInput struct {
	Identifier                 string
	CACertificateIdentifier    string
	ApplyImmediately           *bool
	CertificateRotationRestart *bool
	PreferredMaintenanceWindow string
	MasterUserPassword         string
}

// RebootInstanceInput is RebootDBInstance's input.
type RebootInstanceInput struct {
	Identifier    string
	ForceFailover *bool
}

// DeleteInstanceInput is DeleteDBInstance's input.
type DeleteInstanceInput struct {
	Identifier                string
	SkipFinalSnapshot         *bool
	FinalDBSnapshotIdentifier string
}

// PendingMaintenanceAction is one action pending on a resource.
type PendingMaintenanceAction struct {
	Action               string
	Description          string
	OptInStatus          string     // "" when not opted in
	CurrentApplyDate     *time.Time // set after an opt-in
	AutoAppliedAfterDate *time.Time
	ForcedApplyDate      *time.Time
}

// ResourcePendingActions are the actions pending on one resource.
type ResourcePendingActions struct {
	ResourceIdentifier string // the ARN
	Actions            []PendingMaintenanceAction
}

// DescribePendingMaintenanceInput is DescribePendingMaintenanceActions' input.
type DescribePendingMaintenanceInput struct {
	ResourceIdentifier string
	Filters            []Filter
	MaxRecords         *int
	Marker             string
}

// DescribePendingMaintenanceOutput is its output.
type DescribePendingMaintenanceOutput struct {
	Resources []ResourcePendingActions
	Marker    string
}

// ApplyPendingMaintenanceInput is ApplyPendingMaintenanceAction's input.
type ApplyPendingMaintenanceInput struct {
	ResourceIdentifier string
	ApplyAction        string
	OptInType          string
}

// DescribeEngineVersionsInput is DescribeDBEngineVersions' input.
type DescribeEngineVersionsInput struct {
	Engine        string
	EngineVersion string
	Family        string
	DefaultOnly   *bool
	Filters       []Filter
	MaxRecords    *int
	Marker        string
}

// EngineVersionView is an engine version as the API shows it now.
type EngineVersionView struct {
	EngineVersion
	// SupportedCAs are SupportedCACertificateIdentifiers at the clock's time.
	SupportedCAs []string
}

// DescribeEngineVersionsOutput is DescribeDBEngineVersions' output.
type DescribeEngineVersionsOutput struct {
	Versions []EngineVersionView
	Marker   string
}

// Error codes of the instance API.
const (
	CodeDBInstanceNotFound      = "DBInstanceNotFound"
	CodeDBInstanceAlreadyExists = "DBInstanceAlreadyExists"
	CodeInvalidDBInstanceState  = "InvalidDBInstanceState"
	CodeResourceNotFound        = "ResourceNotFoundFault"
	CodeMissingParameter        = "MissingParameter"
)

// Sentinels of the instance API.
var (
	ErrDBInstanceNotFound      = &Error{Code: CodeDBInstanceNotFound}
	ErrDBInstanceAlreadyExists = &Error{Code: CodeDBInstanceAlreadyExists}
	ErrInvalidDBInstanceState  = &Error{Code: CodeInvalidDBInstanceState}
	ErrResourceNotFound        = &Error{Code: CodeResourceNotFound}
	ErrMissingParameter        = &Error{Code: CodeMissingParameter}
)

// ActionCARotation is the maintenance action for an expiring CA.
const ActionCARotation = "ca-certificate-rotation"
