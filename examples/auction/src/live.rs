//! The live side, on the Socket.IO namespace `/item` (the seed app's namespace `item`).
//!
//! | client → server | ack |
//! |---|---|
//! | `watch`, item id | joins the room `item:<id>`; the item, its bids and the server's clock |
//! | `bid`, `{item, amount}` | `{ok: true, bid}` or `{ok: false, reason, message}` |
//!
//! | server → room `item:<id>` | when |
//! |---|---|
//! | `bid` | a bid was accepted: the new price, the bidder, the next minimum |
//! | `closed` | the auction ended: the winner and the price (or no bids) |
//! | `viewers` | someone opened or left the page: how many watch |
//!
//! The bidder is whoever the HTTP session of the Socket.IO handshake says
//! ([`Socket::http_session`]): the same signed cookie the pages use, so nothing on the
//! wire can claim another user. Prices and times come from the server: the browser only
//! proposes an amount. Each item gets one closing timer (a tokio task) the first time a
//! page or a watcher needs it; it sleeps until the end time, marks the item closed, and
//! announces the result to the room.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use carafe_socketio::extract::Data;
use carafe_socketio::{AckSender, Socket, SocketIo};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::bids::{format_cents, parse_cents, Refusal};
use crate::db::{Bid, Db, User};
use crate::items::ItemView;
use crate::now_ms;

/// The Socket.IO namespace of item pages.
pub const NAMESPACE: &str = "/item";

/// The room of one item's viewers.
pub fn room(item_id: i64) -> String {
    format!("item:{item_id}")
}

/// The live side: the Socket.IO server, the database, the closing timers.
#[derive(Debug, Clone)]
pub struct Live {
    sio: SocketIo,
    db: Arc<Db>,
    /// Items whose closing timer is running or done (one per item per process).
    scheduled: Arc<Mutex<HashSet<i64>>>,
}

/// A `bid` event's payload.
#[derive(Debug, Deserialize)]
pub struct BidRequest {
    /// The item id.
    pub item: i64,
    /// The amount as typed (`12.50`) or as a number.
    pub amount: serde_json::Value,
}

/// What the room hears about an accepted bid.
#[derive(Debug, Serialize)]
pub struct BidUpdate {
    /// The bid.
    pub bid: Bid,
    /// The new price, formatted.
    pub price: String,
    /// The lowest next bid, formatted.
    pub min_next: String,
    /// The lowest next bid in cents.
    pub min_next_cents: i64,
    /// How many bids the item has.
    pub bid_count: i64,
    /// The bid as the page lists it.
    pub amount: String,
}

/// What the room hears when the auction ends.
#[derive(Debug, Serialize)]
pub struct Closed {
    /// The item id.
    pub item: i64,
    /// The winner's name, if anyone bid.
    pub winner: Option<String>,
    /// The final price, formatted.
    pub price: String,
    /// How many bids there were.
    pub bid_count: i64,
}

impl Live {
    /// The live side of `sio`, reading and writing `db`.
    pub fn new(sio: SocketIo, db: Arc<Db>) -> Live {
        Live {
            sio,
            db,
            scheduled: Arc::default(),
        }
    }

    /// Registers the `/item` namespace's handlers.
    pub fn register(&self) {
        let namespace = self.sio.namespace(NAMESPACE);
        let live = self.clone();
        namespace.on(
            "watch",
            move |socket: Socket, Data(item): Data<i64>, ack: AckSender| {
                let live = live.clone();
                async move { live.watch(socket, item, ack).await }
            },
        );
        let live = self.clone();
        namespace.on(
            "bid",
            move |socket: Socket, Data(bid): Data<BidRequest>, ack: AckSender| {
                let live = live.clone();
                async move { live.bid(&socket, bid, ack).await }
            },
        );
        let live = self.clone();
        namespace.on_disconnect(move |socket: Socket, _reason| {
            let live = live.clone();
            async move { live.left(&socket).await }
        });
    }

    async fn watch(&self, socket: Socket, item_id: i64, ack: AckSender) -> Result<(), String> {
        let item = self.db.item(item_id).map_err(|error| error.to_string())?;
        let Some(item) = item else {
            let answer = json!({ "ok": false, "message": "No such item." });
            return ack.send(&answer).map_err(|error| error.to_string());
        };
        let bids = self.db.bids(item_id).map_err(|error| error.to_string())?;
        socket.join(room(item_id));
        self.schedule_close(item.id, item.ends_ms);
        let user = user_of(&socket).map(|user| user.name);
        let now = now_ms();
        let bids: Vec<_> = bids
            .into_iter()
            .map(|bid| json!({ "amount": format_cents(bid.cents), "bid": bid }))
            .collect();
        ack.send(&json!({
            "ok": true,
            "item": ItemView::new(item, now),
            "bids": bids,
            "user": user,
            "now_ms": now,
        }))
        .map_err(|error| error.to_string())?;
        self.count_viewers(item_id, None).await;
        Ok(())
    }

