package graphemu

import (
	"context"
	"encoding/json"
	mrand "math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Route templates, as reported in Stats.
const (
	RouteUser       = "/users/{id}"
	RoutePhoneList  = "/users/{id}/authentication/phoneMethods"
	RoutePhoneItem  = "/users/{id}/authentication/phoneMethods/{methodId}"
	RouteEnableSMS  = "/users/{id}/authentication/phoneMethods/{methodId}/enableSmsSignIn"
	RouteDisableSMS = "/users/{id}/authentication/phoneMethods/{methodId}/disableSmsSignIn"
	RouteBatch      = "/$batch"
	// RouteUsers lists the directory's users (paging, $filter on userPrincipalName).
	RouteUsers = "/users"
	// RouteAuthMethods lists every authentication method of a user, phones included.
	RouteAuthMethods = "/users/{id}/authentication/methods"
	// Group membership, direct and transitive, with or without the OData cast to users.
	RouteGroupMembers         = "/groups/{id}/members"
	RouteGroupMemberUsers     = "/groups/{id}/members/microsoft.graph.user"
	RouteGroupTransitive      = "/groups/{id}/transitiveMembers"
	RouteGroupTransitiveUsers = "/groups/{id}/transitiveMembers/microsoft.graph.user"
	RouteMe                   = "/me"
	RouteUnknown              = "/{unknown}"
	RouteToken                = "/{tenant}/oauth2/v2.0/token"
	RouteOpenIDConf           = "/{tenant}/v2.0/.well-known/openid-configuration"
	RouteInstDiscov           = "/common/discovery/instance"
	RouteLoginOther           = "/{login-unknown}"
	serverTimeout             = 60 * time.Second
	maxRequestBody            = 1 << 20
	phoneEntityType           = "#microsoft.graph.phoneAuthenticationMethod"
	graphDefaultHost          = "graph.microsoft.com"
)

// graphRoute is a matched Graph path.
type graphRoute struct {
	template string
	allowed  []string
	userKey  string
	methodID string
	groupKey string // group routes
	bad      string // the first unknown segment, for 400s
}

// matchGraph maps the segments after /v1.0 or /beta to a route. Graph path
// segments are case-insensitive.
func matchGraph(segs []string) graphRoute {
	eq := strings.EqualFold
	n := len(segs)
	switch {
	case n == 1 && segs[0] == "$batch":
		return graphRoute{template: RouteBatch, allowed: []string{http.MethodPost}}
	case n >= 1 && eq(segs[0], "me"):
		return graphRoute{template: RouteMe, allowed: []string{http.MethodGet, http.MethodPost, http.MethodPatch, http.MethodDelete}}
	case n == 1 && eq(segs[0], "users"):
		return graphRoute{template: RouteUsers, allowed: []string{http.MethodGet}}
	case n >= 1 && eq(segs[0], "groups"):
		return matchGroup(segs)
	case n >= 1 && eq(segs[0], "roleManagement"):
		return matchRoles(segs)
	case n == 2 && eq(segs[0], "auditLogs") && eq(segs[1], "directoryAudits"):
		return graphRoute{template: RouteDirectoryAudits, allowed: []string{http.MethodGet}}
	case n < 2 || !eq(segs[0], "users") || segs[1] == "":
		return graphRoute{template: RouteUnknown, bad: firstOr(segs)}
	case n == 2:
		return graphRoute{template: RouteUser, allowed: []string{http.MethodGet}, userKey: segs[1]}
	case n == 4 && eq(segs[2], "authentication") && eq(segs[3], "methods"):
		return graphRoute{template: RouteAuthMethods, allowed: []string{http.MethodGet}, userKey: segs[1]}
	case n < 4 || !eq(segs[2], "authentication") || !eq(segs[3], "phoneMethods"):
		return graphRoute{template: RouteUnknown, bad: segs[min(2, n-1)]}
	case n == 4:
		return graphRoute{template: RoutePhoneList, allowed: []string{http.MethodGet, http.MethodPost}, userKey: segs[1]}
	case n == 5:
		return graphRoute{template: RoutePhoneItem, allowed: []string{http.MethodGet, http.MethodPatch, http.MethodDelete},
			userKey: segs[1], methodID: segs[4]}
	case n == 6 && eq(segs[5], "enableSmsSignIn"):
		return graphRoute{template: RouteEnableSMS, allowed: []string{http.MethodPost}, userKey: segs[1], methodID: segs[4]}
	case n == 6 && eq(segs[5], "disableSmsSignIn"):
		return graphRoute{template: RouteDisableSMS, allowed: []string{http.MethodPost}, userKey: segs[1], methodID: segs[4]}
	default:
		return graphRoute{template: RouteUnknown, bad: segs[min(5, n-1)]}
	}
}

func firstOr(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

// splitGraphPath returns the version and the unescaped segments after it.
func splitGraphPath(escaped string) (string, []string) {
	parts := strings.Split(strings.Trim(escaped, "/"), "/")
	segs := make([]string, 0, len(parts)-1)
	for _, p := range parts[1:] {
		if s, err := url.PathUnescape(p); err == nil {
			p = s
		}
		segs = append(segs, p)
	}
	return parts[0], segs
}

// served is what ServeHTTP needs to know after routing.
type served struct {
	route  string
	tenant string // for per-tenant stats; "" when unknown
	status int    // 0 = take it from the recording writer
	fault  string
	abort  bool // close the connection after recording
}

// serveCompressed gzips the answer when the client accepts it, as Graph
// does (Go's http.Transport asks for gzip by itself and unpacks it
// transparently; a client that sets Accept-Encoding itself gets gzip).
func (e *Emulator) serveCompressed(w http.ResponseWriter, r *http.Request) served {
	if !acceptsGzip(r.Header.Get("Accept-Encoding")) {
		return e.serveGraph(w, r)
	}
	gw := &gzipWriter{ResponseWriter: w}
	defer gw.finish()
	return e.serveGraph(gw, r)
}

// serveGraph applies faults, then answers the Graph request.
func (e *Emulator) serveGraph(w http.ResponseWriter, r *http.Request) served {
	e.stampGraphHeaders(w, r)
	version, segs := splitGraphPath(r.URL.EscapedPath())
	gr := matchGraph(segs)
	s := served{route: gr.template, tenant: e.tokenTenant(r)}
	e.priorities.add(s.tenant, r.Method, gr.template, r.Header.Get(PriorityHeader))
	plan := e.drawFaults(r.Method != http.MethodGet && r.Method != http.MethodHead)
	if ge, f := e.injectedError(r.Context(), plan); ge != nil || f != "" {
		s.fault = f
		if f == "drop" {
			s.abort = true
			return s
		}
		e.writeGraphError(w, ge)
		return s
	}
	if !plan.lost {
		s.fault = e.graphRequest(w, r, gr, version)
		return s
	}
	rec := httptest.NewRecorder()
	s.fault = e.graphRequest(rec, r, gr, version)
	if rec.Code >= 200 && rec.Code < 300 {
		s.status, s.fault, s.abort = rec.Code, "lostResponse", true
		return s
	}
	flushRecorded(rec, w)
	return s
}

// graphRequest authenticates, checks method, throttling and permissions,
// then dispatches. It is also used for the parts of a $batch. It returns
// the quirk that shaped the answer ("" for none), for stats.
func (e *Emulator) graphRequest(w http.ResponseWriter, r *http.Request, gr graphRoute, version string) string {
	claims, ge := e.authenticate(r)
	if ge == nil {
		ge = e.precheck(w, r, gr, claims)
	}
	if ge != nil {
		e.writeGraphError(w, ge)
		return ""
	}
	if gr.template == RouteBatch {
		e.serveBatch(w, r, version)
		return ""
	}
	a := e.dispatch(r, gr, claims, version)
	switch {
	case a.err != nil:
		e.writeGraphError(w, a.err)
	case a.body == nil:
		w.WriteHeader(a.status)
	default:
		writeJSON(w, a.status, a.body)
	}
	return a.fault
}

// answer is what a Graph operation answers. It is computed under the
// state lock and written after it, so no network write happens under it.
type answer struct {
	status int
	body   any // nil: no body
	err    *graphError
	fault  string // the quirk that shaped the answer, for stats
}

func failed(ge *graphError) answer { return answer{err: ge} }

// precheck answers 400 for unknown paths, 405, 429 and 403, in that order.
func (e *Emulator) precheck(w http.ResponseWriter, r *http.Request, gr graphRoute, c *tokenClaims) *graphError {
	switch gr.template {
	case RouteUnknown:
		return gerr(http.StatusBadRequest, "BadRequest", "Resource not found for the segment '"+gr.bad+"'.")
	case RouteMe:
		return gerr(http.StatusBadRequest, "BadRequest", "/me request is only valid with delegated authentication flow.")
	}
	if !slices.Contains(gr.allowed, r.Method) {
		w.Header().Set("Allow", strings.Join(gr.allowed, ", "))
		return gerr(http.StatusMethodNotAllowed, "Request_BadRequest",
			"The HTTP method '"+r.Method+"' is not allowed for this resource.")
	}
	if gr.template != RouteBatch { // a batch is throttled per part
		if ge := e.admit(w, c, r.Method != http.MethodGet, gr.template == RouteDirectoryAudits); ge != nil {
			return ge
		}
	}
	return checkPermission(gr, r.Method, c)
}

// admit charges the throttling buckets (the audit log's own, for reports) and sets the usage
// headers.
func (e *Emulator) admit(w http.ResponseWriter, c *tokenClaims, write, reports bool) *graphError {
	if e.opts.DisableThrottling {
		return nil
	}
	res := e.throttle.admit(c.AppID, c.TenantID, e.userCount(c.TenantID), write, reports, e.now())
	w.Header().Set("x-ms-resource-unit", "1")
	if res.percent > 80 {
		w.Header().Set("x-ms-throttle-limit-percentage", strconv.FormatFloat(res.percent/100, 'f', 2, 64))
	}
	if res.retryAfter == 0 {
		return nil
	}
	ge := gerr(http.StatusTooManyRequests, "TooManyRequests", "Too many requests. Retry after the time in the Retry-After header.")
	ge.header = map[string]string{
		"Retry-After":               strconv.Itoa(res.retryAfter),
		"x-ms-throttle-scope":       res.scope,
		"x-ms-throttle-information": res.info,
	}
	return ge
}

// checkPermission enforces application permissions: read permissions
// allow GETs only; user lookup needs a directory read permission.
func checkPermission(gr graphRoute, method string, c *tokenClaims) *graphError {
	has := func(ps ...string) bool {
		for _, p := range ps {
			if slices.ContainsFunc(c.Roles, func(r string) bool { return strings.EqualFold(r, p) }) {
				return true
			}
		}
		return false
	}
	switch {
	case gr.template == RouteBatch:
		return nil
	case gr.template == RouteDirectoryAudits:
		if has(PermAuditLogReadAll) {
			return nil
		}
		return errAuditForbidden()
	case gr.template == RouteUser || gr.template == RouteUsers:
		if has(userReadPermissions...) {
			return nil
		}
		return gerr(http.StatusForbidden, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
	case isRoleRoute(gr.template):
		if has(rolePermissions[gr.template]...) {
			return nil
		}
		return gerr(http.StatusForbidden, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
	case isGroupRoute(gr.template):
		if has(groupMemberReadPermissions...) {
			return nil
		}
		return gerr(http.StatusForbidden, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
	case gr.template == RouteAuthMethods:
		// Listing every method needs the general permission: the phone-only ones do not
		// cover passkeys, the Authenticator app and the rest.
		if has(PermAuthMethodReadAll, PermAuthMethodReadWriteAll) {
			return nil
		}
		return gerr(http.StatusForbidden, "accessDenied", "Request Authorization failed")
	case method == http.MethodGet && has(PermAuthMethodReadAll, PermAuthMethodReadWriteAll, PermPhoneMethodReadAll, PermPhoneMethodReadWriteAll):
		return nil
	case method != http.MethodGet && has(PermAuthMethodReadWriteAll, PermPhoneMethodReadWriteAll):
		return nil
	}
	return gerr(http.StatusForbidden, "accessDenied", "Request Authorization failed")
}

// dispatch runs one Graph operation against the tenant named by the token.
func (e *Emulator) dispatch(r *http.Request, gr graphRoute, c *tokenClaims, version string) answer {
	modes, draw := e.CurrentFaults(), e.drawQuirks() // drawn first: every dispatched call draws
	var in map[string]json.RawMessage
	if r.Method == http.MethodPost && gr.template == RoutePhoneList || r.Method == http.MethodPatch {
		var ge *graphError
		if in, ge = readObject(r); ge != nil {
			return failed(ge)
		}
	}
	if (gr.template == RoutePhoneList || gr.template == RouteAuthMethods) && r.Method == http.MethodGet {
		if ge := rejectQueryOptions(r.URL.Query()); ge != nil {
			return failed(ge)
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	t, ok := e.tenants[lower(c.TenantID)]
	if !ok {
		return failed(errInvalidToken("The tenant of the access token no longer exists."))
	}
	if gr.template == RouteUsers || isGroupRoute(gr.template) {
		return e.listDirectory(r, gr, t, c, version)
	}
	if isRoleRoute(gr.template) {
		return e.listRoles(r, gr, t, version)
	}
	if gr.template == RouteDirectoryAudits {
		return e.listAudits(r, t, version, e.opts.AuditLag)
	}
	u, ge := e.graphUser(t, gr.userKey)
	if ge != nil {
		return failed(ge)
	}
	ctx := odataContext(r, version, u)
	if gr.template == RouteUser {
		return answer{status: http.StatusOK, body: map[string]any{"@odata.context": ctx + "/$entity", "id": u.ID, "userPrincipalName": u.UserPrincipalName, "userType": userTypeOf(u)}}
	}
	if draw.unknownError < modes.RateUnknownError {
		return answer{err: errUnknownBackend(t.id, gr), fault: "unknownError"}
	}
	if gr.template == RouteAuthMethods {
		return answer{status: http.StatusOK, body: e.authMethodsBody(t, u, ctx, modes)}
	}
	pc := phoneCall{t: t, u: u, method: r.Method, route: gr, body: in,
		ctx: ctx + "/authentication/phoneMethods", modes: modes, draw: draw, now: e.now(),
		appID: c.AppID, audit: e.auditLogOf(t)}
	return pc.run()
}

// phoneCall is one of the seven phone-method operations, with the quirks
// in force for it.
type phoneCall struct {
	t      *tenant
	u      *user
	method string
	route  graphRoute
	body   map[string]json.RawMessage // POST and PATCH only
	ctx    string                     // OData context of the user's phoneMethods
	modes  Faults
	draw   quirkDraw
	now    time.Time
	appID  string    // the calling app, named in the audit entry of a write
	audit  *auditLog // the tenant's audit log
}

// run dispatches on route and verb. Writes are wrapped so that a change
// to the user's methods is recorded in the audit log, initiated by the calling
// app, and starts a read lag (Faults.ReadLag).
func (c *phoneCall) run() answer {
	if c.method == http.MethodGet {
		if c.route.template == RoutePhoneList {
			return c.list()
		}
		return c.get()
	}
	before := copyMethods(c.u.methods)
	a := c.write()
	if sameMethods(before, c.u.methods) {
		return a
	}
	activity, reason := graphWriteActivity(c.route.template, c.method)
	c.audit.record(AuditEntry{ActivityDisplayName: activity, ResultReason: reason, InitiatedByAppID: c.appID,
		TargetUserID: c.u.ID, TargetUPN: c.u.UserPrincipalName}, c.now)
	if c.modes.ReadLag > 0 {
		c.u.lag = &lagSnapshot{methods: before, at: c.now}
	}
	return a
}

// write runs create, update, delete, enableSmsSignIn and disableSmsSignIn.
func (c *phoneCall) write() answer {
	if c.route.template == RoutePhoneList {
		return c.create()
	}
	m, ge := methodByID(c.u.methods, c.route.methodID)
	if ge != nil {
		return failed(ge)
	}
	switch {
	case c.route.template == RouteEnableSMS:
		ge = c.t.enableSMS(c.u, m)
	case c.route.template == RouteDisableSMS:
		ge = disableSMS(m)
	case c.method == http.MethodDelete:
		ge = deleteMethod(c.u, m)
	case c.method == http.MethodPatch:
		return c.update(m)
	}
	if ge != nil {
		return failed(ge)
	}
	return answer{status: http.StatusNoContent}
}

func (c *phoneCall) create() answer {
	typ, num, ge := parseCreate(c.body)
	if ge != nil {
		return failed(ge)
	}
	n := c.newNumber(num)
	m, ge := c.t.createMethod(c.u, typ, n, c.now)
	if ge != nil {
		return answer{err: ge, fault: clashFault(ge, m == nil)}
	}
	return answer{status: http.StatusCreated, body: c.entity(c.render(m, false))}
}

func (c *phoneCall) update(m *method) answer {
	p, ge := parsePatch(c.body)
	if ge != nil {
		return failed(ge)
	}
	var n newNumber
	if p.PhoneNumber != nil {
		n = c.newNumber(*p.PhoneNumber)
	}
	before := *m
	if ge := c.t.updateMethod(c.u, m, p, n); ge != nil {
		return answer{err: ge, fault: clashFault(ge, *m == before)}
	}
	return answer{status: http.StatusNoContent}
}

// newNumber applies the write-side quirks to a validated number.
func (c *phoneCall) newNumber(number string) newNumber {
	return newNumber{number: number, display: formatNumber(number, c.modes.NumberFormat),
		unsavedClash: c.draw.notUnique < c.modes.RateNotUniqueUnsaved}
}

// clashFault labels the 409 phoneNumberNotUnique that saved nothing: only
// RateNotUniqueUnsaved answers one (a clash with a visible holder saves).
func clashFault(ge *graphError, unsaved bool) string {
	if ge.code == "phoneNumberNotUnique" && unsaved {
		return "notUniqueUnsaved"
	}
	return ""
}

// list answers the methods reads see, in Graph's usual order or shuffled.
func (c *phoneCall) list() answer {
	ms := c.u.readable(c.modes.ReadLag, c.now)
	items := []map[string]any{}
	for _, typ := range phoneTypes {
		if m, ok := ms[typ]; ok {
			items = append(items, c.render(m, true))
		}
	}
	if c.modes.ShuffleLists {
		rng := mrand.New(mrand.NewPCG(c.draw.shuffle, c.draw.shuffle>>1))
		rng.Shuffle(len(items), func(i, j int) { items[i], items[j] = items[j], items[i] })
	}
	return answer{status: http.StatusOK, body: map[string]any{"@odata.context": c.ctx, "value": items}}
}

func (c *phoneCall) get() answer {
	m, ge := methodByID(c.u.readable(c.modes.ReadLag, c.now), c.route.methodID)
	if ge != nil {
		return failed(ge)
	}
	return answer{status: http.StatusOK, body: c.entity(c.render(m, true))}
}

// render is one method as Graph shows it: the stored number, masked on
// reads when the modes say so, with beta's extra properties when asked.
func (c *phoneCall) render(m *method, read bool) map[string]any {
	num := m.shown()
	if read && (c.modes.MaskNumbers || userIn(c.modes.MaskUsers, c.u)) {
		num = maskNumber(m.number)
	}
	out := map[string]any{"id": typeIDs[m.phoneType], "phoneNumber": num, "phoneType": m.phoneType,
		"smsSignInState": c.t.smsState(c.u, m)}
	if c.modes.ExtraProperties {
		out["@odata.type"] = phoneEntityType
		out["createdDateTime"] = m.created.UTC().Format(time.RFC3339)
		out["lastUsedDateTime"] = nil
	}
	return out
}

// entity adds the OData annotations of a single method.
func (c *phoneCall) entity(m map[string]any) map[string]any {
	m["@odata.context"] = c.ctx + "/$entity"
	m["@odata.type"] = phoneEntityType
	return m
}

func odataContext(r *http.Request, version string, u *user) string {
	return "https://" + graphDefaultHost + "/" + version + "/$metadata#users('" + url.PathEscape(u.ID) + "')"
}

// rejectQueryOptions: the list operation supports no OData query options
// (the contract says to filter client-side), so they are refused rather
// than silently ignored.
func rejectQueryOptions(q url.Values) *graphError {
	for _, k := range []string{"$filter", "$orderby", "$top", "$skip", "$search", "$expand", "$count"} {
		if q.Has(k) {
			return gerr(http.StatusBadRequest, "BadRequest", "Query option '"+k+"' is not supported on this resource.")
		}
	}
	return nil
}

// readObject reads a JSON object body.
func readObject(r *http.Request) (map[string]json.RawMessage, *graphError) {
	b, err := readBody(r)
	if err != nil {
		return nil, gerr(http.StatusBadRequest, "BadRequest", "Could not read the request body.")
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil || m == nil {
		return nil, gerr(http.StatusBadRequest, "BadRequest", "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.")
	}
	return m, nil
}

// patchBody is the writable part of a phone method.
type patchBody struct {
	PhoneNumber *string
	PhoneType   *string
}

// parseFields validates property names and types shared by create and
// update: smsSignInState is read-only, unknown properties are refused.
func parseFields(in map[string]json.RawMessage) (patchBody, *graphError) {
	var p patchBody
	for k, v := range in {
		var dst **string
		switch k {
		case "phoneNumber":
			dst = &p.PhoneNumber
		case "phoneType":
			dst = &p.PhoneType
		case "id", "@odata.type":
			continue
		case "smsSignInState":
			return p, gerr(http.StatusBadRequest, "badRequest", "The property 'smsSignInState' is read-only and can't be set.")
		default:
			return p, gerr(http.StatusBadRequest, "BadRequest", "Invalid property '"+k+"' for type 'microsoft.graph.phoneAuthenticationMethod'.")
		}
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return p, gerr(http.StatusBadRequest, "BadRequest", "The property '"+k+"' must be a string.")
		}
		*dst = &s
	}
	if p.PhoneType != nil {
		if _, ok := typeIDs[*p.PhoneType]; !ok {
			return p, gerr(http.StatusBadRequest, "badRequest", "Invalid phoneType. Valid values are mobile, alternateMobile and office.")
		}
	}
	if p.PhoneNumber != nil {
		n, ok := graphNumber(*p.PhoneNumber)
		if !ok {
			return p, gerr(http.StatusBadRequest, "badRequest", "Invalid phone number. Use the format +{country code} {number}x{extension}.")
		}
		p.PhoneNumber = &n
	}
	return p, nil
}

func parseCreate(in map[string]json.RawMessage) (string, string, *graphError) {
	p, ge := parseFields(in)
	if ge != nil {
		return "", "", ge
	}
	if p.PhoneType == nil || p.PhoneNumber == nil {
		return "", "", gerr(http.StatusBadRequest, "badRequest", "phoneNumber and phoneType are required.")
	}
	if ge := checkExtension(*p.PhoneType, *p.PhoneNumber); ge != nil {
		return "", "", ge
	}
	return *p.PhoneType, *p.PhoneNumber, nil
}

func parsePatch(in map[string]json.RawMessage) (patchBody, *graphError) { return parseFields(in) }

// faultPlan is what fault injection decided for one request.
type faultPlan struct {
	delay            time.Duration
	drop, tooMany    bool
	fiveXX, gateway  bool
	lost             bool
	retryAfterSecond int
}

// drawFaults always draws the same number of values per request, so the
// sequence of decisions depends only on the seed and the request order.
func (e *Emulator) drawFaults(write bool) faultPlan {
	e.faultMu.Lock()
	defer e.faultMu.Unlock()
	f := e.faults
	var u [6]float64
	for i := range u {
		u[i] = e.rng.Float64()
	}
	p := faultPlan{
		delay:   f.Latency + time.Duration(u[0]*float64(f.Jitter)),
		drop:    u[1] < f.RateDrop,
		tooMany: u[2] < f.Rate429,
		fiveXX:  u[3] < f.Rate5xx,
		gateway: u[4] < 0.5,
		lost:    write && u[5] < f.RateLostResponse,
	}
	p.retryAfterSecond = max(f.RetryAfterSeconds, 1)
	return p
}

// injectedError waits the injected latency, then returns the injected
// error or drop, if any. Latency beyond Graph's 60 s server timeout ends
// in a 504 after 60 s.
func (e *Emulator) injectedError(ctx context.Context, p faultPlan) (*graphError, string) {
	if p.delay > 0 {
		t := time.NewTimer(min(p.delay, serverTimeout))
		defer t.Stop()
		select {
		case <-ctx.Done():
			return nil, "drop"
		case <-t.C:
		}
		if p.delay >= serverTimeout {
			return gerr(http.StatusGatewayTimeout, "gatewayTimeout", "The request timed out."), "timeout"
		}
	}
	retry := map[string]string{"Retry-After": strconv.Itoa(p.retryAfterSecond)}
	switch {
	case p.drop:
		return nil, "drop"
	case p.tooMany:
		ge := gerr(http.StatusTooManyRequests, "TooManyRequests", "Too many requests.")
		ge.header = retry
		return ge, "429"
	case p.fiveXX && p.gateway:
		return gerr(http.StatusGatewayTimeout, "gatewayTimeout", "The gateway timed out."), "5xx"
	case p.fiveXX:
		ge := gerr(http.StatusServiceUnavailable, "serviceNotAvailable", "The service is temporarily unavailable.")
		ge.header = retry
		return ge, "5xx"
	}
	return nil, ""
}
