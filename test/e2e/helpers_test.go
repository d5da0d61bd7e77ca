/*
Copyright 2026 The phoneop Authors.

Licensed under the Apache License, Version 2.0.
*/

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	. "github.com/onsi/gomega"
)

// kubectl runs kubectl with the harness's kubeconfig, stdin as input, and returns the
// combined output; a non-zero exit is an error carrying that output.
func kubectl(stdin string, args ...string) (string, error) {
	cmd := h.Kubectl(context.Background(), args...)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if err != nil {
		err = fmt.Errorf("kubectl %s: %w: %s", strings.Join(args, " "), err, out.String())
	}
	return out.String(), err
}

// mustKubectl is kubectl that fails the test on error.
func mustKubectl(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	out, err := kubectl(stdin, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// pam is a PhoneAuthMethod as the tests write it; empty fields are left out of the YAML.
type pam struct {
	name, namespace, user, phoneType, number    string
	smsSignIn, deletionPolicy, managementPolicy string
}

func (p pam) yaml() string {
	var b strings.Builder
	fmt.Fprintf(&b, "apiVersion: identity.phoneop.dev/v1alpha1\nkind: PhoneAuthMethod\n")
	fmt.Fprintf(&b, "metadata: {name: %s, namespace: %s}\nspec:\n", p.name, p.namespace)
	fmt.Fprintf(&b, "  tenantRef: {name: %s}\n  user: %s\n  phoneType: %s\n  phoneNumber: %q\n", tenant.Name, p.user, p.phoneType, p.number)
	for _, f := range []struct{ key, value string }{
		{"smsSignIn", p.smsSignIn}, {"deletionPolicy", p.deletionPolicy}, {"managementPolicy", p.managementPolicy},
	} {
		if f.value != "" {
			fmt.Fprintf(&b, "  %s: %s\n", f.key, f.value)
		}
	}
	return b.String()
}

// apply kubectl-applies the objects as one multi-document YAML stream.
func apply(t *testing.T, objs ...pam) {
	t.Helper()
	docs := make([]string, len(objs))
	for i, o := range objs {
		docs[i] = o.yaml()
	}
	mustKubectl(t, strings.Join(docs, "---\n"), "apply", "-f", "-")
}

// waitReady is `kubectl wait --for=condition=Ready` on the objects.
func waitReady(t *testing.T, objs ...pam) {
	t.Helper()
	args := []string{"wait", "--for=condition=Ready", "--timeout=" + eventually.String(), "-n", objs[0].namespace}
	for _, o := range objs {
		args = append(args, "pam/"+o.name)
	}
	mustKubectl(t, "", args...)
}

// pamStatus is the part of a PhoneAuthMethod the tests read back with kubectl get -o json.
type pamStatus struct {
	Metadata struct {
		Generation int64 `json:"generation"`
	} `json:"metadata"`
	Status struct {
		UserID                 string   `json:"userId"`
		PhoneNumber            string   `json:"phoneNumber"`
		SMSSignInState         string   `json:"smsSignInState"`
		PlannedActions         []string `json:"plannedActions"`
		ObservedGeneration     int64    `json:"observedGeneration"`
		LastHandledReconcileAt string   `json:"lastHandledReconcileAt"`
		Conditions             []struct {
			Type, Status, Reason, Message string
		} `json:"conditions"`
	} `json:"status"`
}

func (s pamStatus) ready() (status, reason, message string) {
	for _, c := range s.Status.Conditions {
		if c.Type == "Ready" {
			return c.Status, c.Reason, c.Message
		}
	}
	return "", "", ""
}

// getPAM is `kubectl get pam -o json`, decoded.
func getPAM(g Gomega, p pam) pamStatus {
	out, err := kubectl("", "get", "pam", p.name, "-n", p.namespace, "-o", "json")
	g.Expect(err).NotTo(HaveOccurred())
	var s pamStatus
	g.Expect(json.Unmarshal([]byte(out), &s)).To(Succeed())
	return s
}

// waitForReason waits until Ready has the status and reason.
func waitForReason(t *testing.T, p pam, status, reason string) pamStatus {
	t.Helper()
	var s pamStatus
	NewWithT(t).Eventually(func(g Gomega) {
		s = getPAM(g, p)
		st, r, msg := s.ready()
		g.Expect(r).To(Equal(reason), "Ready reason (message: %s)", msg)
		g.Expect(st).To(Equal(status))
	}, eventually, poll).Should(Succeed())
	return s
}

var resyncSeq atomic.Int64

// forceResync sets phoneop.dev/reconcile-requested-at to a fresh value on the objects (as
// `kubectl annotate … --overwrite` does) and waits until each reports it handled it in
// status.lastHandledReconcileAt.
func forceResync(t *testing.T, objs ...pam) {
	t.Helper()
	waitHandled(t, requestResync(t, objs...), objs...)
}

// requestResync annotates the objects with a fresh reconcile-requested-at and returns it.
func requestResync(t *testing.T, objs ...pam) string {
	t.Helper()
	// Unix seconds, as `date +%s` gives, plus a counter: two requests within one second must
	// differ or the second would be taken as already handled.
	value := fmt.Sprintf("%d-%d", time.Now().Unix(), resyncSeq.Add(1))
	for _, o := range objs {
		mustKubectl(t, "", "annotate", "-n", o.namespace, "pam/"+o.name, "--overwrite",
			"phoneop.dev/reconcile-requested-at="+value)
	}
	return value
}

// waitHandled waits with kubectl wait until the objects' status.lastHandledReconcileAt is value.
func waitHandled(t *testing.T, value string, objs ...pam) {
	t.Helper()
	for _, o := range objs {
		mustKubectl(t, "", "wait", "-n", o.namespace, "pam/"+o.name, "--timeout="+eventually.String(),
			"--for=jsonpath={.status.lastHandledReconcileAt}="+value)
	}
}

// phoneNumberLike matches a Graph-format number: what must never appear in a log.
var phoneNumberLike = regexp.MustCompile(`\+[1-9][0-9]{0,2} [0-9]{4,15}(x[0-9]{1,10})?`)

// maskNumbers hides every digit of Graph-format numbers but the last three, so that
// diagnostics printed by the tests can never leak one.
func maskNumbers(s string) string {
	return phoneNumberLike.ReplaceAllStringFunc(s, func(n string) string {
		if len(n) <= 3 {
			return n
		}
		return regexp.MustCompile(`[0-9]`).ReplaceAllString(n[:len(n)-3], "*") + n[len(n)-3:]
	})
}

// managerLogTail is the end of the manager's log with numbers masked.
func managerLogTail() string {
	b, err := os.ReadFile(h.ManagerLog)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > 40 {
		lines = lines[len(lines)-40:]
	}
	return maskNumbers(strings.Join(lines, "\n"))
}

// digits is a number as it may appear in any formatting: only its digits.
func digits(number string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, number)
}
