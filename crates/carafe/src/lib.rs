#![doc = include_str!("../README.md")]
//!
//! ## Modules
//!
//! | module | Flask / Werkzeug | owns |
//! |---|---|---|
//! | [`App`] (`app.rs`) | `Flask` | routes, dispatch, `app.run` |
//! | [`routing`] | `werkzeug.routing` | rules, converters, the segment trie, method routing |
//! | [`extract`] | `request` | extractors and [`RequestParts`] |
//! | [`extract`]: `form.rs`, `multipart/`, `cookies.rs`, `headers.rs`, `client.rs` | `request.form`, `request.files`, `request.cookies`, `set_cookie`, `request.headers`, `remote_addr`, `ProxyFix` | request data: [`Form`], [`Multipart`], [`MultipartForm`], [`Cookies`], [`SetCookie`], [`ClientAddr`] |
//! | [`IntoResponse`] (`response.rs`), [`Json`] (`json.rs`) | `make_response`, `jsonify` | responses |
//! | [`response`] (`response/`) | `redirect`, `send_file`, `send_from_directory`, streaming, Flask-Compress | redirects, streams, server-sent events, files, the static folder, compression |
//! | [`HttpError`], [`Error`] (`error.rs`) | `HTTPException` | errors and their answers |
//! | [`Handler`] (`handler.rs`) | view functions | handler traits, type erasure |
//! | [`cli`], [`Run`] (`run.rs`) | `flask run`, `app.run` | serving from the command line |
//! | [`after_this_request`] (`scope.rs`) | context locals, `after_this_request` | the request scope: per-request values, response finishers |
//! | [`Config`] (`config.rs`) | `app.config` | typed settings under Flask's names |
//! | [`State`], [`StateMap`] (`state.rs`) | `app.config`, `app.extensions` | shared state and features' settings |
//! | [`session`], [`Session`] | `session`, `flash`, `SecureCookieSessionInterface` | signed-cookie sessions, flash messages |
//! | [`templates`] | `render_template`, `app.jinja_env` | minijinja templates, their folders and globals |
//! | [`Blueprint`] (`blueprint.rs`) | `Blueprint` | routes, hooks and error handlers under a prefix |
//! | [`hooks`] | `before_request`, `after_request`, `teardown_request`, `errorhandler` | hooks and error handlers |
//! | [`abort`], [`Result`] (`error.rs`), [`debug_page_allowed`] (`error_page.rs`) | `abort`, debugger | errors, the debug and production error pages |
//! | [`url_for`] (`url.rs`) | `url_for` | building URLs from endpoints |
//! | [`testing`] | `app.test_client()` | the in-process test client |
//! | [`csrf`] | Flask-WTF's `CSRFProtect`, `csrf_token()` | session-bound form tokens, their template global and checking extractors |

mod app;
mod blueprint;
pub mod cli;
mod config;
pub mod csrf;
mod error;
mod error_page;
pub mod extract;
mod handler;
pub mod hooks;
mod json;
mod mount;
pub mod response;
pub mod routing;
mod run;
mod scope;
pub mod session;
mod state;
pub mod templates;
pub mod testing;
mod url;

pub use app::App;
pub use blueprint::{Blueprint, BlueprintInfo};
pub use carafe_serve::{Body, ConnInfo, Request, Response};
pub use config::{Config, ConfigError, SameSite, ENV_PREFIX};
pub use error::{abort, abort_with, Error, HttpError, Result};
pub use error_page::debug_page_allowed;
pub use extract::{ClientAddr, Cookies, Form, Multipart, MultipartForm, SetCookie};
pub use extract::{FromRequest, FromRequestParts, Path, Query, RequestParts};
pub use handler::Handler;
pub use hooks::{BeforeOutput, BeforeRequest};
pub use http::{self, StatusCode};
pub use json::Json;
pub use response::{Html, IntoResponse, Redirect, Streaming};
pub use routing::{
    delete, get, options, patch, post, put, Match, MethodRouter, Params, RouteInfo, Router,
};
pub use run::Run;
pub use scope::{after_this_request, request_endpoint};
pub use session::Session;
pub use state::{Needs, State, StateMap};
pub use templates::{render_template, render_template_string};
pub use url::{url_for, UrlError, UrlParams};

/// The repository's README, compiled as a doctest so that its example stays true.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
struct RepositoryReadme;
