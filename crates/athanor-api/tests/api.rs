//! The API over real HTTP: auth matrix, bad input, pagination, server-sent events, restarts.
#![allow(clippy::unwrap_used)]

mod common;

use athanor_api::AuthMode;
use athanor_store::EventFilter;
use common::*;
use futures::StreamExt;
use serde_json::{json, Value};

#[derive(Clone, Copy, PartialEq, PartialOrd, Debug)]
enum Need {
    Viewer,
    Operator,
    Admin,
}

/// Every authenticated route with the least role it needs and a body where it takes one.
async fn routes(app: &TestApp) -> Vec<(reqwest::Method, String, Need, Option<Value>)> {
    use reqwest::Method as M;
    let c = app.create_campaign("matrix").await;
    let cid = c["id"].as_str().unwrap().to_owned();
    let e: Value = app
        .post(
            &format!("/api/v1/campaigns/{cid}/experiments"),
            &app.operator,
            &json!({"parameters": {"T": 700}}),
        )
        .await
        .json()
        .await
        .unwrap();
    let eid = e["id"].as_str().unwrap().to_owned();
    let h: Value = app
        .post(
            &format!("/api/v1/campaigns/{cid}/hypotheses"),
            &app.operator,
            &json!({"statement": "s", "claim": {"type": "statement"}, "prior": 0.5}),
        )
        .await
        .json()
        .await
        .unwrap();
    let hid = h["id"].as_str().unwrap().to_owned();
    let s: Value = app
        .post("/api/v1/samples", &app.operator, &json!({"label": "S1"}))
        .await
        .json()
        .await
        .unwrap();
    let sid = s["id"].as_str().unwrap().to_owned();
    let unknown = uuid::Uuid::now_v7().to_string();
    vec![
        (M::GET, "/api/v1/campaigns".into(), Need::Viewer, None),
        (
            M::POST,
            "/api/v1/campaigns".into(),
            Need::Operator,
            Some(campaign_json("m2")),
        ),
        (
            M::GET,
            format!("/api/v1/campaigns/{cid}"),
            Need::Viewer,
            None,
        ),
        (
            M::POST,
            format!("/api/v1/campaigns/{cid}/pause"),
            Need::Operator,
            None,
        ),
        (
            M::POST,
            format!("/api/v1/campaigns/{cid}/resume"),
            Need::Operator,
            None,
        ),
        (
            M::GET,
            format!("/api/v1/campaigns/{cid}/experiments"),
            Need::Viewer,
            None,
        ),
        (
            M::POST,
            format!("/api/v1/campaigns/{cid}/experiments"),
            Need::Operator,
            Some(json!({"parameters": {"T": 800}})),
        ),
        (
            M::GET,
            format!("/api/v1/campaigns/{cid}/hypotheses"),
            Need::Viewer,
            None,
        ),
        (
            M::POST,
            format!("/api/v1/campaigns/{cid}/hypotheses"),
            Need::Operator,
            Some(json!({"statement": "t", "claim": {"type": "statement"}, "prior": 0.4})),
        ),
        (
            M::GET,
            format!("/api/v1/experiments/{eid}"),
            Need::Viewer,
            None,
        ),
        (
            M::GET,
            format!("/api/v1/experiments/{eid}/steps"),
            Need::Viewer,
            None,
        ),
        (
            M::POST,
            format!("/api/v1/experiments/{unknown}/cancel"),
            Need::Operator,
            None,
        ),
        (
            M::GET,
            format!("/api/v1/hypotheses/{hid}"),
            Need::Viewer,
            None,
        ),
        (M::GET, "/api/v1/samples".into(), Need::Viewer, None),
        (
            M::POST,
            "/api/v1/samples".into(),
            Need::Operator,
            Some(json!({"label": "S2"})),
        ),
        (M::GET, format!("/api/v1/samples/{sid}"), Need::Viewer, None),
        (M::GET, "/api/v1/instruments".into(), Need::Viewer, None),
        (
            M::POST,
            "/api/v1/instruments".into(),
            Need::Admin,
            Some(
                json!({"id": format!("xrd-{}", uuid()), "name": "XRD", "class": "diffractometer", "transport": {"kind": "mqtt"}}),
            ),
        ),
        (
            M::GET,
            "/api/v1/instruments/nope".into(),
            Need::Viewer,
            None,
        ),
        (
            M::GET,
            "/api/v1/instruments/nope/status".into(),
            Need::Viewer,
            None,
        ),
        (
            M::GET,
            "/api/v1/instruments/nope/telemetry".into(),
            Need::Viewer,
            None,
        ),
        (M::GET, "/api/v1/measurements".into(), Need::Viewer, None),
        (
            M::GET,
            format!("/api/v1/measurements/{unknown}"),
            Need::Viewer,
            None,
        ),
        (M::GET, "/api/v1/analyses".into(), Need::Viewer, None),
        (
            M::GET,
            format!("/api/v1/analyses/{unknown}"),
            Need::Viewer,
            None,
        ),
        (M::GET, "/api/v1/tokens".into(), Need::Admin, None),
        (
            M::POST,
            "/api/v1/tokens".into(),
            Need::Admin,
            Some(json!({"name": format!("t-{}", uuid()), "role": "viewer"})),
        ),
        (
            M::POST,
            format!("/api/v1/tokens/{unknown}/revoke"),
            Need::Admin,
            None,
        ),
        (
            M::POST,
            format!("/api/v1/campaigns/{cid}/abort"),
            Need::Operator,
            None,
        ),
    ]
}

