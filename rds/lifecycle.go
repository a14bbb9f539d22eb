package rds

import (
	"time"
)

// Server certificate lifetimes in years: engines that rotate without a
// restart get one, the others three; never past the CA.
const (
	shortServerCertYears = 1
	longServerCertYears  = 3
)

// lifecycle applies the clock to instances. It needs the region's
// certificates (for CA expiry) and the default a rotation moves to.
type lifecycle struct {
	delay time.Duration
	certs []Certificate // every CA of the region, listed or not
	// rotationTarget is the CA a ca-certificate-rotation moves to.
	rotationTarget func(at time.Time) string
}

func (lc *lifecycle) caValidTill(id string) (time.Time, bool) {
	c, ok := find(lc.certs, id)
	return c.ValidTill, ok
}

// serverCertValidTill is the expiry of a server certificate issued at.
func (lc *lifecycle) serverCertValidTill(engine, version, ca string, at time.Time) time.Time {
	years := longServerCertYears
	if ev, ok := findEngineVersion(engine, version); ok && ev.RotatesWithoutRestart {
		years = shortServerCertYears
	}
	till := at.UTC().AddDate(years, 0, 0).Truncate(time.Second)
	if caTill, ok := lc.caValidTill(ca); ok && caTill.Before(till) {
		till = caTill
	}
	return till
}

func (lc *lifecycle) applyCA(in *Instance, ca string, at time.Time) {
	in.CA = ca
	in.ServerCertValidTill = lc.serverCertValidTill(in.Engine, in.EngineVersion, ca, at)
}

// needsRestart reports whether a CA rotation restarts the instance.
func needsRestart(in *Instance) bool {
	ev, ok := findEngineVersion(in.Engine, in.EngineVersion)
	return !ok || !ev.RotatesWithoutRestart
}

// startRotation begins rotating to ca at t: modifying, then rebooting if
// the engine cannot rotate without a restart and restart is wanted; the CA
// changes when those phases end.
func (lc *lifecycle) startRotation(in *Instance, ca string, t time.Time, restart bool) {
	in.Phases = []Phase{{Status: StatusModifying, Until: t.Add(lc.delay)}}
	if restart && needsRestart(in) {
		in.Phases = append(in.Phases, Phase{Status: StatusRebooting, Until: t.Add(2 * lc.delay)})
	}
	in.Pending = &PendingCA{CA: ca, Mode: ApplyAtPhasesEnd, Since: t}
}

// advance moves in to its state at now, applying every transition and
// maintenance window that passed, in order. It reports whether the
// instance is gone (its deletion ended).
func (lc *lifecycle) advance(in *Instance, now time.Time) (gone bool) {
	for {
		if len(in.Phases) > 0 {
			p := in.Phases[0]
			if p.Until.After(now) {
				return false
			}
			in.Phases = in.Phases[1:]
			if len(in.Phases) == 0 {
				in.Phases = nil
			}
			if p.Status == StatusRebooting && in.Pending != nil && in.Pending.Mode == ApplyAtRestart {
				lc.applyCA(in, in.Pending.CA, p.Until)
				in.Pending = nil
			}
			if len(in.Phases) > 0 {
				continue
			}
			if in.Deleted {
				return true
			}
			if in.Pending != nil && in.Pending.Mode == ApplyAtPhasesEnd {
				lc.applyCA(in, in.Pending.CA, p.Until)
				in.Pending = nil
			}
			continue
		}
		// Available: the earliest maintenance window that has started.
		var due time.Time
		var ca string
		if in.Pending != nil && in.Pending.Mode == ApplyAtWindow {
			due, ca = nextWindowStart(in.MaintenanceWindow, in.Pending.Since), in.Pending.CA
		}
		if o := in.MaintenanceOptIn; o != nil && o.Type == OptInNextMaintenance && (due.IsZero() || o.ApplyDate.Before(due)) {
			due, ca = o.ApplyDate, ""
		}
		if due.IsZero() || due.After(now) {
			return false
		}
		if ca == "" {
			ca = lc.rotationTarget(due)
			in.MaintenanceOptIn = nil
		}
		lc.startRotation(in, ca, due, true)
	}
}

// rotationDue reports whether in's CA expires within notice of now.
func (lc *lifecycle) rotationDue(in *Instance, now time.Time, notice time.Duration) bool {
	if in.Deleted || (in.Pending != nil && in.Pending.Mode == ApplyAtPhasesEnd) {
		return false
	}
	till, ok := lc.caValidTill(in.CA)
	return ok && !till.After(now.Add(notice))
}

// view is in as the API shows it at now; in must be advanced to now.
func view(sc Scope, in Instance) InstanceView {
	v := InstanceView{Instance: in, ARN: InstanceARN(sc, in.Identifier), Status: in.Status()}
	switch v.Status {
	case StatusCreating:
		v.CACertificateIdentifier, v.CertificateCA = in.CA, in.CA
		v.PendingMasterUserPassword = true
	case StatusDeleting:
		v.Endpoint = endpointFor(sc, &in)
		v.CreateTime = &in.CreateTime
	default:
		v.Endpoint = endpointFor(sc, &in)
		v.CreateTime = &in.CreateTime
		v.CACertificateIdentifier, v.CertificateCA = in.CA, in.CA
		t := in.ServerCertValidTill
		v.CertificateValidTill = &t
	}
	if in.Pending != nil {
		v.PendingCA = in.Pending.CA
	}
	return v
}
