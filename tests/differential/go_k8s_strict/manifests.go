package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// The kinds a deployment of the webhook consists of; anything else in the
// manifests is a mistake (a kind this checker does not know is one it
// cannot vouch for).
var manifestKinds = map[schema.GroupVersionKind]bool{
	{Version: "v1", Kind: "Namespace"}:                 true,
	{Version: "v1", Kind: "ServiceAccount"}:            true,
	{Version: "v1", Kind: "ConfigMap"}:                 true,
	{Version: "v1", Kind: "Secret"}:                    true,
	{Version: "v1", Kind: "Service"}:                   true,
	{Version: "v1", Kind: "PersistentVolumeClaim"}:     true,
	{Group: "apps", Version: "v1", Kind: "Deployment"}: true,
	{Group: "admissionregistration.k8s.io", Version: "v1", Kind: "ValidatingWebhookConfiguration"}: true,
	{Group: "admissionregistration.k8s.io", Version: "v1", Kind: "MutatingWebhookConfiguration"}:   true,
}

func manifests(files []string) {
	for _, file := range files {
		f, err := os.Open(file)
		if err != nil {
			ioFail(err)
		}
		// The reader splits on "---" lines as kubectl apply does.
		docs := utilyaml.NewYAMLReader(bufio.NewReader(f))
		for {
			doc, err := docs.Read()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				fail("%s: %v", file, err)
			}
			manifest(file, doc)
		}
		f.Close()
	}
}

func manifest(file string, doc []byte) {
	kind := peekKind(doc)
	if kind == "" {
		// An empty document (comments alone, a leading "---") is no object.
		if j, err := yaml.YAMLToJSON(doc); err == nil && bytes.Equal(bytes.TrimSpace(j), []byte("null")) {
			return
		}
		kind = "(no kind)"
	}
	obj, gvk, err := decode(true, doc)
	if err != nil {
		fail("%s: %s: %v", file, kind, err)
	}
	if !manifestKinds[*gvk] {
		fail("%s: %s: %s is not a kind of the webhook's manifests", file, kind, gvk)
	}
	m, err := meta.Accessor(obj)
	if err != nil {
		fail("%s: %s: %v", file, kind, err)
	}
	fmt.Println(gvk.Kind, m.GetName())
}

// peekKind reads the kind leniently, only to name it in messages.
func peekKind(doc []byte) string {
	j, err := yaml.YAMLToJSON(doc)
	if err != nil {
		return ""
	}
	var t struct {
		Kind string `json:"kind"`
	}
	if json.Unmarshal(j, &t) != nil {
		return ""
	}
	return t.Kind
}
