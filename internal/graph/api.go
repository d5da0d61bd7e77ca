package graph

import "context"

// The reconciler depends on these small interfaces rather than on *Client, so that its unit
// tests can substitute graphtest.FakeAPI (a struct of funcs) and run in milliseconds.
//
// The contract, which every implementation (fakes included) must keep:
//   - GetUser, ListPhoneMethods and GetPhoneMethod never write.
//   - Every call is safe to repeat except CreatePhoneMethod. A create that
//     fails with IsAmbiguous may have been applied: the caller re-reads the
//     user's methods and never repeats the POST blindly.
//   - A Conflict may come with the write saved (phoneNumberNotUnique):
//     re-read before deciding.
//   - Errors are classed (ClassOf); a Throttled error carries RetryAfterOf,
//     the time the whole tenant stays paused.
//   - smsSignInState is passed through as Graph sent it, unknown values too.

// UserReader resolves users.
type UserReader interface {
	GetUser(ctx context.Context, idOrUPN string) (User, error)
}

// PhoneMethodReader reads a user's phone methods.
type PhoneMethodReader interface {
	ListPhoneMethods(ctx context.Context, userID string) ([]PhoneMethod, error)
	GetPhoneMethod(ctx context.Context, userID, methodID string) (PhoneMethod, error)
}

// PhoneMethodWriter changes a user's phone methods.
type PhoneMethodWriter interface {
	CreatePhoneMethod(ctx context.Context, userID, phoneType, number string) (PhoneMethod, error)
	UpdatePhoneNumber(ctx context.Context, userID, methodID, phoneType, number string) error
	DeletePhoneMethod(ctx context.Context, userID, methodID string) error
	EnableSMSSignIn(ctx context.Context, userID, methodID string) error
	DisableSMSSignIn(ctx context.Context, userID, methodID string) error
}

// API is everything the reconciler calls.
type API interface {
	UserReader
	PhoneMethodReader
	PhoneMethodWriter
}

var _ API = (*Client)(nil)
