//! A simulated furnace controller as a Modbus RTU slave, sans-io: request frames in, answer
//! frames out, over the thermal model ([`crate::thermal::Furnace`]) and the register map of a
//! controller model file (`config/instruments/eurotherm-3216.toml`, …), so the real Eurotherm
//! driver talks to it exactly as to the hardware.
//!
//! Parameters live at their 16-bit addresses; the float region (`float_base` + 2·address, two
//! registers, high word first) serves the same parameters as IEEE floats, or as 32-bit
//! milliseconds for `millis` fields. Process value, working set point, output, program status
//! and alarms come from the thermal model; writing the program status register runs, holds or
//! resets the program written into the segment registers. The controller heats only under its
//! programmer (in reset the heater is off). While the model advances it records the hot zone's
//! temperature, which is what a sample inside the furnace went through.

use std::collections::BTreeMap;

use athanor_drivers::eurotherm::map::{self, Encoding, ProgramLayout, RegisterMap};
use athanor_drivers::modbus::frame::{decode_request, encode_response, Decoded, Request, Response};
use athanor_drivers::modbus::ExceptionCode;

use crate::thermal::{Furnace, FurnaceSpec, ProgramStatus, Segment};

/// A sample's thermal history gets a point when the temperature has moved this much since the
/// last.
pub const RECORD_KELVIN: f64 = 0.5;
/// … or when this many lab seconds have passed.
pub const RECORD_MAX_S: f64 = 600.0;

/// What a parameter is to the simulated controller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    ProcessValue,
    TargetSetpoint,
    WorkingSetpoint,
    Output,
    RampRate,
    ProgramStatus,
    AlarmStatus,
    Selector,
    /// A program segment field (target, rate, dwell, type, duration).
    Segment,
}

#[derive(Debug, Clone, Copy)]
struct Param {
    role: Role,
    encoding: Encoding,
    decimals: u8,
    value: f64,
}

/// A physical action the controller executed because of a write (for the lab's command log).
#[derive(Debug, Clone, PartialEq)]
pub enum Executed {
    /// A parameter changed (address and new value).
    Wrote {
        address: u16,
        value: f64,
    },
    /// The program started from reset or complete, with these segments.
    Run(Vec<Segment>),
    Resume,
    Hold,
    Reset,
}

/// What one request frame leads to.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// Not a whole frame yet: wait for more bytes.
    Incomplete,
    /// Bytes that cannot be a frame, or a frame for another unit: say nothing.
    Ignore,
    /// The answer to send, and what the request made the controller do.
    Answer {
        bytes: Vec<u8>,
        consumed: usize,
        executed: Vec<Executed>,
    },
}

/// One simulated controller with its furnace.
#[derive(Debug, Clone)]
pub struct FurnaceController {
    map: RegisterMap,
    unit: u8,
    furnace: Furnace,
    params: BTreeMap<u16, Param>,
    /// Lab seconds the model has reached.
    time_s: f64,
    /// (lab seconds, hot-zone °C).
    trace: Vec<(f64, f64)>,
}

impl FurnaceController {
    /// A cold furnace at lab time `now_s`, answering as unit `unit`.
    pub fn new(map: RegisterMap, unit: u8, spec: FurnaceSpec, now_s: f64) -> Self {
        let mut params = BTreeMap::new();
        let mut put = |r: map::Register, role| {
            params.insert(
                r.address,
                Param {
                    role,
                    encoding: r.encoding,
                    decimals: r.decimals,
                    value: 0.0,
                },
            );
        };
        put(map.process_value, Role::ProcessValue);
        put(map.target_setpoint, Role::TargetSetpoint);
        put(map.working_setpoint, Role::WorkingSetpoint);
        put(map.working_output, Role::Output);
        put(map.ramp_rate, Role::RampRate);
        put(map.program_status, Role::ProgramStatus);
        if let Some(r) = map.alarm_status {
            put(r, Role::AlarmStatus);
        }
        if let Some(s) = map.select_program {
            params.insert(
                s.address,
                Param {
                    role: Role::Selector,
                    encoding: Encoding::Int,
                    decimals: 0,
                    value: 0.0,
                },
            );
        }
        for (address, f) in segment_fields(&map.program) {
            params.insert(
                address,
                Param {
                    role: Role::Segment,
                    encoding: f.encoding,
                    decimals: f.decimals,
                    value: 0.0,
                },
            );
        }
        let furnace = Furnace::new(spec);
        let room = furnace.reading().hot_zone_c;
        Self {
            map,
            unit,
            furnace,
            params,
            time_s: now_s.floor(),
            trace: vec![(now_s.floor(), room)],
        }
    }

