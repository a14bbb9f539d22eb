package rds

import (
	"context"
	"errors"
	"strings"
	"time"
)

// maxWriteAttempts bounds retries of a read-modify-write that lost a race.
const maxWriteAttempts = 16

const instanceMarkerPrefix = "db:"

// lifecycleFor returns the lifecycle of the scope's region.
func (s *Service) lifecycleFor(ctx context.Context, sc Scope) (*lifecycle, error) {
	certs, err := s.regionCertificates(ctx, sc.Region)
	if err != nil {
		return nil, err
	}
	return &lifecycle{
		delay: s.cfg.Delay,
		certs: certs,
		rotationTarget: func(at time.Time) string {
			// The default for new launches now; an expired one falls back.
			if st, err := s.state(ctx, sc); err == nil {
				if _, ok := find(listed(certs, at), st.def); ok {
					return st.def
				}
			}
			return DefaultIdentifier
		},
	}, nil
}

// notFound makes DBInstanceNotFound errors in an operation's wording.
type notFound func(id string) error

// describeNotFound is DescribeDBInstances' wording; writeNotFound that of
// the operations that change an instance.
var (
	describeNotFound notFound = func(id string) error { return Errorf(CodeDBInstanceNotFound, "DBInstance %s not found.", id) }
	writeNotFound    notFound = func(id string) error { return Errorf(CodeDBInstanceNotFound, "DBInstance not found: %s", id) }
)

// errBusy answers a write that kept losing races.
var errBusy = Errorf("Throttling", "The instance is being changed by other requests; try again.")

// load reads and advances an instance; gone instances are not found.
func (s *Service) load(ctx context.Context, sc Scope, lc *lifecycle, given string, now time.Time, errNotFound notFound) (Instance, error) {
	id, ok, err := instanceID(sc, given)
	if err != nil {
		return Instance{}, err
	}
	if !ok {
		return Instance{}, errNotFound(given)
	}
	in, err := s.cfg.Store.Instance(ctx, sc, id)
	if errors.Is(err, ErrInstanceNotStored) {
		return Instance{}, errNotFound(given)
	}
	if err != nil {
		return Instance{}, err
	}
	if lc.advance(&in, now) {
		s.forget(ctx, sc, in)
		return Instance{}, errNotFound(given)
	}
	return in, nil
}

// forget removes the stored row of an instance whose deletion has ended.
// It is cleanup: a concurrent writer winning is fine, and so is an error,
// which the next reader retries.
func (s *Service) forget(ctx context.Context, sc Scope, in Instance) {
	_ = s.cfg.Store.DeleteInstance(ctx, sc, in.Identifier, in.Version)
}

// update runs a read-modify-write of one instance, retrying when another
// writer got there first. fn changes in and returns the view to answer
// with; a nil view means the stored state's.
func (s *Service) update(ctx context.Context, sc Scope, given string, fn func(in *Instance, lc *lifecycle, now time.Time) (*InstanceView, error)) (*InstanceView, error) {
	lc, err := s.lifecycleFor(ctx, sc)
	if err != nil {
		return nil, err
	}
	for range maxWriteAttempts {
		now := s.cfg.Clock.Now()
		in, err := s.load(ctx, sc, lc, given, now, writeNotFound)
		if err != nil {
			return nil, err
		}
		answer, err := fn(&in, lc, now)
		if err != nil {
			return nil, err
		}
		err = s.cfg.Store.UpdateInstance(ctx, sc, in)
		switch {
		case errors.Is(err, ErrVersionConflict):
			continue
		case errors.Is(err, ErrInstanceNotStored):
			return nil, writeNotFound(given)
		case err != nil:
			return nil, err
		}
		in.Version++
		if answer == nil {
			v := view(sc, in)
			answer = &v
		}
		answer.Version = in.Version
		return answer, nil
	}
	return nil, errBusy
}

// CreateInstance creates a DB instance.
func (s *Service) CreateInstance(ctx context.Context, sc Scope, in CreateInstanceInput) (*InstanceView, error) {
	return s.create(ctx, sc, in, StatusCreating, false)
}

