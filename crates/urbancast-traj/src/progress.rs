//! One progress-bar style for the crate's long loops (training steps, teacher windows).
use indicatif::{ProgressBar, ProgressStyle};

/// A bar of `len` `unit`s labelled `prefix`; hidden when `show` is false.
pub(crate) fn bar(len: u64, prefix: &'static str, unit: &str, show: bool) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::new(len);
    pb.set_style(
        ProgressStyle::with_template(&format!("{{prefix:>8}} [{{bar:30}}] {{pos}}/{{len}} {unit} {{elapsed}} (eta {{eta}}) {{msg}}"))
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    pb.set_prefix(prefix);
    pb
}

/// Prints `line` above the bar, or on stderr when the bar is hidden because stderr is not a
/// terminal (a run logged to a file still shows its epochs as they finish).
pub(crate) fn note(pb: &ProgressBar, line: String) {
    if pb.is_hidden() {
        eprintln!("{line}");
    } else {
        pb.println(line);
    }
}
