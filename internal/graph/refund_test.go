package graph

import (
	"context"
	"errors"
	"testing"
)

func TestRefundableOnlyWhenTheWriteCertainlyChangedNothing(t *testing.T) {
	cases := map[string]struct {
		status int
		sent   bool
		want   bool
	}{
		"no connection: never sent":                {status: 0, sent: false, want: true},
		"token failure or context ended: unsent":   {status: 0, sent: false, want: true},
		"timeout after sending: ambiguous":         {status: 0, sent: true, want: false},
		"400 refused (default method, bad input)":  {status: 400, sent: true, want: true},
		"401 token refused by Graph":               {status: 401, sent: true, want: true},
		"403 permission missing":                   {status: 403, sent: true, want: true},
		"404 nothing to change":                    {status: 404, sent: true, want: true},
		"429 not processed":                        {status: 429, sent: true, want: true},
		"409 may have saved the write":             {status: 409, sent: true, want: false},
		"500 may follow a save":                    {status: 500, sent: true, want: false},
		"503 may follow a save":                    {status: 503, sent: true, want: false},
		"2xx with an unreadable body: it happened": {status: 200, sent: true, want: false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := refundable(tc.status, tc.sent); got != tc.want {
				t.Errorf("refundable(%d, sent=%v) = %v, want %v", tc.status, tc.sent, got, tc.want)
			}
		})
	}
	if Refundable(nil) || Refundable(errors.New("not the client's")) {
		t.Error("a nil or foreign error is refundable")
	}
	if !Refundable(&Error{Op: "deletePhoneMethod", Code: CodeClientThrottled, Class: Throttled}) {
		t.Error("a write our own bucket held back is not refundable")
	}
	if !Refundable(&Error{Op: "deletePhoneMethod", Class: Transient, Err: context.Canceled}) {
		t.Error("a write whose context ended before sending is not refundable")
	}
}

func TestClassifyRefusal(t *testing.T) {
	cases := map[string]struct {
		status  int
		message string
		want    Refusal
	}{
		"Graph's default-method refusal": {400, "Cannot delete default method with other methods configured. Please change default method before deletion.", DefaultMethodRefusal},
		"the same words in another case": {400, "cannot DELETE Default Method with other methods configured.", DefaultMethodRefusal},
		"mobile while alternate exists":  {400, "The mobile phone can't be deleted while an alternateMobile phone exists.", NoRefusal},
		"a bad number":                   {400, "Invalid phone number.", NoRefusal},
		"not a 400":                      {409, "Cannot delete default method with other methods configured.", NoRefusal},
		"no message":                     {400, "", NoRefusal},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := ClassifyRefusal(tc.status, tc.message); got != tc.want {
				t.Errorf("ClassifyRefusal = %v, want %v", got, tc.want)
			}
		})
	}
}
