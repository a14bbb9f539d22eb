package rds

import (
	"time"
)

// Instance statuses rdsca uses.
const (
	StatusCreating  = "creating"
	StatusAvailable = "available"
	StatusModifying = "modifying"
	StatusRebooting = "rebooting"
	StatusDeleting  = "deleting"
)

// Phase is a transitional status and when it ends.
type Phase struct {
	Status string
	Until  time.Time
}

// PendingMode says when a pending CA change is applied.
type PendingMode string

// Pending modes.
const (
	// ApplyAtWindow waits for the start of the next maintenance window.
	ApplyAtWindow PendingMode = "window"
	// ApplyAtRestart waits for the next restart (CertificateRotationRestart=false).
	ApplyAtRestart PendingMode = "restart"
	// ApplyAtPhasesEnd is a change in progress, applied when Phases end.
	ApplyAtPhasesEnd PendingMode = "phases"
)

// PendingCA is a CA change not applied yet.
type PendingCA struct {
	CA    string
	Mode  PendingMode
	Since time.Time // when it was requested
}

// OptIn is an opt-in to the ca-certificate-rotation maintenance action.
type OptIn struct {
	Type      string    // OptInNextMaintenance or OptInImmediate
	ApplyDate time.Time // CurrentApplyDate
}

// Opt-in types of ApplyPendingMaintenanceAction.
const (
	OptInImmediate       = "immediate"
	OptInNextMaintenance = "next-maintenance"
	OptInUndo            = "undo-opt-in"
)

// Instance is a DB instance: metadata only, no database runs.
type Instance struct {
	Identifier        string // lowercase
	ResourceID        string // db-<26 base32 characters>
	Class             string
	Engine            string
	EngineVersion     string
	MasterUsername    string
	AllocatedStorage  int
	Port              int
	AvailabilityZone  string
	MaintenanceWindow string // ddd:hh24:mi-ddd:hh24:mi, UTC
	CreateTime        time.Time

	// Phases are the transitional statuses ahead, in order; none means
	// the instance is available (or gone, once Deleted).
	Phases  []Phase
	Deleted bool // the last phase is deleting; when it ends the instance is gone

	CA                  string    // CACertificateIdentifier
	ServerCertValidTill time.Time // CertificateDetails.ValidTill
	Pending             *PendingCA
	MaintenanceOptIn    *OptIn

	// Version counts stored writes; stores use it for compare-and-swap.
	Version int64
}

// Status is the instance's status as DescribeDBInstances shows it.
func (in *Instance) Status() string {
	if len(in.Phases) > 0 {
		return in.Phases[0].Status
	}
	return StatusAvailable
}

// InstanceFilter narrows ListInstances. A nil field matches everything;
// the service never passes an empty non-nil one (it means "match nothing",
// which the service answers itself).
type InstanceFilter struct {
	IDs     []string // lowercase identifiers
	Engines []string
}
