//! Fault tests of the Modbus transport and the Eurotherm driver over an in-memory line with a
//! scripted device: timeouts, CRC errors, exceptions, partial frames, a device that never
//! answers, a line that dies mid-program. Each ends in a typed error or a retry, never a hang
//! (the clock is paused, so every wait is virtual and bounded) and never a repeated "run".

// Test helpers outside #[test] functions may unwrap too: a failure is a test failure.
#![allow(clippy::unwrap_used)]

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use athanor_drivers::eurotherm::{EurothermError, EurothermFurnace, RegisterMap};
use athanor_drivers::instrument::{
    Furnace, FurnaceProgram, Limits, ProgramState, RunOutcome, Segment, WriteOutcome,
};
use athanor_drivers::modbus::{
    decode_request, encode_response, Decoded, ExceptionCode, FrameError, ModbusError, Request,
    Response, RtuConfig, RtuTransport,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};

/// What the device does with the next request.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Fault {
    /// Execute and answer.
    Answer,
    /// Neither execute nor answer.
    Silent,
    /// Execute, answer with one bit of the CRC flipped.
    BadCrc,
    /// Answer with an exception.
    Exception(ExceptionCode),
    /// Execute, send half the answer.
    Partial,
    /// Execute, lose the answer.
    ExecuteSilently,
}

#[derive(Debug, Default)]
struct Device {
    regs: HashMap<u16, u16>,
    script: VecDeque<Fault>,
    /// When the script is empty: true = answer, false = dead.
    alive: bool,
    requests: Vec<Request>,
    executed_writes: Vec<Request>,
}

type Shared = Arc<Mutex<Device>>;

fn spawn_device(mut io: DuplexStream, dev: Shared) {
    tokio::spawn(async move {
        let mut buf = Vec::new();
        let mut chunk = [0u8; 256];
        loop {
            let n = match io.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            buf.extend_from_slice(&chunk[..n]);
            loop {
                let (unit, req, used) = match decode_request(&buf) {
                    Ok(Decoded::Complete {
                        frame: (u, r),
                        consumed,
                    }) => (u, r, consumed),
                    Ok(Decoded::Incomplete { .. }) => break,
                    Err(_) => {
                        buf.clear();
                        break;
                    }
                };
                buf.drain(..used);
                let reply = {
                    let mut d = dev.lock().unwrap();
                    d.requests.push(req.clone());
                    let fault = d.script.pop_front().unwrap_or(if d.alive {
                        Fault::Answer
                    } else {
                        Fault::Silent
                    });
                    let execute = matches!(
                        fault,
                        Fault::Answer | Fault::BadCrc | Fault::Partial | Fault::ExecuteSilently
                    );
                    let response = match (&req, fault) {
                        (_, Fault::Exception(code)) => Response::Exception {
                            function: req.function(),
                            code,
                        },
                        (
                            Request::ReadHolding { address, count }
                            | Request::ReadInput { address, count },
                            _,
                        ) => Response::Registers(
                            (0..*count)
                                .map(|i| *d.regs.get(&(address + i)).unwrap_or(&0))
                                .collect(),
                        ),
                        (Request::WriteSingle { address, value }, _) => {
                            if execute {
                                d.regs.insert(*address, *value);
                                d.executed_writes.push(req.clone());
                            }
                            Response::WroteSingle {
                                address: *address,
                                value: *value,
                            }
                        }
                        (Request::WriteMultiple { address, values }, _) => {
                            if execute {
                                for (i, v) in values.iter().enumerate() {
                                    d.regs.insert(address + i as u16, *v);
                                }
                                d.executed_writes.push(req.clone());
                            }
                            Response::WroteMultiple {
                                address: *address,
                                count: values.len() as u16,
                            }
                        }
                    };
                    let mut frame = encode_response(unit, req.function(), &response).unwrap();
                    match fault {
                        Fault::Silent | Fault::ExecuteSilently => None,
                        Fault::BadCrc => {
                            let n = frame.len();
                            frame[n - 1] ^= 0x01;
                            Some(frame)
                        }
                        Fault::Partial => Some(frame[..frame.len() / 2].to_vec()),
                        _ => Some(frame),
                    }
                };
                if let Some(f) = reply {
                    if io.write_all(&f).await.is_err() {
                        return;
                    }
                }
            }
        }
    });
}

fn config() -> RtuConfig {
    RtuConfig {
        timeout: Duration::from_millis(200),
        retries: 2,
        backoff: Duration::from_millis(50),
        backoff_max: Duration::from_millis(400),
        silence: Duration::from_millis(4),
        dead_after: 1,
    }
}

fn line(script: &[Fault], alive: bool) -> (RtuTransport<DuplexStream>, Shared) {
    let (ours, theirs) = tokio::io::duplex(1024);
    let dev = Arc::new(Mutex::new(Device {
        script: script.iter().copied().collect(),
        alive,
        ..Device::default()
    }));
    spawn_device(theirs, dev.clone());
    (RtuTransport::new(ours, 1, config()), dev)
}

