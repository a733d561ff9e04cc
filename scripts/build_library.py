#!/usr/bin/env python3
"""Build (or check) athanor-xrd's built-in reference library of crystal structures.

Run from the repository root:

    python3 scripts/build_library.py           # write crates/athanor-xrd/library/{cif/,MANIFEST.tsv}
    python3 scripts/build_library.py --check   # rebuild in memory and compare with what is committed

Two sources, both openly licensed:

1. ../shared/data/cif: every CIF listed in its MANIFEST.tsv (the byte-original COD/AMCSD files of
   cif/ and the larixite-regenerated AMCSD files of cif/amcsd_regenerated/) is copied byte for byte,
   with its manifest and NOTES.tsv rows carried into the library's manifest. Nothing is taken from
   ../shared/data/xrd/autoanalyzer-example/references (provenance unknown; never shipped).

2. The American Mineralogist Crystal Structure Database (AMCSD) snapshot that the PyPI package
   larixite (MIT) bundles as larixite/amcsd_cif1.db. It is opened read-only straight from the
   installed package (larixite.amcsd.AMCSD(dbname, read_only=True); get_amcsd() is never called
   because it downloads a larger database). Each entry in AMCSD_SELECTION below is re-serialised
   from the raw database strings (AMCSD.get_cif(id, as_strings=True)) in the layout of larixite's
   CifStructure.ciftext, with three deliberate differences:
     * values are written as stored ('?' stays '?'; larixite's float path turns '?' into 2.0,
       which would be read as U_iso = 2 A^2);
     * an _atom_site_type_symbol column is added, the element being inferred from the site label
       among the elements of _chemical_formula_sum (AMCSD labels such as "Wat1" would otherwise be
       read as tungsten), and the resulting cell composition is checked against the formula;
     * strings are quoted so that an apostrophe (O'Neill) cannot end them.

Every file of the library is then verified: it must contain no ICSD/FIZ marking, parse with
pymatgen's CifParser (defaults), give the composition its source states (H may be absent from the
model; that is noted), and have no occupancy above 1. The space group recorded in the manifest is
the one spglib finds (pymatgen SpacegroupAnalyzer, symprec 0.01) in the structure pymatgen built.
Caveats found automatically (partial occupancy, no displacement parameters, H not in the model,
large U_iso, measurement conditions stated by AMCSD) are appended to each entry's notes.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import importlib.metadata
import io
import json
import re
import sqlite3
import sys
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import spglib
from pymatgen.core import Composition
from pymatgen.core.operations import SymmOp
from pymatgen.io.cif import CifFile, CifParser
from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

SHARED_CIF = Path("../shared/data/cif")
LIBRARY = Path("crates/athanor-xrd/library")
LIBRARY_CIF = LIBRARY / "cif"
MANIFEST_COLUMNS = [
    "file",
    "name",
    "formula",
    "space_group",
    "space_group_number",
    "source",
    "source_id",
    "licence",
    "reference",
    "notes",
]

AMCSD_LICENCE = (
    "AMCSD: free to use with citation of the original article (Downs & Hall-Wallace 2003, "
    "Am. Mineral. 88, 247-250); text re-serialised from larixite's bundled snapshot (MIT)"
)
WYCKOFF = "Wyckoff, Crystal Structures (2nd ed., 1963) compilation: idealised/old coordinates"

# (AMCSD id, file stem (the space-group number is appended), name, caveats written by hand)
AMCSD_SELECTION: list[tuple[int, str, str, str]] = [
    # --- lithium ---
    (18092, "LiNO3", "lithium nitrate", "1928 structure-type determination (Zachariasen)"),
    (16106, "LiAlO2", "gamma-LiAlO2", "ambient-pressure form"),
    (12984, "LiAlO2", "alpha-LiAlO2", "high-pressure-synthesised, quenchable layered form"),
    (10670, "Li4GeO4", "lithium orthogermanate", ""),
    (12117, "Li3NbO4", "lithium orthoniobate", "1964"),
    (10410, "Li3TaO4", "beta-Li3TaO4", ""),
    (13334, "LiTa3O8", "M-LiTa3O8 (lithiowodginite type)", ""),
    (10451, "LiV2O4", "LiV2O4 spinel", ""),
    (14220, "LiTi2O4", "LiTi2O4 spinel", "1971 powder study"),
    (12260, "LiGa5O8", "lithium gallate spinel (ordered, P4_332)", "1963"),
    # --- sodium, potassium ---
    (11742, "Na2O", "sodium oxide (antifluorite)", WYCKOFF),
    (11666, "Na2O2", "sodium peroxide", WYCKOFF),
    (9441, "NaNO3", "nitratine (sodium nitrate)", "neutron, 20 C"),
    (9267, "NaHCO3", "nahcolite (sodium hydrogen carbonate)", ""),
    (15788, "Na2HPO4", "nahpoite (anhydrous disodium hydrogen phosphate)", ""),
    (18686, "NaNbO3", "sodium niobate (lueshite, room-temperature P phase)", "neutron powder, 22 C"),
    (16128, "NaFeO2", "beta-NaFeO2", ""),
    (11734, "K2O", "potassium oxide (antifluorite)", WYCKOFF),
    (13162, "KNO3", "niter (alpha-KNO3)", "neutron, 25 C"),
    (13165, "KH2PO4", "KDP (potassium dihydrogen phosphate)", "295 K; H disordered over two half-occupied sites"),
    # --- magnesium ---
    (14731, "Mg(OH)2", "brucite", "neutron"),
    (990, "MgCO3", "magnesite", "24 C"),
    (9664, "Mg(NO3)2(H2O)6", "magnesium nitrate hexahydrate (nitromagnesite)", ""),
    (11901, "Mg3(PO4)2", "farringtonite (magnesium orthophosphate)", ""),
    (546, "Mg2SiO4", "forsterite (olivine)", "23 C, 1 atm"),
    (9834, "MgTiO3", "geikielite (ilmenite type)", "neutron TOF powder"),
    (7762, "MgCr2O4", "magnesiochromite spinel", ""),
    (3675, "MgFe2O4", "magnesioferrite spinel", "partly inverse; in situ at 28 C"),
    (1746, "Mg2TiO4", "qandilite (inverse spinel)", "quenched from 1405 C; mixed Mg/Ti sites"),
    (8399, "MgGa2O4", "MgGa2O4 spinel", "quenched from 1402 C; mixed Mg/Ga sites"),
    (13944, "MgNb2O6", "magnesium niobate (columbite type)", "neutron powder"),
    # --- calcium ---
    (9874, "Ca(OH)2", "portlandite", ""),
    (9502, "Ca(NO3)2(H2O)2", "calcium nitrate dihydrate (beta)", "the usual reagent is the tetrahydrate"),
    (236, "CaCO3", "aragonite", "natural crystal"),
    (4924, "Ca5(PO4)3OH", "hydroxylapatite", "synthetic As-free end member"),
    (2334, "CaSiO3", "pseudowollastonite", "high-temperature CaSiO3 polymorph, quenchable"),
    (12179, "Ca2SiO4", "larnite (beta-Ca2SiO4, belite)", ""),
    (11930, "Ca2Fe2O5", "dicalcium ferrite (srebrodolskite, brownmillerite type)", ""),
    (9210, "CaAl4O7", "grossite (calcium dialuminate)", "1958"),
    (9964, "Ca12Al14O33", "mayenite", "293 K; O partly occupied"),
    (5117, "CaSO4", "anhydrite", "natural crystal"),
    (11093, "CaSO4(H2O)2", "gypsum", ""),
    (13207, "CaMoO4", "powellite (scheelite type)", "P = 0.0001 GPa"),
    (13201, "CaWO4", "scheelite", "P = 0.0001 GPa, in air"),
    # --- strontium, barium ---
    (11405, "SrO", "strontium oxide (rock salt)", WYCKOFF),
    (9979, "Sr(NO3)2", "strontium nitrate", ""),
    (10677, "Sr(OH)2", "strontium hydroxide", ""),
    (9209, "SrAl4O7", "strontium dialuminate", "1958"),
    (17348, "SrZrO3", "strontium zirconate (cubic model)", "1933 cubic perovskite model; room-temperature SrZrO3 is orthorhombic Pnma, so weak superstructure peaks are missing"),
    (11277, "BaO", "barium oxide (rock salt)", WYCKOFF),
    (15069, "BaO2", "barium peroxide", "single crystal"),
    (9978, "Ba(NO3)2", "nitrobarite (barium nitrate)", ""),
    (5144, "BaSO4", "barite", ""),
    (16031, "BaAl2O4", "barium aluminate", "1965"),
    # --- yttrium, lanthanum, cerium ---
    (1706, "YPO4", "xenotime-(Y)", ""),
    (1554, "Y2(CO3)3(H2O)2", "tengerite-(Y) (yttrium carbonate hydrate)", "natural; stated Y2(CO3)3.2-3H2O"),
    (16519, "Y3Fe5O12", "yttrium iron garnet (YIG)", "1956 neutron study"),
    (15852, "YBa2Cu3O6", "YBa2Cu3O6 (tetragonal, non-superconducting)", ""),
    (1699, "LaPO4", "monazite-(La)", ""),
    (13662, "La2O2CO3", "La2O2CO3-II (hexagonal)", "carbonate O disordered (partial occupancy)"),
    (10454, "LaAlO3", "LaAlO3 (cubic model)", "cubic phase made at 4.5 GPa; ordinary LaAlO3 is rhombohedral R-3c at room temperature, with small peak splittings and weak superstructure peaks"),
    (15260, "LaNiO3", "lanthanum nickelate", "neutron"),
    (13263, "La2NiO4", "La2NiO4 (orthorhombic Bmab)", "neutron"),
    (1698, "CePO4", "monazite-(Ce)", ""),
    (17205, "Ce2O3", "A-type Ce2O3", "1926 model (Zachariasen)"),
    # --- titanium, zirconium, vanadium, niobium ---
    (5160, "TiO2", "brookite", "25 C"),
    (10594, "Ti2O3", "titanium sesquioxide (corundum type)", "1962"),
    (11427, "TiO", "titanium monoxide (rock-salt model)", WYCKOFF + "; real TiO is vacancy-ordered"),
    (925, "FeTiO3", "ilmenite", "24 C"),
    (9805, "MnTiO3", "pyrophanite (ilmenite type)", ""),
    (6578, "Mn2TiO4", "manganese orthotitanate spinel", ""),
    (237, "ZrSiO4", "zircon", ""),
    (11730, "ZrO2", "cubic zirconia (fluorite model)", WYCKOFF + "; pure cubic ZrO2 is not stable at room temperature"),
    (10595, "V2O3", "karelianite (V2O3)", "1962"),
    (11768, "VO2", "VO2 (monoclinic M1)", WYCKOFF),
    (11362, "NbO", "niobium monoxide (rock-salt model)", WYCKOFF + "; real NbO is vacancy-ordered Pm-3m"),
    (11772, "NbO2", "niobium dioxide", WYCKOFF),
    # --- chromium, molybdenum, tungsten ---
    (9413, "CrO2", "chromium dioxide (rutile type)", ""),
    (3801, "ZnCr2O4", "zincochromite spinel", "298 K"),
    (8918, "FeCr2O4", "chromite spinel", "synthetic end member"),
    (12911, "MnCr2O4", "manganochromite spinel", "1966"),
    (15305, "CoCr2O4", "cochromite spinel", ""),
    (12951, "NiCr2O4", "nichromite (cubic model)", "1947 cubic model; NiCr2O4 is tetragonally distorted (I4_1/amd) at room temperature"),
    (11769, "MoO2", "tugarinovite (MoO2)", WYCKOFF),
    (9999, "Bi2MoO6", "koechlinite (gamma-Bi2MoO6)", "neutron powder"),
    (13370, "WO3", "hexagonal WO3", "metastable polymorph"),
    (14496, "Bi2WO6", "russellite (Bi2WO6)", "neutron powder"),
    # --- manganese ---
    (3565, "MnO2", "ramsdellite", ""),
    (17792, "MnO2", "alpha-MnO2 (hollandite type)", "1951 model without tunnel cations"),
    (13942, "MnOOH", "manganite (gamma-MnOOH)", "natural crystal"),
    (13941, "MnOOH", "groutite (alpha-MnOOH)", "natural crystal"),
    (11790, "Mn(OH)2", "pyrochroite", WYCKOFF),
    (9408, "MnF2", "manganese difluoride (rutile type)", ""),
    (17061, "MnFe2O4", "jacobsite (MnFe2O4 spinel)", "1930 model"),
    # --- iron ---
    (11314, "FeO", "wuestite (rock-salt model)", WYCKOFF + "; real wuestite is Fe-deficient (Fe1-xO)"),
    (10471, "FeOOH", "goethite (alpha-FeOOH)", "natural crystal"),
    (11833, "FeOOH", "lepidocrocite (gamma-FeOOH)", WYCKOFF),
    (17561, "FeCO3", "siderite", "natural crystal, P = 0.02 GPa"),
    (12693, "FePO4", "iron phosphate (rodolicoite, quartz type)", ""),
    (480, "Fe2SiO4", "fayalite (olivine)", "20 C"),
    (6509, "FeAl2O4", "hercynite spinel", "annealed at 700 C; partly inverse"),
    # --- cobalt, nickel, copper, zinc ---
    (11780, "Co(OH)2", "beta-Co(OH)2", WYCKOFF),
    (10021, "CoCO3", "spherocobaltite", "hydrothermal synthetic"),
    (6549, "CoAl2O4", "cobalt aluminate spinel", "quenched from 700 C; partly inverse"),
    (12991, "CoOOH", "heterogenite-3R (CoOOH)", ""),
    (9939, "Ni(OH)2", "theophrastite (beta-Ni(OH)2)", ""),
    (10020, "NiCO3", "gaspeite (NiCO3)", "hydrothermal synthetic"),
    (7534, "NiAl2O4", "nickel aluminate spinel", "quenched from 700 C; partly inverse"),
    (10212, "Cu(OH)2", "spertiniite (Cu(OH)2)", ""),
    (8598, "Cu3(CO3)2(OH)2", "azurite", "natural crystal"),
    (7107, "CuAl2O4", "copper aluminate spinel", "annealed at 900 C; partly inverse"),
    (9195, "CuFe2O4", "tetragonal copper ferrite", "1956; cell extrapolated"),
    (10691, "Zn(NO3)2(H2O)2", "zinc nitrate dihydrate", "the usual reagent is the hexahydrate"),
    (102, "ZnCO3", "smithsonite", "1961 tabulation (Graf)"),
    (18272, "Zn(OH)2", "wulfingite (epsilon-Zn(OH)2)", ""),
    (7782, "ZnAl2O4", "gahnite spinel", ""),
    (18744, "Zn2SiO4", "willemite", ""),
    # --- aluminium, indium, silicon, tin, bismuth ---
    (13997, "AlOOH", "boehmite (gamma-AlOOH)", "synthetic, prepared at 23 C; nanocrystalline"),
    (7340, "AlOOH", "diaspore (alpha-AlOOH)", ""),
    (10649, "Al(OH)3", "bayerite", ""),
    (4489, "AlPO4", "berlinite", "natural (cave) sample"),
    (13053, "In(OH)3", "dzhalindite (In(OH)3)", "neutron; H disordered (partial occupancy)"),
    (1629, "SiO2", "alpha-cristobalite", "room pressure"),
    (723, "Al2SiO5", "sillimanite", "25 C"),
    (9724, "SnO", "romarchite (SnO)", ""),
    (10069, "Bi2O3", "beta-Bi2O3", "metastable tetragonal polymorph"),
    (5770, "Bi2O2CO3", "bismutite", "natural"),
    (13200, "BiFeO3", "bismuth ferrite", "1971"),
    (12027, "BiVO4", "pucherite (orthorhombic BiVO4)", "natural"),
    # --- garnets ---
    (629, "Mg3Al2(SiO4)3", "pyrope garnet", "P = 1 bar"),
    (1570, "Ca3Al2(SiO4)3", "grossular garnet", "synthetic"),
    (246, "Ca3Fe2(SiO4)3", "andradite garnet", "natural"),
    # --- olivine-type phosphate ---
    (9238, "LiMnPO4", "lithiophilite (olivine type)", ""),
]


# Names for the files copied from ../shared/data/cif (their manifest has none).
SHARED_NAMES = {
    "Al_225.cif": "aluminium",
    "Cu_225.cif": "copper",
    "Si_227.cif": "silicon (line-position standard)",
    "BaTiO3_221.cif": "BaTiO3 (cubic, paraelectric)",
    "KCl_225.cif": "sylvite (KCl)",
    "Al2O3_167.cif": "corundum (alpha-Al2O3, intensity standard)",
    "Fe3O4_227.cif": "magnetite",
    "MgO_225.cif": "periclase (MgO)",
    "CaTiO3_62.cif": "perovskite (CaTiO3)",
    "SiO2_154.cif": "alpha-quartz",
    "TiO2_136.cif": "rutile",
    "MgAl2O4_227.cif": "spinel (MgAl2O4)",
    "La2Zr2O7_227.cif": "lanthanum zirconate pyrochlore",
    "NaCl_225.cif": "halite (NaCl)",
    "TiO2_141.cif": "anatase",
    "ZnO_186.cif": "zincite (ZnO, wurtzite type)",
    "V2O5_59.cif": "vanadium pentoxide (shcherbinaite)",
    "NiO_225.cif": "bunsenite (NiO)",
    "MnO_225.cif": "manganosite (MnO)",
    "MnO2_136.cif": "pyrolusite (beta-MnO2)",
    "Mn2O3_206.cif": "bixbyite-type Mn2O3",
    "CoO_225.cif": "cobalt(II) oxide (rock salt)",
    "Co3O4_227.cif": "Co3O4 spinel",
    "Cu2O_224.cif": "cuprite (Cu2O)",
    "CeO2_225.cif": "ceria (CeO2, fluorite type)",
    "WO3_14.cif": "gamma-WO3 (monoclinic)",
    "MoO3_62.cif": "alpha-MoO3 (molybdite)",
    "SnO2_136.cif": "cassiterite (SnO2)",
    "LiFePO4_62.cif": "triphylite (LiFePO4, olivine type)",
    "LiCoO2_166.cif": "lithium cobalt oxide (layered)",
    "Bi2O3_14.cif": "bismite (alpha-Bi2O3)",
    "Li2CO3_15.cif": "zabuyelite (Li2CO3)",
    "MnCO3_167.cif": "rhodochrosite (MnCO3)",
    "ZrO2_14.cif": "baddeleyite (monoclinic ZrO2)",
    "Mn3O4_141.cif": "hausmannite (Mn3O4)",
    "Fe2O3_167.cif": "hematite (alpha-Fe2O3)",
    "CuO_15.cif": "tenorite (CuO)",
    "Cr2O3_167.cif": "eskolaite (Cr2O3)",
    "CaO_225.cif": "lime (CaO)",
    "CaCO3_167.cif": "calcite",
    "SrCO3_62.cif": "strontianite (SrCO3)",
    "BaCO3_62.cif": "witherite (BaCO3)",
    "Y2O3_206.cif": "yttria (bixbyite type)",
    "La2O3_150.cif": "A-type La2O3",
    "GeO2_154.cif": "quartz-type GeO2",
    "GeO2_136.cif": "argutite (rutile-type GeO2)",
    "Li2O_225.cif": "lithium oxide (antifluorite)",
    "LiOH_129.cif": "lithium hydroxide",
    "Na2CO3_12.cif": "natrite (gamma-Na2CO3, average structure)",
    "K2CO3_14.cif": "potassium carbonate",
    "NH4H2PO4_122.cif": "ammonium dihydrogen phosphate (biphosphammite)",
    "Li3PO4_31.cif": "beta-Li3PO4",
    "Li3PO4_62.cif": "gamma-Li3PO4",
    "LiF_225.cif": "griceite (LiF)",
    "SrTiO3_221.cif": "tausonite (SrTiO3)",
    "ZnFe2O4_227.cif": "franklinite-type ZnFe2O4",
    "BiVO4_15.cif": "clinobisvanite (monoclinic BiVO4)",
    "Zn2TiO4_227.cif": "Zn2TiO4 inverse spinel",
    "NiTiO3_148.cif": "NiTiO3 (ilmenite type)",
    "YBa2Cu3O7_47.cif": "YBa2Cu3O7 (orthorhombic YBCO)",
    "Y2Cu2O5_33.cif": "Y2Cu2O5 (blue phase)",
    "Y2BaCuO5_62.cif": "Y2BaCuO5 (green phase)",
    "LaMnO3_62.cif": "LaMnO3 (orthorhombic)",
    "BaTiO3_99.cif": "BaTiO3 (tetragonal, room temperature)",
    "LiMn2O4_227.cif": "LiMn2O4 spinel",
    "Li2MnO3_12.cif": "Li2MnO3 (layered, monoclinic)",
    "LaB6_221_amcsd14189.cif": "lanthanum hexaboride (line-profile standard)",
    "In2O3_199_amcsd17267.cif": "In2O3 (1927 I2_13 model)",
    "Li1.333Ti1.667O4_227_amcsd14218.cif": "Li4Ti5O12 spinel (Li1.333Ti1.667O4)",
    "Li1.82ZrO3_15_amcsd16136.cif": "Li2ZrO3 (Li-deficient refinement)",
    "Fe1.7Ni1.43O4_227_amcsd15511.cif": "Ni-Fe spinel (NiFe2O4 stand-in)",
}

# Entries looked at and left out, kept here so the selection can be audited.
LEFT_OUT = {
    19230: "t-ZrO2 (Y-stabilised): the snapshot's operators for P4_2/nmc do not match the origin-2 "
    "coordinates (spglib finds P4/nmm, double the cations)",
    9645: "willemite: AMCSD notes that its displacement parameters come from ICSD",
    16663: "LiTi2O4 single crystal: occupancy above 1 as stored (14220 used instead)",
    107: "CuCO3 calcite-type: tabulated model of a compound that is not a common phase",
    8117: "beta-Co(OD)2: deuterated (11780 used instead)",
    15824: "epsilon-Zn(OD)2: deuterated (18272 used instead)",
    2766: "grossular at 103 K (1570, synthetic, used instead)",
    9832: "Mg2TiO4 at 973 K (1746, quenched, used instead)",
    13164: "KH2PO4 at 127 K (13165, 295 K, used instead)",
    17467: "Mn2O3 1928 I2_13 model (the shared COD Ia-3 file is used)",
    17625: "Li2TiO3 as a disordered rock-salt (1933): not the monoclinic room-temperature phase",
    19588: "ilmenite-type LiNbO3: metastable; the common ferroelectric R3c LiNbO3 is not in the snapshot",
}


@dataclass
class Entry:
    file: str
    text: bytes
    row: dict[str, str]
    expected_formula: str
    # AMCSD exports are named "<stem>_<space-group number>.cif" once spglib has found the number;
    # shared files keep their names.
    append_space_group: bool = False


def versions() -> dict[str, str]:
    out = {}
    for dist in ("pymatgen", "pymatgen-core", "spglib", "larixite"):
        try:
            out[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            out[dist] = "not installed"
    return out


# ---------------------------------------------------------------- shared data


def read_tsv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def cif_citation(text: str) -> str:
    """'Authors (year) Journal volume, pages [doi]' from a CIF's publication tags."""
    cif = CifFile.from_str(text)
    block = next(iter(cif.data.values())).data

    def get(tag: str) -> str:
        value = block.get(tag, "")
        if isinstance(value, list):
            value = value[0] if value else ""
        return str(value).strip()

    authors = block.get("_publ_author_name", [])
    if isinstance(authors, str):
        authors = [authors]
    who = "; ".join(a.strip() for a in authors) if authors else "?"
    pages = get("_journal_page_first")
    if get("_journal_page_last"):
        pages += "-" + get("_journal_page_last")
    ref = f"{who} ({get('_journal_year')}) {get('_journal_name_full')} {get('_journal_volume')}, {pages}"
    if get("_journal_paper_doi"):
        ref += f", doi:{get('_journal_paper_doi')}"
    return " ".join(ref.split())


