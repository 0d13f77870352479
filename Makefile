# The recipes CI runs (.ci/run calls `make ci`). Every recipe works on stable Rust.

CARGO ?= cargo
PORT ?= 8082

.PHONY: run test ci fmt lint unit doc bench fuzz clean

## run: the main example (http://127.0.0.1:$(PORT))
run:
	$(CARGO) run --release --example hello -- --host 127.0.0.1 --port $(PORT)

## test: every gate and every test, as CI runs them
test: fmt lint unit doc

fmt:
	$(CARGO) fmt --all -- --check

lint:
	$(CARGO) clippy --workspace --all-targets --all-features -- -D warnings

unit:
	$(CARGO) test --workspace --all-features

doc:
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc --workspace --no-deps --all-features

## ci: what .ci/run executes on a clean machine
ci: test

## bench: side-by-side benchmark against axum, actix-web, hyper and a canned-response ceiling
bench:
	bench/run

## fuzz: run each fuzz target for FUZZ_SECONDS (see fuzz/README.md)
FUZZ_SECONDS ?= 60
fuzz:
	$(MAKE) -C fuzz run SECONDS=$(FUZZ_SECONDS)

clean:
	$(CARGO) clean
