//! What goes on a run's `report.html` ([`crate::report`] builds the page from plain data).
//!
//! The page repeats what the files beside it say, for a reader who gets only the page: the
//! provenance the NetCDF attributes carry (`source`, `history`, `comment`, the input files,
//! the pipeline file's full text) plus what only the run knows (the run key of the saved
//! region results, the training period, the forecast start), the skill tables exactly as
//! written to `skill_<Y>.md` / `hindcast.md`, and every figure the run wrote, in the order of
//! the output catalogue, each with a caption saying what it shows. The page is staged and
//! committed with the other outputs, so it never describes files that are not there.

use super::hindcast::Hindcast;
use super::outputs::OutputFile;
use super::provenance::{Provenance, BURN_VERSION, SSTCAST_VERSION};
use super::session::Session;
use super::RunConfig;
use crate::report::{Figure, Page, Section};

/// The page's file name, in every output directory.
pub const REPORT: &str = "report.html";

/// What a forecast figure shows.
pub fn caption(file: &OutputFile, year: i64) -> String {
    match file {
        OutputFile::Map => format!("Forecast: mean sea surface temperature over the leads of {year}."),
        OutputFile::ObservedMap => format!("Observed: mean over the same months of {year}."),
        OutputFile::ErrorMap => "Forecast minus observed (mean over the leads).".into(),
        OutputFile::SkillMap => "Per region: the model's RMSE over that of its best reference (below 1: the model is better).".into(),
        OutputFile::Series(b) => format!("Area mean of the box {b}: before the forecast, the forecast and the observations of {year}."),
        OutputFile::Loss(b) => format!("Training and validation loss per epoch of the box {b}, with the kept epoch."),
        _ => String::new(),
    }
}

/// What a hindcast figure shows.
pub fn hindcast_caption(name: &str) -> String {
    match name {
        "hindcast_rmse.png" => "Global RMSE against lead with 95% bands, the model and each reference.",
        "hindcast_acc.png" => "Global anomaly correlation against lead with 95% bands.",
        "hindcast_skill_map.png" => "Per region: the model's RMSE over the best reference's; regions whose difference is not significant hatched.",
        "hindcast_nino34.png" => "Niño 3.4 anomaly: observed and hindcast at leads 3 and 6 from every start.",
        _ => "",
    }
    .into()
}

/// The provenance rows every page shares.
fn common_rows(rc: &RunConfig, session: &Session, prov: &Provenance) -> Vec<(String, String)> {
    vec![
        ("product".into(), session.product.clone()),
        ("source".into(), prov.source.clone()),
        ("history".into(), prov.history.clone()),
        ("comment".into(), prov.comment.clone()),
        ("pipeline file".into(), rc.config_path.display().to_string()),
        (
            "versions".into(),
            format!("sstcast {SSTCAST_VERSION}, burn {BURN_VERSION}"),
        ),
        (
            format!("input files ({})", session.files.len()),
            Provenance::inputs(session),
        ),
    ]
}

/// The training period of `session`, `first..last`.
fn training(session: &Session) -> String {
    let c = &session.cube;
    format!(
        "{}..{} ({} steps)",
        c.period(0).label(c.freq),
        c.period(session.steps.saturating_sub(1)).label(c.freq),
        session.steps
    )
}

fn config(rc: &RunConfig) -> Option<(String, String)> {
    Some((rc.config_path.display().to_string(), rc.config_text.clone()))
}

/// The page of one forecast: `skill` is the Markdown of `skill_<Y>.md` when the input held
/// observations of the year.
pub fn forecast(
    rc: &RunConfig,
    session: &Session,
    prov: &Provenance,
    skill: Option<&str>,
    figures: Vec<Figure>,
    files: Vec<String>,
) -> Page {
    let freq = session.cube.freq;
    let mut provenance = common_rows(rc, session, prov);
    provenance.splice(
        1..1,
        [
            (
                "forecast reference time".to_string(),
                session.origin.label(freq),
            ),
            ("training period".into(), training(session)),
            ("regions".into(), session.regions.len().to_string()),
            ("run key".into(), session.key.clone()),
            (
                "output directory".into(),
                session.out_dir.display().to_string(),
            ),
        ],
    );
    let summary = match skill {
        Some(_) => format!(
            "{} regions forecast from {}, verified against the observations of {} in the input.",
            session.regions.len(),
            session.origin.label(freq),
            rc.year
        ),
        None => format!(
            "{} regions forecast from {}. The input holds no observations of {}: no skill table yet (`sstcast skill` verifies the forecast once they arrive).",
            session.regions.len(),
            session.origin.label(freq),
            rc.year
        ),
    };
    Page {
        title: prov.title.clone(),
        summary,
        sections: skill
            .map(|md| Section {
                heading: format!("Skill of the {} forecast", rc.year),
                markdown: md.to_string(),
            })
            .into_iter()
            .collect(),
        figures,
        provenance,
        config: config(rc),
        files,
    }
}

/// The page of one hindcast: `title` and `comment` as in `hindcast.nc`, `table` the Markdown
/// of `hindcast.md`.
pub fn hindcast(
    rc: &RunConfig,
    hc: &Hindcast,
    title_comment: (String, String),
    table: &str,
    figures: Vec<Figure>,
    files: Vec<String>,
) -> Page {
    let first = &hc.sessions[0];
    let mut prov = Provenance::of(rc, first);
    (prov.title, prov.comment) = title_comment;
    let mut provenance = common_rows(rc, first, &prov);
    let freq = first.cube.freq;
    let label = |p: Option<&crate::time::Period>| p.map(|p| p.label(freq)).unwrap_or_default();
    let mut rows = vec![
        (
            "starts".to_string(),
            format!(
                "{} starts {}..{}",
                hc.starts.len(),
                label(hc.starts.first()),
                label(hc.starts.last())
            ),
        ),
        ("regions".into(), first.regions.len().to_string()),
    ];
    for (i, s) in hc.sessions.iter().enumerate() {
        rows.push((
            format!("fit {}: training, run key", i + 1),
            format!("{}, {}", training(s), s.key),
        ));
    }
    provenance.splice(1..1, rows);
    let summary = format!(
        "{} starts, {} fit(s), verified against the observations in the input.",
        hc.starts.len(),
        hc.sessions.len()
    );
    Page {
        title: prov.title.clone(),
        summary,
        sections: (!table.trim().is_empty())
            .then(|| Section {
                heading: "Skill over the starts".into(),
                markdown: table.to_string(),
            })
            .into_iter()
            .collect(),
        figures,
        provenance,
        config: config(rc),
        files,
    }
}
