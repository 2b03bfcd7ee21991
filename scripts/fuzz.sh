#!/bin/sh
# make fuzz: run every Fuzz* target of the module for FUZZTIME each
# (default 30s), one after the other, and keep what they found.
#
#   FUZZTIME=5m ./scripts/fuzz.sh                 every target, 5 minutes each
#   ./scripts/fuzz.sh FuzzParseGit FuzzAllowURL   only these
#   FUZZ_SAVE=0 FUZZTIME=3s ./scripts/fuzz.sh     CI: short runs, tree untouched
#
# Go keeps the inputs that found new code paths in its cache
# ($(go env GOCACHE)/fuzz/<package>/<FuzzName>/), where no one else sees
# them. With FUZZ_SAVE=1 (the default) the new ones are copied into the
# package's testdata/fuzz/<FuzzName>/, so that every later `go test` runs
# them as seeds. A failing input is written there by go test itself; the
# script goes on with the other targets and exits 1 at the end.
set -eu
cd "$(dirname "$0")/.."

FUZZTIME=${FUZZTIME:-30s}
FUZZ_SAVE=${FUZZ_SAVE:-1}
GO=${GO:-go}
cache=$($GO env GOCACHE)/fuzz

# Packages with fuzz targets: found in the test files, so that packages
# whose TestMain does real work (e2e builds every binary) are not run
# just to list nothing.
pkgs=$(find . -name '*_test.go' -not -path './.git/*' -exec grep -l '^func Fuzz[A-Za-z0-9_]*(' {} + |
	xargs -n1 dirname | sed 's|^\./||' | sort -u)

failed=""
ran=0
for dir in $pkgs; do
	pkg=$($GO list "./$dir")
	for name in $($GO test -list '^Fuzz' "./$dir" | grep '^Fuzz' || true); do
		if [ $# -gt 0 ]; then
			case " $* " in *" $name "*) ;; *) continue ;; esac
		fi
		ran=$((ran + 1))
		echo "== $pkg $name ($FUZZTIME)"
		if ! $GO test -run '^$' -fuzz "^$name\$" -fuzztime "$FUZZTIME" "./$dir"; then
			failed="$failed $pkg.$name"
		fi
		if [ "$FUZZ_SAVE" = 1 ] && [ -d "$cache/$pkg/$name" ]; then
			dst="$dir/testdata/fuzz/$name"
			mkdir -p "$dst"
			new=0
			# Entries are named by the hash of their content: a name
			# already in testdata is the same input.
			for f in "$cache/$pkg/$name"/*; do
				[ -f "$f" ] || continue
				if [ ! -e "$dst/$(basename "$f")" ]; then
					cp "$f" "$dst/"
					new=$((new + 1))
				fi
			done
			echo "   $new new corpus entries in $dst"
		fi
	done
done

if [ "$ran" = 0 ]; then
	echo "fuzz: no Fuzz target matched: $*" >&2
	exit 1
fi
if [ -n "$failed" ]; then
	echo "fuzz: failing inputs were written to testdata/fuzz/ of:$failed" >&2
	exit 1
fi
echo "fuzz: $ran targets, $FUZZTIME each, no failure"
