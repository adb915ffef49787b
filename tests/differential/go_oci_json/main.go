// Decodes an OCI image manifest the way the Go programs that pull images
// do (encoding/json into structs tagged as the OCI image-spec Go module
// tags them) and prints the config and each layer: "layer DIGEST SIZE
// MEDIATYPE", one per line. Exit 1 with "error: ..." when Go refuses it.
// A test peer of modelseal (tests/oci.rs), not part of the product.
package main

import (
	"encoding/json"
	"fmt"
	"os"
)

type descriptor struct {
	MediaType   string            `json:"mediaType"`
	Digest      string            `json:"digest"`
	Size        int64             `json:"size"`
	URLs        []string          `json:"urls,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

type manifest struct {
	SchemaVersion int          `json:"schemaVersion"`
	MediaType     string       `json:"mediaType,omitempty"`
	ArtifactType  string       `json:"artifactType,omitempty"`
	Config        descriptor   `json:"config"`
	Layers        []descriptor `json:"layers"`
	Subject       *descriptor  `json:"subject,omitempty"`
}

func main() {
	data, err := os.ReadFile(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	var m manifest
	if err := json.Unmarshal(data, &m); err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	fmt.Printf("config %s %d %s\n", m.Config.Digest, m.Config.Size, m.Config.MediaType)
	for _, l := range m.Layers {
		fmt.Printf("layer %s %d %s urls=%v\n", l.Digest, l.Size, l.MediaType, l.URLs)
	}
}
