//! The config file (`[defaults]`, `[cutover.NAME]`): any text is a file or an error naming
//! the file, never a panic; a table that could not be read is an error when asked for, and
//! the others are still there.
#![no_main]

use libfuzzer_sys::fuzz_target;
use migtop::commands::config_file::ConfigFile;

fuzz_target!(|text: &str| {
    let path = std::path::Path::new("/fuzz/config.toml");
    match ConfigFile::parse(text, path) {
        Ok(f) => {
            for name in f.broken.keys() {
                assert!(f.cutover(name).is_err());
                assert!(!f.cutovers.contains_key(name));
            }
            for name in f.cutovers.keys() {
                assert!(f.cutover(name).is_ok());
            }
        }
        Err(e) => assert!(e.to_string().contains("/fuzz/config.toml"), "{e}"),
    }
});
