//! `sstcast-bench`: the Rust half of `make bench` (issue 4). Prints one JSON object on stdout.
//!
//! Why a binary of the main crate rather than a `benches/` target: `make bench` then reuses
//! the one release build of `make forecast` (same profile, same allocator, same backend), so
//! the numbers are those of the shipped code and no second optimised build is needed.
//! `bench/bench.py` runs it, runs the PyTorch and matplotlib references and the end-to-end
//! pipeline, and writes `bench/results.{md,json}`.
//!
//! - `steps`: ms per training step ([`sstcast::bench::TrainStep`]: forward with teacher
//!   forcing, MSE, backward, Adam), single-threaded, for the reference model of the issue
//!   (GRU 2x12, 25 channels, 60 in / 60 out, batch 8) and for the model the pipeline fits per
//!   region, sizes read from the pipeline file (a full tile's channels).
//! - `render`: ms per figure (`render_heatmap`: draw, PNG encode; then a plain write, as matplotlib's
//!   `savefig` does: no fsync) of the global
//!   forecast figure, on the mean of the input's last 12 months (a synthetic field when the
//!   input cannot be read), with the coastlines the pipeline draws (when `make coastlines`
//!   fetched them); the field and those coastlines are written as JSON for the matplotlib
//!   reference, which draws the same figure.

use std::path::PathBuf;
use std::time::Instant;

use clap::{Parser, Subcommand};
use serde_json::json;
use sstcast::bench::{StepShape, Summary, TrainStep};
use sstcast::model::{CellKind, ModelShape};
use sstcast::pipeline::config::PipelineConfig;
use sstcast::render::heatmap::{split_coastlines, COAST, COAST_WIDTH};
use sstcast::render::{render_heatmap, HeatmapStyle};
use sstcast::train::Engine;

// Same allocator as the `sstcast` binary: the step times depend on it (burn-notes.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(about = "sstcast micro-benchmarks (JSON on stdout); see bench/bench.py")]
struct Args {
    #[command(subcommand)]
    what: What,
}

#[derive(Subcommand)]
enum What {
    /// Training-step times of the reference model and of the pipeline's model.
    Steps {
        /// Pipeline whose `model:` section gives the default model.
        #[arg(long, default_value = "pipelines/ersst-monthly.yaml")]
        config: PathBuf,
        /// Timed steps per model.
        #[arg(long, default_value_t = 200)]
        steps: usize,
        /// Untimed steps first.
        #[arg(long, default_value_t = 20)]
        warmup: usize,
        /// Time only this build's engine (skip the burn-autodiff comparison).
        #[arg(long)]
        only_engine: bool,
    },
    /// Heatmap rendering time.
    Render {
        /// Pipeline whose input gives the field.
        #[arg(long, default_value = "pipelines/ersst-monthly.yaml")]
        config: PathBuf,
        /// Timed renders.
        #[arg(long, default_value_t = 20)]
        renders: usize,
        /// Directory for the PNG and the field (`field.json`) for the matplotlib reference.
        #[arg(long, default_value = "bench/out")]
        out: PathBuf,
        /// Draw (and write) no coastlines, to time the figure without them.
        #[arg(long)]
        no_coastlines: bool,
    },
}

