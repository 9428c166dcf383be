//! Configuration: defaults, then an optional TOML file, then
//! `SHELFKEEPER_SERVER_*` environment variables (`SHELFKEEPER_SERVER_SMTP_HOST`
//! sets `smtp.host`). Unknown keys are errors, so a typo never silently
//! falls back to a default. With no settings at all the server starts on a
//! SQLite file in the XDG data directory, listening on 127.0.0.1:8080.

use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

pub const ENV_PREFIX: &str = "SHELFKEEPER_SERVER_";
/// The variable naming the configuration file (not itself a setting).
pub const ENV_CONFIG_FILE: &str = "SHELFKEEPER_SERVER_CONFIG";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Address and port to listen on.
    pub listen: SocketAddr,
    /// `sqlite://PATH` or `postgres://...`; empty means a SQLite file in the
    /// data directory. PostgreSQL over TLS (rustls): add
    /// `?sslmode=require` (encrypted), `verify-ca` or `verify-full`
    /// (certificate checked against the webpki roots or `sslrootcert=FILE`;
    /// verify-full also checks the host name). With those modes a server that
    /// refuses TLS is an error at start, never a clear connection; the
    /// default, `prefer`, uses TLS when the server offers it.
    pub database_url: String,
    /// Where the state the server keeps beside its database lives (the
    /// default SQLite file, the generated token secret).
    pub data_dir: Option<PathBuf>,
    /// The address members reach the server at; links in emails start with it.
    pub public_url: String,
    /// Secret for signing access tokens, at least 32 bytes. Empty means one is
    /// generated once and kept in `data_dir/token-secret` (mode 0600).
    pub token_secret: String,
    pub access_token_ttl_secs: u64,
    pub refresh_token_ttl_secs: u64,
    pub email_token_ttl_secs: u64,
    pub max_body_bytes: usize,
    /// `text` or `json`.
    pub log_format: LogFormat,
    /// Concurrent password hashes; 0 means one per core.
    pub hash_workers: usize,
    /// How long a login may wait for a hashing slot before a 503.
    pub hash_queue_ms: u64,
    /// Reverse proxies whose `X-Forwarded-For` is believed: addresses or
    /// CIDR blocks (`["127.0.0.1", "10.0.0.0/8"]`, or in the environment
    /// `SHELFKEEPER_SERVER_TRUSTED_PROXIES=127.0.0.1,10.0.0.0/8`). The client is
    /// the rightmost hop that is not one of them. Empty (the default): the
    /// header is ignored.
    #[serde(deserialize_with = "proxies")]
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Replaced by `trusted_proxies`; `true` stops the start with a message
    /// saying so (it trusted the client's own leftmost entry).
    pub trust_forwarded_for: Option<bool>,
    /// The bearer token `/metrics` asks for (at least 16 characters); empty
    /// turns `/metrics` off. Metrics name routes, rates and timings, which
    /// are not for everyone who can reach the API.
    pub metrics_token: String,
    pub smtp: Smtp,
    pub limits: Limits,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Smtp {
    pub host: String,
    pub port: u16,
    /// `none` (plain SMTP, for a relay on the same host), `starttls`
    /// (STARTTLS required: a server that does not offer it gets nothing, and
    /// the failure is logged and counted in `shelfkeeper_mail_failed_total`)
    /// or `tls` (implicit TLS, SMTPS, usually port 465). Certificates are
    /// checked against the webpki roots.
    pub tls: SmtpTls,
    pub username: String,
    pub password: String,
    pub from: String,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum SmtpTls {
    None,
    Starttls,
    Tls,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Failed logins per account (by email, known or not) per hour.
    pub login_failures_per_account_per_hour: u32,
    /// Login attempts per client address per minute.
    pub login_attempts_per_ip_per_minute: u32,
    /// Reset (and new verification) mails per email address per hour.
    pub reset_requests_per_account_per_hour: u32,
    /// Requests that send mail (register, reset, new verification link)
    /// per client address per hour.
    pub reset_requests_per_ip_per_hour: u32,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            database_url: String::new(),
            data_dir: None,
            public_url: "http://127.0.0.1:8080".into(),
            token_secret: String::new(),
            access_token_ttl_secs: 15 * 60,
            refresh_token_ttl_secs: 30 * 24 * 3600,
            email_token_ttl_secs: 24 * 3600,
            max_body_bytes: 64 * 1024,
            log_format: LogFormat::Text,
            hash_workers: 0,
            hash_queue_ms: 5_000,
            trusted_proxies: Vec::new(),
            trust_forwarded_for: None,
            metrics_token: String::new(),
            smtp: Smtp::default(),
            limits: Limits::default(),
        }
    }
}

