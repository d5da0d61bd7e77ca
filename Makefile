# phoneop Makefile. `make help` lists the targets.

IMG ?= phoneop:dev
# The Go that builds and tests phoneop. The machines' Go 1.26.8 has standard-library
# vulnerabilities the manager and the plugin reach (make vulncheck: 12, in crypto/x509,
# crypto/tls, net/http, net/textproto, html/template), fixed in later releases; the Go module
# proxy serves go1.27.3, which the go command fetches once (76 MB) and caches. It is exported
# because these machines set GOTOOLCHAIN=local, which ignores go.mod's toolchain line. Test
# equipment built from the proxy (hack/control-plane.sh, hack/cluster/binaries.sh,
# hack/tools/build.sh) keeps the machine's Go: it ships nowhere.
GO_TOOLCHAIN ?= go1.27.3
# The machine's own Go, found before GOTOOLCHAIN is exported, for that test equipment: under
# `go test` PATH starts with the test's toolchain, so the scripts cannot find it on their own
# (and a make run from a test inherits it rather than finding the test's).
ifndef PHONEOP_EQUIPMENT_GOROOT
PHONEOP_EQUIPMENT_GOROOT := $(shell GOTOOLCHAIN=local go env GOROOT)
endif
export PHONEOP_EQUIPMENT_GOROOT
export GOTOOLCHAIN := $(GO_TOOLCHAIN)
# Every tool is pinned in go.mod (`tool` directives) and run with `go tool`, so a fresh clone
# needs nothing installed by hand.
CONTROLLER_GEN ?= go tool controller-gen
# The test control plane (kube-apiserver + etcd) is built from the Go module proxy and cached
# under bin/k8s/<version>/; see hack/control-plane.sh.
CONTROL_PLANE ?= hack/control-plane.sh
GO_TEST_FLAGS ?= -count=1 -timeout 20m
# Nested modules keep their dependencies out of the operator's go.mod: the image builder
# (go-containerregistry), the release packer (hack/release: sigstore, CycloneDX), the manifest
# linter (hack/lint: OPA), govulncheck (hack/vulncheck) and the benchmark (golang.org/x/image
# for its plot). `./...` stops at a nested module, so fmt, vet and test visit each of them
# explicitly.
NESTED_MODULES ?= hack/image test/bench hack/release hack/lint hack/vulncheck

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

.PHONY: unit
unit: ## Run every test that needs no control plane (go test -short), in seconds, and print how many ran.
	@mkdir -p bin
	@NESTED_MODULES="$(NESTED_MODULES)" hack/unit.sh

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

# The Go vulnerability database, built offline from golang.org/x/vulndb's OSV reports, which
# the Go module proxy serves (docs/install.md, "Vulnerability check"). Bump the version to
# take newer reports.
VULNDB_VERSION ?= v0.0.0-20261105234957-e22db6528018
VULNDB ?= $(CURDIR)/bin/vulndb-$(VULNDB_VERSION)

.PHONY: vulncheck
vulncheck: ## Run govulncheck on the manager and the plugin against a local copy of the Go vulnerability database.
	@test -f $(VULNDB)/index/db.json || go -C hack/vulncheck run ./vulndb -version $(VULNDB_VERSION) -out $(VULNDB)
	go -C hack/vulncheck tool govulncheck -db file://$(VULNDB) -C $(CURDIR) . ./cmd/kubectl-phoneop

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

# FIPS=1 builds the manager with Go's FIPS 140-3 module (docs/security.md, "FIPS 140-3 mode"):
# v1.0.0 is the module version that went through CMVP validation; `manager --version` then
# prints fips140=true.
FIPS ?=
GOFIPS140_VERSION ?= v1.0.0
MANAGER_GOENV = $(if $(FIPS),GOFIPS140=$(GOFIPS140_VERSION))

.PHONY: image
image: ## Build the reproducible image tarball dist/phoneop-image.tar (no Docker needed; FIPS=1: FIPS 140-3 mode).
	@mkdir -p dist/image
	$(MANAGER_GOENV) CGO_ENABLED=0 GOOS=linux GOARCH=$(GOARCH) go build -trimpath -buildvcs=false -o dist/image/manager .
	@# hack/image is its own module (hack/image/go.mod), so it runs from its directory.
	SOURCE_DATE_EPOCH=$(SOURCE_DATE_EPOCH) go -C hack/image run . --binary $(CURDIR)/dist/image/manager --arch $(GOARCH) \
		--tag $(IMG) --version $(VERSION) --revision "$(REVISION)" --out $(CURDIR)/dist/phoneop-image.tar

