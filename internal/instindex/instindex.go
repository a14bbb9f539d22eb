// Package instindex is an in-memory index of DB instances, per scope and in
// identifier order, shared by the store adapters: the memory store keeps
// its instances in one, and the SQLite store answers instance reads from
// one kept in step with its committed writes. The adapters do their own
// compare-and-swap checks; the Index only stores what it is given.
package instindex

import (
	"slices"
	"strings"
	"sync"

	"github.com/rdsca/rdsca/rds"
)

// Index holds instances per scope, sorted by identifier. It is safe for
// concurrent use. Instances go in and come out as deep copies, so callers
// never share its memory, with every time in UTC and without a monotonic
// reading. The zero Index is empty and ready to use.
//
// Stored instances are never changed in place: Put stores a new copy. So a
// reader copies a stored instance out after letting go of the lock.
type Index struct {
	mu     sync.RWMutex
	scopes map[rds.Scope]*scope
	intern map[string]string
}

// scope is one scope's instances, sorted by identifier.
type scope struct {
	entries []entry
}

// entry is one stored instance; id is in.Identifier, kept beside the
// pointer so a binary search reads no instance.
type entry struct {
	id string
	in *rds.Instance
}

// New returns an empty Index.
func New() *Index { return &Index{} }

// find returns where id is, or would be, in the scope's entries.
func (s *scope) find(id string) (int, bool) {
	return slices.BinarySearchFunc(s.entries, id, func(e entry, id string) int {
		return strings.Compare(e.id, id)
	})
}

func (x *Index) get(sc rds.Scope, id string) *rds.Instance {
	x.mu.RLock()
	defer x.mu.RUnlock()
	if s := x.scopes[sc]; s != nil {
		if i, ok := s.find(id); ok {
			return s.entries[i].in
		}
	}
	return nil
}

// Get returns a copy of the instance stored in the scope under id.
func (x *Index) Get(sc rds.Scope, id string) (rds.Instance, bool) {
	in := x.get(sc, id)
	if in == nil {
		return rds.Instance{}, false
	}
	return Clone(*in), true
}

// Version returns the Version of the instance stored in the scope under id,
// without copying the instance.
func (x *Index) Version(sc rds.Scope, id string) (int64, bool) {
	in := x.get(sc, id)
	if in == nil {
		return 0, false
	}
	return in.Version, true
}

// List returns copies of up to limit instances of the scope matching f
// whose identifiers sort after the given one, in identifier order; none
// when limit <= 0. A nil filter field matches everything, an empty non-nil
// one nothing (see rds.InstanceFilter).
func (x *Index) List(sc rds.Scope, f rds.InstanceFilter, after string, limit int) []rds.Instance {
	out := []rds.Instance{}
	if limit <= 0 || (f.IDs != nil && len(f.IDs) == 0) || (f.Engines != nil && len(f.Engines) == 0) {
		return out
	}
	for _, in := range x.list(sc, f, after, limit) {
		out = append(out, Clone(*in))
	}
	return out
}

// list returns the stored instances List copies.
func (x *Index) list(sc rds.Scope, f rds.InstanceFilter, after string, limit int) []*rds.Instance {
	var ids []string
	if f.IDs != nil {
		// Look up the (few) requested identifiers rather than walk the scope.
		ids = slices.Clone(f.IDs)
		slices.Sort(ids)
		ids = slices.Compact(ids)
		i, found := slices.BinarySearch(ids, after)
		if found {
			i++
		}
		ids = ids[i:]
	}
	match := func(in *rds.Instance) bool {
		return f.Engines == nil || slices.Contains(f.Engines, in.Engine)
	}
	x.mu.RLock()
	defer x.mu.RUnlock()
	s := x.scopes[sc]
	if s == nil {
		return nil
	}
	var out []*rds.Instance
	if f.IDs != nil {
		for _, id := range ids {
			if i, ok := s.find(id); ok && match(s.entries[i].in) {
				out = append(out, s.entries[i].in)
				if len(out) == limit {
					break
				}
			}
		}
		return out
	}
	i, found := s.find(after)
	if found {
		i++
	}
	out = make([]*rds.Instance, 0, min(limit, len(s.entries)-i))
	for _, e := range s.entries[i:] {
		if match(e.in) {
			out = append(out, e.in)
			if len(out) == limit {
				break
			}
		}
	}
	return out
}

