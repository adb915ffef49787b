package main

import (
	"encoding/json"
	"fmt"
	"os"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// The workloads the webhook admits, as typed objects.
var objectKinds = map[schema.GroupVersionKind]bool{
	{Version: "v1", Kind: "Pod"}:                       true,
	{Group: "apps", Version: "v1", Kind: "Deployment"}: true,
	{Group: "batch", Version: "v1", Kind: "Job"}:       true,
}

// The InferenceService's group: its Go types are KServe's, not in
// k8s.io/api, so its objects are checked for shape alone.
const kserveGroup = "serving.kserve.io"

func object(file string) {
	data, err := os.ReadFile(file)
	if err != nil {
		ioFail(err)
	}
	var t struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
	}
	if err := json.Unmarshal(data, &t); err != nil {
		fail("%s: (not JSON): %v", file, err)
	}
	gv, err := schema.ParseGroupVersion(t.APIVersion)
	if err != nil {
		fail("%s: %s: %v", file, t.Kind, err)
	}
	if gv.Group == kserveGroup {
		kserveObject(file, data, t.Kind)
		return
	}
	obj, gvk, err := decode(false, data)
	if err != nil {
		fail("%s: %s: %v", file, t.Kind, err)
	}
	if !objectKinds[*gvk] {
		fail("%s: %s: %s is not a workload the webhook admits", file, t.Kind, gvk)
	}
	m, err := meta.Accessor(obj)
	if err != nil {
		fail("%s: %s: %v", file, t.Kind, err)
	}
	fmt.Println(gvk.Kind, objectName(m.GetName(), m.GetGenerateName()))
}

// kserveObject reads the object as the API server reads a custom resource
// before its schema applies: JSON without duplicate fields, with apiVersion,
// kind, metadata and spec.
func kserveObject(file string, data []byte, kind string) {
	u := &unstructured.Unstructured{}
	if _, _, err := strictDecoder(false).Decode(data, nil, u); err != nil {
		fail("%s: %s: %v", file, kind, err)
	}
	// The map is case-sensitive where the first look was not.
	if u.GetAPIVersion() != kserveGroup+"/v1beta1" || u.GetKind() != "InferenceService" {
		fail("%s: %s: apiVersion %q kind %q, want %s/v1beta1 InferenceService", file, kind, u.GetAPIVersion(), u.GetKind(), kserveGroup)
	}
	for _, field := range []string{"metadata", "spec"} {
		if _, ok := u.Object[field].(map[string]any); !ok {
			fail("%s: %s: %s is missing or not an object", file, kind, field)
		}
	}
	fmt.Println(kind, objectName(u.GetName(), u.GetGenerateName()))
}

// objectName is the name, or for an object that the API server names
// (generateName) the prefix followed by "*".
func objectName(name, generateName string) string {
	if name == "" && generateName != "" {
		return generateName + "*"
	}
	return name
}
