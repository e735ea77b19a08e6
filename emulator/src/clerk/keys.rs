//! Each instance's RS256 key: generated once from its seed (deterministic under `--seed`),
//! published as a JWKS, and used to sign session tokens.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng;
use rsa::RsaPrivateKey;
use rsa::pkcs1v15::SigningKey;
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding};
use rsa::signature::{SignatureEncoding, Signer};
use rsa::traits::PublicKeyParts;
use serde_json::{Value, json};
use sha2::Sha256;

use super::error::{ClerkError, require_secret_key};
use super::{ClerkInstance, check_instance};
use crate::App;

const BITS: usize = 2048;

/// Keys already made in this process, by seed: tests start many emulators with one seed,
/// and a 2048-bit key is the slowest thing the emulator does.
fn generated() -> &'static Mutex<HashMap<u64, RsaPrivateKey>> {
    static KEYS: OnceLock<Mutex<HashMap<u64, RsaPrivateKey>>> = OnceLock::new();
    KEYS.get_or_init(|| Mutex::new(HashMap::new()))
}

/// The instance's key, generating and storing it on first use.
pub fn signing_key(instance: &mut ClerkInstance) -> Result<RsaPrivateKey, String> {
    if let Some(pem) = &instance.private_key_pem {
        return RsaPrivateKey::from_pkcs8_pem(pem)
            .map_err(|e| format!("the stored key of {} is invalid: {e}", instance.name));
    }
    let cached = generated()
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get(&instance.key_seed)
        .cloned();
    let key = match cached {
        Some(key) => key,
        None => {
            let mut rng = ChaCha20Rng::seed_from_u64(instance.key_seed);
            let key = RsaPrivateKey::new(&mut rng, BITS).map_err(|e| format!("cannot generate a key: {e}"))?;
            generated()
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(instance.key_seed, key.clone());
            key
        }
    };
    let pem = key
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|e| format!("cannot encode the key: {e}"))?;
    instance.private_key_pem = Some(pem.to_string());
    Ok(key)
}

pub fn jwk(key: &RsaPrivateKey, kid: &str) -> Value {
    json!({
        "use": "sig",
        "kty": "RSA",
        "kid": kid,
        "alg": "RS256",
        "n": URL_SAFE_NO_PAD.encode(key.n().to_bytes_be()),
        "e": URL_SAFE_NO_PAD.encode(key.e().to_bytes_be()),
    })
}

/// A compact RS256 JWT over `claims`.
pub fn sign_jwt(key: &RsaPrivateKey, kid: &str, claims: &Value) -> String {
    let header = json!({ "alg": "RS256", "kid": kid, "typ": "JWT" });
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let signature = SigningKey::<Sha256>::new(key.clone()).sign(signing_input.as_bytes());
    format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature.to_bytes()))
}

fn jwks_of(app: &Arc<App>, instance: &str) -> Result<Json<Value>, ClerkError> {
    check_instance(instance)?;
    app.mutate(|db| {
        let inst = db
            .clerk
            .get_mut(instance)
            .ok_or_else(|| ClerkError::not_found("No such instance"))?;
        let key = signing_key(inst).map_err(|e| ClerkError::bad_request(&e))?;
        Ok(Json(json!({ "keys": [jwk(&key, &inst.kid)] })))
    })
}

/// GET /clerk/{instance}/.well-known/jwks.json (the Frontend API's public JWKS)
pub async fn jwks(State(app): State<Arc<App>>, Path(instance): Path<String>) -> Result<Json<Value>, ClerkError> {
    jwks_of(&app, &instance)
}

/// GET /clerk/{instance}/v1/jwks (the Backend API's, behind the secret key)
pub async fn jwks_backend(
    State(app): State<Arc<App>>,
    Path(instance): Path<String>,
    headers: HeaderMap,
) -> Result<Json<Value>, ClerkError> {
    require_secret_key(&headers)?;
    jwks_of(&app, &instance)
}
