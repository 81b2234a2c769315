#!/usr/bin/env bash
# Installs the system packages a command needs, only those that are missing, from
# Debian's (or Ubuntu's) package manager. `make demo` and `make test` call it, and so
# does CI through `make test`.
#
#   scripts/system-packages.sh demo   Java 17 (Spark)
#   scripts/system-packages.sh test   Java 17, and Chromium, its driver and a CJK font
#                                     for the report's browser tests, and PostgreSQL
#                                     for the workbench's database tests
#
# Installing needs root, or sudo without a password; without either it stops with one
# line naming the packages and the command to run.
set -euo pipefail

purpose=${1:-test}
missing=()

need_command() {  # need_command <command> <package>
  command -v "$1" >/dev/null 2>&1 || missing+=("$2")
}

need_package() {  # need_package <package>: a package with no command of its own (a font)
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed" || missing+=("$1")
}

need_command java openjdk-17-jre-headless
case "$purpose" in
  demo) ;;
  test)
    # The browser tests drive /usr/bin/chromium through /usr/bin/chromedriver (no download).
    [ -x /usr/bin/chromium ] || missing+=(chromium)
    [ -x /usr/bin/chromedriver ] || missing+=(chromium-driver)
    need_package fonts-noto-cjk
    # The workbench tests start a throwaway cluster with its initdb (tests/workbench/conftest.py).
    compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)
    ;;
  *) echo "usage: $0 demo|test" >&2; exit 2 ;;
esac

[ ${#missing[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
  echo "missing system packages: ${missing[*]} (install them with your package manager; Debian's names)" >&2
  exit 1
fi
if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  as_root=(sudo -n)
else
  echo "missing system packages: ${missing[*]}; as root run: apt-get update && apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "installing system packages: ${missing[*]}"
"${as_root[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