#[tokio::test]
async fn auth_matrix_every_route_every_role() {
    let app = TestApp::spawn().await;
    let routes = routes(&app).await;
    let callers = [
        (None, Need::Viewer),
        (Some(app.viewer.clone()), Need::Viewer),
        (Some(app.operator.clone()), Need::Operator),
        (Some(app.admin.clone()), Need::Admin),
    ];
    for (method, path, need, body) in &routes {
        for (token, role) in &callers {
            let mut req = app.client.request(method.clone(), app.url(path));
            if let Some(t) = token {
                req = req.bearer_auth(t);
            }
            if let Some(b) = body {
                // Each call gets a fresh unique name where names must be unique.
                let mut b = b.clone();
                if b.get("name").is_some() && path.ends_with("tokens") {
                    b["name"] = json!(format!("t-{}", uuid()));
                }
                if b.get("id").is_some() {
                    b["id"] = json!(format!("xrd-{}", uuid()));
                }
                req = req.json(&b);
            }
            let r = req.send().await.unwrap();
            let status = r.status().as_u16();
            match token {
                None => assert_eq!(status, 401, "{method} {path} without token"),
                Some(_) if role < need => assert_eq!(status, 403, "{method} {path} as {role:?}"),
                Some(_) => assert!(
                    status != 401 && status != 403 && status < 500,
                    "{method} {path} as {role:?}: {status}"
                ),
            }
        }
    }
    // A wrong token is as good as none.
    let r = app
        .get(
            "/api/v1/campaigns",
            "ath_00000000000000000000000000000000_x",
        )
        .await;
    assert_problem(r, 401, None).await;
    app.stop().await;
}

#[tokio::test]
async fn open_routes_need_no_token() {
    let app = TestApp::spawn().await;
    for path in ["/healthz", "/readyz", "/metrics", "/api/v1/openapi.json"] {
        let r = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
    }
    let metrics = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("athanor_http_requests_total"), "{metrics}");
    app.stop().await;
}

