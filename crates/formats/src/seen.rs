//! The invoice numbers already met in a file, to report duplicates with the line of the first.
//!
//! A million-line import meets a million numbers, and a `String`-keyed SipHash map cost more
//! than all the rest of the parsing (an allocation, a keyed hash, and cache misses in a table
//! far bigger than the cache). Two structures replace it:
//! - numbers as invoicing software makes them, a fixed prefix and a counter (`F-2026-000123`),
//!   go to a [`Run`] per (prefix, counter width): an array indexed by the counter, holding the
//!   line of the first occurrence. Sequential numbers touch memory sequentially.
//! - any other number goes to [`HashedNumbers`], an open-addressing table of 64-bit hashes; a
//!   hit is confirmed by re-reading the number of the earlier row, so two different numbers
//!   whose hashes collide are never taken for a duplicate.

use std::collections::HashMap;

/// A 64-bit hash of a number: each 8-byte word is mixed in with a folded 128-bit multiply
/// (as foldhash and wyhash do), then a murmur3 finaliser. Sequential numbers ("F-0000001",
/// "F-0000002") neither collide nor crowd the table's low bits.
fn hash(text: &str) -> u64 {
    const K1: u64 = 0x243f_6a88_85a3_08d3;
    const K2: u64 = 0x1319_8a2e_0370_7344;
    fn fold(a: u64, b: u64) -> u64 {
        let product = u128::from(a) * u128::from(b);
        (product as u64) ^ ((product >> 64) as u64)
    }
    let mut h = (text.len() as u64) ^ K2;
    let mut chunks = text.as_bytes().chunks_exact(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        h = fold(h ^ u64::from_le_bytes(word), K1);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut word = [0u8; 8];
        word[..rest.len()].copy_from_slice(rest);
        h = fold(h ^ u64::from_le_bytes(word), K1);
    }
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

/// Where a number first appeared.
#[derive(Clone, Copy)]
struct First {
    hash: u64,
    line: u64,
    byte: u64,
}

/// Numbers met so far, as an open-addressing table of 8-byte slots (high half of the hash as
/// a fingerprint, low half the position in `firsts` plus one; zero is empty) probed linearly.
/// At one slot in two the table of a million numbers takes 16 MB and stays in cache, where a
/// std `HashMap` of 24-byte entries took 48 MB and a cache miss per row.
#[derive(Default)]
pub(crate) struct HashedNumbers {
    slots: Vec<u64>,
    firsts: Vec<First>,
    /// Numbers whose full hash collided with a different number's: kept whole.
    collided: HashMap<String, u64>,
}

impl HashedNumbers {
    #[cfg(test)]
    fn with_capacity(capacity: usize) -> Self {
        HashedNumbers {
            slots: vec![0; (capacity.max(8) * 2).next_power_of_two()],
            firsts: Vec::with_capacity(capacity),
            collided: HashMap::new(),
        }
    }

    /// The line where `number` first appeared, if it did; otherwise records it at
    /// (`line`, `byte`). `number_at(byte)` gives back the number of the row starting at `byte`.
    fn first_line(
        &mut self,
        number: &str,
        line: u64,
        byte: u64,
        number_at: impl FnOnce(u64) -> Option<String>,
    ) -> Option<u64> {
        if !self.collided.is_empty() {
            if let Some(&first) = self.collided.get(number) {
                return Some(first);
            }
        }
        if (self.firsts.len() + 1) * 2 > self.slots.len() {
            self.grow();
        }
        let hash = hash(number);
        let fingerprint = hash >> 32;
        let mask = self.slots.len() - 1;
        let mut i = (hash as usize) & mask;
        loop {
            let slot = self.slots[i];
            if slot == 0 {
                break;
            }
            if slot >> 32 == fingerprint {
                let first = self.firsts[(slot & 0xffff_ffff) as usize - 1];
                if first.hash == hash {
                    if number_at(first.byte).as_deref() == Some(number) {
                        return Some(first.line);
                    }
                    self.collided.insert(number.to_string(), line);
                    return None;
                }
            }
            i = (i + 1) & mask;
        }
        self.firsts.push(First { hash, line, byte });
        // Positions past 2^32 - 1 rows would not fit in a slot; no file held in memory gets
        // there, but stay exact if one does: keep such numbers whole.
        match u32::try_from(self.firsts.len()) {
            Ok(position) => self.slots[i] = (fingerprint << 32) | u64::from(position),
            Err(_) => {
                self.firsts.pop();
                self.collided.insert(number.to_string(), line);
            }
        }
        None
    }

    fn grow(&mut self) {
        let size = (self.slots.len() * 2).max(16);
        let mut slots = vec![0u64; size];
        let mask = size - 1;
        for (position, first) in self.firsts.iter().enumerate() {
            let mut i = (first.hash as usize) & mask;
            while slots[i] != 0 {
                i = (i + 1) & mask;
            }
            slots[i] = ((first.hash >> 32) << 32) | (position as u64 + 1);
        }
        self.slots = slots;
    }
}

/// The numbers of one (prefix, counter width) whose counters fall in a dense range.
struct Run {
    prefix: Box<str>,
    width: u8,
    /// Counter of `lines[0]`.
    base: u64,
    /// Line of the first occurrence of each counter; 0 when not met.
    lines: Vec<u64>,
    used: usize,
    /// Counters of this run sent to [`HashedNumbers`] because they were out of range then:
    /// the range may grow over them later, so look there for these.
    spilled: Option<(u64, u64)>,
}

/// Most runs a file may open before new prefixes go to the hashed table.
const MAX_RUNS: usize = 64;

impl Run {
    /// The slot of `counter`, growing the range when it stays dense: at most four slots per
    /// number met, plus some slack. `None` when the counter is too far out.
    fn slot(&mut self, counter: u64) -> Option<&mut u64> {
        if self.lines.is_empty() {
            // The range starts at the first counter met, not at zero.
            self.base = counter;
        }
        let end = self.base + self.lines.len() as u64;
        if counter < self.base || counter >= end {
            let low = self.base.min(counter);
            let high = end.max(counter + 1);
            let allowed = 4 * (self.used as u64 + 1) + 4096;
            if high - low > allowed {
                return None;
            }
            // Double the range towards the counter, so that growing costs O(1) per number
            // whether the file counts up or down.
            let len = self.lines.len() as u64;
            if counter < self.base {
                let new_base = counter.saturating_sub(len);
                let mut lines = vec![0u64; usize::try_from(end - new_base).ok()?];
                let offset = usize::try_from(self.base - new_base).ok()?;
                lines[offset..].copy_from_slice(&self.lines);
                self.lines = lines;
                self.base = new_base;
            } else {
                let new_len = (high - self.base).max(2 * len);
                self.lines.resize(usize::try_from(new_len).ok()?, 0);
            }
        }
        let index = usize::try_from(counter - self.base).ok()?;
        self.lines.get_mut(index)
    }
}

/// A number split into its prefix and its trailing counter: `F-2026-000123` gives
/// (`F-2026-`, 6, 123). The width tells `F-01` from `F-1`.
fn split(number: &str) -> Option<(&str, u8, u64)> {
    let bytes = number.as_bytes();
    let digits = bytes
        .iter()
        .rev()
        .take_while(|b| b.is_ascii_digit())
        .count();
    if digits == 0 || digits > 18 {
        return None;
    }
    let cut = bytes.len() - digits;
    let mut counter = 0u64;
    for &b in &bytes[cut..] {
        counter = counter * 10 + u64::from(b - b'0');
    }
    Some((&number[..cut], digits as u8, counter))
}

/// Every number met in a file (of one kind), with the line of its first occurrence.
#[derive(Default)]
pub(crate) struct SeenNumbers {
    runs: Vec<Run>,
    last_run: usize,
    hashed: HashedNumbers,
}

impl SeenNumbers {
    /// The line where `number` first appeared, if it did; otherwise records it at
    /// (`line`, `byte`). `number_at(byte)` gives back the number of the row starting at `byte`.
    pub(crate) fn first_line(
        &mut self,
        number: &str,
        line: u64,
        byte: u64,
        number_at: impl FnOnce(u64) -> Option<String>,
    ) -> Option<u64> {
        if let Some((prefix, width, counter)) = split(number) {
            if let Some(run) = self.run(prefix, width) {
                let in_spill = run
                    .spilled
                    .is_some_and(|(low, high)| (low..=high).contains(&counter));
                match run.slot(counter) {
                    Some(slot) if *slot != 0 => return Some(*slot),
                    Some(slot) if !in_spill => {
                        *slot = line;
                        run.used += 1;
                        return None;
                    }
                    Some(_) => {}
                    None => {
                        let (low, high) = run.spilled.unwrap_or((counter, counter));
                        run.spilled = Some((low.min(counter), high.max(counter)));
                    }
                }
            }
        }
        self.hashed.first_line(number, line, byte, number_at)
    }

    fn run(&mut self, prefix: &str, width: u8) -> Option<&mut Run> {
        let matches = |r: &Run| r.width == width && *r.prefix == *prefix;
        let index = if self.runs.get(self.last_run).is_some_and(matches) {
            self.last_run
        } else if let Some(i) = self.runs.iter().position(matches) {
            i
        } else if self.runs.len() < MAX_RUNS {
            self.runs.push(Run {
                prefix: prefix.into(),
                width,
                base: 0,
                lines: Vec::new(),
                used: 0,
                spilled: None,
            });
            self.runs.len() - 1
        } else {
            return None;
        };
        self.last_run = index;
        Some(&mut self.runs[index])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequential_numbers_spread_over_low_bits() {
        let mut buckets = [0u32; 256];
        for i in 0..25_600 {
            buckets[(hash(&format!("F-{i:07}")) & 255) as usize] += 1;
        }
        let (min, max) = (buckets.iter().min(), buckets.iter().max());
        assert!(min >= Some(&60) && max <= Some(&140), "{min:?} {max:?}");
        assert_ne!(hash("F-1"), hash("F-1\0"));
    }

    #[test]
    fn finds_duplicates_and_tells_collisions_apart() {
        let rows = ["F-1", "F-2", "F-1", "F-2"];
        let mut seen = HashedNumbers::with_capacity(4);
        let found: Vec<Option<u64>> = rows
            .iter()
            .enumerate()
            .map(|(i, n)| {
                seen.first_line(n, i as u64 + 2, i as u64, |b| {
                    rows.get(b as usize).map(|s| s.to_string())
                })
            })
            .collect();
        assert_eq!(found, [None, None, Some(2), Some(3)]);

        // A full-hash match whose row holds another number is a collision, not a duplicate.
        let mut seen = HashedNumbers::default();
        assert_eq!(seen.first_line("B", 2, 0, |_| None), None);
        assert_eq!(seen.first_line("B", 3, 10, |_| Some("A".to_string())), None);
        assert_eq!(seen.first_line("B", 4, 20, |_| None), Some(3));
        // Growing keeps what was met.
        for i in 0..100 {
            assert_eq!(seen.first_line(&format!("N{i}"), 10 + i, i, |_| None), None);
        }
        assert_eq!(
            seen.first_line("N42", 500, 0, |_| Some("N42".into())),
            Some(52)
        );
    }

    #[test]
    fn sequential_numbers_never_need_a_reread() {
        let mut seen = HashedNumbers::with_capacity(200_000);
        let mut rereads = 0;
        for i in 0..200_000u64 {
            let number = format!("INV-{i:07}");
            seen.first_line(&number, i + 2, i, |_| {
                rereads += 1;
                None
            });
        }
        assert_eq!(rereads, 0);
    }

    /// Feeds numbers in order as rows 2, 3, …; returns what `first_line` said for each.
    fn feed(numbers: &[String]) -> Vec<Option<u64>> {
        let mut seen = SeenNumbers::default();
        numbers
            .iter()
            .enumerate()
            .map(|(i, n)| {
                seen.first_line(n, i as u64 + 2, i as u64, |b| {
                    numbers.get(b as usize).cloned()
                })
            })
            .collect()
    }

    /// What a plain map says, for comparison.
    fn reference(numbers: &[String]) -> Vec<Option<u64>> {
        let mut first = HashMap::new();
        numbers
            .iter()
            .enumerate()
            .map(|(i, n)| match first.get(n) {
                Some(&line) => Some(line),
                None => {
                    first.insert(n.clone(), i as u64 + 2);
                    None
                }
            })
            .collect()
    }

    #[test]
    fn splits_prefix_width_and_counter() {
        assert_eq!(split("F-2026-000123"), Some(("F-2026-", 6, 123)));
        assert_eq!(split("42"), Some(("", 2, 42)));
        assert_eq!(split("F-01"), Some(("F-", 2, 1)));
        assert_eq!(split("F-1A"), None);
        assert_eq!(split("1234567890123456789"), None);
    }

    #[test]
    fn agrees_with_a_plain_map_on_every_kind_of_numbering() {
        let mut numbers: Vec<String> = Vec::new();
        // Counting up, then the same file again.
        numbers.extend((0..3_000).map(|i| format!("F-2026-{i:06}")));
        numbers.extend((0..3_000).step_by(7).map(|i| format!("F-2026-{i:06}")));
        // Counting down, widths that differ only by leading zeros.
        numbers.extend((0..2_000).rev().map(|i| format!("AV{i}")));
        numbers.extend((0..50).map(|i| format!("AV{i:02}")));
        // Far-apart counters (spilled), then a dense range growing over them.
        numbers.extend((0..40).map(|i| format!("X{}", i * 1_000_003)));
        numbers.extend((0..45_000).map(|i| format!("X{i}")));
        numbers.extend((0..40).map(|i| format!("X{}", i * 1_000_003)));
        // No counter at all, and more prefixes than runs.
        numbers.extend((0..500).map(|i| format!("INV-{i}-B")));
        numbers.extend((0..200).map(|i| format!("P{i}-7")));
        numbers.extend((0..500).map(|i| format!("INV-{i}-B")));
        numbers.extend((0..200).map(|i| format!("P{i}-7")));
        let got = feed(&numbers);
        assert_eq!(got, reference(&numbers));
        assert!(got.iter().filter(|f| f.is_some()).count() > 1_000);
    }

    #[test]
    fn sequential_numbers_stay_in_one_dense_run() {
        let mut seen = SeenNumbers::default();
        for i in 0..100_000u64 {
            let n = format!("F-2026-{:06}", 500_000 + i);
            assert_eq!(seen.first_line(&n, i + 2, i, |_| None), None);
        }
        assert_eq!(seen.runs.len(), 1);
        assert!(seen.runs[0].lines.len() <= 2 * 100_000);
        assert!(seen.hashed.firsts.is_empty());
    }
}
