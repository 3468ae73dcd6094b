//! `kmidi ports`: the MIDI output ports an instrument can play to.

use anyhow::Result;
use kmidi_midi::sink::list_output_ports;

pub fn run() -> Result<i32> {
    let ports = list_output_ports()?;
    if ports.is_empty() {
        println!("no MIDI output ports; start a synthesizer (e.g. `fluidsynth -s -i FONT.sf2`)");
    }
    for p in ports {
        println!("{p}");
    }
    Ok(0)
}
