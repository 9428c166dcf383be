//! The server's account endpoints the desktop needs to connect: log in,
//! refresh (the server rotates refresh tokens: each one works once), log
//! out, and the caller's libraries.

use crate::{ClientError, Options, build_client, send, server_base};
use serde::Deserialize;
use uuid::Uuid;

/// What `/auth/login` and `/auth/refresh` answer. Not `Debug`: it holds
/// secrets.
#[derive(Deserialize)]
pub struct Tokens {
    pub access_token: String,
    /// Seconds the access token lives.
    pub expires_in: i64,
    pub refresh_token: String,
}

/// A library the account belongs to, with its role there.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct LibraryInfo {
    pub id: Uuid,
    pub name: String,
    pub role: String,
}

impl LibraryInfo {
    /// Staff can sync a library's catalogue and desk; a member cannot.
    pub fn is_staff(&self) -> bool {
        matches!(self.role.as_str(), "librarian" | "admin")
    }
}

/// One sync server's account API.
#[derive(Clone)]
pub struct ServerApi {
    client: reqwest::Client,
    base: String,
}

impl ServerApi {
    pub fn new(server: &str, options: &Options) -> Result<ServerApi, ClientError> {
        Ok(ServerApi { client: build_client(options)?, base: server_base(server)? })
    }

    fn url(&self, path: &str) -> String {
        format!("{}/api/v1{path}", self.base)
    }

    pub async fn login(&self, email: &str, password: &str) -> Result<Tokens, ClientError> {
        let body = serde_json::json!({ "email": email, "password": password });
        send(self.client.post(self.url("/auth/login")).json(&body)).await
    }

    pub async fn refresh(&self, refresh_token: &str) -> Result<Tokens, ClientError> {
        let body = serde_json::json!({ "refresh_token": refresh_token });
        send(self.client.post(self.url("/auth/refresh")).json(&body)).await
    }

    /// Ends the session on the server (its refresh token stops working).
    pub async fn logout(&self, access_token: &str) -> Result<(), ClientError> {
        let resp = self
            .client
            .post(self.url("/auth/logout"))
            .bearer_auth(access_token)
            .send()
            .await
            .map_err(|e| ClientError::Offline(crate::chain(&e)))?;
        match resp.status().as_u16() {
            200..=299 | 401 => Ok(()),
            status => Err(ClientError::Refused { status, code: String::new(), message: "logout refused".into() }),
        }
    }

    pub async fn libraries(&self, access_token: &str) -> Result<Vec<LibraryInfo>, ClientError> {
        #[derive(Deserialize)]
        struct Items {
            items: Vec<LibraryInfo>,
        }
        let items: Items = send(self.client.get(self.url("/libraries")).bearer_auth(access_token)).await?;
        Ok(items.items)
    }
}
