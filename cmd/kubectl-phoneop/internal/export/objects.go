package export

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"

	identityv1alpha1 "github.com/phoneop/phoneop/api/v1alpha1"
	"github.com/phoneop/phoneop/cmd/kubectl-phoneop/internal/selection"
	"github.com/phoneop/phoneop/internal/graph"
)

// ExportedLabel marks the objects the export wrote (kubectl get pam -l phoneop.dev/exported).
const ExportedLabel = "phoneop.dev/exported"

// typeOrder is Graph's usual order, also the order of a user's objects in their file.
func typeOrder(t string) int {
	switch t {
	case graph.PhoneTypeMobile:
		return 0
	case graph.PhoneTypeAlternateMobile:
		return 1
	case graph.PhoneTypeOffice:
		return 2
	}
	return 3
}

// typeSuffix names an object after its phone type.
var typeSuffix = map[string]string{
	graph.PhoneTypeMobile:          "mobile",
	graph.PhoneTypeAlternateMobile: "alternate-mobile",
	graph.PhoneTypeOffice:          "office",
}

func sortedMethods(ms []graph.PhoneMethod) []graph.PhoneMethod {
	out := append([]graph.PhoneMethod(nil), ms...)
	sort.SliceStable(out, func(i, j int) bool { return typeOrder(out[i].PhoneType) < typeOrder(out[j].PhoneType) })
	return out
}

// objectNames gives each user the prefix of its object, Secret and file names: the UPN
// lower-cased with "@" as "." ("kim.contoso.com"), so names stay readable and stable from
// one export to the next. A UPN with characters a Kubernetes name cannot hold, or two users
// whose names would collide in a namespace, get a short hash of the UPN appended.
func objectNames(users []selection.User, defaultNS string) map[string]string {
	out := map[string]string{}
	taken := map[string][]string{} // namespace/base -> user keys
	for _, u := range users {
		base, lossy := slug(u.UPN)
		if u.UPN == "" {
			base, lossy = slug(u.ID)
		}
		if lossy {
			base = withHash(base, u)
		}
		out[strings.ToLower(u.Key())] = base
		ns := u.Namespace
		if ns == "" {
			ns = defaultNS
		}
		taken[ns+"/"+base] = append(taken[ns+"/"+base], strings.ToLower(u.Key()))
	}
	for _, keys := range taken {
		if len(keys) < 2 {
			continue
		}
		for _, k := range keys {
			out[k] = withHash(out[k], selection.User{UPN: k})
		}
	}
	return out
}

// slug maps a UPN to a DNS-1123 subdomain part; lossy says characters were replaced.
func slug(s string) (string, bool) {
	var b strings.Builder
	lossy := false
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '.':
			b.WriteRune(r)
		case r == '@':
			b.WriteRune('.')
		default:
			b.WriteRune('-')
			lossy = true
		}
	}
	out := strings.Trim(b.String(), "-.")
	for strings.Contains(out, "..") {
		out = strings.ReplaceAll(out, "..", ".")
		lossy = true
	}
	if out != strings.Trim(b.String(), "-.") || out == "" {
		lossy = true
	}
	if len(out) > 200 {
		out, lossy = strings.Trim(out[:200], "-."), true
	}
	if out == "" {
		out = "user"
	}
	return out, lossy
}

func withHash(base string, u selection.User) string {
	k := u.UPN
	if k == "" {
		k = u.ID
	}
	sum := sha256.Sum256([]byte(strings.ToLower(k)))
	return base + "-" + hex.EncodeToString(sum[:4])
}

// objectName is the PhoneAuthMethod of one of the user's phones.
func objectName(prefix, phoneType string) string { return prefix + "-" + typeSuffix[phoneType] }

// secretName is the user's Secret; its keys are the phone types.
func secretName(prefix string) string { return prefix + "-phones" }

// newObject builds one PhoneAuthMethod with the API's own types.
func newObject(o Options, ns, prefix, user string, m graph.PhoneMethod, number string) *identityv1alpha1.PhoneAuthMethod {
	obj := &identityv1alpha1.PhoneAuthMethod{
		TypeMeta: metav1.TypeMeta{APIVersion: identityv1alpha1.GroupVersion.String(), Kind: "PhoneAuthMethod"},
		ObjectMeta: metav1.ObjectMeta{Name: objectName(prefix, m.PhoneType), Namespace: ns,
			Labels: map[string]string{ExportedLabel: "true"}},
		Spec: identityv1alpha1.PhoneAuthMethodSpec{
			TenantRef:        identityv1alpha1.TenantReference{Name: o.TenantRef},
			User:             user,
			PhoneType:        identityv1alpha1.PhoneType(m.PhoneType),
			DeletionPolicy:   identityv1alpha1.DeletionPolicyOrphan,
			ManagementPolicy: o.Policy,
		},
	}
	if o.InlineNumbers {
		obj.Spec.PhoneNumber = number
	} else {
		obj.Spec.PhoneNumberFrom = &identityv1alpha1.PhoneNumberSource{SecretKeyRef: identityv1alpha1.SecretKeySelector{
			Name: secretName(prefix), Key: m.PhoneType}}
	}
	if o.SMSSignIn && m.PhoneType == graph.PhoneTypeMobile {
		var s identityv1alpha1.SMSSignIn
		switch m.SMSSignInState {
		case graph.SMSSignInReady:
			s = identityv1alpha1.SMSSignInEnabled
		case graph.SMSSignInNotEnabled:
			s = identityv1alpha1.SMSSignInDisabled
		}
		if s != "" {
			obj.Spec.SMSSignIn = &s
		}
	}
	return obj
}

