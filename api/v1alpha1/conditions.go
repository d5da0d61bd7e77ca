package v1alpha1

// Condition types. Ready and Synced are always present on a reconciled object; Reconciling
// and Stalled are "abnormal-true" (kstatus): present only when True, never both at once.
const (
	// ConditionReady is True when the phone in Graph matches the spec.
	ConditionReady = "Ready"
	// ConditionSynced is True when the last observe (and apply) against Graph succeeded.
	ConditionSynced = "Synced"
	// ConditionReconciling is True while phoneop is making progress towards the spec.
	ConditionReconciling = "Reconciling"
	// ConditionStalled is True when retrying cannot help until a person changes something.
	ConditionStalled = "Stalled"
	// ConditionFixedLine is True when the desired number of a mobile or alternateMobile is a
	// fixed line: Graph accepts it, but SMS to it fails. Present only when True; it never
	// blocks the object.
	ConditionFixedLine = "FixedLine"
	// ConditionSmsSignInRetiring is True while the object asks for SMS sign-in (smsSignIn:
	// Enabled) in a cloud where Microsoft retires it on a known date that has not come yet
	// (the public cloud: 2027-02-01); the message names the date and what to do. A warning,
	// present only when True: it never blocks the object, and kstatus and Argo CD ignore it
	// (they read Ready, Reconciling and Stalled only). From the date on, Ready says
	// SmsSignInRetired instead.
	ConditionSmsSignInRetiring = "SmsSignInRetiring"
	// ConditionChangeFeed, on an EntraTenant with spec.changeFeed enabled, is True while
	// phoneop reads the tenant's audit log and so re-reads converged objects only every
	// sweepPeriod; False when the feed fails and objects fall back to --resync-period; Unknown
	// until the first poll. Absent when the feed is off.
	ConditionChangeFeed = "ChangeFeed"
)

