//! Pipeline configuration: the YAML files under `pipelines/`.
//!
//! A pipeline file says what to read, how to cut the ocean, which model to fit and what to
//! write. It is parsed strictly: every struct denies unknown fields, so a mistyped key
//! (`epoch:` for `epochs:`) is an error naming the key and its line, never a silently
//! ignored setting. Values are then validated (positive sizes, known formats) with errors
//! naming the dotted key (`model.hidden`).
//!
//! Relative paths (`input.files`, `outputs.dir`) are relative to the directory sstcast runs
//! in, which is the repository root for `make` targets and cron examples.

use std::path::{Path, PathBuf};

use crate::dataset::Trend;
use crate::model::CellKind;
use crate::region::BoxSpec;
use crate::time::Frequency;
use crate::train::DecoderTraining;

/// Errors in a pipeline file.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file cannot be read.
    #[error("cannot read pipeline config {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// YAML syntax or schema error (unknown key, wrong type), with line and column.
    #[error("pipeline config {path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// serde_yaml_ng's message, which names the key and its location.
        message: String,
    },
    /// A value out of range.
    #[error("pipeline config {path}: `{key}` {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Dotted key.
        key: String,
        /// What is wrong.
        message: String,
    },
}

impl ConfigError {
    /// A pipeline file that cannot be read is a missing input (66); anything else is a
    /// configuration error (78).
    pub fn class(&self) -> crate::error_class::ErrorClass {
        use crate::error_class::ErrorClass;
        match self {
            Self::Read { .. } => ErrorClass::NoInput,
            Self::Parse { .. } | Self::Invalid { .. } => ErrorClass::Config,
        }
    }
}

/// One input file pattern or a list of them.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(untagged)]
pub enum Files {
    /// A path or glob.
    One(String),
    /// Several paths or globs.
    Many(Vec<String>),
}

impl Files {
    /// The patterns.
    pub fn patterns(&self) -> Vec<String> {
        match self {
            Self::One(s) => vec![s.clone()],
            Self::Many(v) => v.clone(),
        }
    }
}

/// `input:` section.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputConfig {
    /// Path, glob, or list of them.
    pub files: Files,
    /// SST variable; discovered by standard_name when absent.
    #[serde(default)]
    pub variable: Option<String>,
    /// First year of the record to use: earlier steps are ignored, as if the files began
    /// in January of this year (a recent base period for the climatology and the trend when
    /// the files hold a long record). Absent: everything before the forecast year.
    #[serde(default)]
    pub first_year: Option<i64>,
}

/// `regions:` section.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegionsConfig {
    /// `[rows, cols]` cells per tile covering the whole ocean; absent = no tiling.
    #[serde(default)]
    pub tiles: Option<[usize; 2]>,
    /// Named boxes.
    #[serde(default)]
    pub boxes: Vec<BoxSpec>,
}

/// `model:` section.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    /// `gru` or `lstm`.
    pub cell: CellKind,
    /// Stacked layers.
    pub layers: usize,
    /// Hidden units.
    pub hidden: usize,
    /// Input steps (months or years).
    pub window: usize,
    /// Forecast steps.
    pub horizon: usize,
    /// Adam learning rate.
    pub learning_rate: f64,
    /// L2 penalty.
    #[serde(default)]
    pub l2: f64,
    /// Training epochs.
    pub epochs: usize,
    /// Windows per batch.
    pub batch: usize,
    /// Random seed.
    pub seed: u64,
    /// Trailing training steps held out for early stopping (12 = the last training year for
    /// monthly data; 0 = train for exactly `epochs`).
    #[serde(default)]
    pub validation: usize,
    /// Epochs without validation improvement before stopping.
    #[serde(default = "default_patience")]
    pub patience: usize,
    /// Relative validation improvement over the untrained model (damped persistence) that
    /// training must reach for its weights to be kept (0.05 = 5%; 0 = any improvement).
    #[serde(default)]
    pub min_improvement: f64,
    /// Models per region with seeds `seed, seed+1, ...`; the forecast is their mean.
    #[serde(default = "default_ensemble")]
    pub ensemble: usize,
    /// `global`: the climatology the models work about follows the global-mean trend of the
    /// training period; `none` (default): a fixed climatology ([`crate::dataset`]).
    #[serde(default)]
    pub trend: Trend,
    /// The damped persistence the network corrects: `damped` (default: one coefficient per
    /// lead and cell) or `seasonal` (one per calendar month of the last input step as well,
    /// shrunk toward the all-month one by `seasonal_prior` pairs; [`crate::train::Baseline`]).
    #[serde(default)]
    pub baseline: BaselineChoice,
    /// Pairs of prior weight that pull each month's coefficient toward the all-month one
    /// (`baseline: seasonal` only).
    #[serde(default = "default_seasonal_prior")]
    pub seasonal_prior: f64,
    /// Leading principal components of the whole domain's anomalies (fitted on the training
    /// period) that every region's model reads and forecasts beside its own cells
    /// ([`crate::dataset::drivers`]); 0 (default) = none.
    #[serde(default)]
    pub drivers: usize,
    /// What the decoder is fed in training: `teacher` (default: the true previous value) or
    /// `free_running` (the model's own previous forecast, as at inference).
    #[serde(default)]
    pub decoder_training: DecoderTraining,
}

