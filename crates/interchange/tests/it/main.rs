//! Integration tests of the file formats: one test binary, modules per
//! format, fixtures in `tests/fixtures/`, shared helpers below.

mod csv_files;
mod fuzz_regressions;
mod helpers;
mod marc_binary;
mod marcxml;
mod presets;
mod round_trip;
mod samples;
