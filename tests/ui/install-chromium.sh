#!/usr/bin/env bash
# The browser tests drive Debian's chromium (tests/ui). Install it when it is missing and
# apt-get can (root, as in CI); otherwise say so: outside CI those tests then skip.
set -u
command -v chromium >/dev/null 2>&1 && exit 0
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null && apt-get install -y -qq chromium >/dev/null && exit 0
fi
echo "chromium is not installed: the browser tests (tests/ui) will skip" >&2
exit 0
