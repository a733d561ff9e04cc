#!/usr/bin/env bash
# Installs the Modbus driver tests' Python peer (pymodbus and pyserial, at the versions pinned in
# scripts/requirements-peers.txt) into the venv .venv-peers/ at the repository root, which the
# Modbus tests find by themselves (or point ATHANOR_PEERS_PYTHON at another interpreter).
# Only these packages are installed, not the whole file.
# Usage: scripts/modbus_peers.sh        Environment: ATHANOR_PEERS_VENV (default .venv-peers)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv=${ATHANOR_PEERS_VENV:-$root/.venv-peers}
requirements=$root/scripts/requirements-peers.txt
pins=()
for p in pymodbus pyserial; do
    line=$(grep -i "^${p}==" "$requirements") || { echo "modbus_peers.sh: $p is not pinned in $requirements" >&2; exit 2; }
    pins+=("$line")
done
[[ -x $venv/bin/python ]] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "${pins[@]}"
"$venv/bin/python" -c 'import pymodbus, serial; print("Modbus peers ready: pymodbus", pymodbus.__version__, "pyserial", serial.__version__)'
