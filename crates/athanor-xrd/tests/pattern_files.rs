//! Reads every measured pattern in the shared data and the hand-written XRDML fixtures, checks
//! them against values taken independently from the files, and round-trips them through the
//! text writers.

#[path = "support/shared.rs"]
mod shared;

use athanor_xrd::formats::{self, Format, FormatError};
use athanor_xrd::Pattern;

const XRDML: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/xrdml");

/// (file, intensity at lines 1, 2345, 4501, 9001), copied from the files with `sed -n`.
const SPOT_VALUES: [(&str, [f64; 4]); 8] = [
    ("Li2MnO3+MnO+TiO2.xy", [1838.0, 1102.0, 1339.0, 987.0]),
    ("LiMnO2.xy", [1943.0, 1393.0, 1346.0, 1447.0]),
    ("Mn2O3+LiF.xy", [1845.0, 1562.0, 2496.0, 1411.0]),
    ("Mn2O3.xy", [2157.0, 2834.0, 4749.0, 2221.0]),
    ("MnO.xy", [2001.0, 1452.0, 1450.0, 1555.0]),
    ("MnO2.xy", [2155.0, 1597.0, 1719.0, 1763.0]),
    ("TiO2+MnO.xy", [1838.0, 1033.0, 1616.0, 881.0]),
    ("TiO2.xy", [1696.0, 709.0, 1761.0, 350.0]),
];

fn load(dir: &str, name: &str) -> Vec<u8> {
    let path = format!("{dir}/{name}");
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
}

/// A second, deliberately naive reading: split each line on whitespace, take two numbers.
fn naive_columns(bytes: &[u8]) -> (Vec<f64>, Vec<f64>) {
    let text = String::from_utf8(bytes.to_vec()).expect("utf-8");
    let mut x = Vec::new();
    let mut y = Vec::new();
    for line in text.lines() {
        let mut fields = line.split_whitespace();
        if let (Some(a), Some(b)) = (fields.next(), fields.next()) {
            x.push(a.parse().expect("2θ"));
            y.push(b.parse().expect("intensity"));
        }
    }
    (x, y)
}

#[test]
fn every_shared_xy_file_reads_correctly() {
    let Some(shared) = shared::shared_data("every_shared_xy_file_reads_correctly") else {
        return;
    };
    let spectra = shared.join("xrd/autoanalyzer-example/spectra");
    let spectra = spectra.to_str().expect("utf-8 path");
    let mut listed: Vec<String> = std::fs::read_dir(spectra)
        .expect("shared spectra directory")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".xy"))
        .collect();
    listed.sort();
    let mut expected: Vec<&str> = SPOT_VALUES.iter().map(|(n, _)| *n).collect();
    expected.sort();
    assert_eq!(
        listed, expected,
        "the shared data holds exactly these .xy files"
    );

    for (name, spots) in SPOT_VALUES {
        let bytes = load(spectra, name);
        let p = formats::read(&bytes, name).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(p.len(), 9001, "{name}");
        assert_eq!(p.range(), (10.0, 100.0), "{name}");
        let step = p.uniform_step(1e-9).expect("uniform step");
        assert!((step - 0.01).abs() < 1e-12, "{name}: step {step}");
        assert!(p.sigma().is_none(), "{name}: no uncertainty column in .xy");
        for (line, value) in [1usize, 2345, 4501, 9001].into_iter().zip(spots) {
            assert_eq!(p.intensity()[line - 1], value, "{name} line {line}");
        }
        assert!((p.two_theta()[2344] - 33.44).abs() < 1e-12);
        assert!((p.two_theta()[4500] - 55.0).abs() < 1e-12);
        let (x, y) = naive_columns(&bytes);
        assert_eq!(p.two_theta(), x.as_slice(), "{name}");
        assert_eq!(p.intensity(), y.as_slice(), "{name}");

        let first_line = String::from_utf8_lossy(&bytes)
            .lines()
            .next()
            .unwrap_or("")
            .to_string();
        let three_columns = first_line.split_whitespace().count() == 3;
        assert_eq!(
            p.meta().notes.iter().any(|n| n.starts_with("column 3")),
            three_columns,
            "{name}: the third (background) column is ignored and noted"
        );

        for format in [Format::Xy, Format::Csv] {
            let text = formats::write(&p, format).expect("write");
            let back = formats::read(text.as_bytes(), &format!("out.{}", format.extension()))
                .expect("read back");
            assert_eq!(back, p, "{name} via {format:?}");
        }
    }
}

