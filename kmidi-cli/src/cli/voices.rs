//! `--voices`: whose voices the notes sound with, the song's own or one per broker.

use clap::Args;

/// `--voices`: declared once, flattened into the commands that listen.
#[derive(Debug, Args, Clone, Copy, Default)]
pub struct VoicesArgs {
    /// `song`: the song's own instruments. `broker`: the notes of the partitions each
    /// broker leads sound with that broker's instrument (a General MIDI program) and
    /// place in the stereo field, so a dragging broker is one instrument dragging; the
    /// mapping follows leadership live and is printed at the start. Best on a topic
    /// with a partition led by every broker (`kmidi topic create --per-broker`) played
    /// with `kmidi player --key-by voice`, which deals notes over every partition.
    #[arg(long, value_name = "WHOSE", value_enum, default_value = "song")]
    pub voices: Voices,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Voices {
    /// The song's own channels and programs.
    #[default]
    Song,
    /// A voice per broker.
    Broker,
}

impl VoicesArgs {
    pub fn per_broker(&self) -> bool {
        self.voices == Voices::Broker
    }
}
