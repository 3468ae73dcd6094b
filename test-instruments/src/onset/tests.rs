use super::*;

const RATE: u32 = 44_100;

/// The same decaying noise burst at each start: a stand-in for a hi-hat.
fn bursts(starts: &[usize], len: usize) -> Vec<f32> {
    let mut state = 1u32;
    let burst: Vec<f32> = (0..2_000)
        .map(|k| {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let noise = (state >> 8) as f32 / (1u32 << 24) as f32 - 0.5;
            noise * (-(k as f32) / 300.0).exp()
        })
        .collect();
    let mut s = vec![0f32; len];
    for &start in starts {
        for (k, b) in burst.iter().enumerate().take(len - start) {
            s[start + k] += b;
        }
    }
    s
}

#[test]
fn onsets_are_found_to_the_sample_even_in_a_tail() {
    // 2 200 samples = 50 ms: the previous burst still rings there.
    let starts = [1_000, 3_200, 5_400, 9_000, 11_323];
    let found = Detector::default().onsets(&bursts(&starts, 20_000), RATE);
    assert_eq!(found.len(), starts.len(), "{found:?}");
    // All at the same point of the burst, whatever the tail under them.
    let offsets: Vec<i64> = found
        .iter()
        .zip(starts)
        .map(|(f, s)| *f as i64 - s as i64)
        .collect();
    assert!(
        offsets.iter().all(|o| *o == offsets[0] && o.abs() < 40),
        "{offsets:?}"
    );
}

#[test]
fn silence_has_no_onsets() {
    assert!(Detector::default().onsets(&[0.0; 1000], RATE).is_empty());
}

fn ms(v: f64) -> Duration {
    Duration::from_secs_f64(v / 1e3)
}

#[test]
fn an_unknown_offset_cancels_and_one_late_note_stands_out() {
    let expected: Vec<Duration> = [0.0, 73.0, 190.0, 251.0, 400.0].map(ms).to_vec();
    // The capture started 1.234 s before the first note; note 3 sounds 5 ms late;
    // an extra click before the song.
    let onsets: Vec<Duration> = [0.5, 1234.0, 1307.0, 1424.0, 1490.0, 1634.0]
        .map(ms)
        .to_vec();
    let c = compare(&expected, &onsets, ms(20.0));
    assert!(c.missing.is_empty(), "{c:?}");
    assert_eq!(c.extra, 1);
    let worst = c.worst().expect("notes heard");
    assert_eq!(worst.index, 3);
    assert!((worst.delay_us - 5_000.0).abs() < 1.0, "{worst:?}");
    let spread = c.spread();
    assert_eq!(spread.count, 5);
    assert!(spread.p50_us.abs() < 1.0 && (spread.max_us - 5_000.0).abs() < 1.0);
}

#[test]
fn a_note_missing_from_the_audio_is_reported() {
    let expected: Vec<Duration> = [0.0, 100.0, 200.0].map(ms).to_vec();
    let onsets: Vec<Duration> = [50.0, 250.0].map(ms).to_vec();
    let c = compare(&expected, &onsets, ms(10.0));
    assert_eq!(c.missing, vec![1]);
    assert_eq!(c.heard.len(), 2);
    assert!(compare(&expected, &[], ms(10.0)).heard.is_empty());
}
