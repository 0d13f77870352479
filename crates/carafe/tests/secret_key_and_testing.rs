//! Startup refusal without a secret key when sessions are used (production only), and
//! testing mode: errors propagate to the test client as with Flask's `TESTING`.

use carafe::{abort, get, App, Session, StatusCode};

async fn counter(session: Session) -> String {
    let n = session.get::<u32>("n").unwrap_or(0) + 1;
    session.insert("n", n);
    n.to_string()
}

async fn plain() -> &'static str {
    "plain"
}

fn session_app() -> App {
    let mut app = App::new();
    app.route("/", get(counter)).route("/plain", get(plain));
    app
}

#[test]
fn production_refuses_sessions_without_a_secret_key_naming_the_fix() {
    let app = session_app();
    let error = app
        .check()
        .expect_err("no secret key in production")
        .to_string();
    assert!(error.contains("counter"), "{error}");
    assert!(error.contains("sessions"), "{error}");
    assert!(error.contains("secret_key"), "{error}");
    assert!(error.contains("CARAFE_SECRET_KEY"), "{error}");
    assert!(app.try_test_client().is_err());
}

#[test]
fn a_secret_key_debug_or_testing_mode_lets_it_start() {
    let mut app = session_app();
    app.secret_key("a long random value");
    assert!(app.check().is_ok());
    let mut app = session_app();
    app.config_mut().debug = true;
    assert!(app.check().is_ok());
    let mut app = session_app();
    app.config_mut().testing = true;
    assert!(app.check().is_ok());
}

#[test]
fn apps_without_sessions_need_no_key() {
    let mut app = App::new();
    app.route("/plain", get(plain));
    assert!(app.check().is_ok());
}

#[test]
fn a_hook_taking_the_session_needs_the_key_too() {
    let mut app = App::new();
    app.route("/plain", get(plain))
        .before_request(|session: Session| async move {
            let _ = session.get::<u32>("n");
        });
    let error = app.check().expect_err("a hook uses sessions").to_string();
    assert!(error.contains("before_request"), "{error}");
}

#[test]
fn the_key_from_the_environment_satisfies_the_check() {
    let mut app = session_app();
    app.config_mut()
        .apply_env_from([(
            "CARAFE_SECRET_KEY".to_owned(),
            "from the environment".to_owned(),
        )])
        .expect("a valid environment");
    assert!(app.check().is_ok());
}

async fn failing() -> carafe::Result<&'static str> {
    Err(std::io::Error::other("the disk is on fire"))?
}

async fn missing() -> carafe::Result<&'static str> {
    Err(abort(StatusCode::NOT_FOUND))
}

fn failing_app(testing: bool) -> App {
    let mut app = App::new();
    app.config_mut().testing = testing;
    app.route("/fail", get(failing))
        .route("/missing", get(missing));
    app
}

#[tokio::test]
async fn testing_mode_propagates_errors_to_the_test_client() {
    let client = failing_app(true).test_client();
    let outcome = tokio::spawn(async move { client.get("/fail").await.status() }).await;
    let panic = outcome.expect_err("the error propagates as a panic");
    let message = panic
        .into_panic()
        .downcast::<String>()
        .map(|text| *text)
        .unwrap_or_default();
    assert!(message.contains("the disk is on fire"), "{message}");
    assert!(message.contains("GET /fail"), "{message}");
}

#[tokio::test]
async fn testing_mode_still_answers_http_errors() {
    let client = failing_app(true).test_client();
    assert_eq!(client.get("/missing").await.status(), 404);
    assert_eq!(client.get("/nowhere").await.status(), 404);
}

#[tokio::test]
async fn without_testing_mode_an_error_is_a_500() {
    let client = failing_app(false).test_client();
    assert_eq!(client.get("/fail").await.status(), 500);
}