// Condition reasons; the same strings are used as event reasons.
const (
	// ReasonSynced: Graph matches the spec.
	ReasonSynced = "Synced"
	// ReasonPlanned: ObserveOnly found differences; status.plannedActions lists them.
	ReasonPlanned = "Planned"
	// ReasonMobileRequired: an alternateMobile waits for the user's mobile to exist.
	ReasonMobileRequired = "MobileRequired"
	// ReasonAlternateMobileExists: a mobile cannot be deleted while an alternateMobile exists.
	ReasonAlternateMobileExists = "AlternateMobileExists"
	// ReasonUserNotFound: Graph does not know the user (or has not replicated it yet).
	ReasonUserNotFound = "UserNotFound"
	// ReasonWrongShard: the object's sharding.phoneop.dev/key label differs from its
	// EntraTenant's, so no shard writes it: an object follows its tenant's shard, which only
	// cluster admins choose.
	ReasonWrongShard = "WrongShard"
	// ReasonUserChanged: spec.user now resolves to a different Entra user than the one the
	// object is bound to (status.userId or spec.userId), e.g. a departed user's UPN given to a
	// new hire; phoneop writes and deletes nothing until a person confirms (spec.userId) or
	// deletes the object.
	ReasonUserChanged = "UserChanged"
	// ReasonInvalidNumber: the phone number is not in Graph format or Graph rejected it.
	ReasonInvalidNumber = "InvalidNumber"
	// ReasonSecretNotFound: the Secret (or key) named by spec.phoneNumberFrom is missing.
	ReasonSecretNotFound = "SecretNotFound"
	// ReasonSmsNotAllowedByPolicy: the tenant's authentication-methods policy does not enable
	// the user for SMS sign-in.
	ReasonSmsNotAllowedByPolicy = "SmsNotAllowedByPolicy"
	// ReasonPhoneNumberNotUnique: another user holds the number for SMS sign-in.
	ReasonPhoneNumberNotUnique = "PhoneNumberNotUnique"
	// ReasonSmsSignInNotSupported: the tenant's cloud cannot enable or disable SMS sign-in.
	ReasonSmsSignInNotSupported = "SmsSignInNotSupported"
	// ReasonSmsSignInOnlyOnMobile: smsSignIn is set on a phone that is not a mobile.
	ReasonSmsSignInOnlyOnMobile = "SmsSignInOnlyOnMobile"
	// ReasonSmsSignInStateUnknown: Graph reports an SMS sign-in state phoneop does not act on.
	ReasonSmsSignInStateUnknown = "SmsSignInStateUnknown"
	// ReasonSmsSignInRetired: smsSignIn is Enabled but Microsoft has retired SMS sign-in in the
	// tenant's cloud (--sms-sign-in-retirement), so phoneop makes no enable call; Stalled until
	// the spec sets Disabled or drops the field.
	ReasonSmsSignInRetired = "SmsSignInRetired"
	// ReasonSmsSignInRefused: Graph refused enableSmsSignIn as invalid (400), which it does
	// once SMS sign-in is retired in the tenant's cloud even when phoneop's date
	// (--sms-sign-in-retirement) has not come; Stalled, retried slowly (never in a loop).
	ReasonSmsSignInRefused = "SmsSignInRefused"
	// ReasonSmsSignInRetiring: smsSignIn is Enabled in a cloud where SMS sign-in retires on a
	// known date (condition SmsSignInRetiring, and one Warning event when it appears).
	ReasonSmsSignInRetiring = "SmsSignInRetiring"
	// ReasonInvalidPhoneType: the phone type is not one Graph knows.
	ReasonInvalidPhoneType = "InvalidPhoneType"
	// ReasonNumberUnreadable: Graph shows the existing method's number masked or empty, so
	// phoneop writes nothing; the app lacks the permission to read full numbers.
	ReasonNumberUnreadable = "NumberUnreadable"
	// ReasonWriteNotReflected: Graph accepted a write but keeps reporting a value that differs
	// from the spec; phoneop stops writing until the spec or Graph's value changes.
	ReasonWriteNotReflected = "WriteNotReflected"
	// ReasonFixedLineNumber: the desired number of a mobile or alternateMobile is a fixed line
	// (condition FixedLine, and a Warning event when it appears).
	ReasonFixedLineNumber = "FixedLineNumber"
	// ReasonExistingPhoneKept: managementPolicy CreateOnly found a phone already registered in
	// Graph and kept it (Ready); status.plannedActions says what Full would change.
	ReasonExistingPhoneKept = "ExistingPhoneKept"
	// ReasonPaused: the object or its EntraTenant carries phoneop.dev/paused: "true"; phoneop
	// makes no Graph call for it (Synced=False, Ready unchanged).
	ReasonPaused = "Paused"
	// ReasonChangeBudgetExceeded: the tenant's change budget for the rolling hour (destructive
	// writes, or new phones) is used up; the object waits until a slot frees up or the cap is
	// raised.
	ReasonChangeBudgetExceeded = "ChangeBudgetExceeded"
	// ReasonDefaultMethodInUse: Graph refused to delete the phone because it is the user's
	// default sign-in method and the user has other methods; an admin or the user must change
	// the default first. phoneop retries slowly and spends no change budget on the refusals.
	ReasonDefaultMethodInUse = "DefaultMethodInUse"
	// ReasonUpdateRejected: Graph refused to change the number of an existing method (400).
	ReasonUpdateRejected = "UpdateRejected"
	// ReasonThrottled: Graph throttled phoneop; it retries after Retry-After.
	ReasonThrottled = "Throttled"
	// ReasonComparisonDeferred: managementPolicy ObserveOnly or CreateOnly, and the desired
	// number changed less than the comparison interval after the last new number was compared
	// with Graph's for this phone; phoneop compares it once the interval has passed, so that the
	// spec cannot be used to test guesses of the number.
	ReasonComparisonDeferred = "ComparisonDeferred"
	// ReasonForcedReadDeferred (event only): a phoneop.dev/reconcile-requested-at change came
	// sooner than the per-object interval after the last forced re-read, or beyond the
	// namespace's rate; the object keeps its status (phoneop's last read) and the re-read
	// happens once allowed.
	ReasonForcedReadDeferred = "ForcedReadDeferred"
	// ReasonForbidden: the namespace or user is outside the tenant's grant, or the app lacks
	// a Graph permission or role.
	ReasonForbidden = "Forbidden"
	// ReasonPrivilegedUser: the user holds an Entra directory role (active or eligible, directly
	// or through a role-assignable group) and the EntraTenant does not set
	// spec.userScope.allowPrivilegedUsers; phoneop makes no phone-method call for the user.
	ReasonPrivilegedUser = "PrivilegedUser"
	// ReasonPrivilegedUsersUnknown: phoneop could not read who holds directory roles (the app
	// lacks RoleManagement.Read.Directory or GroupMember.Read.All), so it refuses every user of
	// the tenant until it can, or until spec.userScope.allowPrivilegedUsers is set.
	ReasonPrivilegedUsersUnknown = "PrivilegedUsersUnknown"
	// ReasonGuestUser: the user is a guest (userType Guest, or #EXT# in the UPN) and the
	// EntraTenant does not set spec.userScope.allowGuests; no phone-method call is made.
	ReasonGuestUser = "GuestUser"
	// ReasonConflict: another PhoneAuthMethod owns the same (tenant, user, phoneType).
	ReasonConflict = "Conflict"
	// ReasonTenantNotReady: the EntraTenant is missing or cannot authenticate.
	ReasonTenantNotReady = "TenantNotReady"
	// ReasonGraphError: Graph failed transiently; phoneop backs off and retries.
	ReasonGraphError = "GraphError"
	// ReasonGraphNotSettled: Graph kept differing from the spec after several writes in one
	// pass; phoneop backs off and re-reads.
	ReasonGraphNotSettled = "GraphNotSettled"
	// ReasonKubernetesAPIError: a read or write against the Kubernetes API server failed
	// (listing objects, reading a Secret or namespace, removing the finalizer); phoneop retries
	// with backoff. Nothing is wrong with the object or with Graph.
	ReasonKubernetesAPIError = "KubernetesAPIError"
	// ReasonCredentialsInvalid: the EntraTenant's credentials could not be loaded or used.
	ReasonCredentialsInvalid = "CredentialsInvalid"
	// ReasonCustomCloudRefused: the EntraTenant's cloud is Custom and the manager was not
	// started with --allow-custom-cloud; no credential is read or sent.
	ReasonCustomCloudRefused = "CustomCloudRefused"
	// ReasonAuditLogRead (ChangeFeed=True): the last poll of the audit log succeeded;
	// converged objects re-read Graph every spec.changeFeed.sweepPeriod.
	ReasonAuditLogRead = "AuditLogRead"
	// ReasonChangeFeedStarting (ChangeFeed=Unknown): the feed has not polled yet; objects
	// keep --resync-period until it has.
	ReasonChangeFeedStarting = "ChangeFeedStarting"
	// ReasonAuditLogForbidden (ChangeFeed=False): Graph answered 403 to the audit log: the app
	// lacks AuditLog.Read.All or its admin consent; objects fall back to --resync-period.
	ReasonAuditLogForbidden = "AuditLogForbidden"
	// ReasonAuditLogThrottled (ChangeFeed=False): Graph has throttled the audit log for longer
	// than the feed may lag; objects fall back to --resync-period.
	ReasonAuditLogThrottled = "AuditLogThrottled"
	// ReasonAuditLogUnavailable (ChangeFeed=False): the audit log could not be read for longer
	// than the feed may lag (Graph errors, timeouts, no token); objects fall back to
	// --resync-period.
	ReasonAuditLogUnavailable = "AuditLogUnavailable"
	// ReasonAuditLogGap (ChangeFeed=False): part of the audit log is beyond reach (the
	// watermark is older than the log's retention, or one poll met more entries than it may
	// page through); phoneop starts again from now and re-reads every object once at
	// --resync-period before it trusts the feed again.
	ReasonAuditLogGap = "AuditLogGap"
	// ReasonDriftCorrected (event only): an out-of-band change in Graph was put back.
	ReasonDriftCorrected = "DriftCorrected"
	// ReasonOrphaned (event only): an object that carried the finalizer was deleted and its
	// phone method left in Graph (switched to Orphan, ObserveOnly or CreateOnly while being
	// deleted, or the tenant, user or ownership is gone). An Orphan object carries no finalizer
	// and is gone before phoneop could record anything.
	ReasonOrphaned = "Orphaned"
	// ReasonSuspectedCredentialUse (event only, Warning, on the EntraTenant): the audit log
	// shows a change made with phoneop's app id that this manager did not make: someone else
	// holds phoneop's credential (or the manager restarted just after its own write). The
	// change feed wakes the user, so a change to a managed phone is put back.
	ReasonSuspectedCredentialUse = "SuspectedCredentialUse"
)