impl Default for Smtp {
    fn default() -> Self {
        Smtp {
            host: "127.0.0.1".into(),
            port: 25,
            tls: SmtpTls::None,
            username: String::new(),
            password: String::new(),
            from: "Shelfkeeper <noreply@localhost>".into(),
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            login_failures_per_account_per_hour: 100,
            login_attempts_per_ip_per_minute: 60,
            reset_requests_per_account_per_hour: 5,
            reset_requests_per_ip_per_hour: 30,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the configuration file {path}: {reason}")]
    Read { path: String, reason: String },
    #[error("configuration file {path}: {reason}")]
    File { path: String, reason: String },
    #[error("environment variable {var}: is not a setting (known: {known})")]
    UnknownEnv { var: String, known: String },
    #[error("configuration ({source_desc}): {reason}")]
    Invalid { source_desc: String, reason: String },
    #[error("cannot find a data directory: set {ENV_PREFIX}DATA_DIR, XDG_DATA_HOME or HOME")]
    NoDataDir,
    #[error("the data directory {path} cannot be used: {reason}")]
    DataDir { path: String, reason: String },
}

const TOP_KEYS: &[&str] = &[
    "listen",
    "database_url",
    "data_dir",
    "public_url",
    "token_secret",
    "access_token_ttl_secs",
    "refresh_token_ttl_secs",
    "email_token_ttl_secs",
    "max_body_bytes",
    "log_format",
    "hash_workers",
    "hash_queue_ms",
    "trusted_proxies",
    "trust_forwarded_for",
    "metrics_token",
];
const SECTIONS: &[&str] = &["smtp", "limits"];

impl Config {
    /// Loads from the file named by `file` (or `SHELFKEEPER_SERVER_CONFIG`)
    /// and the given environment, then checks the values.
    pub fn load(file: Option<&Path>, env: impl IntoIterator<Item = (String, String)>) -> Result<Config, ConfigError> {
        let env: Vec<(String, String)> = env.into_iter().filter(|(k, _)| k.starts_with(ENV_PREFIX)).collect();
        let file = file.map(Path::to_path_buf).or_else(|| env.iter().find(|(k, _)| k == ENV_CONFIG_FILE).map(|(_, v)| PathBuf::from(v)));
        let mut table = toml::Table::new();
        let mut sources = Vec::new();
        if let Some(path) = &file {
            let text =
                std::fs::read_to_string(path).map_err(|e| ConfigError::Read { path: path.display().to_string(), reason: e.to_string() })?;
            table =
                text.parse::<toml::Table>().map_err(|e| ConfigError::File { path: path.display().to_string(), reason: e.to_string() })?;
            sources.push(format!("file {}", path.display()));
        }
        for (var, value) in &env {
            if var == ENV_CONFIG_FILE {
                continue;
            }
            let key = var[ENV_PREFIX.len()..].to_ascii_lowercase();
            let (section, name) = match SECTIONS.iter().find(|s| key.starts_with(&format!("{s}_"))) {
                Some(s) => (Some(*s), key[s.len() + 1..].to_owned()),
                None => (None, key.clone()),
            };
            if section.is_none() && !TOP_KEYS.contains(&name.as_str()) {
                let mut known: Vec<String> = TOP_KEYS.iter().map(|k| format!("{ENV_PREFIX}{}", k.to_ascii_uppercase())).collect();
                known.push(format!("{ENV_PREFIX}SMTP_*, {ENV_PREFIX}LIMITS_*"));
                return Err(ConfigError::UnknownEnv { var: var.clone(), known: known.join(", ") });
            }
            let v = env_value(value);
            match section {
                Some(s) => {
                    let entry = table.entry(s).or_insert_with(|| toml::Value::Table(toml::Table::new()));
                    match entry {
                        toml::Value::Table(t) => {
                            t.insert(name, v);
                        }
                        _ => return Err(ConfigError::Invalid { source_desc: var.clone(), reason: format!("`{s}` must be a section") }),
                    }
                }
                None => {
                    table.insert(name, v);
                }
            }
            sources.push(var.clone());
        }
        let source_desc = if sources.is_empty() { "defaults".to_owned() } else { sources.join(", ") };
        let cfg: Config = toml::Value::Table(table)
            .try_into()
            .map_err(|e: toml::de::Error| ConfigError::Invalid { source_desc: source_desc.clone(), reason: e.to_string() })?;
        cfg.check().map_err(|reason| ConfigError::Invalid { source_desc, reason })?;
        Ok(cfg)
    }

    fn check(&self) -> Result<(), String> {
        let db = &self.database_url;
        let known_scheme = db.is_empty() || db.starts_with("sqlite:") || db.starts_with("postgres://") || db.starts_with("postgresql://");
        if !known_scheme {
            return Err(format!(
                "database_url must start with sqlite:, postgres:// or postgresql://, not '{}'",
                redact_url(&self.database_url)
            ));
        }
        if self.trust_forwarded_for == Some(true) {
            return Err("trust_forwarded_for is replaced by trusted_proxies: list the reverse proxies whose X-Forwarded-For \
                        to believe, e.g. trusted_proxies = [\"127.0.0.1\"] (the old setting believed the client's own entry)"
                .into());
        }
        if self.trusted_proxies.len() > 64 {
            return Err("trusted_proxies: at most 64 entries (use CIDR blocks)".into());
        }
        if !self.metrics_token.is_empty() && self.metrics_token.chars().count() < 16 {
            return Err("metrics_token must be at least 16 characters (or empty to turn /metrics off)".into());
        }
        if !self.token_secret.is_empty() && self.token_secret.len() < 32 {
            return Err("token_secret must be at least 32 bytes (or empty to generate one)".into());
        }
        if !(self.public_url.starts_with("http://") || self.public_url.starts_with("https://")) {
            return Err(format!("public_url must start with http:// or https://, not '{}'", self.public_url));
        }
        if self.access_token_ttl_secs == 0 || self.refresh_token_ttl_secs == 0 || self.email_token_ttl_secs == 0 {
            return Err("token lifetimes must be more than 0 seconds".into());
        }
        if self.max_body_bytes < 1024 {
            return Err("max_body_bytes must be at least 1024".into());
        }
        if self.smtp.host.is_empty() {
            return Err("smtp.host must not be empty".into());
        }
        if self.smtp.from.parse::<lettre::message::Mailbox>().is_err() {
            return Err(format!("smtp.from is not an email address: '{}'", self.smtp.from));
        }
        Ok(())
    }

    /// The data directory: the setting, else `$XDG_DATA_HOME/shelfkeeper-server`,
    /// else `~/.local/share/shelfkeeper-server`.
    pub fn data_dir(&self) -> Result<PathBuf, ConfigError> {
        if let Some(d) = &self.data_dir {
            return Ok(d.clone());
        }
        if let Some(x) = std::env::var_os("XDG_DATA_HOME").filter(|x| !x.is_empty()) {
            return Ok(PathBuf::from(x).join("shelfkeeper-server"));
        }
        let home = std::env::var_os("HOME").filter(|h| !h.is_empty()).ok_or(ConfigError::NoDataDir)?;
        Ok(PathBuf::from(home).join(".local/share/shelfkeeper-server"))
    }

    /// The database URL, defaulting to a SQLite file in the data directory.
    pub fn resolved_database_url(&self) -> Result<String, ConfigError> {
        if !self.database_url.is_empty() {
            return Ok(self.database_url.clone());
        }
        let dir = self.ensure_data_dir()?;
        Ok(format!("sqlite://{}", dir.join("shelfkeeper-server.sqlite3").display()))
    }

    fn ensure_data_dir(&self) -> Result<PathBuf, ConfigError> {
        let dir = self.data_dir()?;
        std::fs::create_dir_all(&dir).map_err(|e| ConfigError::DataDir { path: dir.display().to_string(), reason: e.to_string() })?;
        Ok(dir)
    }

    /// The token secret: the setting, else one generated once and kept in
    /// the data directory, readable only by the server's user.
    pub fn resolved_token_secret(&self) -> Result<Vec<u8>, ConfigError> {
        if !self.token_secret.is_empty() {
            return Ok(self.token_secret.as_bytes().to_vec());
        }
        let dir = self.ensure_data_dir()?;
        let path = dir.join("token-secret");
        let err = |e: std::io::Error| ConfigError::DataDir { path: path.display().to_string(), reason: e.to_string() };
        match std::fs::read_to_string(&path) {
            Ok(s) if s.trim().len() >= 32 => return Ok(s.trim().as_bytes().to_vec()),
            Ok(_) => {
                return Err(ConfigError::DataDir {
                    path: path.display().to_string(),
                    reason: "the secret is shorter than 32 bytes".into(),
                });
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(err(e)),
        }
        // 256 random bits, base64url (as `auth::random_token`; config uses no
        // other module of the crate, so it generates its own).
        let secret = {
            use base64::Engine;
            use rand::Rng;
            let mut b = [0u8; 32];
            rand::rng().fill_bytes(&mut b);
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
        };
        write_private(&path, &secret).map_err(err)?;
        Ok(secret.into_bytes())
    }
}

#[cfg(unix)]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    f.write_all(text.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    std::fs::write(path, text)
}

/// `trusted_proxies`: a list of addresses or CIDR blocks, or one string of
/// them separated by commas (as the environment gives it).
fn proxies<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<ipnet::IpNet>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Given {
        List(Vec<String>),
        Text(String),
    }
    let entries: Vec<String> = match Given::deserialize(d)? {
        Given::List(l) => l,
        Given::Text(t) => t.split(',').filter(|e| !e.trim().is_empty()).map(str::to_owned).collect(),
    };
    entries.iter().map(|e| crate::net::parse_proxy(e).map_err(serde::de::Error::custom)).collect()
}

/// Environment values are strings; numbers and booleans are typed so that
/// `SHELFKEEPER_SERVER_SMTP_PORT=2525` fills an integer setting.
fn env_value(raw: &str) -> toml::Value {
    if let Ok(i) = raw.parse::<i64>() {
        return toml::Value::Integer(i);
    }
    match raw {
        "true" => toml::Value::Boolean(true),
        "false" => toml::Value::Boolean(false),
        _ => toml::Value::String(raw.to_owned()),
    }
}

/// Hides a password in a database URL for messages and logs.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.find(':') {
                Some(c) => format!("{}{}:***{}", &url[..s + 3], &creds[..c], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn defaults_listen_on_loopback_8080() {
        let c = Config::load(None, env(&[])).unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
        assert!(c.database_url.is_empty());
        assert_eq!(c.limits.login_failures_per_account_per_hour, 100);
    }

    #[test]
    fn file_then_environment() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("server.toml");
        std::fs::write(&path, "listen = \"0.0.0.0:9000\"\npublic_url = \"https://lib.example\"\n[smtp]\nhost = \"mail\"\nport = 587\n")
            .unwrap();
        let c = Config::load(
            Some(&path),
            env(&[("SHELFKEEPER_SERVER_SMTP_PORT", "2525"), ("SHELFKEEPER_SERVER_LISTEN", "127.0.0.1:9001"), ("OTHER", "x")]),
        )
        .unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:9001");
        assert_eq!(c.public_url, "https://lib.example");
        assert_eq!(c.smtp.host, "mail");
        assert_eq!(c.smtp.port, 2525);
    }

