//! Every file a run writes, named once, staged together and put in place together.
//!
//! [`OutputFile`] is the catalogue: each output's name is spelled in one place
//! ([`OutputFile::name`]), and [`OutputSet::catalogue`] lists every file a pipeline may write
//! for a year, so the writability check before fitting ([`crate::io::staging::Staging`]:
//! an unwritable directory or a read-only earlier output fails in seconds, not after an
//! hour of training) covers exactly the files that will be written. The set then writes
//! them: the forecast itself ([`OutputSet::write_forecast`]: NetCDF, GeoTIFF, map) and, when
//! the input holds observations of the target year, the verification tables and figures
//! ([`OutputSet::write_report`]). Nothing is under a final name until [`OutputSet::commit`].
//!
//! Outputs of `forecast --year Y` go to `<outputs.dir>/<pipeline>/<Y>/`:
//! `sst_forecast_<Y>.nc` (CF-1.8), `sst_forecast_<Y>.tif` (GeoTIFF, one band per lead) and
//! `sst_forecast_<Y>.png` (heatmap of the mean over leads), plus `skill_<Y>.{md,json}`,
//! `observed_<Y>.png`, `error_<Y>.png`, `skill_<Y>.png`, and per named box
//! `series_<box>_<Y>.png` and `loss_<box>.png`.

use std::path::PathBuf;

use super::config::{Format, PipelineConfig};
use super::provenance::Provenance;
use super::session::Session;
use super::{PipelineError, RunConfig};
use crate::figures;
use crate::fit::FitRecord;
use crate::forecast::Forecast;
use crate::io::geotiff;
use crate::io::netcdf::{self as nc, ForecastFile};
use crate::io::staging::{OutputError, Staging};
use crate::render::RenderError;
use crate::time::{Frequency, Period};
use crate::verify::{self, SkillReport};

/// One file of a run's outputs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutputFile {
    /// The forecast, CF NetCDF.
    Netcdf,
    /// The forecast, GeoTIFF.
    Geotiff,
    /// The map of the forecast's mean over leads.
    Map,
    /// The skill table, Markdown.
    SkillTable,
    /// Every skill record, JSON.
    SkillJson,
    /// The map of the observed mean.
    ObservedMap,
    /// The map of forecast minus observed.
    ErrorMap,
    /// The per-region skill ratio map.
    SkillMap,
    /// The time series of a named box.
    Series(String),
    /// The loss curves of a named box.
    Loss(String),
}

impl OutputFile {
    /// The file's name for target year `y`.
    pub fn name(&self, y: i64) -> String {
        match self {
            Self::Netcdf => format!("sst_forecast_{y}.nc"),
            Self::Geotiff => format!("sst_forecast_{y}.tif"),
            Self::Map => format!("sst_forecast_{y}.png"),
            Self::SkillTable => format!("skill_{y}.md"),
            Self::SkillJson => format!("skill_{y}.json"),
            Self::ObservedMap => format!("observed_{y}.png"),
            Self::ErrorMap => format!("error_{y}.png"),
            Self::SkillMap => format!("skill_{y}.png"),
            Self::Series(b) => format!("series_{b}_{y}.png"),
            Self::Loss(b) => format!("loss_{b}.png"),
        }
    }
}

/// The outputs of one run, staged until [`OutputSet::commit`].
#[derive(Debug)]
pub struct OutputSet {
    year: i64,
    dir: PathBuf,
    stage: Staging,
}

impl OutputSet {
    /// Every file a run of `pipeline` for `year` may write.
    pub fn catalogue(pipeline: &PipelineConfig) -> Vec<OutputFile> {
        let formats = &pipeline.outputs.formats;
        let mut v: Vec<OutputFile> = formats
            .iter()
            .map(|f| match f {
                Format::Netcdf => OutputFile::Netcdf,
                Format::Geotiff => OutputFile::Geotiff,
                Format::Png => OutputFile::Map,
            })
            .collect();
        v.extend([OutputFile::SkillTable, OutputFile::SkillJson]);
        if formats.contains(&Format::Png) {
            v.extend([
                OutputFile::ObservedMap,
                OutputFile::ErrorMap,
                OutputFile::SkillMap,
            ]);
            for b in &pipeline.regions.boxes {
                v.push(OutputFile::Series(b.name.clone()));
                v.push(OutputFile::Loss(b.name.clone()));
            }
        }
        v
    }

