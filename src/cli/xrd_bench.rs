//! `athanor xrd bench-identify`: runs phase identification on the synthetic mixtures
//! (`scripts/make_synthetic_mixtures.py`) against the whole built-in library, with each
//! mixture's elements as the constraint, and scores it against the truth: phase recall and
//! precision, weight-fraction error, the reliability of the reported confidences, and the wall
//! clock of every identification.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{bail, Context};
use athanor_xrd::identify::{
    identify, Analysis, Candidate, CandidateLibrary, IdentifyOptions, LibrarySettings,
};
use athanor_xrd::{formats, Element, Pattern, Radiation, ScatteringTable};
use clap::Args;
use flate2::read::GzDecoder;
use serde::{Deserialize, Serialize};

/// Confidence bins of the reliability table: [lower, upper), the last one closed.
const BINS: [(f64, f64); 4] = [(0.0, 0.5), (0.5, 0.7), (0.7, 0.9), (0.9, 1.0)];

/// A true weight fraction below this makes a phase "minor" in the report.
const MINOR: f64 = 0.08;

#[derive(Debug, Args)]
pub struct BenchIdentifyArgs {
    /// Folder of mixtures: `mix_NNNN.json` truths beside their patterns (`.xy.gz` or `.xy`).
    #[arg(long, default_value = "crates/athanor-xrd/tests/fixtures/synthetic")]
    dir: PathBuf,
    /// Print the whole result as JSON (summary and every mixture).
    #[arg(long)]
    json: bool,
    /// Only the first N mixtures, in name order (after --phases).
    #[arg(long)]
    limit: Option<usize>,
    /// Only the mixtures of this many phases (e.g. 4 for the performance case).
    #[arg(long)]
    phases: Option<usize>,
    /// How many of the worst mixtures the text report lists.
    #[arg(long, default_value_t = 20)]
    worst: usize,
    /// Atomic scattering factors of the candidates: waasmaier-kirfel (the engine's default) or
    /// pymatgen (the table the mixtures were made with; shows how much of the weight error is
    /// the intensity model).
    #[arg(long, default_value = "waasmaier-kirfel", value_parser = parse_table)]
    scattering: ScatteringTable,
    /// Also write the JSON result (as --json prints it) to this file.
    #[arg(long)]
    save: Option<PathBuf>,
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

/// The parts of a truth file the benchmark reads.
#[derive(Debug, Deserialize)]
struct Truth {
    id: String,
    pattern: String,
    elements: Vec<String>,
    phases: Vec<TruthPhase>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
struct TruthPhase {
    id: String,
    weight_fraction: f64,
}

#[derive(Debug, Serialize)]
struct Reported {
    id: String,
    weight_fraction: f64,
    confidence: f64,
    right: bool,
}

/// One mixture's outcome.
#[derive(Debug, Serialize)]
struct MixtureResult {
    id: String,
    truth: Vec<TruthPhase>,
    reported: Vec<Reported>,
    /// True phases not reported.
    missed: Vec<String>,
    /// Reported phases not in the truth.
    false_phases: Vec<String>,
    /// |reported − true| weight fraction of every true phase that was found.
    weight_errors: Vec<f64>,
    rwp: Option<f64>,
    /// Wall clock of the identification.
    seconds: f64,
    /// Processor time the whole process spent meanwhile (all threads; Linux only).
    cpu_seconds: Option<f64>,
    /// The engine's error, when it failed (every true phase then counts as missed).
    error: Option<String>,
}

impl MixtureResult {
    fn max_weight_error(&self) -> f64 {
        self.weight_errors.iter().copied().fold(0.0, f64::max)
    }

