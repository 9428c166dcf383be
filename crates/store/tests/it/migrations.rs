//! Frozen migrations: every migration on main is pinned by its checksum.
//!
//! sqlx records the SHA-384 of each migration it applies and refuses to open
//! a database whose record differs from the build's migration, so editing a
//! migration that any build has applied locks its users out of their data.
//! These tests fail on any edit (store and both server folders) and on a
//! migration that is not pinned yet.

use sqlx::migrate::Migrator;
use std::path::Path;

const STORE: &[(&str, &str)] = &[
    ("0001_foundation.sql", "df4c26ad195dcb01339ae266cc0ea269da7f665b5d94ceb24785b18685584832ba3869deae97010b88f003a8b772fbc4"),
    ("0002_covers.sql", "1c4fbc7589028988cf31edaeb519cc5ab74d8fe88acd95fbccbcdf8690b54ea3375baa13680abb97900231a7851e7cc8"),
    ("0003_imports_and_lookups.sql", "a6fa0b3ae28a7c754b401660c05841cea5b908f6b326decf2caf13a90c9c85aebb292c61ad8cdc3e5e3dcdaca59b4d7a"),
    ("0004_sync.sql", "33f6afcc3eca85980797ef9746aab732d43167effc4a75118c88e53b203b84d8064458968883c60fe5d323a1d79de943"),
    ("0005_conflict_resolutions.sql", "cc1d07c9bf01acc3b038d8da1acafa552cd316ed9ac5ef99aa8288f6ac566283cfbf3c7d293d099424824b1ff568a9ee"),
    ("0006_imports_quiet_hlc.sql", "3068834c3f9eb9c10d7a125175734013d6489c008267f4f7bb76df52d96c6197a15545f96a72d1aead9b8a6490840319"),
    ("0007_quarantined_changes.sql", "e8a949106049d6090312f03712719c695b5c436b2f7735b2a364dcdd158d936f7ae5ddcca5055bee9355a80a126c2b6e"),
    (
        "0008_default_member_types_unsent.sql",
        "cf7718d2095b5c21920f337be560b69fcbdb095f5217e65b5b1486d2d09553fcf7359c117c135ed85de577befac9729e",
    ),
    (
        "0009_tombstones_by_entity_and_unreused_log.sql",
        "8b4c72a9303ddbebfdc30b6f0962b5ad413ce8b527a3c3d8888fb49e45c4de3f75acdc79193263280154ac9dd290a372",
    ),
    ("0010_cover_sync.sql", "76fd3547297ce77eb04997386c0798d1722274ab2cdfd3f01f50c1d55bbe0f73beddd29234ce165019518ba6f2219aaa"),
];

const SERVER_POSTGRES: &[(&str, &str)] = &[
    ("0001_accounts.sql", "346a2f74b272aff49f285d454fa66b3971bace8a03acc3a323bc851046c409af9267c2b43560eb212f96bd852649470f"),
    ("0002_catalogue.sql", "df555388767587953ea24967d440aa881d943ea5982e7ae88e9a42c4a3e15be5406cce53451004c198eeb9098a1a9386"),
    ("0003_circulation.sql", "9a8824c12ec61be4f0869acbf12da00b187d23a896343f19675e0ad871f8756ef0f80f71ba54d22c65ef4c5d84d2632a"),
    ("0004_holds_reviews.sql", "6a4f9fed6f81ced95ea1b2d124e1b26a148268d8a501f181d8c3d489ed318f11a9f8eabb82bf1a53ee925cc75e3e5c8e"),
    ("0005_search_index.sql", "aada8550b3b7349b3b64cad111e4ebc793d5acd51b6a349883947a75a87298f08a61b0af72761741b9de5d3e8bca9714"),
    ("0006_lost.sql", "36c2f7d50215a7cc9789be19313b1f34662bc21c38e46583439b5243fdb053c83c9174d699ab0570a282788f9f0b03df"),
    ("0007_relevance.sql", "6ebd53522739bda3c16b8f8764c4601d75914d8c298476ace246266c40af9e6df44b7c4954fa679cab0be4030d5fabc5"),
    ("0008_sync.sql", "c4cd2b063dab012dd49911cb570598f4dba00f8553fe6242eb98aae1215a83951f047496d00ab0ea9fc5aa1beefa787f"),
    ("0009_projection.sql", "b325542afd95e55ecc96ad21a206842bd8a220dadf160273b0226a47ada3a06b3a1b9480776500db78054ffd204f2d6e"),
    ("0010_events_by_title.sql", "68bf089fb0208347b67b2e46c2866bf1ee714f774c3a7aa39fdceaab8de097c41514038f5ba41773b864bbaeaf9db0cf"),
    ("0011_replica.sql", "52ef847e29ef258a8ae1b10d5bf3ba7c843fb235a146385bb399887979f20c1bcb8ba056a175c0808990b01c69cf1857"),
    (
        "0012_tombstones_refresh_grace_key_scopes.sql",
        "bd1ba86577c52eafad2d8c3e93198273b7eb430e449d79a8ffb3d1a174569563949fea035346acc3e236eaf33ecff18f",
    ),
    ("0013_sync_covers.sql", "f47f974e43ec175f31ddb0867d64dbbcb3be13e876ad80b162ed98c092bb1cb28a753a7f58ebdf53e40f3e3b1007d85a"),
];

