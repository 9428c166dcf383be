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
}

impl Mailer {
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
        Ok(Mailer { transport: b.build(), from })
    }

    /// Queues a plain-text message; failures are logged and counted.
    pub fn send(&self, to: &str, subject: &str, body: String) {
        let msg = match to.parse::<Mailbox>() {
            Ok(to) => Message::builder().from(self.from.clone()).to(to).subject(subject).header(ContentType::TEXT_PLAIN).body(body),
            Err(e) => {
                tracing::warn!(error = %e, "not an address; mail not sent");
                return;
            }
        };
        let msg = match msg {
            Ok(m) => m,
            Err(e) => {
                tracing::error!(error = %e, "cannot build mail");
                return;
            }
        };
        let transport = self.transport.clone();
        tokio::spawn(async move {
            match transport.send(msg).await {
                Ok(_) => metrics::counter!("shelfkeeper_mail_sent_total").increment(1),
                Err(e) => {
                    metrics::counter!("shelfkeeper_mail_failed_total").increment(1);
                    tracing::error!(error = %e, "sending mail failed");
                }
            }
        });
    }
}
