#!/usr/bin/env bash
# Property-based tests of the HTTP API against its own OpenAPI document, with schemathesis.
#
# Builds the daemon, starts it on a fresh SQLite data directory and a free loopback port, issues
# an admin token, seeds one record of each kind that the API can create (so that lists return
# real records whose shape is checked too), then runs schemathesis against the served document
# at /api/v1/openapi.json. A run fails on any 5xx answer, an undocumented status code, an
# undocumented content type, or a body that contradicts the documented schema.
#
# Usage: scripts/schemathesis.sh
# Environment:
#   SCHEMATHESIS_MAX_EXAMPLES  test cases per operation and phase (default 50)
#   SCHEMATHESIS_SEED          a seed to repeat an earlier run (default: a new one; it is printed)
#   SCHEMATHESIS_CHECKS        the checks, comma-separated (default: the four named above; `all`
#                              adds schemathesis's stricter and stateful ones)
#   ATHANOR_PEERS_VENV         the Python venv to use (default .venv-peers/ at the repository root)
#   CARGO_BUILD_JOBS           parallel compile jobs (default 2)
#
# The seeded ids are handed to schemathesis in a generated config file as dictionaries, bound to
# the matching path and query parameters with probability 1/2: half the cases read and change
# real records, the other half probe unknown and malformed ids.
#
# GET /api/v1/events streams server-sent events until the client goes away. schemathesis reads
# an event stream until it has read `max-stream-events` events or the request timeout passes,
# and then judges what it read; the config gives that operation a 1 s timeout, so each valid
# request ends after the replayed backlog or 1 s of silence.
#
# GET /api/v1/tokens lists every token's id, our own admin token's among them; schemathesis feeds
# ids it has seen into POST /api/v1/tokens/{id}/revoke and would revoke the token it runs with,
# turning the rest of the run into 401s. So the main run leaves the list out: the only token ids
# it learns are those of the tokens it creates itself, and revoke is still tested for real. The
# list is then tested alone in a second, read-only run.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

max_examples=${SCHEMATHESIS_MAX_EXAMPLES:-50}
checks=${SCHEMATHESIS_CHECKS:-not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance}
venv=${ATHANOR_PEERS_VENV:-$root/.venv-peers}
requirements=$root/scripts/requirements-api-peers.txt
export CARGO_BUILD_JOBS=${CARGO_BUILD_JOBS:-2}

for tool in python3 curl cargo; do
    command -v "$tool" >/dev/null || { echo "schemathesis.sh: $tool is required" >&2; exit 2; }
done

# --- Python venv with the pinned schemathesis (reinstalled only when the pins change) ---
if [[ ! -x $venv/bin/python ]]; then
    python3 -m venv "$venv"
fi
want=$(sha256sum "$requirements" | cut -d' ' -f1)
if [[ "$(cat "$venv/.requirements.sha256" 2>/dev/null || true)" != "$want" ]]; then
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
    echo "$want" >"$venv/.requirements.sha256"
fi
st=$venv/bin/schemathesis
"$st" --version

# --- the daemon ---
cargo build
bin=${CARGO_TARGET_DIR:-$root/target}/debug/athanor

