//! A response body as the client reads it (JSON, or XML when it looks like the API's), then
//! decoded into a page of tasks and every figure the table and the dashboard derive.
#![no_main]

use libfuzzer_sys::fuzz_target;
use migtop::aliyun::body;
use migtop::model::Page;

fuzz_target!(|data: &[u8]| {
    if let Ok(decoded) = body::parse(data)
        && let Ok(page) = Page::from_json("pgm-fuzz", &decoded.value)
    {
        assert_eq!(page.tasks.len() + page.item_errors.len(), page.item_count);
        for t in &page.tasks {
            let _ = t.lag_bytes();
            let _ = t.key();
            let _ = t.display_name();
            if let Some(p) = t.source.port {
                assert!((1..=65535).contains(&p));
            }
            if let Some(id) = t.task_id {
                assert!(id >= 0);
            }
        }
    }
});
