//! The instrument's consumer, seen through leadership: every record's offset is noted
//! (skipped offsets are loss charged to the partition's broker), and with `--voices
//! broker` each note is moved to its broker's voice before the engine plays it, so
//! every sink (port, recording, rendering, web page) and the jitter buffer hear the
//! same thing. Moving it here, on the record, keeps the engine's loop and the sinks
//! unaware of brokers.

use std::sync::Arc;
use std::time::Duration;

use kmidi_engine::wire::NoteMessage;
use kmidi_midi::message::ChannelMessage;
use kmidi_midi::sink::{hex, Revoicer};
use kmidi_transport::{Consumer, Record, TransportError};

use super::LiveLeaders;

pub struct Voiced {
    inner: Box<dyn Consumer>,
    live: Arc<LiveLeaders>,
    revoicer: Option<Revoicer>,
}

impl Voiced {
    /// Wraps `inner`; `revoicer` with `--voices broker`.
    pub fn new(
        inner: Box<dyn Consumer>,
        live: Arc<LiveLeaders>,
        revoicer: Option<Revoicer>,
    ) -> Self {
        Voiced {
            inner,
            live,
            revoicer,
        }
    }

    fn revoice(&mut self, record: &mut Record) {
        let Some(revoicer) = self.revoicer.as_mut() else {
            return;
        };
        // What cannot be decoded is left for the engine to count as a bad record.
        let Ok(mut note) = NoteMessage::decode(record.value.as_deref()) else {
            return;
        };
        let Ok(msg) = ChannelMessage::from_hex(&note.hex) else {
            return;
        };
        let broker = self.live.leader(record.partition);
        if let Some(bytes) = revoicer.revoice(record.partition, broker, msg.bytes()) {
            note.hex = hex(&bytes);
            note.channel = bytes[0] & 0x0F;
            record.value = Some(note.encode());
        }
    }
}

impl Consumer for Voiced {
    fn poll(&mut self, timeout: Duration) -> Result<Option<Record>, TransportError> {
        let mut record = self.inner.poll(timeout)?;
        if let Some(r) = record.as_mut() {
            self.live.offset(r.partition, r.offset);
            self.revoice(r);
        }
        Ok(record)
    }

    fn commit(&mut self) -> Result<(), TransportError> {
        self.inner.commit()
    }

    fn assignment(&self) -> Vec<(String, i32)> {
        self.inner.assignment()
    }

    fn reports_assignment(&self) -> bool {
        self.inner.reports_assignment()
    }

    fn settings(&self) -> Vec<(String, String)> {
        self.inner.settings()
    }
}

#[cfg(test)]
mod tests {
    use kmidi_midi::sink::BrokerVoices;
    use kmidi_transport::Leadership;

    use super::*;

    /// Hands out the records it was given, one per poll.
    struct Given(Vec<Record>);

    impl Consumer for Given {
        fn poll(&mut self, _: Duration) -> Result<Option<Record>, TransportError> {
            Ok((!self.0.is_empty()).then(|| self.0.remove(0)))
        }
        fn commit(&mut self) -> Result<(), TransportError> {
            Ok(())
        }
    }

    fn record(partition: i32, offset: i64, hex: &str) -> Record {
        let value = format!(
            r#"{{"time": 0, "type": "note_on", "channel": 0, "note": 60, "velocity": 64, "hex": "{hex}", "kmidi_seq": 3}}"#
        );
        Record {
            partition,
            offset,
            value: Some(value.into_bytes()),
            ..Record::default()
        }
    }

    fn leadership() -> Leadership {
        let mut l = Leadership::unknown(2);
        l.known = true;
        l.brokers = vec![1, 2];
        l.partitions[0].leader = Some(1);
        l.partitions[1].leader = Some(2);
        l
    }

    #[test]
    fn notes_take_their_brokers_channel_and_keep_their_measurement() {
        let live = Arc::new(LiveLeaders::default());
        live.observe(&leadership());
        let given = Given(vec![
            record(1, 5, "90 3C 40"),
            record(1, 9, "90 3E 40"),
            record(3, 0, "90 3C 40"),
        ]);
        let revoicer = Revoicer::new(BrokerVoices::assign(&[1, 2], None));
        let mut c = Voiced::new(Box::new(given), Arc::clone(&live), Some(revoicer));
        let first = c.poll(Duration::ZERO).unwrap().unwrap();
        let note = NoteMessage::decode(first.value.as_deref()).unwrap();
        assert_eq!((note.hex.as_str(), note.channel), ("91 3C 40", 1));
        assert_eq!(note.measure.seq, Some(3));
        c.poll(Duration::ZERO).unwrap();
        // A partition without a known leader plays as it came.
        let third = c.poll(Duration::ZERO).unwrap().unwrap();
        assert_eq!(
            NoteMessage::decode(third.value.as_deref()).unwrap().hex,
            "90 3C 40"
        );
        assert_eq!(live.gaps().gaps.len(), 1, "offsets 6..=8 skipped");
        assert_eq!(live.gaps().gaps[0].2, 3);
    }

    #[test]
    fn without_voices_records_pass_unchanged() {
        let live = Arc::new(LiveLeaders::default());
        let given = Given(vec![record(0, 0, "90 3C 40")]);
        let before = given.0[0].value.clone();
        let mut c = Voiced::new(Box::new(given), live, None);
        assert_eq!(c.poll(Duration::ZERO).unwrap().unwrap().value, before);
    }
}
