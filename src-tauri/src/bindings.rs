//! TypeScript types for every command's arguments, results and errors,
//! generated from the Rust types into `ui/src/lib/bindings/`. The test below
//! fails when the checked-in files are stale; run it with
//! `UPDATE_BINDINGS=1` to rewrite them. The same holds for the command
//! wiring made from the #[tauri::command] functions (`wiring.rs`): the
//! capability's permission list and the UI's typed wrappers.

// (A path attribute here, outside any inline module, starts at src/.)
#[cfg(test)]
#[path = "../wiring.rs"]
#[allow(dead_code)] // the handler list is build.rs's part
mod wiring;

#[cfg(test)]
mod tests {
    use crate::commands::{BackupFolder, JobProgress, MemberDetail, NewAccount, NewAdmin, TitleDetail};
    use crate::error::CommandError;
    use crate::state::AppStatus;
    use shelfkeeper_domain::model::{CopyDraft, MemberDraft, MemberType, TitleDraft};
    use shelfkeeper_domain::search::{Facets, SearchPage, SearchRequest};
    use shelfkeeper_store::{BackupReport, CheckinReceipt, CheckoutReceipt, RenewReceipt, StoreStats};
    use std::path::{Path, PathBuf};
    use ts_rs::{Config, TS};

    fn export_all(dir: &Path) {
        // serde_json writes i64 as a JSON number; the UI's numbers stay far
        // below 2^53.
        let cfg = Config::new().with_large_int("number").with_out_dir(dir);
        AppStatus::export_all(&cfg).unwrap();
        SearchRequest::export_all(&cfg).unwrap();
        SearchPage::export_all(&cfg).unwrap();
        Facets::export_all(&cfg).unwrap();
        TitleDetail::export_all(&cfg).unwrap();
        TitleDraft::export_all(&cfg).unwrap();
        CopyDraft::export_all(&cfg).unwrap();
        MemberDraft::export_all(&cfg).unwrap();
        MemberDetail::export_all(&cfg).unwrap();
        MemberType::export_all(&cfg).unwrap();
        CheckoutReceipt::export_all(&cfg).unwrap();
        CheckinReceipt::export_all(&cfg).unwrap();
        RenewReceipt::export_all(&cfg).unwrap();
        StoreStats::export_all(&cfg).unwrap();
        BackupReport::export_all(&cfg).unwrap();
        BackupFolder::export_all(&cfg).unwrap();
        CommandError::export_all(&cfg).unwrap();
        JobProgress::export_all(&cfg).unwrap();
        NewAdmin::export_all(&cfg).unwrap();
        NewAccount::export_all(&cfg).unwrap();
        shelfkeeper_domain::model::Account::export_all(&cfg).unwrap();
        shelfkeeper_app::LookupAnswer::export_all(&cfg).unwrap();
        shelfkeeper_app::AddedTitle::export_all(&cfg).unwrap();
        shelfkeeper_app::StagedFile::export_all(&cfg).unwrap();
        shelfkeeper_app::ExportReport::export_all(&cfg).unwrap();
        shelfkeeper_app::ExportFormat::export_all(&cfg).unwrap();
        crate::catalogue_io::StageRequest::export_all(&cfg).unwrap();
        shelfkeeper_domain::import::ImportRow::export_all(&cfg).unwrap();
        shelfkeeper_domain::import::ImportSummary::export_all(&cfg).unwrap();
        shelfkeeper_domain::provenance::TitleField::export_all(&cfg).unwrap();
        crate::updates::UpdateStatus::export_all(&cfg).unwrap();
        crate::updates::UpdateProgress::export_all(&cfg).unwrap();
        shelfkeeper_sync_client::SyncOverview::export_all(&cfg).unwrap();
        shelfkeeper_sync_client::ConnectRequest::export_all(&cfg).unwrap();
        shelfkeeper_store::SyncRun::export_all(&cfg).unwrap();
        shelfkeeper_store::SyncConflict::export_all(&cfg).unwrap();
        shelfkeeper_store::ConflictAction::export_all(&cfg).unwrap();
        shelfkeeper_store::SyncProgress::export_all(&cfg).unwrap();
    }

    fn files(dir: &Path) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = std::fs::read_dir(dir)
            .map(|rd| {
                rd.filter_map(|e| e.ok())
                    .map(|e| (e.file_name().to_string_lossy().into_owned(), std::fs::read_to_string(e.path()).unwrap_or_default()))
                    .collect()
            })
            .unwrap_or_default();
        out.sort();
        out
    }

    #[test]
    fn typescript_bindings_are_up_to_date() {
        let checked_in = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../ui/src/lib/bindings");
        if std::env::var_os("UPDATE_BINDINGS").is_some() {
            let _ = std::fs::remove_dir_all(&checked_in);
            export_all(&checked_in);
            return;
        }
        let fresh = tempfile::tempdir().unwrap();
        export_all(fresh.path());
        assert!(
            files(fresh.path()) == files(&checked_in),
            "ui/src/lib/bindings is stale: run `UPDATE_BINDINGS=1 cargo test -p shelfkeeper-desktop bindings` and commit the result"
        );
    }

    use super::wiring;

    /// The checked-in copies of the command list: regenerated and compared,
    /// like the types above.
    #[test]
    fn command_wiring_is_up_to_date() {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let commands = wiring::commands(&root.join("src")).unwrap();
        assert!(commands.len() > 10, "found only {} commands: is the parser still reading src/?", commands.len());
        let copies = [
            (root.join("capabilities/default.json"), wiring::capability_json(&commands)),
            (root.join("../ui/src/lib/commands.ts"), wiring::commands_ts(&commands)),
        ];
        if std::env::var_os("UPDATE_BINDINGS").is_some() {
            for (path, text) in &copies {
                std::fs::write(path, text).unwrap();
            }
            return;
        }
        for (path, text) in &copies {
            let on_disk = std::fs::read_to_string(path).unwrap_or_default();
            assert!(
                &on_disk == text,
                "{} is stale: run `UPDATE_BINDINGS=1 cargo test -p shelfkeeper-desktop bindings` and commit the result",
                path.display()
            );
        }
        // Every type a wrapper names is one the bindings export.
        let bindings = root.join("../ui/src/lib/bindings");
        for c in &commands {
            for t in &c.types {
                assert!(
                    bindings.join(format!("{t}.ts")).exists(),
                    "command {} uses {t}, which no binding exports: add it to export_all",
                    c.name
                );
            }
        }
    }
}
