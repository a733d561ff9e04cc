#!/usr/bin/env python3
"""Make (or check) the synthetic phase-mixture benchmark of athanor-xrd's phase identification.

Run from the repository root:

    python3 scripts/make_synthetic_mixtures.py           # write crates/athanor-xrd/tests/fixtures/synthetic/
    python3 scripts/make_synthetic_mixtures.py --check   # regenerate in memory, compare with the files
    python3 scripts/make_synthetic_mixtures.py --visibility bench.json   # read a benchmark's misses

Every mixture is 1-4 phases of the built-in library (crates/athanor-xrd/library), drawn with a
seeded generator, so the same command always writes the same patterns and truths. Nothing here
uses athanor's own code: the stick patterns are pymatgen's, and the profile, Kα2 doublet,
strain, background and noise are written out below, so the benchmark checks the Rust engine
against an independent peer.

What one mixture is
-------------------
* Phases: the number of phases cycles 1, 2, 3, 4 with the mixture index. A first phase is drawn
  from the library; each further phase must share at least one cation (any element but O, H, C,
  N, F, Cl) with the phases drawn so far, and the mixture may hold at most MAX_ELEMENTS elements:
  precursors, intermediates and products of one chemical system, as a synthesis lab sees them.
  The element constraint handed to the engine is the set of elements of the phases' structure
  models (H is absent from some models; then it is absent here too).
* Distinguishability: a draw is rejected when one of its phases has a look-alike among the
  library entries allowed by its elements: an entry whose stick pattern, rendered with Gaussian
  peaks of FWHM 0.12° and stretched isotropically by up to ±2.5 %, reaches a cosine similarity of
  LOOKALIKE_COSINE (0.95) with the phase's own (e.g. Co3O4 and CoAl2O4, MgFe2O4 and Fe3O4, the
  Ti spinels LiTi2O4 and Li4Ti5O12). X-ray diffraction alone cannot tell such pairs apart once
  the lattice is strained, so a benchmark that asked for it would measure luck.
* Weight fractions: a flat Dirichlet draw over the phases; in every other multi-phase mixture
  one phase (not the first) is made minor, 3-8 wt%. Every fraction is at least 3 wt%.
* Lattice strain: each phase's cell lengths are scaled by 1 + e_iso + e_axis, e_iso uniform in
  ±ISO_STRAIN (1 %) and e_axis uniform in ±ANISO_STRAIN (0.3 %) per free axis of the crystal
  system (none for cubic cells and rhombohedral axes; a = b tied for tetragonal, trigonal and
  hexagonal cells); angles and fractional coordinates are kept. Laboratory samples differ from
  their reference structures by about this much (thermal expansion ~0.1 % per 100 K, doping and
  solid solutions up to ~1 %). The strained lattice is recorded in the truth.
* Displacement: each site keeps the isotropic displacement parameter of its CIF (Uiso/Biso, or
  Ueq = 1/3 Σ U^ij a*_i a*_j a_i·a_j of an anisotropic tensor); sites without one get none. It
  enters pymatgen as isotropic U_cif site properties of the strained cell. Entries with a site
  U above MAX_PLAUSIBLE_U = 0.1 Å² (B > 7.9 Å²) are never drawn: BaTiO3_99 (Ba U = 0.196 Å² as
  stored) and La2O2CO3_194 (La U33 = 4.3 Å², an impossible value that makes La all but
  invisible); both stay candidates for the engine.
* Sticks: pymatgen XRDCalculator("CuKa1") (λ1 = 1.54056 Å, pymatgen's atomic scattering table,
  no anomalous dispersion), get_pattern(scaled=False) on 2θ 5-95°: per-cell intensities
  |F|² · (1 + cos²2θ)/(sin²θ cosθ), summed over the reflections of each peak (multiplicity).
* Kα2: every stick is repeated at the Cu Kα2 wavelength λ2 = 1.54439 Å (pymatgen's table),
  2θ2 = 2 asin(λ2/λ1 · sinθ1), with KA2_RATIO = 0.5 of its intensity (the Lorentz-polarization
  and form-factor change across the doublet, < 0.3 %, is neglected).
* Quantification truth: in a flat-plate, infinitely thick sample the intensity of phase i is
  I_i = K/(2 μ_mixture) · (v_i / V_i²) · m|F|²LP, with v_i its volume fraction and V_i its cell
  volume. With v_i ∝ w_i/ρ_i and ρ_i = ZM_i/V_i (ZM_i the mass of the cell contents in amu, as
  the model states them, occupancies included) the multiplier of pymatgen's per-cell intensities
  is S_i ∝ w_i / (ZM_i · V_i), so w_i = S_i ZM_i V_i / Σ_j S_j ZM_j V_j (Hill & Howard, J. Appl.
  Cryst. 20, 467 (1987)). The generator sets S_i = w_i / (ZM_i V_i) from the drawn w_i; an engine
  that recovers w_i by Z·M·V quantification is checked against the draw, not against itself.
  Microabsorption, preferred orientation and amorphous content are not modelled (the hump in
  the background is scattering, not a phase with a weight).
* Profile: Thompson-Cox-Hastings pseudo-Voigt (Thompson, Cox & Hastings, J. Appl. Cryst. 20, 79
  (1987)) with unit area: Gaussian FWHM² = U tan²θ + V tanθ + W, Lorentzian FWHM = X tanθ +
  Y/cosθ (degrees 2θ); the TCH five-term total FWHM and η. U, V, W are those of the
  bragg-brentano-cu instrument (config/instruments) times a common factor 0.6-1.6, X is its
  0.0325° times 0.7-1.3. Each phase adds crystallite-size broadening Y = (180/π) K λ1 / D (K =
  0.9, D log-uniform 40-400 nm) and microstrain broadening X += (180/π) 4ε (ε uniform 0-5e-4).
  A zero shift uniform in ±0.02° moves every peak. Peaks are evaluated over the whole grid (no
  truncated tails).
* Background: a Chebyshev series of degree 4 on the 2θ range (level 0.5-5 % of the strongest
  peak, log-uniform), a low-angle decay A exp(-(2θ - 10°)/τ) and, in 30 % of the mixtures, an
  amorphous hump (a Gaussian of FWHM 6-12° centred at 18-32°).
* Counts: the noiseless pattern is scaled so that its strongest point holds 3,000-30,000
  counts (log-uniform) and each point is drawn from a Poisson distribution.
* Grid: 2θ 10-90° in 0.01° steps, 8,001 points.

Files (crates/athanor-xrd/tests/fixtures/synthetic/)
----------------------------------------------------
* mix_NNNN.xy.gz - the pattern: two columns, 2θ with two decimals and integer counts, after two
  comment lines; gzip with a zero timestamp (the .xy inside is byte-for-byte reproducible; the
  compressed bytes are zlib's). Compression keeps the 240 patterns under ~10 MB in the repository.
* mix_NNNN.json - the truth: phases (library id, formula, weight fraction, reference and strained
  lattice, cell mass and volume, size, microstrain, scale), elements, profile, background, counts
  and the seed. "schema" names the layout.
* README.md - this description in short, and how to regenerate.

The seed of mixture k is (MASTER_SEED, k); --check regenerates every mixture and compares the
decompressed pattern text and the truth with the committed files.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import importlib.metadata
import io
import json
import math
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from pymatgen.analysis.diffraction.xrd import WAVELENGTHS, XRDCalculator
from pymatgen.core import Lattice, Structure
from pymatgen.io.cif import CifParser

LIBRARY = Path("crates/athanor-xrd/library")
OUT = Path("crates/athanor-xrd/tests/fixtures/synthetic")
SCHEMA = "athanor-synthetic-mixture/1"

MASTER_SEED = 20_260_517
N_MIXTURES = 240
MAX_ELEMENTS = 5
NON_CATIONS = {"O", "H", "C", "N", "F", "Cl"}
MIN_FRACTION = 0.03
MINOR_RANGE = (0.03, 0.08)

ISO_STRAIN = 0.010
ANISO_STRAIN = 0.003

TWO_THETA_MIN, TWO_THETA_MAX, STEP = 10.0, 90.0, 0.01
N_POINTS = int(round((TWO_THETA_MAX - TWO_THETA_MIN) / STEP)) + 1
STICK_RANGE = (5.0, 95.0)

LAMBDA1 = WAVELENGTHS["CuKa1"]
LAMBDA2 = WAVELENGTHS["CuKa2"]
KA2_RATIO = 0.5

# The bragg-brentano-cu instrument (config/instruments/bragg-brentano-cu.toml), deg² and deg.
BASE_U, BASE_V, BASE_W = 0.0011090, -0.0011090, 0.0027726
BASE_X = 0.0325
SCHERRER_K = 0.9

# A site displacement above this (B > 7.9 Å²) is not physical for a crystalline phase at room
# temperature; entries that state one are never drawn (they stay candidates).
MAX_PLAUSIBLE_U = 0.1

LOOKALIKE_COSINE = 0.95
LOOKALIKE_STRETCH = 0.025
LOOKALIKE_FWHM = 0.12
LOOKALIKE_STEP = 0.02


# ---------------------------------------------------------------------------------------------
# Library


@dataclass
class Entry:
    """One library structure as pymatgen reads it, with its displacement parameters per site."""

    id: str
    formula: str
    space_group_number: int
    structure: Structure
    u_iso: np.ndarray  # Å², one per site of `structure` (0 where the CIF gives none)
    elements: frozenset[str]
    cations: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        self.cations = frozenset(self.elements - NON_CATIONS)


def _lower_keys(block: dict) -> dict:
    return {k.lower(): v for k, v in block.items()}


def _number(text) -> float | None:
    """A CIF number without its standard uncertainty; None for '?', '.' or junk."""
    if text is None:
        return None
    t = str(text).strip()
    if "(" in t:
        t = t[: t.index("(")]
    try:
        value = float(t)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def displacement_by_label(block: dict, lattice: Lattice) -> dict[str, float]:
    """Isotropic U (Å²) per CIF site label: Uiso, Biso/8π², or Ueq of an anisotropic U tensor."""
    b = _lower_keys(block)
    out: dict[str, float] = {}
    labels = b.get("_atom_site_label") or []
    uiso = b.get("_atom_site_u_iso_or_equiv")
    biso = b.get("_atom_site_b_iso_or_equiv")
    for i, label in enumerate(labels):
        u = _number(uiso[i]) if uiso is not None else None
        if u is None and biso is not None:
            bval = _number(biso[i])
            u = None if bval is None else bval / (8 * math.pi**2)
        if u is not None:
            out[label] = u
    alabels = b.get("_atom_site_aniso_label")
    if alabels:
        names = ["11", "22", "33", "12", "13", "23"]
        cols = [b.get(f"_atom_site_aniso_u_{n}") for n in names]
        if all(c is not None for c in cols):
            g = lattice.metric_tensor
            gs = lattice.reciprocal_lattice_crystallographic.metric_tensor
            astar = np.sqrt(np.diag(gs))
            for i, label in enumerate(alabels):
                vals = [_number(c[i]) for c in cols]
                if any(v is None for v in vals):
                    continue
                u11, u22, u33, u12, u13, u23 = vals
                m = np.array([[u11, u12, u13], [u12, u22, u23], [u13, u23, u33]])
                ueq = float(np.sum(m * np.outer(astar, astar) * g) / 3.0)
                out.setdefault(label, ueq)  # a stated Uiso/Biso (the author's Ueq) comes first
    return out


def load_library() -> list[Entry]:
    rows = list(csv.DictReader((LIBRARY / "MANIFEST.tsv").open(encoding="utf-8"), delimiter="\t"))
    entries = []
    for row in rows:
        path = LIBRARY / "cif" / row["file"]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            parser = CifParser(str(path))
            structure = parser.parse_structures(primitive=False)[0]
            block = next(iter(parser.as_dict().values()))
        by_label = displacement_by_label(block, structure.lattice)
        u_iso = np.array([max(0.0, by_label.get(site.label, 0.0)) for site in structure])
        elements = frozenset(el.symbol for el in structure.composition.elements)
        entries.append(
            Entry(
                id=row["file"].removesuffix(".cif"),
                formula=row["formula"],
                space_group_number=int(row["space_group_number"]),
                structure=structure,
                u_iso=u_iso,
                elements=elements,
            )
        )
    return entries


# ---------------------------------------------------------------------------------------------
# Sticks


CALC = XRDCalculator(wavelength="CuKa1")


def with_isotropic_u(structure: Structure, u_iso: np.ndarray) -> Structure:
    """A copy of `structure` whose sites carry their isotropic U as CIF-normalised U^ij."""
    gs = structure.lattice.reciprocal_lattice_crystallographic.metric_tensor
    astar = np.sqrt(np.diag(gs))
    norm = gs / np.outer(astar, astar)
    s = structure.copy()
    for key, (i, j) in {
        "U11_cif": (0, 0),
        "U22_cif": (1, 1),
        "U33_cif": (2, 2),
        "U23_cif": (1, 2),
        "U13_cif": (0, 2),
        "U12_cif": (0, 1),
    }.items():
        s.add_site_property(key, [float(u * norm[i, j]) for u in u_iso])
    return s


def sticks(structure: Structure, u_iso: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(2θ in degrees at Cu Kα1, per-cell intensity) of every peak pymatgen finds in STICK_RANGE."""
    s = with_isotropic_u(structure, u_iso) if np.any(u_iso > 0) else structure
    pattern = CALC.get_pattern(s, scaled=False, two_theta_range=STICK_RANGE)
    return np.asarray(pattern.x, dtype=float), np.asarray(pattern.y, dtype=float)


