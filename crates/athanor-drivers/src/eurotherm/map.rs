//! A controller's register map and value scaling, parsed from the `[register_map]` of a model
//! file, so another controller model is a config file, not code.
//!
//! Encodings (per register):
//! - `int`: the raw 16-bit word (status codes, bitmaps);
//! - `scaled`: a signed 16-bit integer with `decimals` implied decimals (Eurotherm's default
//!   registers: 1 decimal → 3276.7 at most, 2 decimals → 327.67);
//! - `float`: IEEE-754 single in two registers, high word first, at `float_base + 2·address`
//!   (Eurotherm's full-resolution region, `float_base` = 0x8000);
//! - `millis`: a time parameter as a signed 32-bit count of milliseconds in the same
//!   two-register region; the driver speaks minutes.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::instrument::ProgramState;

use super::EurothermError;

/// How a value sits in registers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Encoding {
    Int,
    Scaled,
    Float,
    Millis,
}

/// One parameter's place and encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Register {
    /// The parameter's Modbus address (for `float`/`millis`, the 16-bit address it maps from).
    pub address: u16,
    pub encoding: Encoding,
    /// Implied decimals of a `scaled` register.
    #[serde(default)]
    pub decimals: u8,
    /// Stored in EEPROM (limited write cycles): read first, write only when it differs.
    #[serde(default)]
    pub eeprom: bool,
}

/// Where a segment parameter sits, relative to its segment's first register.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Field {
    pub offset: u16,
    pub encoding: Encoding,
    #[serde(default)]
    pub decimals: u8,
}

/// How program segments are laid out.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "layout", rename_all = "snake_case", deny_unknown_fields)]
pub enum ProgramLayout {
    /// Each slot is one ramp-then-dwell segment (3200 series: target, rate, dwell per slot).
    Fixed {
        slots: u16,
        base: u16,
        stride: u16,
        target: Field,
        ramp_rate: Field,
        dwell: Field,
        #[serde(default)]
        eeprom: bool,
    },
    /// Each slot has a type (2400 series): a ramp segment and a dwell segment per program
    /// segment, closed by an end segment.
    Typed {
        slots: u16,
        /// First register of slot 1 of the program that is run.
        base: u16,
        stride: u16,
        type_field: Field,
        target: Field,
        ramp_rate: Field,
        duration: Field,
        ramp_rate_type: u16,
        dwell_type: u16,
        end_type: u16,
        #[serde(default)]
        eeprom: bool,
    },
}

impl ProgramLayout {
    /// Slot count, first register, stride and the fields of each slot.
    pub fn fields(&self) -> (u16, u16, u16, Vec<Field>) {
        match self {
            ProgramLayout::Fixed {
                slots,
                base,
                stride,
                target,
                ramp_rate,
                dwell,
                ..
            } => (*slots, *base, *stride, vec![*target, *ramp_rate, *dwell]),
            ProgramLayout::Typed {
                slots,
                base,
                stride,
                type_field,
                target,
                ramp_rate,
                duration,
                ..
            } => (
                *slots,
                *base,
                *stride,
                vec![*type_field, *target, *ramp_rate, *duration],
            ),
        }
    }
}

/// Register and value to write before running (select the program to run).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Selector {
    pub address: u16,
    pub value: u16,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
struct StatusCodes {
    reset: u16,
    run: u16,
    hold: u16,
    #[serde(default)]
    holdback: Option<u16>,
    complete: u16,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMap {
    #[serde(default = "default_float_base")]
    float_base: u16,
    process_value: Register,
    target_setpoint: Register,
    working_setpoint: Register,
    working_output: Register,
    ramp_rate: Register,
    program_status: Register,
    program_status_codes: StatusCodes,
    alarm_status: Option<Register>,
    #[serde(default)]
    alarm_bits: BTreeMap<String, u8>,
    program: ProgramLayout,
    select_program: Option<Selector>,
}

fn default_float_base() -> u16 {
    0x8000
}

/// A validated register map.
#[derive(Debug, Clone, PartialEq)]
pub struct RegisterMap {
    pub float_base: u16,
    pub process_value: Register,
    pub target_setpoint: Register,
    pub working_setpoint: Register,
    pub working_output: Register,
    pub ramp_rate: Register,
    pub program_status: Register,
    codes: StatusCodes,
    pub alarm_status: Option<Register>,
    pub alarm_bits: BTreeMap<String, u8>,
    pub program: ProgramLayout,
    pub select_program: Option<Selector>,
}

impl RegisterMap {
    /// Parses and checks a `[register_map]` table.
    pub fn from_table(table: &toml::Table) -> Result<Self, EurothermError> {
        let raw: RawMap = toml::Value::Table(table.clone())
            .try_into()
            .map_err(|e: toml::de::Error| EurothermError::Map(e.to_string()))?;
        let map = RegisterMap {
            float_base: raw.float_base,
            process_value: raw.process_value,
            target_setpoint: raw.target_setpoint,
            working_setpoint: raw.working_setpoint,
            working_output: raw.working_output,
            ramp_rate: raw.ramp_rate,
            program_status: raw.program_status,
            codes: raw.program_status_codes,
            alarm_status: raw.alarm_status,
            alarm_bits: raw.alarm_bits,
            program: raw.program,
            select_program: raw.select_program,
        };
        map.validate()?;
        Ok(map)
    }

