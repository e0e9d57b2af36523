#!/bin/bash
# pylon agent entrypoint: OpenCode (/usr/local/bin/pylon-entrypoint).
#
# Contract with the pylon runner (the container may run as any non-root uid):
#   PROMPT_FILE  /pylon/prompt: a read-only file holding the rendered prompt (always set)
#   PROMPT       the rendered prompt too, when it fits in one environment variable (128 KiB)
#   JOB_ID       the job id (for log lines)
#   SESSION_ID   set for follow-ups: the session to continue (`opencode run --session`)
#   PYLON_OUT    /pylon/out: result.json and events.ndjson are written here
#   PYLON_STATE  /pylon/state: kept per job and mounted again for follow-ups; holds OpenCode's
#                XDG data/config/state folders ($PYLON_STATE/opencode/…) and HOME
#   HOME         /pylon/state/home
#   auth         <PROVIDER>_API_KEY + OPENCODE_PROVIDER (anthropic, openai, google), or nothing
#                for OpenCode Zen. OPENCODE_MODEL (provider/model) picks a model. Behind pylon's
#                model API gateway: ANTHROPIC_BASE_URL (the gateway's URL of this job) and
#                ANTHROPIC_API_KEY (the job's token, not the real key); opencode.json then points
#                the anthropic provider at "$ANTHROPIC_BASE_URL/v1"
#   PYLON_AGENT_ARGS  a JSON array of extra `opencode run` arguments (agent.args)
#   PYLON_APPEND_SYSTEM_PROMPT  agent.append_system_prompt: written beside opencode.json and named
#                in its `instructions` (the helper's config step)
#   PYLON_MAX_TURNS  agent.max_turns: the helper's config step gives the build agent `steps` one
#                past it and writes a plugin refusing tool calls past it; the helper stops a run
#                that goes on and fails it with the limit's reason
#   PYLON_MAX_COST_USD  agent.max_cost_usd: the helper stops the run once the cost OpenCode reports
#                for its turns reaches it, and fails it with the budget's reason
#   OPENCODE_PERMISSION  agent.allowed_tools / disallowed_tools as OpenCode's permission map (read
#                by OpenCode itself, the last permission layer it applies)
#   /pylon/mcp.json  agent.mcp_servers as OpenCode's {"mcp": …} (0600, read-only, secrets
#                expanded): the helper passes it to `opencode run` in OPENCODE_CONFIG_CONTENT
#   NODE_EXTRA_CA_CERTS  an extra CA bundle (the runner mounts it at /pylon/ca.pem)
#   PYLON_AGENT_URL, PYLON_AGENT_TOKEN  workspace.push: the workspace's git credential helper
#                (/usr/local/lib/pylon/pylon-init.mjs credential) asks the daemon for the push
#                credential with these; nothing to do here
# The workspace is the working directory (/workspace). Exit status: 0 when the agent completed,
# non-zero when it failed; result.json says why.
set -euo pipefail

HELPER=/usr/local/lib/pylon/pylon-opencode.mjs
export PYLON_OUT="${PYLON_OUT:-/pylon/out}"
export PYLON_STATE="${PYLON_STATE:-/pylon/state}"
export HOME="${HOME:-$PYLON_STATE/home}"
export XDG_DATA_HOME="$PYLON_STATE/opencode/data"
export XDG_CONFIG_HOME="$PYLON_STATE/opencode/config"
export XDG_STATE_HOME="$PYLON_STATE/opencode/state"
# Caches (downloaded tools, npm) are not session state: keep them out of the job's folder.
export XDG_CACHE_HOME="${XDG_CACHE_HOME:-/tmp/opencode-cache}"
export OPENCODE_DISABLE_AUTOUPDATE=1

JOB_SHORT="${JOB_ID:-}"
JOB_SHORT="${JOB_SHORT:0:8}"
log() { printf '[pylon-agent] [%s] %s\n' "$JOB_SHORT" "$*" >&2; }
fail() { # fail <exit code> <message>: result.json + exit
  log "$2"
  exec node "$HELPER" fail "$1" "$2"
}

mkdir -p "$PYLON_OUT" "$HOME" "$XDG_DATA_HOME" "$XDG_CONFIG_HOME/opencode" "$XDG_STATE_HOME" \
  "$XDG_CACHE_HOME" 2>/dev/null ||
  { echo "[pylon-agent] Cannot create the folders under $PYLON_OUT and $PYLON_STATE" >&2; exit 70; }
{ [ -n "${PROMPT:-}" ] || [ -s "${PROMPT_FILE:-}" ]; } ||
  fail 2 "The prompt is empty: set agent.prompt in pylon.yaml"

# CA certificates baked into the image at build time, when the runner passes none.
if [ -z "${NODE_EXTRA_CA_CERTS:-}" ] && [ -n "$(ls -A /usr/local/share/ca-certificates/pylon 2>/dev/null)" ]; then
  export NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
fi

provider="${OPENCODE_PROVIDER:-}"
case "$provider" in
  "") log "using OpenCode's default provider (Zen without a key)" ;;
  google)
    # pylon passes GOOGLE_API_KEY; OpenCode reads Google's key from this name.
    if [ -z "${GOOGLE_GENERATIVE_AI_API_KEY:-}" ] && [ -n "${GOOGLE_API_KEY:-}" ]; then
      export GOOGLE_GENERATIVE_AI_API_KEY="$GOOGLE_API_KEY"
    fi
    log "using provider google" ;;
  *) log "using provider $provider" ;;
esac
node "$HELPER" config "$XDG_CONFIG_HOME/opencode/opencode.json" ||
  fail 70 "Cannot write $XDG_CONFIG_HOME/opencode/opencode.json"

# Commits need an identity; a uid without a passwd entry has none.
if ! git config user.email >/dev/null 2>&1; then
  git config --global user.name "${GIT_AUTHOR_NAME:-pylon}" || true
  git config --global user.email "${GIT_AUTHOR_EMAIL:-pylon@localhost}" || true
fi
# A workspace owned by another uid (mounted from the host) is still this job's repo.
git config --global --get-all safe.directory 2>/dev/null | grep -qx '\*' ||
  git config --global --add safe.directory '*' || true

# --auto: approve every permission request (nobody is there to answer). The helper passes
# the prompt ($PROMPT_FILE, else $PROMPT) on stdin.
args=(run --format json --auto)
[ -z "${OPENCODE_MODEL:-}" ] || args+=(--model "$OPENCODE_MODEL")
if [ -n "${SESSION_ID:-}" ]; then
  args+=(--session "$SESSION_ID")
  log "continuing session $SESSION_ID"
fi
# agent.args, one argument per NUL-terminated item (JSON parsed by node, never by the shell).
if [ -n "${PYLON_AGENT_ARGS:-}" ]; then
  node -e 'const a = JSON.parse(process.env.PYLON_AGENT_ARGS);
    if (!Array.isArray(a)) throw new TypeError("not an array");
    for (const v of a) process.stdout.write(String(v) + "\0");' >/tmp/pylon-agent-args ||
    fail 2 "PYLON_AGENT_ARGS is not a JSON array of arguments"
  mapfile -d '' -t extra </tmp/pylon-agent-args
  args+=("${extra[@]}")
fi

log "starting opencode $(opencode --version 2>/dev/null | head -n1)"
exec node "$HELPER" run -- opencode "${args[@]}"
