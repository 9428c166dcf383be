//! The command-line tool, run as a user would, on a store file on disk.

use std::path::Path;
use std::process::{Command, Output};

fn run(store: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_shelfkeeper")).arg("--store").arg(store).args(args).output().expect("runs")
}

fn ok(store: &Path, args: &[&str]) -> String {
    let out = run(store, args);
    assert!(out.status.success(), "{args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn a_day_at_the_desk_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("branch.sqlite3");
    ok(&store, &["init", "--library"]);
    let added =
        ok(&store, &["--json", "add-title", "--title", "Dune", "--author", "Frank Herbert", "--isbn", "0441172717", "--copy", "B00123"]);
    let title: serde_json::Value = serde_json::from_str(&added).unwrap();
    assert_eq!(title["isbn13"], "9780441172719");
    ok(&store, &["add-member", "M0042", "Ada Lovelace"]);
    let out = ok(&store, &["checkout", "M0042", "B00123"]);
    assert!(out.starts_with("Lent 'Dune' to Ada Lovelace, due "), "{out}");

    // A second check-out of the same copy fails with the code and the facts.
    ok(&store, &["add-member", "M7", "Grace Hopper"]);
    let refused = run(&store, &["checkout", "M7", "B00123"]);
    assert_eq!(refused.status.code(), Some(1));
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(err.starts_with("error[copy_on_loan]: copy B00123 is already on loan to member M0042 until "), "{err}");

    assert!(ok(&store, &["checkin", "b00123"]).starts_with("Returned 'Dune'"));
    let found = ok(&store, &["find", "dun"]);
    assert!(found.contains("Dune — Frank Herbert"), "{found}");
    assert!(ok(&store, &["history", "M0042"]).contains("returned"));
    let shown = ok(&store, &["show", "978-0-441-17271-9"]);
    assert!(shown.contains("copy B00123 [available]"), "{shown}");

    let backup = dir.path().join("backup.sqlite3");
    assert!(ok(&store, &["backup", backup.to_str().unwrap()]).contains("verified"));
    assert!(ok(&store, &["verify", backup.to_str().unwrap()]).contains("1 titles"));

    // A file that is not a store is refused with a clear message.
    let junk = dir.path().join("junk.sqlite3");
    std::fs::write(&junk, b"this is not a database").unwrap();
    let bad = run(&store, &["verify", junk.to_str().unwrap()]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("error[backup]"));
}

#[test]
fn opening_a_missing_store_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(&dir.path().join("nope.sqlite3"), &["info"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("error[store_open]"), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn counts_read_as_english() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("shelf.sqlite3");
    ok(&store, &["init"]);
    let one = ok(&store, &["add-title", "--title", "Dune", "--copy", "B1"]);
    assert!(one.trim_end().ends_with("with 1 copy"), "{one}");
    let two = ok(&store, &["add-title", "--title", "Emma", "--copy", "B2", "--copy", "B3"]);
    assert!(two.trim_end().ends_with("with 2 copies"), "{two}");
}
