//! PANalytical XRDML (XRDMeasurement schema 1.x) reader: step and continuous 2θ scans, with
//! the wavelengths of `<usedWavelength>`, tube and goniometer notes and the sample name.
//!
//! Reading rules: the first `<scan>` of the first `<xrdMeasurement>` is read (a note says how
//! many there were). 2θ comes from `<positions axis="2Theta">`, as `<listPositions>` or as
//! `<startPosition>`/`<endPosition>` (the centres of the first and last point, evenly spaced in
//! between); a 2θ held at `<commonPosition>` is not a powder pattern and is refused. Intensities
//! come from `<intensities>` or `<counts>`. Values in counts are multiplied by any
//! `<beamAttenuationFactors>` and divided by the counting time (`<commonCountingTime>` or
//! `<countingTimes>`) to give counts per second, with σ = √max(N, 1) from counting statistics
//! scaled the same way; values already in cps are kept as they are, without σ. A scan measured
//! from high to low 2θ is reversed. Namespaces and schema versions are not checked: elements are
//! matched by local name.

use roxmltree::{Document, Node};

use super::error::FormatError;
use crate::pattern::{Pattern, PatternMeta};

pub(crate) fn read(bytes: &[u8]) -> Result<Pattern, FormatError> {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let text = std::str::from_utf8(bytes).map_err(|e| FormatError::Encoding {
        line: 1 + bytes[..e.valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count(),
    })?;
    let doc = Document::parse(text).map_err(|e| {
        let pos = e.pos();
        FormatError::Xml {
            line: pos.row,
            column: pos.col,
            message: e.to_string(),
        }
    })?;
    Reader { doc: &doc }.read()
}

struct Reader<'a, 'input> {
    doc: &'a Document<'input>,
}

/// Intensities as found in the file, before conversion to counts per second.
struct RawIntensities {
    values: Vec<f64>,
    in_counts: bool,
}

impl<'a, 'input> Reader<'a, 'input> {
    fn read(&self) -> Result<Pattern, FormatError> {
        let root = self.doc.root_element();
        if root.tag_name().name() != "xrdMeasurements" {
            return Err(FormatError::NotXrdml {
                root: root.tag_name().name().to_string(),
            });
        }
        let mut meta = PatternMeta::default();
        if let Some(sample) = child(root, "sample") {
            meta.sample_name = text_of(child(sample, "name"))
                .or_else(|| text_of(child(sample, "id")))
                .map(str::to_string);
        }
        let measurements: Vec<Node> = children(root, "xrdMeasurement").collect();
        let measurement = *measurements
            .first()
            .ok_or_else(|| self.missing(root, "xrdMeasurements", "xrdMeasurement"))?;
        let scans: Vec<Node> = measurements
            .iter()
            .flat_map(|m| children(*m, "scan"))
            .collect();
        let scan = *scans
            .first()
            .ok_or_else(|| self.missing(measurement, "xrdMeasurement", "scan"))?;
        if scans.len() > 1 {
            meta.notes.push(format!(
                "the file holds {} scans; this pattern is the first (appendNumber {})",
                scans.len(),
                scan.attribute("appendNumber").unwrap_or("0")
            ));
        }
        self.read_wavelengths(measurement, &mut meta)?;
        self.read_instrument_notes(measurement, scan, &mut meta)?;

        let data =
            child(scan, "dataPoints").ok_or_else(|| self.missing(scan, "scan", "dataPoints"))?;
        let raw = self.read_intensities(data)?;
        let n = raw.values.len();
        let mut two_theta = self.read_two_theta(scan, data, n)?;
        let (mut intensity, mut sigma) = self.to_counts_per_second(data, raw, &mut meta)?;
        if two_theta.len() > 1 && two_theta[0] > two_theta[n - 1] {
            two_theta.reverse();
            intensity.reverse();
            if let Some(s) = sigma.as_mut() {
                s.reverse();
            }
            meta.notes
                .push("scanned from high to low 2θ; points reversed".to_string());
        }
        Pattern::new(two_theta, intensity, sigma)
            .map(|p| p.with_meta(meta))
            .map_err(FormatError::InvalidXrdmlPattern)
    }

    fn read_wavelengths(
        &self,
        measurement: Node,
        meta: &mut PatternMeta,
    ) -> Result<(), FormatError> {
        let Some(used) = child(measurement, "usedWavelength") else {
            return Ok(());
        };
        if let Some(intended) = used.attribute("intended") {
            meta.notes.push(format!("intended wavelength: {intended}"));
        }
        meta.wavelength = self.optional_number(used, "kAlpha1")?;
        meta.wavelength_alpha2 = self.optional_number(used, "kAlpha2")?;
        meta.alpha2_ratio = self.optional_number(used, "ratioKAlpha2KAlpha1")?;
        if let Some(kb) = self.optional_number(used, "kBeta")? {
            meta.notes.push(format!("Kβ wavelength: {kb} Å"));
        }
        Ok(())
    }

    fn read_instrument_notes(
        &self,
        measurement: Node,
        scan: Node,
        meta: &mut PatternMeta,
    ) -> Result<(), FormatError> {
        if let Some(kind) = measurement.attribute("measurementType") {
            meta.notes.push(format!("measurement type: {kind}"));
        }
        if let Some(beam) = child(measurement, "incidentBeamPath") {
            if let Some(radius) = self.optional_number(beam, "radius")? {
                meta.notes.push(format!("goniometer radius: {radius} mm"));
            }
            if let Some(tube) = child(beam, "xRayTube") {
                if let Some(name) = tube.attribute("name") {
                    meta.notes.push(format!("x-ray tube: {name}"));
                }
                if let Some(anode) = text_of(child(tube, "anodeMaterial")) {
                    meta.notes.push(format!("anode: {anode}"));
                }
                if let Some(kv) = self.optional_number(tube, "tension")? {
                    meta.notes.push(format!("tube tension: {kv} kV"));
                }
                if let Some(ma) = self.optional_number(tube, "current")? {
                    meta.notes.push(format!("tube current: {ma} mA"));
                }
            }
        }
        for (attr, label) in [("scanAxis", "scan axis"), ("mode", "scan mode")] {
            if let Some(v) = scan.attribute(attr) {
                meta.notes.push(format!("{label}: {v}"));
            }
        }
        if let Some(start) = child(scan, "header").and_then(|h| text_of(child(h, "startTimeStamp")))
        {
            meta.notes.push(format!("started: {start}"));
        }
        Ok(())
    }

    fn read_intensities(&self, data: Node) -> Result<RawIntensities, FormatError> {
        let node = child(data, "intensities")
            .or_else(|| child(data, "counts"))
            .ok_or_else(|| self.missing(data, "dataPoints", "intensities"))?;
        let values = self.numbers(node)?;
        if values.is_empty() {
            return Err(FormatError::XrdmlCount {
                line: self.line(node),
                element: node.tag_name().name().to_string(),
                expected: 1,
                found: 0,
            });
        }
        let unit = node.attribute("unit").unwrap_or("counts");
        Ok(RawIntensities {
            values,
            in_counts: !unit.eq_ignore_ascii_case("cps"),
        })
    }

    fn read_two_theta(&self, scan: Node, data: Node, n: usize) -> Result<Vec<f64>, FormatError> {
        let positions = children(data, "positions")
            .find(|p| p.attribute("axis") == Some("2Theta"))
            .ok_or_else(|| self.missing(data, "dataPoints", "positions axis=\"2Theta\""))?;
        if let Some(list) = child(positions, "listPositions") {
            let values = self.numbers(list)?;
            self.check_count(list, n, values.len())?;
            return Ok(values);
        }
        let start = child(positions, "startPosition");
        let end = child(positions, "endPosition");
        if let (Some(start), Some(end)) = (start, end) {
            let status = scan.attribute("status").unwrap_or("Completed");
            if status != "Completed" {
                return Err(FormatError::IncompleteScan {
                    line: self.line(scan),
                    status: status.to_string(),
                });
            }
            let a = self.single_number(start)?;
            let b = self.single_number(end)?;
            if n == 1 {
                return Ok(vec![a]);
            }
            let step = (b - a) / (n - 1) as f64;
            return Ok((0..n).map(|i| a + i as f64 * step).collect());
        }
        if let Some(common) = child(positions, "commonPosition") {
            return Err(FormatError::NotTwoThetaScan {
                line: self.line(common),
                axis: scan.attribute("scanAxis").unwrap_or("unknown").to_string(),
                position: self.single_number(common)?,
            });
        }
        Err(self.missing(
            positions,
            "positions",
            "listPositions or startPosition/endPosition",
        ))
    }

    fn to_counts_per_second(
        &self,
        data: Node,
        raw: RawIntensities,
        meta: &mut PatternMeta,
    ) -> Result<(Vec<f64>, Option<Vec<f64>>), FormatError> {
        let n = raw.values.len();
        if !raw.in_counts {
            meta.notes
                .push("intensity in counts per second, as given".to_string());
            return Ok((raw.values, None));
        }
        let attenuation = match child(data, "beamAttenuationFactors") {
            Some(node) => {
                let f = self.numbers(node)?;
                self.check_count(node, n, f.len())?;
                f
            }
            None => vec![1.0; n],
        };
        let times = if let Some(node) = child(data, "commonCountingTime") {
            let t = self.single_number(node)?;
            self.check_time(node, t)?;
            Some(vec![t; n])
        } else if let Some(node) = child(data, "countingTimes") {
            let t = self.numbers(node)?;
            self.check_count(node, n, t.len())?;
            for &v in &t {
                self.check_time(node, v)?;
            }
            Some(t)
        } else {
            None
        };
        let mut intensity = Vec::with_capacity(n);
        let mut sigma = Vec::with_capacity(n);
        for i in 0..n {
            let counts = raw.values[i];
            let scale = attenuation[i] / times.as_ref().map_or(1.0, |t| t[i]);
            intensity.push(counts * scale);
            sigma.push(counts.max(1.0).sqrt() * scale.abs());
        }
        match &times {
            Some(_) => meta.notes.push(
                "intensity in counts per second (counts × attenuation ÷ counting time); σ from counting statistics, √max(N, 1)"
                    .to_string(),
            ),
            None => meta.notes.push(
                "no counting time in the file: intensity in counts (× attenuation); σ from counting statistics, √max(N, 1)"
                    .to_string(),
            ),
        }
        Ok((intensity, Some(sigma)))
    }

    fn check_time(&self, node: Node, value: f64) -> Result<(), FormatError> {
        if value > 0.0 {
            Ok(())
        } else {
            Err(FormatError::BadCountingTime {
                line: self.line(node),
                value,
            })
        }
    }

    fn check_count(&self, node: Node, expected: usize, found: usize) -> Result<(), FormatError> {
        if expected == found {
            Ok(())
        } else {
            Err(FormatError::XrdmlCount {
                line: self.line(node),
                element: node.tag_name().name().to_string(),
                expected,
                found,
            })
        }
    }

    fn optional_number(
        &self,
        parent: Node,
        name: &'static str,
    ) -> Result<Option<f64>, FormatError> {
        child(parent, name)
            .map(|n| self.single_number(n))
            .transpose()
    }

    fn single_number(&self, node: Node) -> Result<f64, FormatError> {
        let values = self.numbers(node)?;
        match values.as_slice() {
            [v] => Ok(*v),
            _ => Err(FormatError::XrdmlCount {
                line: self.line(node),
                element: node.tag_name().name().to_string(),
                expected: 1,
                found: values.len(),
            }),
        }
    }

    /// Whitespace-separated finite numbers of an element's text.
    fn numbers(&self, node: Node) -> Result<Vec<f64>, FormatError> {
        let text = node.text().unwrap_or("");
        text.split_whitespace()
            .enumerate()
            .map(|(i, t)| match t.parse::<f64>() {
                Ok(v) if v.is_finite() => Ok(v),
                _ => Err(FormatError::XrdmlNumber {
                    line: self.line(node),
                    element: node.tag_name().name().to_string(),
                    index: i + 1,
                    text: t.chars().take(40).collect(),
                }),
            })
            .collect()
    }

    fn missing(&self, node: Node, parent: &'static str, element: &'static str) -> FormatError {
        FormatError::MissingElement {
            line: self.line(node),
            parent,
            element,
        }
    }

    fn line(&self, node: Node) -> u32 {
        self.doc.text_pos_at(node.range().start).row
    }
}

fn children<'a, 'input: 'a>(
    node: Node<'a, 'input>,
    name: &'static str,
) -> impl Iterator<Item = Node<'a, 'input>> {
    node.children()
        .filter(move |c| c.is_element() && c.tag_name().name() == name)
}

fn child<'a, 'input: 'a>(node: Node<'a, 'input>, name: &'static str) -> Option<Node<'a, 'input>> {
    children(node, name).next()
}

fn text_of<'a>(node: Option<Node<'a, '_>>) -> Option<&'a str> {
    node.and_then(|n| n.text())
        .map(str::trim)
        .filter(|t| !t.is_empty())
}