    #[test]
    fn bad_settings_are_named() {
        let e = Config::load(None, env(&[("SHELFKEEPER_SERVER_LISTN", "x")])).unwrap_err().to_string();
        assert!(e.contains("SHELFKEEPER_SERVER_LISTN") && e.contains("SHELFKEEPER_SERVER_LISTEN"), "{e}");
        let e = Config::load(None, env(&[("SHELFKEEPER_SERVER_LISTEN", "localhost")])).unwrap_err().to_string();
        assert!(e.contains("SHELFKEEPER_SERVER_LISTEN") && e.contains("listen"), "{e}");
        let e = Config::load(None, env(&[("SHELFKEEPER_SERVER_DATABASE_URL", "mysql://x:secret@h/db")])).unwrap_err().to_string();
        assert!(e.contains("database_url") && !e.contains("secret"), "{e}");
        let e = Config::load(None, env(&[("SHELFKEEPER_SERVER_TOKEN_SECRET", "short")])).unwrap_err().to_string();
        assert!(e.contains("token_secret"), "{e}");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("server.toml");
        std::fs::write(&path, "[smtp]\nprot = 25\n").unwrap();
        let e = Config::load(Some(&path), env(&[])).unwrap_err().to_string();
        assert!(e.contains("prot") && e.contains("server.toml"), "{e}");
        let e = Config::load(Some(&dir.path().join("missing.toml")), env(&[])).unwrap_err().to_string();
        assert!(e.contains("missing.toml"), "{e}");
        // The old proxy switch says what replaced it; its harmless `false` is taken.
        let e = Config::load(None, env(&[("SHELFKEEPER_SERVER_TRUST_FORWARDED_FOR", "true")])).unwrap_err().to_string();
        assert!(e.contains("trusted_proxies"), "{e}");
        assert!(Config::load(None, env(&[("SHELFKEEPER_SERVER_TRUST_FORWARDED_FOR", "false")])).is_ok());
        let e = Config::load(None, env(&[("SHELFKEEPER_SERVER_TRUSTED_PROXIES", "10.0.0.0/8,proxy.local")])).unwrap_err().to_string();
        assert!(e.contains("'proxy.local' is not an address or a CIDR block"), "{e}");
    }

