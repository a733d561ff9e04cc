#!/usr/bin/env python3
"""Stick-pattern simulation speed, Athanor against pymatgen, on the same CIFs in one run.

Run from the repository root after a release build:

    cargo build --release
    python3 scripts/bench_simulate_vs_pymatgen.py [--athanor target/release/athanor]

For every CIF of the library directory (default: the built-in library's files,
crates/athanor-xrd/library/cif), each run

  (a) times pymatgen: the CIF text is read first, then parsed with
      CifParser.from_str(text).parse_structures() (timed once, reported apart), then
      XRDCalculator(wavelength).get_pattern(structure, scaled=True, two_theta_range) is timed on
      the first structure: one untimed warm-up, then --repeat timed calls, best and median kept;
  (b) runs `athanor bench simulate --library DIR --json` with the same range, wavelength and
      repeat count (pymatgen's settings: its scattering table, no Debye-Waller factor), which
      does the same on its side.

Both sides run single-threaded: OMP/OpenBLAS/MKL thread counts are set to 1 before numpy is
imported, and athanor's simulation is single-threaded. The machine may be shared, so the script
raises its own priority (nice -5, inherited by athanor) when it may, records the load average
around every run, alternates which side goes first, and repeats the whole comparison --runs
times (default 3); the headline is the median over runs of the total-time ratio.

Printed: one row per structure (medians over runs of each side's per-structure median), then
per run and over runs the totals, the total ratio, the median per-structure ratio and the worst
structure (smallest ratio). --json-out FILE also writes every raw figure.
"""

from __future__ import annotations

import os

# Before numpy is imported anywhere: one thread for every BLAS/OpenMP pool.
for _var in (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
):
    os.environ[_var] = "1"

import argparse
import importlib.metadata
import json
import platform
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path

LIBRARY = Path("crates/athanor-xrd/library/cif")


def default_binary() -> Path:
    target = os.environ.get("CARGO_TARGET_DIR", "target")
    return Path(target) / "release" / "athanor"


