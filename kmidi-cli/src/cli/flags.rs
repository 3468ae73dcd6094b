//! Argument groups more than one subcommand flattens (client properties, transport
//! choice, plugin directories, quiet, speed, the song), defined once so their spelling,
//! help and validation cannot drift apart, and the value parsers that refuse a bad
//! value at parse time instead of letting an engine fall back silently.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

/// Client properties: `-X` pairs and a `--config` file.
#[derive(Debug, Args, Clone, Default)]
pub struct ClientArgs {
    /// Client property in librdkafka's style, repeatable: -X linger.ms=5
    /// -X security.protocol=SASL_SSL ...
    #[arg(short = 'X', value_name = "KEY=VALUE")]
    pub props: Vec<String>,

    /// File of client properties, one key=value per line, # comments (as kcat -F):
    /// keep credentials here, mode 600. -X (and an explicit -b) win over the file.
    #[arg(long = "config", value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// Where to look for transport plugins.
#[derive(Debug, Args, Clone, Default)]
pub struct PluginDirArgs {
    /// Directory to search for transport plugins (.so), repeatable; KMIDI_PLUGIN_PATH
    /// (colon-separated) is searched too.
    #[arg(long = "plugin-dir", value_name = "DIR", value_parser = plugin_dir)]
    pub plugin_dirs: Vec<PathBuf>,
}

/// Which Kafka client library to use.
#[derive(Debug, Args, Clone)]
pub struct TransportArgs {
    /// Kafka client library: a built-in name, a plugin name or a path to a .so (see
    /// `kmidi transports`).
    #[arg(long, default_value = "rdkafka")]
    pub transport: String,

    #[command(flatten)]
    pub plugins: PluginDirArgs,
}

/// Prometheus metrics while running.
#[derive(Debug, Args, Clone, Default)]
pub struct MetricsArgs {
    /// Serve live metrics in Prometheus's text format on http://ADDR:PORT/metrics
    /// (e.g. 127.0.0.1:9464; port 0 picks a free one).
    #[arg(long = "metrics", value_name = "ADDR:PORT")]
    pub metrics: Option<String>,
}

/// No progress bar or live status line.
#[derive(Debug, Args, Clone, Copy, Default)]
pub struct QuietArgs {
    /// No progress bar or live status line (for scripts and logs).
    #[arg(short, long)]
    pub quiet: bool,
}

/// One song, for the commands that play a single one (demo, compare).
#[derive(Debug, Args, Clone)]
pub struct SongArgs {
    /// The song: a bundled song name (`ode_to_joy.mid`, `bach_prelude_c.mid`,
    /// `tempo_change.mid`) or a path to a MIDI file.
    #[arg(
        short = 'm',
        long = "song",
        visible_aliases = ["midi-file", "midi-files"],
        value_name = "NAME|PATH",
        default_value = "bach_prelude_c.mid"
    )]
    pub song: String,
}

#[derive(Debug, Args, Clone, Copy)]
#[group(multiple = false)]
pub struct SpeedArgs {
    /// Time stretch, a positive number: 1.1 plays 10 % slower, 0.9 10 % faster.
    #[arg(
        short = 's',
        long = "speed-ratio",
        value_name = "RATIO",
        default_value = "1.0",
        value_parser = speed_ratio
    )]
    pub ratio: f64,

    /// Glenn Gould's 1955 Goldberg tempo (ratio 0.65).
    #[arg(long = "gg-1955")]
    pub gg_1955: bool,

    /// Glenn Gould's 1981 Goldberg tempo (ratio 1.2).
    #[arg(long = "gg-1981")]
    pub gg_1981: bool,
}

impl SpeedArgs {
    pub fn ratio(&self) -> f64 {
        if self.gg_1955 {
            0.65
        } else if self.gg_1981 {
            1.2
        } else {
            self.ratio
        }
    }
}

/// Parses `--plugin-dir`: it must be a directory, so a typo is caught at once.
pub(crate) fn plugin_dir(s: &str) -> Result<PathBuf, String> {
    let dir = PathBuf::from(s);
    if !dir.is_dir() {
        return Err(format!("{s} is not a directory"));
    }
    Ok(dir)
}

/// Parses `--speed-ratio`: a positive, finite number.
pub(crate) fn speed_ratio(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(r) if r.is_finite() && r > 0.0 => Ok(r),
        _ => Err(format!(
            "{s:?} is not a positive number (1.0 plays as written, 2 twice as slow, 0.5 \
             twice as fast)"
        )),
    }
}

/// Parses a number of milliseconds (`--playout-delay 40`): positive and finite.
pub(crate) fn millis(s: &str) -> Result<Duration, String> {
    s.trim()
        .parse::<f64>()
        .ok()
        .and_then(|v| Duration::try_from_secs_f64(v / 1000.0).ok())
        .filter(|d| !d.is_zero())
        .ok_or_else(|| format!("{s:?} is not a positive number of milliseconds"))
}

/// Parses a number of seconds (`--connect-timeout 2.5`): positive and finite.
pub(crate) fn seconds(s: &str) -> Result<Duration, String> {
    s.trim()
        .parse::<f64>()
        .ok()
        .and_then(|v| Duration::try_from_secs_f64(v).ok())
        .filter(|d| !d.is_zero())
        .ok_or_else(|| format!("{s:?} is not a positive number of seconds"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_speed_ratio_must_be_positive_and_finite() {
        assert_eq!(speed_ratio("0.9"), Ok(0.9));
        for bad in ["0", "-1", "nan", "inf", "fast", ""] {
            assert!(speed_ratio(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn seconds_must_be_positive() {
        assert_eq!(seconds("2.5"), Ok(Duration::from_millis(2500)));
        for bad in ["0", "-3", "nan", "soon"] {
            assert!(seconds(bad).is_err(), "{bad:?} accepted");
        }
    }
}
