//! The instrument's leader watch on its own thread (a metadata read waits on the
//! network, and the listening loop must not): for a probe topic, one whose partitions
//! are led by every broker at the start, it re-reads leadership every few seconds and
//! says when a failover left a broker without a partition to lead, and when the spread
//! is back. A topic that does not start spread (most topics) is not watched.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use kmidi_transport::Admin;

use super::LeaderWatch;

/// How often leadership is read again.
const EVERY: Duration = Duration::from_secs(5);
/// How long one reading may take.
const READ_TIMEOUT: Duration = Duration::from_secs(5);
/// The watch sleeps in steps this long, so it ends promptly with the run.
const STEP: Duration = Duration::from_millis(100);

/// The running watch; told to stop on drop, not waited for: a reading in flight may
/// take its whole timeout, and the run's end must not (the thread only reads).
pub struct Following {
    stop: Arc<AtomicBool>,
}

/// Watches `topic` through `admin` on a thread of its own, if its first reading there
/// shows every broker leading a partition (else the thread ends at once): the reading
/// waits on the network, so it is not done on the caller's way to listening.
pub fn follow(admin: Box<dyn Admin>, topic: &str, bootstrap: &str) -> Option<Following> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    let (topic, bootstrap) = (topic.to_string(), bootstrap.to_string());
    std::thread::Builder::new()
        .name("kmidi-leaders".into())
        .spawn(move || {
            let Ok(first) = admin.partition_leaders(&topic, READ_TIMEOUT) else {
                return;
            };
            let spread = first.known
                && first.brokers.len() > 1
                && first.brokers.iter().all(|b| !first.led_by(*b).is_empty());
            if !spread {
                return;
            }
            let mut watch = LeaderWatch::new(&topic, &bootstrap, EVERY);
            watch.observe(Instant::now(), Ok(first));
            while !flag.load(Ordering::Relaxed) {
                let notices = watch.tick(Instant::now(), || {
                    admin.partition_leaders(&topic, READ_TIMEOUT)
                });
                for n in notices {
                    tracing::warn!("{}", n.text());
                }
                std::thread::sleep(STEP);
            }
        })
        .ok()?;
    Some(Following { stop })
}

impl Drop for Following {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}
