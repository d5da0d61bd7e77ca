# phoneop Makefile. `make help` lists the targets.

IMG ?= phoneop:dev
# Every tool is pinned in go.mod (`tool` directives) and run with `go tool`, so a fresh clone
# needs nothing installed by hand.
CONTROLLER_GEN ?= go tool controller-gen
# The test control plane (kube-apiserver + etcd) is built from the Go module proxy and cached
# under bin/k8s/<version>/; see hack/control-plane.sh.
CONTROL_PLANE ?= hack/control-plane.sh
GO_TEST_FLAGS ?= -count=1 -timeout 20m
# Nested modules keep their dependencies out of the operator's go.mod: the image builder
# (go-containerregistry) and the benchmark (golang.org/x/image for its plot). `./...` stops at
# a nested module, so fmt, vet and test visit each of them explicitly.
NESTED_MODULES ?= hack/image test/bench

.DEFAULT_GOAL := help

##@ General

.PHONY: help
help: ## Show this help.
	@awk 'BEGIN {FS = ":.*##"; printf "Usage: make <target>\n"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2 } /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) }' $(MAKEFILE_LIST)

##@ Development

.PHONY: manifests
manifests: ## Generate CRDs and RBAC from the API markers.
	$(CONTROLLER_GEN) rbac:roleName=manager-role crd paths="./api/..." paths="./controllers/..." output:crd:artifacts:config=config/crd/bases output:rbac:artifacts:config=config/rbac

.PHONY: generate
generate: ## Generate deepcopy methods.
	$(CONTROLLER_GEN) object:headerFile="hack/boilerplate.go.txt" paths="./api/..."

.PHONY: fmt
fmt: ## Run go fmt.
	go fmt ./...
	for m in $(NESTED_MODULES); do go -C $$m fmt ./... || exit 1; done

.PHONY: vet
vet: ## Run go vet (the operator and its nested modules).
	go vet ./...
	for m in $(NESTED_MODULES); do go -C $$m vet ./... || exit 1; done

.PHONY: verify-generated
verify-generated: ## Fail when generated CRDs, RBAC or deepcopy differ from the markers.
	hack/verify-generated.sh

.PHONY: control-plane
control-plane: ## Build (once) the kube-apiserver and etcd the tests use.
	$(CONTROL_PLANE)

.PHONY: test
test: verify-generated vet ## Run every test against a real kube-apiserver and etcd (built on first run), and the real-cluster suite (root on Linux).
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed on:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	@# test/cluster (in ./... below) needs root on Linux; say so once when it will skip, and
	@# fail under CI, where it is required.
	@why="$$(hack/cluster.sh check 2>&1)" || { if [ "$$CI" = true ]; then echo "test/cluster: FAIL: CI=true requires the real-cluster suite: $$why" >&2; exit 1; fi; \
		echo "test/cluster: skipped: $$(echo "$$why" | paste -sd ';' -) (make e2e-cluster runs it as root on Linux)"; }
	assets="$$($(CONTROL_PLANE))" && export KUBEBUILDER_ASSETS="$$assets" && \
		go test $(GO_TEST_FLAGS) ./... && \
		for m in $(NESTED_MODULES); do go -C $$m test $(GO_TEST_FLAGS) ./... || exit 1; done

##@ Build

.PHONY: build
build: manifests generate fmt vet ## Build the manager binary into bin/manager.
	CGO_ENABLED=0 go build -trimpath -o bin/manager .

.PHONY: run
run: manifests generate fmt vet ## Run the manager against the cluster in your kubeconfig.
	go run ./main.go

.PHONY: plugin
plugin: ## Build the kubectl plugin into bin/kubectl-phoneop (put bin/ on PATH: kubectl phoneop --help).
	CGO_ENABLED=0 go build -trimpath -ldflags "-X github.com/phoneop/phoneop/internal/graph.Version=$(VERSION)" -o bin/kubectl-phoneop ./cmd/kubectl-phoneop

##@ Deployment (install manifests, Helm chart, image; see docs/)

KUBECTL ?= kubectl
GOARCH ?= $(shell go env GOARCH)
# The image is stamped with the commit's time and revision, so a commit always builds the same
# image (reproducible builds: https://reproducible-builds.org/docs/source-date-epoch/).
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || echo 0)
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
REVISION ?= $(shell git rev-parse HEAD 2>/dev/null)

.PHONY: build-installer
build-installer: ## Render config/default with IMG (name:tag) into dist/install.yaml.
	@command -v $(KUBECTL) >/dev/null 2>&1 || { echo "build-installer: kubectl not found; install kubectl >= 1.30 (it embeds kustomize v5) or set KUBECTL=" >&2; exit 1; }
	@mkdir -p dist/installer
	@# A throwaway overlay sets the image, so that no committed file is edited.
	@printf 'resources:\n- ../../config/default\nimages:\n- name: phoneop\n  newName: %s\n  newTag: %s\n' \
		"$$(echo '$(IMG)' | sed 's/:[^:/]*$$//')" "$$(echo '$(IMG)' | sed -n 's/.*:\([^:/]*\)$$/\1/p')" > dist/installer/kustomization.yaml
	$(KUBECTL) kustomize dist/installer > dist/install.yaml
	@echo "wrote dist/install.yaml (image $(IMG))"