// MinSeededPhase is the least a seeded transitional status lasts.
const MinSeededPhase = time.Hour

// SeedInstance creates an instance directly in a status, for tests:
// available, or a transitional status that lasts the service's Delay but at
// least MinSeededPhase. Unlike CreateInstance, its CA may be any CA of the
// region, expired ones included. The result is the stored state.
func (s *Service) SeedInstance(ctx context.Context, sc Scope, in CreateInstanceInput, status string) (*InstanceView, error) {
	switch status {
	case StatusAvailable, StatusCreating, StatusModifying, StatusRebooting, StatusDeleting:
	default:
		return nil, Errorf(CodeInvalidParameterValue, "Cannot seed an instance in status %q.", status)
	}
	return s.create(ctx, sc, in, status, true)
}

func (s *Service) create(ctx context.Context, sc Scope, in CreateInstanceInput, status string, seeding bool) (*InstanceView, error) {
	if err := checkIdentifier("DBInstanceIdentifier", in.Identifier); err != nil {
		return nil, err
	}
	if in.Class == "" {
		return nil, Errorf(CodeMissingParameter, "The request must contain the parameter DBInstanceClass.")
	}
	if !strings.HasPrefix(in.Class, "db.") || strings.Count(in.Class, ".") != 2 {
		return nil, Errorf(CodeInvalidParameterValue, "Invalid DB Instance class: %s", in.Class)
	}
	if in.Engine == "" {
		return nil, Errorf(CodeMissingParameter, "The request must contain the parameter Engine.")
	}
	engine := strings.ToLower(in.Engine)
	if !knownEngine(engine) {
		return nil, Errorf(CodeInvalidParameterValue, "Invalid DB engine: %s", in.Engine)
	}
	ev, ok := findEngineVersion(engine, in.EngineVersion)
	if !ok {
		return nil, Errorf(CodeInvalidParameterCombination, "Cannot find version %s for %s", in.EngineVersion, engine)
	}
	if in.MasterUsername == "" {
		return nil, Errorf(CodeInvalidParameterValue, "The parameter MasterUsername must be provided and must not be blank.")
	}
	managed := in.ManageMasterUserPassword != nil && *in.ManageMasterUserPassword
	switch {
	case managed && in.MasterUserPassword != "":
		return nil, Errorf(CodeInvalidParameterCombination, "You can't specify MasterUserPassword when ManageMasterUserPassword is turned on.")
	case !managed && in.MasterUserPassword == "":
		return nil, Errorf(CodeInvalidParameterValue, "The parameter MasterUserPassword must be provided and must not be blank.")
	case !managed && len(in.MasterUserPassword) < 8:
		return nil, Errorf(CodeInvalidParameterValue, "The parameter MasterUserPassword is not a valid password because it is shorter than 8 characters.")
	}
	if in.AllocatedStorage == nil || *in.AllocatedStorage < 20 || *in.AllocatedStorage > 65536 {
		n := 0
		if in.AllocatedStorage != nil {
			n = *in.AllocatedStorage
		}
		return nil, Errorf(CodeInvalidParameterValue, "Invalid storage size for engine name %s and storage type gp2: %d", engine, n)
	}
	port := defaultPorts[engine]
	if in.Port != nil {
		if *in.Port < 1150 || *in.Port > 65535 {
			return nil, Errorf(CodeInvalidParameterValue, "Invalid port %d. The port must be between 1150 and 65535.", *in.Port)
		}
		port = *in.Port
	}
	id := strings.ToLower(in.Identifier)
	window := defaultWindow(sc, id)
	if in.PreferredMaintenanceWindow != "" {
		if _, _, err := parseWindow(in.PreferredMaintenanceWindow); err != nil {
			return nil, err
		}
		window = strings.ToLower(in.PreferredMaintenanceWindow)
	}
	az := availabilityZone(sc, id)
	if in.AvailabilityZone != "" {
		if !strings.HasPrefix(in.AvailabilityZone, sc.Region) || len(in.AvailabilityZone) != len(sc.Region)+1 {
			return nil, Errorf(CodeInvalidParameterValue, "Invalid availability zone: %s", in.AvailabilityZone)
		}
		az = in.AvailabilityZone
	}
	st, err := s.state(ctx, sc)
	if err != nil {
		return nil, err
	}
	lc, err := s.lifecycleFor(ctx, sc)
	if err != nil {
		return nil, err
	}
	ca := st.def
	if in.CACertificateIdentifier != "" {
		candidates := st.listed
		if seeding {
			candidates = lc.certs
		}
		c, ok := find(candidates, strings.ToLower(in.CACertificateIdentifier))
		if !ok {
			return nil, Errorf(CodeCertificateNotFound, "Certificate not found: %s", in.CACertificateIdentifier)
		}
		ca = c.Identifier
	}
	if !seeding && !supportsCA(st.listed, ca) {
		return nil, Errorf(CodeInvalidParameterCombination, "Version %s for DB engine %s doesn't support certificate %s. Specify a different DB engine version or a different certificate.", ev.Version, engine, ca)
	}
	now := s.cfg.Clock.Now()
	var phases []Phase
	if status != StatusAvailable {
		d := s.cfg.Delay
		if seeding {
			d = max(d, MinSeededPhase)
		}
		phases = []Phase{{Status: status, Until: now.Add(d)}}
	}
	inst := Instance{
		Identifier:        id,
		ResourceID:        newResourceID(),
		Class:             in.Class,
		Engine:            engine,
		EngineVersion:     ev.Version,
		MasterUsername:    in.MasterUsername,
		AllocatedStorage:  *in.AllocatedStorage,
		Port:              port,
		AvailabilityZone:  az,
		MaintenanceWindow: window,
		CreateTime:        now.Truncate(time.Millisecond),
		Phases:            phases,
		Deleted:           status == StatusDeleting,
	}
	lc.applyCA(&inst, ca, now)
	for range maxWriteAttempts {
		err := s.cfg.Store.CreateInstance(ctx, sc, inst)
		if err == nil {
			inst.Version = 1
			answer := view(sc, inst) // RDS answers with the creating state
			return &answer, nil
		}
		if !errors.Is(err, ErrInstanceExists) {
			return nil, err
		}
		// A stored instance whose deletion has ended gives way.
		old, err := s.cfg.Store.Instance(ctx, sc, id)
		if errors.Is(err, ErrInstanceNotStored) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if !lc.advance(&old, now) {
			return nil, Errorf(CodeDBInstanceAlreadyExists, "DB instance already exists")
		}
		if err := s.cfg.Store.DeleteInstance(ctx, sc, id, old.Version); err != nil && !errors.Is(err, ErrVersionConflict) && !errors.Is(err, ErrInstanceNotStored) {
			return nil, err
		}
	}
	return nil, errBusy
}