#[tokio::test(start_paused = true)]
async fn a_timeout_is_retried_after_back_off() {
    let (mut t, dev) = line(&[Fault::Silent], true);
    dev.lock().unwrap().regs.insert(1, 200);
    assert_eq!(t.read_holding(1, 1).await.unwrap(), vec![200]);
    assert_eq!((t.stats().attempts, t.stats().timeouts), (2, 1));
    assert!(!t.is_dead());
}

#[tokio::test(start_paused = true)]
async fn persistent_crc_errors_end_in_a_typed_error() {
    let (mut t, dev) = line(&[Fault::BadCrc; 3], true);
    let e = t.read_holding(1, 1).await.unwrap_err();
    let ModbusError::RetriesExhausted { attempts: 3, last } = e else {
        panic!("{e}")
    };
    assert!(
        matches!(*last, ModbusError::Frame(FrameError::Crc { .. })),
        "{last}"
    );
    assert_eq!(dev.lock().unwrap().requests.len(), 3);
    // A CRC error is an answer: the line is not dead.
    assert!(!t.is_dead());
}

#[tokio::test(start_paused = true)]
async fn exceptions_are_not_retried_unless_transient() {
    let (mut t, dev) = line(&[Fault::Exception(ExceptionCode::IllegalDataAddress)], true);
    let e = t.read_holding(999, 1).await.unwrap_err();
    assert!(
        matches!(
            e,
            ModbusError::Exception {
                function: 3,
                code: ExceptionCode::IllegalDataAddress
            }
        ),
        "{e}"
    );
    assert_eq!(dev.lock().unwrap().requests.len(), 1);
    let (mut t, _) = line(&[Fault::Exception(ExceptionCode::ServerDeviceBusy)], true);
    assert!(t.write_single(23, 1).await.is_ok());
    assert_eq!(t.stats().exceptions, 1);
}

#[tokio::test(start_paused = true)]
async fn a_partial_frame_times_out_and_is_retried() {
    let (mut t, dev) = line(&[Fault::Partial], true);
    dev.lock().unwrap().regs.insert(5, 7);
    assert_eq!(t.read_holding(5, 1).await.unwrap(), vec![7]);
    assert_eq!(t.stats().frame_errors, 1);
}

#[tokio::test(start_paused = true)]
async fn a_device_that_never_answers_is_a_dead_line_in_bounded_time() {
    let (mut t, dev) = line(&[], false);
    let start = tokio::time::Instant::now();
    let e = t.read_holding(1, 1).await.unwrap_err();
    assert!(
        matches!(e, ModbusError::LineDead { attempts: 3, .. }),
        "{e}"
    );
    // 3 × (silence + 200 ms timeout) + 50 + 100 ms back-off.
    assert!(
        start.elapsed() < Duration::from_secs(1),
        "{:?}",
        start.elapsed()
    );
    assert!(t.is_dead());
    // A dead line is probed with one attempt per call.
    let e = t.read_holding(1, 1).await.unwrap_err();
    assert!(
        matches!(e, ModbusError::LineDead { attempts: 1, .. }),
        "{e}"
    );
    assert_eq!(dev.lock().unwrap().requests.len(), 4);
    // It answers again: alive.
    dev.lock().unwrap().alive = true;
    assert!(t.read_holding(1, 1).await.is_ok());
    assert!(!t.is_dead());
}

#[tokio::test(start_paused = true)]
async fn a_late_answer_is_not_taken_for_the_next_one() {
    // An answer to an earlier request that arrived after its timeout sits on the line.
    let (ours, mut theirs) = tokio::io::duplex(1024);
    let stale = encode_response(1, 3, &Response::Registers(vec![111])).unwrap();
    theirs.write_all(&stale).await.unwrap();
    let dev = Arc::new(Mutex::new(Device {
        alive: true,
        ..Device::default()
    }));
    dev.lock().unwrap().regs.insert(2, 222);
    spawn_device(theirs, dev.clone());
    let mut t = RtuTransport::new(ours, 1, config());
    // The transport discards it before sending, and returns the real answer.
    assert_eq!(t.read_holding(2, 1).await.unwrap(), vec![222]);
    assert_eq!(t.stats().discarded_bytes, stale.len() as u64);
}

fn map_3216() -> RegisterMap {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../config/instruments/eurotherm-3216.toml"
    ))
    .unwrap();
    RegisterMap::from_model_toml(&text).unwrap()
}