.PHONY: chart-sync
chart-sync: manifests ## Copy the generated CRDs, manager RBAC rules and alerts into charts/phoneop.
	rm -f charts/phoneop/crds/*.yaml
	cp config/crd/bases/*.yaml charts/phoneop/crds/
	cp config/rbac/role.yaml charts/phoneop/files/manager-role.yaml
	cp config/components/namespace-scoped/cluster_role.yaml charts/phoneop/files/manager-cluster-role.yaml
	cp config/prometheus/alerts.yaml charts/phoneop/files/alerts.yaml

.PHONY: helm
helm: ## Build the pinned helm (hack/tools/go.mod) into bin/ and print its path.
	@hack/tools/build.sh helm

.PHONY: chart-package
chart-package: chart-sync ## Package the Helm chart into dist/.
	@mkdir -p dist
	"$$(hack/tools/build.sh helm)" package charts/phoneop --destination dist

##@ Release (docs/install.md, "Releases"; docs/versioning.md)

# The registry and path the release's image and chart are named for (and signed for):
# REGISTRY/phoneop:VERSION and oci://REGISTRY/charts/phoneop.
REGISTRY ?= registry.example.com/platform
# A PEM private key: cosign's own (`cosign generate-key-pair`; COSIGN_PASSWORD in the
# environment) or PKCS#8. Empty: a throw-away key, whose cosign.pub lands in dist/.
SIGNING_KEY ?=
# Where krew downloads the plugin archives from.
DOWNLOAD_BASE ?= https://github.com/phoneop/phoneop/releases/download/$(VERSION)
IMAGE_ARCHES ?= amd64 arm64
PLUGIN_PLATFORMS ?= linux/amd64 linux/arm64 darwin/amd64 darwin/arm64
RELEASE_WORK ?= $(CURDIR)/bin/release
# -s -w: no symbol table or DWARF (the manager 82 → 58 MB, the plugin 45 → 33 MB); panics
# keep their stack traces, and the build information the SBOMs and govulncheck read stays.
RELEASE_LDFLAGS = -s -w -X github.com/phoneop/phoneop/internal/graph.Version=$(VERSION) -X main.buildRevision=$(REVISION)
RELEASE_TOOL = go -C hack/release run .

.PHONY: release
release: chart-sync ## Write a release into dist/ (VERSION=vX.Y.Z): image index, SBOMs, signature, install.yaml, chart, plugin archives, krew manifest, SHA256SUMS.
	@echo '$(VERSION)' | grep -Eq '^v[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$$' || { echo "release: VERSION=$(VERSION) is not vMAJOR.MINOR.PATCH (docs/versioning.md)" >&2; exit 1; }
	rm -rf dist $(RELEASE_WORK) && mkdir -p dist $(RELEASE_WORK)
	@# The manager, once per image platform, and its image (hack/image, as make image does).
	for arch in $(IMAGE_ARCHES); do \
		$(MANAGER_GOENV) CGO_ENABLED=0 GOOS=linux GOARCH=$$arch go build -trimpath -ldflags "$(RELEASE_LDFLAGS)" -o $(RELEASE_WORK)/manager-linux-$$arch . && \
		SOURCE_DATE_EPOCH=$(SOURCE_DATE_EPOCH) go -C hack/image run . --binary $(RELEASE_WORK)/manager-linux-$$arch --arch $$arch \
			--tag $(REGISTRY)/phoneop:$(VERSION) --version $(VERSION) --revision "$(REVISION)" --out $(RELEASE_WORK)/image-$$arch.tar || exit 1; \
	done
	for p in $(PLUGIN_PLATFORMS); do \
		CGO_ENABLED=0 GOOS=$${p%/*} GOARCH=$${p#*/} go build -trimpath -ldflags "$(RELEASE_LDFLAGS)" \
			-o $(RELEASE_WORK)/kubectl-phoneop-$${p%/*}-$${p#*/} ./cmd/kubectl-phoneop || exit 1; \
	done
	$(MAKE) --no-print-directory build-installer IMG=$(REGISTRY)/phoneop:$(VERSION)
	rm -rf dist/installer
	@# The chart is packaged from a copy whose Artifact Hub image annotation names this release.
	rm -rf $(RELEASE_WORK)/chart && mkdir -p $(RELEASE_WORK)/chart && cp -R charts/phoneop $(RELEASE_WORK)/chart/
	sed -i -e 's|^\(      image: \).*|\1$(REGISTRY)/phoneop:$(VERSION)|' \
		-e '$(if $(findstring -,$(VERSION)),s|^\(  artifacthub.io/prerelease: \).*|\1"true"|)' $(RELEASE_WORK)/chart/phoneop/Chart.yaml
	"$$(hack/tools/build.sh helm)" package $(RELEASE_WORK)/chart/phoneop --version $(patsubst v%,%,$(VERSION)) --app-version $(VERSION) --destination dist
	SOURCE_DATE_EPOCH=$(SOURCE_DATE_EPOCH) $(RELEASE_TOOL) assemble -dist $(CURDIR)/dist -work $(RELEASE_WORK) \
		-version $(VERSION) -repository $(REGISTRY)/phoneop -license $(CURDIR)/LICENSE -download-base $(DOWNLOAD_BASE) \
		$(if $(SIGNING_KEY),-key $(abspath $(SIGNING_KEY))) -manager $(RELEASE_WORK)/manager-linux-amd64 \
		$(foreach a,$(IMAGE_ARCHES),-image $(RELEASE_WORK)/image-$(a).tar) \
		$(foreach p,$(PLUGIN_PLATFORMS),-plugin $(p)=$(RELEASE_WORK)/kubectl-phoneop-$(subst /,-,$(p)))
	$(RELEASE_TOOL) verify -dist $(CURDIR)/dist
	@ls -l dist

