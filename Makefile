# runcomfy — build, test, install. `make help` lists the targets.

PREFIX   ?= $(HOME)/.local
BINDIR   ?= $(PREFIX)/bin
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
GO       ?= go
BIN      := bin
# Static builds: no dynamic loader at start, one file to copy per binary.
export CGO_ENABLED := 0
LDFLAGS  := -s -w -X github.com/runcomfy/runcomfy/internal/version.Version=$(VERSION)
BINARIES := runcomfy docker-credential-runcomfy git-credential-runcomfy runcomfy-devserver
PLATFORMS := linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
# Leave urfave/cli's man-page generator (and its markdown parser) out of
# the binaries: `make man` builds it on its own.
TAGS     := urfave_cli_no_docs

.PHONY: all build test lint cross install uninstall clean help demo man bench fuzz

all: build

help:
	@echo "make build    build the binaries into $(BIN)/"
	@echo "make test     lint, then run every test (needs git; the browser and keyring tests need chromium and gnome-keyring)"
	@echo "make install  install runcomfy and both helpers to $(BINDIR) (PREFIX=$(PREFIX))"
	@echo "make lint     gofmt, go vet, staticcheck"
	@echo "make cross    build for linux, darwin and windows on amd64 and arm64"
	@echo "make man      generate the man page into $(BIN)/runcomfy.1"
	@echo "make demo     the whole flow offline against the dev server"
	@echo "make bench    whole-process get timings against the floor and the peers, then the Go benchmarks (BENCHMARKS.md)"
	@echo "make fuzz     run every Fuzz* target for FUZZTIME each (default 30s); new corpus entries go to testdata/fuzz/"

build:
	@mkdir -p $(BIN)
	$(GO) build -trimpath -tags '$(TAGS)' -ldflags '$(LDFLAGS)' -o $(BIN)/ $(addprefix ./cmd/,$(BINARIES))

test: lint
	$(GO) test -count=1 -timeout 20m ./...

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

cross:
	@set -e; for p in $(PLATFORMS); do \
	  echo "build $$p"; \
	  GOOS=$${p%/*} GOARCH=$${p#*/} $(GO) build -trimpath -tags '$(TAGS)' -ldflags '$(LDFLAGS)' -o /dev/null ./cmd/runcomfy; \
	  GOOS=$${p%/*} GOARCH=$${p#*/} $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o /dev/null ./cmd/docker-credential-runcomfy; \
	  GOOS=$${p%/*} GOARCH=$${p#*/} $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o /dev/null ./cmd/git-credential-runcomfy; \
	done

# The man page, generated from the urfave/cli app itself.
man:
	@mkdir -p $(BIN)
	$(GO) run ./cmd/runcomfy generate-man > $(BIN)/runcomfy.1

install: build man
	install -d $(BINDIR) $(PREFIX)/share/man/man1
	install -m 0755 $(BIN)/runcomfy $(BIN)/docker-credential-runcomfy $(BIN)/git-credential-runcomfy $(BINDIR)/
	install -m 0644 $(BIN)/runcomfy.1 $(PREFIX)/share/man/man1/

uninstall:
	rm -f $(BINDIR)/runcomfy $(BINDIR)/docker-credential-runcomfy $(BINDIR)/git-credential-runcomfy $(PREFIX)/share/man/man1/runcomfy.1

clean:
	rm -rf $(BIN)

# The README's "try it now": the whole flow against the offline dev server.
demo: build
	BIN=$(BIN) ./scripts/demo.sh

# Whole-process `get` timings against the floor program and the peers, then
# the Go benchmarks (BENCHMARKS.md); the binaries are built as `build` does.
bench:
	GO=$(GO) TAGS='$(TAGS)' LDFLAGS='$(LDFLAGS)' ./scripts/bench.sh

# Every Fuzz* target for FUZZTIME each (default 30s); the new corpus entries
# go to the package's testdata/fuzz/, where every `go test` runs them.
fuzz:
	GO=$(GO) FUZZTIME='$(FUZZTIME)' ./scripts/fuzz.sh
