//! CPU steal: the share of the machine's CPU time the hypervisor gave to other guests
//! (`/proc/stat`, the `cpu` line's 8th figure). On a shared virtual machine it is what
//! makes wall-clock figures swing between runs with no change in the code, so the
//! benchmarks that compare wall-clock figures print it beside them.

/// The machine's CPU time so far, all CPUs, in ticks: (everything, stolen).
#[derive(Clone, Copy)]
pub struct CpuTimes {
    total: u64,
    steal: u64,
}

impl CpuTimes {
    /// Now, or `None` where `/proc/stat` cannot be read (not Linux).
    pub fn now() -> Option<Self> {
        parse(&std::fs::read_to_string("/proc/stat").ok()?)
    }

    /// The stolen share of the CPU time between `self` and `later`, in %.
    pub fn steal_pct(&self, later: &CpuTimes) -> Option<f64> {
        let total = later.total.checked_sub(self.total)?;
        let steal = later.steal.checked_sub(self.steal)?;
        (total > 0).then(|| steal as f64 * 100.0 / total as f64)
    }
}

fn parse(stat: &str) -> Option<CpuTimes> {
    let line = stat.lines().find(|l| l.starts_with("cpu "))?;
    let v: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .map(str::parse)
        .collect::<Result<_, _>>()
        .ok()?;
    // user nice system idle iowait irq softirq steal [guest guest_nice]: guest time is
    // already inside user and nice, so it is not added again.
    Some(CpuTimes {
        total: v.iter().take(8).sum(),
        steal: *v.get(7)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steal_is_the_share_of_the_cpu_time_between_two_readings() {
        let a = parse("cpu  100 0 50 800 10 0 0 40 0 0\ncpu0 1 2 3\n").expect("parsed");
        let b = parse("cpu  200 0 100 1000 10 0 0 140 5 0\n").expect("parsed");
        // 450 ticks passed, 100 of them stolen.
        let pct = a.steal_pct(&b).expect("a share");
        assert!((pct - 100.0 * 100.0 / 450.0).abs() < 1e-9, "{pct}");
    }

    #[test]
    fn a_stat_without_a_steal_figure_reads_as_unknown() {
        assert!(parse("cpu  1 2 3 4\n").is_none());
        assert!(parse("intr 5\n").is_none());
    }
}
