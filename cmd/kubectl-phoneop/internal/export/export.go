// Package export reads users' phone methods from Graph (batched, read-only) and writes them
// as PhoneAuthMethods ready for Git: one file per user and namespace, the numbers in Secret
// manifests in a separate directory (or inline when asked), a kustomization.yaml per
// namespace and a summary. Output is deterministic: the same tenant gives the same bytes, so
// a rerun shows in Git only what changed in Graph.
//
// A number Graph shows masked or empty, or one that does not parse, is never exported as if
// it were real: the phone is left out and listed with the reason.
package export

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"golang.org/x/sync/errgroup"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	identityv1alpha1 "github.com/phoneop/phoneop/api/v1alpha1"
	"github.com/phoneop/phoneop/cmd/kubectl-phoneop/internal/progress"
	"github.com/phoneop/phoneop/cmd/kubectl-phoneop/internal/selection"
	"github.com/phoneop/phoneop/internal/graph"
	"github.com/phoneop/phoneop/internal/phone"
	"github.com/phoneop/phoneop/internal/tenantconn"
)

// Reader is the part of the Graph client export needs: batched reads only, so that the
// export cannot write to Graph by construction.
type Reader interface {
	ListPhoneMethodsBatch(ctx context.Context, userIDs []string) ([]graph.PhoneMethodsResult, error)
}

var _ Reader = (*graph.Client)(nil)

// Options configure Run.
type Options struct {
	// TenantRef is the EntraTenant name the objects name in spec.tenantRef.
	TenantRef string
	// TenantID is recorded in the summary.
	TenantID string
	// Selection is described in the summary.
	Selection string
	// Namespace receives the objects of users the users file gives no namespace.
	Namespace string
	// Policy is spec.managementPolicy of every object.
	Policy identityv1alpha1.ManagementPolicy
	// InlineNumbers writes spec.phoneNumber instead of Secrets and phoneNumberFrom.
	InlineNumbers bool
	// SMSSignIn sets spec.smsSignIn on mobiles from what Graph reports (ready: Enabled,
	// notEnabled: Disabled); false leaves it unmanaged.
	SMSSignIn bool
	// OutputDir gets the PhoneAuthMethods; SecretsDir the Secrets (unused with InlineNumbers).
	OutputDir, SecretsDir string
	// Resume continues an interrupted run from its journal instead of starting over.
	Resume bool
	// Concurrency is how many batches are in flight; 0 means 4.
	Concurrency int
	// Managed maps ManagedKey(user, phoneType) to the "namespace/name" of an existing
	// PhoneAuthMethod: those phones are left out, since a second object would only conflict.
	Managed map[string]string
	// Scope is the EntraTenant's userScope; users outside it are left out.
	Scope *identityv1alpha1.UserScope
	// Progress receives the progress bar (TTY) or lines; nil for none.
	Progress io.Writer
	TTY      bool
}

// LeftOut is a phone (or a user) that was not exported, and why. Number is masked.
type LeftOut struct {
	User      string `json:"user"`
	PhoneType string `json:"phoneType,omitempty"`
	Number    string `json:"number,omitempty"`
	Reason    string `json:"reason"`
}

// Result is what a run did; it is also the summary file's content.
type Result struct {
	Tenant           string                    `json:"tenant"`
	TenantID         string                    `json:"tenantId,omitempty"`
	Selection        string                    `json:"selection"`
	ManagementPolicy string                    `json:"managementPolicy"`
	Numbers          string                    `json:"numbers"`
	Users            int                       `json:"users"`
	UsersWithPhones  int                       `json:"usersWithPhones"`
	Objects          int                       `json:"objects"`
	Namespaces       map[string]map[string]int `json:"namespaces,omitempty"`
	LeftOut          []LeftOut                 `json:"leftOut,omitempty"`
	// Failed users could not be read (Graph kept failing); rerun with --resume.
	Failed []LeftOut `json:"failed,omitempty"`

	// Not in the summary file (it would change on every run).
	Batches  int           `json:"-"`
	Resumed  int           `json:"-"`
	Duration time.Duration `json:"-"`
	// LooseDirs are existing directories holding numbers that others than the owner may
	// enter (an older export made them 0755): the plugin does not chmod a directory it did
	// not create, and says so.
	LooseDirs []string `json:"-"`
}

