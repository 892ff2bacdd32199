#!/usr/bin/env bash
# Puts promtool (Prometheus' rule checker) at .venv-deploy/bin/promtool for `make check-deploy`.
# A promtool on PATH is used as it is. Otherwise, as root, the Debian package "prometheus" is
# downloaded (not installed: no service is set up) and only its promtool is unpacked.
set -euo pipefail
target=".venv-deploy/bin/promtool"
[[ -x "$target" ]] && exit 0
if found=$(command -v promtool); then ln -sf "$found" "$target"; exit 0; fi
if [[ $(id -u) -ne 0 ]]; then
  echo "make check-deploy needs promtool. As root: apt-get install prometheus (Debian/Ubuntu ship" \
    "promtool with it), or put a promtool from https://prometheus.io/download/ on PATH." >&2
  exit 1
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && { apt-get download prometheus 2>/dev/null || { apt-get update -qq && apt-get download prometheus; }; })
dpkg-deb -x "$work"/prometheus_*.deb "$work/root"
install -m 0755 "$work/root/usr/bin/promtool" "$target"
"$target" --version | head -1
