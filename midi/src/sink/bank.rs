//! Sample-exact note onsets on top of rustysynth, for the `.wav` rendering.
//!
//! rustysynth applies a MIDI message only at the start of the next block it computes,
//! and refuses blocks under 8 samples (`SynthesizerSettings` checks 8..=1024), so one
//! synthesizer lands a note up to 7 samples (0.16 ms) late. A bank of [`BLOCK`]
//! synthesizers whose blocks start one sample apart has, for every sample, one member
//! whose block starts exactly there: each note-on goes to that member, every other
//! message (controllers, programs, note-offs, pitch bends) to all of them, so channel
//! state stays the same everywhere, and their outputs are summed. Synthesis is linear
//! in the voices (the effects too), so the sum sounds like one synthesizer playing
//! every note on its sample; the cost is the effects' per-sample work once per member.

use rustysynth::{SoundFont, Synthesizer, SynthesizerError, SynthesizerSettings};
use std::sync::Arc;

/// rustysynth's smallest block, samples.
pub const BLOCK: usize = 8;

/// One synthesizer (messages on block boundaries) or a phased bank (note-ons exact).
pub(crate) struct Bank {
    members: Vec<Synthesizer>,
    /// Output frames synthesized so far.
    frame: u64,
    left: Vec<f32>,
    right: Vec<f32>,
}

impl Bank {
    /// `exact`: a phased bank of [`BLOCK`] members; otherwise one synthesizer in
    /// blocks of `block` samples.
    pub(crate) fn new(
        font: &Arc<SoundFont>,
        sample_rate: i32,
        exact: bool,
        block: usize,
    ) -> Result<Bank, SynthesizerError> {
        let mut settings = SynthesizerSettings::new(sample_rate);
        settings.block_size = if exact { BLOCK } else { block };
        let count = if exact { BLOCK } else { 1 };
        let mut members = Vec::with_capacity(count);
        for phase in 0..count {
            let mut synth = Synthesizer::new(font, &settings)?;
            // Member `phase` runs ahead by (BLOCK − phase) % BLOCK samples of silence,
            // so its blocks start at output frames ≡ phase (mod BLOCK).
            let lead = (BLOCK - phase) % BLOCK;
            if lead > 0 {
                let (mut l, mut r) = (vec![0f32; lead], vec![0f32; lead]);
                synth.render(&mut l, &mut r);
            }
            members.push(synth);
        }
        Ok(Bank {
            members,
            frame: 0,
            left: Vec::new(),
            right: Vec::new(),
        })
    }

    /// Synthesizes the next `left.len()` frames into `left`/`right` (overwriting them).
    pub(crate) fn render(&mut self, left: &mut [f32], right: &mut [f32]) {
        let n = left.len().min(right.len());
        if self.members.len() == 1 {
            self.members[0].render(&mut left[..n], &mut right[..n]);
        } else {
            left[..n].fill(0.0);
            right[..n].fill(0.0);
            self.left.resize(n, 0.0);
            self.right.resize(n, 0.0);
            for synth in &mut self.members {
                synth.render(&mut self.left[..n], &mut self.right[..n]);
                for (out, s) in left.iter_mut().zip(&self.left) {
                    *out += s;
                }
                for (out, s) in right.iter_mut().zip(&self.right) {
                    *out += s;
                }
            }
        }
        self.frame += n as u64;
    }

    /// Hands a channel message to the synthesizer(s), effective at the current frame
    /// (a note-on exactly; anything else at the next block boundary). System messages
    /// (SysEx, clock, ...) have no meaning for rustysynth and are dropped.
    pub(crate) fn apply(&mut self, bytes: &[u8]) {
        let Some(&status) = bytes.first() else { return };
        if !(0x80..=0xEF).contains(&status) {
            return;
        }
        let data = |i: usize| i32::from(bytes.get(i).copied().unwrap_or(0));
        let (channel, command) = (i32::from(status & 0x0F), i32::from(status & 0xF0));
        let sounding = command == 0x90 && data(2) > 0;
        let count = self.members.len();
        if sounding && count > 1 {
            // Cannot truncate: the remainder is below the member count.
            let phase = (self.frame % count as u64) as usize;
            self.members[phase].process_midi_message(channel, command, data(1), data(2));
        } else {
            for synth in &mut self.members {
                synth.process_midi_message(channel, command, data(1), data(2));
            }
        }
    }

    /// Releases every note on every member.
    pub(crate) fn note_off_all(&mut self) {
        for synth in &mut self.members {
            synth.note_off_all(false);
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn each_phase_has_its_block_boundary_on_its_own_frames() {
        for phase in 0..super::BLOCK {
            let lead = (super::BLOCK - phase) % super::BLOCK;
            // At output frame f ≡ phase the member has synthesized f + lead samples:
            // a whole number of blocks, so its next block starts exactly at f.
            for f in (phase..64).step_by(super::BLOCK) {
                assert_eq!((f + lead) % super::BLOCK, 0, "phase {phase}, frame {f}");
            }
        }
    }
}
