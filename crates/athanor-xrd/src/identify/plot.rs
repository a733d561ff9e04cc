//! An SVG picture of an analysis, written by hand: observed points, calculated pattern,
//! background, each phase's contribution (on top of the background), the difference curve and a
//! row of reflection ticks per phase.

use std::fmt::Write;

use super::report::Analysis;

const W: f64 = 1200.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 40.0;
const MAIN_H: f64 = 420.0;
const TICK_ROW: f64 = 14.0;
const DIFF_H: f64 = 120.0;
const COLOURS: [&str; 6] = [
    "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2",
];

/// The analysis as an SVG document.
pub fn to_svg(analysis: &Analysis, title: &str) -> String {
    let c = &analysis.curves;
    let n_phase = c.phases.len();
    let ticks_top = TOP + MAIN_H + 10.0;
    let diff_top = ticks_top + TICK_ROW * n_phase as f64 + 20.0;
    let height = diff_top + DIFF_H + 50.0;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{height}" viewBox="0 0 {W} {height}" font-family="sans-serif" font-size="12">"#
    );
    s.push_str(r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = write!(
        s,
        r#"<text x="{LEFT}" y="22" font-size="15">{} — Rwp {:.2} %, GOF {:.2}</text>"#,
        escape(title),
        100.0 * analysis.rwp,
        analysis.gof
    );
    let (Some(&x0), Some(&x1)) = (c.two_theta.first(), c.two_theta.last()) else {
        s.push_str("</svg>");
        return s;
    };
    let span = (x1 - x0).max(1e-9);
    let px = |x: f64| LEFT + (x - x0) / span * (W - LEFT - RIGHT);
    let ymax = c
        .observed
        .iter()
        .chain(&c.calculated)
        .copied()
        .fold(f64::NEG_INFINITY, f64::max);
    let ymin = c
        .background
        .iter()
        .chain(&c.observed)
        .copied()
        .fold(f64::INFINITY, f64::min)
        .min(0.0f64.max(ymax * 0.0));
    let yspan = (ymax - ymin).max(1e-9);
    let py = |y: f64| TOP + MAIN_H - (y - ymin) / yspan * MAIN_H;
    // Axes and 2θ labels.
    let _ = write!(
        s,
        r##"<rect x="{LEFT}" y="{TOP}" width="{}" height="{MAIN_H}" fill="none" stroke="#444"/>"##,
        W - LEFT - RIGHT
    );
    let step = nice_step(span / 10.0);
    let mut t = (x0 / step).ceil() * step;
    while t <= x1 + 1e-9 {
        let x = px(t);
        let _ = write!(
            s,
            r##"<line x1="{x:.1}" y1="{}" x2="{x:.1}" y2="{}" stroke="#444"/><text x="{x:.1}" y="{}" text-anchor="middle">{t:.0}</text>"##,
            diff_top + DIFF_H,
            diff_top + DIFF_H + 5.0,
            diff_top + DIFF_H + 18.0
        );
        t += step;
    }
    let _ = write!(
        s,
        r#"<text x="{}" y="{}" text-anchor="middle">2θ (degrees)</text>"#,
        (LEFT + W - RIGHT) / 2.0,
        diff_top + DIFF_H + 36.0
    );
    // Observed as a light line of points, then the model curves.
    polyline(
        &mut s,
        &c.two_theta,
        &c.observed,
        &px,
        &py,
        "#999",
        1.6,
        None,
    );
    polyline(
        &mut s,
        &c.two_theta,
        &c.background,
        &px,
        &py,
        "#777",
        1.0,
        Some("4 3"),
    );
    for (i, (_, part)) in c.phases.iter().enumerate() {
        let shifted: Vec<f64> = part.iter().zip(&c.background).map(|(p, b)| p + b).collect();
        polyline(
            &mut s,
            &c.two_theta,
            &shifted,
            &px,
            &py,
            COLOURS[i % 6],
            1.0,
            None,
        );
    }
    polyline(
        &mut s,
        &c.two_theta,
        &c.calculated,
        &px,
        &py,
        "#d62728",
        1.0,
        None,
    );
    // Legend.
    let mut ly = TOP + 16.0;
    let legend_x = W - RIGHT - 260.0;
    let mut entry = |label: &str, colour: &str, s: &mut String| {
        let _ = write!(
            s,
            r#"<line x1="{legend_x}" y1="{ly}" x2="{}" y2="{ly}" stroke="{colour}" stroke-width="2"/><text x="{}" y="{}">{}</text>"#,
            legend_x + 22.0,
            legend_x + 28.0,
            ly + 4.0,
            escape(label)
        );
        ly += 16.0;
    };
    entry("observed", "#999", &mut s);
    entry("calculated", "#d62728", &mut s);
    entry("background", "#777", &mut s);
    for (i, (label, _)) in c.phases.iter().enumerate() {
        let wf = analysis.phases.get(i).map_or(String::new(), |p| {
            format!(" ({:.1} wt%)", 100.0 * p.weight_fraction)
        });
        entry(&format!("{label}{wf}"), COLOURS[i % 6], &mut s);
    }
    entry("difference", "#1f3f8f", &mut s);
    // Reflection ticks.
    for (i, row) in c.ticks.iter().enumerate() {
        let y = ticks_top + TICK_ROW * i as f64;
        for &t in row {
            let x = px(t);
            let _ = write!(
                s,
                r#"<line x1="{x:.1}" y1="{y:.1}" x2="{x:.1}" y2="{:.1}" stroke="{}"/>"#,
                y + TICK_ROW - 3.0,
                COLOURS[i % 6]
            );
        }
    }
    // Difference curve in its own panel, on the main panel's intensity scale.
    let diff: Vec<f64> = c
        .observed
        .iter()
        .zip(&c.calculated)
        .map(|(o, k)| o - k)
        .collect();
    let dmid = diff_top + DIFF_H / 2.0;
    let pd = |d: f64| (dmid - d / yspan * MAIN_H).clamp(diff_top, diff_top + DIFF_H);
    let _ = write!(
        s,
        r##"<line x1="{LEFT}" y1="{dmid}" x2="{}" y2="{dmid}" stroke="#ccc"/>"##,
        W - RIGHT
    );
    polyline(&mut s, &c.two_theta, &diff, &px, &pd, "#1f3f8f", 1.0, None);
    s.push_str("</svg>\n");
    s
}