def shared_entries() -> list[Entry]:
    manifest = read_tsv(SHARED_CIF / "MANIFEST.tsv")
    notes = {r["file"]: r["notes"] for r in read_tsv(SHARED_CIF / "NOTES.tsv")}
    out = []
    for row in manifest:
        rel = row["file"]
        src = SHARED_CIF / rel
        data = src.read_bytes()
        evidence = row["license_evidence"]
        if rel.startswith("amcsd_regenerated/"):
            m = re.search(r"cif\.id=(\d+)", row["source_path"])
            source, source_id = "AMCSD", m.group(1) if m else "?"
            licence = AMCSD_LICENCE
        else:
            m = re.match(r"(COD|AMCSD) (\d+)", evidence)
            if not m:
                raise SystemExit(f"{rel}: cannot read the source id from {evidence!r}")
            source, source_id = m.group(1), m.group(2)
            if source == "COD" and "public domain" in evidence:
                licence = "COD: public domain (CC0)"
            elif source == "COD":
                licence = "COD: free use with attribution to the original article (COD-distributed AMCSD/IUCr data)"
            else:
                licence = AMCSD_LICENCE.split("; text")[0]
        if rel.startswith("amcsd_regenerated/"):
            origin = "itself re-serialised from AMCSD by larixite, not byte-original"
        else:
            origin = "byte-original from the source"
        provenance = (
            f"byte-identical copy of ../shared/data/cif/{rel} ({origin}; from {row['source_repo']} "
            f"{row['source_path']} @ {row['commit'][:12]}); licence evidence: {evidence}"
        )
        note = notes.get(rel, "")
        note = re.sub(r"natoms_conv=\d+; a=[^;]*; formula_ok=True; ?", "", note).strip()
        out.append(
            Entry(
                file=Path(rel).name,
                text=data,
                row={
                    "name": SHARED_NAMES[Path(rel).name],
                    "formula": row["formula"],
                    "source": source,
                    "source_id": source_id,
                    "licence": licence,
                    "reference": cif_citation(data.decode("utf-8", errors="replace")),
                    "notes": "; ".join(x for x in (note, provenance) if x),
                },
                expected_formula=row["formula"],
            )
        )
    return out


