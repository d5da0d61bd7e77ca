package controllers

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/phoneop/phoneop/internal/conditions"
)

// setReadiness writes an outcome's Ready condition and its kstatus companion.
func setReadiness(conds *[]metav1.Condition, generation int64, o *outcome) {
	conditions.SetReadiness(conds, generation, conditions.Readiness{Ready: o.ready, Stalled: o.stalled, Reason: o.reason, Message: o.message})
}
