// Package graphtest helps test code that uses internal/graph: FakeAPI (a struct of funcs
// standing in for Graph in unit tests), clocks that drive throttling pauses and retries without
// sleeping, throwaway client certificates, and a Graph emulator served over real HTTPS.
//
// internal/graph's own tests that use it are external tests (package graph_test), because this
// package imports internal/graph.
package graphtest
