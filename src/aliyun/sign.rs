//! Alibaba Cloud RPC signature, version 1 (HMAC-SHA1).

use std::collections::BTreeMap;

use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;

/// The encoding every name and value is signed in (re-exported: the signers' vocabulary).
pub use crate::util::rfc3986::percent_encode;

/// `k=v&k=v` over every param, sorted by name in byte order, names and values encoded.
/// A `BTreeMap<String, _>` already iterates in byte order.
pub fn canonical_query(params: &BTreeMap<String, String>) -> String {
    params
        .iter()
        .filter(|(k, _)| k.as_str() != "Signature")
        .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// The string to sign: `METHOD&%2F&` + encode(canonical query).
pub fn string_to_sign(method: &str, params: &BTreeMap<String, String>) -> String {
    format!(
        "{}&{}&{}",
        method.to_ascii_uppercase(),
        percent_encode("/"),
        percent_encode(&canonical_query(params))
    )
}

/// Base64(HMAC-SHA1(secret + "&", string to sign)).
pub fn sign(secret: &str, method: &str, params: &BTreeMap<String, String>) -> String {
    let mut mac = Hmac::<Sha1>::new_from_slice(format!("{secret}&").as_bytes())
        .expect("HMAC takes any key length");
    mac.update(string_to_sign(method, params).as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Compares two signatures in constant time (the simulator's check must not leak timing):
/// `subtle`'s compare, written so the optimiser cannot turn it into an early exit. The
/// length is not secret (it is fixed by the algorithm).
pub fn signatures_equal(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq;
    bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn published_vector_describe_regions() {
        let p = params(&[
            ("AccessKeyId", "testid"),
            ("Action", "DescribeRegions"),
            ("Format", "XML"),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureNonce", "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"),
            ("SignatureVersion", "1.0"),
            ("Timestamp", "2016-02-23T12:46:24Z"),
            ("Version", "2014-05-26"),
        ]);
        assert_eq!(
            sign("testsecret", "GET", &p),
            "OLeaidS1JvxuMvnyHOwuJ+uX5qY="
        );
    }

    #[test]
    fn published_vector_with_empty_values_and_sts() {
        let mut p = params(&[
            ("AccessKeyId", "accessKeyId"),
            ("Action", ""),
            ("Format", "JSON"),
            ("RegionId", "regionId"),
            ("SecurityToken", "accessKeyStsToken"),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureNonce", "MOCK_UUID"),
            ("SignatureType", ""),
            ("SignatureVersion", "1.0"),
            ("Timestamp", "mock date"),
            ("Version", ""),
        ]);
        assert_eq!(
            sign("accessKeySecret", "GET", &p),
            "5Nxdcler+ihqWqv0Hr2On4PsBf4="
        );
        p.remove("SecurityToken");
        assert_eq!(
            sign("accessKeySecret", "GET", &p),
            "7loPmFjvDnzOVnQeQNj85S6nFGY="
        );
    }

    #[test]
    fn rfc3986_encoding() {
        assert_eq!(percent_encode(" "), "%20");
        assert_eq!(percent_encode("*"), "%2A");
        assert_eq!(percent_encode("~"), "~");
        assert_eq!(percent_encode("/"), "%2F");
        assert_eq!(percent_encode(":"), "%3A");
        assert_eq!(percent_encode("+"), "%2B");
        assert_eq!(percent_encode("="), "%3D");
        assert_eq!(percent_encode("&"), "%26");
        assert_eq!(percent_encode("中"), "%E4%B8%AD");
        assert_eq!(percent_encode("-_.AZaz09"), "-_.AZaz09");
        assert_eq!(percent_encode(""), "");
    }

    #[test]
    fn empty_values_are_kept_and_sorted_by_bytes() {
        let p = params(&[("b", ""), ("B", "x"), ("a", "1 2")]);
        assert_eq!(canonical_query(&p), "B=x&a=1%202&b=");
        assert_eq!(
            string_to_sign("post", &p),
            "POST&%2F&B%3Dx%26a%3D1%25202%26b%3D"
        );
    }

    #[test]
    fn method_is_part_of_the_signature() {
        let p = params(&[("Action", "X")]);
        assert_ne!(sign("s", "GET", &p), sign("s", "POST", &p));
        assert!(signatures_equal("abc", "abc"));
        assert!(!signatures_equal("abc", "abd"));
        assert!(!signatures_equal("abc", "ab"));
    }
}
