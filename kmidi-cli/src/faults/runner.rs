//! The fault runner's thread: starts each step on a thread of its own when the song
//! reaches its time (a broker held down for 10 s does not hold up the next step), and,
//! once told to stop or every step is done, joins them and puts back whatever is still
//! paused or down.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use kmidi_engine::measure::unix_us;

use super::record::StepRecord;
use super::step::{perform, Ctx};
use crate::load::SideWatch;

const TICK: Duration = Duration::from_millis(20);

/// What the runner did.
#[derive(Clone, Debug, Default)]
pub struct RunLog {
    pub song_start_us: Option<u64>,
    pub steps: Vec<StepRecord>,
    /// What was put back at the end (a broker left down, a pause cut short).
    pub released: Vec<String>,
}

pub struct Runner {
    pub ctx: Arc<Ctx>,
    pub sides: Vec<Arc<SideWatch>>,
}

impl Runner {
    fn song_start(&self) -> Option<u64> {
        self.sides.iter().filter_map(|s| s.song_start_us()).min()
    }

    pub fn run(self, stop: Arc<AtomicBool>) -> RunLog {
        let n = self.ctx.steps.len();
        let mut workers: Vec<Option<std::thread::JoinHandle<StepRecord>>> =
            (0..n).map(|_| None).collect();
        let mut start = None;
        while !stop.load(Ordering::Relaxed) {
            let Some(begun) = self.song_start() else {
                std::thread::sleep(TICK);
                continue;
            };
            start = Some(begun);
            let song_s = (unix_us() as f64 - begun as f64) / 1e6;
            for (i, worker) in workers.iter_mut().enumerate() {
                let due = self.ctx.steps[i].at.as_secs_f64() * self.ctx.speed;
                if worker.is_some() || song_s < due {
                    continue;
                }
                let (ctx, stop) = (Arc::clone(&self.ctx), Arc::clone(&stop));
                *worker = std::thread::Builder::new()
                    .name(format!("kmidi-fault-{i}"))
                    .spawn(move || perform(&ctx, i, begun, &stop))
                    .ok();
            }
            if workers.iter().all(Option::is_some) {
                break;
            }
            std::thread::sleep(TICK);
        }
        let steps = workers
            .into_iter()
            .enumerate()
            .map(|(i, w)| {
                let mut never = StepRecord::new(i, &self.ctx.steps[i]);
                match w.map(|w| w.join()) {
                    Some(Ok(r)) => r,
                    Some(Err(_)) => {
                        never.fail("its thread panicked");
                        never
                    }
                    None => {
                        never.reason = Some("the run ended before its time".into());
                        never
                    }
                }
            })
            .collect();
        let released = self
            .ctx
            .driver
            .as_ref()
            .map(|d| d.release_all())
            .unwrap_or_default();
        for line in &released {
            eprintln!("faults: {line}");
        }
        RunLog {
            song_start_us: start.or_else(|| self.song_start()),
            steps,
            released,
        }
    }
}
