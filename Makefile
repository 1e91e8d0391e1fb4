GO      ?= go
BIN     := bin/rpcbench
PKGS    := ./...

.PHONY: all build test lint fuzz setup clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/rpcbench

# The README's test command: vet, then every test with the race detector.
test:
	$(GO) vet $(PKGS)
	$(GO) test -race -timeout 9m $(PKGS)

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet $(PKGS)

FUZZTIME ?= 20s
fuzz:
	$(GO) test ./wire -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME)
	$(GO) test ./codecs -run '^$$' -fuzz '^FuzzBinaryUnmarshal$$' -fuzztime $(FUZZTIME)

setup:
	scripts/setup.sh

clean:
	rm -rf bin
