//! The Clerk emulator: JWKS and RS256 session tokens verified independently (Python's
//! `cryptography`, and jsonwebtoken as the platform uses it), expiry and not-before via the
//! control, the sign-in page hand-off, and the Backend API user subset.

mod common;

use common::*;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use reqwest::Method;
use serde_json::{Value, json};

const DEV: &str = "/clerk/dream-api";
const END_USER: &str = "/clerk/end-user-api";

async fn jwks(emu: &Emu, instance: &str) -> Value {
    let (status, keys) = emu
        .json(Method::GET, &format!("{instance}/.well-known/jwks.json"), None)
        .await;
    assert_eq!(status, 200);
    keys
}

/// The platform's way: jsonwebtoken with the JWK's components, checking iss/exp/nbf.
fn verify_with_jsonwebtoken(jwks: &Value, token: &str, issuer: &str) -> Result<Value, jsonwebtoken::errors::Error> {
    let header = decode_header(token)?;
    let kid = header.kid.expect("kid");
    let jwk = jwks["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .find(|k| k["kid"] == kid.as_str())
        .expect("key for kid");
    let key = DecodingKey::from_rsa_components(jwk["n"].as_str().expect("n"), jwk["e"].as_str().expect("e"))?;
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_issuer(&[issuer]);
    validation.leeway = 0;
    validation.validate_nbf = true;
    validation.set_required_spec_claims(&["exp", "nbf", "iss", "sub"]);
    decode::<Value>(token, &key, &validation).map(|data| data.claims)
}

#[tokio::test]
async fn tokens_verify_independently_and_carry_clerks_claims() {
    let emu = Emu::start().await;
    let keys = jwks(&emu, DEV).await;
    let key = &keys["keys"][0];
    assert_eq!(
        (key["kty"].as_str(), key["alg"].as_str(), key["use"].as_str()),
        (Some("RSA"), Some("RS256"), Some("sig"))
    );
    assert!(key["kid"].as_str().expect("kid").starts_with("ins_"));
    let other = jwks(&emu, END_USER).await;
    assert_ne!(other["keys"][0]["kid"], key["kid"], "one key per instance");

    let (status, issued) = emu
        .control(
            &format!("{DEV}/_emulator/tokens"),
            json!({"email": "Dev@Example.com", "azp": "http://localhost:5173"}),
        )
        .await;
    assert_eq!(status, 200, "{issued}");
    let token = issued["token"].as_str().expect("token");
    assert!(issued["userId"].as_str().expect("user").starts_with("user_"));
    assert!(issued["sessionId"].as_str().expect("session").starts_with("sess_"));

    let claims = python_verify_jwt(&keys, token);
    let iss = format!("{}{DEV}", emu.base);
    assert_eq!(claims["iss"], iss.as_str());
    assert_eq!(claims["sub"], issued["userId"]);
    assert_eq!(claims["sid"], issued["sessionId"]);
    assert_eq!(claims["azp"], "http://localhost:5173");
    assert_eq!(claims["publicMetadata"], json!({}));
    let (iat, exp) = (
        claims["iat"].as_i64().expect("iat"),
        claims["exp"].as_i64().expect("exp"),
    );
    assert_eq!(exp - iat, 3600);
    assert!(claims["nbf"].as_i64().expect("nbf") <= iat);
    assert_eq!(
        verify_with_jsonwebtoken(&keys, token, &iss).expect("jsonwebtoken accepts it")["sub"],
        issued["userId"]
    );
    // The other instance's key does not verify it, even presented under this kid.
    let mut impostor = other.clone();
    impostor["keys"][0]["kid"] = key["kid"].clone();
    let err = verify_with_jsonwebtoken(&impostor, token, &iss).expect_err("wrong key");
    assert!(
        matches!(err.kind(), jsonwebtoken::errors::ErrorKind::InvalidSignature),
        "{err:?}"
    );
    assert!(verify_with_jsonwebtoken(&keys, token, "http://wrong-issuer").is_err());

    // The same email is the same user; metadata set later shows in the next token.
    let user = issued["userId"].as_str().expect("user");
    let (status, _) = emu
        .http
        .patch(emu.url(&format!("{DEV}/v1/users/{user}/metadata")))
        .bearer_auth("sk_test_clerk")
        .json(&json!({"public_metadata": {"plan": "paid", "platformId": "plt_1"}}))
        .send()
        .await
        .map(|r| (r.status().as_u16(), ()))
        .expect("patch");
    assert_eq!(status, 200);
    let (_, again) = emu
        .control(&format!("{DEV}/_emulator/tokens"), json!({"email": "dev@example.com"}))
        .await;
    assert_eq!(again["userId"], issued["userId"]);
    let claims = python_verify_jwt(&keys, again["token"].as_str().expect("token"));
    assert_eq!(claims["publicMetadata"], json!({"plan": "paid", "platformId": "plt_1"}));
}

#[tokio::test]
async fn expired_and_not_yet_valid_tokens() {
    let emu = Emu::start().await;
    let keys = jwks(&emu, END_USER).await;
    let iss = format!("{}{END_USER}", emu.base);
    let (_, expired) = emu
        .control(
            &format!("{END_USER}/_emulator/tokens"),
            json!({"email": "u@example.com", "expiresInSeconds": -60}),
        )
        .await;
    let err = verify_with_jsonwebtoken(&keys, expired["token"].as_str().expect("token"), &iss).expect_err("expired");
    assert!(
        matches!(err.kind(), jsonwebtoken::errors::ErrorKind::ExpiredSignature),
        "{err:?}"
    );
    // The signature itself is still good: only time makes it invalid.
    python_verify_jwt(&keys, expired["token"].as_str().expect("token"));

    let (_, early) = emu
        .control(
            &format!("{END_USER}/_emulator/tokens"),
            json!({"email": "u@example.com", "notBeforeOffsetSeconds": 300}),
        )
        .await;
    let err =
        verify_with_jsonwebtoken(&keys, early["token"].as_str().expect("token"), &iss).expect_err("not yet valid");
    assert!(
        matches!(err.kind(), jsonwebtoken::errors::ErrorKind::ImmatureSignature),
        "{err:?}"
    );

    let (status, _) = emu
        .control(
            &format!("{END_USER}/_emulator/tokens"),
            json!({"email": "not-an-email"}),
        )
        .await;
    assert_eq!(status, 422);
    let (status, _) = emu
        .control("/clerk/nope/_emulator/tokens", json!({"email": "a@b.co"}))
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn sign_in_page_hands_the_token_over_in_the_fragment() {
    let emu = Emu::start().await;
    let page = emu
        .http
        .get(emu.url(&format!(
            "{DEV}/sign-in?redirect_url=http%3A%2F%2Flocalhost%3A5173%2Fdashboard"
        )))
        .send()
        .await
        .expect("page");
    assert_eq!(page.status().as_u16(), 200);
    assert!(page.text().await.expect("html").contains("name=\"password\""));

    let sign_in = |password: &'static str| {
        let (http, url) = (emu.http.clone(), emu.url(&format!("{DEV}/sign-in")));
        async move {
            http.post(url)
                .form(&[
                    ("email", "founder@example.com"),
                    ("password", password),
                    ("redirect_url", "http://localhost:5173/dashboard"),
                ])
                .send()
                .await
                .expect("submit")
        }
    };
    let resp = sign_in("correct horse").await;
    assert_eq!(resp.status().as_u16(), 302);
    let location = resp.headers()["location"].to_str().expect("ascii").to_string();
    let (target, token) = location.split_once("#__session=").expect("token in the fragment");
    assert_eq!(target, "http://localhost:5173/dashboard");
    let claims = python_verify_jwt(&jwks(&emu, DEV).await, token);
    assert_eq!(claims["azp"], "http://localhost:5173", "azp is the redirect's origin");

    let wrong = sign_in("wrong password").await;
    assert_eq!(wrong.status().as_u16(), 422);
    assert!(wrong.text().await.expect("html").contains("Password is incorrect"));

    let (_, users) = emu
        .get(
            &format!("{DEV}/v1/users"),
            "sk_test_clerk",
            &[("email_address", "founder@example.com")],
        )
        .await;
    assert_eq!(users.as_array().expect("array").len(), 1);
    assert_eq!(users[0]["id"], claims["sub"]);
    assert_eq!(users[0]["password_enabled"], true);
}

#[tokio::test]
async fn end_users_sign_in_only_with_a_password_they_set_through_their_email() {
    let emu = Emu::start().await;
    let form = |path: &str, fields: Vec<(&'static str, String)>| {
        let (http, url) = (emu.http.clone(), emu.url(&format!("{END_USER}{path}")));
        async move {
            let resp = http.post(url).form(&fields).send().await.expect("submit");
            let status = resp.status().as_u16();
            let location = resp
                .headers()
                .get("location")
                .map(|l| l.to_str().expect("ascii").to_owned());
            (status, location, resp.text().await.expect("html"))
        }
    };
    let sign_in = |email: &'static str, password: &'static str| {
        form(
            "/sign-in",
            vec![
                ("email", email.into()),
                ("password", password.into()),
                ("redirect_url", "http://localhost:3000/app".into()),
            ],
        )
    };
    // Unknown emails are not signed up here, unlike the developers' instance.
    let (status, _, html) = sign_in("nobody@example.com", "whatever-password").await;
    assert_eq!(status, 422);
    assert!(html.contains("find your account"), "{html}");
    // An account a project made through the Backend API has no password: none opens it.
    let created = emu
        .http
        .post(emu.url(&format!("{END_USER}/v1/users")))
        .bearer_auth("sk_test_clerk")
        .json(&json!({"email_address": ["ada@example.com"]}))
        .send()
        .await
        .expect("create");
    assert_eq!(created.status().as_u16(), 200);
    let (status, _, html) = sign_in("ada@example.com", "guessed-password").await;
    assert_eq!(status, 422);
    assert!(html.contains("no password yet"), "{html}");

    // The owner of the inbox sets it with the emailed code.
    let (status, _, html) = form("/reset-password", vec![("email", "ada@example.com".into())]).await;
    assert_eq!(status, 200);
    assert!(html.contains("name=\"code\""), "{html}");
    let (status, _, unknown) = form("/reset-password", vec![("email", "nobody@example.com".into())]).await;
    assert_eq!(status, 200, "the same page whether or not the email has an account");
    assert_eq!(unknown.replace("nobody", "ada"), html);
    let outbox = emu
        .http
        .get(emu.url(&format!("{END_USER}/_emulator/emails?to=ada@example.com")))
        .send()
        .await
        .expect("outbox")
        .json::<Value>()
        .await
        .expect("json");
    let code = outbox["data"][0]["code"].as_str().expect("a code was sent").to_owned();
    let verify = |code: String, password: &'static str| {
        form(
            "/reset-password/verify",
            vec![
                ("email", "ada@example.com".into()),
                ("code", code),
                ("password", password.into()),
                ("redirect_url", "http://localhost:3000/app".into()),
            ],
        )
    };
    let wrong_code = if code == "000000" { "000001" } else { "000000" };
    let (status, _, html) = verify(wrong_code.into(), "adas-own-password").await;
    assert_eq!(status, 422);
    assert!(html.contains("incorrect"), "{html}");
    let (status, location, _) = verify(code.clone(), "adas-own-password").await;
    assert_eq!(status, 302);
    assert!(location.expect("redirect").contains("#__session="));
    let (status, _, _) = verify(code, "another-password").await;
    assert_eq!(status, 422, "a code sets one password, once");
    let (status, _, _) = sign_in("ada@example.com", "guessed-password").await;
    assert_eq!(status, 422);
    let (status, location, _) = sign_in("ada@example.com", "adas-own-password").await;
    assert_eq!(status, 302);
    assert!(
        location
            .expect("redirect")
            .starts_with("http://localhost:3000/app#__session=")
    );
}

