//! The SQLite database under the data folder: users, items, bids and a little metadata
//! (the session secret, whether the demo was seeded).
//!
//! One connection behind a mutex: every query here takes well under a millisecond, so
//! handlers call it directly instead of hopping to a blocking thread, and a bid's check
//! and insert happen under one lock, which is what makes the server the authority on
//! prices. WAL mode with `synchronous = NORMAL` keeps every committed row across a
//! process restart.

use std::path::Path;
use std::sync::{Mutex, MutexGuard, PoisonError};

use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::Serialize;

use crate::bids::{self, Refusal};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE COLLATE NOCASE,
    password_hash TEXT NOT NULL,
    created_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS items (
    id INTEGER PRIMARY KEY,
    seller_id INTEGER NOT NULL REFERENCES users(id),
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    start_cents INTEGER NOT NULL,
    image TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    ends_ms INTEGER NOT NULL,
    closed INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS bids (
    id INTEGER PRIMARY KEY,
    item_id INTEGER NOT NULL REFERENCES items(id),
    bidder_id INTEGER NOT NULL REFERENCES users(id),
    cents INTEGER NOT NULL,
    placed_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS bids_by_item ON bids(item_id, cents DESC);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
";

/// The database handle, shared by every handler.
#[derive(Debug)]
pub struct Db {
    conn: Mutex<Connection>,
}

/// A user account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    /// Row id.
    pub id: i64,
    /// The unique user name.
    pub name: String,
}

/// An item with what its page shows: its seller and its bids' summary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Item {
    /// Row id.
    pub id: i64,
    /// Who sells it.
    pub seller_id: i64,
    /// The seller's name.
    pub seller: String,
    /// Short title.
    pub title: String,
    /// Free text.
    pub description: String,
    /// The starting price in cents.
    pub start_cents: i64,
    /// The image's file name in the images folder.
    pub image: String,
    /// When it was listed (Unix milliseconds).
    pub created_ms: i64,
    /// When bidding ends (Unix milliseconds).
    pub ends_ms: i64,
    /// The highest bid in cents, if any.
    pub top_cents: Option<i64>,
    /// Who placed the highest bid.
    pub top_bidder: Option<String>,
    /// How many bids there are.
    pub bid_count: i64,
}

/// One bid, as the item page lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Bid {
    /// Row id.
    pub id: i64,
    /// The item.
    pub item_id: i64,
    /// The bidder's name.
    pub bidder: String,
    /// The amount in cents.
    pub cents: i64,
    /// When the server accepted it (Unix milliseconds).
    pub placed_ms: i64,
}

/// A new item's fields.
#[derive(Debug, Clone)]
pub struct NewItem<'a> {
    /// Who sells it.
    pub seller_id: i64,
    /// Short title.
    pub title: &'a str,
    /// Free text.
    pub description: &'a str,
    /// Starting price in cents.
    pub start_cents: i64,
    /// The stored image's file name.
    pub image: &'a str,
    /// When it was listed.
    pub created_ms: i64,
    /// When bidding ends.
    pub ends_ms: i64,
}

const ITEM_COLUMNS: &str = "
    SELECT i.id, i.seller_id, u.name, i.title, i.description, i.start_cents, i.image,
           i.created_ms, i.ends_ms,
           (SELECT b.cents FROM bids b WHERE b.item_id = i.id ORDER BY b.cents DESC, b.id LIMIT 1),
           (SELECT w.name FROM bids b JOIN users w ON w.id = b.bidder_id
              WHERE b.item_id = i.id ORDER BY b.cents DESC, b.id LIMIT 1),
           (SELECT COUNT(*) FROM bids b WHERE b.item_id = i.id)
    FROM items i JOIN users u ON u.id = i.seller_id";

