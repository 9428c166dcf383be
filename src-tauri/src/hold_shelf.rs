//! The hold shelf's daily sweep on a desk that is its library's only one:
//! a copy kept for a member who never came goes to the next in line or
//! back on the shelf, instead of waiting there until staff cancel the hold
//! by hand. A library that syncs is swept by its server
//! (`Store::sweep_hold_shelf` decides).

use crate::state::AppState;
use shelfkeeper_domain::access::Actor;
use shelfkeeper_domain::model::StoreMode;
use std::time::Duration;
use tauri::{AppHandle, Manager};

/// Soon after start (the day may have changed while the program was
/// closed), then every hour (it may change while it runs).
const FIRST_AFTER: Duration = Duration::from_secs(20);
const EVERY: Duration = Duration::from_secs(3600);

pub async fn sweep(app: AppHandle) {
    tokio::time::sleep(FIRST_AFTER).await;
    loop {
        if let Ok(store) = app.state::<AppState>().store().await
            && store.mode() == StoreMode::Library
        {
            // A job of the program, not of whoever is signed in (as the
            // server's sweep is): it needs no session.
            let today = shelfkeeper_domain::chrono::Local::now().date_naive();
            if let Err(e) = store.sweep_hold_shelf(&Actor::OWNER, today).await {
                eprintln!("hold shelf sweep: {e}");
            }
        }
        tokio::time::sleep(EVERY).await;
    }
}
