// Package fieldindex declares the field indexes phoneop keeps over PhoneAuthMethods in the
// manager's informer cache (by tenant, by the Secret a number comes from), so that finding a
// tenant's or a Secret's objects costs no API-server request. The reconciler's watches and the
// change feed look objects up through them. A user's objects are found through
// internal/userindex instead.
package fieldindex
