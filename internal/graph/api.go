package graph

import "context"

// API is what the reconciler needs from Graph. *Client implements it; unit
// tests substitute a struct of funcs.
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
type API interface {
	GetUser(ctx context.Context, idOrUPN string) (User, error)
	ListPhoneMethods(ctx context.Context, userID string) ([]PhoneMethod, error)
	GetPhoneMethod(ctx context.Context, userID, methodID string) (PhoneMethod, error)
	CreatePhoneMethod(ctx context.Context, userID, phoneType, number string) (PhoneMethod, error)
	UpdatePhoneNumber(ctx context.Context, userID, methodID, number string) error
	DeletePhoneMethod(ctx context.Context, userID, methodID string) error
	EnableSMSSignIn(ctx context.Context, userID, methodID string) error
	DisableSMSSignIn(ctx context.Context, userID, methodID string) error
}

var _ API = (*Client)(nil)
