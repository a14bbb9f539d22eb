// Package rds is rdsca's domain: certificates, overrides, the clock and the
// store interface. It knows nothing of HTTP, XML or SQL.
package rds

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/rdsca/rdsca/catalog"
)

// Scope is the (account, region) every piece of state belongs to.
type Scope struct {
	Account string
	Region  string
}

// Clock tells the domain what time it is.
type Clock interface {
	Now() time.Time
}

// CA is the persisted material of one CA certificate of one region.
// KeyDER is PKCS #8 and is never served.
type CA struct {
	Region     string
	Identifier string
	CertDER    []byte
	KeyDER     []byte
}

// Generator creates CA material for a catalog spec.
type Generator interface {
	Generate(spec catalog.Spec) (CA, error)
}

// Store persists rdsca's state. Implementations are safe for concurrent use.
type Store interface {
	// Override returns the identifier overridden for the scope, or "" if none.
	Override(ctx context.Context, s Scope) (string, error)
	// SetOverride sets the scope's override to id, replacing any other.
	SetOverride(ctx context.Context, s Scope, id string) error
	// RemoveOverride removes the scope's override; removing none is no error.
	RemoveOverride(ctx context.Context, s Scope) error
	// CAs returns the CA material stored for a region, in any order.
	CAs(ctx context.Context, region string) ([]CA, error)
	// AddCAs stores material for identifiers the region does not have yet;
	// material already stored for an identifier is kept, never replaced.
	AddCAs(ctx context.Context, region string, cas []CA) error
	// Close releases the store.
	Close() error

	InstanceStore
}

// InstanceStore persists DB instances, per scope, keyed by identifier.
type InstanceStore interface {
	// CreateInstance stores a new instance with Version 1; an identifier
	// already stored in the scope gives ErrInstanceExists.
	CreateInstance(ctx context.Context, s Scope, in Instance) error
	// Instance returns the stored instance, or ErrInstanceNotStored.
	Instance(ctx context.Context, s Scope, id string) (Instance, error)
	// ListInstances returns up to limit instances matching f whose
	// identifiers sort after the given one, in identifier order; none when
	// limit <= 0. Times come back in UTC.
	ListInstances(ctx context.Context, s Scope, f InstanceFilter, after string, limit int) ([]Instance, error)
	// UpdateInstance replaces the stored instance if its Version is still
	// in.Version, and stores it with Version in.Version+1; otherwise
	// ErrVersionConflict (or ErrInstanceNotStored if it is gone).
	UpdateInstance(ctx context.Context, s Scope, in Instance) error
	// DeleteInstance removes the instance if its Version is still version;
	// otherwise ErrVersionConflict (or ErrInstanceNotStored).
	DeleteInstance(ctx context.Context, s Scope, id string, version int64) error
}

// Store errors. They are internal: the service maps them to AWS errors.
var (
	ErrInstanceExists    = errors.New("rds: instance already stored")
	ErrInstanceNotStored = errors.New("rds: instance not stored")
	ErrVersionConflict   = errors.New("rds: instance changed since read")
)

// Partition returns the ARN partition of a region.
func Partition(region string) string {
	switch {
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(region, "us-isob-"):
		return "aws-iso-b"
	case strings.HasPrefix(region, "us-iso-"):
		return "aws-iso"
	case strings.HasPrefix(region, "eusc-"):
		return "aws-eusc"
	}
	return "aws"
}

// Is2019 reports whether id names a 2019-generation CA (rds-ca-2019 or a
// region's rds-ca-2019-<region>), the system default before NewDefaultFrom.
func Is2019(id string) bool {
	return id == "rds-ca-2019" || strings.HasPrefix(id, "rds-ca-2019-")
}

// NewDefaultFrom is when rds-ca-rsa2048-g1 became the default for new
// instances in regions that had a 2019 CA.
var NewDefaultFrom = time.Date(2024, 1, 25, 0, 0, 0, 0, time.UTC)

// DefaultIdentifier is the system default from NewDefaultFrom on.
const DefaultIdentifier = catalog.RSA2048G1

// Resetter is a Store that can forget every override and instance while
// keeping CA material, so thumbprints survive a reset.
type Resetter interface {
	Reset(ctx context.Context) error
}

// ErrResetUnsupported is returned by Service.Reset for a store that is not
// a Resetter.
var ErrResetUnsupported = errors.New("rds: the store cannot be reset")

// Reset forgets every override and instance of every account and region.
func (s *Service) Reset(ctx context.Context) error {
	r, ok := s.cfg.Store.(Resetter)
	if !ok {
		return ErrResetUnsupported
	}
	return r.Reset(ctx)
}
