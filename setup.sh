#!/usr/bin/env bash
# recette setup: the Debian packages the lab and checks need, then recette itself in .venv.
# Idempotent; run as root. Usage: ./setup.sh
set -euo pipefail
cd "$(dirname "$0")"

say() { printf 'setup: %s\n' "$*" >&2; }

if [ "$(id -u)" != 0 ]; then
  say "run as root (sudo ./setup.sh): it installs Debian packages and the lab needs root"
  exit 2
fi

# kamailio: the operator's registrar in the lab; sip-tester: SIPp, the independent SIP peer;
# nftables + conntrack + iproute2: the lab router; openssh-server: the router's SSH (audit);
# tshark: captures; nmap: the port-scan baseline the firewall benchmark compares against;
# rtpengine-daemon: the field lab's media relay (run by the lab in a namespace, userspace only;
# the package's own service is not used). gcc + python3-dev: the media engine's per-packet
# work in C (sip_checks/toolkit/_rtpcore.c, built by pip; without it calls cost twice the CPU).
# tftpd-hpa: the lab IPBX's phone provisioning (run by the lab in a namespace; the package's own
# service is stopped when this script installs it); sipvicious: svmap/svwar, the attacker's
# tools the lab's IPBX tests and the exposure bench compare against.
PKGS=(kamailio sip-tester rtpengine-daemon tshark nftables conntrack iproute2 openssh-server
      nmap util-linux libcap2-bin passwd postgresql chromium chromium-driver poppler-utils
      fonts-dejavu-core python3-venv gcc libc6-dev python3-dev tftpd-hpa sipvicious)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  say "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  if [[ " ${missing[*]} " == *" tftpd-hpa "* ]] && command -v systemctl >/dev/null 2>&1; then
    # Its service would serve /srv/tftp on every address of this machine: the lab needs none.
    systemctl disable --now tftpd-hpa >/dev/null 2>&1 || true
    say "stopped and disabled the tftpd-hpa service (the lab runs its own tftpd)"
  fi
else
  say "Debian packages already present"
fi

pick_python() {
  for c in "${PYTHON:-}" python3.13 python3.12 python3.11 python3; do
    [ -n "$c" ] || continue
    command -v "$c" >/dev/null 2>&1 || continue
    if "$c" -c 'import sys, venv; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      echo "$c"; return 0
    fi
  done
  return 1
}
py=$(pick_python) || { say "no Python >= 3.11 with venv found (set PYTHON=...)"; exit 2; }

if [ ! -x .venv/bin/python ]; then
  say "creating .venv with $($py --version)"
  "$py" -m venv .venv
fi
say "installing recette into .venv (log: .venv/pip.log)"
if ! { .venv/bin/python -m pip install --disable-pip-version-check --upgrade pip &&
       .venv/bin/python -m pip install --disable-pip-version-check -e ".[dev]"; } \
     >.venv/pip.log 2>&1; then
  tail -n 20 .venv/pip.log >&2
  say "pip install failed: see .venv/pip.log"
  exit 1
fi
if ! .venv/bin/python -c "import sip_checks.toolkit._rtpcore" 2>/dev/null; then
  say "warning: the media engine's C core did not build (see .venv/pip.log): calls run on the"
  say "pure-Python engine, which needs about twice the CPU at 100 calls and more"
fi
say "done: $(.venv/bin/recette --version)"