    #[test]
    fn trusted_proxies_come_as_a_list_or_a_comma_separated_string() {
        let c = Config::load(None, env(&[("SHELFKEEPER_SERVER_TRUSTED_PROXIES", "127.0.0.1, 10.0.0.0/8,::1")])).unwrap();
        let shown: Vec<String> = c.trusted_proxies.iter().map(ToString::to_string).collect();
        assert_eq!(shown, ["127.0.0.1/32", "10.0.0.0/8", "::1/128"]);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("server.toml");
        std::fs::write(&path, "trusted_proxies = [\"192.168.0.0/16\"]\n").unwrap();
        let c = Config::load(Some(&path), env(&[])).unwrap();
        assert_eq!(c.trusted_proxies.len(), 1);
        assert!(Config::default().trusted_proxies.is_empty(), "nothing trusted by default");
    }

    #[test]
    fn generated_secret_is_kept_and_private() {
        let dir = tempfile::tempdir().unwrap();
        let c = Config { data_dir: Some(dir.path().to_path_buf()), ..Config::default() };
        let a = c.resolved_token_secret().unwrap();
        let b = c.resolved_token_secret().unwrap();
        assert_eq!(a, b);
        assert!(a.len() >= 32);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("token-secret")).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(c.resolved_database_url().unwrap().starts_with("sqlite://"));
    }

    #[test]
    fn redacts_passwords() {
        assert_eq!(redact_url("postgres://u:pw@h:5432/db"), "postgres://u:***@h:5432/db");
        assert_eq!(redact_url("sqlite:///tmp/x"), "sqlite:///tmp/x");
    }
}