# ---------------------------------------------------------------- AMCSD export


def cif_quote(value: str) -> str:
    value = " ".join(str(value).split())
    if not value:
        return "?"
    if "'" not in value:
        return f"'{value}'"
    if '"' not in value:
        return f'"{value}"'
    return f"\n;\n{value}\n;"


def formula_elements(formula: str) -> set[str]:
    return set(re.findall(r"[A-Z][a-z]?", formula))


def element_of(label: str, elements: set[str]) -> str:
    """The element of an AMCSD site label, chosen among the elements of the formula."""
    lab = label.strip()
    if len(lab) >= 2 and lab[1].isalpha():
        two = lab[0].upper() + lab[1].lower()
        if two in elements:
            return two
    one = lab[0].upper()
    if one in elements:
        return one
    if re.match(r"(?i)wat|w\d|ow", lab) and "O" in elements:
        return "O"
    raise ValueError(f"site label {label!r} matches no element of the formula {sorted(elements)}")


def amcsd_db_path() -> Path:
    import larixite

    return Path(larixite.__file__).parent / "amcsd_cif1.db"


def amcsd_text(db, cif_id: int, header: str) -> tuple[str, str]:
    """CIF text and stated formula for one AMCSD entry (raw database strings)."""
    c = db.get_cif(cif_id, as_strings=True)
    if c is None:
        raise ValueError(f"AMCSD id {cif_id} is not in the snapshot")
    if c.atoms_sites in (None, "<missing>"):
        raise ValueError(f"AMCSD id {cif_id} has no atom sites")
    elements = formula_elements(c.formula)
    out = [header.rstrip("\n"), f"data_amcsd_{cif_id:07d}"]
    if c.formula_title not in (None, "<missing>"):
        out.append(f"_amcsd_formula_title {cif_quote(c.formula_title)}")
    if c.mineral is not None and c.mineral.name not in (None, "<missing>"):
        out.append(f"_chemical_name_mineral {cif_quote(c.mineral.name)}")
    pub = c.publication
    out += ["loop_", "_publ_author_name"] + [cif_quote(a) for a in pub.authors]
    out.append(f"_journal_name_full {cif_quote(pub.journalname)}")
    for tag, value in (
        ("_journal_volume", pub.volume),
        ("_journal_year", pub.year),
        ("_journal_page_first", pub.page_first),
        ("_journal_page_last", pub.page_last),
    ):
        value = str(value).strip() if value not in (None, "", "<missing>") else "?"
        out.append(f"{tag} {value if re.fullmatch(r'[0-9A-Za-z.+-]+', value) else cif_quote(value)}")
    title = "\n".join(" " + line.strip() for line in str(c.pub_title).strip().splitlines())
    out += ["_publ_section_title", ";", title, ";", f"_database_code_amcsd {cif_id}"]
    if c.compound not in (None, "<missing>"):
        out.append(f"_chemical_compound_source {cif_quote(c.compound)}")
    out.append(f"_chemical_formula_sum {cif_quote(c.formula)}")
    for tag, attr in (
        ("_cell_length_a", "a"),
        ("_cell_length_b", "b"),
        ("_cell_length_c", "c"),
        ("_cell_angle_alpha", "alpha"),
        ("_cell_angle_beta", "beta"),
        ("_cell_angle_gamma", "gamma"),
        ("_cell_volume", "cell_volume"),
        ("_exptl_crystal_density_diffrn", "crystal_density"),
    ):
        value = getattr(c, attr)
        out.append(f"{tag} {value if value not in (None, '', '<missing>') else '?'}")
    out.append(f"_symmetry_space_group_name_H-M {cif_quote(c.hm_symbol.strip())}")
    out += ["loop_", "_space_group_symop_operation_xyz"]

    out += [f"  '{op}'" for op in json.loads(c.spacegroup.symmetry_xyz)]

    sites = c.atoms_sites
    columns = [c.atoms_x, c.atoms_y, c.atoms_z]
    out += [
        "loop_",
        "_atom_site_label",
        "_atom_site_type_symbol",
        "_atom_site_fract_x",
        "_atom_site_fract_y",
        "_atom_site_fract_z",
    ]
    if c.atoms_occupancy not in (None, "0"):
        out.append("_atom_site_occupancy")
        columns.append(c.atoms_occupancy)
    if c.atoms_u_iso not in (None, "0"):
        out.append("_atom_site_U_iso_or_equiv")
        columns.append(c.atoms_u_iso)
    for col in columns:
        if len(col) != len(sites):
            raise ValueError(f"AMCSD id {cif_id}: a site column has {len(col)} values for {len(sites)} sites")
    for i, label in enumerate(sites):
        values = [str(col[i]).strip() or "?" for col in columns]
        out.append("  ".join([label, element_of(label, elements)] + values))
    aniso = c.atoms_aniso_label
    if aniso not in (None, "0", "<missing>"):
        out += ["loop_", "_atom_site_aniso_label"]
        out += [f"_atom_site_aniso_U_{ij}" for ij in ("11", "22", "33", "12", "13", "23")]
        us = [c.atoms_aniso_u11, c.atoms_aniso_u22, c.atoms_aniso_u33, c.atoms_aniso_u12, c.atoms_aniso_u13, c.atoms_aniso_u23]
        for i, label in enumerate(aniso):
            out.append("  ".join([label] + [str(u[i]).strip() or "?" for u in us]))
    out += ["", ""]
    return "\n".join(out), c.formula


