//! `athanor xrd …`: simulate powder patterns from CIF files, convert pattern files, browse the
//! built-in reference library. File reading and printing live here; the work is athanor-xrd's.

use std::fs;
use std::io::{self, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::{bail, Context};
use athanor_xrd::formats::{self, Format};
use athanor_xrd::pattern::uniform_grid;
use athanor_xrd::profile::{render, InstrumentProfile, SampleEffects};
use athanor_xrd::{
    cif, library, simulate, Radiation, Reflection, ScatteringTable, SimulationOptions, Structure,
};
use clap::{Args, Subcommand, ValueEnum};
use serde_json::json;

#[derive(Debug, Subcommand)]
pub enum XrdCommand {
    /// Simulate the powder pattern of each structure: sticks, or with --profile a continuous
    /// pattern on a 2θ grid.
    Simulate(SimulateArgs),
    /// Convert a pattern file to another format, chosen by the output's extension
    /// (.xy, .xye, .csv; .xrdml is read only).
    Convert {
        /// Input pattern (.xy, .xye, .csv, .xrdml).
        input: String,
        /// Output pattern (.xy, .xye, .csv).
        output: String,
    },
    /// The built-in reference library of crystal structures.
    #[command(subcommand)]
    Library(LibraryCommand),
    /// Identify the phases of a measured pattern: weight fractions, lattices, crystallite
    /// sizes, confidences, unexplained peaks and alternatives.
    Identify(super::xrd_identify::IdentifyArgs),
    /// Refine a given set of phases against a measured pattern (same report as identify).
    Refine(super::xrd_identify::RefineArgs),
    /// Benchmark phase identification on the synthetic mixtures (recall, precision, weight
    /// fractions, confidence reliability, time per pattern).
    BenchIdentify(super::xrd_bench::BenchIdentifyArgs),
}

#[derive(Debug, Subcommand)]
pub enum LibraryCommand {
    /// List the library: id, formula, space group, name, source.
    List {
        #[arg(long, value_enum, default_value_t = ListFormat::Table)]
        format: ListFormat,
    },
    /// Print one entry's CIF.
    Show {
        /// Entry id (file name without .cif), as `library list` prints it.
        id: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    Table,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Json,
    Xy,
    Csv,
}

#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// CIF files, or library entries written `library:ID` (see `athanor xrd library list`).
    #[arg(required = true)]
    files: Vec<String>,
    /// Radiation: CuKa, CuKa1, CuKa2, MoKa, CoKa, CrKa, FeKa, AgKa (…Kb1), or a wavelength in Å.
    /// Default: Cu Kα for sticks; the profile's own wavelengths with --profile.
    #[arg(long)]
    wavelength: Option<String>,
    /// 2θ range in degrees, MIN:MAX.
    #[arg(long = "two-theta", default_value = "10:90")]
    two_theta: String,
    /// Grid step in degrees 2θ for a continuous pattern (with --profile).
    #[arg(long, default_value_t = 0.01)]
    step: f64,
    /// Instrument profile: a built-in name (e.g. bragg-brentano-cu) or an instrument TOML file.
    /// Without it the output is a stick pattern.
    #[arg(long)]
    profile: Option<String>,
    /// Atomic scattering factors: waasmaier-kirfel (atoms and ions, with anomalous dispersion at
    /// the named tube lines) or pymatgen (pymatgen's table, for agreement with pymatgen).
    #[arg(long, default_value = "waasmaier-kirfel", value_parser = parse_table)]
    scattering: ScatteringTable,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Json)]
    format: OutputFormat,
    /// Ignore the CIF's displacement parameters (no Debye–Waller factor).
    #[arg(long)]
    no_displacement: bool,
    /// Leave out anomalous dispersion (f′, f″).
    #[arg(long)]
    no_anomalous: bool,
    /// Reproduce pymatgen's XRDCalculator: pymatgen scattering table, no Debye–Waller factor,
    /// no anomalous dispersion.
    #[arg(long)]
    pymatgen: bool,
    /// Monochromator angle 2θm in degrees (polarization of a monochromated beam).
    #[arg(long)]
    monochromator: Option<f64>,
    /// Kα2/Kα1 intensity ratio for a continuous pattern (default: the profile's, usually 0.5).
    #[arg(long = "ka2-ratio")]
    ka2_ratio: Option<f64>,
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

