// Only the commands listed here exist for the webview, and each must also be
// granted in capabilities/default.json (`allow-<command>`).
const COMMANDS: &[&str] = &[
    "ui_ready",
    "app_status",
    "create_store",
    "open_store",
    "login",
    "logout",
    "search",
    "facets",
    "title_detail",
    "save_title",
    "delete_title",
    "add_copy",
    "update_copy",
    "delete_copy",
    "set_cover_from_file",
    "clear_cover",
    "find_members",
    "member_detail",
    "save_member",
    "set_member_blocked",
    "member_types",
    "save_member_type",
    "check_out",
    "check_in",
    "renew",
    "place_hold",
    "cancel_hold",
    "open_loans",
    "active_holds",
    "stats",
    "accounts",
    "create_account",
    "update_account",
    "backup_now",
    "list_backups",
    "restore_backup",
    "pick_save_path",
    "pick_open_path",
];

fn main() {
    tauri_build::try_build(tauri_build::Attributes::new().app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)))
        .expect("tauri build configuration");
}
