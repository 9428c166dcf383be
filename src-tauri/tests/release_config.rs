//! What ships: the production configuration of the desktop program, the
//! one version number, and the line between release builds and the update
//! test's builds.

use serde_json::Value;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(root().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn json(rel: &str) -> Value {
    serde_json::from_str(&read(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// `version = "x"` under `[workspace.package]` in the root Cargo.toml.
fn workspace_version() -> String {
    let toml = read("Cargo.toml");
    let section = toml.split("[workspace.package]").nth(1).expect("[workspace.package]");
    let line = section.lines().find(|l| l.trim_start().starts_with("version")).expect("workspace version");
    line.split('"').nth(1).expect("quoted version").to_string()
}

/// Every key anywhere in `v`, with its value.
fn walk<'a>(v: &'a Value, out: &mut Vec<(&'a str, &'a Value)>) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                out.push((k, v));
                walk(v, out);
            }
        }
        Value::Array(a) => a.iter().for_each(|v| walk(v, out)),
        _ => {}
    }
}

#[test]
fn the_production_updater_uses_https_and_the_release_key_never_the_test_setup() {
    let conf = json("src-tauri/tauri.conf.json");
    let updater = &conf["plugins"]["updater"];
    let endpoints = updater["endpoints"].as_array().expect("updater endpoints");
    assert!(!endpoints.is_empty());
    for e in endpoints {
        let e = e.as_str().unwrap();
        assert!(e.starts_with("https://"), "production endpoint must be https: {e}");
        assert!(!e.contains("127.0.0.1") && !e.contains("localhost"), "production endpoint is local: {e}");
    }
    let mut keys = Vec::new();
    walk(&conf, &mut keys);
    for (k, _) in &keys {
        assert!(!k.to_ascii_lowercase().starts_with("dangerous"), "a dangerous setting in the production config: {k}");
    }
    for (rel, conf) in [
        ("tauri.windows.conf.json", json("src-tauri/tauri.windows.conf.json")),
        ("tauri.macos.conf.json", json("src-tauri/tauri.macos.conf.json")),
    ] {
        let mut keys = Vec::new();
        walk(&conf, &mut keys);
        assert!(keys.iter().all(|(k, _)| !k.to_ascii_lowercase().starts_with("dangerous") && *k != "plugins"), "{rel} touches the updater");
    }

    // The signed version must match the announced one (no replay of an old release).
    assert_eq!(updater["requireSignedVersion"], true);
    // A real minisign public key, and not the throwaway one of the update test.
    let pubkey = updater["pubkey"].as_str().expect("pubkey");
    let test_key = read("src-tauri/tests/update/test-update.key.pub");
    assert_ne!(pubkey.trim(), test_key.trim(), "the production config carries the test key");
    let decoded = base64_decode(pubkey);
    assert!(decoded.starts_with("untrusted comment: minisign public key"), "not a minisign public key: {decoded}");

    // The test overlay is what it says, so the checks above mean something.
    let overlay = json("src-tauri/tests/update/tauri.update-test.json");
    assert_eq!(overlay["plugins"]["updater"]["pubkey"].as_str().unwrap().trim(), test_key.trim());
    assert_eq!(overlay["plugins"]["updater"]["dangerousInsecureTransportProtocol"], true);
    assert!(overlay["plugins"]["updater"]["endpoints"][0].as_str().unwrap().starts_with("http://127.0.0.1:"));

    // No private key anywhere in the repository's desktop folder but the test's.
    let private_marker = "rsign encrypted secret key";
    for entry in std::fs::read_dir(root().join("src-tauri")).unwrap().flatten() {
        if entry.path().is_file() {
            let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
            assert!(!base64_decode(text.trim()).contains(private_marker), "{} holds a private key", entry.path().display());
        }
    }
}

#[test]
fn bundles_carry_their_metadata_and_local_targets_never_need_the_network() {
    let conf = json("src-tauri/tauri.conf.json");
    let b = &conf["bundle"];
    assert_eq!(b["license"], "AGPL-3.0-or-later");
    for field in ["publisher", "shortDescription", "longDescription", "homepage", "category", "copyright"] {
        assert!(b[field].as_str().is_some_and(|s| !s.is_empty()), "bundle.{field} is missing");
    }
    assert_eq!(b["createUpdaterArtifacts"], true);
    let targets: Vec<&str> = b["targets"].as_array().unwrap().iter().map(|t| t.as_str().unwrap()).collect();
    assert_eq!(targets, ["deb", "rpm"], "AppImage downloads tools at build time: release pipeline only (scripts/bundle.sh --appimage)");
    assert!(b["windows"].is_object() && b["macOS"].is_object(), "Windows and macOS bundle settings");
    // The content security policy stays strict: nothing remote in the webview.
    let csp = conf["app"]["security"]["csp"].as_object().unwrap();
    assert_eq!(csp["default-src"], "'self'");
    assert_eq!(csp["connect-src"], "ipc: http://ipc.localhost");
}

#[test]
fn one_version_for_workspace_app_ui_and_server() {
    let version = workspace_version();
    let conf = json("src-tauri/tauri.conf.json");
    // Without a `version`, Tauri takes the crate's version (the workspace's).
    assert!(conf.get("version").is_none() || conf["version"] == version.as_str(), "tauri.conf.json version differs from {version}");
    assert_eq!(json("ui/package.json")["version"], version.as_str(), "ui/package.json");
    assert_eq!(json("ui/package-lock.json")["version"], version.as_str(), "ui/package-lock.json");
    for dir in std::fs::read_dir(root().join("crates")).unwrap().flatten() {
        let manifest = std::fs::read_to_string(dir.path().join("Cargo.toml")).unwrap();
        assert!(manifest.contains("version.workspace = true"), "{} has its own version", dir.path().display());
    }
    assert!(read("src-tauri/Cargo.toml").contains("version.workspace = true"));
    assert_eq!(env!("CARGO_PKG_VERSION"), version);
    let changelog = read("CHANGELOG.md");
    assert!(changelog.contains(&format!("## [{version}]")), "CHANGELOG.md has no section for {version}");
}

#[test]
fn the_release_bundles_carry_no_test_overlay() {
    let bundle = read("scripts/bundle.sh");
    let (before, rest) = bundle.split_once("# --- update test only").expect("bundle.sh marks its update-test block");
    let (_, after) = rest.split_once("# --- end of update test only ---").expect("bundle.sh ends its update-test block");
    for outside in [before, after] {
        for needle in ["tauri.update-test", "test-update.key"] {
            assert!(!outside.contains(needle), "scripts/bundle.sh uses {needle} outside its --update-test block");
        }
    }
}

fn base64_decode(s: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut bits = 0u32;
    let mut n = 0;
    let mut out = Vec::new();
    for c in s.bytes() {
        let Some(v) = ALPHABET.iter().position(|&a| a == c) else { continue };
        bits = (bits << 6) | v as u32;
        n += 6;
        if n >= 8 {
            n -= 8;
            out.push((bits >> n) as u8);
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
