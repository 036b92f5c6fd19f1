#!/usr/bin/env bash
# Runs the whole test suite: formatting, lints, and every test of every crate.
# Installs what the tests need on a fresh machine.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/entente-target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

# Chart rendering needs a TrueType font (Debian's image usually has it).
if [ ! -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] && command -v apt-get >/dev/null; then
  echo "== installing fonts-dejavu-core"
  apt-get update -qq && apt-get install -y -qq fonts-dejavu-core >/dev/null
fi

# Wireshark's DIS dissector decodes the exercise's DIS traffic in the interop tests.
if ! command -v tshark >/dev/null && command -v apt-get >/dev/null; then
  echo "== installing tshark"
  export DEBIAN_FRONTEND=noninteractive
  echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
  apt-get update -qq && apt-get install -y -qq --no-install-recommends tshark >/dev/null
fi
# The console's browser tests (crates/entente/tests/it/console_browser.rs) drive Debian's chromium
# with Playwright; Playwright's own browser downloads are never used.
export ENTENTE_CHROMIUM="${ENTENTE_CHROMIUM:-/usr/bin/chromium}"
if [ ! -x "$ENTENTE_CHROMIUM" ] && command -v apt-get >/dev/null; then
  echo "== installing chromium"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
fi
# The federation clock-skew test runs nodes under libfaketime (an offset on the wall clock).
export ENTENTE_FAKETIME_LIB="${ENTENTE_FAKETIME_LIB:-/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1}"
if [ ! -f "$ENTENTE_FAKETIME_LIB" ] && command -v apt-get >/dev/null; then
  echo "== installing libfaketime"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends libfaketime >/dev/null
fi

# Independent clients the interop tests drive, in a virtualenv kept outside the clone.
venv="${ENTENTE_VENV:-$HOME/.cache/entente-venv}"
if ! cmp -s scripts/python-requirements.txt "$venv/installed-requirements.txt"; then
  echo "== installing the Python test clients into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r scripts/python-requirements.txt
  cp scripts/python-requirements.txt "$venv/installed-requirements.txt"
fi
export ENTENTE_STIX_VALIDATOR="$venv/bin/stix2_validator"
# The independent audit-proof verifier (crates/entente/tests/it/rfc9162_verify.py) needs only the
# standard library; run it with the venv's interpreter so one Python serves every test.
export ENTENTE_PYTHON="$venv/bin/python"

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets --quiet -- -D warnings
echo "== cargo test"
cargo test --workspace --quiet