    async fn bid(
        &self,
        socket: &Socket,
        request: BidRequest,
        ack: AckSender,
    ) -> Result<(), String> {
        let outcome = self.place(socket, &request);
        let update = match outcome {
            Ok(update) => update,
            Err(refusal) => return ack.send(&refusal.ack()).map_err(|error| error.to_string()),
        };
        ack.send(&json!({ "ok": true, "bid": &update }))
            .map_err(|error| error.to_string())?;
        self.sio
            .of(NAMESPACE)
            .to(room(request.item))
            .emit("bid", &update)
            .await
            .map_err(|error| error.to_string())
    }

    /// Checks and stores a bid for the socket's user.
    fn place(&self, socket: &Socket, request: &BidRequest) -> Result<BidUpdate, Refusal> {
        let user = user_of(socket).ok_or(Refusal::NotLoggedIn)?;
        let amount = match &request.amount {
            serde_json::Value::String(text) => text.clone(),
            other => other.to_string(),
        };
        let cents = parse_cents(&amount).ok_or(Refusal::Invalid)?;
        let placed = self.db.place_bid(request.item, &user, cents, now_ms());
        let (bid, item) = placed.map_err(|error| {
            tracing::error!("storing a bid failed: {error}");
            Refusal::Invalid
        })??;
        let view = ItemView::new(item, bid.placed_ms);
        Ok(BidUpdate {
            amount: format_cents(bid.cents),
            bid,
            price: view.price,
            min_next: view.min_next,
            min_next_cents: view.min_next_cents,
            bid_count: view.item.bid_count,
        })
    }

    /// Starts the closing timer of an item, once per item.
    pub fn schedule_close(&self, item_id: i64, ends_ms: i64) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let first = self
            .scheduled
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(item_id);
        if first {
            let live = self.clone();
            runtime.spawn(async move { live.close_at(item_id, ends_ms).await });
        }
    }

    async fn close_at(&self, item_id: i64, ends_ms: i64) {
        loop {
            let left = ends_ms - now_ms();
            if left <= 0 {
                break;
            }
            let left = u64::try_from(left).unwrap_or(u64::MAX);
            tokio::time::sleep(Duration::from_millis(left)).await;
        }
        if let Err(error) = self.close(item_id).await {
            tracing::error!("closing item {item_id} failed: {error}");
        }
    }

    /// Marks an ended item closed and announces the result to its room.
    async fn close(&self, item_id: i64) -> Result<(), String> {
        self.db
            .close_item(item_id)
            .map_err(|error| error.to_string())?;
        let Some(item) = self.db.item(item_id).map_err(|error| error.to_string())? else {
            return Ok(());
        };
        let closed = Closed {
            item: item_id,
            winner: item.top_bidder.clone(),
            price: format_cents(item.top_cents.unwrap_or(item.start_cents)),
            bid_count: item.bid_count,
        };
        tracing::info!(
            "auction {item_id} closed: {}",
            closed.winner.as_deref().unwrap_or("no bids")
        );
        self.sio
            .of(NAMESPACE)
            .to(room(item_id))
            .emit("closed", &closed)
            .await
            .map_err(|error| error.to_string())
    }

    /// Tells an item's room how many watch it, leaving out `gone` (a socket on its way
    /// out).
    async fn count_viewers(&self, item_id: i64, gone: Option<&str>) {
        let operator = self.sio.of(NAMESPACE).to(room(item_id));
        let Ok(sockets) = operator.sockets().await else {
            return;
        };
        let count = sockets
            .iter()
            .filter(|socket| Some(socket.id()) != gone)
            .count();
        let _ = operator.emit("viewers", &count).await;
    }

    async fn left(&self, socket: &Socket) {
        let items: Vec<i64> = socket
            .rooms()
            .iter()
            .filter_map(|room| room.strip_prefix("item:")?.parse().ok())
            .collect();
        for item_id in items {
            self.count_viewers(item_id, Some(socket.id())).await;
        }
    }
}

/// The user the handshake's HTTP session names, if logged in.
pub fn user_of(socket: &Socket) -> Option<User> {
    let session = socket.http_session();
    Some(User {
        id: session.get("user_id")?,
        name: session.get("user_name")?,
    })
}
