//! Check-out, check-in, renewal, loss and holds, as events.
//!
//! Each command: load the copy's state and the member, ask the domain rules,
//! append the events, and update the projections (`loans`, `holds`,
//! `copies.status`) with [`project`] — the one function that turns an event
//! into projection rows, used for local writes now and for events received
//! by sync later.

mod events;
mod holds;
mod loans;

pub use events::CirculationEvent;
pub(crate) use events::{NewEvent, project};
pub use holds::HoldNotice;
pub(crate) use holds::cancel_holds_of_member;
pub use loans::{CheckinReceipt, CheckoutReceipt, RenewReceipt};