impl Db {
    /// Opens (creating if needed) the database file and its tables.
    pub fn open(path: &Path) -> rusqlite::Result<Db> {
        let conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.execute_batch(SCHEMA)?;
        Ok(Db {
            conn: Mutex::new(conn),
        })
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves SQLite consistent (every write is one
        // statement or one transaction), so a poisoned lock is still usable.
        self.conn.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A value from the metadata table.
    pub fn meta(&self, key: &str) -> rusqlite::Result<Option<String>> {
        self.conn()
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |row| {
                row.get(0)
            })
            .optional()
    }

    /// Sets a metadata value.
    pub fn set_meta(&self, key: &str, value: &str) -> rusqlite::Result<()> {
        self.conn().execute(
            "INSERT INTO meta (key, value) VALUES (?1, ?2)
             ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            [key, value],
        )?;
        Ok(())
    }

    /// Creates a user; `Ok(None)` if the name is taken (names ignore ASCII case).
    pub fn create_user(
        &self,
        name: &str,
        password_hash: &str,
        now_ms: i64,
    ) -> rusqlite::Result<Option<User>> {
        let conn = self.conn();
        let inserted = conn.execute(
            "INSERT INTO users (name, password_hash, created_ms) VALUES (?1, ?2, ?3)
             ON CONFLICT(name) DO NOTHING",
            params![name, password_hash, now_ms],
        )?;
        Ok((inserted == 1).then(|| User {
            id: conn.last_insert_rowid(),
            name: name.to_owned(),
        }))
    }

    /// A user and their password hash, by name.
    pub fn user_by_name(&self, name: &str) -> rusqlite::Result<Option<(User, String)>> {
        self.conn()
            .query_row(
                "SELECT id, name, password_hash FROM users WHERE name = ?1",
                [name],
                |row| {
                    let user = User {
                        id: row.get(0)?,
                        name: row.get(1)?,
                    };
                    Ok((user, row.get(2)?))
                },
            )
            .optional()
    }

    /// How many items there are.
    pub fn item_count(&self) -> rusqlite::Result<i64> {
        self.conn()
            .query_row("SELECT COUNT(*) FROM items", [], |row| row.get(0))
    }

    /// Lists an item; returns its id.
    pub fn create_item(&self, item: &NewItem<'_>) -> rusqlite::Result<i64> {
        let conn = self.conn();
        conn.execute(
            "INSERT INTO items (seller_id, title, description, start_cents, image, created_ms, ends_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                item.seller_id,
                item.title,
                item.description,
                item.start_cents,
                item.image,
                item.created_ms,
                item.ends_ms
            ],
        )?;
        Ok(conn.last_insert_rowid())
    }

    /// One item.
    pub fn item(&self, id: i64) -> rusqlite::Result<Option<Item>> {
        let sql = format!("{ITEM_COLUMNS} WHERE i.id = ?1");
        self.conn().query_row(&sql, [id], item_from_row).optional()
    }

    /// Every item: running auctions first (ending soonest first), then ended ones (most
    /// recent first).
    pub fn items(&self, now_ms: i64) -> rusqlite::Result<Vec<Item>> {
        let sql = format!(
            "{ITEM_COLUMNS} ORDER BY (i.ends_ms <= ?1), \
             CASE WHEN i.ends_ms > ?1 THEN i.ends_ms ELSE -i.ends_ms END, i.id"
        );
        let conn = self.conn();
        let mut statement = conn.prepare(&sql)?;
        let rows = statement.query_map([now_ms], item_from_row)?;
        rows.collect()
    }

    /// An item's bids, highest first.
    pub fn bids(&self, item_id: i64) -> rusqlite::Result<Vec<Bid>> {
        let conn = self.conn();
        let mut statement = conn.prepare(
            "SELECT b.id, b.item_id, u.name, b.cents, b.placed_ms
             FROM bids b JOIN users u ON u.id = b.bidder_id
             WHERE b.item_id = ?1 ORDER BY b.cents DESC, b.id",
        )?;
        let rows = statement.query_map([item_id], |row| {
            Ok(Bid {
                id: row.get(0)?,
                item_id: row.get(1)?,
                bidder: row.get(2)?,
                cents: row.get(3)?,
                placed_ms: row.get(4)?,
            })
        })?;
        rows.collect()
    }

    /// Places a bid if the rules allow it at `now_ms`: the check and the insert happen
    /// under one lock, so two bids can never both beat the same price.
    pub fn place_bid(
        &self,
        item_id: i64,
        bidder: &User,
        cents: i64,
        now_ms: i64,
    ) -> rusqlite::Result<Result<(Bid, Item), Refusal>> {
        let conn = self.conn();
        let sql = format!("{ITEM_COLUMNS} WHERE i.id = ?1");
        let Some(item) = conn.query_row(&sql, [item_id], item_from_row).optional()? else {
            return Ok(Err(Refusal::NotFound));
        };
        if let Err(refusal) = bids::check(&item, bidder.id, cents, now_ms) {
            return Ok(Err(refusal));
        }
        conn.execute(
            "INSERT INTO bids (item_id, bidder_id, cents, placed_ms) VALUES (?1, ?2, ?3, ?4)",
            params![item_id, bidder.id, cents, now_ms],
        )?;
        let bid = Bid {
            id: conn.last_insert_rowid(),
            item_id,
            bidder: bidder.name.clone(),
            cents,
            placed_ms: now_ms,
        };
        let item = Item {
            top_cents: Some(cents),
            top_bidder: Some(bidder.name.clone()),
            bid_count: item.bid_count + 1,
            ..item
        };
        Ok(Ok((bid, item)))
    }

