//! The hot path's allocations, counted: `GET /` answered with a `&'static str` costs what
//! building the `http::Response` with its `content-type` costs, plus one box for the
//! type-erased handler's future, and nothing else (no routing, extraction or response
//! conversion allocation).

// A counting global allocator needs `unsafe impl GlobalAlloc`; it only forwards to the
// system allocator.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use carafe::{get, post, App, Body, Json, Path, Request, Response};
use carafe_serve::Application;
use http::header::CONTENT_TYPE;
use http::HeaderValue;

thread_local! {
    /// Allocations made by this thread.
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

struct Counting;

// SAFETY: every call is forwarded unchanged to the system allocator, which upholds the
// `GlobalAlloc` contract. Counting touches only a const-initialized thread-local `Cell`,
// which neither allocates nor has a destructor.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|count| count.set(count.get() + 1));
        // SAFETY: the caller's layout, passed on unchanged.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Runs `f`, returning how many allocations it made on this thread, and its output.
fn allocations_in<T>(f: impl FnOnce() -> T) -> (usize, T) {
    let before = ALLOCATIONS.with(Cell::get);
    let output = f();
    (ALLOCATIONS.with(Cell::get) - before, output)
}

/// Polls `future` once; the handlers here never wait.
fn poll_once<F: Future>(future: F) -> Option<F::Output> {
    let mut future = pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(output) => Some(output),
        Poll::Pending => None,
    }
}

async fn index() -> &'static str {
    "Hello, World!"
}

fn app() -> App {
    let mut app = App::new();
    app.route("/", get(index))
        .route("/json", get(|| async { Json([1, 2, 3]) }))
        .route("/echo", post(|body: Body| async { body }))
        .route(
            "/items/<int:id>",
            get(|Path(id): Path<u64>| async move { id.to_string() }),
        )
        .route("/users/<name>", get(index))
        .route("/about", get(index));
    app
}

fn get_index() -> Request {
    http::Request::get("/")
        .body(Body::empty())
        .expect("a valid request")
}

#[test]
fn get_index_allocates_only_the_response_headers_and_the_handler_future() {
    let app = app();
    // Warm up anything lazily initialized.
    let _ = poll_once(app.call(get_index()));

    let (baseline, _) = allocations_in(|| {
        let mut response = Response::new(Body::from("Hello, World!"));
        let value = HeaderValue::from_static("text/plain; charset=utf-8");
        response.headers_mut().insert(CONTENT_TYPE, value);
        response
    });
    let req = get_index();
    let (count, response) = allocations_in(|| poll_once(app.call(req)));
    assert_eq!(
        response.map(|response| response.status()),
        Some(http::StatusCode::OK)
    );
    assert_eq!(
        count,
        baseline + 1,
        "the response costs {baseline}; the handler future 1 more"
    );
}
