//! Accounts: input rules, argon2id password hashing, login tokens.
//!
//! Tokens are 32 random bytes, hex-encoded, handed to the client once; the store keeps only
//! their sha256, so a leaked database does not leak usable tokens.

use argon2::{
    password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString},
    Argon2,
};
use hongyan_protocol::now_ms;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::store::{Store, StoreError, TokenInfo, UserRecord};

pub const USERNAME_MIN: usize = 3;
pub const USERNAME_MAX: usize = 32;
pub const PASSWORD_MIN: usize = 8;
pub const PASSWORD_MAX: usize = 128;
pub const NICKNAME_MAX: usize = 64;

/// Checks a username: 3–32 characters from `[A-Za-z0-9_.-]`.
pub fn validate_username(name: &str) -> Result<(), String> {
    let len = name.chars().count();
    if !(USERNAME_MIN..=USERNAME_MAX).contains(&len) {
        return Err(format!(
            "username must be {USERNAME_MIN} to {USERNAME_MAX} characters long"
        ));
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
    {
        return Err("username may contain only letters A-Z, digits, '_', '.' and '-'".into());
    }
    Ok(())
}

/// Checks a password: 8–128 characters.
pub fn validate_password(password: &str) -> Result<(), String> {
    let len = password.chars().count();
    if !(PASSWORD_MIN..=PASSWORD_MAX).contains(&len) {
        return Err(format!(
            "password must be {PASSWORD_MIN} to {PASSWORD_MAX} characters long"
        ));
    }
    Ok(())
}

/// Checks a nickname: 1–64 characters, no control characters.
pub fn validate_nickname(nick: &str) -> Result<(), String> {
    let len = nick.chars().count();
    if len == 0 || len > NICKNAME_MAX {
        return Err(format!(
            "nickname must be 1 to {NICKNAME_MAX} characters long"
        ));
    }
    if nick.chars().any(char::is_control) {
        return Err("nickname must not contain control characters".into());
    }
    Ok(())
}

/// Hashes a password with argon2id (PHC string with a random salt). CPU-heavy: call it
/// through [`run_hashing`].
pub fn hash_password(password: &str) -> Result<String, String> {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| format!("password hashing failed: {e}"))
}

/// Argon2id needs ~19 MiB and a core's worth of time per call. Running them unbounded on
/// the blocking pool lets a burst of logins take gigabytes (and leaves that memory in
/// allocator arenas); this bounds them to one per core, the rest wait their turn.
fn hashing_slots() -> &'static tokio::sync::Semaphore {
    static SLOTS: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    SLOTS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        tokio::sync::Semaphore::new(cores)
    })
}

/// Runs a password hash or check off the runtime, at most one per core at a time.
pub async fn run_hashing<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, String> {
    let _slot = hashing_slots().acquire().await.map_err(|e| e.to_string())?;
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| e.to_string())
}

/// Whether `password` matches the PHC `hash`. CPU-heavy: call it through [`run_hashing`].
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A fresh login token: 32 random bytes as 64 hex characters.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// What the store keeps of a token: its sha256, hex.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A random message id for messages a client sent without one (no QoS).
pub fn server_fp() -> String {
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!("srv-{}", hex::encode(bytes))
}

/// Why a login failed.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error("invalid username or password")]
    InvalidCredentials,
    #[error("the account is disabled")]
    Disabled,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Internal(String),
}

/// A fresh token for a user.
#[derive(Clone)]
pub struct IssuedToken {
    pub user_id: i64,
    pub token: String,
    /// ms since the epoch.
    pub expires_at: i64,
}

/// Never prints the token (docs/RELIABILITY.md, "Secrets").
impl std::fmt::Debug for IssuedToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedToken")
            .field("user_id", &self.user_id)
            .field("token", &"<redacted>")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// Checks a password login and issues a token valid for `ttl`.
