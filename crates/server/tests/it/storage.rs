//! The portable-SQL assumptions the db module rests on.

use crate::both;
use crate::support::{Backend, TestDb};
use shelfkeeper_server::db::Db;
use sqlx::Row;

async fn numbered_placeholders_bind_by_number(b: Backend) {
    let t = TestDb::new(b).await;
    let db = Db::connect(&t.url).await.unwrap();
    // `$2` before `$1`, and `$1` twice: both drivers bind by number.
    let row = sqlx::query("SELECT $2 || '-' || $1 || '-' || $1 AS s").bind("a").bind("b").fetch_one(&db.pool).await.unwrap();
    assert_eq!(row.try_get::<String, _>("s").unwrap(), "b-a-a");
    let row = sqlx::query("SELECT CAST($1 AS BIGINT) + 1 AS n").bind(41_i64).fetch_one(&db.pool).await.unwrap();
    assert_eq!(row.try_get::<i64, _>("n").unwrap(), 42);
}
both!(numbered_placeholders_bind_by_number);

async fn migrations_apply_once_and_again(b: Backend) {
    let t = TestDb::new(b).await;
    let db = Db::connect(&t.url).await.unwrap();
    assert_eq!(
        db.backend,
        if b == Backend::Sqlite { shelfkeeper_server::db::Backend::Sqlite } else { shelfkeeper_server::db::Backend::Postgres }
    );
    drop(db);
    // A restart finds the schema in place and applies nothing twice.
    let db = Db::connect(&t.url).await.unwrap();
    let n: i64 = sqlx::query("SELECT COUNT(*) AS n FROM accounts").fetch_one(&db.pool).await.unwrap().try_get("n").unwrap();
    assert_eq!(n, 0);
}
both!(migrations_apply_once_and_again);

#[tokio::test]
async fn bad_database_urls_are_clear_errors() {
    let e = Db::connect("mysql://u:pw@h/db").await.err().unwrap().to_string();
    assert!(e.contains("neither sqlite") && !e.contains("pw"), "{e}");
    // Nothing listens on port 1.
    let e = Db::connect("postgres://u:hunter2@127.0.0.1:1/db").await.err().unwrap().to_string();
    assert!(e.contains("cannot connect") && e.contains("127.0.0.1:1") && !e.contains("hunter2"), "{e}");
    let e = Db::connect("sqlite:///nonexistent-dir/sub/x.sqlite3").await.err().unwrap().to_string();
    assert!(e.contains("cannot connect") && e.contains("nonexistent-dir"), "{e}");
}

/// A stand-in for a PostgreSQL server without TLS: it answers the
/// SSLRequest with 'N', as such a server does, and counts the bytes a
/// client sends after that (a client that went on in clear would send its
/// startup message, user name included).
async fn server_without_tls() -> (u16, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let after = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = after.clone();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let seen = seen.clone();
            tokio::spawn(async move {
                let mut request = [0u8; 8];
                if sock.read_exact(&mut request).await.is_ok() && request[4..] == [0x04, 0xd2, 0x16, 0x2f] {
                    let _ = sock.write_all(b"N").await;
                    let mut rest = Vec::new();
                    let _ = tokio::time::timeout(std::time::Duration::from_secs(2), sock.read_to_end(&mut rest)).await;
                    seen.fetch_add(rest.len(), std::sync::atomic::Ordering::SeqCst);
                }
            });
        }
    });
    (port, after)
}

/// TLS to PostgreSQL is built in (rustls): `sslmode=require` or
/// `verify-full` against a server that refuses TLS is an error that says
/// so, and nothing goes to the server in clear; against the test server
/// `require` is encrypted when it has TLS on (Debian's default, with its
/// self-signed certificate, which `verify-full` then refuses) and the same
/// clear error when it has not.
#[tokio::test]
async fn postgres_tls_is_required_when_asked() {
    let (port, after) = server_without_tls().await;
    for mode in ["require", "verify-ca", "verify-full"] {
        let e = Db::connect(&format!("postgres://u:hunter2@127.0.0.1:{port}/db?sslmode={mode}")).await.err().unwrap().to_string();
        assert!(e.contains(&format!("sslmode={mode}")) && e.contains("does not accept TLS") && !e.contains("hunter2"), "{e}");
    }
    assert_eq!(after.load(std::sync::atomic::Ordering::SeqCst), 0, "nothing after the refusal: no startup message in clear");

    if crate::support::skip_postgres() {
        return;
    }
    let t = TestDb::new(Backend::Postgres).await;
    let plain = Db::connect(&t.url).await.unwrap();
    let ssl: String = sqlx::query("SHOW ssl").fetch_one(&plain.pool).await.unwrap().get("ssl");
    let sep = if t.url.contains('?') { '&' } else { '?' };
    let required = Db::connect(&format!("{}{sep}sslmode=require", t.url)).await;
    if ssl == "on" {
        let db = required.expect("the server has TLS on");
        let n: i64 = sqlx::query("SELECT COUNT(*) AS n FROM pg_stat_ssl WHERE pid = pg_backend_pid() AND ssl")
            .fetch_one(&db.pool)
            .await
            .unwrap()
            .get("n");
        assert_eq!(n, 1, "the connection is encrypted");
        let e = Db::connect(&format!("{}{sep}sslmode=verify-full", t.url)).await.err().expect("a self-signed certificate").to_string();
        assert!(e.contains("sslmode=verify-full") && e.contains("sslrootcert"), "{e}");
    } else {
        let e = required.err().expect("the server has TLS off").to_string();
        assert!(e.contains("sslmode=require") && e.contains("does not accept TLS"), "{e}");
    }
}

/// Housekeeping removes sessions ended more than a day ago, with their
/// refresh tokens, and keeps live ones.
async fn ended_sessions_are_purged(b: Backend) {
    let t = TestDb::new(b).await;
    let db = Db::connect(&t.url).await.unwrap();
    assert!(db.insert_account("a1", "a@example.org", "A", "x").await.unwrap());
    let day = 24 * 3600 * 1000;
    db.create_session("old", "a1", "hash-old", -2 * day).await.unwrap();
    db.create_session("live", "a1", "hash-live", day).await.unwrap();
    db.create_session("revoked", "a1", "hash-revoked", day).await.unwrap();
    db.revoke_session("revoked", "test").await.unwrap();
    assert!(db.purge_expired().await.unwrap() >= 2);
    let ids: Vec<String> =
        sqlx::query("SELECT id FROM sessions ORDER BY id").fetch_all(&db.pool).await.unwrap().iter().map(|r| r.get("id")).collect();
    // Revoked just now: kept for a day (reuse of its tokens still detected).
    assert_eq!(ids, ["live", "revoked"]);
    let tokens: i64 = sqlx::query("SELECT COUNT(*) AS n FROM refresh_tokens").fetch_one(&db.pool).await.unwrap().get("n");
    assert_eq!(tokens, 2);
}
both!(ended_sessions_are_purged);
