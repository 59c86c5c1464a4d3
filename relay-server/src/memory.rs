//! Giving memory back. glibc's allocator keeps what the relay frees in its arenas for
//! reuse and returns it to the system only from the top of the heap: after a busy hour,
//! an idle relay would go on holding tens of MiB of freed rooms, media buffers and
//! messages (docs/benchmarks.md, the long run). Once a minute, while no room is live,
//! the free memory is handed back (`malloc_trim`); a busy relay is left alone, since it
//! would soon allocate the same memory again. Before the trim, the embedded stores'
//! SQLite connections empty their page caches, which would otherwise stay filled with
//! what the busy spell read and wrote.

use std::sync::Weak;
use std::time::Duration;

use crate::room::Rooms;

/// How often the relay looks whether it is idle.
const EVERY: Duration = Duration::from_secs(60);

/// Hand back freed memory now; whether any was returned. Only glibc has this; elsewhere
/// it does nothing.
#[allow(unsafe_code)]
pub fn trim() -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: malloc_trim takes no pointers and is safe to call from any thread at
        // any time; it only walks the allocator's own free lists under its locks.
        unsafe { libc::malloc_trim(0) == 1 }
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        false
    }
}

/// Trim once a minute while `rooms` holds no room, once per idle spell. Ends with the
/// relay.
pub fn spawn_trimmer(rooms: Weak<Rooms>) {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(EVERY);
        ticker.tick().await;
        let mut trimmed = false;
        loop {
            ticker.tick().await;
            let Some(rooms) = rooms.upgrade() else { break };
            let idle = rooms.counts().0 == 0;
            drop(rooms);
            if idle && !trimmed {
                let (caches, returned) = tokio::task::spawn_blocking(|| {
                    let caches = crate::store::release_memory();
                    (caches, trim())
                })
                .await
                .unwrap_or((0, false));
                tracing::debug!(caches, returned, "idle: freed memory handed back");
            }
            trimmed = idle;
        }
    });
}
