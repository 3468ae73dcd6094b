//! The songs being heard, one track per (run, pass, song), kept in a bounded store: an
//! instrument that listens for days to a looping player must not grow per pass. The
//! newest [`MAX_TRACKS`] tracks keep their detail (every sequence number seen, for
//! loss and duplicates); older ones are folded into running totals once they stop.
//!
//! Tracks have stable ids that grow by one per new track; a sample refers to its
//! track by id, and an id below [`Tracks::first_id`] means the track was folded.

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::{Duration, Instant};

/// Tracks kept in detail: about 20 minutes of a looping 19-second song.
pub const MAX_TRACKS: usize = 64;

/// Where the live tempo is measured: the last few seconds of the current song.
const TEMPO_WINDOW: Duration = Duration::from_secs(3);

/// What tells one playing of a song from another.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TrackKey {
    pub run: String,
    pub pass: u64,
    pub song: String,
}

#[derive(Default)]
pub struct SongTrack {
    /// Earliest (arrival − offset) so far, µs since the meter's base instant.
    pub anchor_us: Option<i64>,
    pub seen: HashSet<u64>,
    pub min_seq: Option<u64>,
    pub max_seq: Option<(u64, u64)>,
    pub last: Option<(Instant, u64)>,
    pub first: Option<(Instant, u64)>,
    pub total: Option<u64>,
    pub window: VecDeque<(Instant, u64)>,
}

/// The end-of-run figures for a song.
#[derive(Clone, Debug, serde::Serialize)]
pub struct SongFigures {
    pub run: String,
    /// Which pass of a looping player, from 0.
    pub pass: u64,
    pub song: String,
    pub heard: u64,
    pub total: Option<u64>,
    /// Sequence gaps between the first and the last note heard.
    pub lost: u64,
    /// Notes before the first heard (the instrument joined late).
    pub missed_start: u64,
    /// Notes after the last heard (not played yet, or the instrument stopped first).
    pub missed_end: u64,
    /// Heard duration over score duration's inverse: 1.0 on tempo, 0.9 10 % slow.
    pub tempo: Option<f64>,
}

/// The sums of the tracks folded out of the store.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct Folded {
    pub tracks: u64,
    pub heard: u64,
    pub lost: u64,
    pub missed_start: u64,
    pub missed_end: u64,
    /// Score time and heard time of the folded tracks, µs, for the overall tempo.
    pub scored_us: u64,
    pub heard_us: u64,
}

impl SongTrack {
    pub fn add_to_window(&mut self, arrived: Instant, offset: u64) {
        self.window.push_back((arrived, offset));
        while self
            .window
            .front()
            .is_some_and(|(at, _)| arrived.duration_since(*at) > TEMPO_WINDOW)
        {
            self.window.pop_front();
        }
    }

    pub fn figures(&self, key: &TrackKey) -> SongFigures {
        let heard = self.seen.len() as u64;
        let (min, max) = (self.min_seq.unwrap_or(0), self.max_seq.map_or(0, |m| m.0));
        let span = if heard == 0 { 0 } else { max - min + 1 };
        SongFigures {
            run: key.run.clone(),
            pass: key.pass,
            song: key.song.clone(),
            heard,
            total: self.total,
            lost: span.saturating_sub(heard),
            missed_start: min,
            missed_end: self.total.map_or(0, |total| total.saturating_sub(max + 1)),
            tempo: match (&self.first, &self.last) {
                (Some(a), Some(b)) => tempo_between(a, b),
                _ => None,
            },
        }
    }

    /// Score time and heard time from the first note to the last, µs.
    pub fn span_us(&self) -> Option<(u64, u64)> {
        let ((a_at, a_off), (b_at, b_off)) = (self.first?, self.last?);
        Some((
            b_off.saturating_sub(a_off),
            b_at.duration_since(a_at).as_micros() as u64,
        ))
    }
}

pub fn tempo_between(a: &(Instant, u64), b: &(Instant, u64)) -> Option<f64> {
    let heard = b.0.duration_since(a.0).as_micros() as f64;
    let scored = b.1.saturating_sub(a.1) as f64;
    // Under half a second of music says nothing about tempo.
    (heard > 0.0 && scored >= 500_000.0).then(|| scored / heard)
}

/// The bounded store.
#[derive(Default)]
pub struct Tracks {
    kept: VecDeque<(TrackKey, SongTrack)>,
    ids: HashMap<TrackKey, usize>,
    /// The id of `kept[0]`.
    first_id: usize,
    pub folded: Folded,
}

impl Tracks {
    /// The id of `key`'s track, created if new, and the track folded out to make room
    /// for it if one was (its id and its final anchor).
    pub fn id_of(&mut self, key: TrackKey) -> (usize, Option<(usize, Option<i64>)>) {
        if let Some(&id) = self.ids.get(&key) {
            return (id, None);
        }
        let id = self.first_id + self.kept.len();
        self.ids.insert(key.clone(), id);
        self.kept.push_back((key, SongTrack::default()));
        let folded = (self.kept.len() > MAX_TRACKS)
            .then(|| self.fold_oldest())
            .flatten();
        (id, folded)
    }

    fn fold_oldest(&mut self) -> Option<(usize, Option<i64>)> {
        let (key, t) = self.kept.pop_front()?;
        let id = self.first_id;
        self.first_id += 1;
        self.ids.remove(&key);
        let f = t.figures(&key);
        let (scored, heard) = t.span_us().unwrap_or((0, 0));
        let sum = &mut self.folded;
        sum.tracks += 1;
        sum.heard += f.heard;
        sum.lost += f.lost;
        sum.missed_start += f.missed_start;
        sum.missed_end += f.missed_end;
        sum.scored_us += scored;
        sum.heard_us += heard;
        Some((id, t.anchor_us))
    }

    /// The track of `id`, if it is still kept in detail.
    pub fn get(&self, id: usize) -> Option<&SongTrack> {
        self.kept
            .get(id.checked_sub(self.first_id)?)
            .map(|(_, t)| t)
    }

    pub fn get_mut(&mut self, id: usize) -> Option<(&TrackKey, &mut SongTrack)> {
        let (k, t) = self.kept.get_mut(id.checked_sub(self.first_id)?)?;
        Some((&*k, t))
    }

    pub fn iter(&self) -> impl Iterator<Item = &(TrackKey, SongTrack)> {
        self.kept.iter()
    }
}
