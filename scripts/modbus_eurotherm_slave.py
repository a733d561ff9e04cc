#!/usr/bin/env python3
"""A Modbus RTU slave (pymodbus) that serves a Eurotherm register map from a model file.

It is the independent peer of athanor-drivers' Modbus driver tests: pymodbus frames and checks
every request; this script only keeps the controller's parameters and a simple behaviour:

- the working set point follows the target set point at the set-point rate limit (0 = at once);
- the process value follows the working set point with a first-order lag, the output follows
  the error;
- writing the program status register runs, holds or resets the program; a running program
  walks its segments (ramp to target at rate, dwell) and ends in the model's "complete" code.

Parameters live at their 16-bit addresses; the float region (float_base + 2·address, two
registers, high word first) serves the same parameters as IEEE floats or, for `millis` fields,
32-bit milliseconds (a time is kept in minutes). Reads of unmapped addresses answer exception 2.

Every write it executes is appended to --log as one JSON line, and the controller's state is
saved to --state after each write and read, and reloaded at start: killing the process models a
dead serial line, not a controller that lost its memory. --die-after-run-write makes it exit
right after executing a "run" write, before answering (the answer to a command is lost).

Usage: modbus_eurotherm_slave.py --port /dev/pts/N --model config/instruments/eurotherm-3216.toml
         --state state.json --log writes.jsonl [--unit 1] [--baud 9600] [--die-after-run-write]
"""

import argparse
import asyncio
import json
import os
import struct
import sys
import termios
import time
import tomllib

from pymodbus import FramerType
from pymodbus.constants import ExcCodes
from pymodbus.datastore import ModbusServerContext
from pymodbus.datastore.context import ModbusBaseDeviceContext
from pymodbus.server import StartAsyncSerialServer


