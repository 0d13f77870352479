#![doc = include_str!("../README.md")]
//!
//! ## Modules
//!
//! | module | Flask / Werkzeug | owns |
//! |---|---|---|
//! | [`App`] (`app.rs`) | `Flask` | routes, dispatch, `app.run` |
//! | [`routing`] | `werkzeug.routing` | rules, converters, the segment trie, method routing |
//! | [`extract`] | `request` | extractors and [`RequestParts`] |
//! | [`IntoResponse`] (`response.rs`), [`Json`] (`json.rs`) | `make_response`, `jsonify` | responses |
//! | [`HttpError`], [`Error`] (`error.rs`) | `HTTPException` | errors and their answers |
//! | [`Handler`] (`handler.rs`) | view functions | handler traits, type erasure |
//! | [`cli`], [`Run`] (`run.rs`) | `flask run`, `app.run` | serving from the command line |
//! | [`after_this_request`] (`scope.rs`) | context locals, `after_this_request` | the request scope: per-request values, response finishers |
//! | [`Config`] (`config.rs`) | `app.config` | typed settings under Flask's names |
//! | [`State`], [`StateMap`] (`state.rs`) | `app.config`, `app.extensions` | shared state and features' settings |

mod app;
pub mod cli;
mod config;
mod error;
pub mod extract;
mod handler;
mod json;
mod response;
pub mod routing;
mod run;
mod scope;
mod state;

pub use app::App;
pub use carafe_serve::{Body, ConnInfo, Request, Response};
pub use config::{Config, SameSite};
pub use error::{Error, HttpError};
pub use extract::{FromRequest, FromRequestParts, Path, Query, RequestParts};
pub use handler::Handler;
pub use http::{self, StatusCode};
pub use json::Json;
pub use response::{Html, IntoResponse};
pub use routing::{delete, get, options, patch, post, put, Match, MethodRouter, Params, Router};
pub use run::Run;
pub use scope::after_this_request;
pub use state::{State, StateMap};

/// The repository's README, compiled as a doctest so that its example stays true.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
struct RepositoryReadme;
