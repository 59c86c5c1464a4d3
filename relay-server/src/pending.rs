//! Sockets that are open but have not joined yet, counted per client address.
//!
//! A socket may sit up to `join_timeout` before it sends `join`. Without a cap per address,
//! one machine could hold every one of `max_connections` that way and lock everyone else
//! out. Joined sockets are not counted, so a class behind one NAT address is limited only
//! in how many of its members are joining at the same moment.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Arc, Mutex};

/// Counts not-yet-joined sockets per address; hands out [`PendingSlot`]s.
#[derive(Debug)]
pub struct PendingJoins {
    limit: usize,
    counts: Mutex<HashMap<IpAddr, usize>>,
}

/// One not-yet-joined socket; dropping it (on join, refusal or close) frees the place.
#[derive(Debug)]
pub struct PendingSlot {
    owner: Arc<PendingJoins>,
    key: IpAddr,
}

/// The address the cap applies to: IPv4 as is (IPv4-mapped IPv6 included), IPv6 by its /64,
/// since one host usually owns a whole /64.
pub fn address_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

impl PendingJoins {
    pub fn new(limit: usize) -> Arc<PendingJoins> {
        Arc::new(PendingJoins {
            limit,
            counts: Mutex::new(HashMap::new()),
        })
    }

    /// A place for one more not-yet-joined socket from `ip`, or `None` at the cap.
    pub fn try_take(self: &Arc<Self>, ip: IpAddr) -> Option<PendingSlot> {
        let key = address_key(ip);
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        let count = counts.entry(key).or_insert(0);
        if *count >= self.limit {
            return None;
        }
        *count += 1;
        Some(PendingSlot {
            owner: self.clone(),
            key,
        })
    }

    /// Not-yet-joined sockets from `ip` (or its /64) right now.
    pub fn count(&self, ip: IpAddr) -> usize {
        let counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        counts.get(&address_key(ip)).copied().unwrap_or(0)
    }
}

impl Drop for PendingSlot {
    fn drop(&mut self) {
        let mut counts = self.owner.counts.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(count) = counts.get_mut(&self.key) {
            *count -= 1;
            if *count == 0 {
                counts.remove(&self.key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_each_address_and_frees_on_drop() {
        let pending = PendingJoins::new(2);
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        let first = pending.try_take(a).unwrap();
        let _second = pending.try_take(a).unwrap();
        assert!(
            pending.try_take(a).is_none(),
            "a third from the same address"
        );
        let _other = pending
            .try_take(b)
            .expect("another address has its own places");
        drop(first);
        assert_eq!(pending.count(a), 1);
        let _third = pending
            .try_take(a)
            .expect("a freed place can be taken again");
        assert!(pending.try_take(a).is_none());
    }

    #[test]
    fn the_map_forgets_addresses_with_nothing_pending() {
        let pending = PendingJoins::new(1);
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        drop(pending.try_take(a).unwrap());
        assert!(pending.counts.lock().unwrap().is_empty());
    }

    #[test]
    fn ipv6_counts_by_64_and_mapped_ipv4_as_ipv4() {
        let pending = PendingJoins::new(1);
        let one: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let same_64: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        let other_64: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        let _held = pending.try_take(one).unwrap();
        assert!(pending.try_take(same_64).is_none());
        assert!(pending.try_take(other_64).is_some());

        let v4: IpAddr = "192.0.2.7".parse().unwrap();
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        let _v4 = pending.try_take(v4).unwrap();
        assert!(pending.try_take(mapped).is_none());
    }
}
