package graphemu

import (
	"fmt"
	"net/http"
	"time"
)

// SMS sign-in retirement. Microsoft retires SMS sign-in (SMS as a primary, passwordless
// method) in the public cloud on 2027-02-01, even for tenants with a customer telephony
// provider; what enableSmsSignIn and smsSignInState answer afterwards is not documented
// (graph-phone-methods.md, "SMS and voice retirement"). The emulator models it from a
// configurable instant, in either of the two plausible shapes, so that a client can be tested
// against both. Phones stay registered: create, update, delete and disableSmsSignIn keep
// working in both shapes.

// RetirementShape is how Graph answers SMS sign-in from the retirement on.
type RetirementShape string

const (
	// RetiredEnableRefused: enableSmsSignIn answers 400 badRequest; smsSignInState reads as
	// before (a mobile registered earlier still reads ready, a new one notConfigured).
	RetiredEnableRefused RetirementShape = "enableRefused"
	// RetiredNotAllowedByPolicy: every user is outside SMS sign-in, as if the policy excluded
	// them all: a mobile's smsSignInState reads notAllowedByPolicy and enableSmsSignIn is
	// refused as for a user the policy does not include (400).
	RetiredNotAllowedByPolicy RetirementShape = "notAllowedByPolicy"
)

// SMSSignInRetirement is when, and how, SMS sign-in retires in the emulator. The zero value
// never retires it.
type SMSSignInRetirement struct {
	// At is the instant from which SMS sign-in is retired (the emulator's clock); zero: never.
	At time.Time `json:"at,omitzero"`
	// Shape is how Graph answers from At on; "" means RetiredEnableRefused.
	Shape RetirementShape `json:"shape,omitempty"`
}

// ParseRetirementShape reads a shape by name ("" is RetiredEnableRefused).
func ParseRetirementShape(s string) (RetirementShape, error) {
	r := SMSSignInRetirement{Shape: RetirementShape(s)}
	if err := r.validate(); err != nil {
		return "", err
	}
	return r.Shape, nil
}

// validate refuses a shape the emulator does not model.
func (r SMSSignInRetirement) validate() error {
	switch r.Shape {
	case "", RetiredEnableRefused, RetiredNotAllowedByPolicy:
		return nil
	}
	return errorf("unknown SMS sign-in retirement shape %q (want %s or %s)", r.Shape, RetiredEnableRefused, RetiredNotAllowedByPolicy)
}

// SetSMSSignInRetirement changes when and how SMS sign-in retires; the zero value ends the
// retirement (SMS sign-in works again, as before).
func (e *Emulator) SetSMSSignInRetirement(r SMSSignInRetirement) error {
	if err := r.validate(); err != nil {
		return err
	}
	e.retireMu.Lock()
	defer e.retireMu.Unlock()
	e.retirement = r
	return nil
}

// CurrentSMSSignInRetirement returns the retirement in force.
func (e *Emulator) CurrentSMSSignInRetirement() SMSSignInRetirement {
	e.retireMu.Lock()
	defer e.retireMu.Unlock()
	return e.retirement
}

// smsRetiredShape returns the shape Graph answers in now, or "" while SMS sign-in is not
// retired. It takes its own lock, so tenants call it with e.mu held.
func (e *Emulator) smsRetiredShape() RetirementShape {
	r := e.CurrentSMSSignInRetirement()
	if r.At.IsZero() || e.now().Before(r.At) {
		return ""
	}
	if r.Shape == "" {
		return RetiredEnableRefused
	}
	return r.Shape
}

// retired is the tenant's view of the retirement: the shape now, or "".
func (t *tenant) retired() RetirementShape {
	if t.retiredShape == nil {
		return ""
	}
	return t.retiredShape()
}

// errSMSSignInRetired is enableSmsSignIn's answer in the RetiredEnableRefused shape.
func errSMSSignInRetired() *graphError {
	return gerr(http.StatusBadRequest, "badRequest", "SMS sign-in is no longer supported.")
}

// String describes the retirement for logs.
func (r SMSSignInRetirement) String() string {
	if r.At.IsZero() {
		return "never"
	}
	shape := r.Shape
	if shape == "" {
		shape = RetiredEnableRefused
	}
	return fmt.Sprintf("from %s (%s)", r.At.UTC().Format(time.RFC3339), shape)
}
