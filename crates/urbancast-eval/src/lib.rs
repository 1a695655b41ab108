//! urbancast-eval: masked metrics, result tables, JSON/CSV reports and plots.
pub mod anomaly;
pub mod horizon;
pub mod metrics;
pub mod plot;
pub mod plot_series;
pub mod report;
pub mod traj_metrics;
mod validate;

pub use metrics::{ChannelScores, Scores, mean_std, per_region_rmse, score};
pub use report::{ResultRow, SummaryRow, summarize, table, write_json, write_results, write_text};
