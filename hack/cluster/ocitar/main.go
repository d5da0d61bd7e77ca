// Command ocitar writes a one-layer image from local files as an OCI image layout tar, for
// hack/cluster.sh's images (the pod sandbox, CoreDNS, the suite's probe) that no registry
// serves here. Standard library only; `ctr -n k8s.io image import` reads the result.
//
//	ocitar -name e2e.local/tools:1 -out tools.tar -entrypoint /pause /pause=bin/pause /kprobe=bin/kprobe
package main

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path"
	"runtime"
	"sort"
	"strings"
	"time"
)

func main() {
	name := flag.String("name", "", "fully qualified image name, e.g. e2e.local/tools:1")
	out := flag.String("out", "", "the tar to write")
	entrypoint := flag.String("entrypoint", "", "the image's entrypoint")
	flag.Parse()
	if err := run(*name, *out, *entrypoint, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "ocitar:", err)
		os.Exit(1)
	}
}

// blob is one content-addressed file of the layout.
type blob struct {
	mediaType string
	data      []byte
}

func (b blob) digest() string { return fmt.Sprintf("sha256:%x", sha256.Sum256(b.data)) }

func (b blob) descriptor() map[string]any {
	return map[string]any{"mediaType": b.mediaType, "digest": b.digest(), "size": len(b.data)}
}

func run(name, out, entrypoint string, files []string) error {
	if name == "" || out == "" || !strings.Contains(name, ":") {
		return fmt.Errorf("-name (with a tag) and -out are required")
	}
	layerTar, err := layer(files)
	if err != nil {
		return err
	}
	l := blob{"application/vnd.oci.image.layer.v1.tar", layerTar}
	config, _ := json.Marshal(map[string]any{
		"architecture": goarch(), "os": "linux",
		"config": map[string]any{"Entrypoint": []string{entrypoint}, "Env": []string{"PATH=/"}},
		"rootfs": map[string]any{"type": "layers", "diff_ids": []string{l.digest()}},
	})
	c := blob{"application/vnd.oci.image.config.v1+json", config}
	manifestJSON, _ := json.Marshal(map[string]any{
		"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
		"config": c.descriptor(), "layers": []any{l.descriptor()},
	})
	m := blob{"application/vnd.oci.image.manifest.v1+json", manifestJSON}
	desc := m.descriptor()
	// containerd 1.6 names the import by this annotation verbatim, so it is the full name.
	desc["annotations"] = map[string]string{
		"io.containerd.image.name":          name,
		"org.opencontainers.image.ref.name": name[strings.LastIndex(name, ":")+1:],
	}
	index, _ := json.Marshal(map[string]any{"schemaVersion": 2, "manifests": []any{desc}})
	entries := map[string][]byte{"oci-layout": []byte(`{"imageLayoutVersion":"1.0.0"}`), "index.json": index}
	for _, b := range []blob{l, c, m} {
		entries["blobs/sha256/"+strings.TrimPrefix(b.digest(), "sha256:")] = b.data
	}
	var buf bytes.Buffer
	if err := writeTar(&buf, entries); err != nil {
		return err
	}
	return os.WriteFile(out, buf.Bytes(), 0o644)
}

// layer is the image's file system: each dst=src copies a local file, executables keep
// their mode, and /tmp exists.
func layer(files []string) ([]byte, error) {
	entries := map[string][]byte{"tmp/": nil}
	modes := map[string]int64{}
	for _, f := range files {
		dst, src, ok := strings.Cut(f, "=")
		if !ok {
			return nil, fmt.Errorf("%q: want dst=src", f)
		}
		data, err := os.ReadFile(src)
		if err != nil {
			return nil, err
		}
		dst = strings.TrimPrefix(dst, "/")
		for d := path.Dir(dst); d != "."; d = path.Dir(d) {
			entries[d+"/"] = nil
		}
		entries[dst] = data
		modes[dst] = 0o644
		if st, err := os.Stat(src); err == nil && st.Mode()&0o111 != 0 {
			modes[dst] = 0o755
		}
	}
	var buf bytes.Buffer
	err := writeTarModes(&buf, entries, modes)
	return buf.Bytes(), err
}

func writeTar(buf *bytes.Buffer, entries map[string][]byte) error {
	return writeTarModes(buf, entries, nil)
}

// writeTarModes writes entries in name order (a directory, ending in "/", before its
// contents) with a fixed time, so the same files give the same image.
func writeTarModes(buf *bytes.Buffer, entries map[string][]byte, modes map[string]int64) error {
	names := make([]string, 0, len(entries))
	for n := range entries {
		names = append(names, n)
	}
	sort.Strings(names)
	tw := tar.NewWriter(buf)
	for _, n := range names {
		h := &tar.Header{Name: n, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(entries[n])), ModTime: time.Unix(0, 0)}
		if mode, ok := modes[n]; ok {
			h.Mode = mode
		}
		if strings.HasSuffix(n, "/") {
			h.Typeflag, h.Mode, h.Size = tar.TypeDir, 0o755, 0
			if n == "tmp/" {
				h.Mode = 0o1777
			}
		}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if _, err := tw.Write(entries[n]); err != nil {
			return err
		}
	}
	return tw.Close()
}

// goarch is the image's architecture: the build machine's, like the binaries it holds.
func goarch() string { return runtime.GOARCH }
