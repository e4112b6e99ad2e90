//! The SDKs' INI credentials file `~/.alibabacloud/credentials`.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use migtop::aliyun::CredentialOptions;
use migtop::aliyun::credentials::from_credentials_text;

fuzz_target!(|text: &str| {
    let path = Path::new("/fuzz/credentials");
    let opts = CredentialOptions::default();
    if let Err(e) = from_credentials_text(text, path, &opts, &|_| None) {
        let _ = e.to_string();
    }
});
