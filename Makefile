GO      ?= go
BIN     := bin/rpcbench
PKGS    := ./...
# What 'rpcbench --version' prints; without them it falls back to the build
# information the Go toolchain records.
VERSION := $(shell git describe --tags --always --dirty 2>/dev/null)
COMMIT  := $(shell git rev-parse HEAD 2>/dev/null)
LDFLAGS := -X main.version=$(VERSION) -X main.commit=$(COMMIT) -X main.buildDate=$(shell date -u +%Y-%m-%dT%H:%M:%SZ)

.PHONY: all build test lint fuzz setup clean bench bench-quick bench-network report report-check gate gate-e2e baseline

all: build

build:
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/rpcbench

# The README's test command: vet, then every test with the race detector.
test: setup
	$(GO) vet $(PKGS)
	$(GO) test -race -timeout 9m $(PKGS)
	RPCBENCH_NETEM_TIMING=1 $(GO) test -count=1 -run '^(TestDelayRoundTrip|TestRateCap)$$' ./netem

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet $(PKGS)
	$(GO) test -count=1 ./internal/layout

# Every fuzz target in the module, FUZZTIME each.
FUZZTIME ?= 20s
fuzz:
	GO=$(GO) FUZZTIME=$(FUZZTIME) scripts/fuzz.sh

# The benchmark matrix: results/<UTC time>-default/ and results/latest.
bench: setup build
	$(BIN) bench --matrix specs/default.yaml

bench-quick: build
	$(BIN) bench --matrix specs/quick.yaml

# Every transport under each network profile, through the user-space
# network emulator (netem).
bench-network: build
	$(BIN) bench --matrix specs/network.yaml

# Re-render a run's reports from its results.json (RUN=dir, default latest).
report: build
	$(BIN) report $(or $(RUN),results/latest)

# Headless Chromium must draw every chart of report.html, and of the
# comparison page (compare --html) of the run against itself.
report-check: build
	$(BIN) report --check $(or $(RUN),results/latest)
	$(BIN) compare --html $(or $(RUN),results/latest)/compare-self.html $(or $(RUN),results/latest) $(or $(RUN),results/latest) >/dev/null
	$(BIN) report --check $(or $(RUN),results/latest)/compare-self.html

# The regression gate: the gate spec, judged against the committed baseline
# (results/baseline/README.md says how and when to re-record it).
GATE_RUN ?= results/gate
gate: build
	rm -rf $(GATE_RUN)
	$(BIN) bench --matrix specs/gate.yaml --out $(GATE_RUN) --progress never
	$(BIN) gate --baseline results/baseline --markdown $(GATE_RUN)/gate.md $(GATE_RUN)

# The gate proven both ways with real server processes: an unchanged tree
# passes, an injected delay and an injected copy per call fail.
gate-e2e:
	RPCBENCH_GATE_E2E=1 $(GO) test -count=1 -run '^TestGateEndToEnd$$' ./harness/compare

# Re-record the baseline from three fresh runs of the gate spec.
baseline: build
	rm -rf results/baseline-runs
	for i in 1 2 3; do $(BIN) bench --matrix specs/gate.yaml --out results/baseline-runs/$$i --results results/baseline-runs --progress never || exit 1; done
	$(BIN) baseline --out results/baseline results/baseline-runs/1 results/baseline-runs/2 results/baseline-runs/3

setup:
	scripts/setup.sh

clean:
	rm -rf bin