fn furnace(script: &[Fault], alive: bool) -> (EurothermFurnace<DuplexStream>, Shared) {
    let (t, dev) = line(script, alive);
    let limits = Limits {
        max_temperature_c: Some(1100.0),
        max_ramp_c_per_min: Some(10.0),
        ..Limits::default()
    };
    {
        let mut d = dev.lock().unwrap();
        // PV = 20.0 as a float at 0x8000 + 2·1, program reset.
        d.regs.insert(0x8002, 0x41A0);
        d.regs.insert(23, 0);
    }
    (
        EurothermFurnace::new("furnace-1", t, map_3216(), limits),
        dev,
    )
}

fn program() -> FurnaceProgram {
    FurnaceProgram {
        segments: vec![
            Segment {
                target_c: 600.0,
                ramp_c_per_min: 5.0,
                dwell_min: 30.0,
            },
            Segment {
                target_c: 850.0,
                ramp_c_per_min: 2.0,
                dwell_min: 120.0,
            },
        ],
        atmosphere: None,
    }
}

fn run_writes(dev: &Shared) -> usize {
    dev.lock()
        .unwrap()
        .executed_writes
        .iter()
        .filter(|w| {
            matches!(
                w,
                Request::WriteSingle {
                    address: 23,
                    value: 1
                }
            )
        })
        .count()
}

#[tokio::test(start_paused = true)]
async fn commands_past_the_limits_send_nothing() {
    let (mut f, dev) = furnace(&[], true);
    let e = f.set_setpoint(1100.5).await.unwrap_err();
    let EurothermError::Limit(v) = e else {
        panic!("{e}")
    };
    assert_eq!(v.limit, "max_temperature_c");
    assert!(
        matches!(f.set_ramp_rate(12.0).await, Err(EurothermError::Limit(v)) if v.limit == "max_ramp_c_per_min")
    );
    let mut p = program();
    p.segments[1].target_c = 1150.0;
    assert!(
        matches!(f.load_program(&p).await, Err(EurothermError::Limit(v)) if v.what == "segment 2 target")
    );
    assert!(dev.lock().unwrap().requests.is_empty());
}

#[tokio::test(start_paused = true)]
async fn eeprom_set_points_are_not_rewritten() {
    let (mut f, dev) = furnace(&[], true);
    assert_eq!(f.set_setpoint(850.0).await.unwrap(), WriteOutcome::Written);
    assert_eq!(
        f.set_setpoint(850.0).await.unwrap(),
        WriteOutcome::AlreadySet
    );
    f.load_program(&program()).await.unwrap();
    let writes = dev.lock().unwrap().executed_writes.len();
    f.load_program(&program()).await.unwrap();
    assert_eq!(
        dev.lock().unwrap().executed_writes.len(),
        writes,
        "a program already in the controller is not rewritten"
    );
    // The set point went as an absolute float to 0x8000 + 2·2.
    assert_eq!(
        dev.lock().unwrap().executed_writes[0],
        Request::WriteMultiple {
            address: 0x8004,
            values: vec![0x4454, 0x8000]
        }
    );
}

#[tokio::test(start_paused = true)]
async fn a_lost_answer_to_run_is_not_followed_by_a_second_run() {
    // Read status (answered), write run (executed, answer lost), then the line dies.
    let (mut f, dev) = furnace(&[Fault::Answer, Fault::ExecuteSilently], false);
    let e = f.run_program().await.unwrap_err();
    assert!(matches!(e, EurothermError::RunOutcomeUnknown(_)), "{e}");
    assert!(e.is_line_dead());
    assert_eq!(run_writes(&dev), 1);
    // Recovery: the line is back; asking again reads the state first and sends nothing.
    dev.lock().unwrap().alive = true;
    assert_eq!(f.run_program().await.unwrap(), RunOutcome::AlreadyRunning);
    assert_eq!(run_writes(&dev), 1);
    assert_eq!(f.program_state().await.unwrap(), ProgramState::Running);
}

#[tokio::test(start_paused = true)]
async fn a_line_that_dies_mid_program_is_a_typed_dead_line_error() {
    let (mut f, dev) = furnace(&[], true);
    f.load_program(&program()).await.unwrap();
    assert_eq!(f.run_program().await.unwrap(), RunOutcome::Started);
    dev.lock().unwrap().alive = false;
    let e = f.status().await.unwrap_err();
    assert!(e.is_line_dead(), "{e}");
    // Hold and abort on a dead line fail typed too; the status stays unknown, nothing hangs.
    assert!(f.hold().await.unwrap_err().is_line_dead());
    assert_eq!(run_writes(&dev), 1);
}

#[tokio::test(start_paused = true)]
async fn a_completed_program_is_not_run_again() {
    let (mut f, dev) = furnace(&[], true);
    dev.lock().unwrap().regs.insert(23, 3);
    assert!(matches!(
        f.run_program().await,
        Err(EurothermError::RunRefused(ProgramState::Complete))
    ));
    assert_eq!(run_writes(&dev), 0);
}
