//! Integration tests: every test starts its own fixture server on
//! 127.0.0.1 (port 0) replaying the providers' answers.

mod covers;
mod failures;
mod fixture;
mod lookup;
mod report;
