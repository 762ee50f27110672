//! A warm `DynamicsFitter::update_into` allocates nothing, and gives the same bits as
//! `update`.
//!
//! The global allocator below counts allocations (and reallocations) made by the current
//! thread only, through a thread-local counter, so the test harness's other threads cannot
//! disturb the count.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use pilqr_dynamics::{DynamicsConfig, DynamicsFitter, LinearDynamics};

struct CountingAllocator;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

fn count_one() {
    // `try_with`: the counter may already be gone while a thread shuts down.
    let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
}

// SAFETY: every call is forwarded unchanged to the system allocator; the counter is a
// thread-local `Cell` with a const initialiser, which itself never allocates.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count_one();
        // SAFETY: forwarded with the caller's layout.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count_one();
        // SAFETY: forwarded with the caller's layout.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count_one();
        // SAFETY: `ptr` was allocated by this allocator (that is, by `System`) with `layout`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by this allocator (that is, by `System`) with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

/// Allocations the current thread makes while running `f`.
fn allocations_of<R>(f: impl FnOnce() -> R) -> (u64, R) {
    let before = ALLOCATIONS.with(Cell::get);
    let r = f();
    (ALLOCATIONS.with(Cell::get) - before, r)
}

fn bits(d: &LinearDynamics) -> Vec<u64> {
    d.fm.as_slice()
        .iter()
        .chain(d.fv.as_slice())
        .chain(d.dyn_covar.as_slice())
        .chain(&d.x0mu)
        .chain(d.x0sigma.as_slice())
        .map(|v| v.to_bits())
        .collect()
}

fn warm_update_into_allocates_nothing(dx: usize, du: usize) {
    let (a, b) = common::iterative_batches(dx, du, 100, 20);
    let mut fitter = DynamicsFitter::new(DynamicsConfig::default(), dx, du).unwrap();
    let mut twin = fitter.clone();
    let mut out = LinearDynamics::zeros(1, 1, 1);
    // Two warm-up calls: the first fits the mixture from scratch, the second is the first
    // warm one (workspaces reach their steady sizes).
    fitter.update_into(&a, 1, &mut out).unwrap();
    fitter.update_into(&b, 2, &mut out).unwrap();
    twin.update(&a, 1).unwrap();
    twin.update(&b, 2).unwrap();
    for (it, batch) in [&a, &b, &a].into_iter().enumerate() {
        let seed = 3 + it as u64;
        let (count, r) = allocations_of(|| fitter.update_into(batch, seed, &mut out));
        r.unwrap();
        assert_eq!(count, 0, "dx{dx}_du{du}: warm update_into #{it} allocated");
        let expect = twin.update(batch, seed).unwrap();
        assert_eq!(
            bits(&out),
            bits(&expect),
            "dx{dx}_du{du}: update_into vs update"
        );
        assert!(fitter == twin);
    }
    let report = fitter.last_em_report().unwrap();
    assert!(
        !report.initialised && report.iterations > 0,
        "the counted calls were warm EM refits"
    );
    // The counter does see this thread's allocations: `update` allocates its result.
    let (count, r) = allocations_of(|| twin.update(&b, 9));
    r.unwrap();
    assert!(count > 0);
}

#[test]
fn warm_update_into_allocates_nothing_at_pusher_size() {
    warm_update_into_allocates_nothing(20, 3);
}

#[test]
fn warm_update_into_allocates_nothing_at_gripper_size() {
    warm_update_into_allocates_nothing(36, 4);
}

#[test]
fn warm_update_into_without_prior_allocates_nothing() {
    // N = 20 ≤ dX + dU = 23: the regression takes its sample-space path.
    let (dx, du) = (20, 3);
    let (a, b) = common::iterative_batches(dx, du, 100, 20);
    let config = DynamicsConfig {
        prior: None,
        ..DynamicsConfig::default()
    };
    let mut fitter = DynamicsFitter::new(config, dx, du).unwrap();
    let mut twin = fitter.clone();
    let mut out = LinearDynamics::zeros(100, dx, du);
    fitter.update_into(&a, 1, &mut out).unwrap();
    let (count, r) = allocations_of(|| fitter.update_into(&b, 2, &mut out));
    r.unwrap();
    assert_eq!(count, 0);
    twin.update(&a, 1).unwrap();
    assert_eq!(bits(&out), bits(&twin.update(&b, 2).unwrap()));
}
