//! Keys and secrets: the master key, field and media encryption, API keys, candidate tokens.

pub mod aead;
pub mod api_key;
pub mod master_key;
pub mod password;
pub mod secret_token;
pub mod signing;
pub mod totp;