pub async fn login(
    store: &Store,
    username: &str,
    password: &str,
    ttl: std::time::Duration,
) -> Result<IssuedToken, LoginError> {
    let user: Option<UserRecord> = store.user_by_username(username.to_owned()).await?;
    // Verify against a fixed hash for unknown users so both cases cost the same.
    let hash = user
        .as_ref()
        .map(|u| u.password_hash.clone())
        .unwrap_or_default();
    let password = password.to_owned();
    let ok = run_hashing(move || {
        let hash = if hash.is_empty() { dummy_hash() } else { hash };
        verify_password(&password, &hash)
    })
    .await
    .map_err(LoginError::Internal)?;
    let user = match user {
        Some(u) if ok => u,
        _ => return Err(LoginError::InvalidCredentials),
    };
    if user.disabled {
        return Err(LoginError::Disabled);
    }
    let token = new_token();
    let ttl_ms = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX / 2);
    let expires_at = now_ms().saturating_add(ttl_ms);
    store
        .insert_token(token_hash(&token), user.id, expires_at)
        .await?;
    Ok(IssuedToken {
        user_id: user.id,
        token,
        expires_at,
    })
}

/// The live, unexpired token `token`, if any.
pub async fn check_token(store: &Store, token: &str) -> Result<Option<TokenInfo>, StoreError> {
    if token.is_empty() || token.len() > 256 {
        return Ok(None);
    }
    store.token_user(token_hash(token), now_ms()).await
}

/// argon2id hash of a random password nobody knows; used to equalize login timing.
fn dummy_hash() -> String {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| hash_password(&new_token()).unwrap_or_default())
        .clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_and_verify() {
        let hash = hash_password("correct horse").expect("hash");
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &hash));
        assert!(!verify_password("wrong horse!", &hash));
        assert!(!verify_password("correct horse", "not a hash"));
        assert!(!verify_password("x", &dummy_hash()));
        // Same password, different salt.
        assert_ne!(hash, hash_password("correct horse").expect("hash"));
    }

    #[test]
    fn username_rules() {
        for ok in ["abc", "a.b-c_d", "Alice99", &"x".repeat(32)] {
            assert!(validate_username(ok).is_ok(), "{ok}");
        }
        for bad in ["ab", "", "with space", "ümlaut", "a/b", &"x".repeat(33)] {
            assert!(validate_username(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn password_and_nickname_rules() {
        assert!(validate_password("12345678").is_ok());
        assert!(validate_password("密码密码密码密码").is_ok());
        assert!(validate_password("1234567").is_err());
        assert!(validate_password(&"x".repeat(129)).is_err());
        assert!(validate_nickname("红雁").is_ok());
        assert!(validate_nickname("").is_err());
        assert!(validate_nickname("a\nb").is_err());
    }

    #[test]
    fn tokens_are_random_and_stored_hashed() {
        let a = new_token();
        let b = new_token();
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
        let h = token_hash(&a);
        assert_eq!(h.len(), 64);
        assert_ne!(h, a);
        assert_eq!(h, token_hash(&a));
    }

    #[tokio::test]
    async fn login_issues_tokens_and_rejects_bad_credentials() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).expect("open");
        let hash = hash_password("password1").expect("hash");
        let id = store
            .create_user("alice".into(), "Alice".into(), hash)
            .await
            .expect("create");
        let ttl = std::time::Duration::from_secs(60);
        let issued = login(&store, "ALICE", "password1", ttl)
            .await
            .expect("login");
        assert_eq!(issued.user_id, id);
        let info = check_token(&store, &issued.token).await.expect("check");
        assert_eq!(info.map(|t| t.user_id), Some(id));
        assert!(matches!(
            login(&store, "alice", "password2", ttl).await,
            Err(LoginError::InvalidCredentials)
        ));
        assert!(matches!(
            login(&store, "nobody", "password1", ttl).await,
            Err(LoginError::InvalidCredentials)
        ));
        store.set_disabled(id, true).await.expect("disable");
        assert!(matches!(
            login(&store, "alice", "password1", ttl).await,
            Err(LoginError::Disabled)
        ));
    }
}
