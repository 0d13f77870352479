//! Demo items for a first start: an empty database gets a few auctions ending over the
//! next minutes, hours and days (with a couple of bids), so a newcomer sees a live
//! auction straight away. It happens once per database (a `demo_seeded` mark in the
//! metadata table), and never with `--no-demo`.
//!
//! The items belong to the accounts `demo-seller` and `demo-bidder`, whose passwords
//! are random and never shown: nobody can log in as them.

use std::path::Path;

use crate::accounts::hash_password;
use crate::db::{Db, NewItem, User};
use crate::images::random_hex;
use crate::{now_ms, StartError};

/// One demo item: title, description, starting price (cents), minutes to run, an
/// opening bid (cents, if any), and its picture.
struct DemoItem {
    title: &'static str,
    description: &'static str,
    start_cents: i64,
    minutes: i64,
    opening_bid: Option<i64>,
    image: (&'static str, &'static [u8]),
}

const ITEMS: [DemoItem; 4] = [
    DemoItem {
        title: "Vintage rangefinder camera",
        description: "A 1960s 35 mm rangefinder in working order: clean glass, smooth \
                      shutter, original leather strap. Film not included.",
        start_cents: 4500,
        minutes: 5,
        opening_bid: Some(4500),
        image: ("camera.svg", include_bytes!("../demo/camera.svg")),
    },
    DemoItem {
        title: "Red city bicycle",
        description: "Steel frame, three gears, new tyres and a bell that still rings \
                      loud. Ridden on Sundays only.",
        start_cents: 12_000,
        minutes: 45,
        opening_bid: None,
        image: ("bicycle.svg", include_bytes!("../demo/bicycle.svg")),
    },
    DemoItem {
        title: "Teal ceramic teapot",
        description: "Hand-thrown stoneware, holds six cups. A tiny glaze bubble on the \
                      lid, otherwise perfect.",
        start_cents: 1800,
        minutes: 3 * 60,
        opening_bid: Some(2000),
        image: ("teapot.svg", include_bytes!("../demo/teapot.svg")),
    },
    DemoItem {
        title: "Jazz records, a box of twelve",
        description: "Twelve LPs from the fifties and sixties, sleeves a bit worn, vinyl \
                      in great shape.",
        start_cents: 6000,
        minutes: 2 * 24 * 60,
        opening_bid: None,
        image: ("records.svg", include_bytes!("../demo/records.svg")),
    },
];

/// Seeds the demo items if this database never had any and was never seeded.
pub fn seed_once(db: &Db, images_dir: &Path) -> Result<bool, StartError> {
    if db.meta("demo_seeded")?.is_some() || db.item_count()? > 0 {
        return Ok(false);
    }
    let seller = demo_user(db, "demo-seller")?;
    let bidder = demo_user(db, "demo-bidder")?;
    let now = now_ms();
    for demo in &ITEMS {
        let image = format!("demo-{}-{}", random_hex(4), demo.image.0);
        std::fs::write(images_dir.join(&image), demo.image.1).map_err(StartError::Demo)?;
        let id = db.create_item(&NewItem {
            seller_id: seller.id,
            title: demo.title,
            description: demo.description,
            start_cents: demo.start_cents,
            image: &image,
            created_ms: now,
            ends_ms: now + demo.minutes * 60_000,
        })?;
        if let Some(cents) = demo.opening_bid {
            // The demo's own bids follow the rules like anyone's.
            let _ = db.place_bid(id, &bidder, cents, now)?;
        }
    }
    db.set_meta("demo_seeded", "1")?;
    Ok(true)
}

/// A demo account with a random password nobody knows.
fn demo_user(db: &Db, name: &str) -> Result<User, StartError> {
    if let Some((user, _)) = db.user_by_name(name)? {
        return Ok(user);
    }
    let hash = hash_password(&random_hex(24)).unwrap_or_else(|_| "!".to_owned());
    let user = db.create_user(name, &hash, now_ms())?;
    user.ok_or(StartError::Database(rusqlite::Error::QueryReturnedNoRows))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_is_seeded_once() {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = Db::open(&dir.path().join("db.sqlite3")).expect("open");
        assert!(seed_once(&db, dir.path()).expect("seeded"));
        assert_eq!(db.item_count().expect("count"), ITEMS.len() as i64);
        assert!(!seed_once(&db, dir.path()).expect("not again"));
        assert_eq!(db.item_count().expect("count"), ITEMS.len() as i64);
        let first = db.items(now_ms()).expect("items").remove(0);
        assert_eq!(first.top_bidder.as_deref(), Some("demo-bidder"));
        assert!(dir.path().join(&first.image).exists());
    }
}