# ---------------------------------------------------------------------------------------------
# Look-alikes


class LookAlikes:
    """Cosine similarity of two entries' stick patterns, the second stretched isotropically."""

    def __init__(self, entries: dict[str, Entry]):
        self.entries = entries
        self.grid = np.arange(TWO_THETA_MIN, TWO_THETA_MAX + LOOKALIKE_STEP / 2, LOOKALIKE_STEP)
        sigma = LOOKALIKE_FWHM / (2 * math.sqrt(2 * math.log(2))) / LOOKALIKE_STEP
        half = int(math.ceil(5 * sigma))
        k = np.arange(-half, half + 1)
        self.kernel = np.exp(-0.5 * (k / sigma) ** 2)
        self.d: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self.cache: dict[tuple[str, str], float] = {}

    def _d_spacings(self, id_: str) -> tuple[np.ndarray, np.ndarray]:
        if id_ not in self.d:
            e = self.entries[id_]
            tt, inten = sticks(e.structure, e.u_iso)
            d = LAMBDA1 / (2 * np.sin(np.radians(tt / 2)))
            self.d[id_] = (d, inten / inten.max())
        return self.d[id_]

    def _render(self, d: np.ndarray, inten: np.ndarray, stretch: float) -> np.ndarray:
        x = LAMBDA1 / (2 * d * stretch)
        ok = x < 1
        tt = np.degrees(2 * np.arcsin(x[ok]))
        idx = np.rint((tt - TWO_THETA_MIN) / LOOKALIKE_STEP).astype(int)
        keep = (idx >= 0) & (idx < len(self.grid))
        binned = np.bincount(idx[keep], weights=inten[ok][keep], minlength=len(self.grid))
        return np.convolve(binned, self.kernel, mode="same")

    def similarity(self, a: str, b: str) -> float:
        key = (a, b) if a < b else (b, a)
        if key not in self.cache:
            da, ia = self._d_spacings(a)
            db, ib = self._d_spacings(b)
            pa = self._render(da, ia, 1.0)
            na = np.linalg.norm(pa)
            best = 0.0
            for f in 1 + np.linspace(-LOOKALIKE_STRETCH, LOOKALIKE_STRETCH, 101):
                pb = self._render(db, ib, f)
                nb = np.linalg.norm(pb)
                if na > 0 and nb > 0:
                    best = max(best, float(pa @ pb / (na * nb)))
            self.cache[key] = best
        return self.cache[key]


