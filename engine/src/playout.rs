//! The instrument's optional jitter buffer (`--playout-delay MS`), as VoIP does it: each
//! note is played at where the score puts it plus a fixed delay, instead of the moment
//! it arrives. Jitter smaller than the delay then becomes exact timing; a note that
//! arrives after its playout time has missed its deadline, is played at once, and is
//! counted per partition: the tail-latency budget an operator sets, heard.
//!
//! Where the score puts a note needs no clock sync: each song's start is taken where
//! its notes imply it earliest (arrival − scheduled offset), as the meter anchors onset
//! error. A record without kmidi's fields (the original player's) is delayed by the
//! fixed delay from its arrival.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap};
use std::time::{Duration, Instant};

use crate::wire::Measure;

/// A note waiting for its playout time.
struct Pending {
    at: Instant,
    /// Arrival order, so notes due at the same instant keep it.
    order: u64,
    bytes: Vec<u8>,
}

impl PartialEq for Pending {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.order) == (other.at, other.order)
    }
}
impl Eq for Pending {}
impl PartialOrd for Pending {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Pending {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.at, self.order).cmp(&(other.at, other.order))
    }
}

pub struct Playout {
    delay: Duration,
    /// Each song's start as its notes imply it earliest, per (run, pass, song).
    starts: HashMap<(String, u64, String), Instant>,
    queue: BinaryHeap<Reverse<Pending>>,
    order: u64,
    /// Notes that arrived after their playout time, per (topic, partition).
    pub missed: BTreeMap<(String, i32), u64>,
}

impl Playout {
    pub fn new(delay: Duration) -> Self {
        Self {
            delay,
            starts: HashMap::new(),
            queue: BinaryHeap::new(),
            order: 0,
            missed: BTreeMap::new(),
        }
    }

    pub fn delay(&self) -> Duration {
        self.delay
    }

    /// When the note that arrived at `arrived` is to be played; true as the second
    /// value if that time had already passed (a missed deadline, counted).
    pub fn schedule(
        &mut self,
        arrived: Instant,
        m: &Measure,
        topic: &str,
        partition: i32,
        bytes: &[u8],
    ) -> (Instant, bool) {
        let at = match (&m.song, m.offset_us) {
            (Some(song), Some(offset)) => {
                let offset = Duration::from_micros(offset);
                let implied = arrived.checked_sub(offset).unwrap_or(arrived);
                let key = (
                    m.run.clone().unwrap_or_default(),
                    m.pass.unwrap_or(0),
                    song.clone(),
                );
                let start = self.starts.entry(key).or_insert(implied);
                *start = (*start).min(implied);
                *start + offset + self.delay
            }
            _ => arrived + self.delay,
        };
        let missed = at < arrived;
        if missed {
            *self
                .missed
                .entry((topic.to_string(), partition))
                .or_default() += 1;
        }
        self.order += 1;
        self.queue.push(Reverse(Pending {
            at: at.max(arrived),
            order: self.order,
            bytes: bytes.to_vec(),
        }));
        (at, missed)
    }

    /// When the next queued note is due.
    pub fn next_due(&self) -> Option<Instant> {
        self.queue.peek().map(|Reverse(p)| p.at)
    }

    /// The next note if it is due by `now`, with its playout time.
    pub fn pop_due(&mut self, now: Instant) -> Option<(Instant, Vec<u8>)> {
        if self.next_due()? > now {
            return None;
        }
        self.queue.pop().map(|Reverse(p)| (p.at, p.bytes))
    }

    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn note(seq: u64, offset_ms: u64) -> Measure {
        Measure {
            run: Some("r".into()),
            song: Some("s.mid".into()),
            seq: Some(seq),
            offset_us: Some(offset_ms * 1000),
            ..Measure::default()
        }
    }

    #[test]
    fn jitter_under_the_delay_is_played_on_the_score() {
        let mut p = Playout::new(Duration::from_millis(50));
        let t0 = Instant::now();
        // Scored 100 ms apart, arriving with 0, 30 and 10 ms of jitter.
        let arrivals = [(0, 0), (100, 30), (200, 10)];
        let at: Vec<Instant> = arrivals
            .iter()
            .enumerate()
            .map(|(i, &(score, jitter))| {
                let arrived = t0 + Duration::from_millis(score + jitter);
                p.schedule(arrived, &note(i as u64, score), "t", 0, &[0x90])
                    .0
            })
            .collect();
        for (i, a) in at.iter().enumerate() {
            assert_eq!(*a - t0, Duration::from_millis(50 + 100 * i as u64));
        }
        assert!(p.missed.is_empty());
    }

    #[test]
    fn a_note_later_than_the_delay_misses_its_deadline_and_is_counted_per_partition() {
        let mut p = Playout::new(Duration::from_millis(20));
        let t0 = Instant::now();
        p.schedule(t0, &note(0, 0), "t", 1, &[1]);
        let (_, missed) = p.schedule(t0 + Duration::from_millis(150), &note(1, 100), "t", 1, &[2]);
        assert!(missed, "due at 120 ms, arrived at 150 ms");
        assert_eq!(p.missed[&("t".to_string(), 1)], 1);
        // Played at once, after the first.
        let now = t0 + Duration::from_millis(150);
        assert_eq!(p.pop_due(now).map(|(_, b)| b), Some(vec![1]));
        assert_eq!(p.pop_due(now).map(|(_, b)| b), Some(vec![2]));
        assert!(p.is_empty());
    }

    #[test]
    fn records_without_kmidi_fields_are_delayed_from_their_arrival() {
        let mut p = Playout::new(Duration::from_millis(30));
        let t0 = Instant::now();
        let (at, missed) = p.schedule(t0, &Measure::default(), "t", 0, &[0x80]);
        assert_eq!((at - t0, missed), (Duration::from_millis(30), false));
        assert!(p.pop_due(t0).is_none(), "not due yet");
    }
}