.PHONY: image
image: ## Build the reproducible image tarball dist/phoneop-image.tar (no Docker needed).
	@mkdir -p dist/image
	CGO_ENABLED=0 GOOS=linux GOARCH=$(GOARCH) go build -trimpath -buildvcs=false -o dist/image/manager .
	@# hack/image is its own module (hack/image/go.mod), so it runs from its directory.
	SOURCE_DATE_EPOCH=$(SOURCE_DATE_EPOCH) go -C hack/image run . --binary $(CURDIR)/dist/image/manager --arch $(GOARCH) \
		--tag $(IMG) --version $(VERSION) --revision "$(REVISION)" --out $(CURDIR)/dist/phoneop-image.tar

.PHONY: chart-sync
chart-sync: manifests ## Copy the generated CRDs and manager RBAC rules into charts/phoneop.
	rm -f charts/phoneop/crds/*.yaml
	cp config/crd/bases/*.yaml charts/phoneop/crds/
	cp config/rbac/role.yaml charts/phoneop/files/manager-role.yaml
	cp config/components/namespace-scoped/cluster_role.yaml charts/phoneop/files/manager-cluster-role.yaml

.PHONY: helm
helm: ## Build the pinned helm (hack/tools/go.mod) into bin/ and print its path.
	@hack/tools/build.sh helm

.PHONY: chart-package
chart-package: chart-sync ## Package the Helm chart into dist/.
	@mkdir -p dist
	"$$(hack/tools/build.sh helm)" package charts/phoneop --destination dist

##@ Demo and end-to-end tests
# Both run the built manager binary against hack/control-plane.sh's kube-apiserver + etcd and
# the Graph emulator, through internal/testharness.

.PHONY: demo
demo: ## Show phoneop end to end with kubectl (control plane, Graph emulator, manager); DEMO_KEEP=1 keeps it running.
	@command -v kubectl >/dev/null 2>&1 || { echo "demo: kubectl is not on PATH; install kubectl >= 1.30 and put it on PATH" >&2; exit 1; }
	KUBEBUILDER_ASSETS="$$($(CONTROL_PLANE))" go run ./hack/demo

.PHONY: e2e
e2e: ## Run only the end-to-end tests (test/e2e), verbosely, with their Graph call counts.
	@command -v kubectl >/dev/null 2>&1 || { echo "e2e: kubectl is not on PATH; install kubectl >= 1.30 and put it on PATH" >&2; exit 1; }
	KUBEBUILDER_ASSETS="$$($(CONTROL_PLANE))" go test $(GO_TEST_FLAGS) -v ./test/e2e/...

.PHONY: e2e-cluster
e2e-cluster: ## Run only the real-cluster suite (test/cluster; root on Linux): make image, a one-node cluster in its own network namespace (hack/cluster.sh), the installs.
	go test $(GO_TEST_FLAGS) -v ./test/cluster/

##@ Benchmark (see docs/benchmarks.md)

# N users (each a mobile; 30 % an alternateMobile, 10 % an office phone). The default finishes
# in about 7 minutes on 2 cores; N=10000 takes about 18 (Graph's 20 writes/s bind).
N ?= 1000
BENCH_ARGS ?=
# FIDELITY=nospace, trunk, spaced or all runs against Graph as observed instead of as
# documented: numbers stored in that form, 10 s read lag, 5 % unsaved 409s, shuffled lists,
# 2 % masked users (docs/benchmarks.md, "Graph as observed"; about 13 minutes at N=1000).
FIDELITY ?=
# FEED=1 measures the change feed instead (docs/benchmarks.md, "Change feed"): the steady
# state's Graph calls per hour and the drift detection with the feed off and on (about 30
# minutes at N=1000, 40 at N=10000; BENCH_ARGS go to test/bench/cmd/feedbench).
FEED ?=

# test/bench is its own module: its commands are built into bin/ and run from the repository
# root, so that their default paths (docs/benchmarks.md, bin/bench/) stay where they were.
BENCH_BIN ?= $(CURDIR)/bin

.PHONY: bench-build
bench-build: 
	go -C test/bench build -o $(BENCH_BIN)/ ./cmd/bench ./cmd/feedbench

.PHONY: bench
bench: bench-build ## Benchmark N PhoneAuthMethods against the emulated Graph limits (FIDELITY=nospace|trunk|spaced|all: Graph as observed; FEED=1: the change feed); writes docs/benchmarks.md.
ifneq ($(FEED),)
	KUBEBUILDER_ASSETS="$$($(CONTROL_PLANE))" $(BENCH_BIN)/feedbench -n $(N) $(BENCH_ARGS) \
		-command "make bench FEED=1 N=$(N)$(if $(BENCH_ARGS), BENCH_ARGS='$(BENCH_ARGS)')"
else
	KUBEBUILDER_ASSETS="$$($(CONTROL_PLANE))" $(BENCH_BIN)/bench -n $(N) $(if $(FIDELITY),-fidelity $(FIDELITY)) $(BENCH_ARGS) \
		-command "make bench N=$(N)$(if $(FIDELITY), FIDELITY=$(FIDELITY))$(if $(BENCH_ARGS), BENCH_ARGS='$(BENCH_ARGS)')"
endif