#[tokio::test]
async fn backend_api_users() {
    let emu = Emu::start().await;
    let create = |body: Value| {
        let (http, url) = (emu.http.clone(), emu.url(&format!("{END_USER}/v1/users")));
        async move {
            let resp = http
                .post(url)
                .bearer_auth("sk_test_clerk")
                .json(&body)
                .send()
                .await
                .expect("create");
            (resp.status().as_u16(), resp.json::<Value>().await.expect("json"))
        }
    };
    let (status, user) = create(json!({
        "email_address": ["Customer@Example.com"],
        "password": "SecurePass123",
        "first_name": "Test",
        "last_name": "Customer",
        "public_metadata": {"publishableKey": "pk_test_abc", "plan": "free"}
    }))
    .await;
    assert_eq!(status, 200, "{user}");
    let id = user["id"].as_str().expect("id").to_string();
    assert!(id.starts_with("user_"));
    assert_eq!(user["object"], "user");
    assert_eq!(user["email_addresses"][0]["email_address"], "customer@example.com");
    assert_eq!(user["primary_email_address_id"], user["email_addresses"][0]["id"]);
    assert_eq!(
        (user["first_name"].as_str(), user["last_name"].as_str()),
        (Some("Test"), Some("Customer"))
    );
    assert_eq!(user["private_metadata"], json!({}));
    assert!(
        user["created_at"].as_i64().expect("ms") > 1_000_000_000_000,
        "milliseconds"
    );

    let (status, dup) = create(json!({"email_address": ["customer@example.com"], "password": "AnotherPass1"})).await;
    assert_eq!(status, 422);
    assert_eq!(dup["errors"][0]["code"], "form_identifier_exists");
    assert_eq!(dup["errors"][0]["meta"]["param_name"], "email_address");
    assert!(dup["errors"][0]["long_message"].is_string() && dup["errors"][0]["message"].is_string());
    let (status, short) = create(json!({"email_address": ["new@example.com"], "password": "short"})).await;
    assert_eq!(
        (status, short["errors"][0]["code"].as_str()),
        (422, Some("form_password_length_too_short"))
    );

    let (status, got) = emu
        .get(&format!("{END_USER}/v1/users/{id}"), "sk_test_clerk", &[])
        .await;
    assert_eq!((status, got["id"].as_str()), (200, Some(id.as_str())));
    let (status, missing) = emu
        .get(&format!("{END_USER}/v1/users/user_nope"), "sk_test_clerk", &[])
        .await;
    assert_eq!(
        (status, missing["errors"][0]["code"].as_str()),
        (404, Some("resource_not_found"))
    );
    let (status, _) = emu.json(Method::GET, &format!("{END_USER}/v1/users/{id}"), None).await;
    assert_eq!(status, 401, "the Backend API needs a secret key");

    // Users of one instance are not in the other.
    let (_, other) = emu
        .get(
            &format!("{DEV}/v1/users"),
            "sk_test_clerk",
            &[("email_address", "customer@example.com")],
        )
        .await;
    assert!(other.as_array().expect("array").is_empty());

    // Metadata merges deeply; null removes a key.
    let resp = emu
        .http
        .patch(emu.url(&format!("{END_USER}/v1/users/{id}/metadata")))
        .bearer_auth("sk_test_clerk")
        .json(&json!({"public_metadata": {"plan": "pro", "usage": {"period": "2026-11"}}, "private_metadata": {"stripeCustomerId": "cus_1"}}))
        .send()
        .await
        .expect("patch");
    assert_eq!(resp.status().as_u16(), 200);
    let merged: Value = resp.json().await.expect("json");
    assert_eq!(
        merged["public_metadata"],
        json!({"publishableKey": "pk_test_abc", "plan": "pro", "usage": {"period": "2026-11"}})
    );
    assert_eq!(merged["private_metadata"], json!({"stripeCustomerId": "cus_1"}));
    let resp = emu
        .http
        .patch(emu.url(&format!("{END_USER}/v1/users/{id}/metadata")))
        .bearer_auth("sk_test_clerk")
        .json(&json!({"public_metadata": {"plan": null, "usage": {"extra": 1}}}))
        .send()
        .await
        .expect("patch");
    let merged: Value = resp.json().await.expect("json");
    assert_eq!(
        merged["public_metadata"],
        json!({"publishableKey": "pk_test_abc", "usage": {"period": "2026-11", "extra": 1}})
    );
}
