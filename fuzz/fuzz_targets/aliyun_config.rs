//! The aliyun CLI's `~/.aliyun/config.json`, with and without a wanted profile. Errors never
//! quote the secret.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use migtop::aliyun::CredentialOptions;
use migtop::aliyun::credentials::from_cli_config;

fuzz_target!(|text: &str| {
    let path = Path::new("/fuzz/config.json");
    for profile in [None, Some("default".to_string())] {
        let opts = CredentialOptions {
            profile,
            ..Default::default()
        };
        if let Err(e) = from_cli_config(text, path, &opts, &|_| None) {
            let _ = e.to_string();
        }
    }
});
