//! Accounts: who may sign in to the store, and with which role.

use super::ME;
use crate::args::RoleArg;
use crate::render::print;
use shelfkeeper_domain::Result;
use shelfkeeper_domain::model::Role;
use shelfkeeper_store::Store;

pub async fn add_account(store: &Store, username: &str, role: RoleArg, json: bool) -> Result<()> {
    let password = super::read_password()?;
    let role = match role {
        RoleArg::Admin => Role::Admin,
        RoleArg::Librarian => Role::Librarian,
        RoleArg::Member => Role::Member,
    };
    let a = store.create_account(Some(ME), username, &password, role, None).await?;
    print(json, &a, |a| format!("Added account {} ({})", a.username, a.role.as_str()));
    Ok(())
}
