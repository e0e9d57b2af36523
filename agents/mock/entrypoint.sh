#!/bin/sh
# pylon TEST agent entrypoint (/usr/local/bin/pylon-entrypoint). FOR TESTS ONLY: it evaluates
# the prompt as a shell script — whoever writes the prompt runs code in the container.
#
# Same contract as the real agents: PROMPT_FILE (/pylon/prompt, always) and PROMPT (when the
# prompt fits in one environment variable, 128 KiB), JOB_ID, SESSION_ID (follow-ups),
# PYLON_OUT (/pylon/out: result.json, events.ndjson), PYLON_STATE (/pylon/state), HOME,
# working directory /workspace. The script's exit status is the container's.
#
# Example prompt:
#   echo working; printf '{"status":"completed","result":"done"}' > "$PYLON_OUT/result.json"
if [ -z "${PROMPT:-}" ] && [ -n "${PROMPT_FILE:-}" ] && [ -r "$PROMPT_FILE" ]; then
  PROMPT=$(cat "$PROMPT_FILE")
fi
if [ -z "${PROMPT:-}" ]; then
  echo "[mock-agent] PROMPT is empty" >&2
  exit 2
fi
export PYLON_OUT="${PYLON_OUT:-/pylon/out}"
export PYLON_STATE="${PYLON_STATE:-/pylon/state}"
mkdir -p "$PYLON_OUT" "${HOME:-/tmp}" 2>/dev/null
eval "$PROMPT"
