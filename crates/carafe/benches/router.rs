//! Router lookup time with 1,000 rules: all static, all with placeholders, and mixed;
//! and the cost of a whole in-memory dispatch of `GET /` through an `App` holding them.
//!
//! ```text
//! cargo bench -p carafe --bench router
//! ```

// criterion_group! and criterion_main! generate undocumented public functions.
#![allow(missing_docs)]

use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use carafe::{get, App, Body, Router};
use carafe_serve::Application;
use criterion::{criterion_group, criterion_main, Criterion};
use http::Method;

async fn noop() -> &'static str {
    "Hello, World!"
}

/// 1,000 rules: 400 static ones, and 600 with `int`, `string`, `uuid`, `float` and `path`
/// placeholders, spread over shared and distinct prefixes.
fn rules() -> Vec<String> {
    let mut rules = vec!["/".to_owned()];
    for index in 0..399 {
        rules.push(format!("/static/section{}/page{index}", index % 20));
    }
    for index in 0..200 {
        rules.push(format!("/api/v1/resource{index}/<int:id>"));
    }
    for index in 0..200 {
        rules.push(format!("/users{index}/<name>/posts/<int:post>"));
    }
    for index in 0..100 {
        rules.push(format!("/things{index}/<uuid:id>/price/<float:amount>"));
    }
    for index in 0..100 {
        rules.push(format!("/files{index}/<path:rest>"));
    }
    rules
}

/// 1,000 static rules, two to four segments deep.
fn static_rules() -> Vec<String> {
    (0..1000)
        .map(|index| match index % 3 {
            0 => format!("/page{index}"),
            1 => format!("/docs/section{}/page{index}", index % 25),
            _ => format!("/a{}/b{}/c{}/page{index}", index % 5, index % 7, index % 11),
        })
        .collect()
}

/// 1,000 rules with placeholders (one to three), under 250 prefixes, with converter
/// arguments on some.
fn param_rules() -> Vec<String> {
    let mut rules = Vec::new();
    for index in 0..250 {
        rules.push(format!("/r{index}/<int:id>"));
        rules.push(format!("/r{index}/<int:id>/<name>"));
        rules.push(format!(
            "/r{index}/<name>/items/<int(min=1, max=1000):item>"
        ));
        rules.push(format!("/r{index}/<uuid:u>/<path:rest>"));
    }
    rules
}

fn router_of(rules: Vec<String>) -> Router {
    let mut router = Router::new();
    for rule in rules {
        router.route(&rule, get(noop));
    }
    router
}

fn bench_kinds(c: &mut Criterion) {
    let groups = [
        (
            "router_1000_static",
            router_of(static_rules()),
            [
                ("shallow", "/page999"),
                ("deep", "/a3/b4/c8/page998"),
                ("miss_404", "/docs/section3/nope"),
            ],
        ),
        (
            "router_1000_param",
            router_of(param_rules()),
            [
                ("int", "/r200/4242"),
                ("int_string", "/r200/4242/alice"),
                ("string_int_args", "/r200/alice/items/17"),
            ],
        ),
    ];
    for (group_name, router, cases) in groups {
        let mut group = c.benchmark_group(group_name);
        for (name, path) in cases {
            assert_eq!(
                router.at(&Method::GET, path).is_ok(),
                name != "miss_404",
                "{path}"
            );
            group.bench_function(name, |b| {
                b.iter(|| black_box(router.at(&Method::GET, black_box(path)).is_ok()));
            });
        }
        group.finish();
    }
}

fn router() -> Router {
    let mut router = Router::new();
    for rule in rules() {
        router.route(&rule, get(noop));
    }
    router
}

fn bench_lookup(c: &mut Criterion) {
    let router = router();
    let cases = [
        ("static_root", "/"),
        ("static_deep", "/static/section7/page187"),
        ("int_param", "/api/v1/resource150/4242"),
        ("two_params", "/users150/alice/posts/17"),
        (
            "uuid_float",
            "/things50/a8098c1a-f86e-11da-bd1a-00112444be1e/price/9.99",
        ),
        ("path_param", "/files50/a/b/c/d.txt"),
        ("miss_404", "/static/section7/nope"),
    ];
    let mut group = c.benchmark_group("router_1000_rules");
    for (name, path) in cases {
        group.bench_function(name, |b| {
            b.iter(|| black_box(router.at(&Method::GET, black_box(path)).is_ok()));
        });
    }
    group.finish();
}

/// Polls `future` once; the handler never waits.
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

fn bench_dispatch(c: &mut Criterion) {
    let mut app = App::new();
    for rule in rules() {
        app.route(&rule, get(noop));
    }
    c.bench_function("app_1000_rules/get_index_dispatch", |b| {
        b.iter_batched(
            || {
                http::Request::get("/")
                    .body(Body::empty())
                    .unwrap_or_default()
            },
            |req| black_box(poll_once(app.call(req))),
            criterion::BatchSize::SmallInput,
        );
    });
}

criterion_group!(benches, bench_lookup, bench_kinds, bench_dispatch);
criterion_main!(benches);
