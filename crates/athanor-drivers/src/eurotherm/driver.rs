//! [`EurothermFurnace`]: the furnace capability over Modbus RTU, with every command checked
//! against the limits before a byte is written, absolute writes, EEPROM-backed values written
//! only when they differ, and program start guarded by [`StartProgram`].

use athanor_core::SafetyLimits;
use tokio::io::{AsyncRead, AsyncWrite};

use crate::instrument::limits::Checker;
use crate::instrument::{
    Furnace, FurnaceProgram, FurnaceStatus, InstrumentConfig, Limits, ProgramState, RunOutcome,
    TelemetrySample, Transport, WriteOutcome,
};
use crate::modbus::{ModbusError, RtuConfig, RtuTransport};

use super::map::{self, Encoding, ProgramLayout, Register, RegisterMap};
use super::start::{StartAction, StartEvent, StartProgram};
use super::EurothermError;

/// How many times "run" may be sent in one `run_program` (each after reading "not running").
const MAX_RUN_WRITES: u32 = 2;

/// A Eurotherm-style furnace controller on one Modbus line.
#[derive(Debug)]
pub struct EurothermFurnace<S> {
    id: String,
    line: RtuTransport<S>,
    map: RegisterMap,
    limits: Limits,
    campaign: Option<SafetyLimits>,
}

impl<S: AsyncRead + AsyncWrite + Unpin + Send> EurothermFurnace<S> {
    pub fn new(
        id: impl Into<String>,
        line: RtuTransport<S>,
        map: RegisterMap,
        limits: Limits,
    ) -> Self {
        Self {
            id: id.into(),
            line,
            map,
            limits,
            campaign: None,
        }
    }

    /// Builds the driver for a configured instrument over `io` (the opened serial port, or a pty
    /// or pipe in tests): unit id and timing from `[transport]`, the map from the model.
    pub fn from_config(config: &InstrumentConfig, io: S) -> Result<Self, EurothermError> {
        let table = config.register_map.as_ref().ok_or_else(|| {
            EurothermError::Map(format!(
                "{}: no register map (`model` or `[register_map]`)",
                config.source
            ))
        })?;
        let map = RegisterMap::from_table(table)?;
        let (unit, rtu) = match &config.transport {
            Some(Transport::Serial(s)) => (s.unit_id, s.rtu_config()),
            _ => (1, RtuConfig::for_baud(9600)),
        };
        Ok(Self::new(
            config.id.as_str(),
            RtuTransport::new(io, unit, rtu),
            map,
            config.limits.clone(),
        ))
    }

    /// Also checks every command against a campaign's safety limits.
    pub fn with_campaign_limits(mut self, campaign: Option<SafetyLimits>) -> Self {
        self.campaign = campaign;
        self
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn map(&self) -> &RegisterMap {
        &self.map
    }

    /// The line, for its statistics and dead-line state.
    pub fn line(&self) -> &RtuTransport<S> {
        &self.line
    }

    fn checker(&self) -> Checker<'_> {
        Checker::new(&self.limits, self.campaign.as_ref())
    }

    async fn read_raw(
        &mut self,
        what: &'static str,
        address: u16,
        encoding: Encoding,
        decimals: u8,
    ) -> Result<f64, EurothermError> {
        let (start, count) = self
            .map
            .location(address, encoding, decimals)
            .map_err(EurothermError::Map)?;
        let regs = self.line.read_holding(start, count).await?;
        map::decode(encoding, decimals, &regs).ok_or(EurothermError::Undecodable(what))
    }

    async fn read(&mut self, what: &'static str, r: Register) -> Result<f64, EurothermError> {
        self.read_raw(what, r.address, r.encoding, r.decimals).await
    }

    /// Writes an absolute value; when it lives in EEPROM, reads first and skips an equal value.
    async fn write_value(
        &mut self,
        what: &'static str,
        address: u16,
        encoding: Encoding,
        decimals: u8,
        eeprom: bool,
        value: f64,
    ) -> Result<WriteOutcome, EurothermError> {
        let regs = map::encode(encoding, decimals, value).map_err(|reason| {
            EurothermError::Unrepresentable {
                what,
                value,
                reason,
            }
        })?;
        let (start, _) = self
            .map
            .location(address, encoding, decimals)
            .map_err(EurothermError::Map)?;
        if eeprom {
            let current = self.read_raw(what, address, encoding, decimals).await?;
            if (current - value).abs() <= map::resolution(encoding, decimals, value) / 2.0 {
                tracing::debug!(instrument = %self.id, what, value, "already set; EEPROM not rewritten");
                return Ok(WriteOutcome::AlreadySet);
            }
        }
        match regs.as_slice() {
            [one] => self.line.write_single(start, *one).await?,
            _ => self.line.write_multiple(start, regs).await?,
        }
        Ok(WriteOutcome::Written)
    }