    /// Marks an ended item closed; `true` the first time.
    pub fn close_item(&self, item_id: i64) -> rusqlite::Result<bool> {
        let changed = self.conn().execute(
            "UPDATE items SET closed = 1 WHERE id = ?1 AND closed = 0",
            [item_id],
        )?;
        Ok(changed == 1)
    }

    /// Items not yet marked closed, with their end times.
    pub fn open_items(&self) -> rusqlite::Result<Vec<(i64, i64)>> {
        let conn = self.conn();
        let mut statement = conn.prepare("SELECT id, ends_ms FROM items WHERE closed = 0")?;
        let rows = statement.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?;
        rows.collect()
    }
}

fn item_from_row(row: &Row<'_>) -> rusqlite::Result<Item> {
    Ok(Item {
        id: row.get(0)?,
        seller_id: row.get(1)?,
        seller: row.get(2)?,
        title: row.get(3)?,
        description: row.get(4)?,
        start_cents: row.get(5)?,
        image: row.get(6)?,
        created_ms: row.get(7)?,
        ends_ms: row.get(8)?,
        top_cents: row.get(9)?,
        top_bidder: row.get(10)?,
        bid_count: row.get(11)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> (tempfile::TempDir, Db) {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = Db::open(&dir.path().join("test.sqlite3")).expect("open");
        (dir, db)
    }

    fn item(db: &Db, seller: &User, ends_ms: i64) -> i64 {
        db.create_item(&NewItem {
            seller_id: seller.id,
            title: "Lamp",
            description: "Brass.",
            start_cents: 1000,
            image: "lamp.png",
            created_ms: 0,
            ends_ms,
        })
        .expect("item")
    }

    #[test]
    fn user_names_are_unique_ignoring_case() {
        let (_dir, db) = db();
        assert!(db.create_user("Ana", "h", 0).expect("insert").is_some());
        assert!(db.create_user("ana", "h", 0).expect("insert").is_none());
        let (user, hash) = db.user_by_name("ANA").expect("query").expect("found");
        assert_eq!((user.name.as_str(), hash.as_str()), ("Ana", "h"));
    }

    #[test]
    fn bids_raise_the_price_and_too_low_ones_are_refused() {
        let (_dir, db) = db();
        let seller = db.create_user("sam", "h", 0).expect("ok").expect("new");
        let bidder = db.create_user("bo", "h", 0).expect("ok").expect("new");
        let id = item(&db, &seller, 10_000);
        let (bid, item) = db
            .place_bid(id, &bidder, 1000, 1)
            .expect("ok")
            .expect("accepted");
        assert_eq!(
            (bid.cents, item.top_cents, item.bid_count),
            (1000, Some(1000), 1)
        );
        let low = db.place_bid(id, &bidder, 1050, 2).expect("ok");
        assert!(
            matches!(low, Err(Refusal::TooLow { min_cents: 1100 })),
            "{low:?}"
        );
        let own = db.place_bid(id, &seller, 5000, 2).expect("ok");
        assert_eq!(own, Err(Refusal::OwnItem));
        let late = db.place_bid(id, &bidder, 5000, 10_000).expect("ok");
        assert_eq!(late, Err(Refusal::Over));
        assert_eq!(
            db.place_bid(99, &bidder, 5000, 2).expect("ok"),
            Err(Refusal::NotFound)
        );
        let stored = db.item(id).expect("ok").expect("found");
        assert_eq!(stored.top_bidder.as_deref(), Some("bo"));
    }

    #[test]
    fn items_list_running_auctions_first() {
        let (_dir, db) = db();
        let seller = db.create_user("sam", "h", 0).expect("ok").expect("new");
        let ended = item(&db, &seller, 50);
        let later = item(&db, &seller, 500);
        let sooner = item(&db, &seller, 200);
        let order: Vec<i64> = db.items(100).expect("ok").iter().map(|i| i.id).collect();
        assert_eq!(order, [sooner, later, ended]);
    }

    #[test]
    fn closing_happens_once() {
        let (_dir, db) = db();
        let seller = db.create_user("sam", "h", 0).expect("ok").expect("new");
        let id = item(&db, &seller, 50);
        assert_eq!(db.open_items().expect("ok"), [(id, 50)]);
        assert!(db.close_item(id).expect("ok"));
        assert!(!db.close_item(id).expect("ok"));
        assert!(db.open_items().expect("ok").is_empty());
    }
}
