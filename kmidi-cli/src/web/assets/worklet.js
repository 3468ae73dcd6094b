// kmidi's synthesizer, inside an AudioWorklet: the only place in a browser where a
// sound can start at an exact sample. The page posts MIDI messages, each with the
// AudioContext frame it must sound at (from the instrument's arrival clock); this
// processor starts each at that frame, inside its 128-frame block, so the time between
// notes is the time between arrivals whatever the network did to their delivery.
//
// With `tap` (tests), it also records what it output and posts it in 4096-frame blocks.
'use strict';

const TAP_BLOCK = 4096;
const MAX_VOICES = 64;
// Tapping stops after this long: a page left open with ?tap=1 must not grow forever.
const TAP_SECONDS = 300;

// Waveform and envelope per General MIDI program family (program >> 3).
// attack/release in seconds; decay: level lost per second while held (0 = organ-like).
const FAMILIES = [
  { wave: 'tri', attack: 0.002, decay: 1.2, release: 0.15 }, // piano
  { wave: 'sine', attack: 0.001, decay: 3.0, release: 0.2 }, // chromatic percussion
  { wave: 'square', attack: 0.004, decay: 0, release: 0.05 }, // organ
  { wave: 'tri', attack: 0.001, decay: 2.0, release: 0.1 }, // guitar
  { wave: 'tri', attack: 0.003, decay: 0.8, release: 0.08 }, // bass
  { wave: 'saw', attack: 0.03, decay: 0, release: 0.25 }, // strings
  { wave: 'saw', attack: 0.04, decay: 0, release: 0.3 }, // ensemble
  { wave: 'saw', attack: 0.01, decay: 0.2, release: 0.1 }, // brass
  { wave: 'square', attack: 0.01, decay: 0.1, release: 0.08 }, // reed
  { wave: 'sine', attack: 0.02, decay: 0, release: 0.12 }, // pipe
  { wave: 'saw', attack: 0.003, decay: 0.3, release: 0.1 }, // synth lead
  { wave: 'tri', attack: 0.08, decay: 0, release: 0.4 }, // synth pad
];
const DEFAULT_FAMILY = FAMILIES[0];

function freshChannel() {
  return { program: 0, volume: 100, expression: 127, pan: 64, sustain: false, bend: 0 };
}

// Equal-power pan: 0 = left, 64 = centre, 127 = right.
function panGains(pan) {
  const p = Math.min(1, Math.max(0, (pan - 1) / 126)) * Math.PI / 2;
  return [Math.cos(p), Math.sin(p)];
}

class KmidiSynth extends AudioWorkletProcessor {
  constructor(options) {
    super();
    const opts = (options && options.processorOptions) || {};
    this.tap = !!opts.tap;
    this.queue = []; // {frame, bytes, epoch}, in frame order
    this.voices = [];
    this.channels = Array.from({ length: 16 }, freshChannel);
    this.gain = 0.5; // master, set by the page's slider and mute
    this.gainNow = 0.5; // smoothed towards `gain`, so the slider does not click
    this.tapLeft = null;
    this.tapRight = null;
    this.tapFill = 0;
    this.tapStart = 0;
    this.tapEnd = -1;
    this.port.onmessage = (e) => this.onMessage(e.data);
  }

  onMessage(m) {
    if (m.type === 'events') {
      for (const ev of m.events) this.insert(ev);
    } else if (m.type === 'gain') {
      this.gain = m.value;
    } else if (m.type === 'tap-flush') {
      this.flushTap(true);
      this.port.postMessage({ type: 'tap-flushed', id: m.id });
    }
  }

  insert(ev) {
    const q = this.queue;
    let i = q.length;
    // Events come almost always in order: search from the end.
    while (i > 0 && q[i - 1].frame > ev.frame) i--;
    q.splice(i, 0, ev);
  }

