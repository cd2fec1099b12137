#!/usr/bin/env bash
# Install the Debian packages briefgen needs (WeasyPrint's Pango stack, fonts,
# HarfBuzz subsetting for fast PDF font embedding) and the PostgreSQL server the tests start
# (throw-away, on 127.0.0.1; briefgen itself needs no server unless index.backend is
# postgresql). Idempotent: installs only
# what is missing, and does nothing on systems without apt-get.
set -euo pipefail
pkgs=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0 fontconfig
      fonts-dejavu-core fonts-dejavu-extra fonts-noto-core poppler-utils postgresql)
command -v dpkg-query >/dev/null 2>&1 || { echo "system-deps: no dpkg; install Pango and fonts yourself"; exit 0; }
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
  echo "system-deps: missing ${missing[*]} and no apt-get; install them yourself" >&2; exit 0
fi
sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
echo "system-deps: installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
