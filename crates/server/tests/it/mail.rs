//! Mail over TLS settings: a server set to require TLS never falls back to
//! sending in clear, and says why nothing went out. (Plain SMTP to the sink
//! is what every registration test already walks.)

use crate::support::SmtpSink;
use shelfkeeper_server::config::{Smtp, SmtpTls};
use shelfkeeper_server::mail::Mailer;

fn smtp(port: u16, tls: SmtpTls) -> Smtp {
    Smtp { host: "127.0.0.1".into(), port, tls, ..Smtp::default() }
}

#[tokio::test]
async fn starttls_required_but_not_offered_sends_nothing() {
    let sink = SmtpSink::start().await;
    let plain = Mailer::new(&smtp(sink.port, SmtpTls::None)).unwrap();
    plain.deliver("ada@example.org", "plain", "hello".into()).await.expect("plain SMTP to the sink works");
    assert_eq!(sink.all_to("ada@example.org").len(), 1);

    // The sink does not offer STARTTLS.
    let required = Mailer::new(&smtp(sink.port, SmtpTls::Starttls)).unwrap();
    let e = required.deliver("bob@example.org", "secret", "link".into()).await.unwrap_err();
    assert!(
        e.contains("does not offer STARTTLS") && e.contains(&format!("127.0.0.1:{}", sink.port)) && e.contains("nothing was sent"),
        "{e}"
    );

    // Implicit TLS to a plain server: the handshake fails at once.
    let implicit = Mailer::new(&smtp(sink.port, SmtpTls::Tls)).unwrap();
    let started = std::time::Instant::now();
    let e = implicit.deliver("bob@example.org", "secret", "link".into()).await.unwrap_err();
    assert!(e.contains("no TLS session") && e.contains("implicit TLS"), "{e}");
    assert!(started.elapsed() < std::time::Duration::from_secs(10), "took {:?}", started.elapsed());
    assert!(sink.all_to("bob@example.org").is_empty(), "nothing may reach the server in clear");
}