    /// Sort key for the worst list: misses and false phases first, then the weight error.
    fn badness(&self) -> f64 {
        (self.missed.len() + self.false_phases.len()) as f64 + self.max_weight_error()
    }
}

#[derive(Debug, Serialize)]
struct Timing {
    count: usize,
    median_s: f64,
    p90_s: f64,
    worst_s: f64,
    mean_s: f64,
    /// Median processor time (all threads), when measured.
    median_cpu_s: Option<f64>,
}

#[derive(Debug, Serialize)]
struct Scores {
    mixtures: usize,
    true_phases: usize,
    reported_phases: usize,
    found: usize,
    right_reports: usize,
    recall: f64,
    precision: f64,
    /// Mean |Δw| over the true phases that were found.
    weight_mae: f64,
    /// Mean |Δw| over every true phase (missed ones reported as 0) and every false phase
    /// (truly 0).
    weight_mae_strict: f64,
    weight_max_error: f64,
    timing: Timing,
}

#[derive(Debug, Serialize)]
struct ReliabilityBin {
    from: f64,
    to: f64,
    reported: usize,
    right: usize,
    fraction_right: Option<f64>,
}

#[derive(Debug, Serialize)]
struct Report {
    directory: String,
    scattering: &'static str,
    library_entries: usize,
    library_build_s: f64,
    overall: Scores,
    by_phase_count: Vec<(usize, Scores)>,
    minor_phases: MinorScores,
    reliability: Vec<ReliabilityBin>,
    failed_runs: usize,
    mixtures: Vec<MixtureResult>,
}

/// Recall of the phases whose true weight fraction is below [`MINOR`].
#[derive(Debug, Serialize)]
struct MinorScores {
    below: f64,
    count: usize,
    found: usize,
    recall: f64,
    weight_mae: f64,
}

/// Runs the benchmark and prints its report.
pub fn run(args: &BenchIdentifyArgs) -> anyhow::Result<ExitCode> {
    let truths = read_truths(&args.dir, args.phases, args.limit)?;
    if truths.is_empty() {
        bail!(
            "no mixtures (mix_*.json) in {}; make them with scripts/make_synthetic_mixtures.py",
            args.dir.display()
        );
    }
    let started = Instant::now();
    let mut settings = LibrarySettings::new(Radiation::parse("CuKa")?);
    settings.table = args.scattering;
    let library = CandidateLibrary::build(Candidate::builtin_library()?, &settings)
        .context("building the candidate library")?;
    let library_build_s = started.elapsed().as_secs_f64();
    let library_entries = library.len();

    let mut results = Vec::with_capacity(truths.len());
    for (i, truth) in truths.iter().enumerate() {
        let pattern = read_pattern(&args.dir, truth)?;
        let options = options_for(truth)?;
        let cpu0 = process_cpu_seconds();
        let t0 = Instant::now();
        let outcome = identify(&pattern, &library, &options);
        let seconds = t0.elapsed().as_secs_f64();
        let cpu_seconds = process_cpu_seconds()
            .zip(cpu0)
            .map(|(after, before)| after - before);
        let mut result = score(truth, outcome.as_ref().map_err(|e| e.to_string()), seconds);
        result.cpu_seconds = cpu_seconds;
        if !args.json {
            eprint!(
                "\r{}/{} {} {:.2} s   ",
                i + 1,
                truths.len(),
                truth.id,
                seconds
            );
        }
        results.push(result);
    }
    if !args.json {
        eprintln!();
    }

    let report = summarise(args, library_entries, library_build_s, results);
    let json = serde_json::to_string_pretty(&report)?;
    if let Some(path) = &args.save {
        fs::write(path, format!("{json}\n"))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    if args.json {
        println!("{json}");
    } else {
        print!("{}", to_text(&report, args.worst));
    }
    Ok(ExitCode::SUCCESS)
}

fn read_truths(
    dir: &Path,
    phases: Option<usize>,
    limit: Option<usize>,
) -> anyhow::Result<Vec<Truth>> {
    let listing =
        fs::read_dir(dir).with_context(|| format!("cannot read the folder {}", dir.display()))?;
    let mut paths = Vec::new();
    for entry in listing {
        let path = entry?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.starts_with("mix_") && name.ends_with(".json") {
            paths.push(path);
        }
    }
    paths.sort();
    let mut truths = Vec::new();
    for p in &paths {
        let text = fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
        let truth: Truth = serde_json::from_str(&text)
            .with_context(|| format!("{}: not a mixture truth file", p.display()))?;
        if truth.phases.is_empty() {
            bail!("{}: the truth lists no phase", p.display());
        }
        if phases.is_none_or(|n| truth.phases.len() == n) {
            truths.push(truth);
        }
    }
    if let Some(n) = limit {
        truths.truncate(n);
    }
    Ok(truths)
}

/// The pattern file named by the truth; `.gz` files are decompressed first.
fn read_pattern(dir: &Path, truth: &Truth) -> anyhow::Result<Pattern> {
    let path = dir.join(&truth.pattern);
    let raw = fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
    let (bytes, name) = match truth.pattern.strip_suffix(".gz") {
        Some(inner) => {
            let mut out = Vec::new();
            GzDecoder::new(raw.as_slice())
                .read_to_end(&mut out)
                .with_context(|| format!("{}: not a gzip file", path.display()))?;
            (out, inner)
        }
        None => (raw, truth.pattern.as_str()),
    };
    formats::read(&bytes, name).with_context(|| format!("reading the pattern {}", path.display()))
}

fn options_for(truth: &Truth) -> anyhow::Result<IdentifyOptions> {
    let elements = truth
        .elements
        .iter()
        .map(|s| {
            Element::from_symbol(s)
                .with_context(|| format!("{}: unknown element '{s}' in the truth", truth.id))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(IdentifyOptions {
        elements: Some(elements),
        ..IdentifyOptions::default()
    })
}

fn score(truth: &Truth, outcome: Result<&Analysis, String>, seconds: f64) -> MixtureResult {
    let (reported, rwp, error) = match outcome {
        Ok(analysis) => {
            let reported = analysis
                .phases
                .iter()
                .map(|p| Reported {
                    id: p.id.clone(),
                    weight_fraction: p.weight_fraction,
                    confidence: p.confidence,
                    right: truth.phases.iter().any(|t| t.id == p.id),
                })
                .collect();
            (reported, Some(analysis.rwp), None)
        }
        Err(e) => (Vec::new(), None, Some(e)),
    };
    let mut missed = Vec::new();
    let mut weight_errors = Vec::new();
    for t in &truth.phases {
        match reported.iter().find(|r: &&Reported| r.id == t.id) {
            Some(r) => weight_errors.push((r.weight_fraction - t.weight_fraction).abs()),
            None => missed.push(t.id.clone()),
        }
    }
    let false_phases = reported
        .iter()
        .filter(|r| !r.right)
        .map(|r| r.id.clone())
        .collect();
    MixtureResult {
        id: truth.id.clone(),
        truth: truth.phases.clone(),
        reported,
        missed,
        false_phases,
        weight_errors,
        rwp,
        seconds,
        cpu_seconds: None,
        error,
    }
}

/// User + system time of this process so far, from /proc/self/stat (Linux; its clock ticks are
/// USER_HZ = 100 per second). None where that file does not exist.
fn process_cpu_seconds() -> Option<f64> {
    let stat = fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may hold spaces) start with field 3, the state;
    // utime and stime are fields 14 and 15.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

fn ratio(num: usize, den: usize) -> f64 {
    if den == 0 {
        f64::NAN
    } else {
        num as f64 / den as f64
    }
}

fn mean(values: impl Iterator<Item = f64>) -> f64 {
    let (sum, n) = values.fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    if n == 0 {
        f64::NAN
    } else {
        sum / n as f64
    }
}

/// The value at quantile `q` (nearest rank) of sorted `values`.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn timing(results: &[&MixtureResult]) -> Timing {
    let mut t: Vec<f64> = results.iter().map(|r| r.seconds).collect();
    t.sort_by(f64::total_cmp);
    let mut cpu: Vec<f64> = results.iter().filter_map(|r| r.cpu_seconds).collect();
    cpu.sort_by(f64::total_cmp);
    Timing {
        count: t.len(),
        median_s: quantile(&t, 0.5),
        p90_s: quantile(&t, 0.9),
        worst_s: t.last().copied().unwrap_or(f64::NAN),
        mean_s: mean(t.iter().copied()),
        median_cpu_s: (cpu.len() == t.len() && !cpu.is_empty()).then(|| quantile(&cpu, 0.5)),
    }
}

fn scores(results: &[&MixtureResult]) -> Scores {
    let true_phases: usize = results.iter().map(|r| r.truth.len()).sum();
    let reported_phases: usize = results.iter().map(|r| r.reported.len()).sum();
    let found: usize = results.iter().map(|r| r.weight_errors.len()).sum();
    let right_reports: usize = results
        .iter()
        .map(|r| r.reported.iter().filter(|p| p.right).count())
        .sum();
    let found_errors = results.iter().flat_map(|r| r.weight_errors.iter().copied());
    let strict = results.iter().flat_map(|r| {
        let missed = r.truth.iter().filter(|t| r.missed.contains(&t.id));
        let false_ones = r.reported.iter().filter(|p| !p.right);
        r.weight_errors
            .iter()
            .copied()
            .chain(missed.map(|t| t.weight_fraction))
            .chain(false_ones.map(|p| p.weight_fraction))
            .collect::<Vec<_>>()
    });
    Scores {
        mixtures: results.len(),
        true_phases,
        reported_phases,
        found,
        right_reports,
        recall: ratio(found, true_phases),
        precision: ratio(right_reports, reported_phases),
        weight_mae: mean(found_errors.clone()),
        weight_mae_strict: mean(strict),
        weight_max_error: found_errors.fold(0.0, f64::max),
        timing: timing(results),
    }
}

fn summarise(
    args: &BenchIdentifyArgs,
    library_entries: usize,
    library_build_s: f64,
    mixtures: Vec<MixtureResult>,
) -> Report {
    let all: Vec<&MixtureResult> = mixtures.iter().collect();
    let mut counts: Vec<usize> = mixtures.iter().map(|r| r.truth.len()).collect();
    counts.sort_unstable();
    counts.dedup();
    let by_phase_count = counts
        .iter()
        .map(|&n| {
            let subset: Vec<&MixtureResult> =
                mixtures.iter().filter(|r| r.truth.len() == n).collect();
            (n, scores(&subset))
        })
        .collect();

    let mut minor_count = 0;
    let mut minor_errors = Vec::new();
    for r in &mixtures {
        for t in r.truth.iter().filter(|t| t.weight_fraction < MINOR) {
            minor_count += 1;
            if let Some(p) = r.reported.iter().find(|p| p.id == t.id) {
                minor_errors.push((p.weight_fraction - t.weight_fraction).abs());
            }
        }
    }
    let minor_phases = MinorScores {
        below: MINOR,
        count: minor_count,
        found: minor_errors.len(),
        recall: ratio(minor_errors.len(), minor_count),
        weight_mae: mean(minor_errors.iter().copied()),
    };

    let reliability = BINS
        .iter()
        .enumerate()
        .map(|(i, &(from, to))| {
            let last = i + 1 == BINS.len();
            let in_bin = |c: f64| c >= from && (c < to || (last && c <= to));
            let reports: Vec<&Reported> = mixtures
                .iter()
                .flat_map(|r| r.reported.iter())
                .filter(|p| in_bin(p.confidence))
                .collect();
            let right = reports.iter().filter(|p| p.right).count();
            ReliabilityBin {
                from,
                to,
                reported: reports.len(),
                right,
                fraction_right: (!reports.is_empty()).then(|| ratio(right, reports.len())),
            }
        })
        .collect();

    Report {
        directory: args.dir.display().to_string(),
        scattering: args.scattering.name(),
        library_entries,
        library_build_s,
        overall: scores(&all),
        by_phase_count,
        minor_phases,
        reliability,
        failed_runs: mixtures.iter().filter(|r| r.error.is_some()).count(),
        mixtures,
    }
}

fn pct(x: f64) -> String {
    if x.is_nan() {
        "-".into()
    } else {
        format!("{:.1} %", 100.0 * x)
    }
}

fn wt(x: f64) -> String {
    if x.is_nan() {
        "-".into()
    } else {
        format!("{:.2} wt%", 100.0 * x)
    }
}

fn to_text(report: &Report, worst: usize) -> String {
    let mut s = String::new();
    let o = &report.overall;
    s.push_str(&format!(
        "{} mixtures from {}; {} library candidates ({} scattering factors, built in {:.2} s)\n\n",
        o.mixtures,
        report.directory,
        report.library_entries,
        report.scattering,
        report.library_build_s
    ));
    s.push_str(&format!(
        "{:<8} {:>5} {:>6} {:>7} {:>9} {:>10} {:>10} {:>13} {:>10} {:>9} {:>9} {:>9} {:>8}\n",
        "phases",
        "mix",
        "true",
        "found",
        "recall",
        "precision",
        "wf MAE",
        "wf MAE strict",
        "wf max",
        "median s",
        "p90 s",
        "worst s",
        "cpu s"
    ));
    let row = |label: String, sc: &Scores| {
        format!(
            "{:<8} {:>5} {:>6} {:>7} {:>9} {:>10} {:>10} {:>13} {:>10} {:>9.3} {:>9.3} {:>9.3} {:>8}\n",
            label,
            sc.mixtures,
            sc.true_phases,
            sc.found,
            pct(sc.recall),
            pct(sc.precision),
            wt(sc.weight_mae),
            wt(sc.weight_mae_strict),
            wt(sc.weight_max_error),
            sc.timing.median_s,
            sc.timing.p90_s,
            sc.timing.worst_s,
            sc.timing
                .median_cpu_s
                .map_or("-".into(), |c| format!("{c:.2}"))
        )
    };
    for (n, sc) in &report.by_phase_count {
        s.push_str(&row(n.to_string(), sc));
    }
    s.push_str(&row("all".into(), o));
    s.push_str(
        "(seconds: wall clock of one identification; cpu s: median processor time of the process \
         meanwhile, all threads)\n",
    );
    let m = &report.minor_phases;
    s.push_str(&format!(
        "\nminor phases (< {:.0} wt%): {} of {} found (recall {}), wf MAE {}\n",
        100.0 * m.below,
        m.found,
        m.count,
        pct(m.recall),
        wt(m.weight_mae)
    ));
    s.push_str(&format!(
        "reported phases: {} ({} right, {} false); engine errors: {}\n",
        o.reported_phases,
        o.right_reports,
        o.reported_phases - o.right_reports,
        report.failed_runs
    ));

    s.push_str("\nreliability (reported phases by confidence)\n");
    s.push_str(&format!(
        "{:<12} {:>9} {:>7} {:>14}\n",
        "confidence", "reported", "right", "fraction right"
    ));
    for b in &report.reliability {
        s.push_str(&format!(
            "{:<12} {:>9} {:>7} {:>14}\n",
            format!("{:.1}–{:.1}", b.from, b.to),
            b.reported,
            b.right,
            b.fraction_right.map_or("-".into(), pct)
        ));
    }

    let mut bad: Vec<&MixtureResult> = report
        .mixtures
        .iter()
        .filter(|r| r.badness() > 0.03)
        .collect();
    bad.sort_by(|a, b| b.badness().total_cmp(&a.badness()));
    if !bad.is_empty() && worst > 0 {
        s.push_str(&format!(
            "\nworst mixtures (misses, false phases, or a weight error above 3 wt%; {} of {} shown)\n",
            bad.len().min(worst),
            bad.len()
        ));
        for r in bad.iter().take(worst) {
            let truth: Vec<String> = r
                .truth
                .iter()
                .map(|t| format!("{} {:.1}", t.id, 100.0 * t.weight_fraction))
                .collect();
            let reported: Vec<String> = r
                .reported
                .iter()
                .map(|p| {
                    format!(
                        "{}{} {:.1} (c {:.2})",
                        if p.right { "" } else { "✗" },
                        p.id,
                        100.0 * p.weight_fraction,
                        p.confidence
                    )
                })
                .collect();
            s.push_str(&format!(
                "  {}  true: {}\n            got:  {}{}\n",
                r.id,
                truth.join(", "),
                if reported.is_empty() {
                    "(nothing)".to_string()
                } else {
                    reported.join(", ")
                },
                r.error
                    .as_deref()
                    .map(|e| format!("  error: {e}"))
                    .unwrap_or_default()
            ));
        }
    }
    s
}
