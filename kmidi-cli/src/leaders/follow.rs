//! The instrument's leader watch on its own thread (a metadata read waits on the
//! network, and the listening loop must not): it re-reads the topic's leadership every
//! few seconds into [`LiveLeaders`] (whom each note is charged to, and with `--voices
//! broker` whose voice it takes), and for a probe topic, one whose partitions are led
//! by every broker at the start, says when a failover left a broker without a
//! partition to lead, and when the spread is back.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use kmidi_transport::{Admin, Leadership};

use super::{LeaderWatch, LiveLeaders};

/// How often leadership is read again: a note heard after a failover and before the
/// next reading is charged to the old leader, so not much longer than this.
const EVERY: Duration = Duration::from_secs(2);
/// How long one reading may take.
pub const READ_TIMEOUT: Duration = Duration::from_secs(5);
/// The watch sleeps in steps this long, so it ends promptly with the run.
const STEP: Duration = Duration::from_millis(100);

/// The running watch; told to stop on drop, not waited for: a reading in flight may
/// take its whole timeout, and the run's end must not (the thread only reads).
pub struct Following {
    stop: Arc<AtomicBool>,
}

/// Follows `topic`'s leadership through `admin` into `live` on a thread of its own,
/// starting from `first` if the caller already read it (else the thread's first
/// reading, off the caller's way to listening). A transport that cannot tell leaders
/// ends the thread at once; warnings about the spread only for a topic whose first
/// reading shows every broker leading a partition.
pub fn follow(
    admin: Box<dyn Admin>,
    topic: &str,
    bootstrap: &str,
    live: Arc<LiveLeaders>,
    first: Option<Leadership>,
) -> Option<Following> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    let (topic, bootstrap) = (topic.to_string(), bootstrap.to_string());
    std::thread::Builder::new()
        .name("kmidi-leaders".into())
        .spawn(move || {
            let first = match first {
                Some(f) => f,
                None => match admin.partition_leaders(&topic, READ_TIMEOUT) {
                    Ok(f) => f,
                    Err(_) => return,
                },
            };
            if !first.known {
                return;
            }
            live.observe(&first);
            let started = Instant::now();
            let spread = first.brokers.len() > 1
                && first.brokers.iter().all(|b| !first.led_by(*b).is_empty());
            let mut watch = spread.then(|| {
                let mut w = LeaderWatch::new(&topic, &bootstrap, EVERY);
                w.observe(started, Ok(first));
                w
            });
            let mut next = started + EVERY;
            while !flag.load(Ordering::Relaxed) {
                let now = Instant::now();
                if now >= next {
                    let reading = admin.partition_leaders(&topic, READ_TIMEOUT);
                    next = now + EVERY;
                    if let Ok(l) = &reading {
                        live.observe(l);
                    }
                    // Due at the same instant: the watch took its last reading with ours.
                    if let Some(w) = watch.as_mut() {
                        for n in w.tick(now, || reading) {
                            tracing::warn!("{}", n.text());
                        }
                    }
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