    /// Parses a model file's text (its `[register_map]` table).
    pub fn from_model_toml(text: &str) -> Result<Self, EurothermError> {
        let v: toml::Table =
            toml::from_str(text).map_err(|e| EurothermError::Map(e.to_string()))?;
        match v.get("register_map") {
            Some(toml::Value::Table(t)) => Self::from_table(t),
            _ => Err(EurothermError::Map("no [register_map] table".into())),
        }
    }

    fn validate(&self) -> Result<(), EurothermError> {
        let regs = [
            ("process_value", self.process_value),
            ("target_setpoint", self.target_setpoint),
            ("working_setpoint", self.working_setpoint),
            ("working_output", self.working_output),
            ("ramp_rate", self.ramp_rate),
            ("program_status", self.program_status),
        ];
        for (name, r) in regs.iter().chain(
            self.alarm_status
                .as_ref()
                .map(|r| ("alarm_status", *r))
                .iter(),
        ) {
            self.location(r.address, r.encoding, r.decimals)
                .map_err(|m| EurothermError::Map(format!("{name}: {m}")))?;
        }
        if self.program_status.encoding != Encoding::Int {
            return Err(EurothermError::Map(
                "program_status must be an `int` register".into(),
            ));
        }
        let c = &self.codes;
        let mut all = vec![c.reset, c.run, c.hold, c.complete];
        all.extend(c.holdback);
        let mut dedup = all.clone();
        dedup.sort_unstable();
        dedup.dedup();
        if dedup.len() != all.len() {
            return Err(EurothermError::Map(
                "program_status_codes must be distinct".into(),
            ));
        }
        if self.alarm_bits.values().any(|b| *b > 15) {
            return Err(EurothermError::Map(
                "alarm_bits are bit numbers 0–15".into(),
            ));
        }
        let (slots, base, stride, fields) = self.program.fields();
        if slots == 0 || stride == 0 {
            return Err(EurothermError::Map(
                "program.slots and program.stride must be positive".into(),
            ));
        }
        for f in fields {
            if f.offset >= stride {
                return Err(EurothermError::Map(
                    "a program field's offset must be below the stride".into(),
                ));
            }
            let last =
                u32::from(base) + u32::from(slots - 1) * u32::from(stride) + u32::from(f.offset);
            let last = u16::try_from(last)
                .map_err(|_| EurothermError::Map("program registers pass 0xFFFF".into()))?;
            self.location(last, f.encoding, f.decimals)
                .map_err(|m| EurothermError::Map(format!("program: {m}")))?;
        }
        Ok(())
    }

    /// First register and register count of a parameter.
    pub fn location(
        &self,
        address: u16,
        encoding: Encoding,
        decimals: u8,
    ) -> Result<(u16, u16), String> {
        match encoding {
            Encoding::Int => Ok((address, 1)),
            Encoding::Scaled if decimals > 4 => Err("at most 4 decimals".into()),
            Encoding::Scaled => Ok((address, 1)),
            Encoding::Float | Encoding::Millis => {
                let a = u32::from(self.float_base) + 2 * u32::from(address);
                if a + 1 > 0xFFFF {
                    return Err(format!(
                        "address {address} has no 32-bit register below 0xFFFF"
                    ));
                }
                Ok((a as u16, 2))
            }
        }
    }

    /// The state a program status code stands for.
    pub fn program_state(&self, code: u16) -> ProgramState {
        let c = &self.codes;
        if code == c.reset {
            ProgramState::Reset
        } else if code == c.run {
            ProgramState::Running
        } else if code == c.hold {
            ProgramState::Held
        } else if Some(code) == c.holdback {
            ProgramState::Holdback
        } else if code == c.complete {
            ProgramState::Complete
        } else {
            ProgramState::Unknown(code)
        }
    }

