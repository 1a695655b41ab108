//! One progress style for the whole program: a bar on a terminal, one line per epoch (or per
//! note) on stderr otherwise, so a run logged to a file still shows its progress.
use indicatif::{ProgressBar, ProgressStyle};

/// A bar of `len` `unit`s labelled `prefix`; hidden when `show` is false (and drawn only when
/// stderr is a terminal).
pub fn bar(len: u64, prefix: &str, unit: &str, show: bool) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::new(len);
    pb.set_style(
        ProgressStyle::with_template(&format!(
            "{{prefix:>12}} [{{bar:30}}] {{pos}}/{{len}} {unit} ({{per_sec}}) {{elapsed}} eta {{eta}} {{msg}}"
        ))
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    pb.set_prefix(prefix.to_string());
    pb
}

/// Prints `line` above the bar, or on stderr when the bar is not drawn (no terminal), unless
/// `quiet`. Write errors on stderr are ignored (a closed stderr must not end a training run).
pub fn note(pb: &ProgressBar, line: &str, quiet: bool) {
    if quiet {
        return;
    }
    if pb.is_hidden() {
        use std::io::Write;
        let _ = writeln!(std::io::stderr(), "{line}");
    } else {
        pb.println(line);
    }
}
