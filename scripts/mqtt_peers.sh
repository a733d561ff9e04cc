#!/usr/bin/env bash
# Installs the MQTT contract's Python peer (paho-mqtt and jsonschema, at the versions pinned in
# scripts/requirements-peers.txt) into the venv .venv-peers/ at the repository root, which the
# MQTT tests find by themselves (or point ATHANOR_PEERS_PYTHON at another interpreter).
# Only these packages are installed, not the whole file (pymatgen & co. are not needed here).
# Usage: scripts/mqtt_peers.sh        Environment: ATHANOR_PEERS_VENV (default .venv-peers)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv=${ATHANOR_PEERS_VENV:-$root/.venv-peers}
requirements=$root/scripts/requirements-peers.txt
pins=()
for p in paho-mqtt jsonschema jsonschema-specifications referencing rpds-py attrs typing_extensions; do
    line=$(grep -i "^${p}==" "$requirements") || { echo "mqtt_peers.sh: $p is not pinned in $requirements" >&2; exit 2; }
    pins+=("$line")
done
[[ -x $venv/bin/python ]] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "${pins[@]}"
"$venv/bin/python" -c 'import paho.mqtt, jsonschema; print("MQTT peers ready:", "paho-mqtt", paho.mqtt.__version__, "jsonschema", jsonschema.__version__ if hasattr(jsonschema, "__version__") else "")' 2>/dev/null \
    || "$venv/bin/python" -c 'import paho.mqtt, jsonschema; print("MQTT peers ready")'
