//! Issue 10: hostile loopback servers and odd inputs. Every server here listens on 127.0.0.1
//! only and every test is bounded in time.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use migtop::aliyun::{
    ApiError, ClientConfig, Credentials, InstanceSnapshot, RdsClient, RetryPolicy, TaskFilter,
};

use crate::support::http as scripted;

const SECRET: &str = "hardening-test-secret";
const KEY_ID: &str = "LTAI5tHARDENING";
/// An STS token of the usual shape (base64 with `+` and `/`).
const TOKEN: &str = "CAISzQJ1q6Ft5B2yfSjIr5bkKfPztL1/0qK+M1Xzg3RhWeN/hLTPpjz2IHtKeXNvAOAasv8+nmFY7PkZlqB6T55OSAmcNZEu9kVU3L5P6Dz6fNrMohxdYj2mAi3xUZr9Qw==";
/// The cap named in errors.
const CAP: &str = "8 MiB";

fn client_for(endpoint: &str, timeout: Duration, token: Option<&str>) -> RdsClient {
    let config = ClientConfig {
        endpoint: endpoint.parse().unwrap(),
        timeout,
        retry: RetryPolicy {
            max_attempts: 3,
            base: Duration::from_millis(10),
            cap: Duration::from_millis(40),
        },
        region: None,
    };
    let creds = Credentials {
        access_key_id: KEY_ID.into(),
        access_key_secret: SECRET.to_string().into(),
        security_token: token.map(|t| t.to_string().into()),
        origin: "test".into(),
    };
    RdsClient::new(config, creds).unwrap()
}

async fn describe(addr: SocketAddr, timeout: Duration) -> Result<InstanceSnapshot, ApiError> {
    let c = client_for(&format!("http://{addr}"), timeout, None);
    // The test's own bound: a regression must fail the test, not hang it.
    tokio::time::timeout(
        Duration::from_secs(30),
        c.describe_tasks("pgm-1", &TaskFilter::default()),
    )
    .await
    .expect("the client gave up in time")
}

/// Reads one HTTP request (headers and a Content-Length body) from `s`.
fn read_request(s: &mut TcpStream) -> Option<String> {
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = s.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_string();
            let len = head
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            while buf.len() < end + 4 + len {
                let n = s.read(&mut chunk).ok()?;
                if n == 0 {
                    break;
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            return Some(String::from_utf8_lossy(&buf).to_string());
        }
    }
}

/// A raw HTTP server on loopback: `answer(stream, request index)` writes whatever it likes.
/// Returns the address and the number of requests seen.
fn raw_server(
    answer: impl Fn(&mut TcpStream, usize) + Send + Sync + 'static,
) -> (SocketAddr, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    let answer = Arc::new(answer);
    std::thread::spawn(move || {
        for s in listener.incoming() {
            let Ok(mut s) = s else { continue };
            let answer = answer.clone();
            let seen = seen.clone();
            std::thread::spawn(move || {
                while read_request(&mut s).is_some() {
                    let n = seen.fetch_add(1, Ordering::SeqCst);
                    answer(&mut s, n);
                }
            });
        }
    });
    (addr, count)
}

/// A full response with this body.
fn respond(s: &mut TcpStream, status: &str, headers: &str, body: &[u8]) {
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n{headers}\r\n",
        body.len()
    );
    let _ = s.write_all(head.as_bytes());
    let _ = s.write_all(body);
}

/// Writes `chunk` as HTTP chunks until the client hangs up or `limit` bytes went out.
fn stream_chunks(s: &mut TcpStream, chunk: &[u8], limit: usize) {
    let mut sent = 0;
    while sent < limit {
        let frame = [
            format!("{:x}\r\n", chunk.len()).as_bytes(),
            chunk,
            b"\r\n".as_slice(),
        ]
        .concat();
        if s.write_all(&frame).is_err() {
            return;
        }
        sent += chunk.len();
    }
}

