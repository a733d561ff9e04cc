//! Fuzz target: the pattern-file readers (.xy/.xye/.csv text, PANalytical XRDML, format
//! detection) must never panic, and whatever they read must survive a write/read round trip.

#![no_main]

use athanor_xrd::formats::{self, Format};
use libfuzzer_sys::fuzz_target;

const NAMES: [&str; 7] = [
    "p.xy", "p.xye", "p.csv", "p.xrdml", "p.dat", "p.raw", "noext",
];
const READ: [Format; 4] = [Format::Xy, Format::Xye, Format::Csv, Format::Xrdml];
const WRITE: [Format; 3] = [Format::Xy, Format::Xye, Format::Csv];

fuzz_target!(|data: &[u8]| {
    for name in NAMES {
        let _ = formats::read(data, name);
    }
    for format in READ {
        let Ok(pattern) = formats::read_as(data, format) else {
            continue;
        };
        for out in WRITE {
            let Ok(text) = formats::write(&pattern, out) else {
                continue;
            };
            let back = match formats::read_as(text.as_bytes(), out) {
                Ok(p) => p,
                Err(e) => {
                    panic!("{out:?} text written from a {format:?} reading does not read back: {e}")
                }
            };
            assert_eq!(back.two_theta(), pattern.two_theta());
            assert_eq!(back.intensity(), pattern.intensity());
            if out != Format::Xy {
                assert_eq!(back.sigma(), pattern.sigma());
            }
            assert_eq!(back.meta().wavelength, pattern.meta().wavelength);
            assert_eq!(
                back.meta().wavelength_alpha2,
                pattern.meta().wavelength_alpha2
            );
            assert_eq!(back.meta().alpha2_ratio, pattern.meta().alpha2_ratio);
        }
    }
});
