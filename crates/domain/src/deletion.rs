//! Whether a copy, title or member may be deleted: one rule for the desk
//! store and the server. Circulation events are facts and stay; what a
//! deletion takes with it (reviews, reading status, holds) each adapter
//! removes as the rule's caller.

use crate::error::{Error, Result};
use crate::model::CopyStatus;

/// A copy may be withdrawn unless it is out or waiting on the hold shelf;
/// a lost copy, or one with history, may go (its events stay).
pub fn may_delete_copy(barcode: &str, status: CopyStatus) -> Result<()> {
    match status {
        CopyStatus::OnLoan | CopyStatus::OnHoldShelf => Err(Error::CopyInCirculation(barcode.to_owned())),
        _ => Ok(()),
    }
}

/// A title goes only once it has no copies: copies are real books.
pub fn may_delete_title(title: &str, copies: u32) -> Result<()> {
    if copies > 0 {
        return Err(Error::TitleHasCopies { title: title.to_owned(), copies });
    }
    Ok(())
}

/// A member goes only with no open loans (their holds are cancelled).
pub fn may_delete_member(card: &str, open_loans: u32) -> Result<()> {
    if open_loans > 0 {
        return Err(Error::MemberHasLoans { card: card.to_owned(), loans: open_loans });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;

    #[test]
    fn a_copy_in_circulation_stays_and_a_lost_one_may_go() {
        assert_eq!(may_delete_copy("B1", CopyStatus::OnLoan).unwrap_err().code(), ErrorCode::CopyInCirculation);
        assert_eq!(may_delete_copy("B1", CopyStatus::OnHoldShelf).unwrap_err().code(), ErrorCode::CopyInCirculation);
        assert!(may_delete_copy("B1", CopyStatus::Lost).is_ok());
        assert!(may_delete_copy("B1", CopyStatus::Available).is_ok());
    }

    #[test]
    fn titles_with_copies_and_members_with_loans_stay() {
        assert_eq!(may_delete_title("Dune", 2).unwrap_err().code(), ErrorCode::TitleHasCopies);
        assert!(may_delete_title("Dune", 0).is_ok());
        assert_eq!(may_delete_member("C1", 1).unwrap_err().code(), ErrorCode::MemberHasLoans);
        assert!(may_delete_member("C1", 0).is_ok());
    }
}
