// kmidi's listening page: plays what the instrument hears (the synthesizer runs in
// worklet.js) and draws what it measures, from the server's event stream (/events).
// Read-only: nothing here talks back to kmidi except to listen.
'use strict';
(function () {
  const params = new URLSearchParams(location.search);
  const TOKEN = params.get('token');
  const TAP = params.get('tap') === '1';
  // How long after its arrival the first note sounds: the buffer that absorbs the
  // network's jitter. It grows only on an underrun, so jitter changes the constant
  // delay, never the time between notes.
  const DELAY = 0.12;
  const GROWTH = 0.05; // added to the deficit on an underrun
  const NO_WORKLET = "this browser has no AudioWorklet, Web Audio's sample-exact path: " +
    'sound is off, the live view still works';
  const MAX_POINTS = 20000;
  const $ = (id) => document.getElementById(id);
  const withToken = (path) => (TOKEN ? path + '?token=' + encodeURIComponent(TOKEN) : path);

  // ---- what the browser can do --------------------------------------------------
  // null when `win` can play sample-exact, else what to tell the user. Takes the
  // window as an argument so a test can hand it a fake one.
  function audioWorkletMissing(win) {
    const Ctx = win && (win.AudioContext || win.webkitAudioContext);
    const ok = typeof Ctx === 'function' && typeof win.AudioWorkletNode === 'function' &&
      !!Ctx.prototype && 'audioWorklet' in Ctx.prototype;
    if (ok) return null;
    // Browsers offer AudioWorklet only to secure pages (https://, or localhost).
    return win && win.isSecureContext === false
      ? NO_WORKLET + ' (browsers offer it only on https:// or localhost: try an SSH port-forward)'
      : NO_WORKLET;
  }

  function notice(text) {
    const el = $('notice');
    el.textContent = text || '';
    el.hidden = !text;
  }

  // ---- sound ----------------------------------------------------------------------
  const audio = {
    ctx: null, node: null, base: null, epoch: 0, underruns: 0, delay: DELAY,
    noteFrames: [], tap: [], flushed: new Map(), flushId: 0,
  };

  async function startAudio() {
    const missing = audioWorkletMissing(window);
    if (missing) {
      notice(missing);
      return;
    }
    try {
      const ctx = new AudioContext({ latencyHint: 0.05 });
      await ctx.audioWorklet.addModule(withToken('worklet.js'));
      const node = new AudioWorkletNode(ctx, 'kmidi-synth', {
        numberOfInputs: 0, numberOfOutputs: 1, outputChannelCount: [2],
        processorOptions: { tap: TAP },
      });
      node.port.onmessage = (e) => fromWorklet(e.data);
      node.connect(ctx.destination);
      audio.ctx = ctx;
      audio.node = node;
      ctx.onstatechange = showStart;
      sendGain();
      showStart();
    } catch (e) {
      notice('sound is off: ' + e);
    }
  }

  function showStart() {
    const running = audio.ctx && audio.ctx.state === 'running';
    $('start').hidden = !audio.ctx || running;
    // A suspended context's clock stands still: start the timeline afresh on resume.
    if (!running) audio.base = null;
  }

  function sendGain() {
    const muted = $('mute').getAttribute('aria-pressed') === 'true';
    const v = Number($('volume').value) / 100;
    if (audio.node) audio.node.port.postMessage({ type: 'gain', value: muted ? 0 : v * v });
  }

  function parseHex(hex) {
    const bytes = String(hex).trim().split(/\s+/).map((h) => parseInt(h, 16));
    return bytes.length && bytes.every((b) => b >= 0 && b < 256) ? bytes : null;
  }

  // Each note's frame = round((base + at_us/1e6) * sampleRate): the instrument's arrival
  // clock moved onto the AudioContext's, by one constant.
  function schedule(notes) {
    const ctx = audio.ctx;
    if (!ctx || !audio.node || ctx.state !== 'running') {
      audio.base = null;
      return;
    }
    const sr = ctx.sampleRate;
    // The earliest a message posted now can still be on time: the block being rendered
    // plus a little for the message to reach the audio thread.
    const earliest = ctx.currentTime + 128 / sr + 0.01;
    const events = [];
    for (const [atUs, hex] of notes) {
      const bytes = parseHex(hex);
      if (!bytes) continue;
      const t = atUs / 1e6;
      if (audio.base === null) audio.base = ctx.currentTime + audio.delay - t;
      if (audio.base + t < earliest) grow(earliest - (audio.base + t));
      const frame = Math.round((audio.base + t) * sr);
      events.push({ frame, bytes, epoch: audio.epoch });
      if (TAP && (bytes[0] & 0xf0) === 0x90 && bytes[2] > 0) audio.noteFrames.push(frame);
    }
    if (events.length) audio.node.port.postMessage({ type: 'events', events });
  }

  function grow(deficit) {
    audio.base += deficit + GROWTH;
    audio.delay += deficit + GROWTH;
    audio.epoch++;
    audio.underruns++;
    showDelay();
  }

  function showDelay() {
    $('delay').textContent = 'delay: ' + Math.round(audio.delay * 1000) + ' ms';
    $('underruns').textContent = 'underruns: ' + audio.underruns;
  }

  function fromWorklet(m) {
    // A late note of an older timeline was already paid for by the growth that ended it.
    if (m.type === 'late' && m.epoch === audio.epoch) grow(m.frames / audio.ctx.sampleRate);
    else if (m.type === 'tap') audio.tap.push(m);
    else if (m.type === 'tap-flushed' && audio.flushed.has(m.id)) audio.flushed.get(m.id)();
  }

  function base64(f32) {
    const bytes = new Uint8Array(f32.buffer, f32.byteOffset, f32.byteLength);
    let s = '';
    for (let i = 0; i < bytes.length; i += 0x8000) {
      s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
    }
    return btoa(s);
  }

  // The tap, from a quarter second before the first note to half a second after the
  // last (the whole recording when no note was scheduled).
  async function take() {
    if (!audio.node) throw new Error('no sound: ' + ($('notice').textContent || 'not started'));
    const id = ++audio.flushId;
    await new Promise((resolve) => {
      audio.flushed.set(id, resolve);
      audio.node.port.postMessage({ type: 'tap-flush', id });
    });
    audio.flushed.delete(id);
    const chunks = audio.tap;
    if (!chunks.length) throw new Error('the tap recorded nothing');
    const sr = audio.ctx.sampleRate;
    const first = chunks[0].frame;
    const last = chunks[chunks.length - 1];
    let from = first;
    let to = last.frame + last.left.length;
    if (audio.noteFrames.length) {
      from = Math.max(from, Math.min(...audio.noteFrames) - Math.round(0.25 * sr));
      to = Math.min(to, Math.max(...audio.noteFrames) + Math.round(0.5 * sr));
    }
    const n = Math.max(0, to - from);
    const left = new Float32Array(n);
    const right = new Float32Array(n);
    for (const c of chunks) {
      // Placed by frame: a gap between blocks (there should be none) stays silent.
      const lo = Math.max(from, c.frame);
      const hi = Math.min(to, c.frame + c.left.length);
      if (hi <= lo) continue;
      left.set(c.left.subarray(lo - c.frame, hi - c.frame), lo - from);
      right.set(c.right.subarray(lo - c.frame, hi - c.frame), lo - from);
    }
    return { sampleRate: sr, firstFrame: from, left: base64(left), right: base64(right) };
  }

  if (TAP) {
    window.kmidiTap = { take, noteFrames: () => audio.noteFrames.slice() };
  }

  // ---- the stream -----------------------------------------------------------------
  const view = {
    hello: null, hellos: 0, state: 'connecting', notesSeen: false, ended: false,
    lanes: new Map(), points: [], series: [], markers: [], figures: [], final: null,
    dropped: 0, dirty: true,
  };

  function setStatus(state, text) {
    view.state = state;
    const el = $('status');
    el.dataset.state = state;
    el.textContent = text;
  }

  function connectedStatus() {
    if (view.ended) setStatus('ended', 'the run ended');
    else if (view.notesSeen) setStatus('playing', 'playing');
    else setStatus('waiting', 'connected: waiting for the first note');
  }

  const handlers = {
    hello(d) {
      view.hello = d;
      view.hellos++;
      $('command').textContent = d.command + ' ' + (d.version || '') +
        (d.listener !== undefined ? ' · listener ' + d.listener : '');
      connectedStatus();
    },
    notes(d) {
      schedule(d.notes || []);
      if (!view.notesSeen && (d.notes || []).length) {
        view.notesSeen = true;
        connectedStatus();
      }
    },
    measure(d) {
      for (const n of d.notes || []) {
        const key = d.side + '|' + n.topic + '|' + n.partition;
        if (!view.lanes.has(key)) {
          view.lanes.set(key, { side: d.side, label: n.topic + ' p' + n.partition });
        }
        push(view.points, { key, at: n.at_ms, late: n.late, odd: n.reordered || n.duplicate });
        push(view.series, { side: d.side, at: n.at_ms, lat: n.latency_ms, ons: n.onset_ms });
      }
      view.dirty = true;
    },
    figures(d) {
      view.figures[d.side || 0] = d;
      if (!view.ended) drawTables();
    },
    marker(d) {
      push(view.markers, d);
      view.dirty = true;
    },
    dropped(d) {
      view.dropped = d.dropped;
      $('dropped').textContent = 'dropped: ' + d.dropped;
    },
    end(d) {
      view.ended = true;
      view.final = d.final || [];
      connectedStatus();
      drawTables();
      // The server closes the stream after `end`: that is not a lost connection.
      if (source) source.close();
    },
  };

  function push(list, item) {
    list.push(item);
    if (list.length > MAX_POINTS) list.splice(0, list.length - MAX_POINTS);
  }

  let source = null;
  function connect() {
    source = new EventSource(withToken('events'));
    for (const name of Object.keys(handlers)) {
      source.addEventListener(name, (e) => {
        try {
          handlers[name](JSON.parse(e.data));
        } catch (err) {
          console.error('kmidi: bad ' + name + ' event', err);
        }
      });
    }
    source.onerror = () => {
      if (view.ended) return;
      setStatus('reconnecting', 'reconnecting…');
      // EventSource retries by itself unless the server answered with an error.
      if (source.readyState === EventSource.CLOSED) setTimeout(connect, 2000);
    };
  }

  // ---- the figures --------------------------------------------------------------
  function drawTables() {
    const root = $('figures');
    root.textContent = '';
    const sides = view.final
      ? view.final.map((s) => ({ label: s.label + ' (final)', rows: s.rows || [], live: s.live }))
      : view.figures.map((f, i) => ({
        label: sideLabel(i), rows: (f && f.rows) || [], live: f && f.live,
      }));
    for (const s of sides) {
      const table = document.createElement('table');
      table.createCaption().textContent = s.label;
      for (const r of s.rows) {
        const tr = table.insertRow();
        tr.insertCell().textContent = r.name;
        tr.insertCell().textContent = r.value;
        const a = tr.insertCell();
        a.textContent = r.audible === true ? 'audible' : r.audible === false ? 'inaudible' : '';
        a.className = 'audible-' + r.audible;
      }
      if (s.live) {
        const tr = table.insertRow();
        tr.insertCell().textContent = 'live';
        const c = tr.insertCell();
        c.colSpan = 2;
        c.className = 'live';
        // The counters as numbers (the lists in `live` are for the lanes).
        c.textContent = Object.entries(s.live)
          .filter(([, v]) => typeof v === 'number')
          .map(([k, v]) => k.replace(/_/g, ' ') + ' ' + (Number.isInteger(v) ? v : v.toFixed(1)))
          .join(', ');
      }
      root.appendChild(table);
    }
  }

  function sideLabel(i) {
    const sides = (view.hello && view.hello.sides) || [];
    return (sides[i] && sides[i].label) || 'side ' + i;
  }

  // ---- wiring -------------------------------------------------------------------
  $('start').onclick = () => audio.ctx && audio.ctx.resume();
  $('volume').oninput = sendGain;
  $('mute').onclick = () => {
    const b = $('mute');
    const muted = b.getAttribute('aria-pressed') !== 'true';
    b.setAttribute('aria-pressed', String(muted));
    b.textContent = muted ? 'unmute' : 'mute';
    sendGain();
  };

  // For tests and the curious: read-only views of the page's state.
  window.kmidiPage = {
    state: () => view.state,
    hellos: () => view.hellos,
    hello: () => view.hello,
    delayMs: () => Math.round(audio.delay * 1000),
    underruns: () => audio.underruns,
    audioRunning: () => !!audio.ctx && audio.ctx.state === 'running',
    audioWorkletMissing,
    // Runs the check on `win` and shows its verdict as the page would.
    audioNotice(win) {
      const text = audioWorkletMissing(win);
      notice(text);
      return text;
    },
    view,
  };

  showDelay();
  connect();
  startAudio();
  setInterval(() => {
    if (view.dirty && window.kmidiDraw) {
      view.dirty = false;
      window.kmidiDraw(view);
    }
  }, 250);
})();