def amcsd_reference(db, cif_id: int) -> str:
    c = db.get_cif(cif_id, as_strings=True)
    pub = c.publication
    pages = str(pub.page_first)
    if pub.page_last not in (None, "", "<missing>"):
        pages += f"-{pub.page_last}"
    who = "; ".join(pub.authors)
    return " ".join(f"{who} ({pub.year}) {pub.journalname} {pub.volume}, {pages}".split())


def amcsd_entries(shared_ids: set[str], vers: dict[str, str]) -> list[Entry]:
    from larixite.amcsd import AMCSD

    db_path = amcsd_db_path()
    sha = hashlib.sha256(db_path.read_bytes()).hexdigest()
    con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    tag, date = con.execute("select tag, date from version order by id limit 1").fetchone()
    con.close()
    db = AMCSD(str(db_path), read_only=True)
    out = []
    seen = set()
    for cif_id, stem, name, note in AMCSD_SELECTION:
        if cif_id in LEFT_OUT:
            raise SystemExit(f"AMCSD {cif_id} is both selected and left out")
        if str(cif_id) in shared_ids:
            raise SystemExit(f"AMCSD {cif_id} ({stem}) is already among the shared files")
        if cif_id in seen:
            raise SystemExit(f"AMCSD {cif_id} is selected twice")
        seen.add(cif_id)
        header = (
            f"# AMCSD entry {cif_id}, re-serialised (not byte-original) by athanor's\n"
            f"# scripts/build_library.py from the AMCSD snapshot bundled in larixite {vers['larixite']} (MIT):\n"
            f"# larixite/amcsd_cif1.db, sha256 {sha} ('{tag}', {date}).\n"
            f"# Source data: American Mineralogist Crystal Structure Database (Downs & Hall-Wallace 2003,\n"
            f"# Am. Mineral. 88, 247-250), free to use; cite the journal article given below.\n"
            f"# _atom_site_type_symbol was inferred from the site labels and checked against the formula.\n"
        )
        text, formula = amcsd_text(db, cif_id, header)
        c = db.get_cif(cif_id, as_strings=True)
        extra = [s.strip() for s in str(c.pub_title).splitlines()[1:] if s.strip()]
        cod = [e for e in extra if e.startswith("_cod_database_code")]
        # AMCSD appends sample and measurement remarks to the title; keep those, not the title
        extra = [e for e in extra if re.match(r"(?i)(sample|note|model|[TP] =|at [TP] =)", e)]
        licence = AMCSD_LICENCE
        if cod:
            licence += f"; the entry is also COD {cod[0].split()[-1]} (public domain)"
        notes = [note] if note else []
        notes += [f"AMCSD says: {e}" for e in extra]
        out.append(
            Entry(
                file=f"{stem}.cif",  # the space-group number is appended after verification
                text=text.encode("utf-8"),
                row={
                    "name": name,
                    "formula": stem,
                    "source": "AMCSD",
                    "source_id": str(cif_id),
                    "licence": licence,
                    "reference": amcsd_reference(db, cif_id),
                    "notes": "; ".join(notes),
                },
                expected_formula=formula,
                append_space_group=True,
            )
        )
    return out


