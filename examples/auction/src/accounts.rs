//! Accounts: sign-up, log-in and log-out, with argon2id password hashes and the user
//! kept in carafe's signed-cookie session (`user_id`, `user_name`), which the Socket.IO
//! handlers read back from the handshake.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use carafe::csrf::CsrfForm;
use carafe::session::{flash, flash_with_category};
use carafe::templates::render_template;
use carafe::{IntoResponse, Result};
use carafe::{Query, Redirect, Response, Session, State, StatusCode};
use serde::Deserialize;
use serde_json::json;

use crate::db::User;
use crate::{now_ms, AppState};

/// The sign-up and log-in form.
#[derive(Debug, Deserialize)]
pub struct Credentials {
    /// User name.
    pub name: String,
    /// Password.
    pub password: String,
    /// Where to go afterwards (a local path).
    #[serde(default)]
    pub next: String,
}

/// `?next=/items/3` on the log-in and sign-up pages.
#[derive(Debug, Deserialize)]
pub struct Next {
    /// Where to go after logging in.
    #[serde(default)]
    pub next: String,
}

/// A form with no fields but the CSRF token.
#[derive(Debug, Deserialize)]
pub struct NoFields {}

/// The logged-in user, from the session.
pub fn current_user(session: &Session) -> Option<User> {
    Some(User {
        id: session.get("user_id")?,
        name: session.get("user_name")?,
    })
}

/// Checks a new user name: 3 to 24 letters, digits, `_`, `-` or `.`.
pub fn check_name(name: &str) -> std::result::Result<(), &'static str> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || "_-.".contains(c);
    if !(3..=24).contains(&name.len()) || !name.chars().all(allowed) {
        return Err("Pick a user name of 3 to 24 letters, digits, dots, dashes or underscores.");
    }
    Ok(())
}

/// Checks a new password: 8 to 128 characters.
pub fn check_password(password: &str) -> std::result::Result<(), &'static str> {
    if !(8..=128).contains(&password.chars().count()) {
        return Err("Pick a password of at least 8 characters.");
    }
    Ok(())
}

/// Hashes a password with argon2id and a random salt (PHC string format).
pub fn hash_password(password: &str) -> std::result::Result<String, argon2::password_hash::Error> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|_| {
        argon2::password_hash::Error::SaltInvalid(
            argon2::password_hash::errors::InvalidValue::Malformed,
        )
    })?;
    let salt = SaltString::encode_b64(&salt)?;
    Ok(Argon2::default()
        .hash_password(password.as_bytes(), &salt)?
        .to_string())
}

/// Whether `password` matches a stored hash.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

/// A local path to go back to, never another site (`//evil.example` is refused).
pub fn safe_next(next: &str) -> &str {
    let local = next.starts_with('/') && !next.starts_with("//") && !next.contains('\\');
    if local {
        next
    } else {
        "/"
    }
}

/// `GET /signup`.
pub async fn signup_page(Query(next): Query<Next>) -> Result<Response> {
    let html = render_template("signup.html", json!({ "next": next.next }))?;
    Ok(html.into_response())
}

/// `POST /signup`: creates the account and logs in.
pub async fn signup(
    State(state): State<AppState>,
    session: Session,
    CsrfForm(form): CsrfForm<Credentials>,
) -> Result<Response> {
    let name = form.name.trim().to_owned();
    if let Err(message) = check_name(&name).and_then(|()| check_password(&form.password)) {
        return form_again("signup.html", &session, message, &name, &form.next);
    }
    let password = form.password;
    let hash = tokio::task::spawn_blocking(move || hash_password(&password))
        .await?
        .map_err(|error| std::io::Error::other(error.to_string()))?;
    let Some(user) = state.db().create_user(&name, &hash, now_ms())? else {
        let message = "That user name is taken; pick another.";
        return form_again("signup.html", &session, message, &name, &form.next);
    };
    log_in(&session, &user);
    flash(
        &session,
        format!("Welcome, {}! Your account is ready.", user.name),
    );
    Ok(Redirect::see_other(safe_next(&form.next)).into_response())
}

/// `GET /login`.
pub async fn login_page(Query(next): Query<Next>) -> Result<Response> {
    let html = render_template("login.html", json!({ "next": next.next }))?;
    Ok(html.into_response())
}

/// `POST /login`.
pub async fn login(
    State(state): State<AppState>,
    session: Session,
    CsrfForm(form): CsrfForm<Credentials>,
) -> Result<Response> {
    let name = form.name.trim().to_owned();
    let found = state.db().user_by_name(&name)?;
    let password = form.password;
    let verified = tokio::task::spawn_blocking(move || {
        found.filter(|(_, hash)| verify_password(&password, hash))
    })
    .await?;
    let Some((user, _)) = verified else {
        let message = "Wrong user name or password.";
        return form_again("login.html", &session, message, &name, &form.next);
    };
    log_in(&session, &user);
    flash(&session, format!("Welcome back, {}!", user.name));
    Ok(Redirect::see_other(safe_next(&form.next)).into_response())
}

/// `POST /logout`.
pub async fn logout(session: Session, CsrfForm(_): CsrfForm<NoFields>) -> Response {
    session.clear();
    flash(&session, "You are logged out.");
    Redirect::see_other("/").into_response()
}

/// Starts a fresh session for `user` (a new CSRF token too), kept for the session
/// lifetime rather than until the browser closes.
fn log_in(session: &Session, user: &User) {
    session.clear();
    session.insert("user_id", user.id);
    session.insert("user_name", &user.name);
    session.set_permanent(true);
}

/// The form again, `400`, with the error flashed and the name kept.
fn form_again(
    template: &str,
    session: &Session,
    message: &str,
    name: &str,
    next: &str,
) -> Result<Response> {
    flash_with_category(session, message, "error");
    let html = render_template(template, json!({ "name": name, "next": next }))?;
    Ok((StatusCode::BAD_REQUEST, html).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_and_verify() {
        let hash = hash_password("correct horse").expect("hash");
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(verify_password("correct horse", &hash));
        assert!(!verify_password("wrong horse", &hash));
        assert!(!verify_password("correct horse", "not a hash"));
        assert_ne!(hash_password("correct horse").expect("hash"), hash);
    }

    #[test]
    fn names_and_passwords_are_checked() {
        assert!(check_name("ana_b.1").is_ok());
        assert!(check_name("an").is_err());
        assert!(check_name("ana b").is_err());
        assert!(check_name("<script>").is_err());
        assert!(check_password("12345678").is_ok());
        assert!(check_password("1234567").is_err());
    }

    #[test]
    fn next_stays_on_this_site() {
        assert_eq!(safe_next("/items/3"), "/items/3");
        assert_eq!(safe_next("//evil.example"), "/");
        assert_eq!(safe_next("https://evil.example"), "/");
        assert_eq!(safe_next("/\\evil.example"), "/");
        assert_eq!(safe_next(""), "/");
    }
}
