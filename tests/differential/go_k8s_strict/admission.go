package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	admissionv1 "k8s.io/api/admission/v1"
)

// normalized is what admission-response prints: the fields a test compares,
// each null when the response leaves it out (warnings: empty).
type normalized struct {
	UID       string   `json:"uid"`
	Allowed   bool     `json:"allowed"`
	Code      *int32   `json:"code"`
	Message   *string  `json:"message"`
	PatchType *string  `json:"patchType"`
	Patch     []any    `json:"patch"`
	Warnings  []string `json:"warnings"`
}

func admissionResponse() {
	data, err := io.ReadAll(os.Stdin)
	if err != nil {
		ioFail(err)
	}
	const where = "stdin: AdmissionReview"
	obj, gvk, err := decode(false, data)
	if err != nil {
		fail("%s: %v", where, err)
	}
	// Only admission.k8s.io/v1 is registered, but the check says so
	// plainly: the API server refuses a reply in another version than asked.
	if gvk.GroupVersion() != admissionv1.SchemeGroupVersion || gvk.Kind != "AdmissionReview" {
		fail("%s: apiVersion %q kind %q, want admission.k8s.io/v1 AdmissionReview", where, gvk.GroupVersion(), gvk.Kind)
	}
	review := obj.(*admissionv1.AdmissionReview)
	// A webhook that echoes the request back sends the object (and maybe
	// secrets in it) to the API server for nothing.
	if review.Request != nil {
		fail("%s: request is present in a response", where)
	}
	r := review.Response
	if r == nil {
		fail("%s: response is missing", where)
	}
	// The API server matches the reply to its request by uid.
	if r.UID == "" {
		fail("%s: response.uid is empty", where)
	}
	out := normalized{UID: string(r.UID), Allowed: r.Allowed, Warnings: r.Warnings}
	if out.Warnings == nil {
		out.Warnings = []string{}
	}
	if r.Result != nil {
		if r.Result.Code != 0 {
			out.Code = &r.Result.Code
		}
		if r.Result.Message != "" {
			out.Message = &r.Result.Message
		}
	}
	if r.PatchType != nil {
		t := string(*r.PatchType)
		out.PatchType = &t
	}
	if r.Patch != nil {
		if r.PatchType == nil || *r.PatchType != admissionv1.PatchTypeJSONPatch {
			fail("%s: response.patch is set but patchType is not JSONPatch", where)
		}
		ops, err := jsonPatch(r.Patch)
		if err != nil {
			fail("%s: response.patch: %v", where, err)
		}
		out.Patch = ops
	}
	enc := json.NewEncoder(os.Stdout)
	// Messages quote objects; <, > and & stay as they are.
	enc.SetEscapeHTML(false)
	if err := enc.Encode(out); err != nil {
		ioFail(err)
	}
}

// The members each RFC 6902 operation needs beyond op and path; the API
// server's JSON Patch library refuses an operation without them.
var patchOps = map[string][]string{
	"add":     {"value"},
	"remove":  nil,
	"replace": {"value"},
	"move":    {"from"},
	"copy":    {"from"},
	"test":    {"value"},
}

// jsonPatch decodes a JSON Patch: one array of operations and nothing after.
func jsonPatch(patch []byte) ([]any, error) {
	dec := json.NewDecoder(bytes.NewReader(patch))
	dec.UseNumber()
	var ops []map[string]any
	if err := dec.Decode(&ops); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("data after the array")
	}
	if ops == nil {
		return nil, errors.New("null, not an array of operations")
	}
	decoded := make([]any, len(ops))
	for i, op := range ops {
		name, ok := op["op"].(string)
		if !ok {
			return nil, fmt.Errorf("operation %d has no op string", i)
		}
		needs, known := patchOps[name]
		if !known {
			return nil, fmt.Errorf("operation %d: unknown op %q", i, name)
		}
		if _, ok := op["path"].(string); !ok {
			return nil, fmt.Errorf("operation %d (%s) has no path string", i, name)
		}
		for _, member := range needs {
			if _, ok := op[member]; !ok {
				return nil, fmt.Errorf("operation %d (%s) has no %s", i, name, member)
			}
		}
		decoded[i] = op
	}
	return decoded, nil
}
