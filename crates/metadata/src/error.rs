//! Errors, each with a stable machine code for the UI.

use thiserror::Error;

/// Why a [`crate::Client`] could not be built.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum ClientError {
    #[error("TLS could not be set up: {0}")]
    Tls(String),
    #[error("the HTTP client could not be built: {0}")]
    Build(String),
    #[error("no metadata provider is enabled")]
    NoProviderEnabled,
    #[error("{provider}'s base URL '{url}' is not an http or https URL")]
    BadBaseUrl { provider: &'static str, url: String },
}

impl ClientError {
    pub fn code(&self) -> &'static str {
        match self {
            ClientError::Tls(_) => "metadata_tls",
            ClientError::Build(_) => "metadata_client",
            ClientError::NoProviderEnabled => "metadata_no_provider",
            ClientError::BadBaseUrl { .. } => "metadata_bad_base_url",
        }
    }
}

/// Why a cover could not be downloaded.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum CoverError {
    #[error("'{0}' is not an http or https URL")]
    InvalidUrl(String),
    /// The server says so (404), or sent only a placeholder (a tiny or
    /// 1x1 image, which Open Library sends for books without a cover).
    #[error("there is no cover at this address")]
    NotFound,
    /// Not image/* or, whatever the header said, not JPEG, PNG, WebP or GIF.
    #[error("the address does not give an image: {0}")]
    NotAnImage(String),
    #[error("the image is larger than {limit_kib} KiB")]
    TooLarge { limit_kib: usize },
    #[error("the cover's server could not be reached: {0}")]
    Offline(String),
    #[error("the cover's server failed: {0}")]
    ProviderError(String),
}

impl CoverError {
    pub fn code(&self) -> &'static str {
        match self {
            CoverError::InvalidUrl(_) => "cover_invalid_url",
            CoverError::NotFound => "cover_not_found",
            CoverError::NotAnImage(_) => "cover_not_an_image",
            CoverError::TooLarge { .. } => "cover_too_large",
            CoverError::Offline(_) => "cover_offline",
            CoverError::ProviderError(_) => "cover_provider_error",
        }
    }
}
