#!/bin/sh
# Makes sure Debian's Chromium is installed: the tests open the pages we build (the conformance
# report) in a real browser, driven by playwright-core, which downloads no browser of its own.
set -eu
if command -v chromium >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "browser: installing Debian's chromium package" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null 2>&1 || {
    apt-get update -qq >/dev/null 2>&1
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  }
  exit 0
fi
echo "browser: chromium is needed for the browser tests; install it (Debian: apt-get install chromium)" >&2
exit 1