    /// Checks that every output of `rc` can be written into `dir` and opens the staging area.
    pub fn prepare(rc: &RunConfig, dir: &std::path::Path) -> Result<Self, OutputError> {
        let names: Vec<String> = Self::catalogue(&rc.pipeline)
            .iter()
            .map(|f| f.name(rc.year))
            .collect();
        Ok(Self {
            year: rc.year,
            dir: dir.to_path_buf(),
            stage: Staging::prepare(dir, &names)?,
        })
    }

    /// Where to write `file` (inside the staging area).
    fn path(&mut self, file: &OutputFile) -> PathBuf {
        self.stage.file(&file.name(self.year))
    }

    /// Writes `bytes` as `file`.
    fn write(&mut self, file: &OutputFile, bytes: &[u8]) -> Result<(), PipelineError> {
        let path = self.path(file);
        crate::io::atomic::write_atomic(&path, bytes).map_err(|source| PipelineError::Output {
            path: self.dir.join(file.name(self.year)),
            source,
        })
    }

    /// Writes the figure `png` as `file`; a figure that cannot be drawn is an error naming
    /// the file.
    fn write_figure(
        &mut self,
        file: &OutputFile,
        png: Result<Vec<u8>, RenderError>,
    ) -> Result<(), PipelineError> {
        let png = png.map_err(|source| PipelineError::Render {
            path: self.dir.join(file.name(self.year)),
            source,
        })?;
        self.write(file, &png)
    }

    /// Puts every written file in place; returns their final paths.
    pub fn commit(self) -> Result<Vec<PathBuf>, OutputError> {
        self.stage.commit()
    }

    /// The forecast in the pipeline's formats: NetCDF, GeoTIFF, map.
    pub fn write_forecast(
        &mut self,
        rc: &RunConfig,
        session: &Session,
        fc: &Forecast,
    ) -> Result<(), PipelineError> {
        let formats = &rc.pipeline.outputs.formats;
        let prov = Provenance::of(rc, session);
        if formats.contains(&Format::Netcdf) {
            let path = self.path(&OutputFile::Netcdf);
            nc::write_forecast(&path, &netcdf_file(rc, session, fc, &prov))?;
        }
        if formats.contains(&Format::Geotiff) {
            let path = self.path(&OutputFile::Geotiff);
            write_geotiff(&path, session, fc, &prov)?;
        }
        if formats.contains(&Format::Png) {
            let png = figures::forecast_map(fc, &labels(rc, session));
            self.write_figure(&OutputFile::Map, png)?;
        }
        Ok(())
    }

    /// Verification tables and figures, when the input has observations of the forecast
    /// period; the loss figures of the named boxes when their fit records are at hand.
    pub fn write_report(
        &mut self,
        rc: &RunConfig,
        session: &Session,
        fc: &Forecast,
        records: &[(&str, &FitRecord)],
    ) -> Result<Option<SkillReport>, PipelineError> {
        let skill = verify::evaluate(&session.cube, session.steps, fc, rc.year);
        if let Some(report) = &skill {
            self.write(&OutputFile::SkillTable, report.to_markdown().as_bytes())?;
            self.write(&OutputFile::SkillJson, report.to_json().as_bytes())?;
        }
        if !rc.pipeline.outputs.formats.contains(&Format::Png) {
            return Ok(skill);
        }
        let labels = labels(rc, session);
        if let Some(report) = &skill {
            if let Some(obs) = figures::observed_mean(&session.cube, fc) {
                let png = figures::observed_map(fc, &obs, &labels);
                self.write_figure(&OutputFile::ObservedMap, png)?;
                let png = figures::error_map(fc, &obs, &labels);
                self.write_figure(&OutputFile::ErrorMap, png)?;
            }
            let png = figures::skill_map(fc, report, &labels);
            self.write_figure(&OutputFile::SkillMap, png)?;
        }
        for b in &rc.pipeline.regions.boxes {
            if let Some(r) = fc.regions.iter().find(|r| r.id == b.name) {
                let png = figures::series(&session.cube, fc, r, &labels);
                self.write_figure(&OutputFile::Series(r.id.clone()), png)?;
                let record = records.iter().find(|(id, _)| *id == r.id);
                if let Some((id, rec)) = record.filter(|(_, rec)| !rec.losses.is_empty()) {
                    let png = figures::loss(id, rec);
                    self.write_figure(&OutputFile::Loss(id.to_string()), png)?;
                }
            }
        }
        Ok(skill)
    }
}