# ---------------------------------------------------------------------------------------------
# Drawing a mixture


def free_axes(entry: Entry) -> list[list[int]]:
    """Groups of cell axes that strain together, by crystal system."""
    n = entry.space_group_number
    lat = entry.structure.lattice
    if n >= 195:
        return [[0, 1, 2]]
    if n >= 75:
        a, b, c = lat.abc
        al, be, ga = lat.angles
        rhombohedral_axes = (
            143 <= n <= 167
            and abs(a - b) < 1e-6 * a
            and abs(a - c) < 1e-6 * a
            and abs(al - 90) > 1e-3
        )
        if rhombohedral_axes:
            return [[0, 1, 2]]
        # a = b in the tetragonal, trigonal (hexagonal axes) and hexagonal settings
        if abs(a - b) < 1e-6 * a:
            return [[0, 1], [2]]
        if abs(b - c) < 1e-6 * b:
            return [[1, 2], [0]]
        return [[0, 2], [1]]
    return [[0], [1], [2]]


def draw_phases(rng, n: int, entries: list[Entry], look: LookAlikes) -> list[Entry]:
    by_id = {e.id: e for e in entries}
    for _attempt in range(10_000):
        first = entries[rng.integers(len(entries))]
        picked = [first]
        elements = set(first.elements)
        cations = set(first.cations)
        ok = True
        while len(picked) < n:
            pool = [
                e
                for e in entries
                if e not in picked
                and (e.cations & cations)
                and len(elements | e.elements) <= MAX_ELEMENTS
            ]
            if not pool:
                ok = False
                break
            nxt = pool[rng.integers(len(pool))]
            picked.append(nxt)
            elements |= nxt.elements
            cations |= nxt.cations
        if not ok or any(p.u_iso.max(initial=0.0) > MAX_PLAUSIBLE_U for p in picked):
            continue
        allowed = [e.id for e in entries if e.elements <= elements]
        if any(
            look.similarity(p.id, other) >= LOOKALIKE_COSINE
            for p in picked
            for other in allowed
            if other != p.id
        ):
            continue
        return [by_id[p.id] for p in picked]
    raise RuntimeError(f"no distinguishable {n}-phase mixture found")


