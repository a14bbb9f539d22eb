package rds

import (
	"context"
	"errors"
	"sort"
	"strings"
	"time"
)

const (
	resourceMarkerPrefix = "res:"
	engineMarkerPrefix   = "ev:"
	// scanBatch is how many instances a maintenance scan reads at a time.
	scanBatch = 500
)

// caRotationDescription is the Description of ca-certificate-rotation.
const caRotationDescription = "CA certificate rotation"

// pendingActions returns in's pending maintenance actions at now.
func (s *Service) pendingActions(lc *lifecycle, in *Instance, now time.Time) []PendingMaintenanceAction {
	if !lc.rotationDue(in, now, s.cfg.RotationNotice) {
		return nil
	}
	a := PendingMaintenanceAction{Action: ActionCARotation, Description: caRotationDescription}
	if o := in.MaintenanceOptIn; o != nil {
		a.OptInStatus = o.Type
		t := o.ApplyDate
		a.CurrentApplyDate = &t
	}
	return []PendingMaintenanceAction{a}
}

// DescribePendingMaintenance lists the instances with pending actions.
func (s *Service) DescribePendingMaintenance(ctx context.Context, sc Scope, in DescribePendingMaintenanceInput) (*DescribePendingMaintenanceOutput, error) {
	max, err := ValidateMaxRecords(in.MaxRecords)
	if err != nil {
		return nil, err
	}
	var f InstanceFilter
	for _, fl := range in.Filters {
		switch fl.Name {
		case "db-instance-id":
			ids, err := filterIDs(sc, fl.Values)
			if err != nil {
				return nil, err
			}
			f.IDs = intersect(f.IDs, ids)
		case "db-cluster-id":
			f.IDs = []string{} // no clusters exist
		default:
			return nil, Errorf(CodeInvalidParameterValue, "Unrecognized filter name: %s", fl.Name)
		}
	}
	if in.ResourceIdentifier != "" {
		id, ok, err := instanceID(sc, in.ResourceIdentifier)
		if err != nil || !strings.HasPrefix(in.ResourceIdentifier, "arn:") {
			return nil, Errorf(CodeInvalidParameterValue, "The parameter ResourceIdentifier is not a valid ARN: %s", in.ResourceIdentifier)
		}
		ids := []string{}
		if ok {
			ids = append(ids, id)
		}
		f.IDs = intersect(f.IDs, ids)
	}
	after := ""
	if in.Marker != "" {
		if after, err = decodeMarker(resourceMarkerPrefix, in.Marker); err != nil {
			return nil, err
		}
	}
	lc, err := s.lifecycleFor(ctx, sc)
	if err != nil {
		return nil, err
	}
	now := s.cfg.Clock.Now()
	out := &DescribePendingMaintenanceOutput{}
	var ids []string
	err = s.scanInstances(ctx, sc, f, after, scanBatch, func(inst Instance) bool {
		if lc.advance(&inst, now) {
			return true
		}
		if acts := s.pendingActions(lc, &inst, now); len(acts) > 0 {
			out.Resources = append(out.Resources, ResourcePendingActions{ResourceIdentifier: InstanceARN(sc, inst.Identifier), Actions: acts})
			ids = append(ids, inst.Identifier)
		}
		return len(out.Resources) <= max
	})
	if err != nil {
		return nil, err
	}
	if len(out.Resources) > max {
		out.Resources = out.Resources[:max]
		out.Marker = encodeMarker(resourceMarkerPrefix, ids[max-1])
	}
	return out, nil
}

