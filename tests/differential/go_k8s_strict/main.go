// go_k8s_strict reads Kubernetes objects the way the API server does under
// strict field validation (fieldValidation=Strict): with the Kubernetes Go
// types, case-sensitive field names, and unknown or duplicate fields
// refused. A test peer of modelseal (its admission webhook, its manifests
// and its admission fixtures), not part of the product.
//
//	go_k8s_strict manifests FILE...      each YAML document: "KIND NAME"
//	go_k8s_strict admission-response     one AdmissionReview on stdin: a JSON line
//	go_k8s_strict object FILE            a Pod, Deployment, Job or InferenceService
//
// Exit 0 when everything reads; exit 1 with one line on stderr naming the
// file, the kind and what is wrong; exit 2 on a usage or I/O error.
package main

import (
	"fmt"
	"os"
	"strings"

	admissionv1 "k8s.io/api/admission/v1"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	kjson "k8s.io/apimachinery/pkg/runtime/serializer/json"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	switch args := os.Args[2:]; os.Args[1] {
	case "manifests":
		if len(args) == 0 {
			usage()
		}
		manifests(args)
	case "admission-response":
		if len(args) != 0 {
			usage()
		}
		admissionResponse()
	case "object":
		if len(args) != 1 {
			usage()
		}
		object(args[0])
	default:
		usage()
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: go_k8s_strict manifests FILE... | admission-response < REVIEW | object FILE")
	os.Exit(2)
}

// The scheme holds only the API groups the checks read: an object of any
// other group is "not registered", as on a cluster without that API.
var scheme = func() *runtime.Scheme {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{
		corev1.AddToScheme,
		appsv1.AddToScheme,
		batchv1.AddToScheme,
		admissionv1.AddToScheme,
		admissionregistrationv1.AddToScheme,
	} {
		if err := add(s); err != nil {
			panic(err)
		}
	}
	return s
}()

// strictDecoder is the API server's own decoder in its strict mode: YAML
// (a superset of JSON) goes through YAMLToJSONStrict, which refuses
// duplicate keys, then sigs.k8s.io/json's UnmarshalStrict, which refuses
// unknown, duplicate and case-mismatched fields.
func strictDecoder(yaml bool) *kjson.Serializer {
	return kjson.NewSerializerWithOptions(kjson.DefaultMetaFactory, scheme, scheme,
		kjson.SerializerOptions{Yaml: yaml, Strict: true})
}

// decode reads one object strictly. The strict errors come back beside a
// decoded object (the API server warns or refuses with them); here any of
// them is a refusal.
func decode(yaml bool, data []byte) (runtime.Object, *schema.GroupVersionKind, error) {
	return strictDecoder(yaml).Decode(data, nil, nil)
}

// fail prints one line and exits 1: the callers compare lines.
func fail(format string, a ...any) {
	msg := fmt.Sprintf(format, a...)
	fmt.Fprintln(os.Stderr, strings.Join(strings.Fields(msg), " "))
	os.Exit(1)
}

// ioFail is for what is not the input's fault (a file that cannot be read).
func ioFail(err error) {
	fmt.Fprintln(os.Stderr, err)
	os.Exit(2)
}