// supportsCA reports whether the engine versions support ca: every engine
// version supports every CA listed in the region (the reference's decision).
func supportsCA(listed []Certificate, ca string) bool {
	_, ok := find(listed, ca)
	return ok
}

// DescribeInstances lists instances, or describes one.
func (s *Service) DescribeInstances(ctx context.Context, sc Scope, in DescribeInstancesInput) (*DescribeInstancesOutput, error) {
	max, err := ValidateMaxRecords(in.MaxRecords)
	if err != nil {
		return nil, err
	}
	lc, err := s.lifecycleFor(ctx, sc)
	if err != nil {
		return nil, err
	}
	now := s.cfg.Clock.Now()
	if in.Identifier != "" {
		inst, err := s.load(ctx, sc, lc, in.Identifier, now, describeNotFound)
		if err != nil {
			return nil, err
		}
		return &DescribeInstancesOutput{Instances: []InstanceView{view(sc, inst)}}, nil
	}
	f, resourceIDs, err := instanceFilter(sc, in.Filters)
	if err != nil {
		return nil, err
	}
	after := ""
	if in.Marker != "" {
		if after, err = decodeMarker(instanceMarkerPrefix, in.Marker); err != nil {
			return nil, err
		}
	}
	out := &DescribeInstancesOutput{}
	err = s.scanInstances(ctx, sc, f, after, max+1, func(inst Instance) bool {
		if lc.advance(&inst, now) {
			s.forget(ctx, sc, inst)
			return true
		}
		if resourceIDs != nil && !resourceIDs[inst.ResourceID] {
			return true
		}
		out.Instances = append(out.Instances, view(sc, inst))
		return len(out.Instances) <= max
	})
	if err != nil {
		return nil, err
	}
	if len(out.Instances) > max {
		out.Instances = out.Instances[:max]
		out.Marker = encodeMarker(instanceMarkerPrefix, out.Instances[max-1].Identifier)
	}
	return out, nil
}