def machine() -> dict:
    """nproc, CPU model, memory, OS and the peers' versions."""
    info: dict = {"nproc": os.cpu_count(), "python": platform.python_version()}
    try:
        info["affinity_cpus"] = len(os.sched_getaffinity(0))
    except AttributeError:
        pass
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                info["memory_gib"] = round(int(line.split()[1]) / 1024 / 1024, 1)
                break
    except OSError:
        pass
    info["os"] = platform.platform()
    for dist in ("pymatgen", "pymatgen-core", "numpy"):
        try:
            info[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            info[dist] = "not installed"
    return info


def timing(samples: list[float]) -> dict:
    """Best and median of timings given in seconds, in milliseconds."""
    ms = sorted(s * 1e3 for s in samples)
    return {"best_ms": ms[0], "median_ms": statistics.median(ms)}


def run_pymatgen(cifs: list[Path], wavelength: str, two_theta: tuple[float, float], repeat: int) -> dict:
    """Parse every CIF once (timed), then time get_pattern on each first structure."""
    from pymatgen.analysis.diffraction.xrd import XRDCalculator
    from pymatgen.io.cif import CifParser

    texts = [(p.stem, p.read_text(encoding="utf-8", errors="replace")) for p in cifs]
    parsed = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for stem, text in texts:
            t = time.perf_counter()
            try:
                structures = CifParser.from_str(text).parse_structures()
                error = None if structures else "CifParser returned no structure"
            except Exception as exc:  # noqa: BLE001 - recorded, not fatal
                structures, error = [], f"{type(exc).__name__}: {exc}"
            parsed.append((stem, time.perf_counter() - t, structures, error))

        calc = XRDCalculator(wavelength=wavelength)
        results = {}
        for stem, parse_s, structures, error in parsed:
            row = {"parse_ms": parse_s * 1e3, "peaks": None, "simulate": None, "error": error}
            if structures:
                s = structures[0]
                try:
                    pattern = calc.get_pattern(s, scaled=True, two_theta_range=two_theta)
                    row["peaks"] = len(pattern.x)
                    samples = []
                    for _ in range(repeat):
                        t = time.perf_counter()
                        calc.get_pattern(s, scaled=True, two_theta_range=two_theta)
                        samples.append(time.perf_counter() - t)
                    row["simulate"] = timing(samples)
                except Exception as exc:  # noqa: BLE001
                    row["error"] = f"{type(exc).__name__}: {exc}"
            results[stem] = row
    return results


def run_athanor(binary: Path, library: Path, wavelength: str, two_theta: str, repeat: int) -> dict:
    """Run `athanor bench simulate --json` on the same CIFs; its rows by structure id."""
    cmd = [
        str(binary),
        "bench",
        "simulate",
        "--library",
        str(library),
        "--two-theta",
        two_theta,
        "--wavelength",
        wavelength,
        "--repeat",
        str(repeat),
        "--json",
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if not done.stdout.strip():
        raise SystemExit(f"{' '.join(cmd)} failed ({done.returncode}): {done.stderr}")
    report = json.loads(done.stdout)
    return {r["id"]: r for r in report["results"]}


def compare(pm: dict, ath: dict) -> dict:
    """Totals and ratios over the structures both sides simulated."""
    common = sorted(k for k in pm if k in ath and pm[k]["simulate"] and ath[k]["simulate"])
    pm_total = sum(pm[k]["simulate"]["median_ms"] for k in common)
    ath_total = sum(ath[k]["simulate"]["median_ms"] for k in common)
    ratios = {k: pm[k]["simulate"]["median_ms"] / ath[k]["simulate"]["median_ms"] for k in common}
    worst = min(ratios, key=ratios.get) if ratios else None
    mismatched = [k for k in common if pm[k]["peaks"] != ath[k]["peaks"]]
    return {
        "structures": len(common),
        "pymatgen_total_ms": pm_total,
        "athanor_total_ms": ath_total,
        "pymatgen_parse_total_ms": sum(pm[k]["parse_ms"] for k in common),
        "athanor_parse_total_ms": sum(ath[k]["parse_ms"] for k in common),
        "total_ratio": pm_total / ath_total if ath_total else float("nan"),
        "median_ratio": statistics.median(ratios.values()) if ratios else float("nan"),
        "worst": worst,
        "worst_ratio": ratios[worst] if worst else float("nan"),
        "best_ratio": max(ratios.values()) if ratios else float("nan"),
        "peak_count_mismatches": mismatched,
        "ratios": ratios,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--athanor", type=Path, default=default_binary(), help="the athanor binary (release build)")
    ap.add_argument("--build", action="store_true", help="run `cargo build --release` first")
    ap.add_argument("--library", type=Path, default=LIBRARY, help="directory of CIFs (both sides)")
    ap.add_argument("--two-theta", default="10:90", help="MIN:MAX in degrees")
    ap.add_argument("--wavelength", default="CuKa", help="a pymatgen WAVELENGTHS key, e.g. CuKa")
    ap.add_argument("--repeat", type=int, default=3, help="timed calls per structure and side")
    ap.add_argument("--runs", type=int, default=3, help="whole comparisons; the median is reported")
    ap.add_argument("--nice", type=int, default=-5, help="niceness increment for both sides (needs privilege below 0)")
    ap.add_argument("--cpu", type=int, help="pin both sides to this CPU")
    ap.add_argument("--json-out", type=Path, help="write every raw figure here")
    args = ap.parse_args()

    if args.repeat < 1 or args.runs < 1:
        ap.error("--repeat and --runs must be at least 1")
    lo, hi = (float(x) for x in args.two_theta.split(":"))
    if args.build:
        subprocess.run(["cargo", "build", "--release"], check=True)
    if not args.athanor.is_file():
        print(f"{args.athanor}: no such binary; build with `cargo build --release` or pass --athanor", file=sys.stderr)
        return 2
    cifs = sorted(args.library.glob("*.cif"))
    if not cifs:
        print(f"{args.library}: no CIFs", file=sys.stderr)
        return 2

    niceness = None
    if args.nice:
        try:
            niceness = os.nice(args.nice)  # inherited by the athanor child
        except OSError as exc:
            print(f"note: nice {args.nice} not permitted ({exc}); running at normal priority", file=sys.stderr)
    if args.cpu is not None:
        os.sched_setaffinity(0, {args.cpu})  # inherited too

    info = machine()
    info["niceness"] = niceness if niceness is not None else os.nice(0)
    info["pinned_cpu"] = args.cpu
    print(
        f"machine: {info.get('cpu', '?')}, nproc {info['nproc']}, {info.get('memory_gib', '?')} GiB; "
        f"pymatgen {info['pymatgen']} (core {info['pymatgen-core']}), numpy {info['numpy']}, "
        f"Python {info['python']}; niceness {info['niceness']}"
    )
    print(
        f"{len(cifs)} CIFs from {args.library}, {args.wavelength}, 2θ {args.two_theta}, "
        f"{args.repeat} timed calls per structure after a warm-up, {args.runs} runs"
    )

    runs = []
    for i in range(args.runs):
        load_before = os.getloadavg()
        order = ["pymatgen", "athanor"] if i % 2 == 0 else ["athanor", "pymatgen"]
        pm = ath = None
        for side in order:
            if side == "pymatgen":
                pm = run_pymatgen(cifs, args.wavelength, (lo, hi), args.repeat)
            else:
                ath = run_athanor(args.athanor, args.library, args.wavelength, args.two_theta, args.repeat)
        load_after = os.getloadavg()
        cmp = compare(pm, ath)
        runs.append(
            {"order": order, "load_before": load_before, "load_after": load_after, "pymatgen": pm, "athanor": ath, "summary": cmp}
        )
        print(
            f"run {i + 1} ({' then '.join(order)}; load {load_before[0]:.2f} -> {load_after[0]:.2f}): "
            f"pymatgen {cmp['pymatgen_total_ms']:.1f} ms, athanor {cmp['athanor_total_ms']:.2f} ms, "
            f"total ratio {cmp['total_ratio']:.1f}x, median per-structure ratio {cmp['median_ratio']:.1f}x, "
            f"worst {cmp['worst']} {cmp['worst_ratio']:.1f}x",
            flush=True,
        )

    # Per structure: the median over runs of each side's per-structure median.
    names = sorted(set.intersection(*(set(r["summary"]["ratios"]) for r in runs)))

    def over_runs(side: str, name: str, key: str) -> float:
        return statistics.median(r[side][name]["simulate"][key] for r in runs)

    def parse_over_runs(side: str, name: str) -> float:
        return statistics.median(r[side][name]["parse_ms"] for r in runs)

    rows = []
    for n in names:
        pm_ms = over_runs("pymatgen", n, "median_ms")
        ath_ms = over_runs("athanor", n, "median_ms")
        rows.append(
            (
                n,
                runs[0]["pymatgen"][n]["peaks"],
                runs[0]["athanor"][n]["peaks"],
                parse_over_runs("pymatgen", n),
                parse_over_runs("athanor", n),
                pm_ms,
                ath_ms,
                pm_ms / ath_ms,
            )
        )
    print()
    print(
        f"{'structure':<36} {'peaks pm':>8} {'peaks at':>8} {'parse pm ms':>11} {'parse at ms':>11} "
        f"{'sim pm ms':>10} {'sim at ms':>10} {'ratio':>8}"
    )
    for n, ppm, pat, parse_pm, parse_at, pm_ms, at_ms, ratio in rows:
        print(f"{n:<36} {ppm!s:>8} {pat!s:>8} {parse_pm:>11.2f} {parse_at:>11.3f} {pm_ms:>10.2f} {at_ms:>10.4f} {ratio:>7.1f}x")

    failed = {
        side: sorted(k for k, v in runs[0][side].items() if v["simulate"] is None) for side in ("pymatgen", "athanor")
    }
    total_ratios = [r["summary"]["total_ratio"] for r in runs]
    median_ratios = [r["summary"]["median_ratio"] for r in runs]
    pm_totals = [r["summary"]["pymatgen_total_ms"] for r in runs]
    ath_totals = [r["summary"]["athanor_total_ms"] for r in runs]
    pm_parse = [r["summary"]["pymatgen_parse_total_ms"] for r in runs]
    ath_parse = [r["summary"]["athanor_parse_total_ms"] for r in runs]
    worst_row = min(rows, key=lambda r: r[7])
    mismatches = sorted({m for r in runs for m in r["summary"]["peak_count_mismatches"]})
    print()
    print(f"structures compared: {len(names)} (failed: pymatgen {failed['pymatgen']}, athanor {failed['athanor']})")
    print(f"peak-count mismatches: {mismatches or 'none'}")
    print(
        "parse totals (not in the ratio): pymatgen "
        + ", ".join(f"{x:.0f}" for x in pm_parse)
        + " ms; athanor "
        + ", ".join(f"{x:.1f}" for x in ath_parse)
        + " ms"
    )
    print("simulate totals: pymatgen " + ", ".join(f"{x:.1f}" for x in pm_totals) + " ms; athanor " + ", ".join(f"{x:.2f}" for x in ath_totals) + " ms")
    print("total ratio per run: " + ", ".join(f"{x:.1f}x" for x in total_ratios))
    print(
        f"MEDIAN TOTAL RATIO over {len(runs)} runs: {statistics.median(total_ratios):.1f}x "
        f"(median per-structure ratio {statistics.median(median_ratios):.1f}x; "
        f"worst structure {worst_row[0]} {worst_row[7]:.1f}x)"
    )
    print("load average (1 min) before/after each run: " + "; ".join(f"{r['load_before'][0]:.2f}/{r['load_after'][0]:.2f}" for r in runs))

    if args.json_out:
        args.json_out.write_text(
            json.dumps(
                {
                    "machine": info,
                    "settings": {
                        "library": str(args.library),
                        "wavelength": args.wavelength,
                        "two_theta": [lo, hi],
                        "repeat": args.repeat,
                        "runs": args.runs,
                        "athanor": str(args.athanor),
                    },
                    "runs": runs,
                },
                indent=1,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
