//! The Eurotherm driver against a Modbus slave this project did not write: pymodbus
//! (scripts/modbus_eurotherm_slave.py, serving the register map of a model file) on one end of a
//! pty pair that the test opens, the driver on the other.
//!
//! The slave logs every write it executes; the tests read that log to prove that a program is
//! started once, that EEPROM set points are not rewritten, and that a run command whose answer
//! was lost is not sent again after the line comes back.
//!
//! Needs Python with pymodbus: `ATHANOR_PEERS_PYTHON`, else `.venv-peers/bin/python` at the
//! repository root (scripts/modbus_peers.sh). Skips with a message when absent, unless
//! `ATHANOR_REQUIRE_PEERS=1`.

// Test helpers outside #[test] functions may unwrap too: a failure is a test failure.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use athanor_drivers::eurotherm::{EurothermError, EurothermFurnace, RegisterMap};
use athanor_drivers::instrument::{
    Furnace, FurnaceProgram, InstrumentSet, Limits, ProgramState, RunOutcome, Segment, WriteOutcome,
};
use athanor_drivers::modbus::{RtuConfig, RtuTransport};
use tokio_serial::{SerialPort, SerialStream};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn python() -> Option<PathBuf> {
    let candidate = std::env::var_os("ATHANOR_PEERS_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join(".venv-peers/bin/python"));
    let ok = Command::new(&candidate)
        .args(["-c", "import pymodbus"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if ok {
        return Some(candidate);
    }
    if std::env::var("ATHANOR_REQUIRE_PEERS").as_deref() == Ok("1") {
        panic!(
            "ATHANOR_REQUIRE_PEERS=1 but {} cannot import pymodbus (run scripts/modbus_peers.sh)",
            candidate.display()
        );
    }
    eprintln!("skipping: no Python with pymodbus at {} (set ATHANOR_PEERS_PYTHON or run scripts/modbus_peers.sh)", candidate.display());
    None
}

struct Slave {
    child: Child,
}

impl Slave {
    fn start(python: &Path, port: &str, model: &str, dir: &Path, die_after_run: bool) -> Slave {
        let mut cmd = Command::new(python);
        cmd.arg(repo().join("scripts/modbus_eurotherm_slave.py"))
            .args(["--port", port, "--model"])
            .arg(repo().join("config/instruments").join(model))
            .arg("--state")
            .arg(dir.join("state.json"))
            .arg("--log")
            .arg(dir.join("writes.jsonl"))
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        if die_after_run {
            cmd.arg("--die-after-run-write");
        }
        Slave {
            child: cmd.spawn().expect("start the pymodbus slave"),
        }
    }

    fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Slave {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn writes(dir: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(dir.join("writes.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn runs(dir: &Path) -> usize {
    writes(dir).iter().filter(|w| w["action"] == "run").count()
}

fn rtu() -> RtuConfig {
    RtuConfig {
        timeout: Duration::from_millis(300),
        retries: 2,
        backoff: Duration::from_millis(50),
        backoff_max: Duration::from_millis(200),
        ..RtuConfig::for_baud(9600)
    }
}

/// A pty pair: the driver's end, the slave end's path, and the slave end held open so the
/// driver's end never sees a hang-up while the slave process is down.
fn pty() -> (SerialStream, String, SerialStream) {
    let (master, slave) = SerialStream::pair().expect("open a pty pair");
    let name = slave.name().expect("pty name");
    (master, name, slave)
}

async fn until_answering(f: &mut EurothermFurnace<SerialStream>) -> ProgramState {
    let start = Instant::now();
    loop {
        match f.program_state().await {
            Ok(s) => return s,
            Err(e) if start.elapsed() < Duration::from_secs(20) => assert!(e.is_line_dead(), "{e}"),
            Err(e) => panic!("the slave never answered: {e}"),
        }
    }
}

fn model_limits() -> Limits {
    let set = InstrumentSet::from_sources([
        (
            "furnace-1.toml",
            include_str!("../../../config/instruments/furnace-1.toml"),
        ),
        (
            "eurotherm-3216.toml",
            include_str!("../../../config/instruments/eurotherm-3216.toml"),
        ),
    ])
    .unwrap();
    set.instruments["furnace-1"].limits.clone()
}

fn map(model: &str) -> RegisterMap {
    RegisterMap::from_model_toml(
        &std::fs::read_to_string(repo().join("config/instruments").join(model)).unwrap(),
    )
    .unwrap()
}

fn program() -> FurnaceProgram {
    FurnaceProgram {
        segments: vec![
            Segment {
                target_c: 400.0,
                ramp_c_per_min: 10.0,
                dwell_min: 30.0,
            },
            Segment {
                target_c: 850.5,
                ramp_c_per_min: 5.0,
                dwell_min: 60.0,
            },
        ],
        atmosphere: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eurotherm_3216_against_pymodbus_survives_a_dead_line() {
    let Some(py) = python() else { return };
    let dir = tempfile::tempdir().unwrap();
    let (master, name, _held) = pty();
    let mut slave = Slave::start(&py, &name, "eurotherm-3216.toml", dir.path(), false);
    let mut f = EurothermFurnace::new(
        "furnace-1",
        RtuTransport::new(master, 1, rtu()),
        map("eurotherm-3216.toml"),
        model_limits(),
    );

    assert_eq!(until_answering(&mut f).await, ProgramState::Reset);
    let s = f.status().await.unwrap();
    assert!((s.process_value_c - 20.0).abs() < 5.0, "{s:?}");
    assert!(s.alarms.is_empty());

    // Absolute set point, as a float above 327.67; the same value again is not rewritten.
    assert_eq!(f.set_setpoint(850.5).await.unwrap(), WriteOutcome::Written);
    assert_eq!(
        f.set_setpoint(850.5).await.unwrap(),
        WriteOutcome::AlreadySet
    );
    assert_eq!(f.status().await.unwrap().target_setpoint_c, 850.5);
    assert!(
        matches!(f.set_setpoint(1200.0).await, Err(EurothermError::Limit(v)) if v.limit == "max_temperature_c")
    );
    let sp_writes = writes(dir.path())
        .iter()
        .filter(|w| w["param"] == 2)
        .count();
    assert_eq!(sp_writes, 1);

    f.load_program(&program()).await.unwrap();
    let after_load = writes(dir.path()).len();
    f.load_program(&program()).await.unwrap();
    assert_eq!(
        writes(dir.path()).len(),
        after_load,
        "reloading the same program writes nothing"
    );

    assert_eq!(f.run_program().await.unwrap(), RunOutcome::Started);
    assert_eq!(f.status().await.unwrap().program, ProgramState::Running);
    assert_eq!(runs(dir.path()), 1);

    // The line dies mid-program: a typed dead-line error, in bounded time.
    slave.child.kill().unwrap();
    slave.child.wait().unwrap();
    let t = Instant::now();
    let e = f.status().await.unwrap_err();
    assert!(e.is_line_dead(), "{e}");
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
    assert!(f.line().is_dead());
    drop(slave);

    // The controller kept running; the line comes back. Asking to run again reads the state
    // and sends nothing.
    let _slave = Slave::start(&py, &name, "eurotherm-3216.toml", dir.path(), false);
    assert_eq!(until_answering(&mut f).await, ProgramState::Running);
    assert_eq!(f.run_program().await.unwrap(), RunOutcome::AlreadyRunning);
    assert_eq!(runs(dir.path()), 1, "run was executed once");

    f.hold().await.unwrap();
    assert_eq!(f.program_state().await.unwrap(), ProgramState::Held);
    f.abort().await.unwrap();
    assert_eq!(f.program_state().await.unwrap(), ProgramState::Reset);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eurotherm_2408_run_whose_answer_is_lost_is_not_sent_twice() {
    let Some(py) = python() else { return };
    let dir = tempfile::tempdir().unwrap();
    let (master, name, _held) = pty();
    let slave = Slave::start(&py, &name, "eurotherm-2408.toml", dir.path(), true);
    let limits = Limits {
        max_temperature_c: Some(1200.0),
        max_ramp_c_per_min: Some(20.0),
        ..Limits::default()
    };
    let mut f = EurothermFurnace::new(
        "furnace-2",
        RtuTransport::new(master, 1, rtu()),
        map("eurotherm-2408.toml"),
        limits,
    );

    assert_eq!(until_answering(&mut f).await, ProgramState::Reset);
    f.load_program(&program()).await.unwrap();
    // The slave executes "run" and dies before answering.
    let e = f.run_program().await.unwrap_err();
    assert!(matches!(e, EurothermError::RunOutcomeUnknown(_)), "{e}");
    assert!(e.is_line_dead());
    assert_eq!(runs(dir.path()), 1);
    slave.kill();

    let _slave = Slave::start(&py, &name, "eurotherm-2408.toml", dir.path(), false);
    assert_eq!(until_answering(&mut f).await, ProgramState::Running);
    assert_eq!(f.run_program().await.unwrap(), RunOutcome::AlreadyRunning);
    assert_eq!(runs(dir.path()), 1, "run was executed once");
    // The program went in as typed segments: ramp, dwell, ramp, dwell (slot 5 already held the
    // end type 0, so it was not rewritten).
    let types: Vec<f64> = writes(dir.path())
        .iter()
        .filter(|w| [8336, 8344, 8352, 8360, 8368].contains(&w["param"].as_u64().unwrap_or(0)))
        .map(|w| w["value"].as_f64().unwrap())
        .collect();
    assert_eq!(types, vec![1.0, 3.0, 1.0, 3.0]);
}
