//! `urbancast traj`: road networks and trajectories — inspect a network, map-match raw GPS,
//! synthesise trip demand, partition zones, evaluate generated trajectories.
mod anomalies;
pub mod common;
mod eval;
mod generate;
mod matching;
mod network;
mod synth;
mod teacher;
mod train;
mod zones;

use anyhow::Result;

#[derive(clap::Subcommand, Debug)]
pub enum Which {
    /// Read a road network (or build the synthetic city) and print what it holds.
    Network(network::Args),
    /// HMM map matching (Newson & Krumm): raw GPS → road sequences in HOSER CSV.
    Match(matching::Args),
    /// Synthetic trip demand on a network: gravity-model OD, habitual routes, timestamps.
    Synth(synth::Args),
    /// Balanced graph partition of the roads into zones (METIS) and zone transitions.
    Zones(zones::Args),
    /// Train the HOSER-style route generator on trajectories (HOSER CSV).
    Train(train::Args),
    /// Train the route generator with an LM-TAD teacher (cross-task distillation): the flags
    /// of `traj train`, with `--teacher` required.
    Distill(train::Args),
    /// Generate routes with a trained generator (batched beam search or best-first).
    Generate(generate::Args),
    /// Trajectory-generation metrics (HOSER's suite): real vs generated HOSER CSV.
    Eval(eval::Args),
    /// Train the LM-TAD teacher (a causal transformer over grid-cell tokens) on trajectories.
    Teacher(teacher::Args),
    /// Anomaly detection with a trained LM-TAD teacher: log-perplexity scores, mean + 3σ
    /// threshold, synthetic detour / route-switch outliers, F1 and PR-AUC.
    Anomalies(anomalies::Args),
}

pub fn run(w: Which) -> Result<()> {
    match w {
        Which::Network(a) => network::run(a),
        Which::Match(a) => matching::run(a),
        Which::Synth(a) => synth::run(a),
        Which::Zones(a) => zones::run(a),
        Which::Eval(a) => eval::run(a),
        Which::Train(a) => train::run(a),
        Which::Distill(a) => {
            if a.teacher.is_none() {
                anyhow::bail!(
                    "`traj distill` needs --teacher DIR (an LM-TAD folder from `urbancast traj teacher`); without a teacher use `traj train`"
                );
            }
            train::run(a)
        }
        Which::Generate(a) => generate::run(a),
        Which::Teacher(a) => teacher::run(a),
        Which::Anomalies(a) => anomalies::run(a),
    }
}
