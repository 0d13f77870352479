//! The auction's rules, without I/O: the lowest acceptable bid, whether a bid is allowed
//! at a given server time, and money as text (`12.50` ↔ 1250 cents).
//!
//! The first bid may equal the starting price; every later bid must beat the highest
//! by at least the increment (one dollar, or 5% above $20). A seller cannot bid on their
//! own item, and a bid at or after the end time is too late: the server's clock decides.

use serde::Serialize;

use crate::db::Item;

/// Why a bid was refused; the ack tells the browser `reason` and `message`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The bidder has no session (not logged in).
    NotLoggedIn,
    /// The amount is not a positive amount of money.
    Invalid,
    /// No such item.
    NotFound,
    /// The auction has ended.
    Over,
    /// The seller bid on their own item.
    OwnItem,
    /// Below the lowest acceptable bid.
    TooLow {
        /// The lowest acceptable bid in cents.
        min_cents: i64,
    },
}

/// The ack of a refused bid.
#[derive(Debug, Serialize)]
pub struct RefusalAck {
    /// Always `false`.
    pub ok: bool,
    /// A stable code: `not_logged_in`, `invalid`, `not_found`, `over`, `own_item`,
    /// `too_low`.
    pub reason: &'static str,
    /// A sentence for the bidder.
    pub message: String,
    /// For `too_low`: the lowest acceptable bid in cents.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_cents: Option<i64>,
}

impl Refusal {
    /// The stable code the browser sees.
    pub fn reason(self) -> &'static str {
        match self {
            Refusal::NotLoggedIn => "not_logged_in",
            Refusal::Invalid => "invalid",
            Refusal::NotFound => "not_found",
            Refusal::Over => "over",
            Refusal::OwnItem => "own_item",
            Refusal::TooLow { .. } => "too_low",
        }
    }

    /// A sentence for the bidder.
    pub fn message(self) -> String {
        match self {
            Refusal::NotLoggedIn => "Log in to bid.".to_owned(),
            Refusal::Invalid => "Enter an amount such as 12.50.".to_owned(),
            Refusal::NotFound => "This item does not exist.".to_owned(),
            Refusal::Over => "Too late: this auction is over.".to_owned(),
            Refusal::OwnItem => "You cannot bid on your own item.".to_owned(),
            Refusal::TooLow { min_cents } => {
                format!("Too low: bid at least ${}.", format_cents(min_cents))
            }
        }
    }

    /// The ack sent back to the bidder.
    pub fn ack(self) -> RefusalAck {
        RefusalAck {
            ok: false,
            reason: self.reason(),
            message: self.message(),
            min_cents: match self {
                Refusal::TooLow { min_cents } => Some(min_cents),
                _ => None,
            },
        }
    }
}

/// The lowest bid the item accepts now.
pub fn min_next_cents(item: &Item) -> i64 {
    match item.top_cents {
        None => item.start_cents,
        Some(top) => top + increment_cents(top),
    }
}

/// How much a bid must beat `top` by: $1, or 5% (rounded up to the cent) above $20.
pub fn increment_cents(top: i64) -> i64 {
    if top < 2000 {
        100
    } else {
        (top * 5 + 99) / 100
    }
}

/// Whether `bidder_id` may bid `cents` on `item` at server time `now_ms`.
pub fn check(item: &Item, bidder_id: i64, cents: i64, now_ms: i64) -> Result<(), Refusal> {
    if now_ms >= item.ends_ms {
        return Err(Refusal::Over);
    }
    if bidder_id == item.seller_id {
        return Err(Refusal::OwnItem);
    }
    let min_cents = min_next_cents(item);
    if cents < min_cents {
        return Err(Refusal::TooLow { min_cents });
    }
    Ok(())
}

/// The largest amount accepted: ten million dollars.
pub const MAX_CENTS: i64 = 1_000_000_000;

/// Parses `12`, `12.5`, `12.50`, `$1,200.00` as cents; `None` for anything else,
/// zero, more than two decimals, or more than [`MAX_CENTS`].
pub fn parse_cents(text: &str) -> Option<i64> {
    let text = text.trim().trim_start_matches('$').replace(',', "");
    let (whole, fraction) = match text.split_once('.') {
        Some((whole, fraction)) => (whole, fraction),
        None => (text.as_str(), ""),
    };
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() && fraction.is_empty() || !digits(whole) || !digits(fraction) {
        return None;
    }
    if fraction.len() > 2 || whole.len() > 9 {
        return None;
    }
    let whole: i64 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let fraction: i64 = match fraction.len() {
        0 => 0,
        1 => fraction.parse::<i64>().ok()? * 10,
        _ => fraction.parse().ok()?,
    };
    let cents = whole * 100 + fraction;
    (cents > 0 && cents <= MAX_CENTS).then_some(cents)
}

/// Formats cents as `1,234.50`.
pub fn format_cents(cents: i64) -> String {
    let whole = (cents / 100).to_string();
    let mut grouped = String::new();
    for (index, digit) in whole.chars().enumerate() {
        if index > 0 && (whole.len() - index) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    format!("{grouped}.{:02}", cents % 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(top_cents: Option<i64>) -> Item {
        Item {
            id: 1,
            seller_id: 7,
            seller: "sam".into(),
            title: "Lamp".into(),
            description: String::new(),
            start_cents: 1000,
            image: String::new(),
            created_ms: 0,
            ends_ms: 1000,
            top_cents,
            top_bidder: None,
            bid_count: i64::from(top_cents.is_some()),
        }
    }

    #[test]
    fn money_parses_like_people_type_it() {
        let cases = [
            ("12", Some(1200)),
            ("12.5", Some(1250)),
            ("12.50", Some(1250)),
            (" $1,200.00 ", Some(120_000)),
            (".99", Some(99)),
            ("0", None),
            ("", None),
            (".", None),
            ("1.234", None),
            ("-5", None),
            ("1e3", None),
            ("12.5.1", None),
            ("99999999999", None),
        ];
        for (text, cents) in cases {
            assert_eq!(parse_cents(text), cents, "{text:?}");
        }
    }

    #[test]
    fn money_formats_with_groups_and_cents() {
        assert_eq!(format_cents(5), "0.05");
        assert_eq!(format_cents(1250), "12.50");
        assert_eq!(format_cents(123_456_789), "1,234,567.89");
    }

    #[test]
    fn the_first_bid_may_equal_the_start_and_later_ones_must_beat_the_top() {
        assert_eq!(min_next_cents(&item(None)), 1000);
        assert_eq!(min_next_cents(&item(Some(1000))), 1100);
        assert_eq!(min_next_cents(&item(Some(10_000))), 10_500);
        assert_eq!(min_next_cents(&item(Some(2001))), 2001 + 101);
    }

    #[test]
    fn each_rule_refuses_with_its_reason() {
        assert_eq!(check(&item(None), 1, 1000, 999), Ok(()));
        assert_eq!(check(&item(None), 1, 1000, 1000), Err(Refusal::Over));
        assert_eq!(check(&item(None), 7, 5000, 0), Err(Refusal::OwnItem));
        assert_eq!(
            check(&item(Some(1000)), 1, 1099, 0),
            Err(Refusal::TooLow { min_cents: 1100 })
        );
        let ack = Refusal::TooLow { min_cents: 1100 }.ack();
        assert_eq!(ack.reason, "too_low");
        assert_eq!(ack.message, "Too low: bid at least $11.00.");
    }
}