def draw_fractions(rng, n: int, minor: bool) -> np.ndarray:
    for _attempt in range(10_000):
        w = rng.dirichlet(np.ones(n))
        if minor and n >= 2:
            j = 1 + rng.integers(n - 1)
            wj = rng.uniform(*MINOR_RANGE)
            rest = np.delete(w, j)
            rest = rest / rest.sum() * (1 - wj)
            w = np.insert(rest, j, wj)
        if np.all(w >= MIN_FRACTION):
            return w
    raise RuntimeError("no weight fractions above the minimum found")


def strained(entry: Entry, rng) -> tuple[Structure, list[float]]:
    lat = entry.structure.lattice
    e_iso = rng.uniform(-ISO_STRAIN, ISO_STRAIN)
    strain = [e_iso] * 3
    groups = free_axes(entry)
    if len(groups) > 1:
        for group in groups:
            e_axis = rng.uniform(-ANISO_STRAIN, ANISO_STRAIN)
            for k in group:
                strain[k] = e_iso + e_axis
    a, b, c = (length * (1 + s) for length, s in zip(lat.abc, strain))
    new_lattice = Lattice.from_parameters(a, b, c, *lat.angles)
    s = Structure(
        new_lattice,
        entry.structure.species_and_occu,
        entry.structure.frac_coords,
        coords_are_cartesian=False,
        labels=[site.label for site in entry.structure],
    )
    return s, strain


