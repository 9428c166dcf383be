// The command list is the #[tauri::command] functions themselves (see
// wiring.rs): the app manifest (one `allow-<command>` permission each) and the
// `generate_handler!` list are made from them here, at build time.
#[path = "wiring.rs"]
#[allow(dead_code)] // the checked-in copies are the bindings test's part
mod wiring;

fn main() {
    let src = std::path::Path::new("src");
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=wiring.rs");
    let commands = wiring::commands(src).unwrap_or_else(|e| panic!("command wiring: {e}"));
    let out = std::path::PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR"));
    std::fs::write(out.join("handler.rs"), wiring::handler_rs(&commands)).expect("write handler.rs");
    // tauri-build wants a 'static list; a build script lives only this long.
    let names: &'static [&'static str] =
        Box::leak(commands.into_iter().map(|c| &*Box::leak(c.name.into_boxed_str())).collect::<Vec<_>>().into_boxed_slice());
    tauri_build::try_build(tauri_build::Attributes::new().app_manifest(tauri_build::AppManifest::new().commands(names)))
        .expect("tauri build configuration");
}
