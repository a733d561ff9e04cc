//! `athanor xrd identify` and `athanor xrd refine`: read a pattern and candidate structures,
//! run athanor-xrd's identification or refinement, print JSON or a table, optionally plot.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context};
use athanor_xrd::identify::{
    self, Analysis, Candidate, CandidateLibrary, IdentifyOptions, LibrarySettings,
};
use athanor_xrd::profile::InstrumentProfile;
use athanor_xrd::{cif, formats, library, Element, Pattern, Radiation, ScatteringTable};
use clap::{Args, ValueEnum};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Json,
    Text,
}

/// Options shared by identify and refine.
#[derive(Debug, Args)]
pub struct CommonArgs {
    /// Radiation: CuKa (default: the pattern file's wavelength if it names one, else CuKa),
    /// CuKa1, MoKa, … or a wavelength in Å.
    #[arg(long)]
    wavelength: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Json)]
    format: ReportFormat,
    /// Write a plot of observed, calculated, phases, difference and ticks (.svg; .png is not
    /// supported).
    #[arg(long)]
    plot: Option<PathBuf>,
    /// Instrument profile (built-in name or instrument TOML) whose U, V, W are used as they are;
    /// without it the widths are estimated from the pattern.
    #[arg(long)]
    profile: Option<String>,
    /// Atomic scattering factors of the candidates' stick patterns: waasmaier-kirfel (default,
    /// with anomalous dispersion) or pymatgen.
    #[arg(long, default_value = "waasmaier-kirfel", value_parser = parse_table)]
    scattering: ScatteringTable,
}

fn parse_table(s: &str) -> Result<ScatteringTable, String> {
    ScatteringTable::from_name(s).ok_or_else(|| {
        let names: Vec<&str> = ScatteringTable::ALL.iter().map(|t| t.name()).collect();
        format!(
            "unknown scattering table '{s}' (known: {})",
            names.join(", ")
        )
    })
}

#[derive(Debug, Args)]
pub struct IdentifyArgs {
    /// The measured pattern (.xy, .xye, .csv, .xrdml).
    pattern: PathBuf,
    /// Candidates: `builtin` (the embedded reference library) or a directory of CIF files.
    #[arg(long, default_value = "builtin")]
    library: String,
    /// Only candidates made of these elements, e.g. Li,Mn,O.
    #[arg(long, value_delimiter = ',')]
    elements: Option<Vec<String>>,
    /// At most this many phases.
    #[arg(long, default_value_t = 6)]
    max_phases: usize,
    #[command(flatten)]
    common: CommonArgs,
}

#[derive(Debug, Args)]
pub struct RefineArgs {
    /// The measured pattern (.xy, .xye, .csv, .xrdml).
    pattern: PathBuf,
    /// The phases present: CIF files or `library:ID`, comma-separated.
    #[arg(long, value_delimiter = ',', required = true)]
    phases: Vec<String>,
    #[command(flatten)]
    common: CommonArgs,
}

/// `athanor xrd identify`.
pub fn run_identify(args: &IdentifyArgs) -> anyhow::Result<ExitCode> {
    check_plot(&args.common)?;
    let pattern = read_pattern(&args.pattern)?;
    let settings = library_settings(&args.common, &pattern)?;
    let candidates = if args.library == "builtin" {
        Candidate::builtin_library()?
    } else {
        read_cif_dir(Path::new(&args.library))?
    };
    let library = CandidateLibrary::build(candidates, &settings)?;
    let elements = args
        .elements
        .as_ref()
        .map(|list| {
            list.iter()
                .filter(|s| !s.trim().is_empty())
                .map(|s| {
                    Element::from_symbol(s.trim())
                        .with_context(|| format!("--elements: '{s}' is not an element symbol"))
                })
                .collect::<anyhow::Result<Vec<_>>>()
        })
        .transpose()?;
    if !(1..=6).contains(&args.max_phases) {
        bail!("--max-phases {}: must be between 1 and 6", args.max_phases);
    }
    let options = IdentifyOptions {
        elements,
        max_phases: args.max_phases,
        instrument: instrument(&args.common)?,
        ..IdentifyOptions::default()
    };
    let analysis = identify::identify(&pattern, &library, &options)?;
    output(&analysis, &args.common, &args.pattern)
}

