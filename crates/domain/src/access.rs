//! Who may do what. Every mutating store command takes an [`Actor`] and asks
//! it first, so the desktop, the CLI and the server share one set of rules.

use crate::error::{Error, Result};
use crate::ids::{AccountId, MemberId};
use crate::model::Role;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// `None` for the owner of a personal collection or a local admin tool
    /// (the CLI), which act with full rights on a store they can open.
    pub account_id: Option<AccountId>,
    pub role: Role,
    /// The member record of a member account: what it may act on.
    pub member_id: Option<MemberId>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    ManageCatalogue,
    ManageMembers,
    Circulate,
    ManageAccounts,
    ManageSettings,
    /// Place or cancel a hold, write a review, as the given member.
    ActAsMember(MemberId),
    /// Reading status and the owner's own reviews in a collection.
    ActAsOwner,
}

impl Actor {
    /// Full rights: a collector's own store, or the command-line tool run by
    /// someone who can open the file anyway.
    pub const OWNER: Actor = Actor { account_id: None, role: Role::Admin, member_id: None };

    pub fn account(account_id: AccountId, role: Role, member_id: Option<MemberId>) -> Actor {
        Actor { account_id: Some(account_id), role, member_id }
    }

    pub fn require(&self, action: Action) -> Result<()> {
        let (needed, what, ok) = match action {
            Action::ManageCatalogue => ("librarian", "change the catalogue", self.role >= Role::Librarian),
            Action::ManageMembers => ("librarian", "manage members", self.role >= Role::Librarian),
            Action::Circulate => ("librarian", "lend and return books", self.role >= Role::Librarian),
            Action::ManageAccounts => ("admin", "manage accounts", self.role >= Role::Admin),
            Action::ManageSettings => ("admin", "change settings", self.role >= Role::Admin),
            Action::ActAsMember(member) => {
                ("librarian", "act for another member", self.role >= Role::Librarian || self.member_id == Some(member))
            }
            Action::ActAsOwner => ("admin", "change the owner's reading list", self.account_id.is_none() || self.role >= Role::Librarian),
        };
        if ok { Ok(()) } else { Err(Error::PermissionDenied { needed, action: what }) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_grant_in_order() {
        let member_id = MemberId::new();
        let member = Actor::account(AccountId::new(), Role::Member, Some(member_id));
        let librarian = Actor::account(AccountId::new(), Role::Librarian, None);
        assert!(member.require(Action::Circulate).is_err());
        assert!(member.require(Action::ActAsMember(member_id)).is_ok());
        assert!(member.require(Action::ActAsMember(MemberId::new())).is_err());
        assert!(librarian.require(Action::Circulate).is_ok());
        assert!(librarian.require(Action::ManageAccounts).is_err());
        assert!(Actor::OWNER.require(Action::ManageAccounts).is_ok());
        let err = member.require(Action::ManageCatalogue).unwrap_err();
        assert_eq!(err.to_string(), "you need the librarian role to change the catalogue");
    }
}