class Eurotherm(ModbusBaseDeviceContext):
    def __init__(self, regmap, state_path, log_path, die_after_run):
        self.m = regmap
        self.base = regmap.get("float_base", 0x8000)
        self.state_path = state_path
        self.log_path = log_path
        self.die_after_run = die_after_run
        self.codes = regmap["program_status_codes"]
        # address -> encoding of every mapped parameter
        self.enc = {}
        for name in ("process_value", "target_setpoint", "working_setpoint", "working_output",
                     "ramp_rate", "program_status", "alarm_status"):
            if name in regmap:
                self.enc[regmap[name]["address"]] = (regmap[name]["encoding"], regmap[name].get("decimals", 0))
        if "select_program" in regmap:
            self.enc[regmap["select_program"]["address"]] = ("int", 0)
        p = regmap["program"]
        fields = ["target", "ramp_rate"] + (["dwell"] if p["layout"] == "fixed" else ["type_field", "duration"])
        for slot in range(p["slots"]):
            for f in fields:
                a = p["base"] + slot * p["stride"] + p[f]["offset"]
                self.enc[a] = (p[f]["encoding"], p[f].get("decimals", 0))
        self.v = {a: 0.0 for a in self.enc}
        self.addr = {name: regmap[name]["address"] for name in
                     ("process_value", "target_setpoint", "working_setpoint", "working_output",
                      "ramp_rate", "program_status")}
        self.read_only = {self.addr["process_value"], self.addr["working_setpoint"]}
        self.v[self.addr["process_value"]] = 20.0
        self.v[self.addr["working_setpoint"]] = 20.0
        self.v[self.addr["target_setpoint"]] = 20.0
        self.v[self.addr["program_status"]] = float(self.codes["reset"])
        self.prog = None  # {"segment": i, "phase": "ramp"|"dwell", "left": minutes}
        self.last = time.monotonic()
        self.load()

    # -- persistence ----------------------------------------------------------------------------
    def load(self):
        if self.state_path and os.path.exists(self.state_path):
            with open(self.state_path) as f:
                s = json.load(f)
            self.v.update({int(k): v for k, v in s["values"].items()})
            self.prog = s["program"]

    def save(self):
        if not self.state_path:
            return
        tmp = self.state_path + ".tmp"
        with open(tmp, "w") as f:
            json.dump({"values": self.v, "program": self.prog}, f)
        os.replace(tmp, self.state_path)

    def log(self, entry):
        with open(self.log_path, "a") as f:
            f.write(json.dumps(entry) + "\n")
            f.flush()
            os.fsync(f.fileno())

    # -- behaviour ------------------------------------------------------------------------------
    def segments(self):
        p = self.m["program"]
        at = lambda slot, f: self.v.get(p["base"] + slot * p["stride"] + p[f]["offset"], 0.0)
        segs = []
        if p["layout"] == "fixed":
            for slot in range(p["slots"]):
                segs.append(("ramp", at(slot, "target"), at(slot, "ramp_rate")))
                segs.append(("dwell", at(slot, "dwell")))
        else:
            for slot in range(p["slots"]):
                kind = int(at(slot, "type_field"))
                if kind == p["ramp_rate_type"]:
                    segs.append(("ramp", at(slot, "target"), at(slot, "ramp_rate")))
                elif kind == p["dwell_type"]:
                    segs.append(("dwell", at(slot, "duration")))
                else:
                    break
        return segs

    def step(self):
        now = time.monotonic()
        dt = (now - self.last) / 60.0  # minutes
        self.last = now
        a = self.addr
        status = int(self.v[a["program_status"]])
        wsp = self.v[a["working_setpoint"]]
        if status == self.codes["run"] and self.prog is not None:
            segs = self.segments()
            left = dt
            while left > 0 and self.prog["segment"] < len(segs):
                seg = segs[self.prog["segment"]]
                if seg[0] == "ramp":
                    target, rate = seg[1], seg[2]
                    need = abs(target - wsp) / rate if rate > 0 else 0.0
                    if need <= left:
                        wsp, left = target, left - need
                        self.prog = {"segment": self.prog["segment"] + 1, "elapsed": 0.0}
                    else:
                        wsp += (rate * left) * (1 if target > wsp else -1)
                        left = 0
                else:
                    remaining = seg[1] - self.prog.get("elapsed", 0.0)
                    if remaining <= left:
                        left -= max(remaining, 0.0)
                        self.prog = {"segment": self.prog["segment"] + 1, "elapsed": 0.0}
                    else:
                        self.prog["elapsed"] = self.prog.get("elapsed", 0.0) + left
                        left = 0
            if self.prog["segment"] >= len(segs):
                self.v[a["program_status"]] = float(self.codes["complete"])
        elif status not in (self.codes["run"], self.codes["hold"]):
            tsp, rate = self.v[a["target_setpoint"]], self.v[a["ramp_rate"]]
            if rate <= 0 or abs(tsp - wsp) <= rate * dt:
                wsp = tsp
            else:
                wsp += rate * dt * (1 if tsp > wsp else -1)
        self.v[a["working_setpoint"]] = wsp
        pv = self.v[a["process_value"]]
        pv += (wsp - pv) * min(1.0, dt / 2.0)
        self.v[a["process_value"]] = pv
        self.v[a["working_output"]] = max(0.0, min(100.0, 20.0 + 5.0 * (wsp - pv)))

    # -- registers ------------------------------------------------------------------------------
    def words(self, address):
        """The parameter at a 16-bit address, and its registers."""
        if address >= self.base:
            param, half = divmod(address - self.base, 2)
            if param not in self.enc:
                return None
            enc, _ = self.enc[param]
            value = self.v[param]
            if enc == "millis":
                raw = struct.pack(">i", int(round(value * 60000)))
            else:
                raw = struct.pack(">f", value)
            return struct.unpack(">HH", raw)[half]
        if address not in self.enc:
            return None
        enc, dec = self.enc[address]
        value = self.v[address]
        if enc == "int":
            return int(value) & 0xFFFF
        scaled = int(round(value * 10 ** (dec if enc == "scaled" else 1)))
        return max(-32768, min(32767, scaled)) & 0xFFFF

    def getValues(self, func_code, address, count=1):
        self.step()
        out = []
        for a in range(address, address + count):
            w = self.words(a)
            if w is None:
                return ExcCodes.ILLEGAL_ADDRESS
            out.append(w)
        self.save()
        return out

    def setValues(self, func_code, address, values):
        self.step()
        writes = []
        if address >= self.base:
            if (address - self.base) % 2 or len(values) % 2:
                return ExcCodes.ILLEGAL_VALUE
            for i in range(0, len(values), 2):
                param = (address - self.base) // 2 + i // 2
                if param not in self.enc:
                    return ExcCodes.ILLEGAL_ADDRESS
                raw = struct.pack(">HH", values[i], values[i + 1])
                enc, _ = self.enc[param]
                value = struct.unpack(">i", raw)[0] / 60000 if enc == "millis" else struct.unpack(">f", raw)[0]
                writes.append((param, address + i, value))
        else:
            for i, w in enumerate(values):
                a = address + i
                if a not in self.enc:
                    return ExcCodes.ILLEGAL_ADDRESS
                enc, dec = self.enc[a]
                if enc == "int":
                    value = float(w)
                else:
                    value = (w - 0x10000 if w >= 0x8000 else w) / 10 ** (dec if enc == "scaled" else 1)
                writes.append((a, a, value))
        for param, _, _ in writes:
            if param in self.read_only:
                return ExcCodes.ILLEGAL_VALUE
        for param, wire, value in writes:
            self.v[param] = value
            entry = {"t": time.time(), "fc": func_code, "address": wire, "param": param, "value": value}
            if param == self.addr["program_status"]:
                code = int(value)
                if code == self.codes["run"]:
                    if self.prog is None or self.prog.get("done"):
                        self.prog = {"segment": 0, "elapsed": 0.0}
                    entry["action"] = "run"
                elif code == self.codes["hold"]:
                    entry["action"] = "hold"
                elif code == self.codes["reset"]:
                    self.prog = None
                    entry["action"] = "reset"
                self.log(entry)
                self.save()
                if code == self.codes["run"] and self.die_after_run:
                    # The command took effect; the answer never leaves.
                    os._exit(0)
            else:
                self.log(entry)
        self.save()
        return None


def flush_input(port):
    """Drops requests that queued on the pty while no slave was listening."""
    fd = os.open(port, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
    try:
        termios.tcflush(fd, termios.TCIOFLUSH)
    finally:
        os.close(fd)


async def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--state")
    ap.add_argument("--log", required=True)
    ap.add_argument("--unit", type=int, default=1)
    ap.add_argument("--baud", type=int, default=9600)
    ap.add_argument("--die-after-run-write", action="store_true")
    args = ap.parse_args()
    with open(args.model, "rb") as f:
        regmap = tomllib.load(f)["register_map"]
    device = Eurotherm(regmap, args.state, args.log, args.die_after_run_write)
    context = ModbusServerContext(devices={args.unit: device}, single=False)
    flush_input(args.port)
    print(f"serving {args.model} as unit {args.unit} on {args.port}", flush=True)
    await StartAsyncSerialServer(context, framer=FramerType.RTU, port=args.port, baudrate=args.baud)


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
