// Package memory is an in-memory rds.Store. State lives as long as the value.
package memory

import (
	"context"
	"slices"
	"sort"
	"sync"

	"github.com/rdsca/rdsca/rds"
)

// Store is an in-memory rds.Store.
type Store struct {
	mu        sync.RWMutex
	overrides map[rds.Scope]string
	cas       map[string]map[string]rds.CA
	instances map[rds.Scope]*scopeInstances
}

// scopeInstances holds one scope's instances, by identifier and as a
// sorted identifier list for keyset listing.
type scopeInstances struct {
	byID map[string]rds.Instance
	ids  []string // sorted
}

var (
	_ rds.Store    = (*Store)(nil)
	_ rds.Resetter = (*Store)(nil)
)

// New returns an empty store.
func New() *Store {
	return &Store{
		overrides: map[rds.Scope]string{},
		cas:       map[string]map[string]rds.CA{},
		instances: map[rds.Scope]*scopeInstances{},
	}
}

// Override implements rds.Store.
func (s *Store) Override(_ context.Context, sc rds.Scope) (string, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.overrides[sc], nil
}

// SetOverride implements rds.Store.
func (s *Store) SetOverride(_ context.Context, sc rds.Scope, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.overrides[sc] = id
	return nil
}

// RemoveOverride implements rds.Store.
func (s *Store) RemoveOverride(_ context.Context, sc rds.Scope) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.overrides, sc)
	return nil
}

// CAs implements rds.Store.
func (s *Store) CAs(_ context.Context, region string) ([]rds.CA, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]rds.CA, 0, len(s.cas[region]))
	for _, ca := range s.cas[region] {
		out = append(out, clone(ca))
	}
	return out, nil
}

// AddCAs implements rds.Store.
func (s *Store) AddCAs(_ context.Context, region string, cas []rds.CA) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.cas[region]
	if m == nil {
		m = map[string]rds.CA{}
		s.cas[region] = m
	}
	for _, ca := range cas {
		if _, ok := m[ca.Identifier]; !ok {
			ca = clone(ca)
			ca.Region = region
			m[ca.Identifier] = ca
		}
	}
	return nil
}

// Close implements rds.Store.
func (s *Store) Close() error { return nil }

// Reset implements rds.Resetter: it forgets every override and instance of
// every scope and keeps the CA material.
func (s *Store) Reset(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.overrides)
	clear(s.instances)
	return nil
}

// clone copies the byte slices so callers never share the store's memory.
func clone(ca rds.CA) rds.CA {
	ca.CertDER = append([]byte(nil), ca.CertDER...)
	ca.KeyDER = append([]byte(nil), ca.KeyDER...)
	return ca
}

// CreateInstance implements rds.InstanceStore.
func (s *Store) CreateInstance(_ context.Context, sc rds.Scope, in rds.Instance) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	si := s.instances[sc]
	if si == nil {
		si = &scopeInstances{byID: map[string]rds.Instance{}}
		s.instances[sc] = si
	}
	if _, ok := si.byID[in.Identifier]; ok {
		return rds.ErrInstanceExists
	}
	in = cloneInstance(in)
	in.Version = 1
	si.byID[in.Identifier] = in
	i, _ := slices.BinarySearch(si.ids, in.Identifier)
	si.ids = slices.Insert(si.ids, i, in.Identifier)
	return nil
}

// Instance implements rds.InstanceStore.
func (s *Store) Instance(_ context.Context, sc rds.Scope, id string) (rds.Instance, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if si := s.instances[sc]; si != nil {
		if in, ok := si.byID[id]; ok {
			return cloneInstance(in), nil
		}
	}
	return rds.Instance{}, rds.ErrInstanceNotStored
}

// ListInstances implements rds.InstanceStore.
func (s *Store) ListInstances(_ context.Context, sc rds.Scope, f rds.InstanceFilter, after string, limit int) ([]rds.Instance, error) {
	out := []rds.Instance{}
	if limit <= 0 {
		return out, nil
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	si := s.instances[sc]
	if si == nil {
		return out, nil
	}
	ids := si.ids
	if len(f.IDs) > 0 {
		// Walk the (few) requested identifiers rather than the scope.
		ids = slices.Clone(f.IDs)
		slices.Sort(ids)
		ids = slices.Compact(ids)
	}
	start := sort.SearchStrings(ids, after)
	if start < len(ids) && ids[start] == after {
		start++
	}
	for _, id := range ids[start:] {
		in, ok := si.byID[id]
		if !ok || (len(f.Engines) > 0 && !slices.Contains(f.Engines, in.Engine)) {
			continue
		}
		out = append(out, cloneInstance(in))
		if len(out) == limit {
			break
		}
	}
	return out, nil
}

// UpdateInstance implements rds.InstanceStore.
func (s *Store) UpdateInstance(_ context.Context, sc rds.Scope, in rds.Instance) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	si := s.instances[sc]
	if si == nil {
		return rds.ErrInstanceNotStored
	}
	cur, ok := si.byID[in.Identifier]
	switch {
	case !ok:
		return rds.ErrInstanceNotStored
	case cur.Version != in.Version:
		return rds.ErrVersionConflict
	}
	in = cloneInstance(in)
	in.Version++
	si.byID[in.Identifier] = in
	return nil
}

// DeleteInstance implements rds.InstanceStore.
func (s *Store) DeleteInstance(_ context.Context, sc rds.Scope, id string, version int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	si := s.instances[sc]
	if si == nil {
		return rds.ErrInstanceNotStored
	}
	cur, ok := si.byID[id]
	switch {
	case !ok:
		return rds.ErrInstanceNotStored
	case cur.Version != version:
		return rds.ErrVersionConflict
	}
	delete(si.byID, id)
	if i, ok := slices.BinarySearch(si.ids, id); ok {
		si.ids = slices.Delete(si.ids, i, i+1)
	}
	if len(si.ids) == 0 {
		delete(s.instances, sc)
	}
	return nil
}

// cloneInstance deep-copies in, keeping nil slices and pointers nil, with
// every time in UTC and without a monotonic reading, as the SQLite store
// returns them.
func cloneInstance(in rds.Instance) rds.Instance {
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