fn read_fixture(name: &str) -> Pattern {
    formats::read(&load(XRDML, name), name).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn continuous_xrdml_scan_reads_start_end_positions_and_counts() {
    let p = read_fixture("continuous-scan.xrdml");
    assert_eq!(p.len(), 35);
    let (start, end) = (28.0, 28.8928604);
    for (i, t) in p.two_theta().iter().enumerate() {
        let expected = start + i as f64 * (end - start) / 34.0;
        assert!((t - expected).abs() < 1e-9, "point {i}: {t} vs {expected}");
    }
    // Counts at points 1, 17 and 35 of the file, divided by the 48.195 s counting time.
    let time = 48.195;
    for (i, counts) in [(0usize, 285.0f64), (16, 28036.0), (34, 300.0)] {
        assert!((p.intensity()[i] - counts / time).abs() < 1e-9, "point {i}");
        let sigma = p.sigma().expect("σ from counting statistics")[i];
        assert!((sigma - counts.sqrt() / time).abs() < 1e-9, "σ at {i}");
    }
    let meta = p.meta();
    assert_eq!(meta.wavelength, Some(1.540598));
    assert_eq!(meta.wavelength_alpha2, Some(1.544426));
    assert_eq!(meta.alpha2_ratio, Some(0.5));
    assert_eq!(meta.sample_name.as_deref(), Some("Si SRM 640 check"));
    for note in [
        "anode: Cu",
        "goniometer radius: 240 mm",
        "scan mode: Continuous",
        "intended wavelength: K-Alpha",
    ] {
        assert!(meta.notes.iter().any(|n| n == note), "missing note {note}");
    }
    assert!(!meta.notes.iter().any(|n| n.contains("scans;")));

    for format in [Format::Xye, Format::Csv] {
        let text = formats::write(&p, format).expect("write");
        let back = formats::read(text.as_bytes(), &format!("copy.{}", format.extension()))
            .expect("read back");
        assert_eq!(back, p, "round trip via {format:?}");
    }
}

#[test]
fn step_xrdml_scan_reads_list_positions_and_the_first_of_two_scans() {
    let p = read_fixture("step-scan-list-positions.xrdml");
    let positions = [
        20.00, 20.05, 20.10, 20.15, 20.20, 20.30, 20.40, 20.60, 20.80, 21.00,
    ];
    let counts = [
        88.0, 104.0, 110.0, 95.0, 87.0, 99.0, 105.0, 499.0, 88.0, 87.0,
    ];
    assert_eq!(p.two_theta(), positions.as_slice());
    for (i, c) in counts.iter().enumerate() {
        assert!((p.intensity()[i] - c / 2.5).abs() < 1e-12, "point {i}");
    }
    let meta = p.meta();
    assert_eq!(meta.wavelength, Some(1.54056));
    assert_eq!(meta.sample_name.as_deref(), Some("quartz-step-01"));
    assert!(
        meta.notes
            .iter()
            .any(|n| n.starts_with("the file holds 2 scans; this pattern is the first")),
        "{:?}",
        meta.notes
    );
    assert!(meta
        .notes
        .iter()
        .any(|n| n == "intended wavelength: K-Alpha 1"));
}

#[test]
fn xrdml_problems_are_named() {
    let wrap = |data: &str, status: &str| {
        format!(
            "<?xml version=\"1.0\"?>\n<xrdMeasurements xmlns=\"http://www.xrdml.com/XRDMeasurement/1.5\">\n<xrdMeasurement>\n<scan scanAxis=\"Gonio\" status=\"{status}\">\n<dataPoints>\n{data}\n</dataPoints>\n</scan>\n</xrdMeasurement>\n</xrdMeasurements>\n"
        )
    };
    let read = |text: String| formats::read(text.as_bytes(), "t.xrdml");

    let fixed = "<positions axis=\"2Theta\"><commonPosition>33.0</commonPosition></positions>\n<positions axis=\"Phi\"><startPosition>0</startPosition><endPosition>90</endPosition></positions>\n<counts unit=\"counts\">1 2 3 4</counts>";
    assert!(matches!(
        read(wrap(fixed, "Completed")),
        Err(FormatError::NotTwoThetaScan { line: 6, .. })
    ));

    let short = "<positions axis=\"2Theta\"><listPositions>10 11 12</listPositions></positions>\n<counts unit=\"counts\">1 2 3 4</counts>";
    assert!(matches!(
        read(wrap(short, "Completed")),
        Err(FormatError::XrdmlCount {
            expected: 4,
            found: 3,
            ..
        })
    ));

    let bad = "<positions axis=\"2Theta\"><startPosition>10</startPosition><endPosition>11</endPosition></positions>\n<intensities unit=\"counts\">1 2 x 4</intensities>";
    assert!(matches!(
        read(wrap(bad, "Completed")),
        Err(FormatError::XrdmlNumber {
            line: 7,
            index: 3,
            ..
        })
    ));

    let aborted = "<positions axis=\"2Theta\"><startPosition>10</startPosition><endPosition>11</endPosition></positions>\n<counts unit=\"counts\">1 2 3 4</counts>";
    assert!(matches!(
        read(wrap(aborted, "Aborted")),
        Err(FormatError::IncompleteScan { .. })
    ));

    let down = "<positions axis=\"2Theta\"><startPosition>11</startPosition><endPosition>10</endPosition></positions>\n<commonCountingTime unit=\"seconds\">2</commonCountingTime>\n<counts unit=\"counts\">1 2 3 4</counts>";
    let p = read(wrap(down, "Completed")).expect("descending scan");
    assert_eq!(p.range(), (10.0, 11.0));
    assert_eq!(p.intensity(), &[2.0, 1.5, 1.0, 0.5]);

    let cps = "<positions axis=\"2Theta\"><listPositions>10 11</listPositions></positions>\n<intensities unit=\"cps\">7.5 8.5</intensities>";
    let p = read(wrap(cps, "Completed")).expect("cps");
    assert_eq!(p.intensity(), &[7.5, 8.5]);
    assert!(p.sigma().is_none());

    assert!(matches!(
        formats::read(
            b"<?xml version=\"1.0\"?><xrdMeasurements><oops></xrdMeasurements>",
            "t.xrdml"
        ),
        Err(FormatError::Xml { line: 1, .. })
    ));
    assert!(matches!(
        read(wrap("<counts>1 2</counts>", "Completed")),
        Err(FormatError::MissingElement { .. })
    ));
}

#[test]
fn foreign_formats_are_refused_by_name() {
    for (name, bytes) in [
        ("scan.raw", &b"RAW1.01\x00\x00\x00\x02"[..]),
        ("scan.rasx", &b"PK\x03\x04\x14\x00\x00\x00"[..]),
        ("scan.brml", &b"PK\x03\x04\x14\x00\x00\x00"[..]),
        ("scan.gsa", &b"title\nBANK 1 2 1 CONST 1000 5 0 0 ESD\n"[..]),
        ("scan.dat", &b"header one\nheader two\n1 2\n"[..]),
    ] {
        match formats::read(bytes, name) {
            Err(FormatError::UnsupportedFormat { file, kind }) => {
                assert_eq!(file, name);
                assert!(!kind.is_empty());
            }
            other => panic!("{name}: expected UnsupportedFormat, got {other:?}"),
        }
    }
}
