/*
Copyright 2026 The phoneop Authors.

Licensed under the Apache License, Version 2.0.
*/

package e2e

import (
	"os"
	"strings"
	"testing"
)

// TestManagerLogHasNoNumbers runs last (go test runs files in name order, tests in source
// order): after every scenario above, the manager's log must not contain a number the tests
// used, in Graph format or as bare digits.
func TestManagerLogHasNoNumbers(t *testing.T) {
	b, err := os.ReadFile(h.ManagerLog)
	if err != nil {
		t.Fatal(err)
	}
	log := string(b)
	for _, n := range everyNumber {
		local := strings.Fields(n)[1] // "2065550101", or "4255550103x42"
		if strings.Contains(log, local) || strings.Contains(log, digits(n)) {
			t.Errorf("the manager's log contains the phone number ending in %s", local[len(local)-3:])
		}
	}
}
