#!/bin/sh
# Installs the pylon binary for this machine from a GitHub release, verifying its SHA-256
# against the release's checksums.txt before anything is installed.
#
#   curl -fsSL https://github.com/pylon-dev/pylon/releases/latest/download/install.sh | sh
#
# Environment:
#   PYLON_REPO                 owner/name of the GitHub repository (default pylon-dev/pylon)
#   PYLON_INSTALL_URL          folder holding pylon-<os>-<arch> and checksums.txt
#                              (default https://github.com/$PYLON_REPO/releases/latest/download)
#   PYLON_INSTALL_DIR          where to put `pylon` (default /usr/local/bin if writable,
#                              else $HOME/.local/bin)
#   PYLON_INSTALL_SKIP_VERIFY  set to 1 to install without a SHA-256 tool (not recommended)
set -eu

# Placeholder: the maintainer sets the real owner/name here once (it is not pylonto/pylon,
# which is the Go implementation).
PYLON_REPO="${PYLON_REPO:-pylon-dev/pylon}"
BASE_URL="${PYLON_INSTALL_URL:-https://github.com/${PYLON_REPO}/releases/latest/download}"
BASE_URL="${BASE_URL%/}"

err() {
  printf 'Error: %s\n' "$*" >&2
  exit 1
}

warn() {
  printf 'Warning: %s\n' "$*" >&2
}

detect_os() {
  os=$(uname -s)
  case "$os" in
    Linux) echo linux ;;
    Darwin) echo darwin ;;
    *) err "Cannot install pylon: unsupported operating system \"$os\" (supported: Linux, macOS)" ;;
  esac
}

detect_arch() {
  arch=$(uname -m)
  case "$arch" in
    x86_64 | amd64) echo x64 ;;
    aarch64 | arm64) echo arm64 ;;
    *) err "Cannot install pylon: unsupported architecture \"$arch\" (supported: x86_64, arm64)" ;;
  esac
}

# download <url> <file>
download() {
  if command -v curl >/dev/null 2>&1; then
    curl -fsSL -o "$2" "$1" || err "Cannot download $1 (curl failed)"
  elif command -v wget >/dev/null 2>&1; then
    wget -qO "$2" "$1" || err "Cannot download $1 (wget failed)"
  else
    err "Cannot download pylon: neither curl nor wget is installed"
  fi
}

# sha256_of <file>: prints the lowercase hex digest, or nothing if no tool exists.
sha256_of() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum "$1" | cut -d ' ' -f 1
  elif command -v shasum >/dev/null 2>&1; then
    shasum -a 256 "$1" | cut -d ' ' -f 1
  fi
}

OS=$(detect_os)
ARCH=$(detect_arch)
ASSET="pylon-${OS}-${ARCH}"

TMP=$(mktemp -d 2>/dev/null || mktemp -d -t pylon)
INSTALL_TMP=""
cleanup() {
  rm -rf "$TMP"
  if [ -n "$INSTALL_TMP" ]; then rm -f "$INSTALL_TMP"; fi
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

echo "Downloading ${ASSET} from ${BASE_URL}"
download "${BASE_URL}/checksums.txt" "$TMP/checksums.txt"
download "${BASE_URL}/${ASSET}" "$TMP/$ASSET"

# Verify before anything touches the install folder.
ACTUAL=$(sha256_of "$TMP/$ASSET")
if [ -z "$ACTUAL" ]; then
  if [ "${PYLON_INSTALL_SKIP_VERIFY:-}" = "1" ]; then
    warn "!!! NO sha256sum OR shasum FOUND: INSTALLING ${ASSET} WITHOUT CHECKSUM VERIFICATION !!!"
    warn "!!! PYLON_INSTALL_SKIP_VERIFY=1 is set; you are trusting the download as-is       !!!"
  else
    err "Cannot verify ${ASSET}: neither sha256sum nor shasum is installed; refusing to install (set PYLON_INSTALL_SKIP_VERIFY=1 to override)"
  fi
else
  # sha256sum format: "<hex>  <file>" (a "*" before the name marks binary mode).
  EXPECTED=$(awk -v f="$ASSET" '$2 == f || $2 == "*" f { print $1; exit }' "$TMP/checksums.txt")
  if [ -z "$EXPECTED" ]; then
    err "Cannot verify ${ASSET}: it is not listed in checksums.txt; refusing to install"
  fi
  EXPECTED=$(printf '%s' "$EXPECTED" | tr 'A-F' 'a-f')
  if [ "$EXPECTED" != "$ACTUAL" ]; then
    err "checksum mismatch for ${ASSET} (expected ${EXPECTED}, got ${ACTUAL}); refusing to install"
  fi
  echo "Verified SHA-256 ${ACTUAL}"
fi

if [ -n "${PYLON_INSTALL_DIR:-}" ]; then
  DIR="$PYLON_INSTALL_DIR"
elif [ -d /usr/local/bin ] && [ -w /usr/local/bin ]; then
  DIR=/usr/local/bin
else
  [ -n "${HOME:-}" ] || err "Cannot choose an install folder: HOME is not set (set PYLON_INSTALL_DIR)"
  DIR="$HOME/.local/bin"
fi
mkdir -p "$DIR" || err "Cannot create $DIR (set PYLON_INSTALL_DIR to a writable folder)"
[ -w "$DIR" ] || err "Cannot install into $DIR: not writable (set PYLON_INSTALL_DIR or run with sudo)"

# Atomic install: copy next to the target, check that it runs, then rename over the old one
# (a binary that does not run never replaces a working pylon).
INSTALL_TMP="$DIR/.pylon.tmp.$$"
cp "$TMP/$ASSET" "$INSTALL_TMP" || err "Cannot copy pylon into $DIR"
chmod 755 "$INSTALL_TMP"
if ! VERSION_OUT=$("$INSTALL_TMP" version 2>&1); then
  err "Cannot run the downloaded pylon: \`pylon version\` failed (${VERSION_OUT}); nothing was installed"
fi
mv -f "$INSTALL_TMP" "$DIR/pylon" || err "Cannot move pylon into $DIR"
INSTALL_TMP=""

echo "Installed ${VERSION_OUT} to $DIR/pylon"

case ":${PATH:-}:" in
  *":$DIR:"*) ;;
  *)
    echo ""
    echo "$DIR is not on your PATH. Add it, e.g.:"
    echo "  export PATH=\"$DIR:\$PATH\""
    ;;
esac

if ! command -v docker >/dev/null 2>&1; then
  warn "docker was not found on PATH; pylon runs agents in Docker, so install it before \`pylon start\`"
fi
