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

#[test]
fn import_preview_commit_reimport_and_export_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("books.sqlite3");
    ok(&store, &["init"]);
    let file = dir.path().join("goodreads_library_export.csv");
    std::fs::write(
        &file,
        "Book Id,Title,Author,Additional Authors,ISBN13,My Rating,Exclusive Shelf,Owned Copies\n\
         11,Kindred,Octavia E. Butler,,=\"9780807083697\",5,read,1\n\
         12,\"Piranesi, a novel\",Susanna Clarke,,=\"9781635575637\",0,to-read,0\n\
         13,Broken,Someone,,=\"9781635575638\",3,read,0\n",
    )
    .unwrap();
    let preview = ok(&store, &["import", file.to_str().unwrap()]);
    assert!(preview.contains("read as Goodreads export (UTF-8)"), "{preview}");
    assert!(preview.contains("3 rows: 2 new, 0 updates, 0 duplicates, 1 errors"), "{preview}");
    assert!(preview.contains("error     line 4"), "{preview}");
    assert!(ok(&store, &["info"]).contains("0 titles"), "a preview imports nothing");

    let failed = dir.path().join("failed.csv");
    let done = ok(&store, &["import", file.to_str().unwrap(), "--commit", "--failed", failed.to_str().unwrap()]);
    assert!(done.contains("Imported: 2 titles created, 0 updated, 1 copies added"), "{done}");
    let failed_text = std::fs::read_to_string(&failed).unwrap();
    assert!(
        failed_text
            .starts_with("Book Id,Title,Author,Additional Authors,ISBN13,My Rating,Exclusive Shelf,Owned Copies,Import error\n13,Broken"),
        "{failed_text}"
    );
    let shown = ok(&store, &["show", "9780807083697"]);
    assert!(shown.contains("copy AUTO-"), "an owned copy without a barcode gets one: {shown}");

    let again = ok(&store, &["import", file.to_str().unwrap(), "--commit"]);
    assert!(again.contains("3 rows: 0 new, 0 updates, 2 duplicates, 1 errors"), "{again}");
    assert!(ok(&store, &["info"]).contains("2 titles, 1 copies"));

    let out = dir.path().join("catalogue.json");
    let exported = ok(&store, &["export", out.to_str().unwrap()]);
    assert!(exported.starts_with("Wrote 2 titles and 1 copies to"), "{exported}");
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(json.as_array().unwrap().len(), 2);

    let bad = run(&store, &["import", dir.path().join("missing.csv").to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&bad.stderr).starts_with("error[import_file]: "), "{}", String::from_utf8_lossy(&bad.stderr));
    let latin1 = dir.path().join("latin1.csv");
    std::fs::write(&latin1, b"Title,Author\nCaf\xe9 stories,Jos\xe9\n").unwrap();
    let refused = run(&store, &["import", latin1.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(err.contains("line 2") && err.contains("not UTF-8"), "{err}");
    let read = ok(&store, &["import", latin1.to_str().unwrap(), "--encoding", "windows-1252"]);
    assert!(read.contains("Café stories"), "{read}");

    // A file no preset knows and whose columns do not name themselves: a
    // clear error, then an explicit mapping.
    let plain = dir.path().join("plain.csv");
    std::fs::write(&plain, "Name,Writer,Code\nThe Dispossessed,Ursula K. Le Guin,9780061054884\n").unwrap();
    let refused = run(&store, &["import", plain.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(err.contains("no column is recognised as the title; the columns are: Name, Writer, Code"), "{err}");
    let mapping = dir.path().join("mapping.json");
    let given = serde_json::json!({"columns": [
        {"column": "Name", "field": {"to": "title", "series_in_parentheses": false}},
        {"column": "Writer", "field": {"to": "authors", "separator": ";"}},
        {"column": "Code", "field": {"to": "isbn"}},
    ]});
    std::fs::write(&mapping, given.to_string()).unwrap();
    let saved = dir.path().join("saved.json");
    let mapped = ok(
        &store,
        &["import", plain.to_str().unwrap(), "--mapping", mapping.to_str().unwrap(), "--save-mapping", saved.to_str().unwrap(), "--commit"],
    );
    assert!(mapped.contains("1 titles created"), "{mapped}");
    let back: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&saved).unwrap()).unwrap();
    assert_eq!(back["columns"].as_array().unwrap().len(), 3, "{back}");
    assert!(ok(&store, &["show", "9780061054884"]).contains("The Dispossessed"));
}

#[test]
fn an_import_killed_mid_commit_resumes_without_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("library.sqlite3");
    ok(&store, &["init", "--library"]);
    let rows = 20_000;
    let file = dir.path().join("big.csv");
    std::fs::write(&file, shelfkeeper_interchange::samples::goodreads_csv(rows)).unwrap();
    let staged: serde_json::Value = serde_json::from_str(&ok(&store, &["--json", "import", file.to_str().unwrap()])).unwrap();
    let id = staged["summary"]["id"].as_str().unwrap().to_string();
    let new = staged["summary"]["new"].as_i64().unwrap();
    assert!(new > rows as i64 / 2, "{staged}");

    // Commit in another process and kill it as soon as it reports the first
    // batch written (its progress line on stderr).
    let mut child = Command::new(env!("CARGO_BIN_EXE_shelfkeeper"))
        .arg("--store")
        .arg(&store)
        .args(["import-commit", &id])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let mut seen = Vec::new();
    let mut buf = [0u8; 64];
    while !String::from_utf8_lossy(&seen).contains("importing: ") {
        use std::io::Read;
        let n = stderr.read(&mut buf).unwrap();
        assert!(n > 0, "the commit ended before reporting progress: {}", String::from_utf8_lossy(&seen));
        seen.extend_from_slice(&buf[..n]);
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let list: serde_json::Value = serde_json::from_str(&ok(&store, &["--json", "imports"])).unwrap();
    let part = list[0]["done"].as_i64().unwrap();
    assert_eq!(list[0]["state"], "committing");
    let info: serde_json::Value = serde_json::from_str(&ok(&store, &["--json", "info"])).unwrap();
    let titles_after_kill = info["titles"].as_i64().unwrap();
    assert!(part > 0 && titles_after_kill < new, "killed part-way, whole batches only: {titles_after_kill} titles after {part} rows");

    let resumed = ok(&store, &["import-commit", &id]);
    assert!(resumed.starts_with("Imported:"), "{resumed}");
    let info: serde_json::Value = serde_json::from_str(&ok(&store, &["--json", "info"])).unwrap();
    assert_eq!(info["titles"].as_i64().unwrap(), new, "every new row once, none twice");
    let again: serde_json::Value = serde_json::from_str(&ok(&store, &["--json", "import", file.to_str().unwrap()])).unwrap();
    assert_eq!(again["summary"]["new"], 0);
}

#[test]
fn restore_verifies_the_backup_first_and_keeps_the_replaced_store() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("shelf.sqlite3");
    ok(&store, &["init"]);
    ok(&store, &["generate", "--titles", "300"]);
    let backup = dir.path().join("before.sqlite3");
    ok(&store, &["backup", backup.to_str().unwrap()]);
    ok(&store, &["add-title", "--title", "Added after the backup", "--copy", "ZZ-1"]);
    let info = |s: &Path| -> serde_json::Value { serde_json::from_str(&ok(s, &["--json", "info"])).unwrap() };
    assert_eq!(info(&store)["titles"], 301);

    // A damaged backup is refused with a clear message; the store is untouched.
    let mut bytes = std::fs::read(&backup).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid..mid + 8192].fill(0xA5);
    let damaged = dir.path().join("damaged.sqlite3");
    std::fs::write(&damaged, &bytes).unwrap();
    let before = std::fs::read(&store).unwrap();
    let refused = run(&store, &["restore", damaged.to_str().unwrap()]);
    assert_eq!(refused.status.code(), Some(1));
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(err.starts_with("error[backup]: ") && err.contains("damaged.sqlite3"), "{err}");
    assert_eq!(std::fs::read(&store).unwrap(), before, "a refused restore changes nothing");
    assert!(!store.with_extension("before-restore").exists());

    // A good one replaces the store; the replaced store is kept beside it.
    let out = ok(&store, &["restore", backup.to_str().unwrap()]);
    assert!(out.contains("verified: 300 titles") && out.contains("before-restore"), "{out}");
    assert_eq!(info(&store)["titles"], 300);
    assert_eq!(info(&store.with_extension("before-restore"))["titles"], 301);
}

#[test]
fn a_password_is_never_an_argument() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("branch.sqlite3");
    ok(&store, &["init", "--library"]);
    // On the command line (where `ps` shows it) it is refused outright.
    let out = run(&store, &["add-account", "ann", "--password", "correct horse battery staple"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--password"), "{}", String::from_utf8_lossy(&out.stderr));
    // From standard input, one line.
    let mut child = Command::new(env!("CARGO_BIN_EXE_shelfkeeper"))
        .arg("--store")
        .arg(&store)
        .args(["add-account", "ann", "--role", "admin"])
        .env_remove("SHELFKEEPER_PASSWORD")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(b"correct horse battery staple\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("Added account ann (admin)"), "{}", String::from_utf8_lossy(&out.stdout));
    // Or from SHELFKEEPER_PASSWORD.
    let out = Command::new(env!("CARGO_BIN_EXE_shelfkeeper"))
        .arg("--store")
        .arg(&store)
        .args(["add-account", "bob"])
        .env("SHELFKEEPER_PASSWORD", "another long passphrase here")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}