// scanInstances calls fn on stored instances in identifier order after
// the given one, in batches of batch, until fn returns false or none are
// left.
func (s *Service) scanInstances(ctx context.Context, sc Scope, f InstanceFilter, after string, batch int, fn func(Instance) bool) error {
	if (f.IDs != nil && len(f.IDs) == 0) || (f.Engines != nil && len(f.Engines) == 0) {
		return nil // a filter that matches nothing
	}
	for {
		page, err := s.cfg.Store.ListInstances(ctx, sc, f, after, batch)
		if err != nil {
			return err
		}
		for _, inst := range page {
			if !fn(inst) {
				return nil
			}
			after = inst.Identifier
		}
		if len(page) < batch {
			return nil
		}
	}
}

// instanceFilter turns DescribeDBInstances' Filters into a store filter
// and a set of resource ids (nil when not filtered by them).
func instanceFilter(sc Scope, filters []Filter) (InstanceFilter, map[string]bool, error) {
	var f InstanceFilter
	var resourceIDs map[string]bool
	for _, fl := range filters {
		switch fl.Name {
		case "db-instance-id":
			ids, err := filterIDs(sc, fl.Values)
			if err != nil {
				return f, nil, err
			}
			f.IDs = intersect(f.IDs, ids)
		case "engine":
			engines := []string{}
			for _, v := range fl.Values {
				engines = append(engines, strings.ToLower(v))
			}
			f.Engines = intersect(f.Engines, engines)
		case "dbi-resource-id":
			if resourceIDs == nil {
				resourceIDs = map[string]bool{}
			}
			for _, v := range fl.Values {
				resourceIDs[v] = true
			}
		case "db-cluster-id", "domain":
			// No clusters or directory domains exist: nothing matches.
			f.IDs = []string{}
		default:
			return f, nil, Errorf(CodeInvalidParameterValue, "Unrecognized filter name: %s", fl.Name)
		}
	}
	return f, resourceIDs, nil
}