/// A polyline reduced to at most two points (min and max) per horizontal pixel.
#[allow(clippy::too_many_arguments)]
fn polyline(
    s: &mut String,
    x: &[f64],
    y: &[f64],
    px: &dyn Fn(f64) -> f64,
    py: &dyn Fn(f64) -> f64,
    colour: &str,
    width: f64,
    dash: Option<&str>,
) {
    if x.is_empty() {
        return;
    }
    let _ = write!(
        s,
        r#"<polyline fill="none" stroke="{colour}" stroke-width="{width}"{} points=""#,
        dash.map_or(String::new(), |d| format!(r#" stroke-dasharray="{d}""#))
    );
    let mut i = 0;
    while i < x.len() {
        let col = px(x[i]).floor();
        let mut j = i;
        let (mut lo, mut hi) = (y[i], y[i]);
        while j < x.len() && px(x[j]).floor() == col {
            lo = lo.min(y[j]);
            hi = hi.max(y[j]);
            j += 1;
        }
        let xm = px(x[i]);
        let _ = write!(s, "{xm:.1},{:.1} {xm:.1},{:.1} ", py(lo), py(hi));
        i = j.max(i + 1);
    }
    s.push_str(r#""/>"#);
}

fn nice_step(raw: f64) -> f64 {
    let p = 10f64.powf(raw.max(1e-9).log10().floor());
    let m = raw / p;
    let f = if m <= 1.0 {
        1.0
    } else if m <= 2.0 {
        2.0
    } else if m <= 5.0 {
        5.0
    } else {
        10.0
    };
    f * p
}

fn escape(t: &str) -> String {
    t.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
