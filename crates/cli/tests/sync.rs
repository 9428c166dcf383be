//! Sync from the command line against a real server (in process, on port
//! 0, over a SQLite file), with the refresh token in a real Secret Service
//! keychain: gnome-keyring in a private D-Bus session (`dbus-run-session`),
//! with a private HOME so the keyring file is the test's own.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const PASSWORD: &str = "correct horse battery";
const EMAIL: &str = "desk@branch.example";

fn cli() -> &'static str {
    env!("CARGO_BIN_EXE_shelfkeeper")
}

/// A server on port 0 with one verified staff account and one library.
struct Server {
    url: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    _dir: tempfile::TempDir,
}

impl Server {
    async fn start() -> Server {
        Server::with_libraries(&["Riverside branch"]).await
    }

    /// A server whose account is the administrator of each named library.
    async fn with_libraries(names: &[&str]) -> Server {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let dir = tempfile::tempdir().unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let cfg = shelfkeeper_server::Config {
            database_url: format!("sqlite://{}", dir.path().join("server.sqlite3").display()),
            data_dir: Some(dir.path().to_path_buf()),
            token_secret: "test-secret-test-secret-test-secret-0123".into(),
            hash_workers: 2,
            listen: addr,
            public_url: format!("http://{addr}"),
            ..shelfkeeper_server::Config::default()
        };
        let state = shelfkeeper_server::AppState::new(cfg).await.unwrap();
        let hash = shelfkeeper_domain::password::hash(PASSWORD).unwrap();
        let account = uuid::Uuid::now_v7().to_string();
        assert!(state.db.insert_account(&account, EMAIL, "Front desk", &hash).await.unwrap());
        state.db.mark_email_verified(&account).await.unwrap();
        for name in names {
            state.db.create_library(&uuid::Uuid::now_v7().to_string(), name, &account).await.unwrap();
        }
        let (tx, rx) = tokio::sync::oneshot::channel();
        tokio::spawn(shelfkeeper_server::serve(listener, state, async move {
            let _ = rx.await;
        }));
        Server { url: format!("http://{addr}"), stop: Some(tx), _dir: dir }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

fn need(tool: &str) {
    let found = std::env::var_os("PATH").is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(tool).is_file()));
    // No silent skip: scripts/test.sh installs these.
    assert!(found, "{tool} is missing: install dbus and gnome-keyring (scripts/test.sh does)");
}

/// Runs a shell script in a fresh D-Bus session with an unlocked
/// gnome-keyring, HOME set to `home`, the CLI as `$SK`.
fn in_keyring_session(home: &Path, script: &str) -> Output {
    need("dbus-run-session");
    need("gnome-keyring-daemon");
    let wrapped =
        format!("echo -n keyring-pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null 2>&1 || exit 97\nset -e\n{script}");
    // Each session gets its own runtime directory (gnome-keyring's control
    // socket lives there; a stale one would point at the last session's
    // dead bus), the same HOME (the keyring file, so secrets persist).
    let runtime = tempfile::tempdir().unwrap();
    Command::new("dbus-run-session")
        .args(["--", "sh", "-c", &wrapped])
        .env("HOME", home)
        .env("XDG_DATA_HOME", home.join(".local/share"))
        .env("XDG_RUNTIME_DIR", runtime.path())
        .env("SK", cli())
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .output()
        .expect("dbus-run-session runs")
}

/// Runs `script` in a keyring session off the async runtime; it must
/// succeed. Returns everything it printed.
async fn run_in_keyring_session(home: &Path, script: String) -> String {
    let home = home.to_path_buf();
    let out = tokio::task::spawn_blocking(move || in_keyring_session(&home, &script)).await.unwrap();
    let all = text(&out);
    assert!(out.status.success(), "{all}");
    all
}

