//! `--realtime`: the calling thread under SCHED_FIFO where the OS permits it (root or
//! CAP_SYS_NICE, and a real-time budget in a container's cgroup). On a busy machine the
//! OS otherwise wakes a sleeping thread late now and then (BENCHMARKS.md, section 1).

use thread_priority::{
    set_thread_priority_and_policy, thread_native_id, RealtimeThreadSchedulePolicy, ThreadPriority,
    ThreadPriorityValue, ThreadSchedulePolicy,
};

/// Why the OS refused.
#[derive(Debug, thiserror::Error)]
#[error(
    "SCHED_FIFO was refused ({0}). It needs root or CAP_SYS_NICE \
     (`sudo setcap cap_sys_nice+ep $(which kmidi)`) and a real-time budget"
)]
pub struct RealtimeRefused(String);

/// Switches the calling thread to SCHED_FIFO at a low real-time priority: above every
/// normal thread, below the kernel's own real-time threads.
pub fn fifo_this_thread() -> Result<(), RealtimeRefused> {
    let priority = ThreadPriorityValue::try_from(10u8)
        .map(ThreadPriority::Crossplatform)
        .unwrap_or(ThreadPriority::Min);
    let fifo = ThreadSchedulePolicy::Realtime(RealtimeThreadSchedulePolicy::Fifo);
    set_thread_priority_and_policy(thread_native_id(), priority, fifo)
        .map_err(|e| RealtimeRefused(format!("{e:?}")))
}