/// Runs one `xrd` subcommand.
pub fn run(cmd: XrdCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        XrdCommand::Simulate(args) => simulate_files(&args),
        XrdCommand::Convert { input, output } => convert(&input, &output),
        XrdCommand::Library(LibraryCommand::List { format }) => library_list(format),
        XrdCommand::Library(LibraryCommand::Show { id }) => library_show(&id),
        XrdCommand::Identify(args) => super::xrd_identify::run_identify(&args),
        XrdCommand::Refine(args) => super::xrd_identify::run_refine(&args),
        XrdCommand::BenchIdentify(args) => super::xrd_bench::run(&args),
    }
}

/// Writes to stdout; a closed pipe (`| head`) ends the output quietly.
fn emit(out: &mut impl Write, text: &str) -> anyhow::Result<bool> {
    match out.write_all(text.as_bytes()) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(false),
        Err(e) => Err(e).context("writing to standard output"),
    }
}

fn parse_range(text: &str) -> anyhow::Result<(f64, f64)> {
    let Some((a, b)) = text.split_once(':') else {
        bail!("--two-theta '{text}': expected MIN:MAX in degrees, e.g. 10:90");
    };
    let parse = |s: &str| -> anyhow::Result<f64> {
        s.trim()
            .parse::<f64>()
            .ok()
            .filter(|x| x.is_finite())
            .with_context(|| format!("--two-theta '{text}': '{s}' is not a number"))
    };
    let (min, max) = (parse(a)?, parse(b)?);
    if !(0.0 <= min && min < max && max <= 180.0) {
        bail!("--two-theta '{text}': need 0 <= MIN < MAX <= 180");
    }
    Ok((min, max))
}

/// The instrument profile named on the command line: a file if one exists at that path,
/// otherwise a built-in name.
fn load_profile(spec: &str) -> anyhow::Result<InstrumentProfile> {
    let path = Path::new(spec);
    if path.is_file() {
        let text = fs::read_to_string(path)
            .with_context(|| format!("reading instrument profile {spec}"))?;
        InstrumentProfile::from_toml(&text).with_context(|| format!("instrument profile {spec}"))
    } else {
        InstrumentProfile::builtin(spec).context("--profile")
    }
}

/// Reads the structures of one input: a CIF path or `library:ID`.
fn read_input(spec: &str) -> anyhow::Result<Vec<Structure>> {
    let text = if let Some(id) = spec.strip_prefix("library:") {
        let entry = library::find(id)
            .with_context(|| format!("no library entry '{id}' (see `athanor xrd library list`)"))?;
        entry.cif.to_string()
    } else {
        let bytes = fs::read(spec).with_context(|| format!("cannot read {spec}"))?;
        String::from_utf8_lossy(&bytes).into_owned()
    };
    Ok(cif::read_structures(&text)?)
}

struct Plan {
    options: SimulationOptions,
    radiation_name: String,
    profile: Option<InstrumentProfile>,
    range: (f64, f64),
    step: f64,
}