# ---------------------------------------------------------------------------------------------
# Profile


def tch_pseudo_voigt(x: np.ndarray, center: np.ndarray, fwhm_g: np.ndarray, fwhm_l: np.ndarray):
    """Unit-area TCH pseudo-Voigt of each peak (rows) on the grid x (columns)."""
    g, l = fwhm_g[:, None], fwhm_l[:, None]
    fwhm = (
        g**5 + 2.69269 * g**4 * l + 2.42843 * g**3 * l**2 + 4.47163 * g**2 * l**3 + 0.07842 * g * l**4 + l**5
    ) ** 0.2
    q = l / fwhm
    eta = 1.36603 * q - 0.47719 * q**2 + 0.11116 * q**3
    dx = x[None, :] - center[:, None]
    z = (2 * dx / fwhm) ** 2
    gauss = (2 / fwhm) * math.sqrt(math.log(2) / math.pi) * np.exp(-math.log(2) * z)
    lorentz = (2 / (math.pi * fwhm)) / (1 + z)
    return eta * lorentz + (1 - eta) * gauss


def render_phase(x, tt1, inten, prof: dict, size_y: float, strain_x: float) -> np.ndarray:
    """Kα1 + Kα2 pattern of one phase's sticks (per-cell intensities, unit scale)."""
    theta1 = np.radians(tt1 / 2)
    s2 = LAMBDA2 / LAMBDA1 * np.sin(theta1)
    ok2 = s2 < 1
    tt2 = np.degrees(2 * np.arcsin(np.where(ok2, s2, 0.0)))
    centers = np.concatenate([tt1, tt2[ok2]]) + prof["zero_shift_deg"]
    weights = np.concatenate([inten, KA2_RATIO * inten[ok2]])
    theta = np.radians(centers / 2)
    tan, cos = np.tan(theta), np.cos(theta)
    g2 = prof["u"] * tan**2 + prof["v"] * tan + prof["w"]
    fwhm_g = np.sqrt(np.maximum(g2, 1e-8))
    fwhm_l = (prof["x"] + strain_x) * tan + size_y / cos
    out = np.zeros_like(x)
    chunk = 256
    for start in range(0, len(centers), chunk):
        sl = slice(start, start + chunk)
        out += weights[sl] @ tch_pseudo_voigt(x, centers[sl], fwhm_g[sl], fwhm_l[sl])
    return out


def background(x: np.ndarray, bg: dict) -> np.ndarray:
    t = 2 * (x - TWO_THETA_MIN) / (TWO_THETA_MAX - TWO_THETA_MIN) - 1
    y = np.polynomial.chebyshev.chebval(t, bg["chebyshev"])
    low = bg["low_angle"]
    y = y + low["amplitude"] * np.exp(-(x - TWO_THETA_MIN) / low["decay_deg"])
    hump = bg.get("hump")
    if hump:
        sigma = hump["fwhm_deg"] / (2 * math.sqrt(2 * math.log(2)))
        y = y + hump["height"] * np.exp(-0.5 * ((x - hump["center_deg"]) / sigma) ** 2)
    return np.maximum(y, bg["floor"])