// filterIDs resolves the identifiers and ARNs of a db-instance-id filter.
func filterIDs(sc Scope, values []string) ([]string, error) {
	ids := []string{}
	for _, v := range values {
		id, ok, err := instanceID(sc, v)
		if err != nil {
			return nil, Errorf(CodeInvalidParameterValue, "The parameter Filter: db-instance-id is not a valid identifier. %s", identifierRules)
		}
		if ok {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// intersect combines two filters on one field: nil means unfiltered.
func intersect(a, b []string) []string {
	if a == nil {
		return b
	}
	in := map[string]bool{}
	for _, v := range b {
		in[v] = true
	}
	out := []string{}
	for _, v := range a {
		if in[v] {
			out = append(out, v)
		}
	}
	return out
}

// ModifyInstance changes an instance's CA or maintenance window.
func (s *Service) ModifyInstance(ctx context.Context, sc Scope, in ModifyInstanceInput) (*InstanceView, error) {
	restart := in.CertificateRotationRestart == nil || *in.CertificateRotationRestart
	if !restart && in.CACertificateIdentifier == "" {
		return nil, Errorf(CodeInvalidParameterCombination, "CACertificateIdentifier is required to use the NoCertificateRotationRestart option.")
	}
	if in.PreferredMaintenanceWindow != "" {
		if _, _, err := parseWindow(in.PreferredMaintenanceWindow); err != nil {
			return nil, err
		}
	}
	if in.MasterUserPassword != "" && len(in.MasterUserPassword) < 8 {
		return nil, Errorf(CodeInvalidParameterValue, "The parameter MasterUserPassword is not a valid password because it is shorter than 8 characters.")
	}
	var ca string
	if in.CACertificateIdentifier != "" {
		st, err := s.state(ctx, sc)
		if err != nil {
			return nil, err
		}
		c, ok := find(st.listed, strings.ToLower(in.CACertificateIdentifier))
		if !ok {
			return nil, Errorf(CodeCertificateNotFound, "Certificate not found: %s", in.CACertificateIdentifier)
		}
		ca = c.Identifier
	}
	immediately := in.ApplyImmediately != nil && *in.ApplyImmediately
	return s.update(ctx, sc, in.Identifier, func(inst *Instance, lc *lifecycle, now time.Time) (*InstanceView, error) {
		if inst.Status() != StatusAvailable {
			return nil, Errorf(CodeInvalidDBInstanceState, "Database instance is not in available state.")
		}
		if in.PreferredMaintenanceWindow != "" {
			inst.MaintenanceWindow = strings.ToLower(in.PreferredMaintenanceWindow)
		}
		switch ca {
		case "":
			return nil, nil
		case inst.CA:
			inst.Pending = nil // the same CA: a no-op that drops a pending change
			return nil, nil
		}
		switch {
		case immediately && restart:
			lc.startRotation(inst, ca, now, true)
		case immediately:
			inst.Pending = &PendingCA{CA: ca, Mode: ApplyAtRestart, Since: now}
		default:
			inst.Pending = &PendingCA{CA: ca, Mode: ApplyAtWindow, Since: now}
		}
		// RDS answers with the state before the change starts, showing
		// the new CA as pending.
		answer := *inst
		answer.Phases = nil
		v := view(sc, answer)
		return &v, nil
	})
}

// RebootInstance restarts an instance, applying a CA change held for the
// next restart (not one waiting for the maintenance window).
func (s *Service) RebootInstance(ctx context.Context, sc Scope, in RebootInstanceInput) (*InstanceView, error) {
	if in.ForceFailover != nil && *in.ForceFailover {
		return nil, Errorf(CodeInvalidParameterCombination, "ForceFailover is only valid for Multi-AZ instances.")
	}
	return s.update(ctx, sc, in.Identifier, func(inst *Instance, lc *lifecycle, now time.Time) (*InstanceView, error) {
		if inst.Status() != StatusAvailable {
			return nil, Errorf(CodeInvalidDBInstanceState, "Instance cannot currently reboot due to an in-progress management operation.")
		}
		inst.Phases = []Phase{{Status: StatusRebooting, Until: now.Add(lc.delay)}}
		v := view(sc, *inst)
		return &v, nil
	})
}

// DeleteInstance deletes an instance: it shows as deleting, then is gone.
func (s *Service) DeleteInstance(ctx context.Context, sc Scope, in DeleteInstanceInput) (*InstanceView, error) {
	skip := in.SkipFinalSnapshot != nil && *in.SkipFinalSnapshot
	switch {
	case !skip && in.FinalDBSnapshotIdentifier == "":
		return nil, Errorf(CodeInvalidParameterCombination, "FinalDBSnapshotIdentifier is required unless SkipFinalSnapshot is specified.")
	case skip && in.FinalDBSnapshotIdentifier != "":
		return nil, Errorf(CodeInvalidParameterCombination, "You can't specify FinalDBSnapshotIdentifier when SkipFinalSnapshot is true.")
	case in.FinalDBSnapshotIdentifier != "":
		if err := checkIdentifier("FinalDBSnapshotIdentifier", in.FinalDBSnapshotIdentifier); err != nil {
			return nil, err
		}
	}
	return s.update(ctx, sc, in.Identifier, func(inst *Instance, lc *lifecycle, now time.Time) (*InstanceView, error) {
		if inst.Deleted {
			return nil, Errorf(CodeInvalidDBInstanceState, "Instance %s is already being deleted.", inst.Identifier)
		}
		inst.Phases = []Phase{{Status: StatusDeleting, Until: now.Add(lc.delay)}}
		inst.Deleted = true
		inst.Pending = nil
		inst.MaintenanceOptIn = nil
		v := view(sc, *inst)
		return &v, nil
	})
}
