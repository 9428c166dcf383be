//! Outgoing mail through SMTP (lettre). Sending happens on a spawned task so
//! a request's timing does not reveal whether a message was sent (no
//! account enumeration) and a slow relay never holds a request.

use crate::config::{Smtp, SmtpTls};
use lettre::message::{Mailbox, header::ContentType};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    /// `host:port (tls mode)`, for errors.
    relay: String,
    tls: SmtpTls,
}

impl Mailer {
    /// `tls = "starttls"` requires STARTTLS (a server that does not offer it
    /// gets no message, never one in clear); `tls = "tls"` is implicit TLS
    /// (SMTPS, usually port 465); `none` is plain SMTP, for a relay on the
    /// same host. Certificates are checked against the webpki roots.
    pub fn new(cfg: &Smtp) -> Result<Mailer, String> {
        let mut b = match cfg.tls {
            SmtpTls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&cfg.host),
            SmtpTls::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&cfg.host).map_err(|e| format!("smtp.host: {e}"))?,
            SmtpTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&cfg.host).map_err(|e| format!("smtp.host: {e}"))?,
        };
        b = b.port(cfg.port).timeout(Some(std::time::Duration::from_secs(20)));
        if !cfg.username.is_empty() {
            b = b.credentials(Credentials::new(cfg.username.clone(), cfg.password.clone()));
        }
        let from = cfg.from.parse().map_err(|e| format!("smtp.from: {e}"))?;
        Ok(Mailer { transport: b.build(), from, relay: format!("{}:{}", cfg.host, cfg.port), tls: cfg.tls })
    }

    /// Queues a plain-text message; failures are logged and counted.
    pub fn send(&self, to: &str, subject: &str, body: String) {
        let mailer = self.clone();
        let (to, subject) = (to.to_owned(), subject.to_owned());
        tokio::spawn(async move {
            match mailer.deliver(&to, &subject, body).await {
                Ok(()) => metrics::counter!("shelfkeeper_mail_sent_total").increment(1),
                Err(e) => {
                    metrics::counter!("shelfkeeper_mail_failed_total").increment(1);
                    tracing::error!(error = %e, "sending mail failed");
                }
            }
        });
    }

    /// Sends a plain-text message now, saying why it could not be sent.
    pub async fn deliver(&self, to: &str, subject: &str, body: String) -> Result<(), String> {
        let to = to.parse::<Mailbox>().map_err(|e| format!("'{to}' is not an address: {e}"))?;
        let msg = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(body)
            .map_err(|e| format!("cannot build the message: {e}"))?;
        self.transport.send(msg).await.map(|_| ()).map_err(|e| {
            let text = e.to_string();
            match self.tls {
                SmtpTls::Starttls if text.contains("STARTTLS is not supported") => format!(
                    "the SMTP server at {} does not offer STARTTLS, which smtp.tls = \"starttls\" requires; nothing was sent in clear",
                    self.relay
                ),
                SmtpTls::Tls if e.is_tls() || text.contains("tls") || text.contains("TLS") || text.contains("InvalidContentType") => {
                    format!("no TLS session with the SMTP server at {} (smtp.tls = \"tls\", implicit TLS): {text}", self.relay)
                }
                _ => format!("SMTP server at {}: {text}", self.relay),
            }
        })
    }
}
