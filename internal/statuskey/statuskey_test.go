package statuskey

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
)

func TestSumIsKeyedAndShort(t *testing.T) {
	a, b := Key("0123456789abcdef0123456789abcdef"), Key("fedcba9876543210fedcba9876543210")
	cases := map[string]struct {
		sum1, sum2 string
		same       bool
	}{
		"one key and one input give one sum": {a.Sum("Create|mobile|+1 2065550100"), a.Sum("Create|mobile|+1 2065550100"), true},
		"another key gives another sum":      {a.Sum("Create|mobile|+1 2065550100"), b.Sum("Create|mobile|+1 2065550100"), false},
		"another number gives another sum":   {a.Sum("Create|mobile|+1 2065550100"), a.Sum("Create|mobile|+1 2065550101"), false},
	}
	for name, tc := range cases {
		if (tc.sum1 == tc.sum2) != tc.same {
			t.Errorf("%s: %q vs %q", name, tc.sum1, tc.sum2)
		}
		if len(tc.sum1) != SumHexLen {
			t.Errorf("%s: sum %q is not %d characters", name, tc.sum1, SumHexLen)
		}
	}
}

func fakeClient(objs ...client.Object) client.Client {
	scheme := runtime.NewScheme()
	_ = clientgoscheme.AddToScheme(scheme)
	return fake.NewClientBuilder().WithScheme(scheme).WithObjects(objs...).Build()
}

// TestLoadOrCreateKeepsOneKey: the first start creates the key, every later start reads the
// same one (status.writeGuard outlives the process), and a Secret without a usable key is an
// error rather than silently replaced.
func TestLoadOrCreateKeepsOneKey(t *testing.T) {
	ctx := context.Background()
	c := fakeClient()
	first, err := LoadOrCreate(ctx, c, "phoneop-system")
	if err != nil || len(first) != keyBytes {
		t.Fatalf("first start: key %d bytes, err %v", len(first), err)
	}
	again, err := LoadOrCreate(ctx, c, "phoneop-system")
	if err != nil || string(again) != string(first) {
		t.Fatalf("a restart read another key (err %v)", err)
	}
	broken := fakeClient(&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: SecretName, Namespace: "phoneop-system"},
		Data: map[string][]byte{DataKey: []byte("short")}})
	if _, err := LoadOrCreate(ctx, broken, "phoneop-system"); err == nil {
		t.Fatal("a Secret with a short key was accepted")
	}
}