const SERVER_SQLITE: &[(&str, &str)] = &[
    ("0001_accounts.sql", "346a2f74b272aff49f285d454fa66b3971bace8a03acc3a323bc851046c409af9267c2b43560eb212f96bd852649470f"),
    ("0002_catalogue.sql", "2d3b30d33132da4e0ecd3296e391c17dfd707c29322c9b48802d886ebc7c9818934e0c05e8e48e006d20252194c6fc41"),
    ("0003_circulation.sql", "9a8824c12ec61be4f0869acbf12da00b187d23a896343f19675e0ad871f8756ef0f80f71ba54d22c65ef4c5d84d2632a"),
    ("0004_holds_reviews.sql", "6a4f9fed6f81ced95ea1b2d124e1b26a148268d8a501f181d8c3d489ed318f11a9f8eabb82bf1a53ee925cc75e3e5c8e"),
    ("0005_search_index.sql", "f5f713f923ccccf4cba5b8770bd5b3f57554b20c100ba98120322037bffb4dd98bcff6a641f247abc4a3b3e177df6b73"),
    ("0006_lost.sql", "36c2f7d50215a7cc9789be19313b1f34662bc21c38e46583439b5243fdb053c83c9174d699ab0570a282788f9f0b03df"),
    ("0007_relevance.sql", "6ebd53522739bda3c16b8f8764c4601d75914d8c298476ace246266c40af9e6df44b7c4954fa679cab0be4030d5fabc5"),
    ("0008_sync.sql", "c4cd2b063dab012dd49911cb570598f4dba00f8553fe6242eb98aae1215a83951f047496d00ab0ea9fc5aa1beefa787f"),
    ("0009_projection.sql", "b325542afd95e55ecc96ad21a206842bd8a220dadf160273b0226a47ada3a06b3a1b9480776500db78054ffd204f2d6e"),
    ("0010_events_by_title.sql", "68bf089fb0208347b67b2e46c2866bf1ee714f774c3a7aa39fdceaab8de097c41514038f5ba41773b864bbaeaf9db0cf"),
    ("0011_replica.sql", "7e7088bdac37ef3e3cf51d34516d2bb994b6a23056820ada6c49ec1a79b06d57f7d8097fc6791b34a948c881a5f0dd21"),
    (
        "0012_tombstones_refresh_grace_key_scopes.sql",
        "f125067b85bdfe8147a9be92bdbecc3af9b134437f2a7e4dfa0e46206b3c2fcc8932639f99ccc91d5baa875a68855b17",
    ),
    ("0013_sync_covers.sql", "c054b0904999170037e8345ca2d67a11df937067d95c2267bbad7a4e322fb2288fe6095fc4166727567828fcb6466431"),
];

