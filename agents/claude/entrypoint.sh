#!/bin/bash
# pylon agent entrypoint: Claude Code (/usr/local/bin/pylon-entrypoint).
#
# Contract with the pylon runner (the container may run as any non-root uid):
#   PROMPT_FILE  /pylon/prompt: a read-only file holding the rendered prompt (always set)
#   PROMPT       the rendered prompt too, when it fits in one environment variable (128 KiB)
#   JOB_ID       the job id (for log lines)
#   SESSION_ID   set for follow-ups: the conversation to resume
#   PYLON_OUT    /pylon/out: result.json and events.ndjson are written here
#   PYLON_STATE  /pylon/state: kept per job and mounted again for follow-ups; holds
#                CLAUDE_CONFIG_DIR ($PYLON_STATE/claude: sessions, settings.json) and HOME
#   HOME         /pylon/state/home
#   auth         ANTHROPIC_API_KEY (or ANTHROPIC_AUTH_TOKEN / CLAUDE_CODE_OAUTH_TOKEN), or the
#                host's OAuth login: only ~/.claude/.credentials.json, mounted read-only at
#                /pylon/oauth/.credentials.json, and ~/.claude.json at /pylon/oauth.json (never
#                the rest of ~/.claude: other projects' transcripts); both are copied into
#                CLAUDE_CONFIG_DIR
#   NODE_EXTRA_CA_CERTS  an extra CA bundle (the runner mounts it at /pylon/ca.pem)
#   PYLON_AGENT_ARGS  a JSON array of extra CLI arguments: the pylon's agent settings (--model,
#                --tools, --disallowedTools, --mcp-config /pylon/mcp.json, agent.args, ...);
#                with --permission-mode among them, permissions are not skipped
#   tool approval (agent.approve_tools; mounted by the daemon, nothing to do here):
#                /etc/claude-code/managed-settings.json (read-only) runs the PreToolUse hook
#                /pylon/approval/pylon-approve.mjs (read-only, with its config and the
#                daemon's decisions); the hook writes requests into /pylon/tool-requests
#   PYLON_AGENT_URL, PYLON_AGENT_TOKEN  workspace.push: the workspace's git credential helper
#                (/usr/local/lib/pylon/pylon-init.mjs credential) asks the daemon for the push
#                credential with these; nothing to do here
# The workspace is the working directory (/workspace). Exit status: 0 when the agent completed,
# non-zero when it failed; result.json says why.
set -euo pipefail

HELPER=/usr/local/lib/pylon/pylon-claude.mjs
export PYLON_OUT="${PYLON_OUT:-/pylon/out}"
export PYLON_STATE="${PYLON_STATE:-/pylon/state}"
export HOME="${HOME:-$PYLON_STATE/home}"
export CLAUDE_CONFIG_DIR="${CLAUDE_CONFIG_DIR:-$PYLON_STATE/claude}"
# No auto-updater, telemetry or surveys inside a throwaway container.
export DISABLE_AUTOUPDATER=1
export CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC="${CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC:-1}"

JOB_SHORT="${JOB_ID:-}"
JOB_SHORT="${JOB_SHORT:0:8}"
log() { printf '[pylon-agent] [%s] %s\n' "$JOB_SHORT" "$*" >&2; }
fail() { # fail <exit code> <message>: result.json + exit
  log "$2"
  exec node "$HELPER" fail "$1" "$2"
}

mkdir -p "$PYLON_OUT" "$HOME" "$CLAUDE_CONFIG_DIR" 2>/dev/null ||
  { echo "[pylon-agent] Cannot create $PYLON_OUT, $HOME or $CLAUDE_CONFIG_DIR" >&2; exit 70; }
{ [ -n "${PROMPT:-}" ] || [ -s "${PROMPT_FILE:-}" ]; } ||
  fail 2 "The prompt is empty: set agent.prompt in pylon.yaml"

# CA certificates baked into the image at build time, when the runner passes none.
if [ -z "${NODE_EXTRA_CA_CERTS:-}" ] && [ -n "$(ls -A /usr/local/share/ca-certificates/pylon 2>/dev/null)" ]; then
  export NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
