// The image builder (make image). Its own module so that go-containerregistry and its
// dependencies stay out of the operator's go.mod: the manager never imports them.
module github.com/phoneop/phoneop/hack/image

go 1.26.0

toolchain go1.27.3

require github.com/google/go-containerregistry v0.22.1

require (
	github.com/klauspost/compress v1.20.1 // indirect
	github.com/opencontainers/go-digest v1.0.0 // indirect
	github.com/opencontainers/image-spec v1.1.1 // indirect
)