fn plan(args: &SimulateArgs) -> anyhow::Result<Plan> {
    let range = parse_range(&args.two_theta)?;
    if !(args.step.is_finite() && args.step > 0.0) {
        bail!("--step {}: must be a positive number of degrees", args.step);
    }
    let radiation = args
        .wavelength
        .as_deref()
        .map(Radiation::parse)
        .transpose()
        .context("--wavelength")?;
    let mut profile = args.profile.as_deref().map(load_profile).transpose()?;
    if let Some(p) = profile.as_mut() {
        if let Some(r) = &radiation {
            // An explicit radiation replaces the profile's wavelengths.
            match r.doublet {
                Some((ka1, ka2)) => {
                    p.wavelength_angstrom = ka1;
                    p.wavelength_alpha2_angstrom = Some(ka2);
                    if p.alpha2_ratio == 0.0 {
                        p.alpha2_ratio = athanor_xrd::wavelength::DEFAULT_KA2_RATIO;
                    }
                }
                None => {
                    p.wavelength_angstrom = r.wavelength;
                    p.wavelength_alpha2_angstrom = None;
                    p.alpha2_ratio = 0.0;
                }
            }
        }
        if let Some(ratio) = args.ka2_ratio {
            if p.wavelength_alpha2_angstrom.is_none() && ratio != 0.0 {
                bail!("--ka2-ratio: the radiation has no Kα2 line");
            }
            p.alpha2_ratio = ratio;
        }
        p.validate().context("--profile")?;
    } else if args.ka2_ratio.is_some() {
        bail!("--ka2-ratio applies to a continuous pattern; give --profile too");
    }
    let radiation = match radiation {
        Some(r) => r,
        None => match &profile {
            Some(p) => Radiation::from_wavelength(p.wavelength_angstrom)?,
            None => Radiation::parse("CuKa")?,
        },
    };
    // Sticks for a profile are computed at its Kα1 wavelength, a little beyond the grid so
    // that the tails of peaks just outside it are drawn.
    let (wavelength, sim_range) = match &profile {
        Some(p) => (
            p.wavelength_angstrom,
            ((range.0 - 5.0).max(0.0), (range.1 + 5.0).min(180.0)),
        ),
        None => (radiation.wavelength, range),
    };
    let mut options = SimulationOptions::new(wavelength).with_range(sim_range.0, sim_range.1);
    options.table = args.scattering;
    options.displacement = !args.no_displacement;
    options.monochromator_two_theta = args.monochromator;
    options.anomalous = !args.no_anomalous;
    if args.pymatgen {
        options = SimulationOptions::pymatgen(wavelength).with_range(sim_range.0, sim_range.1);
        options.monochromator_two_theta = args.monochromator;
    }
    Ok(Plan {
        options,
        radiation_name: radiation.name,
        profile,
        range,
        step: args.step,
    })
}

fn simulate_files(args: &SimulateArgs) -> anyhow::Result<ExitCode> {
    let plan = plan(args)?;
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let mut failures = 0usize;
    let csv_header = "file,block,two_theta,d,intensity,hkl,multiplicity\n";
    if args.format == OutputFormat::Csv && plan.profile.is_none() && !emit(&mut out, csv_header)? {
        return Ok(ExitCode::SUCCESS);
    }
    for file in &args.files {
        let result = read_input(file).and_then(|structures| {
            let mut text = String::new();
            for s in &structures {
                text.push_str(&describe(file, s, &plan, args.format)?);
            }
            Ok(text)
        });
        match result {
            Ok(text) => {
                if !emit(&mut out, &text)? {
                    return Ok(ExitCode::SUCCESS);
                }
            }
            Err(err) => {
                failures += 1;
                eprintln!("error: {file}: {err:#}");
            }
        }
    }
    if failures > 0 {
        eprintln!("{failures} of {} inputs failed", args.files.len());
        Ok(ExitCode::FAILURE)
    } else {
        Ok(ExitCode::SUCCESS)
    }
}

/// The output for one structure.
fn describe(
    file: &str,
    s: &Structure,
    plan: &Plan,
    format: OutputFormat,
) -> anyhow::Result<String> {
    let peaks = simulate(s, &plan.options)?;
    match &plan.profile {
        None => Ok(sticks_text(file, s, plan, &peaks, format)),
        Some(profile) => {
            let grid = uniform_grid(plan.range.0, plan.range.1, plan.step)?;
            let pattern = render(
                &peaks,
                &s.lattice,
                profile,
                &SampleEffects::default(),
                &grid,
            )?;
            match format {
                OutputFormat::Json => {
                    let value = json!({
                        "file": file,
                        "block": s.name,
                        "formula": s.reduced_formula(),
                        "space_group": s.space_group.symbol,
                        "space_group_number": s.space_group.number,
                        "profile": profile.id,
                        "wavelength": profile.wavelength_angstrom,
                        "wavelength_alpha2": profile.wavelength_alpha2_angstrom,
                        "alpha2_ratio": profile.alpha2_ratio,
                        "two_theta": pattern.two_theta(),
                        "intensity": pattern.intensity(),
                    });
                    Ok(format!("{value}\n"))
                }
                OutputFormat::Xy | OutputFormat::Csv => {
                    let f = if format == OutputFormat::Xy {
                        Format::Xy
                    } else {
                        Format::Csv
                    };
                    let body = formats::write(&pattern, f)?;
                    Ok(format!("# file: {file} (block {})\n{body}", s.name))
                }
            }
        }
    }
}