  process(_inputs, outputs) {
    const out = outputs[0];
    const left = out[0];
    const right = out[1] || out[0];
    const n = left.length;
    const start = currentFrame;
    left.fill(0);
    if (right !== left) right.fill(0);
    let pos = 0;
    let taken = 0;
    const q = this.queue;
    while (taken < q.length && q[taken].frame < start + n) {
      const ev = q[taken++];
      let at = ev.frame - start;
      if (at < 0) {
        // Too late for its frame: played now, and the page moves its delay.
        this.port.postMessage({ type: 'late', frames: -at, epoch: ev.epoch });
        at = 0;
      }
      if (at > pos) {
        this.render(left, right, pos, at);
        pos = at;
      }
      this.apply(ev.bytes, start + at);
    }
    if (taken) q.splice(0, taken);
    this.render(left, right, pos, n);
    if (this.tap) this.record(left, right, start);
    return true;
  }

  // The MIDI message `b` (an array of bytes), at `frame`.
  apply(b, frame) {
    const status = b[0] & 0xf0;
    const ch = b[0] & 0x0f;
    const c = this.channels[ch];
    if (status === 0x90 && b[2] > 0) {
      this.noteOn(ch, b[1], b[2], frame);
    } else if (status === 0x80 || status === 0x90) {
      for (const v of this.voices) {
        if (v.ch === ch && v.key === b[1] && !v.released && !v.perc) {
          if (c.sustain) v.held = true;
          else v.released = true;
        }
      }
    } else if (status === 0xb0) {
      this.control(ch, b[1], b[2]);
    } else if (status === 0xc0) {
      c.program = b[1];
    } else if (status === 0xe0) {
      c.bend = (((b[2] << 7) | b[1]) - 8192) / 8192;
    }
  }

  control(ch, cc, value) {
    const c = this.channels[ch];
    if (cc === 7) c.volume = value;
    else if (cc === 10) c.pan = value;
    else if (cc === 11) c.expression = value;
    else if (cc === 64) {
      c.sustain = value >= 64;
      if (!c.sustain) this.releaseWhere((v) => v.ch === ch && v.held);
    } else if (cc === 120) {
      this.voices = this.voices.filter((v) => v.ch !== ch); // all sound off: at once
    } else if (cc === 121) {
      Object.assign(c, { expression: 127, sustain: false, bend: 0 });
      this.releaseWhere((v) => v.ch === ch && v.held);
    } else if (cc === 123) {
      this.releaseWhere((v) => v.ch === ch);
    }
  }

  releaseWhere(pred) {
    for (const v of this.voices) {
      if (pred(v)) {
        v.released = true;
        v.held = false;
      }
    }
  }

  noteOn(ch, key, velocity, frame) {
    if (this.voices.length >= MAX_VOICES) this.voices.shift(); // the oldest goes
    const vel = (velocity / 127) ** 1.5;
    if (ch === 9) {
      this.voices.push(drumVoice(ch, key, vel));
      return;
    }
    const fam = FAMILIES[this.channels[ch].program >> 3] || DEFAULT_FAMILY;
    this.voices.push({
      ch, key, vel, perc: false, wave: fam.wave, phase: 0, level: 0,
      attack: 1 / Math.max(1, fam.attack * sampleRate),
      decay: fam.decay / sampleRate,
      release: 1 / Math.max(1, fam.release * sampleRate),
      rising: true, released: false, held: false, born: frame,
    });
  }

  // Adds the voices' sound for frames [from, to) of this block.
  render(left, right, from, to) {
    if (to <= from) return;
    const g0 = this.gainNow;
    const g1 = this.gain;
    this.gainNow = g1;
    const step = (g1 - g0) / (to - from);
    const keep = [];
    for (const v of this.voices) {
      const c = this.channels[v.ch];
      const amp = v.vel * (c.volume / 127) * (c.expression / 127) * 0.3;
      const [pl, pr] = panGains(c.pan);
      const alive = v.perc
        ? renderDrum(v, left, right, from, to, amp * pl, amp * pr, g0, step)
        : renderTone(v, c, left, right, from, to, amp * pl, amp * pr, g0, step);
      if (alive) keep.push(v);
    }
    this.voices = keep;
  }