# ---------------------------------------------------------------------------------------------
# One mixture


def lattice_dict(lat: Lattice) -> dict:
    a, b, c = lat.abc
    al, be, ga = lat.angles
    return {k: round(float(v), 6) for k, v in zip(("a", "b", "c", "alpha", "beta", "gamma"), (a, b, c, al, be, ga))} | {
        "volume": round(float(lat.volume), 4)
    }


def make_mixture(k: int, entries: list[Entry], look: LookAlikes) -> tuple[str, dict]:
    """(.xy text, truth) of mixture k (1-based)."""
    rng = np.random.default_rng([MASTER_SEED, k])
    n = (k - 1) % 4 + 1
    phases = draw_phases(rng, n, entries, look)
    minor = n >= 2 and (k // 4) % 2 == 1
    w = draw_fractions(rng, n, minor)

    factor = rng.uniform(0.6, 1.6)
    prof = {
        "kind": "Thompson-Cox-Hastings pseudo-Voigt, unit area",
        "u": BASE_U * factor,
        "v": BASE_V * factor,
        "w": BASE_W * factor,
        "x": BASE_X * rng.uniform(0.7, 1.3),
        "y": 0.0,
        "zero_shift_deg": rng.uniform(-0.02, 0.02),
        "wavelength_ka1_angstrom": LAMBDA1,
        "wavelength_ka2_angstrom": LAMBDA2,
        "ka2_ratio": KA2_RATIO,
    }
    x = TWO_THETA_MIN + STEP * np.arange(N_POINTS)

    records = []
    total = np.zeros_like(x)
    for entry, wi in zip(phases, w):
        s, strain = strained(entry, rng)
        size_nm = float(math.exp(rng.uniform(math.log(40), math.log(400))))
        microstrain = rng.uniform(0.0, 5e-4)
        size_y = math.degrees(SCHERRER_K * LAMBDA1 / (size_nm * 10))
        strain_x = math.degrees(4 * microstrain)
        tt, inten = sticks(s, entry.u_iso)
        cell_mass = float(s.composition.weight)
        volume = float(s.volume)
        scale = wi / (cell_mass * volume)
        total += scale * render_phase(x, tt, inten, prof, size_y, strain_x)
        records.append(
            {
                "id": entry.id,
                "formula": entry.formula,
                "reduced_formula": s.composition.reduced_formula,
                "space_group_number": entry.space_group_number,
                "weight_fraction": round(float(wi), 6),
                "reference_lattice": lattice_dict(entry.structure.lattice),
                "lattice": lattice_dict(s.lattice),
                "strain": [round(float(e), 6) for e in strain],
                "cell_mass_amu": round(cell_mass, 4),
                "cell_volume_angstrom3": round(volume, 4),
                "crystallite_size_nm": round(size_nm, 3),
                "microstrain": round(float(microstrain), 7),
                "lorentzian_y_deg": round(size_y, 6),
                "lorentzian_x_extra_deg": round(strain_x, 6),
                "_scale": scale,
            }
        )

    peak_max = float(math.exp(rng.uniform(math.log(3000), math.log(30000))))
    k_scale = peak_max / total.max()
    level = peak_max * float(math.exp(rng.uniform(math.log(0.005), math.log(0.05))))
    cheb = [level] + [level * rng.uniform(-0.3, 0.1)] + [level * rng.uniform(-0.1, 0.1) for _ in range(3)]
    bg = {
        "chebyshev": [round(float(c), 4) for c in cheb],
        "chebyshev_domain_deg": [TWO_THETA_MIN, TWO_THETA_MAX],
        "low_angle": {
            "amplitude": round(level * rng.uniform(0.0, 1.0), 4),
            "decay_deg": round(rng.uniform(5.0, 15.0), 4),
        },
        "floor": round(0.3 * level, 4),
    }
    if rng.uniform() < 0.3:
        bg["hump"] = {
            "center_deg": round(rng.uniform(18.0, 32.0), 4),
            "fwhm_deg": round(rng.uniform(6.0, 12.0), 4),
            "height": round(level * rng.uniform(0.2, 1.0), 4),
        }
    mean = k_scale * total + background(x, bg)
    counts = rng.poisson(mean)

    for r in records:
        r["scale"] = float(f"{k_scale * r.pop('_scale'):.6e}")
    elements = sorted(set().union(*(e.elements for e in phases)))
    name = f"mix_{k:04d}"
    truth = {
        "schema": SCHEMA,
        "id": name,
        "pattern": f"{name}.xy.gz",
        "seed": [MASTER_SEED, k],
        "elements": elements,
        "phases": records,
        "two_theta": {"min": TWO_THETA_MIN, "max": TWO_THETA_MAX, "step": STEP, "points": N_POINTS},
        "radiation": "Cu Ka1 + Ka2 (pymatgen wavelengths)",
        "profile": {k_: (round(v, 8) if isinstance(v, float) else v) for k_, v in prof.items()},
        "background": bg,
        "peak_max_counts": round(peak_max, 2),
        "noise": "Poisson",
        "scale_definition": "counts·deg per unit of pymatgen's per-cell intensity (unit-area peaks); "
        "scale_i = K·w_i/(cell_mass_i·cell_volume_i), so w_i = scale_i·cell_mass_i·cell_volume_i / Σ_j(…)",
        "generator": "scripts/make_synthetic_mixtures.py",
    }
    lines = [
        f"# {name}: synthetic {n}-phase mixture (truth in {name}.json), Cu Ka1+Ka2",
        "# 2theta_deg counts",
    ]
    lines += [f"{TWO_THETA_MIN + STEP * i:.2f} {int(c)}" for i, c in enumerate(counts)]
    return "\n".join(lines) + "\n", truth


# ---------------------------------------------------------------------------------------------
# Visibility of phases (to read a benchmark's misses)


def phase_visibility(truth: dict, entries: dict[str, Entry]) -> dict[str, float]:
    """Signal-to-noise ratio of each phase's strongest point in the noiseless pattern: its
    contribution there over the square root of the expected counts (all phases + background)."""
    x = TWO_THETA_MIN + STEP * np.arange(N_POINTS)
    prof = truth["profile"]
    total = background(x, truth["background"])
    parts = {}
    for p in truth["phases"]:
        e = entries[p["id"]]
        lat = p["lattice"]
        s = Structure(
            Lattice.from_parameters(lat["a"], lat["b"], lat["c"], lat["alpha"], lat["beta"], lat["gamma"]),
            e.structure.species_and_occu,
            e.structure.frac_coords,
            labels=[site.label for site in e.structure],
        )
        tt, inten = sticks(s, e.u_iso)
        y = p["scale"] * render_phase(x, tt, inten, prof, p["lorentzian_y_deg"], p["lorentzian_x_extra_deg"])
        parts[p["id"]] = y
        total = total + y
    out = {}
    for id_, y in parts.items():
        i = int(np.argmax(y))
        out[id_] = float(y[i] / math.sqrt(total[i]))
    return out


def visibility_report(bench_json: Path, entries: list[Entry]) -> int:
    """Recall by visibility of the minor (< 8 wt%) and missed phases of a saved
    `athanor xrd bench-identify --save` result."""
    by_id = {e.id: e for e in entries}
    result = json.loads(bench_json.read_text(encoding="utf-8"))
    bins = [(0, 5), (5, 10), (10, 20), (20, math.inf)]
    counts = {b: [0, 0] for b in bins}
    rows = []
    for mix in result["mixtures"]:
        multi = len(mix["truth"]) > 1
        picked = [t for t in mix["truth"] if (multi and t["weight_fraction"] < 0.08) or t["id"] in mix["missed"]]
        if not picked:
            continue
        truth = json.loads((OUT / f"{mix['id']}.json").read_text(encoding="utf-8"))
        snr = phase_visibility(truth, by_id)
        for t in picked:
            found = t["id"] not in mix["missed"]
            v = snr[t["id"]]
            b = next(b for b in bins if b[0] <= v < b[1])
            counts[b][0] += 1
            counts[b][1] += found
            rows.append((v, mix["id"], t["id"], t["weight_fraction"], found))
    print("visibility (SNR of the phase's strongest point)  phases  found")
    for b in bins:
        label = f">= {b[0]}" if b[1] == math.inf else f"{b[0]}-{b[1]}"
        print(f"{label:<47} {counts[b][0]:>6} {counts[b][1]:>6}")
    print("\nmissed phases:")
    for v, mix_id, id_, w, found in sorted(rows):
        if not found:
            print(f"  {mix_id} {id_:<32} {100 * w:5.1f} wt%  SNR {v:6.1f}")
    return 0


# ---------------------------------------------------------------------------------------------
# Output


def gzip_bytes(text: str) -> bytes:
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=9) as f:
        f.write(text.encode("ascii"))
    return buf.getvalue()


