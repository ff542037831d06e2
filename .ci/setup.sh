#!/usr/bin/env bash
# Set up Wirebench on a fresh Debian machine: system packages, a virtualenv in .venv,
# and the package itself. `--test` adds what the test suite needs (Xvfb, imagemagick,
# the test and build extras). Safe to run again: it installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

want_tests=0
[ "${1:-}" = "--test" ] && want_tests=1

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

# PYTHON picks the interpreter (a name on PATH, or one of pyenv's versions), VENV the
# virtualenv folder: CI runs `PYTHON=python3.13 VENV=.venv313 bash .ci/setup.sh --test`
python=${PYTHON:-python3}
venv=${VENV:-.venv}
if ! command -v "$python" >/dev/null 2>&1 || ! "$python" -c "" >/dev/null 2>&1; then
  found=""
  for candidate in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/*/bin/"$python"; do
    [ -x "$candidate" ] && found=$candidate
  done
  if [ -z "$found" ]; then
    echo "" >&2
    echo "********************************************************************" >&2
    echo "*** .ci/setup.sh: the interpreter '$python' is not on this machine." >&2
    echo "*** Install it (e.g. pyenv install 3.13) or set PYTHON to one that is." >&2
    echo "********************************************************************" >&2
    exit 1
  fi
  python=$found
fi
echo "setup.sh: $("$python" --version 2>&1) ($python) -> $venv"
pkgs=()
"$python" -c "import tkinter" 2>/dev/null || pkgs+=(python3-tk)
"$python" -c "import venv, ensurepip" 2>/dev/null || pkgs+=(python3-venv)
if [ "$want_tests" = 1 ]; then
  command -v Xvfb >/dev/null || pkgs+=(xvfb xauth)
  command -v import >/dev/null || pkgs+=(imagemagick)
  command -v xdotool >/dev/null || pkgs+=(xdotool)
  command -v curl >/dev/null || pkgs+=(curl)
  # third-party peers of the interop suite (tests/interop): program -> Debian package
  for peer in vsftpd:vsftpd dnsmasq:dnsmasq-base telnetd:inetutils-telnetd \
              telnet:inetutils-telnet postfix:postfix swaks:swaks dig:dnsutils \
              lighttpd:lighttpd socat:socat ncat:ncat openssl:openssl; do
    PATH="$PATH:/usr/sbin:/sbin" command -v "${peer%%:*}" >/dev/null || pkgs+=("${peer#*:}")
  done
  # swaks --tls needs Net::SSLeay (only recommended by the swaks package)
  perl -MNet::SSLeay -e1 2>/dev/null || pkgs+=(libnet-ssleay-perl)
fi
if [ ${#pkgs[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  # Postfix asks what to configure: nothing (the tests run private instances)
  echo "postfix postfix/main_mailer_type select No configuration" | $SUDO debconf-set-selections
  # packages with daemons must not start system services: the tests start their own
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod +x /usr/sbin/policy-rc.d
    trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${pkgs[@]}"
fi

if [ ! -x "$venv/bin/python" ]; then
  "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install -q --upgrade pip
if [ "$want_tests" = 1 ]; then
  "$venv/bin/python" -m pip install -q -e '.[test,build]'
else
  "$venv/bin/python" -m pip install -q -e .
fi
