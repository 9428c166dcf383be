use crate::helpers::*;
use shelfkeeper_domain::Error;
use shelfkeeper_domain::access::Actor;
use shelfkeeper_domain::model::Role;

#[tokio::test]
async fn the_first_account_is_the_admin_and_later_ones_need_an_admin() {
    let t = library().await;
    assert!(!t.has_accounts().await.unwrap());
    let first = t.create_account(None, "Ada", "correct horse battery", Role::Member, None).await.unwrap();
    assert_eq!((first.username.as_str(), first.role), ("ada", Role::Admin));
    assert!(matches!(t.create_account(None, "eve", "correct horse battery", Role::Admin, None).await, Err(Error::AdminAlreadyExists)));
    let admin = Actor::account(first.id, first.role, None);
    let desk = t.create_account(Some(&admin), "desk", "long enough phrase", Role::Librarian, None).await.unwrap();
    let as_desk = Actor::account(desk.id, desk.role, None);
    assert!(matches!(
        t.create_account(Some(&as_desk), "xy", "long enough phrase", Role::Member, None).await,
        Err(Error::PermissionDenied { .. })
    ));
    assert!(matches!(
        t.create_account(Some(&admin), "DESK", "long enough phrase", Role::Member, None).await,
        Err(Error::DuplicateUsername(_))
    ));
    assert!(matches!(t.create_account(Some(&admin), "weak", "password123", Role::Member, None).await, Err(Error::WeakPassword(_))));
}

#[tokio::test]
async fn authentication_gives_one_answer_for_unknown_users_and_wrong_passwords() {
    let t = library().await;
    t.create_account(None, "ada", "correct horse battery", Role::Admin, None).await.unwrap();
    assert_eq!(t.authenticate(" ADA ", "correct horse battery").await.unwrap().username, "ada");
    assert_eq!(t.authenticate("ada", "wrong horse battery").await.unwrap_err(), Error::InvalidCredentials);
    assert_eq!(t.authenticate("nobody", "correct horse battery").await.unwrap_err(), Error::InvalidCredentials);
    // Password hashes are argon2id, never the password.
    let dump = snapshot(&t).await;
    assert!(dump.contains("$argon2id$v=19$m=19456,t=2,p=1$"));
    assert!(!dump.contains("correct horse battery"));
}

#[tokio::test]
async fn disabling_and_the_last_admin() {
    let t = library().await;
    let admin = t.create_account(None, "ada", "correct horse battery", Role::Admin, None).await.unwrap();
    let a = Actor::account(admin.id, Role::Admin, None);
    assert!(matches!(t.update_account(&a, "ada", Role::Librarian, false).await, Err(Error::Invalid { field: "role", .. })));
    t.create_account(Some(&a), "desk", "long enough phrase", Role::Librarian, None).await.unwrap();
    t.update_account(&a, "desk", Role::Librarian, true).await.unwrap();
    assert!(matches!(t.authenticate("desk", "long enough phrase").await, Err(Error::AccountDisabled(_))));
    // One's own password needs the old one.
    assert_eq!(t.change_password(&a, "ada", Some("nope nope nope"), "a new long phrase").await.unwrap_err(), Error::InvalidCredentials);
    t.change_password(&a, "ada", Some("correct horse battery"), "a new long phrase").await.unwrap();
    t.authenticate("ada", "a new long phrase").await.unwrap();
}
