//! Loading the benchmark datasets (the crate's only I/O): the five pool-based BO benchmarks
//! and the ARROWS YBCO run. Parsing is separate from reading so that it is tested on strings.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use athanor_core::Direction;

use crate::error::{PlannerError, Result};

/// One pool of the BO benchmarks: unique inputs with their objective (duplicates averaged).
#[derive(Debug, Clone)]
pub struct ScalarDataset {
    pub name: String,
    pub inputs: Vec<String>,
    pub objective: String,
    pub direction: Direction,
    /// Unique input rows, in order of first appearance.
    pub x: Vec<Vec<f64>>,
    /// Mean objective of each unique row.
    pub y: Vec<f64>,
}

impl ScalarDataset {
    /// Inputs scaled to [0, 1] per column (a constant column becomes 0.5).
    pub fn features(&self) -> Vec<Vec<f64>> {
        let d = self.inputs.len();
        let mut lo = vec![f64::INFINITY; d];
        let mut hi = vec![f64::NEG_INFINITY; d];
        for row in &self.x {
            for (j, v) in row.iter().enumerate() {
                lo[j] = lo[j].min(*v);
                hi[j] = hi[j].max(*v);
            }
        }
        self.x
            .iter()
            .map(|row| {
                row.iter()
                    .enumerate()
                    .map(|(j, v)| {
                        if hi[j] > lo[j] {
                            (v - lo[j]) / (hi[j] - lo[j])
                        } else {
                            0.5
                        }
                    })
                    .collect()
            })
            .collect()
    }

    /// The objective turned so that larger is better.
    pub fn maximised(&self) -> Vec<f64> {
        match self.direction {
            Direction::Maximize => self.y.clone(),
            Direction::Minimize => self.y.iter().map(|v| -v).collect(),
        }
    }
}

/// The five datasets of Liang et al. (2021): file, name, direction of the objective.
pub const BO_DATASETS: [(&str, &str, Direction); 5] = [
    (
        "Crossed_barrel_dataset.csv",
        "crossed_barrel",
        Direction::Maximize,
    ),
    ("AgNP_dataset.csv", "agnp", Direction::Minimize),
    ("P3HT_dataset.csv", "p3ht", Direction::Maximize),
    ("Perovskite_dataset.csv", "perovskite", Direction::Minimize),
    ("AutoAM_dataset.csv", "autoam", Direction::Maximize),
];

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|source| PlannerError::Read {
        path: path.to_path_buf(),
        source,
    })
}

/// Splits one CSV line on commas outside double quotes.
pub fn split_csv_line(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(std::mem::take(&mut field)),
            _ => field.push(c),
        }
    }
    out.push(field);
    out.into_iter().map(|f| f.trim().to_owned()).collect()
}

/// Parses a numeric CSV whose last column is the objective; rows with equal inputs are averaged.
pub fn parse_scalar_csv(
    text: &str,
    name: &str,
    direction: Direction,
    path: &Path,
) -> Result<ScalarDataset> {
    let err = |line: usize, message: String| PlannerError::Parse {
        path: path.to_path_buf(),
        line,
        message,
    };
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let (_, header) = lines.next().ok_or_else(|| err(1, "empty file".into()))?;
    let header = header.trim_start_matches('\u{feff}');
    let mut columns = split_csv_line(header);
    let objective = columns.pop().ok_or_else(|| err(1, "no columns".into()))?;
    if columns.is_empty() {
        return Err(err(
            1,
            "needs at least one input column before the objective".into(),
        ));
    }
    let mut groups: BTreeMap<Vec<u64>, usize> = BTreeMap::new();
    let mut x: Vec<Vec<f64>> = Vec::new();
    let mut sums: Vec<(f64, usize)> = Vec::new();
    for (i, line) in lines {
        let fields = split_csv_line(line);
        if fields.len() != columns.len() + 1 {
            return Err(err(
                i + 1,
                format!("{} fields, expected {}", fields.len(), columns.len() + 1),
            ));
        }
        let values: Vec<f64> = fields
            .iter()
            .map(|f| {
                f.parse::<f64>()
                    .map_err(|e| err(i + 1, format!("`{f}`: {e}")))
            })
            .collect::<Result<_>>()?;
        let (inputs, y) = values.split_at(columns.len());
        if values.iter().any(|v| !v.is_finite()) {
            return Err(err(i + 1, "values must be finite".into()));
        }
        let key: Vec<u64> = inputs.iter().map(|v| v.to_bits()).collect();
        let slot = *groups.entry(key).or_insert_with(|| {
            x.push(inputs.to_vec());
            sums.push((0.0, 0));
            x.len() - 1
        });
        sums[slot].0 += y[0];
        sums[slot].1 += 1;
    }
    if x.is_empty() {
        return Err(err(1, "no data rows".into()));
    }
    Ok(ScalarDataset {
        name: name.to_owned(),
        inputs: columns,
        objective,
        direction,
        x,
        y: sums.iter().map(|(s, n)| s / *n as f64).collect(),
    })
}