fn labels(rc: &RunConfig, session: &Session) -> figures::Labels {
    figures::Labels {
        product: session.product.clone(),
        year: rc.year,
        maps: maps(rc, session),
    }
}

/// How the maps of a run are drawn: coastlines (unless `outputs.coastlines: false`; a
/// warning and none when the file is missing), the colour range, anomaly or not.
pub(super) fn maps(rc: &RunConfig, session: &Session) -> figures::Maps {
    let out = &rc.pipeline.outputs;
    figures::Maps {
        coastlines: out
            .coastlines
            .then(|| figures::coast::for_grid(&session.cube.grid.lon))
            .flatten(),
        range: out.color_range.map(|[lo, hi]| (lo, hi)),
        anomaly: session.cube.variable.to_lowercase().contains("anom"),
    }
}

fn netcdf_file<'a>(
    rc: &RunConfig,
    session: &Session,
    fc: &'a Forecast,
    prov: &Provenance,
) -> ForecastFile<'a> {
    ForecastFile {
        grid: &fc.grid,
        freq: fc.freq,
        first: fc.first,
        values: &fc.values,
        title: prov.title.clone(),
        source: prov.source.clone(),
        history: prov.history.clone(),
        comment: prov.comment.clone(),
        config: rc.config_text.clone(),
        inputs: Provenance::inputs(session),
    }
}

fn write_geotiff(
    path: &std::path::Path,
    session: &Session,
    fc: &Forecast,
    prov: &Provenance,
) -> Result<(), PipelineError> {
    let bands: Vec<Vec<f32>> = (0..fc.horizon).map(|k| fc.lead(k).to_vec()).collect();
    let unit = match fc.freq {
        Frequency::Monthly => "month",
        Frequency::Annual => "year",
    };
    let names: Vec<String> = (0..fc.horizon)
        .map(|k| {
            format!(
                "{} (lead {} {unit}{})",
                Period(fc.first.0 + k as i64).label(fc.freq),
                k + 1,
                if k == 0 { "" } else { "s" }
            )
        })
        .collect();
    let meta = vec![
        ("units".to_string(), "degC".to_string()),
        (
            "variable".to_string(),
            "sea_surface_temperature".to_string(),
        ),
        ("product".to_string(), session.product.clone()),
        ("source".to_string(), prov.source.clone()),
        (
            "forecast_reference_time".to_string(),
            fc.first.label(fc.freq),
        ),
    ];
    geotiff::write_geotiff(path, &fc.grid.lat, &fc.grid.lon, &bands, &names, &meta)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The catalogue holds every file the writers name, and nothing twice.
    #[test]
    fn catalogue_names_each_file_once() {
        let yaml = "input: {files: x.nc}\ntemporal: monthly\nregions: {tiles: [5, 5], boxes: [{name: ice, lat: [56, 64], lon: [340, 348]}]}\nmodel: {cell: gru, layers: 1, hidden: 4, window: 12, horizon: 12, epochs: 2, batch: 4, learning_rate: 0.01, seed: 1}\noutputs: {dir: out, formats: [netcdf, geotiff, png]}\n";
        let p = PipelineConfig::parse(yaml, std::path::Path::new("p.yaml")).unwrap();
        let names: Vec<String> = OutputSet::catalogue(&p)
            .iter()
            .map(|f| f.name(2018))
            .collect();
        let mut unique = names.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), names.len());
        for want in [
            "sst_forecast_2018.nc",
            "sst_forecast_2018.tif",
            "sst_forecast_2018.png",
            "skill_2018.md",
            "skill_2018.json",
            "observed_2018.png",
            "error_2018.png",
            "skill_2018.png",
            "series_ice_2018.png",
            "loss_ice.png",
        ] {
            assert!(
                names.iter().any(|n| n == want),
                "{want} missing from {names:?}"
            );
        }
        let mut q = p.clone();
        q.outputs.formats = vec![Format::Netcdf];
        assert_eq!(OutputSet::catalogue(&q).len(), 3);
    }
}
