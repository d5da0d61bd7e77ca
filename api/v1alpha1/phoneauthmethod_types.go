package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// PhoneType is which of a user's three phone slots an object manages. Graph gives each slot a
// fixed method id, so a user has at most one phone of each type.
// +kubebuilder:validation:Enum=mobile;alternateMobile;office
type PhoneType string

const (
	// PhoneTypeMobile is the primary mobile phone; the only type that can do SMS sign-in.
	PhoneTypeMobile PhoneType = "mobile"
	// PhoneTypeAlternateMobile is a second mobile; Graph accepts it only when a mobile exists.
	PhoneTypeAlternateMobile PhoneType = "alternateMobile"
	// PhoneTypeOffice is an office phone (voice only); the only type that may carry an extension.
	PhoneTypeOffice PhoneType = "office"
)

// SMSSignIn is the desired SMS sign-in setting of a mobile phone.
// +kubebuilder:validation:Enum=Enabled;Disabled
type SMSSignIn string

const (
	// SMSSignInEnabled asks Graph to make the mobile number usable as an SMS sign-in name.
	SMSSignInEnabled SMSSignIn = "Enabled"
	// SMSSignInDisabled asks Graph to turn SMS sign-in off for the mobile number.
	SMSSignInDisabled SMSSignIn = "Disabled"
)

// DeletionPolicy says what happens in Graph when the object is deleted.
// +kubebuilder:validation:Enum=Orphan;Delete
type DeletionPolicy string

const (
	// DeletionPolicyOrphan leaves the phone method in Graph: deleting a Kubernetes object must
	// never strip somebody's MFA by accident. The object carries no finalizer.
	DeletionPolicyOrphan DeletionPolicy = "Orphan"
	// DeletionPolicyDelete removes the phone method from Graph; the object carries phoneop's
	// finalizer until the method is gone.
	DeletionPolicyDelete DeletionPolicy = "Delete"
)

// ManagementPolicy says whether phoneop may write to Graph for this object.
// +kubebuilder:validation:Enum=Full;CreateOnly;ObserveOnly
type ManagementPolicy string

const (
	// ManagementPolicyFull lets phoneop create, update and delete the phone method.
	ManagementPolicyFull ManagementPolicy = "Full"
	// ManagementPolicyCreateOnly prefills: phoneop creates the phone method when the user has
	// none of this type (and sets SMS sign-in on the phone it created), and otherwise leaves
	// Graph alone: a phone the user or a help desk registered is kept, status.plannedActions
	// says what Full would change, and the object never updates or deletes it.
	ManagementPolicyCreateOnly ManagementPolicy = "CreateOnly"
	// ManagementPolicyObserveOnly is plan mode: phoneop reads Graph and reports in
	// status.plannedActions what Full would do, but never writes.
	ManagementPolicyObserveOnly ManagementPolicy = "ObserveOnly"
)

// TenantReference names a cluster-scoped EntraTenant.
type TenantReference struct {
	// name of the EntraTenant.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +required
	Name string `json:"name"`
}

// SecretKeySelector selects one key of a Secret in the object's own namespace.
type SecretKeySelector struct {
	// name of the Secret, in the same namespace as the PhoneAuthMethod.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +required
	Name string `json:"name"`
	// key in the Secret's data whose value is the phone number in Graph format.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +required
	Key string `json:"key"`
}

// PhoneNumberSource reads the phone number from somewhere other than the spec, so that
// numbers (personal data) can stay out of Git.
type PhoneNumberSource struct {
	// secretKeyRef selects the Secret key that holds the phone number.
	// +required
	SecretKeyRef SecretKeySelector `json:"secretKeyRef"`
}

