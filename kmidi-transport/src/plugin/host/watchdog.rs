//! Bounded plugin calls: run a native call on a helper thread and stop waiting at a
//! deadline.
//!
//! The host cannot preempt a blocking native call: there is no safe way to cancel a
//! thread inside foreign code. What it can do is stop *waiting*: the call runs on a
//! helper thread, the caller waits until the deadline, and if the call has not
//! returned by then the caller gets an error while the helper thread is abandoned
//! (detached). Whatever the call eventually returns is handed to a clean-up closure
//! (e.g. freeing a producer nobody will use), so nothing is leaked twice or used after
//! it was given up on.

use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

enum State<R> {
    Running,
    Done(R),
    Abandoned,
}

/// Runs `call` on a helper thread; returns its result if it finishes within
/// `deadline`, else `None` (the thread is left to finish and `cleanup` gets its
/// result). `name` names the thread, for debuggers and panics.
pub fn bounded<R, F, C>(name: &str, deadline: Duration, call: F, cleanup: C) -> Option<R>
where
    R: Send + 'static,
    F: FnOnce() -> R + Send + 'static,
    C: FnOnce(R) + Send + 'static,
{
    let shared = Arc::new((Mutex::new(State::Running), Condvar::new()));
    let theirs = Arc::clone(&shared);
    let spawned = std::thread::Builder::new()
        .name(format!("kmidi-plugin-{name}"))
        .spawn(move || {
            let result = call();
            let (lock, cv) = &*theirs;
            let mut state = lock.lock().unwrap_or_else(|p| p.into_inner());
            if matches!(*state, State::Abandoned) {
                drop(state);
                cleanup(result);
            } else {
                *state = State::Done(result);
                cv.notify_all();
            }
        });
    if spawned.is_err() {
        // No thread to be had (resource exhaustion): report it as a timeout rather
        // than running the call unbounded on the caller's thread.
        return None;
    }
    let (lock, cv) = &*shared;
    let end = Instant::now() + deadline;
    let mut state = lock.lock().unwrap_or_else(|p| p.into_inner());
    loop {
        if let State::Done(_) = *state {
            return match std::mem::replace(&mut *state, State::Abandoned) {
                State::Done(r) => Some(r),
                _ => None,
            };
        }
        let now = Instant::now();
        if now >= end {
            *state = State::Abandoned;
            return None;
        }
        state = cv
            .wait_timeout(state, end - now)
            .unwrap_or_else(|p| p.into_inner())
            .0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};

    #[test]
    fn a_quick_call_returns_its_result() {
        assert_eq!(bounded("t", Duration::from_secs(5), || 7, |_| ()), Some(7));
    }

    #[test]
    fn a_slow_call_is_abandoned_and_its_result_cleaned_up() {
        let cleaned = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&cleaned);
        let started = Instant::now();
        let r = bounded(
            "t",
            Duration::from_millis(50),
            || std::thread::sleep(Duration::from_millis(300)),
            move |()| flag.store(true, Ordering::SeqCst),
        );
        assert!(r.is_none());
        assert!(started.elapsed() < Duration::from_millis(250));
        std::thread::sleep(Duration::from_millis(500));
        assert!(cleaned.load(Ordering::SeqCst));
    }
}
