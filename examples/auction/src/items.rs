//! Pages about items: the home page (every auction), listing a new item (a multipart
//! form with a photo), and the item page the live script takes over.

use carafe::csrf::CsrfMultipartForm;
use carafe::session::flash;
use carafe::templates::render_template;
use carafe::{abort, IntoResponse, Path, Redirect, Response, Result, Session, State, StatusCode};
use serde::Serialize;
use serde_json::json;

use crate::accounts::current_user;
use crate::bids::{format_cents, min_next_cents, parse_cents};
use crate::db::{Item, NewItem};
use crate::images;
use crate::{now_ms, AppState};

/// The shortest auction: ten seconds (long enough to bid, short enough to try it out).
pub const MIN_DURATION_SECS: i64 = 10;
/// The longest auction: thirty days.
pub const MAX_DURATION_SECS: i64 = 30 * 24 * 3600;

/// An item as templates show it.
#[derive(Debug, Serialize)]
pub struct ItemView {
    /// The item.
    #[serde(flatten)]
    pub item: Item,
    /// The current price: the top bid, or the starting price.
    pub price: String,
    /// The lowest acceptable next bid.
    pub min_next: String,
    /// The lowest acceptable next bid in cents.
    pub min_next_cents: i64,
    /// Whether bidding has ended (by the server's clock).
    pub ended: bool,
}

impl ItemView {
    /// The view of `item` at server time `now_ms`.
    pub fn new(item: Item, now_ms: i64) -> ItemView {
        let min_next = min_next_cents(&item);
        ItemView {
            price: format_cents(item.top_cents.unwrap_or(item.start_cents)),
            min_next: format_cents(min_next),
            min_next_cents: min_next,
            ended: now_ms >= item.ends_ms,
            item,
        }
    }
}

/// `GET /`: running auctions, then ended ones.
pub async fn index(State(state): State<AppState>) -> Result<Response> {
    let now = now_ms();
    let items: Vec<ItemView> = state
        .db()
        .items(now)?
        .into_iter()
        .map(|item| ItemView::new(item, now))
        .collect();
    let html = render_template("index.html", json!({ "items": items, "now_ms": now }))?;
    Ok(html.into_response())
}

/// `GET /items/<id>`: the item, its bids, and the live bidding panel.
pub async fn show(State(state): State<AppState>, Path(id): Path<i64>) -> Result<Response> {
    let item = state
        .db()
        .item(id)?
        .ok_or_else(|| abort(StatusCode::NOT_FOUND))?;
    let bids = state.db().bids(id)?;
    let bids: Vec<_> = bids
        .into_iter()
        .map(|bid| (format_cents(bid.cents), bid))
        .collect();
    state.live().schedule_close(item.id, item.ends_ms);
    let now = now_ms();
    let html = render_template(
        "item.html",
        json!({ "item": ItemView::new(item, now), "bids": bids, "now_ms": now }),
    )?;
    Ok(html.into_response())
}

/// `GET /items/new`: the listing form (log-in required).
pub async fn new_page(session: Session) -> Result<Response> {
    if current_user(&session).is_none() {
        flash(&session, "Log in to sell an item.");
        return Ok(Redirect::see_other("/login?next=/items/new").into_response());
    }
    let html = render_template("new_item.html", json!({ "form": NewItemForm::default() }))?;
    Ok(html.into_response())
}

/// The listing form's text fields, kept to show the form again after an error.
#[derive(Debug, Default, Serialize)]
pub struct NewItemForm {
    title: String,
    description: String,
    start_price: String,
    duration: String,
    unit: String,
}

/// A checked listing, ready to store.
#[derive(Debug, PartialEq, Eq)]
pub struct Listing {
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// Starting price in cents.
    pub start_cents: i64,
    /// How long bidding lasts, in seconds.
    pub duration_secs: i64,
}

impl NewItemForm {
    fn read(form: &carafe::MultipartForm) -> NewItemForm {
        let field = |name: &str| form.get(name).unwrap_or_default().trim().to_owned();
        NewItemForm {
            title: field("title"),
            description: field("description"),
            start_price: field("start_price"),
            duration: field("duration"),
            unit: field("unit"),
        }
    }

