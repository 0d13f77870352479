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

mod app;
pub mod cli;
mod config;
mod error;
pub mod extract;
mod handler;
mod json;
pub mod response;
pub mod routing;
mod run;
mod scope;
pub mod session;
mod state;
pub mod templates;

pub use app::App;
pub use carafe_serve::{Body, ConnInfo, Request, Response};
pub use config::{Config, SameSite};
pub use error::{Error, HttpError};
pub use extract::{ClientAddr, Cookies, Form, Multipart, MultipartForm, SetCookie};
pub use extract::{FromRequest, FromRequestParts, Path, Query, RequestParts};
pub use handler::Handler;
pub use http::{self, StatusCode};
pub use json::Json;
pub use response::{Html, IntoResponse, Redirect, Streaming};
pub use routing::{delete, get, options, patch, post, put, Match, MethodRouter, Params, Router};
pub use run::Run;
pub use scope::after_this_request;
pub use session::Session;
pub use state::{State, StateMap};

/// The repository's README, compiled as a doctest so that its example stays true.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
struct RepositoryReadme;
