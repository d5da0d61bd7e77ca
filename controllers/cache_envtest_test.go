package controllers

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	identityv1alpha1 "github.com/phoneop/phoneop/api/v1alpha1"
)

// bloat is what a namespace tenant can write into an object's metadata: about 40 KiB of labels
// and 200 KiB of annotations (the API server caps annotations at 256 KiB in all; labels only by
// the object's size).
func bloat() (labels, annotations map[string]string) {
	labels = map[string]string{}
	for i := range 400 {
		labels[fmt.Sprintf("bloat.example.com/l-%03d", i)] = strings.Repeat("x", 63)
	}
	return labels, map[string]string{"bloat.example.com/a": strings.Repeat("y", 200<<10)}
}

// metadataBytes is the size of an object's metadata as cached: what a tenant's labels and
// annotations would add to the manager's memory.
func metadataBytes(g Gomega, m metav1.ObjectMeta) int {
	b, err := json.Marshal(m)
	g.Expect(err).NotTo(HaveOccurred())
	return len(b)
}

// resourceVersionNumber reads a resourceVersion as the number etcd makes it, to tell which of
// two versions of an object is newer.
func resourceVersionNumber(g Gomega, rv string) uint64 {
	n, err := strconv.ParseUint(rv, 10, 64)
	g.Expect(err).NotTo(HaveOccurred())
	return n
}

// cachedMetadataLimit is far below one bloated object's metadata and far above an object's
// names, finalizer, shard label and phoneop's annotations.
const cachedMetadataLimit = 1 << 10

// TestTheCacheKeepsNoMetadataATenantCanGrow creates PhoneAuthMethods, Secrets, an EntraTenant
// and a Namespace carrying hundreds of KiB of labels and annotations, and checks that the
// manager's cache holds at most a KiB of metadata for each, and that phoneop's own writes
// (the finalizer, status) left every label and annotation on the API server.
func TestTheCacheKeepsNoMetadataATenantCanGrow(t *testing.T) {
	f := newFixture(t)
	labels, annotations := bloat()
	f.addUser("bea@contoso.com")
	p := f.pam("bea-mobile", "bea@contoso.com", identityv1alpha1.PhoneTypeMobile, "+1 2065550150", func(p *identityv1alpha1.PhoneAuthMethod) {
		p.Labels, p.Annotations = labels, annotations
	})
	f.createReady(p)
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "bloated", Namespace: f.namespace, Labels: labels, Annotations: annotations}}
	f.create(secret)
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: f.namespace + "-bloated", Annotations: annotations}}
	f.create(ns)
	tenant := f.entraTenant()
	f.g.Expect(k8s.Get(f.ctx, client.ObjectKeyFromObject(tenant), tenant)).To(Succeed())
	patch := client.MergeFrom(tenant.DeepCopy())
	tenant.Labels, tenant.Annotations = labels, annotations
	f.g.Expect(k8s.Patch(f.ctx, tenant, patch)).To(Succeed())

	// The cache itself, not the client: the client reads Secrets from the API server.
	cached := func(g Gomega, obj client.Object, key client.Object) metav1.ObjectMeta {
		g.Expect(managerCache.Get(f.ctx, client.ObjectKeyFromObject(key), obj)).To(Succeed())
		return *obj.(metav1.ObjectMetaAccessor).GetObjectMeta().(*metav1.ObjectMeta)
	}
	metadataOf := func(kind string) *metav1.PartialObjectMetadata {
		m := &metav1.PartialObjectMetadata{}
		m.SetGroupVersionKind(schema.GroupVersionKind{Version: "v1", Kind: kind})
		return m
	}
	sizes := map[string]int{}
	f.g.Eventually(func(g Gomega) {
		for what, m := range map[string]metav1.ObjectMeta{
			"PhoneAuthMethod": cached(g, &identityv1alpha1.PhoneAuthMethod{}, p),
			"EntraTenant":     cached(g, &identityv1alpha1.EntraTenant{}, tenant),
			"Secret":          cached(g, metadataOf("Secret"), secret),
			"Namespace":       cached(g, metadataOf("Namespace"), ns),
		} {
			g.Expect(m.ResourceVersion).NotTo(BeEmpty())
			if what == "EntraTenant" {
				g.Expect(resourceVersionNumber(g, m.ResourceVersion)).To(BeNumerically(">=", resourceVersionNumber(g, tenant.ResourceVersion)),
					"the cache has not seen the bloated tenant yet")
			}
			sizes[what] = metadataBytes(g, m)
			g.Expect(sizes[what]).To(BeNumerically("<", cachedMetadataLimit), "%s: the cache keeps metadata a tenant wrote", what)
		}
	}, eventually, poll).Should(Succeed())
	t.Logf("cached metadata bytes per object: %v (written: %d bytes of labels and annotations each)", sizes, metadataBytes(f.g, metav1.ObjectMeta{Labels: labels, Annotations: annotations}))

	// What phoneop wrote (its finalizer, status) took nothing away on the API server.
	live := &identityv1alpha1.PhoneAuthMethod{}
	f.g.Expect(apiReader.Get(f.ctx, client.ObjectKeyFromObject(p), live)).To(Succeed())
	f.g.Expect(live.Finalizers).To(ContainElement(identityv1alpha1.Finalizer))
	f.g.Expect(live.Status.Conditions).NotTo(BeEmpty())
	f.g.Expect(live.Labels).To(Equal(labels))
	f.g.Expect(live.Annotations).To(Equal(annotations))
	liveTenant := &identityv1alpha1.EntraTenant{}
	f.g.Expect(apiReader.Get(f.ctx, client.ObjectKeyFromObject(tenant), liveTenant)).To(Succeed())
	f.g.Expect(liveTenant.Labels).To(Equal(labels))
	f.g.Expect(liveTenant.Annotations).To(Equal(annotations))
}
