//! One test binary runs every test on the same few threads: tests that load the machine (a
//! PostgreSQL lab, a pip install) share it with each other, and the test that reads a real
//! terminal at human speed runs while none of them does, as it did in its own binary.

use tokio::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

static MACHINE: RwLock<()> = RwLock::const_new(());

/// Held by a test that loads the machine (any number at once).
pub async fn heavy() -> RwLockReadGuard<'static, ()> {
    MACHINE.read().await
}

/// As [`heavy`], for a test outside a runtime.
pub fn heavy_blocking() -> RwLockReadGuard<'static, ()> {
    MACHINE.blocking_read()
}

/// Held by a timing-sensitive test: waits until no heavy test runs, and keeps new ones out.
pub fn quiet() -> RwLockWriteGuard<'static, ()> {
    MACHINE.blocking_write()
}