  record(left, right, start) {
    if (this.tapEnd < 0) this.tapEnd = start + TAP_SECONDS * sampleRate;
    if (start >= this.tapEnd) return;
    if (!this.tapLeft) {
      this.tapLeft = new Float32Array(TAP_BLOCK);
      this.tapRight = new Float32Array(TAP_BLOCK);
      this.tapStart = start;
      this.tapFill = 0;
    }
    for (let i = 0; i < left.length; i++) {
      this.tapLeft[this.tapFill] = left[i];
      this.tapRight[this.tapFill] = right[i];
      this.tapFill++;
      if (this.tapFill === TAP_BLOCK) {
        this.flushTap(false);
        this.tapLeft = new Float32Array(TAP_BLOCK);
        this.tapRight = new Float32Array(TAP_BLOCK);
        this.tapStart = start + i + 1;
        this.tapFill = 0;
      }
    }
  }

  flushTap(partial) {
    if (!this.tapLeft || this.tapFill === 0) return;
    const n = this.tapFill;
    const l = partial ? this.tapLeft.slice(0, n) : this.tapLeft;
    const r = partial ? this.tapRight.slice(0, n) : this.tapRight;
    this.port.postMessage({ type: 'tap', frame: this.tapStart, left: l, right: r }, [l.buffer, r.buffer]);
    this.tapLeft = null;
    this.tapFill = 0;
  }
}

// A drum: a burst of noise that is the same for every strike of a key (a seeded
// generator, as a sampled kit would be), so two strikes differ only by where they start.
function drumVoice(ch, key, vel) {
  const kick = key === 35 || key === 36;
  const hat = key === 42 || key === 44 || key === 46;
  const tau = kick ? 0.12 : hat ? (key === 46 ? 0.09 : 0.012) : 0.05;
  return {
    ch, key, vel, perc: true, kick, hat, n: 0, seed: 0x9e3779b9 ^ (key * 2654435761),
    prev: 0, phase: 0, level: 1, fall: Math.exp(-1 / (tau * sampleRate)),
    released: false, held: false,
  };
}

function renderDrum(v, left, right, from, to, al, ar, g0, step) {
  let g = g0;
  for (let i = from; i < to; i++) {
    let x;
    if (v.kick) {
      // A falling sine: 150 Hz down to 50 Hz.
      const f = 50 + 100 * Math.exp(-v.n / (0.03 * sampleRate));
      v.phase += f / sampleRate;
      x = Math.sin(2 * Math.PI * v.phase);
    } else {
      v.seed = (Math.imul(v.seed, 1664525) + 1013904223) >>> 0;
      const noise = v.seed / 2147483648 - 1;
      // Hats are brighter: a first difference takes the low end out.
      x = v.hat ? (noise - v.prev) * 0.7 : noise;
      v.prev = noise;
    }
    const s = x * v.level * v.vel;
    left[i] += s * al * g;
    right[i] += s * ar * g;
    v.level *= v.fall;
    v.n++;
    g += step;
  }
  return v.level > 1e-4;
}

function renderTone(v, c, left, right, from, to, al, ar, g0, step) {
  const freq = 440 * 2 ** ((v.key - 69 + 2 * c.bend) / 12);
  const inc = freq / sampleRate;
  let g = g0;
  for (let i = from; i < to; i++) {
    if (v.released) {
      v.level -= v.release;
      if (v.level <= 0) return false;
    } else if (v.rising) {
      v.level += v.attack;
      if (v.level >= 1) {
        v.level = 1;
        v.rising = false;
      }
    } else if (v.decay > 0) {
      v.level = Math.max(0.15, v.level - v.level * v.decay);
    }
    v.phase += inc;
    if (v.phase >= 1) v.phase -= 1;
    const p = v.phase;
    let x;
    if (v.wave === 'sine') x = Math.sin(2 * Math.PI * p);
    else if (v.wave === 'tri') x = 4 * Math.abs(p - 0.5) - 1;
    else if (v.wave === 'square') x = p < 0.5 ? 0.6 : -0.6;
    else x = (2 * p - 1) * 0.7;
    const s = x * v.level * v.vel;
    left[i] += s * al * g;
    right[i] += s * ar * g;
    g += step;
  }
  return true;
}

registerProcessor('kmidi-synth', KmidiSynth);