#[tokio::test]
async fn bad_input_gets_a_problem_that_names_the_field_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let raw = |body: &'static str| {
        app.client
            .post(app.url("/api/v1/campaigns"))
            .bearer_auth(&app.operator)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    assert_problem(raw("{not json").await.unwrap(), 400, None).await;
    let mut wrong_type = campaign_json("x");
    wrong_type["budget"]["max_experiments"] = json!("many");
    assert_problem(
        app.post("/api/v1/campaigns", &app.operator, &wrong_type)
            .await,
        422,
        Some("budget.max_experiments"),
    )
    .await;
    let mut unknown = campaign_json("x");
    unknown["limits"]["colour"] = json!("red");
    let body = assert_problem(
        app.post("/api/v1/campaigns", &app.operator, &unknown).await,
        422,
        Some("limits.colour"),
    )
    .await;
    assert!(
        body["detail"].as_str().unwrap().contains("colour"),
        "{body}"
    );
    let mut out_of_range = campaign_json("x");
    out_of_range["limits"]["max_temperature_c"] = json!(5000);
    assert_problem(
        app.post("/api/v1/campaigns", &app.operator, &out_of_range)
            .await,
        422,
        Some("limits.max_temperature_c"),
    )
    .await;
    let mut missing = campaign_json("x");
    missing.as_object_mut().unwrap().remove("goal");
    assert_problem(
        app.post("/api/v1/campaigns", &app.operator, &missing).await,
        422,
        None,
    )
    .await;
    let r = app
        .client
        .post(app.url("/api/v1/campaigns"))
        .bearer_auth(&app.operator)
        .header("content-type", "text/plain")
        .body("hi")
        .send()
        .await
        .unwrap();
    assert_problem(r, 415, None).await;
    let huge = json!({"name": "x".repeat(MAX_BODY + 10)});
    assert_problem(
        app.post("/api/v1/campaigns", &app.operator, &huge).await,
        413,
        None,
    )
    .await;
    let unknown_id = uuid::Uuid::now_v7();
    assert_problem(
        app.get(&format!("/api/v1/campaigns/{unknown_id}"), &app.viewer)
            .await,
        404,
        None,
    )
    .await;
    assert_problem(
        app.get("/api/v1/campaigns/not-a-uuid", &app.viewer).await,
        400,
        Some("id"),
    )
    .await;
    assert_problem(
        app.get("/api/v1/campaigns?limit=0", &app.viewer).await,
        422,
        Some("limit"),
    )
    .await;
    assert_problem(
        app.get("/api/v1/campaigns?limit=abc", &app.viewer).await,
        400,
        Some("limit"),
    )
    .await;
    assert_problem(
        app.get("/api/v1/campaigns?cursor=zzz", &app.viewer).await,
        422,
        Some("cursor"),
    )
    .await;
    assert_problem(app.get("/api/v1/nowhere", &app.viewer).await, 404, None).await;
    // Nothing above changed anything.
    let events = app
        .db
        .store
        .list_events(&EventFilter::default())
        .await
        .unwrap();
    assert!(
        events.iter().all(|e| e.kind == "token.created"),
        "{events:?}"
    );
    // An illegal state change is a conflict and leaves the state alone.
    let c = app.create_campaign("c").await;
    let id = c["id"].as_str().unwrap();
    assert_eq!(
        app.post(
            &format!("/api/v1/campaigns/{id}/abort"),
            &app.operator,
            &json!({})
        )
        .await
        .status(),
        200
    );
    assert_problem(
        app.post(
            &format!("/api/v1/campaigns/{id}/resume"),
            &app.operator,
            &json!({}),
        )
        .await,
        409,
        None,
    )
    .await;
    let after: Value = app
        .get(&format!("/api/v1/campaigns/{id}"), &app.viewer)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(after["state"], "aborted");
    // An experiment outside the search space names the parameter.
    let c = app.create_campaign("d").await;
    let id = c["id"].as_str().unwrap();
    let r = app
        .post(
            &format!("/api/v1/campaigns/{id}/experiments"),
            &app.operator,
            &json!({"parameters": {"T": 2000}}),
        )
        .await;
    assert_problem(r, 422, Some("parameters.T")).await;
    app.stop().await;
}