fn main() -> anyhow::Result<()> {
    match Args::parse().what {
        What::Steps {
            config,
            steps,
            warmup,
            only_engine,
        } => {
            let cfg = PipelineConfig::load(&config)?;
            let m = &cfg.model;
            let reference = StepShape {
                model: ModelShape {
                    cell: CellKind::Gru,
                    layers: 2,
                    hidden: 12,
                    channels: 25,
                },
                window: 60,
                horizon: 60,
                batch: 8,
                learning_rate: m.learning_rate,
                l2: m.l2,
            };
            // A full tile: every cell of a `tiles: [r, c]` block is ocean. Without tiles, the
            // original project's 5x5 block.
            let channels = cfg.regions.tiles.map_or(25, |[r, c]| r * c);
            let default = StepShape {
                model: ModelShape {
                    cell: m.cell,
                    layers: m.layers,
                    hidden: m.hidden,
                    channels,
                },
                window: m.window,
                horizon: m.horizon,
                batch: m.batch,
                learning_rate: m.learning_rate,
                l2: m.l2,
            };
            // The pipeline's engine (fused on the CPU build) is what the results table
            // compares; the burn-autodiff engine is timed too, as the generic path's cost.
            let engine = Engine::default_for_build();
            let mut out = json!({
                "engine": format!("{engine:?}").to_lowercase(),
                "reference": time_steps(reference, steps, warmup, engine),
                "default": time_steps(default, steps, warmup, engine),
            });
            if !only_engine {
                // The other cell at the default sizes, for the choice of cell.
                let other = StepShape {
                    model: ModelShape {
                        cell: match m.cell {
                            CellKind::Gru => CellKind::Lstm,
                            CellKind::Lstm => CellKind::Gru,
                        },
                        ..default.model
                    },
                    ..default
                };
                out["default_other_cell"] = time_steps(other, steps / 2, warmup, engine);
            }
            if !only_engine && engine != Engine::Burn {
                out["reference_burn"] = time_steps(reference, steps / 2, warmup, Engine::Burn);
                out["default_burn"] = time_steps(default, steps / 2, warmup, Engine::Burn);
            }
            println!("{}", serde_json::to_string_pretty(&out)?);
        }
        What::Render {
            config,
            renders,
            out,
            no_coastlines,
        } => {
            let cfg = PipelineConfig::load(&config)?;
            std::fs::create_dir_all(&out)?;
            let (lat, lon, values, source) = field(&cfg);
            let style = HeatmapStyle {
                title: format!(
                    "{} sea surface temperature forecast, 2018 (sstcast)",
                    cfg.product.as_deref().unwrap_or("SST")
                ),
                // As the pipeline draws it: with coastlines when `make coastlines` fetched them
                // (written to the field for the matplotlib reference, which draws them too).
                coastlines: match no_coastlines {
                    true => None,
                    false => sstcast::figures::coast::for_grid(&lon),
                },
                ..HeatmapStyle::default()
            };
            let png = out.join("heatmap_sstcast.png");
            let render = || -> anyhow::Result<()> {
                // Written as matplotlib's `savefig` writes: no fsync (the pipeline's atomic,
                // synced write costs the disk's latency, which is not drawing).
                let bytes = render_heatmap(&lat, &lon, &values, &style)?;
                std::fs::write(&png, &bytes)?;
                Ok(())
            };
            render()?; // warm-up
            let mut ms = Vec::with_capacity(renders);
            for _ in 0..renders.max(1) {
                let t0 = Instant::now();
                render()?;
                ms.push(t0.elapsed().as_secs_f64() * 1e3);
            }
            let field_path = out.join("field.json");
            let nan_null: Vec<Option<f32>> =
                values.iter().map(|v| v.is_finite().then_some(*v)).collect();
            std::fs::write(
                &field_path,
                serde_json::to_vec(&json!({
                    "lat": lat, "lon": lon, "values": nan_null, "source": source,
                    "title": style.title, "units_label": style.units_label,
                    "vmin": style.vmin, "vmax": style.vmax, "contours": style.contours,
                    "width": style.width, "height": style.height,
                    // The coastline polylines as drawn (degrees, split at the polygon cuts),
                    // their width at this size (pixels) and colour; `[]` without coastlines.
                    "coastlines": style.coastlines.as_deref().map(split_coastlines).unwrap_or_default(),
                    "coast_width_px": COAST_WIDTH, "coast_rgb": COAST,
                }))?,
            )?;
            let out = json!({
                "render_ms": Summary::of(&ms),
                "samples_ms": ms,
                "field": field_path,
                "field_source": source,
                "grid": [lat.len(), lon.len()],
                "coastlines": style.coastlines.is_some(),
                "png": png,
            });
            println!("{}", serde_json::to_string_pretty(&out)?);
        }
    }
    Ok(())
}

/// Times `steps` training steps after `warmup` untimed ones.
fn time_steps(s: StepShape, steps: usize, warmup: usize, engine: Engine) -> serde_json::Value {
    let mut t = TrainStep::new(s, 42, engine);
    let mut first = f32::NAN;
    for k in 0..warmup {
        let l = t.step();
        if k == 0 {
            first = l;
        }
    }
    let mut ms = Vec::with_capacity(steps);
    let mut last = f32::NAN;
    for _ in 0..steps.max(1) {
        let t0 = Instant::now();
        last = t.step();
        ms.push(t0.elapsed().as_secs_f64() * 1e3);
    }
    let m = s.model;
    json!({
        "shape": {
            "cell": match m.cell { CellKind::Gru => "gru", CellKind::Lstm => "lstm" },
            "layers": m.layers, "hidden": m.hidden, "channels": m.channels,
            "window": s.window, "horizon": s.horizon, "batch": s.batch,
            "learning_rate": s.learning_rate, "l2": s.l2,
        },
        "step_ms": Summary::of(&ms),
        "loss_first": first,
        "loss_last": last,
    })
}

/// The figure's field: the mean of the last 12 steps of the pipeline's input (every step
/// finite, else NaN), or a synthetic SST-like field on the 2-degree ERSST grid.
fn field(cfg: &PipelineConfig) -> (Vec<f64>, Vec<f64>, Vec<f32>, String) {
    let read = || -> Option<_> {
        let files = sstcast::io::inputs::expand(&cfg.input.files.patterns()).ok()?;
        let cube = sstcast::io::netcdf::read_cube(&files, cfg.input.variable.as_deref()).ok()?;
        let (n, nt) = (cube.grid.ncells(), cube.len());
        if nt == 0 {
            return None;
        }
        let k = nt.min(12);
        let mut mean = vec![0.0f32; n];
        for t in nt - k..nt {
            for (m, v) in mean.iter_mut().zip(cube.step(t)) {
                *m += v / k as f32;
            }
        }
        let src = format!(
            "mean of the last {k} months of {} ({} file(s))",
            cfg.input.files.patterns().join(", "),
            files.len()
        );
        Some((cube.grid.lat, cube.grid.lon, mean, src))
    };
    read().unwrap_or_else(|| {
        let lat: Vec<f64> = (0..89).map(|i| 88.0 - 2.0 * i as f64).collect();
        let lon: Vec<f64> = (0..180).map(|j| -180.0 + 2.0 * j as f64).collect();
        let mut v = Vec::with_capacity(lat.len() * lon.len());
        for &la in &lat {
            for &lo in &lon {
                let (p, l) = (la.to_radians(), lo.to_radians());
                let land = (2.0 * l).sin() * (3.0 * p).cos() > 0.55 || la < -78.0;
                let t = 30.0 * p.cos().powi(2) - 2.0 + (3.0 * l).sin() * p.cos();
                v.push(if land { f32::NAN } else { t as f32 });
            }
        }
        (lat, lon, v, "synthetic".to_string())
    })
}
