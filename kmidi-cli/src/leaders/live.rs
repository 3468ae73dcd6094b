//! Leadership as the instrument knows it now and over the run: read by the leader
//! watch's thread ([`super::follow`]), looked up per note by the voice per broker
//! ([`super::voiced`]) and the per-broker metrics, and turned into figures per broker
//! at the end (`kmidi_engine::measure::brokers`).

use std::collections::BTreeMap;
use std::sync::{Mutex, RwLock};

use kmidi_engine::measure::brokers::{LeaderTimeline, OffsetGaps};
use kmidi_engine::measure::unix_us;
use kmidi_transport::Leadership;

/// The latest leaders, the timeline of every change, and the offsets skipped.
#[derive(Debug, Default)]
pub struct LiveLeaders {
    current: RwLock<BTreeMap<i32, Option<i32>>>,
    timeline: Mutex<LeaderTimeline>,
    gaps: Mutex<OffsetGaps>,
}

impl LiveLeaders {
    /// Takes a reading made now; one that cannot tell leaders is ignored.
    pub fn observe(&self, leadership: &Leadership) {
        if !leadership.known {
            return;
        }
        let leaders = leadership.leaders();
        if let Ok(mut t) = self.timeline.lock() {
            t.record(unix_us() as f64 / 1000.0, leaders.iter().copied());
        }
        if let Ok(mut c) = self.current.write() {
            *c = leaders.into_iter().collect();
        }
    }

    /// Who leads `partition` now, as last read.
    pub fn leader(&self, partition: i32) -> Option<i32> {
        self.current
            .read()
            .ok()
            .and_then(|c| c.get(&partition).copied().flatten())
    }

    /// A record of `partition` at `offset` was read now.
    pub fn offset(&self, partition: i32, offset: i64) {
        if let Ok(mut g) = self.gaps.lock() {
            g.observe(partition, offset, unix_us() as f64 / 1000.0);
        }
    }

    pub fn timeline(&self) -> LeaderTimeline {
        self.timeline.lock().map(|t| t.clone()).unwrap_or_default()
    }

    pub fn gaps(&self) -> OffsetGaps {
        self.gaps.lock().map(|g| g.clone()).unwrap_or_default()
    }
}