// objectDocs renders objects without status and creationTimestamp, keys sorted.
func objectDocs(objs []*identityv1alpha1.PhoneAuthMethod) [][]byte {
	out := make([][]byte, 0, len(objs))
	for _, o := range objs {
		out = append(out, render(o))
	}
	return out
}

func secretDoc(ns, prefix string, numbers map[string]string) []byte {
	s := &corev1.Secret{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		ObjectMeta: metav1.ObjectMeta{Name: secretName(prefix), Namespace: ns, Labels: map[string]string{ExportedLabel: "true"}},
		Type:       corev1.SecretTypeOpaque,
		StringData: numbers,
	}
	return render(s)
}

// render is the object as YAML with map keys sorted (sigs.k8s.io/yaml goes through JSON),
// without the fields a fresh object has no business carrying in Git.
func render(obj runtime.Object) []byte {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		panic(err) // our own typed objects always convert
	}
	delete(m, "status")
	if md, ok := m["metadata"].(map[string]any); ok {
		delete(md, "creationTimestamp")
	}
	b, err := yaml.Marshal(m)
	if err != nil {
		panic(err)
	}
	return b
}

// modes are the permissions of the files written and of the directories created for them.
type modes struct{ file, dir os.FileMode }

var (
	// forNumbers is for files that hold phone numbers in clear (the Secrets, and the
	// PhoneAuthMethods with --inline-numbers): the owner's only, in directories only the
	// owner can list. A number beside its user's name is what a SIM-swap attacker needs.
	forNumbers = modes{file: 0o600, dir: 0o700}
	// forGit is for files meant to be reviewed and committed: no number in them.
	forGit = modes{file: 0o644, dir: 0o755}
)

// writeDocs writes a multi-document YAML file atomically (a temporary file renamed), so
// that an interrupted run never leaves half a file.
func writeDocs(path string, m modes, docs ...[]byte) error {
	var buf bytes.Buffer
	buf.WriteString(fileHeader)
	for i, d := range docs {
		if i > 0 {
			buf.WriteString("---\n")
		}
		buf.Write(d)
	}
	return writeAtomic(path, buf.Bytes(), m)
}

// writeAtomic writes data to path through a temporary file, with m.file's permissions or the
// existing file's where those are tighter: a rerun never loosens what a person tightened.
// Directories it creates get m.dir; existing ones are left as they are (looseDirs finds them).
func writeAtomic(path string, data []byte, m modes) error {
	if err := os.MkdirAll(filepath.Dir(path), m.dir); err != nil {
		return err
	}
	mode := m.file
	if info, err := os.Stat(path); err == nil {
		mode = tighter(mode, info.Mode().Perm())
	}
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, data) {
		// Unchanged: keep the file's mtime, so make-like tools see no change; a file an older
		// version wrote too loosely is still tightened (chmod leaves the mtime alone).
		return os.Chmod(path, mode)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		_ = tmp.Close()
		_ = os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		_ = os.Remove(tmp.Name())
		return err
	}
	if err := os.Chmod(tmp.Name(), mode); err != nil {
		_ = os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// tighter is the permission allowing only what both allow.
func tighter(a, b os.FileMode) os.FileMode { return a & b }

// looseDirs lists root and those of its subdirectories named in dirs that others than the
// owner may enter or list (existing directories, which writeAtomic does not change).
func looseDirs(root string, dirs []string) []string {
	var loose []string
	for _, d := range append([]string{""}, dirs...) {
		p := filepath.Join(root, d)
		if info, err := os.Stat(p); err == nil && info.Mode().Perm()&0o077 != 0 {
			loose = append(loose, p)
		}
	}
	return loose
}

// writeKustomization lists resources (files, or namespace directories at the top).
func writeKustomization(dir, ns string, resources []string, m modes) error {
	k := map[string]any{
		"apiVersion": "kustomize.config.k8s.io/v1beta1",
		"kind":       "Kustomization",
		"resources":  resources,
	}
	if ns != "" {
		k["namespace"] = ns
	}
	b, err := yaml.Marshal(k)
	if err != nil {
		return err
	}
	return writeAtomic(filepath.Join(dir, "kustomization.yaml"), append([]byte(fileHeader), b...), m)
}

func writeSummary(path string, res *Result) error {
	b, err := yaml.Marshal(res)
	if err != nil {
		return err
	}
	head := "# kubectl phoneop export summary. Numbers are masked; leftOut lists the phones not exported and why.\n"
	return writeAtomic(path, append([]byte(head), b...), forGit)
}
