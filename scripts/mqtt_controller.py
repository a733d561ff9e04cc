#!/usr/bin/env python3
"""An instrument controller for the Athanor MQTT contract (docs/mqtt.md), written with paho-mqtt.

It proves the contract from a second language and library: the Rust tests start it against the
embedded broker and against Mosquitto and drive it through the daemon's MQTT driver. Every message
it receives and sends is checked against the JSON Schemas in docs/schemas/mqtt/.

Behaviour (per the contract): a durable ledger (a JSON file, written and fsynced before acting);
a command executes at most once per id; duplicates and queries are answered from the ledger; a
command past its deadline is rejected; results larger than 256 KiB travel in chunks; a retained
status with a last will that sets it offline; telemetry with a sequence counter.

It prints one JSON object per line on stdout for the test to read:
  {"event": "ready"}                                   connected and subscribed
  {"event": "executed", "command_id": ..., "n": N}     a physical action started (N-th in total)
  {"event": "violation", "topic": ..., "error": ...}   a message broke the schema
  {"event": "telemetry_done", "count": N}              the requested telemetry was published
Exits on SIGTERM (status offline first) or when stdin closes.
"""

import argparse
import hashlib
import json
import os
import signal
import sys
import threading
import time
from datetime import datetime, timedelta, timezone

import jsonschema
import paho.mqtt.client as mqtt

PREFIX = "athanor/v1/instruments"
CHUNK_THRESHOLD = 256 * 1024
CHUNK_BYTES = 64 * 1024


def now():
    return datetime.now(timezone.utc)


def iso(t):
    return t.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_time(s):
    return datetime.fromisoformat(s.replace("Z", "+00:00"))


def emit(**kv):
    sys.stdout.write(json.dumps(kv) + "\n")
    sys.stdout.flush()


class Schemas:
    def __init__(self, directory):
        self.validators = {}
        for kind in ("cmd", "ack", "progress", "telemetry", "result", "status"):
            with open(os.path.join(directory, kind + ".json"), encoding="utf-8") as f:
                schema = json.load(f)
            jsonschema.Draft202012Validator.check_schema(schema)
            self.validators[kind] = jsonschema.Draft202012Validator(
                schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
            )

    def check(self, kind, topic, message):
        errors = sorted(self.validators[kind].iter_errors(message), key=str)
        if errors:
            emit(event="violation", topic=topic, error=errors[0].message)
            return False
        return True


class Ledger:
    """command id -> {"state": "running"|"rejected"|"finished", "messages": [[kind, payload], ...]}"""

    def __init__(self, path):
        self.path = path
        self.entries = {}
        if path and os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                self.entries = json.load(f)

    def put(self, command_id, entry):
        self.entries[command_id] = entry
        if self.path:
            tmp = self.path + ".tmp"
            with open(tmp, "w", encoding="utf-8") as f:
                json.dump(self.entries, f)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)


def split_text(text, max_bytes):
    pieces, current, size = [], [], 0
    for ch in text:
        n = len(ch.encode("utf-8"))
        if size + n > max_bytes and current:
            pieces.append("".join(current))
            current, size = [], 0
        current.append(ch)
        size += n
    pieces.append("".join(current))
    return pieces


