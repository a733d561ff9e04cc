#!/usr/bin/env python3
"""Generate pymatgen reference stick patterns (test fixtures) for athanor-xrd.

Run from the repository root:

    python3 scripts/pymatgen_reference.py

For every CIF in

  * ../shared/data/cif/*.cif
  * ../shared/data/cif/amcsd_regenerated/*.cif
  * ../shared/data/xrd/autoanalyzer-example/references/*.cif
  * crates/athanor-xrd/library/cif/*.cif

it writes one JSON file to crates/athanor-xrd/tests/fixtures/pymatgen/ holding the stick pattern
that pymatgen's XRDCalculator computes with its defaults (Cu Ka = 1.54184 A, symprec = 0, no
Debye-Waller factor), 2theta 10-90 deg, scaled so the strongest peak is 100. The structure is read
with CifParser's defaults (parse_structures(): conventional cell as written, occupancy check on).
A handful of structures are also computed at Mo Ka (0.71073 A), 2theta 5-60 deg, into the
sub-directory moka/, to exercise the wavelength handling.

Fixture names: a CIF of the shared data is named by its stem when that stem is unique among the
shared data, otherwise by "<folder>__<stem>" (folder = its parent directory: cif,
amcsd_regenerated, references). CIFs of the project's library are always named "library__<stem>"
(the library holds copies of shared files under the same names), so names never change when the
library grows.

Anything pymatgen warns about while parsing (except the two notices in BOILERPLATE, raised for every
file) or computing is recorded in the fixture's "warnings";
a CIF pymatgen cannot turn into a pattern is listed with the reason in SKIPPED.tsv beside the
fixtures. Fixtures that the current inputs no longer produce are deleted, so the directory always
mirrors the inputs.

Notes for consumers:
  * "hkl" is exactly what pymatgen reports: for a hexagonal lattice (pymatgen's
    Lattice.is_hexagonal()) pymatgen writes 4-index Miller-Bravais (h, k, -h-k, l); the fixture's
    "hkl_form" says "hkil" in that case and "hkl" otherwise.
  * pymatgen merges reflections whose 2theta round to the same multiple of 1e-5 deg and drops peaks
    below 1e-3 of the maximum (scaled); "d" and "two_theta" are those of the first reflection of
    the merged group.
"""

from __future__ import annotations

import importlib.metadata
import json
import math
import sys
import warnings
from pathlib import Path

from pymatgen.analysis.diffraction.xrd import WAVELENGTHS, XRDCalculator
from pymatgen.io.cif import CifParser
from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

SHARED = Path("../shared/data")
SHARED_SOURCES = [
    SHARED / "cif",
    SHARED / "cif" / "amcsd_regenerated",
    SHARED / "xrd" / "autoanalyzer-example" / "references",
]
LIBRARY = Path("crates/athanor-xrd/library/cif")
OUT = Path("crates/athanor-xrd/tests/fixtures/pymatgen")
MOKA_OUT = OUT / "moka"

CUKA = ("CuKa", (10.0, 90.0))
MOKA = ("MoKa", (5.0, 60.0))
# Structures also computed at Mo Ka: cubic, hexagonal, tetragonal, trigonal, orthorhombic and
# monoclinic cells, light and heavy scatterers.
MOKA_NAMES = {
    "Si_227",
    "CeO2_225",
    "Al2O3_167",
    "ZnO_186",
    "cif__TiO2_141",
    "WO3_14",
    "LiFePO4_62",
    "amcsd_regenerated__LiF_225",
    "LaB6_221_amcsd14189",
}

# Warnings every CIF raises, unrelated to its content: pymatgen's notice that CifParser's default
# changed to primitive=False, and spglib's deprecation notice about its error handling. They are
# left out of the fixtures' "warnings".
BOILERPLATE = (
    "UserWarning: The default value of primitive was changed from True to False",
    "DeprecationWarning: Set OLD_ERROR_HANDLING to false",
)