/// `athanor xrd refine`.
pub fn run_refine(args: &RefineArgs) -> anyhow::Result<ExitCode> {
    check_plot(&args.common)?;
    let pattern = read_pattern(&args.pattern)?;
    let settings = library_settings(&args.common, &pattern)?;
    let mut candidates = Vec::new();
    for spec in &args.phases {
        candidates.push(read_candidate(spec)?);
    }
    let library = CandidateLibrary::build(candidates, &settings)?;
    let options = IdentifyOptions {
        instrument: instrument(&args.common)?,
        ..IdentifyOptions::default()
    };
    let analysis = identify::refine(&pattern, &library, &options)?;
    output(&analysis, &args.common, &args.pattern)
}

fn read_pattern(path: &Path) -> anyhow::Result<Pattern> {
    let bytes = fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    formats::read(&bytes, &name).with_context(|| format!("pattern {}", path.display()))
}

fn library_settings(common: &CommonArgs, pattern: &Pattern) -> anyhow::Result<LibrarySettings> {
    let radiation = match (&common.wavelength, pattern.meta().wavelength) {
        (Some(w), _) => Radiation::parse(w).context("--wavelength")?,
        (None, Some(w)) if (w - 1.54056).abs() < 1e-3 || (w - 1.54184).abs() < 1e-3 => {
            Radiation::parse("CuKa")?
        }
        (None, Some(w)) => Radiation::from_wavelength(w)?,
        (None, None) => Radiation::parse("CuKa")?,
    };
    let mut settings = LibrarySettings::new(radiation);
    settings.table = common.scattering;
    if let Some(r) = pattern.meta().alpha2_ratio {
        settings.ka2_ratio = r;
    }
    let (_, max) = pattern.range();
    settings.two_theta_max = (max + 10.0).clamp(60.0, 180.0);
    Ok(settings)
}

fn instrument(common: &CommonArgs) -> anyhow::Result<Option<InstrumentProfile>> {
    common
        .profile
        .as_deref()
        .map(|spec| {
            let path = Path::new(spec);
            if path.is_file() {
                let text = fs::read_to_string(path)
                    .with_context(|| format!("reading instrument profile {spec}"))?;
                InstrumentProfile::from_toml(&text)
                    .with_context(|| format!("instrument profile {spec}"))
            } else {
                InstrumentProfile::builtin(spec).context("--profile")
            }
        })
        .transpose()
}

/// Every `*.cif` of a directory, each a candidate named by its file stem.
fn read_cif_dir(dir: &Path) -> anyhow::Result<Vec<Candidate>> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .with_context(|| format!("--library {}: not a directory of CIF files", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e.eq_ignore_ascii_case("cif")))
        .collect();
    files.sort();
    if files.is_empty() {
        bail!("--library {}: no .cif files there", dir.display());
    }
    files
        .iter()
        .map(|p| read_candidate(&p.to_string_lossy()))
        .collect()
}

/// One candidate: a CIF path (its first structure, named by the file stem) or `library:ID`.
fn read_candidate(spec: &str) -> anyhow::Result<Candidate> {
    if let Some(id) = spec.strip_prefix("library:") {
        let entry = library::find(id)
            .with_context(|| format!("no library entry '{id}' (see `athanor xrd library list`)"))?;
        return Ok(Candidate::from_library_entry(&entry)?);
    }
    let path = Path::new(spec);
    let bytes = fs::read(path).with_context(|| format!("cannot read {spec}"))?;
    let text = String::from_utf8_lossy(&bytes);
    let structure = cif::read_structures(&text)
        .with_context(|| spec.to_string())?
        .into_iter()
        .next()
        .with_context(|| format!("{spec}: no structure in the file"))?;
    let id = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| spec.to_string());
    Ok(Candidate::from_structure(id, structure))
}

/// Refuses a plot file that is not .svg before any work is done.
fn check_plot(common: &CommonArgs) -> anyhow::Result<()> {
    if let Some(plot) = &common.plot {
        let ext = plot
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        if ext != "svg" {
            bail!(
                "--plot {}: only SVG is written (use a .svg file name; convert to PNG with any SVG renderer)",
                plot.display()
            );
        }
    }
    Ok(())
}

fn output(analysis: &Analysis, common: &CommonArgs, pattern: &Path) -> anyhow::Result<ExitCode> {
    if let Some(plot) = &common.plot {
        let title = pattern
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        fs::write(plot, identify::to_svg(analysis, &title))
            .with_context(|| format!("writing {}", plot.display()))?;
    }
    let text = match common.format {
        ReportFormat::Json => format!("{}\n", serde_json::to_string_pretty(analysis)?),
        ReportFormat::Text => analysis.to_text(),
    };
    let mut out = io::stdout().lock();
    match io::Write::write_all(&mut out, text.as_bytes()) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {}
        Err(e) => return Err(e).context("writing to standard output"),
    }
    Ok(ExitCode::SUCCESS)
}