work=$(mktemp -d "${TMPDIR:-/tmp}/athanor-schemathesis.XXXXXX")
data=$work/data
mkdir "$data"
server_pid=
cleanup() {
    local status=$?
    if [[ -n $server_pid ]] && kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid" 2>/dev/null || true
        # Graceful stop first; the daemon gives in-flight requests a grace period.
        for _ in $(seq 1 50); do
            kill -0 "$server_pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    if [[ $status -ne 0 && -s $work/server.log ]]; then
        echo "--- last lines of the daemon's log ---" >&2
        tail -n 40 "$work/server.log" >&2
    fi
    rm -rf "$work"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

NO_COLOR=1 "$bin" serve --data-dir "$data" --listen 127.0.0.1:0 2>"$work/server.log" &
server_pid=$!

addr=
for _ in $(seq 1 100); do
    # The log may carry ANSI colour codes; strip them before looking for the address.
    addr=$(sed 's/\x1b\[[0-9;]*m//g' "$work/server.log" |
        grep -o 'listening on http://[^ ]*' | head -n1 | sed 's|listening on http://||' || true)
    [[ -n $addr ]] && break
    if ! kill -0 "$server_pid" 2>/dev/null; then
        echo "schemathesis.sh: the daemon exited before listening" >&2
        exit 1
    fi
    sleep 0.1
done
if [[ -z $addr ]]; then
    echo "schemathesis.sh: the daemon did not report its address within 10 s" >&2
    exit 1
fi
base=http://$addr
echo "daemon listening on $base (data in $data)"

token=$("$bin" token create --data-dir "$data" --role admin --name schemathesis 2>/dev/null | tail -n1)
[[ -n $token ]] || { echo "schemathesis.sh: could not create a token" >&2; exit 1; }
auth="Authorization: Bearer $token"

# --- seed records, so that lists and reads return real records to check against the schema ---
post() { # post PATH JSON -> prints the response body; fails unless 200 or 201
    local code
    code=$(curl -sS -o "$work/body" -w '%{http_code}' -H "$auth" -H 'Content-Type: application/json' \
        --data "$2" "$base$1")
    if [[ $code != 201 && $code != 200 ]]; then
        echo "schemathesis.sh: seeding POST $1 answered $code: $(cat "$work/body")" >&2
        return 1
    fi
    cat "$work/body"
}
json_id() { "$venv/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["id"])'; }

campaign_json='{"name":"seed","goal":{"type":"phase_pure","target_phase":"YBa2Cu3O7","min_weight_fraction":0.9},
 "search_space":{"parameters":[{"type":"temperature","name":"T","low":600,"high":950},
   {"type":"categorical","name":"atmosphere","choices":["air","O2"]}]},
 "budget":{"max_experiments":20},"planner":{"kind":"random","seed":1},
 "limits":{"max_temperature_c":1000,"max_ramp_c_per_min":10}}'
campaign=$(post /api/v1/campaigns "$campaign_json" | json_id)
paused=$(post /api/v1/campaigns "${campaign_json/\"seed\"/\"seed-paused\"}" | json_id)
post "/api/v1/campaigns/$paused/pause" '{}' >/dev/null
hypothesis=$(post "/api/v1/campaigns/$campaign/hypotheses" \
    '{"statement":"YBCO forms in air between 900 and 950 C","prior":0.4,
      "claim":{"type":"phase_region","phase":"YBa2Cu3O7","forms":true,"region":{"T":[900,950]}}}' | json_id)
hypothesis2=$(post "/api/v1/campaigns/$campaign/hypotheses" \
    '{"statement":"BaCO3 and CuO react above 800 C","prior":0.6,
      "claim":{"type":"reaction","reactants":["BaCO3","CuO"],"products":["BaCuO2"],"min_temperature_c":800}}' | json_id)
experiment=$(post "/api/v1/campaigns/$campaign/experiments" \
    "{\"parameters\":{\"T\":925,\"atmosphere\":\"air\"},\"rationale\":\"seed\",\"hypothesis_id\":\"$hypothesis\"}" | json_id)
cancelled=$(post "/api/v1/campaigns/$campaign/experiments" \
    '{"parameters":{"T":700,"atmosphere":"O2"},"rationale":"seed, cancelled"}' | json_id)
post "/api/v1/experiments/$cancelled/cancel" '{}' >/dev/null
sample=$(post /api/v1/samples "{\"label\":\"S-001\",\"campaign_id\":\"$campaign\",\"location\":\"rack-A/1\"}" | json_id)
sample2=$(post /api/v1/samples '{"label":"S-002"}' | json_id)
post /api/v1/instruments \
    '{"id":"furnace-1","name":"Tube furnace","class":"furnace","transport":{"type":"manual"},
      "limits":{"max_temperature_c":1200,"max_ramp_c_per_min":20}}' >/dev/null
viewer_token=$(post /api/v1/tokens '{"name":"seed-viewer","role":"viewer"}' | json_id)
echo "seeded campaigns, hypotheses, experiments, samples, an instrument and a token"

# Measurements and analyses are written by the engine only; no API call creates them, so their
# reads are tested against unknown ids and empty lists.
config=$work/schemathesis.toml
cat >"$config" <<TOML
# Seconds per request (a command-line --request-timeout would override the event stream's below).
request-timeout = 10.0