    pub fn unit(&self) -> u8 {
        self.unit
    }

    /// The thermal model (its reading, heater health).
    pub fn furnace(&self) -> &Furnace {
        &self.furnace
    }

    pub fn furnace_mut(&mut self) -> &mut Furnace {
        &mut self.furnace
    }

    /// Lab seconds the model has reached.
    pub fn time_s(&self) -> f64 {
        self.time_s
    }

    /// Runs the thermal model up to lab time `t_s` in whole seconds of lab time, recording the
    /// hot zone each second: the same program then gives the same trajectory however the wall
    /// clock jitters.
    pub fn advance_to(&mut self, t_s: f64) {
        let target = t_s.floor();
        while self.time_s + 1.0 <= target {
            let r = self.furnace.step(1.0);
            self.time_s += 1.0;
            self.trace.push((self.time_s, r.hot_zone_c));
        }
    }

    /// The hot zone's temperature from lab time `from_s` to now, as (seconds, °C), thinned to a
    /// point per [`RECORD_KELVIN`] of change (or per [`RECORD_MAX_S`]). It starts where the
    /// temperature first moved from what it was at `from_s`: a sample that waits in a cold
    /// furnace goes through nothing, and the same program gives the same points whenever it
    /// started.
    pub fn trace_since(&self, from_s: f64) -> Vec<(f64, f64)> {
        let start = self.trace.partition_point(|p| p.0 < from_s);
        let points = &self.trace[start.saturating_sub(1)..];
        let Some(&(_, at_load)) = points.first() else {
            return vec![(0.0, crate::world::ROOM_C)];
        };
        let Some(moved) = points
            .iter()
            .position(|p| (p.1 - at_load).abs() >= RECORD_KELVIN)
        else {
            return vec![(0.0, at_load)];
        };
        let origin = points[moved.saturating_sub(1)].0;
        let mut out = vec![(0.0, at_load)];
        let last = points.len() - 1;
        for (i, &(t, c)) in points.iter().enumerate().skip(moved) {
            let (kept_t, kept_c) = out[out.len() - 1];
            let rel = t - origin;
            if (c - kept_c).abs() >= RECORD_KELVIN || rel - kept_t >= RECORD_MAX_S || i == last {
                out.push((rel, c));
            }
        }
        out
    }

    /// Drops the recorded trace before lab time `t_s` (no sample inside needs it).
    pub fn forget_before(&mut self, t_s: f64) {
        let keep = self.trace.partition_point(|p| p.0 < t_s).saturating_sub(1);
        self.trace.drain(..keep);
    }

    /// Handles the bytes at the front of `buf` (a request frame) at lab time `now_s`.
    pub fn on_bytes(&mut self, buf: &[u8], now_s: f64) -> Reply {
        let (unit, request, consumed) = match decode_request(buf) {
            Ok(Decoded::Incomplete { .. }) => return Reply::Incomplete,
            Err(_) => return Reply::Ignore,
            Ok(Decoded::Complete {
                frame: (unit, request),
                consumed,
            }) => (unit, request, consumed),
        };
        if unit != self.unit {
            return Reply::Ignore;
        }
        self.advance_to(now_s);
        self.refresh();
        let function = request.function();
        let mut executed = Vec::new();
        let response = match self.handle(&request, &mut executed) {
            Ok(r) => r,
            Err(code) => Response::Exception { function, code },
        };
        match encode_response(self.unit, function, &response) {
            Ok(bytes) => Reply::Answer {
                bytes,
                consumed,
                executed,
            },
            Err(_) => Reply::Ignore,
        }
    }

    /// Copies the model's state into the read-only parameters.
    fn refresh(&mut self) {
        let r = self.furnace.reading();
        let status = match r.status {
            ProgramStatus::Reset => self.map.reset_code(),
            ProgramStatus::Run => self.map.run_code(),
            ProgramStatus::Hold => self.map.hold_code(),
            ProgramStatus::Complete => self.map.complete_code(),
        };
        let working = if r.status == ProgramStatus::Reset {
            r.process_value_c
        } else {
            r.working_setpoint_c
        };
        let alarm_word = if r.alarm {
            self.map.alarm_bits.get("alarm_1").map_or(0, |b| 1u16 << b)
        } else {
            0
        };
        for p in self.params.values_mut() {
            match p.role {
                Role::ProcessValue => p.value = r.process_value_c,
                Role::WorkingSetpoint => p.value = working,
                Role::Output => p.value = r.output_pct,
                Role::ProgramStatus => p.value = f64::from(status),
                Role::AlarmStatus => p.value = f64::from(alarm_word),
                _ => {}
            }
        }
    }