# ---------------------------------------------------------------- verification


def clean_formula(formula: str) -> Composition:
    text = re.sub(r"(?<![0-9])\.(\d)", r"0.\1", formula.replace(" ", ""))
    return Composition(text)


def verify(entry: Entry) -> tuple[str, str, int, list[str]]:
    """Parse with pymatgen; returns (reduced formula, H-M symbol, number, automatic notes)."""
    text = entry.text.decode("utf-8", errors="replace")
    if re.search(r"ICSD|FIZ\b|Fachinformationszentrum", text, flags=re.IGNORECASE):
        raise ValueError("the file mentions ICSD/FIZ")
    with tempfile.NamedTemporaryFile("wb", suffix=".cif", delete=False) as fh:
        fh.write(entry.text)
        tmp = fh.name
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            structures = CifParser(tmp).parse_structures()
            if not structures:
                raise ValueError("pymatgen built no structure")
            structure = structures[0]
            sga = SpacegroupAnalyzer(structure, symprec=0.01)
            symbol, number = sga.get_space_group_symbol(), sga.get_space_group_number()
    finally:
        Path(tmp).unlink()
    notes = []
    for w in caught:
        msg = str(w.message)
        if "fractional coordinates rounded" in msg or "default value of primitive" in msg or "OLD_ERROR" in msg:
            continue
        if "Some occupancies" in msg or "occupancy" in msg.lower():
            raise ValueError(f"pymatgen: {msg}")
    got = structure.composition
    expected = clean_formula(entry.expected_formula)
    got_noh = Composition({e: a for e, a in got.items() if e.symbol not in ("H", "D")})
    exp_noh = Composition({e: a for e, a in expected.items() if e.symbol not in ("H", "D")})
    if not frac_close(got_noh, exp_noh):
        raise ValueError(f"composition {got.reduced_formula} does not match the stated {expected.reduced_formula}")
    has_h_expected = any(e.symbol in ("H", "D") for e in expected)
    has_h_got = any(e.symbol in ("H", "D") for e in got)
    if has_h_expected and not has_h_got:
        notes.append("H not in the structure model")
    elif has_h_expected and not frac_close(got, expected):
        notes.append(f"H content of the model ({got.reduced_formula}) differs from the stated formula")
    if not structure.is_ordered:
        notes.append("partial/mixed occupancies")
    for site in structure:
        if site.species.num_atoms > 1.0 + 1e-3:
            raise ValueError(f"site occupancy {site.species.num_atoms:.3f} > 1")
    if not re.search(r"_atom_site_(U|B)_iso|_atom_site_aniso_(U|B)_11", text):
        notes.append("no displacement parameters")
    block = next(iter(CifFile.from_str(text).data.values())).data
    stated = u_value(block.get("_exptl_crystal_density_diffrn", "") or "")
    if stated > 0:
        density = float(structure.density)
        if has_h_expected and not has_h_got:
            # the stated density counts the H atoms the model leaves out
            per_heavy = sum(a for e, a in expected.items() if e.symbol in ("H", "D")) / exp_noh.num_atoms
            h_mass = per_heavy * got_noh.num_atoms * 1.00794 * 1.66053906660
            density += h_mass / structure.volume
        if abs(density - stated) / stated > DENSITY_TOLERANCE:
            raise ValueError(
                f"the model's density {density:.3f} g/cm3 differs from the stated {stated:.3f} g/cm3 "
                "(symmetry operators and coordinates do not agree)"
            )
    declared = declared_space_group(block)
    if declared is not None and declared != number:
        raise ValueError(
            f"spglib finds space group {number} in the model but the CIF's operators are those of "
            f"{declared} (operators and coordinates do not agree)"
        )
    uiso = block.get("_atom_site_U_iso_or_equiv", [])
    large = [u for u in (uiso if isinstance(uiso, list) else [uiso]) if u_value(u) > LARGE_UISO]
    if large:
        notes.append(f"large U_iso as stored ({', '.join(large)} A^2)")
    return got.reduced_formula, symbol, number, notes


