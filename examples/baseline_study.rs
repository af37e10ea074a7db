//! Study (issue 3): what the untrained model (the baseline every region's network corrects)
//! scores with and without the global trend in its climatology, hindcast by hindcast.
//!
//! `cargo run --release --example baseline_study -- [YEAR ...]` (from the repository root,
//! after `make grids`; default years 2013..2017). For each YEAR it trains on the months
//! before YEAR-01 only and verifies the twelve months of YEAR with `sstcast::verify`, the
//! code behind `skill_<Y>.md`, reporting the RMSE averaged over leads 1..12 of climatology,
//! persistence, damped persistence, and damped persistence about a climatology that follows
//! the global-mean trend of the training years (`trend: global`, [`sstcast::dataset`]),
//! plus the number of leads at which that beats climatology and persistence.
//!
//! The untrained model is the same whatever the grouping into regions (each cell's
//! climatology and coefficients are its own, and one region-wide scale cancels), so one
//! region holding every ocean cell reproduces it. Measured (ERSST v5, README "Forecast
//! skill"): the trend lowered the 2014-2017 errors and raised 2013's slightly; it was chosen
//! on these years, before 2018 was run.
use sstcast::dataset::{damping, Normaliser};
use sstcast::forecast::{assemble, global_trend, ocean_mask, training_steps, RegionForecast};
use sstcast::time::Period;
use sstcast::verify::{evaluate, Method};

fn main() {
    let mut years: Vec<i64> = std::env::args()
        .skip(1)
        .map(|s| s.parse().expect("YEAR must be an integer"))
        .collect();
    if years.is_empty() {
        years = (2013..=2017).collect();
    }
    let files = sstcast::pipeline::expand_inputs(&["grids/ersst-v5/monthly".to_string()])
        .expect("input files under grids/ersst-v5/monthly (run `make grids`)");
    let cube0 = sstcast::io::netcdf::read_cube(&files, None).expect("readable input");
    let horizon = 12;
    println!("| year | clim | pers | damped | damped, trend | trend (degC/decade) | leads < clim | leads < pers |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    for year in years {
        let mut cube = cube0.clone();
        let origin = Period::year_start(year, cube.freq);
        sstcast::gaps::fill_short_gaps(&mut cube, origin);
        let steps = training_steps(&cube, origin).expect("the data cover the year");
        let mask = ocean_mask(&cube, steps);
        let cells: Vec<usize> = (0..mask.len()).filter(|&k| mask[k]).collect();
        let n = cells.len();
        let raw = cube.series(steps, &cells);
        let slope = global_trend(&cube, steps);
        // The untrained model: damped persistence of the last anomaly about the climatology.
        let norm = Normaliser::fit_with_trend(&raw, n, cube.start, cube.freq, slope);
        let series = norm.encode_series(&raw, cube.start);
        let coef = damping(&series, n, horizon);
        let last = &series[(steps - 1) * n..];
        let values = (0..horizon * n)
            .map(|k| {
                let (lead, c) = (k / n, k % n);
                let a = coef[lead * n + c] * last[c];
                norm.decode(a, Period(origin.0 + lead as i64), c)
            })
            .collect();
        let region = RegionForecast {
            id: "ocean".into(),
            cells,
            values,
            losses: Vec::new(),
            val_losses: Vec::new(),
            best_epochs: Vec::new(),
            models: Vec::new(),
        };
        let fc = assemble(&cube, origin, horizon, vec![region]);
        let Some(report) = evaluate(&cube, steps, &fc, year) else {
            println!("| {year} | no observations |");
            continue;
        };
        let avg = |m: Method| {
            report
                .mean_over_leads(m, |s| Some(s.rmse))
                .unwrap_or(f64::NAN)
        };
        let rmse = |m: Method, k: usize| {
            report
                .get("global", &k.to_string(), m)
                .map_or(f64::NAN, |s| s.rmse)
        };
        let beats = |r: Method| {
            (1..=report.leads)
                .filter(|&k| rmse(Method::Model, k) < rmse(r, k))
                .count()
        };
        println!(
            "| {year} | {:.4} | {:.4} | {:.4} | {:.4} | {:+.3} | {}/{} | {}/{} |",
            avg(Method::Climatology),
            avg(Method::Persistence),
            avg(Method::DampedPersistence),
            avg(Method::Model),
            slope * 120.0,
            beats(Method::Climatology),
            report.leads,
            beats(Method::Persistence),
            report.leads,
        );
    }
}