// Put stores a copy of in in the scope under in.Identifier, with
// in.Version as given, replacing any instance stored there.
func (x *Index) Put(sc rds.Scope, in rds.Instance) {
	in = Clone(in)
	x.mu.Lock()
	defer x.mu.Unlock()
	x.internStrings(&in)
	if x.scopes == nil {
		x.scopes = map[rds.Scope]*scope{}
	}
	s := x.scopes[sc]
	if s == nil {
		s = &scope{}
		x.scopes[sc] = s
	}
	e := entry{id: in.Identifier, in: &in}
	i, found := s.find(in.Identifier)
	if found {
		s.entries[i] = e
	} else {
		s.entries = slices.Insert(s.entries, i, e)
	}
}

// Delete removes the instance stored in the scope under id, if any.
func (x *Index) Delete(sc rds.Scope, id string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	s := x.scopes[sc]
	if s == nil {
		return
	}
	if i, ok := s.find(id); ok {
		s.entries = slices.Delete(s.entries, i, i+1)
	}
	if len(s.entries) == 0 {
		delete(x.scopes, sc)
	}
}

// Reset removes every instance of every scope.
func (x *Index) Reset() {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.scopes = nil
	x.intern = nil
}

// Len returns the number of instances stored, over every scope.
func (x *Index) Len() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	n := 0
	for _, s := range x.scopes {
		n += len(s.entries)
	}
	return n
}

// Interning bounds: at most maxInterned distinct strings, each at most
// maxInternLen bytes long, are shared; longer or later ones are stored as
// they come. Reset forgets them.
const (
	maxInterned  = 4096
	maxInternLen = 64
)

// internStrings makes in's strings that tend to repeat across instances
// (class, engine, CA, statuses...) share one copy with the other
// instances'. Identifiers and resource ids are unique and left alone.
// x.mu is held.
func (x *Index) internStrings(in *rds.Instance) {
	for _, p := range []*string{
		&in.Class, &in.Engine, &in.EngineVersion, &in.MasterUsername,
		&in.AvailabilityZone, &in.MaintenanceWindow, &in.CA,
	} {
		*p = x.internString(*p)
	}
	for i := range in.Phases {
		in.Phases[i].Status = x.internString(in.Phases[i].Status)
	}
	if in.Pending != nil {
		in.Pending.CA = x.internString(in.Pending.CA)
		in.Pending.Mode = rds.PendingMode(x.internString(string(in.Pending.Mode)))
	}
	if in.MaintenanceOptIn != nil {
		in.MaintenanceOptIn.Type = x.internString(in.MaintenanceOptIn.Type)
	}
}

func (x *Index) internString(s string) string {
	if s == "" || len(s) > maxInternLen {
		return s
	}
	if c, ok := x.intern[s]; ok {
		return c
	}
	if len(x.intern) >= maxInterned {
		return s
	}
	if x.intern == nil {
		x.intern = map[string]string{}
	}
	s = strings.Clone(s) // not a substring pinning a larger buffer
	x.intern[s] = s
	return s
}

// Clone deep-copies in, keeping nil slices and pointers nil, with every time
// in UTC and without a monotonic reading: the form every store keeps.
func Clone(in rds.Instance) rds.Instance {
	in.CreateTime = in.CreateTime.UTC()
	in.ServerCertValidTill = in.ServerCertValidTill.UTC()
	if in.Phases != nil {
		ps := make([]rds.Phase, len(in.Phases))
		for i, p := range in.Phases {
			p.Until = p.Until.UTC()
			ps[i] = p
		}
		in.Phases = ps
	}
	if in.Pending != nil {
		p := *in.Pending
		p.Since = p.Since.UTC()
		in.Pending = &p
	}
	if in.MaintenanceOptIn != nil {
		o := *in.MaintenanceOptIn
		o.ApplyDate = o.ApplyDate.UTC()
		in.MaintenanceOptIn = &o
	}
	return in
}
