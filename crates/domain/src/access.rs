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
    /// Set when the account acts through an API key: what the key may do
    /// on top of reading, within the account's role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_scopes: Option<KeyScopes>,
}

/// What an API key may do besides reading (issue 18). A key never manages
/// accounts, memberships or settings such as loan rules, whatever the role
/// of its account: a leaked key must not hand over the library.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyScopes {
    /// Lend, return, renew, holds, members.
    pub circulation: bool,
    /// Titles and copies.
    pub catalogue: bool,
}

impl KeyScopes {
    /// The names a key's scopes are given by: `read` (always), `circulation`,
    /// `catalogue`.
    pub const NAMES: [&'static str; 3] = ["read", "circulation", "catalogue"];

    /// Scopes from their names; an unknown name is an error that says so.
    pub fn parse<'a>(names: impl IntoIterator<Item = &'a str>) -> std::result::Result<KeyScopes, String> {
        let mut s = KeyScopes::default();
        for name in names {
            match name.trim() {
                "read" => {}
                "circulation" => s.circulation = true,
                "catalogue" => s.catalogue = true,
                other => {
                    return Err(format!(
                        "unknown scope '{}': the scopes are read, circulation and catalogue",
                        other.chars().take(40).collect::<String>()
                    ));
                }
            }
        }
        Ok(s)
    }

    /// The scope names, `read` first.
    pub fn names(self) -> Vec<&'static str> {
        let mut out = vec!["read"];
        if self.circulation {
            out.push("circulation");
        }
        if self.catalogue {
            out.push("catalogue");
        }
        out
    }
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
    pub const OWNER: Actor = Actor { account_id: None, role: Role::Admin, member_id: None, key_scopes: None };

    pub fn account(account_id: AccountId, role: Role, member_id: Option<MemberId>) -> Actor {
        Actor { account_id: Some(account_id), role, member_id, key_scopes: None }
    }

    /// The same account acting through an API key with these scopes.
    pub fn through_key(self, scopes: KeyScopes) -> Actor {
        Actor { key_scopes: Some(scopes), ..self }
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
        if !ok {
            return Err(Error::PermissionDenied { needed, action: what });
        }
        match self.key_scopes {
            None => Ok(()),
            Some(scopes) => {
                let (allowed, why) = match action {
                    Action::ManageCatalogue | Action::ActAsOwner => (scopes.catalogue, "the key lacks the catalogue scope"),
                    Action::ManageMembers | Action::Circulate | Action::ActAsMember(_) => {
                        (scopes.circulation, "the key lacks the circulation scope")
                    }
                    Action::ManageAccounts | Action::ManageSettings => (false, "that needs a signed-in session, never a key"),
                };
                if allowed { Ok(()) } else { Err(Error::KeyNotAllowed { action: what, why }) }
            }
        }
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

    #[test]
    fn a_key_does_what_its_scopes_and_its_role_both_allow() {
        let admin = Actor::account(AccountId::new(), Role::Admin, None);
        let read_only = admin.through_key(KeyScopes::parse(["read"]).unwrap());
        let desk = admin.through_key(KeyScopes::parse(["read", "circulation"]).unwrap());
        let all = admin.through_key(KeyScopes::parse(KeyScopes::NAMES).unwrap());
        assert!(read_only.require(Action::Circulate).is_err());
        assert!(read_only.require(Action::ManageCatalogue).is_err());
        assert!(desk.require(Action::Circulate).is_ok() && desk.require(Action::ManageMembers).is_ok());
        assert!(desk.require(Action::ManageCatalogue).is_err());
        assert!(all.require(Action::ManageCatalogue).is_ok());
        // No key manages accounts or settings, even an administrator's.
        for a in [read_only, desk, all] {
            assert!(a.require(Action::ManageAccounts).is_err() && a.require(Action::ManageSettings).is_err());
        }
        assert_eq!(
            desk.require(Action::ManageAccounts).unwrap_err().to_string(),
            "this API key may not manage accounts: that needs a signed-in session, never a key"
        );
        // A librarian's key with every scope is still a librarian.
        let librarian = Actor::account(AccountId::new(), Role::Librarian, None).through_key(KeyScopes::parse(KeyScopes::NAMES).unwrap());
        assert!(librarian.require(Action::ManageSettings).is_err());
        assert_eq!(
            KeyScopes::parse(["read", "write"]).unwrap_err(),
            "unknown scope 'write': the scopes are read, circulation and catalogue"
        );
        assert_eq!(KeyScopes::parse(["catalogue"]).unwrap().names(), ["read", "catalogue"]);
    }
}
