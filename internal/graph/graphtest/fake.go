package graphtest

import (
	"context"
	"fmt"
	"sync"

	"github.com/phoneop/phoneop/internal/graph"
)

// FakeAPI is a graph.API for unit tests: each method calls the func of the same name, so a test
// states exactly the Graph behaviour it needs. A call whose func is nil fails with an error
// naming it, so an unexpected Graph call fails the test's assertions instead of passing
// silently. Every call is recorded, in order, by method name.
type FakeAPI struct {
	GetUserFunc           func(ctx context.Context, idOrUPN string) (graph.User, error)
	ListPhoneMethodsFunc  func(ctx context.Context, userID string) ([]graph.PhoneMethod, error)
	GetPhoneMethodFunc    func(ctx context.Context, userID, methodID string) (graph.PhoneMethod, error)
	CreatePhoneMethodFunc func(ctx context.Context, userID, phoneType, number string) (graph.PhoneMethod, error)
	UpdatePhoneNumberFunc func(ctx context.Context, userID, methodID, phoneType, number string) error
	DeletePhoneMethodFunc func(ctx context.Context, userID, methodID string) error
	EnableSMSSignInFunc   func(ctx context.Context, userID, methodID string) error
	DisableSMSSignInFunc  func(ctx context.Context, userID, methodID string) error

	mu    sync.Mutex
	calls []string
}

var _ graph.API = (*FakeAPI)(nil)

// Calls returns the names of the methods called so far, in order.
func (f *FakeAPI) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

// Count returns how often the named method was called.
func (f *FakeAPI) Count(name string) int {
	n := 0
	for _, c := range f.Calls() {
		if c == name {
			n++
		}
	}
	return n
}

// Writes counts the calls that change Graph.
func (f *FakeAPI) Writes() int {
	n := 0
	for _, c := range f.Calls() {
		switch c {
		case "CreatePhoneMethod", "UpdatePhoneNumber", "DeletePhoneMethod", "EnableSMSSignIn", "DisableSMSSignIn":
			n++
		}
	}
	return n
}

func (f *FakeAPI) record(name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, name)
}

func unexpected(name string) error {
	return fmt.Errorf("graphtest: unexpected call to %s (the test set no %sFunc)", name, name)
}

func (f *FakeAPI) GetUser(ctx context.Context, idOrUPN string) (graph.User, error) {
	f.record("GetUser")
	if f.GetUserFunc == nil {
		return graph.User{}, unexpected("GetUser")
	}
	return f.GetUserFunc(ctx, idOrUPN)
}

func (f *FakeAPI) ListPhoneMethods(ctx context.Context, userID string) ([]graph.PhoneMethod, error) {
	f.record("ListPhoneMethods")
	if f.ListPhoneMethodsFunc == nil {
		return nil, unexpected("ListPhoneMethods")
	}
	return f.ListPhoneMethodsFunc(ctx, userID)
}

func (f *FakeAPI) GetPhoneMethod(ctx context.Context, userID, methodID string) (graph.PhoneMethod, error) {
	f.record("GetPhoneMethod")
	if f.GetPhoneMethodFunc == nil {
		return graph.PhoneMethod{}, unexpected("GetPhoneMethod")
	}
	return f.GetPhoneMethodFunc(ctx, userID, methodID)
}

func (f *FakeAPI) CreatePhoneMethod(ctx context.Context, userID, phoneType, number string) (graph.PhoneMethod, error) {
	f.record("CreatePhoneMethod")
	if f.CreatePhoneMethodFunc == nil {
		return graph.PhoneMethod{}, unexpected("CreatePhoneMethod")
	}
	return f.CreatePhoneMethodFunc(ctx, userID, phoneType, number)
}

func (f *FakeAPI) UpdatePhoneNumber(ctx context.Context, userID, methodID, phoneType, number string) error {
	f.record("UpdatePhoneNumber")
	if f.UpdatePhoneNumberFunc == nil {
		return unexpected("UpdatePhoneNumber")
	}
	return f.UpdatePhoneNumberFunc(ctx, userID, methodID, phoneType, number)
}

func (f *FakeAPI) DeletePhoneMethod(ctx context.Context, userID, methodID string) error {
	f.record("DeletePhoneMethod")
	if f.DeletePhoneMethodFunc == nil {
		return unexpected("DeletePhoneMethod")
	}
	return f.DeletePhoneMethodFunc(ctx, userID, methodID)
}

func (f *FakeAPI) EnableSMSSignIn(ctx context.Context, userID, methodID string) error {
	f.record("EnableSMSSignIn")
	if f.EnableSMSSignInFunc == nil {
		return unexpected("EnableSMSSignIn")
	}
	return f.EnableSMSSignInFunc(ctx, userID, methodID)
}

func (f *FakeAPI) DisableSMSSignIn(ctx context.Context, userID, methodID string) error {
	f.record("DisableSMSSignIn")
	if f.DisableSMSSignInFunc == nil {
		return unexpected("DisableSMSSignIn")
	}
	return f.DisableSMSSignInFunc(ctx, userID, methodID)
}
