// Lists a tar layer the way containerd, CRI-O and podman read one (Go's
// archive/tar): "TYPEFLAG SIZE NAME" per entry, one per line, then "end".
// Exit 1 with "error: ..." where archive/tar stops with an error. A test
// peer of modelseal (tests/oci.rs), not part of the product.
package main

import (
	"archive/tar"
	"fmt"
	"io"
	"os"
)

func main() {
	f, err := os.Open(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	r := tar.NewReader(f)
	for {
		h, err := r.Next()
		if err == io.EOF {
			fmt.Println("end")
			return
		}
		if err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		fmt.Printf("%d %d %s\n", h.Typeflag, h.Size, h.Name)
	}
}