// PhoneAuthMethodSpec is the desired phone of one user.
// The number format rule sits on the spec, not on the field, so that a rejection does not echo
// the submitted number (personal data) back into CI logs: field-level errors quote the value.
// +kubebuilder:validation:XValidation:rule="!has(self.phoneNumber) || self.phoneNumber.matches('^[+][1-9][0-9]{0,2} ?[0-9]{4,15}(x[0-9]{1,10})?$')",fieldPath=".phoneNumber",message="spec.phoneNumber must be in Graph format '+<country code> <number>[x<extension>]' or E.164 without the space, digits only, for example '+1 5555551234' or '+15555551234'"
// +kubebuilder:validation:XValidation:rule="!has(self.phoneNumber) || self.phoneNumber.split('x')[0].split(' ').join().size() <= 16",fieldPath=".phoneNumber",message="spec.phoneNumber has more than 15 digits before the extension; E.164 allows at most 15, country code included"
// +kubebuilder:validation:XValidation:rule="has(self.phoneNumber) != has(self.phoneNumberFrom)",message="set exactly one of spec.phoneNumber or spec.phoneNumberFrom.secretKeyRef"
// +kubebuilder:validation:XValidation:rule="!has(self.smsSignIn) || self.phoneType == 'mobile'",fieldPath=".smsSignIn",message="spec.smsSignIn is only allowed when spec.phoneType is mobile; remove smsSignIn for alternateMobile and office phones"
// +kubebuilder:validation:XValidation:rule="!has(self.phoneNumber) || !self.phoneNumber.contains('x') || self.phoneType == 'office'",fieldPath=".phoneNumber",message="spec.phoneNumber may carry an extension (x123) only when spec.phoneType is office; remove the extension"
// +kubebuilder:validation:XValidation:rule="!has(oldSelf.userId) || (has(self.userId) && self.userId == oldSelf.userId)",fieldPath=".userId",message="spec.userId, once set, is immutable; create a new PhoneAuthMethod for another person"
type PhoneAuthMethodSpec struct {
	// tenantRef names the cluster-scoped EntraTenant through which the user is managed.
	// The tenant must allow this namespace. Immutable: moving a phone between tenants would
	// silently orphan it in the old one.
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="spec.tenantRef is immutable; create a new PhoneAuthMethod for another tenant"
	// +required
	TenantRef TenantReference `json:"tenantRef"`

	// user is the Entra user, as a userPrincipalName (kim@contoso.com) or an object id. It is
	// resolved to an object id once, and the object is then bound to that person
	// (status.userId): if the UPN later names someone else (a departed user's UPN given to a
	// new hire), phoneop writes nothing and reports UserChanged. Immutable.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=113
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="spec.user is immutable; create a new PhoneAuthMethod for another user"
	// +kubebuilder:validation:XValidation:rule="self.matches('^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$') || self.matches('^[A-Za-z0-9\\x27._!#^~+-]+@[A-Za-z0-9-]+([.][A-Za-z0-9-]+)+$')",message="spec.user must be a userPrincipalName (kim@contoso.com) or an Entra object id (a GUID), nothing else"
	// +required
	User string `json:"user"`

	// userId pins the object to one Entra user by object id (a GUID): the user is looked up by
	// it (stable when the UPN is renamed or reused), and it confirms the person after a
	// UserChanged. kubectl phoneop export writes it. It may be added to an object; once set it
	// is immutable.
	// +kubebuilder:validation:Pattern=`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`
	// +optional
	UserID string `json:"userId,omitempty"`

	// phoneType is which of the user's phone slots this object manages: mobile,
	// alternateMobile or office. Immutable, as in Graph: to change it, create the new type and
	// delete the old object.
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="spec.phoneType is immutable; create a new PhoneAuthMethod for the other type and delete this one"
	// +required
	PhoneType PhoneType `json:"phoneType"`

	// phoneNumber in Graph format: "+", the country code, one space and the national number
	// ("+1 2065555554"), or E.164 without the space ("+12065555554"); at most 15 digits in
	// all, and for office phones an optional "x" and 1 to 10 digit extension. phoneop checks
	// the country code and the length against the country's numbering plan and writes the
	// number to Graph as "+<country code> <number>". Exactly one of phoneNumber and
	// phoneNumberFrom is set.
	// +kubebuilder:validation:MaxLength=32
	// +optional
	PhoneNumber string `json:"phoneNumber,omitempty"`

	// phoneNumberFrom reads the phone number from a Secret in this namespace instead of the
	// spec. Exactly one of phoneNumber and phoneNumberFrom is set.
	// +optional
	PhoneNumberFrom *PhoneNumberSource `json:"phoneNumberFrom,omitempty"`

	// smsSignIn is the desired SMS sign-in setting: Enabled or Disabled. Omitted means
	// phoneop does not manage it and leaves whatever Graph has. Only allowed on mobile.
	// +optional
	SMSSignIn *SMSSignIn `json:"smsSignIn,omitempty"`

	// deletionPolicy says what happens in Graph when this object is deleted: Orphan (the
	// default) leaves the phone method in place, Delete removes it. Only a Delete object (with
	// managementPolicy Full) carries phoneop's finalizer, added at phoneop's next pass after the
	// policy is set and before it writes to Graph again; an Orphan object has none, so it is
	// deleted at once, also while phoneop is down or uninstalled. An object switched to Delete
	// and deleted before phoneop added the finalizer is deleted as Orphan.
	// +kubebuilder:default=Orphan
	// +optional
	DeletionPolicy DeletionPolicy `json:"deletionPolicy,omitempty"`

	// managementPolicy is Full (the default: phoneop writes to Graph), CreateOnly (prefill:
	// create a missing phone, never change or delete an existing one) or ObserveOnly (plan
	// mode: phoneop only reads and lists in status.plannedActions what Full would do).
	// +kubebuilder:default=Full
	// +optional
	ManagementPolicy ManagementPolicy `json:"managementPolicy,omitempty"`
}

