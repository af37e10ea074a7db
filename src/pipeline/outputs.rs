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
//! `series_<box>_<Y>.png` and `loss_<box>.png`, and `report.html`, one page with the
//! provenance, the tables and every figure ([`OutputSet::write_page`], [`super::pages`]).

use std::path::PathBuf;

use super::config::{Format, PipelineConfig};
use super::provenance::Provenance;
use super::session::Session;
use super::{PipelineError, RunConfig};
use crate::figures;
use crate::fit::FitRecord;
use crate::forecast::Forecast;
use crate::forecast::GateSummary;
use crate::io::geotiff;
use crate::io::netcdf::{self as nc, ForecastFile};
use crate::io::staging::{OutputError, Staging};
use crate::render::RenderError;
use crate::report;
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
    /// The run on one page (provenance, tables, every figure), HTML.
    Report,
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
            Self::Report => super::pages::REPORT.to_string(),
        }
    }
}

/// The outputs of one run, staged until [`OutputSet::commit`].
#[derive(Debug)]
pub struct OutputSet {
    year: i64,
    dir: PathBuf,
    stage: Staging,
    /// The pipeline's formats this input's grid can be written in.
    formats: Vec<Format>,
    /// Every file written so far, and (`sstcast skill`) the stored forecast's files kept.
    written: Vec<OutputFile>,
    /// Every figure written so far (or adopted from the stored forecast), for the page.
    figures: Vec<(OutputFile, Vec<u8>)>,
    /// The skill table's Markdown, once written.
    skill_md: Option<String>,
    /// The provenance of the forecast's files, once written.
    prov: Option<Provenance>,
    /// The GeoTIFF this run skips (its grid has no georeferencing): a file of that name left
    /// by an earlier run is removed when the outputs are committed, so the directory never
    /// pairs this run's forecast with another run's GeoTIFF.
    stale: Option<PathBuf>,
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
        v.push(OutputFile::Report);
        v
    }

    /// Checks, before any fitting, that the input's grid can be written in the pipeline's
    /// formats and that every output of `rc` can be written into the session's directory,
    /// and opens the staging area.
    ///
    /// A grid that is not regular (beyond [`crate::grid::REGULAR_RTOL`] of a step: Gaussian
    /// latitudes, a stretched grid; float32 coordinates are regular) has no GeoTIFF
    /// georeferencing: the GeoTIFF is skipped with a warning naming the input and the axis,
    /// and the other outputs are written. A cron job that asked for NetCDF, GeoTIFF and maps
    /// then gets every file its grid allows, instead of nothing after an hour of fitting or
    /// an exit 65 until someone edits the pipeline.
    pub fn prepare(rc: &RunConfig, session: &Session) -> Result<Self, OutputError> {
        let mut formats = rc.pipeline.outputs.formats.clone();
        if formats.contains(&Format::Geotiff) {
            let grid = &session.cube.grid;
            if let Err(why) = geotiff::georef(&grid.lat, &grid.lon) {
                tracing::warn!(
                    "{} is not written: the grid of {} cannot be georeferenced as a GeoTIFF ({why}); the other outputs are",
                    OutputFile::Geotiff.name(rc.year),
                    super::provenance::Provenance::inputs(session),
                );
                formats.retain(|f| *f != Format::Geotiff);
            }
        }
        let skip = OutputFile::Geotiff.name(rc.year);
        let stale = (rc.pipeline.outputs.formats.contains(&Format::Geotiff)
            && !formats.contains(&Format::Geotiff))
        .then(|| session.out_dir.join(&skip));
        let names: Vec<String> = Self::catalogue(&rc.pipeline)
            .iter()
            .map(|f| f.name(rc.year))
            .filter(|n| formats.contains(&Format::Geotiff) || *n != skip)
            .collect();
        Ok(Self {
            year: rc.year,
            dir: session.out_dir.clone(),
            stage: Staging::prepare(&session.out_dir, &names)?,
            formats,
            written: Vec::new(),
            figures: Vec::new(),
            skill_md: None,
            prov: None,
            stale,
        })
    }

    /// Where to write `file` (inside the staging area).
    fn path(&mut self, file: &OutputFile) -> PathBuf {
        self.written.push(file.clone());
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
        self.write(file, &png)?;
        self.figures.push((file.clone(), png));
        Ok(())
    }

    /// Puts every written file in place, and removes a skipped GeoTIFF left by an earlier
    /// run; returns the final paths.
    pub fn commit(self) -> Result<Vec<PathBuf>, OutputError> {
        let out = self.stage.commit()?;
        if let Some(old) = self.stale.filter(|p| p.exists()) {
            match std::fs::remove_file(&old) {
                Ok(()) => tracing::warn!(
                    "removed {}, left by an earlier run: this run writes no GeoTIFF",
                    old.display()
                ),
                Err(e) => tracing::warn!(
                    "{} is left by an earlier run and could not be removed ({e}); it is not this run's forecast",
                    old.display()
                ),
            }
        }
        Ok(out)
    }

    /// The forecast in the pipeline's formats: NetCDF, GeoTIFF, map.
    pub fn write_forecast(
        &mut self,
        rc: &RunConfig,
        session: &Session,
        fc: &Forecast,
        gate: &GateSummary,
    ) -> Result<(), PipelineError> {
        let formats = self.formats.clone();
        let prov = Provenance::of(rc, session);
        self.prov = Some(prov.clone());
        if formats.contains(&Format::Netcdf) {
            let path = self.path(&OutputFile::Netcdf);
            let mut file = netcdf_file(rc, session, fc, &prov);
            file.baseline_regions = gate.none.join(", ");
            nc::write_forecast(&path, &file)?;
        }
        if formats.contains(&Format::Geotiff) {
            let path = self.path(&OutputFile::Geotiff);
            write_geotiff(&path, rc, session, fc, &prov)?;
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
            let md = report.to_markdown();
            self.write(&OutputFile::SkillTable, md.as_bytes())?;
            self.skill_md = Some(md);
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

impl OutputSet {
    /// For `sstcast skill`, which rewrites only the verification: the stored forecast's
    /// files that this run did not rewrite (the NetCDF and GeoTIFF, the map, the loss
    /// curves), so that the page lists them and shows every figure of the forecast it
    /// verifies (read from the output directory).
    pub fn adopt_stored(&mut self, rc: &RunConfig) {
        for file in Self::catalogue(&rc.pipeline) {
            let name = file.name(self.year);
            let path = self.dir.join(&name);
            if file == OutputFile::Report || self.written.contains(&file) || !path.is_file() {
                continue;
            }
            if name.ends_with(".png") {
                match std::fs::read(&path) {
                    Ok(png) => self.figures.push((file.clone(), png)),
                    Err(e) => tracing::warn!("{}: {e}; not on report.html", path.display()),
                }
            }
            self.written.push(file);
        }
    }

    /// `report.html`: the provenance, the skill table and every figure written (in the
    /// catalogue's order), staged with the other files.
    pub fn write_page(&mut self, rc: &RunConfig, session: &Session) -> Result<(), PipelineError> {
        let catalogue = Self::catalogue(&rc.pipeline);
        let rank = |f: &OutputFile| catalogue.iter().position(|c| c == f).unwrap_or(usize::MAX);
        let mut figures = std::mem::take(&mut self.figures);
        figures.sort_by_key(|(f, _)| rank(f));
        let year = self.year;
        let figures = figures
            .into_iter()
            .map(|(f, png)| report::Figure {
                name: f.name(year),
                caption: super::pages::caption(&f, year),
                png,
            })
            .collect();
        let mut files: Vec<OutputFile> = self.written.clone();
        files.sort_by_key(rank);
        let files = files.iter().map(|f| f.name(year)).collect();
        let prov = self
            .prov
            .clone()
            .unwrap_or_else(|| Provenance::of(rc, session));
        let page =
            super::pages::forecast(rc, session, &prov, self.skill_md.as_deref(), figures, files);
        self.write(&OutputFile::Report, page.to_html().as_bytes())
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
        boxes: Provenance::boxes(rc, session),
        baseline_regions: String::new(),
    }
}

fn write_geotiff(
    path: &std::path::Path,
    rc: &RunConfig,
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
        // The named boxes fitted (comma-separated), as in the NetCDF's `sstcast_boxes`.
        ("boxes".to_string(), Provenance::boxes(rc, session)),
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
            "report.html",
        ] {
            assert!(
                names.iter().any(|n| n == want),
                "{want} missing from {names:?}"
            );
        }
        let mut q = p.clone();
        q.outputs.formats = vec![Format::Netcdf];
        assert_eq!(OutputSet::catalogue(&q).len(), 4);
    }
}
