# phoneop Makefile. `make help` lists the targets.

IMG ?= phoneop:dev
# Every tool is pinned in go.mod (`tool` directives) and run with `go tool`, so a fresh clone
# needs nothing installed by hand.
CONTROLLER_GEN ?= go tool controller-gen
# The test control plane (kube-apiserver + etcd) is built from the Go module proxy and cached
# under bin/k8s/<version>/; see hack/control-plane.sh.
CONTROL_PLANE ?= hack/control-plane.sh
GO_TEST_FLAGS ?= -count=1 -timeout 20m

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

.PHONY: vet
vet: ## Run go vet.
	go vet ./...

.PHONY: verify-generated
verify-generated: ## Fail when generated CRDs, RBAC or deepcopy differ from the markers.
	hack/verify-generated.sh

.PHONY: control-plane
control-plane: ## Build (once) the kube-apiserver and etcd the tests use.
	$(CONTROL_PLANE)

.PHONY: test
test: verify-generated vet ## Run every test against a real kube-apiserver and etcd (built on first run).
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed on:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	KUBEBUILDER_ASSETS="$$($(CONTROL_PLANE))" go test $(GO_TEST_FLAGS) ./...

##@ Build

.PHONY: build
build: manifests generate fmt vet ## Build the manager binary into bin/manager.
	CGO_ENABLED=0 go build -trimpath -o bin/manager .

.PHONY: run
run: manifests generate fmt vet ## Run the manager against the cluster in your kubeconfig.
	go run ./main.go
