package main

import (
	"io"
	"log"
)

// discardLogger keeps the in-process registry's request log out of the test output.
func discardLogger() *log.Logger { return log.New(io.Discard, "", 0) }