def truth_text(truth: dict) -> str:
    """One top-level key per line and one phase per line: compact, and diffs read well."""
    lines = []
    for key, value in truth.items():
        if key == "phases":
            inner = ",\n".join("  " + json.dumps(p, ensure_ascii=False) for p in value)
            lines.append(f' "{key}": [\n{inner}\n ]')
        else:
            lines.append(f" {json.dumps(key)}: {json.dumps(value, ensure_ascii=False)}")
    return "{\n" + ",\n".join(lines) + "\n}\n"


def readme(truths: list[dict], versions: dict[str, str]) -> str:
    by_n: dict[int, int] = {}
    minor = 0
    for t in truths:
        n = len(t["phases"])
        by_n[n] = by_n.get(n, 0) + 1
        minor += sum(1 for p in t["phases"] if n > 1 and p["weight_fraction"] < 0.08)
    counts = ", ".join(f"{by_n[n]} with {n} phase{'s' if n > 1 else ''}" for n in sorted(by_n))
    vers = ", ".join(f"{k} {v}" for k, v in versions.items())
    smallest = min(p["weight_fraction"] for t in truths for p in t["phases"])
    return f"""# Synthetic phase mixtures

{len(truths)} powder patterns of mixtures of the built-in library's phases:
{counts}; {minor} minor phases below 8 wt%, the smallest at {100 * smallest:.1f} wt%.
They were made by `scripts/make_synthetic_mixtures.py` with
pymatgen stick patterns and the script's own TCH pseudo-Voigt profile, Cu Kα1/Kα2 doublet,
lattice strain, background and Poisson noise. The script's docstring says exactly how; each
`mix_NNNN.json` holds the truth (phases, weight fractions, strained lattices, profile,
background, seed) and `mix_NNNN.xy.gz` the pattern (2θ 10–90° in 0.01° steps, 8,001 points,
integer counts, gzip).

Used by `athanor xrd bench-identify` (docs/benchmarks.md) and by the regression test
`crates/athanor-xrd/tests/synthetic_mixtures.rs`.

Regenerate or check (from the repository root, with scripts/requirements-peers.txt installed):

```sh
python3 scripts/make_synthetic_mixtures.py           # rewrite this folder
python3 scripts/make_synthetic_mixtures.py --check   # compare a fresh run with the files here
```

Made with {vers}.
"""