    pub fn run_code(&self) -> u16 {
        self.codes.run
    }
    pub fn hold_code(&self) -> u16 {
        self.codes.hold
    }
    pub fn reset_code(&self) -> u16 {
        self.codes.reset
    }
    pub fn complete_code(&self) -> u16 {
        self.codes.complete
    }

    /// How many program segments (ramp + dwell) fit.
    pub fn segment_capacity(&self) -> usize {
        match &self.program {
            ProgramLayout::Fixed { slots, .. } => usize::from(*slots),
            // Two slots per segment and one end slot.
            ProgramLayout::Typed { slots, .. } => usize::from(slots.saturating_sub(1) / 2),
        }
    }

    /// Names of the alarms whose bits are set in `word`.
    pub fn alarms(&self, word: u16) -> Vec<String> {
        self.alarm_bits
            .iter()
            .filter(|(_, b)| word & (1 << **b) != 0)
            .map(|(n, _)| n.clone())
            .collect()
    }
}

/// Registers of one value, encoded.
pub fn encode(encoding: Encoding, decimals: u8, value: f64) -> Result<Vec<u16>, String> {
    if !value.is_finite() {
        return Err("not a finite number".into());
    }
    match encoding {
        Encoding::Int => {
            let r = value.round();
            if !(0.0..=65535.0).contains(&r) {
                return Err("does not fit a 16-bit register".into());
            }
            Ok(vec![r as u16])
        }
        Encoding::Scaled => {
            let r = (value * 10f64.powi(i32::from(decimals))).round();
            if !(-32768.0..=32767.0).contains(&r) {
                return Err(format!(
                    "overflows a scaled 16-bit register at {decimals} decimal(s) (max {}); map it to the float registers",
                    32767.0 / 10f64.powi(i32::from(decimals))
                ));
            }
            Ok(vec![(r as i16) as u16])
        }
        Encoding::Float => {
            let f = value as f32;
            if !f.is_finite() {
                return Err("does not fit a 32-bit float".into());
            }
            let b = f.to_bits();
            Ok(vec![(b >> 16) as u16, b as u16])
        }
        Encoding::Millis => {
            let ms = (value * 60_000.0).round();
            if !(0.0..=f64::from(i32::MAX)).contains(&ms) {
                return Err("time does not fit 32-bit milliseconds".into());
            }
            let b = ms as u32;
            Ok(vec![(b >> 16) as u16, b as u16])
        }
    }
}

/// A value from its registers (as many as [`RegisterMap::location`] gives).
pub fn decode(encoding: Encoding, decimals: u8, regs: &[u16]) -> Option<f64> {
    match (encoding, regs) {
        (Encoding::Int, [w]) => Some(f64::from(*w)),
        (Encoding::Scaled, [w]) => Some(f64::from(*w as i16) / 10f64.powi(i32::from(decimals))),
        (Encoding::Float, [hi, lo]) => Some(f64::from(f32::from_bits(
            (u32::from(*hi) << 16) | u32::from(*lo),
        ))),
        (Encoding::Millis, [hi, lo]) => {
            Some(f64::from(((u32::from(*hi) << 16) | u32::from(*lo)) as i32) / 60_000.0)
        }
        _ => None,
    }
}

/// The smallest step a register can express (for "already holds that value" comparisons).
pub fn resolution(encoding: Encoding, decimals: u8, value: f64) -> f64 {
    match encoding {
        Encoding::Int => 1.0,
        Encoding::Scaled => 10f64.powi(-i32::from(decimals)),
        Encoding::Float => (value.abs() * f64::from(f32::EPSILON)).max(1e-6),
        Encoding::Millis => 1.0 / 60_000.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scaled_two_decimals_overflow_above_327_67() {
        assert_eq!(encode(Encoding::Scaled, 2, 327.67).unwrap(), vec![32767]);
        let e = encode(Encoding::Scaled, 2, 327.68).unwrap_err();
        assert!(e.contains("float registers"), "{e}");
        assert_eq!(
            encode(Encoding::Scaled, 1, -12.3).unwrap(),
            vec![(-123i16) as u16]
        );
        assert_eq!(
            decode(Encoding::Scaled, 1, &[(-123i16) as u16]),
            Some(-12.3)
        );
    }

    #[test]
    fn float_and_millis_round_trip() {
        let r = encode(Encoding::Float, 0, 850.5).unwrap();
        assert_eq!(r, vec![0x4454, 0xA000]);
        assert_eq!(decode(Encoding::Float, 0, &r), Some(850.5));
        let r = encode(Encoding::Millis, 0, 90.0).unwrap();
        assert_eq!(decode(Encoding::Millis, 0, &r), Some(90.0));
        assert!(decode(Encoding::Float, 0, &[1]).is_none());
    }
}
