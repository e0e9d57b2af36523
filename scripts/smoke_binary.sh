#!/bin/sh
# Smoke test of a built `pylon` binary, run by the release workflow on the linux-x64 build
# (the one place the compiled binary runs: the embedded agent files, node:sqlite and every npm
# dependency inside it break there or nowhere). On a temporary PYLON_HOME it starts the daemon,
# sends a signed webhook to a hand-written pylon (and an unsigned one, which must be refused),
# reads the job back with `pylon jobs --json`, approves it, logs in to the web dashboard through
# `pylon dashboard`'s link, starts `pylon nexus --help`, and runs `pylon doctor --offline`. Any
# failure exits non-zero and prints the daemon log.
#
#   scripts/smoke_binary.sh dist/pylon-linux-x64 [port]
set -eu

bin="$1"
port="${2:-18080}"
case "$bin" in /*) ;; *) bin="$PWD/$bin" ;; esac

home="$(mktemp -d)"
log="$home/daemon.log"
daemon_pid=""
cleanup() {
  status=$?
  if [ -n "$daemon_pid" ]; then kill "$daemon_pid" 2>/dev/null || true; wait "$daemon_pid" 2>/dev/null || true; fi
  if [ "$status" -ne 0 ]; then
    echo "--- daemon log ---"
    cat "$log" 2>/dev/null || true
  fi
  rm -rf "$home"
  exit "$status"
}
trap cleanup EXIT INT TERM

fail() {
  echo "smoke test FAILED: $*" >&2
  exit 1
}

export PYLON_HOME="$home"
secret="smoke-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"

mkdir -p "$home/pylons/smoke"
cat >"$home/pylons/smoke/pylon.yaml" <<'YAML'
name: smoke
description: "Release smoke test"
trigger:
  type: webhook
  path: /smoke
  secret: "${SMOKE_SECRET}"
  signature_header: X-Hub-Signature-256
workspace:
  type: none
channel:
  type: stdout
  # The job waits for approval, so no agent image is needed to see it stored.
  approval: true
agent:
  # A custom agent: doctor then needs no Claude/OpenCode login on the release runner.
  type: custom
  image: busybox:1.36
  command: ["sh", "-c", "cat \"$PROMPT_FILE\""]
  prompt: "Smoke test: {{ .body.message }}"
  timeout: 1m
YAML
printf 'SMOKE_SECRET=%s\n' "$secret" >"$home/pylons/smoke/.env"
chmod 600 "$home/pylons/smoke/.env"

"$bin" version
"$bin" list

"$bin" start --host 127.0.0.1 --port "$port" >"$log" 2>&1 &
daemon_pid=$!
i=0
until curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; do
  i=$((i + 1))
  [ "$i" -le 60 ] || fail "the daemon did not answer /healthz within 30 s"
  kill -0 "$daemon_pid" 2>/dev/null || fail "the daemon exited"
  sleep 0.5
done
echo "daemon up on port $port"

body='{"message":"hello from the release workflow"}'
sig="sha256=$(printf '%s' "$body" | openssl dgst -sha256 -hmac "$secret" | sed 's/^.* //')"

code="$(curl -sS -o "$home/unsigned.json" -w '%{http_code}' -X POST \
  -H 'content-type: application/json' --data "$body" "http://127.0.0.1:$port/smoke")"
[ "$code" = 401 ] || fail "an unsigned webhook got $code, expected 401: $(cat "$home/unsigned.json")"

code="$(curl -sS -o "$home/signed.json" -w '%{http_code}' -X POST \
  -H 'content-type: application/json' -H "X-Hub-Signature-256: $sig" \
  --data "$body" "http://127.0.0.1:$port/smoke")"
[ "$code" = 202 ] || fail "the signed webhook got $code, expected 202: $(cat "$home/signed.json")"
job_id="$(jq -r '.job_id' "$home/signed.json")"
status="$(jq -r '.status' "$home/signed.json")"
[ "$status" = awaiting_approval ] || fail "the job is $status, expected awaiting_approval"
echo "job $job_id accepted ($status)"

"$bin" jobs --json >"$home/jobs.json"
jq -e --arg id "$job_id" \
  'map(select(.id == $id and .pylon == "smoke" and .status == "awaiting_approval")) | length == 1' \
  "$home/jobs.json" >/dev/null || fail "pylon jobs --json does not list job $job_id: $(cat "$home/jobs.json")"
echo "pylon jobs --json lists it"

"$bin" approve "$job_id" >/dev/null || fail "pylon approve $job_id exited $?"
"$bin" jobs --json >"$home/jobs.json"
jq -e --arg id "$job_id" 'map(select(.id == $id and .status != "awaiting_approval")) | length == 1' \
  "$home/jobs.json" >/dev/null || fail "pylon approve left job $job_id waiting: $(cat "$home/jobs.json")"
echo "pylon approve released it"

# The dashboards' code is only reachable in the binary through these: the web pages (embedded
# assets) and the terminal UI (Ink, React, their optional imports).
"$bin" dashboard --no-open >"$home/dashboard.txt" || fail "pylon dashboard exited $?"
grep -q "/dashboard/login?code=" "$home/dashboard.txt" || fail "no login link: $(cat "$home/dashboard.txt")"
link="$(grep -o 'http://[^ ]*/dashboard/login?code=[A-Za-z0-9_-]*' "$home/dashboard.txt" | head -n1)"
page="$(curl -sS -c "$home/cookies" -L "$link")" || fail "the login link did not answer"
printf '%s' "$page" | grep -q "$job_id" || printf '%s' "$page" | grep -q "smoke" ||
  fail "the dashboard after login shows neither the pylon nor the job"
echo "pylon dashboard logs in and serves the pages"
"$bin" nexus --help >/dev/null || fail "pylon nexus --help exited $?"

"$bin" doctor --offline || fail "pylon doctor --offline exited $?"
# The WAL checkpointer runs in a worker, whose module `deno compile` must have been told about.
if grep -q "store.checkpointer_failed" "$log"; then fail "the WAL checkpointer's worker did not start"; fi

echo "smoke test passed"