def versions() -> dict[str, str]:
    """Versions of the packages whose behaviour the fixtures record."""
    out = {}
    for dist in ("pymatgen", "pymatgen-core", "spglib", "numpy"):
        try:
            out[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            out[dist] = "not installed"
    return out


def collect_inputs() -> list[tuple[str, Path]]:
    """(fixture name, CIF path relative to the repository root) for every input CIF."""
    shared: list[Path] = []
    for folder in SHARED_SOURCES:
        shared.extend(sorted(folder.glob("*.cif")))
    stems: dict[str, int] = {}
    for path in shared:
        stems[path.stem] = stems.get(path.stem, 0) + 1
    named = []
    for path in shared:
        name = path.stem if stems[path.stem] == 1 else f"{path.parent.name}__{path.stem}"
        named.append((name, path))
    for path in sorted(LIBRARY.glob("*.cif")):
        named.append((f"library__{path.stem}", path))
    seen = set()
    for name, path in named:
        if name in seen:
            raise SystemExit(f"fixture name clash: {name} ({path})")
        seen.add(name)
    return named


def lattice_record(lattice) -> dict:
    a, b, c = lattice.abc
    alpha, beta, gamma = lattice.angles
    return {
        "a": a,
        "b": b,
        "c": c,
        "alpha": alpha,
        "beta": beta,
        "gamma": gamma,
        "volume": lattice.volume,
    }


def fixture(cif: Path, radiation: str, two_theta_range: tuple[float, float], vers) -> dict:
    """Compute one fixture; raises on any failure (the caller records it as skipped)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        parser = CifParser(str(cif))
        structures = parser.parse_structures()
        if not structures:
            raise ValueError("CifParser returned no structure")
        structure = structures[0]
        sga = SpacegroupAnalyzer(structure)
        space_group = {"symbol": sga.get_space_group_symbol(), "number": sga.get_space_group_number()}
        calc = XRDCalculator(wavelength=radiation)
        pattern = calc.get_pattern(structure, scaled=True, two_theta_range=two_theta_range)
    messages = []
    for w in caught:
        text = f"{w.category.__name__}: {w.message}"
        if any(text.startswith(b) for b in BOILERPLATE):
            continue
        if text not in messages:
            messages.append(text)
    if len(structures) > 1:
        messages.append(f"CIF holds {len(structures)} structures; the first is used")

    peaks = []
    for tt, inten, d, fams in zip(pattern.x, pattern.y, pattern.d_hkls, pattern.hkls):
        for value in (tt, inten, d):
            if not math.isfinite(float(value)):
                raise ValueError(f"non-finite value in pattern at 2theta={tt}")
        peaks.append(
            {
                "two_theta": float(tt),
                "intensity": float(inten),
                "d": float(d),
                "hkls": [
                    {"hkl": [int(i) for i in f["hkl"]], "multiplicity": int(f["multiplicity"])}
                    for f in fams
                ],
            }
        )
    composition = structure.composition
    return {
        "cif": cif.as_posix(),
        "pymatgen_version": vers["pymatgen"],
        "pymatgen_core_version": vers["pymatgen-core"],
        "spglib_version": vers["spglib"],
        "wavelength": WAVELENGTHS[radiation],
        "radiation": radiation,
        "two_theta_range": list(two_theta_range),
        "settings": "CifParser(path).parse_structures() defaults; XRDCalculator(wavelength) defaults "
        "(symprec=0, no Debye-Waller); get_pattern(structure, scaled=True, two_theta_range)",
        "formula": composition.reduced_formula,
        "cell_formula": composition.formula,
        "space_group": space_group,
        "num_sites": len(structure),
        "is_ordered": structure.is_ordered,
        "lattice": lattice_record(structure.lattice),
        "hkl_form": "hkil" if structure.lattice.is_hexagonal() else "hkl",
        "warnings": messages,
        "peaks": peaks,
    }


def write_json(path: Path, data: dict) -> None:
    """Pretty JSON with one peak per line (compact diffs, readable by eye)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    head = {k: v for k, v in data.items() if k != "peaks"}
    text = json.dumps(head, indent=1, ensure_ascii=False)
    peaks = ",\n".join("  " + json.dumps(p, ensure_ascii=False) for p in data["peaks"])
    text = text[: text.rindex("}")].rstrip() + ',\n "peaks": [\n' + peaks + "\n ]\n}\n"
    path.write_text(text, encoding="utf-8")


def main() -> int:
    if not (Path("Cargo.toml").is_file() and Path("crates/athanor-xrd").is_dir()):
        print("run from the repository root", file=sys.stderr)
        return 2
    vers = versions()
    inputs = collect_inputs()
    written: set[Path] = set()
    skipped: list[tuple[str, str, str, str]] = []
    n_warn = 0
    for name, cif in inputs:
        jobs = [(OUT / f"{name}.json", CUKA)]
        if name in MOKA_NAMES:
            jobs.append((MOKA_OUT / f"{name}.json", MOKA))
        for out_path, (radiation, two_theta_range) in jobs:
            try:
                data = fixture(cif, radiation, two_theta_range, vers)
            except Exception as exc:  # noqa: BLE001 - every failure is recorded, none is fatal
                reason = f"{type(exc).__name__}: {exc}".replace("\t", " ").replace("\n", " ")
                skipped.append((name, cif.as_posix(), radiation, reason))
                print(f"SKIP {name} ({radiation}): {reason}", file=sys.stderr)
                continue
            if data["warnings"]:
                n_warn += 1
            write_json(out_path, data)
            written.add(out_path)

    skip_path = OUT / "SKIPPED.tsv"
    lines = ["fixture\tcif\tradiation\treason"]
    lines += ["\t".join(row) for row in skipped]
    skip_path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    removed = 0
    for old in list(OUT.glob("*.json")) + list(MOKA_OUT.glob("*.json")):
        if old not in written:
            old.unlink()
            removed += 1
    print(
        f"pymatgen {vers['pymatgen']} (core {vers['pymatgen-core']}): {len(inputs)} CIFs, "
        f"{len(written)} fixtures written ({n_warn} with warnings), {len(skipped)} skipped, "
        f"{removed} stale fixtures removed"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
