//! Instrument records and the commands sent to them.

use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::types::Json;

use athanor_core::{
    Command, CommandAction, CommandId, CommandState, EntityKind, Instrument, InstrumentAction,
    InstrumentId, InstrumentState, NewEvent, NewInstrument, StepId,
};

use crate::error::{Result, StoreError};
use crate::events::write_with_event;
use crate::page::{Page, PageRequest};
use crate::query::{Bind, Select};
use crate::rows::{convert_all, CommandRow, InstrumentRow};
use crate::transition::{Key, Note, Table};
use crate::Store;

const COLUMNS: &str = "id, name, class, transport, limits, state, created_at, updated_at";
const COMMAND_COLUMNS: &str =
    "id, step_id, instrument_id, action, parameters, deadline, state, result, created_at, updated_at";

const TABLE: Table = Table {
    name: "instruments",
    columns: COLUMNS,
    entity: EntityKind::Instrument,
    campaign_expr: "CAST(NULL AS UUID)",
    note_column: None,
    note_is_json: false,
};
const COMMAND_TABLE: Table = Table {
    name: "commands",
    columns: COMMAND_COLUMNS,
    entity: EntityKind::Command,
    campaign_expr: "CAST(NULL AS UUID)",
    note_column: Some("result = COALESCE(result, $4)"),
    note_is_json: true,
};

impl Store {
    /// Registers an instrument; it starts offline until its controller reports in.
    pub async fn register_instrument(&self, new: NewInstrument, actor: &str) -> Result<Instrument> {
        new.validate()?;
        let now = Utc::now();
        let inst = Instrument {
            id: new.id,
            name: new.name,
            class: new.class,
            transport: new.transport,
            limits: new.limits,
            state: InstrumentState::Offline,
            created_at: now,
            updated_at: now,
        };
        let event = NewEvent {
            campaign_id: None,
            entity: EntityKind::Instrument,
            entity_id: inst.id.to_string(),
            kind: "instrument.registered".into(),
            actor: actor.to_owned(),
            payload: json!({ "name": inst.name, "class": inst.class }),
        };
        write_with_event!(self, now, |tx, _lock| {
            let inserted = sqlx::query(
                "INSERT INTO instruments (id, name, class, transport, limits, state, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(inst.id.as_str())
            .bind(&inst.name)
            .bind(inst.class.as_str())
            .bind(Json(&inst.transport))
            .bind(Json(&inst.limits))
            .bind(inst.state.as_str())
            .bind(now)
            .bind(now)
            .execute(&mut *tx)
            .await;
            match inserted {
                Err(e) if StoreError::is_unique_violation(&e) => {
                    return Err(StoreError::Conflict(format!(
                        "instrument `{}` is already registered",
                        inst.id
                    )))
                }
                other => other?,
            };
            event
        });
        Ok(inst)
    }

    pub async fn get_instrument(&self, id: &InstrumentId) -> Result<Instrument> {
        let row: Option<InstrumentRow> = self
            .fetch_by_id(COLUMNS, "instruments", Bind::Text(id.as_str().to_owned()))
            .await?;
        row.ok_or_else(|| StoreError::not_found(EntityKind::Instrument, id))?
            .try_into()
    }

    /// Instruments ordered by id; the cursor is the last id of the previous page.
    pub async fn list_instruments(&self, page: &PageRequest) -> Result<Page<Instrument>> {
        let limit = page.effective_limit();
        let select = Select::from(COLUMNS, "instruments")
            .filter("id", ">", page.after.clone().map(Bind::Text))
            .page("id", limit + 1);
        let rows: Vec<InstrumentRow> = self.fetch_rows(&select).await?;
        Ok(Page::from_overfetch(
            convert_all(rows)?,
            limit,
            |i: &Instrument| i.id.to_string(),
        ))
    }

    pub async fn apply_instrument_action(
        &self,
        id: &InstrumentId,
        action: InstrumentAction,
        actor: &str,
    ) -> Result<Instrument> {
        self.transition::<InstrumentState, InstrumentRow>(
            &TABLE,
            Key::Text(id.to_string()),
            action,
            actor,
            None,
        )
        .await?
        .try_into()
    }

    /// Records a command before it is sent, so that a crash between recording and sending can
    /// never send it twice without the store knowing.
    pub async fn create_command(
        &self,
        instrument_id: &InstrumentId,
        step_id: Option<StepId>,
        action: &str,
        parameters: serde_json::Value,
        deadline: Option<DateTime<Utc>>,
        actor: &str,
    ) -> Result<Command> {
        self.get_instrument(instrument_id).await?;
        let now = Utc::now();
        let id = CommandId::new();
        let event = NewEvent {
            campaign_id: None,
            entity: EntityKind::Command,
            entity_id: id.to_string(),
            kind: "command.pending".into(),
            actor: actor.to_owned(),
            payload: json!({ "instrument_id": instrument_id, "action": action, "parameters": parameters, "step_id": step_id }),
        };
        write_with_event!(self, now, |tx, _lock| {
            sqlx::query(
                "INSERT INTO commands (id, step_id, instrument_id, action, parameters, deadline, state, result, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, $8, $9)",
            )
            .bind(id.0)
            .bind(step_id.map(|s| s.0))
            .bind(instrument_id.as_str())
            .bind(action)
            .bind(Json(&parameters))
            .bind(deadline)
            .bind(CommandState::Pending.as_str())
            .bind(now)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            event
        });
        self.get_command(id).await
    }

    pub async fn get_command(&self, id: CommandId) -> Result<Command> {
        let row: Option<CommandRow> = self
            .fetch_by_id(COMMAND_COLUMNS, "commands", Bind::Uuid(id.0))
            .await?;
        row.ok_or_else(|| StoreError::not_found(EntityKind::Command, id))?
            .try_into()
    }

    /// Commands that have not ended (pending, sent or acknowledged), oldest first: what a
    /// restarted daemon must take over. All instruments when `instrument_id` is None.
    pub async fn list_unfinished_commands(
        &self,
        instrument_id: Option<&InstrumentId>,
    ) -> Result<Vec<Command>> {
        let open = [
            CommandState::Pending,
            CommandState::Sent,
            CommandState::Acknowledged,
        ];
        let select = Select::from(COMMAND_COLUMNS, "commands")
            .eq(
                "instrument_id",
                instrument_id.map(|i| Bind::Text(i.as_str().to_owned())),
            )
            .any_of("state", open.map(|s| Bind::Text(s.as_str().to_owned())))
            .page("id", i64::MAX);
        let rows: Vec<CommandRow> = self.fetch_rows(&select).await?;
        convert_all(rows)
    }

    /// Moves a command on; a result, when given, is kept only if none was stored before (the
    /// controller's first result is the one that counts).
    pub async fn apply_command_action(
        &self,
        id: CommandId,
        action: CommandAction,
        result: Option<serde_json::Value>,
        actor: &str,
    ) -> Result<Command> {
        self.transition::<CommandState, CommandRow>(
            &COMMAND_TABLE,
            Key::Uuid(id.0),
            action,
            actor,
            result.map(Note::Json),
        )
        .await?
        .try_into()
    }
}