    /// Checks the text fields; every problem, as sentences.
    pub fn check(&self) -> std::result::Result<Listing, Vec<&'static str>> {
        let mut errors = Vec::new();
        if self.title.is_empty() || self.title.chars().count() > 80 {
            errors.push("Give the item a title of at most 80 characters.");
        }
        if self.description.chars().count() > 2000 {
            errors.push("Keep the description under 2,000 characters.");
        }
        let start_cents = parse_cents(&self.start_price);
        if start_cents.is_none() {
            errors.push("Enter a starting price such as 25 or 12.50.");
        }
        let duration_secs = self.duration_secs();
        if duration_secs.is_none() {
            errors.push("Let the auction run between 10 seconds and 30 days.");
        }
        match (start_cents, duration_secs) {
            (Some(start_cents), Some(duration_secs)) if errors.is_empty() => Ok(Listing {
                title: self.title.clone(),
                description: self.description.clone(),
                start_cents,
                duration_secs,
            }),
            _ => Err(errors),
        }
    }

    fn duration_secs(&self) -> Option<i64> {
        let unit = match self.unit.as_str() {
            "seconds" => 1,
            "minutes" => 60,
            "hours" => 3600,
            "days" => 86_400,
            _ => return None,
        };
        let amount: i64 = self.duration.parse().ok()?;
        let secs = amount.checked_mul(unit)?;
        (MIN_DURATION_SECS..=MAX_DURATION_SECS)
            .contains(&secs)
            .then_some(secs)
    }
}

/// `POST /items/new`: stores the photo and the item, then opens its page.
pub async fn create(
    State(state): State<AppState>,
    session: Session,
    CsrfMultipartForm(form): CsrfMultipartForm,
) -> Result<Response> {
    let Some(seller) = current_user(&session) else {
        flash(&session, "Log in to sell an item.");
        return Ok(Redirect::see_other("/login?next=/items/new").into_response());
    };
    let fields = NewItemForm::read(&form);
    let checked = fields.check();
    let image = images::validate(form.file("image")).await;
    let (listing, (kind, bytes)) = match (checked, image) {
        (Ok(listing), Ok(image)) => (listing, image),
        (checked, image) => {
            let mut errors = checked.err().unwrap_or_default();
            errors.extend(image.err().map(images::ImageError::message));
            let html =
                render_template("new_item.html", json!({ "form": fields, "errors": errors }))?;
            return Ok((StatusCode::BAD_REQUEST, html).into_response());
        }
    };
    let image = images::store(&state.images_dir(), kind, &bytes)?;
    let now = now_ms();
    let ends_ms = now + listing.duration_secs * 1000;
    let id = state.db().create_item(&NewItem {
        seller_id: seller.id,
        title: &listing.title,
        description: &listing.description,
        start_cents: listing.start_cents,
        image: &image,
        created_ms: now,
        ends_ms,
    })?;
    state.live().schedule_close(id, ends_ms);
    flash(&session, "Your item is listed. Share the link!");
    Ok(Redirect::see_other(&format!("/items/{id}")).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(title: &str, price: &str, duration: &str, unit: &str) -> NewItemForm {
        NewItemForm {
            title: title.into(),
            description: String::new(),
            start_price: price.into(),
            duration: duration.into(),
            unit: unit.into(),
        }
    }

    #[test]
    fn a_good_listing_passes() {
        let listing = form("Lamp", "12.50", "2", "hours").check().expect("valid");
        assert_eq!((listing.start_cents, listing.duration_secs), (1250, 7200));
    }

    #[test]
    fn every_problem_is_named() {
        let errors = form("", "free", "5", "seconds")
            .check()
            .expect_err("invalid");
        assert_eq!(errors.len(), 3, "{errors:?}");
        assert!(form("Lamp", "1", "31", "days").check().is_err());
        assert!(form("Lamp", "1", "1", "fortnights").check().is_err());
        assert!(form("Lamp", "1", "10", "seconds").check().is_ok());
    }
}