# Failures are reported in the output; keep no state between runs (and none in the work tree).
[cache]
enabled = false

[dictionaries]
campaign-ids = { values = ["$campaign", "$paused"] }
experiment-ids = { values = ["$experiment", "$cancelled"] }
hypothesis-ids = { values = ["$hypothesis", "$hypothesis2"] }
sample-ids = { values = ["$sample", "$sample2"] }
instrument-ids = { values = ["furnace-1"] }
# Never the admin token the run uses.
token-ids = { values = ["$viewer_token"] }

[parameters]
"query.campaign_id" = { dictionary = "campaign-ids", probability = 0.5 }
"query.experiment_id" = { dictionary = "experiment-ids", probability = 0.5 }

[[operations]]
include-path-regex = '^/api/v1/campaigns/\\{id\\}'
parameters = { "path.id" = { dictionary = "campaign-ids", probability = 0.5 } }

[[operations]]
include-path-regex = '^/api/v1/experiments/\\{id\\}'
parameters = { "path.id" = { dictionary = "experiment-ids", probability = 0.5 } }

[[operations]]
include-path = "/api/v1/hypotheses/{id}"
parameters = { "path.id" = { dictionary = "hypothesis-ids", probability = 0.5 } }

[[operations]]
include-path = "/api/v1/samples/{id}"
parameters = { "path.id" = { dictionary = "sample-ids", probability = 0.5 } }

[[operations]]
include-path = "/api/v1/instruments/{id}"
parameters = { "path.id" = { dictionary = "instrument-ids", probability = 0.5 } }

[[operations]]
include-path = "/api/v1/tokens/{id}/revoke"
parameters = { "path.id" = { dictionary = "token-ids", probability = 0.5 } }

[[operations]]
include-path = "/api/v1/events"
request-timeout = 1.0
TOML

# --- schemathesis ---
common=(
    --header "$auth"
    --checks "$checks"
    --max-examples "$max_examples"
    --generation-database none
)
if [[ -n ${SCHEMATHESIS_SEED:-} ]]; then
    common+=(--seed "$SCHEMATHESIS_SEED")
fi
schema=$base/api/v1/openapi.json

# Run from the work directory, with hypothesis's example store there too, so that nothing is
# left in the checkout (schemathesis and hypothesis keep state under the current directory).
cd "$work"
export HYPOTHESIS_STORAGE_DIRECTORY=$work/hypothesis

status=0
echo
echo "=== schemathesis: every operation but the token list ==="
"$st" --config-file "$config" run "$schema" "${common[@]}" \
    --exclude-name 'GET /api/v1/tokens' || status=$?

echo
echo "=== schemathesis: the token list (read-only) ==="
"$st" --config-file "$config" run "$schema" "${common[@]}" \
    --include-name 'GET /api/v1/tokens' || status=$?

if kill -0 "$server_pid" 2>/dev/null; then
    # What the daemon answered, by route and status, from its own metrics: shows which answers
    # the run reached (a route that only ever answered 404 was not really exercised).
    echo
    echo "=== answers by route and status (from /metrics) ==="
    # (405s are schemathesis probing methods that routes do not take; they are only counted.)
    curl -sS "$base/metrics" |
        sed -n 's/^athanor_http_requests_total{method="\([A-Z]*\)",route="\([^"]*\)",status="\([0-9]*\)"} \([0-9]*\)$/\1 \2 \3 \4/p' |
        sort -k2,2 -k1,1 -k3,3n |
        awk '$3 == 405 { probes += $4; next }
             { key = $1 " " $2; if (key != last) { if (last != "") print line; line = sprintf("%-5s %-38s", $1, $2); last = key }
               line = line " " $3 "x" $4 }
             END { if (last != "") print line; printf "405 answers to other methods: %d\n", probes }'
else
    echo "schemathesis.sh: the daemon died during the run" >&2
    status=1
fi
if [[ $status -eq 0 ]]; then
    echo "schemathesis.sh: no failures"
else
    echo "schemathesis.sh: failures (exit $status); each is printed above with a curl line to repeat it" >&2
fi
exit "$status"
