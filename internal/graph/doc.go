// Package graph is phoneop's only door to Microsoft Graph: typed calls for a
// user's phone authentication methods, Graph errors turned into a Class the
// reconciler acts on, throttling shared by every client of a tenant, and
// app-only tokens from azidentity for the public and national clouds.
//
// Making a client for a tenant and calling it:
//
//	ep, err := graph.EndpointsFor(graph.CloudGlobal, "", "")
//	cred, err := graph.NewCredential(tenantID, ep, graph.CredentialSource{
//		ClientID:     clientID,
//		ClientSecret: secret, // or CertificatePEMOrPFX, or WorkloadIdentity: true
//	}, nil)
//	c, err := graph.NewClient(graph.Config{TenantID: tenantID, Cloud: graph.CloudGlobal, Endpoints: ep, Credential: cred})
//	u, err := c.GetUser(ctx, "kim@contoso.com")
//	methods, err := c.ListPhoneMethods(ctx, u.ID)
//	switch {
//	case graph.IsThrottled(err):
//		return ctrl.Result{RequeueAfter: graph.RetryAfterOf(err)}, nil
//	case graph.IsNotFound(err): // the user does not exist (yet)
//	}
//
// Clients are cheap and safe for concurrent use. Build as many as you like:
// the Retry-After pause and the token buckets live in a registry keyed by
// tenant id (DefaultThrottles, or Config.Throttles), so one 429 pauses every
// client of that tenant and no other tenant.
//
// What the client does for you:
//   - every request carries a fresh client-request-id and a User-Agent of
//     phoneop/<Version>; Graph's request-id is kept on every Error;
//   - GETs, PATCH, DELETE and the SMS sign-in actions are retried a bounded
//     number of times with jittered exponential backoff on 429, 5xx and
//     network errors;
//   - CreatePhoneMethod is retried only when Graph provably did not process
//     it (429, or a connection that failed before the request was sent);
//     otherwise its error has Ambiguous set and the caller must re-read;
//   - a pause longer than Limits.MaxWait is not waited out: the call returns a
//     Throttled error at once, so the worker can requeue;
//   - errors never carry the response body or Graph's message, so a phone
//     number cannot leak into logs or conditions.
//
// Tests run against the emulator in internal/graphemu over real HTTPS;
// graphtest has the helpers.
package graph
