//! Giving memory back. glibc's allocator keeps what the relay frees in its arenas for
//! reuse and returns it to the system only from the top of the heap: after a busy hour,
//! an idle relay would go on holding tens of MiB of freed rooms, media buffers and
//! messages (docs/benchmarks.md, the long run). Once a minute, while no room is live,
//! the free memory is handed back (`malloc_trim`); a busy relay is left alone, since it
//! would soon allocate the same memory again.

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

/// The allocator's own account of the heap, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Heap {
    /// Held by the relay's data (small blocks and large mapped ones).
    pub in_use: u64,
    /// Freed by the relay but kept by the allocator for reuse (what a trim may return).
    pub free: u64,
}

/// The heap as glibc counts it, over all its arenas; `None` with other allocators.
/// Resident memory counts more (thread stacks, libraries, pages that hold a few live
/// blocks): the two together tell retained memory from live data.
#[allow(unsafe_code)]
pub fn heap() -> Option<Heap> {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: mallinfo2 takes no arguments and returns a plain struct of counters,
        // read under the allocator's locks.
        let m = unsafe { libc::mallinfo2() };
        Some(Heap {
            in_use: (m.uordblks + m.hblkhd) as u64,
            free: m.fordblks as u64,
        })
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        None
    }
}

/// What SQLite holds in memory over all the embedded stores' connections (page caches,
/// schemas, statements), in bytes: part of the heap in use.
#[allow(unsafe_code)]
pub fn sqlite_in_use() -> u64 {
    // SAFETY: sqlite3_memory_used takes no arguments and reads SQLite's own counter
    // under its mutex; it is safe from any thread.
    let used = unsafe { rusqlite::ffi::sqlite3_memory_used() };
    used.max(0) as u64
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
                let returned = tokio::task::spawn_blocking(trim).await.unwrap_or(false);
                tracing::debug!(returned, "idle: freed memory handed back");
            }
            trimmed = idle;
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    fn the_heap_counts_what_is_allocated_and_freed() {
        let before = heap().unwrap();
        let block: Vec<u8> = vec![1; 8 << 20];
        let held = heap().unwrap();
        assert!(
            held.in_use >= before.in_use + (8 << 20) - 4096,
            "{before:?} → {held:?}"
        );
        drop(block);
        let after = heap().unwrap();
        assert!(
            after.in_use + (8 << 20) - 4096 <= held.in_use,
            "{held:?} → {after:?}"
        );
    }
}
