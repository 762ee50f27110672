//! Memory a run or an evaluation will need, estimated from its sizes before anything is
//! allocated, so that a size typed with a few zeros too many is refused with the field's name
//! instead of aborting the process half-way ("memory allocation of N bytes failed").
//!
//! The estimates are deliberately generous upper bounds of the dominant allocations (the
//! samples of an iteration, the network's parameters with their gradients and optimiser
//! moments); they are compared with the machine's physical memory, so only sizes that cannot
//! possibly fit are refused.

use pilqr_core::TaskDims;

/// Bytes per stored number.
const F64: u128 = 8;

/// Headroom factor over the counted arrays (copies, intermediate results, allocator slack).
const HEADROOM: u128 = 4;

/// The machine's physical memory in bytes (`MemTotal` of `/proc/meminfo`), if known.
pub fn physical_memory() -> Option<u128> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u128 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// Bytes of `count` rollouts of one condition: states, actions, observations and costs of
/// every time step.
pub fn rollout_bytes(dims: &TaskDims, count: usize) -> u128 {
    let per_step = (dims.dx + dims.du + dims.dobs + 1) as u128;
    HEADROOM * F64 * count as u128 * (dims.horizon as u128 + 1) * per_step
}

/// Bytes of the samples one iteration draws: `samples` rollouts on each of `conditions`.
pub fn samples_bytes(dims: &TaskDims, conditions: usize, samples: usize) -> u128 {
    conditions as u128 * rollout_bytes(dims, samples)
}

/// Bytes of an MLP with `hidden` widths from `dims.dobs` inputs to `dims.du` outputs, with its
/// gradients and two optimiser moments, and one hidden activation per time step of `samples`
/// rollouts on `conditions` (what an S-step's batch can hold at most).
pub fn network_bytes(dims: &TaskDims, hidden: &[usize], conditions: usize, samples: usize) -> u128 {
    let mut widths = vec![dims.dobs as u128];
    widths.extend(hidden.iter().map(|&h| h as u128));
    widths.push(dims.du as u128);
    let params: u128 = widths.windows(2).map(|w| w[0] * w[1] + w[1]).sum();
    let activations: u128 = hidden.iter().map(|&h| h as u128).sum::<u128>()
        * conditions as u128
        * samples as u128
        * dims.horizon as u128;
    HEADROOM * F64 * (4 * params + activations)
}

/// `bytes` in a unit a person reads at once (`12.5 GiB`).
pub fn human(bytes: u128) -> String {
    const UNITS: [&str; 7] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// `Err(message)` when `needed` bytes exceed `available` (no check when unknown).
pub fn check(needed: u128, available: Option<u128>) -> Result<(), String> {
    match available {
        Some(total) if needed > total => Err(format!(
            "needs an estimated {} of memory, more than this machine's {}; make it smaller",
            human(needed),
            human(total)
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIMS: TaskDims = TaskDims {
        dx: 4,
        du: 2,
        dobs: 4,
        horizon: 100,
        dt: 0.05,
    };

    #[test]
    fn estimates_grow_with_the_sizes_and_count_every_array() {
        // 101 steps of 4 + 2 + 4 + 1 numbers, 8 bytes each, 4× headroom.
        assert_eq!(rollout_bytes(&DIMS, 1), 4 * 8 * 101 * 11);
        assert_eq!(samples_bytes(&DIMS, 3, 20), 60 * rollout_bytes(&DIMS, 1));
        // 4→10→2: 50 + 22 parameters, ×4 copies; 10 activations × 1 × 1 × 100 steps.
        assert_eq!(network_bytes(&DIMS, &[10], 1, 1), 4 * 8 * (4 * 72 + 1000));
        let huge = samples_bytes(&DIMS, 1, 1_000_000_000);
        assert!(check(huge, Some(64 << 30)).is_err());
        assert!(check(samples_bytes(&DIMS, 4, 200), Some(1 << 30)).is_ok());
        assert!(check(u128::MAX, None).is_ok());
        let msg = check(network_bytes(&DIMS, &[1_000_000_000], 2, 20), Some(8 << 30)).unwrap_err();
        assert!(msg.contains("TiB") && msg.contains("8.0 GiB"), "{msg}");
    }

    #[test]
    fn human_sizes() {
        assert_eq!(human(512), "512 B");
        assert_eq!(human(1536), "1.5 KiB");
        assert_eq!(human(3 << 30), "3.0 GiB");
    }

    #[test]
    fn this_machine_reports_its_memory() {
        if std::path::Path::new("/proc/meminfo").exists() {
            assert!(physical_memory().is_some_and(|b| b > 1 << 20));
        }
    }
}
