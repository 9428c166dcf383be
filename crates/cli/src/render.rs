//! Output: a result as pretty JSON (--json) or as the command's own
//! human-readable text, and progress on standard error.

use shelfkeeper_store::Progress;

/// Prints `value` as JSON with --json, else the text `human` makes of it.
pub fn print<T: serde::Serialize>(json: bool, value: &T, human: impl FnOnce(&T) -> String) {
    if json {
        println!("{}", serde_json::to_string_pretty(value).unwrap_or_default());
    } else {
        println!("{}", human(value));
    }
}

/// Progress on one line of stderr (nothing with --json).
pub fn progress_line(json: bool) -> impl FnMut(Progress) {
    move |p: Progress| {
        if !json {
            if p.total > 0 {
                eprint!("\r{}: {}/{}   ", p.phase, p.done, p.total);
            } else {
                eprint!("\r{}: {}   ", p.phase, p.done);
            }
        }
    }
}