// PhoneAuthMethodStatus is what Graph last said about the phone.
type PhoneAuthMethodStatus struct {
	// userId is the Entra object id of the person this object is bound to, resolved from
	// spec.user (or spec.userId) the first time; stable when the UPN is renamed. phoneop only
	// compares against it: a different id later stops the object (UserChanged).
	// +optional
	UserID string `json:"userId,omitempty"`

	// phoneMethodId is Graph's id of the phone method (fixed per phone type).
	// +optional
	PhoneMethodID string `json:"phoneMethodId,omitempty"`

	// phoneNumber is the observed number, masked (e.g. "+1 *******554").
	// +optional
	PhoneNumber string `json:"phoneNumber,omitempty"`

	// smsSignInState mirrors Graph's smsSignInState as reported, unknownFutureValue included.
	// +optional
	SMSSignInState string `json:"smsSignInState,omitempty"`

	// plannedActions lists what phoneop would do (ObserveOnly) or is about to do (Full) to
	// converge Graph to the spec; empty when up to date. Numbers are masked.
	// +optional
	// +listType=atomic
	PlannedActions []string `json:"plannedActions,omitempty"`

	// observedGeneration is the generation of the spec that was last reconciled successfully.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// lastSyncTime is when a successful sync last changed this status (a write to Graph, or
	// a change Graph reported). Steady-state resyncs that find nothing new do not bump it, so
	// that they cost no status write.
	// +optional
	LastSyncTime *metav1.Time `json:"lastSyncTime,omitempty"`

	// lastHandledReconcileAt is the last value of the phoneop.dev/reconcile-requested-at
	// annotation that forced a fresh read of Graph.
	// +optional
	LastHandledReconcileAt string `json:"lastHandledReconcileAt,omitempty"`

	// claimedAt is when phoneop first let this object own its phone (the user's slot of its
	// phoneType) from a namespace its tenant grants. Claimed objects outrank unclaimed ones and
	// earlier claims outrank later ones, so an owner keeps its phone until it is deleted or
	// released, whatever the age of an object in a namespace granted later.
	// +optional
	ClaimedAt *metav1.Time `json:"claimedAt,omitempty"`

	// writeGuard records the Graph writes phoneop made for the current generation while the
	// object has not converged, so that no write is repeated against the same observation of
	// Graph, across restarts too. phoneop only compares against it: an edited writeGuard can
	// at most stop this object's own writes, never cause one. Cleared once the object is Ready.
	// +optional
	WriteGuard *WriteGuardStatus `json:"writeGuard,omitempty"`

	// conditions: Ready (the phone in Graph matches the spec), Synced (the last observe and
	// apply succeeded), and Reconciling / Stalled (present only when true) for kstatus.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +patchStrategy=merge
	// +patchMergeKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty" patchStrategy:"merge" patchMergeKey:"type"`
}

// WriteGuardStatus is what an object remembers of its own Graph writes for one generation.
type WriteGuardStatus struct {
	// generation is the spec generation the writes were made for; a new generation starts a
	// new record.
	Generation int64 `json:"generation"`

	// writes are the writes Graph accepted, each a short hash of the action, its value and the
	// observation it was made against (never a number), oldest first.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=16
	// +kubebuilder:validation:items:MaxLength=16
	Writes []string `json:"writes,omitempty"`

	// numberRefusedAt is when Graph last refused a number write of this object with a
	// conflict that did not save it (409 phoneNumberNotUnique): the number is not written
	// again until an admin's retry interval has passed.
	// +optional
	NumberRefusedAt *metav1.Time `json:"numberRefusedAt,omitempty"`
}

// PhoneAuthMethod declares one phone authentication method of one Microsoft Entra user.
// One tenant's objects are listed with --field-selector spec.tenantRef.name=<EntraTenant>.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=pam,categories=phoneop
// +kubebuilder:printcolumn:name="User",type=string,JSONPath=`.spec.user`
// +kubebuilder:printcolumn:name="Type",type=string,JSONPath=`.spec.phoneType`
// +kubebuilder:printcolumn:name="Number",type=string,JSONPath=`.status.phoneNumber`
// +kubebuilder:printcolumn:name="SMS",type=string,JSONPath=`.spec.smsSignIn`
// +kubebuilder:printcolumn:name="State",type=string,JSONPath=`.status.smsSignInState`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:selectablefield:JSONPath=`.spec.tenantRef.name`
type PhoneAuthMethod struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is the desired phone.
	// +required
	Spec PhoneAuthMethodSpec `json:"spec"`
	// status is what Graph last reported.
	// +optional
	Status PhoneAuthMethodStatus `json:"status,omitempty"`
}

// PhoneAuthMethodList is a list of PhoneAuthMethods.
// +kubebuilder:object:root=true
type PhoneAuthMethodList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []PhoneAuthMethod `json:"items"`
}

func init() {
	SchemeBuilder.Register(&PhoneAuthMethod{}, &PhoneAuthMethodList{})
}
