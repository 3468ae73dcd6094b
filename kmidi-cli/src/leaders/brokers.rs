//! The instrument's parts per broker: leadership followed live ([`LiveLeaders`]), a
//! voice per broker under `--voices broker`, and the figures per broker at the end.

use std::sync::Arc;
use std::time::Duration;

use kmidi_engine::measure::brokers::by_broker;
use kmidi_engine::measure::Sample;
use kmidi_midi::sink::{BrokerVoices, Revoicer, Sink};
use kmidi_transport::{Admin, Consumer, Leadership};

use super::{follow, Following, LiveLeaders, Voiced, READ_TIMEOUT};
use crate::report::Brokers;

pub struct PerBroker {
    pub live: Arc<LiveLeaders>,
    voices: Option<BrokerVoices>,
    /// `--voices broker` was asked for: figures per broker even with one broker.
    asked: bool,
    _following: Option<Following>,
}

impl PerBroker {
    /// Starts following `topic`'s leadership through `admin` (if the transport has
    /// one). With `voices`, reads it once first, here, to give each broker its voice
    /// before the first note: says the mapping and sets it up on every sink, or says
    /// why the song keeps its own voices.
    pub fn start(
        admin: Option<Box<dyn Admin>>,
        topic: &str,
        bootstrap: &str,
        voices: bool,
        transport: &str,
        sinks: &mut [Box<dyn Sink>],
    ) -> Self {
        let live = Arc::new(LiveLeaders::default());
        let mut first = None;
        let mut assigned = None;
        if voices {
            let reading = match &admin {
                Some(a) => a
                    .partition_leaders(topic, READ_TIMEOUT)
                    .map_err(|e| e.to_string()),
                None => Err(format!("the {transport} transport has no admin client")),
            };
            match reading {
                Ok(l) if l.known && l.partitions.iter().any(|p| p.leader.is_some()) => {
                    let v = BrokerVoices::assign(&brokers_of(&l), None);
                    eprint!("{}", describe(&v, &l));
                    setup(&v, sinks);
                    assigned = Some(v);
                    first = Some(l);
                }
                Ok(l) if l.known => eprintln!(
                    "--voices broker: no partition of {topic} has a leader now; playing the \
                     song's own voices"
                ),
                Ok(_) => eprintln!(
                    "--voices broker: the {transport} transport cannot tell partition \
                     leaders; playing the song's own voices"
                ),
                Err(e) => eprintln!(
                    "--voices broker: cannot read the leaders of {topic} ({e}); playing the \
                     song's own voices"
                ),
            }
        }
        let following = admin.and_then(|a| follow(a, topic, bootstrap, Arc::clone(&live), first));
        PerBroker {
            live,
            voices: assigned,
            asked: voices,
            _following: following,
        }
    }

    /// The consumer the engine listens through: offsets noted, notes voiced.
    pub fn wrap(&self, consumer: Box<dyn Consumer>) -> Box<dyn Consumer> {
        let revoicer = self.voices.clone().map(Revoicer::new);
        Box::new(Voiced::new(consumer, Arc::clone(&self.live), revoicer))
    }

    /// The figures per broker of `samples`: where leadership was read and spread over
    /// more than one broker, or `--voices broker` was asked for.
    pub fn figures(&self, samples: &[Sample]) -> Option<Brokers> {
        let timeline = self.live.timeline();
        let brokers = timeline.brokers();
        if brokers.is_empty() || (brokers.len() < 2 && !self.asked) {
            return None;
        }
        let figures = by_broker(samples, &timeline, Some(&self.live.gaps()));
        Some(Brokers::of(&figures, self.voices.as_ref(), &timeline))
    }
}

/// Every broker listed or leading, ascending.
fn brokers_of(l: &Leadership) -> Vec<i32> {
    let mut b: Vec<i32> = l.brokers.clone();
    b.extend(l.partitions.iter().filter_map(|p| p.leader));
    b.sort_unstable();
    b.dedup();
    b
}

/// The mapping, said at the start: broker -> instrument, place, partitions.
fn describe(voices: &BrokerVoices, l: &Leadership) -> String {
    let mut out = String::from("voices per broker:\n");
    for v in voices.voices() {
        let led = l.led_by(v.broker);
        let partitions = if led.is_empty() {
            "no partition now".to_string()
        } else {
            let p: Vec<String> = led.iter().map(i32::to_string).collect();
            format!("partition(s) {}", p.join(", "))
        };
        out.push_str(&format!(
            "  broker {}: {} (program {}, channel {}), {} (pan {}); {partitions}\n",
            v.broker,
            v.instrument,
            v.program + 1,
            v.channel + 1,
            v.place(),
            v.pan
        ));
    }
    out
}

/// Sends each broker's program and pan to every sink before the first note.
fn setup(voices: &BrokerVoices, sinks: &mut [Box<dyn Sink>]) {
    for sink in sinks.iter_mut() {
        for msg in voices.setup() {
            if let Err(e) = sink.send(&msg, Duration::ZERO) {
                tracing::warn!("{}: cannot set up the broker voices: {e}", sink.describe());
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mapping_names_each_brokers_instrument_place_and_partitions() {
        let mut l = Leadership::unknown(3);
        l.known = true;
        l.brokers = vec![1, 2];
        for (p, b) in [(0, 1), (1, 2), (2, 3)] {
            l.partitions[p].leader = Some(b);
        }
        let brokers = brokers_of(&l);
        assert_eq!(brokers, [1, 2, 3]);
        let text = describe(&BrokerVoices::assign(&brokers, None), &l);
        assert!(text.contains("broker 1: acoustic grand piano (program 1, channel 1), left 75% (pan 16); partition(s) 0"), "{text}");
        assert!(text.contains("broker 3: vibraphone"), "{text}");
    }
}