.PHONY: publish
publish: ## Push what make release wrote (REGISTRY=... VERSION=...): image index, cosign signature, SBOM referrer, chart (OCI).
	@test -f dist/phoneop-image.digest || { echo "publish: no dist/phoneop-image.digest; run make release REGISTRY=$(REGISTRY) VERSION=$(VERSION) first" >&2; exit 1; }
	$(RELEASE_TOOL) verify -dist $(CURDIR)/dist
	$(RELEASE_TOOL) publish -dist $(CURDIR)/dist -work $(RELEASE_WORK) -registry $(REGISTRY) -version $(VERSION)

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
# ADOPT=1 measures brownfield adoption instead (docs/benchmarks.md, "Adoption"): N users who
# already have phones, `kubectl phoneop export`, the export applied (ObserveOnly), all Ready
# (the issue's size is N=50000). EXPORT_ARGS go to the plugin: the default reads the
# manager's credentials (the EntraTenant's Secret).
ADOPT ?=
EXPORT_ARGS ?= --credentials-from=entratenant

# test/bench is its own module: its commands are built into bin/ and run from the repository
# root, so that their default paths (docs/benchmarks.md, bin/bench-runs/; bin/bench is the binary) stay where they were.
BENCH_BIN ?= $(CURDIR)/bin

.PHONY: bench-build
bench-build: 
	go -C test/bench build -o $(BENCH_BIN)/ ./cmd/bench ./cmd/feedbench

.PHONY: bench
bench: bench-build ## Benchmark N PhoneAuthMethods against the emulated Graph limits, after a null controller on the same objects (FIDELITY=nospace|trunk|spaced|all: Graph as observed; FEED=1: the change feed; ADOPT=1: brownfield adoption); writes docs/benchmarks.md.
ifneq ($(FEED),)
	KUBEBUILDER_ASSETS="$$($(CONTROL_PLANE))" $(BENCH_BIN)/feedbench -n $(N) $(BENCH_ARGS) \
		-command "make bench FEED=1 N=$(N)$(if $(BENCH_ARGS), BENCH_ARGS='$(BENCH_ARGS)')"
else ifneq ($(ADOPT),)
	KUBEBUILDER_ASSETS="$$($(CONTROL_PLANE))" $(BENCH_BIN)/bench -adopt -n $(N) -export-args '$(EXPORT_ARGS)' $(BENCH_ARGS) \
		-command "make bench ADOPT=1 N=$(N)$(if $(BENCH_ARGS), BENCH_ARGS='$(BENCH_ARGS)')"
else
	KUBEBUILDER_ASSETS="$$($(CONTROL_PLANE))" $(BENCH_BIN)/bench -n $(N) $(if $(FIDELITY),-fidelity $(FIDELITY)) $(BENCH_ARGS) \
		-command "make bench N=$(N)$(if $(FIDELITY), FIDELITY=$(FIDELITY))$(if $(BENCH_ARGS), BENCH_ARGS='$(BENCH_ARGS)')"
endif
