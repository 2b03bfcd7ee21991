#!/bin/sh
# make demo: the whole flow offline. Builds everything, starts the dev
# server on loopback (auto-approve: no person needed), signs in against it,
# and shows whoami, a docker get, a git credential fill and logout — in a
# throwaway config dir, so your real token is never touched.
set -eu
cd "$(dirname "$0")/.."
BIN=${BIN:-bin}
case $BIN in /*) ;; *) BIN=$PWD/$BIN ;; esac
demo=$(mktemp -d "${TMPDIR:-/tmp}/runcomfy-demo.XXXXXX")
server_pid=
cleanup() {
	[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
	rm -rf "$demo"
}
trap cleanup EXIT INT TERM

if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then
	step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
else
	step() { printf '\n$ %s\n' "$*"; }
fi

"$BIN/runcomfy-devserver" -addr 127.0.0.1:0 -addr-file "$demo/addr" -auto-approve -interval 1 2>"$demo/server.log" &
server_pid=$!
i=0
while [ ! -s "$demo/addr" ]; do
	i=$((i + 1))
	if [ "$i" -gt 100 ]; then echo "demo: the dev server did not start:"; cat "$demo/server.log"; exit 1; fi
	sleep 0.1
done

export RUNCOMFY_WEB_BASE="http://$(cat "$demo/addr")"
export RUNCOMFY_CONFIG_DIR="$demo/config"
export PATH="$BIN:$PATH"
unset RUNCOMFY_TOKEN
# A throwaway git and docker config, so yours are not touched either.
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL="$demo/gitconfig" GIT_TERMINAL_PROMPT=0
export DOCKER_CONFIG="$demo/docker"

echo "Dev server at $RUNCOMFY_WEB_BASE (auto-approve mode: every code is approved for you)."
echo "Config dir: $RUNCOMFY_CONFIG_DIR"

step runcomfy login --no-browser
runcomfy login --no-browser

step runcomfy whoami
runcomfy whoami

step runcomfy setup-git
runcomfy setup-git

step runcomfy setup-docker
runcomfy setup-docker
cat "$DOCKER_CONFIG/config.json"

step runcomfy status
runcomfy status

step "echo $RUNCOMFY_WEB_BASE | docker-credential-runcomfy get"
echo "$RUNCOMFY_WEB_BASE" | docker-credential-runcomfy get

step "printf 'url=$RUNCOMFY_WEB_BASE\\\\n\\\\n' | git credential fill"
printf 'url=%s\n\n' "$RUNCOMFY_WEB_BASE" | git credential fill

step runcomfy logout
runcomfy logout

step runcomfy whoami
runcomfy whoami || echo "(exit $?: signed out)"