fn text(o: &Output) -> String {
    format!("status {:?}\nstdout:\n{}\nstderr:\n{}", o.status, String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn init(dir: &Path, name: &str) -> PathBuf {
    let store = dir.join(name);
    let out = Command::new(cli()).arg("--store").arg(&store).args(["init", "--library"]).output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
    store
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_stores_sync_through_the_server_with_the_sign_in_in_the_keychain() {
    let server = Server::start().await;
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let a = init(dir.path(), "front.sqlite3");
    let b = init(dir.path(), "back.sqlite3");
    let script = format!(
        r#"
echo '{PASSWORD}' | "$SK" --store '{a}' sync connect '{url}' '{EMAIL}' --device 'Front desk'
"$SK" --store '{a}' add-title --title 'The Left Hand of Darkness' --author 'Ursula K. Le Guin' --copy B0001 >/dev/null
"$SK" --store '{a}' add-member M0001 'Ada Lovelace' >/dev/null
"$SK" --store '{a}' checkout M0001 B0001 >/dev/null
"$SK" --store '{a}' sync now
echo '{PASSWORD}' | "$SK" --store '{b}' sync connect '{url}' '{EMAIL}' --library 'Riverside branch' --device 'Back office'
"$SK" --store '{b}' sync now
echo '== found on b'
"$SK" --store '{b}' find 'left hand'
"$SK" --store '{b}' loans
echo '== status a'
"$SK" --store '{a}' sync status
"#,
        a = a.display(),
        b = b.display(),
        url = server.url,
    );
    let all = run_in_keyring_session(&home, script).await;
    assert!(all.contains("Connected to 'Riverside branch' on http://127.0.0.1:"), "{all}");
    let on_b = all.split("== found on b").nth(1).unwrap();
    assert!(on_b.contains("The Left Hand of Darkness"), "{all}");
    assert!(on_b.contains("B0001") && on_b.contains("M0001"), "the loan came over too: {all}");
    let status_a = all.split("== status a").nth(1).unwrap();
    assert!(status_a.contains("0 changes waiting to be sent"), "{all}");

    // The store holds no secret: without the keychain there is no sign-in.
    let raw = std::fs::read(&a).unwrap();
    let raw = String::from_utf8_lossy(&raw);
    assert!(raw.contains("sync.connection"), "the connection is in the store");
    assert!(!raw.contains("refresh_token"), "no token in the store file");
    let no_keychain = Command::new(cli())
        .arg("--store")
        .arg(&a)
        .args(["sync", "now"])
        .env("HOME", &home)
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&no_keychain.stderr);
    assert!(!no_keychain.status.success());
    assert!(err.starts_with("error[keychain_unavailable]: no keychain is available"), "{err}");

    // Disconnecting keeps the data and forgets the server and the token.
    let script = format!(
        r#"
"$SK" --store '{a}' sync disconnect
"$SK" --store '{a}' sync status
"$SK" --store '{a}' find 'left hand'
"$SK" --store '{a}' sync now || echo "exit $?"
"#,
        a = a.display()
    );
    let out = tokio::task::spawn_blocking(move || in_keyring_session(&home, &script)).await.unwrap();
    let all = text(&out);
    assert!(out.status.success(), "{all}");
    assert!(all.contains("Disconnected; everything local is kept"), "{all}");
    assert!(all.contains("Not connected to a sync server"), "{all}");
    assert!(all.contains("The Left Hand of Darkness"), "{all}");
    assert!(all.contains("error[not_connected]"), "{all}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_keychain_connecting_says_so_and_saves_nothing() {
    let server = Server::start().await;
    let dir = tempfile::tempdir().unwrap();
    let store = init(dir.path(), "desk.sqlite3");
    let url = server.url.clone();
    let out = tokio::task::spawn_blocking(move || {
        use std::io::Write;
        let mut child = Command::new(cli())
            .arg("--store")
            .arg(&store)
            .args(["sync", "connect", &url, EMAIL])
            .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(format!("{PASSWORD}\n").as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        let status = Command::new(cli()).arg("--store").arg(&store).args(["sync", "status"]).output().unwrap();
        (out, status)
    })
    .await
    .unwrap();
    let (out, status) = out;
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.starts_with("error[keychain_unavailable]: no keychain is available to keep the sync server's sign-in"), "{err}");
    assert!(err.contains("GNOME Keyring"), "says what to do: {err}");
    assert!(String::from_utf8_lossy(&status.stdout).contains("Not connected"), "{}", text(&status));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_or_server_is_a_clear_error() {
    let server = Server::start().await;
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let store = init(dir.path(), "desk.sqlite3");
    let script = format!(
        r#"
echo 'not the password' | "$SK" --store '{s}' sync connect '{url}' '{EMAIL}' || echo "exit $?"
echo '{PASSWORD}' | "$SK" --store '{s}' sync connect 'http://127.0.0.1:9' '{EMAIL}' || echo "exit $?"
echo '{PASSWORD}' | "$SK" --store '{s}' sync connect 'ftp://example.org' '{EMAIL}' || echo "exit $?"
echo '{PASSWORD}' | "$SK" --store '{s}' sync connect '{url}' '{EMAIL}' --library 'Elsewhere' || echo "exit $?"
"$SK" --store '{s}' sync status
"#,
        s = store.display(),
        url = server.url
    );
    let out = tokio::task::spawn_blocking(move || in_keyring_session(&home, &script)).await.unwrap();
    let all = text(&out);
    assert!(out.status.success(), "{all}");
    assert!(all.contains("error[sync_sign_in]: sign in to the sync server again: wrong email or password"), "{all}");
    assert!(all.contains("error[sync_offline]: the sync server cannot be reached"), "{all}");
    assert!(all.contains("error[invalid]: server: 'ftp' is neither http nor https"), "{all}");
    assert!(all.contains("is not staff of a library 'Elsewhere' on this server (it is of: 'Riverside branch')"), "{all}");
    assert!(all.contains("Not connected to a sync server"), "{all}");
}

/// A store that synced with one library cannot be connected to another:
/// its unsent changes (and every later edit of its rows) would go into the
/// other library's feed. Its own library takes it back, and gets them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_is_not_connected_to_a_second_library() {
    let server = Server::with_libraries(&["Riverside branch", "Hillside branch"]).await;
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let a = init(dir.path(), "front.sqlite3");
    let fresh = init(dir.path(), "hillside.sqlite3");
    let script = format!(
        r#"
echo '{PASSWORD}' | "$SK" --store '{a}' sync connect '{url}' '{EMAIL}' --library 'Riverside branch' --device 'Front desk'
"$SK" --store '{a}' add-title --title 'Kindred' --author 'Octavia E. Butler' --copy B0001 >/dev/null
"$SK" --store '{a}' sync now >/dev/null
"$SK" --store '{a}' sync disconnect
"$SK" --store '{a}' add-member M0001 'Ada Lovelace' >/dev/null
echo '== to hillside'
if echo '{PASSWORD}' | "$SK" --store '{a}' sync connect '{url}' '{EMAIL}' --library 'Hillside branch' --device 'Front desk' 2>&1; then
    echo 'CONNECTED TO THE WRONG LIBRARY'
fi
echo '== status'
"$SK" --store '{a}' sync status
echo '== back to riverside'
echo '{PASSWORD}' | "$SK" --store '{a}' sync connect '{url}' '{EMAIL}' --library 'Riverside branch' --device 'Front desk'
"$SK" --store '{a}' sync now >/dev/null
"$SK" --store '{a}' sync status
echo '== a new store for hillside'
echo '{PASSWORD}' | "$SK" --store '{fresh}' sync connect '{url}' '{EMAIL}' --library 'Hillside branch' --device 'Back office'
"$SK" --store '{fresh}' sync now >/dev/null
"$SK" --store '{fresh}' history M0001 2>&1 || echo 'NO SUCH MEMBER'
"$SK" --store '{fresh}' find kindred
"#,
        a = a.display(),
        fresh = fresh.display(),
        url = server.url,
    );
    let all = run_in_keyring_session(&home, script).await;
    let refused = all.split("== to hillside").nth(1).unwrap().split("== status").next().unwrap();
    assert!(!refused.contains("CONNECTED TO THE WRONG LIBRARY"), "{all}");
    assert!(refused.contains("holds another library's data and 1 change not yet sent to it"), "{all}");
    assert!(refused.contains("Start a new store for 'Hillside branch'"), "{all}");
    let status = all.split("== status").nth(1).unwrap().split("== back to riverside").next().unwrap();
    assert!(status.contains("Not connected") || status.contains("not connected"), "nothing was saved: {all}");
    let back = all.split("== back to riverside").nth(1).unwrap().split("== a new store").next().unwrap();
    assert!(back.contains("0 changes waiting to be sent"), "its own library took the waiting change: {all}");
    let hillside = all.split("== a new store for hillside").nth(1).unwrap();
    assert!(hillside.contains("NO SUCH MEMBER") && !hillside.contains("Kindred"), "nothing of Riverside reached Hillside: {all}");
}
