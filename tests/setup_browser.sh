#!/usr/bin/env bash
# Install Debian's chromium for the browser tests when we can (root with apt).
# Under CI (CI=true) a missing browser is an error; elsewhere the browser tests skip with a notice.
set -u
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian's chromium for the browser tests ..."
  if DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null 2>&1 \
     || { apt-get update -qq >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null 2>&1; }; then
    exit 0
  fi
fi
if [ "${CI:-}" = "true" ]; then
  echo "error: /usr/bin/chromium is missing and could not be installed; CI needs it for the browser tests" >&2
  exit 1
fi
echo "notice: /usr/bin/chromium is missing (install Debian's chromium package); browser tests will be skipped" >&2
