// Command kprobe is the end-to-end suite's in-pod client (test/cluster): one HTTPS GET with
// the pod's own service-account token, printing "status=<code>" so the suite reads the answer
// from the pod's log. It proves what a workload in the cluster can reach and is allowed to
// read, through the cluster's Services, DNS and its real token.
//
//	kprobe [-insecure] URL
//
// -insecure skips server verification (the manager's metrics certificate is self-signed);
// otherwise the cluster's CA verifies the server (the API server).
package main

import (
	"crypto/tls"
	"crypto/x509"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"
)

const serviceAccount = "/var/run/secrets/kubernetes.io/serviceaccount/"

func main() {
	insecure := flag.Bool("insecure", false, "do not verify the server's certificate")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Println("usage: kprobe [-insecure] URL")
		os.Exit(2)
	}
	code, err := get(flag.Arg(0), *insecure)
	if err != nil {
		fmt.Printf("error=%v\n", err)
		os.Exit(1)
	}
	fmt.Printf("status=%d\n", code)
}

func get(url string, insecure bool) (int, error) {
	token, err := os.ReadFile(serviceAccount + "token")
	if err != nil {
		return 0, err
	}
	tlsConfig := &tls.Config{InsecureSkipVerify: insecure} //nolint:gosec // only for self-signed metrics
	if !insecure {
		ca, err := os.ReadFile(serviceAccount + "ca.crt")
		if err != nil {
			return 0, err
		}
		tlsConfig.RootCAs = x509.NewCertPool()
		tlsConfig.RootCAs.AppendCertsFromPEM(ca)
	}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: tlsConfig}}
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(token)))
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body) // the body may hold secrets; never printed
	return resp.StatusCode, nil
}
