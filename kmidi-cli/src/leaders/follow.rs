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

/// The running watch; stopped and joined on drop.
pub struct Following {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// Starts watching `topic` through `admin` if its first reading shows every broker
/// leading a partition; `None` when it does not (or leaders are unknown).
pub fn follow(admin: Box<dyn Admin>, topic: &str, bootstrap: &str) -> Option<Following> {
    let first = admin.partition_leaders(topic, READ_TIMEOUT).ok()?;
    let spread = first.known
        && first.brokers.len() > 1
        && first.brokers.iter().all(|b| !first.led_by(*b).is_empty());
    if !spread {
        return None;
    }
    let mut watch = LeaderWatch::new(topic, bootstrap, EVERY);
    watch.observe(Instant::now(), Ok(first));
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    let topic = topic.to_string();
    let thread = std::thread::Builder::new()
        .name("kmidi-leaders".into())
        .spawn(move || {
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
    Some(Following {
        stop,
        thread: Some(thread),
    })
}

impl Drop for Following {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