/// Loads every BO benchmark pool from `dir` (`…/planning/bo-benchmarks`).
pub fn load_bo_benchmarks(dir: &Path) -> Result<Vec<ScalarDataset>> {
    BO_DATASETS
        .iter()
        .map(|(file, name, direction)| {
            let path = dir.join(file);
            parse_scalar_csv(&read(&path)?, name, *direction, &path)
        })
        .collect()
}

/// One run of the YBCO campaign: what was heated, at what temperature, and what XRD found.
#[derive(Debug, Clone, PartialEq)]
pub struct SynthesisRun {
    pub order: usize,
    pub temperature_c: f64,
    pub precursors: Vec<String>,
    /// (phase, weight fraction) as refined.
    pub products: Vec<(String, f64)>,
}

/// The ARROWS YBCO data: candidate precursors, target, temperatures, runs, reaction energies.
#[derive(Debug, Clone)]
pub struct SynthesisDataset {
    pub target: String,
    pub precursors: Vec<String>,
    pub temperatures: Vec<f64>,
    pub runs: Vec<SynthesisRun>,
    /// (precursor set, reaction energy to the target in meV/atom).
    pub energies: Vec<(Vec<String>, f64)>,
}

fn list(s: &str, sep: char) -> Vec<String> {
    s.split(sep)
        .map(|p| p.trim().to_owned())
        .filter(|p| !p.is_empty())
        .collect()
}

/// Parses `experiments.csv` (`order,temperature_C,precursors,products,weight_fractions`).
pub fn parse_runs(text: &str, path: &Path) -> Result<Vec<SynthesisRun>> {
    let err = |line: usize, message: String| PlannerError::Parse {
        path: path.to_path_buf(),
        line,
        message,
    };
    let mut runs = Vec::new();
    for (i, line) in text
        .lines()
        .enumerate()
        .skip(1)
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let f = split_csv_line(line);
        if f.len() != 5 {
            return Err(err(i + 1, format!("{} fields, expected 5", f.len())));
        }
        let order = f[0]
            .parse()
            .map_err(|e| err(i + 1, format!("order: {e}")))?;
        let temperature_c = f[1]
            .parse()
            .map_err(|e| err(i + 1, format!("temperature: {e}")))?;
        let phases = list(&f[3], ';');
        let fractions: Vec<f64> = list(&f[4], ';')
            .iter()
            .map(|v| {
                v.parse::<f64>()
                    .map_err(|e| err(i + 1, format!("fraction `{v}`: {e}")))
            })
            .collect::<Result<_>>()?;
        if phases.len() != fractions.len() {
            return Err(err(
                i + 1,
                "products and weight fractions differ in length".into(),
            ));
        }
        runs.push(SynthesisRun {
            order,
            temperature_c,
            precursors: list(&f[2], ','),
            products: phases.into_iter().zip(fractions).collect(),
        });
    }
    Ok(runs)
}

