// Package graphtest helps test code that uses internal/graph: clocks that
// drive throttling pauses and retries without sleeping, throwaway client
// certificates, and a Graph emulator served over real HTTPS.
//
// It does not import internal/graph, so that package's own tests can use it.
package graphtest
