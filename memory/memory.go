// Package memory is an in-memory rds.Store. State lives as long as the value.
package memory

import (
	"context"
	"sync"

	"github.com/rdsca/rdsca/rds"
)

// Store is an in-memory rds.Store.
type Store struct {
	mu        sync.RWMutex
	overrides map[rds.Scope]string
	cas       map[string]map[string]rds.CA
}

var _ rds.Store = (*Store)(nil)

// New returns an empty store.
func New() *Store {
	return &Store{overrides: map[rds.Scope]string{}, cas: map[string]map[string]rds.CA{}}
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

// clone copies the byte slices so callers never share the store's memory.
func clone(ca rds.CA) rds.CA {
	ca.CertDER = append([]byte(nil), ca.CertDER...)
	ca.KeyDER = append([]byte(nil), ca.KeyDER...)
	return ca
}