// ManagedKey keys Options.Managed: the lower-case user (UPN or object id) and the type.
func ManagedKey(user, phoneType string) string { return strings.ToLower(user) + "|" + phoneType }

// Run exports users. It returns an error only when nothing usable could be written (a
// Forbidden answer, a filesystem error, a cancelled context); users Graph kept failing on
// are in Result.Failed and the journal keeps the others, so --resume reads only those.
func Run(ctx context.Context, g Reader, users []selection.User, o Options) (*Result, error) {
	began := time.Now()
	if o.Concurrency <= 0 {
		o.Concurrency = 4
	}
	w, err := newWriter(o, users)
	if err != nil {
		return nil, err
	}
	defer w.close()
	todo := users
	if o.Resume {
		todo = w.pending(users)
	}
	res := &Result{Resumed: len(users) - len(todo)}
	bar := progress.New(o.Progress, "export", "users", len(users), o.TTY)
	bar.Add(res.Resumed)
	batches := make(chan []selection.User)
	eg, ectx := errgroup.WithContext(ctx)
	eg.Go(func() error {
		defer close(batches)
		for start := 0; start < len(todo); start += graph.MaxBatchParts {
			select {
			case batches <- todo[start:min(start+graph.MaxBatchParts, len(todo))]:
			case <-ectx.Done():
				return ectx.Err()
			}
		}
		return nil
	})
	var mu sync.Mutex
	for range o.Concurrency {
		eg.Go(func() error {
			for batch := range batches {
				keys := make([]string, len(batch))
				for i, u := range batch {
					keys[i] = u.Key()
				}
				results, err := g.ListPhoneMethodsBatch(ectx, keys)
				if err != nil {
					return err
				}
				for i, r := range results {
					if err := w.user(batch[i], r); err != nil {
						return err
					}
				}
				mu.Lock()
				res.Batches++
				mu.Unlock()
				bar.Add(len(batch))
			}
			return nil
		})
	}
	err = eg.Wait()
	bar.Finish()
	if err != nil {
		return nil, err
	}
	if err := w.finish(res, o, len(users)); err != nil {
		return nil, err
	}
	res.Duration = time.Since(began)
	return res, nil
}

// record is one user's outcome, as the journal keeps it (no numbers).
type record struct {
	Key       string         `json:"key"`
	Namespace string         `json:"namespace,omitempty"`
	File      string         `json:"file,omitempty"`   // relative to OutputDir
	Secret    string         `json:"secret,omitempty"` // relative to SecretsDir
	Types     map[string]int `json:"types,omitempty"`  // objects written by phone type
	LeftOut   []LeftOut      `json:"leftOut,omitempty"`
	Failed    *LeftOut       `json:"failed,omitempty"`
}

const journalName = ".kubectl-phoneop-export.journal"

// fileHeader starts every generated file, so a rerun knows which files it may replace.
const fileHeader = "# Generated by kubectl phoneop export. A rerun rewrites this file; review changes in Git.\n"

// writer turns users' phone methods into files and keeps the journal.
type writer struct {
	o     Options
	names map[string]string // lower user key -> object name prefix

	mu      sync.Mutex
	journal *os.File
	done    map[string]record // by lower user key
}

func newWriter(o Options, users []selection.User) (*writer, error) {
	w := &writer{o: o, names: objectNames(users, o.Namespace), done: map[string]record{}}
	if err := os.MkdirAll(o.OutputDir, o.objectModes().dir); err != nil {
		return nil, err
	}
	path := filepath.Join(o.OutputDir, journalName)
	if o.Resume {
		if err := w.load(path); err != nil {
			return nil, err
		}
	}
	flags := os.O_CREATE | os.O_WRONLY | os.O_TRUNC
	if o.Resume {
		flags = os.O_CREATE | os.O_WRONLY | os.O_APPEND
	}
	f, err := os.OpenFile(path, flags, 0o600)
	if err != nil {
		return nil, err
	}
	w.journal = f
	return w, nil
}