/// Compares a migration folder (read the way `sqlx::migrate!` reads it)
/// with its pins and names every difference.
async fn check_frozen(folder: &str, pinned: &[(&str, &str)]) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(folder);
    let migrator = Migrator::new(dir.as_path()).await.unwrap();
    let mut problems = Vec::new();
    for m in migrator.iter() {
        let checksum: String = m.checksum.iter().map(|b| format!("{b:02x}")).collect();
        let name = format!("{:04}_{}.sql", m.version, m.description.replace(' ', "_"));
        match pinned.iter().find(|(file, _)| file.split('_').next().and_then(|v| v.parse::<i64>().ok()) == Some(m.version)) {
            Some((file, pin)) if *pin == checksum && *file == name => {}
            Some((file, _)) => problems.push(format!(
                "{folder}/{file} was edited (its checksum is no longer the pinned one). A migration that has been \
                 applied anywhere is never edited: stores and servers that applied it would refuse to start. \
                 Restore it and add a new migration for the change."
            )),
            None => problems.push(format!("{folder}/{name} is not pinned: add (\"{name}\", \"{checksum}\") to the list in {}", file!())),
        }
    }
    for (file, _) in pinned {
        let version = file.split('_').next().and_then(|v| v.parse::<i64>().ok());
        if !migrator.iter().any(|m| Some(m.version) == version) {
            problems.push(format!("{folder}/{file} is pinned but gone: a released migration is never removed"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[tokio::test]
async fn store_migrations_are_frozen() {
    check_frozen("migrations", STORE).await;
}

#[tokio::test]
async fn server_postgres_migrations_are_frozen() {
    check_frozen("crates/server/migrations/postgres", SERVER_POSTGRES).await;
}

#[tokio::test]
async fn server_sqlite_migrations_are_frozen() {
    check_frozen("crates/server/migrations/sqlite", SERVER_SQLITE).await;
}

/// A store made by one of the unreleased builds whose 0003 also added
/// `imports.quiet_hlc`: the same schema as 0003 + 0006 today, recorded as
/// the edited 0003 without 0006. It opens, and its record is repaired.
#[tokio::test]
async fn a_store_made_with_the_edited_0003_opens_and_is_repaired() {
    use shelfkeeper_domain::model::StoreMode;
    use shelfkeeper_store::Store;
    use sqlx::migrate::{Migration, MigrationType};
    use sqlx::sqlite::SqlitePoolOptions;

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dev-build.sqlite3");
    Store::create(&path, StoreMode::Collection).await.unwrap().close().await;

    // The checksum that build recorded: sqlx's own, of the text it shipped.
    let edited = Migration::new(
        3,
        "imports and lookups".into(),
        MigrationType::Simple,
        sqlx::SqlStr::from_static(include_str!("fixtures/0003_imports_and_lookups.edited.sql")),
        false,
    );
    let url = format!("sqlite://{}", path.display());
    let pool = SqlitePoolOptions::new().max_connections(1).connect(&url).await.unwrap();
    sqlx::query("UPDATE _sqlx_migrations SET checksum = ? WHERE version = 3").bind(edited.checksum.as_ref()).execute(&pool).await.unwrap();
    sqlx::query("DELETE FROM _sqlx_migrations WHERE version = 6").execute(&pool).await.unwrap();
    pool.close().await;

    let store = Store::open(&path).await.expect("a store made by the unreleased builds opens");
    let title = store.add_title(&shelfkeeper_domain::access::Actor::OWNER, &crate::helpers::draft("Dune", "Frank Herbert")).await.unwrap();
    store.close().await;

    let pool = SqlitePoolOptions::new().max_connections(1).connect(&url).await.unwrap();
    let released = Migrator::new(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations").as_path()).await.unwrap();
    for version in [3, 6] {
        let recorded: Vec<u8> =
            sqlx::query_scalar("SELECT checksum FROM _sqlx_migrations WHERE version = ?").bind(version).fetch_one(&pool).await.unwrap();
        let want = released.iter().find(|m| m.version == version).unwrap();
        assert_eq!(recorded, want.checksum.as_ref(), "migration {version} is recorded as released");
    }
    let columns: Vec<String> = sqlx::query_scalar("SELECT name FROM pragma_table_info('imports')").fetch_all(&pool).await.unwrap();
    assert_eq!(columns.iter().filter(|c| *c == "quiet_hlc").count(), 1);
    pool.close().await;
    let store = Store::open(&path).await.expect("opens again once repaired");
    assert_eq!(store.title(title.id).await.unwrap().title, "Dune");
    store.close().await;
}