/// Parses `reaction_energies.csv` (`Precursors,Amounts,Products,Reaction energy (meV/atom)`).
pub fn parse_energies(text: &str, path: &Path) -> Result<Vec<(Vec<String>, f64)>> {
    let mut out = Vec::new();
    for (i, line) in text
        .lines()
        .enumerate()
        .skip(1)
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let f = split_csv_line(line);
        let energy = f
            .get(3)
            .and_then(|v| v.parse::<f64>().ok())
            .ok_or_else(|| PlannerError::Parse {
                path: path.to_path_buf(),
                line: i + 1,
                message: "expected 4 fields ending in a number".into(),
            })?;
        out.push((list(&f[0], '+'), energy));
    }
    Ok(out)
}

/// Pulls one string or list of strings out of `settings.json`.
fn setting<'a>(v: &'a serde_json::Value, key: &str, path: &Path) -> Result<&'a serde_json::Value> {
    v.get(key).ok_or_else(|| PlannerError::Parse {
        path: path.to_path_buf(),
        line: 1,
        message: format!("settings lack `{key}`"),
    })
}

/// Loads the YBCO campaign from `dir` (`…/planning/arrows-ybco`).
pub fn load_synthesis(dir: &Path) -> Result<SynthesisDataset> {
    let settings_path = dir.join("settings.json");
    let settings: serde_json::Value =
        serde_json::from_str(&read(&settings_path)?).map_err(|e| PlannerError::Parse {
            path: settings_path.clone(),
            line: e.line(),
            message: e.to_string(),
        })?;
    let strings = |v: &serde_json::Value| -> Vec<String> {
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let target = setting(&settings, "Target", &settings_path)?
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let precursors = strings(setting(&settings, "Precursors", &settings_path)?);
    let temperatures = setting(&settings, "Temperatures", &settings_path)?
        .as_array()
        .map(|a| a.iter().filter_map(serde_json::Value::as_f64).collect())
        .unwrap_or_default();
    let runs_path: PathBuf = dir.join("experiments.csv");
    let energies_path: PathBuf = dir.join("reaction_energies.csv");
    Ok(SynthesisDataset {
        target,
        precursors,
        temperatures,
        runs: parse_runs(&read(&runs_path)?, &runs_path)?,
        energies: parse_energies(&read(&energies_path)?, &energies_path)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicates_are_averaged_and_the_bom_is_dropped() {
        let text = "\u{feff}a,b,y\n1,2,10\n1,2,20\n3,4,5\n";
        let d = parse_scalar_csv(text, "t", Direction::Minimize, Path::new("t.csv")).unwrap();
        assert_eq!(d.inputs, ["a", "b"]);
        assert_eq!(d.x, vec![vec![1.0, 2.0], vec![3.0, 4.0]]);
        assert_eq!(d.y, vec![15.0, 5.0]);
        assert_eq!(d.maximised(), vec![-15.0, -5.0]);
        assert_eq!(d.features(), vec![vec![0.0, 0.0], vec![1.0, 1.0]]);
    }

    #[test]
    fn bad_rows_name_their_line() {
        let err = parse_scalar_csv(
            "a,y\n1,2\n1,x\n",
            "t",
            Direction::Maximize,
            Path::new("t.csv"),
        )
        .unwrap_err();
        assert!(matches!(err, PlannerError::Parse { line: 3, .. }), "{err}");
    }

    #[test]
    fn synthesis_runs_parse_quoted_sets() {
        let text = "order,temperature_C,precursors,products,weight_fractions\n3,800,\"Y2O3, BaO2, CuCO3\",Ba2YCu3O7;Y2O3,0.88;0.12\n";
        let runs = parse_runs(text, Path::new("e.csv")).unwrap();
        assert_eq!(runs[0].precursors, ["Y2O3", "BaO2", "CuCO3"]);
        assert_eq!(
            runs[0].products,
            vec![("Ba2YCu3O7".to_owned(), 0.88), ("Y2O3".to_owned(), 0.12)]
        );
    }
}