// ApplyPendingMaintenance opts in to, or out of, ca-certificate-rotation.
func (s *Service) ApplyPendingMaintenance(ctx context.Context, sc Scope, in ApplyPendingMaintenanceInput) (*ResourcePendingActions, error) {
	for _, p := range [][2]string{{"ResourceIdentifier", in.ResourceIdentifier}, {"ApplyAction", in.ApplyAction}, {"OptInType", in.OptInType}} {
		if p[1] == "" {
			return nil, Errorf(CodeMissingParameter, "The request must contain the parameter %s.", p[0])
		}
	}
	switch in.OptInType {
	case OptInImmediate, OptInNextMaintenance, OptInUndo:
	default:
		return nil, Errorf(CodeInvalidParameterValue, "Invalid value %s for OptInType. Valid values are immediate, next-maintenance and undo-opt-in.", in.OptInType)
	}
	notFound := &Error{Code: CodeResourceNotFound, Message: "The specified resource ID was not found.", Fault: Sender}
	if !strings.HasPrefix(in.ResourceIdentifier, "arn:") {
		return nil, notFound
	}
	id, ok, err := instanceID(sc, in.ResourceIdentifier)
	if err != nil || !ok {
		return nil, notFound
	}
	var result *ResourcePendingActions
	_, err = s.update(ctx, sc, id, func(inst *Instance, lc *lifecycle, now time.Time) (*InstanceView, error) {
		noAction := Errorf(CodeInvalidParameterCombination, "There is no pending %s action for %s", in.ApplyAction, in.ResourceIdentifier)
		if in.ApplyAction != ActionCARotation || !lc.rotationDue(inst, now, s.cfg.RotationNotice) {
			return nil, noAction
		}
		action := PendingMaintenanceAction{Action: ActionCARotation, Description: caRotationDescription}
		switch in.OptInType {
		case OptInImmediate:
			if inst.Status() != StatusAvailable {
				return nil, Errorf(CodeInvalidDBInstanceState, "Database instance is not in available state.")
			}
			lc.startRotation(inst, lc.rotationTarget(now), now, true)
			inst.MaintenanceOptIn = nil
			t := now.UTC().Truncate(time.Second)
			action.OptInStatus, action.CurrentApplyDate = OptInImmediate, &t
		case OptInNextMaintenance:
			inst.MaintenanceOptIn = &OptIn{Type: OptInNextMaintenance, ApplyDate: nextWindowStart(inst.MaintenanceWindow, now)}
			t := inst.MaintenanceOptIn.ApplyDate
			action.OptInStatus, action.CurrentApplyDate = OptInNextMaintenance, &t
		case OptInUndo:
			if inst.MaintenanceOptIn == nil {
				return nil, Errorf(CodeInvalidParameterCombination, "There is no opt-in to undo for the pending %s action for %s", in.ApplyAction, in.ResourceIdentifier)
			}
			inst.MaintenanceOptIn = nil
		}
		result = &ResourcePendingActions{ResourceIdentifier: InstanceARN(sc, inst.Identifier), Actions: []PendingMaintenanceAction{action}}
		return nil, nil
	})
	if errors.Is(err, ErrDBInstanceNotFound) {
		return nil, notFound
	}
	if err != nil {
		return nil, err
	}
	return result, nil
}

// DescribeEngineVersions lists engine versions with the CAs they support
// at the clock's time in the caller's region.
func (s *Service) DescribeEngineVersions(ctx context.Context, sc Scope, in DescribeEngineVersionsInput) (*DescribeEngineVersionsOutput, error) {
	max, err := ValidateMaxRecords(in.MaxRecords)
	if err != nil {
		return nil, err
	}
	engine, version, family := strings.ToLower(in.Engine), in.EngineVersion, strings.ToLower(in.Family)
	for _, fl := range in.Filters {
		switch fl.Name {
		case "engine", "engine-version", "db-parameter-group-family":
			if len(fl.Values) > 0 {
				v := fl.Values[0]
				switch fl.Name {
				case "engine":
					engine = strings.ToLower(v)
				case "engine-version":
					version = v
				default:
					family = strings.ToLower(v)
				}
			}
		case "status", "engine-mode":
			// Every version is available and provisioned.
		default:
			return nil, Errorf(CodeInvalidParameterValue, "Unrecognized filter name: %s", fl.Name)
		}
	}
	if engine != "" && !knownEngine(engine) {
		return nil, Errorf(CodeInvalidParameterValue, "Unrecognized engine name: %s", engine)
	}
	after := ""
	if in.Marker != "" {
		if after, err = decodeMarker(engineMarkerPrefix, in.Marker); err != nil {
			return nil, err
		}
	}
	all, err := s.regionCertificates(ctx, sc.Region)
	if err != nil {
		return nil, err
	}
	var supported []string
	for _, c := range listed(all, s.cfg.Clock.Now()) {
		supported = append(supported, c.Identifier)
	}
	sort.Strings(supported)
	defaultOnly := in.DefaultOnly != nil && *in.DefaultOnly
	start := 0
	if after != "" {
		start = -1
		for i, ev := range engineVersions {
			if ev.Engine+"/"+ev.Version == after {
				start = i + 1
			}
		}
		if start < 0 {
			return nil, Errorf(CodeInvalidParameterValue, "The parameter Marker is not valid: %s", in.Marker)
		}
	}
	out := &DescribeEngineVersionsOutput{}
	for _, ev := range engineVersions[start:] {
		if (engine != "" && ev.Engine != engine) || (family != "" && ev.Family != family) || (defaultOnly && !ev.Default) {
			continue
		}
		if version != "" && ev.Version != version && !strings.HasPrefix(ev.Version, version+".") {
			continue
		}
		if len(out.Versions) == max {
			last := out.Versions[max-1]
			out.Marker = encodeMarker(engineMarkerPrefix, last.Engine+"/"+last.Version)
			break
		}
		out.Versions = append(out.Versions, EngineVersionView{EngineVersion: ev, SupportedCAs: append([]string(nil), supported...)})
	}
	return out, nil
}