func (w *writer) close() { _ = w.journal.Close() }

// load reads the journal of an interrupted run; failed users are read again.
func (w *writer) load(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var r record
		if json.Unmarshal(sc.Bytes(), &r) == nil && r.Failed == nil {
			w.done[strings.ToLower(r.Key)] = r
		}
	}
	return nil
}

// pending is the users the journal does not have.
func (w *writer) pending(users []selection.User) []selection.User {
	var out []selection.User
	for _, u := range users {
		if _, ok := w.done[strings.ToLower(u.Key())]; !ok {
			out = append(out, u)
		}
	}
	return out
}

// user writes one user's files and journals the outcome.
func (w *writer) user(u selection.User, r graph.PhoneMethodsResult) error {
	ns := u.Namespace
	if ns == "" {
		ns = w.o.Namespace
	}
	rec := record{Key: u.Key(), Namespace: ns}
	who := u.UPN
	if who == "" {
		who = u.ID
	}
	switch {
	case graph.IsForbidden(r.Err):
		return r.Err
	case graph.IsNotFound(r.Err):
		rec.LeftOut = append(rec.LeftOut, LeftOut{User: who, Reason: "Graph does not know this user (404): check the userPrincipalName"})
	case r.Err != nil:
		rec.Failed = &LeftOut{User: who, Reason: "Graph kept failing (" + r.Err.Error() + "); rerun with --resume"}
	default:
		if err := w.phones(u, who, ns, r.Methods, &rec); err != nil {
			return err
		}
	}
	b, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, err := w.journal.Write(append(b, '\n')); err != nil {
		return err
	}
	w.done[strings.ToLower(rec.Key)] = rec
	return nil
}

// pinnableID is the object id the exported objects are pinned to (spec.userId), so that a UPN
// later given to someone else can never redirect them; "" when Graph's id is not an object id
// the API would admit.
func pinnableID(id string) string {
	if _, err := uuid.Parse(id); err != nil || len(id) != 36 {
		return ""
	}
	return id
}

// phones builds the user's objects (and Secret) from Graph's methods.
func (w *writer) phones(u selection.User, who, ns string, methods []graph.PhoneMethod, rec *record) error {
	if reason := w.outOfScope(u); reason != "" {
		if len(methods) > 0 {
			rec.LeftOut = append(rec.LeftOut, LeftOut{User: who, Reason: reason})
		}
		return nil
	}
	prefix := w.names[strings.ToLower(u.Key())]
	var objs []*identityv1alpha1.PhoneAuthMethod
	numbers := map[string]string{}
	for _, m := range sortedMethods(methods) {
		number, reason := exportable(m)
		if reason == "" {
			reason = w.managedBy(u, m.PhoneType, ns+"/"+objectName(prefix, m.PhoneType))
		}
		if reason != "" {
			rec.LeftOut = append(rec.LeftOut, LeftOut{User: who, PhoneType: m.PhoneType, Number: maskedForList(m.PhoneNumber), Reason: reason})
			continue
		}
		obj := newObject(w.o, ns, prefix, who, m, number)
		obj.Spec.UserID = pinnableID(u.ID)
		objs = append(objs, obj)
		numbers[m.PhoneType] = number
	}
	if len(objs) == 0 {
		return nil
	}
	rec.Types = map[string]int{}
	for _, o := range objs {
		rec.Types[string(o.Spec.PhoneType)]++
	}
	rec.File = filepath.Join(ns, prefix+".yaml")
	if err := writeDocs(filepath.Join(w.o.OutputDir, rec.File), w.o.objectModes(), objectDocs(objs)...); err != nil {
		return err
	}
	if w.o.InlineNumbers {
		return nil
	}
	rec.Secret = filepath.Join(ns, prefix+".yaml")
	return writeDocs(filepath.Join(w.o.SecretsDir, rec.Secret), forNumbers, secretDoc(ns, prefix, numbers))
}