class Controller:
    def __init__(self, args):
        self.args = args
        self.id = args.id
        self.schemas = Schemas(args.schemas)
        self.ledger = Ledger(args.ledger)
        self.lock = threading.Lock()
        self.executed = 0
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=self.id,
            clean_session=False,
            protocol=mqtt.MQTTv311,
        )
        if args.username:
            self.client.username_pw_set(args.username, args.password)
        will = {"v": 1, "state": "offline", "reason": "connection lost"}
        self.schemas.check("status", self.topic("status"), will)
        self.client.will_set(self.topic("status"), json.dumps(will), qos=1, retain=True)
        self.client.max_queued_messages_set(0)
        self.client.reconnect_delay_set(min_delay=0.1, max_delay=1)
        self.client.on_connect = self.on_connect
        self.client.on_message = self.on_message

    def topic(self, kind):
        return f"{PREFIX}/{self.id}/{kind}"

    def publish(self, kind, message, retain=False):
        self.schemas.check(kind, self.topic(kind), message)
        self.client.publish(self.topic(kind), json.dumps(message), qos=1, retain=retain)

    def status(self, state):
        self.publish("status", {"v": 1, "state": state, "at": iso(now()), "controller": "paho-controller 1"}, retain=True)

    def on_connect(self, client, userdata, flags, reason_code, properties):
        if reason_code.is_failure:
            emit(event="connect_failed", reason=str(reason_code))
            return
        client.subscribe(self.topic("cmd"), qos=1)
        self.status("busy" if any(e["state"] == "running" for e in self.ledger.entries.values()) else "idle")
        emit(event="ready")

    def replay(self, entry):
        for kind, message in entry["messages"]:
            if kind == "result" and message.get("type") == "result":
                message = dict(message, replay=True)
            self.publish(kind, message)

    def ack(self, command_id, status, **extra):
        message = {"v": 1, "command_id": command_id, "status": status, "at": iso(now())}
        message.update(extra)
        self.publish("ack", message)
        return message

    def on_message(self, client, userdata, msg):
        if msg.retain:
            return  # a retained command is stale by construction
        try:
            message = json.loads(msg.payload)
        except ValueError as e:
            emit(event="violation", topic=msg.topic, error=f"not JSON: {e}")
            return
        if not isinstance(message, dict) or message.get("v") != 1:
            emit(event="violation", topic=msg.topic, error="missing or unsupported v")
            return
        if not self.schemas.check("cmd", msg.topic, message):
            return
        command_id = message["command_id"]
        with self.lock:
            entry = self.ledger.entries.get(command_id)
            if entry is not None:
                if entry["state"] == "running":
                    self.ack(command_id, "running")
                else:
                    self.replay(entry)
                return
            if message["type"] == "query":
                self.ack(command_id, "unknown")
                return
            if now() > parse_time(message["deadline"]):
                ack = self.ack(command_id, "rejected", reason={"code": "deadline_passed", "message": "deadline passed before the command arrived"})
                self.ledger.put(command_id, {"state": "rejected", "messages": [["ack", ack]]})
                return
            if self.args.silent:
                return
            # Recorded before the action starts: a duplicate can never start it again.
            self.ledger.put(command_id, {"state": "running", "messages": []})
            self.executed += 1
            emit(event="executed", command_id=command_id, n=self.executed)
        duration = self.args.duration_ms / 1000.0
        self.ack(command_id, "accepted", expected_done_at=iso(now() + timedelta(seconds=duration + 1)))
        threading.Thread(target=self.execute, args=(message, duration), daemon=True).start()

    def execute(self, message, duration):
        command_id = message["command_id"]
        steps = 4
        for i in range(steps):
            time.sleep(duration / steps)
            self.publish("progress", {"v": 1, "command_id": command_id, "at": iso(now()), "fraction": (i + 1) / steps, "stage": "run"})
        if message["action"] == "scan":
            points = int(message["params"].get("points", 1000))
            data = {"two_theta": [round(10 + i * 0.01, 4) for i in range(points)], "counts": [(i * 7919) % 5000 for i in range(points)]}
        else:
            data = {"echo": message["params"], "action": message["action"]}
        result = {"v": 1, "type": "result", "command_id": command_id, "outcome": "succeeded", "finished_at": iso(now()), "replay": False}
        text = json.dumps(data, separators=(",", ":"))
        messages = []
        if len(text.encode("utf-8")) + 1024 > CHUNK_THRESHOLD:
            pieces = split_text(text, CHUNK_BYTES)
            for i, piece in enumerate(pieces):
                messages.append(["result", {"v": 1, "type": "chunk", "command_id": command_id, "index": i, "count": len(pieces), "text": piece}])
            encoded = text.encode("utf-8")
            result["chunked"] = {"count": len(pieces), "bytes": len(encoded), "sha256": hashlib.sha256(encoded).hexdigest()}
        else:
            result["data"] = data
        messages.append(["result", result])
        with self.lock:
            # Recorded before it is published: a duplicate gets this same first result.
            self.ledger.put(command_id, {"state": "finished", "messages": messages})
        for kind, m in messages:
            self.publish(kind, m)

    def telemetry(self, count, hz):
        for seq in range(count):
            self.publish("telemetry", {"v": 1, "at": iso(now()), "seq": seq, "values": {"temperature_c": 20.0 + seq * 0.5, "heater": seq % 2 == 0}})
            if hz:
                time.sleep(1.0 / hz)
        emit(event="telemetry_done", count=count)

    def run(self):
        host, port = self.args.broker.rsplit(":", 1)
        self.client.connect_async(host, int(port), keepalive=5)
        self.client.loop_start()
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
        if self.args.telemetry:
            threading.Thread(target=self.telemetry, args=(self.args.telemetry, self.args.telemetry_hz), daemon=True).start()
        stop.wait()
        info = self.client.publish(self.topic("status"), json.dumps({"v": 1, "state": "offline", "reason": "shut down", "at": iso(now())}), qos=1, retain=True)
        try:
            info.wait_for_publish(timeout=2)
        except (RuntimeError, ValueError):
            pass
        self.client.disconnect()
        self.client.loop_stop()


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--broker", required=True, help="HOST:PORT")
    p.add_argument("--id", required=True, help="instrument id (also the client id and user name)")
    p.add_argument("--username")
    p.add_argument("--password")
    p.add_argument("--ledger", help="ledger file (durable across restarts)")
    p.add_argument("--schemas", default=os.path.join(here, "..", "docs", "schemas", "mqtt"))
    p.add_argument("--duration-ms", type=int, default=300, help="how long each command runs")
    p.add_argument("--silent", action="store_true", help="receive commands and never answer")
    p.add_argument("--telemetry", type=int, default=0, help="telemetry messages to publish")
    p.add_argument("--telemetry-hz", type=float, default=0, help="their rate (0: as fast as possible)")
    Controller(p.parse_args()).run()


if __name__ == "__main__":
    main()
