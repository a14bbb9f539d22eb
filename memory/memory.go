// Package memory is an in-memory rds.Store. State lives as long as the value.
package memory

import (
	"context"
	"sync"

	"github.com/rdsca/rdsca/internal/instindex"
	"github.com/rdsca/rdsca/rds"
)

// Store is an in-memory rds.Store.
type Store struct {
	mu        sync.RWMutex
	overrides map[rds.Scope]string
	cas       map[string]map[string]rds.CA

	// writeMu makes each instance write's version check and change one
	// step. Reads go to the index alone.
	writeMu   sync.Mutex
	instances *instindex.Index
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
		instances: instindex.New(),
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
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.overrides)
	s.instances.Reset()
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
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if _, ok := s.instances.Version(sc, in.Identifier); ok {
		return rds.ErrInstanceExists
	}
	in.Version = 1
	s.instances.Put(sc, in)
	return nil
}

// Instance implements rds.InstanceStore.
func (s *Store) Instance(_ context.Context, sc rds.Scope, id string) (rds.Instance, error) {
	if in, ok := s.instances.Get(sc, id); ok {
		return in, nil
	}
	return rds.Instance{}, rds.ErrInstanceNotStored
}

// ListInstances implements rds.InstanceStore.
func (s *Store) ListInstances(_ context.Context, sc rds.Scope, f rds.InstanceFilter, after string, limit int) ([]rds.Instance, error) {
	return s.instances.List(sc, f, after, limit), nil
}

// UpdateInstance implements rds.InstanceStore.
func (s *Store) UpdateInstance(_ context.Context, sc rds.Scope, in rds.Instance) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if err := s.checkVersion(sc, in.Identifier, in.Version); err != nil {
		return err
	}
	in.Version++
	s.instances.Put(sc, in)
	return nil
}

// DeleteInstance implements rds.InstanceStore.
func (s *Store) DeleteInstance(_ context.Context, sc rds.Scope, id string, version int64) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if err := s.checkVersion(sc, id, version); err != nil {
		return err
	}
	s.instances.Delete(sc, id)
	return nil
}

// checkVersion is the compare of compare-and-swap; s.writeMu is held.
func (s *Store) checkVersion(sc rds.Scope, id string, version int64) error {
	cur, ok := s.instances.Version(sc, id)
	switch {
	case !ok:
		return rds.ErrInstanceNotStored
	case cur != version:
		return rds.ErrVersionConflict
	}
	return nil
}
