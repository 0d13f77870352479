//! The request scope: what lives exactly as long as one request's handling.
//!
//! Flask keeps per-request values in context locals (`request`, `session`, `g`). carafe
//! keeps them in a task-local [`Scope`] that [`App`](crate::App) sets up around its handler
//! and takes back when the handler is done, so code anywhere in a handler's call tree can
//! reach the request's scope without threading it through every call, and the app can
//! finish the response with what that code left there.
//!
//! Today the scope holds *response finishers*: closures that extractors register while a
//! request is handled (the session saves its cookie this way) and that the app runs on
//! the response before it is sent. Other request-scoped values join it as fields.

use std::cell::RefCell;
use std::fmt;
use std::future::Future;

use carafe_serve::Response;

tokio::task_local! {
    /// The scope of the request the current task is handling.
    static SCOPE: RefCell<Scope>;
}

/// A closure that changes the response before it is sent.
type Finisher = Box<dyn FnOnce(&mut Response) + Send>;

/// The values of one request's scope.
#[derive(Default)]
pub(crate) struct Scope {
    /// Run on the response in registration order, after the handler.
    finishers: Vec<Finisher>,
}

impl fmt::Debug for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scope")
            .field("finishers", &self.finishers.len())
            .finish()
    }
}

impl Scope {
    /// Runs the finishers on `response`, in the order they were registered.
    pub(crate) fn finish(self, response: &mut Response) {
        for finisher in self.finishers {
            finisher(response);
        }
    }
}

/// Runs `future` inside a fresh request scope and returns its output with the scope.
pub(crate) async fn run<F: Future>(future: F) -> (F::Output, Scope) {
    let scoped = SCOPE.scope(RefCell::new(Scope::default()), future);
    let mut scoped = std::pin::pin!(scoped);
    let output = scoped.as_mut().await;
    let scope = scoped.as_mut().take_value().map(RefCell::into_inner);
    (output, scope.unwrap_or_default())
}

/// Registers `finisher` to change this request's response before it is sent (Flask's
/// `after_this_request`).
///
/// Call it from a handler or from any function it calls, on the task that handles the
/// request. Returns `false`, and drops `finisher`, when called outside a request handled
/// by an [`App`](crate::App) (in a spawned task, or in a unit test calling an extractor
/// directly).
///
/// ```
/// use carafe::{after_this_request, get, App};
/// use http::header::HeaderValue;
///
/// async fn index() -> &'static str {
///     after_this_request(|response| {
///         response.headers_mut().insert("x-foo", HeaderValue::from_static("a value"));
///     });
///     "Hello"
/// }
///
/// let mut app = App::new();
/// app.route("/", get(index));
/// ```
pub fn after_this_request(finisher: impl FnOnce(&mut Response) + Send + 'static) -> bool {
    SCOPE
        .try_with(|scope| scope.borrow_mut().finishers.push(Box::new(finisher)))
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::IntoResponse;
    use http::header::HeaderValue;

    #[tokio::test]
    async fn finishers_run_in_order_after_the_future() {
        let (value, scope) = run(async {
            assert!(after_this_request(|response| {
                response
                    .headers_mut()
                    .insert("x-order", HeaderValue::from_static("first"));
            }));
            assert!(after_this_request(|response| {
                response
                    .headers_mut()
                    .append("x-order", HeaderValue::from_static("second"));
            }));
            7
        })
        .await;
        assert_eq!(value, 7);
        let mut response = ().into_response();
        scope.finish(&mut response);
        let order: Vec<_> = response.headers().get_all("x-order").iter().collect();
        assert_eq!(order, ["first", "second"]);
    }

    #[tokio::test]
    async fn outside_a_request_nothing_is_registered() {
        assert!(!after_this_request(|_| {}));
    }
}