/// `model.baseline`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BaselineChoice {
    /// One damped-persistence coefficient per lead and cell.
    #[default]
    Damped,
    /// Per calendar month too, shrunk toward the all-month coefficient.
    Seasonal,
}

fn default_seasonal_prior() -> f64 {
    12.0
}

fn default_patience() -> usize {
    10
}

fn default_ensemble() -> usize {
    1
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// CF NetCDF.
    Netcdf,
    /// GeoTIFF.
    Geotiff,
    /// Heatmap PNG.
    Png,
}

/// `outputs:` section.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputsConfig {
    /// Root directory; files go to `<dir>/<pipeline>/<year>/`.
    pub dir: PathBuf,
    /// Which files to write.
    pub formats: Vec<Format>,
    /// Natural Earth coastlines over every map (default true; see `figures::coast` for
    /// where the file is read from; missing: a warning, maps without coastlines).
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub coastlines: bool,
    /// `[low, high]` colour range (degC) of the forecast and observed maps; default: -2..30
    /// on global temperature maps, else fitted to the field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub color_range: Option<[f32; 2]>,
}

fn yes() -> bool {
    true
}

fn is_true(b: &bool) -> bool {
    *b
}

/// A whole pipeline file.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PipelineConfig {
    /// Pipeline name (output subdirectory); defaults to the file stem.
    #[serde(default)]
    pub name: Option<String>,
    /// Product name for titles, e.g. "NOAA ERSST v5".
    #[serde(default)]
    pub product: Option<String>,
    /// What to read.
    pub input: InputConfig,
    /// `monthly` or `annual` (annual means of complete years).
    pub temporal: Frequency,
    /// How to cut the ocean.
    pub regions: RegionsConfig,
    /// The forecaster.
    pub model: ModelConfig,
    /// What to write.
    pub outputs: OutputsConfig,
}