LARGE_UISO = 0.1
DENSITY_TOLERANCE = 0.03


def declared_space_group(block) -> int | None:
    """Space-group number of the CIF's own symmetry operators (spglib), or None without them."""
    ops = None
    for tag in ("_space_group_symop_operation_xyz", "_symmetry_equiv_pos_as_xyz"):
        if tag in block:
            ops = block[tag]
            break
    if not ops:
        return None
    ops = [ops] if isinstance(ops, str) else ops
    rotations, translations = [], []
    for op in ops:
        symm = SymmOp.from_xyz_str(op.replace(" ", ""))
        rotations.append(np.round(symm.rotation_matrix).astype("intc"))
        translations.append(np.mod(symm.translation_vector, 1.0))
    found = spglib.get_spacegroup_type_from_symmetry(np.array(rotations), np.array(translations))
    return None if found is None else int(found.number)


def u_value(text: str) -> float:
    try:
        return float(str(text).split("(")[0])
    except ValueError:
        return 0.0


def frac_close(a: Composition, b: Composition, tol: float = 0.01) -> bool:
    fa, fb = a.fractional_composition, b.fractional_composition
    elements = {e.symbol for e in fa} | {e.symbol for e in fb}
    return all(abs(fa[e] - fb[e]) <= tol for e in elements)