    /// The program's state as the controller reports it.
    pub async fn program_state(&mut self) -> Result<ProgramState, EurothermError> {
        let code = self.read("program status", self.map.program_status).await?;
        Ok(self.map.program_state(code as u16))
    }

    /// One reading of each telemetry channel, stamped `at_ms` (the caller's clock).
    pub async fn telemetry(&mut self, at_ms: i64) -> Result<Vec<TelemetrySample>, EurothermError> {
        let s = self.read_status().await?;
        let sample = |channel: &str, value: f64| TelemetrySample {
            instrument: self.id.clone(),
            at_ms,
            channel: channel.into(),
            value,
        };
        Ok(vec![
            sample("pv_c", s.process_value_c),
            sample("target_sp_c", s.target_setpoint_c),
            sample("working_sp_c", s.working_setpoint_c),
            sample("output_pct", s.working_output_pct),
        ])
    }

    async fn read_status(&mut self) -> Result<FurnaceStatus, EurothermError> {
        let m = self.map.clone();
        let process_value_c = self.read("process value", m.process_value).await?;
        let target_setpoint_c = self.read("target set point", m.target_setpoint).await?;
        let working_setpoint_c = self.read("working set point", m.working_setpoint).await?;
        let working_output_pct = self.read("working output", m.working_output).await?;
        let program = self.program_state().await?;
        let alarms = match m.alarm_status {
            Some(r) => m.alarms(self.read("alarm status", r).await? as u16),
            None => Vec::new(),
        };
        Ok(FurnaceStatus {
            process_value_c,
            target_setpoint_c,
            working_setpoint_c,
            working_output_pct,
            program,
            alarms,
            atmosphere: None,
        })
    }

    async fn write_program(&mut self, program: &FurnaceProgram) -> Result<(), EurothermError> {
        match self.map.program.clone() {
            ProgramLayout::Fixed {
                slots,
                base,
                stride,
                target,
                ramp_rate,
                dwell,
                eeprom,
            } => {
                let last =
                    program
                        .segments
                        .last()
                        .cloned()
                        .ok_or(EurothermError::TooManySegments {
                            given: 0,
                            capacity: usize::from(slots),
                        })?;
                for slot in 0..slots {
                    // Unused slots repeat the last target with no dwell: a segment that changes nothing.
                    let (t, r, d) = match program.segments.get(usize::from(slot)) {
                        Some(s) => (s.target_c, s.ramp_c_per_min, s.dwell_min),
                        None => (last.target_c, last.ramp_c_per_min, 0.0),
                    };
                    let at = base + slot * stride;
                    self.write_value(
                        "segment target",
                        at + target.offset,
                        target.encoding,
                        target.decimals,
                        eeprom,
                        t,
                    )
                    .await?;
                    self.write_value(
                        "segment ramp rate",
                        at + ramp_rate.offset,
                        ramp_rate.encoding,
                        ramp_rate.decimals,
                        eeprom,
                        r,
                    )
                    .await?;
                    self.write_value(
                        "segment dwell",
                        at + dwell.offset,
                        dwell.encoding,
                        dwell.decimals,
                        eeprom,
                        d,
                    )
                    .await?;
                }
            }
            ProgramLayout::Typed {
                base,
                stride,
                type_field,
                target,
                ramp_rate,
                duration,
                ramp_rate_type,
                dwell_type,
                end_type,
                eeprom,
                ..
            } => {
                let mut slot: u16 = 0;
                for s in &program.segments {
                    let at = base + slot * stride;
                    self.write_value(
                        "segment type",
                        at + type_field.offset,
                        type_field.encoding,
                        type_field.decimals,
                        eeprom,
                        f64::from(ramp_rate_type),
                    )
                    .await?;
                    self.write_value(
                        "segment target",
                        at + target.offset,
                        target.encoding,
                        target.decimals,
                        eeprom,
                        s.target_c,
                    )
                    .await?;
                    self.write_value(
                        "segment ramp rate",
                        at + ramp_rate.offset,
                        ramp_rate.encoding,
                        ramp_rate.decimals,
                        eeprom,
                        s.ramp_c_per_min,
                    )
                    .await?;
                    let at = base + (slot + 1) * stride;
                    self.write_value(
                        "segment type",
                        at + type_field.offset,
                        type_field.encoding,
                        type_field.decimals,
                        eeprom,
                        f64::from(dwell_type),
                    )
                    .await?;
                    self.write_value(
                        "segment dwell",
                        at + duration.offset,
                        duration.encoding,
                        duration.decimals,
                        eeprom,
                        s.dwell_min,
                    )
                    .await?;
                    slot += 2;
                }
                let at = base + slot * stride;
                self.write_value(
                    "segment type",
                    at + type_field.offset,
                    type_field.encoding,
                    type_field.decimals,
                    eeprom,
                    f64::from(end_type),
                )
                .await?;
            }
        }
        Ok(())
    }

