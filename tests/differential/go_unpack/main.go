// Unpacks image layers the way container runtimes do, for the layer
// corpus test of modelseal (tests/layers.rs); a test peer, not part of the
// product.
//
//	go_unpack tar LAYER           Go's archive/tar (what containerd, CRI-O,
//	                              podman and skopeo read layers with)
//	go_unpack containerd LAYER... containerd's own pkg/archive.Apply of the
//	                              layers in order onto an empty root
//	go_unpack write DIR OUT       writes DIR as a layer with archive/tar (a
//	                              well-formed layer of the corpus)
//
// The readers print "SHA256 NAME" for each regular file under models/ (names
// without the prefix, sorted), then "end"; "error: ..." and exit 1 where
// the reader refuses the layers.
package main

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/containerd/containerd/v2/pkg/archive"
)

func fail(err error) {
	fmt.Println("error:", strings.ReplaceAll(err.Error(), "\n", " "))
	os.Exit(1)
}

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: go_unpack (tar LAYER | containerd LAYER...)")
		os.Exit(2)
	}
	var files map[string]string
	var err error
	switch os.Args[1] {
	case "tar":
		files, err = readTar(os.Args[2])
	case "containerd":
		files, err = apply(os.Args[2:])
	case "write":
		if err := write(os.Args[2], os.Args[3]); err != nil {
			fail(err)
		}
		return
	default:
		fmt.Fprintln(os.Stderr, "unknown reader", os.Args[1])
		os.Exit(2)
	}
	if err != nil {
		fail(err)
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Printf("%s %s\n", files[n], n)
	}
	fmt.Println("end")
}

// readTar lists the regular entries under models/ as archive/tar reads
// them; a later entry of the same name replaces an earlier one, as it
// would on disk.
func readTar(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := tar.NewReader(f)
	files := map[string]string{}
	for {
		h, err := r.Next()
		if err == io.EOF {
			return files, nil
		}
		if err != nil {
			return nil, err
		}
		name := strings.TrimPrefix(filepath.Clean("/"+h.Name), "/")
		rest, ok := strings.CutPrefix(name, "models/")
		if !ok {
			continue
		}
		if h.Typeflag != tar.TypeReg && h.Typeflag != tar.TypeRegA {
			delete(files, rest)
			continue
		}
		sum := sha256.New()
		if _, err := io.Copy(sum, r); err != nil {
			return nil, err
		}
		files[rest] = hex.EncodeToString(sum.Sum(nil))
	}
}

// apply unpacks the layers in order with containerd's Apply (the code its
// snapshotters' diff appliers run) and lists the regular files the root's
// models directory then holds.
func apply(layers []string) (map[string]string, error) {
	root, err := os.MkdirTemp("", "go-unpack-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(root)
	for _, layer := range layers {
		f, err := os.Open(layer)
		if err != nil {
			return nil, err
		}
		_, err = archive.Apply(context.Background(), root, f)
		f.Close()
		if err != nil {
			return nil, err
		}
	}
	files := map[string]string{}
	models := filepath.Join(root, "models")
	if _, err := os.Lstat(models); err != nil {
		return files, nil
	}
	err = filepath.WalkDir(models, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(models, path)
		sum := sha256.Sum256(data)
		files[filepath.ToSlash(rel)] = hex.EncodeToString(sum[:])
		return nil
	})
	return files, err
}

// write writes the tree under dir as a tar layer at out, in name order,
// each header as archive/tar makes it from the file's metadata.
func write(dir, out string) error {
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	defer f.Close()
	w := tar.NewWriter(f)
	var paths []string
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if path != dir {
			paths = append(paths, path)
		}
		return nil
	})
	if err != nil {
		return err
	}
	sort.Strings(paths)
	for _, path := range paths {
		info, err := os.Lstat(path)
		if err != nil {
			return err
		}
		link := ""
		if info.Mode()&fs.ModeSymlink != 0 {
			if link, err = os.Readlink(path); err != nil {
				return err
			}
		}
		h, err := tar.FileInfoHeader(info, link)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		h.Name = filepath.ToSlash(rel)
		if info.IsDir() {
			h.Name += "/"
		}
		h.Uid, h.Gid, h.Uname, h.Gname = 0, 0, "", ""
		h.ModTime = time.Unix(0, 0)
		h.AccessTime, h.ChangeTime = time.Time{}, time.Time{}
		if err := w.WriteHeader(h); err != nil {
			return err
		}
		if info.Mode().IsRegular() {
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			if _, err := w.Write(data); err != nil {
				return err
			}
		}
	}
	return w.Close()
}