    fn handle(
        &mut self,
        request: &Request,
        executed: &mut Vec<Executed>,
    ) -> Result<Response, ExceptionCode> {
        match request {
            Request::ReadHolding { address, count } | Request::ReadInput { address, count } => {
                let regs = (0..*count)
                    .map(|i| {
                        address
                            .checked_add(i)
                            .and_then(|a| self.register(a))
                            .ok_or(ExceptionCode::IllegalDataAddress)
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(Response::Registers(regs))
            }
            Request::WriteSingle { address, value } => {
                if *address >= self.map.float_base {
                    return Err(ExceptionCode::IllegalDataAddress);
                }
                let p = *self
                    .params
                    .get(address)
                    .ok_or(ExceptionCode::IllegalDataAddress)?;
                let v = map::decode(low_encoding(p), low_decimals(p), &[*value])
                    .ok_or(ExceptionCode::IllegalDataValue)?;
                self.write(*address, v, executed)?;
                Ok(Response::WroteSingle {
                    address: *address,
                    value: *value,
                })
            }
            Request::WriteMultiple { address, values } => {
                if *address < self.map.float_base {
                    for (i, w) in values.iter().enumerate() {
                        let a = address + i as u16;
                        let p = *self
                            .params
                            .get(&a)
                            .ok_or(ExceptionCode::IllegalDataAddress)?;
                        let v = map::decode(low_encoding(p), low_decimals(p), &[*w])
                            .ok_or(ExceptionCode::IllegalDataValue)?;
                        self.write(a, v, executed)?;
                    }
                } else {
                    let offset = address - self.map.float_base;
                    if !offset.is_multiple_of(2) || !values.len().is_multiple_of(2) {
                        return Err(ExceptionCode::IllegalDataAddress);
                    }
                    for (i, pair) in values.chunks_exact(2).enumerate() {
                        let a = offset / 2 + i as u16;
                        let p = *self
                            .params
                            .get(&a)
                            .ok_or(ExceptionCode::IllegalDataAddress)?;
                        let v = map::decode(high_encoding(p), 0, pair)
                            .ok_or(ExceptionCode::IllegalDataValue)?;
                        self.write(a, v, executed)?;
                    }
                }
                Ok(Response::WroteMultiple {
                    address: *address,
                    count: values.len() as u16,
                })
            }
        }
    }

    /// The register at a 16-bit address.
    fn register(&self, address: u16) -> Option<u16> {
        if address >= self.map.float_base {
            let offset = address - self.map.float_base;
            let p = self.params.get(&(offset / 2))?;
            let enc = high_encoding(*p);
            let v = if enc == Encoding::Millis {
                p.value.max(0.0)
            } else {
                p.value
            };
            let regs = map::encode(enc, 0, v).ok()?;
            return regs.get(usize::from(offset % 2)).copied();
        }
        let p = self.params.get(&address)?;
        let enc = low_encoding(*p);
        let decimals = low_decimals(*p);
        let v = if enc == Encoding::Scaled {
            let limit = 32767.0 / 10f64.powi(i32::from(decimals));
            p.value.clamp(-limit, limit)
        } else {
            p.value.clamp(0.0, 65535.0)
        };
        map::encode(enc, decimals, v).ok()?.first().copied()
    }

    fn write(
        &mut self,
        address: u16,
        value: f64,
        executed: &mut Vec<Executed>,
    ) -> Result<(), ExceptionCode> {
        let Some(p) = self.params.get_mut(&address) else {
            return Err(ExceptionCode::IllegalDataAddress);
        };
        match p.role {
            Role::ProcessValue | Role::WorkingSetpoint | Role::Output | Role::AlarmStatus => {
                Err(ExceptionCode::IllegalDataAddress)
            }
            Role::ProgramStatus => {
                let code = value.round() as u16;
                let status = self.furnace.reading().status;
                if code == self.map.run_code() {
                    if status == ProgramStatus::Hold {
                        self.furnace.run();
                        executed.push(Executed::Resume);
                    } else if status != ProgramStatus::Run {
                        let segments = self.segments();
                        self.furnace.load(segments.clone());
                        self.furnace.run();
                        executed.push(Executed::Run(segments));
                    }
                } else if code == self.map.hold_code() {
                    self.furnace.hold();
                    executed.push(Executed::Hold);
                } else if code == self.map.reset_code() {
                    self.furnace.reset();
                    executed.push(Executed::Reset);
                } else {
                    return Err(ExceptionCode::IllegalDataValue);
                }
                Ok(())
            }
            Role::Segment if self.furnace.reading().status == ProgramStatus::Run => {
                // A real programmer refuses edits of the running program.
                Err(ExceptionCode::ServerDeviceBusy)
            }
            _ => {
                if p.value != value {
                    p.value = value;
                    executed.push(Executed::Wrote { address, value });
                }
                Ok(())
            }
        }
    }

    fn value(&self, address: u16) -> f64 {
        self.params.get(&address).map_or(0.0, |p| p.value)
    }

    /// The program in the segment registers.
    pub fn segments(&self) -> Vec<Segment> {
        match &self.map.program {
            ProgramLayout::Fixed {
                slots,
                base,
                stride,
                target,
                ramp_rate,
                dwell,
                ..
            } => (0..*slots)
                .map(|s| {
                    let at = base + s * stride;
                    Segment {
                        target_c: self.value(at + target.offset),
                        rate_c_per_min: self.value(at + ramp_rate.offset),
                        dwell_min: self.value(at + dwell.offset),
                    }
                })
                .collect(),
            ProgramLayout::Typed {
                slots,
                base,
                stride,
                type_field,
                target,
                ramp_rate,
                duration,
                ramp_rate_type,
                dwell_type,
                ..
            } => {
                let mut out: Vec<Segment> = Vec::new();
                for s in 0..*slots {
                    let at = base + s * stride;
                    let kind = self.value(at + type_field.offset).round() as u16;
                    if kind == *ramp_rate_type {
                        out.push(Segment {
                            target_c: self.value(at + target.offset),
                            rate_c_per_min: self.value(at + ramp_rate.offset),
                            dwell_min: 0.0,
                        });
                    } else if kind == *dwell_type {
                        let minutes = self.value(at + duration.offset);
                        match out.last_mut() {
                            Some(last) => last.dwell_min += minutes,
                            None => out.push(Segment {
                                target_c: self.furnace.reading().process_value_c,
                                rate_c_per_min: 0.0,
                                dwell_min: minutes,
                            }),
                        }
                    } else {
                        break;
                    }
                }
                out
            }
        }
    }
}

/// How a parameter reads at its 16-bit address: a float parameter there is a scaled integer
/// with one decimal, as on the instruments.
fn low_encoding(p: Param) -> Encoding {
    match p.encoding {
        Encoding::Int => Encoding::Int,
        _ => Encoding::Scaled,
    }
}

/// Implied decimals of a parameter at its 16-bit address.
fn low_decimals(p: Param) -> u8 {
    match p.encoding {
        Encoding::Scaled => p.decimals,
        Encoding::Int => 0,
        Encoding::Float | Encoding::Millis => 1,
    }
}

/// How a parameter reads in the float region.
fn high_encoding(p: Param) -> Encoding {
    match p.encoding {
        Encoding::Millis => Encoding::Millis,
        _ => Encoding::Float,
    }
}

/// Every segment register of a program layout, with its field.
fn segment_fields(layout: &ProgramLayout) -> Vec<(u16, map::Field)> {
    let (slots, base, stride, fields) = layout.fields();
    (0..slots)
        .flat_map(|s| {
            fields
                .iter()
                .map(move |f| (base + s * stride + f.offset, *f))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use athanor_drivers::modbus::frame::decode_response;

    const MODEL: &str = include_str!("../../../config/instruments/eurotherm-3216.toml");

    fn controller() -> FurnaceController {
        let map = RegisterMap::from_model_toml(MODEL).expect("the 3216 map");
        FurnaceController::new(map, 1, FurnaceSpec::default(), 0.0)
    }

    /// Sends one request and decodes the answer.
    fn ask(c: &mut FurnaceController, r: Request, now_s: f64) -> (Response, Vec<Executed>) {
        let bytes = r.encode(1).expect("a request frame");
        match c.on_bytes(&bytes, now_s) {
            Reply::Answer {
                bytes,
                consumed,
                executed,
            } => {
                assert_eq!(consumed, bytes_len(&r));
                match decode_response(1, &r, &bytes) {
                    Ok(Decoded::Complete { frame, .. }) => (frame, executed),
                    other => panic!("{other:?}"),
                }
            }
            other => panic!("{other:?}"),
        }
    }

    fn bytes_len(r: &Request) -> usize {
        r.encode(1).map_or(0, |b| b.len())
    }

    fn write_float(c: &mut FurnaceController, address: u16, v: f64, now_s: f64) {
        let values = map::encode(Encoding::Float, 0, v).expect("a float");
        let r = Request::WriteMultiple {
            address: 0x8000 + 2 * address,
            values,
        };
        let (resp, _) = ask(c, r, now_s);
        assert!(matches!(resp, Response::WroteMultiple { .. }), "{resp:?}");
    }

    fn read_float(c: &mut FurnaceController, address: u16, now_s: f64) -> f64 {
        let r = Request::ReadHolding {
            address: 0x8000 + 2 * address,
            count: 2,
        };
        match ask(c, r, now_s).0 {
            Response::Registers(regs) => map::decode(Encoding::Float, 0, &regs).expect("a float"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_program_written_over_modbus_runs_on_the_thermal_model_and_completes() {
        let mut c = controller();
        assert!(
            (read_float(&mut c, 1, 0.0) - 25.0).abs() < 1e-3,
            "cold at room temperature"
        );
        // Slot 1: to 300 °C at 10 °C/min, dwell 5 min (millis); slot 2: back to 25 at 10 °C/min.
        write_float(&mut c, 1281, 300.0, 1.0);
        write_float(&mut c, 1282, 10.0, 1.0);
        let dwell = map::encode(Encoding::Millis, 0, 5.0).expect("millis");
        ask(
            &mut c,
            Request::WriteMultiple {
                address: 0x8000 + 2 * 1280,
                values: dwell,
            },
            1.0,
        );
        write_float(&mut c, 1284, 25.0, 1.0);
        write_float(&mut c, 1285, 10.0, 1.0);
        assert_eq!(c.segments()[0].target_c, 300.0);
        assert!((c.segments()[0].dwell_min - 5.0).abs() < 1e-6);
        let (_, executed) = ask(
            &mut c,
            Request::WriteSingle {
                address: 23,
                value: 1,
            },
            2.0,
        );
        assert!(
            matches!(executed.as_slice(), [Executed::Run(s)] if s.len() == 4),
            "{executed:?}"
        );
        // Running: the programmer refuses edits, and the status says run.
        let r = Request::WriteMultiple {
            address: 0x8000 + 2 * 1281,
            values: map::encode(Encoding::Float, 0, 500.0).expect("f"),
        };
        assert!(matches!(
            ask(&mut c, r, 600.0).0,
            Response::Exception {
                code: ExceptionCode::ServerDeviceBusy,
                ..
            }
        ));
        let pv = read_float(&mut c, 1, 1200.0);
        assert!(pv > 150.0, "heating: {pv}");
        // Long after the program's ~60 minutes it is complete (code 3) and cooling.
        match ask(
            &mut c,
            Request::ReadHolding {
                address: 23,
                count: 1,
            },
            3.0 * 3600.0,
        )
        .0
        {
            Response::Registers(r) => assert_eq!(r, vec![3]),
            other => panic!("{other:?}"),
        }
        let trace = c.trace_since(0.0);
        let peak = trace.iter().map(|p| p.1).fold(0.0, f64::max);
        assert!((peak - 300.0).abs() < 15.0, "peak {peak}");
    }

    #[test]
    fn read_only_and_unmapped_registers_answer_exceptions_and_garbage_is_ignored() {
        let mut c = controller();
        let (r, executed) = ask(
            &mut c,
            Request::WriteSingle {
                address: 1,
                value: 100,
            },
            0.0,
        );
        assert!(matches!(
            r,
            Response::Exception {
                code: ExceptionCode::IllegalDataAddress,
                ..
            }
        ));
        assert!(executed.is_empty());
        let (r, _) = ask(
            &mut c,
            Request::ReadHolding {
                address: 999,
                count: 1,
            },
            0.0,
        );
        assert!(matches!(
            r,
            Response::Exception {
                code: ExceptionCode::IllegalDataAddress,
                ..
            }
        ));
        let mut bad = Request::ReadHolding {
            address: 1,
            count: 1,
        }
        .encode(1)
        .expect("frame");
        let last = bad.len() - 1;
        bad[last] ^= 0xFF;
        assert_eq!(c.on_bytes(&bad, 0.0), Reply::Ignore, "bad CRC: silence");
        let other = Request::ReadHolding {
            address: 1,
            count: 1,
        }
        .encode(2)
        .expect("frame");
        assert_eq!(c.on_bytes(&other, 0.0), Reply::Ignore, "another unit");
        assert_eq!(c.on_bytes(&other[..3], 0.0), Reply::Incomplete);
    }
}