fi

# Auth. OAuth: copy the host's credentials into this job's state; a copy refreshed by an earlier
# run of the same job is kept unless the host's file is newer.
copy_credential() { # copy_credential <src> <dst>
  if [ -f "$1" ] && { [ ! -e "$2" ] || [ "$1" -nt "$2" ]; }; then
    cp "$1" "$2" && chmod 600 "$2"
  fi
}
if [ -n "${ANTHROPIC_API_KEY:-}" ]; then
  # A copy of an OAuth session an earlier run kept in this state is not needed (and, behind
  # pylon's model gateway, must not stay in the container).
  rm -f "$CLAUDE_CONFIG_DIR/.credentials.json"
  log "using API key auth"
elif [ -n "${ANTHROPIC_AUTH_TOKEN:-}" ] || [ -n "${CLAUDE_CODE_OAUTH_TOKEN:-}" ]; then
  log "using token auth"
elif [ -e /pylon/oauth/.credentials.json ] || [ -e /pylon/oauth.json ]; then
  copy_credential /pylon/oauth/.credentials.json "$CLAUDE_CONFIG_DIR/.credentials.json"
  copy_credential /pylon/oauth.json "$CLAUDE_CONFIG_DIR/.claude.json"
  [ -f "$CLAUDE_CONFIG_DIR/.credentials.json" ] ||
    fail 1 "No OAuth credentials: the host's ~/.claude has no .credentials.json (on macOS they live in the keychain: run \`claude setup-token\` and pass CLAUDE_CODE_OAUTH_TOKEN, or use auth: api_key)"
  log "using OAuth session"
else
  log "no credentials found (ANTHROPIC_API_KEY, CLAUDE_CODE_OAUTH_TOKEN or /pylon/oauth/.credentials.json); trying anyway"
fi

# Tool events: PostToolUse(Failure) hooks in the job's own settings.json (never in the workspace).
node "$HELPER" settings "$CLAUDE_CONFIG_DIR/settings.json" ||
  fail 70 "Cannot write $CLAUDE_CONFIG_DIR/settings.json"

# Commits need an identity; a uid without a passwd entry has none.
if ! git config user.email >/dev/null 2>&1; then
  git config --global user.name "${GIT_AUTHOR_NAME:-pylon}" || true
  git config --global user.email "${GIT_AUTHOR_EMAIL:-pylon@localhost}" || true
fi
# A workspace owned by another uid (mounted from the host) is still this job's repo.
git config --global --get-all safe.directory 2>/dev/null | grep -qx '\*' ||
  git config --global --add safe.directory '*' || true

# The pylon's agent settings, one argument per NUL-terminated item (JSON parsed by node, never
# by the shell).
extra=()
if [ -n "${PYLON_AGENT_ARGS:-}" ]; then
  node -e 'const a = JSON.parse(process.env.PYLON_AGENT_ARGS);
    if (!Array.isArray(a)) throw new TypeError("not an array");
    for (const v of a) process.stdout.write(String(v) + "\0");' >/tmp/pylon-agent-args ||
    fail 2 "PYLON_AGENT_ARGS is not a JSON array of arguments"
  mapfile -d '' -t extra </tmp/pylon-agent-args
fi
permissions=(--dangerously-skip-permissions)
for a in "${extra[@]}"; do
  [ "$a" != --permission-mode ] || permissions=()
done

# The helper passes the prompt ($PROMPT_FILE, else $PROMPT) on stdin.
args=(-p --output-format json "${permissions[@]}")
if [ -n "${SESSION_ID:-}" ]; then
  args+=(--resume "$SESSION_ID")
  log "resuming session $SESSION_ID"
fi
args+=("${extra[@]}")
# Claude Code refuses to skip permissions as root unless told it runs in a sandbox.
[ "$(id -u)" != 0 ] || export IS_SANDBOX=1

log "starting claude $(claude --version 2>/dev/null | head -n1)"
exec node "$HELPER" run -- claude "${args[@]}"
