package rds

import (
	"errors"
	"fmt"
)

// Fault says whose fault an error is, as the AWS error Type.
type Fault int

// Faults.
const (
	Sender Fault = iota
	Receiver
)

// Error is an error with an AWS error code. Two Errors match with errors.Is
// when their codes are equal, so the sentinels below work as targets.
type Error struct {
	Code    string
	Message string
	Fault   Fault
	// Err, if not nil, is the cause: it is not shown to clients, but
	// errors.Is and errors.As see it through Unwrap.
	Err error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Code + ": " + e.Message + " (" + e.Err.Error() + ")"
	}
	return e.Code + ": " + e.Message
}

// Unwrap returns the cause, if any.
func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is an *Error with the same code.
func (e *Error) Is(target error) bool {
	var t *Error
	return errors.As(target, &t) && t.Code == e.Code
}

// Errorf returns a sender fault with the given code.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Fault: Sender}
}

// Error codes the domain returns.
const (
	CodeCertificateNotFound         = "CertificateNotFound"
	CodeInvalidParameterValue       = "InvalidParameterValue"
	CodeInvalidParameterCombination = "InvalidParameterCombination"
	// CodeServiceUnavailable is a receiver fault: the store cannot be
	// reached. Clients should retry.
	CodeServiceUnavailable = "ServiceUnavailable"
)

// Sentinels for errors.Is.
var (
	ErrCertificateNotFound         = &Error{Code: CodeCertificateNotFound}
	ErrInvalidParameterValue       = &Error{Code: CodeInvalidParameterValue}
	ErrInvalidParameterCombination = &Error{Code: CodeInvalidParameterCombination}
	ErrServiceUnavailable          = &Error{Code: CodeServiceUnavailable, Fault: Receiver}
)