def versions() -> dict[str, str]:
    out = {}
    for dist in ("pymatgen", "pymatgen-core", "numpy"):
        try:
            out[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            out[dist] = "not installed"
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="compare with the committed files instead of writing")
    ap.add_argument("--count", type=int, default=N_MIXTURES, help="number of mixtures (default %(default)s)")
    ap.add_argument(
        "--visibility",
        type=Path,
        metavar="BENCH_JSON",
        help="instead: recall by visibility of the minor and missed phases of a saved "
        "`athanor xrd bench-identify --save` result",
    )
    args = ap.parse_args()
    if not (Path("Cargo.toml").is_file() and LIBRARY.is_dir()):
        print("run from the repository root", file=sys.stderr)
        return 2

    entries = load_library()
    if args.visibility:
        return visibility_report(args.visibility, entries)
    look = LookAlikes({e.id: e for e in entries})
    vers = versions()
    truths = []
    mismatches = 0
    if not args.check:
        OUT.mkdir(parents=True, exist_ok=True)
        for old in list(OUT.glob("mix_*.json")) + list(OUT.glob("mix_*.xy.gz")):
            old.unlink()
    for k in range(1, args.count + 1):
        xy, truth = make_mixture(k, entries, look)
        truths.append(truth)
        name = truth["id"]
        if args.check:
            try:
                old_xy = gzip.decompress((OUT / f"{name}.xy.gz").read_bytes()).decode("ascii")
                old_truth = (OUT / f"{name}.json").read_text(encoding="utf-8")
            except OSError as exc:
                print(f"{name}: {exc}", file=sys.stderr)
                mismatches += 1
                continue
            if old_xy != xy or old_truth != truth_text(truth):
                print(f"{name}: differs from the committed files", file=sys.stderr)
                mismatches += 1
        else:
            (OUT / f"{name}.xy.gz").write_bytes(gzip_bytes(xy))
            (OUT / f"{name}.json").write_text(truth_text(truth), encoding="utf-8")
        phases = ", ".join(f"{p['id']} {100 * p['weight_fraction']:.1f}%" for p in truth["phases"])
        print(f"{name}: {phases}")
    if args.check:
        print(f"{args.count} mixtures regenerated, {mismatches} differ")
        return 1 if mismatches else 0
    (OUT / "README.md").write_text(readme(truths, vers), encoding="utf-8")
    print(f"{args.count} mixtures written to {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