#[tokio::test]
async fn pagination_returns_every_campaign_once() {
    let app = TestApp::spawn().await;
    let mut created = Vec::new();
    for i in 0..5 {
        created.push(
            app.create_campaign(&format!("p{i}")).await["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let mut seen = Vec::new();
    let mut url = "/api/v1/campaigns?limit=2".to_owned();
    loop {
        let page: Value = app.get(&url, &app.viewer).await.json().await.unwrap();
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 2);
        seen.extend(items.iter().map(|c| c["id"].as_str().unwrap().to_owned()));
        match page["next_cursor"].as_str() {
            Some(c) => url = format!("/api/v1/campaigns?limit=2&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen, created);
    app.stop().await;
}

#[tokio::test]
async fn mutations_are_recorded_with_the_token_name() {
    let app = TestApp::spawn().await;
    let c = app.create_campaign("who").await;
    let id = c["id"].as_str().unwrap();
    app.post(
        &format!("/api/v1/campaigns/{id}/pause"),
        &app.operator,
        &json!({}),
    )
    .await;
    let events = app
        .db
        .store
        .list_events(&EventFilter {
            campaign_id: Some(id.parse().unwrap()),
            ..Default::default()
        })
        .await
        .unwrap();
    let operator_name = app
        .db
        .store
        .authenticate(&app.operator)
        .await
        .unwrap()
        .unwrap()
        .name;
    assert_eq!(events.len(), 2);
    assert!(
        events.iter().all(|e| e.actor == operator_name),
        "{events:?}"
    );
    app.stop().await;
}

#[tokio::test]
async fn instrument_status_and_telemetry_by_time_range() {
    use athanor_core::{InstrumentClass, InstrumentId, InstrumentLimits, NewInstrument};
    use athanor_store::TelemetryRecord;
    use chrono::{DateTime, TimeDelta, Utc};

    let app = TestApp::spawn().await;
    let store = &app.db.store;
    let id = InstrumentId::parse("furnace-1").unwrap();
    store
        .register_instrument(
            NewInstrument {
                id: id.clone(),
                name: "Tube furnace".into(),
                class: InstrumentClass::Furnace,
                transport: json!({"kind": "serial"}),
                limits: InstrumentLimits::default(),
            },
            "admin",
        )
        .await
        .unwrap();
    let t0: DateTime<Utc> = "2026-11-25T12:00:00Z".parse().unwrap();
    let readings: Vec<_> = (0..100u64)
        .map(|seq| {
            TelemetryRecord::reading(
                id.clone(),
                t0 + TimeDelta::seconds(i64::try_from(seq).unwrap()),
                seq,
                json!({"pv_c": 20.0 + seq as f64}),
                t0,
            )
        })
        .collect();
    store.insert_telemetry_batch(&readings).await.unwrap();
    let cmd = store
        .create_command(&id, None, "hold", json!({}), None, "engine")
        .await
        .unwrap();

    let status: Value = app
        .get("/api/v1/instruments/furnace-1/status", &app.viewer)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(status["instrument"]["state"], "offline");
    assert_eq!(status["latest_telemetry"]["seq"], 99);
    assert_eq!(status["latest_telemetry"]["values"]["pv_c"], 119.0);
    assert_eq!(status["open_commands"][0]["id"], json!(cmd.id));

    let r = app
        .get(
            "/api/v1/instruments/furnace-1/telemetry?from=2026-11-25T12:00:10Z&to=2026-11-25T12:00:20Z&limit=5",
            &app.viewer,
        )
        .await;
    assert_eq!(r.status(), 200);
    let page: Value = r.json().await.unwrap();
    let seqs: Vec<u64> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, [10, 11, 12, 13, 14], "oldest first, at most `limit`");
    assert_eq!(page["items"][0]["samples"], 1);

    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=10001", "limit"),
        ("from=2026-11-25T13:00:00Z&to=2026-11-25T12:00:00Z", "from"),
    ] {
        let r = app
            .get(
                &format!("/api/v1/instruments/furnace-1/telemetry?{query}"),
                &app.viewer,
            )
            .await;
        assert_eq!(r.status(), 422, "{query}");
        let problem: Value = r.json().await.unwrap();
        assert_eq!(problem["field"], field, "{query}");
    }
    let r = app
        .get(
            "/api/v1/instruments/furnace-1/telemetry?from=yesterday",
            &app.viewer,
        )
        .await;
    assert!(r.status().is_client_error());
    assert_eq!(
        app.get("/api/v1/instruments/absent/telemetry", &app.viewer)
            .await
            .status(),
        404
    );
    app.stop().await;
}

/// Reads SSE frames until one whose `event:` is `kind` arrives; returns its data as JSON.
async fn next_event_of_kind(
    stream: &mut (impl futures::Stream<Item = reqwest::Result<bytes::Bytes>> + Unpin),
    buf: &mut String,
    kind: &str,
) -> Value {
    loop {
        while let Some(end) = buf.find("\n\n") {
            let frame = buf[..end].to_owned();
            buf.drain(..end + 2);
            let mut event = None;
            let mut data = String::new();
            for line in frame.lines() {
                if let Some(v) = line.strip_prefix("event:") {
                    event = Some(v.trim().to_owned());
                } else if let Some(v) = line.strip_prefix("data:") {
                    data.push_str(v.trim_start());
                }
            }
            if event.as_deref() == Some(kind) {
                return serde_json::from_str(&data).unwrap();
            }
        }
        let chunk = tokio::time::timeout(std::time::Duration::from_secs(10), stream.next())
            .await
            .expect("an event within 10 s")
            .unwrap()
            .unwrap();
        buf.push_str(&String::from_utf8_lossy(&chunk));
    }
}

#[tokio::test]
async fn sse_subscriber_sees_a_campaign_state_change_and_can_resume() {
    let app = TestApp::spawn().await;
    let c = app.create_campaign("sse").await;
    let other = app.create_campaign("other").await;
    let id = c["id"].as_str().unwrap().to_owned();
    let r = app
        .client
        .get(app.url(&format!("/api/v1/events?campaign_id={id}")))
        .bearer_auth(&app.viewer)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));
    let mut stream = r.bytes_stream();
    let mut buf = String::new();
    app.post(
        &format!("/api/v1/campaigns/{}/pause", other["id"].as_str().unwrap()),
        &app.operator,
        &json!({}),
    )
    .await;
    app.post(
        &format!("/api/v1/campaigns/{id}/pause"),
        &app.operator,
        &json!({}),
    )
    .await;
    let ev = next_event_of_kind(&mut stream, &mut buf, "campaign.paused").await;
    assert_eq!(
        ev["campaign_id"],
        id.as_str(),
        "only the filtered campaign's events arrive"
    );
    assert_eq!(ev["payload"]["to"], "paused");
    // A subscriber that reconnects with Last-Event-ID 0 gets the stored history first.
    let r = app
        .client
        .get(app.url(&format!("/api/v1/events?campaign_id={id}")))
        .bearer_auth(&app.viewer)
        .header("Last-Event-ID", "0")
        .send()
        .await
        .unwrap();
    let mut stream = r.bytes_stream();
    let mut buf = String::new();
    let created = next_event_of_kind(&mut stream, &mut buf, "campaign.created").await;
    assert_eq!(created["campaign_id"], id.as_str());
    app.stop().await;
}

#[tokio::test]
async fn a_restart_on_the_same_sqlite_file_loses_nothing() {
    let app = TestApp::spawn().await;
    let c = app.create_campaign("durable").await;
    let id = c["id"].as_str().unwrap().to_owned();
    app.post(
        &format!("/api/v1/campaigns/{id}/pause"),
        &app.operator,
        &json!({}),
    )
    .await;
    let db = app.stop().await.reopen().await.unwrap();
    let again = TestApp::spawn_on(db, AuthMode::Required).await;
    let back: Value = again
        .get(&format!("/api/v1/campaigns/{id}"), &again.viewer)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(back["state"], "paused");
    assert_eq!(back["name"], "durable");
    again.stop().await;
}

#[tokio::test]
async fn openapi_document_lists_every_route_with_error_answers() {
    let app = TestApp::spawn().await;
    let doc: Value = app
        .client
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    for p in [
        "/api/v1/campaigns",
        "/api/v1/campaigns/{id}/pause",
        "/api/v1/events",
        "/api/v1/instruments",
        "/api/v1/tokens",
        "/healthz",
        "/metrics",
    ] {
        assert!(paths.contains_key(p), "missing {p}");
    }
    for (path, ops) in paths {
        for (method, op) in ops.as_object().unwrap() {
            let responses = op["responses"].as_object().unwrap();
            if path.starts_with("/api/v1/") && path != "/api/v1/openapi.json" {
                assert!(
                    responses.contains_key("401") && responses.contains_key("500"),
                    "{method} {path} lacks error answers"
                );
            }
        }
    }
    app.stop().await;
}
