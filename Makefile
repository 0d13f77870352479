# The recipes CI runs (.ci/run calls `make ci`). Every recipe works on stable Rust.

CARGO ?= cargo
PORT ?= 8082

.PHONY: run hello test ci fmt lint unit doc bench fuzz clean autobahn autobahn-deps autobahn-deflate bench-ws bench-sio interop-deps e2e-deps auction-deps interop-socketio-reference

## run: the flagship example, a live auction (examples/auction) on http://127.0.0.1:$(PORT)
run: auction-deps
	$(CARGO) run --release -p auction -- --host 127.0.0.1 --port $(PORT) --data ./auction-data

## hello: the ten-line example of the README (http://127.0.0.1:$(PORT))
hello:
	$(CARGO) run --release --example hello -- --host 127.0.0.1 --port $(PORT)

## auction-deps: the auction page's npm socket.io-client (examples/auction/node_modules), when missing
auction-deps:
	test -d examples/auction/node_modules/socket.io-client || npm ci --prefix examples/auction --omit=dev --no-audit --no-fund

## test: every gate and every test, as CI runs them
test: fmt lint unit doc autobahn

fmt:
	$(CARGO) fmt --all -- --check

lint:
	$(CARGO) clippy --workspace --all-targets --all-features -- -D warnings

unit: interop-deps autobahn-deps e2e-deps
	$(CARGO) test --workspace --all-features

## interop-deps: the npm and PyPI clients the interop tests drive (interop/package.json,
## interop/socketio/requirements.txt), when missing
interop-deps:
	test -d interop/node_modules/engine.io-client && test -d interop/node_modules/socket.io-client \
		&& test -d interop/node_modules/socket.io || npm ci --prefix interop --no-audit --no-fund
	python3 -c "import socketio, websocket, requests" 2>/dev/null \
		|| PIP_BREAK_SYSTEM_PACKAGES=1 python3 -m pip install -q -r interop/socketio/requirements.txt

## interop-socketio-reference: the Socket.IO client scripts against the Node socket.io reference server
interop-socketio-reference: interop-deps
	interop/socketio/prove

## e2e-deps: what the auction's browser test drives: /usr/bin/chromium (apt) and playwright-core (npm)
e2e-deps:
	test -x /usr/bin/chromium || (apt-get update && apt-get install -y chromium) || (sudo apt-get update && sudo apt-get install -y chromium)
	test -d examples/auction/node_modules/playwright-core || npm ci --prefix examples/auction --no-audit --no-fund

doc:
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc --workspace --no-deps --all-features

## autobahn-deps: the Python packages of the WebSocket interop checks (kosoku, websockets)
autobahn-deps:
	python3 -c "import kosoku, websockets" 2>/dev/null || python3 -m pip install -q -r interop/autobahn/requirements.txt

## autobahn: the Autobahn WebSocket suite (kosoku) against examples/websocket_echo; fails on any FAILED case
autobahn: autobahn-deps
	interop/autobahn/run

## autobahn-deflate: the Autobahn suite with permessage-deflate on, 12.* and 13.* included (~5 min)
autobahn-deflate: autobahn-deps
	interop/autobahn/run --deflate

## ci: what .ci/run executes on a clean machine
ci: test autobahn-deflate

## bench: side-by-side benchmark against axum, actix-web, hyper and a canned-response ceiling
bench:
	bench/run

## bench-ws: WebSocket codecs side by side (tokio-tungstenite, fastwebsockets, carafe) on the upgrade hook
bench-ws:
	bench/ws/run

## bench-sio: Socket.IO side by side (carafe, socketioxide, Node socket.io); see bench/sio/README.md
bench-sio:
	bench/sio/run

## fuzz: run each fuzz target for FUZZ_SECONDS (see fuzz/README.md)
FUZZ_SECONDS ?= 60
fuzz:
	$(MAKE) -C fuzz run SECONDS=$(FUZZ_SECONDS)

clean:
	$(CARGO) clean
