//! Development probe: one planner on one BO pool for a few seeds (not part of the benchmark).
use athanor_planner::acquisition::Acquisition;
use athanor_planner::bench::{bo::benchmark_pool, scalar_planner};
use athanor_planner::bo::{GpConfig, GpStrategy};
use athanor_planner::data::load_bo_benchmarks;
use athanor_planner::strategy::Strategy;
fn make(spec: &str) -> Box<dyn Strategy> {
    if let Some(s) = scalar_planner(spec) {
        return s;
    }
    // e.g. "ard,warp,ucb=0.2"
    let mut c = GpConfig::anisotropic_ei();
    for part in spec.split(',') {
        match part {
            "ard" => c.anisotropic = true,
            "iso" => c.anisotropic = false,
            "sel" => c.select_kernel = true,
            "warp" => c.rank_warp = true,
            p if p.starts_with("ucb=") => {
                c.acquisition = Acquisition::UpperConfidenceBound {
                    kappa: p[4..].parse().unwrap(),
                }
            }
            p if p.starts_with("ei=") => {
                c.acquisition = Acquisition::ExpectedImprovement {
                    xi: p[3..].parse().unwrap(),
                }
            }
            p if p.starts_with("top=") => {
                c.acquisition = Acquisition::TopShare {
                    share: p[4..].parse().unwrap(),
                }
            }
            p if p.starts_with("r=") => c.restarts = p[2..].parse().unwrap(),
            _ => panic!("{part}"),
        }
    }
    Box::new(GpStrategy::new(spec, c))
}
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let planner = args.get(1).cloned().unwrap_or("gp-ard-ei".into());
    let seeds: u64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(5);
    let only = args.get(3).cloned();
    let data = load_bo_benchmarks(std::path::Path::new(
        "/work/shared/data/planning/bo-benchmarks",
    ))
    .unwrap();
    for d in &data {
        if only.as_ref().is_some_and(|o| o != &d.name) {
            continue;
        }
        let t = std::time::Instant::now();
        let s = benchmark_pool(d, &planner, &|| make(&planner), seeds);
        println!(
            "{:<15} {:<12} N={} m={} AF80 {:.2} [{:.2},{:.2}] EF50 {:.2} n80 {:.0}  {:.1}s",
            d.name,
            planner,
            s.pool_size,
            s.top_size,
            s.af_80.median,
            s.af_80.p25,
            s.af_80.p75,
            s.ef_50.median,
            s.experiments_to_80.median,
            t.elapsed().as_secs_f64()
        );
    }
}
