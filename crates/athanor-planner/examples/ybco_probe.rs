//! Development probe: the YBCO replay for a few planners.
use athanor_planner::bench::ybco::replay;
use athanor_planner::data::load_synthesis;
fn main() {
    let seeds: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let d = load_synthesis(std::path::Path::new(
        "/work/shared/data/planning/arrows-ybco",
    ))
    .unwrap();
    if std::env::var("TRACE").is_ok() {
        let succ = athanor_planner::bench::ybco::successes(&d);
        for (n, i) in athanor_planner::bench::ybco::research_order(&d, 0)
            .iter()
            .enumerate()
        {
            let r = &d.runs[*i];
            println!(
                "{:>3} {} {} {:?} {:?}",
                n + 1,
                if succ[*i] { "S" } else { "." },
                r.temperature_c,
                r.precursors,
                r.products
            );
        }
    }
    for p in std::env::args().skip(2) {
        let s = replay(&d, &p, seeds).unwrap();
        println!(
            "{p:<18} first {:.1} [{:.1},{:.1}]  all {:.1} [{:.1},{:.1}]",
            s.first_success.median,
            s.first_success.p25,
            s.first_success.p75,
            s.all_success.median,
            s.all_success.p25,
            s.all_success.p75
        );
    }
}
#[allow(dead_code)]
fn unused() {}