impl PipelineConfig {
    /// Reads a pipeline file once: its text (written into the outputs as provenance) and
    /// what it says, parsed but not yet validated (command-line overrides come first).
    pub fn read(path: &Path) -> Result<(String, Self), ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let cfg = Self::parse(&text, path)?;
        Ok((text, cfg))
    }

    /// Reads and validates a pipeline file (no overrides).
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let (_, cfg) = Self::read(path)?;
        cfg.validate(path)?;
        Ok(cfg)
    }

    /// Parses YAML text from `path` (which names the source in errors and gives the default
    /// pipeline name, its file stem).
    pub fn parse(text: &str, path: &Path) -> Result<Self, ConfigError> {
        let mut cfg: Self = serde_yaml_ng::from_str(text).map_err(|e| ConfigError::Parse {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        if cfg.name.is_none() {
            cfg.name = path.file_stem().map(|s| s.to_string_lossy().into_owned());
        }
        Ok(cfg)
    }

    /// Checks value ranges; errors name the dotted key.
    pub fn validate(&self, path: &Path) -> Result<(), ConfigError> {
        let bad = |key: &str, message: &str| {
            Err(ConfigError::Invalid {
                path: path.to_path_buf(),
                key: key.to_string(),
                message: message.to_string(),
            })
        };
        let m = &self.model;
        for (key, v) in [
            ("model.layers", m.layers),
            ("model.hidden", m.hidden),
            ("model.window", m.window),
            ("model.horizon", m.horizon),
            ("model.epochs", m.epochs),
            ("model.batch", m.batch),
            ("model.patience", m.patience),
            ("model.ensemble", m.ensemble),
        ] {
            if v == 0 {
                return bad(key, "must be at least 1");
            }
        }
        if !(m.learning_rate.is_finite() && m.learning_rate > 0.0) {
            return bad("model.learning_rate", "must be a positive number");
        }
        if !(m.seasonal_prior.is_finite() && m.seasonal_prior >= 0.0) {
            return bad("model.seasonal_prior", "must be a number >= 0");
        }
        if !(m.min_improvement.is_finite() && (0.0..1.0).contains(&m.min_improvement)) {
            return bad("model.min_improvement", "must be in 0..1");
        }
        if !(m.l2.is_finite() && m.l2 >= 0.0) {
            return bad("model.l2", "must be zero or a positive number");
        }
        if let Some([r, c]) = self.regions.tiles {
            if r == 0 || c == 0 {
                return bad("regions.tiles", "must be [rows, cols] with both at least 1");
            }
        }
        if self.regions.tiles.is_none() && self.regions.boxes.is_empty() {
            return bad("regions", "needs `tiles` and/or `boxes`");
        }
        for (k, b) in self.regions.boxes.iter().enumerate() {
            let key = format!("regions.boxes[{k}]");
            if b.name.is_empty()
                || !b
                    .name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                return bad(
                    &format!("{key}.name"),
                    "must be non-empty letters, digits, '-' or '_' (it is used in file names)",
                );
            }
            if b.lat.iter().any(|v| !(-90.0..=90.0).contains(v)) {
                return bad(&format!("{key}.lat"), "must be within -90..90");
            }
            if b.lon.iter().any(|v| !(-180.0..=360.0).contains(v)) {
                return bad(&format!("{key}.lon"), "must be within -180..360");
            }
        }
        if let Some(v) = &self.input.variable {
            if v.is_empty() || v.contains('\0') || v.len() > 256 {
                return bad(
                    "input.variable",
                    "must be a NetCDF variable name (1..256 characters, no NUL)",
                );
            }
        }
        if self.input.files.patterns().is_empty() {
            return bad("input.files", "lists no file");
        }
        if self.outputs.formats.is_empty() {
            return bad("outputs.formats", "lists no format");
        }
        if let Some([lo, hi]) = self.outputs.color_range {
            if !(lo.is_finite() && hi.is_finite() && lo < hi) {
                return bad(
                    "outputs.color_range",
                    "must be [low, high], finite, low < high",
                );
            }
        }
        if let Some(name) = &self.name {
            if name.is_empty() || name.contains('/') {
                return bad("name", "must be a non-empty name without '/'");
            }
        }
        Ok(())
    }

    /// Pipeline name (validated to be set after [`Self::load`]).
    pub fn name(&self) -> &str {
        self.name.as_deref().unwrap_or("pipeline")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) const EXAMPLE: &str = r#"
input:
  files: grids/ersst-v5/monthly/sst.mon.*.nc
temporal: monthly
regions:
  tiles: [5, 5]
  boxes:
    - name: iceland-south
      lat: [56, 64]
      lon: [340, 348]
model:
  cell: gru
  layers: 2
  hidden: 16
  window: 24
  horizon: 12
  learning_rate: 0.01
  l2: 1.0e-5
  epochs: 10
  batch: 16
  seed: 1
outputs:
  dir: outputs
  formats: [netcdf, geotiff, png]
"#;

    #[test]
    fn example_parses() {
        let c = PipelineConfig::parse(EXAMPLE, Path::new("x.yaml")).unwrap();
        c.validate(Path::new("x.yaml")).unwrap();
        assert_eq!(c.model.cell, CellKind::Gru);
        assert_eq!(c.regions.tiles, Some([5, 5]));
        assert_eq!(c.regions.boxes[0].lon, [340.0, 348.0]);
    }

    #[test]
    fn unknown_key_is_named_with_its_line() {
        let text = EXAMPLE.replace("  epochs: 10", "  epoch: 10");
        let e = PipelineConfig::parse(&text, Path::new("x.yaml")).unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("unknown field `epoch`"), "{msg}");
        assert!(msg.contains("line 19"), "{msg}");
    }

    #[test]
    fn wrong_type_and_bad_values() {
        let text = EXAMPLE.replace("hidden: 16", "hidden: many");
        let e = PipelineConfig::parse(&text, Path::new("x.yaml")).unwrap_err();
        assert!(e.to_string().contains("hidden"), "{e}");
        let text = EXAMPLE.replace("cell: gru", "cell: transformer");
        assert!(PipelineConfig::parse(&text, Path::new("x.yaml")).is_err());
        let text = EXAMPLE.replace("batch: 16", "batch: 0");
        let c = PipelineConfig::parse(&text, Path::new("x.yaml")).unwrap();
        let e = c.validate(Path::new("x.yaml")).unwrap_err();
        assert!(e.to_string().contains("model.batch"), "{e}");
        let text = EXAMPLE.replace("learning_rate: 0.01", "learning_rate: -1");
        let c = PipelineConfig::parse(&text, Path::new("x.yaml")).unwrap();
        assert!(c.validate(Path::new("x.yaml")).is_err());
    }

    #[test]
    fn map_options_of_the_outputs_section() {
        let path = Path::new("x.yaml");
        let c = PipelineConfig::parse(EXAMPLE, path).unwrap();
        assert!(c.outputs.coastlines);
        assert_eq!(c.outputs.color_range, None);
        let with = |extra: &str| EXAMPLE.replace("  formats:", &format!("  {extra}\n  formats:"));
        let c = PipelineConfig::parse(&with("coastlines: false"), path).unwrap();
        assert!(!c.outputs.coastlines);
        let c = PipelineConfig::parse(&with("color_range: [3, 10]"), path).unwrap();
        c.validate(path).unwrap();
        assert_eq!(c.outputs.color_range, Some([3.0, 10.0]));
        let c = PipelineConfig::parse(&with("color_range: [10, 3]"), path).unwrap();
        let e = c.validate(path).unwrap_err().to_string();
        assert!(e.contains("outputs.color_range"), "{e}");
        let e = PipelineConfig::parse(&with("coastline: false"), path).unwrap_err();
        let e = e.to_string();
        assert!(
            e.contains("outputs") && e.contains("unknown field `coastline`"),
            "{e}"
        );
    }

    #[test]
    fn first_year_is_optional() {
        let c = PipelineConfig::parse(EXAMPLE, Path::new("x.yaml")).unwrap();
        assert_eq!(c.input.first_year, None);
        let text = EXAMPLE.replace("temporal:", "  first_year: 1991\ntemporal:");
        let c = PipelineConfig::parse(&text, Path::new("x.yaml")).unwrap();
        assert_eq!(c.input.first_year, Some(1991));
    }

    #[test]
    fn trend_is_none_unless_asked_for_and_only_known_values_parse() {
        let c = PipelineConfig::parse(EXAMPLE, Path::new("x.yaml")).unwrap();
        assert_eq!(c.model.trend, Trend::None);
        let text = EXAMPLE.replace("  seed: 1\n", "  seed: 1\n  trend: global\n");
        let c = PipelineConfig::parse(&text, Path::new("x.yaml")).unwrap();
        assert_eq!(c.model.trend, Trend::Global);
        let text = EXAMPLE.replace("  seed: 1\n", "  seed: 1\n  trend: linear\n");
        let e = PipelineConfig::parse(&text, Path::new("x.yaml")).unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("trend") && msg.contains("linear"), "{msg}");
    }
}