// exportable returns the number in Graph's canonical form, or why the phone is left out.
func exportable(m graph.PhoneMethod) (string, string) {
	switch m.PhoneType {
	case graph.PhoneTypeMobile, graph.PhoneTypeAlternateMobile, graph.PhoneTypeOffice:
	default:
		return "", "Graph reports a phone type phoneop does not know (" + m.PhoneType + ")"
	}
	raw := strings.TrimSpace(m.PhoneNumber)
	switch {
	case raw == "":
		return "", "Graph shows no number: the app may lack full read rights (grant UserAuthenticationMethod.Read.All) or the method is incomplete"
	case strings.Contains(raw, "*"):
		return "", "Graph shows the number masked: the app lacks full read rights; grant UserAuthenticationMethod.Read.All (or UserAuthMethod-Phone.Read.All) and rerun"
	}
	n, err := phone.Parse(phone.Normalize(raw))
	if err != nil {
		return "", "the number Graph holds does not parse (" + err.Error() + "); fix it in Entra or write the object by hand"
	}
	if n.Extension != "" && m.PhoneType != graph.PhoneTypeOffice {
		return "", "the number carries an extension, which only office phones may have"
	}
	return n.String(), ""
}

// maskedForList shows a left-out number: masked as Graph gave it, or masked by us.
func maskedForList(raw string) string {
	switch {
	case strings.TrimSpace(raw) == "":
		return ""
	case strings.Contains(raw, "*"):
		return raw
	}
	return phone.Mask(raw)
}

// managedBy names the PhoneAuthMethod that already manages the phone, unless it is the very
// object this export writes (a rerun over an applied export).
func (w *writer) managedBy(u selection.User, phoneType, self string) string {
	for _, k := range []string{u.ID, u.UPN} {
		if k == "" {
			continue
		}
		if by, ok := w.o.Managed[ManagedKey(k, phoneType)]; ok && by != self {
			return "already managed by PhoneAuthMethod " + by + "; a second object would only conflict"
		}
	}
	return ""
}

// outOfScope runs the manager's user grant checks (tenantconn) on the EntraTenant's userScope.
func (w *writer) outOfScope(u selection.User) string {
	if w.o.Scope == nil {
		return ""
	}
	tenant := &identityv1alpha1.EntraTenant{ObjectMeta: metav1.ObjectMeta{Name: w.o.TenantRef}, Spec: identityv1alpha1.EntraTenantSpec{UserScope: *w.o.Scope}}
	in := tenantconn.GrantInput{Tenant: tenant, User: u.Key(), UserPrincipalName: u.UPN, UserID: u.ID}
	msg, _ := tenantconn.EvaluateUserGrant(in)
	return msg
}

