package observe

import "github.com/phoneop/phoneop/internal/graph"

// MethodOfType returns the user's method of phoneType, or nil when the user has none.
func MethodOfType(methods []graph.PhoneMethod, phoneType string) *graph.PhoneMethod {
	for i := range methods {
		if methods[i].PhoneType == phoneType {
			return &methods[i]
		}
	}
	return nil
}

// sameMethod compares two observations exactly (nil: absent): an unsettled write is trusted
// only over a read that is precisely the state it replaced.
func sameMethod(a, b *graph.PhoneMethod) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// WithoutType returns methods without the method of phoneType.
func WithoutType(methods []graph.PhoneMethod, phoneType string) []graph.PhoneMethod {
	out := make([]graph.PhoneMethod, 0, len(methods))
	for _, m := range methods {
		if m.PhoneType != phoneType {
			out = append(out, m)
		}
	}
	return out
}
