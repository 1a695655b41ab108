//! Published protocols built on [`Experiment`]: leave-one-out over a set of cities (the demo
//! and `experiment stbat-synthetic`), and the STBaT paper's method list.
use std::path::{Path, PathBuf};

use anyhow::Result;
use urbancast_data::City;
use urbancast_eval::{ResultRow, SummaryRow};

use crate::method::Method;
use crate::report::{sanitize, write_report};
use crate::runner::{Experiment, RunOutput, RunPlan};

/// The methods of the STBaT paper's tables — target-only, fine-tune, zero-shot, STBaT and its
/// four ablations — with the simple predictors (persistence, region mean, historical average)
/// and the control the paper lacks (fine-tune with STBaT's head).
pub fn stbat_paper_methods() -> Vec<Method> {
    Method::ALL.into_iter().chain(Method::ABLATIONS).collect()
}

/// Parses method names (see [`Method`]'s `FromStr`).
pub fn parse_methods(names: &[String]) -> Result<Vec<Method>> {
    names.iter().map(|m| m.parse::<Method>().map_err(anyhow::Error::msg)).collect()
}

/// What [`leave_one_out`] reports while it runs.
pub enum LooEvent<'a> {
    /// A target's turn begins.
    Target {
        /// The target city.
        target: &'a City,
        /// Every other city.
        sources: &'a [City],
    },
    /// One (method, days, seed) finished.
    Row(&'a RunOutput),
    /// A target's report was written.
    Report {
        /// The target's folder.
        dir: &'a Path,
        /// Mean ± std over seeds.
        summary: &'a [SummaryRow],
        /// Every result row of the target.
        rows: &'a [ResultRow],
    },
}

/// Each city in turn is the target of all the others: runs `plan` (its methods for every N in
/// its days and every seed, see [`Experiment::run`]), writes one report folder per target under
/// `out` (named after the target, with its checkpoints inside when `plan.settings` saves them),
/// returns every result row.
pub fn leave_one_out(cities: &[City], plan: &RunPlan<'_>, out: &Path, mut on: impl FnMut(LooEvent<'_>)) -> Result<Vec<ResultRow>> {
    let settings = plan.settings;
    let mut all: Vec<ResultRow> = vec![];
    for (i, target) in cities.iter().enumerate() {
        let sources: Vec<City> = cities.iter().enumerate().filter(|(j, _)| *j != i).map(|(_, c)| c.clone()).collect();
        on(LooEvent::Target { target, sources: &sources });
        let exp = Experiment::new(sources, target.clone(), &settings.protocol)?;
        let mut s = settings.clone();
        let dir: PathBuf = out.join(sanitize(&target.name));
        if s.checkpoint_dir.is_some() {
            s.checkpoint_dir = Some(dir.join("checkpoints"));
        }
        if s.train_dir.is_some() {
            s.train_dir = Some(dir.join("train"));
        }
        let outputs: Vec<RunOutput> = exp.run(&RunPlan { settings: &s, ..*plan }, |o| on(LooEvent::Row(o)), |_| {})?;
        let srcs: Vec<&City> = exp.sources.iter().map(|p| &p.city).collect();
        let summary = write_report(&dir, &srcs, &exp.target.city, &outputs)?;
        let rows: Vec<ResultRow> = outputs.into_iter().map(|o| o.row).collect();
        on(LooEvent::Report { dir: &dir, summary: &summary, rows: &rows });
        all.extend(rows);
    }
    Ok(all)
}