// finish writes the kustomizations and the summary, removes files a previous run wrote that
// this one did not, and drops the journal.
func (w *writer) finish(res *Result, o Options, selected int) error {
	res.Tenant, res.TenantID, res.Selection = o.TenantRef, o.TenantID, o.Selection
	res.ManagementPolicy = string(o.Policy)
	res.Numbers = "inline (spec.phoneNumber)"
	if !o.InlineNumbers {
		res.Numbers = "Secrets in " + o.SecretsDir + " (spec.phoneNumberFrom)"
	}
	res.Users = selected
	res.Namespaces = map[string]map[string]int{}
	files := map[string][]string{}   // namespace -> PAM files
	secrets := map[string][]string{} // namespace -> Secret files
	for _, rec := range w.done {
		res.LeftOut = append(res.LeftOut, rec.LeftOut...)
		if rec.Failed != nil {
			res.Failed = append(res.Failed, *rec.Failed)
		}
		if rec.File == "" {
			continue
		}
		res.UsersWithPhones++
		if res.Namespaces[rec.Namespace] == nil {
			res.Namespaces[rec.Namespace] = map[string]int{}
		}
		for t, n := range rec.Types {
			res.Namespaces[rec.Namespace][t] += n
			res.Objects += n
		}
		files[rec.Namespace] = append(files[rec.Namespace], filepath.Base(rec.File))
		if rec.Secret != "" {
			secrets[rec.Namespace] = append(secrets[rec.Namespace], filepath.Base(rec.Secret))
		}
	}
	sortLeftOut(res.LeftOut)
	sortLeftOut(res.Failed)
	if err := writeTree(o.OutputDir, files, o.objectModes()); err != nil {
		return err
	}
	if o.InlineNumbers {
		res.LooseDirs = looseDirs(o.OutputDir, keys(files))
	} else {
		if err := writeTree(o.SecretsDir, secrets, forNumbers); err != nil {
			return err
		}
		res.LooseDirs = looseDirs(o.SecretsDir, keys(secrets))
		if err := os.WriteFile(filepath.Join(o.SecretsDir, "README.md"), []byte(sealingNote(o)), 0o644); err != nil {
			return err
		}
	}
	if err := writeSummary(filepath.Join(o.OutputDir, "export-summary.yaml"), res); err != nil {
		return err
	}
	if len(res.Failed) > 0 {
		return nil // keep the journal: --resume reads only the failed users again
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	_ = w.journal.Close()
	return os.Remove(filepath.Join(o.OutputDir, journalName))
}

func sortLeftOut(l []LeftOut) {
	sort.Slice(l, func(i, j int) bool {
		a, b := l[i], l[j]
		if !strings.EqualFold(a.User, b.User) {
			return strings.ToLower(a.User) < strings.ToLower(b.User)
		}
		return typeOrder(a.PhoneType) < typeOrder(b.PhoneType)
	})
}

// writeTree writes a kustomization.yaml per namespace and one at the top, and removes
// generated files of namespaces (or users) this run did not write.
func writeTree(root string, files map[string][]string, m modes) error {
	var namespaces []string
	for ns, fs := range files {
		sort.Strings(fs)
		namespaces = append(namespaces, ns)
		if err := writeKustomization(filepath.Join(root, ns), ns, fs, m); err != nil {
			return err
		}
	}
	sort.Strings(namespaces)
	if err := removeStale(root, files); err != nil {
		return err
	}
	return writeKustomization(root, "", namespaces, m)
}

// keys are a map's keys, sorted.
func keys(m map[string][]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// objectModes are the PhoneAuthMethod files' modes: they hold numbers with --inline-numbers.
func (o Options) objectModes() modes {
	if o.InlineNumbers {
		return forNumbers
	}
	return forGit
}

// removeStale deletes generated files (they start with fileHeader) no longer produced.
func removeStale(root string, keep map[string][]string) error {
	entries, err := os.ReadDir(root)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		ns := e.Name()
		kept := map[string]bool{"kustomization.yaml": len(keep[ns]) > 0}
		for _, f := range keep[ns] {
			kept[f] = true
		}
		sub, err := os.ReadDir(filepath.Join(root, ns))
		if err != nil {
			return err
		}
		for _, f := range sub {
			p := filepath.Join(root, ns, f.Name())
			if f.IsDir() || kept[f.Name()] || !strings.HasSuffix(f.Name(), ".yaml") || !generated(p) {
				continue
			}
			if err := os.Remove(p); err != nil {
				return err
			}
		}
	}
	return nil
}

func generated(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	head := make([]byte, len(fileHeader))
	n, _ := io.ReadFull(f, head)
	return string(head[:n]) == fileHeader
}

func sealingNote(o Options) string {
	return fmt.Sprintf(`# Phone numbers in clear: do not commit this directory as it is

kubectl phoneop export wrote one Secret per user here (keys mobile, alternateMobile, office),
referenced by the PhoneAuthMethods in %s through spec.phoneNumberFrom. Phone numbers are
personal data: keep these files out of Git, or commit them only sealed, for example

    # Sealed Secrets: encrypt for the cluster, commit the sealed files instead
    for f in */*.yaml; do kubeseal --format yaml < "$f" > "sealed/$f"; done

    # SOPS with age or a KMS key: encrypt in place, Flux decrypts on apply
    sops --encrypt --encrypted-regex '^(data|stringData)$' --in-place */*.yaml

or store the numbers in your secret manager and let External Secrets Operator create the
same Secrets (names and keys as here). To apply them unsealed, from this directory:

    kubectl apply -k .

The Secrets must exist before the PhoneAuthMethods that reference them are reconciled
(until then those report SecretNotFound). A rerun of the export rewrites these files.
`, o.OutputDir)
}