# ---------------------------------------------------------------- main


def build(vers: dict[str, str]) -> tuple[dict[str, bytes], str, list[str]]:
    shared = shared_entries()
    shared_ids = {e.row["source_id"].lstrip("0") for e in shared if e.row["source"] == "AMCSD"}
    entries = shared + amcsd_entries(shared_ids, vers)
    files: dict[str, bytes] = {}
    rows = []
    rejected = []
    for entry in entries:
        try:
            formula, symbol, number, auto = verify(entry)
        except Exception as exc:  # noqa: BLE001 - a failing entry is reported, not shipped
            rejected.append(f"{entry.file} ({entry.row['source']} {entry.row['source_id']}): {exc}")
            continue
        name = entry.file
        if entry.append_space_group:
            name = f"{Path(entry.file).stem}_{number}.cif"
            if name in files:
                name = f"{Path(entry.file).stem}_{number}_amcsd{entry.row['source_id']}.cif"
        if name in files:
            raise SystemExit(f"file name clash: {name}")
        files[name] = entry.text
        row = dict(entry.row)
        row["file"] = name
        nominal, model = clean_formula(row["formula"]), Composition(formula)
        if not any(e.symbol == "H" for e in model):
            nominal = Composition({e: a for e, a in nominal.items() if e.symbol not in ("H", "D")})
        if not frac_close(nominal, model):
            auto.append(f"composition of the model: {Composition(formula).formula}")
        row["space_group"] = symbol
        row["space_group_number"] = str(number)
        row["notes"] = "; ".join(x for x in [row["notes"]] + auto if x)
        rows.append(row)
    rows.sort(key=lambda r: r["file"].lower())
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=MANIFEST_COLUMNS, delimiter="\t", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: " ".join(row[k].split()) for k in MANIFEST_COLUMNS})
    return files, buf.getvalue(), rejected


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the committed library instead of writing")
    args = parser.parse_args()
    if not (Path("Cargo.toml").is_file() and LIBRARY.parent.is_dir()):
        print("run from the repository root", file=sys.stderr)
        return 2
    vers = versions()
    files, manifest, rejected = build(vers)
    for line in rejected:
        print(f"REJECTED {line}", file=sys.stderr)
    if args.check:
        problems = []
        on_disk = {p.name for p in LIBRARY_CIF.glob("*.cif")}
        for name in sorted(on_disk - set(files)):
            problems.append(f"{name}: on disk but not built")
        for name, data in sorted(files.items()):
            path = LIBRARY_CIF / name
            if not path.is_file() or path.read_bytes() != data:
                problems.append(f"{name}: differs from the build")
        if (LIBRARY / "MANIFEST.tsv").read_text(encoding="utf-8") != manifest:
            problems.append("MANIFEST.tsv differs from the build")
        for p in problems:
            print(p)
        print(f"check: {len(files)} files, {len(problems)} differences")
        return 1 if problems else 0
    LIBRARY_CIF.mkdir(parents=True, exist_ok=True)
    for old in LIBRARY_CIF.glob("*.cif"):
        if old.name not in files:
            old.unlink()
    for name, data in files.items():
        (LIBRARY_CIF / name).write_bytes(data)
    (LIBRARY / "MANIFEST.tsv").write_text(manifest, encoding="utf-8")
    print(
        f"library: {len(files)} CIFs written ({len(rejected)} rejected); pymatgen {vers['pymatgen']}, "
        f"larixite {vers['larixite']}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