// Event reasons of the Graph writes phoneop makes (Normal events, numbers masked).
const (
	// ReasonCreated (event only): phoneop re-created the phone method in Graph of an object that
	// had been Ready (someone deleted it). Creating the phone of a new object records no event.
	ReasonCreated = "Created"
	// ReasonNumberUpdated (event only): phoneop changed the phone method's number in Graph.
	ReasonNumberUpdated = "NumberUpdated"
	// ReasonDeleted (event only): phoneop deleted the phone method from Graph.
	ReasonDeleted = "Deleted"
	// ReasonSmsSignInEnabled (event only): phoneop enabled SMS sign-in on the mobile.
	ReasonSmsSignInEnabled = "SmsSignInEnabled"
	// ReasonSmsSignInDisabled (event only): phoneop disabled SMS sign-in on the mobile.
	ReasonSmsSignInDisabled = "SmsSignInDisabled"
)

// Annotations.
const (
	// AnnotationReconcileRequestedAt forces an immediate re-observation of Graph when its value
	// changes (any string; a timestamp by convention, as in Flux).
	AnnotationReconcileRequestedAt = "phoneop.dev/reconcile-requested-at"
	// AnnotationPaused set to "true" on a PhoneAuthMethod stops every Graph call for it; on an
	// EntraTenant it pauses all of its PhoneAuthMethods. Removing it (or any other value)
	// resumes.
	AnnotationPaused = "phoneop.dev/paused"
)

// Finalizer lets phoneop remove the Graph phone method before the object disappears. Only
// objects whose deletion needs Graph carry it: deletionPolicy Delete with managementPolicy Full.
const Finalizer = "identity.phoneop.dev/finalizer"
