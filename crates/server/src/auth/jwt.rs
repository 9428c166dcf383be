//! Access tokens: HS256 JWTs, algorithm pinned (a token naming another
//! algorithm, `none` included, is refused), audience, expiry and type
//! checked. `sid` names the session so revocation is checked per request.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

pub const AUDIENCE: &str = "shelfkeeper-api";
pub const ACCESS: &str = "access";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub sid: String,
    pub typ: String,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
}

pub struct Keys {
    enc: EncodingKey,
    dec: DecodingKey,
    validation: Validation,
    pub ttl_secs: i64,
}

impl Keys {
    pub fn new(secret: &[u8], ttl_secs: u64) -> Keys {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.algorithms = vec![Algorithm::HS256];
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "aud", "sub", "iat"]);
        validation.leeway = 5;
        Keys { enc: EncodingKey::from_secret(secret), dec: DecodingKey::from_secret(secret), validation, ttl_secs: ttl_secs as i64 }
    }

    pub fn issue(&self, account_id: &str, session_id: &str) -> Result<String, jsonwebtoken::errors::Error> {
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            sub: account_id.to_owned(),
            sid: session_id.to_owned(),
            typ: ACCESS.into(),
            aud: AUDIENCE.into(),
            iat: now,
            exp: now + self.ttl_secs,
            jti: uuid::Uuid::now_v7().to_string(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.enc)
    }

    /// The claims of a valid access token; `None` for anything else.
    pub fn verify(&self, token: &str) -> Option<Claims> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.dec, &self.validation).ok()?;
        (data.claims.typ == ACCESS).then_some(data.claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    fn forge(claims: &Claims, alg: Algorithm, secret: &[u8]) -> String {
        jsonwebtoken::encode(&Header::new(alg), claims, &EncodingKey::from_secret(secret)).unwrap()
    }

    #[test]
    fn accepts_its_own_and_refuses_the_rest() {
        let k = Keys::new(SECRET, 60);
        let t = k.issue("acc", "sess").unwrap();
        let c = k.verify(&t).unwrap();
        assert_eq!((c.sub.as_str(), c.sid.as_str()), ("acc", "sess"));

        let now = chrono::Utc::now().timestamp();
        let base = Claims {
            sub: "acc".into(),
            sid: "sess".into(),
            typ: ACCESS.into(),
            aud: AUDIENCE.into(),
            iat: now,
            exp: now + 60,
            jti: "j".into(),
        };
        assert!(k.verify(&forge(&base, Algorithm::HS256, SECRET)).is_some());
        assert!(k.verify(&forge(&base, Algorithm::HS256, b"another secret of thirty-two bytes!")).is_none(), "wrong key");
        assert!(k.verify(&forge(&base, Algorithm::HS512, SECRET)).is_none(), "algorithm is pinned");
        assert!(k.verify(&forge(&Claims { typ: "refresh".into(), ..base.clone() }, Algorithm::HS256, SECRET)).is_none(), "type");
        assert!(k.verify(&forge(&Claims { aud: "other".into(), ..base.clone() }, Algorithm::HS256, SECRET)).is_none(), "audience");
        assert!(k.verify(&forge(&Claims { exp: now - 60, ..base.clone() }, Algorithm::HS256, SECRET)).is_none(), "expired");
        // alg=none: header and claims with an empty signature.
        use base64::Engine;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let none = format!("{}.{}.", b64.encode(r#"{"alg":"none","typ":"JWT"}"#), b64.encode(serde_json::to_vec(&base).unwrap()));
        assert!(k.verify(&none).is_none(), "alg none");
        assert!(k.verify("not a token").is_none());
    }
}
