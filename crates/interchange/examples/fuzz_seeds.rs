//! Writes small generated files as seeds for the fuzz targets:
//! `cargo run --example fuzz_seeds -- fuzz/corpus` (scripts/fuzz.sh does).

use shelfkeeper_interchange::{CsvWriter, JsonWriter, MarcXmlWriter, Preset, samples};
use std::path::Path;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args().nth(1).unwrap_or_else(|| "fuzz/corpus".into());
    let dir = Path::new(&dir);
    let catalogue = samples::catalogue(6);
    let mut csv = CsvWriter::new(Vec::new())?;
    let mut json = JsonWriter::new(Vec::new());
    let mut xml = MarcXmlWriter::new(Vec::new());
    for (t, c) in &catalogue {
        csv.write(t, c)?;
        json.write(t, c)?;
        xml.write(t, c)?;
    }
    let own = csv.finish()?;
    let goodreads = samples::goodreads_csv(12);
    // The csv target's first byte selects the preset: 0 is auto-detection,
    // k is Preset::ALL[k - 1].
    let preset_byte = |p: Preset| Preset::ALL.iter().position(|x| *x == p).map_or(0, |i| i as u8 + 1);
    for (name, body, preset) in [("goodreads.csv", &goodreads, Preset::Goodreads), ("shelfkeeper.csv", &own, Preset::Shelfkeeper)] {
        for sel in [0u8, preset_byte(preset)] {
            let mut bytes = vec![sel];
            bytes.extend_from_slice(body);
            std::fs::create_dir_all(dir.join("csv"))?;
            std::fs::write(dir.join("csv").join(format!("gen-{sel}-{name}")), bytes)?;
        }
    }
    std::fs::create_dir_all(dir.join("marc"))?;
    std::fs::write(dir.join("marc").join("gen.mrc"), samples::marc21(10))?;
    std::fs::create_dir_all(dir.join("marcxml"))?;
    std::fs::write(dir.join("marcxml").join("gen.xml"), samples::marcxml(4))?;
    std::fs::write(dir.join("marcxml").join("gen-own.xml"), xml.finish()?)?;
    std::fs::create_dir_all(dir.join("auto"))?;
    std::fs::write(dir.join("auto").join("gen.json"), json.finish()?)?;
    std::fs::write(dir.join("auto").join("gen.mrc"), samples::marc21(3))?;
    Ok(())
}
