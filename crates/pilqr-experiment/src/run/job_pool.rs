//! Independent jobs side by side: a few worker threads, each with its own worker value (a
//! trainer with its own task), take the next job in order until none is left or the run is
//! told to stop.
//!
//! Which worker runs which job depends on timing; what a job computes must not (each job owns
//! its state and random streams), so the results do not depend on the number of workers.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

/// How many jobs run side by side by default: the cores this process may use
/// ([`std::thread::available_parallelism`]), 1 when that is unknown.
pub fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Sets the pool's stop flag when a worker unwinds from a panic, so that the others stop taking
/// jobs while the panic waits to be propagated.
struct StopOnPanic<'a>(&'a AtomicBool);

impl Drop for StopOnPanic<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.store(true, Ordering::SeqCst);
        }
    }
}

/// Run jobs `0..count` on `workers` (one thread each; a single worker runs on the calling
/// thread), in order of their index: each free worker takes the lowest job not yet taken.
/// `work(worker, job)` runs one job; before taking a job a worker asks `stop()` and ends
/// when it holds. Returns each job's result, `None` for a job never started.
///
/// A panic in `work` stops the other workers from taking jobs and is propagated once they have
/// finished theirs.
pub fn run_in_order<W, R>(
    workers: &mut [W],
    count: usize,
    stop: &(dyn Fn() -> bool + Sync),
    work: &(dyn Fn(&mut W, usize) -> R + Sync),
) -> Vec<Option<R>>
where
    W: Send,
    R: Send,
{
    let next = AtomicUsize::new(0);
    let panicked = AtomicBool::new(false);
    let results: Mutex<Vec<Option<R>>> = Mutex::new((0..count).map(|_| None).collect());
    let serve = |worker: &mut W| {
        let _guard = StopOnPanic(&panicked);
        loop {
            if stop() || panicked.load(Ordering::SeqCst) {
                return;
            }
            let job = next.fetch_add(1, Ordering::SeqCst);
            if job >= count {
                return;
            }
            let result = work(worker, job);
            // A poisoned lock only means another worker panicked; the results it guards are
            // whole values, still valid.
            results.lock().unwrap_or_else(PoisonError::into_inner)[job] = Some(result);
        }
    };
    let busy = workers.len().min(count);
    match &mut workers[..busy] {
        [] => {}
        [one] => serve(one),
        many => std::thread::scope(|scope| {
            for worker in many {
                scope.spawn(|| serve(worker));
            }
        }),
    }
    results.into_inner().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    #[test]
    fn every_job_runs_once_whatever_the_number_of_workers() {
        for n in [1, 2, 3, 8] {
            let mut workers: Vec<Vec<usize>> = vec![Vec::new(); n];
            let results = run_in_order(&mut workers, 5, &|| false, &|w, job| {
                w.push(job);
                job * 10
            });
            assert_eq!(
                results,
                (0..5).map(|j| Some(j * 10)).collect::<Vec<_>>(),
                "{n} workers"
            );
            let mut ran: Vec<usize> = workers.concat();
            ran.sort_unstable();
            assert_eq!(ran, [0, 1, 2, 3, 4], "{n} workers");
            // Each worker takes its jobs in increasing order.
            for w in &workers {
                assert!(w.is_sorted(), "{w:?}");
            }
        }
    }

    #[test]
    fn a_stop_leaves_the_remaining_jobs_unstarted() {
        let started = AtomicUsize::new(0);
        let mut workers = vec![(); 2];
        let results = run_in_order(
            &mut workers,
            6,
            &|| started.load(Ordering::SeqCst) >= 3,
            &|_, job| {
                started.fetch_add(1, Ordering::SeqCst);
                job
            },
        );
        let ran = results.iter().filter(|r| r.is_some()).count();
        // At most one job per worker can start between the third start and the next check.
        assert!((3..=4).contains(&ran), "{results:?}");
        // Jobs are taken in order: the started ones are a prefix.
        assert!(results.iter().skip(ran).all(Option::is_none), "{results:?}");
        assert_eq!(results[0], Some(0));
    }

    #[test]
    fn no_workers_or_no_jobs_run_nothing() {
        let mut none: Vec<()> = Vec::new();
        assert_eq!(
            run_in_order(&mut none, 3, &|| false, &|_, j| j),
            [None, None, None]
        );
        let mut one = vec![()];
        assert!(run_in_order(&mut one, 0, &|| false, &|_, j| j).is_empty());
    }
}