fn sticks_text(
    file: &str,
    s: &Structure,
    plan: &Plan,
    peaks: &[Reflection],
    format: OutputFormat,
) -> String {
    match format {
        OutputFormat::Json => {
            let list: Vec<_> = peaks
                .iter()
                .map(|p| {
                    json!({
                        "two_theta": p.two_theta,
                        "d": p.d,
                        "intensity": p.intensity,
                        "hkl": p.hkls,
                        "multiplicity": p.multiplicity,
                    })
                })
                .collect();
            let value = json!({
                "file": file,
                "block": s.name,
                "formula": s.reduced_formula(),
                "space_group": s.space_group.symbol,
                "space_group_number": s.space_group.number,
                "radiation": plan.radiation_name,
                "wavelength": plan.options.wavelength,
                "scattering": plan.options.table.name(),
                "displacement": plan.options.displacement,
                "anomalous_dispersion": plan.options.anomalous
                    && plan.options.table.has_dispersion_at(plan.options.wavelength),
                "peaks": list,
            });
            format!("{value}\n")
        }
        OutputFormat::Xy => {
            let mut text = format!(
                "# file: {file} (block {}), {}, {} = {} Å; columns: 2theta intensity\n",
                s.name,
                s.reduced_formula(),
                plan.radiation_name,
                plan.options.wavelength
            );
            for p in peaks {
                text.push_str(&format!("{:.5} {:.4}\n", p.two_theta, p.intensity));
            }
            text
        }
        OutputFormat::Csv => {
            let mut text = String::new();
            for p in peaks {
                let hkl: Vec<String> = p
                    .hkls
                    .iter()
                    .map(|h| format!("{} {} {}", h[0], h[1], h[2]))
                    .collect();
                text.push_str(&format!(
                    "{},{},{:.5},{:.6},{:.4},{},{}\n",
                    csv_field(file),
                    csv_field(&s.name),
                    p.two_theta,
                    p.d,
                    p.intensity,
                    hkl.join(";"),
                    p.multiplicity
                ));
            }
            text
        }
    }
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn convert(input: &str, output: &str) -> anyhow::Result<ExitCode> {
    let bytes = fs::read(input).with_context(|| format!("cannot read {input}"))?;
    let pattern = formats::read(&bytes, input).with_context(|| input.to_string())?;
    let format = Format::from_path_name(output).with_context(|| output.to_string())?;
    let text = formats::write(&pattern, format).with_context(|| output.to_string())?;
    fs::write(output, text).with_context(|| format!("cannot write {output}"))?;
    Ok(ExitCode::SUCCESS)
}

fn library_list(format: ListFormat) -> anyhow::Result<ExitCode> {
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let mut text = String::new();
    for e in library::entries() {
        match format {
            ListFormat::Table => text.push_str(&format!(
                "{}\t{}\t{}\t{}\t{} {}\n",
                e.id(),
                e.formula,
                e.space_group,
                e.name,
                e.source,
                e.source_id
            )),
            ListFormat::Json => {
                let mut value = serde_json::to_value(&e)?;
                if let Some(map) = value.as_object_mut() {
                    map.insert("id".into(), json!(e.id()));
                }
                text.push_str(&format!("{value}\n"));
            }
        }
    }
    emit(&mut out, &text)?;
    Ok(ExitCode::SUCCESS)
}

fn library_show(id: &str) -> anyhow::Result<ExitCode> {
    let entry = library::find(id)
        .with_context(|| format!("no library entry '{id}' (see `athanor xrd library list`)"))?;
    let stdout = io::stdout();
    emit(&mut stdout.lock(), entry.cif)?;
    Ok(ExitCode::SUCCESS)
}
