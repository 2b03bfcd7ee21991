#!/bin/sh
# make bench: time whole-process credential `get`s against the floor
# program and the peers on this machine, and print the table that
# BENCHMARKS.md quotes. Then run the Go benchmarks.
#
#   ROUNDS=400 WARMUP=20 RSS_ROUNDS=20 GO=go ./scripts/bench.sh
#   GOBENCH=0 skips the Go benchmarks. TAGS and LDFLAGS are the Makefile's
#   (make bench passes them); the defaults below match it.
#
# Needs: go. Uses when present: git, gh, and GNU time (/usr/bin/time;
# Debian: apt-get install time) for peak RSS.
set -eu

GO=${GO:-go}
ROUNDS=${ROUNDS:-400}
WARMUP=${WARMUP:-20}
RSS_ROUNDS=${RSS_ROUNDS:-20}
GOBENCH=${GOBENCH:-1}
TAGS=${TAGS-urfave_cli_no_docs}
LDFLAGS=${LDFLAGS:--s -w}

cd "$(dirname "$0")/.."
tmp=$(mktemp -d "${TMPDIR:-/tmp}/runcomfy-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

[ -x /usr/bin/time ] || echo "bench: no /usr/bin/time: peak RSS is not measured (Debian: apt-get install time)" >&2
command -v gh >/dev/null 2>&1 || echo "bench: gh is not installed: its row is left out" >&2

# The binaries as the Makefile builds them: static, stripped, same tags.
echo "bench: building into $tmp" >&2
CGO_ENABLED=0 "$GO" build -trimpath -tags "$TAGS" -ldflags "$LDFLAGS" -o "$tmp/" \
	./cmd/runcomfy ./cmd/docker-credential-runcomfy ./cmd/git-credential-runcomfy ./bench/floor
"$GO" build -o "$tmp/harness" ./bench/harness

"$tmp/harness" -bin "$tmp" -rounds "$ROUNDS" -warmup "$WARMUP" -rss-rounds "$RSS_ROUNDS"

if [ "$GOBENCH" != 0 ]; then
	echo
	echo "Go benchmarks (parsing, host checks, token resolution, login latency):"
	"$GO" test -run '^$' -bench . -benchmem -count 1 ./storage ./helper ./devicecode
fi
