//! The instrument files shipped in `config/instruments/` load as one set: the diffractometer
//! profiles as they are, the furnace with its model's register map, and both Eurotherm model
//! maps parse and differ where the controllers differ.

// Test helpers outside #[test] functions may unwrap too: a failure is a test failure.
#![allow(clippy::unwrap_used)]

use std::path::Path;

use athanor_core::InstrumentClass;
use athanor_drivers::eurotherm::RegisterMap;
use athanor_drivers::instrument::config::load_dir;
use athanor_drivers::instrument::{ProgramState, Transport};

#[test]
fn the_shipped_instrument_directory_loads() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/instruments");
    let set = load_dir(&dir).unwrap();
    let xrd = &set.instruments["bragg-brentano-cu"];
    assert_eq!(xrd.class, InstrumentClass::Diffractometer);
    assert!(xrd
        .profile
        .as_ref()
        .unwrap()
        .contains_key("wavelength_angstrom"));
    assert!(xrd.transport.is_none());

    let f = &set.instruments["furnace-1"];
    assert_eq!(f.class, InstrumentClass::Furnace);
    assert_eq!(f.model.as_deref(), Some("eurotherm-3216"));
    assert_eq!(f.limits.max_temperature_c, Some(1100.0));
    assert!(matches!(&f.transport, Some(Transport::Serial(s)) if s.baud == 9600 && s.unit_id == 1));
    let map = RegisterMap::from_table(f.register_map.as_ref().unwrap()).unwrap();
    assert_eq!(map.segment_capacity(), 4);

    let m3216 = RegisterMap::from_table(&set.models["eurotherm-3216"].register_map).unwrap();
    let m2408 = RegisterMap::from_table(&set.models["eurotherm-2408"].register_map).unwrap();
    assert_eq!(
        (m3216.working_output.address, m2408.working_output.address),
        (4, 3)
    );
    assert_eq!(
        (m3216.program_state(1), m2408.program_state(1)),
        (ProgramState::Running, ProgramState::Reset)
    );
    assert_eq!(m2408.program_state(8), ProgramState::Holdback);
    assert_eq!(m2408.segment_capacity(), 7);
    assert_eq!(
        m3216.alarms(0b0101),
        vec!["alarm_1".to_string(), "alarm_3".to_string()]
    );
}