    async fn write_run(&mut self) -> Result<(), ModbusError> {
        if let Some(sel) = self.map.select_program {
            self.line.write_single(sel.address, sel.value).await?;
        }
        self.line
            .write_single(self.map.program_status.address, self.map.run_code())
            .await
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin + Send> Furnace for EurothermFurnace<S> {
    type Error = EurothermError;

    fn limits(&self) -> &Limits {
        &self.limits
    }

    async fn status(&mut self) -> Result<FurnaceStatus, EurothermError> {
        self.read_status().await
    }

    async fn set_setpoint(&mut self, celsius: f64) -> Result<WriteOutcome, EurothermError> {
        self.checker().temperature("set point", celsius)?;
        let r = self.map.target_setpoint;
        self.write_value(
            "target set point",
            r.address,
            r.encoding,
            r.decimals,
            r.eeprom,
            celsius,
        )
        .await
    }

    async fn set_ramp_rate(&mut self, c_per_min: f64) -> Result<WriteOutcome, EurothermError> {
        self.checker().ramp("ramp rate", c_per_min)?;
        let r = self.map.ramp_rate;
        self.write_value(
            "ramp rate",
            r.address,
            r.encoding,
            r.decimals,
            r.eeprom,
            c_per_min,
        )
        .await
    }

    async fn load_program(&mut self, program: &FurnaceProgram) -> Result<(), EurothermError> {
        program.check(&self.limits, self.campaign.as_ref())?;
        if program.atmosphere.is_some() {
            return Err(EurothermError::NoAtmosphere);
        }
        let capacity = self.map.segment_capacity();
        if program.segments.len() > capacity {
            return Err(EurothermError::TooManySegments {
                given: program.segments.len(),
                capacity,
            });
        }
        // Encode everything before the first write, so an unrepresentable value sends nothing.
        for s in &program.segments {
            let (t, r, d) = match &self.map.program {
                ProgramLayout::Fixed {
                    target,
                    ramp_rate,
                    dwell,
                    ..
                } => (*target, *ramp_rate, *dwell),
                ProgramLayout::Typed {
                    target,
                    ramp_rate,
                    duration,
                    ..
                } => (*target, *ramp_rate, *duration),
            };
            for (what, f, v) in [
                ("segment target", t, s.target_c),
                ("segment ramp rate", r, s.ramp_c_per_min),
                ("segment dwell", d, s.dwell_min),
            ] {
                map::encode(f.encoding, f.decimals, v).map_err(|reason| {
                    EurothermError::Unrepresentable {
                        what,
                        value: v,
                        reason,
                    }
                })?;
            }
        }
        match self.program_state().await? {
            s @ (ProgramState::Running | ProgramState::Held | ProgramState::Holdback) => {
                Err(EurothermError::ProgramActive(s))
            }
            _ => self.write_program(program).await,
        }
    }

    async fn run_program(&mut self) -> Result<RunOutcome, EurothermError> {
        let mut machine = StartProgram::new(MAX_RUN_WRITES);
        let mut action = machine.begin();
        let mut last_error: Option<ModbusError> = None;
        loop {
            action = match action {
                StartAction::ReadStatus => match self.program_state().await {
                    Ok(s) => machine.on(StartEvent::Status(s)),
                    Err(EurothermError::Modbus(e)) => {
                        last_error = Some(e);
                        machine.on(StartEvent::ReadFailed)
                    }
                    Err(other) => return Err(other),
                },
                StartAction::WriteRun => match self.write_run().await {
                    Ok(()) => {
                        tracing::info!(instrument = %self.id, "program run sent");
                        machine.on(StartEvent::WriteAcked)
                    }
                    Err(e @ ModbusError::Exception { .. }) => {
                        last_error = Some(e);
                        machine.on(StartEvent::WriteRefused)
                    }
                    Err(e) => {
                        tracing::warn!(instrument = %self.id, error = %e, "run sent, answer lost; reading state before anything else");
                        last_error = Some(e);
                        machine.on(StartEvent::WriteUncertain)
                    }
                },
                StartAction::Done(outcome) => return Ok(outcome),
                StartAction::Refuse(s) => return Err(EurothermError::RunRefused(s)),
                StartAction::NotStarted(s) => return Err(EurothermError::NotStarted(s)),
                StartAction::Unknown => {
                    let e = last_error.take().unwrap_or(ModbusError::Closed);
                    return Err(if machine.writes() > 0 {
                        EurothermError::RunOutcomeUnknown(e)
                    } else {
                        EurothermError::Modbus(e)
                    });
                }
            };
        }
    }

    async fn hold(&mut self) -> Result<(), EurothermError> {
        let (a, c) = (self.map.program_status.address, self.map.hold_code());
        Ok(self.line.write_single(a, c).await?)
    }

    async fn abort(&mut self) -> Result<(), EurothermError> {
        let (a, c) = (self.map.program_status.address, self.map.reset_code());
        Ok(self.line.write_single(a, c).await?)
    }
}