fn assert_capped(r: Result<InstanceSnapshot, ApiError>) {
    let e = r.unwrap_err();
    assert_eq!(e.code(), "BadResponse", "{e}");
    assert!(e.to_string().contains(CAP), "the cap is named: {e}");
}

#[tokio::test(flavor = "multi_thread")]
async fn gzip_bomb_stops_at_the_cap() {
    // 1 GB of JSON blanks, gzip-compressed on the fly (about 1 MB on the wire).
    let (addr, _) = raw_server(|s, _| {
        let _ = s.write_all(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n",
        );
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        let blanks = vec![b' '; 1 << 20];
        for _ in 0..1024 {
            gz.write_all(&blanks).unwrap();
            let out = std::mem::take(gz.get_mut());
            if !out.is_empty() {
                let frame = [format!("{:x}\r\n", out.len()).as_bytes(), &out, b"\r\n"].concat();
                if s.write_all(&frame).is_err() {
                    return;
                }
            }
        }
    });
    let started = Instant::now();
    assert_capped(describe(addr, Duration::from_secs(20)).await);
    assert!(started.elapsed() < Duration::from_secs(15));
}

#[tokio::test(flavor = "multi_thread")]
async fn endless_chunked_body_stops_at_the_cap() {
    let (addr, _) = raw_server(|s, _| {
        let _ = s.write_all(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
        );
        stream_chunks(s, &[b' '; 64 * 1024], usize::MAX);
    });
    assert_capped(describe(addr, Duration::from_secs(20)).await);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_1gb_body_is_refused() {
    // A valid JSON document padded to 1 GB: without a cap it would be read and accepted.
    let (addr, _) = raw_server(|s, _| {
        let total: usize = 1 << 30;
        let doc = br#"{"TotalSize":0,"Items":[]}"#;
        let head = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {total}\r\n\r\n"
        );
        if s.write_all(head.as_bytes()).is_err() {
            return;
        }
        let blanks = vec![b' '; 1 << 20];
        let mut sent = 0;
        while sent + blanks.len() < total - doc.len() {
            if s.write_all(&blanks).is_err() {
                return;
            }
            sent += blanks.len();
        }
        let _ = s.write_all(&vec![b' '; total - doc.len() - sent]);
        let _ = s.write_all(doc);
    });
    assert_capped(describe(addr, Duration::from_secs(20)).await);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_bomb_does_not_blow_the_binary_s_memory() {
    let (addr, _) = raw_server(|s, _| {
        let _ = s.write_all(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n",
        );
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        let blanks = vec![b' '; 1 << 20];
        for _ in 0..1024 {
            gz.write_all(&blanks).unwrap();
            let out = std::mem::take(gz.get_mut());
            if !out.is_empty() {
                let frame = [format!("{:x}\r\n", out.len()).as_bytes(), &out, b"\r\n"].concat();
                if s.write_all(&frame).is_err() {
                    return;
                }
            }
        }
    });
    let out = migtop_at(
        &addr.to_string(),
        &["--timeout", "20s"],
        &[],
        Duration::from_secs(40),
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stderr.contains(CAP), "{}", out.stderr);
    // Peak resident memory of the binary, in KiB: far below the 1 GB it was sent.
    assert!(
        out.max_rss_kib < 200 * 1024,
        "peak RSS {} KiB",
        out.max_rss_kib
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn xml_nested_100k_deep_is_a_bad_response_not_a_stack_overflow() {
    let (addr, _) = raw_server(|s, _| {
        let body = format!(
            "<R><RequestId>x</RequestId>{}{}</R>",
            "<a>".repeat(100_000),
            "</a>".repeat(100_000)
        );
        respond(s, "200 OK", "", body.as_bytes());
    });
    let e = describe(addr, Duration::from_secs(10)).await.unwrap_err();
    assert_eq!(e.code(), "BadResponse", "{e}");
    assert!(e.to_string().contains("deeper than 64"), "{e}");
}

#[tokio::test(flavor = "multi_thread")]
async fn json_nested_100k_deep_is_a_bad_response() {
    let (addr, _) = raw_server(|s, _| {
        let body = format!(
            "{{\"Items\":{}{}}}",
            "[".repeat(100_000),
            "]".repeat(100_000)
        );
        respond(s, "200 OK", "", body.as_bytes());
    });
    let e = describe(addr, Duration::from_secs(10)).await.unwrap_err();
    assert_eq!(e.code(), "BadResponse", "{e}");
    assert!(e.to_string().contains("recursion limit"), "{e}");
}

#[tokio::test(flavor = "multi_thread")]
async fn redirects_are_refused_and_never_followed() {
    for status in [
        "301 Moved Permanently",
        "302 Found",
        "303 See Other",
        "307 Temporary Redirect",
        "308 Permanent Redirect",
    ] {
        // The other host, which must never see the signed request.
        let (other, other_seen) =
            raw_server(|s, _| respond(s, "200 OK", "", scripted::sample().as_bytes()));
        let location = format!("Location: http://{other}/\r\n");
        let (addr, _) = raw_server(move |s, _| respond(s, status, &location, b"{}"));
        let e = describe(addr, Duration::from_secs(10)).await.unwrap_err();
        let code = &status[..3];
        let text = e.to_string();
        assert_eq!(e.code(), "BadResponse", "{status}: {e}");
        assert!(
            text.contains(code) && text.contains("redirect"),
            "{status}: {text}"
        );
        assert_eq!(
            other_seen.load(Ordering::SeqCst),
            0,
            "{status} was followed"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_timeout_bounds_the_whole_poll_retries_included() {
    // Accepts and never answers: every attempt would time out on its own.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let held = Arc::new(Mutex::new(Vec::new()));
    let keep = held.clone();
    std::thread::spawn(move || {
        for s in listener.incoming().flatten() {
            keep.lock().unwrap().push(s);
        }
    });
    let started = Instant::now();
    let e = describe(addr, Duration::from_secs(1)).await.unwrap_err();
    let took = started.elapsed();
    assert_eq!(e.code(), "Timeout", "{e}");
    // Three attempts of 1 s each took over 3 s before; one deadline takes about 1 s.
    assert!(took < Duration::from_millis(1800), "took {took:?}");
    assert!(took >= Duration::from_millis(900), "took {took:?}");

    // The binary with --timeout 3s against the same hang: about 3 s, not 9.
    let started = Instant::now();
    let out = migtop_at(
        &addr.to_string(),
        &["--timeout", "3s"],
        &[],
        Duration::from_secs(30),
    );
    let took = started.elapsed();
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stderr.contains("3 s"), "{}", out.stderr);
    assert!(took < Duration::from_millis(4500), "took {took:?}");
}

/// Issue 19, item 3: the one deadline hit while the body trickles or never ends is a
/// `Timeout`, as it is in the headers: in the library, the text, the JSON and the metric's
/// `code` label (all from `ApiError::code`).
#[tokio::test(flavor = "multi_thread")]
async fn a_body_that_trickles_or_never_ends_is_a_timeout() {
    // Headers at once, then a byte every 200 ms of a body that never completes, with a
    // Content-Length and chunked.
    let (trickle, _) = raw_server(|s, _| {
        let _ = s.write_all(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{",
        );
        for _ in 0..200 {
            std::thread::sleep(Duration::from_millis(200));
            if s.write_all(b" ").is_err() {
                return;
            }
        }
    });
    let (chunked, _) = raw_server(|s, _| {
        let _ = s.write_all(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
        );
        for _ in 0..200 {
            std::thread::sleep(Duration::from_millis(200));
            if s.write_all(b"1\r\n \r\n").is_err() {
                return;
            }
        }
    });
    for addr in [trickle, chunked] {
        let started = Instant::now();
        let e = describe(addr, Duration::from_secs(1)).await.unwrap_err();
        assert_eq!(e.code(), "Timeout", "{e}");
        assert!(started.elapsed() < Duration::from_secs(3));
        let out = migtop_at(
            &addr.to_string(),
            &["--timeout", "2s"],
            &[],
            Duration::from_secs(30),
        );
        assert_eq!(out.code, 1, "{}", out.stderr);
        assert!(
            out.stderr.contains("no complete answer") && out.stderr.contains("within 2 s"),
            "{}",
            out.stderr
        );
        assert!(
            !out.stderr.contains("NetworkError") && !out.stderr.contains("decoding"),
            "{}",
            out.stderr
        );
        let out = migtop_at(
            &addr.to_string(),
            &["--timeout", "2s", "-o", "json"],
            &[],
            Duration::from_secs(30),
        );
        let doc: serde_json::Value =
            serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", out.stdout));
        assert_eq!(
            doc["instances"][0]["error"]["code"], "Timeout",
            "{}",
            out.stdout
        );
    }
}

/// Issue 19, item 5: a server that always promises one more page, each full of new tasks,
/// stops at the per-poll cap, far below 100 MB (50,000 tasks took 405 MB before).
#[tokio::test(flavor = "multi_thread")]
async fn endless_pages_of_new_tasks_stop_at_the_poll_cap_within_100_mb() {
    let (addr, seen) = scripted::serve(Arc::new(|req, _| {
        let page: usize = req.params.get("PageNumber").and_then(|p| p.parse().ok()).unwrap_or(1);
        let items: Vec<_> = (1..=100)
            .map(|i| {
                serde_json::json!({"TaskId": page * 1000 + i, "TaskName": format!("task-{page}-{i}"),
                    "MigrateStage": "increment", "Detail": "[Check rds empty]\nCheck rds databases: success\n".repeat(20)})
            })
            .collect();
        (
            200,
            serde_json::json!({"TotalSize": 10_000_000, "RequestId": "R", "Items": items}).to_string(),
        )
    }))
    .await;
    let out = migtop_at(
        &addr.to_string(),
        &["-o", "json", "--timeout", "60s"],
        &[],
        Duration::from_secs(90),
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stderr.contains("limit for one poll"), "{}", out.stderr);
    let doc: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let tasks = doc["instances"][0]["tasks"].as_array().unwrap().len();
    assert_eq!(tasks, migtop::aliyun::client::MAX_TASKS_PER_POLL);
    eprintln!("endless pages: peak RSS {} KiB", out.max_rss_kib);
    assert!(
        seen.lock().unwrap().len() <= 21,
        "{} requests",
        seen.lock().unwrap().len()
    );
    assert!(
        out.max_rss_kib < 100 * 1024,
        "peak RSS {} KiB",
        out.max_rss_kib
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn pagination_that_never_converges_stops_with_a_warning_and_exit_1() {
    // TotalSize is never reached: every page repeats the same 100 tasks.
    let (addr, seen) = scripted::serve(Arc::new(|_, _| {
        let items: Vec<_> = (1..=100)
            .map(|i| serde_json::json!({"TaskId": i, "MigrateStage": "increment"}))
            .collect();
        (
            200,
            serde_json::json!({"TotalSize": 1_000_000, "RequestId": "R", "Items": items})
                .to_string(),
        )
    }))
    .await;
    let snap = describe(addr, Duration::from_secs(10)).await.unwrap();
    assert!(snap.incomplete());
    assert_eq!(snap.tasks.len(), 100, "duplicates are merged");
    assert!(
        seen.lock().unwrap().len() <= 2,
        "stops when nothing new comes"
    );
    let all = snap.warnings().join("\n");
    assert!(all.contains("stopped after 2 pages"), "{all}");
    assert!(all.contains("more than once"), "{all}");

    let out = migtop_at(&addr.to_string(), &[], &[], Duration::from_secs(30));
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains("stopped after 2 pages"),
        "{}",
        out.stderr
    );
    assert_eq!(
        out.stdout.lines().filter(|l| l.contains("pgm-1")).count(),
        100,
        "{}",
        out.stdout
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn duplicate_task_ids_are_merged_with_a_warning() {
    let (addr, _) = scripted::serve(Arc::new(|_, _| {
        let items = serde_json::json!([
            {"TaskId": 1, "TaskName": "old", "MigrateStage": "precheck"},
            {"TaskId": 2, "TaskName": "other"},
            {"TaskId": 1, "TaskName": "new", "MigrateStage": "increment"},
        ]);
        (
            200,
            serde_json::json!({"TotalSize": 3, "Items": items}).to_string(),
        )
    }))
    .await;
    let snap = describe(addr, Duration::from_secs(10)).await.unwrap();
    assert!(!snap.incomplete());
    let names: Vec<_> = snap
        .tasks
        .iter()
        .map(|t| t.task_name.clone().unwrap())
        .collect();
    assert_eq!(names, ["new", "other"]);
    assert!(
        snap.warnings().iter().any(|w| w.contains("more than once")),
        "{:?}",
        snap.warnings()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn one_task_with_invalid_utf8_keeps_the_others() {
    let (addr, _) = raw_server(|s, _| {
        let mut body = br#"{"TotalSize":3,"Items":[{"TaskId":1,"TaskName":"good"},{"TaskId":2,"TaskName":"bad "#.to_vec();
        body.extend_from_slice(&[0xc3, 0x28, 0xff]);
        body.extend_from_slice(br#""},{"TaskId":3,"TaskName":"fine"}]}"#);
        respond(s, "200 OK", "", &body);
    });
    let snap = describe(addr, Duration::from_secs(10)).await.unwrap();
    let names: Vec<_> = snap
        .tasks
        .iter()
        .map(|t| t.task_name.clone().unwrap())
        .collect();
    assert_eq!(names, ["good", "bad \u{fffd}(\u{fffd}", "fine"]);
    assert!(
        snap.warnings().iter().any(|w| w.contains("UTF-8")),
        "{:?}",
        snap.warnings()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn out_of_domain_numbers_are_null_in_json() {
    let (addr, _) = scripted::serve(Arc::new(|_, _| {
        (
            200,
            r#"{"TotalSize":3,"Items":[{"TaskId":1.5e300,"SourcePort":999999,"TaskName":"a"},{"TaskId":7,"SourcePort":-1,"TaskName":"b"},{"TaskId":8,"SourcePort":5432,"TaskName":"c"}]}"#.into(),
        )
    }))
    .await;
    let out = migtop_at(
        &addr.to_string(),
        &["--output", "json"],
        &[],
        Duration::from_secs(30),
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let doc: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let tasks = &doc["instances"][0]["tasks"];
    assert!(tasks[0]["task_id"].is_null(), "{tasks}");
    assert!(tasks[0]["source"]["port"].is_null(), "{tasks}");
    assert_eq!(tasks[1]["task_id"], 7);
    assert!(tasks[1]["source"]["port"].is_null(), "{tasks}");
    assert_eq!(tasks[2]["source"]["port"], 5432);
    assert!(!out.stdout.contains(&i64::MAX.to_string()));
}

/// Any 12-character piece of the token, in any case, found in `text`.
fn token_piece_in(text: &str) -> Option<String> {
    let lower = text.to_lowercase().replace('+', " ");
    let t = TOKEN.to_lowercase().replace('+', " ");
    let forms = [
        t.clone(),
        migtop::aliyun::sign::percent_encode(TOKEN)
            .to_lowercase()
            .replace('+', " "),
    ];
    for f in forms {
        for w in f.as_bytes().windows(12) {
            let w = std::str::from_utf8(w).unwrap();
            if lower.contains(w) {
                return Some(w.to_string());
            }
        }
    }
    None
}

#[tokio::test(flavor = "multi_thread")]
async fn sts_tokens_are_masked_however_they_are_quoted() {
    let variants: Vec<(u16, String)> = vec![
        // Quoted truncated.
        (
            400,
            scripted::error_body(
                "InvalidSecurityToken.Malformed",
                &format!("The security token {}... is malformed", &TOKEN[..60]),
                "R1",
            ),
        ),
        // Lower-cased.
        (
            400,
            scripted::error_body(
                "InvalidSecurityToken.Expired",
                &format!("token {} expired", TOKEN.to_lowercase()),
                "R2",
            ),
        ),
        // `+` decoded as a space.
        (
            400,
            scripted::error_body(
                "InvalidSecurityToken.Mismatch",
                &format!("token {} mismatch", TOKEN.replace('+', " ")),
                "R3",
            ),
        ),
        // A non-JSON body, cut at 120 characters in the error.
        (
            502,
            format!("<html><body>Bad gateway for SecurityToken={TOKEN}</body></html>"),
        ),
        (200, format!("Not JSON, token: {}", TOKEN.to_lowercase())),
    ];
    for (status, body) in variants {
        let b = body.clone();
        let (addr, _) = scripted::serve(Arc::new(move |_, _| (status, b.clone()))).await;
        let c = client_for(
            &format!("http://{addr}"),
            Duration::from_secs(5),
            Some(TOKEN),
        );
        let e = c
            .describe_tasks("pgm-1", &TaskFilter::default())
            .await
            .unwrap_err();
        let text = format!("{e} {e:?} {}", serde_json::to_string(&e.to_json()).unwrap());
        assert_eq!(token_piece_in(&text), None, "{body}\n=> {text}");
        assert!(text.contains("********"), "{text}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn http_endpoints_never_go_through_a_proxy() {
    // A "proxy" that would happily answer with its own data.
    let (proxy, proxy_seen) = raw_server(|s, _| {
        let fake = scripted::sample().replace("440437220", "666");
        respond(s, "200 OK", "", fake.as_bytes());
    });
    let (addr, _) = scripted::serve(Arc::new(|_, _| (200, scripted::sample()))).await;
    let proxy_url = format!("http://{proxy}");
    let env = [
        ("HTTP_PROXY", proxy_url.as_str()),
        ("http_proxy", proxy_url.as_str()),
        ("ALL_PROXY", proxy_url.as_str()),
        ("all_proxy", proxy_url.as_str()),
    ];
    let out = migtop_at(
        &addr.to_string(),
        &["--output", "json"],
        &env,
        Duration::from_secs(30),
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("440437220"), "{}", out.stdout);
    assert_eq!(proxy_seen.load(Ordering::SeqCst), 0, "the proxy was used");
}

#[tokio::test(flavor = "multi_thread")]
async fn https_proxy_still_carries_https() {
    // A proxy that records the CONNECT line and then refuses.
    let lines = Arc::new(Mutex::new(Vec::<String>::new()));
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let proxy = listener.local_addr().unwrap();
    let seen = lines.clone();
    std::thread::spawn(move || {
        for mut s in listener.incoming().flatten() {
            if let Some(req) = read_request(&mut s) {
                seen.lock()
                    .unwrap()
                    .push(req.lines().next().unwrap_or("").to_string());
                let _ = s.write_all(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n");
            }
        }
    });
    let proxy_url = format!("http://{proxy}");
    let out = run_migtop(
        &[
            "status",
            "--endpoint",
            "https://rds.example.invalid",
            "-i",
            "pgm-1",
            "--timeout",
            "5s",
        ],
        &[("HTTPS_PROXY", proxy_url.as_str())],
        Duration::from_secs(30),
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    let lines = lines.lock().unwrap().clone();
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("CONNECT rds.example.invalid:443")),
        "{lines:?} / {}",
        out.stderr
    );
}

/// A fake PostgreSQL server that refuses TLS ('N' to SSLRequest) and records whether a
/// startup message (user name, then the password) followed in clear text.
fn no_tls_postgres() -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let cleartext = Arc::new(AtomicUsize::new(0));
    let seen = cleartext.clone();
    std::thread::spawn(move || {
        for mut s in listener.incoming().flatten() {
            let seen = seen.clone();
            std::thread::spawn(move || {
                s.set_read_timeout(Some(Duration::from_secs(10))).ok();
                let mut head = [0u8; 8];
                if s.read_exact(&mut head).is_err() {
                    return;
                }
                if head[4..8] == [0x04, 0xd2, 0x16, 0x2f] {
                    let _ = s.write_all(b"N");
                    if s.read_exact(&mut head).is_err() {
                        return;
                    }
                }
                // Anything else is a startup message sent without TLS.
                seen.fetch_add(1, Ordering::SeqCst);
            });
        }
    });
    (port, cleartext)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_question_mark_in_the_dsn_password_keeps_sslmode_require() {
    let (addr, _) = scripted::serve(Arc::new(|_, _| (200, scripted::sample()))).await;
    let (port, cleartext) = no_tls_postgres();
    let dsn = format!("postgres://u:p?ss-SECRETPW@127.0.0.1:{port}/db?sslmode=require");
    for output in ["json", "table"] {
        let out = migtop_at(
            &addr.to_string(),
            &["--output", output, "--source-dsn", &dsn],
            &[],
            Duration::from_secs(30),
        );
        // The API read succeeded; the probe refused to talk in clear text.
        assert_eq!(out.code, 0, "{}", out.stderr);
        assert_eq!(
            cleartext.load(Ordering::SeqCst),
            0,
            "a startup message went out without TLS"
        );
        let all = format!("{}{}", out.stdout, out.stderr);
        assert!(!all.contains("SECRETPW") && !all.contains("p?ss"), "{all}");
        assert!(all.contains("postgres://u:********@127.0.0.1"), "{all}");
        assert!(all.contains("sslmode=require"), "{all}");
        if output == "json" {
            let doc: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
            let probe = &doc["source_probe"];
            assert_eq!(
                probe["target"],
                format!("postgres://u:********@127.0.0.1:{port}/db?sslmode=require")
            );
            assert!(probe["error"].as_str().unwrap().contains("TLS"), "{probe}");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_slash_in_the_dsn_password_is_never_shown() {
    let (addr, _) = scripted::serve(Arc::new(|_, _| (200, scripted::sample()))).await;
    for dsn in [
        "postgres://u:pa/ss-SECRETPW@127.0.0.1:5432/db",
        "postgres://u:pa/s?s-SECRETPW@127.0.0.1/db?sslmode=disable",
        "postgres://u:pa@ss-SECRETPW@127.0.0.1/db",
    ] {
        let out = migtop_at(
            &addr.to_string(),
            &["--output", "json", "--source-dsn", dsn],
            &[],
            Duration::from_secs(30),
        );
        let all = format!("{}{}", out.stdout, out.stderr);
        assert!(!all.contains("SECRETPW"), "{dsn}: {all}");
        assert!(
            !all.contains("pa/s") && !all.contains("ss-"),
            "{dsn}: {all}"
        );
    }
}

/// What a run of the binary gave.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
    /// Peak resident set of the child, KiB.
    max_rss_kib: i64,
}

/// `migtop status --endpoint http://ADDR -i pgm-1 EXTRA...` with test credentials.
fn migtop_at(addr: &str, extra: &[&str], env: &[(&str, &str)], limit: Duration) -> Run {
    let endpoint = format!("http://{addr}");
    let mut args = vec!["status", "--endpoint", &endpoint, "-i", "pgm-1"];
    args.extend_from_slice(extra);
    run_migtop(&args, env, limit)
}

/// `VmHWM` (peak resident memory, KiB) from a `/proc/PID/status` text.
fn vm_hwm_kib(status: &str) -> Option<i64> {
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

/// Runs the binary with a clean environment plus `env`, killed after `limit`.
// The child is reaped with wait4 (its fallback peak RSS), not Child::wait.
#[allow(clippy::zombie_processes)]
fn run_migtop(args: &[&str], env: &[(&str, &str)], limit: Duration) -> Run {
    let home = tempfile::tempdir().unwrap();
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_migtop"));
    cmd.args(args)
        .env_clear()
        .env("HOME", home.path())
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("ALIBABA_CLOUD_ACCESS_KEY_ID", KEY_ID)
        .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", SECRET)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let pid = child.id() as libc::pid_t;
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out_t = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let err_t = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let deadline = Instant::now() + limit;
    // The peak is read from the child's own memory map (VmHWM) while it runs: wait4's
    // ru_maxrss also counts the memory of the process that spawned it (Linux carries the old
    // map's high-water mark across exec), here the whole test harness, hundreds of MiB when
    // other tests hold big buffers.
    let status_path = format!("/proc/{pid}/status");
    let mut hwm_kib: Option<i64> = None;
    let (code, max_rss_kib) = loop {
        if let Some(kib) = std::fs::read_to_string(&status_path)
            .ok()
            .and_then(|s| vm_hwm_kib(&s))
        {
            hwm_kib = Some(hwm_kib.unwrap_or(0).max(kib));
        }
        let mut status = 0;
        // SAFETY: plain syscalls on our own child's pid with valid out-pointers.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        let r = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage) };
        if r == pid {
            let code = if libc::WIFEXITED(status) {
                libc::WEXITSTATUS(status)
            } else {
                -1
            };
            // A child that ended before the first reading: wait4's figure, an upper bound.
            break (code, hwm_kib.unwrap_or(usage.ru_maxrss));
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("migtop {args:?} did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Run {
        code,
        stdout: out_t.join().unwrap(),
        stderr: err_t.join().unwrap(),
        max_rss_kib,
    }
}

/// Issue 19, item 5: a recording with one 50 MB field is read line by line, the long line
/// skipped with a warning and never held whole (359 MB before); a FIFO is refused at once.
#[tokio::test(flavor = "multi_thread")]
async fn a_recording_with_a_50_mb_field_stays_within_100_mb() {
    let (addr, _) = scripted::serve(Arc::new(|_, _| (200, scripted::sample()))).await;
    let dir = tempfile::tempdir().unwrap();
    let rec = dir.path().join("rec.jsonl");
    let rec_s = rec.to_str().unwrap().to_string();
    let out = migtop_at(
        &addr.to_string(),
        &["--record", &rec_s],
        &[],
        Duration::from_secs(30),
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let line = std::fs::read_to_string(&rec).unwrap();
    let v: serde_json::Value = serde_json::from_str(line.trim()).unwrap();
    let text = v.to_string();
    assert!(text.contains("task_name"), "{text}");
    // The same poll a minute later, its task name 50 MB long.
    let big = "x".repeat(50 * 1024 * 1024);
    let later = text.replace("362c6c7a-4d20-4eac-898c-1495ceab374c", &big);
    assert!(later.len() > 50 * 1024 * 1024);
    std::fs::write(&rec, format!("{text}\n{later}\n{text}\n")).unwrap();
    let page = dir.path().join("page.html");
    let out = run_migtop(
        &["report", &rec_s, "-o", page.to_str().unwrap()],
        &[],
        Duration::from_secs(60),
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr.contains("line 2: skipped (longer than"),
        "{}",
        out.stderr
    );
    eprintln!("50 MB recording field: peak RSS {} KiB", out.max_rss_kib);
    assert!(
        out.max_rss_kib < 100 * 1024,
        "peak RSS {} KiB",
        out.max_rss_kib
    );

    // A FIFO where the recording should be: refused, not waited on.
    let fifo = dir.path().join("fifo.jsonl");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let out = run_migtop(
        &["report", fifo.to_str().unwrap()],
        &[],
        Duration::from_secs(20),
    );
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("a FIFO"), "{}", out.stderr);
}
