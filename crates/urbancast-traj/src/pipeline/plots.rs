//! Training curves of the teacher and the generator (PNG).
use std::path::Path;

use anyhow::Result;
use urbancast_eval::plot_series::{SeriesPanel, series_plot};

use crate::lmtad::{LmTadEpochLog, LmTadTrainLog};
use crate::train::{EpochLog, TrainLog};

/// Epoch-mean losses (train vs validation) and the loss of every step of a teacher run.
pub fn plot_teacher_log(path: &Path, log: &LmTadTrainLog) -> Result<()> {
    let col = |f: &dyn Fn(&LmTadEpochLog) -> f64| log.epochs.iter().map(|e| f(e) as f32).collect::<Vec<_>>();
    let panels = [
        SeriesPanel {
            title: "cross entropy per token, epoch means (black: validation)".into(),
            truth: col(&|e| e.val_loss),
            preds: vec![("train".into(), col(&|e| e.train_loss))],
        },
        SeriesPanel { title: "training loss of every step".into(), truth: log.step_losses.clone(), preds: vec![] },
    ];
    series_plot(path, "urbancast traj teacher (LM-TAD)", &panels, "epoch − 1 (top), step − 1 (bottom)", "")
}

/// Epoch-mean loss terms and next-step accuracy (train vs validation) of a generator run.
pub fn plot_generator_log(path: &Path, log: &TrainLog) -> Result<()> {
    let col = |f: &dyn Fn(&EpochLog) -> f64| log.epochs.iter().map(|e| f(e) as f32).collect::<Vec<_>>();
    let panels = [
        SeriesPanel {
            title: "loss, epoch means (black: training total = ce + time [+ λ·kd])".into(),
            truth: col(&|e| e.train_loss),
            preds: vec![
                ("train ce".into(), col(&|e| e.train_ce)),
                ("train time".into(), col(&|e| e.train_time_loss)),
                ("val ce".into(), col(&|e| e.val_ce)),
                ("val time MAPE".into(), col(&|e| e.val_time_mape.unwrap_or(f64::NAN))),
                ("train kd (before λ)".into(), col(&|e| e.train_kd.unwrap_or(f64::NAN))),
            ],
        },
        SeriesPanel {
            title: "next-step accuracy (black: validation)".into(),
            truth: col(&|e| e.val_acc),
            preds: vec![("train".into(), col(&|e| e.train_acc))],
        },
    ];
    series_plot(path, "urbancast traj train", &panels, "epoch − 1", "")
}
